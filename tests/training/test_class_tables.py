"""The class tables of the new sources (training/classes/*.toml) against their rules and the real archives."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from actzero.training.sources import CLASSES_DIR, KINECT_SOURCES, MOCAP_SOURCES, load_class_table

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
DATA = SHARED / "data"
SOURCES = (*KINECT_SOURCES, *MOCAP_SOURCES, "penn-action")

# Archive of each source and the pattern whose group 1 is the label in a member's file name.
ARCHIVES = {
    "utd-mhad": ("kinect/utd-mhad/UTD-MHAD-skeleton.tar.xz", r"/(a\d+)_s\d+_t\d+_skeleton\.mat$"),
    "kinder-gator": ("kinect/kinder-gator/Kinder-Gator.tar.xz", r"/POSE-p\d+_\d+-(.+)-\d+\.csv$"),
    "nw-ucla": ("kinect/nw-ucla/NW-UCLA-all_sqe.tar.xz", r"/(a\d\d)_s\d\d_e\d\d_v\d\d\.json$"),
    "msr-action3d": (
        "kinect/msr-action3d/MSRAction3D-skeleton.tar.xz",
        r"/(a\d\d)_s\d\d_e\d\d_skeleton3?D?\.txt$",
    ),
    "hdm05": ("mocap/hdm05-subset/HDM05-subset.tar.xz", r"/HDM_[a-z]+_(\w+?)_\d{3}_120\.amc$"),
    "cmu": ("mocap/cmu-partial/CMU-partial.tar.xz", r"/(\d\d_\d\d)\.(?:amc|bvh)$"),
}


def _raw_classes(source: str) -> list[dict]:
    return tomllib.loads((CLASSES_DIR / f"{source}.toml").read_text(encoding="utf-8"))["class"]


def _archive_labels(source: str, archives, into: Path) -> set[str]:
    """The labels a reader finds in the source's archive: in file names, or in the label files
    (`archives`: the session's archive cache, tests/conftest.py; label files go to `into`)."""
    if source == "citi":
        path = DATA / "kinect/citi-dailyactivities3d/CITI-DailyActivities3D-skeleton.tar.xz"
        (labels,) = archives.extract(path, ["CITI-DailyActivities3D/citi_labels/action_labels.txt"], into)
        return {str(int(line)) for line in labels.read_text().split()}
    if source == "penn-action":
        import scipy.io

        path = DATA / "video/penn-action-2d/PennAction-labels.tar.xz"
        mats = archives.extract(path, [name for name in archives.names(path) if name.endswith(".mat")], into)
        return {str(scipy.io.loadmat(mat, variable_names=["action"])["action"][0]) for mat in mats}
    relative, pattern = ARCHIVES[source]
    names = archives.names(DATA / relative)
    return {m.group(1) for name in names if (m := re.search(pattern, name, flags=re.IGNORECASE))}


@pytest.mark.parametrize("source", SOURCES)
def test_table_follows_the_text_rules(source: str) -> None:
    classes = load_class_table(source)
    assert classes, f"{source}: no class left"
    for cls in classes:
        assert cls.name == cls.name.strip().lower() and "  " not in cls.name, (source, cls.name)
        texts = [d.strip() for d in cls.descriptions]
        assert all(texts) and texts == list(cls.descriptions), (source, cls.label, "blank or untrimmed text")
        assert len(set(texts)) >= 3, (source, cls.label, "needs three distinct descriptions")


@pytest.mark.parametrize("source", SOURCES)
def test_one_name_one_meaning_within_a_source(source: str) -> None:
    """Labels that share a name are the same action, so they carry the same texts."""
    by_name: dict[str, tuple[str, tuple[str, ...]]] = {}
    for cls in load_class_table(source):
        first = by_name.setdefault(cls.name, (cls.label, cls.descriptions))
        assert first[1] == cls.descriptions, f"{source}: {first[0]!r} and {cls.label!r} share {cls.name!r}"


@pytest.mark.parametrize("source", SOURCES)
def test_skipped_classes_say_why(source: str) -> None:
    for entry in _raw_classes(source):
        if entry.get("skip"):
            assert str(entry.get("why", "")).strip(), (source, entry["label"])


@pytest.mark.parametrize("source", SOURCES)
def test_labels_match_the_archive(source: str, shared_archives, tmp_path: Path) -> None:
    if not DATA.is_dir():
        pytest.skip("../shared/data is not present")
    table = {str(entry["label"]) for entry in _raw_classes(source)}
    assert table == _archive_labels(source, shared_archives, tmp_path)
