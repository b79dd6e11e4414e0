"""The Bandai Namco Research Motion Datasets 1 and 2 as labelled NTU-25 clips.

The archives in ../shared/data/bandai-namco are extracted once into a cache folder; each
BVH file becomes a `BandaiClip` (NTU-25 joints via `actzero.model.bvh.read_bvh_ntu`) with
the content and style named by its JSON label file and `cfg/*_label.txt`.

Bandai publishes no actor ids. Clips of one capture session share their hierarchy's Hips
OFFSET, so `BandaiClip.actor` is a performer group derived from it. In dataset 2 these
groups are three, and they split the seven styles cleanly (active/elderly/exhausted,
feminine/youthful, masculine/normal), as the README's "three professional actors" would;
use them for group-disjoint validation, not as verified identities.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from actzero.model.bvh import bvh_to_ntu, read_bvh
from actzero.training.sources import SourceError, extract_archive

DATASETS = ("Bandai-Namco-Research-Motiondataset-1", "Bandai-Namco-Research-Motiondataset-2")
LICENCE = "CC BY-NC 4.0"
ATTRIBUTION = (
    "Bandai Namco Research Motion Dataset, (c) 2022 Bandai Namco Research Inc., CC BY-NC 4.0; "
    "Kobayashi et al., Motion Capture Dataset for Practical Use of AI-based Motion Editing and "
    "Stylization, arXiv 2306.08861"
)
SOURCE = "bandai-namco"


class BandaiError(ValueError):
    """The Bandai Namco data is missing or inconsistent."""


@dataclass(frozen=True)
class ClipFile:
    """One BVH file of the data sets with its labels.

    Attributes:
        path: the .bvh file.
        clip_id: the file stem, e.g. "dataset-2_wave-right-hand_normal_001".
        dataset: 1 or 2.
        content: the content tag as in cfg/content_label.txt, e.g. "dataset-2_wave-right-hand".
        style: the style tag as in cfg/style_label.txt, e.g. "dataset-2_normal".
    """

    path: Path
    clip_id: str
    dataset: int
    content: str
    style: str


@dataclass(frozen=True)
class BandaiClip:
    """A converted clip: `joints` (T, 25, 3) float32, metres, y up, at `fps`; `actor` a performer group."""

    file: ClipFile
    actor: str
    joints: np.ndarray
    fps: float


def archive_dir(shared_dir: Path) -> Path:
    """The folder holding the Bandai Namco archives under a ../shared checkout."""
    return Path(shared_dir) / "data" / "bandai-namco"


def extract_archives(shared_dir: Path, cache_dir: Path, progress: bool = True) -> list[Path]:
    """Extract both archives into `cache_dir` unless already there; return the dataset folders.

    Raises:
        BandaiError: an archive is missing or lacks its folder.
    """
    try:
        return [
            extract_archive(archive_dir(shared_dir) / f"{name}.tar.xz", cache_dir, name, progress)
            for name in DATASETS
        ]
    except SourceError as error:
        raise BandaiError(str(error)) from None


def _labels(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def list_clip_files(dataset_dirs: Sequence[Path]) -> list[ClipFile]:
    """All BVH files of the given dataset folders with their labels, sorted by clip id.

    Raises:
        BandaiError: a label file is missing or disagrees with the file name.
    """
    files = []
    for folder in dataset_dirs:
        folder = Path(folder)
        contents = _labels(folder / "cfg" / "content_label.txt")
        styles = _labels(folder / "cfg" / "style_label.txt")
        dataset = int(folder.name.rsplit("-", 1)[1])
        for path in sorted((folder / "data").glob("*.bvh")):
            label_path = path.with_suffix(".json")
            try:
                label = json.loads(label_path.read_text(encoding="utf-8"))
                content, style = contents[label["content"]], styles[label["style"]]
            except (OSError, ValueError, KeyError, IndexError, TypeError) as error:
                raise BandaiError(f"{label_path}: unusable label file ({error})") from None
            prefix = f"dataset-{dataset}_"
            expected = f"{content}_{style.removeprefix(prefix)}_"
            if not path.stem.startswith(expected):
                raise BandaiError(f"{label_path}: labels {content}/{style} disagree with the file name")
            files.append(ClipFile(path, path.stem, dataset, content, style))
    return sorted(files, key=lambda f: f.clip_id)


def performer_group(dataset: int, hips_offset: np.ndarray) -> str:
    """A stable performer-group id from a clip's Hips OFFSET (see the module docstring)."""
    digest = hashlib.sha1(np.round(hips_offset, 3).tobytes()).hexdigest()[:6]
    return f"d{dataset}-{digest}"


def load_clip(file: ClipFile) -> BandaiClip:
    """Read one clip as NTU-25.

    Raises:
        BVHError: the file is malformed or not the Bandai rig.
    """
    motion = read_bvh(file.path)
    hips = motion.joints[motion.joint_index("Hips")].offset
    return BandaiClip(file, performer_group(file.dataset, hips), bvh_to_ntu(motion), motion.fps)


def _be_nice() -> None:
    os.nice(10)


def load_clips(files: Sequence[ClipFile], processes: int = 2, progress: bool = True) -> list[BandaiClip]:
    """Convert clips in up to `processes` niced worker processes (at most 2), in the order given.

    Raises:
        BVHError: a file is malformed.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    processes = max(1, min(2, processes))
    columns = (TextColumn("Bandai Namco BVH"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    clips: list[BandaiClip] = []
    with Progress(*columns, disable=not progress) as bar:
        task = bar.add_task("convert", total=len(files))
        if processes == 1:
            for file in files:
                clips.append(load_clip(file))
                bar.advance(task)
        else:
            context = multiprocessing.get_context("spawn")
            with context.Pool(processes, initializer=_be_nice) as pool:
                for clip in pool.imap(load_clip, files, chunksize=8):
                    clips.append(clip)
                    bar.advance(task)
    return clips
