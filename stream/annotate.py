"""Batch annotation of a video: frames -> MediaPipe Pose -> the worker core in-process -> timelines.

`annotate_video` decodes every frame (no dropping), estimates the poses, feeds them to a
`WorkerCore` (the same core the live ZeroMQ worker runs) and turns the per-window results
of each tracked person into time segments (`segments_from_results`). `write_json` /
`write_csv` save the result atomically; `render_video` draws the skeletons, track ids and
the segment labels into a copy of the video. The JSON schema is docs/annotation-schema.md.

Speed (BENCHMARKS.md "Annotating a video"): MediaPipe is nearly all of the time (about 42 ms of CPU
per 1768x994 frame with two people; decoding 3-6 ms, the worker 2 ms). A thread decodes ahead of the
pose estimator; with `pose_jobs` = 2 a second process estimates the later part of the video and
takes over once its poses are bit-identical to this one's (stream/pose_parallel.py), so the result
is unchanged. Opt-in, changing the labels: MediaPipe can see a downscaled frame (`pose_width`: its
detector works at 224x224 and its landmark model on 256x256 crops, and the landmarks are normalised,
so they keep the video's coordinates); with `pose_every` = N only every Nth frame is estimated and
the landmarks of the frames in between are interpolated linearly (persons matched by position).

Times are seconds from the start of the video: the frames are on the media clock (stream/frames.py
`MEDIA_CLOCK`, ``capture_ts`` = the frame's time in the video), so the worker's window timestamps
are media times and its results carry no latency (`ActionResult.latency_ms` is None).
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import itertools
import json
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from actzero.model.atomic_write import atomic_path, write_text_atomic
from actzero.model.bundle import MANIFEST
from actzero.stream.capture import CapturedFrame, VideoFileSource
from actzero.stream.draw import Caption, draw_poses, draw_status
from actzero.stream.frames import MEDIA_CLOCK, PoseFrame, pose_frame
from actzero.stream.pose import PoseEstimator, PoseOptions, PoseResult
from actzero.stream.pose_parallel import (
    ChunkProcess,
    PoseItem,
    chunk_starts,
    estimate,
    pose_stream,
    stitched,
)
from actzero.stream.results import ActionResult
from actzero.stream.video_writer import VideoWriter
from actzero.stream.worker import WorkerCore

FORMAT = "actzero-annotation"
VERSION = 1
JSON_SUFFIX = ".actzero.json"
CSV_SUFFIX = ".actzero.csv"
VIDEO_SUFFIX = ".actzero.mp4"
VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv"})
TOP_K = 5
MATCH_DISTANCE = 0.1
"""Largest move (normalised image units) of a person's mean landmark between two estimated frames
for the frames in between to be interpolated; a person who moved more is left out of them."""
_DECODE_AHEAD = 8
MIN_CHUNK_S = 3.0
"""Shortest part of a video (seconds) given to another pose process (`pose_jobs`): starting one
(imports, MediaPipe) takes about 1.5 s, and it needs a stretch to agree with the process before it."""

Timed = CapturedFrame | PoseItem
"""A frame as the pose stages see it: its `index` and `timestamp_ms`."""

ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(frames_done, frames_total)`` (total 0 when unknown)."""

_source_counter = itertools.count()


@dataclass(frozen=True)
class Segment:
    """A stretch of time in which one person's recognised action stays the same.

    Attributes:
        start_s, end_s: seconds from the start of the video.
        label: the action, or None for "no action" (unsure or idle).
        score: mean probability of the best class over the merged windows.
        top_k: best classes with their mean probabilities over the merged windows, best first.
        windows: how many classified windows were merged.
    """

    start_s: float
    end_s: float
    label: str | None
    score: float
    top_k: list[tuple[str, float]]
    windows: int


@dataclass(frozen=True)
class PersonTrack:
    """One tracked person: when they were seen and what they did.

    Attributes:
        track: the track id (as in the worker's results and on the annotated video).
        first_s, last_s: first and last time the person was seen.
        frames: frames the person was seen in.
        segments: the action timeline, in time order (gaps where nothing was classified).
    """

    track: int
    first_s: float
    last_s: float
    frames: int
    segments: list[Segment]


