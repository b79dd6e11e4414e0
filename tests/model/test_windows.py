"""model/windows.py: the one path from clips and timestamped frames to model windows."""

import numpy as np
import pytest
from test_canonical import _motion

from actzero.model import skeleton as sk
from actzero.model.canonical import CanonicalisationError, canonicalise
from actzero.model.windows import (
    MAX_CLIP_SECONDS,
    MIN_CLIP_FRAMES,
    WindowError,
    check_clip_duration,
    check_fps,
    clip_window_batches,
    clip_windows,
    fit_length,
    model_window,
    resample,
    resample_at,
    sliding_windows,
    track_window,
    window_starts,
)


def test_resample_halves_frame_count_and_interpolates():
    seq = np.arange(61, dtype=np.float32)[:, None, None] * np.ones((1, 25, 3), np.float32)
    out = resample(seq, fps_in=60, fps_out=30)
    assert out.shape == (31, 25, 3)
    np.testing.assert_allclose(out[:, 0, 0], np.arange(0, 61, 2))
    up = resample(seq[:3], fps_in=30, fps_out=60)
    np.testing.assert_allclose(up[:, 0, 0], [0, 0.5, 1, 1.5, 2])
    with pytest.raises(ValueError, match="fps_in"):
        resample(seq, 0)


def test_resample_keeps_nan_only_where_it_touches_missing_frames():
    seq = np.zeros((5, 25, 3), np.float32)
    seq[2, 3] = np.nan
    out = resample(seq, fps_in=30, fps_out=60)
    assert np.isnan(out[:, 3, 0]).tolist() == [False, False, False, True, True, True, False, False, False]


def test_resample_at_copies_samples_exactly_when_times_fall_on_them():
    rng = np.random.default_rng(0)
    joints = rng.normal(size=(40, 25, 3)).astype(np.float32)
    joints[7, 4] = np.nan
    ts = 1.7e9 + np.arange(40) / 30.0  # epoch timestamps: the grid differs from them by rounding
    grid = ts[-1] - np.arange(31, -1, -1) / 30.0
    out = resample_at(ts, joints, grid)
    np.testing.assert_array_equal(out, joints[8:])  # bit for bit, not approximately
    between = resample_at(ts, joints, ts[5:9] + 0.5 / 30)
    assert np.isnan(between[1:3, 4]).all() and np.isfinite(between[[0, 3], 4]).all()
    np.testing.assert_allclose(between[0], (joints[5] + joints[6]) / 2, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(resample_at(ts[:1], joints[:1], grid[:3]), joints[[0, 0, 0]])


def test_window_starts_and_sliding_windows_cover_every_frame():
    assert window_starts(100, 64, 16).tolist() == [0, 16, 32, 36]
    assert window_starts(64, 64, 16).tolist() == [0]
    assert window_starts(10, 64, 16).tolist() == [0]  # a short clip: one window of all its frames
    seq = np.arange(100)
    wins = sliding_windows(seq, length=64, stride=16)
    assert wins.shape == (4, 64) and wins[:, 0].tolist() == [0, 16, 32, 36]
    assert sliding_windows(seq[:10], length=64).shape == (0, 64)
    with pytest.raises(ValueError):
        window_starts(0, 64, 16)


def test_fit_length_crops_centre_and_pads_by_holding_last_frame():
    seq = np.arange(10)
    assert fit_length(seq, 4).tolist() == [3, 4, 5, 6]
    assert fit_length(seq[:3], 6).tolist() == [0, 1, 2, 2, 2, 2]
    with pytest.raises(ValueError):
        fit_length(seq[:0], 4)


def test_a_short_window_is_canonicalised_on_its_own_frames_then_padded():
    seq = _motion(30, 5) * 1.7
    seq[:, sk.L_WRIST] += np.linspace(0, 0.6, 30)[:, None] * np.array([0.0, 1.0, 0.3])  # a moving hand
    out = model_window(seq, 64)
    np.testing.assert_array_equal(out[:30], canonicalise(seq))
    np.testing.assert_array_equal(out[30:], np.broadcast_to(out[29], (34, 25, 3)))
    # padding first would weigh the last frame 35 times in the body size and axes: not what we do
    assert not np.array_equal(out, canonicalise(fit_length(seq, 64)))
    with pytest.raises(ValueError, match="at most 64"):
        model_window(_motion(65, 1), 64)


def test_clip_windows_at_another_rate_equal_resampling_the_whole_clip_first():
    clip = _motion(301, 3)  # 5 s at 60 fps
    clip[100:104, sk.R_ELBOW] = np.nan
    per_window = np.concatenate(list(clip_window_batches(clip, 60.0, 30.0, 64, 32, batch=2)))
    whole = resample(clip, 60.0, 30.0)
    assert len(whole) == 151
    expected = np.stack([canonicalise(whole[s : s + 64]) for s in window_starts(151, 64, 32)])
    np.testing.assert_array_equal(per_window, expected)
    np.testing.assert_array_equal(clip_windows(whole, 64, 32), expected)
    assert [len(b) for b in clip_window_batches(clip, 60.0, 30.0, 64, 32, batch=3)] == [3, 1]


def test_unusable_windows_are_left_out_and_a_clip_without_any_raises():
    clip = _motion(128, 2)
    clip[:64, sk.SPINE_BASE] = np.nan  # the first window has no root
    assert len(clip_windows(clip, 64, 64)) == 1
    clip[:, sk.SPINE_BASE] = np.nan
    assert clip_windows(clip, 64, 64).shape == (0, 64, 25, 3)
    with pytest.raises(CanonicalisationError, match="no usable window"):
        list(clip_window_batches(clip, 30.0, 30.0, 64, 64))


def test_track_window_ends_at_the_last_sample_and_uses_the_gravity_frame_when_asked():
    clip = (_motion(40, 6) @ np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]]).T).astype(np.float32)  # lying
    ts = 5.0 + np.arange(40) / 30.0
    grid, window = track_window(ts, clip, 30, 30.0, 64, "gravity")
    np.testing.assert_allclose(grid, ts[10:], atol=1e-9)
    np.testing.assert_array_equal(window, model_window(clip[10:], 64, "gravity"))
    spine = window[:30, sk.SPINE_SHOULDER] - window[:30, sk.SPINE_BASE]
    assert np.abs(spine[:, 1]).max() < 0.25 * np.linalg.norm(spine, axis=-1).min()  # lying, not upright


@pytest.mark.parametrize("fps", [0.001, 4.99, 1000.5, 1e300, float("nan"), float("inf"), "fast"])
def test_fps_outside_5_to_1000_is_refused(fps):
    with pytest.raises(WindowError, match="5 to 1000 frames per second|must be a number"):
        check_fps(fps)
    assert check_fps(5) == 5.0 and check_fps(1000.0) == 1000.0


def test_clip_duration_limits_say_the_limit():
    assert check_clip_duration(MIN_CLIP_FRAMES, 30.0, 30.0) == MIN_CLIP_FRAMES
    with pytest.raises(WindowError, match=r"too short: 23 frames .* at least 0.77 s \(24 frames"):
        check_clip_duration(MIN_CLIP_FRAMES - 1, 30.0, 30.0)
    with pytest.raises(WindowError, match="too short: 1 frames"):
        check_clip_duration(1, 120.0, 30.0)
    frames = int(MAX_CLIP_SECONDS * 120) + 2
    with pytest.raises(WindowError, match="too long: 60.0 min at 120 fps; the limit is 60 min"):
        check_clip_duration(frames, 120.0, 30.0)
