"""Camera-like augmentation of training windows.

Before canonicalisation (on a raw clip, metres, NaN = missing): speed change by temporal
resampling, optionally a lower camera frame rate (`low_rate_capture`) and joints placed
elsewhere on the body, as another sensor places them (`placement_offsets`), and dropped joints
(single joint-frames and occlusion spans) set to NaN so that `canonicalise` fills them exactly
as it does at run time; the window is then made by
model/windows.py `model_window` (canonicalised, a short one padded), as at run time. After
canonicalisation (a batch of canonical windows): rotation about the vertical axis, a tilt
about the horizontal axes (small in the upright frame; in the gravity frame up to
`gravity_tilt_degrees`, the camera pitch and roll that frame keeps), Gaussian noise, and
mirroring with left/right joints swapped (the label is swapped too for classes whose names
say "left" or "right").

The MediaPipe error model (`camera_error`, on when `AugmentConfig.camera_error` is set) turns
a clean raw window into what MediaPipe's world landmarks look like on real video: each joint
gets independent noise of the size studies/camera_error.py measures on the sample video
(high-frequency jitter 0.038 body units in the image plane, 0.048 along depth, as a 5-frame
moving-average residual; white noise of std 0.043 / 0.054 gives those residuals), and depth
relative to the hips is scaled by a random factor around the fitted 1.2. For a 3D frame the
camera looks from a random heading (the canonical frame removes heading afterwards).

The image frame (the 2D route) sees each training window through a random virtual camera
(`virtual_view`, on the raw clip): any heading around the body, an elevation from slightly below
to well above (`view_elevation`), a small roll; after canonicalisation only the in-plane roll,
noise and mirroring apply (a 2D window has no depth to rotate).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from actzero.model.canonical import IMAGE, UPRIGHT, WORLD_UP_FRAMES, CanonicalisationError
from actzero.model.skeleton import MIRROR_PERM, NUM_JOINTS, SPINE_BASE, SPINE_SHOULDER, body_size
from actzero.model.windows import model_window, resample_at


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
    view_elevation: tuple[float, float] = (-10.0, 35.0)  # image frame: virtual camera elevation
    view_roll_degrees: float = 5.0  # image frame: camera roll
    camera_error: bool = False  # the MediaPipe error model (`camera_error`)
    error_jitter_xy: float = 0.043  # body units, image plane (studies/camera_error.py)
    error_jitter_z: float = 0.054  # body units, along depth
    error_depth_scale: tuple[float, float] = (0.9, 1.4)  # around the fitted 1.2
    low_rate_probability: float = 0.0  # chance a window is captured at 1/step of the frame rate
    low_rate_steps: tuple[int, ...] = (2, 3)  # 15 and 10 fps cameras (or --pose-every 2, 3)
    placement_offset: float = 0.0  # largest std (body units) of a joint's fixed offset in a window


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


def low_rate_capture(window: np.ndarray, config: AugmentConfig, rng: np.random.Generator) -> np.ndarray:
    """A (T, 25, 3) window as a slower camera gives it once resampled to the model's rate.

    With probability `config.low_rate_probability`, only every `step`-th frame (random step from
    `config.low_rate_steps`, random phase) is kept and the others are linearly interpolated
    between them by `resample_at`, as the worker resamples a 15 or 10 fps camera (or poses
    estimated on every other frame) to 30 fps; the ends hold the nearest kept frame.
    """
    if config.low_rate_probability <= 0 or rng.random() >= config.low_rate_probability:
        return window
    step = int(rng.choice(config.low_rate_steps))
    if len(window) <= step:
        return window
    kept = np.arange(int(rng.integers(step)), len(window), step)
    return resample_at(kept, window[kept], np.arange(len(window)))


def placement_offsets(window: np.ndarray, config: AugmentConfig, rng: np.random.Generator) -> np.ndarray:
    """A raw (T, 25, 3) window with every joint moved by its own offset, fixed for the whole window.

    Sensors put a joint at different points of the body (each motion-capture rig defines its own
    hip and spine joints; Kinect and MediaPipe estimate theirs from a camera): after
    `canonicalise` fixes the bone lengths, such a placement is a constant change of the bone
    directions. The offsets
    are Gaussian with a std drawn per window from 0 to `config.placement_offset` body sizes
    (`body_size`), so some windows stay nearly as recorded. Off (the window itself, and nothing
    drawn) when the option is 0.
    """
    if config.placement_offset <= 0:
        return window
    size = body_size(window)
    if not np.isfinite(size) or size <= 0:
        return window
    spread = rng.uniform(0.0, config.placement_offset) * size
    return (window + rng.normal(0.0, spread, (1, window.shape[1], 3))).astype(window.dtype)


def virtual_view(window: np.ndarray, config: AugmentConfig, rng: np.random.Generator) -> np.ndarray:
    """A raw (T, 25, 3) window (y up) as a random virtual camera sees it: camera axes, depth along z.

    The camera circles the body at any heading and looks from an elevation in
    `config.view_elevation` (degrees; positive: from above); the image frame then drops z.
    """
    yaw = rng.uniform(-np.pi, np.pi, 1)
    pitch = np.radians(rng.uniform(*config.view_elevation, 1))
    roll = np.radians(rng.uniform(-config.view_roll_degrees, config.view_roll_degrees, 1))
    rot = _rotation(np.zeros(1), pitch, roll)[0] @ _rotation(yaw, np.zeros(1), np.zeros(1))[0]
    return (window.reshape(-1, 3) @ rot.T.astype(np.float32)).reshape(window.shape)


def camera_error(
    window: np.ndarray, config: AugmentConfig, rng: np.random.Generator, turn: bool = True
) -> np.ndarray:
    """A raw (T, 25, 3) window with MediaPipe-like errors (depth = z after an optional random heading).

    Args:
        window: metres or any unit, y up; NaN joints stay NaN.
        config: the error model's sizes.
        rng: random source.
        turn: first rotate about the vertical by a random heading (3D frames: the camera may
            stand anywhere); False when z already is the camera's depth (the image frame).
    """
    out = window
    if turn:
        yaw = rng.uniform(-np.pi, np.pi, 1)
        rot = _rotation(yaw, np.zeros(1), np.zeros(1))[0].astype(np.float32)
        out = (out.reshape(-1, 3) @ rot.T).reshape(out.shape)
    size = body_size(out)
    if not np.isfinite(size) or size <= 0:
        return out
    root_depth = out[:, SPINE_BASE : SPINE_BASE + 1, 2:3]
    depth = root_depth + rng.uniform(*config.error_depth_scale) * (out[..., 2:3] - root_depth)
    out = np.concatenate([out[..., :2], depth], axis=-1)
    sigma = np.array([config.error_jitter_xy, config.error_jitter_xy, config.error_jitter_z], np.float32)
    noise = rng.normal(0, 1, out.shape).astype(np.float32) * sigma * size
    noise[:, SPINE_BASE] = 0.0  # MediaPipe's world landmarks are centred between the hips
    return (out + noise).astype(np.float32)


def sample_canonical_window(
    clip: np.ndarray, length: int, config: AugmentConfig, rng: np.random.Generator, frame: str = UPRIGHT
) -> np.ndarray | None:
    """Speed-changed, joint-dropped model window (canonical `frame`) of a raw clip (None if unusable)."""
    window = low_rate_capture(crop_with_speed(clip, length, rng.uniform(*config.speed), rng), config, rng)
    window = placement_offsets(window, config, rng)
    if frame == IMAGE:
        window = virtual_view(window, config, rng)
    if config.camera_error:
        window = camera_error(window, config, rng, turn=frame != IMAGE)
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
    tilt = config.gravity_tilt_degrees if frame in WORLD_UP_FRAMES else config.tilt_degrees
    pitch = np.radians(rng.uniform(-tilt, tilt, n))
    roll = np.radians(rng.uniform(-tilt, tilt, n))
    if frame == IMAGE:  # the view was chosen before canonicalisation; only the image turns
        yaw, pitch = np.zeros(n), np.zeros(n)
        roll = np.radians(rng.uniform(-config.view_roll_degrees, config.view_roll_degrees, n))
    rot = _rotation(yaw, pitch, roll).astype(np.float32)
    out = np.einsum("ntvc,ndc->ntvd", out, rot)
    out += rng.normal(0, config.noise, out.shape).astype(np.float32)
    if frame == IMAGE:
        out[..., 2] = 0.0
    return out.astype(np.float32), labels
