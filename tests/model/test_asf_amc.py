"""ASF/AMC reader and forward kinematics: small files the tests write, and a real HDM05 clip."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from actzero.model import asf_amc
from actzero.model import skeleton as sk
from actzero.model.asf_amc import (
    AMCError,
    AMCMotion,
    ASFError,
    amc_to_ntu,
    find_asf,
    forward_kinematics,
    read_amc,
    read_amc_ntu,
    read_asf,
)
from actzero.model.readers import read_skeleton_file

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
HDM05 = SHARED / "data" / "mocap" / "hdm05-subset" / "HDM05-subset.tar.xz"
KICK_DIR = "HDM05-subset/train/6/"
KICK_ASF = KICK_DIR + "HDM_bd.asf"
KICK_AMC = KICK_DIR + "HDM_bd_kickLFront1Reps_001_120.amc"

# Root plus a chain a -> b. a points along +x (length 2) with its local frame C = Rz(90): its
# dof rx turns about C's x axis, which is the world's y axis. b points along +y (length 1) with
# dofs "rx rz" and C = identity.
TWO_BONES = """# test skeleton
:version 1.10
:units
  mass 1.0
  length 0.45
  angle deg
:root
   order TX TY TZ RX RY RZ
   axis XYZ
   position 0 0 0
   orientation 0 0 0
:bonedata
  begin
     id 1
     name a
     direction 1 0 0
     length 2
     axis 0 0 90 XYZ
    dof rx
    limits (-180.0 180.0)
  end
  begin
     id 2
     name b
     direction 0 1 0
     length 1
     axis 0 0 0 XYZ
    dof rx rz
    limits (-180.0 180.0)
           (-180.0 180.0)
  end
:hierarchy
  begin
    root a
    a b
  end
