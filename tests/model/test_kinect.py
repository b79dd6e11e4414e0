"""model/kinect.py on real files of the five Kinect sources, extracted from ../shared/data/kinect:
layout, up axis, the subject's sides, units, derived and missing joints, defects, bad files, and
the dispatch of `read_skeleton_file` and `actzero classify`."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from actzero.cli.main import app
from actzero.model import kinect
from actzero.model import skeleton as sk
from actzero.model.canonical import canonicalise
from actzero.model.readers import SkeletonFileError, read_skeleton_file

UTD = ("utd-mhad", "UTD-MHAD-skeleton.tar.xz")
KINDER_GATOR = ("kinder-gator", "Kinder-Gator.tar.xz")
NW_UCLA = ("nw-ucla", "NW-UCLA-all_sqe.tar.xz")
MSR = ("msr-action3d", "MSRAction3D-skeleton.tar.xz")
CITI = ("citi-dailyactivities3d", "CITI-DailyActivities3D-skeleton.tar.xz")
MSR_REAL = "MSRAction3D/MSRAction3DSkeletonReal3D/{}_skeleton3D.txt"
MSR_SCREEN = "MSRAction3D/MSRAction3DSkeleton(20joints)/{}_skeleton.txt"
CITI_DATA = "CITI-DailyActivities3D/citi_data/citi_data_{:04d}.npy"


def _path_length(joints: np.ndarray, joint: int) -> float:
    steps = np.linalg.norm(np.diff(joints[:, joint], axis=0), axis=-1)
    return float(np.nansum(steps))


def _stature(joints: np.ndarray) -> float:
    """Head joint above the lower foot joint, the largest over frames (the subject standing)."""
    feet = np.fmin(joints[:, sk.L_FOOT, 1], joints[:, sk.R_FOOT, 1])
    return float(np.nanmax(joints[:, sk.HEAD, 1] - feet))


def _check_layout(joints: np.ndarray) -> None:
    """NTU-25 float32, derived neck and hand tips present, thumbs NaN, y up, the subject's left at -x."""
    assert joints.dtype == np.float32 and joints.ndim == 3 and joints.shape[1:] == (25, 3)
    assert np.isnan(joints[:, [sk.L_THUMB, sk.R_THUMB]]).all()
    valid = ~np.isnan(joints[:, sk.SPINE_SHOULDER, 0])
    body = joints[valid]
    assert np.isfinite(body[:, [j for j in range(25) if j not in (sk.L_THUMB, sk.R_THUMB)]]).all()
    assert (body[:, sk.HEAD, 1] > body[:, sk.SPINE_SHOULDER, 1]).mean() > 0.9  # y is up
    assert (body[:, sk.SPINE_SHOULDER, 1] > body[:, sk.SPINE_BASE, 1]).mean() > 0.9
    assert np.median(body[:, sk.R_SHOULDER, 0] - body[:, sk.L_SHOULDER, 0]) > 0.1  # left at -x
    assert np.median(body[:, sk.R_HIP, 0] - body[:, sk.L_HIP, 0]) > 0.05
    neck_along = np.linalg.norm(body[:, sk.NECK] - body[:, sk.SPINE_SHOULDER], axis=-1) / np.linalg.norm(
        body[:, sk.HEAD] - body[:, sk.SPINE_SHOULDER], axis=-1
    )
    np.testing.assert_allclose(neck_along, kinect.NECK_FRACTION, atol=1e-4)
    canonicalise(joints)  # usable by the model's canonicalisation (NaN thumbs are filled)


def test_utd_mhad_right_hand_wave(kinect_files):
    (path,) = kinect_files(*UTD, ["UTD-MHAD/Skeleton/a3_s1_t1_skeleton.mat"])
    joints = kinect.read_utd_mhad(path)
    _check_layout(joints)
    assert _path_length(joints, sk.R_HAND) > 2 * _path_length(joints, sk.L_HAND)  # a3: right hand wave
    assert np.nanmax(joints[:, sk.R_HAND, 1]) > np.nanmedian(joints[:, sk.SPINE_SHOULDER, 1])
    assert 1.3 < _stature(joints) < 2.1  # metres, an adult
    assert 1.5 < np.nanmedian(joints[:, sk.SPINE_BASE, 2]) < 4.5  # camera space: metres from the sensor
    clips = read_skeleton_file(path)
    assert [(name, fps) for name, _, fps in clips] == [("a3_s1_t1_skeleton", kinect.KINECT_V1_FPS)]
    np.testing.assert_array_equal(clips[0][1], joints)


def test_kinder_gator(kinect_files):
    (path,) = kinect_files(
        *KINDER_GATOR, ["Kinder-Gator/Adults/POSE-p565_01-Raise-your-hand-1469182402284.csv"]
    )
    joints, fps = kinect.read_kinder_gator(path)
    _check_layout(joints)
    assert 29.0 < fps < 33.0  # from the timestamps (~31-33 ms apart)
    assert len(joints) == sum(1 for line in path.read_text().splitlines()[1:] if line.strip())
    assert 1.3 < _stature(joints) < 2.1  # an adult
    raised = np.fmax(joints[:, sk.L_HAND, 1], joints[:, sk.R_HAND, 1])
    assert np.nanmax(raised) > np.nanmax(joints[:, sk.HEAD, 1])  # a hand goes above the head
    assert read_skeleton_file(path)[0][2] == pytest.approx(fps)


def test_nw_ucla(kinect_files):
    (path,) = kinect_files(*NW_UCLA, ["NW-UCLA/all_sqe/a01_s01_e00_v01.json"])
    joints = kinect.read_nw_ucla(path)
    _check_layout(joints)
    assert len(joints) == len(json.loads(path.read_text())["skeletons"])
    assert 1.0 < _stature(joints) < 2.1  # a01 = pick up with one hand: crouching frames are shorter
    assert read_skeleton_file(path)[0][2] == kinect.KINECT_V1_FPS


