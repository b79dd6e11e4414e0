"""Frame sources: webcam, video file, folder of images, behind one small interface.

``open_source(spec)`` picks the source from a string: a camera index (``"0"``), ``"sample"``
(the bundled demo video), a folder of images, or a video file. Live sources (cameras) run a
latest-frame grabber: a background thread reads the device as fast as it delivers and keeps only
the newest frame, so the pipeline never falls behind; the frames it overwrites are counted as
dropped. Video files play either in real time (``realtime=True``: frames that are already late are
skipped and counted as dropped) or frame by frame (``realtime=False``, for batch annotation).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

import numpy as np

SAMPLE_VIDEO = Path(__file__).resolve().parents[1] / "samples" / "sports2d-demo.mp4"
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})
DEFAULT_FOLDER_FPS = 30.0
_CAMERA_TIMEOUT_S = 5.0


class CaptureError(RuntimeError):
    """A source cannot be opened or read (the message says which and why)."""


@dataclass(frozen=True)
class CapturedFrame:
    """One frame from a source.

    Attributes:
        index: frame number within the source (gaps mean dropped frames).
        image: (H, W, 3) uint8 BGR.
        timestamp_ms: increasing media time: position in the file, or milliseconds since a live
            source started.
        capture_ts: wall-clock time the frame was captured (time.time()).
    """

    index: int
    image: np.ndarray
    timestamp_ms: int
    capture_ts: float


@dataclass
class FrameCounters:
    """How many frames a source captured, handed on for processing, and dropped as stale.

    ``captured == processed + dropped`` once the source is exhausted (a live grabber may hold one
    more frame not yet handed on).
    """

    captured: int = 0
    processed: int = 0
    dropped: int = 0


class FrameSource:
    """Base class of the sources: iterate, or call :meth:`read` until it returns None.

    Attributes:
        name: short name used as the stream's source id ("cam0", the file's stem, ...).
        fps: nominal frame rate (frames per second).
        live: True for cameras (latest-frame grabbing), False for files and folders.
        counters: frame counters, updated as frames are read.
    """

    name: str
    fps: float
    live: bool = False

    def __init__(self) -> None:
        self.counters = FrameCounters()

    def read(self) -> CapturedFrame | None:
        """Return the next frame to process, or None when the source is exhausted."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the device or file (idempotent)."""

    def __iter__(self) -> Iterator[CapturedFrame]:
        while (frame := self.read()) is not None:
            yield frame

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class VideoFileSource(FrameSource):
    """A video file decoded with OpenCV.

    Args:
        path: the video file.
        realtime: play at the file's frame rate, skipping frames that are already late when
            processing is slower (counted as dropped); False hands on every frame.

    Raises:
        CaptureError: the file is missing, not a video, corrupt or empty.
    """

    def __init__(self, path: Path, realtime: bool = False) -> None:
        super().__init__()
        import cv2

        path = Path(path)
        if not path.is_file():
            raise CaptureError(f"video file not found: {path}")
        self._capture = cv2.VideoCapture(str(path))
        if not self._capture.isOpened():
            raise CaptureError(f"cannot open video (not a video file, or corrupt): {path}")
        ok, first = self._capture.read()
        if not ok or first is None:
            self._capture.release()
            raise CaptureError(f"video has no readable frames (empty or corrupt): {path}")
        fps = float(self._capture.get(cv2.CAP_PROP_FPS))
        self.fps = fps if np.isfinite(fps) and 1.0 <= fps <= 1000.0 else 30.0
        self.name = path.stem
        self.path = path
        self.height, self.width = first.shape[:2]
        self.realtime = realtime
        self._pending: np.ndarray | None = first
        self._next_index = 0
        self._start: float | None = None

    def _decode(self, retrieve: bool = True) -> np.ndarray | None:
        if self._pending is not None:
            frame, self._pending = self._pending, None
        elif retrieve:
            ok, frame = self._capture.read()
            frame = frame if ok else None
        else:
            frame = np.empty(0, np.uint8) if self._capture.grab() else None
        if frame is not None:
            self.counters.captured += 1
        return frame

    def read(self) -> CapturedFrame | None:
        if self._capture is None:
            return None
        if self.realtime:
            now = time.monotonic()
            if self._start is None:
                self._start = now
            due = int((now - self._start) * self.fps)  # the frame that should be on screen now
            while self._next_index < due:  # late frames: skip without converting them
                if self._decode(retrieve=False) is None:
                    return None
                self.counters.dropped += 1
                self._next_index += 1
            wait = self._start + self._next_index / self.fps - time.monotonic()
            if wait > 0:  # processing is faster than the file: keep the file's pace
                time.sleep(wait)
        image = self._decode()
        if image is None:
            return None
        index = self._next_index
        self._next_index += 1
        self.counters.processed += 1
        return CapturedFrame(index, image, round(index * 1000.0 / self.fps), time.time())

    def skip(self, count: int) -> int:
        """Pass over the next `count` frames without converting them (their indices are used up).

        Returns:
            How many were skipped (fewer at the end of the file).
        """
        skipped = 0
        while skipped < count and self._capture is not None and self._decode(retrieve=False) is not None:
            self._next_index += 1
            self.counters.dropped += 1
            skipped += 1
        return skipped

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None


