"""BVH motion capture: a general reader, forward kinematics, and known rigs (Bandai Namco, CMU) -> NTU-25.

The reader accepts any BVH hierarchy (ROOT / JOINT / End Site, OFFSET, CHANNELS with any
count and order per joint) and a MOTION section with `Frames:` and `Frame Time:`. Motion
lines are parsed one at a time into a preallocated array, and files, joint counts and
frame counts above fixed limits are refused, so memory stays bounded. Malformed input
raises `BVHError` naming the file and line.

Conventions (those of the BVH format as written by Maya / MotionBuilder):
- A joint's rotation is the product of its rotation channels in the order they are
  listed, e.g. `Zrotation Xrotation Yrotation` gives R = Rz @ Rx @ Ry (column vectors,
  angles in degrees).
- A joint's translation channels replace the matching components of its OFFSET. Usual
  files give them to the root only (with OFFSET 0); the Bandai Namco files give all
  6 channels to every joint and repeat each bone's OFFSET in them.
- world_position[j] = world_position[parent] + world_rotation[parent] @ translation[j];
  world_rotation[j] = world_rotation[parent] @ rotation[j].

numpy only: this module is on the per-frame path's side of the layering (no torch, no scipy).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from actzero.model import skeleton

MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_JOINTS = 1024
MAX_DEPTH = 200  # joint nesting; the parser recurses once per level
MAX_FRAMES = 2_000_000
MAX_MOTION_VALUES = 60_000_000  # 480 MB of float64; split longer captures into several files

_CHANNEL_NAMES = ("Xposition", "Yposition", "Zposition", "Xrotation", "Yrotation", "Zrotation")


class BVHError(ValueError):
    """A BVH file is malformed, too large, or not of the expected rig."""


@dataclass(frozen=True)
class BVHJoint:
    """One joint of a BVH hierarchy.

    Attributes:
        name: joint name; End Sites are named "<parent>_End".
        parent: index of the parent joint in `BVHMotion.joints`, -1 for a root.
        offset: (3,) translation from the parent in the parent's frame, file units.
        channels: channel names in file order (empty for End Sites).
        first_channel: column of the first channel in `BVHMotion.values`.
    """

    name: str
    parent: int
    offset: np.ndarray
    channels: tuple[str, ...]
    first_channel: int


@dataclass(frozen=True)
class BVHMotion:
    """A parsed BVH file: the hierarchy (parents before children) and per-frame channel values."""

    joints: tuple[BVHJoint, ...]
    frame_time: float
    values: np.ndarray  # (T, C) float64, C = total channel count

    @property
    def num_frames(self) -> int:
        return int(self.values.shape[0])

    @property
    def fps(self) -> float:
        """Frames per second; snapped to an integer when within 0.01 of one (0.0333333 -> 30)."""
        fps = 1.0 / self.frame_time
        return float(round(fps)) if abs(fps - round(fps)) < 1e-2 else fps

    def joint_index(self, name: str) -> int:
        """Index of the joint called `name`; raises BVHError when absent."""
        for i, joint in enumerate(self.joints):
            if joint.name == name:
                return i
        raise BVHError(f"no joint named {name!r}")


def _tokens(lines: Iterator[tuple[int, str]]) -> Iterator[tuple[str, int]]:
    for lineno, line in lines:
        for token in line.split():
            yield token, lineno


class _HierarchyParser:
    """Recursive-descent parser over the HIERARCHY tokens; stops after the MOTION keyword."""

    def __init__(self, tokens: Iterator[tuple[str, int]], where: str) -> None:
        self._tokens = tokens
        self._where = where
        self._line = 0
        self.joints: list[BVHJoint] = []
        self._num_channels = 0

    def error(self, message: str, line: int | None = None) -> BVHError:
        if len(message) > 200:  # a quoted token can be as long as the file
            message = message[:200] + "..."
        return BVHError(f"{self._where}:{line or self._line}: {message}")

    def next(self, expected: str = "more hierarchy") -> str:
        try:
            token, self._line = next(self._tokens)
        except StopIteration:
            raise self.error(f"unexpected end of file, expected {expected}") from None
        return token

    def expect(self, word: str) -> None:
        token = self.next(repr(word))
        if token != word:
            raise self.error(f"expected {word!r}, found {token!r}")

    def number(self, what: str) -> float:
        token = self.next(what)
        try:
            value = float(token)
        except ValueError:
            raise self.error(f"expected a number for {what}, found {token!r}") from None
        if not np.isfinite(value):
            raise self.error(f"{what} is not finite: {token!r}")
        return value

    def parse(self) -> tuple[BVHJoint, ...]:
        self.expect("HIERARCHY")
        token = self.next("ROOT")
        while token == "ROOT":
            self._joint(parent=-1, depth=1)
            token = self.next("ROOT or MOTION")
        if not self.joints:
            raise self.error(f"expected ROOT, found {token!r}")
        if token != "MOTION":
            raise self.error(f"expected ROOT or MOTION, found {token!r}")
        return tuple(self.joints)

    def _joint(self, parent: int, depth: int) -> None:
        name = self.next("a joint name")
        if name in ("{", "}"):
            raise self.error(f"missing joint name before {name!r}")
        if any(j.name == name for j in self.joints):
            raise self.error(f"duplicate joint name {name!r}")
        if len(self.joints) >= MAX_JOINTS:
            raise self.error(f"more than {MAX_JOINTS} joints; refusing the file")
        if depth > MAX_DEPTH:
            raise self.error(f"joints nested more than {MAX_DEPTH} deep; refusing the file")
        self.expect("{")
        self.expect("OFFSET")
        offset = np.array([self.number("OFFSET") for _ in range(3)])
        self.expect("CHANNELS")
        count_token = self.next("a channel count")
        if not count_token.isdigit() or not 0 <= int(count_token) <= 6:
            raise self.error(f"CHANNELS count must be 0..6, found {count_token!r}")
        channels = tuple(self.next("a channel name") for _ in range(int(count_token)))
        for channel in channels:
            if channel not in _CHANNEL_NAMES:
                raise self.error(f"unknown channel {channel!r} (expected one of {', '.join(_CHANNEL_NAMES)})")
        if len(set(channels)) != len(channels):
            raise self.error(f"repeated channel in {' '.join(channels)}")
        index = len(self.joints)
        self.joints.append(BVHJoint(name, parent, offset, channels, self._num_channels))
        self._num_channels += len(channels)
        while True:
            token = self.next("JOINT, End Site or '}'")
            if token == "}":
                return
            if token == "JOINT":
                self._joint(parent=index, depth=depth + 1)
            elif token == "End":
                self.expect("Site")
                self.expect("{")
                self.expect("OFFSET")
                end_offset = np.array([self.number("OFFSET") for _ in range(3)])
                self.expect("}")
                self.joints.append(BVHJoint(f"{name}_End", index, end_offset, (), self._num_channels))
            else:
                raise self.error(f"expected JOINT, End Site or '}}', found {token!r}")


def _header_value(line: str, key: str, where: str, lineno: int) -> str:
    head, _, value = line.partition(":")
    if head.strip().lower() != key.lower() or not value.strip():
        raise BVHError(f"{where}:{lineno}: expected '{key}: <value>', found {line.strip()[:60]!r}")
    return value.strip()


def read_bvh(
    path: str | os.PathLike[str],
    *,
    max_bytes: int = MAX_FILE_BYTES,
    max_frames: int = MAX_FRAMES,
) -> BVHMotion:
    """Read a BVH file.

    Args:
        path: the .bvh file.
        max_bytes: refuse larger files.
        max_frames: refuse files declaring more frames.

    Returns:
        The hierarchy and a (T, C) float64 array of channel values.

    Raises:
        BVHError: malformed, truncated or oversized input (the message names file and line).
        OSError: the file cannot be read.
    """
    path = Path(path)
    where = str(path)
    size = path.stat().st_size
    if size > max_bytes:
        raise BVHError(
            f"{where}: {size / 2**20:.0f} MiB is larger than the {max_bytes / 2**20:.0f} MiB limit"
        )
    with path.open("r", encoding="utf-8", errors="replace") as stream:
        lines = enumerate(stream, start=1)
        parser = _HierarchyParser(_tokens(lines), where)
        joints = parser.parse()
        num_channels = sum(len(j.channels) for j in joints)

        def header_line(key: str) -> tuple[int, str]:
            for lineno, line in lines:
                if line.strip():
                    return lineno, line
            raise BVHError(f"{where}: unexpected end of file, expected '{key}:'")

        lineno, line = header_line("Frames")
        frames_text = _header_value(line, "Frames", where, lineno)
        if not frames_text.isdigit():
            raise BVHError(
                f"{where}:{lineno}: frame count must be a non-negative integer, found {frames_text!r}"
            )
        num_frames = int(frames_text)
        if num_frames > max_frames or num_frames * num_channels > MAX_MOTION_VALUES:
            raise BVHError(
                f"{where}:{lineno}: {num_frames} frames x {num_channels} channels exceeds the limits "
                f"({max_frames} frames, {MAX_MOTION_VALUES} values); split the capture into shorter files"
            )
        lineno, line = header_line("Frame Time")
        time_text = _header_value(line, "Frame Time", where, lineno)
        try:
            frame_time = float(time_text)
        except ValueError:
            raise BVHError(f"{where}:{lineno}: Frame Time is not a number: {time_text!r}") from None
        if not (np.isfinite(frame_time) and frame_time > 0):
            raise BVHError(f"{where}:{lineno}: Frame Time must be positive, found {time_text!r}")

        values = np.empty((num_frames, num_channels), dtype=np.float64)
        frame = 0
        for lineno, line in lines:
            fields = line.split()
            if not fields:
                continue
            if frame >= num_frames:
                raise BVHError(f"{where}:{lineno}: more motion lines than the {num_frames} frames declared")
            if len(fields) != num_channels:
                raise BVHError(
                    f"{where}:{lineno}: frame {frame} has {len(fields)} values, the hierarchy has "
                    f"{num_channels} channels"
                )
            try:
                values[frame] = np.array(fields, dtype=np.float64)
            except ValueError:
                bad = next(f for f in fields if not _is_float(f))
                raise BVHError(f"{where}:{lineno}: non-numeric value {bad[:30]!r} in frame {frame}") from None
            frame += 1
        if frame < num_frames:
            raise BVHError(f"{where}: truncated motion: {num_frames} frames declared, {frame} found")
    if not np.isfinite(values).all():
        raise BVHError(f"{where}: motion contains non-finite values (nan/inf)")
    return BVHMotion(joints=joints, frame_time=frame_time, values=values)


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def axis_rotations(axis: str, degrees: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) about the x, y or z axis by `degrees` (right-handed)."""
    radians = np.deg2rad(degrees)
    c, s = np.cos(radians), np.sin(radians)
    one, zero = np.ones_like(c), np.zeros_like(c)
    rows = {
        "X": ((one, zero, zero), (zero, c, -s), (zero, s, c)),
        "Y": ((c, zero, s), (zero, one, zero), (-s, zero, c)),
        "Z": ((c, -s, zero), (s, c, zero), (zero, zero, one)),
    }[axis]
    return np.stack([np.stack(row, axis=-1) for row in rows], axis=-2)


