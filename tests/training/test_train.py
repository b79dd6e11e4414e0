"""Training helpers: augmentation (speed, drops, mirroring), splits, temperature, a tiny backbone run."""

from __future__ import annotations

import numpy as np

from actzero.model.skeleton import BONES, L_WRIST, R_WRIST
from actzero.model.zeroshot import Calibration
from actzero.training.augment import (
    AugmentConfig,
    augment_batch,
    crop_with_speed,
    drop_joints,
    mirror_label_map,
    sample_canonical_window,
)
from actzero.training.backbone import BackboneConfig
from actzero.training.train import (
    ClipSet,
    TrainConfig,
    _epoch_windows,
    backbone_outputs,
    clip_windows,
    fit_temperature,
    no_action_rates,
    stratified_holdout,
    train_backbone,
)


def _clip(frames: int = 90, seed: int = 0, lift_left: bool = True) -> np.ndarray:
    """A standing skeleton (metres, y up) whose left (or right) wrist moves up and down."""
    rng = np.random.default_rng(seed)
    pose = np.zeros((25, 3), np.float32)
    pose[:, 1] = np.linspace(0.1, 1.7, 25)
    pose[:, 0] = rng.normal(0, 0.05, 25)
    pose[0] = [0, 1.0, 0]
    pose[20] = [0, 1.45, 0]
    pose[[4, 5, 6, 7]] = [[-0.2, 1.45, 0], [-0.25, 1.2, 0], [-0.3, 1.0, 0], [-0.3, 0.95, 0]]
    pose[[8, 9, 10, 11]] = [[0.2, 1.45, 0], [0.25, 1.2, 0], [0.3, 1.0, 0], [0.3, 0.95, 0]]
    pose[[12, 16]] = [[-0.1, 1.0, 0], [0.1, 1.0, 0]]
    clip = np.repeat(pose[None], frames, axis=0)
    wrist = L_WRIST if lift_left else R_WRIST
    clip[:, wrist, 1] += 0.4 * np.sin(np.linspace(0, 6 * np.pi, frames))
    return clip + rng.normal(0, 0.003, clip.shape).astype(np.float32)


def test_mirror_map_swaps_left_and_right_classes() -> None:
    names = ["wave left hand", "wave right hand", "bow", "turn left"]
    np.testing.assert_array_equal(mirror_label_map(names), [1, 0, 2, -1])


def test_mirroring_swaps_sides_and_labels_and_keeps_bone_lengths() -> None:
    rng = np.random.default_rng(0)
    windows = np.stack([_clip(64)] * 4)
    config = AugmentConfig(mirror_probability=1.0, yaw_degrees=0, tilt_degrees=0, noise=0)
    out, labels = augment_batch(windows, np.array([0, 0, 1, 2]), np.array([1, 0, -1]), config, rng)
    np.testing.assert_array_equal(labels, [1, 1, 0, 2])  # class 2 has no mirror image: left alone
    np.testing.assert_allclose(out[0, :, R_WRIST, 1], windows[0, :, L_WRIST, 1], atol=1e-6)
    np.testing.assert_allclose(out[0, :, R_WRIST, 0], -windows[0, :, L_WRIST, 0], atol=1e-6)
    np.testing.assert_allclose(out[3], windows[3], atol=1e-6)

    rotated, _ = augment_batch(
        windows, np.zeros(4, int), np.array([0]), AugmentConfig(noise=0, mirror_probability=0), rng
    )
    bone = np.array(BONES)
    lengths = np.linalg.norm(windows[..., bone[:, 0], :] - windows[..., bone[:, 1], :], axis=-1)
    rotated_lengths = np.linalg.norm(rotated[..., bone[:, 0], :] - rotated[..., bone[:, 1], :], axis=-1)
    np.testing.assert_allclose(rotated_lengths, lengths, atol=1e-5)


