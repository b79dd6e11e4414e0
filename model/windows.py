"""Model windows from skeleton clips and timestamped frames: the one path from joints to what the model sees.

The live worker (stream/worker.py), the Python API and `actzero classify` (api.py), training
and evaluation (training/train.py, training/augment.py) and the benches all go through here,
so a model sees the same windows in training and in use:

1. resample to the model's frame rate by time (`resample_at`): linear interpolation between
   the two neighbouring samples; a joint missing (NaN) in either neighbour stays missing
   unless the output time falls on a sample. Missing joints are filled in one place only,
   by `canonical.canonicalise` (interpolation in time within the window);
2. cut windows of `length` frames every `stride` frames, the last one ending at the clip's
   last frame (`window_starts`); a clip shorter than a window gives one window of all its
   frames;
3. canonicalise each window's own frames, in the model's canonical frame;
4. pad a short window to `length` by holding its last canonical frame (`fit_length`).

Canonicalising before padding means body size and axes come from real frames only, so a
short clip is scaled the same way whatever pads it. Long clips are processed in batches
of windows (`clip_window_batches`), so memory does not grow with the clip's length.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from actzero.model.canonical import UPRIGHT, CanonicalisationError, canonicalise

MIN_FPS = 5.0  # a clip slower than this is not a motion sequence (or a wrong --fps)
MAX_FPS = 1000.0  # faster than any capture device in use; also bounds resampling work
MAX_CLIP_SECONDS = 3600.0  # one hour: classify longer recordings in pieces
MIN_CLIP_FRAMES = 24  # model frames (0.8 s at 30 fps): the live worker's first window too
BATCH_WINDOWS = 64  # windows canonicalised and encoded together when classifying a clip
# An output time this close (in sample steps) to a sample takes it exactly: epoch timestamps
# (1.7e9 s) carry ~2e-7 s of rounding, 1e-5 of a step at 30 fps.
_ON_SAMPLE = 1e-3


class WindowError(ValueError):
    """A clip or frame rate that cannot be cut into model windows (the message says why)."""


def check_fps(fps: float, what: str = "fps") -> float:
    """Return `fps` as a float if it is a usable clip frame rate (MIN_FPS..MAX_FPS).

    Raises:
        WindowError: not a number in that range.
    """
    try:
        value = float(fps)
    except (TypeError, ValueError):
        raise WindowError(f"{what} must be a number, got {fps!r}") from None
    if not (MIN_FPS <= value <= MAX_FPS):
        raise WindowError(f"{what} must be {MIN_FPS:g} to {MAX_FPS:g} frames per second, got {value:g}")
    return value


def resample_at(ts: np.ndarray, joints: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Joints at the times `target`, linearly interpolated from samples at the times `ts`.

    A target before the first or after the last sample takes that sample. A joint that is
    NaN in either neighbouring sample is NaN, unless the target falls on a sample (within
    1e-3 of a sample step), which is then copied exactly.

    Args:
        ts: (n,) increasing sample times, n >= 1.
        joints: (n, ...) samples.
        target: (m,) output times.

    Returns:
        float32 (m, ...).
    """
    ts = np.asarray(ts, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    joints = np.asarray(joints, dtype=np.float32)
    if len(ts) == 1:
        return np.repeat(joints[:1], len(target), axis=0)
    i = np.clip(np.searchsorted(ts, target, side="right") - 1, 0, len(ts) - 2)
    span = ts[i + 1] - ts[i]
    w = np.clip((target - ts[i]) / np.where(span > 0, span, 1.0), 0.0, 1.0)
    i = np.where(w > 1.0 - _ON_SAMPLE, i + 1, i)  # on the next sample: take it
    w = np.where((w < _ON_SAMPLE) | (w > 1.0 - _ON_SAMPLE), 0.0, w)
    w = w.astype(np.float32).reshape((-1,) + (1,) * (joints.ndim - 1))
    a, b = joints[i], joints[np.minimum(i + 1, len(ts) - 1)]
    return np.where(w == 0, a, a + w * (b - a)).astype(np.float32, copy=False)


def num_model_frames(num_frames: int, fps_in: float, fps: float) -> int:
    """How many frames at `fps` a clip of `num_frames` frames at `fps_in` covers (times k / fps)."""
    return int(math.floor((num_frames - 1) * fps / fps_in + 1e-9)) + 1


def resample(seq: np.ndarray, fps_in: float, fps_out: float = 30.0) -> np.ndarray:
    """Resample a (T, ...) clip from `fps_in` to `fps_out` (`resample_at` at times k / fps_out).

    Raises:
        ValueError: a frame rate that is not a positive finite number.
    """
    for name, fps in (("fps_in", fps_in), ("fps_out", fps_out)):
        if not (np.isfinite(fps) and fps > 0):
            raise ValueError(f"{name} must be a positive frame rate, got {fps}")
    arr = np.asarray(seq, dtype=np.float32)
    if fps_in == fps_out or arr.shape[0] <= 1:
        return arr.copy()
    target = np.arange(num_model_frames(arr.shape[0], fps_in, fps_out)) / fps_out
    return resample_at(np.arange(arr.shape[0]) / fps_in, arr, target)


def window_starts(total: int, length: int, stride: int) -> np.ndarray:
    """First frames of the windows of a `total`-frame clip: 0, stride, ..., plus one ending at the end.

    A clip shorter than `length` gives the single start 0 (a window of all its frames).

    Raises:
        ValueError: `length` or `stride` below 1, or an empty clip.
    """
    if length < 1 or stride < 1:
        raise ValueError(f"length and stride must be >= 1, got {length} and {stride}")
    if total < 1:
        raise ValueError("an empty clip (0 frames) has no windows")
    if total <= length:
        return np.zeros(1, dtype=np.int64)
    starts = np.arange(0, total - length + 1, stride)
    if starts[-1] + length < total:
        starts = np.append(starts, total - length)
    return starts


def sliding_windows(seq: np.ndarray, length: int = 64, stride: int = 16) -> np.ndarray:
    """Raw windows (N, length, ...) of a (T, ...) sequence at `window_starts`; none if T < length."""
    arr = np.asarray(seq)
    if arr.shape[0] < length:
        return np.empty((0, length) + arr.shape[1:], dtype=arr.dtype)
    return arr[window_starts(arr.shape[0], length, stride)[:, None] + np.arange(length)]


def fit_length(seq: np.ndarray, length: int) -> np.ndarray:
    """Make a (T, ...) sequence exactly `length` frames long.

    A longer sequence is cropped around its centre; a shorter one is padded by holding its
    last frame (no invented motion).

    Raises:
        ValueError: `length` < 1 or an empty sequence.
    """
    if length < 1:
        raise ValueError(f"length must be >= 1, got {length}")
    arr = np.asarray(seq)
    total = arr.shape[0]
    if total == 0:
        raise ValueError("cannot fit an empty sequence (0 frames) to a length")
    if total >= length:
        start = (total - length) // 2
        return arr[start : start + length].copy()
    return arr[np.minimum(np.arange(length), total - 1)]


def model_window(frames: np.ndarray, length: int, frame: str = UPRIGHT) -> np.ndarray:
    """One model window: canonicalise up to `length` frames (T, 25, 3), then pad to `length`.

    Raises:
        CanonicalisationError: no usable torso in the frames.
        ValueError: more than `length` frames.
    """
    if len(frames) > length:
        raise ValueError(f"a window holds at most {length} frames, got {len(frames)}")
    out = canonicalise(frames, frame)
    return out if len(out) == length else fit_length(out, length)


def track_window(
    ts: np.ndarray, joints: np.ndarray, frames: int, fps: float, length: int, frame: str = UPRIGHT
) -> tuple[np.ndarray, np.ndarray]:
    """The model window of a live track: `frames` steps at `fps` ending at its last sample.

    Args:
        ts: (n,) increasing capture times of the track's samples.
        joints: (n, 25, 3) the samples.
        frames: model frames in the window (at most `length`; fewer for a young track).
        fps: the model's frame rate.
        length: the model's window length.
        frame: the model's canonical frame.

    Returns:
        The window's frame times (frames,) and the model window (length, 25, 3) float32.

    Raises:
        CanonicalisationError: no usable torso in the window.
    """
    grid = ts[-1] - np.arange(frames - 1, -1, -1) / fps
    return grid, model_window(resample_at(ts, joints, grid), length, frame)


def clip_window_batches(
    clip: np.ndarray,
    fps_in: float,
    fps: float,
    length: int,
    stride: int,
    frame: str = UPRIGHT,
    batch: int = BATCH_WINDOWS,
) -> Iterator[np.ndarray]:
    """Model windows of a clip, `batch` at a time, resampling only each window's own frames.

    The clip's model frames are at times k / fps (k = 0 .. `num_model_frames` - 1); windows
    start at `window_starts`. Windows without a usable torso are left out. Memory is bounded
    by `batch` windows, whatever the clip's length.

    Args:
        clip: (T, 25, 3) joints at `fps_in`, NaN for missing joints.
        fps_in: the clip's frame rate.
        fps: the model's frame rate.
        length: the model's window length.
        stride: model frames between window starts.
        frame: the model's canonical frame.
        batch: windows per yielded array.

    Yields:
        float32 (n, length, 25, 3) arrays, 1 <= n <= batch.

    Raises:
        CanonicalisationError: no window of the clip is usable (raised at the end, with the
            last window's reason).
    """
    same_rate = fps_in == fps
    total = len(clip) if same_rate else num_model_frames(len(clip), fps_in, fps)
    ts_in = None if same_rate else np.arange(len(clip)) / fps_in
    pending: list[np.ndarray] = []
    error: CanonicalisationError | None = None
    produced = 0
    for start in window_starts(total, length, stride).tolist():
        stop = min(start + length, total)
        if same_rate:
            frames = clip[start:stop]
        else:
            frames = resample_at(ts_in, clip, np.arange(start, stop) / fps)
        try:
            pending.append(model_window(frames, length, frame))
        except CanonicalisationError as exc:
            error = exc
            continue
        if len(pending) == batch:
            produced += batch
            yield np.stack(pending)
            pending = []
    if pending:
        produced += len(pending)
        yield np.stack(pending)
    if not produced:
        raise CanonicalisationError(f"no usable window in the clip: {error}")


def clip_windows(
    clip: np.ndarray, length: int, stride: int, frame: str = UPRIGHT, fps_in: float = 30.0, fps: float = 30.0
) -> np.ndarray:
    """All model windows (n, length, 25, 3) of a clip (`clip_window_batches` stacked; n may be 0).

    For clips of bounded length (training and evaluation data); use `clip_window_batches`
    for clips of any length.
    """
    try:
        return np.concatenate(list(clip_window_batches(clip, fps_in, fps, length, stride, frame)))
    except CanonicalisationError:
        return np.zeros((0, length, 25, 3), dtype=np.float32)


def check_clip_duration(num_frames: int, fps_in: float, fps: float) -> int:
    """Check a clip's length for classification; returns its number of model frames.

    Raises:
        WindowError: longer than MAX_CLIP_SECONDS, or shorter than MIN_CLIP_FRAMES model frames.
    """
    seconds = (num_frames - 1) / fps_in if num_frames else 0.0
    if seconds > MAX_CLIP_SECONDS:
        raise WindowError(
            f"clip too long: {seconds / 60:.1f} min at {fps_in:g} fps; the limit is "
            f"{MAX_CLIP_SECONDS / 60:.0f} min (split it into shorter clips)"
        )
    total = num_model_frames(num_frames, fps_in, fps) if num_frames else 0
    if total < MIN_CLIP_FRAMES:
        need = f"{(MIN_CLIP_FRAMES - 1) / fps:.2f} s ({MIN_CLIP_FRAMES} frames at the model's {fps:g} fps)"
        raise WindowError(
            f"clip too short: {num_frames} frames at {fps_in:g} fps ({seconds:.2f} s); at least {need} needed"
        )
    return total
