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
from actzero.stream.pose_parallel import PoseItem, chunk_starts, stitched

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


# --- several pose processes (stream/pose_parallel.py) -------------------------------------------


class _Later:
    """Stands in for a ChunkProcess: a fixed list of items from `start`, then maybe a failure."""

    def __init__(self, start: int, items: list[PoseItem], error: str | None = None) -> None:
        self.start, self._items, self._error = start, items, error
        self.error: str | None = None
        self.stopped = False

    def __iter__(self):
        for item in self._items:
            if self.stopped:
                return
            yield item
        self.error = self._error

    def stop(self) -> None:
        self.stopped = True


def _stream(values: list[float | None], start: int = 0) -> list[PoseItem]:
    """Items from frame `start`: one person at x = value, or not estimated (None)."""
    return [
        PoseItem(start + i, (start + i) * 33, None if v is None else _poses([(v, 0.5)], v, (start + i) * 33))
        for i, v in enumerate(values)
    ]


def _xs(items: list[PoseItem]) -> list[float | None]:
    return [None if it.poses is None else float(it.poses.image[0, 0, 0]) for it in items]


def test_the_later_stream_takes_over_once_both_agree_on_two_estimated_frames():
    local = _stream([0.1, 0.2, 0.3, 0.4, None, 0.6, 0.7, 0.8])
    later = _Later(
        2, _stream([0.9, 0.4, None, 0.6, 0.75, 0.85], start=2)
    )  # agrees on 3 and 5 (4 not estimated)
    stopped, handovers = [], []
    out = list(stitched(iter(local), [later], lambda: stopped.append(True), handovers))
    assert [it.index for it in out] == list(range(8))
    assert _xs(out) == pytest.approx([0.1, 0.2, 0.3, 0.4, None, 0.6, 0.75, 0.85])
    assert handovers == [5] and stopped == [True] and later.stopped


def test_streams_that_never_agree_leave_every_frame_to_the_first_one():
    local = _stream([0.1, 0.2, 0.3, 0.4])
    later = _Later(2, _stream([0.9, 0.9], start=2))
    handovers: list[int] = []
    out = list(stitched(iter(local), [later], lambda: None, handovers))
    assert _xs(out) == pytest.approx([0.1, 0.2, 0.3, 0.4]) and handovers == [] and later.stopped


def test_a_later_stream_that_fails_before_taking_over_is_dropped_and_after_is_an_error():
    local = _stream([0.1, 0.2, 0.3, 0.4])
    failing = _Later(1, _stream([0.2], start=1), error="boom")  # ends after one frame
    assert _xs(list(stitched(iter(local), [failing], lambda: None))) == pytest.approx([0.1, 0.2, 0.3, 0.4])
    taking_over = _Later(1, _stream([0.2, 0.3], start=1), error="boom")  # agrees, then dies at frame 3
    with pytest.raises(RuntimeError, match="boom"):
        list(stitched(iter(_stream([0.1, 0.2, 0.3, 0.4])), [taking_over], lambda: None))


def test_chunk_starts_cut_the_video_into_parts_on_estimated_frames():
    assert chunk_starts(230, 2, 1, 90) == [115]
    assert chunk_starts(230, 2, 2, 90) == [114]
    assert chunk_starts(230, 4, 1, 90) == [115]  # parts of at least 90 frames: 2
    assert chunk_starts(100, 2, 1, 90) == [] and chunk_starts(0, 2, 1, 90) == []
    assert chunk_starts(300, 3, 1, 90) == [100, 200]


def test_skipping_frames_keeps_the_indices_and_times_of_the_frames_after(cut):
    with VideoFileSource(cut) as source:
        direct = [(f.index, f.timestamp_ms, int(f.image.sum())) for f in source]
    with VideoFileSource(cut) as source:
        assert source.skip(10) == 10
        rest = [(f.index, f.timestamp_ms, int(f.image.sum())) for f in source]
        assert source.counters.dropped == 10
    assert rest == direct[10:]
    with VideoFileSource(cut) as source:
        assert source.skip(1000) == len(direct) and source.read() is None


@pytest.mark.slow  # MediaPipe on the 30-frame cut, 4 times
@pytest.mark.parametrize("pose_every", [1, 2])
def test_two_pose_processes_give_the_poses_and_labels_of_one(cut, make_core, monkeypatch, pose_every):
    import actzero.stream.annotate as annotate

    monkeypatch.setattr(annotate, "MIN_CHUNK_S", 0.3)  # the cut is 1 s: a second process from frame 15
    one = annotate.annotate_video(cut, make_core(), keep_poses=True, pose_every=pose_every)
    two = annotate.annotate_video(cut, make_core(), keep_poses=True, pose_every=pose_every, pose_jobs=2)
    assert one.pose_handovers == [] and len(two.pose_handovers) <= 1
    assert two.to_json()["tracks"] == one.to_json()["tracks"]
    assert len(two.pose_frames) == len(one.pose_frames) == 30
    for (a, ids_a), (b, ids_b) in zip(one.pose_frames, two.pose_frames, strict=True):
        assert a.index == b.index and np.array_equal(ids_a, ids_b)
        for name in ("image", "world", "visibility"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_a_second_pose_process_by_default_only_when_a_core_is_idle(monkeypatch):
    import os

    from actzero.stream.annotate import default_pose_jobs

    for cores, load, expected in ((2, 0.3, 2), (2, 1.2, 1), (1, 0.0, 1), (8, 5.0, 2), (8, 7.5, 1)):
        monkeypatch.setattr(os, "cpu_count", lambda cores=cores: cores)
        monkeypatch.setattr(os, "getloadavg", lambda load=load: (load, load, load))
        assert default_pose_jobs() == expected, (cores, load)


def test_the_pose_process_records_read_back_as_written():
    import io

    from actzero.stream.capture import CapturedFrame
    from actzero.stream.pose_parallel import _read_record, _write_end, _write_record

    buffer = io.BytesIO()
    two = _poses([(0.2, 0.5), (0.7, 0.4)], 0.25, 66)
    _write_record(buffer, CapturedFrame(2, np.zeros((1, 1, 3), np.uint8), 66, 0.0), two)
    _write_record(buffer, CapturedFrame(3, np.zeros((1, 1, 3), np.uint8), 100, 0.0), None)
    _write_record(buffer, CapturedFrame(4, np.zeros((1, 1, 3), np.uint8), 133, 0.0), _poses([], 0.0, 133))
    _write_end(buffer, "ValueError: bad frame")
    _write_end(buffer)
    buffer.seek(0)
    first = _read_record(buffer)
    assert first.index == 2 and first.timestamp_ms == 66 and first.poses.timestamp_ms == 66
    for name in ("image", "world", "visibility"):
        np.testing.assert_array_equal(getattr(first.poses, name), getattr(two, name))
    assert _read_record(buffer) == PoseItem(3, 100, None)
    assert _read_record(buffer).poses.num_persons == 0
    assert _read_record(buffer) == "ValueError: bad frame"
    assert _read_record(buffer) is None
    with pytest.raises(EOFError):
        _read_record(buffer)
