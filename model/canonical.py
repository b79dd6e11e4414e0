"""Canonical skeleton windows: what the model sees, whatever the camera, position or body size.

`canonicalise` maps a (T, 25, 3) NTU-25 sequence (NaN = missing joint) to a finite float32
sequence in one of two frames (`CANONICAL_FRAMES`; a model bundle records the one it was
trained with). The "upright" frame (the default, and the shipped bundle's) is body-centred:

- origin: spine_base in every frame (root-relative): the path the body travels is removed.
  The live path cannot provide it: MediaPipe's world landmarks are centred between the hips
  in every frame, so a person walking across the view keeps the root at the origin, while
  motion capture keeps the walk's path (median 2.1 body units of root travel in a 64-frame
  "walk" window vs 0.01 for camera windows; `python studies/trajectory_gap.py`). A model trained
  with the path learns "walk" = "root moves", which a camera never shows;
- +y: the body's up axis, the mean over valid frames of the unit spine vector
  spine_base -> spine_shoulder;
- +x: the subject's left -> right direction, the mean of the hip (l_hip -> r_hip) and
  shoulder (l_shoulder -> r_shoulder) vectors over valid frames, made orthogonal to +y;
- +z = x cross y (a proper rotation, so the subject's left stays left): the subject faces
  -z, which is how an NTU subject facing the Kinect looks in camera space;
- unit: `model.skeleton.body_size` (median spine length + shoulder width) becomes 1.

The "upright" frame throws gravity away: a push-up, a crawl or a person lying down become an
upright body. The "gravity" frame keeps the world's up axis (+y of the input: mocap and Kinect
y, and MediaPipe's image-up after model/mapping.py) and removes only the heading, a rotation
about the vertical: +x becomes the horizontal part of the window's mean left -> right
direction (hips and shoulders). When that direction is close to vertical (a body lying on its
side) it has no heading, and the body's back direction (right x spine), turned 90 degrees
about the vertical, takes over, blended by how vertical the left -> right direction is.
Origin, unit and the rest are as in the upright frame. Camera pitch and roll stay in the
gravity frame (training augments them: training/augment.py).

The "limbs" frame is the gravity frame of the 13 joints that every sensor places alike (head,
shoulders, elbows, wrists, hips, knees, ankles; `IMAGE_JOINTS`), the spine and the neck rebuilt
from them (`limbs_only`). The sources put the other joints differently: Kinect v1 has no hand
tips or thumbs (its readers extend the hand), the mocap rigs' spine and hip joints sit inside the
body, MediaPipe's "hands" are knuckle estimates. Hands, tips, thumbs and feet sit on their
parents (their bones take the template's direction, so the model sees a constant there).

The "image" frame is the 2D route (`_canonicalise_image`): the model sees only the picture a
camera takes, x to the image's right and y up, z = 0. Input +y must be the image's up; depth
(input z) is dropped, so a camera-space clip (Kinect) becomes its own sensor's view and a
MediaPipe pose its image landmarks. Only the 13 joints every 2D source has (head, shoulders,
elbows, wrists, hips, knees, ankles: Penn Action's set) are read; the spine joints and the neck
are rebuilt from them, hands and feet sit on the wrists and ankles. Origin: the hips' midpoint
in every frame; unit: the median 2D torso length plus the longer leg. Nothing is rotated (the
view cannot be undone in 2D; training shows the model many virtual camera views) and bone
lengths are kept (foreshortening is what 2D shows of depth).

Missing joints are filled per joint by linear interpolation in time, then by the nearest
valid frame at the ends, then (for a joint never seen) by its parent's position.
Every step commutes with rotation, translation and uniform scaling of the input, so the
output is invariant to them (the gravity frame: to rotation about the vertical only; the image
frame: to translation and scaling of the picture only; see tests/model/test_canonical.py).

Last (upright and gravity frames), `normalise_bone_lengths` gives the sequence the bone lengths
of a template body, keeping every bone's direction: body proportions differ between the training
sources (the mocap rig has narrow shoulders and hips, synthetic and MediaPipe bodies do not;
studies/skeleton_gap.py) and say nothing about the action, so the model never sees them.

Cutting clips and timestamped frames into model windows (resampling, windows, padding) is
model/windows.py.
"""