def forward_kinematics(motion: BVHMotion) -> tuple[np.ndarray, np.ndarray]:
    """World positions and orientations of every joint (End Sites included) in every frame.

    Returns:
        positions (T, J, 3) float64 in file units, rotations (T, J, 3, 3) float64
        (each joint's local-to-world rotation).
    """
    num_frames = motion.num_frames
    # One batched call builds every rotation channel's matrices: (T, R, 3, 3).
    rotation_columns = [
        (j, joint.first_channel + k, channel[0])
        for j, joint in enumerate(motion.joints)
        for k, channel in enumerate(joint.channels)
        if channel.endswith("rotation")
    ]
    matrices = np.empty((num_frames, len(rotation_columns), 3, 3))
    for axis in "XYZ":
        picked = [i for i, (_, _, a) in enumerate(rotation_columns) if a == axis]
        if picked:
            columns = [rotation_columns[i][1] for i in picked]
            matrices[:, picked] = axis_rotations(axis, motion.values[:, columns])
    positions = np.empty((num_frames, len(motion.joints), 3))
    rotations = np.empty((num_frames, len(motion.joints), 3, 3))
    for j, joint in enumerate(motion.joints):
        translation = np.broadcast_to(joint.offset, (num_frames, 3)).copy()
        for k, channel in enumerate(joint.channels):
            if channel.endswith("position"):
                translation[:, "XYZ".index(channel[0])] = motion.values[:, joint.first_channel + k]
        own = [i for i, (owner, _, _) in enumerate(rotation_columns) if owner == j]
        rotation = matrices[:, own[0]] if own else np.broadcast_to(np.eye(3), (num_frames, 3, 3))
        for i in own[1:]:
            rotation = rotation @ matrices[:, i]
        if joint.parent < 0:
            positions[:, j] = translation
            rotations[:, j] = rotation
        else:
            parent_rotation = rotations[:, joint.parent]
            positions[:, j] = positions[:, joint.parent] + np.einsum(
                "tij,tj->ti", parent_rotation, translation
            )
            rotations[:, j] = parent_rotation @ rotation
    return positions, rotations


