"""Procedural everyday actions: one function per class turns a clip context into a `Motion`.

Conventions (see `synthetic_body`): one-sided actions are authored for the RIGHT hand or leg;
the generator mirrors a share of the clips to the left. Targets are chest-frame positions
(origin spine_shoulder, x = the subject's left) in units of the body height unless built with
`Body.reach`. Each function documents what the motion looks like, and training/actions.toml
describes the same motion in words.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from actzero.training.synthetic_body import LEFT, RIGHT, Body, Motion

SIDES = (LEFT, RIGHT)


@dataclass(frozen=True)
class Ctx:
    """What an action function knows about its clip.

    Attributes:
        t: (T,) frame times in seconds.
        body: the body proportions.
        speed: tempo factor (0.7-1.4); higher is faster.
        amp: amplitude factor (about 0.7-1.3) for the size of the movement.
        onset: seconds at which a one-shot action starts (negative: the clip starts mid-action).
        phase: start phase in [0, 1) of periodic movements.
        rng: randomness of the action itself (targets, directions).
    """

    t: np.ndarray
    body: Body
    speed: float
    amp: float
    onset: float
    phase: float
    rng: np.random.Generator

    @property
    def n(self) -> int:
        return len(self.t)

    def cycle(self, period: float) -> np.ndarray:
        """Periodic phase (cycles, not wrapped) of a movement repeating every `period` s at speed 1."""
        return self.t * self.speed / period + self.phase

    def progress(self, duration: float) -> np.ndarray:
        """0 -> 1 progress of a one-shot action lasting `duration` s at speed 1, clamped."""
        return np.clip((self.t - self.onset) * self.speed / duration, 0.0, 1.0)

    def v(self, x: float, y: float, z: float) -> np.ndarray:
        return self.body.v(x, y, z)


def keys(u: np.ndarray, points: list[tuple[float, object]]) -> np.ndarray:
    """Smooth (smoothstep) interpolation through keyframes `(u_i, value_i)`, u_i increasing.

    Values are scalars or vectors; the result is (T,) or (T, D). Held constant outside.
    """
    us = np.array([p[0] for p in points], dtype=np.float64)
    vs = np.array([np.asarray(p[1], dtype=np.float64) for p in points])
    i = np.clip(np.searchsorted(us, u, side="right") - 1, 0, len(us) - 2)
    s = np.clip((u - us[i]) / np.maximum(us[i + 1] - us[i], 1e-9), 0.0, 1.0)
    s = s * s * (3 - 2 * s)
    if vs.ndim == 2:
        s = s[:, None]
    return vs[i] + (vs[i + 1] - vs[i]) * s


def enter_hold_leave(u: np.ndarray, enter: float, leave: float, ramp: float = 0.15) -> np.ndarray:
    """0 -> 1 weight: ramps up over `ramp` from `enter`, holds, and ramps down to 0 at `leave`."""
    return keys(
        u, [(0.0, 0.0), (enter, 0.0), (enter + ramp, 1.0), (leave - ramp, 1.0), (leave, 0.0), (1.0, 0.0)]
    )


def wave(phase: np.ndarray) -> np.ndarray:
    return np.sin(2 * np.pi * phase)


def _col(values: np.ndarray) -> np.ndarray:
    return np.asarray(values)[:, None]


def _hand(
    m: Motion, side: float, target, weight, pole, thumb, fingers=None, body_frame: bool = False
) -> None:
    arm = m.arms[side]
    arm.target, arm.weight, arm.pole, arm.thumb = (
        target,
        weight,
        np.asarray(pole, float),
        np.asarray(thumb, float),
    )
    arm.fingers = None if fingers is None else np.asarray(fingers, float)
    arm.body_frame = body_frame


# ---------------------------------------------------------------------------------------------
# Hands in front of the body


def clap_hands(c: Ctx) -> Motion:
    """Both hands in front of the chest, palms facing, meeting ~2 times a second."""
    m = Motion.standing(c.body, c.n)
    gap = 0.075 * c.amp * (0.5 - 0.5 * np.cos(2 * np.pi * c.cycle(0.45)))
    for side in SIDES:
        x = side * (0.018 + gap)
        target = np.stack([x, np.full(c.n, -0.13), np.full(c.n, 0.2)], axis=1) * c.body.height
        _hand(m, side, target, 1.0, (side, -1.0, -0.2), (0, 1, 0), fingers=(0, 0.6, 1))
    return m


def rub_hands_together(c: Ctx) -> Motion:
    """Palms together in front of the belly, sliding back and forth against each other."""
    m = Motion.standing(c.body, c.n)
    rub = 0.022 * c.amp * wave(c.cycle(0.4))
    for side in SIDES:
        offset = np.stack([np.zeros(c.n), 0.3 * side * rub, side * rub], axis=1)
        target = c.v(side * 0.02, -0.21, 0.16) + offset * c.body.height
        _hand(m, side, target, 1.0, (side, -1.0, -0.5), (0, 1, 0), fingers=(0, 0.5, 1))
    m.neck[:, 0] = 10
    return m


def press_palms_together(c: Ctx) -> Motion:
    """Both palms pressed together in front of the chest, fingers up, with a slight bow of the head."""
    m = Motion.standing(c.body, c.n)
    w = enter_hold_leave(c.progress(4.0), 0.0, 1.0, ramp=0.2)
    for side in SIDES:
        _hand(
            m, side, c.v(side * 0.018, -0.14, 0.13), w, (side, -1.0, -0.2), (0, 0.3, -1), fingers=(0, 1, 0.25)
        )
    m.neck[:, 0] = 12 * w
    return m


def cross_arms(c: Ctx) -> Motion:
    """Forearms folded across the chest, each hand near the other arm's elbow, held."""
    m = Motion.standing(c.body, c.n)
    w = enter_hold_leave(c.progress(4.5), 0.0, 1.0)
    for side, y, z in ((RIGHT, -0.19, 0.12), (LEFT, -0.165, 0.14)):
        _hand(m, side, c.v(-side * 0.085, y, z), w, (side, -1.0, -0.3), (0, 1, 0), fingers=(-side, 0, 0.2))
    return m


