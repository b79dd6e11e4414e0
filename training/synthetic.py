"""Synthetic everyday actions in the NTU-25 layout, made to look like a pose estimator's output.

The real motion capture (Bandai Namco) covers locomotion and a few gestures; this module
adds procedurally generated classes (clapping, sitting down, drinking, ...) plus the idle
class "standing still". Each clip draws a body (height 1.5-1.95 m, varied limb ratios), a
tempo (0.7-1.4x), an amplitude, a side for one-sided actions (mirrored to the left hand or leg
for a share of the clips), a facing direction, a start phase / onset, a length of 2-6 s and a
slight whole-body sway with breathing; then it is placed in front of a camera and corrupted
like a pose estimator's output (gaussian jitter, worse on hands and in depth, and NaN
dropouts in bursts on hands and feet).

Output coordinates: camera space as in NTU: metres, y up, z away from the camera (the
camera looks along +z); a subject with yaw 0 faces the camera (-z), the subject's left at -x.
30 fps. Everything is deterministic for a seed; a clip depends only on (seed, class name,
clip index), not on which other classes are generated.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from actzero.model import skeleton as sk
from actzero.training.synthetic_actions import ACTIONS, IDLE_ACTION, Ctx
from actzero.training.synthetic_body import Body, Motion, pose_joints, rotation

FPS = 30.0

# Names of the synthetic classes, as in training/actions.toml (source = "synthetic").
SYNTHETIC_ACTIONS: tuple[str, ...] = tuple(ACTIONS)

__all__ = [
    "FPS",
    "IDLE_ACTION",
    "SYNTHETIC_ACTIONS",
    "ClipParams",
    "SyntheticClip",
    "add_estimator_noise",
    "generate_clips",
    "sample_params",
    "synthesize",
]

_HANDS = [sk.L_WRIST, sk.L_HAND, sk.L_HAND_TIP, sk.L_THUMB, sk.R_WRIST, sk.R_HAND, sk.R_HAND_TIP, sk.R_THUMB]
_FEET = [sk.L_ANKLE, sk.L_FOOT, sk.R_ANKLE, sk.R_FOOT]
# Joint groups that a pose estimator tends to lose together, for a few frames at a time.
_DROPOUT_GROUPS = {
    "hands": [
        [sk.L_WRIST, sk.L_HAND, sk.L_HAND_TIP, sk.L_THUMB],
        [sk.R_WRIST, sk.R_HAND, sk.R_HAND_TIP, sk.R_THUMB],
        [sk.L_HAND_TIP, sk.L_THUMB],
        [sk.R_HAND_TIP, sk.R_THUMB],
    ],
    "feet": [[sk.L_ANKLE, sk.L_FOOT], [sk.R_ANKLE, sk.R_FOOT]],
}


@dataclass(frozen=True)
class SyntheticClip:
    """One generated clip.

    Attributes:
        name: class name (one of SYNTHETIC_ACTIONS).
        joints: (T, 25, 3) float32 NTU-25, metres, y up, 30 fps; NaN = dropped joint.
        clip_id: unique id, e.g. "synthetic/clap-hands/s0-0007".
    """

    name: str
    joints: np.ndarray
    clip_id: str


@dataclass(frozen=True)
class ClipParams:
    """The random choices behind one clip (see `sample_params`)."""

    body: Body
    n_frames: int
    speed: float
    amplitude: float
    mirrored: bool  # True: a one-sided action is done with the LEFT hand/leg
    yaw: float  # degrees; 0 = facing the camera, positive = turned to the subject's left
    phase: float
    onset: float
    camera: tuple[float, float, float, float, float]  # x offset, height, distance, tilt, roll
    motion_seed: int


def sample_params(action: str, rng: np.random.Generator) -> ClipParams:
    """Draw the variation of one clip of `action`."""
    spec = ACTIONS[action]
    speed = float(rng.uniform(0.7, 1.4))
    seconds = float(rng.uniform(2.0, 6.0))
    onset = 0.0
    if spec.duration is not None:
        span = spec.duration / speed
        seconds = max(seconds, min(span + 0.3, 6.0))
        # Mostly the whole action; sometimes the clip starts a little into it.
        onset = float(rng.uniform(min(0.0, seconds - span) - 0.15 * span, max(0.0, seconds - span)))
    camera = (
        float(rng.uniform(-0.5, 0.5)),
        float(rng.uniform(0.7, 1.4)),
        float(rng.uniform(2.3, 4.0)),
        float(rng.uniform(-10, 10)),
        float(rng.uniform(-3, 3)),
    )
    return ClipParams(
        body=Body.sample(rng),
        n_frames=int(round(seconds * FPS)),
        speed=speed,
        amplitude=float(rng.uniform(0.75, 1.25)),
        mirrored=bool(rng.random() < spec.left_share),
        yaw=float(rng.uniform(-45, 45)),
        phase=float(rng.random()),
        onset=onset,
        camera=camera,
        motion_seed=int(rng.integers(2**32)),
    )


def _slow_wobble(rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
    """A smooth random curve of roughly unit amplitude (three slow sinusoids)."""
    freqs, phases = rng.uniform(0.1, 0.5, 3), rng.uniform(0, 2 * np.pi, 3)
    return np.sin(2 * np.pi * np.outer(t, freqs) + phases).sum(axis=1) / 1.7


def _add_sway(motion: Motion, t: np.ndarray, body: Body, rng: np.random.Generator) -> None:
    """Whole-body sway, breathing and small head movements, as any standing person shows."""
    motion.pelvis[:, 0] += 0.006 * body.height * _slow_wobble(rng, t)
    motion.pelvis[:, 2] += 0.006 * body.height * _slow_wobble(rng, t)
    breath = rng.uniform(0.2, 0.35)
    motion.spine_upper[:, 0] += 0.8 * np.sin(2 * np.pi * breath * t + rng.uniform(0, 2 * np.pi))
    motion.spine_lower[:, 1] += 1.0 * _slow_wobble(rng, t)
    for axis in range(3):
        motion.neck[:, axis] += 3.0 * _slow_wobble(rng, t)


def _to_camera(joints: np.ndarray, params: ClipParams) -> np.ndarray:
    """Body frame -> camera space: turn to face the camera (+yaw), place, tilt the camera."""
    n = len(joints)
    facing = rotation(np.tile([0.0, 0.0, 180.0 + params.yaw], (1, 1)))[0]
    x, height, distance, tilt, roll = params.camera
    world = joints @ facing.T + [x, -height, distance]
    camera = rotation(np.array([[tilt, roll, 0.0]]))[0]
    return (world.reshape(-1, 3) @ camera.T).reshape(n, sk.NUM_JOINTS, 3)


def synthesize(action: str, params: ClipParams) -> np.ndarray:
    """The clean (noise-free) joints of one clip: (T, 25, 3) float32 camera space, no NaN."""
    spec = ACTIONS[action]
    rng = np.random.default_rng(params.motion_seed)
    t = np.arange(params.n_frames) / FPS
    ctx = Ctx(t, params.body, params.speed, params.amplitude, params.onset, params.phase, rng)
    motion = spec.motion(ctx)
    _add_sway(motion, t, params.body, rng)
    joints = pose_joints(motion, params.body)
    if params.mirrored:
        joints = joints[:, sk.MIRROR_PERM] * [-1.0, 1.0, 1.0]
    return _to_camera(joints, params).astype(np.float32)


def _smoothed_noise(rng: np.random.Generator, shape: tuple[int, ...], width: int = 7) -> np.ndarray:
    """Gaussian noise low-passed along time (moving average), rescaled to unit variance."""
    raw = rng.standard_normal((shape[0] + width - 1, *shape[1:]))
    csum = np.cumsum(raw, axis=0)
    csum = np.concatenate([np.zeros((1, *shape[1:])), csum])
    return (csum[width:] - csum[:-width]) / np.sqrt(width)


def add_estimator_noise(joints: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Corrupt clean joints like a pose estimator's output.

    Gaussian jitter of 0.8-1.8 cm (half white, half temporally smooth), twice as large on the
    hands and 1.5x on the feet, 1.6x along depth (z); then NaN dropouts at one of three levels
    (none / light / heavy): bursts of 2-15 frames on a hand or foot, short whole-frame losses
    and sporadic single joints.

    Args:
        joints: (T, 25, 3) clean joints in camera space.
        rng: the randomness.

    Returns:
        A new float32 (T, 25, 3) array.
    """
    n = len(joints)
    scale = np.ones(sk.NUM_JOINTS)
    scale[_HANDS], scale[_FEET] = 2.0, 1.5
    sigma = rng.uniform(0.008, 0.018) * scale[:, None] * [1.0, 1.0, 1.6]
    jitter = rng.standard_normal(joints.shape) + _smoothed_noise(rng, joints.shape)
    out = joints + sigma * jitter / np.sqrt(2)
    level = rng.choice(3, p=[0.3, 0.5, 0.2])
    if level:
        seconds = n / FPS
        for kind, rate in (("hands", (0.3, 1.0)[level - 1]), ("feet", (0.15, 0.5)[level - 1])):
            for group in _DROPOUT_GROUPS[kind]:
                for _ in range(rng.poisson(rate * seconds / 2)):
                    start = rng.integers(n)
                    out[start : start + rng.integers(2, 16), group] = np.nan
        for _ in range(rng.poisson(0.1 * level * seconds)):
            start = rng.integers(n)
            out[start : start + rng.integers(1, 4)] = np.nan
        out[rng.random((n, sk.NUM_JOINTS)) < (0.002, 0.01)[level - 1]] = np.nan
    return out.astype(np.float32)


