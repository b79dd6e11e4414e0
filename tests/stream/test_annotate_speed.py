"""The faster annotate pipeline: decoding ahead on a thread, interpolated poses, per-stage times."""

import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from actzero.stream.annotate import (
    MATCH_DISTANCE,
    decoded_ahead,
    estimated_frames,
    interpolate_poses,
)
from actzero.stream.capture import CaptureError, VideoFileSource
from actzero.stream.pose import PoseEstimator, PoseOptions, PoseResult

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))
from _sample_cut import write_sample_cut  # noqa: E402


@pytest.fixture(scope="module")
def cut(tmp_path_factory) -> Path:
    return write_sample_cut(tmp_path_factory.mktemp("video") / "cut.mp4", seconds=1.0, scale=0.5)


def _poses(centres: list[tuple[float, float]], depth: float, timestamp_ms: int) -> PoseResult:
    """Persons whose 33 landmarks all sit at one image point, with world z = `depth`."""
    image = np.zeros((len(centres), 33, 3), np.float32)
    for p, (x, y) in enumerate(centres):
        image[p, :, 0], image[p, :, 1] = x, y
    world = np.full((len(centres), 33, 3), depth, np.float32)
    visibility = np.full((len(centres), 33), depth, np.float32)
    return PoseResult(image, world, visibility, timestamp_ms)


def test_interpolation_pairs_persons_by_position_whatever_their_order():
    before = _poses([(0.2, 0.5), (0.7, 0.5)], 0.0, 0)
    after = _poses([(0.74, 0.5), (0.24, 0.5)], 1.0, 66)  # MediaPipe listed them the other way round
    middle = interpolate_poses(before, after, 0.5, 33)
    assert middle.timestamp_ms == 33 and middle.num_persons == 2
    np.testing.assert_allclose(middle.image[:, 0, 0], [0.22, 0.72], atol=1e-6)
    np.testing.assert_allclose(middle.world[:, 0, 2], [0.5, 0.5])
    quarter = interpolate_poses(before, after, 0.25, 16)
    np.testing.assert_allclose(quarter.image[:, 0, 0], [0.21, 0.71], atol=1e-6)


def test_a_person_who_jumped_or_vanished_is_left_out_of_the_frames_between():
    before = _poses([(0.2, 0.5), (0.7, 0.5)], 0.0, 0)
    after = _poses([(0.2 + MATCH_DISTANCE * 1.5, 0.5)], 1.0, 66)
    assert interpolate_poses(before, after, 0.5, 33).num_persons == 0
    after = _poses([(0.71, 0.5)], 1.0, 66)
    middle = interpolate_poses(before, after, 0.5, 33)
    assert middle.num_persons == 1 and middle.image[0, 0, 0] == pytest.approx(0.705)
    assert interpolate_poses(_poses([], 0.0, 0), after, 0.5, 33).num_persons == 0
    with pytest.raises(ValueError, match="weight"):
        interpolate_poses(before, after, 1.5, 33)


def test_decoding_ahead_yields_every_frame_in_order_and_stops_its_thread(cut):
    with VideoFileSource(cut) as source:
        direct = [(f.index, f.image.sum()) for f in source]
    timings: dict[str, float] = {}
    with VideoFileSource(cut) as source:
        ahead = [(f.index, f.image.sum()) for f in decoded_ahead(source, depth=2, timings=timings)]
    assert ahead == direct and len(direct) == 30
    assert timings["decode"] > 0
    with VideoFileSource(cut) as source:
        frames = decoded_ahead(source, depth=2)
        next(frames)
        assert any(t.name == "annotate-decoder" for t in threading.enumerate())
        frames.close()  # leaving early: the decoder stops before the file is closed
        assert not any(t.name == "annotate-decoder" for t in threading.enumerate())


def test_a_decoding_error_is_raised_in_the_consumer(cut):
    class Failing(VideoFileSource):
        def read(self):
            frame = super().read()
            if frame is not None and frame.index == 3:
                raise CaptureError("corrupt packet at frame 3")
            return frame

    with Failing(cut) as source, pytest.raises(CaptureError, match="frame 3"):
        list(decoded_ahead(source))


@pytest.mark.slow  # MediaPipe on 16 frames of 30
def test_every_other_frame_is_estimated_and_the_others_interpolated(cut):
    timings: dict[str, float] = {}
    with VideoFileSource(cut) as source, PoseEstimator.create(PoseOptions(num_poses=2)) as pose:
        frames = list(source)  # 30: the last frame (29) falls after the last every-other estimate
        out = list(estimated_frames(iter(frames), pose, pose_every=2, pose_width=640, timings=timings))
    assert [c.index for c, _ in out] == list(range(30))
    assert [p.timestamp_ms for _, p in out] == [c.timestamp_ms for c, _ in out]
    assert timings["pose"] > 0
    checked = 0
    for i in range(1, 28, 2):  # the skipped frames sit halfway between their neighbours
        before, middle, after = out[i - 1][1], out[i][1], out[i + 1][1]
        if before.num_persons == after.num_persons == middle.num_persons == 1:
            np.testing.assert_allclose(middle.world, (before.world + after.world) / 2, atol=1e-6)
            checked += 1
    assert checked >= 3, [p.num_persons for _, p in out]
    with pytest.raises(ValueError, match="pose_every"):
        next(estimated_frames(iter(frames), pose, pose_every=0))
