"""The optical motion capture sources in ../shared/data/mocap as `SourceClip`s (NTU-25).

Labels (`SourceClip.label`), as agreed for the class tables:
- "hdm05": the HDM05 class name of the subset (README table), e.g. "kickLFront1Reps"; the
  folder number (1-11) and the class part of the file name must agree.
- "cmu": the trial id "SS_TT" (e.g. "02_01"), since CMU has only free-text descriptions
  (`cmu_descriptions` gives them from index.tsv).

Files: HDM05 is ASF/AMC only (288 clips); subject = actor (bd, bk, dg = the README's train
split; mm, tr = test). CMU has ASF/AMC for subjects 01-03 and BVH for 02-16; a trial in both
formats (02_01-02_04, 03_01, 03_02) is read from its AMC (the original capture, the
subject's own skeleton), so each of the 70 trials gives one clip. The Daz-friendly BVH files
start with a reference pose (one frame more than the AMC of the same trial), which is dropped.

Joints stay at the native rate (`fps`: 120 for AMC and the Daz BVH, 30 for subject 16's BVH);
the data build resamples them.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from actzero.model.asf_amc import find_asf, read_amc_ntu
from actzero.model.bvh import CMU_DAZ_RIG, bvh_to_ntu, find_rig, read_bvh
from actzero.training.sources import MOCAP_SOURCES, SourceClip, SourceError, extract_archive

HDM05_FOLDER = "HDM05-subset"
CMU_FOLDER = "CMU-partial"

# Folder number -> HDM05 class name (../shared/data/mocap/hdm05-subset/README.md).
HDM05_CLASSES: dict[str, str] = {
    "1": "depositFloorR",
    "2": "elbowToKnee1RepsLelbowStart",
    "3": "grabHighR",
    "4": "hopBothLegs1hops",
    "5": "jogLeftCircle4StepsRstart",
    "6": "kickLFront1Reps",
    "7": "lieDownFloor",
    "8": "rotateArmsBothBackward1Reps",
    "9": "sneak2StepsLStart",
    "10": "squat1Reps",
    "11": "throwBasketball",
}
HDM05_TEST_ACTORS = ("mm", "tr")  # the README's actor-disjoint split; bd, bk, dg are train

HDM05_LICENCE = "CC BY-SA 3.0"
HDM05_CITATION = (
    "M. Müller, T. Röder, M. Clausen, B. Eberhardt, B. Krüger, A. Weber, Documentation Mocap "
    "Database HDM05, Technical report CG-2007-2, Universität Bonn, 2007"
)
CMU_TERMS = "free for research; may be included in commercial products, not resold"
CMU_ACKNOWLEDGEMENT = (
    "The data used in this project was obtained from mocap.cs.cmu.edu. The database was created "
    "with funding from NSF EIA-0196217."
)


def _archive(shared_dir: Path, source: str) -> tuple[Path, str]:
    mocap = Path(shared_dir) / "data" / "mocap"
    if source == "hdm05":
        return mocap / "hdm05-subset" / "HDM05-subset.tar.xz", HDM05_FOLDER
    return mocap / "cmu-partial" / "CMU-partial.tar.xz", CMU_FOLDER


def iter_clips(source: str, shared_dir: Path, cache_dir: Path) -> Iterator[SourceClip]:
    """Every clip of "hdm05" or "cmu" as NTU-25 joints, sorted by clip id.

    The source's archive is extracted into `cache_dir` on first use.

    Raises:
        SourceError: an unknown source, a missing archive, a file name that disagrees with
            its folder.
        ASFError, AMCError, BVHError: a malformed motion file.
    """
    if source not in MOCAP_SOURCES:
        raise SourceError(f"unknown mocap source {source!r}; expected one of {', '.join(MOCAP_SOURCES)}")
    archive, folder = _archive(shared_dir, source)
    root = extract_archive(archive, cache_dir, folder)
    yield from _hdm05_clips(root) if source == "hdm05" else _cmu_clips(root)


def _amc_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.suffix.lower() == ".amc" and p.is_file()]


def _hdm05_clips(root: Path) -> Iterator[SourceClip]:
    for path in sorted(_amc_files(root), key=lambda p: p.stem):
        parts = path.stem.split("_")  # HDM_<actor>_<class>_<index>_<rate>
        label = HDM05_CLASSES.get(path.parent.name)
        if len(parts) != 5 or parts[0] != "HDM" or not parts[4].isdigit() or label != parts[2]:
            raise SourceError(
                f"{path}: expected HDM_<actor>_<class>_<index>_<rate>.amc in the folder of its class "
                f"(folder {path.parent.name} is {label or 'no class'})"
            )
        joints, _ = read_amc_ntu(path, find_asf(path))
        yield SourceClip("hdm05", path.stem, label, parts[1], joints, float(parts[4]))


def _cmu_clips(root: Path) -> Iterator[SourceClip]:
    amc = {p.stem: p for p in _amc_files(root)}
    bvh = {p.stem: p for p in root.rglob("*.bvh") if p.stem not in amc}
    for trial in sorted({*amc, *bvh}):
        if trial in amc:
            joints, fps = read_amc_ntu(amc[trial], find_asf(amc[trial]))
        else:
            motion = read_bvh(bvh[trial])
            rig = find_rig(motion)
            joints, fps = bvh_to_ntu(motion, rig), motion.fps
            if rig is CMU_DAZ_RIG:
                joints = joints[1:]  # the reference pose that starts every Daz-friendly file
        yield SourceClip("cmu", trial, trial, trial.split("_")[0], joints, float(fps))


def cmu_descriptions(shared_dir: Path) -> dict[str, str]:
    """{trial id "SS_TT": free-text description} from ../shared/data/mocap/cmu-partial/index.tsv.

    Raises:
        SourceError: index.tsv is missing, lacks a column, or gives one trial two descriptions.
    """
    path = Path(shared_dir) / "data" / "mocap" / "cmu-partial" / "index.tsv"
    try:
        with path.open(encoding="utf-8", newline="") as stream:
            rows = list(csv.DictReader(stream, delimiter="\t"))
    except OSError as error:
        raise SourceError(f"{path}: {error}") from None
    descriptions: dict[str, str] = {}
    for line, row in enumerate(rows, start=2):
        trial, text = row.get("trial_id"), row.get("description")
        if not trial or text is None:
            raise SourceError(f"{path}:{line}: expected trial_id and description columns")
        if descriptions.setdefault(trial, text) != text:
            raise SourceError(f"{path}:{line}: trial {trial} has two descriptions")
    return descriptions
