"""Tests of the synthetic motion generator: determinism, shapes, rigid bones, handedness,
idle vs action, class texts, and that the classes differ in ways a classifier can see."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import numpy as np
import pytest

from actzero.model import skeleton as sk
from actzero.model.canonical import canonicalise
from actzero.training.synthetic import (
    FPS,
    IDLE_ACTION,
    SYNTHETIC_ACTIONS,
    add_estimator_noise,
    generate_clips,
    sample_params,
    synthesize,
)
from actzero.training.synthetic_actions import ACTIONS

ACTIONS_TOML = Path(__file__).resolve().parents[2] / "training" / "actions.toml"


def _params(name: str, seed: int, **changes):
    return dataclasses.replace(sample_params(name, np.random.default_rng(seed)), **changes)


def test_same_seed_same_clips_and_clips_do_not_depend_on_the_other_classes() -> None:
    a = generate_clips(["clap hands", "sit down"], clips_per_class=2, seed=3)
    b = generate_clips(["clap hands", "sit down"], clips_per_class=2, seed=3)
    alone = generate_clips(["sit down"], clips_per_class=2, seed=3)
    other = generate_clips(["clap hands", "sit down"], clips_per_class=2, seed=4)
    assert [c.clip_id for c in a] == [c.clip_id for c in b]
    assert all(np.array_equal(x.joints, y.joints, equal_nan=True) for x, y in zip(a, b, strict=True))
    assert all(np.array_equal(x.joints, y.joints, equal_nan=True) for x, y in zip(a[2:], alone, strict=True))
    assert not any(
        x.joints.shape == y.joints.shape and np.allclose(x.joints, y.joints, equal_nan=True)
        for x, y in zip(a, other, strict=True)
    )


def test_every_class_gives_float32_ntu25_clips_of_2_to_6_seconds_with_some_dropout() -> None:
    clips = generate_clips(clips_per_class=2, seed=0)
    assert [c.name for c in clips[::2]] == list(SYNTHETIC_ACTIONS)
    assert len({c.clip_id for c in clips}) == len(clips)
    for clip in clips:
        assert clip.joints.dtype == np.float32
        assert clip.joints.ndim == 3 and clip.joints.shape[1:] == (sk.NUM_JOINTS, 3)
        assert 2 * FPS <= len(clip.joints) <= 6 * FPS + 1
        missing = np.isnan(clip.joints).any(axis=-1).mean()
        assert missing < 0.3
        assert np.isnan(clip.joints).any(axis=-1).all(axis=-1).mean() < 0.2  # few whole frames lost
        canonicalise(clip.joints)  # usable by the model
    assert any(np.isnan(c.joints).any() for c in clips)
    assert any(not np.isnan(c.joints).any() for c in clips)


def test_unknown_class_is_rejected_and_the_held_out_class_is_not_generated() -> None:
    with pytest.raises(ValueError, match="jumping jacks"):
        generate_clips(["jumping jacks"], clips_per_class=1)
    assert not any("jumping jack" in name for name in SYNTHETIC_ACTIONS)
    assert IDLE_ACTION in SYNTHETIC_ACTIONS
    assert len(SYNTHETIC_ACTIONS) >= 31


def test_every_synthetic_class_has_two_to_four_descriptions_in_actions_toml() -> None:
    table = tomllib.loads(ACTIONS_TOML.read_text())["action"]
    synthetic = {entry["name"]: entry for entry in table if entry["source"] == "synthetic"}
    assert set(synthetic) == set(SYNTHETIC_ACTIONS)
    names = [entry["name"] for entry in table]
    assert len(names) == len(set(names))
    for entry in synthetic.values():
        assert 2 <= len(entry["descriptions"]) <= 4
        assert all(len(text) > 20 for text in entry["descriptions"])


def _bone_lengths(joints: np.ndarray) -> np.ndarray:
    child, parent = np.array(sk.BONES).T
    return np.linalg.norm(joints[:, child] - joints[:, parent], axis=-1)


@pytest.mark.parametrize("name", SYNTHETIC_ACTIONS)
def test_bones_keep_their_length_within_a_clip(name: str) -> None:
    params = sample_params(name, np.random.default_rng(7))
    clean = synthesize(name, params)
    lengths = _bone_lengths(clean)
    assert np.all(np.isfinite(clean))
    assert np.ptp(lengths, axis=0).max() < 1e-4
    assert lengths.min() > 0.02
    # Noise jitters the bones by a few centimetres but keeps the long ones near their length.
    noisy = _bone_lengths(add_estimator_noise(clean, np.random.default_rng(7)))
    long = lengths[0] > 0.2
    assert np.nanmax(np.abs(np.nanmedian(noisy, axis=0) - lengths[0])[long]) < 0.03


def _path_length(joints: np.ndarray, joint: int) -> float:
    return float(np.linalg.norm(np.diff(joints[:, joint], axis=0), axis=-1).sum())


def _left_right_activity(name: str, joints: np.ndarray) -> tuple[float, float]:
    if name == "hop on one leg":  # the free foot is held up
        return float(joints[:, sk.L_ANKLE, 1].mean()), float(joints[:, sk.R_ANKLE, 1].mean())
    if name == "pick something up from the floor":  # one hand goes down to the floor
        return float(np.ptp(joints[:, sk.L_WRIST, 1])), float(np.ptp(joints[:, sk.R_WRIST, 1]))
    if name == "lunge forward":  # the stepping foot travels
        return _path_length(joints, sk.L_ANKLE), _path_length(joints, sk.R_ANKLE)
    return _path_length(joints, sk.L_WRIST), _path_length(joints, sk.R_WRIST)


ONE_SIDED = [name for name in SYNTHETIC_ACTIONS if ACTIONS[name].one_sided]


@pytest.mark.parametrize("name", ONE_SIDED)
def test_one_sided_actions_use_the_right_side_unless_mirrored(name: str) -> None:
    upright = {"yaw": 0.0, "camera": (0.0, 1.0, 3.0, 0.0, 0.0)}
    right = synthesize(name, _params(name, 11, mirrored=False, **upright))
    left = synthesize(name, _params(name, 11, mirrored=True, **upright))
    l_act, r_act = _left_right_activity(name, right)
    assert r_act > 1.3 * l_act
    l_act, r_act = _left_right_activity(name, left)
    assert l_act > 1.3 * r_act
    # Mirroring is a reflection of the whole body through the plane facing the camera.
    reflected = right[:, sk.MIRROR_PERM] * np.array([-1.0, 1.0, 1.0], dtype=np.float32)
    assert np.allclose(left, reflected, atol=1e-5)


def test_both_sides_occur_for_one_sided_actions() -> None:
    mirrored = [sample_params("drink from a cup", np.random.default_rng(i)).mirrored for i in range(60)]
    assert 5 <= sum(mirrored) <= 35


def _busiest_joint_speed(joints: np.ndarray) -> float:
    """Metres per second travelled by the joint that moves most."""
    step = np.linalg.norm(np.diff(joints, axis=0), axis=-1)
    return float(step.sum(axis=0).max() / (len(joints) / FPS))


def test_idle_moves_far_less_than_any_action() -> None:
    def speed(name: str) -> float:
        return np.mean([_busiest_joint_speed(synthesize(name, _params(name, seed))) for seed in range(3)])

    idle = speed(IDLE_ACTION)
    assert 0.0 < idle
    for name in SYNTHETIC_ACTIONS:
        if name != IDLE_ACTION:
            assert idle < 0.7 * speed(name), name


def _features(joints: np.ndarray) -> np.ndarray:
    """Simple statistics of a canonical clip: per-joint spread and mean position overall and in
    the first and last third (so that e.g. sitting down and standing up differ), with the more
    active arm always put on the right."""
    c = canonicalise(joints)
    if np.ptp(c[:, sk.L_WRIST], axis=0).sum() > np.ptp(c[:, sk.R_WRIST], axis=0).sum():
        c = c[:, sk.MIRROR_PERM] * [-1.0, 1.0, 1.0]
    third = len(c) // 3
    parts = [c.std(axis=0), c.mean(axis=0), c[:third].mean(axis=0), c[-third:].mean(axis=0)]
    return np.concatenate([p.ravel() for p in parts])


def test_classes_are_distinguishable_by_simple_statistics() -> None:
    train = generate_clips(clips_per_class=6, seed=0)
    test = generate_clips(clips_per_class=3, seed=1)
    x = np.array([_features(c.joints) for c in train])
    y = np.array([c.name for c in train])
    centroids = np.array([x[y == name].mean(axis=0) for name in SYNTHETIC_ACTIONS])
    xt = np.array([_features(c.joints) for c in test])
    predicted = np.array(SYNTHETIC_ACTIONS)[np.argmin(((xt[:, None] - centroids[None]) ** 2).sum(-1), axis=1)]
    accuracy = np.mean(predicted == np.array([c.name for c in test]))
    assert accuracy > 0.75  # chance is 1/36
