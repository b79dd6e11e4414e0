"""Data set build / load on tiny Bandai-layout folders and archives the tests write themselves."""

from __future__ import annotations

import hashlib
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from actzero.cli.main import app
from actzero.model import skeleton
from actzero.model.bvh import read_bvh_ntu
from actzero.training import bandai
from actzero.training.dataset import (
    DatasetError,
    build_dataset,
    load_dataset,
    save_dataset,
    trim_still_ends,
)

# The Bandai Namco rig: (name, parent, offset in cm); every bone runs along its parent's x axis.
RIG = (
    ("joint_Root", None, (0, 0, 0)),
    ("Hips", "joint_Root", (0, 93.9, -3)),
    ("Spine", "Hips", (15.7, 0, 0)),
    ("Chest", "Spine", (9.0, -0.4, 0)),
    ("Neck", "Chest", (16.4, 0, 0)),
    ("Head", "Neck", (6.5, 0, 0)),
    ("Shoulder_L", "Chest", (13.0, -0.2, 5.0)),
    ("UpperArm_L", "Shoulder_L", (5.3, 0, 0)),
    ("LowerArm_L", "UpperArm_L", (24.3, 0, 0)),
    ("Hand_L", "LowerArm_L", (22.3, 0, 0)),
    ("Shoulder_R", "Chest", (13.0, -0.2, -5.0)),
    ("UpperArm_R", "Shoulder_R", (-5.3, 0, 0)),
    ("LowerArm_R", "UpperArm_R", (-24.3, 0, 0)),
    ("Hand_R", "LowerArm_R", (-22.3, 0, 0)),
    ("UpperLeg_L", "Hips", (-2.2, 0, 6.5)),
    ("LowerLeg_L", "UpperLeg_L", (39.1, 0, 0)),
    ("Foot_L", "LowerLeg_L", (41.0, 0, 0)),
    ("Toes_L", "Foot_L", (11.8, 0, 0)),
    ("UpperLeg_R", "Hips", (-2.2, 0, -6.5)),
    ("LowerLeg_R", "UpperLeg_R", (-39.1, 0, 0)),
    ("Foot_R", "LowerLeg_R", (-41.0, 0, 0)),
    ("Toes_R", "Foot_R", (-11.8, 0, 0)),
)
CHANNELS = "CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation"


def rig_bvh(frames: int, phase: float, still: int = 0) -> str:
    """A Bandai-rig BVH whose hips travel along z and whose arms swing; `still` frames of rest at each end."""

    def block(name: str, depth: int) -> list[str]:
        pad = "  " * depth
        offset = next(o for n, _, o in RIG if n == name)
        children = [n for n, p, _ in RIG if p == name]
        lines = [f"{pad}{{", f"{pad}  OFFSET {offset[0]} {offset[1]} {offset[2]}", f"{pad}  {CHANNELS}"]
        for child in children:
            lines += [f"{pad}  JOINT {child}", *block(child, depth + 1)]
        if not children:
            lines += [f"{pad}  End Site", f"{pad}  {{", f"{pad}    OFFSET 0 0 0", f"{pad}  }}"]
        return [*lines, f"{pad}}}"]

    rows = []
    for t in range(frames):
        moving = min(max(t - still, 0), frames - 2 * still)
        swing = 30 * np.sin(phase + 0.3 * moving)
        values = []
        for name, _, offset in RIG:
            rotation = [0.0, 0.0, 0.0]
            if name == "Hips":  # stand upright: the spine's x axis to world y
                rotation = [90.0, 0.0, 0.0]
                offset = (offset[0], offset[1], offset[2] + 2.0 * moving)
            elif name == "UpperLeg_L":  # left bones run along +x: turn them down
                rotation = [180.0, 0.0, 0.0]
            elif name == "UpperArm_L":
                rotation = [180.0 + swing, 0.0, 0.0]
            elif name == "UpperArm_R":
                rotation = [swing, 0.0, 0.0]
            values += [*offset, *rotation]
        rows.append(" ".join(f"{v:.4f}" for v in values))
    header = ["HIERARCHY", "ROOT joint_Root", *block("joint_Root", 0)]
    return "\n".join([*header, "MOTION", f"Frames: {frames}", "Frame Time: 0.0333333", *rows, ""])


CLIPS = {  # dataset -> (content, style, take, frames, still frames at each end)
    1: [("walk", "normal", 1, 50, 0), ("walk", "happy", 1, 44, 0), ("bow", "normal", 1, 120, 40)],
    2: [("wave-right-hand", "normal", 1, 40, 0), ("wave-right-hand", "active", 2, 36, 0)],
}
LABELS = {
    1: (["walk", "run", "bow"], ["normal", "happy"]),
    2: (["walk", "wave-right-hand"], ["active", "normal"]),
}


