"""Acclaim ASF/AMC motion capture (CMU, HDM05): reader, forward kinematics, and -> NTU-25.

ASF (the skeleton): `:units` (length, angle), `:root` (order of the AMC root values, axis
order, position, orientation), `:bonedata` (per bone: name, unit direction, length, `axis`
angles with their order, `dof`), `:hierarchy` (parent followed by its children). AMC (the
motion): a few header lines, then per frame its number and one line per bone with dofs
("bone v1 v2 ..."), values in the ASF dof order (the root's in its `order`).

Forward kinematics, as the Acclaim format defines it (column vectors):
- C = the bone's `axis` rotation: the listed axes applied in order, e.g. "XYZ" gives
  C = Rz @ Ry @ Rx; M = the bone's dof rotation built the same way from its dofs in the
  ASF `dof` order ("rx ry rz" gives M = Rz @ Ry @ Rx; missing axes are identity).
- world[bone] = world[parent] @ C @ M @ C^-1; the root's C comes from `orientation`.
- end[bone] = end[parent] + world[bone] @ (direction * length); the root's end is the
  root `position` plus its TX TY TZ values.
With every dof at 0 this gives the ASF rest pose (each bone's end = sum of the vectors
direction * length from the root).

Units: `:units length L` means 1 file unit = 1/L inch (CMU and HDM05 write L = 0.45, so a
unit is 5.644 cm); angles in degrees unless `angle rad` (ASF) or `:RADIANS` (AMC).
Axes: ASF/AMC is y up, right-handed, rest pose facing +z with the subject's left at +x;
like the BVH rigs (model/bvh.py) the output is turned 180 degrees about y (`FACE_MINUS_Z`) so
the rest pose faces -z with the left at -x, as in NTU camera space.

The ASF bones (CMU / HDM05 names) -> NTU-25, each NTU joint at a fraction along one bone
(0 = its start, the parent's end; 1 = its end):
- spine_base = root (pelvis centre, ~10 cm above the hip joints);
- spine_mid = halfway along upperback (the spine ~19 cm above the root);
- spine_shoulder = end of thorax (base of the neck, where the clavicles start);
- neck = end of lowerneck; head = end of head (~10 cm above the base of the skull);
- shoulder = end of lclavicle, elbow = end of lhumerus;
- wrist = end of lwrist: the CMU forearm is two bones, lradius then lwrist (its only dof
  is the forearm twist), and lhand's flexion dofs sit at lwrist's end;
- hand = end of lhand (knuckles), hand tip = end of lfingers, thumb = end of lthumb;
- hip = end of lhipjoint, knee = end of lfemur, ankle = end of ltibia, foot = end of lfoot
  (ball of the foot; ltoes would be the toe tips);
- and the same for the r* bones.

Malformed input raises `ASFError` or `AMCError` (ValueErrors) naming the file and line;
files and frame counts beyond fixed limits are refused, so memory stays bounded.

numpy only: this module is on the per-frame path's side of the layering.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from actzero.model import skeleton
from actzero.model.bvh import FACE_MINUS_Z, MAX_FRAMES, MAX_JOINTS, MAX_MOTION_VALUES, axis_rotations

MAX_ASF_BYTES = 4 * 1024 * 1024  # a CMU ASF is ~7 KB
MAX_AMC_BYTES = 256 * 1024 * 1024  # the longest CMU AMC here (5,133 frames) is ~2 MB
AMC_FPS = 120.0  # AMC files do not store the rate; CMU and HDM05 capture at 120 fps
INCH = 0.0254

_ROOT = "root"
_ROTATION_DOFS = ("rx", "ry", "rz")
_ROOT_DOFS = ("tx", "ty", "tz", "rx", "ry", "rz")


class ASFError(ValueError):
    """An ASF skeleton file is malformed, too large, or lacks bones the NTU mapping needs."""


class AMCError(ValueError):
    """An AMC motion file is malformed, too large, or does not match its skeleton."""


@dataclass(frozen=True)
class ASFBone:
    """One bone of an ASF skeleton (the root is bone 0, with no vector).

    Attributes:
        name: bone name ("root" for the root).
        parent: index of the parent bone in `ASFSkeleton.bones`, -1 for the root.
        vector: (3,) direction * length in file units, world axes of the rest pose.
        axis: (3, 3) the bone's local frame C (from `axis`; the root's from `orientation`).
        dofs: dof names in AMC value order, lower case ("rx", "ry", "rz"; root also "tx"...).
    """

    name: str
    parent: int
    vector: np.ndarray
    axis: np.ndarray
    dofs: tuple[str, ...]


@dataclass(frozen=True)
class ASFSkeleton:
    """A parsed ASF file: bones with parents before children, root first."""

    bones: tuple[ASFBone, ...]
    root_position: np.ndarray  # (3,) file units
    metres_per_unit: float

    def bone_index(self, name: str) -> int:
        """Index of the bone called `name`; raises ASFError when absent."""
        for i, bone in enumerate(self.bones):
            if bone.name == name:
                return i
        raise ASFError(f"no bone named {name!r}")


@dataclass(frozen=True)
class AMCMotion:
    """A parsed AMC file on its skeleton: `values` (T, C) dof values in degrees, C = all dofs
    in bone order; NaN for the dofs of a bone whose line a frame lacks."""

    skeleton: ASFSkeleton
    values: np.ndarray

    @property
    def num_frames(self) -> int:
        return int(self.values.shape[0])


def _lines(path: Path, max_bytes: int, error: type[ValueError]) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of the non-blank, non-comment lines; latin-1 (the HDM05 headers)."""
    size = path.stat().st_size
    if size > max_bytes:
        raise error(f"{path}: {size / 2**20:.0f} MiB is larger than the {max_bytes / 2**20:.0f} MiB limit")
    with path.open("r", encoding="latin-1") as stream:
        for lineno, line in enumerate(stream, start=1):
            fields = line.split()
            if fields and not fields[0].startswith("#"):
                yield lineno, fields


