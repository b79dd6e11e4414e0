"""HDM05 and CMU clips from small archives the tests pack from members of the real ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from actzero.model import skeleton as sk
from actzero.model.asf_amc import read_amc_ntu
from actzero.model.bvh import read_bvh_ntu
from actzero.training.mocap_sources import cmu_descriptions, iter_clips
from actzero.training.sources import SourceError

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
MOCAP = SHARED / "data" / "mocap"
HDM05_MEMBERS = (
    "HDM05-subset/train/6/HDM_bd.asf",
    "HDM05-subset/train/6/HDM_bd_kickLFront1Reps_001_120.amc",
    "HDM05-subset/test/2/HDM_mm.asf",
    "HDM05-subset/test/2/HDM_mm_elbowToKnee1RepsLelbowStart_019_120.amc",
)
CMU_MEMBERS = (
    "CMU-partial/asfamc_01-03/subjects/02/02.asf",
    "CMU-partial/asfamc_01-03/subjects/02/02_03.amc",
    "CMU-partial/bvh_mb_misc/02/02_03.bvh",
    "CMU-partial/bvh_mb_misc/09/09_01.bvh",
    "CMU-partial/bvh_mb_misc/16/16_01.bvh",
)


@pytest.fixture(scope="module")
def hdm05_shared(tmp_path_factory: pytest.TempPathFactory, repacked_archive) -> Path:
    return repacked_archive(
        MOCAP / "hdm05-subset" / "HDM05-subset.tar.xz", HDM05_MEMBERS, tmp_path_factory.mktemp("h")
    )


@pytest.fixture(scope="module")
def cmu_shared(tmp_path_factory: pytest.TempPathFactory, repacked_archive) -> Path:
    return repacked_archive(
        MOCAP / "cmu-partial" / "CMU-partial.tar.xz", CMU_MEMBERS, tmp_path_factory.mktemp("c")
    )


def test_hdm05_clips_labels_subjects_and_rate(hdm05_shared: Path, tmp_path: Path) -> None:
    clips = list(iter_clips("hdm05", hdm05_shared, tmp_path / "cache"))
    assert [c.clip_id for c in clips] == [
        "HDM_bd_kickLFront1Reps_001_120",
        "HDM_mm_elbowToKnee1RepsLelbowStart_019_120",
    ]
    assert [c.label for c in clips] == ["kickLFront1Reps", "elbowToKnee1RepsLelbowStart"]
    assert [c.subject for c in clips] == ["bd", "mm"]
    assert all(c.source == "hdm05" and c.fps == 120.0 and c.view == "" for c in clips)
    cached = tmp_path / "cache" / "HDM05-subset" / "train" / "6"
    expected, _ = read_amc_ntu(cached / f"{clips[0].clip_id}.amc", cached / "HDM_bd.asf")
    np.testing.assert_array_equal(clips[0].joints, expected)
    # Extracted once: a second pass reads the cache even without the archive.
    (hdm05_shared / "data" / "mocap" / "hdm05-subset" / "HDM05-subset.tar.xz").rename(tmp_path / "moved")
    try:
        again = list(iter_clips("hdm05", hdm05_shared, tmp_path / "cache"))
    finally:
        (tmp_path / "moved").rename(hdm05_shared / "data" / "mocap" / "hdm05-subset" / "HDM05-subset.tar.xz")
    assert [c.clip_id for c in again] == [c.clip_id for c in clips]


def test_hdm05_file_in_the_wrong_class_folder_is_refused(hdm05_shared: Path, tmp_path: Path) -> None:
    list(iter_clips("hdm05", hdm05_shared, tmp_path))
    folder = tmp_path / "HDM05-subset" / "train" / "6"
    (folder / "HDM_bd_kickLFront1Reps_001_120.amc").rename(folder / "HDM_bd_squat1Reps_001_120.amc")
    with pytest.raises(
        SourceError, match=r"HDM_bd_squat1Reps_001_120.amc: expected .*\(folder 6 is kickLFront1Reps\)"
    ):
        list(iter_clips("hdm05", hdm05_shared, tmp_path))


def test_cmu_prefers_amc_and_drops_the_daz_reference_frame(cmu_shared: Path, tmp_path: Path) -> None:
    clips = {c.clip_id: c for c in iter_clips("cmu", cmu_shared, tmp_path)}
    assert list(clips) == ["02_03", "09_01", "16_01"]
    assert all(c.label == c.clip_id and c.source == "cmu" for c in clips.values())
    assert [c.subject for c in clips.values()] == ["02", "09", "16"]
    # 02_03 exists as AMC (173 frames) and BVH (174): the AMC is read.
    subject = tmp_path / "CMU-partial" / "asfamc_01-03" / "subjects" / "02"
    expected, _ = read_amc_ntu(subject / "02_03.amc", subject / "02.asf")
    np.testing.assert_array_equal(clips["02_03"].joints, expected)
    assert clips["02_03"].fps == 120.0
    daz, _ = read_bvh_ntu(tmp_path / "CMU-partial" / "bvh_mb_misc" / "09" / "09_01.bvh")
    np.testing.assert_array_equal(clips["09_01"].joints, daz[1:])
    assert (clips["16_01"].fps, len(clips["16_01"].joints)) == (30.0, 322)
    for clip in clips.values():  # every rig: y up, a person-sized body, finite joints
        joints = clip.joints
        assert joints.shape[1:] == (25, 3) and np.isfinite(joints).all()
        spine = joints[:, sk.SPINE_SHOULDER] - joints[:, sk.SPINE_BASE]
        assert np.median(spine[:, 1] / np.linalg.norm(spine, axis=-1)) > 0.9
        stature = joints[:, sk.HEAD, 1] - joints[:, [sk.L_ANKLE, sk.R_ANKLE], 1].min(axis=1)
        assert 1.2 < np.median(stature) < 2.0, clip.clip_id


def test_cmu_descriptions_from_the_index(cmu_shared: Path, tmp_path: Path) -> None:
    descriptions = cmu_descriptions(cmu_shared)
    assert len(descriptions) == 70
    assert descriptions["02_03"] == "run/jog" and descriptions["16_01"] == "jump"
    index = tmp_path / "data" / "mocap" / "cmu-partial" / "index.tsv"
    index.parent.mkdir(parents=True)
    index.write_text("trial_id\tdescription\n01_01\twalk\n01_01\trun\n")
    with pytest.raises(SourceError, match="index.tsv:3: trial 01_01 has two descriptions"):
        cmu_descriptions(tmp_path)


def test_unknown_source_and_missing_archive(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="unknown mocap source 'kinect'"):
        next(iter_clips("kinect", tmp_path, tmp_path / "cache"))
    with pytest.raises(SourceError, match="missing archive .*CMU-partial.tar.xz"):
        next(iter_clips("cmu", tmp_path, tmp_path / "cache"))
