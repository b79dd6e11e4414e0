"""Camera-like augmentation of training windows.

Before canonicalisation (on a raw clip, metres, NaN = missing): speed change by temporal
resampling, and dropped joints (single joint-frames and occlusion spans) set to NaN so
that `canonicalise` fills them exactly as it does at run time; the window is then made by
model/windows.py `model_window` (canonicalised, a short one padded), as at run time. After
canonicalisation (a batch of canonical windows): rotation about the vertical axis, a tilt
about the horizontal axes (small in the upright frame; in the gravity frame up to
`gravity_tilt_degrees`, the camera pitch and roll that frame keeps), Gaussian noise, and
mirroring with left/right joints swapped (the label is swapped too for classes whose names
say "left" or "right").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from actzero.model.canonical import GRAVITY, UPRIGHT, CanonicalisationError
from actzero.model.skeleton import MIRROR_PERM, NUM_JOINTS, SPINE_BASE, SPINE_SHOULDER
from actzero.model.windows import model_window


@dataclass(frozen=True)
class AugmentConfig:
    """Ranges of the augmentations (angles in degrees, noise in canonical body units)."""

    speed: tuple[float, float] = (0.7, 1.4)
    drop_probability: float = 0.5  # chance a window gets any dropped joints
    drop_rate: float = 0.08  # max fraction of joint-frames dropped in such a window
    occlusion_probability: float = 0.2  # chance of one joint group missing for a span
    yaw_degrees: float = 30.0
    tilt_degrees: float = 10.0
    gravity_tilt_degrees: float = 18.0  # camera pitch / roll, kept by the gravity frame
    noise: float = 0.015
    mirror_probability: float = 0.5


def mirror_label_map(class_names: list[str]) -> np.ndarray:
    """Label each class becomes when mirrored; -1 when its mirror image is no known class.

    "left" and "right" in a class name swap ("wave left hand" <-> "wave right hand");
    names without either word map to themselves.
    """
    index = {name: i for i, name in enumerate(class_names)}
    out = np.arange(len(class_names))
    for i, name in enumerate(class_names):
        if "left" in name or "right" in name:
            swapped = name.replace("left", "\0").replace("right", "left").replace("\0", "right")
            out[i] = index.get(swapped, -1)
    return out


def crop_with_speed(clip: np.ndarray, length: int, speed: float, rng: np.random.Generator) -> np.ndarray:
    """A random `length`-frame window of `clip` played `speed` times faster (linear interpolation).

    A clip shorter than the needed span is resampled whole: fewer than `length` frames, which
    `model_window` pads after canonicalisation.
    """
    total = len(clip)
    span = (length - 1) * speed
    if total - 1 >= span:
        start = rng.uniform(0, total - 1 - span)
        times = start + speed * np.arange(length)
    else:
        times = np.arange(0, total - 1 + 1e-6, speed) if total > 1 else np.zeros(1)
    lo = np.floor(times).astype(np.int64)
    hi = np.minimum(lo + 1, total - 1)
    w = (times - lo)[:, None, None].astype(np.float32)
    return clip[lo] * (1 - w) + clip[hi] * w  # NaN stays NaN where either side is missing


def drop_joints(window: np.ndarray, config: AugmentConfig, rng: np.random.Generator) -> np.ndarray:
    """Set random joint-frames (and sometimes a joint for a span) to NaN; spine joints are kept."""
    out = window.copy()
    t = len(out)
    if rng.random() < config.drop_probability:
        mask = rng.random((t, NUM_JOINTS)) < rng.uniform(0, config.drop_rate)
        mask[:, [SPINE_BASE, SPINE_SHOULDER]] = False
        out[mask] = np.nan
    if rng.random() < config.occlusion_probability:
        joint = int(rng.integers(NUM_JOINTS))
        if joint not in (SPINE_BASE, SPINE_SHOULDER):
            start = int(rng.integers(t))
            out[start : start + int(rng.integers(4, t // 2 + 5)), joint] = np.nan
    return out


def sample_canonical_window(
    clip: np.ndarray, length: int, config: AugmentConfig, rng: np.random.Generator, frame: str = UPRIGHT
) -> np.ndarray | None:
    """Speed-changed, joint-dropped model window (canonical `frame`) of a raw clip (None if unusable)."""
    window = crop_with_speed(clip, length, rng.uniform(*config.speed), rng)
    try:
        return model_window(drop_joints(window, config, rng), length, frame)
    except CanonicalisationError:
        try:
            return model_window(window, length, frame)
        except CanonicalisationError:
            return None


def _rotation(yaw: np.ndarray, pitch: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """Rotation matrices (N, 3, 3): roll about z, then pitch about x, then yaw about y (vertical)."""
    cy, sy = np.cos(yaw), np.sin(yaw)
    cp, sp = np.cos(pitch), np.sin(pitch)
    cr, sr = np.cos(roll), np.sin(roll)
    one, zero = np.ones_like(yaw), np.zeros_like(yaw)
    r_y = np.stack([cy, zero, sy, zero, one, zero, -sy, zero, cy], -1).reshape(-1, 3, 3)
    r_x = np.stack([one, zero, zero, zero, cp, -sp, zero, sp, cp], -1).reshape(-1, 3, 3)
    r_z = np.stack([cr, -sr, zero, sr, cr, zero, zero, zero, one], -1).reshape(-1, 3, 3)
    return r_y @ r_x @ r_z


def augment_batch(
    windows: np.ndarray,
    labels: np.ndarray,
    mirror_map: np.ndarray,
    config: AugmentConfig,
    rng: np.random.Generator,
    frame: str = UPRIGHT,
) -> tuple[np.ndarray, np.ndarray]:
    """Rotate, tilt, mirror and add noise to canonical windows (N, T, 25, 3) of canonical `frame`.

    Returns:
        (augmented windows float32, labels after mirroring).
    """
    n = len(windows)
    labels = np.asarray(labels).copy()
    out = np.asarray(windows, dtype=np.float32).copy()
    mirror = (rng.random(n) < config.mirror_probability) & (mirror_map[labels] >= 0)
    if mirror.any():
        flipped = out[mirror][:, :, MIRROR_PERM]
        flipped[..., 0] *= -1
        out[mirror] = flipped
        labels[mirror] = mirror_map[labels[mirror]]
    yaw = np.radians(rng.uniform(-config.yaw_degrees, config.yaw_degrees, n))
    tilt = config.gravity_tilt_degrees if frame == GRAVITY else config.tilt_degrees
    pitch = np.radians(rng.uniform(-tilt, tilt, n))
    roll = np.radians(rng.uniform(-tilt, tilt, n))
    rot = _rotation(yaw, pitch, roll).astype(np.float32)
    out = np.einsum("ntvc,ndc->ntvd", out, rot)
    out += rng.normal(0, config.noise, out.shape).astype(np.float32)
    return out.astype(np.float32), labels
