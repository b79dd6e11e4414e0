"""Data set v3: the sources of training/sources.py, labelled by canonical name, from clips the tests make."""

from __future__ import annotations

import numpy as np
import pytest

from actzero.training.dataset import DatasetError, build_dataset, load_dataset, save_dataset
from actzero.training.sources import SourceClip, SourceError

TABLES = {
    "utd-mhad": """
source = "utd-mhad"
[[class]]
label = "a1"
name = "swipe left"
descriptions = ["A person swipes the left hand.", "The left arm sweeps across.", "swipe left"]
[[class]]
label = "a2"
name = "jump in place"
descriptions = ["A person jumps in place.", "Both legs push off the ground.", "jump"]
[[class]]
label = "a3"
skip = true
why = "not a body action"
""",
    "hdm05": """
source = "hdm05"
[[class]]
label = "jumpingJack"
name = "jumping jack"
descriptions = ["Jumping jacks.", "Arms and legs spread and close.", "jumping jack"]
[[class]]
label = "hop"
name = "jump in place"
descriptions = ["Both legs push off the ground.", "A person hops on the spot.", "hop"]
""",
}


def _motion(frames: int, seed: int, still: int = 0) -> np.ndarray:
    """A moving random-walk body (frames, 25, 3) with `still` motionless frames at each end."""
    rng = np.random.default_rng(seed)
    moving = np.cumsum(rng.normal(0, 0.03, (frames, 25, 3)), axis=0) + rng.normal(0, 0.3, (1, 25, 3))
    ends = [np.repeat(moving[:1], still, 0), moving, np.repeat(moving[-1:], still, 0)]
    return np.concatenate(ends).astype(np.float32)


def _clips() -> dict[str, list[SourceClip]]:
    kinect = [
        SourceClip("utd-mhad", f"a{c}_s{s}_t1", f"a{c}", f"s{s}", _motion(40, 10 * c + s), 30.0, view="v1")
        for c in (1, 2, 3)
        for s in (1, 2)
    ]
    kinect.append(SourceClip("utd-mhad", "a9_s1_t1", "a9", "s1", _motion(40, 99), 30.0))  # not in the table
    mocap = [
        SourceClip("hdm05", "HDM_bd_jumpingJack_001", "jumpingJack", "bd", _motion(121, 1), 120.0),
        SourceClip("hdm05", "HDM_mm_hop_001", "hop", "mm", _motion(120, 2, still=240), 120.0),
    ]
    return {"utd-mhad": kinect, "hdm05": mocap}


# A synthetic class of the same name: its descriptions join only when the synthetic source is built.
ACTIONS = '[[action]]\nname = "jump in place"\ndescriptions = ["Synthetic jumps."]\nsource = "synthetic"\n'


@pytest.fixture()
def classes_dir(tmp_path):
    folder = tmp_path / "classes"
    folder.mkdir()
    (tmp_path / "actions.toml").write_text(ACTIONS)
    for source, text in TABLES.items():
        (folder / f"{source}.toml").write_text(text)
    return folder


def _build(tmp_path, classes_dir, name: str, clips=None):
    return build_dataset(
        tmp_path / "shared", tmp_path / name, 0, sources=["utd-mhad", "hdm05"],
        source_clips=clips or _clips(), classes_dir=classes_dir, actions_toml=tmp_path / "actions.toml",
        progress=False,
    )  # fmt: skip


def test_v3_labels_by_canonical_name_merges_descriptions_and_counts_skipped_clips(tmp_path, classes_dir):
    built = _build(tmp_path, classes_dir, "a.npz")
    loaded = load_dataset(tmp_path / "a.npz")
    names = [c.name for c in loaded.classes]
    assert names == sorted(["swipe left", "jump in place", "jumping jack"])
    jump = loaded.classes[names.index("jump in place")]
    # utd-mhad's three lines, then hdm05's two new ones (the shared sentence once)
    assert jump.descriptions == (
        "A person jumps in place.", "Both legs push off the ground.", "jump",
        "A person hops on the spot.", "hop",
    )  # fmt: skip
    assert jump.sources == ("utd-mhad", "hdm05") and jump.source == "utd-mhad"
    assert loaded.classes[names.index("swipe left")].sources == ("utd-mhad",)
    by_clip = {
        cid: loaded.classes[label].name for cid, label in zip(loaded.clip_ids, loaded.labels, strict=True)
    }
    assert by_clip["utd-mhad/a2_s1_t1"] == by_clip["hdm05/HDM_mm_hop_001"] == "jump in place"
    assert by_clip["hdm05/HDM_bd_jumpingJack_001"] == "jumping jack"
    # a3 is skipped in its table, a9 absent from it: both left out and counted
    assert not any("a3_" in c or "a9_" in c for c in loaded.clip_ids)
    stats = loaded.meta["sources"]
    assert stats["utd-mhad"]["skipped_unlabelled"] == 3 and stats["utd-mhad"]["skipped_labels"] == {
        "a3": 2,
        "a9": 1,
    }
    assert stats["utd-mhad"]["clips"] == 4 and stats["hdm05"]["clips"] == 2 and stats["hdm05"]["classes"] == 2
    i = list(loaded.clip_ids).index("utd-mhad/a1_s2_t1")
    assert (loaded.sources[i], loaded.actors[i], loaded.views[i], loaded.tags[i]) == (
        "utd-mhad", "utd-mhad/s2", "v1", "a1",
    )  # fmt: skip
    np.testing.assert_array_equal(loaded.clip(i), _motion(40, 12))  # 30 fps Kinect: unchanged, not trimmed
    # 120 fps -> 30 fps: 121 frames span 1 s -> 31 frames, every 4th input frame
    j = list(loaded.clip_ids).index("hdm05/HDM_bd_jumpingJack_001")
    np.testing.assert_allclose(loaded.clip(j), _motion(121, 1)[::4], atol=1e-6)
    # motion capture: 2 s of stillness at each end cut to half a second (15 frames at 30 fps)
    k = list(loaded.clip_ids).index("hdm05/HDM_mm_hop_001")
    assert loaded.lengths()[k] == 30 + 2 * 15
    assert stats["hdm05"]["frames"] == 31 + 60
    assert loaded.meta["licences"]["hdm05"]["licence"] == "CC BY-SA 3.0"
    np.testing.assert_array_equal(loaded.views, built.views)