# The Bandai Namco rig -> NTU-25. Each NTU joint is a point fixed in one rig joint's local
# frame: (NTU index, rig joint, offset in that joint's frame, centimetres). In this rig every
# bone runs along its joint's local x axis (+x on the left side and the spine, -x on the
# right, whose joint frames are mirrored: all three axes negated), and the left hand's local
# z axis points to the thumb side (the right hand's -z). Checked on the data: with the arms
# hanging, the thumbs point forward, the head and spine axes up.
# Choices:
# - spine_base = Hips (pelvis root, ~6 cm above the hip joints, like Kinect's spine base).
# - spine_mid = halfway between Spine and Chest (Spine's child offset is ~9 cm along x):
#   Kinect's spine mid sits mid-torso, ~20 cm above the spine base; this point is ~20 cm.
# - spine_shoulder = Neck (base of the neck at shoulder height); Shoulder_L/R (clavicles)
#   are not used: NTU shoulders are the shoulder joints proper = UpperArm_L/R.
# - neck = Head (the rig's head joint sits at the top of the neck, base of the skull).
# - head = 10 cm up the head's own axis from Head: the middle of the head, where Kinect
#   puts it (the rig's head End Site has offset 0, so the head top is not given).
# - wrist = Hand; hand = 8 cm along the hand's axis (palm centre); hand tip = 16 cm
#   (finger tips of a flat hand); thumb = 4 cm along the hand and 5 cm to the thumb side.
#   The rig has no fingers, so hand tips and thumbs follow the wrist's orientation.
# - hips, knees, ankles = UpperLeg, LowerLeg, Foot; foot = Toes (ball of the foot).
_BANDAI_RIG_MAP: tuple[tuple[int, str, tuple[float, float, float]], ...] = (
    (skeleton.SPINE_BASE, "Hips", (0.0, 0.0, 0.0)),
    (skeleton.SPINE_MID, "Spine", (4.5, 0.0, 0.0)),
    (skeleton.NECK, "Head", (0.0, 0.0, 0.0)),
    (skeleton.HEAD, "Head", (10.0, 0.0, 0.0)),
    (skeleton.L_SHOULDER, "UpperArm_L", (0.0, 0.0, 0.0)),
    (skeleton.L_ELBOW, "LowerArm_L", (0.0, 0.0, 0.0)),
    (skeleton.L_WRIST, "Hand_L", (0.0, 0.0, 0.0)),
    (skeleton.L_HAND, "Hand_L", (8.0, 0.0, 0.0)),
    (skeleton.R_SHOULDER, "UpperArm_R", (0.0, 0.0, 0.0)),
    (skeleton.R_ELBOW, "LowerArm_R", (0.0, 0.0, 0.0)),
    (skeleton.R_WRIST, "Hand_R", (0.0, 0.0, 0.0)),
    (skeleton.R_HAND, "Hand_R", (-8.0, 0.0, 0.0)),
    (skeleton.L_HIP, "UpperLeg_L", (0.0, 0.0, 0.0)),
    (skeleton.L_KNEE, "LowerLeg_L", (0.0, 0.0, 0.0)),
    (skeleton.L_ANKLE, "Foot_L", (0.0, 0.0, 0.0)),
    (skeleton.L_FOOT, "Toes_L", (0.0, 0.0, 0.0)),
    (skeleton.R_HIP, "UpperLeg_R", (0.0, 0.0, 0.0)),
    (skeleton.R_KNEE, "LowerLeg_R", (0.0, 0.0, 0.0)),
    (skeleton.R_ANKLE, "Foot_R", (0.0, 0.0, 0.0)),
    (skeleton.R_FOOT, "Toes_R", (0.0, 0.0, 0.0)),
    (skeleton.SPINE_SHOULDER, "Neck", (0.0, 0.0, 0.0)),
    (skeleton.L_HAND_TIP, "Hand_L", (16.0, 0.0, 0.0)),
    (skeleton.L_THUMB, "Hand_L", (4.0, 0.0, 5.0)),
    (skeleton.R_HAND_TIP, "Hand_R", (-16.0, 0.0, 0.0)),
    (skeleton.R_THUMB, "Hand_R", (-4.0, 0.0, -5.0)),
)