def test_speed_change_covers_the_expected_span() -> None:
    clip = np.repeat(np.arange(200, dtype=np.float32)[:, None, None], 25, axis=1).repeat(3, axis=2)
    window = crop_with_speed(clip, 64, 1.4, np.random.default_rng(0))
    assert window.shape == (64, 25, 3)
    np.testing.assert_allclose(np.diff(window[:, 0, 0]), 1.4, atol=1e-4)
    short = crop_with_speed(clip[:30], 64, 0.7, np.random.default_rng(0))  # the whole clip, slowed
    assert short.shape == (42, 25, 3) and np.isfinite(short).all()
    np.testing.assert_allclose(short[:, 0, 0], np.arange(42) * 0.7, atol=1e-4)
    rng = np.random.default_rng(0)
    padded = sample_canonical_window(_clip(30), 64, AugmentConfig(drop_probability=0), rng)
    assert padded.shape == (64, 25, 3)  # padded after canonicalisation, as at run time


def test_dropped_joints_are_nan_and_filled_by_canonicalise() -> None:
    config = AugmentConfig(drop_probability=1.0, drop_rate=0.3, occlusion_probability=1.0)
    dropped = drop_joints(_clip(64), config, np.random.default_rng(3))
    assert np.isnan(dropped).any()
    assert np.isfinite(dropped[:, [0, 20]]).all()  # the spine stays
    window = sample_canonical_window(_clip(120), 64, config, np.random.default_rng(3))
    assert window is not None and window.shape == (64, 25, 3) and np.isfinite(window).all()


def test_stratified_holdout_keeps_every_class() -> None:
    labels = np.array([0] * 20 + [1] * 10 + [2] * 2)
    kept, held = stratified_holdout(labels, 0.2, seed=0)
    assert set(labels[kept]) == {0, 1, 2}
    assert (labels[held] == 0).sum() == 4 and (labels[held] == 1).sum() == 2
    assert len(np.intersect1d(kept, held)) == 0 and len(kept) + len(held) == len(labels)


def test_fit_temperature_softens_overconfident_logits() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 500)
    logits = rng.normal(0, 1, (500, 3))
    logits[np.arange(500), labels] += 1.0
    assert fit_temperature(10 * logits, labels) > 5  # ten times too sharp -> T near 10


def test_tiny_backbone_learns_left_versus_right() -> None:
    clips = [_clip(96, seed=i, lift_left=i % 2 == 0) for i in range(8)]
    clip_set = ClipSet(clips, np.array([i % 2 for i in range(8)]), ["lift left hand", "lift right hand"])
    config = TrainConfig(
        epochs=16,
        windows_per_epoch=64,
        batch_size=16,
        lr=5e-3,
        threads=1,
        backbone=BackboneConfig(stem_channels=8, blocks=((8, 2), (16, 2)), feature_dim=16),
        augment=AugmentConfig(yaw_degrees=10, noise=0.005),
    )
    model = train_backbone(clip_set, config, seed=0)
    windows = np.concatenate([clip_windows(c, 64, 32) for c in clips])
    truth = np.concatenate([np.full(len(clip_windows(c, 64, 32)), i % 2) for i, c in enumerate(clips)])
    features, logits = backbone_outputs(model, windows)
    assert features.shape == (len(windows), 16)
    assert (logits.argmax(1) == truth).mean() > 0.8


def test_source_balanced_sampling_draws_each_source_of_a_class_equally_often() -> None:
    # class 0: 20 clips of source "a" lifting the left wrist, 2 of source "b" lifting the right
    clips = [_clip(96, seed=i, lift_left=i < 20) for i in range(22)]
    sources = np.array(["a"] * 20 + ["b"] * 2)
    clip_set = ClipSet(clips, np.zeros(22, dtype=np.int64), ["lift a hand"], sources)
    shares = {}
    for balanced in (False, True):
        config = TrainConfig(
            windows_per_epoch=400, source_balanced=balanced, augment=AugmentConfig(speed=(1, 1))
        )
        windows, labels = _epoch_windows(clip_set, config, np.random.default_rng(0))
        assert len(windows) == 400 and (labels == 0).all()
        right_moves = windows[:, :, R_WRIST, 1].std(1) > windows[:, :, L_WRIST, 1].std(1)
        shares[balanced] = right_moves.mean()
    assert shares[False] < 0.2 and 0.4 < shares[True] < 0.6, shares  # 2 / 22 of the clips vs one source of 2
    assert clip_set.subset([0, 21]).sources.tolist() == ["a", "b"]