def _slug(name: str) -> str:
    return "-".join(name.lower().split())


def generate_clips(
    action_names: Sequence[str] | None = None,
    clips_per_class: int = 40,
    seed: int = 0,
    noise: bool = True,
) -> list[SyntheticClip]:
    """Generate synthetic clips, `clips_per_class` for each requested class.

    Args:
        action_names: classes to generate (default: all of SYNTHETIC_ACTIONS).
        clips_per_class: clips per class.
        seed: base seed; clip i of class c depends only on (seed, c, i).
        noise: corrupt the clips like a pose estimator (jitter + NaN dropouts).

    Returns:
        The clips, class by class.

    Raises:
        ValueError: for an unknown class name.
    """
    names = SYNTHETIC_ACTIONS if action_names is None else tuple(action_names)
    unknown = [name for name in names if name not in ACTIONS]
    if unknown:
        raise ValueError(f"unknown synthetic action(s) {unknown}; known: {', '.join(SYNTHETIC_ACTIONS)}")
    clips = []
    for name in names:
        key = zlib.crc32(name.encode())
        for i in range(clips_per_class):
            rng = np.random.default_rng([seed, key, i])
            joints = synthesize(name, sample_params(name, rng))
            if noise:
                joints = add_estimator_noise(joints, rng)
            clips.append(SyntheticClip(name, joints, f"synthetic/{_slug(name)}/s{seed}-{i:04d}"))
    return clips
