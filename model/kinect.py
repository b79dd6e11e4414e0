"""Kinect v1-family skeleton files -> NTU-25 (T, 25, 3) float32 clips.

One reader per source in ../shared/data/kinect (each folder's README gives the format):

- UTD-MHAD `.mat` (`read_utd_mhad`): variable `d_skel` (20, 3, T), the dataset's own joint
  order (head first), metres, Kinect camera space, ~30 fps.
- Kinder-Gator `.csv` (`read_kinder_gator`): Timestamp, X/Y/Z of the 20 Kinect SDK joints,
  User-ID, Action; metres, camera space; fps from the median timestamp spacing.
- NW-UCLA `.json` (`read_nw_ucla`): `skeletons` T x 20 x 3, Kinect SDK order, metres, camera
  space; no rate in the files, Kinect v1's nominal 30 fps is used.
- MSR Action3D `.txt` (`read_msr_action3d`): 20 lines of 4 numbers per frame, in the order the
  README infers (not the SDK order). The real-world file (`x y z c`, metres) is the one to
  use; a screen file (`u v d c`: pixels of a 320 x 240 depth image, depth in 4 mm units) is
  recognised by its depth column and back-projected with the README's exact relation
  (x = (u - 160) z / 285.6, y = (120 - v) z / 285.6, z = d / 250), its overflow rows (v about
  2.1e9) becoming NaN. `c` is ignored: it is 0 for most frames of some joints (neck 84 %,
  spine 96 %), so it is no tracking flag. ~15 fps (literature; not in the files).
- CITI-DailyActivities3D `.npy` (`read_citi`): (100, 57) = 100 frames x 19 joints, the MSR
  order without the hip centre; normalised (see below).

Axes. Kinect camera space (x to the camera's left, y up, z away from the camera) is NTU's, so
the camera-space sources are kept as stored: the subject's left has smaller x, y is up
(checked on real clips in tests/model/test_kinect.py). CITI stores (x, depth, vertical), a
mirror of camera space: its columns are reordered to (x, vertical, depth), which makes the
body right-handed again (its feet then point to -z, towards the camera, as in NTU) with +x
the subject's right, as the README found from the drinking hand.

Units. Metres everywhere except CITI, whose every body was retargeted to one fixed skeleton
(thigh 0.576, head to feet about 1.95) and normalised per frame (hip line along +x, origin at
Kinect's hip centre). Its shape is kept as stored; canonicalisation removes scale.

Joints. Kinect v1 has 20 of NTU's 25 joints. The Kinect v1 hip centre, spine and shoulder
centre are NTU's spine_base, spine_mid and spine_shoulder. Derived:
- neck: on spine_shoulder -> head at `NECK_FRACTION` (NTU's template body: 0.41);
- hand tips: the wrist -> hand vector extended by `HAND_TIP_EXTENSION` times its length beyond
  the hand (the template has hand -> tip as long as wrist -> hand);
- thumbs: NaN (nothing in a 20-joint skeleton says how the hand is turned);
  `canonical.fill_missing` puts a never-seen joint on its parent (the hand);
- CITI's spine_base: its origin (0, 0, 0) in every frame, where the README places Kinect's
  hip centre.

Defects marked NaN: joints at exactly (0, 0, 0) in camera-space files (the camera's own
position: MSR's all-zero frames; all-zero frames at the ends are dropped, as
`readers._trim_padding` does); CITI's outlier frames (`citi_outlier_frames`).

Malformed, truncated or oversized files raise `readers.SkeletonFileError` naming the file.
"""

from __future__ import annotations

import csv
import io
import json
import os
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from actzero.model import skeleton as sk
from actzero.model.readers import MAX_FRAMES, MAX_TEXT_BYTES, SkeletonFileError, _trim_padding

KINECT_V1_FPS = 30.0
MSR_ACTION3D_FPS = 15.0
CITI_FPS = 30.0  # CITI was resampled to 100 frames upstream; its rate is lost, this is nominal
NECK_FRACTION = 0.4
HAND_TIP_EXTENSION = 1.0