"""

TWO_FRAMES = """#!OML:ASF test.asf
:FULLY-SPECIFIED
:DEGREES
1
root 0 0 0 0 0 0
a 0
b 0 0
2
root 1 2 3 0 0 0
a 90
b 90 90
"""


def write(tmp_path: Path, text: str, name: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="latin-1")
    return path


def two_bone_motion(tmp_path: Path, frames: str = TWO_FRAMES) -> AMCMotion:
    asf = read_asf(write(tmp_path, TWO_BONES, "test.asf"))
    return read_amc(write(tmp_path, frames, "test_01.amc"), asf)


def test_skeleton_units_dofs_and_order(tmp_path: Path) -> None:
    motion = two_bone_motion(tmp_path)
    bones = motion.skeleton.bones
    assert [b.name for b in bones] == ["root", "a", "b"] and [b.parent for b in bones] == [-1, 0, 1]
    assert bones[0].dofs == ("tx", "ty", "tz", "rx", "ry", "rz") and bones[2].dofs == ("rx", "rz")
    assert motion.skeleton.metres_per_unit == pytest.approx(0.0254 / 0.45)
    assert motion.values.shape == (2, 9)


def test_forward_kinematics_by_hand(tmp_path: Path) -> None:
    ends = forward_kinematics(two_bone_motion(tmp_path))
    # Frame 1, every dof 0: the rest pose, each end the sum of direction * length from the root.
    np.testing.assert_allclose(ends[0], [[0, 0, 0], [2, 0, 0], [2, 1, 0]], atol=1e-12)
    # Frame 2: root at (1, 2, 3). a's rx = 90 turns about world y (C maps local x to world y):
    # (2, 0, 0) -> (0, 0, -2). Without C it would turn about x and leave (2, 0, 0) in place.
    # b: world = Ry(90) @ Rz(90) @ Rx(90) (rx first, then rz): Rx(90) (0,1,0) = (0,0,1), Rz keeps
    # it, Ry(90) (0,0,1) = (1,0,0). The other order, Rx @ Rz, would give (-1,0,0) before Ry.
    np.testing.assert_allclose(ends[1], [[1, 2, 3], [1, 2, 1], [2, 2, 1]], atol=1e-12)


def test_missing_bone_line_gives_nan_downstream(tmp_path: Path) -> None:
    frames = TWO_FRAMES.replace("a 90\n", "")
    ends = forward_kinematics(two_bone_motion(tmp_path, frames))
    assert np.isfinite(ends[0]).all() and np.isfinite(ends[1, 0]).all()
    assert np.isnan(ends[1, 1:]).all()


@pytest.mark.parametrize(
    ("asf_edit", "line", "message"),
    [
        (("direction 1 0 0", "direction 1 zero 0"), 16, "non-numeric"),
        (("axis 0 0 90 XYZ", "axis 0 0 90 XYQ"), 18, "permutation of XYZ"),
        (("dof rx rz", "dof rx rw"), 28, "distinct rx, ry, rz"),
        (("length 0.45", "length -1"), 5, "positive"),
        (("    a b\n", "    a c\n"), None, "'c'"),
        (("    a b\n", "    a b\n    root b\n"), 36, "two parents"),
        (("     name b", "     name a"), 31, "duplicate bone"),
    ],
)
def test_malformed_asf_names_file_and_line(
    tmp_path: Path, asf_edit: tuple[str, str], line: int | None, message: str
) -> None:
    path = write(tmp_path, TWO_BONES.replace(*asf_edit), "bad.asf")
    where = f"{path}:{line}:" if line else f"{path}:"
    with pytest.raises(ASFError, match=message) as info:
        read_asf(path)
    assert str(info.value).startswith(where)


@pytest.mark.parametrize(
    ("amc_edit", "line", "message"),
    [
        (("b 90 90", "b 90"), 11, "has 1 values, its dofs are 2"),
        (("a 90", "a ninety"), 10, "non-numeric"),
        (("a 90", "c 90"), 10, "unknown bone 'c'"),
        (("2\n", "3\n"), 8, "frame 3 follows frame 1"),
        (("b 0 0\n", "b 0 0\nb 0 0\n"), 8, "twice in frame 1"),
        (("1\nroot", "root"), 4, "expected a frame number"),
        (("a 90", "a nan"), 10, "non-finite"),
    ],
)
def test_malformed_amc_names_file_and_line(
    tmp_path: Path, amc_edit: tuple[str, str], line: int, message: str
) -> None:
    asf = read_asf(write(tmp_path, TWO_BONES, "test.asf"))
    path = write(tmp_path, TWO_FRAMES.replace(*amc_edit), "bad_01.amc")
    with pytest.raises(AMCError, match=message) as info:
        read_amc(path, asf)
    assert str(info.value).startswith(f"{path}:{line}:")


def test_limits_refuse_large_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asf = read_asf(write(tmp_path, TWO_BONES, "test.asf"))
    amc = write(tmp_path, TWO_FRAMES, "test_01.amc")
    with pytest.raises(AMCError, match="more than 1 frames"):
        read_amc(amc, asf, max_frames=1)
    monkeypatch.setattr(asf_amc, "MAX_AMC_BYTES", 64)
    with pytest.raises(AMCError, match="larger than"):
        read_amc(amc, asf)


def test_other_skeletons_are_refused_for_ntu(tmp_path: Path) -> None:
    with pytest.raises(ASFError, match="test.asf: not a CMU/HDM05 skeleton: missing bones"):
        read_amc_ntu(write(tmp_path, TWO_FRAMES, "test_01.amc"), write(tmp_path, TWO_BONES, "test.asf"))


@pytest.fixture(scope="module")
def kick(tmp_path_factory: pytest.TempPathFactory, archive_members) -> Path:
    """HDM05 actor bd's left front kick (161 frames) and its ASF, extracted from the archive."""
    into = tmp_path_factory.mktemp("hdm05")
    archive_members(HDM05, [KICK_ASF, KICK_AMC], into)
    return into / KICK_AMC


def test_real_clip_bone_lengths_are_constant(kick: Path) -> None:
    asf = read_asf(find_asf(kick))
    motion = read_amc(kick, asf)
    assert motion.num_frames == 161 and np.isfinite(motion.values).all()
    ends = forward_kinematics(motion)
    for b, bone in enumerate(asf.bones[1:], start=1):
        lengths = np.linalg.norm(ends[:, b] - ends[:, bone.parent], axis=-1)
        np.testing.assert_allclose(lengths, np.linalg.norm(bone.vector), rtol=1e-9, atol=1e-9)
    joints = amc_to_ntu(motion)
    for child, parent in ((sk.L_KNEE, sk.L_HIP), (sk.R_ELBOW, sk.R_SHOULDER), (sk.L_ANKLE, sk.L_KNEE)):
        lengths = np.linalg.norm(joints[:, child] - joints[:, parent], axis=-1)
        assert lengths.std() < 1e-5 and 0.2 < lengths.mean() < 0.5