def put_hands_on_hips(c: Ctx) -> Motion:
    """Both hands on the hips, elbows pointing out to the sides, held."""
    m = Motion.standing(c.body, c.n)
    w = enter_hold_leave(c.progress(4.5), 0.0, 1.0)
    y = -(c.body.torso / c.body.height - 0.06)
    for side in SIDES:
        _hand(
            m,
            side,
            c.v(side * 0.14, y, 0.0),
            w,
            (side, 0.0, -0.6),
            (0, 0, -1),
            fingers=(-side * 0.3, -0.5, 1),
        )
    return m


def check_a_phone(c: Ctx) -> Motion:
    """Both hands hold a phone in front of the belly, head bent down to look at it, thumb scrolling."""
    m = Motion.standing(c.body, c.n)
    w = enter_hold_leave(c.progress(5.0), 0.0, 1.0, ramp=0.12)
    scroll = 0.006 * wave(c.cycle(0.5))
    for side in SIDES:
        target = (
            c.v(side * 0.045, -0.17, 0.17) + np.outer(scroll * (side == RIGHT), [0, 1, 0]) * c.body.height
        )
        _hand(
            m, side, target, w, (side * 0.5, -1.0, -0.3), (-side * 0.5, 0.5, 0), fingers=(-side * 0.5, 0.6, 1)
        )
    m.neck[:, 0] = 30 * w
    m.spine_upper[:, 0] = 8 * w
    return m


def type_on_an_invisible_keyboard(c: Ctx) -> Motion:
    """Both forearms forward at waist height, palms down, hands bobbing quickly and irregularly."""
    m = Motion.standing(c.body, c.n)
    for side in SIDES:
        phases = c.rng.uniform(0, 1, 3)
        freqs = c.rng.uniform(4.0, 7.0, 3)
        tap = sum(wave(f * c.t * c.speed + p) for f, p in zip(freqs, phases, strict=True)) / 3
        drift = 0.02 * wave(c.cycle(3.0) + phases[0])
        target = (
            c.v(side * 0.09, -0.26, 0.22) + np.stack([drift, 0.008 * tap, np.zeros(c.n)], 1) * c.body.height
        )
        _hand(m, side, target, 1.0, (side, -0.5, -1.0), (-side, 0, 0), fingers=(0, -0.3, 1))
    m.neck[:, 0] = 20
    return m


def look_at_a_wristwatch(c: Ctx) -> Motion:
    """One forearm raised horizontally in front of the chest, wrist turned up, head bent to look at it."""
    m = Motion.standing(c.body, c.n)
    w = enter_hold_leave(c.progress(3.0), 0.0, 1.0, ramp=0.25)
    _hand(
        m, RIGHT, c.v(-RIGHT * 0.0, -0.11, 0.21), w, (RIGHT, -0.3, 0.0), (0, 0, -1), fingers=(-RIGHT, 0, 0.3)
    )
    m.neck[:, 0] = 30 * w
    m.neck[:, 2] = RIGHT * 8 * w
    return m