# Rig world axes -> NTU axes: both y up, and left = up x forward in both (the Bandai rig
# is right-handed with anatomical left/right). The actors face +z in the rig's world
# (walks go from z = -5 m to +5 m); NTU subjects face the camera, i.e. -z, so turn 180 degrees
# about y. (Canonicalisation fixes the facing anyway; this keeps raw clips NTU-like.)
# The CMU rigs (BVH below, ASF/AMC in model/asf_amc.py) also stand facing +z, left at +x.
FACE_MINUS_Z = np.diag([-1.0, 1.0, -1.0])
_CENTIMETRES = 0.01
# CMU ASF length unit: `:units length 0.45` means 1 unit = 1 / 0.45 inch.
CMU_ASF_UNIT_METRES = 0.0254 / 0.45

# CMU mocap, B. Hahne's "Daz-friendly" BVH conversion (43 joints, centimetres, one skeleton
# for every subject; ../shared/data/mocap/cmu-partial/README.md). Joints sit at the starts of
# their bones (BVH), rest pose facing +z with the left side at +x, like the Bandai rig.
# Choices (rest-pose offsets, centimetres, in the joint's frame = world axes at rest):
# - spine_base = 5 cm above `hip` (the root sits ~3 cm below the thigh joints; Kinect's
#   spine base is a few cm above the hip joints); spine_mid = `abdomen` (21 cm above `hip`).
# - spine_shoulder = 18 cm up `chest`: shoulder height (the collars start 19 cm up, the
#   shoulder joints 17 cm); `neck` itself is 5 cm above the shoulders.
# - neck = `head` (base of the skull); head = 10 cm above it, as for the Bandai rig.
# - hand = halfway from the wrist (`lHand`) to the middle finger's knuckle (`lMid1`); hand
#   tip = the middle finger's end; thumb = the thumb's end.
# - hips, knees, ankles = `lThigh`, `lShin`, `lFoot`; foot = the foot's End Site (toes).
_CMU_DAZ_RIG_MAP: tuple[tuple[int, str, tuple[float, float, float]], ...] = (
    (skeleton.SPINE_BASE, "hip", (0.0, 5.0, 0.0)),
    (skeleton.SPINE_MID, "abdomen", (0.0, 0.0, 0.0)),
    (skeleton.NECK, "head", (0.0, 0.0, 0.0)),
    (skeleton.HEAD, "head", (0.0, 10.0, 0.0)),
    (skeleton.L_SHOULDER, "lShldr", (0.0, 0.0, 0.0)),
    (skeleton.L_ELBOW, "lForeArm", (0.0, 0.0, 0.0)),
    (skeleton.L_WRIST, "lHand", (0.0, 0.0, 0.0)),
    (skeleton.L_HAND, "lHand", (4.12, 0.59, 1.71)),
    (skeleton.R_SHOULDER, "rShldr", (0.0, 0.0, 0.0)),
    (skeleton.R_ELBOW, "rForeArm", (0.0, 0.0, 0.0)),
    (skeleton.R_WRIST, "rHand", (0.0, 0.0, 0.0)),
    (skeleton.R_HAND, "rHand", (-4.12, 0.59, 1.71)),
    (skeleton.L_HIP, "lThigh", (0.0, 0.0, 0.0)),
    (skeleton.L_KNEE, "lShin", (0.0, 0.0, 0.0)),
    (skeleton.L_ANKLE, "lFoot", (0.0, 0.0, 0.0)),
    (skeleton.L_FOOT, "lFoot_End", (0.0, 0.0, 0.0)),
    (skeleton.R_HIP, "rThigh", (0.0, 0.0, 0.0)),
    (skeleton.R_KNEE, "rShin", (0.0, 0.0, 0.0)),
    (skeleton.R_ANKLE, "rFoot", (0.0, 0.0, 0.0)),
    (skeleton.R_FOOT, "rFoot_End", (0.0, 0.0, 0.0)),
    (skeleton.SPINE_SHOULDER, "chest", (0.0, 18.0, 0.0)),
    (skeleton.L_HAND_TIP, "lMid2_End", (0.0, 0.0, 0.0)),
    (skeleton.L_THUMB, "lThumb2_End", (0.0, 0.0, 0.0)),
    (skeleton.R_HAND_TIP, "rMid2_End", (0.0, 0.0, 0.0)),
    (skeleton.R_THUMB, "rThumb2_End", (0.0, 0.0, 0.0)),
)

