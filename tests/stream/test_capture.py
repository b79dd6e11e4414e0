import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from actzero.stream.capture import (
    SAMPLE_VIDEO,
    CaptureError,
    FrameCounters,
    ImageFolderSource,
    LatestFrameGrabber,
    VideoFileSource,
    open_source,
)


def numbered_image(i: int, size: tuple[int, int] = (48, 64)) -> np.ndarray:
    """A frame whose mean brightness encodes i (survives lossy video compression)."""
    return np.full((*size, 3), 10 + 8 * i, np.uint8)


def write_video(path: Path, frames: int, fps: float) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (64, 48))
    assert writer.isOpened()
    for i in range(frames):
        writer.write(numbered_image(i))
    writer.release()
    return path


def brightness_index(image: np.ndarray) -> int:
    return round((float(image.mean()) - 10) / 8)


def test_video_file_every_frame_in_order(tmp_path):
    path = write_video(tmp_path / "clip.avi", frames=8, fps=25)
    with open_source(str(path), realtime=False) as source:
        assert (
            isinstance(source, VideoFileSource) and source.name == "clip" and source.fps == pytest.approx(25)
        )
        frames = list(source)
    assert [f.index for f in frames] == list(range(8))
    assert [brightness_index(f.image) for f in frames] == list(range(8))
    assert [f.timestamp_ms for f in frames] == [40 * i for i in range(8)]
    assert frames[0].image.shape == (48, 64, 3) and frames[0].image.dtype == np.uint8
    assert source.counters == FrameCounters(captured=8, processed=8, dropped=0)


def test_realtime_playback_drops_late_frames_when_processing_is_slow(tmp_path):
    path = write_video(tmp_path / "fast.avi", frames=30, fps=100)
    indices = []
    with VideoFileSource(path, realtime=True) as source:
        for frame in source:
            indices.append(frame.index)
            assert brightness_index(frame.image) == frame.index  # the frame that is due, not a stale one
            time.sleep(0.03)  # stand-in for pose estimation slower than the file's 10 ms per frame
    counters = source.counters
    assert counters.dropped > 0 and counters.captured == 30
    assert counters.processed == len(indices) == 30 - counters.dropped
    assert indices == sorted(set(indices))


def test_realtime_playback_keeps_the_file_pace_when_processing_is_fast(tmp_path):
    path = write_video(tmp_path / "pace.avi", frames=10, fps=50)
    began = time.monotonic()
    with VideoFileSource(path, realtime=True) as source:
        frames = list(source)
    assert time.monotonic() - began >= 9 / 50  # the last frame is due 180 ms after the first
    assert len(frames) == 10 and source.counters.dropped == 0


def test_image_folder_in_name_order(tmp_path):
    for i in (2, 0, 1):
        cv2.imwrite(str(tmp_path / f"frame_{i:03d}.png"), numbered_image(i))
    (tmp_path / "notes.txt").write_text("not an image")
    with open_source(tmp_path, fps=10) as source:
        assert isinstance(source, ImageFolderSource)
        frames = list(source)
    assert [brightness_index(f.image) for f in frames] == [0, 1, 2]
    assert [f.timestamp_ms for f in frames] == [0, 100, 200]
    assert source.counters == FrameCounters(3, 3, 0)


def test_unreadable_image_in_folder_names_the_file(tmp_path):
    cv2.imwrite(str(tmp_path / "a.png"), numbered_image(0))
    (tmp_path / "b.png").write_bytes(b"not a png")
    with ImageFolderSource(tmp_path) as source:
        assert source.read() is not None
        with pytest.raises(CaptureError, match=r"cannot read image: .*b\.png"):
            source.read()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "cannot open video|no readable frames"),
        (b"\x00garbage" * 500, "cannot open video|no readable frames"),
    ],
)
def test_empty_or_corrupt_video_gives_a_clear_error(tmp_path, content, message):
    path = tmp_path / "broken.mp4"
    path.write_bytes(content)
    with pytest.raises(CaptureError, match=message):
        open_source(path)


def test_video_with_no_frames_gives_a_clear_error(tmp_path):
    path = write_video(tmp_path / "none.avi", frames=0, fps=25)
    with pytest.raises(CaptureError, match="cannot open video|no readable frames"):
        open_source(path)


def test_missing_paths_and_empty_folders(tmp_path):
    with pytest.raises(CaptureError, match="no such file or folder"):
        open_source(tmp_path / "missing.mp4")
    with pytest.raises(CaptureError, match="no images"):
        open_source(tmp_path)


def test_missing_camera_gives_a_clear_error():
    with pytest.raises(CaptureError, match="no camera at index 97"):
        open_source("97")


def test_sample_video_is_shipped_and_opens():
    assert SAMPLE_VIDEO.is_file()
    with open_source("sample", realtime=False) as source:
        frame = source.read()
    assert frame.image.shape == (994, 1768, 3) and source.fps == pytest.approx(30)


def test_latest_frame_grabber_keeps_only_the_newest_frame():
    produced = iter([numbered_image(i) for i in range(12)])
    ended = threading.Event()

    def read():
        image = next(produced, None)
        if image is None:
            ended.set()
        return image

    counters = FrameCounters()
    grabber = LatestFrameGrabber(read, counters)
    assert ended.wait(5)  # the consumer is slow: the whole stream arrives before it looks
    frame = grabber.get(timeout=5)
    assert frame.index == 11 and brightness_index(frame.image) == 11
    assert grabber.get(timeout=5) is None  # stream ended, nothing newer
    grabber.stop()
    assert counters == FrameCounters(captured=12, processed=1, dropped=11)


def test_latest_frame_grabber_reports_reader_failure_and_timeouts():
    release = threading.Event()

    def stalled():
        release.wait(5)
        raise OSError("device unplugged")

    grabber = LatestFrameGrabber(stalled, FrameCounters())
    with pytest.raises(CaptureError, match="no frame from the source within 0.1 s"):
        grabber.get(timeout=0.1)
    release.set()
    with pytest.raises(CaptureError, match="device unplugged"):
        grabber.get(timeout=5)
    grabber.stop()