def write_dataset_folder(root: Path, dataset: int) -> Path:
    folder = root / bandai.DATASETS[dataset - 1]
    (folder / "cfg").mkdir(parents=True)
    (folder / "data").mkdir()
    contents, styles = LABELS[dataset]
    (folder / "cfg" / "content_label.txt").write_text("\n".join(f"dataset-{dataset}_{c}" for c in contents))
    (folder / "cfg" / "style_label.txt").write_text("\n".join(f"dataset-{dataset}_{s}" for s in styles))
    for i, (content, style, take, frames, still) in enumerate(CLIPS[dataset]):
        stem = f"dataset-{dataset}_{content}_{style}_{take:03d}"
        (folder / "data" / f"{stem}.bvh").write_text(rig_bvh(frames, phase=i, still=still))
        label = {"content": contents.index(content), "style": styles.index(style)}
        (folder / "data" / f"{stem}.json").write_text(json.dumps(label))
    return folder


ACTIONS = """
[[action]]
name = "walk"
descriptions = ["A person walks forward.", "Alternating steps."]
source = "bandai-namco"
tags = ["dataset-1_walk", "dataset-2_walk"]

[[action]]
name = "run"
descriptions = ["A person runs.", "Fast strides."]
source = "bandai-namco"
tags = ["dataset-1_run"]

[[action]]
name = "bow"
descriptions = ["A person bows.", "The torso bends forward."]
source = "bandai-namco"
tags = ["dataset-1_bow"]

[[action]]
name = "wave right hand overhead"
descriptions = ["The right hand waves above the head.", "A big wave."]
source = "bandai-namco"
tags = ["dataset-2_wave-right-hand"]
"""


BANDAI_ONLY = ("bandai-namco", "synthetic")  # the other sources' readers are not part of these tests


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    root = tmp_path_factory.mktemp("bandai")
    (root / "actions.toml").write_text(ACTIONS)
    return root, [write_dataset_folder(root, 1), write_dataset_folder(root, 2)]


def build(root: Path, dirs: list[Path], out: Path, seed: int = 0):
    return build_dataset(
        root, out, seed, sources=BANDAI_ONLY, bandai_dirs=dirs, actions_toml=root / "actions.toml",
        processes=1, progress=False,
    )  # fmt: skip


def test_build_labels_clips_and_round_trips(folders: tuple[Path, list[Path]], tmp_path: Path) -> None:
    root, dirs = folders
    built = build(root, dirs, tmp_path / "ds.npz")
    loaded = load_dataset(tmp_path / "ds.npz")

    # "run" has no clip: left out and listed.
    assert [c.name for c in loaded.classes] == ["walk", "bow", "wave right hand overhead"]
    assert loaded.meta["classes_without_clips"] == ["run"]
    assert loaded.classes[0].descriptions == ("A person walks forward.", "Alternating steps.")
    assert {c.licence for c in loaded.classes} == {bandai.LICENCE}
    assert "Bandai Namco Research Inc." in loaded.meta["licences"]["bandai-namco"]["attribution"]
    assert list(loaded.clip_ids) == sorted(f.stem for d in dirs for f in (d / "data").glob("*.bvh"))
    names = [loaded.classes[i].name for i in loaded.labels]
    assert names == ["bow", "walk", "walk", "wave right hand overhead", "wave right hand overhead"]
    assert set(loaded.sources) == {"bandai-namco"} and all(
        a.startswith(("d1-", "d2-")) for a in loaded.actors
    )
    assert loaded.frames.dtype == np.float32 and loaded.frames.shape[1:] == (25, 3)
    assert loaded.offsets[-1] == len(loaded.frames) and loaded.meta["fps"] == 30.0
    for name in (
        "frames",
        "offsets",
        "labels",
        "clip_ids",
        "sources",
        "actors",
        "licences",
        "styles",
        "tags",
    ):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(built, name))

    # A moving clip is stored exactly as the BVH reader gives it.
    i = list(loaded.clip_ids).index("dataset-1_walk_happy_001")
    expected, _ = read_bvh_ntu(dirs[0] / "data" / "dataset-1_walk_happy_001.bvh")
    np.testing.assert_array_equal(loaded.clip(i), expected)
    # The bow's 40 still frames at each end are cut to half a second (15 frames) each.
    assert loaded.lengths()[list(loaded.clip_ids).index("dataset-1_bow_normal_001")] == 40 + 2 * 15


def test_same_seed_gives_identical_bytes(folders: tuple[Path, list[Path]], tmp_path: Path) -> None:
    root, dirs = folders
    digests = []
    for name in ("a.npz", "b.npz"):
        build(root, dirs, tmp_path / name, seed=3)
        digests.append(hashlib.sha256((tmp_path / name).read_bytes()).hexdigest())
    assert digests[0] == digests[1]


