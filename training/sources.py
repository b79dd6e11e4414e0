"""Labelled clips from the motion sources in ../shared/data, in one form.

Every source module (Kinect sets, motion capture sets) yields `SourceClip`s; the class
table of a source (training/classes/<source>.toml) maps each clip's `label` (the source's
own class id, as its README names it) to a canonical action name and its descriptions.

Class table format (one file per source, read by `load_class_table`):

    source = "utd-mhad"            # the SourceClip.source value
    [[class]]
    label = "a1"                   # the source's own class id (SourceClip.label)
    name = "swipe left"            # canonical action name, shared by every source that has it
    descriptions = ["...", "...", "..."]   # plain sentence; body parts; short phrase
    # optional: skip = true with a `why` string, for a class that is left out

Clips with the same canonical `name` in two sources are the same action ("familiar" when
a held-out source shares a name with the training sources, "novel" otherwise).
"""

from __future__ import annotations

import shutil
import tarfile
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CLASSES_DIR = Path(__file__).with_name("classes")

# The held-out sources of the cross-source protocol, and every source with a class table.
KINECT_SOURCES = ("utd-mhad", "kinder-gator", "nw-ucla", "msr-action3d", "citi")
MOCAP_SOURCES = ("hdm05", "cmu")


class SourceError(ValueError):
    """A source's files or class table are unusable."""


@dataclass(frozen=True)
class SourceClip:
    """One labelled clip of a source.

    Attributes:
        source: the source's short name ("utd-mhad", "hdm05", ...).
        clip_id: unique within the source (usually the file stem).
        label: the source's own class id, the key into its class table.
        subject: the performer id where the source gives one, else "".
        joints: (T, 25, 3) float32 NTU-25 joints, metres, the source's up axis as +y,
            right-handed (the subject's left at -x when facing the camera, as NTU), NaN missing.
        fps: frames per second of `joints`.
        view: camera or view id where the source has several, else "".
    """

    source: str
    clip_id: str
    label: str
    subject: str
    joints: np.ndarray
    fps: float
    view: str = ""


@dataclass(frozen=True)
class SourceClass:
    """One class of a source: its own label, canonical name and descriptions."""

    label: str
    name: str
    descriptions: tuple[str, ...]


def load_class_table(source: str, classes_dir: Path = CLASSES_DIR) -> list[SourceClass]:
    """The classes of `source` from training/classes/<source>.toml, skipped classes left out.

    Raises:
        SourceError: missing or malformed table, a class without name or descriptions, a
            repeated label.
    """
    path = Path(classes_dir) / f"{source}.toml"
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise SourceError(f"{path}: {error}") from None
    if table.get("source") != source:
        raise SourceError(f"{path}: 'source' must be {source!r}")
    classes, labels = [], set()
    for i, entry in enumerate(table.get("class", [])):
        label = str(entry.get("label", ""))
        if not label or label in labels:
            raise SourceError(f"{path}: class #{i + 1} has no label or repeats {label!r}")
        labels.add(label)
        if entry.get("skip"):
            continue
        descriptions = tuple(entry.get("descriptions", ()))
        if not entry.get("name") or not descriptions:
            raise SourceError(f"{path}: class {label!r} needs a name and descriptions")
        classes.append(SourceClass(label, str(entry["name"]), descriptions))
    return classes


def extract_archive(archive: Path, cache_dir: Path, folder: str, progress: bool = False) -> Path:
    """Extract `archive` (a .tar.xz holding the top folder `folder`) into `cache_dir` once.

    The archive is unpacked into a temporary folder inside `cache_dir` and renamed into
    place, so an interrupted extraction is never mistaken for a finished one.

    Returns:
        cache_dir / folder.

    Raises:
        SourceError: the archive is missing or lacks `folder`.
    """
    target = Path(cache_dir) / folder
    if target.is_dir():
        return target
    archive = Path(archive)
    if not archive.is_file():
        raise SourceError(f"missing archive {archive} (is --shared the ../shared folder?)")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".extract-") as tmp:
        _untar(archive, Path(tmp), progress)
        if not (Path(tmp) / folder).is_dir():
            raise SourceError(f"{archive} does not contain the folder {folder}/")
        shutil.move(str(Path(tmp) / folder), target)
    return target


def _untar(archive: Path, into: Path, progress: bool) -> None:
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn(f"extract {archive.name}"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*columns, disable=not progress) as bar:
        with bar.wrap_file(archive.open("rb"), total=archive.stat().st_size) as stream:
            with tarfile.open(fileobj=stream, mode="r:xz") as tar:
                tar.extractall(into, filter="data")