def thumbs_up(c: Ctx) -> Motion:
    """One forearm raised forward at chest height, elbow bent at the side, thumb pointing up."""
    m = Motion.standing(c.body, c.n)
    w = enter_hold_leave(c.progress(3.0), 0.0, 1.0, ramp=0.2)
    target = c.body.shoulder(RIGHT) + c.v(-RIGHT * 0.02, -0.12, 0.2 + 0.04 * c.amp)
    _hand(m, RIGHT, target, w, (RIGHT * 0.3, -1.0, -0.2), (0, 1, 0))
    return m


def point_forward(c: Ctx) -> Motion:
    """One arm extended straight ahead (a little up or to the side), index pointing, head turned along."""
    m = Motion.standing(c.body, c.n)
    w = enter_hold_leave(c.progress(3.0), 0.0, 1.0, ramp=0.22)
    elevation, azimuth = c.rng.uniform(70, 105), c.rng.uniform(-20, 40)
    _hand(m, RIGHT, c.body.reach(RIGHT, elevation, azimuth, 0.97), w, (0, -1, -0.3), (0, 1, 0))
    m.neck[:, 2] = RIGHT * 0.6 * azimuth * w
    return m


# ---------------------------------------------------------------------------------------------
# Hands at the head


def drink_from_a_cup(c: Ctx) -> Motion:
    """One hand brings a cup up to the mouth, the head tips back for a sip, the hand goes down."""
    m = Motion.standing(c.body, c.n)
    u = c.progress(3.5)
    w = enter_hold_leave(u, 0.0, 0.95, ramp=0.25)
    sip = keys(u, [(0, 0), (0.3, 0), (0.4, 1), (0.6, 1), (0.7, 0), (1, 0)])
    target = c.body.mouth + c.v(RIGHT * 0.04, -0.07, 0.01) + np.outer(sip, c.v(0, 0.02, -0.01))
    _hand(m, RIGHT, target, w, (RIGHT * 0.4, -1.0, 0.3), (0, 1, -0.5), fingers=(-RIGHT, 0, 0.3))
    m.neck[:, 0] = -20 * c.amp * sip
    return m


def brush_teeth(c: Ctx) -> Motion:
    """One hand held at the mouth, moving quickly side to side (a toothbrush)."""
    m = Motion.standing(c.body, c.n)
    w = enter_hold_leave(c.progress(5.0), 0.0, 1.0, ramp=0.1)
    scrub = 0.025 * c.amp * wave(c.cycle(0.28))
    target = c.body.mouth + c.v(RIGHT * 0.05, -0.06, 0.05) + np.outer(scrub, [1, 0.2, 0]) * c.body.height
    _hand(m, RIGHT, target, w, (RIGHT, -1.0, 0.0), (0, 1, 0), fingers=(-RIGHT, 0.2, 0.3))
    m.neck[:, 0] = 5 * w
    return m


def cough(c: Ctx) -> Motion:
    """One fist held in front of the mouth while the head and shoulders jerk forward a few times."""
    m = Motion.standing(c.body, c.n)
    u = c.progress(2.5)
    w = enter_hold_leave(u, 0.0, 0.95, ramp=0.18)
    jerks = sum(np.exp(-(((u - centre) / 0.035) ** 2)) for centre in (0.35, 0.5, 0.65))
    target = c.body.mouth + c.v(RIGHT * 0.02, -0.06, 0.06)
    _hand(m, RIGHT, target, w, (RIGHT, -1.0, 0.0), (-RIGHT, 0, 0), fingers=(-RIGHT * 0.3, 0.8, 0.2))
    m.spine_upper[:, 0] = 12 * c.amp * jerks
    m.neck[:, 0] = 10 * c.amp * jerks
    for side in SIDES:
        m.arms[side].shrug = 5 * jerks
    return m


def make_a_phone_call(c: Ctx) -> Motion:
    """One hand held against the ear (a phone), elbow down and forward, head tilted towards it."""
    m = Motion.standing(c.body, c.n)
    w = enter_hold_leave(c.progress(5.0), 0.0, 1.0, ramp=0.15)
    target = c.body.head_centre + c.v(RIGHT * 0.07, -0.11, 0.05)
    _hand(m, RIGHT, target, w, (RIGHT * 0.5, -1.0, 0.2), (0, 0, 1), fingers=(0, 1, -0.2))
    m.neck[:, 1] = -RIGHT * 6 * w
    m.neck[:, 2] = 10 * wave(c.cycle(4.0)) * w
    return m


