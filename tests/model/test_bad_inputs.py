"""Bad input files: each gives a clear error naming the file (never a crash or a traceback type nobody
expects), memory stays bounded for huge bogus files, and a corrupt registry or bundle is reported.

The table in docs/reliability.md lists these inputs with the exact messages.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from actzero.model import registry
from actzero.model.bundle import DEFAULT_BUNDLE, Bundle, BundleError
from actzero.model.bvh import BVHError
from actzero.model.readers import SkeletonFileError, read_skeleton_file

ROOT_ONLY = (
    "HIERARCHY\nROOT Hips\n{\n OFFSET 0 0 0\n"
    " CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\n"
    " End Site\n {\n  OFFSET 0 1 0\n }\n}\nMOTION\n"
)
NTU_BODY = "72057594037931101 0 1 1 1 1 0 0.02 0.1 2\n25\n"
NTU_JOINT = "0.1 0.2 3.0 0 0 0 0 0 0 0 0 2\n"


def _npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _mat(**variables) -> bytes:
    import scipy.io

    buffer = io.BytesIO()
    scipy.io.savemat(buffer, variables)
    return buffer.getvalue()


def _kinder_gator_rows(rows: list[str]) -> bytes:
    from actzero.model.kinect import KINDER_GATOR_HEADER

    return ("\n".join([",".join(KINDER_GATOR_HEADER) + ",", *rows]) + "\n").encode()


def _zip_member(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


def _deep_bvh(depth: int) -> str:
    joint = " OFFSET 0 0 0\n CHANNELS 0\n"
    return "HIERARCHY\nROOT a\n{\n" + joint + "".join(f"JOINT j{i}\n{{\n{joint}" for i in range(depth))


# (file name, content, error type, message fragment)
BAD_SKELETON_FILES = [
    ("shape.npz", _npz(clip=np.zeros((10, 17, 3), np.float32)), SkeletonFileError, "expected (T, 25, 3)"),
    ("strings.npz", _npz(clip=np.full((2, 25, 3), "a")), SkeletonFileError, "is not numeric"),
    ("complex.npz", _npz(clip=np.zeros((2, 25, 3), np.complex64)), SkeletonFileError, "is not numeric"),
    ("objects.npz", _npz(clip=np.array([None, 1], dtype=object)), SkeletonFileError, "cannot read arrays"),
    ("inf.npz", _npz(clip=np.full((5, 25, 3), np.inf, np.float32)), SkeletonFileError, "infinite values"),
    ("no-frames.npz", _npz(clip=np.zeros((0, 25, 3), np.float32)), SkeletonFileError, "T >= 1"),
    ("no-arrays.npz", _npz(), SkeletonFileError, "contains no skeleton frames"),
    (
        "half.npz",
        _npz(clip=np.zeros((10, 25, 3), np.float32))[:900],
        SkeletonFileError,
        "not a readable .npz",
    ),
    ("empty.npz", b"", SkeletonFileError, "not a readable .npz"),
    ("member.npz", _zip_member("clip.npy", b"not an array"), SkeletonFileError, "member.npz"),
    ("pickle.npy", _npy(np.array([{"a": 1}], dtype=object)), SkeletonFileError, "not a readable .npy"),
    ("joints.npy", _npy(np.zeros((2, 3, 10, 17, 1), np.float32)), SkeletonFileError, "(N, 3, T, 25, M)"),
    ("flat.npy", _npy(np.zeros((10, 75), np.float32)), SkeletonFileError, "(N, 3, T, 25, M)"),
    ("zeros.npy", _npy(np.zeros((2, 3, 10, 25, 2), np.float32)), SkeletonFileError, "no skeleton frames"),
    ("clip.xyz", b"data", SkeletonFileError, "unsupported file type '.xyz'"),
    ("clip.mat", b"MATLAB 5.0", SkeletonFileError, "not a readable MATLAB .mat file"),
    ("other.mat", _mat(other=np.zeros((20, 3, 4))), SkeletonFileError, "no numeric variable 'd_skel'"),
    ("shape.mat", _mat(d_skel=np.zeros((25, 3, 4))), SkeletonFileError, "expected (20, 3, T)"),
    ("zeros.mat", _mat(d_skel=np.zeros((20, 3, 4))), SkeletonFileError, "every frame is all zero"),
    (
        "header.csv",
        b"Timestamp,X,Y,Z,\n1,2,3,4,\n",
        SkeletonFileError,
        "header.csv:1: not a Kinder-Gator header",
    ),
    ("short.csv", _kinder_gator_rows(["1," * 10]), SkeletonFileError, "short.csv:2: 11 fields, expected 63"),
    ("words.csv", _kinder_gator_rows(["1," + "a," * 62]), SkeletonFileError, "words.csv:2: non-numeric"),
    ("binary.csv", bytes(range(256)) * 8, SkeletonFileError, "not a Kinder-Gator CSV text file"),
    ("cut.json", b'{"skeletons": [[[0.1, 0.2', SkeletonFileError, "not a readable JSON file"),
    ("list.json", b"[1, 2]", SkeletonFileError, "no 'skeletons' list"),
    ("joints.json", b'{"skeletons": [[[1, 2, 3]]]}', SkeletonFileError, "expected (T, 20, 3)"),
    ("ragged.json", b'{"skeletons": [[[1, 2, 3]], [1]]}', SkeletonFileError, "not a T x 20 x 3 list"),
    ("fields.txt", b"0.1 0.2 3.0\n", SkeletonFileError, "fields.txt:1: 3 fields, expected 4"),
    ("cut.txt", b"0.1 0.2 3.0 1\n" * 30, SkeletonFileError, "30 joint lines, not a multiple of 20"),
    ("words.txt", b"0.1 0.2 abc 1\n", SkeletonFileError, "words.txt:1: non-numeric value"),
    ("zeros.txt", b"0 0 0 0\n" * 40, SkeletonFileError, "every frame is all zero"),
    ("inf.txt", b"0.1 0.2 inf 1\n" * 20, SkeletonFileError, "non-finite"),
    ("citi.npy", _npy(np.zeros((100, 57), np.float32)), SkeletonFileError, "every frame is an outlier"),
    ("citi-nan.npy", _npy(np.full((100, 19, 3), np.nan)), SkeletonFileError, "non-finite"),
    ("clip", b"data", SkeletonFileError, "unsupported file type '(none)'"),
    ("empty.skeleton", b"", SkeletonFileError, "unexpected end of file, expected the frame count"),
    ("words.skeleton", b"abc\n", SkeletonFileError, "expected the frame count (an integer)"),
    (
        "short.skeleton",
        ("2\n1\n" + NTU_BODY + NTU_JOINT * 10).encode(),
        SkeletonFileError,
        "short.skeleton:14: unexpected end of file, expected joint 11 of 25",
    ),
    (
        "nan.skeleton",
        ("1\n1\n" + NTU_BODY + NTU_JOINT.replace("0.1", "nan") * 25).encode(),
        SkeletonFileError,
        "nan.skeleton:5: joint position is not finite",
    ),
    ("huge-count.skeleton", b"999999999\n", SkeletonFileError, "must be one integer in 0..1000000"),
    ("binary.skeleton", bytes(range(256)) * 8, SkeletonFileError, "not an NTU .skeleton text file"),
    ("empty.bvh", b"", BVHError, "expected 'HIERARCHY'"),
    ("binary.bvh", b"\x00\xff" * 500, BVHError, "expected 'HIERARCHY'"),
    (
        "rig.bvh",
        (ROOT_ONLY + "Frames: 1\nFrame Time: 0.03\n0 0 0 0 0 0\n").encode(),
        BVHError,
        "Bandai Namco",
    ),
    ("cut.bvh", (ROOT_ONLY + "Frames: 5\nFrame Time: 0.03\n0 0 0 0 0 0\n").encode(), BVHError, "truncated"),
    (
        "nan.bvh",
        (ROOT_ONLY + "Frames: 1\nFrame Time: 0.03\n0 0 nan 0 0 0\n").encode(),
        BVHError,
        "non-finite",
    ),
    ("zero-time.bvh", (ROOT_ONLY + "Frames: 1\nFrame Time: 0\n0 0 0 0 0 0\n").encode(), BVHError, "positive"),
    ("frames.bvh", (ROOT_ONLY + "Frames: 99999999999\nFrame Time: 0.03\n").encode(), BVHError, "limits"),
    ("open.bvh", b"HIERARCHY\nROOT Hips\n{\n OFFSET 0 0\n", BVHError, "unexpected end of file"),
    ("deep.bvh", _deep_bvh(5000).encode(), BVHError, "deep.bvh"),
]


@pytest.mark.parametrize(
    ("name", "content", "error", "message"), BAD_SKELETON_FILES, ids=[case[0] for case in BAD_SKELETON_FILES]
)
def test_bad_skeleton_file_gives_a_clear_error(tmp_path, name, content, error, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(error) as raised:
        read_skeleton_file(path)
    assert isinstance(raised.value, ValueError)  # what a batch command catches per file
    assert message in str(raised.value)
    assert str(path) in str(raised.value)  # the message names the file
    assert len(str(raised.value)) < len(str(path)) + 300  # and quotes bounded excerpts of it


def test_missing_skeleton_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such skeleton file"):
        read_skeleton_file(tmp_path / "missing.npz")


def test_a_batch_reads_the_good_files_and_reports_each_bad_one(tmp_path):
    """What `actzero classify` and friends do: one bad file never stops the others."""
    good = np.random.default_rng(0).normal(size=(12, 25, 3)).astype(np.float32)
    np.savez(tmp_path / "a_good.npz", clip=good)
    (tmp_path / "b_bad.bvh").write_text("not a bvh")
    np.savez(tmp_path / "c_good.npz", other=good[:5])
    read, failed = {}, {}
    for path in sorted(tmp_path.iterdir()):
        try:
            read[path.name] = read_skeleton_file(path)
        except ValueError as exc:
            failed[path.name] = str(exc)
    assert sorted(read) == ["a_good.npz", "c_good.npz"] and list(failed) == ["b_bad.bvh"]
    np.testing.assert_array_equal(read["a_good.npz"][0][1], good)
    assert "expected 'HIERARCHY'" in failed["b_bad.bvh"]


# Peak RSS of the reading process: VmHWM, which starts afresh at exec (ru_maxrss would carry over the
# RSS of the pytest process that forked it).
_PEAK_RSS_SCRIPT = """
import sys
from pathlib import Path
from actzero.model.readers import read_skeleton_file
def peak_mib():
    line = next(l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith("VmHWM:"))
    return int(line.split()[1]) // 1024