@dataclass
class Annotation:
    """What `annotate_video` found in one video (serialised by `to_json`)."""

    video: Path
    fps: float
    frames: int
    width: int
    height: int
    bundle_id: str
    actions: list[dict]
    persons: list[PersonTrack]
    processing_s: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)
    """Seconds spent per stage: "decode" (on its own thread, overlapping the others), "pose"
    (downscaling, MediaPipe and interpolation) and "worker" (tracking, windows, classification)."""
    pose_frames: list[tuple[PoseFrame, np.ndarray]] = field(default_factory=list, repr=False)
    pose_handovers: list[int] = field(default_factory=list)
    """With `pose_jobs` > 1: the frame at which each later pose process took over (none: this
    process estimated every frame, as the later ones never agreed with it in time)."""

    @property
    def duration_s(self) -> float:
        """Length of the video in seconds (frames / fps)."""
        return self.frames / self.fps

    def label_at(self, track: int, t: float) -> Segment | None:
        """The segment of `track` that contains time `t`, if any."""
        for person in self.persons:
            if person.track == track:
                for seg in person.segments:
                    if seg.start_s <= t <= seg.end_s:
                        return seg
        return None

    def to_json(self) -> dict:
        """The annotation as a JSON-ready dict (docs/annotation-schema.md)."""
        from actzero import __version__

        return {
            "format": FORMAT,
            "version": VERSION,
            "video": {
                "path": str(self.video),
                "fps": round(self.fps, 6),
                "frames": self.frames,
                "duration_s": round(self.duration_s, 4),
                "width": self.width,
                "height": self.height,
            },
            "model": {"bundle": self.bundle_id},
            "actions": self.actions,
            "tracks": [
                {
                    "track": p.track,
                    "first_s": round(p.first_s, 4),
                    "last_s": round(p.last_s, 4),
                    "frames": p.frames,
                    "segments": [
                        {
                            "start_s": round(s.start_s, 4),
                            "end_s": round(s.end_s, 4),
                            "label": s.label,
                            "score": round(s.score, 4),
                            "top_k": [[name, round(prob, 4)] for name, prob in s.top_k],
                            "windows": s.windows,
                        }
                        for s in p.segments
                    ],
                }
                for p in self.persons
            ],
            "processing_s": round(self.processing_s, 3),
            "actzero": __version__,
        }


def bundle_id(bundle_path: Path) -> str:
    """ "<folder name>@<first 12 hex digits of the manifest's sha256>": names the exact model used."""
    digest = hashlib.sha256((Path(bundle_path) / MANIFEST).read_bytes()).hexdigest()
    return f"{Path(bundle_path).name}@{digest[:12]}"


def _mean_top_k(results: Sequence[ActionResult], k: int) -> list[tuple[str, float]]:
    """Average the top-k probabilities of several results (a class missing from one counts 0)."""
    totals: dict[str, float] = {}
    for r in results:
        for name, prob in r.top_k:
            totals[name] = totals.get(name, 0.0) + prob
    ranked = sorted(totals.items(), key=lambda item: -item[1])[:k]
    return [(name, total / len(results)) for name, total in ranked]


def segments_from_results(results: Sequence[ActionResult], top_k: int = TOP_K) -> list[Segment]:
    """Turn one track's window results into a timeline of segments.

    Each decision stands for the time around its window's centre: from the midpoint between
    its centre and the previous decision's (its window's start, for the first one) to the
    midpoint with the next decision's (its window's end, for the last one), never outside its
    own window, so a restarted track leaves a gap. Consecutive touching decisions with the
    same label are merged into one segment.

    Args:
        results: the results of one track (any order).
        top_k: classes kept per segment.

    Returns:
        The segments in time order.
    """
    ordered = sorted(results, key=lambda r: r.end_ts)
    if not ordered:
        return []
    centres = [(r.start_ts + r.end_ts) / 2 for r in ordered]
    spans = []
    for i, r in enumerate(ordered):
        lo = r.start_ts if i == 0 else max(r.start_ts, (centres[i - 1] + centres[i]) / 2)
        hi = r.end_ts if i == len(ordered) - 1 else min(r.end_ts, (centres[i] + centres[i + 1]) / 2)
        spans.append((lo, max(lo, hi)))
    groups: list[list[int]] = [[0]]
    for i in range(1, len(ordered)):
        previous = groups[-1][-1]
        touching = spans[i][0] <= spans[previous][1] + 1e-6
        if touching and ordered[i].label == ordered[previous].label:
            groups[-1].append(i)
        else:
            groups.append([i])
    segments = []
    for group in groups:
        members = [ordered[i] for i in group]
        segments.append(
            Segment(
                start_s=float(spans[group[0]][0]),
                end_s=float(spans[group[-1]][1]),
                label=members[0].label,
                score=float(np.mean([r.score for r in members])),
                top_k=_mean_top_k(members, top_k),
                windows=len(members),
            )
        )
    return segments