def test_no_action_rates_count_idle_and_unsure_windows() -> None:
    names = ["standing still", "wave", "jump"]
    logits = np.array(
        [
            [5.0, 0.0, 0.0],  # idle, recognised as idle -> no action
            [0.0, 0.0, 5.0],  # idle, labelled jump
            [0.0, 5.0, 0.0],  # wave, right
            [0.0, 0.1, 0.0],  # wave, unsure -> no action
            [0.0, 5.0, 0.0],  # jump, wrong
        ]
    )
    labels = np.array([0, 0, 1, 1, 2])
    calib = Calibration(seen_temperature=1.0, threshold=0.5, idle_label="standing still")
    rates = no_action_rates(logits, labels, names, calib)
    assert rates["idle_windows_no_action"] == 0.5
    assert rates["other_windows_no_action"] == round(1 / 3, 4)
    assert rates["accuracy_when_labelled"] == round(1 / 3, 4)  # jump (idle), wave ok, wave (jump)
    assert rates["windows"] == 5


def test_gravity_frame_windows_get_camera_tilts_up_to_the_configured_range() -> None:
    from actzero.model.skeleton import SPINE_BASE, SPINE_SHOULDER

    rng = np.random.default_rng(1)
    window = sample_canonical_window(_clip(64), 64, AugmentConfig(drop_probability=0), rng, "gravity")
    windows = np.stack([window] * 400)
    config = AugmentConfig(yaw_degrees=0, noise=0, mirror_probability=0)

    def spine_tilts(frame: str) -> np.ndarray:
        out, _ = augment_batch(windows, np.zeros(400, int), np.array([0]), config, rng, frame)
        before = (window[:, SPINE_SHOULDER] - window[:, SPINE_BASE]).mean(0)
        after = (out[:, :, SPINE_SHOULDER] - out[:, :, SPINE_BASE]).mean(1)
        cos = after @ before / np.linalg.norm(after, axis=-1) / np.linalg.norm(before)
        return np.degrees(np.arccos(np.clip(cos, -1, 1)))

    gravity, upright = spine_tilts("gravity"), spine_tilts("upright")
    limit = np.degrees(np.arccos(np.cos(np.radians(18)) ** 2))  # pitch and roll both at 18 degrees
    assert gravity.max() <= limit + 0.1 and gravity.max() > 18
    assert upright.max() < 15  # the upright frame keeps its small 10-degree tilt


def test_image_frame_training_windows_are_flat_and_seen_from_many_headings() -> None:
    from actzero.model.skeleton import L_SHOULDER, R_SHOULDER
    from actzero.training.augment import virtual_view

    clip, config, rng = (
        _clip(64),
        AugmentConfig(drop_probability=0, occlusion_probability=0),
        np.random.default_rng(2),
    )
    viewed = virtual_view(clip, config, rng)  # a rigid turn: every bone keeps its length
    for parent, child in BONES:
        np.testing.assert_allclose(
            np.linalg.norm(viewed[:, child] - viewed[:, parent], axis=-1),
            np.linalg.norm(clip[:, child] - clip[:, parent], axis=-1),
            atol=1e-5,
        )
    windows = np.stack([sample_canonical_window(clip, 64, config, rng, "image") for _ in range(200)])
    assert np.all(windows[..., 2] == 0)
    widths = np.abs(windows[:, 0, R_SHOULDER, 0] - windows[:, 0, L_SHOULDER, 0])
    assert widths.min() < 0.3 * widths.max()  # some views from the side, some from the front
    out, _ = augment_batch(windows, np.zeros(200, int), np.array([0]), config, rng, "image")
    assert np.all(out[..., 2] == 0)  # no depth appears after augmentation either