from __future__ import annotations

import numpy as np

from actzero.model import skeleton as sk

# Relative size below which a direction or the body is considered degenerate.
_DEGENERATE = 1e-6

UPRIGHT, GRAVITY, LIMBS, IMAGE = "upright", "gravity", "limbs", "image"
CANONICAL_FRAMES: tuple[str, ...] = (UPRIGHT, GRAVITY, LIMBS, IMAGE)
WORLD_UP_FRAMES: tuple[str, ...] = (GRAVITY, LIMBS)  # 3D frames that keep the world's up axis

# The joints the image frame reads: what every 2D source (Penn Action, pose estimators) has.
IMAGE_JOINTS: tuple[int, ...] = (
    sk.HEAD, sk.L_SHOULDER, sk.R_SHOULDER, sk.L_ELBOW, sk.R_ELBOW, sk.L_WRIST, sk.R_WRIST,
    sk.L_HIP, sk.R_HIP, sk.L_KNEE, sk.R_KNEE, sk.L_ANKLE, sk.R_ANKLE,
)  # fmt: skip
NECK_FRACTION = 0.4  # `torso_from_limbs`: neck on spine_shoulder -> head, as the Kinect readers place it


class CanonicalisationError(ValueError):
    """A sequence has nothing usable to define the canonical frame (no body, no spine, no sides)."""


def _topological_order() -> np.ndarray:
    order, frontier = [], [sk.SPINE_BASE]
    while frontier:
        joint = frontier.pop(0)
        order.append(joint)
        frontier.extend(j for j, p in enumerate(sk.PARENTS) if p == joint)
    return np.asarray(order)


# Joints ordered so that each one comes after its parent.
_ORDER = _topological_order()