def scratch_the_head(c: Ctx) -> Motion:
    """One hand on the side/top of the head, fingers scratching with small fast movements."""
    m = Motion.standing(c.body, c.n)
    w = enter_hold_leave(c.progress(3.5), 0.0, 1.0, ramp=0.2)
    scratch = 0.012 * c.amp * wave(c.cycle(0.22))
    target = c.body.head_centre + c.v(RIGHT * 0.075, 0.03, -0.01) + np.outer(scratch, c.v(0, 1, 1))
    _hand(m, RIGHT, target, w, (RIGHT, 0.3, 0.6), (0, 0, 1), fingers=(-RIGHT, 0.8, 0))
    m.neck[:, 0] = 8 * w
    return m


def comb_hair(c: Ctx) -> Motion:
    """One hand raised to the head, stroking repeatedly from the forehead over the top to the back."""
    m = Motion.standing(c.body, c.n)
    w = enter_hold_leave(c.progress(4.5), 0.0, 1.0, ramp=0.12)
    stroke = 2 * np.pi * c.cycle(0.9)
    offset = np.stack([np.zeros(c.n), 0.02 * np.sin(stroke), 0.05 * c.amp * np.cos(stroke)], 1)
    target = c.body.head_centre + c.v(RIGHT * 0.075, 0.06, 0.0) + offset * c.body.height
    _hand(m, RIGHT, target, w, (RIGHT, 0.5, 0.3), (0, 0, 1), fingers=(-RIGHT * 0.5, 0.5, -0.3))
    return m


def hold_the_head_with_both_hands(c: Ctx) -> Motion:
    """Both hands on the sides of the head, head lowered, upper body rocking slowly."""
    m = Motion.standing(c.body, c.n)
    w = enter_hold_leave(c.progress(4.0), 0.0, 1.0, ramp=0.2)
    for side in SIDES:
        target = c.body.head_centre + c.v(side * 0.085, -0.05, 0.0)
        _hand(m, side, target, w, (side * 0.5, -0.5, 1.0), (0, -0.3, 1), fingers=(0, 1, 0))
    m.neck[:, 0] = 15 * w
    m.spine_upper[:, 0] = (6 + 5 * wave(c.cycle(2.0))) * w
    return m


def salute(c: Ctx) -> Motion:
    """One hand snaps up to the brow, fingers at the temple, elbow out to the side; held, then down."""
    m = Motion.standing(c.body, c.n)
    w = enter_hold_leave(c.progress(2.5), 0.0, 0.9, ramp=0.12)
    target = c.body.head_centre + c.v(RIGHT * 0.1, 0.02, 0.06)
    _hand(m, RIGHT, target, w, (RIGHT, 0.2, 0.1), (0, -1, 0.3), fingers=(-RIGHT, 0.3, 0.2))
    return m


# ---------------------------------------------------------------------------------------------
# Arms and upper body


def stretch_arms_overhead(c: Ctx) -> Motion:
    """Both arms raised straight above the head, hands together, body leaning back a little; then down."""
    m = Motion.standing(c.body, c.n)
    w = enter_hold_leave(c.progress(4.0), 0.0, 1.0, ramp=0.28)
    for side in SIDES:
        target = c.body.shoulder(side) * [0.2, 1, 1] + [0, 0.96 * c.body.arm_length, 0.0]
        _hand(m, side, target, w, (side, 0, -1), (0, 0, 1), fingers=(0, 1, 0))
    m.spine_upper[:, 0] = -8 * c.amp * w
    m.neck[:, 0] = -10 * w
    return m


def arm_circles(c: Ctx) -> Motion:
    """Both arms held straight out to the sides, drawing small circles together."""
    m = Motion.standing(c.body, c.n)
    sense = c.rng.choice([-1.0, 1.0])
    angle = 2 * np.pi * sense * c.cycle(1.1)
    radius = 0.25 * c.amp
    for side in SIDES:
        way = np.stack([np.full(c.n, side), radius * np.sin(angle), radius * np.cos(angle)], axis=1)
        way /= np.linalg.norm(way, axis=1, keepdims=True)
        target = c.body.shoulder(side) + 0.97 * c.body.arm_length * way
        _hand(m, side, target, 1.0, (0, 0, -1), (0, 0, 1))
    return m