_LIMBS = (
    sk.L_SHOULDER, sk.L_ELBOW, sk.L_WRIST, sk.L_HAND, sk.R_SHOULDER, sk.R_ELBOW, sk.R_WRIST, sk.R_HAND,
    sk.L_HIP, sk.L_KNEE, sk.L_ANKLE, sk.L_FOOT, sk.R_HIP, sk.R_KNEE, sk.R_ANKLE, sk.R_FOOT,
)  # fmt: skip
# NTU index of each source joint, in the source's order.
SDK_ORDER = (sk.SPINE_BASE, sk.SPINE_MID, sk.SPINE_SHOULDER, sk.HEAD, *_LIMBS)  # Kinder-Gator, NW-UCLA
UTD_ORDER = (sk.HEAD, sk.SPINE_SHOULDER, sk.SPINE_MID, sk.SPINE_BASE, *_LIMBS)
MSR_ORDER = (
    sk.L_SHOULDER, sk.R_SHOULDER, sk.SPINE_SHOULDER, sk.SPINE_MID, sk.L_HIP, sk.R_HIP, sk.SPINE_BASE,
    sk.L_ELBOW, sk.R_ELBOW, sk.L_WRIST, sk.R_WRIST, sk.L_HAND, sk.R_HAND, sk.L_KNEE, sk.R_KNEE,
    sk.L_ANKLE, sk.R_ANKLE, sk.L_FOOT, sk.R_FOOT, sk.HEAD,
)  # fmt: skip
CITI_ORDER = tuple(j for j in MSR_ORDER if j != sk.SPINE_BASE)

# MSR screen files: u = 160 + F x / z, v = 120 - F y / z, d = 250 z (README).
_MSR_FOCAL, _MSR_CENTRE, _MSR_DEPTH_PER_METRE = 285.6, (160.0, 120.0), 250.0
_MSR_SCREEN_MIN_DEPTH = 50.0  # a real-world z above 50 m is no Kinect; screen depth is ~500-750
_MSR_OVERFLOW = 1e6  # the screen files' overflow marker is 2147480000

# CITI outlier frames: shoulders turned past this projection on the hip line (the width is 0.41
# when square; the 1st percentile of clean clips is 0.18), or a joint this far from its median
# over `_CITI_MEDIAN_HALF` frames either side.
_CITI_MIN_SHOULDER_SPAN = 0.15
_CITI_JUMP = 0.3
_CITI_MEDIAN_HALF = 2


def to_ntu(joints: np.ndarray, order: Sequence[int]) -> np.ndarray:
    """Place source joints into the NTU-25 layout and derive the neck and hand tips.

    Args:
        joints: (T, J, 3) joints of a Kinect v1-family skeleton, NaN for missing ones.
        order: the NTU index of each of the J source joints.

    Returns:
        (T, 25, 3) float32; joints with no source and nothing to derive them from are NaN.
    """
    out = np.full((joints.shape[0], sk.NUM_JOINTS, 3), np.nan, np.float32)
    out[:, list(order)] = joints
    spine_shoulder, head = out[:, sk.SPINE_SHOULDER], out[:, sk.HEAD]
    out[:, sk.NECK] = spine_shoulder + NECK_FRACTION * (head - spine_shoulder)
    for wrist, hand, tip in ((sk.L_WRIST, sk.L_HAND, sk.L_HAND_TIP), (sk.R_WRIST, sk.R_HAND, sk.R_HAND_TIP)):
        out[:, tip] = out[:, hand] + HAND_TIP_EXTENSION * (out[:, hand] - out[:, wrist])
    return out


def _check_size(path: Path) -> None:
    size = path.stat().st_size
    if size > MAX_TEXT_BYTES:
        raise SkeletonFileError(
            f"{path}: {size / 1e6:.0f} MB, more than the {MAX_TEXT_BYTES / 1e6:.0f} MB limit"
        )