def _check_shape(seq: np.ndarray) -> np.ndarray:
    try:
        arr = np.array(seq, dtype=np.float64)  # a copy: gaps are filled in place
    except (TypeError, ValueError) as exc:
        raise CanonicalisationError(f"skeleton is not a numeric array: {exc}") from exc
    if arr.ndim != 3 or arr.shape[1:] != (sk.NUM_JOINTS, 3):
        raise CanonicalisationError(f"expected a (T, 25, 3) skeleton sequence, got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise CanonicalisationError("empty skeleton sequence (0 frames)")
    return arr


def _valid_joints(seq: np.ndarray) -> np.ndarray:
    """(T, J) mask of joints whose three coordinates are finite (faster than isfinite().all(-1))."""
    return np.isfinite(seq[..., 0] + seq[..., 1] + seq[..., 2])


def fill_missing(seq: np.ndarray) -> np.ndarray:
    """Fill NaN/inf joints of a (T, 25, 3) sequence; returns a new float64 array.

    A joint missing in some frames is interpolated linearly in time between its nearest
    valid frames (held constant before the first / after the last valid frame); a joint
    missing in every frame takes its parent's position. A joint with any non-finite
    coordinate counts as missing. spine_base (the root) must be valid in at least one frame.

    Raises:
        CanonicalisationError: spine_base is never valid.
    """
    seq = np.array(seq, dtype=np.float64)
    return _fill(seq, _valid_joints(seq))


def _fill(seq: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Fill `seq` (float64, modified in place) where `valid` (T, J) is False; returns `seq`."""
    if valid.all():
        return seq
    num_frames = seq.shape[0]
    t = np.arange(num_frames)[:, None]
    prev = np.maximum.accumulate(np.where(valid, t, -1), axis=0)
    nxt = np.minimum.accumulate(np.where(valid, t, num_frames)[::-1], axis=0)[::-1]
    seen = valid.any(axis=0)
    # Only the missing entries of joints seen somewhere are interpolated (usually a few).
    frame, joint = np.nonzero(~valid & seen)
    if frame.size:
        lo, hi = prev[frame, joint], nxt[frame, joint]
        lo = np.where(lo < 0, hi, lo)
        hi = np.where(hi >= num_frames, lo, hi)
        weight = ((frame - lo) / np.maximum(hi - lo, 1))[:, None]
        before, after = seq[lo, joint], seq[hi, joint]
        seq[frame, joint] = before + weight * (after - before)
    if not seen.all():
        if not seen[sk.SPINE_BASE]:
            raise CanonicalisationError("spine_base is missing in every frame")
        for j in _ORDER[1:]:
            if not seen[j]:
                seq[:, j] = seq[:, sk.PARENTS[j]]
    return seq


def canonicalise(seq: np.ndarray, frame: str = UPRIGHT) -> np.ndarray:
    """Map a (T, 25, 3) skeleton sequence to a canonical frame (see the module docstring).

    Args:
        seq: (T, 25, 3) float array in any metric or pixel-like unit, any right-handed axes
            ("gravity": +y must be the world's up); NaN or inf marks a missing joint.
        frame: "upright" (spine along +y), "gravity" (world up kept, heading removed),
            "limbs" (the gravity frame of `limbs_only(seq)`) or "image" (the 2D view:
            `_canonicalise_image`).

    Returns:
        Finite float32 (T, 25, 3): spine_base at the origin in every frame, the subject's
        left -> right along +x (upright: orthogonal to the spine; gravity: its horizontal
        part), unit body size, missing joints filled, the template body's bone lengths.
        "image": the picture instead (z = 0, root at the hips' midpoint, no rotation, the
        image's own bone lengths; see `_canonicalise_image`).

    Raises:
        CanonicalisationError: wrong shape, no frames, or no frame with a usable spine,
            shoulders or left/right direction.
        ValueError: an unknown `frame`.
    """
    if frame not in CANONICAL_FRAMES:
        raise ValueError(f"unknown canonical frame {frame!r}; expected one of {', '.join(CANONICAL_FRAMES)}")
    arr = _check_shape(seq)
    if frame == IMAGE:
        return _canonicalise_image(arr)
    if frame == LIMBS:
        arr = limbs_only(arr)
    valid = _valid_joints(arr)
    if not valid.all():
        arr[~valid] = np.nan

    size = sk.body_size(arr)
    if not np.isfinite(size) or size <= 0:
        raise CanonicalisationError(
            "no frame has spine_base, spine_shoulder and both shoulders, so the body size is undefined"
        )

    spine = arr[:, sk.SPINE_SHOULDER] - arr[:, sk.SPINE_BASE]
    spine_len = np.sqrt(np.einsum("ij,ij->i", spine, spine))
    ok = spine_len > _DEGENERATE * size  # False for NaN
    up = (spine[ok] / spine_len[ok, None]).sum(axis=0)
    up_len = np.sqrt(up @ up)
    if not ok.any() or up_len <= _DEGENERATE * ok.sum():
        raise CanonicalisationError("the spine (spine_base -> spine_shoulder) has no consistent direction")
    up /= up_len

    sides = np.concatenate(
        [arr[:, sk.R_HIP] - arr[:, sk.L_HIP], arr[:, sk.R_SHOULDER] - arr[:, sk.L_SHOULDER]]
    )
    sides = sides[_valid_joints(sides)]
    total = sides.sum(axis=0)
    right = total - up * (total @ up)
    right_len = np.sqrt(right @ right)
    if len(sides) == 0 or right_len <= _DEGENERATE * size * len(sides):
        raise CanonicalisationError("hips and shoulders give no left/right direction")
    right /= right_len
    back = np.array(  # right x up, written out: np.cross costs more than the rest of this block
        [
            right[1] * up[2] - right[2] * up[1],
            right[2] * up[0] - right[0] * up[2],
            right[0] * up[1] - right[1] * up[0],
        ]
    )
    rotation = np.stack([right, up, back])  # rows: new x, y, z axes
    if frame in WORLD_UP_FRAMES:
        rotation = _heading_rotation(total / np.sqrt(total @ total), back)

    filled = _fill(arr, valid)
    relative = filled - filled[:, sk.SPINE_BASE : sk.SPINE_BASE + 1]
    out = (relative.reshape(-1, 3) @ (rotation.T / size)).reshape(filled.shape)
    if not np.isfinite(out.sum()):
        raise CanonicalisationError("coordinates overflow (values too large to canonicalise)")
    return normalise_bone_lengths(out)


def torso_from_limbs(seq: np.ndarray) -> np.ndarray:
    """Set the spine joints and the neck of a (T, 25, C) sequence from the 13 `IMAGE_JOINTS` (in place).

    spine_base and spine_shoulder are the hips' and the shoulders' midpoints, spine_mid theirs,
    the neck `NECK_FRACTION` of the way from spine_shoulder to the head (NaN where a source joint
    is). For sources that have only those 13 joints (Penn Action, the image frame). Returns `seq`.
    """
    seq[:, sk.SPINE_BASE] = 0.5 * (seq[:, sk.L_HIP] + seq[:, sk.R_HIP])
    seq[:, sk.SPINE_SHOULDER] = 0.5 * (seq[:, sk.L_SHOULDER] + seq[:, sk.R_SHOULDER])
    seq[:, sk.SPINE_MID] = 0.5 * (seq[:, sk.SPINE_BASE] + seq[:, sk.SPINE_SHOULDER])
    shoulder = seq[:, sk.SPINE_SHOULDER]
    seq[:, sk.NECK] = shoulder + NECK_FRACTION * (seq[:, sk.HEAD] - shoulder)
    return seq


def limbs_only(seq: np.ndarray) -> np.ndarray:
    """A copy of a (T, 25, C) sequence with only the 13 `IMAGE_JOINTS` and the torso rebuilt from them.

    Hands, hand tips, thumbs and feet become missing (`canonicalise` then puts each on its
    parent, its bone taking the template's direction): the "limbs" frame's input.
    """
    out = np.full_like(seq, np.nan)
    core = list(IMAGE_JOINTS)
    out[:, core] = seq[:, core]
    return torso_from_limbs(out)


def _length(v: np.ndarray) -> np.ndarray:
    return np.sqrt((v * v).sum(axis=-1))


def _canonicalise_image(arr: np.ndarray) -> np.ndarray:
    """The "image" frame of a checked float64 (T, 25, 3) sequence (see the module docstring)."""
    picture = arr.copy()
    picture[..., 2] = 0.0  # depth dropped
    picture[~_valid_joints(picture)] = np.nan
    flat = limbs_only(picture)
    torso = _length(flat[:, sk.SPINE_SHOULDER] - flat[:, sk.SPINE_BASE])
    legs = [
        _length(flat[:, knee] - flat[:, hip]) + _length(flat[:, ankle] - flat[:, knee])
        for hip, knee, ankle in ((sk.L_HIP, sk.L_KNEE, sk.L_ANKLE), (sk.R_HIP, sk.R_KNEE, sk.R_ANKLE))
    ]
    with np.errstate(invalid="ignore"):
        leg = np.fmax(*legs)  # the longer leg where both are seen, else the one seen
    torso, leg = torso[np.isfinite(torso)], leg[np.isfinite(leg)]
    if len(torso) == 0 or len(leg) == 0:
        raise CanonicalisationError("no frame has both hips and both shoulders, or no frame has a whole leg")
    size = float(np.median(torso) + np.median(leg))
    if not np.isfinite(size) or size <= 0:
        raise CanonicalisationError("the body has no size in the image (all joints on one point)")
    filled = _fill(flat, _valid_joints(flat))
    out = (filled - filled[:, sk.SPINE_BASE : sk.SPINE_BASE + 1]) / size
    if not np.isfinite(out.sum()):
        raise CanonicalisationError("coordinates overflow (values too large to canonicalise)")
    return out.astype(np.float32)


def _heading_rotation(right: np.ndarray, back: np.ndarray) -> np.ndarray:
    """Rotation about the vertical (+y) taking the body's heading to +x (rows: new x, y, z axes).

    Args:
        right: unit left -> right direction of the body (mean over the window).
        back: unit back direction of the body (right x spine), the fallback when `right` is
            near vertical; turned 90 degrees about +y it points where `right` would.
    """
    horizontal = np.array([right[0], 0.0, right[2]])
    weight = 1.0 - np.sqrt(horizontal @ horizontal)  # 0 when right is horizontal, 1 when vertical
    heading = horizontal + weight * np.array([back[2], 0.0, -back[0]])
    length = np.sqrt(heading @ heading)
    if length <= 1e-3:  # right near vertical and back pointing against it: take the larger one
        heading = horizontal if horizontal @ horizontal > 1e-6 else np.array([back[2], 0.0, -back[0]])
        length = np.sqrt(heading @ heading)
        if length <= _DEGENERATE:
            raise CanonicalisationError("the body has no heading (left/right and back both vertical)")
    c, s = heading[0] / length, heading[2] / length
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _template_pose() -> np.ndarray:
    """A standing adult in the canonical frame (x = subject's right, y up, facing -z), body size 1."""
    left = {
        sk.L_SHOULDER: (-0.17, 0.46, 0.0), sk.L_ELBOW: (-0.19, 0.18, 0.0), sk.L_WRIST: (-0.2, -0.07, 0.0),
        sk.L_HAND: (-0.2, -0.15, 0.0), sk.L_HAND_TIP: (-0.2, -0.23, 0.0), sk.L_THUMB: (-0.18, -0.13, -0.04),
        sk.L_HIP: (-0.09, -0.03, 0.0), sk.L_KNEE: (-0.09, -0.45, 0.0), sk.L_ANKLE: (-0.09, -0.87, 0.0),
        sk.L_FOOT: (-0.09, -0.92, -0.11),
    }  # fmt: skip
    pose = np.zeros((sk.NUM_JOINTS, 3))
    pose[sk.SPINE_MID], pose[sk.SPINE_SHOULDER] = (0.0, 0.24, 0.0), (0.0, 0.48, 0.0)
    pose[sk.NECK], pose[sk.HEAD] = (0.0, 0.55, 0.0), (0.0, 0.65, 0.0)
    for joint, position in left.items():
        pose[joint] = position
        pose[sk.MIRROR_PERM[joint]] = (-position[0], position[1], position[2])
    return pose / sk.body_size(pose[None])


# Metres of a ~1.70 m adult, Kinect-like joint placement, scaled to body size 1.
TEMPLATE_POSE: np.ndarray = _template_pose()
TEMPLATE_POSE.setflags(write=False)
_CHILDREN = _ORDER[1:]
_PARENT_OF_CHILD = np.asarray(sk.PARENTS)[_CHILDREN]
_TEMPLATE_BONES = TEMPLATE_POSE[_CHILDREN] - TEMPLATE_POSE[_PARENT_OF_CHILD]
_TEMPLATE_LENGTHS = np.linalg.norm(_TEMPLATE_BONES, axis=-1, keepdims=True)


def _ancestor_matrix() -> np.ndarray:
    """A[j, b] = 1 when bone b (ending at joint _CHILDREN[b]) lies on the path root -> j."""
    matrix = np.zeros((sk.NUM_JOINTS, len(_CHILDREN)))
    bone_of = {int(child): b for b, child in enumerate(_CHILDREN)}
    for joint in range(sk.NUM_JOINTS):
        k = joint
        while sk.PARENTS[k] != -1:
            matrix[joint, bone_of[k]] = 1.0
            k = sk.PARENTS[k]
    return matrix


_ANCESTORS = _ancestor_matrix()


def normalise_bone_lengths(seq: np.ndarray) -> np.ndarray:
    """Give a canonical (T, 25, 3) sequence the bone lengths of `TEMPLATE_POSE`.

    Keeps spine_base's trajectory and every bone's direction; a zero-length bone (a joint
    that `canonicalise` filled with its parent's position) takes the template's direction.
    This removes body proportions, which differ between sources (mocap rig, synthetic
    bodies, MediaPipe; see studies/skeleton_gap.py) and say nothing about the action.

    Returns:
        float32 (T, 25, 3).
    """
    arr = np.asarray(seq, dtype=np.float64)
    num_frames = arr.shape[0]
    bones = np.take(arr, _CHILDREN, axis=1) - np.take(arr, _PARENT_OF_CHILD, axis=1)  # (T, 24, 3)
    x, y, z = bones[..., 0], bones[..., 1], bones[..., 2]
    lengths = np.sqrt(x * x + y * y + z * z)[..., None]
    scaled = np.where(
        lengths > 1e-6, bones * (_TEMPLATE_LENGTHS / np.maximum(lengths, 1e-12)), _TEMPLATE_BONES
    )
    # Each joint = spine_base + the sum of the bones on its path (one matrix product for all frames).
    offsets = (_ANCESTORS @ scaled.transpose(1, 0, 2).reshape(len(_CHILDREN), -1)).reshape(-1, num_frames, 3)
    return (arr[:, sk.SPINE_BASE, None] + offsets.transpose(1, 0, 2)).astype(np.float32)
