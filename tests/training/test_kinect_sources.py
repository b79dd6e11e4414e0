"""training/kinect_sources.py: iter_clips on small archives rebuilt from real members of the
../shared/data/kinect archives, laid out as in ../shared."""

from __future__ import annotations

import tarfile
from pathlib import Path

import numpy as np
import pytest

from actzero.training import kinect_sources
from actzero.training.sources import KINECT_SOURCES, SourceError

# source -> (shared folder, archive, members to keep)
SLICES = {
    "utd-mhad": (
        "utd-mhad",
        "UTD-MHAD-skeleton.tar.xz",
        ["UTD-MHAD/Skeleton/a10_s1_t2_skeleton.mat", "UTD-MHAD/Skeleton/a10_s1_t1_skeleton.mat"],
    ),
    "kinder-gator": (
        "kinder-gator",
        "Kinder-Gator.tar.xz",
        ["Kinder-Gator/Adults/POSE-p565_01-Raise-your-hand-1469182402284.csv"],
    ),
    "nw-ucla": (
        "nw-ucla",
        "NW-UCLA-all_sqe.tar.xz",
        ["NW-UCLA/all_sqe/a01_s01_e00_v01.json", "NW-UCLA/all_sqe/a01_s01_e00_v03.json"],
    ),
    "msr-action3d": (
        "msr-action3d",
        "MSRAction3D-skeleton.tar.xz",
        [
            "MSRAction3D/MSRAction3DSkeleton(20joints)/a13_s09_e02_skeleton.txt",
            "MSRAction3D/MSRAction3DSkeletonReal3D/a01_s01_e01_skeleton3D.txt",
            "MSRAction3D/MSRAction3DSkeletonReal3D/a13_s09_e02_skeleton3D.txt",
        ],
    ),
    "citi": (
        "citi-dailyactivities3d",
        "CITI-DailyActivities3D-skeleton.tar.xz",
        [
            "CITI-DailyActivities3D/citi_data/citi_data_0001.npy",
            "CITI-DailyActivities3D/citi_data/citi_data_0301.npy",
            "CITI-DailyActivities3D/citi_labels/action_labels.npy",
            "CITI-DailyActivities3D/citi_labels/subject_labels.npy",
        ],
    ),
}

EXPECTED = {  # (clip_id, label, subject, view) in order
    "utd-mhad": [("a10_s1_t1_skeleton", "a10", "s1", ""), ("a10_s1_t2_skeleton", "a10", "s1", "")],
    "kinder-gator": [
        ("POSE-p565_01-Raise-your-hand-1469182402284", "Raise-your-hand", "p565", ""),
    ],
    "nw-ucla": [("a01_s01_e00_v01", "a01", "s01", "v01"), ("a01_s01_e00_v03", "a01", "s01", "v03")],
    "msr-action3d": [("a01_s01_e01_skeleton3D", "a01", "s01", "")],  # a13_s09_e02 is all zeros: skipped
    "citi": [("citi_data_0001", "1", "s1", ""), ("citi_data_0301", "1", "", "")],  # 301: subject unknown
}


def _shared_slice(source: str, kinect_files, tmp_path: Path) -> Path:
    """A ../shared look-alike holding an archive of a few real members of `source`."""
    folder, name, members = SLICES[source]
    files = kinect_files(folder, name, members)
    archive = tmp_path / "shared" / "data" / "kinect" / folder / name
    archive.parent.mkdir(parents=True)
    with tarfile.open(archive, "w:xz") as tar:
        for member, path in zip(members, files, strict=True):
            tar.add(path, arcname=member)
    return tmp_path / "shared"


def test_the_sources_are_the_kinect_sources():
    assert tuple(kinect_sources.LAYOUTS) == KINECT_SOURCES


@pytest.mark.parametrize("source", KINECT_SOURCES)
def test_iter_clips_labels_every_clip_and_counts_skips(source, kinect_files, tmp_path, caplog):
    shared = _shared_slice(source, kinect_files, tmp_path)
    cache = tmp_path / "cache"
    skipped: list[str] = []
    clips = list(
        kinect_sources.iter_clips(source, shared, cache, on_skip=lambda path, why: skipped.append(path.name))
    )
    assert [(c.clip_id, c.label, c.subject, c.view) for c in clips] == EXPECTED[source]
    for clip in clips:
        assert clip.source == source and clip.fps > 0
        assert clip.joints.dtype == np.float32 and clip.joints.shape[1:] == (25, 3)
    if source == "msr-action3d":
        assert skipped == ["a13_s09_e02_skeleton3D.txt"]
        assert "skipped 1 of 2 clips" in caplog.text
    else:
        assert skipped == []
    # Extracted once: a second pass reads the cache, even with the archive gone.
    for archive in shared.rglob("*.tar.xz"):
        archive.unlink()
    again = list(kinect_sources.iter_clips(source, shared, cache))
    assert [c.clip_id for c in again] == [c.clip_id for c in clips]


def test_unknown_source_or_missing_archive(tmp_path):
    with pytest.raises(SourceError, match="unknown Kinect source"):
        list(kinect_sources.iter_clips("kinect-v9", tmp_path, tmp_path / "cache"))
    with pytest.raises(SourceError, match="missing archive"):
        list(kinect_sources.iter_clips("utd-mhad", tmp_path, tmp_path / "cache"))
