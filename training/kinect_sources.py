"""The five Kinect v1-family sources in ../shared/data/kinect as labelled NTU-25 `SourceClip`s.

`iter_clips(source, shared_dir, cache_dir)` extracts the source's archive once into
`cache_dir` (`sources.extract_archive`), then reads every clip in sorted file-name order with
`model.kinect`. A clip that cannot be read is skipped: each one is logged as a warning and
reported to the optional `on_skip` callback, and a final warning gives the count.

Labels (`SourceClip.label`, the source's own class id as its README names it), subjects, views:

- utd-mhad: "a1".."a27", subject "s1".."s8" (`aA_sS_tT_skeleton.mat`).
- kinder-gator: the motion name of the file name (`POSE-p565_01-Raise-your-hand-<ms>.csv` ->
  "Raise-your-hand"; "Throw-a-ball-" keeps its trailing hyphen), subject "p565".
- nw-ucla: "a01".."a12" as in the file names (10 present), subject "s01".."s10", view
  "v01".."v03".
- msr-action3d: "a01".."a20", subject "s01".."s10" (the real-world 3D files only; the screen
  files hold the same sequences).
- citi: "1".."15" (action_labels.npy, the README's numbering), subject "s1".."s10" from
  subject_labels.npy; "" for label 11, which the README says marks the unknown performers of
  the injected-outlier clips 301-482.

Frame rates: Kinder-Gator from each file's timestamps; UTD-MHAD and NW-UCLA Kinect v1's 30 fps;
MSR Action3D 15 fps (literature, per its README); CITI none survives its resampling to 100
frames, 30 fps is nominal (`model.kinect.CITI_FPS`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from actzero.model import kinect
from actzero.model.readers import SkeletonFileError
from actzero.training.sources import KINECT_SOURCES, SourceClip, SourceError, extract_archive

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Layout:
    folder: str  # under shared/data/kinect
    archive: str
    root: str  # the folder the archive creates
    pattern: str  # glob of the clip files under root


LAYOUTS = {
    "utd-mhad": _Layout("utd-mhad", "UTD-MHAD-skeleton.tar.xz", "UTD-MHAD", "Skeleton/*_skeleton.mat"),
    "kinder-gator": _Layout("kinder-gator", "Kinder-Gator.tar.xz", "Kinder-Gator", "*/POSE-*.csv"),
    "nw-ucla": _Layout("nw-ucla", "NW-UCLA-all_sqe.tar.xz", "NW-UCLA", "all_sqe/*.json"),
    "msr-action3d": _Layout(
        "msr-action3d",
        "MSRAction3D-skeleton.tar.xz",
        "MSRAction3D",
        "MSRAction3DSkeletonReal3D/*_skeleton3D.txt",
    ),
    "citi": _Layout(
        "citi-dailyactivities3d",
        "CITI-DailyActivities3D-skeleton.tar.xz",
        "CITI-DailyActivities3D",
        "citi_data/citi_data_*.npy",
    ),
}

_UTD_NAME = re.compile(r"(a\d+)_(s\d+)_t\d+_skeleton")
_KINDER_GATOR_NAME = re.compile(r"POSE-(p\d+)_\d+-(.+)-\d+")
_NW_UCLA_NAME = re.compile(r"(a\d+)_(s\d+)_e\d+_(v\d+)")
_MSR_NAME = re.compile(r"(a\d+)_(s\d+)_e\d+_skeleton3D")
_CITI_NAME = re.compile(r"citi_data_(\d+)")
_CITI_UNKNOWN_SUBJECT = 11


def extract_source(source: str, shared_dir: Path, cache_dir: Path, progress: bool = False) -> Path:
    """Extract `source`'s archive into `cache_dir` unless already there; return its root folder.

    Raises:
        SourceError: unknown source, missing archive.
    """
    if source not in LAYOUTS:
        raise SourceError(f"unknown Kinect source {source!r}; expected one of {', '.join(KINECT_SOURCES)}")
    layout = LAYOUTS[source]
    archive = Path(shared_dir) / "data" / "kinect" / layout.folder / layout.archive
    return extract_archive(archive, Path(cache_dir), layout.root, progress)


def iter_clips(
    source: str,
    shared_dir: Path,
    cache_dir: Path,
    on_skip: Callable[[Path, str], None] | None = None,
) -> Iterator[SourceClip]:
    """Every readable clip of a Kinect source, in sorted file-name order.

    Args:
        source: one of `training.sources.KINECT_SOURCES`.
        shared_dir: the ../shared folder.
        cache_dir: where the archive is extracted (once).
        on_skip: called with (file, reason) for each clip that is skipped.

    Raises:
        SourceError: unknown source, missing archive, a file name or label file not as the README says.
    """
    root = extract_source(source, shared_dir, cache_dir)
    layout = LAYOUTS[source]
    paths = sorted(root.glob(layout.pattern), key=lambda p: p.name)
    if not paths:
        raise SourceError(f"{root}: no files match {layout.pattern}")
    citi = _citi_labels(root, len(paths)) if source == "citi" else None
    skipped = 0
    for path in paths:
        try:
            yield _read_clip(source, path, citi)
        except SkeletonFileError as error:
            skipped += 1
            log.warning("%s: skipped %s", source, error)
            if on_skip is not None:
                on_skip(path, str(error))
    if skipped:
        log.warning("%s: skipped %d of %d clips", source, skipped, len(paths))


def _match(pattern: re.Pattern[str], path: Path) -> re.Match[str]:
    match = pattern.fullmatch(path.stem)
    if match is None:
        raise SourceError(f"{path}: file name does not follow the source's naming ({pattern.pattern})")
    return match


def _read_clip(source: str, path: Path, citi: tuple[np.ndarray, np.ndarray] | None) -> SourceClip:
    stem = path.stem
    if source == "utd-mhad":
        label, subject = _match(_UTD_NAME, path).groups()
        return SourceClip(source, stem, label, subject, kinect.read_utd_mhad(path), kinect.KINECT_V1_FPS)
    if source == "kinder-gator":
        subject, label = _match(_KINDER_GATOR_NAME, path).groups()
        joints, fps = kinect.read_kinder_gator(path)
        return SourceClip(source, stem, label, subject, joints, fps)
    if source == "nw-ucla":
        label, subject, view = _match(_NW_UCLA_NAME, path).groups()
        joints = kinect.read_nw_ucla(path)
        return SourceClip(source, stem, label, subject, joints, kinect.KINECT_V1_FPS, view)
    if source == "msr-action3d":
        label, subject = _match(_MSR_NAME, path).groups()
        return SourceClip(
            source, stem, label, subject, kinect.read_msr_action3d(path), kinect.MSR_ACTION3D_FPS
        )
    assert citi is not None
    actions, subjects = citi
    row = int(_match(_CITI_NAME, path).group(1)) - 1
    if not 0 <= row < len(actions):
        raise SourceError(f"{path}: no row {row + 1} in the label files ({len(actions)} rows)")
    subject = "" if subjects[row] == _CITI_UNKNOWN_SUBJECT else f"s{subjects[row]}"
    return SourceClip(source, stem, str(actions[row]), subject, kinect.read_citi(path), kinect.CITI_FPS)


def _citi_labels(root: Path, num_clips: int) -> tuple[np.ndarray, np.ndarray]:
    """(action, subject) label per clip row from citi_labels/*.npy (uint8, shape (N, 1))."""
    labels = []
    for name in ("action_labels.npy", "subject_labels.npy"):
        path = root / "citi_labels" / name
        try:
            array = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as error:
            raise SourceError(f"{path}: unreadable label file ({error})") from None
        if array.dtype.kind not in "iu" or array.ndim != 2 or array.shape[1] != 1:
            raise SourceError(f"{path}: expected an (N, 1) integer array, got {array.dtype} {array.shape}")
        labels.append(array[:, 0].astype(int))
    if len(labels[0]) != len(labels[1]) or len(labels[0]) < num_clips:
        raise SourceError(
            f"{root / 'citi_labels'}: {len(labels[0])} / {len(labels[1])} rows for {num_clips} clips"
        )
    return labels[0], labels[1]