def _frame_count(path: Path) -> int:
    import cv2

    capture = cv2.VideoCapture(str(path))
    try:
        count = capture.get(cv2.CAP_PROP_FRAME_COUNT)
    finally:
        capture.release()
    return int(count) if np.isfinite(count) and count > 0 else 0


def video_pose_frames(
    source: VideoFileSource,
    pose: PoseEstimator,
    name: str,
    progress: ProgressCallback | None = None,
    total: int = 0,
) -> Iterator[PoseFrame]:
    """Each frame of an open video as a `PoseFrame` of source `name` (MediaPipe in VIDEO mode).

    The frames are on the media clock: `capture_ts` is the frame's time in the video, seconds.
    `progress(done, total)` is called after each frame when given.
    """
    for captured in source:
        poses = pose.process(captured.image, captured.timestamp_ms)
        yield pose_frame(name, captured.index, poses, source.width, source.height, clock=MEDIA_CLOCK)
        if progress is not None:
            progress(captured.index + 1, total)


def decoded_ahead(
    source: VideoFileSource, depth: int = _DECODE_AHEAD, timings: dict[str, float] | None = None
) -> Iterator[CapturedFrame]:
    """The frames of `source`, decoded by a background thread up to `depth` frames ahead.

    Decoding (OpenCV/FFmpeg, which releases the GIL) then overlaps with pose estimation.
    A decoding error is raised here, in the consumer. Leaving the loop early stops the thread.
    `timings["decode"]` accumulates the seconds spent decoding, when given.
    """
    frames: queue.Queue[CapturedFrame | BaseException | None] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: CapturedFrame | BaseException | None) -> bool:
        while not stop.is_set():
            try:
                frames.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def decode() -> None:
        try:
            while True:
                began = time.perf_counter()
                captured = source.read()
                if timings is not None:
                    timings["decode"] = timings.get("decode", 0.0) + time.perf_counter() - began
                if not put(captured) or captured is None:
                    return
        except BaseException as error:  # handed to the consumer
            put(error)

    thread = threading.Thread(target=decode, name="annotate-decoder", daemon=True)
    thread.start()
    try:
        while True:
            item = frames.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def _mean_positions(poses: PoseResult) -> np.ndarray:
    return poses.image[:, :, :2].mean(axis=1)


def interpolate_poses(before: PoseResult, after: PoseResult, weight: float, timestamp_ms: int) -> PoseResult:
    """The poses between two estimated frames, `weight` of the way from `before` to `after`.

    Persons are paired greedily by the distance of their mean landmark (closest pairs first);
    a pair further apart than `MATCH_DISTANCE` and an unpaired person are left out.

    Args:
        before, after: the estimated poses on either side.
        weight: in [0, 1]: 0 gives `before`'s landmarks, 1 `after`'s.
        timestamp_ms: the media time of the frame in between.

    Returns:
        The interpolated poses, in `before`'s person order.
    """
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"weight must be in [0, 1], got {weight}")
    pairs: list[tuple[int, int]] = []
    if before.num_persons and after.num_persons:
        distance = np.linalg.norm(_mean_positions(before)[:, None] - _mean_positions(after)[None], axis=-1)
        used_before: set[int] = set()
        used_after: set[int] = set()
        for flat in np.argsort(distance, axis=None).tolist():
            i, j = divmod(flat, after.num_persons)
            if distance[i, j] > MATCH_DISTANCE:
                break
            if i not in used_before and j not in used_after:
                pairs.append((i, j))
                used_before.add(i)
                used_after.add(j)
        pairs.sort()
    first = [i for i, _ in pairs]
    second = [j for _, j in pairs]

    def mix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return ((1.0 - weight) * a[first] + weight * b[second]).astype(np.float32)

    return PoseResult(
        mix(before.image, after.image),
        mix(before.world, after.world),
        mix(before.visibility, after.visibility),
        int(timestamp_ms),
    )