# CMU subject 16's BVH conversion: the 31 CMU ASF bones as BVH joints (root `hip`), ASF
# length units. A BVH joint sits at the START of the ASF bone of the same name, so each NTU
# joint is the joint after the ASF bone that ends there (see model/asf_amc.py's mapping).
# This conversion drops the thorax bone (`lowerneck` and the clavicles start where `thorax`
# does) and the wrist bone (`lhand` = `lwrist`): its torso is shorter than the ASF's.
_CMU_ASF_NAMED_RIG_MAP: tuple[tuple[int, str, tuple[float, float, float]], ...] = (
    (skeleton.SPINE_BASE, "hip", (0.0, 0.0, 0.0)),
    (skeleton.SPINE_MID, "upperback", (0.0, 0.0, 0.0)),
    (skeleton.NECK, "head", (0.0, 0.0, 0.0)),
    (skeleton.HEAD, "head_End", (0.0, 0.0, 0.0)),
    (skeleton.L_SHOULDER, "lhumerus", (0.0, 0.0, 0.0)),
    (skeleton.L_ELBOW, "lradius", (0.0, 0.0, 0.0)),
    (skeleton.L_WRIST, "lhand", (0.0, 0.0, 0.0)),
    (skeleton.L_HAND, "lfingers", (0.0, 0.0, 0.0)),
    (skeleton.R_SHOULDER, "rhumerus", (0.0, 0.0, 0.0)),
    (skeleton.R_ELBOW, "rradius", (0.0, 0.0, 0.0)),
    (skeleton.R_WRIST, "rhand", (0.0, 0.0, 0.0)),
    (skeleton.R_HAND, "rfingers", (0.0, 0.0, 0.0)),
    (skeleton.L_HIP, "lfemur", (0.0, 0.0, 0.0)),
    (skeleton.L_KNEE, "ltibia", (0.0, 0.0, 0.0)),
    (skeleton.L_ANKLE, "lfoot", (0.0, 0.0, 0.0)),
    (skeleton.L_FOOT, "ltoes", (0.0, 0.0, 0.0)),
    (skeleton.R_HIP, "rfemur", (0.0, 0.0, 0.0)),
    (skeleton.R_KNEE, "rtibia", (0.0, 0.0, 0.0)),
    (skeleton.R_ANKLE, "rfoot", (0.0, 0.0, 0.0)),
    (skeleton.R_FOOT, "rtoes", (0.0, 0.0, 0.0)),
    (skeleton.SPINE_SHOULDER, "lowerneck", (0.0, 0.0, 0.0)),
    (skeleton.L_HAND_TIP, "lfingers_End", (0.0, 0.0, 0.0)),
    (skeleton.L_THUMB, "lthumb_End", (0.0, 0.0, 0.0)),
    (skeleton.R_HAND_TIP, "rfingers_End", (0.0, 0.0, 0.0)),
    (skeleton.R_THUMB, "rthumb_End", (0.0, 0.0, 0.0)),
)


