"""Real MediaPipe PoseLandmarker (the committed task file) on real frames of the sample video."""

import sys
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from actzero.stream.capture import SAMPLE_VIDEO
from actzero.stream.frames import MEDIA_CLOCK, WALL_CLOCK, pose_frame
from actzero.stream.pose import POSE_TASK, PoseEstimator, PoseOptions, PoseResult

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import build_pose_task  # noqa: E402  (tools/build_pose_task.py: the task file's recipe)

FIRST_FRAME, NUM_FRAMES = 60, 6  # the man on the box and the woman walking are both visible here
# The person detector sees a 224x224 letterboxed image, where the two people of the full 1768-pixel
# wide frame are small and often missed; this crop keeps both people and makes them larger.
CROP_X = slice(400, 1500)
NOSE, LEFT_SHOULDER, RIGHT_SHOULDER, LEFT_HIP, RIGHT_HIP, LEFT_ANKLE, RIGHT_ANKLE = 0, 11, 12, 23, 24, 27, 28


@pytest.fixture(scope="module")
def sample_frames() -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(SAMPLE_VIDEO))
    frames = []
    for i in range(FIRST_FRAME + NUM_FRAMES):
        ok, frame = capture.read()
        assert ok
        if i >= FIRST_FRAME:
            frames.append(np.ascontiguousarray(frame[:, CROP_X]))
    capture.release()
    return frames