def shrug(c: Ctx) -> Motion:
    """Both shoulders pulled up, forearms out to the sides with palms up, head tilted; then relaxed."""
    m = Motion.standing(c.body, c.n)
    w = enter_hold_leave(c.progress(2.0), 0.0, 0.95, ramp=0.3)
    for side in SIDES:
        target = c.body.shoulder(side) + c.v(side * 0.09, -0.27, 0.14)
        _hand(m, side, target, 0.9 * w, (side * 0.2, -1, -0.5), (side, 0, 0), fingers=(side * 0.5, 0, 1))
        m.arms[side].shrug = 18 * c.amp * w
    m.neck[:, 1] = c.rng.choice([-1.0, 1.0]) * 8 * w
    return m


def throw_overhand(c: Ctx) -> Motion:
    """One arm winds back behind the head, whips forward and down across the body while the torso
    turns and the other foot steps forward."""
    m = Motion.standing(c.body, c.n)
    u = c.progress(1.8)
    s = c.body.shoulder(RIGHT)
    cocked, release, follow = (
        s + c.v(RIGHT * 0.18, 0.05, -0.12),
        s + c.v(RIGHT * 0.02, 0.15, 0.28),
        s + c.v(-RIGHT * 0.1, -0.2, 0.2),
    )
    target = keys(u, [(0, cocked), (0.3, cocked), (0.5, release), (0.62, follow), (1, follow)])
    pole = keys(
        u, [(0, (RIGHT, 0, -1)), (0.3, (RIGHT, 0, -1)), (0.5, (RIGHT, -0.5, 0)), (1, (RIGHT, -0.5, 0))]
    )
    w = keys(u, [(0, 0), (0.25, 1), (0.7, 1), (0.95, 0), (1, 0)])
    _hand(m, RIGHT, target, w, pole, (0, 0, 1))
    balance = keys(u, [(0, 0), (0.3, 0.6), (0.55, 0.2), (0.8, 0), (1, 0)])
    _hand(m, LEFT, c.body.reach(LEFT, 80, 10), balance, (LEFT, -1, -0.3), (0, 1, 0))
    yaw = keys(u, [(0, 0), (0.3, RIGHT * -25), (0.55, RIGHT * 20), (0.9, 0), (1, 0)])
    m.spine_lower[:, 2], m.spine_upper[:, 2] = 0.4 * yaw, 0.6 * yaw
    m.spine_lower[:, 0] = 20 * keys(u, [(0, 0), (0.45, 0), (0.62, 1), (0.9, 0), (1, 0)])
    step = keys(u, [(0, 0), (0.2, 0), (0.45, 1), (1, 1)])
    ankle = m.legs[LEFT].ankle
    ankle[:, 2] += 0.2 * c.body.height * step
    ankle[:, 1] += 0.05 * c.body.height * 4 * step * (1 - step)
    m.pelvis[:, 2] += 0.08 * c.body.height * step
    return m


def bend_sideways(c: Ctx) -> Motion:
    """The upper body leans slowly to one side and then the other, arms hanging along the legs."""
    m = Motion.standing(c.body, c.n)
    roll = 28 * c.amp * wave(c.cycle(4.0))
    m.spine_lower[:, 1], m.spine_upper[:, 1] = 0.4 * roll, 0.6 * roll
    m.pelvis[:, 0] += 0.0008 * roll * c.body.height
    return m


def twist_the_torso(c: Ctx) -> Motion:
    """Hips still, the upper body turns left and right repeatedly, hands held in front of the chest."""
    m = Motion.standing(c.body, c.n)
    yaw = 35 * c.amp * wave(c.cycle(2.8))
    m.spine_lower[:, 2], m.spine_upper[:, 2], m.neck[:, 2] = 0.4 * yaw, 0.6 * yaw, 0.3 * yaw
    for side in SIDES:
        _hand(m, side, c.v(side * 0.06, -0.06, 0.13), 1.0, (side, 0, -0.3), (0, 1, 0), fingers=(-side, 0, 0))
    return m


# ---------------------------------------------------------------------------------------------
# Legs and the whole body


def _sit(c: Ctx, u: np.ndarray) -> Motion:
    """Standing (u = 0) to sitting on a chair (u = 1): hips back and down, torso leaning forward."""
    m = Motion.standing(c.body, c.n)
    h = c.body.height
    down = keys(u, [(0, 0), (0.15, 0), (0.6, 1), (1, 1)])
    lean = keys(u, [(0, 0), (0.2, 0.4), (0.55, 1), (0.85, 0.4), (1, 0.3)])
    seat = np.array([0.0, 0.32 * h, -0.22 * h])
    m.pelvis += np.outer(down, seat - m.pelvis[0])
    m.spine_lower[:, 0], m.spine_upper[:, 0] = 25 * lean, 12 * lean
    for side in SIDES:
        on_thigh = seat + [side * 0.1 * h, 0.08 * h, 0.14 * h]
        _hand(
            m,
            side,
            np.broadcast_to(on_thigh, (c.n, 3)),
            0.9 * down,
            (side * 0.3, 0, -1),
            (0, 0, 1),
            None,
            True,
        )
    return m