for path in sys.argv[1:]:
    try:
        read_skeleton_file(path)
        outcome = "accepted"
    except ValueError as exc:
        outcome = f"{type(exc).__name__}: {exc}"
    print(f"{path}\\t{peak_mib()}\\t{outcome}", flush=True)
"""


def test_huge_bogus_files_are_refused_with_bounded_memory(tmp_path):
    """3 GiB sparse files (no disk used): refused by size or content, peak RSS stays small."""
    size = 3 * 2**30
    header = io.BytesIO()
    shape = (size // (25 * 3 * 4), 25, 3)  # a valid header for exactly the data that follows
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": shape})
    files = {
        "zeros.bvh": b"",
        "zeros.skeleton": b"",
        "zeros.npz": b"",
        "zeros.npy": b"",
        "zeros.mat": b"",
        "zeros.csv": b"",
        "zeros.json": b"",
        "zeros.txt": b"",
        "clip.npy": header.getvalue(),
    }
    paths = []
    for name, start in files.items():
        path = tmp_path / name
        path.write_bytes(start)
        os.truncate(path, len(start) + size)
        paths.append(str(path))
    run = subprocess.run(
        [sys.executable, "-c", _PEAK_RSS_SCRIPT, *paths], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    rows = [line.split("\t") for line in run.stdout.splitlines()]
    assert [row[0] for row in rows] == paths
    for path, peak_mib, outcome in rows:
        assert outcome != "accepted", path
        assert int(peak_mib) < 300, f"{path}: peak RSS {peak_mib} MiB ({outcome})"


# ----- registry and bundle ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"format": "actzero-actions", "version": 1, "actions": [', "is not valid JSON (line 1"),
        (b"\xff\xfe{}", "is not UTF-8 text"),
        (b"[]", "must hold a JSON object"),
        (b'{"format": "other", "version": 1, "actions": []}', "not an actzero action registry"),
        (b'{"format": "actzero-actions", "version": 9, "actions": []}', "registry version 9"),
        (b'{"format": "actzero-actions", "version": 1, "actions": [{"name": ""}]}', "action 0"),
    ],
)
def test_corrupt_registry_is_reported_and_never_overwritten(tmp_path, content, message):
    path = tmp_path / "actions.json"
    path.write_bytes(content)
    with pytest.raises(registry.RegistryError, match="actions.json") as raised:
        registry.load_actions(path)
    assert message in str(raised.value)
    with pytest.raises(registry.RegistryError):
        registry.add_action("jump", ["A person jumps up with both feet."], path=path)
    assert path.read_bytes() == content
    assert [p.name for p in tmp_path.iterdir() if p.name != "actions.json.lock"] == ["actions.json"]


def test_overlong_action_texts_are_refused(tmp_path):
    path = tmp_path / "actions.json"
    with pytest.raises(registry.ActionError, match="the limit is"):
        registry.add_action("jump", ["x" * 10_000], path=path)
    with pytest.raises(registry.ActionError, match="the limit is"):
        registry.add_action("j" * 500, ["A person jumps."], path=path)
    assert not path.exists()


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


BAD_BUNDLES = {
    "garbage onnx": lambda d: (d / "skeleton.onnx").write_bytes(b"garbage" * 100),
    "manifest not json": lambda d: (d / "manifest.json").write_text('{"format": "actzero-bundle", "vers'),
    "manifest not utf-8": lambda d: (d / "manifest.json").write_bytes(b"\xff\xfe\x00"),
    "manifest a list": lambda d: (d / "manifest.json").write_text("[]"),
    "manifest without window": lambda d: (d / "manifest.json").write_text(
        json.dumps({k: v for k, v in _manifest(d).items() if k != "window"})
    ),
    "window not a number": lambda d: (d / "manifest.json").write_text(
        json.dumps({**_manifest(d), "window": "x"})
    ),
    "text cache garbage": lambda d: (d / "text_embeddings.npz").write_bytes(b"garbage"),
    "missing onnx": lambda d: (d / "text_vae.onnx").unlink(),
}


@pytest.mark.parametrize("corruption", list(BAD_BUNDLES))
def test_corrupt_bundle_gives_bundle_error(tmp_path, corruption):
    folder = tmp_path / "bundle"
    shutil.copytree(DEFAULT_BUNDLE, folder)
    BAD_BUNDLES[corruption](folder)
    with pytest.raises(BundleError) as raised:
        Bundle.load(folder)
    assert str(folder) in str(raised.value)