def _camera_space(path: Path, joints: np.ndarray, order: Sequence[int]) -> np.ndarray:
    """Finite check, zero joints -> NaN, zero frames at the ends dropped, then `to_ntu`."""
    joints = np.asarray(joints, dtype=np.float64)
    if joints.shape[0] == 0:
        raise SkeletonFileError(f"{path}: contains no skeleton frames")
    if joints.shape[0] > MAX_FRAMES:
        raise SkeletonFileError(f"{path}: {joints.shape[0]} frames, more than the {MAX_FRAMES} limit")
    if np.isinf(joints).any():
        raise SkeletonFileError(f"{path}: contains infinite coordinates")
    joints = _trim_padding(joints)
    if len(joints) == 0:
        raise SkeletonFileError(f"{path}: contains no skeleton frames (every frame is all zero)")
    joints[np.all(joints == 0, axis=-1)] = np.nan
    return to_ntu(joints, order)


def read_utd_mhad(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a UTD-MHAD skeleton `.mat` file (variable `d_skel`, shape (20, 3, T)) as NTU-25.

    Raises:
        SkeletonFileError: not a MAT-file, no `d_skel`, wrong shape or values, too large.
    """
    import scipy.io

    path = Path(path)
    _check_size(path)
    try:
        variables = scipy.io.loadmat(path, variable_names=["d_skel"])
    except (scipy.io.matlab.MatReadError, ValueError, TypeError, OSError, NotImplementedError, EOFError,
            zlib.error, struct.error, KeyError, IndexError) as exc:  # fmt: skip
        raise SkeletonFileError(f"{path}: not a readable MATLAB .mat file ({str(exc)[:120]})") from None
    skel = variables.get("d_skel")
    if not isinstance(skel, np.ndarray) or skel.dtype.kind not in "fiu":
        raise SkeletonFileError(f"{path}: no numeric variable 'd_skel' (a UTD-MHAD skeleton file has one)")
    if skel.ndim != 3 or skel.shape[:2] != (20, 3):
        raise SkeletonFileError(f"{path}: d_skel has shape {skel.shape}, expected (20, 3, T)")
    return _camera_space(path, skel.transpose(2, 0, 1), UTD_ORDER)


def _kinder_gator_header() -> list[str]:
    names = ("HipCenter", "Spine", "ShoulderCenter", "Head")
    for side in ("Left", "Right"):
        names += tuple(f"{part}{side}" for part in ("Shoulder", "Elbow", "Wrist", "Hand"))
    for side in ("Left", "Right"):
        names += tuple(f"{part}{side}" for part in ("Hip", "Knee", "Ankle", "Foot"))
    return ["Timestamp", *(f"{name}{axis}" for name in names for axis in "XYZ"), "User-ID", "Action"]


KINDER_GATOR_HEADER = tuple(_kinder_gator_header())


def read_kinder_gator(path: str | os.PathLike[str]) -> tuple[np.ndarray, float]:
    """Read a Kinder-Gator `.csv` trial as NTU-25.

    Returns:
        (joints (T, 25, 3) float32, fps from the median spacing of the Timestamp column in ms).

    Raises:
        SkeletonFileError: wrong header, a short or non-numeric row, too large.
    """
    path = Path(path)
    _check_size(path)
    try:
        text = path.read_text(encoding="ascii")
    except UnicodeDecodeError as exc:
        raise SkeletonFileError(f"{path}: not a Kinder-Gator CSV text file ({exc.reason})") from None
    rows = csv.reader(io.StringIO(text))
    header = [field.strip() for field in next(rows, [])]
    if header[-1:] == [""]:  # every line ends with a comma
        header = header[:-1]
    if tuple(header) != KINDER_GATOR_HEADER:
        raise SkeletonFileError(f"{path}:1: not a Kinder-Gator header (Timestamp, HipCenterX, ... Action)")
    width = len(KINDER_GATOR_HEADER)
    values = []
    for lineno, row in enumerate(rows, start=2):
        if not any(field.strip() for field in row):
            continue
        if len(row) < width or any(field.strip() for field in row[width:]):
            raise SkeletonFileError(
                f"{path}:{lineno}: {len(row)} fields, expected {width} (and a trailing comma)"
            )
        try:
            values.append([float(field) for field in row[: width - 2]])
        except ValueError:
            raise SkeletonFileError(f"{path}:{lineno}: non-numeric value in {','.join(row)[:60]!r}") from None
    table = np.asarray(values, dtype=np.float64).reshape(-1, width - 2)
    if not np.isfinite(table).all():
        raise SkeletonFileError(f"{path}: contains non-finite values")
    joints = _camera_space(path, table[:, 1:].reshape(-1, 20, 3), SDK_ORDER)
    steps = np.diff(table[:, 0])
    steps = steps[steps > 0]
    fps = 1000.0 / float(np.median(steps)) if steps.size else KINECT_V1_FPS
    return joints, fps


def read_nw_ucla(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an NW-UCLA `all_sqe` `.json` file (`skeletons`: T x 20 x 3) as NTU-25.

    Raises:
        SkeletonFileError: not JSON, no `skeletons` list of 20 x 3 numbers per frame, too large.
    """
    path = Path(path)
    _check_size(path)
    try:
        document = json.loads(path.read_bytes())
    except (ValueError, RecursionError) as exc:
        raise SkeletonFileError(f"{path}: not a readable JSON file ({str(exc)[:120]})") from None
    frames = document.get("skeletons") if isinstance(document, dict) else None
    if not isinstance(frames, list):
        raise SkeletonFileError(f"{path}: no 'skeletons' list (an NW-UCLA skeleton file has one)")
    try:
        joints = np.asarray(frames, dtype=np.float64)
    except (ValueError, TypeError):
        raise SkeletonFileError(f"{path}: 'skeletons' is not a T x 20 x 3 list of numbers") from None
    if joints.ndim != 3 or joints.shape[1:] != (20, 3):
        raise SkeletonFileError(f"{path}: 'skeletons' has shape {joints.shape}, expected (T, 20, 3)")
    if np.isnan(joints).any():
        raise SkeletonFileError(f"{path}: 'skeletons' contains NaN")
    return _camera_space(path, joints, SDK_ORDER)


def read_msr_action3d(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an MSR Action3D skeleton `.txt` file (real-world or screen, see the module docstring).

    Raises:
        SkeletonFileError: not 4 numbers per line, a line count that is not a multiple of 20,
            an empty sequence, too large.
    """
    path = Path(path)
    _check_size(path)
    rows = []
    try:
        with open(path, encoding="ascii") as handle:
            for lineno, line in enumerate(handle, start=1):
                parts = line.split()
                if not parts:
                    continue
                if len(parts) != 4:
                    raise SkeletonFileError(f"{path}:{lineno}: {len(parts)} fields, expected 4 (x y z c)")
                try:
                    rows.append([float(part) for part in parts])
                except ValueError:
                    raise SkeletonFileError(
                        f"{path}:{lineno}: non-numeric value in {line.strip()[:60]!r}"
                    ) from None
    except UnicodeDecodeError as exc:
        raise SkeletonFileError(f"{path}: not an MSR Action3D text file ({exc.reason})") from None
    table = np.asarray(rows, dtype=np.float64).reshape(-1, 4)
    if len(table) % 20:
        raise SkeletonFileError(f"{path}: {len(table)} joint lines, not a multiple of 20 (truncated?)")
    if not np.isfinite(table).all():
        raise SkeletonFileError(f"{path}: contains non-finite values")
    xyz = table[:, :3].reshape(-1, 20, 3)
    present = np.any(xyz != 0, axis=-1)
    if present.any() and np.median(xyz[..., 2][present]) > _MSR_SCREEN_MIN_DEPTH:
        xyz = _msr_screen_to_metres(xyz)
    return _camera_space(path, xyz, MSR_ORDER)


def _msr_screen_to_metres(screen: np.ndarray) -> np.ndarray:
    """Back-project MSR screen joints (u, v, d) to metres; zeros stay zero, overflow rows NaN."""
    u, v, d = screen[..., 0], screen[..., 1], screen[..., 2]
    z = d / _MSR_DEPTH_PER_METRE
    out = np.stack([(u - _MSR_CENTRE[0]) * z / _MSR_FOCAL, (_MSR_CENTRE[1] - v) * z / _MSR_FOCAL, z], axis=-1)
    out[np.all(screen == 0, axis=-1)] = 0.0
    out[(np.abs(screen) > _MSR_OVERFLOW).any(axis=-1)] = np.nan
    return out


def citi_outlier_frames(joints: np.ndarray) -> np.ndarray:
    """(T,) mask of implausible frames in a CITI clip (NTU-25 joints, as `read_citi` returns them).

    A frame is an outlier when its shoulders are turned past `_CITI_MIN_SHOULDER_SPAN` along the
    hip line (x; CITI's normalisation puts the hips along it), i.e. nearly sideways or crossed, as
    Kinect's tracking does when it loses the body; or when a joint lies more than `_CITI_JUMP` from
    its median over the neighbouring frames (a spike). On the 482 clips these flag 1.2 % of the
    frames of clips 1-300 and 7.3 % of those of the injected-outlier clips 301-482
    (docs/data-sources.md).
    """
    span = joints[:, sk.R_SHOULDER, 0] - joints[:, sk.L_SHOULDER, 0]
    half = _CITI_MEDIAN_HALF
    padded = np.pad(joints, ((half, half), (0, 0), (0, 0)), mode="edge")
    median = np.median(sliding_window_view(padded, 2 * half + 1, axis=0), axis=-1)
    jump = np.linalg.norm(np.nan_to_num(joints - median), axis=-1).max(axis=-1)
    return (span < _CITI_MIN_SHOULDER_SPAN) | (jump > _CITI_JUMP)


def citi_to_ntu(array: np.ndarray, where: str) -> np.ndarray:
    """A CITI array ((T, 57) or (T, 19, 3), normalised) as NTU-25 with outlier frames NaN.

    Raises:
        SkeletonFileError: wrong shape or dtype, non-finite values, every frame an outlier.
    """
    if array.dtype.kind not in "fiu":
        raise SkeletonFileError(f"{where}: dtype {array.dtype} is not numeric")
    if array.ndim == 2 and array.shape[1] == 3 * len(CITI_ORDER):
        array = array.reshape(array.shape[0], len(CITI_ORDER), 3)
    if array.ndim != 3 or array.shape[1:] != (len(CITI_ORDER), 3) or array.shape[0] == 0:
        raise SkeletonFileError(f"{where}: shape {array.shape}, expected a CITI clip (T, 57) or (T, 19, 3)")
    if array.shape[0] > MAX_FRAMES:
        raise SkeletonFileError(f"{where}: {array.shape[0]} frames, more than the {MAX_FRAMES} limit")
    joints = np.asarray(array, dtype=np.float64)[..., [0, 2, 1]]  # (x, depth, up) -> (x, up, depth)
    if not np.isfinite(joints).all():
        raise SkeletonFileError(f"{where}: contains non-finite values")
    out = to_ntu(joints, CITI_ORDER)
    out[:, sk.SPINE_BASE] = 0.0
    outliers = citi_outlier_frames(out)
    if outliers.all():
        raise SkeletonFileError(
            f"{where}: every frame is an outlier (shoulders across the hip line or jumps)"
        )
    out[outliers] = np.nan
    return out


def read_citi(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a CITI-DailyActivities3D `.npy` clip as NTU-25 (see `citi_to_ntu`).

    Raises:
        SkeletonFileError: not a readable array, wrong shape, non-finite values.
    """
    path = Path(path)
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise SkeletonFileError(f"{path}: not a readable .npy array ({exc})") from None
    return citi_to_ntu(array, str(path))