def test_rest_pose_height_and_sides(kick: Path) -> None:
    asf = read_asf(find_asf(kick))
    rest = AMCMotion(asf, np.zeros((1, sum(len(b.dofs) for b in asf.bones))))
    ends = forward_kinematics(rest)[0] * asf.metres_per_unit
    height = ends[asf.bone_index("head"), 1] - ends[asf.bone_index("ltoes"), 1]
    assert 1.5 < height < 2.0
    joints = amc_to_ntu(rest)[0]
    # NTU convention: facing -z (feet point to -z), the subject's left at -x, y up.
    assert joints[sk.L_SHOULDER, 0] < joints[sk.SPINE_SHOULDER, 0] < joints[sk.R_SHOULDER, 0]
    assert joints[sk.L_HIP, 0] < joints[sk.R_HIP, 0]
    assert joints[sk.L_FOOT, 2] < joints[sk.L_ANKLE, 2] - 0.05
    assert joints[sk.HEAD, 1] > joints[sk.SPINE_SHOULDER, 1] > joints[sk.SPINE_BASE, 1] > joints[sk.L_KNEE, 1]


def test_real_clip_is_upright_and_kicks_with_the_left_leg(kick: Path) -> None:
    joints, fps = read_amc_ntu(kick, find_asf(kick))
    assert fps == 120.0 and joints.dtype == np.float32 and joints.shape == (161, 25, 3)
    spine = joints[:, sk.SPINE_SHOULDER] - joints[:, sk.SPINE_BASE]
    assert (spine[:, 1] / np.linalg.norm(spine, axis=-1)).min() > 0.8  # y is up throughout
    assert 0.8 < joints[0, sk.SPINE_BASE, 1] < 1.2  # pelvis about 1 m above the floor
    # Right-handed with anatomical sides: left = up x forward (forward: the feet's direction).
    forward = joints[0, sk.L_FOOT] - joints[0, sk.L_ANKLE] + joints[0, sk.R_FOOT] - joints[0, sk.R_ANKLE]
    forward[1] = 0.0
    left = joints[0, sk.L_HIP] - joints[0, sk.R_HIP]
    assert np.dot(left, np.cross([0.0, 1.0, 0.0], forward)) > 0.5 * np.linalg.norm(left) * np.linalg.norm(
        forward
    )
    # "kickLFront": the left foot goes up high, the right one stays near the floor.
    assert joints[:, sk.L_FOOT, 1].max() > 1.0 > 0.4 > joints[:, sk.R_FOOT, 1].max()


def test_classify_reads_an_amc_with_the_asf_beside_it(kick: Path, tmp_path: Path) -> None:
    [(name, joints, fps)] = read_skeleton_file(kick)
    expected, _ = read_amc_ntu(kick, kick.parent / "HDM_bd.asf")
    assert name == kick.stem and fps == 120.0
    np.testing.assert_array_equal(joints, expected)
    assert read_skeleton_file(kick, fps=30)[0][2] == 30.0
    # Upper-case suffix (one HDM05 file has it) and a second ASF: paired by name.
    folder = tmp_path / "clips"
    folder.mkdir()
    upper = shutil.copy(kick, folder / "HDM_bd_kick.AMC")
    shutil.copy(kick.parent / "HDM_bd.asf", folder / "HDM_bd.asf")
    shutil.copy(kick.parent / "HDM_bd.asf", folder / "HDM_bk.asf")
    np.testing.assert_array_equal(read_skeleton_file(upper)[0][1], expected)
    # Two ASFs and neither named like the motion: refused, naming the file.
    lone = shutil.copy(kick, folder / "kick.amc")
    with pytest.raises(AMCError, match="kick.amc: 2 .asf files"):
        read_skeleton_file(lone)
    (folder / "HDM_bd.asf").unlink()
    (folder / "HDM_bk.asf").unlink()
    with pytest.raises(AMCError, match="no .asf"):
        read_skeleton_file(lone)


def test_classify_cli_on_an_amc(kick: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from typer.testing import CliRunner

    from actzero.cli.main import app

    monkeypatch.setenv("ACTZERO_CONFIG_DIR", str(tmp_path / "cfg"))
    result = CliRunner().invoke(app, ["classify", str(kick)])
    assert result.exit_code == 0, result.output
    [line] = [json.loads(text) for text in result.stdout.strip().splitlines()]
    assert line["clip"] == str(kick) and line["top_k"]
    broken = tmp_path / "HDM_bd_broken.amc"
    broken.write_text(kick.read_text(encoding="latin-1").replace("ltibia", "ltibia x", 1), encoding="latin-1")
    shutil.copy(kick.parent / "HDM_bd.asf", tmp_path / "HDM_bd.asf")
    result = CliRunner().invoke(app, ["classify", str(broken)])
    assert result.exit_code == 1 and "HDM_bd_broken.amc:" in result.stderr
    assert "Traceback" not in result.output
