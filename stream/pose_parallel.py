"""Pose estimation of one video split over several processes, with the same result as one process.

MediaPipe's PoseLandmarker in VIDEO mode carries state from frame to frame: the persons it tracked
on the previous frame (their landmarks give the next frame's regions of interest), so a landmarker
started in the middle of a video can miss a person that one started at the beginning still tracks.
It carries nothing else (measured on the sample video: a landmarker started at frame 150 gives
bit-identical landmarks to one started at frame 0 from the frame where both see the same persons),
so two landmarkers that give identical output on a frame have identical state from then on.

`stitched` uses that: a later process starts at a later frame and runs to the end; the earlier
stream keeps going past that frame until its output equals the later one's on `AGREE_FRAMES`
consecutive estimated frames, then stops and the later stream's results are used. If the two
never agree, the earlier stream runs to the end. Either way every result is the one a single
landmarker run over the whole video gives; the parallel work only saves time when the two agree
early (on the sample video: 52 frames after the later process's first frame, BENCHMARKS.md).

This module imports only capture and pose, so the spawned processes start quickly.
"""

from __future__ import annotations

import dataclasses
import json
import os
import queue
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from actzero.stream.capture import CapturedFrame, VideoFileSource
from actzero.stream.frames import NUM_LANDMARKS
from actzero.stream.pose import PoseEstimator, PoseOptions, PoseResult

AGREE_FRAMES = 2
"""Consecutive estimated frames on which two streams must give identical poses for a handover."""


@dataclass(frozen=True)
class PoseItem:
    """One frame of a pose stream: its index, media time, and poses (None: not estimated, to be
    interpolated)."""

    index: int
    timestamp_ms: int
    poses: PoseResult | None


def estimate(pose: PoseEstimator, captured: CapturedFrame, pose_width: int | None) -> PoseResult:
    """MediaPipe on one frame, downscaled (bilinear) to `pose_width` when it is wider.

    Bilinear, not area averaging: cv2.INTER_AREA at a non-integer ratio costs 9-15 ms per 1768x994
    frame on this machine, a third of what MediaPipe itself costs (bench/bench_annotate.py).
    """
    image = captured.image
    if pose_width is not None and image.shape[1] > pose_width:
        import cv2

        height = max(1, round(image.shape[0] * pose_width / image.shape[1]))
        image = cv2.resize(image, (pose_width, height), interpolation=cv2.INTER_LINEAR)
    return pose.process(image, captured.timestamp_ms)


def pose_stream(
    frames: Iterator[CapturedFrame],
    estimate_one: Callable[[CapturedFrame], PoseResult],
    pose_every: int = 1,
) -> Iterator[tuple[CapturedFrame, PoseResult | None]]:
    """Each frame with its poses on the frames whose index is a multiple of `pose_every` and on the
    last frame, None on the others (the frames are read one ahead to know the last one)."""
    previous: CapturedFrame | None = None
    for captured in frames:
        if previous is not None:
            yield previous, estimate_one(previous) if previous.index % pose_every == 0 else None
        previous = captured
    if previous is not None:
        yield previous, estimate_one(previous)


def same_poses(a: PoseResult | None, b: PoseResult | None) -> bool:
    """True when both are estimated and hold bit-identical landmarks, world landmarks and visibility."""
    if a is None or b is None:
        return False
    return (
        np.array_equal(a.image, b.image)
        and np.array_equal(a.world, b.world)
        and np.array_equal(a.visibility, b.visibility)
    )


_HEADER = struct.Struct("<biqiq")  # kind, frame index, frame ms, persons, pose ms
_ESTIMATED, _SKIPPED, _END, _ERROR = 0, 1, 2, 3


