"""Penn Action labels: real .mat files from the archive, and broken ones the tests write."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from actzero.model import skeleton as sk
from actzero.training.penn import (
    NUM_PENN_JOINTS,
    PENN_JOINTS,
    PENN_TO_NTU,
    PennError,
    iter_penn_clips,
    read_penn_clip,
)

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
PENN = SHARED / "data" / "video" / "penn-action-2d" / "PennAction-labels.tar.xz"
MEMBERS = ("PennAction/labels/0001.mat", "PennAction/labels/0013.mat")


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, repacked_archive) -> Path:
    """A ../shared lookalike whose Penn archive holds 0001.mat (float64) and 0013.mat (uint16)."""
    return repacked_archive(PENN, MEMBERS, tmp_path_factory.mktemp("penn"))


def test_clips_fields_types_and_order(shared: Path, tmp_path: Path) -> None:
    clips = list(iter_penn_clips(shared, tmp_path))
    assert [c.clip_id for c in clips] == ["0001", "0013"]
    first, second = clips
    assert (first.action, first.pose, first.image_size, first.train) == (
        "baseball_pitch",
        "back",
        (360, 480),
        False,
    )
    assert first.xy.shape == (151, 13, 2) and first.visibility.shape == (151, 13)
    assert first.xy.dtype == second.xy.dtype == np.float32 and first.visibility.dtype == bool
    assert 0.0 < first.visibility.mean() < 1.0  # a mix of visible and invisible joints
    # uint16 coordinates in 0013.mat come back as the same pixel values.
    from scipy.io import loadmat

    raw = loadmat(tmp_path / MEMBERS[1])
    assert raw["x"].dtype == np.uint16
    np.testing.assert_array_equal(second.xy[..., 0], raw["x"].astype(np.float32))
    # Image axes: y grows downwards, so the head is above (smaller y than) the ankles.
    head, ankles = first.xy[:, 0, 1], first.xy[:, [11, 12], 1].mean(axis=1)
    assert np.median(ankles - head) > 0.3 * first.image_size[0]


def test_joint_order_and_ntu_mapping() -> None:
    assert NUM_PENN_JOINTS == len(PENN_TO_NTU) == 13 and len(set(PENN_TO_NTU)) == 13
    for name, ntu in zip(PENN_JOINTS, PENN_TO_NTU, strict=True):
        side = {"left": "l_", "right": "r_"}.get(name.split("_")[0], "")
        assert sk.JOINT_NAMES[ntu] == side + name.split("_")[-1]


def test_broken_files_are_refused_naming_the_file(tmp_path: Path) -> None:
    from scipy.io import savemat

    garbage = tmp_path / "garbage.mat"
    garbage.write_bytes(b"not a mat file at all" * 10)
    with pytest.raises(PennError, match="garbage.mat: not a readable MAT file"):
        read_penn_clip(garbage)
    good = {
        "action": "squat",
        "pose": "front",
        "x": np.zeros((4, 13)),
        "y": np.zeros((4, 13)),
        "visibility": np.ones((4, 13), np.uint8),
        "dimensions": np.array([[480, 640, 4]], np.uint16),
        "train": np.array([[1]]),
    }
    savemat(tmp_path / "good.mat", good)
    clip = read_penn_clip(tmp_path / "good.mat")
    assert (clip.action, clip.pose, clip.train, clip.image_size) == ("squat", "front", True, (480, 640))
    for name, change, message in (
        ("no_x.mat", {"x": None}, "missing field"),
        ("short_y.mat", {"y": np.zeros((3, 13))}, "differ"),
        ("twelve.mat", {"x": np.zeros((4, 12))}, r"shape \(4, 12\)"),
        ("nan.mat", {"x": np.full((4, 13), np.nan)}, "not all finite"),
        ("dims.mat", {"dimensions": np.array([[0, 640, 4]])}, "not \\[height width T\\]"),
    ):
        fields = {key: value for key, value in {**good, **change}.items() if value is not None}
        savemat(tmp_path / name, fields)
        with pytest.raises(PennError, match=f"{name}: .*{message}"):
            read_penn_clip(tmp_path / name)


def test_penn_joints_are_ntu_with_y_up_flat_and_derived_spine(shared: Path, tmp_path: Path) -> None:
    from actzero.model.canonical import canonicalise
    from actzero.training.penn import penn_joints

    clip = next(iter_penn_clips(shared, tmp_path))
    joints = penn_joints(clip)
    assert joints.shape == (len(clip.xy), sk.NUM_JOINTS, 3)
    np.testing.assert_array_equal(joints[:, sk.HEAD, :2], -clip.xy[:, 0])  # x and y turned by 180 degrees
    assert np.all(joints[:, list(PENN_TO_NTU), 2] == 0)
    np.testing.assert_allclose(joints[:, sk.SPINE_BASE], 0.5 * (joints[:, sk.L_HIP] + joints[:, sk.R_HIP]))
    assert np.isnan(joints[:, [sk.L_HAND, sk.R_FOOT, sk.L_THUMB]]).all()
    head_above_ankles = joints[:, sk.HEAD, 1] > joints[:, [sk.L_ANKLE, sk.R_ANKLE], 1].max(axis=1)
    assert head_above_ankles.mean() > 0.9  # a pitcher is upright: y is up
    for frame in ("image", "gravity"):
        assert np.isfinite(canonicalise(joints, frame)).all()
