"""A parametric human body for synthetic motions: proportions, pose curves, kinematics to NTU-25.

Body frame (everything in this module): metres, x = the subject's left, y = up, z = forward
(where the subject faces); the origin is on the floor below the standing pelvis. It is
right-handed with left = up x forward, the same chirality as NTU camera space, so a rotation
(never a reflection) takes it to a camera.

Torso, neck and head follow joint-angle curves (forward kinematics); arms and legs are
two-bone chains solved by analytic inverse kinematics towards wrist / ankle targets with a
pole vector that says where the elbow / knee points. Hands are rigid (palm centre, finger tip
and thumb tip at fixed offsets from the wrist), so every NTU bone keeps its length.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from actzero.model import skeleton as sk

LEFT, RIGHT = 1.0, -1.0  # sign of x on the subject's left / right side


@dataclass(frozen=True)
class Body:
    """Segment lengths in metres (anthropometric fractions of the height, varied per body)."""

    height: float
    ankle_height: float
    thigh: float
    shank: float
    hip_half_width: float
    spine_lower: float  # spine_base -> spine_mid
    spine_upper: float  # spine_mid -> spine_shoulder
    neck: float  # spine_shoulder -> neck
    head: float  # neck -> head centre
    shoulder_half_width: float
    shoulder_drop: float  # shoulders sit this far below spine_shoulder
    upper_arm: float
    forearm: float
    stance_half_width: float  # half the distance between the ankles when standing

    @classmethod
    def sample(cls, rng: np.random.Generator) -> Body:
        """A random adult: height 1.5-1.95 m, legs/arms/shoulders/hips varied by +-6-15 %."""
        h = float(rng.uniform(1.5, 1.95))
        legs, arms = rng.uniform(0.94, 1.06, size=2)
        return cls._build(h, legs, arms, rng.uniform(0.9, 1.1), rng.uniform(0.9, 1.15), rng.uniform(0.9, 1.3))

    @classmethod
    def average(cls, height: float = 1.75) -> Body:
        """A body with average proportions."""
        return cls._build(height, 1.0, 1.0, 1.0, 1.0, 1.0)

    @classmethod
    def _build(cls, h: float, legs: float, arms: float, shoulders: float, hips: float, stance: float) -> Body:
        thigh, shank = 0.245 * h * legs, 0.246 * h * legs
        neck, head = 0.05 * h, 0.065 * h
        # The head centre sits at 0.935 h; the torso takes up what the legs leave.
        torso = 0.935 * h - 0.039 * h - thigh - shank - neck - head
        return cls(
            height=h,
            ankle_height=0.039 * h,
            thigh=thigh,
            shank=shank,
            hip_half_width=0.05 * h * hips,
            spine_lower=0.52 * torso,
            spine_upper=0.48 * torso,
            neck=neck,
            head=head,
            shoulder_half_width=0.1 * h * shoulders,
            shoulder_drop=0.015 * h,
            upper_arm=0.186 * h * arms,
            forearm=0.146 * h * arms,
            stance_half_width=0.055 * h * stance,
        )

    @property
    def arm_length(self) -> float:
        return self.upper_arm + self.forearm

    @property
    def leg_length(self) -> float:
        return self.thigh + self.shank

    @property
    def pelvis_height(self) -> float:
        """Standing pelvis height (knees very slightly bent)."""
        return self.ankle_height + 0.995 * self.leg_length

    @property
    def torso(self) -> float:
        return self.spine_lower + self.spine_upper

    def v(self, x: float, y: float, z: float) -> np.ndarray:
        """A vector given in units of the body height."""
        return np.array([x, y, z]) * self.height

    # Rest positions in the chest frame (origin spine_shoulder, axes of the upper spine).
    def shoulder(self, side: float) -> np.ndarray:
        return np.array([side * self.shoulder_half_width, -self.shoulder_drop, 0.0])

    @property
    def head_centre(self) -> np.ndarray:
        return np.array([0.0, self.neck + self.head, 0.015 * self.height])

    @property
    def mouth(self) -> np.ndarray:
        return self.head_centre + self.v(0.0, -0.035, 0.055)

    def reach(self, side: float, elevation: float, azimuth: float, extension: float = 0.98) -> np.ndarray:
        """Chest-frame wrist target of an arm pointing along a direction.

        Args:
            side: LEFT or RIGHT.
            elevation: degrees from hanging down (90 = horizontal, 180 = straight up).
            azimuth: degrees from straight ahead towards the arm's own side (90 = sideways,
                negative = across the body, 180 = backwards).
            extension: shoulder-wrist distance as a fraction of the arm length.
        """
        return self.shoulder(side) + extension * self.arm_length * direction(side, elevation, azimuth)


def direction(side: float, elevation: float, azimuth: float) -> np.ndarray:
    """Unit vector `elevation` degrees up from straight down, `azimuth` degrees from forward to `side`."""
    el, az = np.radians(elevation), np.radians(azimuth)
    return np.array([side * np.sin(el) * np.sin(az), -np.cos(el), np.sin(el) * np.cos(az)])


def _curve(value: np.ndarray | float, n: int, width: int) -> np.ndarray:
    """Broadcast a constant or a per-frame curve to (n, width) (or (n,) when width is 0)."""
    shape = (n, width) if width else (n,)
    return np.broadcast_to(np.asarray(value, dtype=np.float64), shape).copy()


@dataclass
class Arm:
    """Where an arm goes. Curves are (T,) or (T, 3); constants broadcast.

    The wrist goes to `(1 - weight) * relaxed + weight * target`, where relaxed is the arm
    hanging under gravity (shifted by `swing`, body frame) and target is in the chest frame
    (origin spine_shoulder) or, with `body_frame`, in the body frame. Hints are chest-frame
    directions: `pole` where the elbow points, `thumb` where the thumb points, `fingers`
    where the fingers point (bent at the wrist by `weight`; None = along the forearm).
    """

    target: np.ndarray
    weight: np.ndarray
    pole: np.ndarray
    thumb: np.ndarray
    fingers: np.ndarray | None = None
    swing: np.ndarray | float = 0.0
    shrug: np.ndarray | float = 0.0  # degrees the shoulder is raised
    body_frame: bool = False


@dataclass
class Leg:
    """Where a leg goes: `ankle` target (body frame), knee `pole` and foot `toe_pitch` (degrees,
    toes down) both in the pelvis frame."""

    ankle: np.ndarray
    pole: np.ndarray
    toe_pitch: np.ndarray | float = 0.0


@dataclass
class Motion:
    """A whole-body motion as curves over T frames.

    Angle triplets are degrees (pitch = bend forward, roll = lean to the subject's right,
    yaw = turn to the subject's left) applied as yaw, then pitch, then roll.
    `lift` raises the body above its ground contact (jumps); otherwise the lowest torso or leg
    joint is kept on the floor.
    """

    pelvis: np.ndarray
    pelvis_rot: np.ndarray
    spine_lower: np.ndarray
    spine_upper: np.ndarray
    neck: np.ndarray
    arms: dict[float, Arm]
    legs: dict[float, Leg]
    lift: np.ndarray = field(default_factory=lambda: np.zeros(1))

    @classmethod
    def standing(cls, body: Body, n: int) -> Motion:
        """Standing relaxed: arms hanging, feet on the floor, looking ahead."""
        zeros3 = np.zeros((n, 3))
        arms = {
            side: Arm(
                target=np.zeros((n, 3)),
                weight=np.zeros(n),
                pole=_curve([side * 0.3, 0.0, -1.0], n, 3),
                thumb=_curve([0.0, 0.0, 1.0], n, 3),
            )
            for side in (LEFT, RIGHT)
        }
        legs = {
            side: Leg(
                ankle=_curve([side * body.stance_half_width, body.ankle_height, 0.0], n, 3),
                pole=_curve([side * 0.15, 0.0, 1.0], n, 3),
                toe_pitch=np.zeros(n),
            )
            for side in (LEFT, RIGHT)
        }
        return cls(
            pelvis=_curve([0.0, body.pelvis_height, 0.0], n, 3),
            pelvis_rot=zeros3.copy(),
            spine_lower=zeros3.copy(),
            spine_upper=zeros3.copy(),
            neck=zeros3.copy(),
            arms=arms,
            legs=legs,
            lift=np.zeros(n),
        )


def rotation(angles: np.ndarray) -> np.ndarray:
    """(T, 3) degrees (pitch, roll, yaw) -> (T, 3, 3) matrices Ry(yaw) @ Rx(pitch) @ Rz(roll)."""
    p, r, y = np.radians(np.asarray(angles, dtype=np.float64)).T
    return _ry(y) @ _rx(p) @ _rz(r)


def _rx(a: np.ndarray) -> np.ndarray:
    """Rotation about x: +a turns +y towards +z (bending forward)."""
    c, s, o, i = np.cos(a), np.sin(a), np.zeros_like(a), np.ones_like(a)
    return np.stack([i, o, o, o, c, -s, o, s, c], axis=-1).reshape(-1, 3, 3)


def _ry(a: np.ndarray) -> np.ndarray:
    """Rotation about y: +a turns +z towards +x (turning to the subject's left)."""
    c, s, o, i = np.cos(a), np.sin(a), np.zeros_like(a), np.ones_like(a)
    return np.stack([c, o, s, o, i, o, -s, o, c], axis=-1).reshape(-1, 3, 3)


def _rz(a: np.ndarray) -> np.ndarray:
    """Rotation about z: +a turns +y towards -x (leaning to the subject's right)."""
    c, s, o, i = np.cos(a), np.sin(a), np.zeros_like(a), np.ones_like(a)
    return np.stack([c, -s, o, s, c, o, o, o, i], axis=-1).reshape(-1, 3, 3)


def _apply(rot: np.ndarray, vec: np.ndarray) -> np.ndarray:
    """(T, 3, 3) @ (T, 3) or (3,) -> (T, 3)."""
    return np.einsum("tij,...tj->ti", rot, np.broadcast_to(vec, (len(rot), 3)))


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def _perpendicular(v: np.ndarray, u: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Unit part of v orthogonal to unit u; `fallback` where v is (nearly) parallel to u."""
    w = v - np.sum(v * u, axis=-1, keepdims=True) * u
    weak = np.linalg.norm(w, axis=-1) < 1e-6
    if np.any(weak):
        f = fallback - np.sum(fallback * u, axis=-1, keepdims=True) * u
        w[weak] = f[weak] if f.ndim == 2 else f
    return _unit(w)


def two_bone_ik(
    root: np.ndarray, goal: np.ndarray, first: float, second: float, pole: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Middle and end joints of a two-bone chain reaching from `root` towards `goal`.

    The end stops short of unreachable goals (chain nearly straight); the middle joint bends
    towards `pole`. Bone lengths are exact.
    """
    d = goal - root
    u = _unit(d)
    dist = np.clip(np.linalg.norm(d, axis=-1), abs(first - second) + 1e-3, 0.999 * (first + second))
    cos_a = (first**2 + dist**2 - second**2) / (2 * first * dist)
    sin_a = np.sqrt(np.clip(1 - cos_a**2, 0.0, 1.0))
    v = _perpendicular(pole, u, np.array([0.0, 0.0, 1.0]))
    middle = root + first * (cos_a[:, None] * u + sin_a[:, None] * v)
    end = root + dist[:, None] * u
    return middle, end


def _arm_joints(body: Body, arm: Arm, side: float, chest: tuple, pelvis_rot: np.ndarray) -> dict:
    origin, rot = chest
    n = len(origin)
    # Shrugging swings the clavicle up about the forward axis.
    shrug = np.radians(side * _curve(arm.shrug, n, 0))
    x, y, _ = body.shoulder(side)
    raised = np.stack(
        [x * np.cos(shrug) - y * np.sin(shrug), x * np.sin(shrug) + y * np.cos(shrug), 0 * shrug], 1
    )
    shoulder = origin + _apply(rot, raised)
    hang = body.v(side * 0.02, 0.0, 0.015) + np.array([0.0, -0.97 * body.arm_length, 0.0])
    relaxed = shoulder + _apply(pelvis_rot, hang + _curve(arm.swing, n, 3))
    target = _curve(arm.target, n, 3)
    target = target if arm.body_frame else origin + _apply(rot, target)
    weight = _curve(arm.weight, n, 0)[:, None]
    goal = relaxed + weight * (target - relaxed)
    elbow, wrist = two_bone_ik(
        shoulder, goal, body.upper_arm, body.forearm, _apply(rot, _curve(arm.pole, n, 3))
    )
    fingers = _unit(wrist - elbow)
    if arm.fingers is not None:
        fingers = _unit(fingers + weight * _unit(_apply(rot, _curve(arm.fingers, n, 3))))
    thumb = _perpendicular(
        _apply(rot, _curve(arm.thumb, n, 3)), fingers, _apply(rot, np.array([0.0, 1.0, 0.0]))
    )
    h = body.height
    return {
        "shoulder": shoulder,
        "elbow": elbow,
        "wrist": wrist,
        "hand": wrist + 0.04 * h * fingers,
        "tip": wrist + 0.1 * h * fingers,
        "thumb": wrist + 0.045 * h * fingers + 0.03 * h * thumb,
    }


def _leg_joints(body: Body, leg: Leg, side: float, pelvis: np.ndarray, pelvis_rot: np.ndarray) -> dict:
    n = len(pelvis)
    hip = pelvis + _apply(pelvis_rot, np.array([side * body.hip_half_width, -0.02 * body.height, 0.0]))
    knee, ankle = two_bone_ik(
        hip, _curve(leg.ankle, n, 3), body.thigh, body.shank, _apply(pelvis_rot, _curve(leg.pole, n, 3))
    )
    toe = np.zeros((n, 3))
    toe[:, 0] = _curve(leg.toe_pitch, n, 0)
    toe[:, 2] = side * 10.0  # feet point slightly outwards
    foot = ankle + _apply(pelvis_rot @ rotation(toe), body.v(0.0, -0.03, 0.07))
    return {"hip": hip, "knee": knee, "ankle": ankle, "foot": foot}


# Joints that can carry the body's weight (everything but the arms).
_SUPPORT = np.array([0, 1, 2, 3, 12, 13, 14, 15, 16, 17, 18, 19, 20])


def pose_joints(motion: Motion, body: Body) -> np.ndarray:
    """Forward/inverse kinematics of a motion: (T, 25, 3) NTU-25 joints in the body frame.

    The body is shifted vertically so that its lowest supporting joint stays at the height of
    a standing foot joint, plus `motion.lift`.
    """
    n = len(motion.pelvis)
    joints = np.empty((n, sk.NUM_JOINTS, 3))
    pelvis_rot = rotation(_curve(motion.pelvis_rot, n, 3))
    lower = pelvis_rot @ rotation(_curve(motion.spine_lower, n, 3))
    upper = lower @ rotation(_curve(motion.spine_upper, n, 3))
    joints[:, sk.SPINE_BASE] = motion.pelvis
    joints[:, sk.SPINE_MID] = motion.pelvis + _apply(lower, np.array([0.0, body.spine_lower, 0.0]))
    chest = joints[:, sk.SPINE_MID] + _apply(upper, np.array([0.0, body.spine_upper, 0.0]))
    joints[:, sk.SPINE_SHOULDER] = chest
    joints[:, sk.NECK] = chest + _apply(upper, np.array([0.0, body.neck, 0.0]))
    head_rot = upper @ rotation(_curve(motion.neck, n, 3))
    joints[:, sk.HEAD] = joints[:, sk.NECK] + _apply(head_rot, body.head_centre - [0.0, body.neck, 0.0])
    names = {
        LEFT: (sk.L_SHOULDER, sk.L_ELBOW, sk.L_WRIST, sk.L_HAND, sk.L_HAND_TIP, sk.L_THUMB),
        RIGHT: (sk.R_SHOULDER, sk.R_ELBOW, sk.R_WRIST, sk.R_HAND, sk.R_HAND_TIP, sk.R_THUMB),
    }
    for side, index in names.items():
        arm = _arm_joints(body, motion.arms[side], side, (chest, upper), pelvis_rot)
        for j, key in zip(index, ("shoulder", "elbow", "wrist", "hand", "tip", "thumb"), strict=True):
            joints[:, j] = arm[key]
    legs = {
        LEFT: (sk.L_HIP, sk.L_KNEE, sk.L_ANKLE, sk.L_FOOT),
        RIGHT: (sk.R_HIP, sk.R_KNEE, sk.R_ANKLE, sk.R_FOOT),
    }
    for side, index in legs.items():
        leg = _leg_joints(body, motion.legs[side], side, motion.pelvis, pelvis_rot)
        for j, key in zip(index, ("hip", "knee", "ankle", "foot"), strict=True):
            joints[:, j] = leg[key]
    rest_floor = body.ankle_height - 0.03 * body.height  # a standing foot joint
    lowest = joints[:, _SUPPORT, 1].min(axis=1)
    joints[:, :, 1] += (rest_floor - lowest + _curve(motion.lift, n, 0))[:, None]
    return joints
