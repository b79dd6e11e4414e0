"""Read skeleton clips from the files users bring, as NTU-25 (T, 25, 3) float32 arrays.

`read_skeleton_file` dispatches on the suffix:

- ``.npz``: one or more (T, 25, 3) arrays, the array name being the clip name; or the
  CTR-GCN layout (``x_train`` / ``x_test`` of shape (N, T, 150), two persons of 25 x 3).
- ``.skeleton``: NTU RGB+D raw text (docs/skeletons.md), one clip per tracked body.
- ``.npy``: pre-processed NTU arrays (N, 3, T, 25, M) (ST-GCN / Shift-GCN), person 0 of
  each sample; or a single (T, 25, 3) clip; or a CITI-DailyActivities3D clip, (T, 57) or
  (T, 19, 3) (`model.kinect.citi_to_ntu`).
- ``.bvh``: a known rig (Bandai Namco, CMU), via `model.bvh.read_bvh_ntu`.
- ``.amc``: Acclaim motion (CMU, HDM05) on the ``.asf`` skeleton beside it
  (`model.asf_amc.find_asf`), via `model.asf_amc.read_amc_ntu`; 120 fps unless `fps` is given.
- Kinect v1-family files, via `model.kinect`: ``.mat`` (UTD-MHAD), ``.csv`` (Kinder-Gator),
  ``.json`` (NW-UCLA), ``.txt`` (MSR Action3D). They declare their frame rate as BVH does.

Coordinates are returned as stored (NTU camera space is metres, y up); NaN marks missing
joints. User mistakes raise `SkeletonFileError` (a ValueError) naming the file, and for
text formats the line.
"""

from __future__ import annotations

import math
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import numpy as np

from actzero.model import skeleton as sk

DEFAULT_FPS = 30.0  # NTU RGB+D (Kinect v2) frame rate
MAX_TEXT_BYTES = 64 * 1024 * 1024  # a 300-frame, 2-body NTU .skeleton file is ~2 MB
MAX_ARRAY_BYTES = 4 * 1024**3  # decompressed .npz contents
MAX_FRAMES = 1_000_000
MAX_BODIES = 8  # Kinect v2 tracks at most 6 bodies
_CTR_GCN_FEATURES = 150  # 2 persons x 25 joints x 3

Clip = tuple[str, np.ndarray, float]


class SkeletonFileError(ValueError):
    """A skeleton file is malformed, too large or of an unsupported kind."""


def read_skeleton_file(path: str | os.PathLike[str], fps: float | None = None) -> list[Clip]:
    """Read every skeleton clip in a file.

    Args:
        path: a .npz, .skeleton, .npy, .bvh or .amc file, or a Kinect v1-family file
            (module docstring).
        fps: frame rate of the clips; None uses the rate the file or its source declares (BVH,
            Kinect family), 120 fps for AMC (the CMU/HDM05 capture rate) or 30 fps.

    Returns:
        (clip name, (T, 25, 3) float32 joints with NaN for missing ones, fps) per clip, T >= 1.

    Raises:
        FileNotFoundError: no such file.
        SkeletonFileError: unsupported suffix, malformed content or a file beyond the size limits.
    """
    path = Path(path)
    if fps is not None and not (np.isfinite(fps) and fps > 0):
        raise SkeletonFileError(f"fps must be a positive number, got {fps}")
    if not path.is_file():
        raise FileNotFoundError(f"no such skeleton file: {path}")
    suffix = path.suffix.lower()
    if suffix == ".bvh":
        from actzero.model.bvh import read_bvh_ntu

        joints, file_fps = read_bvh_ntu(path)
        return [(path.stem, joints, float(fps or file_fps))]
    if suffix in _KINECT_SUFFIXES:
        joints, file_fps = _read_kinect(path, suffix)
        return [(path.stem, joints, float(fps or file_fps))]
    if suffix == ".amc":
        from actzero.model.asf_amc import find_asf, read_amc_ntu

        joints, file_fps = read_amc_ntu(path, find_asf(path))
        return [(path.stem, joints, float(fps or file_fps))]
    readers = {".npz": _read_npz, ".skeleton": _read_ntu_skeleton, ".npy": _read_npy}
    if suffix not in readers:
        raise SkeletonFileError(
            f"{path}: unsupported file type {suffix or '(none)'!r}; expected .npz, .skeleton, .npy, .bvh, "
            ".amc, .mat, .csv, .json or .txt"
        )
    clips = readers[suffix](path)
    if not clips:
        raise SkeletonFileError(f"{path}: contains no skeleton frames")
    rate = float(fps or DEFAULT_FPS)
    return [(name, joints, rate) for name, joints in clips]


_KINECT_SUFFIXES = (".mat", ".csv", ".json", ".txt")