def sit_down(c: Ctx) -> Motion:
    """From standing, hips move back and down onto a (invisible) chair while the torso leans forward."""
    return _sit(c, c.progress(2.5))


def stand_up(c: Ctx) -> Motion:
    """From sitting, the torso leans forward and the hips rise until standing upright."""
    return _sit(c, 1.0 - c.progress(2.5))


def squat(c: Ctx) -> Motion:
    """Repeated deep knee bends: hips go down and back, arms reach forward, then stand up again."""
    m = Motion.standing(c.body, c.n)
    depth = c.amp * (0.5 - 0.5 * np.cos(2 * np.pi * c.cycle(2.6)))
    m.pelvis += np.outer(depth, c.v(0, -0.25, -0.12))
    m.spine_lower[:, 0], m.spine_upper[:, 0] = 30 * depth, 5 * depth
    for side in SIDES:
        m.legs[side].ankle[:, 0] *= 1.4
        _hand(m, side, c.body.reach(side, 90, 5), np.clip(1.5 * depth, 0, 1), (side, -1, -0.3), (-side, 0, 0))
    return m


def jump_in_place(c: Ctx) -> Motion:
    """Repeated small vertical jumps: crouch, both feet leave the floor, land with bent knees; arms swing."""
    m = Motion.standing(c.body, c.n)
    cyc = c.cycle(0.9) % 1.0
    x = np.clip((cyc - 0.4) / 0.4, 0.0, 1.0)
    m.lift = 0.12 * c.body.height * c.amp * 4 * x * (1 - x)
    d = (cyc - 0.1 + 0.5) % 1.0 - 0.5
    crouch = np.where(np.abs(d) < 0.3, np.cos(np.pi * d / 0.6) ** 2, 0.0)
    air = np.sin(np.pi * x)
    m.pelvis += np.outer(crouch, c.v(0, -0.09 * c.amp, -0.03))
    m.spine_lower[:, 0] = 20 * crouch
    for side in SIDES:
        m.legs[side].toe_pitch = 35 * air
        _hand(m, side, c.body.reach(side, 110, 20), 0.7 * air, (side, -1, -0.3), (0, 1, 0))
        m.arms[side].swing = np.outer(crouch, c.v(0, 0.02, -0.12))
    return m


def hop_on_one_leg(c: Ctx) -> Motion:
    """Standing on one leg with the other foot raised behind, hopping repeatedly; arms out for balance."""
    m = Motion.standing(c.body, c.n)
    cyc = c.cycle(0.6) % 1.0
    x = np.clip((cyc - 0.3) / 0.55, 0.0, 1.0)
    m.lift = 0.07 * c.body.height * c.amp * 4 * x * (1 - x)
    crouch = np.where(x > 0, 0.0, np.sin(np.pi * np.clip(cyc / 0.3, 0, 1)) ** 2) + np.where(
        cyc > 0.85, 0.3, 0
    )
    m.pelvis[:, 0] += LEFT * 0.04 * c.body.height
    m.pelvis += np.outer(crouch, c.v(0, -0.04, -0.01))
    m.legs[RIGHT].ankle += c.v(0, 0.2, -0.12)
    m.legs[LEFT].toe_pitch = 30 * np.sin(np.pi * x)
    for side in SIDES:
        _hand(m, side, c.body.reach(side, 45, 80), 0.6, (side, 0, -1), (0, 0, 1))
    return m


def march_in_place(c: Ctx) -> Motion:
    """Knees lifted high one after the other without moving forward, arms swinging opposite."""
    m = Motion.standing(c.body, c.n)
    for side, offset in ((LEFT, 0.0), (RIGHT, 0.5)):
        lift = np.maximum(0.0, wave(c.cycle(1.1) + offset))
        m.legs[side].ankle += np.outer(lift, c.v(0, 0.18 * c.amp, 0.06))
        m.legs[side].toe_pitch = 20 * lift
        m.arms[side].swing = np.outer(wave(c.cycle(1.1) + offset + 0.5), c.v(0, 0.02, 0.1))
    m.pelvis[:, 1] -= 0.01 * c.body.height * np.abs(wave(c.cycle(1.1)))
    return m