def interpolated(
    stream: Iterator[tuple[Timed, PoseResult | None]], timings: dict[str, float] | None = None
) -> Iterator[tuple[Timed, PoseResult]]:
    """The frames of a pose stream with the missing poses (None) interpolated (`interpolate_poses`)
    between the estimated frames on either side. The stream's first and last frames must be estimated.

    `timings["pose"]` accumulates the seconds spent interpolating, when given.
    """
    previous: tuple[Timed, PoseResult] | None = None
    pending: list[Timed] = []
    spent = timings if timings is not None else {}
    for frame, poses in stream:
        if poses is None:
            if previous is None:
                raise ValueError(f"frame {frame.index} has no poses and no estimated frame before it")
            pending.append(frame)
            continue
        if pending:
            assert previous is not None
            began = time.perf_counter()
            (start, before), end = previous, frame
            filled = [
                (
                    skipped,
                    interpolate_poses(
                        before,
                        poses,
                        (skipped.index - start.index) / (end.index - start.index),
                        skipped.timestamp_ms,
                    ),
                )
                for skipped in pending
            ]
            spent["pose"] = spent.get("pose", 0.0) + time.perf_counter() - began
            yield from filled
            pending.clear()
        yield frame, poses
        previous = frame, poses
    if pending:
        raise ValueError(f"frame {pending[-1].index} has no poses and no estimated frame after it")


def _check_speed_options(pose_every: int, pose_width: int | None, pose_jobs: int = 1) -> None:
    if pose_every < 1:
        raise ValueError(f"pose_every must be at least 1, got {pose_every}")
    if pose_width is not None and pose_width < 32:
        raise ValueError(f"pose_width must be at least 32 pixels, got {pose_width}")
    if pose_jobs < 1:
        raise ValueError(f"pose_jobs must be at least 1, got {pose_jobs}")


def estimated_frames(
    frames: Iterator[CapturedFrame],
    pose: PoseEstimator,
    *,
    pose_every: int = 1,
    pose_width: int | None = None,
    timings: dict[str, float] | None = None,
) -> Iterator[tuple[CapturedFrame, PoseResult]]:
    """Each frame with its poses: estimated on every `pose_every`-th frame (and the last one),
    interpolated (`interpolate_poses`) on the frames in between.

    `timings["pose"]` accumulates the seconds spent estimating and interpolating, when given.

    Raises:
        ValueError: `pose_every` below 1 or `pose_width` below 32.
    """
    _check_speed_options(pose_every, pose_width)
    spent = timings if timings is not None else {}

    def one(captured: CapturedFrame) -> PoseResult:
        began = time.perf_counter()
        poses = estimate(pose, captured, pose_width)
        spent["pose"] = spent.get("pose", 0.0) + time.perf_counter() - began
        return poses

    return interpolated(pose_stream(frames, one, pose_every), spent)


def _timed(
    items: Iterator[PoseItem], stages: dict[str, float], stage: str
) -> Iterator[tuple[PoseItem, PoseResult | None]]:
    """The items as (item, poses), the seconds spent getting each one added to `stages[stage]`."""
    while True:
        began = time.perf_counter()
        item = next(items, None)
        stages[stage] += time.perf_counter() - began
        if item is None:
            return
        yield item, item.poses


def default_pose_jobs() -> int:
    """2 pose processes when the machine has 2 or more cores and the 1-minute load average is below
    cores - 1 (a core is idle), else 1. The poses are the same either way; on a busy machine a
    second process only adds work (it repeats frames until it agrees: BENCHMARKS.md)."""
    import os

    cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except OSError:  # not available on this platform
        load = float(cores)
    return 2 if cores >= 2 and load < cores - 1 else 1


