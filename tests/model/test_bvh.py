"""BVH reader and forward kinematics on small files the tests write, plus one real Bandai clip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from actzero.model import skeleton
from actzero.model.bvh import BVHError, forward_kinematics, read_bvh, read_bvh_ntu

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
BANDAI_1 = SHARED / "data" / "bandai-namco" / "Bandai-Namco-Research-Motiondataset-1.tar.xz"

# Root with position + Y-then-X rotation, a child 1 unit up, an End Site 2 units along the child's z.
TWO_JOINT = """HIERARCHY
ROOT Base
{
  OFFSET 0 0 0
  CHANNELS 5 Xposition Yposition Zposition Yrotation Xrotation
  JOINT Tip
  {
    OFFSET 0 1 0
    CHANNELS 1 Zrotation
    End Site
    {
      OFFSET 0 0 2
    }
  }
}
MOTION
Frames: 2
Frame Time: 0.04
0 0 0 0 0 0
10 20 30 90 90 0
"""


def write(tmp_path: Path, text: str, name: str = "clip.bvh") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_hierarchy_channels_and_fps(tmp_path: Path) -> None:
    motion = read_bvh(write(tmp_path, TWO_JOINT))
    assert [j.name for j in motion.joints] == ["Base", "Tip", "Tip_End"]
    assert [j.parent for j in motion.joints] == [-1, 0, 1]
    assert motion.joints[0].channels == ("Xposition", "Yposition", "Zposition", "Yrotation", "Xrotation")
    assert motion.joints[1].first_channel == 5
    assert motion.values.shape == (2, 6)
    assert motion.fps == 25.0


def test_forward_kinematics_yx_order_matches_hand_computation(tmp_path: Path) -> None:
    # Frame 1: root at (10, 20, 30), R = Ry(90) @ Rx(90). Rx(90) takes the child offset (0,1,0)
    # to (0,0,1), then Ry(90) takes (0,0,1) to (1,0,0): Tip at (11, 20, 30). The X-then-Y order
    # would give Rx(90) @ Ry(90) (0,1,0) = (0,0,1) instead, so the order matters.
    # End Site: R @ (0,0,2); Rx(90) (0,0,2) = (0,-2,0), Ry(90) leaves it: (11, 18, 30).
    positions, rotations = forward_kinematics(read_bvh(write(tmp_path, TWO_JOINT)))
    np.testing.assert_allclose(positions[0], [[0, 0, 0], [0, 1, 0], [0, 1, 2]], atol=1e-12)
    np.testing.assert_allclose(positions[1], [[10, 20, 30], [11, 20, 30], [11, 18, 30]], atol=1e-12)
    np.testing.assert_allclose(rotations[1, 0] @ [0, 1, 0], [1, 0, 0], atol=1e-12)


def test_child_rotation_zxy_order(tmp_path: Path) -> None:
    # A chain A -> B -> End with B rotating Z then X: R_B = Rz(90) @ Rx(90) applied to (0,0,1):
    # Rx(90) (0,0,1) = (0,-1,0); Rz(90) (0,-1,0) = (1,0,0). End = B + (1,0,0) = (0,1,0)+(1,0,0).
    text = """HIERARCHY
ROOT A
{
  OFFSET 0 0 0
  CHANNELS 0
  JOINT B
  {
    OFFSET 0 1 0
    CHANNELS 2 Zrotation Xrotation
    End Site
    {
      OFFSET 0 0 1
    }
  }
}
MOTION
Frames: 1
Frame Time: 0.0333333
90 90
"""
    motion = read_bvh(write(tmp_path, text))
    positions, _ = forward_kinematics(motion)
    np.testing.assert_allclose(positions[0, 2], [1, 1, 0], atol=1e-12)
    assert motion.fps == 30.0


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace("10 20 30 90 90 0\n", ""), "truncated motion: 2 frames declared, 1 found"),
        (lambda t: t.replace("10 20 30 90 90 0", "10 20 30 90 90"), ":20: frame 1 has 5 values"),
        (lambda t: t.replace("10 20 30 90 90 0", "10 20 abc 90 90 0"), ":20: non-numeric value 'abc'"),
        (lambda t: t.split("MOTION")[0], "unexpected end of file"),
        (lambda t: t.replace("HIERARCHY\n", ""), ":1: expected 'HIERARCHY'"),
        (lambda t: t.replace("Frames: 2", "Frames: two"), ":17: frame count must be"),
        (lambda t: t.replace("Frame Time: 0.04", "Frame Time: 0"), ":18: Frame Time must be positive"),
        (lambda t: t.replace("CHANNELS 1 Zrotation", "CHANNELS 1 Wrotation"), ":9: unknown channel"),
        (lambda t: t.replace("OFFSET 0 1 0", "OFFSET 0 one 0"), ":8: expected a number for OFFSET"),
        (lambda t: t + "1 2 3 4 5 6\n", "more motion lines than the 2 frames declared"),
        (lambda t: t.replace("Frames: 2", "Frames: 999999999"), "exceeds the limits"),
    ],
)
def test_malformed_files_raise_bvherror_with_file_and_line(tmp_path: Path, edit, message: str) -> None:
    path = write(tmp_path, edit(TWO_JOINT))
    with pytest.raises(BVHError) as info:
        read_bvh(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BVHError, match="larger than"):
        read_bvh(write(tmp_path, TWO_JOINT), max_bytes=100)


def test_other_rig_is_refused_by_ntu_reader(tmp_path: Path) -> None:
    with pytest.raises(BVHError, match="not the Bandai Namco 22-joint rig"):
        read_bvh_ntu(write(tmp_path, TWO_JOINT))


@pytest.fixture(scope="module")
def bandai_bye(tmp_path_factory: pytest.TempPathFactory, archive_members) -> Path:
    # The archive's first BVH file: reading stops there, so the test decompresses little.
    name = "Bandai-Namco-Research-Motiondataset-1/data/dataset-1_bye_feminine_001.bvh"
    (path,) = archive_members(BANDAI_1, [name], tmp_path_factory.mktemp("bandai"))
    return path


def test_real_bandai_clip_is_an_upright_adult_facing_the_camera(bandai_bye: Path) -> None:
    joints, fps = read_bvh_ntu(bandai_bye)
    assert fps == 30.0
    assert joints.dtype == np.float32 and joints.shape[1:] == (25, 3) and len(joints) > 30
    assert np.isfinite(joints).all()
    first = joints[0]
    height = first[skeleton.HEAD, 1] - min(first[skeleton.L_FOOT, 1], first[skeleton.R_FOOT, 1])
    assert 1.3 < height < 1.9  # metres, y up
    assert first[skeleton.HEAD, 1] > first[skeleton.SPINE_SHOULDER, 1] > first[skeleton.SPINE_BASE, 1]
    # Facing -z (towards an NTU camera): toes ahead of ankles, subject's left at -x.
    assert first[skeleton.L_FOOT, 2] < first[skeleton.L_ANKLE, 2]
    assert first[skeleton.L_SHOULDER, 0] < first[skeleton.R_SHOULDER, 0]
    # Bone lengths stay constant through the clip (rigid FK), e.g. the right forearm ~ 24 cm.
    forearm = np.linalg.norm(joints[:, skeleton.R_WRIST] - joints[:, skeleton.R_ELBOW], axis=-1)
    assert np.ptp(forearm) < 1e-3 and 0.2 < forearm.mean() < 0.3