@pytest.fixture(scope="module")
def poses(sample_frames) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    with PoseEstimator.create(PoseOptions(num_poses=4)) as estimator:
        results = [estimator.process(frame, 1000 * i // 30) for i, frame in enumerate(sample_frames)]
    return [(r.image, r.world, r.visibility) for r in results]


def test_two_people_found_with_consistent_arrays(poses):
    counts = [image.shape[0] for image, _, _ in poses]
    assert max(counts) >= 2
    for image, world, visibility in poses:
        persons = image.shape[0]
        assert image.shape == world.shape == (persons, 33, 3) and visibility.shape == (persons, 33)
        assert image.dtype == world.dtype == visibility.dtype == np.float32
        assert np.isfinite(image).all() and np.isfinite(world).all() and np.isfinite(visibility).all()
        assert ((visibility >= 0) & (visibility <= 1)).all()


def test_world_landmarks_are_metres_around_the_hips(poses):
    for _, world, visibility in poses:
        for person, seen in zip(world, visibility, strict=True):
            assert np.abs(person).max() < 1.5  # a body, in metres, around its own hips
            hip_mid = (person[LEFT_HIP] + person[RIGHT_HIP]) / 2
            assert np.linalg.norm(hip_mid) < 0.05  # origin between the hips
            if seen[[LEFT_SHOULDER, LEFT_HIP]].min() > 0.5:
                assert 0.3 < np.linalg.norm(person[LEFT_SHOULDER] - person[LEFT_HIP]) < 0.8  # a torso


def test_image_landmarks_of_visible_joints_lie_in_the_frame(poses):
    for image, _, visibility in poses:
        seen = image[visibility > 0.8][:, :2]
        assert ((seen > -0.05) & (seen < 1.05)).all()


def test_world_axes_follow_the_camera_x_right_y_down_z_away(poses):
    """The convention documented in stream/frames.py and docs/protocol.md."""
    for image, world, visibility in poses:
        for img, wld, seen in zip(image, world, visibility, strict=True):
            ok = seen > 0.5
            for axis in range(3):  # each world axis grows with the same image axis (z: depth)
                assert np.corrcoef(img[ok, axis], wld[ok, axis])[0, 1] > 0.8
            assert wld[NOSE, 1] < wld[LEFT_HIP, 1] < max(wld[LEFT_ANKLE, 1], wld[RIGHT_ANKLE, 1])  # y down


def test_non_increasing_timestamps_are_accepted_and_bad_input_rejected(sample_frames):
    estimator = PoseEstimator.create(PoseOptions(num_poses=1))
    small = cv2.resize(sample_frames[0], (320, 180))
    first = estimator.process(small, 100)
    again = estimator.process(small, 100)  # MediaPipe itself would refuse a repeated timestamp
    assert first.num_persons <= 1 and again.num_persons <= 1
    assert (first.timestamp_ms, again.timestamp_ms) == (100, 101)  # the media time MediaPipe saw
    with pytest.raises(ValueError, match="uint8 BGR frame"):
        estimator.process(small.astype(np.float32), 200)
    estimator.close()
    estimator.close()
    with pytest.raises(RuntimeError, match="closed"):
        estimator.process(small, 300)


@pytest.mark.parametrize(
    ("options", "message"),
    [(PoseOptions(num_poses=0), "num_poses"), (PoseOptions(min_tracking_confidence=1.5), "min_tracking")],
)
def test_invalid_options_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        PoseEstimator.create(options)


def test_missing_model_file_is_reported(tmp_path):
    with pytest.raises(FileNotFoundError, match="pose model not found"):
        PoseEstimator.create(PoseOptions(model_path=tmp_path / "none.task"))


def test_task_file_layout_and_metadata():
    with zipfile.ZipFile(POSE_TASK) as bundle:
        infos = {info.filename: info for info in bundle.infolist()}
        assert set(infos) == {"pose_detector.tflite", "pose_landmarks_detector.tflite"}
        for info in infos.values():
            assert info.compress_type == zipfile.ZIP_STORED
            data_offset = info.header_offset + len(info.FileHeader())
            assert data_offset % 4 == 0  # mmap-able, as MediaPipe's bundles are


def test_build_recipe_reproduces_the_committed_task_file(tmp_path):
    """The recipe run on a wheel-shaped zip of the committed models gives identical bytes."""
    with zipfile.ZipFile(POSE_TASK) as bundle:
        detector = bundle.read("pose_detector.tflite")
        landmarker = bundle.read("pose_landmarks_detector.tflite")
    wheel = tmp_path / "mediapipe-0.10.21-test.whl"
    with zipfile.ZipFile(wheel, "w") as fake:
        fake.writestr(build_pose_task.DETECTOR_MEMBER, detector)
        fake.writestr(build_pose_task.LANDMARKER_MEMBER, landmarker)
    output = build_pose_task.build(wheel, tmp_path / "rebuilt.task")
    assert output.read_bytes() == POSE_TASK.read_bytes()


@pytest.mark.slow  # two MediaPipe start-ups in subprocesses, side by side (~3 s)
def test_native_start_up_log_is_quiet_unless_asked_for():
    import subprocess
    import sys

    script = (
        "import sys, cv2\n"
        "from actzero.stream.capture import SAMPLE_VIDEO\n"
        "from actzero.stream.pose import PoseEstimator, PoseOptions\n"
        "capture = cv2.VideoCapture(str(SAMPLE_VIDEO))\n"
        "capture.set(cv2.CAP_PROP_POS_FRAMES, 60)\n"
        "frame = capture.read()[1][:, 400:1500]\n"
        "with PoseEstimator.create(PoseOptions(native_logs=sys.argv[1] == 'yes')) as pose:\n"
        "    image = pose.process(frame, 0).image\n"
        "print(image.shape[0])\n"
    )
    started = [  # both start at once, not one after the other
        subprocess.Popen(
            [sys.executable, "-c", script, flag], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for flag in ("no", "yes")
    ]
    try:
        outputs = [process.communicate(timeout=120) for process in started]
    finally:
        for process in started:
            process.kill()
    quiet, verbose = (
        subprocess.CompletedProcess(process.args, process.returncode, out, err)
        for process, (out, err) in zip(started, outputs, strict=True)
    )
    assert quiet.returncode == 0 and int(quiet.stdout) > 0, quiet.stderr[-2000:]  # a person was found
    assert quiet.stderr == ""
    assert verbose.returncode == 0 and "Sparsity tensors" in verbose.stderr


def test_pose_frames_state_their_clock() -> None:
    found = PoseResult(np.zeros((1, 33, 3), np.float32), np.zeros((1, 33, 3), np.float32),
                       np.ones((1, 33), np.float32), timestamp_ms=1500)  # fmt: skip
    media = pose_frame("cam", 45, found, 640, 480, clock=MEDIA_CLOCK)
    assert (media.capture_ts, media.clock, media.num_persons) == (1.5, MEDIA_CLOCK, 1)
    wall = pose_frame("cam", 45, found, 640, 480, clock=WALL_CLOCK, wall_ts=1.7e9)
    assert (wall.capture_ts, wall.clock) == (1.7e9, WALL_CLOCK)
    with pytest.raises(ValueError, match="needs wall_ts"):
        pose_frame("cam", 45, found, 640, 480, clock=WALL_CLOCK)
    with pytest.raises(ValueError, match="not wall_ts"):
        pose_frame("cam", 45, found, 640, 480, clock=MEDIA_CLOCK, wall_ts=1.7e9)
    with pytest.raises(ValueError, match="unknown clock 'gps'"):
        pose_frame("cam", 45, found, 640, 480, clock="gps")
