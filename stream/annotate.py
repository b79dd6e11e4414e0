"""Batch annotation of a video: frames -> MediaPipe Pose -> the worker core in-process -> timelines.

`annotate_video` decodes every frame (no dropping), estimates the poses, feeds them to a
`WorkerCore` (the same core the live ZeroMQ worker runs) and turns the per-window results
of each tracked person into time segments (`segments_from_results`). `write_json` /
`write_csv` save the result atomically; `render_video` draws the skeletons, track ids and
the segment labels into a copy of the video. The JSON schema is docs/annotation-schema.md.

Times are seconds from the start of the video: the frames are on the media clock (stream/frames.py
`MEDIA_CLOCK`, ``capture_ts`` = the frame's time in the video), so the worker's window timestamps
are media times and its results carry no latency (`ActionResult.latency_ms` is None).
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from actzero.model.atomic_write import atomic_path, write_text_atomic
from actzero.model.bundle import MANIFEST
from actzero.stream.capture import VideoFileSource
from actzero.stream.draw import Caption, draw_poses, draw_status
from actzero.stream.frames import MEDIA_CLOCK, PoseFrame, pose_frame
from actzero.stream.pose import PoseEstimator, PoseOptions
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
    pose_frames: list[tuple[PoseFrame, np.ndarray]] = field(default_factory=list, repr=False)

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


def annotate_video(
    path: Path,
    core: WorkerCore,
    *,
    pose_options: PoseOptions | None = None,
    progress: ProgressCallback | None = None,
    keep_poses: bool = False,
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

    Returns:
        The annotation.

    Raises:
        actzero.stream.capture.CaptureError: the file is missing, not a video or has no frames.
    """
    began = time.perf_counter()
    path = Path(path)
    total = _frame_count(path)
    name = f"{path.stem}#{next(_source_counter)}"
    results: list[ActionResult] = []
    seen: dict[int, list[float]] = {}
    kept: list[tuple[PoseFrame, np.ndarray]] = []
    frames = 0
    try:
        with (
            VideoFileSource(path, realtime=False) as source,
            PoseEstimator.create(pose_options or PoseOptions()) as pose,
        ):
            for frame in video_pose_frames(source, pose, name, progress, total):
                frames += 1
                results.extend(core.process(frame))
                track_ids = core.track_ids(frame.source)
                for track in track_ids[track_ids >= 0].tolist():
                    seen.setdefault(track, []).append(frame.capture_ts)
                if keep_poses:
                    kept.append((frame, track_ids))
            results.extend(core.classify_ready(flush=True))
            fps, width, height = source.fps, source.width, source.height
    finally:
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
        pose_frames=kept,
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