def test_camera_error_model_gives_the_jitter_it_is_configured_with() -> None:
    from actzero.model.skeleton import SPINE_BASE, body_size
    from actzero.training.augment import camera_error

    clip = _clip(300, lift_left=False)
    config = AugmentConfig(camera_error=True, error_depth_scale=(1.0, 1.0))
    noisy = camera_error(clip, config, np.random.default_rng(3), turn=False)
    residual = (noisy - clip) / body_size(clip)
    np.testing.assert_array_equal(noisy[:, SPINE_BASE], clip[:, SPINE_BASE])  # hip-centred, as MediaPipe
    others = np.delete(residual, SPINE_BASE, axis=1)
    assert abs(others[..., :2].std() - config.error_jitter_xy) < 0.004
    assert abs(others[..., 2].std() - config.error_jitter_z) < 0.005
    squeezed = camera_error(
        clip,
        AugmentConfig(camera_error=True, error_depth_scale=(0.5, 0.5), error_jitter_xy=0, error_jitter_z=0),
        np.random.default_rng(3),
        turn=False,
    )
    depth = lambda seq: seq[..., 2] - seq[:, SPINE_BASE : SPINE_BASE + 1, 2]  # noqa: E731
    np.testing.assert_allclose(depth(squeezed), 0.5 * depth(clip), atol=1e-5)


def test_low_rate_capture_keeps_every_step_th_frame_and_interpolates_the_rest() -> None:
    from actzero.training.augment import low_rate_capture

    rng = np.random.default_rng(0)
    window = rng.normal(size=(64, 25, 3)).astype(np.float32)
    window[10, 3] = np.nan  # a dropped joint on a frame that may be discarded or kept
    for seed in range(6):
        out = low_rate_capture(window, AugmentConfig(low_rate_probability=1.0, low_rate_steps=(2,)),
                               np.random.default_rng(seed))  # fmt: skip
        kept = [t for t in range(64) if np.array_equal(out[t], window[t], equal_nan=True)]
        phase = kept[0]
        assert phase in (0, 1) and set(range(phase, 64, 2)) <= set(kept)
        middle = np.arange(phase + 1, 63, 2)
        expected = 0.5 * (window[middle - 1] + window[middle + 1])
        np.testing.assert_allclose(out[middle], expected, rtol=1e-5, atol=1e-6)
        assert not np.allclose(out[middle], window[middle])  # the dropped frames are not the originals
        if phase == 1:
            np.testing.assert_array_equal(out[0], window[1])  # before the first kept frame: held


def test_low_rate_capture_off_changes_nothing_and_draws_nothing() -> None:
    from actzero.training.augment import low_rate_capture

    window = np.random.default_rng(1).normal(size=(64, 25, 3)).astype(np.float32)
    rng = np.random.default_rng(5)
    assert low_rate_capture(window, AugmentConfig(), rng) is window
    assert rng.random() == np.random.default_rng(5).random()  # older recipes stay bit-identical


def test_placement_offsets_move_each_joint_by_one_offset_for_the_whole_window() -> None:
    from actzero.model.skeleton import body_size
    from actzero.training.augment import placement_offsets

    rng = np.random.default_rng(2)
    window = rng.normal(size=(48, 25, 3)).astype(np.float32)
    window[5, 7] = np.nan  # a dropped joint stays dropped
    config = AugmentConfig(placement_offset=0.1)
    moved = [placement_offsets(window, config, np.random.default_rng(seed)) for seed in range(20)]
    for out in moved:
        shift = out - window
        assert np.isnan(out[5, 7]).all()
        finite = np.isfinite(shift).all(axis=(1, 2))
        np.testing.assert_allclose(shift[finite], np.broadcast_to(shift[0], shift[finite].shape), atol=1e-5)
    spreads = np.array([np.nanstd(out[0] - window[0]) for out in moved])
    assert (spreads > 0).all() and spreads.max() <= 0.1 * body_size(window) * 1.6
    assert len(np.unique(np.round(spreads, 4))) == len(spreads)  # a new spread per window


def test_placement_offsets_off_changes_nothing_and_draws_nothing() -> None:
    from actzero.training.augment import placement_offsets

    window = np.random.default_rng(1).normal(size=(64, 25, 3)).astype(np.float32)
    rng = np.random.default_rng(5)
    assert placement_offsets(window, AugmentConfig(), rng) is window
    assert rng.random() == np.random.default_rng(5).random()  # older recipes stay bit-identical