def annotate_video(
    path: Path,
    core: WorkerCore,
    *,
    pose_options: PoseOptions | None = None,
    progress: ProgressCallback | None = None,
    keep_poses: bool = False,
    pose_every: int = 1,
    pose_width: int | None = None,
    pose_jobs: int = 1,
) -> Annotation:
    """Recognise the actions of every person in a video file.

    Args:
        path: the video file.
        core: the worker core to classify with (its action set is used; its state for other
            sources is left alone, this video's is freed at the end).
        pose_options: MediaPipe settings (default `PoseOptions()`).
        progress: called after each frame.
        keep_poses: keep every frame's poses and track ids in `Annotation.pose_frames`
            (needed by `render_video`).
        pose_every: estimate the poses of every Nth frame only, interpolating the others
            (1 = every frame).
        pose_width: downscale frames wider than this for pose estimation (None = native size).
        pose_jobs: processes estimating poses (`stream/pose_parallel.py`): the video is cut into
            this many parts of at least `MIN_CHUNK_S`, each later part estimated by a spawned
            process that this one hands over to once their poses agree, so the poses and labels
            are those of one process (1 = this process only).

    Returns:
        The annotation.

    Raises:
        actzero.stream.capture.CaptureError: the file is missing, not a video or has no frames.
        ValueError: `pose_every`, `pose_width` or `pose_jobs` out of range.
        RuntimeError: a pose process failed after it had taken over.
    """
    _check_speed_options(pose_every, pose_width, pose_jobs)
    began = time.perf_counter()
    path = Path(path)
    total = _frame_count(path)
    name = f"{path.stem}#{next(_source_counter)}"
    results: list[ActionResult] = []
    seen: dict[int, list[float]] = {}
    kept: list[tuple[PoseFrame, np.ndarray]] = []
    stages = {"decode": 0.0, "pose": 0.0, "worker": 0.0}
    frames = 0
    handovers: list[int] = []
    later: list[ChunkProcess] = []
    try:
        with VideoFileSource(path, realtime=False) as source:
            options = pose_options or PoseOptions()
            min_frames = max(1, round(MIN_CHUNK_S * source.fps))
            for start in chunk_starts(total, pose_jobs, pose_every, min_frames):  # they start up meanwhile
                later.append(ChunkProcess(path, start, pose_every, pose_width, options))
            with (
                PoseEstimator.create(options) as pose,
                contextlib.closing(decoded_ahead(source, timings=stages)) as frames_in,  # before source
            ):

                def one(captured: CapturedFrame, pose: PoseEstimator = pose) -> PoseResult:
                    return estimate(pose, captured, pose_width)

                local = (
                    PoseItem(c.index, c.timestamp_ms, p) for c, p in pose_stream(frames_in, one, pose_every)
                )

                def stop_local() -> None:  # handed over: stop estimating and decoding here
                    local.close()
                    frames_in.close()

                items = stitched(local, later, stop_local, handovers)
                waited = _timed(items, stages, "pose")  # waiting for the other processes counts as pose
                for item, poses in interpolated(waited, stages):
                    frame = pose_frame(
                        name, item.index, poses, source.width, source.height, clock=MEDIA_CLOCK
                    )
                    began_worker = time.perf_counter()
                    frames += 1
                    results.extend(core.process(frame))
                    track_ids = core.track_ids(frame.source)
                    for track in track_ids[track_ids >= 0].tolist():
                        seen.setdefault(track, []).append(frame.capture_ts)
                    if keep_poses:
                        kept.append((frame, track_ids))
                    stages["worker"] += time.perf_counter() - began_worker
                    if progress is not None:
                        progress(frames, total)
            began_worker = time.perf_counter()
            results.extend(core.classify_ready(flush=True))
            stages["worker"] += time.perf_counter() - began_worker
            fps, width, height = source.fps, source.width, source.height
    finally:
        for process in later:
            process.stop()
        core.expire_idle_sources(-1.0)  # forget this video's tracks (batch: every source is done)
    by_track: dict[int, list[ActionResult]] = {}
    for r in results:
        by_track.setdefault(r.track, []).append(r)
    persons = [
        PersonTrack(
            track=track,
            first_s=min(times),
            last_s=max(times),
            frames=len(times),
            segments=segments_from_results(by_track.get(track, []), core.config.top_k),
        )
        for track, times in sorted(seen.items())
    ]
    return Annotation(
        video=path,
        fps=fps,
        frames=frames,
        width=width,
        height=height,
        bundle_id=bundle_id(core.bundle.path),
        actions=[{"name": a.name, "descriptions": list(a.descriptions)} for a in core.actions],
        persons=persons,
        processing_s=time.perf_counter() - began,
        stages=stages,
        pose_frames=kept,
        pose_handovers=handovers,
    )