def _read_kinect(path: Path, suffix: str) -> tuple[np.ndarray, float]:
    """A Kinect v1-family file (model/kinect.py) -> (joints, the source's frame rate)."""
    from actzero.model import kinect

    if suffix == ".mat":
        return kinect.read_utd_mhad(path), kinect.KINECT_V1_FPS
    if suffix == ".csv":
        return kinect.read_kinder_gator(path)
    if suffix == ".json":
        return kinect.read_nw_ucla(path), kinect.KINECT_V1_FPS
    return kinect.read_msr_action3d(path), kinect.MSR_ACTION3D_FPS


def _as_clip(array: np.ndarray, where: str) -> np.ndarray:
    """Validate a (T, 25, 3) numeric array: NaN allowed (missing), inf not."""
    if array.dtype.kind not in "fiu":
        raise SkeletonFileError(f"{where}: dtype {array.dtype} is not numeric")
    if array.ndim != 3 or array.shape[1:] != (sk.NUM_JOINTS, 3) or array.shape[0] == 0:
        raise SkeletonFileError(f"{where}: shape {array.shape}, expected (T, 25, 3) with T >= 1")
    if array.shape[0] > MAX_FRAMES:  # checked before any value is read (a .npy is memory-mapped)
        raise SkeletonFileError(f"{where}: {array.shape[0]} frames, more than the {MAX_FRAMES} limit")
    clip = np.asarray(array, dtype=np.float32)
    if np.isinf(clip).any():
        raise SkeletonFileError(f"{where}: contains infinite values (use NaN for missing joints)")
    return clip


def _trim_padding(joints: np.ndarray) -> np.ndarray:
    """Drop all-zero (padding) frames at both ends; all-zero frames inside become NaN."""
    present = np.any(joints != 0, axis=(1, 2))
    if not present.any():
        return joints[:0]
    first, last = np.flatnonzero(present)[[0, -1]]
    joints = joints[first : last + 1].copy()
    joints[~present[first : last + 1]] = np.nan
    return joints


def _read_npz(path: Path) -> list[tuple[str, np.ndarray]]:
    try:
        with zipfile.ZipFile(path) as archive:
            total = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise SkeletonFileError(f"{path}: not a readable .npz archive ({exc})") from exc
    if total > MAX_ARRAY_BYTES:
        raise SkeletonFileError(
            f"{path}: {total / 1e9:.1f} GB of arrays, more than the {MAX_ARRAY_BYTES / 1e9:.0f} GB limit"
        )
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        raise SkeletonFileError(f"{path}: cannot read arrays ({exc})") from exc
    for name, array in arrays.items():
        if not isinstance(array, np.ndarray):  # np.load hands back the raw bytes of a non-.npy member
            raise SkeletonFileError(f"{path}: member {name!r} is not a .npy array")
    ctr_gcn = [
        name
        for name, array in arrays.items()
        if name.startswith("x_") and array.ndim == 3 and array.shape[2] == _CTR_GCN_FEATURES
    ]
    if ctr_gcn:  # CTR-GCN's x_train / x_test; the one-hot y_* labels are not skeletons
        return [clip for name in ctr_gcn for clip in _ctr_gcn_clips(arrays[name], f"{path}: {name}", name)]
    return [(name, _as_clip(array, f"{path}: array {name!r}")) for name, array in arrays.items()]


def _ctr_gcn_clips(samples: np.ndarray, where: str, name: str) -> list[tuple[str, np.ndarray]]:
    """(N, T, 150) CTR-GCN samples -> person 0 of each, padding frames dropped."""
    if samples.dtype.kind not in "fiu":
        raise SkeletonFileError(f"{where}: dtype {samples.dtype} is not numeric")
    persons = samples.reshape(samples.shape[0], samples.shape[1], 2, sk.NUM_JOINTS, 3)
    clips = []
    for i in range(persons.shape[0]):
        joints = _trim_padding(np.asarray(persons[i, :, 0], dtype=np.float32))
        if len(joints):
            clips.append((f"{name}[{i}]", _as_clip(joints, f"{where}[{i}]")))
    return clips


def _read_npy(path: Path) -> list[tuple[str, np.ndarray]]:
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise SkeletonFileError(f"{path}: not a readable .npy array ({exc})") from exc
    if _is_citi(array):
        from actzero.model.kinect import citi_to_ntu

        return [(path.stem, citi_to_ntu(array, str(path)))]
    if array.ndim == 3:
        return [(path.stem, _as_clip(np.asarray(array), str(path)))]
    if array.ndim != 5 or array.shape[1] != 3 or array.shape[3] != sk.NUM_JOINTS or array.shape[4] < 1:
        raise SkeletonFileError(
            f"{path}: shape {array.shape}, expected pre-processed NTU (N, 3, T, 25, M) or one clip (T, 25, 3)"
        )
    if array.dtype.kind not in "fiu":
        raise SkeletonFileError(f"{path}: dtype {array.dtype} is not numeric")
    clips = []
    for i in range(array.shape[0]):  # one sample at a time from the memory map
        joints = _trim_padding(np.asarray(array[i, :, :, :, 0], dtype=np.float32).transpose(1, 2, 0))
        if len(joints):
            clips.append((f"{path.stem}[{i}]", _as_clip(joints, f"{path}: sample {i}")))
    return clips