def kneel_down(c: Ctx) -> Motion:
    """Knees bend until both knees rest on the floor, thighs upright, then the person stays kneeling."""
    m = Motion.standing(c.body, c.n)
    h = c.body.height
    u = c.progress(3.0)
    k = keys(u, [(0, 0), (0.15, 0), (0.75, 1), (1, 1)])
    kneeling = np.array([0.0, 0.3 * h, 0.2 * h])
    m.pelvis += np.outer(k, kneeling - m.pelvis[0])
    m.spine_lower[:, 0] = 20 * keys(u, [(0, 0), (0.45, 1), (0.8, 0.1), (1, 0)])
    for side in SIDES:
        m.legs[side].pole = np.array([side * 0.1, -0.5, 1.0])
        m.legs[side].toe_pitch = 50 * k
        m.arms[side].swing = np.outer(keys(u, [(0, 0), (0.45, 1), (0.9, 0), (1, 0)]), c.v(0, 0.02, 0.1))
    return m


def lunge_forward(c: Ctx) -> Motion:
    """One long step forward into a deep lunge (back knee towards the floor, torso upright), then back."""
    m = Motion.standing(c.body, c.n)
    h = c.body.height
    d = keys(c.progress(3.0), [(0, 0), (0.1, 0), (0.4, 1), (0.65, 1), (0.95, 0), (1, 0)])
    front = m.legs[RIGHT].ankle
    front[:, 2] += 0.38 * h * c.amp * d
    front[:, 1] += 0.06 * h * 4 * d * (1 - d)
    m.pelvis += np.outer(d, c.v(0, -0.2, 0.17 * c.amp))
    m.legs[LEFT].toe_pitch = 40 * d
    m.legs[LEFT].pole = np.array([LEFT * 0.1, -0.6, 1.0])
    m.spine_lower[:, 0] = 5 * d
    return m


def pick_something_up_from_the_floor(c: Ctx) -> Motion:
    """Bend forward and down with bent knees, the other hand on the knee, one hand reaches the floor
    in front of the feet, then stand up again."""
    m = Motion.standing(c.body, c.n)
    u = c.progress(3.5)
    down = keys(u, [(0, 0), (0.1, 0), (0.42, 1), (0.55, 1), (0.85, 0), (1, 0)])
    m.pelvis += np.outer(down, c.v(0, -0.25, -0.1))
    m.spine_lower[:, 0], m.spine_upper[:, 0], m.neck[:, 0] = 55 * down, 30 * down, -15 * down
    reach = keys(u, [(0, 0), (0.15, 0), (0.42, 1), (0.55, 1), (0.8, 0), (1, 0)])
    floor = np.broadcast_to(c.v(RIGHT * 0.12, 0.03, 0.15), (c.n, 3))
    _hand(m, RIGHT, floor, reach, (RIGHT, 0, -1), (0, 0, 1), None, True)
    knee = np.broadcast_to(c.v(LEFT * 0.09, 0.27, 0.1), (c.n, 3))
    _hand(m, LEFT, knee, 0.8 * down, (LEFT, 0, -1), (0, 0, 1), None, True)
    return m


def touch_toes(c: Ctx) -> Motion:
    """With straight legs, the upper body folds forward and down so both hands reach the toes, then rises."""
    m = Motion.standing(c.body, c.n)
    d = keys(c.progress(4.0), [(0, 0), (0.1, 0), (0.45, 1), (0.65, 1), (0.95, 0), (1, 0)])
    m.pelvis[:, 2] -= 0.06 * c.body.height * d
    m.spine_lower[:, 0], m.spine_upper[:, 0], m.neck[:, 0] = (70 + 15 * c.amp) * d, 35 * d, 10 * d
    for side in SIDES:
        toes = c.v(side * 0.08, 0.06, 0.13)
        _hand(m, side, np.broadcast_to(toes, (c.n, 3)), 0.9 * d, (side, 0, -1), (0, 0, 1), None, True)
    return m