@dataclass(frozen=True)
class BVHRig:
    """A known BVH skeleton: how its joints give NTU-25 joints.

    Attributes:
        name: for messages, e.g. "Bandai Namco 22-joint".
        joint_map: (NTU index, rig joint, offset in that joint's frame in file units) per NTU joint.
        metres: metres per file unit.
    """

    name: str
    joint_map: tuple[tuple[int, str, tuple[float, float, float]], ...]
    metres: float


BANDAI_RIG = BVHRig("Bandai Namco 22-joint", _BANDAI_RIG_MAP, _CENTIMETRES)
CMU_DAZ_RIG = BVHRig("CMU Daz-friendly 43-joint", _CMU_DAZ_RIG_MAP, _CENTIMETRES)
CMU_ASF_NAMED_RIG = BVHRig("CMU ASF-named 31-joint", _CMU_ASF_NAMED_RIG_MAP, CMU_ASF_UNIT_METRES)
RIGS = (BANDAI_RIG, CMU_DAZ_RIG, CMU_ASF_NAMED_RIG)


def _missing_joints(motion: BVHMotion, rig: BVHRig) -> list[str]:
    return sorted({name for _, name, _ in rig.joint_map} - {j.name for j in motion.joints})


def find_rig(motion: BVHMotion) -> BVHRig:
    """The first of `RIGS` whose joints are all in the motion's hierarchy.

    Raises:
        BVHError: no known rig matches (the message lists what each one misses).
    """
    for rig in RIGS:
        if not _missing_joints(motion, rig):
            return rig
    missing = ", ".join(_missing_joints(motion, BANDAI_RIG))
    others = " or ".join(rig.name for rig in RIGS[1:])
    raise BVHError(f"not the Bandai Namco 22-joint rig (missing joints {missing}) nor the {others} rig")


