"""The shipped bundle still recognises real held-out clips (tests/data/golden_clips.json).

The clips are ones the bundle's training held out (tools/golden_clips.py says how they were
picked); they are read from ../shared's archives as `actzero classify` reads files. A bundle
with broken or random weights, or a retrain that lost accuracy, fails here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from actzero.api import Recognizer
from actzero.model.readers import read_skeleton_file

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="module")
def golden() -> dict:
    return json.loads((REPO / "tests" / "data" / "golden_clips.json").read_text())


@pytest.fixture(scope="module")
def clips(golden, tmp_path_factory, archive_members) -> dict[str, Path]:
    """Every clip of the file, extracted once per archive: member path -> extracted file."""
    into = tmp_path_factory.mktemp("golden")
    by_archive: dict[str, set[str]] = {}
    for row in golden["slice"] + golden["golden"]:
        by_archive.setdefault(row["archive"], set()).update(row["members"])
    paths = {}
    for archive, members in by_archive.items():  # members are paths inside the archive
        found = archive_members(DATA / archive, sorted(members), into / archive.replace("/", "_"))
        paths |= dict(zip(sorted(members), found, strict=True))
    return paths


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return Recognizer()


def _label(recognizer: Recognizer, path: Path) -> str | None:
    _, joints, fps = read_skeleton_file(path)[0]
    return recognizer.classify_skeleton(joints, fps).label


def test_golden_clips_keep_their_labels(golden, clips, recognizer) -> None:
    wrong = [
        (row["members"][0], row["label"], got)
        for row in golden["golden"]
        if (got := _label(recognizer, clips[row["members"][0]])) != row["label"]
    ]
    assert not wrong, f"golden clips lost their label (clip, expected, got): {wrong}"


def test_held_out_slice_stays_above_its_floor(golden, clips, recognizer) -> None:
    right = [_label(recognizer, clips[row["members"][0]]) == row["label"] for row in golden["slice"]]
    accuracy = sum(right) / len(right)
    assert accuracy >= golden["floor"], f"held-out slice accuracy {accuracy:.3f} < floor {golden['floor']}"


def test_the_golden_file_covers_several_sources(golden) -> None:
    assert len({row["source"] for row in golden["golden"]}) >= 3
    assert golden["floor"] > 0
