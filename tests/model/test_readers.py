from pathlib import Path

import numpy as np
import pytest

from actzero.model import readers
from actzero.model import skeleton as sk
from actzero.model.readers import SkeletonFileError, read_skeleton_file

BANDAI_1 = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "data"
    / "bandai-namco"
    / "Bandai-Namco-Research-Motiondataset-1.tar.xz"
)


def _body(rng: np.random.Generator) -> np.ndarray:
    return (rng.normal(scale=0.3, size=(25, 3)) + (0.0, 0.0, 3.0)).astype(np.float32)


def _ntu_text(frames: list[dict[str, np.ndarray]], untracked: tuple[int, int, str] | None = None) -> str:
    """NTU RGB+D raw .skeleton text: frames maps body id -> (25, 3) joints."""
    lines = [str(len(frames))]
    for f, bodies in enumerate(frames):
        lines.append(str(len(bodies)))
        for body_id, joints in bodies.items():
            lines.append(f"{body_id} 0 1 1 1 1 0 0.1903827 -0.0327012 2")
            lines.append("25")
            for j, (x, y, z) in enumerate(joints):
                state = (
                    0 if untracked is not None and untracked[:2] == (f, j) and untracked[2] == body_id else 2
                )
                lines.append(
                    f"{x:.7f} {y:.7f} {z:.7f} 277.4 191.8 1036.2 519.1 -0.265 0.011 0.956 -0.120 {state}"
                )
    return "\n".join(lines) + "\n"


def test_ntu_skeleton_single_body(tmp_path):
    rng = np.random.default_rng(0)
    frames = [{"72057594037931101": _body(rng)} for _ in range(3)]
    path = tmp_path / "S001C001P001R001A023.skeleton"
    path.write_text(_ntu_text(frames, untracked=(1, sk.L_HAND, "72057594037931101")))
    [(name, joints, fps)] = read_skeleton_file(path)
    assert name == "S001C001P001R001A023" and fps == 30.0
    assert joints.shape == (3, 25, 3) and joints.dtype == np.float32
    expected = np.stack([f["72057594037931101"] for f in frames])
    expected[1, sk.L_HAND] = np.nan
    np.testing.assert_allclose(joints, expected, atol=1e-6)
    assert read_skeleton_file(path, fps=15)[0][2] == 15.0


def test_ntu_skeleton_one_clip_per_body_main_body_first(tmp_path):
    rng = np.random.default_rng(1)
    main, other = _body(rng), _body(rng)
    frames = [{"7": main}, {"7": main, "9": other}, {"9": other, "7": main}, {}, {"7": main}]
    path = tmp_path / "two.skeleton"
    path.write_text(_ntu_text(frames))
    clips = read_skeleton_file(path)
    assert [name for name, _, _ in clips] == ["two/body0", "two/body1"]
    assert clips[0][1].shape == (5, 25, 3) and np.isnan(clips[0][1][3]).all()
    assert np.isfinite(clips[0][1][[0, 1, 2, 4]]).all()
    np.testing.assert_allclose(clips[1][1], np.stack([other, other]), atol=1e-6)


def _set_field(text: str, lineno: int, value: str) -> str:
    """Replace the first field of line `lineno` (1-based)."""
    lines = text.splitlines()
    lines[lineno - 1] = " ".join([value] + lines[lineno - 1].split()[1:])
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda t: t.replace(" -0.120 2\n", " -0.120\n", 1),
            r"bad\.skeleton:(\d+): joint line has 11 fields",
        ),
        (
            lambda t: t.replace("0.1903827 -0.0327012 2", "0.19", 1),
            r"bad\.skeleton:(\d+): body info line has 8 fields",
        ),
        (lambda t: t.replace("\n25\n", "\n24\n", 1), r"bad\.skeleton:(\d+): the joint count must be"),
        (lambda t: "x" + t, r"bad\.skeleton:1: expected the frame count"),
        (lambda t: t[: len(t) // 2], r"bad\.skeleton:(\d+): unexpected end of file"),
        (lambda t: t + "1\n", r"bad\.skeleton:(\d+): unexpected data after the 2 declared frames"),
        (lambda t: _set_field(t, 5, "abc"), r"bad\.skeleton:5: non-numeric value"),
        (
            lambda t: _set_field(t, 6, "nan"),
            r"bad\.skeleton:6: joint position is not finite",
        ),
    ],
)
def test_malformed_ntu_skeleton_names_file_and_line(tmp_path, edit, message):
    rng = np.random.default_rng(2)
    path = tmp_path / "bad.skeleton"
    path.write_text(edit(_ntu_text([{"1": _body(rng)}, {"1": _body(rng)}])))
    with pytest.raises(SkeletonFileError, match=message):
        read_skeleton_file(path)


def test_ntu_skeleton_error_line_number_is_the_offending_line(tmp_path):
    rng = np.random.default_rng(3)
    text = _ntu_text([{"1": _body(rng)}, {"1": _body(rng)}])
    lines = text.splitlines()
    lines[40] = "1 2 3"  # a joint line of frame 2
    path = tmp_path / "bad.skeleton"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(SkeletonFileError, match=r"bad\.skeleton:41: joint line has 3 fields"):
        read_skeleton_file(path)


def test_oversized_or_empty_ntu_skeleton_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "big.skeleton"
    path.write_text(_ntu_text([{"1": _body(np.random.default_rng(4))}]))
    monkeypatch.setattr(readers, "MAX_TEXT_BYTES", 100)
    with pytest.raises(SkeletonFileError, match="limit"):
        read_skeleton_file(path)
    monkeypatch.undo()
    empty = tmp_path / "empty.skeleton"
    empty.write_text("0\n")
    with pytest.raises(SkeletonFileError, match="no skeleton frames"):
        read_skeleton_file(empty)
    binary = tmp_path / "binary.skeleton"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(SkeletonFileError, match="not an NTU"):
        read_skeleton_file(binary)