def write_json(annotation: Annotation, path: Path) -> None:
    """Save the annotation as JSON (atomically)."""
    write_text_atomic(path, json.dumps(annotation.to_json(), indent=2, ensure_ascii=False) + "\n")


CSV_COLUMNS = ("video", "track", "start_s", "end_s", "label", "score", "top_k")


def write_csv(annotation: Annotation, path: Path) -> None:
    """Save one row per segment (atomically); `label` is empty for "no action", `top_k` is JSON."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for person in annotation.persons:
        for s in person.segments:
            top = json.dumps([[name, round(p, 4)] for name, p in s.top_k], ensure_ascii=False)
            writer.writerow(
                [annotation.video.name, person.track, f"{s.start_s:.4f}", f"{s.end_s:.4f}"]
                + [s.label or "", f"{s.score:.4f}", top]
            )
    write_text_atomic(path, buffer.getvalue())


def render_video(
    annotation: Annotation, out_path: Path, progress: ProgressCallback | None = None
) -> tuple[str, str | None]:
    """Write a copy of the video with skeletons, track ids and the timeline's labels drawn (atomically).

    The file is H.264 MP4 when PyAV is installed, else MPEG-4 Part 2 (stream/video_writer.py).

    Each person's caption is the segment of the timeline at that frame's time, so the video
    shows exactly what the JSON says. Needs `annotate_video(..., keep_poses=True)`.

    Returns:
        The codec written ("h264" or "mpeg4") and a one-line note for the user, or None.

    Raises:
        ValueError: the annotation kept no poses.
        OSError: the video cannot be written.
    """
    if not annotation.pose_frames and annotation.frames:
        raise ValueError("render_video needs an annotation made with keep_poses=True")
    with (
        atomic_path(out_path) as tmp,
        VideoWriter(tmp, annotation.fps, annotation.width, annotation.height) as writer,
        VideoFileSource(annotation.video, realtime=False) as source,
    ):
        for (frame, track_ids), captured in zip(annotation.pose_frames, source, strict=False):
            t = frame.capture_ts
            captions = {}
            for track in track_ids[track_ids >= 0].tolist():
                seg = annotation.label_at(track, t)
                if seg is not None:
                    captions[track] = Caption(seg.label, seg.score)
            image = draw_poses(captured.image, frame, track_ids, captions)
            draw_status(image, [f"{t:6.2f} s  frame {frame.index}"])
            writer.write(image)
            if progress is not None:
                progress(frame.index + 1, annotation.frames)
    return writer.codec, writer.note


def save_outputs(
    annotation: Annotation,
    base: Path,
    *,
    csv: bool = False,
    video_out: bool = False,
    render_progress: ProgressCallback | None = None,
) -> tuple[list[Path], float, str | None]:
    """Write `<base>.actzero.json` and, when asked, the CSV and the annotated video (each atomically).

    Args:
        annotation: what `annotate_video` found (with `keep_poses=True` for `video_out`).
        base: the output path without suffix; its folder is created.
        csv, video_out: also write `<base>.actzero.csv` / `<base>.actzero.mp4`.
        render_progress: called while the video is rendered.

    Returns:
        The files written (JSON, CSV, video), the seconds spent rendering, and the renderer's note.

    Raises:
        OSError: a file cannot be written.
        ValueError: `video_out` without kept poses.
    """
    base.parent.mkdir(parents=True, exist_ok=True)
    render_s, note = 0.0, None
    video_path = base.with_name(base.name + VIDEO_SUFFIX)
    if video_out:
        began = time.perf_counter()
        _, note = render_video(annotation, video_path, progress=render_progress)
        render_s = time.perf_counter() - began
    written = [base.with_name(base.name + JSON_SUFFIX)]
    write_json(annotation, written[0])
    if csv:
        written.append(base.with_name(base.name + CSV_SUFFIX))
        write_csv(annotation, written[-1])
    if video_out:
        written.append(video_path)
    return written, render_s, note