def _numbers(fields: list[str], count: int, what: str, where: str) -> np.ndarray:
    if len(fields) < count:
        raise ASFError(f"{where}: {what} needs {count} numbers, found {len(fields)}")
    try:
        values = np.array([float(f) for f in fields[:count]])
    except ValueError:
        raise ASFError(f"{where}: {what} has a non-numeric value in {' '.join(fields)[:60]!r}") from None
    if not np.isfinite(values).all():
        raise ASFError(f"{where}: {what} is not finite")
    return values


def _axis_matrix(angles: np.ndarray, order: str, where: str) -> np.ndarray:
    """C from three angles (degrees, x y z) and an order such as "XYZ": the first axis applied first."""
    order = order.upper()
    if sorted(order) != ["X", "Y", "Z"]:
        raise ASFError(f"{where}: axis order must be a permutation of XYZ, found {order!r}")
    matrix = np.eye(3)
    for axis in order:
        matrix = axis_rotations(axis, np.asarray(angles["XYZ".index(axis)])) @ matrix
    return matrix


class _ASFParser:
    """Collects the sections of an ASF file, then builds the bone tree."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.length_unit = 1.0
        self.angle_scale = 1.0  # to degrees
        self.root_dofs: tuple[str, ...] = _ROOT_DOFS
        self.root_order = "XYZ"
        self.root_position = np.zeros(3)
        self.root_orientation = np.zeros(3)
        self.bonedata: dict[str, tuple[np.ndarray, np.ndarray, str, tuple[str, ...], int]] = {}
        self.children: dict[str, list[str]] = {}
        self.parent_of: dict[str, str] = {}

    def where(self, lineno: int) -> str:
        return f"{self.path}:{lineno}"

    def parse(self) -> ASFSkeleton:
        section = ""
        bone: dict[str, object] | None = None
        for lineno, fields in _lines(self.path, MAX_ASF_BYTES, ASFError):
            key = fields[0]
            if key.startswith(":"):
                if bone is not None:
                    raise ASFError(f"{self.where(lineno)}: bone block not closed with 'end'")
                section = key.lower()
                if section in (":units", ":root", ":bonedata", ":hierarchy"):
                    continue
                section = ""  # :version, :name, :documentation and unknown sections: skipped
                continue
            if section == ":units":
                self._unit(fields, lineno)
            elif section == ":root":
                self._root(fields, lineno)
            elif section == ":bonedata":
                bone = self._bonedata(fields, lineno, bone)
            elif section == ":hierarchy":
                self._hierarchy(fields, lineno)
        if bone is not None:
            raise ASFError(f"{self.path}: unexpected end of file inside a bone block")
        return self._build()

    def _unit(self, fields: list[str], lineno: int) -> None:
        if len(fields) < 2:
            raise ASFError(f"{self.where(lineno)}: unit line needs a name and a value")
        name, value = fields[0].lower(), fields[1].lower()
        if name == "length":
            length = _numbers(fields[1:], 1, "length unit", self.where(lineno))[0]
            if length <= 0:
                raise ASFError(f"{self.where(lineno)}: length unit must be positive, found {fields[1]!r}")
            self.length_unit = float(length)
        elif name == "angle":
            if value not in ("deg", "rad"):
                raise ASFError(f"{self.where(lineno)}: angle unit must be deg or rad, found {fields[1]!r}")
            self.angle_scale = 1.0 if value == "deg" else float(np.rad2deg(1.0))

    def _root(self, fields: list[str], lineno: int) -> None:
        key = fields[0].lower()
        if key == "order":
            dofs = tuple(f.lower() for f in fields[1:])
            if sorted(dofs) != sorted(_ROOT_DOFS):
                raise ASFError(f"{self.where(lineno)}: root order must list TX TY TZ RX RY RZ once each")
            self.root_dofs = dofs
        elif key == "axis":
            _axis_matrix(np.zeros(3), fields[1] if len(fields) > 1 else "", self.where(lineno))
            self.root_order = fields[1].upper()
        elif key == "position":
            self.root_position = _numbers(fields[1:], 3, "root position", self.where(lineno))
        elif key == "orientation":
            self.root_orientation = _numbers(fields[1:], 3, "root orientation", self.where(lineno))

    def _bonedata(self, fields: list[str], lineno: int, bone: dict[str, object] | None) -> dict | None:
        key = fields[0].lower()
        where = self.where(lineno)
        if key == "begin":
            if bone is not None:
                raise ASFError(f"{where}: 'begin' inside a bone block")
            return {"line": lineno}
        if bone is None:
            raise ASFError(f"{where}: expected 'begin' of a bone block, found {key[:30]!r}")
        if key == "end":
            self._add_bone(bone, lineno)
            return None
        if key == "name" and len(fields) == 2:
            bone["name"] = fields[1]
        elif key == "direction":
            bone["direction"] = _numbers(fields[1:], 3, "direction", where)
        elif key == "length":
            bone["length"] = _numbers(fields[1:], 1, "length", where)[0]
        elif key == "axis":
            if len(fields) != 5:
                raise ASFError(f"{where}: axis needs three angles and an order such as XYZ")
            angles = _numbers(fields[1:], 3, "axis", where) * self.angle_scale
            bone["axis"] = _axis_matrix(angles, fields[4], where)
        elif key == "dof":
            dofs = tuple(f.lower() for f in fields[1:])
            if not set(dofs) <= set(_ROTATION_DOFS) or len(set(dofs)) != len(dofs):
                found = " ".join(fields[1:])[:60]
                raise ASFError(f"{where}: bone dofs must be distinct rx, ry, rz, found {found!r}")
            bone["dof"] = dofs
        elif key == "name":
            raise ASFError(f"{where}: bone name must be one word")
        # id, limits and the limit lines "(lo hi)" are not needed
        return bone

    def _add_bone(self, bone: dict[str, object], lineno: int) -> None:
        for needed in ("name", "direction", "length", "axis"):
            if needed not in bone:
                raise ASFError(f"{self.where(lineno)}: bone block without {needed!r}")
        name = str(bone["name"])
        if name == _ROOT or name in self.bonedata:
            raise ASFError(f"{self.where(lineno)}: duplicate bone name {name!r}")
        if len(self.bonedata) >= MAX_JOINTS:
            raise ASFError(f"{self.where(lineno)}: more than {MAX_JOINTS} bones; refusing the file")
        direction = np.asarray(bone["direction"])
        norm = np.linalg.norm(direction)
        length = float(bone["length"])  # type: ignore[arg-type]
        if length < 0:
            raise ASFError(f"{self.where(lineno)}: bone {name!r} has a negative length")
        unit = direction / norm if norm > 0 else direction
        dofs: tuple[str, ...] = bone.get("dof", ())  # type: ignore[assignment]
        self.bonedata[name] = (unit * length, np.asarray(bone["axis"]), name, dofs, int(bone["line"]))

    def _hierarchy(self, fields: list[str], lineno: int) -> None:
        if fields[0].lower() in ("begin", "end"):
            return
        parent, children = fields[0], fields[1:]
        for child in children:
            if child in self.parent_of:
                raise ASFError(f"{self.where(lineno)}: bone {child!r} has two parents")
            self.parent_of[child] = parent
        self.children.setdefault(parent, []).extend(children)

    def _build(self) -> ASFSkeleton:
        for name in [*self.parent_of, *self.children]:
            if name != _ROOT and name not in self.bonedata:
                raise ASFError(f"{self.path}: hierarchy names bone {name!r}, which :bonedata lacks")
        root_axis = _axis_matrix(self.root_orientation * self.angle_scale, self.root_order, str(self.path))
        bones = [ASFBone(_ROOT, -1, np.zeros(3), root_axis, self.root_dofs)]
        frontier = [(_ROOT, 0)]
        while frontier:  # breadth first: parents before children, no recursion
            name, index = frontier.pop(0)
            for child in self.children.get(name, []):
                vector, axis, _, dofs, _ = self.bonedata[child]
                bones.append(ASFBone(child, index, vector, axis, dofs))
                frontier.append((child, len(bones) - 1))
        unreachable = sorted(set(self.bonedata) - {b.name for b in bones})
        if unreachable:
            raise ASFError(
                f"{self.path}: bones not connected to the root in :hierarchy: {', '.join(unreachable[:5])}"
            )
        return ASFSkeleton(tuple(bones), self.root_position * 1.0, INCH / self.length_unit)


def read_asf(path: str | os.PathLike[str]) -> ASFSkeleton:
    """Read an ASF skeleton file.

    Raises:
        ASFError: malformed or oversized file (the message names file and line).
        OSError: the file cannot be read.
    """
    return _ASFParser(Path(path)).parse()


def read_amc(path: str | os.PathLike[str], asf: ASFSkeleton, *, max_frames: int = MAX_FRAMES) -> AMCMotion:
    """Read an AMC motion file on the skeleton `asf`.

    Frames must be numbered consecutively; every line names a bone of the skeleton with
    exactly its dof count. A bone missing from a frame leaves its dofs NaN.

    Raises:
        AMCError: malformed, truncated or oversized file (the message names file and line).
        OSError: the file cannot be read.
    """
    path = Path(path)
    columns: dict[str, tuple[int, int]] = {}
    count = 0
    for bone in asf.bones:
        columns[bone.name] = (count, len(bone.dofs))
        count += len(bone.dofs)
    frame_cap = max(1, min(max_frames, MAX_MOTION_VALUES // max(count, 1)))
    values = np.full((min(1024, frame_cap), count), np.nan)
    scale = 1.0
    frame = -1  # index of the current frame; -1 before the first
    last_number = 0
    seen: set[str] = set()
    for lineno, fields in _lines(path, MAX_AMC_BYTES, AMCError):
        where = f"{path}:{lineno}"
        head = fields[0]
        if head.startswith(":"):
            if frame >= 0:
                raise AMCError(f"{where}: header line {head[:30]!r} after the first frame")
            scale = float(np.rad2deg(1.0)) if head.upper() == ":RADIANS" else scale
            continue
        if head.isdigit() and len(fields) == 1:
            number = int(head)
            if frame >= 0 and number != last_number + 1:
                raise AMCError(
                    f"{where}: frame {number} follows frame {last_number}; expected consecutive frames"
                )
            frame, last_number = frame + 1, number
            if frame >= frame_cap:
                raise AMCError(f"{where}: more than {frame_cap} frames of {count} values; split the file")
            if frame >= len(values):
                grown = np.full((min(2 * len(values), frame_cap), count), np.nan)
                grown[: len(values)] = values
                values = grown
            seen = set()
            continue
        if frame < 0:
            raise AMCError(f"{where}: expected a frame number, found {' '.join(fields)[:60]!r}")
        if head not in columns:
            raise AMCError(f"{where}: unknown bone {head[:40]!r} (not in the skeleton)")
        if head in seen:
            raise AMCError(f"{where}: bone {head!r} twice in frame {last_number}")
        seen.add(head)
        first, width = columns[head]
        if len(fields) - 1 != width:
            raise AMCError(f"{where}: bone {head!r} has {len(fields) - 1} values, its dofs are {width}")
        try:
            row = np.array([float(f) for f in fields[1:]])
        except ValueError:
            raise AMCError(f"{where}: non-numeric value in {' '.join(fields)[:60]!r}") from None
        if not np.isfinite(row).all():
            raise AMCError(f"{where}: non-finite value in {' '.join(fields)[:60]!r}")
        values[frame, first : first + width] = row
    if frame < 0:
        raise AMCError(f"{path}: no frames")
    values = values[: frame + 1].copy()
    rotation = [i for b in asf.bones for i, d in enumerate(b.dofs, columns[b.name][0]) if d.startswith("r")]
    values[:, rotation] *= scale
    return AMCMotion(asf, values)


def forward_kinematics(motion: AMCMotion) -> np.ndarray:
    """End positions (T, B, 3) of every bone (the root's: its position), file units, ASF axes."""
    bones = motion.skeleton.bones
    num_frames = motion.num_frames
    ends = np.empty((num_frames, len(bones), 3))
    world = np.empty((num_frames, len(bones), 3, 3))
    column = 0
    for b, bone in enumerate(bones):
        local = np.broadcast_to(np.eye(3), (num_frames, 3, 3))
        translation = np.zeros((num_frames, 3))
        for dof in bone.dofs:
            value = motion.values[:, column]
            column += 1
            if dof.startswith("t"):
                translation[:, "xyz".index(dof[1])] = value
            else:
                local = axis_rotations(dof[1].upper(), value) @ local
        rotation = bone.axis @ local @ bone.axis.T
        if bone.parent < 0:
            world[:, b] = rotation
            ends[:, b] = motion.skeleton.root_position + translation
        else:
            world[:, b] = world[:, bone.parent] @ rotation
            ends[:, b] = ends[:, bone.parent] + world[:, b] @ bone.vector
    return ends


# NTU joint -> (ASF bone, fraction along it); see the module docstring for the choices.
_ASF_TO_NTU: tuple[tuple[int, str, float], ...] = (
    (skeleton.SPINE_BASE, "root", 1.0),
    (skeleton.SPINE_MID, "upperback", 0.5),
    (skeleton.NECK, "lowerneck", 1.0),
    (skeleton.HEAD, "head", 1.0),
    (skeleton.L_SHOULDER, "lclavicle", 1.0),
    (skeleton.L_ELBOW, "lhumerus", 1.0),
    (skeleton.L_WRIST, "lwrist", 1.0),
    (skeleton.L_HAND, "lhand", 1.0),
    (skeleton.R_SHOULDER, "rclavicle", 1.0),
    (skeleton.R_ELBOW, "rhumerus", 1.0),
    (skeleton.R_WRIST, "rwrist", 1.0),
    (skeleton.R_HAND, "rhand", 1.0),
    (skeleton.L_HIP, "lhipjoint", 1.0),
    (skeleton.L_KNEE, "lfemur", 1.0),
    (skeleton.L_ANKLE, "ltibia", 1.0),
    (skeleton.L_FOOT, "lfoot", 1.0),
    (skeleton.R_HIP, "rhipjoint", 1.0),
    (skeleton.R_KNEE, "rfemur", 1.0),
    (skeleton.R_ANKLE, "rtibia", 1.0),
    (skeleton.R_FOOT, "rfoot", 1.0),
    (skeleton.SPINE_SHOULDER, "thorax", 1.0),
    (skeleton.L_HAND_TIP, "lfingers", 1.0),
    (skeleton.L_THUMB, "lthumb", 1.0),
    (skeleton.R_HAND_TIP, "rfingers", 1.0),
    (skeleton.R_THUMB, "rthumb", 1.0),
)


def amc_to_ntu(motion: AMCMotion) -> np.ndarray:
    """NTU-25 joints (T, 25, 3) float32, metres, y up, rest pose facing -z; NaN where missing.

    Raises:
        ASFError: the skeleton lacks a bone of the CMU/HDM05 layout.
    """
    names = {bone.name for bone in motion.skeleton.bones}
    missing = sorted({name for _, name, _ in _ASF_TO_NTU} - names)
    if missing:
        raise ASFError(f"not a CMU/HDM05 skeleton: missing bones {', '.join(missing)}")
    ends = forward_kinematics(motion)
    out = np.empty((motion.num_frames, skeleton.NUM_JOINTS, 3))
    for ntu, name, fraction in _ASF_TO_NTU:
        b = motion.skeleton.bone_index(name)
        parent = motion.skeleton.bones[b].parent
        start = ends[:, parent] if parent >= 0 else ends[:, b]
        out[:, ntu] = start + fraction * (ends[:, b] - start)
    return (out @ FACE_MINUS_Z.T * motion.skeleton.metres_per_unit).astype(np.float32)


def read_amc_ntu(
    amc_path: str | os.PathLike[str], asf_path: str | os.PathLike[str]
) -> tuple[np.ndarray, float]:
    """Read an AMC file with its ASF skeleton as NTU-25 joints.

    Returns:
        joints (T, 25, 3) float32 in metres (see `amc_to_ntu`) and the frame rate (`AMC_FPS`).

    Raises:
        ASFError, AMCError: a malformed file, or a skeleton that is not the CMU/HDM05 layout.
    """
    asf = read_asf(asf_path)
    try:
        return amc_to_ntu(read_amc(amc_path, asf)), AMC_FPS
    except ASFError as exc:
        if str(exc).startswith(str(asf_path)):
            raise
        raise ASFError(f"{asf_path}: {exc}") from None


def find_asf(amc_path: str | os.PathLike[str]) -> Path:
    """The ASF skeleton of an AMC file: the only .asf in its folder, else the one whose name
    is the AMC name's prefix before "_" (HDM05: HDM_bd.asf for HDM_bd_*.amc; CMU: 02.asf for
    02_01.amc).

    Raises:
        AMCError: no ASF, or several and none (or more than one) matching by name.
    """
    amc_path = Path(amc_path)
    candidates = sorted(p for p in amc_path.parent.iterdir() if p.suffix.lower() == ".asf" and p.is_file())
    if len(candidates) == 1:
        return candidates[0]
    by_name = [p for p in candidates if amc_path.stem.startswith(p.stem + "_")]
    if len(by_name) == 1:
        return by_name[0]
    if not candidates:
        raise AMCError(f"{amc_path}: no .asf skeleton file in the same folder")
    raise AMCError(
        f"{amc_path}: {len(candidates)} .asf files in the folder and {len(by_name)} named like the "
        "motion (<name>.asf for <name>_*.amc); keep the one skeleton of this motion beside it"
    )