def _is_citi(array: np.ndarray) -> bool:
    """A CITI-DailyActivities3D clip: 19 joints, flat (T, 57) or (T, 19, 3); never an NTU shape."""
    return (array.ndim == 2 and array.shape[1] == 57) or (array.ndim == 3 and array.shape[1:] == (19, 3))


class _Lines:
    """Non-blank lines of a text file, split into fields, with line numbers for errors."""

    def __init__(self, path: Path, handle: TextIO) -> None:
        self._path = path
        self._lines: Iterator[tuple[int, str]] = enumerate(handle, start=1)
        self.lineno = 0

    def error(self, message: str) -> SkeletonFileError:
        return SkeletonFileError(f"{self._path}:{self.lineno}: {message}")

    def fields(self, expected: str) -> list[str]:
        for lineno, line in self._lines:
            self.lineno = lineno
            parts = line.split()
            if parts:
                return parts
        raise self.error(f"unexpected end of file, expected {expected}")

    def integer(self, what: str, low: int, high: int) -> int:
        parts = self.fields(what)
        try:
            value = int(parts[0])
        except ValueError:
            raise self.error(f"expected {what} (an integer), found {parts[0][:30]!r}") from None
        if len(parts) != 1 or not low <= value <= high:
            raise self.error(f"{what} must be one integer in {low}..{high}, found {' '.join(parts)[:60]!r}")
        return value

    def at_end(self) -> bool:
        return all(not line.strip() for _, line in self._lines)


def _read_ntu_skeleton(path: Path) -> list[tuple[str, np.ndarray]]:
    size = path.stat().st_size
    if size > MAX_TEXT_BYTES:
        raise SkeletonFileError(
            f"{path}: {size / 1e6:.0f} MB, more than the {MAX_TEXT_BYTES / 1e6:.0f} MB limit"
        )
    bodies: dict[str, dict[int, np.ndarray]] = {}  # body id -> frame -> (25, 3)
    try:
        with open(path, encoding="ascii") as handle:
            lines = _Lines(path, handle)
            num_frames = lines.integer("the frame count", 0, MAX_FRAMES)
            for frame in range(num_frames):
                for _ in range(lines.integer(f"the body count of frame {frame + 1}", 0, MAX_BODIES)):
                    info = lines.fields("a body info line")
                    if len(info) != 10:
                        raise lines.error(f"body info line has {len(info)} fields, expected 10")
                    lines.integer("the joint count", sk.NUM_JOINTS, sk.NUM_JOINTS)
                    bodies.setdefault(info[0], {})[frame] = _read_joints(lines)
            if not lines.at_end():
                raise lines.error(f"unexpected data after the {num_frames} declared frames")
    except UnicodeDecodeError as exc:
        raise SkeletonFileError(f"{path}: not an NTU .skeleton text file ({exc.reason})") from None

    ranked = sorted(bodies.values(), key=len, reverse=True)  # the main (longest-tracked) body first
    clips = []
    for rank, frames in enumerate(ranked):
        first, last = min(frames), max(frames)
        joints = np.full((last - first + 1, sk.NUM_JOINTS, 3), np.nan, np.float32)
        for frame, values in frames.items():
            joints[frame - first] = values
        clips.append((path.stem if len(ranked) == 1 else f"{path.stem}/body{rank}", joints))
    return clips


def _read_joints(lines: _Lines) -> np.ndarray:
    """25 joint lines (x y z depthX depthY colorX colorY qw qx qy qz trackingState) -> (25, 3).

    Joints that Kinect did not track (state 0) or at exactly (0, 0, 0) are NaN.
    """
    joints = np.empty((sk.NUM_JOINTS, 3), np.float32)
    for j in range(sk.NUM_JOINTS):
        parts = lines.fields(f"joint {j + 1} of 25")
        if len(parts) != 12:
            raise lines.error(f"joint line has {len(parts)} fields, expected 12")
        try:
            x, y, z = float(parts[0]), float(parts[1]), float(parts[2])
            state = int(parts[11])
        except ValueError:
            raise lines.error(f"non-numeric value in joint line {' '.join(parts)[:60]!r}") from None
        if not (math.isfinite(x) and math.isfinite(y) and math.isfinite(z)):
            raise lines.error("joint position is not finite")
        joints[j] = (x, y, z) if state != 0 and (x, y, z) != (0.0, 0.0, 0.0) else np.nan
    return joints
