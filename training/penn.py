"""Penn Action 2D joint labels (../shared/data/video/penn-action-2d): one `PennClip` per .mat file.

2D only, in image pixels (origin top-left, y down). `penn_joints` maps a clip to NTU-25 with
y up and z = 0 (a flat body: the 2D route's input, or what a 3D model gets without depth);
`with_penn_action` appends the clips to a data set as the held-out source "penn-action"
(actzero eval --protocol cross-source --holdout penn-action).

Each `labels/NNNN.mat` (MATLAB 5, `scipy.io.loadmat`) holds `action`, `pose` (coarse view:
front, back, left, right), `x`, `y` (T x 13, stored as float64, uint16 or uint8: cast to
float32 here), `visibility` (T x 13, 0/1), `train` (1 / -1), `bbox`, `dimensions` ([height
width T]) and `nframes`. The frame rate is not stored.

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
from actzero.model.canonical import torso_from_limbs
from actzero.training.sources import extract_archive

PENN_JOINTS: tuple[str, ...] = (
    "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist",
    "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip
NUM_PENN_JOINTS = len(PENN_JOINTS)

# Penn joint i -> NTU-25 index, by the README's names. Penn's
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

SOURCE = "penn-action"
FPS = 30.0  # not stored in the files; the videos are consumer footage at about 30 fps
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


def penn_joints(clip: PennClip) -> np.ndarray:
    """(T, 25, 3) float32 NTU-25 joints of a clip: pixels, z = 0, NaN elsewhere.

    Axes as NTU camera space and MediaPipe's mapped image landmarks (model/mapping.py): x to
    the camera's left, y up (the image turned by 180 degrees, not mirrored).

    The 13 labelled joints go to `PENN_TO_NTU` (invisible ones keep their estimated
    coordinates, as the annotators placed them); spine_base, spine_shoulder and spine_mid are
    the hips', the shoulders' and their midpoints, the neck sits 0.4 of the way from
    spine_shoulder to the head (`canonical.torso_from_limbs`); hands and feet are NaN.
    """
    out = np.full((len(clip.xy), sk.NUM_JOINTS, 3), np.nan, dtype=np.float32)
    out[:, list(PENN_TO_NTU), 0] = -clip.xy[..., 0]
    out[:, list(PENN_TO_NTU), 1] = -clip.xy[..., 1]
    out[:, list(PENN_TO_NTU), 2] = 0.0
    return torso_from_limbs(out)


def with_penn_action(dataset, shared_dir: Path, cache_dir: Path):
    """`dataset` (a training.dataset.Dataset) with every Penn Action clip appended as source "penn-action".

    Classes come from training/classes/penn-action.toml: a class whose canonical name the data
    set has takes that label, the others are appended as new classes.

    Raises:
        SourceError: the archive or the class table is missing or malformed.
        PennError: a malformed label file.
    """
    from dataclasses import replace

    from actzero.training.dataset import ClassInfo, Dataset
    from actzero.training.sources import load_class_table

    table = {c.label: c for c in load_class_table(SOURCE)}
    classes = list(dataset.classes)
    index = {c.name: i for i, c in enumerate(classes)}
    frames, labels, ids = [], [], []
    for clip in iter_penn_clips(shared_dir, cache_dir):
        entry = table.get(clip.action)
        if entry is None:
            continue
        if entry.name not in index:
            index[entry.name] = len(classes)
            classes.append(ClassInfo(entry.name, entry.descriptions, SOURCE, LICENCE, ()))
        label = index[entry.name]
        sources = tuple(dict.fromkeys((*classes[label].sources, SOURCE)))
        classes[label] = replace(classes[label], sources=sources)
        frames.append(penn_joints(clip))
        labels.append(label)
        ids.append(clip.clip_id)
    n = len(frames)
    lengths = np.concatenate([dataset.lengths(), [len(f) for f in frames]])
    extra = {"clip_ids": ids, "sources": [SOURCE] * n, "actors": [""] * n, "licences": [LICENCE] * n,
             "styles": [""] * n, "tags": ids, "views": [""] * n}  # fmt: skip
    per_clip = {
        name: np.concatenate([np.asarray(getattr(dataset, name)).astype(str), np.asarray(values, dtype=str)])
        for name, values in extra.items()
    }
    return Dataset(
        frames=np.concatenate([dataset.frames, *frames]),
        offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        labels=np.concatenate([dataset.labels, np.asarray(labels, dtype=np.int64)]),
        classes=classes,
        meta=dataset.meta | {"appended_sources": [SOURCE]},
        **per_clip,
    )