def test_msr_action3d_real_and_screen_files_agree(kinect_files):
    screen, real = kinect_files(*MSR, [MSR_SCREEN.format("a01_s01_e01"), MSR_REAL.format("a01_s01_e01")])
    joints = kinect.read_msr_action3d(real)
    _check_layout(joints)
    assert _path_length(joints, sk.R_HAND) > 2 * _path_length(joints, sk.L_HAND)  # a01: high arm wave
    assert 1.3 < _stature(joints) < 2.1
    back_projected = kinect.read_msr_action3d(screen)
    assert back_projected.shape == joints.shape
    assert np.nanmax(np.abs(back_projected - joints)) < 0.02  # the README's relation, up to rounding
    assert read_skeleton_file(real)[0][2] == kinect.MSR_ACTION3D_FPS


def test_msr_zero_frames_become_nan_and_an_empty_sequence_is_refused(kinect_files):
    gappy, empty = kinect_files(*MSR, [MSR_REAL.format("a07_s04_e01"), MSR_REAL.format("a13_s09_e02")])
    raw = np.loadtxt(gappy).reshape(-1, 20, 4)
    zero = np.all(raw == 0, axis=(1, 2))
    assert zero.sum() == 36  # README: 36 of 45 frames
    joints = kinect.read_msr_action3d(gappy)
    first, last = np.flatnonzero(~zero)[[0, -1]]
    assert len(joints) == last - first + 1  # zero frames at the ends dropped
    np.testing.assert_array_equal(np.isnan(joints[:, sk.HEAD, 0]), zero[first : last + 1])  # inside: NaN
    with pytest.raises(SkeletonFileError, match="a13_s09_e02.*every frame is all zero"):
        kinect.read_msr_action3d(empty)


def test_citi_axes_outliers_and_dispatch(kinect_files):
    clean, drink, noisy = kinect_files(*CITI, [CITI_DATA.format(n) for n in (1, 25, 301)])
    joints = kinect.read_citi(clean)
    _check_layout(joints)
    assert joints.shape == (100, 25, 3)
    valid = ~np.isnan(joints[:, sk.HEAD, 0])
    np.testing.assert_array_equal(joints[valid, sk.SPINE_BASE], 0.0)  # the normalised frame's origin
    feet_forward = joints[valid, sk.L_FOOT, 2] - joints[valid, sk.L_ANKLE, 2]
    assert np.median(feet_forward) < 0  # the toes point to -z: a right-handed body facing the camera
    assert 1.3 < _stature(joints) < 2.1
    # Clip 25 is action 13 (drink water) of subject 1: the right hand comes up to the head.
    drinking = kinect.read_citi(drink)
    assert np.nanmax(drinking[:, sk.R_HAND, 1]) > np.nanmax(drinking[:, sk.L_HAND, 1]) + 0.3
    # Clip 301 has injected outlier frames; they become NaN, whole frames at a time.
    outliers = np.isnan(kinect.read_citi(noisy)[:, sk.HEAD, 0])
    assert outliers.sum() >= 10 and outliers.sum() > 3 * (~valid).sum()
    assert np.isnan(kinect.read_citi(noisy)[outliers]).all()
    # read_skeleton_file tells a CITI .npy from an NTU one by its 19 joints.
    [(name, via_dispatch, fps)] = read_skeleton_file(clean)
    assert name == "citi_data_0001" and fps == 30.0
    np.testing.assert_array_equal(via_dispatch, joints)
    ntu = clean.with_name("ntu.npy")
    np.save(ntu, np.nan_to_num(joints))
    np.testing.assert_array_equal(read_skeleton_file(ntu)[0][1], np.nan_to_num(joints))


def test_truncated_real_files_name_the_file(kinect_files, tmp_path):
    mat, json_file, txt, csv_file = (
        kinect_files(*UTD, ["UTD-MHAD/Skeleton/a10_s1_t1_skeleton.mat"])
        + kinect_files(*NW_UCLA, ["NW-UCLA/all_sqe/a01_s01_e00_v02.json"])
        + kinect_files(*MSR, [MSR_SCREEN.format("a01_s01_e02")])
        + kinect_files(
            *KINDER_GATOR, ["Kinder-Gator/Adults/POSE-p565_02-Raise-your-other-hand-1469182422458.csv"]
        )
    )
    for path in (mat, json_file):
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    txt.write_text("".join(txt.read_text().splitlines(keepends=True)[:-3]))
    lines = csv_file.read_text().splitlines(keepends=True)
    csv_file.write_text("".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2])
    for path in (mat, json_file, txt, csv_file):
        with pytest.raises(SkeletonFileError) as raised:
            read_skeleton_file(path)
        assert str(path) in str(raised.value)


def test_classify_reads_kinect_files(kinect_files, tmp_path, monkeypatch):
    monkeypatch.setenv("ACTZERO_CONFIG_DIR", str(tmp_path / "cfg"))
    (mat,) = kinect_files(*UTD, ["UTD-MHAD/Skeleton/a10_s1_t2_skeleton.mat"])
    (txt,) = kinect_files(*MSR, [MSR_REAL.format("a01_s01_e01")])
    broken = tmp_path / "broken.json"
    broken.write_text('{"skeletons": [')
    result = CliRunner().invoke(app, ["classify", str(mat), str(broken), str(txt)])
    assert result.exit_code == 1  # one file failed, the others were classified
    lines = [json.loads(line) for line in result.stdout.strip().splitlines()]
    assert [line["clip"] for line in lines] == [str(mat), str(txt)]
    assert "broken.json" in result.stderr and "Traceback" not in result.output