def _write_record(out: BinaryIO, captured: CapturedFrame, poses: PoseResult | None) -> None:
    """One frame as a header and, when estimated, the raw float32 arrays: plain data, nothing the
    reader could execute (the runtime packages never unpickle: tests/stream/test_faults.py)."""
    if poses is None:
        out.write(_HEADER.pack(_SKIPPED, captured.index, captured.timestamp_ms, 0, 0))
        return
    out.write(
        _HEADER.pack(_ESTIMATED, captured.index, captured.timestamp_ms, poses.num_persons, poses.timestamp_ms)
    )
    for array in (poses.image, poses.world, poses.visibility):
        out.write(np.ascontiguousarray(array, np.float32).tobytes())


def _write_end(out: BinaryIO, error: str | None = None) -> None:
    if error is None:
        out.write(_HEADER.pack(_END, 0, 0, 0, 0))
        return
    text = error.encode("utf-8", "replace")[:4000]
    out.write(_HEADER.pack(_ERROR, 0, 0, len(text), 0) + text)


def _read_exact(stream: BinaryIO, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise EOFError
    return data


def _read_record(stream: BinaryIO) -> PoseItem | str | None:
    """The next frame (a PoseItem), None at the end, or the child's error message."""
    kind, index, timestamp_ms, persons, pose_ms = _HEADER.unpack(_read_exact(stream, _HEADER.size))
    if kind == _END:
        return None
    if kind == _ERROR:
        return _read_exact(stream, persons).decode("utf-8", "replace")
    if kind == _SKIPPED:
        return PoseItem(index, timestamp_ms, None)
    if kind != _ESTIMATED or not 0 <= persons <= 64:
        raise ValueError(f"bad record kind {kind} or persons {persons}")
    shapes = ((persons, NUM_LANDMARKS, 3), (persons, NUM_LANDMARKS, 3), (persons, NUM_LANDMARKS))
    arrays = [
        np.frombuffer(_read_exact(stream, 4 * int(np.prod(shape))), np.float32).reshape(shape).copy()
        for shape in shapes
    ]
    return PoseItem(index, timestamp_ms, PoseResult(*arrays, pose_ms))


def _chunk_main(argv: list[str]) -> int:
    """Child process (``python -m actzero.stream.pose_parallel SETTINGS_JSON``): decode the video,
    skip to the first frame, estimate from there to the end, writing one record per frame to
    stdout (`_write_record`), then an end record; an error is sent as an error record. The
    parent ends the process when it no longer needs it."""
    sys.stdout.flush()
    out = os.fdopen(os.dup(1), "wb")  # the records' own descriptor ...
    os.dup2(2, 1)  # ... so nothing a library prints can get between them
    try:
        settings = json.loads(argv[0])
        options = PoseOptions(
            **{**settings["options"], "model_path": Path(settings["options"]["model_path"])}
        )
        width = settings["pose_width"]
        with (
            VideoFileSource(Path(settings["path"]), realtime=False) as source,
            PoseEstimator.create(options) as pose,
        ):
            source.skip(settings["start"])
            stream = pose_stream(iter(source), lambda c: estimate(pose, c, width), settings["pose_every"])
            for captured, poses in stream:
                _write_record(out, captured, poses)
                out.flush()
        _write_end(out)
    except BrokenPipeError:  # the parent stopped reading
        return 0
    except BaseException as error:  # reported to the parent, which keeps its own stream
        _write_end(out, f"{type(error).__name__}: {error}")
    out.flush()
    return 0


class ChunkProcess:
    """A child process estimating the poses of a video from frame `start` to the end.

    It is a fresh interpreter (``python -m actzero.stream.pose_parallel``: no forked MediaPipe or
    onnxruntime threads, and the caller's script is not re-imported). Iterate it for `PoseItem`s
    in frame order; `stop` ends it. A failure in the process (or the process dying) ends the
    iteration and is kept in `error`.
    """

    def __init__(
        self, path: Path, start: int, pose_every: int, pose_width: int | None, options: PoseOptions
    ) -> None:
        self.start = start
        self.error: str | None = None
        option_values = {**dataclasses.asdict(options), "model_path": str(options.model_path)}
        settings = {
            "path": str(path),
            "start": start,
            "pose_every": pose_every,
            "pose_width": pose_width,
            "options": option_values,
        }
        self._process = subprocess.Popen(
            [sys.executable, "-m", "actzero.stream.pose_parallel", json.dumps(settings)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=None if options.native_logs else subprocess.DEVNULL,
        )
        self._items: queue.Queue = queue.Queue()
        self._reader = threading.Thread(target=self._read, name=f"pose-chunk-{start}", daemon=True)
        self._reader.start()
        self._done = False

    def _read(self) -> None:
        stdout = self._process.stdout
        assert stdout is not None
        try:
            while True:
                item = _read_record(stdout)
                self._items.put(item)
                if item is None or isinstance(item, str):
                    return
        except (EOFError, OSError, ValueError, struct.error):
            self._items.put(f"pose process ended early (exit code {self._process.poll()})")

    def __iter__(self) -> Iterator[PoseItem]:
        while not self._done:
            item = self._items.get()
            if item is None or isinstance(item, str):
                self.error = item
                self._done = True
                return
            yield item

    def stop(self) -> None:
        """End the process (idempotent)."""
        self._done = True
        if self._process.poll() is None:
            self._process.terminate()
        try:
            self._process.wait(timeout=10.0)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._reader.join(timeout=10.0)  # it sees the end of the pipe
        if self._process.stdout is not None:
            self._process.stdout.close()


def chunk_starts(total_frames: int, jobs: int, pose_every: int, min_frames: int) -> list[int]:
    """First frame of each later process: the video cut into `jobs` equal parts, on estimated frames.

    Fewer parts when a part would be shorter than `min_frames` (a process's start-up then costs
    more than it saves); none when the length is unknown (0).
    """
    jobs = max(1, min(jobs, total_frames // max(1, min_frames)))
    starts = []
    for k in range(1, jobs):
        start = round(k * total_frames / jobs) // pose_every * pose_every
        if start > 0 and (not starts or start > starts[-1]):
            starts.append(start)
    return starts


def stitched(
    local: Iterator[PoseItem],
    later: list[ChunkProcess],
    stop_local: Callable[[], None],
    handovers: list[int] | None = None,
) -> Iterator[PoseItem]:
    """The frames of `local`, continued by each of `later` (in start order) from the first frame
    where the current stream and the next one have agreed on `AGREE_FRAMES` estimated frames.

    `stop_local` is called when `local` is no longer needed. `handovers` receives the frame
    index of each handover. A later stream that fails is skipped (the current one continues).

    Raises:
        RuntimeError: a later stream failed after it had taken over.
    """
    current: Iterator[PoseItem] = local
    stop_current = stop_local
    owner: ChunkProcess | None = None
    pending = list(later)
    candidate: Iterator[PoseItem] | None = iter(pending[0]) if pending else None
    agreed = 0
    for_candidate: PoseItem | None = None
    while True:
        item = next(current, None)
        if item is None:
            if owner is not None and owner.error:
                raise RuntimeError(f"pose estimation failed in another process: {owner.error}")
            break
        yield item
        if candidate is None or item.index < pending[0].start:
            continue
        while for_candidate is None or for_candidate.index < item.index:
            for_candidate = next(candidate, None)
            if for_candidate is None:  # that process failed or ended: keep the current stream
                pending[0].stop()
                pending.pop(0)
                candidate = iter(pending[0]) if pending else None
                agreed = 0
                break
        if for_candidate is None:
            continue
        if for_candidate.index != item.index:
            continue
        if item.poses is not None:
            agreed = agreed + 1 if same_poses(item.poses, for_candidate.poses) else 0
        if agreed < AGREE_FRAMES:
            continue
        stop_current()
        if handovers is not None:
            handovers.append(item.index)
        owner = pending.pop(0)
        current, stop_current = candidate, owner.stop
        for_candidate, agreed = None, 0
        candidate = iter(pending[0]) if pending else None
    stop_current()
    for rest in pending:
        rest.stop()


if __name__ == "__main__":
    sys.exit(_chunk_main(sys.argv[1:]))