def test_npz_arrays_are_clips_named_by_array(tmp_path):
    rng = np.random.default_rng(5)
    walk = rng.normal(size=(7, 25, 3))
    walk[2, 4] = np.nan  # NaN = missing joint is allowed
    path = tmp_path / "clips.npz"
    np.savez(path, walk=walk, wave=np.ones((2, 25, 3), np.int16))
    clips = read_skeleton_file(path, fps=25)
    assert [(n, c.shape, c.dtype, f) for n, c, f in clips] == [
        ("walk", (7, 25, 3), np.float32, 25.0),
        ("wave", (2, 25, 3), np.float32, 25.0),
    ]
    np.testing.assert_allclose(clips[0][1], walk.astype(np.float32))


@pytest.mark.parametrize(
    "array, message",
    [
        (np.zeros((7, 24, 3)), r"array 'jump'.*shape \(7, 24, 3\)"),
        (np.zeros((0, 25, 3)), r"array 'jump'.*T >= 1"),
        (np.full((3, 25, 3), np.inf), r"array 'jump'.*infinite"),
        (np.array(["a", "b"]), r"array 'jump'.*not numeric"),
    ],
)
def test_bad_npz_array_is_named(tmp_path, array, message):
    path = tmp_path / "bad.npz"
    np.savez(path, ok=np.zeros((3, 25, 3)), jump=array)
    with pytest.raises(SkeletonFileError, match=message):
        read_skeleton_file(path)


def test_npz_needing_pickle_or_not_a_zip_is_refused(tmp_path):
    pickled = tmp_path / "objects.npz"
    np.savez(pickled, clip=np.array([np.zeros((3, 25, 3)), None], dtype=object))
    with pytest.raises(SkeletonFileError, match="cannot read arrays"):
        read_skeleton_file(pickled)
    fake = tmp_path / "fake.npz"
    fake.write_text("hello")
    with pytest.raises(SkeletonFileError, match="not a readable .npz"):
        read_skeleton_file(fake)


def test_ctr_gcn_npz_takes_person_zero_and_drops_padding(tmp_path):
    rng = np.random.default_rng(6)
    x = np.zeros((2, 10, 2, 25, 3), np.float32)
    x[0, :6] = rng.normal(size=(6, 2, 25, 3))
    x[1, :] = rng.normal(size=(10, 2, 25, 3))
    path = tmp_path / "ntu_ctr.npz"
    np.savez(path, x_train=x.reshape(2, 10, 150), y_train=np.eye(2), x_test=x[:1].reshape(1, 10, 150))
    clips = read_skeleton_file(path)
    assert [(n, c.shape) for n, c, _ in clips] == [
        ("x_train[0]", (6, 25, 3)),
        ("x_train[1]", (10, 25, 3)),
        ("x_test[0]", (6, 25, 3)),
    ]
    np.testing.assert_allclose(clips[1][1], x[1, :, 0])


def test_preprocessed_ntu_npy_person_zero_without_padding(tmp_path):
    rng = np.random.default_rng(7)
    data = np.zeros((3, 3, 12, 25, 2), np.float32)  # (N, C, T, V, M)
    data[0, :, 2:9, :, :] = rng.normal(size=(3, 7, 25, 2))
    data[0, :, 5] = 0.0  # a dropped frame inside the clip
    data[1, :, :4, :, 0] = rng.normal(size=(3, 4, 25))  # sample 2 stays all zero (no body)
    path = tmp_path / "train_data_joint.npy"
    np.save(path, data)
    clips = read_skeleton_file(path)
    assert [(n, c.shape) for n, c, _ in clips] == [
        ("train_data_joint[0]", (7, 25, 3)),
        ("train_data_joint[1]", (4, 25, 3)),
    ]
    expected = data[0, :, 2:9, :, 0].transpose(1, 2, 0).copy()
    expected[3] = np.nan
    np.testing.assert_allclose(clips[0][1], expected)


def test_npy_single_clip_and_bad_shape(tmp_path):
    one = tmp_path / "one.npy"
    np.save(one, np.ones((4, 25, 3)))
    assert [(n, c.shape) for n, c, _ in read_skeleton_file(one)] == [("one", (4, 25, 3))]
    bad = tmp_path / "bad.npy"
    np.save(bad, np.ones((4, 3, 10, 18, 1)))
    with pytest.raises(SkeletonFileError, match=r"bad\.npy: shape \(4, 3, 10, 18, 1\)"):
        read_skeleton_file(bad)


def test_unsupported_missing_or_bad_rate(tmp_path):
    other = tmp_path / "clip.xyz"
    other.write_text("1,2,3\n")
    with pytest.raises(SkeletonFileError, match=r"unsupported file type '\.xyz'"):
        read_skeleton_file(other)
    with pytest.raises(FileNotFoundError):
        read_skeleton_file(tmp_path / "nope.npz")
    with pytest.raises(SkeletonFileError, match="fps"):
        read_skeleton_file(other, fps=-1)


def test_bvh_is_read_through_the_bandai_rig(tmp_path, archive_members):
    from actzero.model.bvh import read_bvh_ntu

    name = "Bandai-Namco-Research-Motiondataset-1/data/dataset-1_bow_normal_001.bvh"
    (path,) = archive_members(BANDAI_1, [name], tmp_path)
    [(clip, joints, fps)] = read_skeleton_file(path)
    expected, file_fps = read_bvh_ntu(path)
    assert clip == "dataset-1_bow_normal_001" and fps == file_fps == 30.0
    np.testing.assert_array_equal(joints, expected)
    assert read_skeleton_file(path, fps=60)[0][2] == 60.0
