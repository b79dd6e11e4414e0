"""Penn Action 2D joint labels (../shared/data/video/penn-action-2d): one `PennClip` per .mat file.

2D only, in image pixels (origin top-left, y down); no NTU mapping yet (`PENN_TO_NTU` gives
the joint correspondence for later). Each `labels/NNNN.mat` (MATLAB 5, `scipy.io.loadmat`)
holds `action`, `pose` (coarse view: front, back, left, right), `x`, `y` (T x 13, stored as
float64, uint16 or uint8: cast to float32 here), `visibility` (T x 13, 0/1), `train`
(1 / -1), `bbox`, `dimensions` ([height width T]) and `nframes`. The frame rate is not stored.

Joint order (`PENN_JOINTS`, the dataset README's 1-based order made 0-based): head, left
shoulder, right shoulder, left elbow, right elbow, left wrist, right wrist, left hip, right
hip, left knee, right knee, left ankle, right ankle.

Licence: none found; research / non-commercial use, cite W. Zhang, M. Zhu, K. Derpanis,
"From Actemes to Action: A Strongly-supervised Representation for Detailed Action
Understanding", ICCV 2013.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from actzero.model import skeleton as sk
from actzero.training.sources import extract_archive

PENN_JOINTS: tuple[str, ...] = (
    "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist",
    "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip
NUM_PENN_JOINTS = len(PENN_JOINTS)

# Penn joint i -> NTU-25 index (for the later 2D -> NTU issue), by the README's names. Penn's
# head is a point on the head, like NTU's; its hips are the leg joints, lower than Kinect's.
# Check the sides before use: in the 567 "front" clips with both shoulders visible,
# left_shoulder lies at the smaller image x in 96 % of frames (a person facing the camera has
# their own left at the larger x), and in 598 "back" clips at the larger x in 79 %. Either the
# labels are the observer's left/right or `pose` names the opposite view; without the video
# this is unresolved.
PENN_TO_NTU: tuple[int, ...] = (
    sk.HEAD, sk.L_SHOULDER, sk.R_SHOULDER, sk.L_ELBOW, sk.R_ELBOW, sk.L_WRIST, sk.R_WRIST,
    sk.L_HIP, sk.R_HIP, sk.L_KNEE, sk.R_KNEE, sk.L_ANKLE, sk.R_ANKLE,
)  # fmt: skip

MAX_MAT_BYTES = 16 * 1024 * 1024  # the largest label file is ~0.1 MB
PENN_FOLDER = "PennAction"
LICENCE = "no licence found: research / non-commercial use, cite"
CITATION = (
    "Weiyu Zhang, Menglong Zhu, Konstantinos Derpanis, From Actemes to Action: A Strongly-supervised "
    "Representation for Detailed Action Understanding, ICCV 2013"
)


class PennError(ValueError):
    """A Penn Action label file is malformed or too large."""


@dataclass(frozen=True)
class PennClip:
    """One Penn Action clip's labels.

    Attributes:
        clip_id: the file stem, "0001" ... "2326".
        action: the `action` string, e.g. "jumping_jacks" (the class label).
        xy: (T, 13, 2) float32 image pixels (x right, y down), joints in `PENN_JOINTS` order.
        visibility: (T, 13) bool; invisible joints still carry estimated coordinates.
        pose: the coarse view ("front", "back", "left", "right"), "" when absent.
        image_size: (height, width) of the video in pixels.
        train: True for the dataset's train split, False for test, None when absent.
    """

    clip_id: str
    action: str
    xy: np.ndarray
    visibility: np.ndarray
    pose: str
    image_size: tuple[int, int]
    train: bool | None


def _text(value: object) -> str:
    """A MATLAB char field as loadmat gives it (array(['text'])) -> "text"; "" when empty."""
    array = np.asarray(value)
    return str(array.ravel()[0]).strip() if array.size else ""


def read_penn_clip(path: str | os.PathLike[str]) -> PennClip:
    """Read one `labels/NNNN.mat` file.

    Raises:
        PennError: not a readable MAT file, a missing field, or inconsistent shapes (the
            message names the file).
        OSError: the file cannot be read.
    """
    from scipy.io import loadmat
    from scipy.io.matlab import MatReadError

    path = Path(path)
    size = path.stat().st_size
    if size > MAX_MAT_BYTES:
        raise PennError(
            f"{path}: {size / 2**20:.0f} MiB is larger than the {MAX_MAT_BYTES / 2**20:.0f} MiB limit"
        )
    try:
        mat = loadmat(path)
    except (MatReadError, ValueError, TypeError, OSError) as error:
        raise PennError(f"{path}: not a readable MAT file ({error})") from None
    missing = [key for key in ("action", "x", "y", "visibility", "dimensions") if key not in mat]
    if missing:
        raise PennError(f"{path}: missing field(s) {', '.join(missing)}")
    x, y, visibility = (np.asarray(mat[key]) for key in ("x", "y", "visibility"))
    for name, array in (("x", x), ("y", y), ("visibility", visibility)):
        if array.ndim != 2 or array.shape[1] != NUM_PENN_JOINTS or array.shape[0] == 0:
            raise PennError(
                f"{path}: {name} has shape {array.shape}, expected (T, {NUM_PENN_JOINTS}), T >= 1"
            )
        if array.dtype.kind not in "fiu":
            raise PennError(f"{path}: {name} has the non-numeric type {array.dtype}")
    if not x.shape == y.shape == visibility.shape:
        raise PennError(f"{path}: x {x.shape}, y {y.shape} and visibility {visibility.shape} differ")
    xy = np.stack([x, y], axis=-1).astype(np.float32)
    if not np.isfinite(xy).all():
        raise PennError(f"{path}: joint coordinates are not all finite")
    dimensions = np.asarray(mat["dimensions"]).ravel()
    if dimensions.size < 2 or dimensions.dtype.kind not in "fiu" or (dimensions[:2] <= 0).any():
        raise PennError(f"{path}: dimensions {dimensions.tolist()} is not [height width T]")
    split = np.asarray(mat.get("train", [])).ravel()
    action = _text(mat["action"])
    if not action:
        raise PennError(f"{path}: empty action")
    return PennClip(
        clip_id=path.stem,
        action=action,
        xy=xy,
        visibility=visibility != 0,
        pose=_text(mat.get("pose", [])),
        image_size=(int(dimensions[0]), int(dimensions[1])),
        train=bool(split[0] > 0) if split.size else None,
    )


def iter_penn_clips(shared_dir: Path, cache_dir: Path) -> Iterator[PennClip]:
    """Every Penn Action clip in file order (0001 ... 2326), extracting the archive into
    `cache_dir` on first use.

    Raises:
        SourceError: the archive is missing.
        PennError: a malformed label file.
    """
    archive = Path(shared_dir) / "data" / "video" / "penn-action-2d" / "PennAction-labels.tar.xz"
    root = extract_archive(archive, cache_dir, PENN_FOLDER)
    for path in sorted((root / "labels").glob("*.mat")):
        yield read_penn_clip(path)