def test_v3_build_is_deterministic_and_independent_of_reader_order(tmp_path, classes_dir):
    _build(tmp_path, classes_dir, "a.npz")
    _build(tmp_path, classes_dir, "b.npz")
    shuffled = {s: list(reversed(c)) for s, c in _clips().items()}
    _build(tmp_path, classes_dir, "c.npz", shuffled)
    first = (tmp_path / "a.npz").read_bytes()
    assert first == (tmp_path / "b.npz").read_bytes() == (tmp_path / "c.npz").read_bytes()


def test_v3_bad_clips_tables_and_sources_are_refused(tmp_path, classes_dir):
    bad = _clips()
    bad["hdm05"][0] = SourceClip("hdm05", "x", "hop", "", np.zeros((10, 20, 3), np.float32), 120.0)
    with pytest.raises(DatasetError, match=r"hdm05: clip 'x'.*\(10, 20, 3\)"):
        _build(tmp_path, classes_dir, "bad.npz", bad)
    bad["hdm05"][0] = SourceClip("hdm05", "y", "hop", "", _motion(10, 0), 0.0)
    with pytest.raises(DatasetError, match="hdm05: clip 'y'.*frame rate"):
        _build(tmp_path, classes_dir, "bad.npz", bad)
    (classes_dir / "hdm05.toml").write_text('source = "hdm05"\n[[class]]\nlabel = "hop"\n')
    with pytest.raises(SourceError, match="hdm05.toml: class 'hop' needs a name"):
        _build(tmp_path, classes_dir, "bad.npz")
    with pytest.raises(DatasetError, match="unknown source"):
        build_dataset(tmp_path, tmp_path / "x.npz", sources=["kinect-v9"], progress=False)


def test_v1_files_still_load_and_other_versions_are_refused(tmp_path, classes_dir):
    dataset = _build(tmp_path, classes_dir, "a.npz")
    dataset.meta["version"] = 1
    save_dataset(dataset, tmp_path / "v1.npz")
    old = load_dataset(tmp_path / "v1.npz")
    assert set(old.views) == {""} and old.classes[0].sources == (old.classes[0].source,)
    dataset.meta["version"] = 2
    save_dataset(dataset, tmp_path / "v2.npz")
    with pytest.raises(DatasetError, match="v2, this actzero reads actzero-dataset v1, v3; rebuild"):
        load_dataset(tmp_path / "v2.npz")


def test_a_synthetic_class_of_the_same_name_is_one_class_with_every_source(tmp_path, classes_dir):
    pytest.importorskip("actzero.training.synthetic")
    dataset = build_dataset(
        tmp_path / "shared", tmp_path / "s.npz", 0, sources=["synthetic", "utd-mhad", "hdm05"],
        synthetic_per_class=1, source_clips=_clips(), classes_dir=classes_dir,
        actions_toml=tmp_path / "actions.toml", progress=False,
    )  # fmt: skip
    assert [c.name for c in dataset.classes][0] == "jump in place"  # actions.toml's classes come first
    jump = dataset.classes[0]
    assert jump.source == "synthetic" and jump.sources == ("synthetic", "utd-mhad", "hdm05")
    assert jump.descriptions[:2] == ("Synthetic jumps.", "A person jumps in place.")
    assert (dataset.labels == 0).sum() == 1 + 2 + 1


def test_select_sources_keeps_their_clips_and_renumbers_the_classes(tmp_path, classes_dir):
    from actzero.training.dataset import select_sources

    dataset = _build(tmp_path, classes_dir, "a.npz")
    mocap = select_sources(dataset, ["hdm05"])
    assert [c.name for c in mocap.classes] == ["jump in place", "jumping jack"]
    assert mocap.classes[0].sources == ("hdm05",) and set(mocap.sources) == {"hdm05"}
    for i, clip_id in enumerate(mocap.clip_ids):
        j = list(dataset.clip_ids).index(clip_id)
        np.testing.assert_array_equal(mocap.clip(i), dataset.clip(j))
        assert mocap.classes[mocap.labels[i]].name == dataset.classes[dataset.labels[j]].name