def fall_down(c: Ctx) -> Motion:
    """Knees buckle, the body tips backwards onto the floor with the arms flung out, and lies there."""
    m = Motion.standing(c.body, c.n)
    h = c.body.height
    u = c.progress(2.6)
    buckle = keys(u, [(0, 0), (0.15, 0), (0.4, 1), (1, 1)])
    tip = keys(u, [(0, 0), (0.3, 0), (0.7, 1), (1, 1)])
    standing = m.pelvis[0].copy()
    crouched = standing * [1, 0.62, 1] + [0, 0, -0.05 * h]
    lying = np.array([0.0, 0.08 * h, -0.3 * h])
    m.pelvis = standing + np.outer(buckle, crouched - standing) + np.outer(tip, lying - crouched)
    m.pelvis_rot[:, 0] = -85 * tip
    m.spine_lower[:, 0] = 20 * buckle * (1 - tip)
    m.neck[:, 0] = 15 * tip
    flail = 4 * tip * (1 - tip)
    for side in SIDES:
        leg = m.legs[side]
        stretched = lying + [side * c.body.stance_half_width * 1.3, 0.04 * h, 0.95 * c.body.leg_length]
        leg.ankle = leg.ankle + np.outer(tip, stretched - leg.ankle[0])
        leg.toe_pitch = 20 * tip
        _hand(m, side, c.body.reach(side, 100, 70), flail, (side, 0, -1), (0, 0, 1))
    return m


def standing_still(c: Ctx) -> Motion:
    """Standing relaxed, arms hanging: only breathing and a slight sway (the generator adds them)."""
    m = Motion.standing(c.body, c.n)
    m.neck[:, 0] = c.rng.uniform(-5, 10)
    m.neck[:, 2] = c.rng.uniform(-10, 10)
    for side in SIDES:
        m.arms[side].swing = c.v(c.rng.uniform(-0.01, 0.01), 0, c.rng.uniform(-0.01, 0.02))
    return m


@dataclass(frozen=True)
class ActionSpec:
    """How to generate one synthetic class.

    Attributes:
        motion: the action function.
        duration: seconds of a one-shot action at speed 1; None for an ongoing, periodic one.
        one_sided: authored for the right hand/leg (mirrored clips use the left one).
        left_share: fraction of clips mirrored to the left side.
    """

    motion: Callable[[Ctx], Motion]
    duration: float | None
    one_sided: bool = False
    left_share: float = 0.5


def _one_sided(
    motion: Callable[[Ctx], Motion], duration: float | None, left_share: float = 0.3
) -> ActionSpec:
    return ActionSpec(motion, duration, one_sided=True, left_share=left_share)


# Class name (as in training/actions.toml) -> how to generate it. "standing still" is the idle class.
ACTIONS: dict[str, ActionSpec] = {
    "clap hands": ActionSpec(clap_hands, None),
    "rub hands together": ActionSpec(rub_hands_together, None),
    "press palms together": ActionSpec(press_palms_together, 4.0),
    "cross arms": ActionSpec(cross_arms, 4.5),
    "put hands on hips": ActionSpec(put_hands_on_hips, 4.5),
    "check a phone": ActionSpec(check_a_phone, 5.0),
    "type on an invisible keyboard": ActionSpec(type_on_an_invisible_keyboard, None),
    "look at a wristwatch": _one_sided(look_at_a_wristwatch, 3.0, left_share=0.7),
    "thumbs up": _one_sided(thumbs_up, 3.0),
    "point forward": _one_sided(point_forward, 3.0),
    "drink from a cup": _one_sided(drink_from_a_cup, 3.5),
    "brush teeth": _one_sided(brush_teeth, 5.0),
    "cough": _one_sided(cough, 2.5),
    "make a phone call": _one_sided(make_a_phone_call, 5.0),
    "scratch the head": _one_sided(scratch_the_head, 3.5),
    "comb hair": _one_sided(comb_hair, 4.5),
    "hold the head with both hands": ActionSpec(hold_the_head_with_both_hands, 4.0),
    "salute": _one_sided(salute, 2.5),
    "stretch arms overhead": ActionSpec(stretch_arms_overhead, 4.0),
    "arm circles": ActionSpec(arm_circles, None),
    "shrug": ActionSpec(shrug, 2.0),
    "throw overhand": _one_sided(throw_overhand, 1.8),
    "bend sideways": ActionSpec(bend_sideways, None),
    "twist the torso": ActionSpec(twist_the_torso, None),
    "sit down": ActionSpec(sit_down, 2.5),
    "stand up": ActionSpec(stand_up, 2.5),
    "squat": ActionSpec(squat, None),
    "jump in place": ActionSpec(jump_in_place, None),
    "hop on one leg": _one_sided(hop_on_one_leg, None),
    "march in place": ActionSpec(march_in_place, None),
    "kneel down": ActionSpec(kneel_down, 3.0),
    "lunge forward": _one_sided(lunge_forward, 3.0),
    "pick something up from the floor": _one_sided(pick_something_up_from_the_floor, 3.5),
    "touch toes": ActionSpec(touch_toes, 4.0),
    "fall down": ActionSpec(fall_down, 2.6),
    "standing still": ActionSpec(standing_still, None),
}

IDLE_ACTION = "standing still"