def bvh_to_ntu(motion: BVHMotion, rig: BVHRig | None = None) -> np.ndarray:
    """Map a motion of a known rig to NTU-25 joints (T, 25, 3) float32, metres, y up.

    Args:
        motion: the parsed BVH file.
        rig: one of `RIGS`; None picks it from the joint names (`find_rig`).

    Raises:
        BVHError: the hierarchy lacks a joint of the rig.
    """
    if rig is None:
        rig = find_rig(motion)
    missing = _missing_joints(motion, rig)
    if missing:
        raise BVHError(f"not the {rig.name} rig: missing joints {', '.join(missing)}")
    positions, rotations = forward_kinematics(motion)
    out = np.empty((motion.num_frames, skeleton.NUM_JOINTS, 3))
    for ntu, name, offset in rig.joint_map:
        j = motion.joint_index(name)
        out[:, ntu] = positions[:, j] + rotations[:, j] @ np.asarray(offset)
    return (out @ FACE_MINUS_Z.T * rig.metres).astype(np.float32)


def read_bvh_ntu(path: str | os.PathLike[str]) -> tuple[np.ndarray, float]:
    """Read a BVH file of a known rig (`RIGS`: Bandai Namco, CMU) as NTU-25 joints.

    Returns:
        joints (T, 25, 3) float32 in metres, y up, right-handed, the rig's rest pose facing -z; and
        the frame rate.

    Raises:
        BVHError: malformed file or a different rig.
    """
    motion = read_bvh(path)
    try:
        return bvh_to_ntu(motion), motion.fps
    except BVHError as exc:
        raise BVHError(f"{path}: {exc}") from None