class ImageFolderSource(FrameSource):
    """The images of a folder, in name order, as a video at ``fps`` frames per second.

    Raises:
        CaptureError: the folder is missing or has no images; later, an image is unreadable.
    """

    def __init__(self, folder: Path, fps: float = DEFAULT_FOLDER_FPS) -> None:
        super().__init__()
        folder = Path(folder)
        if not folder.is_dir():
            raise CaptureError(f"image folder not found: {folder}")
        self.paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if not self.paths:
            raise CaptureError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in folder: {folder}")
        self.name = folder.name or "images"
        self.fps = fps
        self._next = 0

    def read(self) -> CapturedFrame | None:
        import cv2

        if self._next >= len(self.paths):
            return None
        path = self.paths[self._next]
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise CaptureError(f"cannot read image: {path}")
        index = self._next
        self._next += 1
        self.counters.captured += 1
        self.counters.processed += 1
        return CapturedFrame(index, image, round(index * 1000.0 / self.fps), time.time())


class LatestFrameGrabber:
    """Reads frames on a background thread and keeps only the newest one.

    Args:
        read: returns the next (H, W, 3) BGR frame, or None when the stream has ended.
        counters: updated as frames arrive (captured), are taken (processed) or are
            overwritten before anyone took them (dropped).
    """

    def __init__(self, read: Callable[[], np.ndarray | None], counters: FrameCounters) -> None:
        self._read = read
        self.counters = counters
        self._condition = threading.Condition()
        self._latest: CapturedFrame | None = None
        self._ended = False
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self._start = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="latest-frame-grabber", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        index = 0
        try:
            while not self._stop.is_set():
                image = self._read()
                if image is None:
                    break
                frame = CapturedFrame(index, image, int((time.monotonic() - self._start) * 1000), time.time())
                index += 1
                with self._condition:
                    self.counters.captured += 1
                    if self._latest is not None:
                        self.counters.dropped += 1
                    self._latest = frame
                    self._condition.notify_all()
        except BaseException as error:  # handed to the consumer by get()
            self._error = error
        finally:
            with self._condition:
                self._ended = True
                self._condition.notify_all()

    def get(self, timeout: float | None = None) -> CapturedFrame | None:
        """Wait for a frame newer than the last one taken; None when the stream has ended.

        Raises:
            CaptureError: no frame arrived within ``timeout`` seconds, or the reader failed.
        """
        with self._condition:
            if not self._condition.wait_for(lambda: self._latest is not None or self._ended, timeout):
                raise CaptureError(f"no frame from the source within {timeout:.1f} s")
            frame, self._latest = self._latest, None
            if frame is None:
                if self._error is not None:
                    raise CaptureError(f"frame reader failed: {self._error}") from self._error
                return None
            self.counters.processed += 1
            return frame

    def stop(self, timeout: float = 2.0) -> None:
        """Ask the thread to finish and wait up to ``timeout`` seconds for it."""
        self._stop.set()
        self._thread.join(timeout)


class CameraSource(FrameSource):
    """A webcam (OpenCV device index) read through a :class:`LatestFrameGrabber`.

    Raises:
        CaptureError: no camera at that index, or it delivers no frame within 5 s.
    """

    live = True

    def __init__(self, index: int) -> None:
        super().__init__()
        import cv2

        quiet = cv2.utils.logging.getLogLevel()
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)  # our error says it better
        try:
            self._capture = cv2.VideoCapture(index)
        finally:
            cv2.utils.logging.setLogLevel(quiet)
        if not self._capture.isOpened():
            raise CaptureError(f"no camera at index {index} (is one connected and free?)")
        fps = float(self._capture.get(cv2.CAP_PROP_FPS))
        self.fps = fps if np.isfinite(fps) and 1.0 <= fps <= 1000.0 else 30.0
        self.name = f"cam{index}"
        self._grabber = LatestFrameGrabber(self._read_device, self.counters)

    def _read_device(self) -> np.ndarray | None:
        ok, image = self._capture.read()
        return image if ok else None

    def read(self) -> CapturedFrame | None:
        if self._grabber is None:
            return None
        return self._grabber.get(timeout=_CAMERA_TIMEOUT_S)

    def close(self) -> None:
        if self._grabber is not None:
            self._grabber.stop()
            self._grabber = None
            self._capture.release()


def open_source(
    spec: str | int | Path, *, realtime: bool = True, fps: float = DEFAULT_FOLDER_FPS
) -> FrameSource:
    """Open a frame source from a command-line style spec.

    Args:
        spec: camera index (``0`` or ``"0"``), ``"sample"`` for the bundled demo video, a folder
            of images, or a video file.
        realtime: for video files, play at the file's rate dropping late frames (True) or hand
            on every frame (False). Cameras are always live; folders always hand on every image.
        fps: the frame rate assigned to a folder of images.

    Raises:
        CaptureError: the source does not exist or cannot be read.
    """
    if isinstance(spec, int) or (isinstance(spec, str) and spec.isdigit()):
        return CameraSource(int(spec))
    if spec == "sample":
        spec = SAMPLE_VIDEO
    path = Path(spec).expanduser()
    if path.is_dir():
        return ImageFolderSource(path, fps=fps)
    if not path.exists():
        raise CaptureError(
            f"no such file or folder: {path} (use a camera index like 0, 'sample', a video or a folder)"
        )
    return VideoFileSource(path, realtime=realtime)