def test_unmapped_tag_is_an_error(folders: tuple[Path, list[Path]], tmp_path: Path) -> None:
    root, dirs = folders
    actions = tmp_path / "actions.toml"
    actions.write_text(ACTIONS.replace('"dataset-1_bow"', '"dataset-1_bow-deep"'))
    with pytest.raises(DatasetError, match="dataset-1_bow"):
        build_dataset(
            root, tmp_path / "x.npz", sources=BANDAI_ONLY, bandai_dirs=dirs, actions_toml=actions,
            processes=1, progress=False,
        )  # fmt: skip


def test_trim_still_ends_keeps_half_a_second() -> None:
    still = np.zeros((60, 25, 3), np.float32)
    moving = np.cumsum(np.full((30, 25, 3), 0.02, np.float32), axis=0)  # 0.6 m/s per axis
    clip = np.concatenate([still, moving, np.repeat(moving[-1:], 60, axis=0)])
    trimmed = trim_still_ends(clip, 30.0)
    assert len(trimmed) == 15 + 30 + 15
    np.testing.assert_array_equal(trimmed[15], clip[60])
    np.testing.assert_array_equal(trim_still_ends(still, 30.0), still)  # never moves: unchanged


def test_load_rejects_other_versions_and_non_datasets(
    folders: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    root, dirs = folders
    dataset = build(root, dirs, tmp_path / "ok.npz")
    dataset.meta["version"] = 99
    save_dataset(dataset, tmp_path / "v99.npz")
    with pytest.raises(DatasetError, match="rebuild it"):
        load_dataset(tmp_path / "v99.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(DatasetError, match="not an actzero data set"):
        load_dataset(tmp_path / "junk.npz")


def test_cli_build_extracts_archives_and_prints_the_table(
    folders: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    root, dirs = folders
    shared = tmp_path / "shared"
    archives = bandai.archive_dir(shared)
    archives.mkdir(parents=True)
    for folder in dirs:
        with tarfile.open(archives / f"{folder.name}.tar.xz", "w:xz") as tar:
            tar.add(folder, arcname=folder.name)
    out = tmp_path / "cache" / "ds.npz"
    args = ["data", "build", "--shared", str(shared), "--out", str(out), "--synthetic-per-class", "0"]
    args += ["--sources", "bandai-namco"]
    result = CliRunner().invoke(app, args, terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "wave right hand overhead" in result.output and "bandai-namco" in result.output
    assert (tmp_path / "cache" / "bandai-namco" / bandai.DATASETS[1] / "data").is_dir()
    dataset = load_dataset(out)
    assert len(dataset) == 5 and np.isfinite(dataset.frames).all()
    assert dataset.frames[:, skeleton.HEAD, 1].min() > dataset.frames[:, skeleton.SPINE_BASE, 1].max()

    elsewhere = tmp_path / "other" / "ds.npz"
    nowhere = ["--shared", str(tmp_path / "nowhere"), "--out", str(elsewhere), "--sources", "bandai-namco"]
    missing = CliRunner().invoke(app, ["data", "build", *nowhere])
    assert missing.exit_code == 1
    assert "missing archive" in missing.output and "Traceback" not in missing.output


def test_synthetic_clips_join_with_their_own_source_and_seed(
    folders: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    synthetic = pytest.importorskip("actzero.training.synthetic")
    root, dirs = folders
    name = synthetic.IDLE_ACTION
    actions = tmp_path / "actions.toml"
    actions.write_text(
        ACTIONS + f'\n[[action]]\nname = "{name}"\ndescriptions = ["Stands still.", "No motion."]\n'
        'source = "synthetic"\ntags = []\n'
    )

    def make(out: str, seed: int):
        return build_dataset(
            root, tmp_path / out, seed, sources=BANDAI_ONLY, synthetic_per_class=2, bandai_dirs=dirs,
            actions_toml=actions, processes=1, progress=False,
        )  # fmt: skip

    first, again, other = make("a.npz", 1), make("b.npz", 1), make("c.npz", 2)
    mine = first.sources == "synthetic"
    assert mine.sum() == 2 and first.meta["synthetic"] == "included"
    assert {first.classes[i].name for i in first.labels[mine]} == {name}
    assert set(first.actors[mine]) == {""} and first.classes[-1].licence.startswith("MIT")
    np.testing.assert_array_equal(first.frames, again.frames)  # NaN == NaN here
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    bandai_frames = first.offsets[int(np.argmax(mine))]
    np.testing.assert_array_equal(first.frames[:bandai_frames], other.frames[:bandai_frames])
    assert not np.array_equal(first.frames[bandai_frames:], other.frames[bandai_frames:], equal_nan=True)
