"""The sliding-window worker core: pose frames in, action results out (transport-agnostic).

One implementation used in-process (batch annotation of a video) and by the ZeroMQ
service (stream/worker_zmq.py). Per source, a `Tracker` gives every person a stable
id; per track, a ring buffer keeps the person's NTU-25 joints (mapped from MediaPipe
world landmarks, or its image landmarks for a bundle in the 2D "image" frame) with their
capture timestamps. Windows are made by model/windows.py
`track_window`, the same path as training's: resampled to the bundle's fps by timestamp,
so sources at any frame rate, and sources whose stale frames were dropped, give windows at
the rate the model was trained on, then canonicalised in the bundle's canonical frame.

Cadence: a track is *ready* when it has `stride` new bundle frames (stride / fps
seconds) since its last window and covers at least `min_frames` frames. A ready
track's window is its last `window` frames; a track covering fewer (between
`min_frames` and `window`) is padded to the window after canonicalisation, so a person is
first classified after min_frames / fps seconds (0.8 s by default) instead of
window / fps (2.1 s). All ready tracks are canonicalised and classified in one batch;
probabilities are smoothed per track with an exponential moving average and then
decided (label or None for "no action").

The action set can be swapped while frames flow: `set_actions` fits a new classifier
off to the side and replaces one reference; a window in flight finishes with the
classifier it started with.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from actzero.model.actions import Action
from actzero.model.canonical import IMAGE, CanonicalisationError
from actzero.model.labelset import ActionError, LabelSet
from actzero.model.windows import MIN_CLIP_FRAMES, track_window
from actzero.stream.frames import WALL_CLOCK, PoseFrame
from actzero.stream.results import TIMING_STAGES, ActionResult
from actzero.stream.tracker import Tracker, TrackerConfig, torso_summary


@dataclass(frozen=True)
class WorkerConfig:
    """Worker parameters.

    Attributes:
        stride: classify each track every `stride` bundle frames (stride / fps seconds).
        min_frames: shortest track (in bundle frames) that is classified, padded to the window.
        ema: weight of the newest probabilities in the per-track moving average (1 = no smoothing).
        top_k: classes reported per result.
        max_gap_s: a gap longer than this between two frames of a track restarts its window.
        max_persons: detections per frame beyond this are ignored.
        max_sources: frames from further sources are rejected (bounds memory).
        buffer_frames: raw frames kept per track (covers the window for sources up to
            buffer_frames / window * fps frames per second).
        tracker: the per-source tracker's parameters.
    """

    stride: int = 8
    min_frames: int = MIN_CLIP_FRAMES
    ema: float = 0.5
    top_k: int = 5
    max_gap_s: float = 0.5
    max_persons: int = 16
    max_sources: int = 64
    buffer_frames: int = 256
    tracker: TrackerConfig = field(default_factory=TrackerConfig)


class _TrackBuffer:
    """Ring buffer of one person's joints with timestamps, plus the smoothing state."""

    def __init__(self, capacity: int) -> None:
        self.ts = np.zeros(capacity, dtype=np.float64)
        self.index = np.zeros(capacity, dtype=np.int64)
        self.joints = np.zeros((capacity, 25, 3), dtype=np.float32)
        self.head = 0  # next write position
        self.count = 0
        self.last_window_ts = -math.inf
        self.ema: np.ndarray | None = None
        self.ema_labels: tuple[str, ...] = ()

    @property
    def last_ts(self) -> float:
        return float(self.ts[(self.head - 1) % len(self.ts)]) if self.count else -math.inf

    def append(self, ts: float, index: int, joints: np.ndarray, max_gap_s: float) -> None:
        if self.count and ts - self.last_ts > max_gap_s:
            self.count = 0  # a long gap: start a fresh window rather than interpolate across it
            self.last_window_ts = -math.inf
        self.ts[self.head] = ts
        self.index[self.head] = index
        self.joints[self.head] = joints
        self.head = (self.head + 1) % len(self.ts)
        self.count = min(self.count + 1, len(self.ts))

    def ordered(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Timestamps, indices and joints, oldest first."""
        order = (np.arange(self.head - self.count, self.head)) % len(self.ts)
        return self.ts[order], self.index[order], self.joints[order]

    def covered_frames(self, fps: float) -> int:
        """How many frames at `fps` the buffered time span holds."""
        if not self.count:
            return 0
        first = self.ts[(self.head - self.count) % len(self.ts)]
        return int(math.floor((self.last_ts - first) * fps + 1e-6)) + 1


@dataclass
class _Source:
    tracker: Tracker
    tracks: dict[int, _TrackBuffer] = field(default_factory=dict)
    last_ts: float = -math.inf
    last_index: int = -1
    last_seen: float = 0.0  # time.monotonic() of the last frame
    map_ms: float = 0.0
    last_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    clock: str = WALL_CLOCK  # the clock of the source's frames: latency means something on the wall clock


class WorkerCore:
    """Turns pose frames from any number of sources into action results.

    Args:
        bundle: a loaded model bundle (model/bundle.py `Bundle`).
        actions: the initial action set; the bundle's own actions when None.
        config: worker parameters.
        classifier: a classifier already fitted for `actions` (skips the initial fit, e.g. when
            several cores share one action set).
    """

    def __init__(
        self,
        bundle,
        actions: Sequence[Action] | None = None,
        config: WorkerConfig | None = None,
        *,
        classifier=None,
    ):
        from actzero.model import mapping

        self._mapping = mapping
        self.bundle = bundle
        self.config = config or WorkerConfig()
        self.window = int(bundle.window)
        self.fps = float(bundle.fps)
        self.canonical_frame = bundle.canonical_frame
        self._sources: dict[str, _Source] = {}
        self._active: tuple[tuple[Action, ...], object] = ((), None)
        actions = tuple(bundle.actions if actions is None else actions)
        if classifier is None:
            self.set_actions(actions)
        elif list(classifier.labels) != [a.name for a in actions]:
            raise ValueError("the classifier was fitted for other actions")
        else:
            self._active = (actions, classifier)
        self.counters: dict[str, int] = dict.fromkeys(
            (
                "frames_in",
                "frames_rejected",
                "persons_in",
                "windows_classified",
                "windows_failed",
                "tracks_started",
                "tracks_expired",
                "sources_expired",
                "sources_restarted",
            ),
            0,
        )
        self._timings: dict[str, deque[float]] = {k: deque(maxlen=2000) for k in TIMING_STAGES}

    # ----- action set -------------------------------------------------------------------
    @property
    def actions(self) -> list[Action]:
        """The current action set."""
        return list(self._active[0])

    @property
    def labels(self) -> list[str]:
        """Names of the current actions, in classifier order."""
        return list(self._active[1].labels)

    @property
    def classifier(self):
        """The classifier fitted for the current actions (replaced, never changed, by `set_actions`)."""
        return self._active[1]

    def set_actions(self, actions: Sequence[Action]) -> float:
        """Fit a classifier for `actions` and swap it in atomically.

        Safe to call from another thread while frames are processed: the fit happens
        off to the side; only the final reference assignment is shared.

        Returns:
            The fit time in seconds.

        Raises:
            ActionError: an empty set, an invalid action or duplicate names (model/labelset.py).
        """
        actions = tuple(actions if isinstance(actions, LabelSet) else LabelSet(actions))
        if not actions:
            raise ActionError("the action set cannot be empty")
        t0 = time.perf_counter()
        classifier = self.bundle.fit_classifier(actions)
        self._active = (actions, classifier)
        return time.perf_counter() - t0

    def warm_up(self) -> None:
        """Run the networks once and load the text encoder, so that neither the first window
        nor the first new action pays for initialisation."""
        _, classifier = self._active
        classifier.probabilities(np.zeros((1, self.window, 25, 3), dtype=np.float32))
        self.bundle.embed_texts(["A person stands still."])

    # ----- frames -----------------------------------------------------------------------
    def process(self, frame: PoseFrame) -> list[ActionResult]:
        """Ingest one frame and classify the tracks that became ready (in-process use)."""
        self.ingest(frame)
        return self.classify_ready()

    def ingest(self, frame: PoseFrame) -> bool:
        """Map, track and buffer the people of one frame.

        Returns:
            False when the frame was rejected (not newer than the source's last frame,
            or too many sources), True otherwise. A frame whose index is not above the
            source's last one but whose capture time is later restarts the source (a
            restarted publisher counts from 0 again).
        """
        cfg = self.config
        src = self._sources.get(frame.source)
        if src is None:
            if len(self._sources) >= cfg.max_sources:
                self.counters["frames_rejected"] += 1
                return False
            src = self._sources[frame.source] = _Source(Tracker(cfg.tracker))
        if frame.index <= src.last_index and frame.capture_ts > src.last_ts:
            # Indices went back while time went on: the publisher restarted. Follow the new
            # stream at once with a fresh tracker and buffers (old windows would mix streams).
            src = self._sources[frame.source] = _Source(Tracker(cfg.tracker))
            self.counters["sources_restarted"] += 1
        elif frame.capture_ts <= src.last_ts or frame.index <= src.last_index:
            self.counters["frames_rejected"] += 1
            return False
        src.last_ts, src.last_index, src.last_seen = frame.capture_ts, frame.index, time.monotonic()
        src.clock = frame.clock
        self.counters["frames_in"] += 1

        persons = min(frame.num_persons, cfg.max_persons)
        t0 = time.perf_counter()
        if self.canonical_frame == IMAGE:  # the 2D route: the picture, not MediaPipe's depth guess
            joints = self._mapping.mediapipe_to_ntu(
                frame.image[:persons],
                frame.visibility[:persons],
                coords="image",
                aspect_ratio=frame.width / max(frame.height, 1),
            )
        else:
            joints = self._mapping.mediapipe_to_ntu(frame.world[:persons], frame.visibility[:persons])
        src.map_ms = (time.perf_counter() - t0) * 1e3
        self._timings["map"].append(src.map_ms)
        self.counters["persons_in"] += persons

        centres, scales, quality = torso_summary(
            frame.image[:persons],
            frame.visibility[:persons],
            frame.width,
            frame.height,
            cfg.tracker.min_visibility,
        )
        update = src.tracker.update(centres, scales, frame.capture_ts, quality)
        src.last_ids = np.concatenate([update.ids, np.full(frame.num_persons - persons, -1, dtype=np.int64)])
        for tid in update.expired:
            src.tracks.pop(tid, None)
            self.counters["tracks_expired"] += 1
        for person, tid in enumerate(update.ids.tolist()):
            if tid < 0:
                continue
            buf = src.tracks.get(tid)
            if buf is None:
                buf = src.tracks[tid] = _TrackBuffer(cfg.buffer_frames)
                self.counters["tracks_started"] += 1
            buf.append(frame.capture_ts, frame.index, joints[person], cfg.max_gap_s)
        return True

    def classify_ready(self, *, flush: bool = False) -> list[ActionResult]:
        """Classify every ready track in one batch.

        Args:
            flush: also classify tracks with any new frame since their last window (e.g. at
                the end of a video), as long as they cover `min_frames`.

        Returns:
            One result per classified track.
        """
        step_start = time.perf_counter()
        cfg = self.config
        actions, classifier = self._active
        stride_s = (1 if flush else cfg.stride) / self.fps - 1e-3
        ready: list[tuple[str, int, _TrackBuffer]] = []
        for name, src in self._sources.items():
            for tid, buf in src.tracks.items():
                if buf.last_ts - buf.last_window_ts < stride_s:
                    continue
                if buf.covered_frames(self.fps) >= cfg.min_frames:
                    ready.append((name, tid, buf))
        if not ready:
            return []

        windows, spans, canon_ms = [], [], []
        for name, tid, buf in ready:
            t0 = time.perf_counter()
            ts, index, joints = buf.ordered()
            frames = min(self.window, buf.covered_frames(self.fps))
            buf.last_window_ts = ts[-1]
            try:
                grid_ts, seq = track_window(ts, joints, frames, self.fps, self.window, self.canonical_frame)
            except CanonicalisationError:
                self.counters["windows_failed"] += 1
                continue
            # the first sample the window covers (a sample within rounding of the grid's start counts)
            first = np.searchsorted(ts, grid_ts[0] - 1e-3 / self.fps)
            start_index = int(index[min(first, len(ts) - 1)])
            windows.append(seq)
            spans.append((name, tid, buf, grid_ts[0], ts[-1], start_index, int(index[-1]), frames))
            canon_ms.append((time.perf_counter() - t0) * 1e3)
        if not windows:
            return []

        t0 = time.perf_counter()
        probs = classifier.probabilities(np.stack(windows).astype(np.float32, copy=False))
        model_ms = (time.perf_counter() - t0) * 1e3
        labels = tuple(classifier.labels)
        smoothed = []
        for span, p in zip(spans, probs, strict=True):
            buf = span[2]
            if buf.ema is None or buf.ema_labels != labels:
                buf.ema, buf.ema_labels = p.copy(), labels
            else:
                buf.ema = cfg.ema * p + (1.0 - cfg.ema) * buf.ema
            smoothed.append(buf.ema)
        predictions = classifier.decide(np.stack(smoothed), top_k=cfg.top_k)

        now = time.time()
        total_ms = (time.perf_counter() - step_start) * 1e3
        self.counters["windows_classified"] += len(windows)
        self._timings["model"].append(model_ms)
        results = []
        wall_clock = {name: src.clock == WALL_CLOCK for name, src in self._sources.items()}
        for span, pred, c_ms in zip(spans, predictions, canon_ms, strict=True):
            name, tid, _, start_ts, end_ts, start_index, end_index, frames = span
            map_ms = self._sources[name].map_ms
            self._timings["canonicalise"].append(c_ms)
            self._timings["total"].append(map_ms + total_ms)
            results.append(
                ActionResult(
                    source=name,
                    track=tid,
                    start_ts=float(start_ts),
                    end_ts=float(end_ts),
                    start_index=start_index,
                    end_index=end_index,
                    frames=frames,
                    label=pred.label,
                    score=float(pred.score),
                    top_k=[(str(k), float(v)) for k, v in pred.top_k],
                    timings_ms={
                        "map": map_ms,
                        "canonicalise": c_ms,
                        "model": model_ms,
                        "total": map_ms + total_ms,
                    },
                    latency_ms=(now - float(end_ts)) * 1e3 if wall_clock[name] else None,
                )
            )
        return results

    def run(self, frames: Iterable[PoseFrame], *, flush: bool = True) -> Iterable[ActionResult]:
        """Process a finite stream of frames in-process (e.g. a video), yielding results.

        Args:
            frames: pose frames in capture order.
            flush: classify remaining tracks once more at the end.
        """
        for frame in frames:
            yield from self.process(frame)
        if flush:
            yield from self.classify_ready(flush=True)

    # ----- housekeeping ------------------------------------------------------------------
    def expire_idle_sources(self, max_idle_s: float) -> list[str]:
        """Forget sources (trackers and buffers) that sent no frame for `max_idle_s` seconds.

        Returns:
            The names of the forgotten sources.
        """
        now = time.monotonic()
        idle = [name for name, src in self._sources.items() if now - src.last_seen > max_idle_s]
        for name in idle:
            self.counters["tracks_expired"] += len(self._sources.pop(name).tracks)
            self.counters["sources_expired"] += 1
        return idle

    def track_ids(self, source: str) -> np.ndarray:
        """(P,) track id of each person of the source's last ingested frame (-1: not tracked,
        e.g. a duplicate pose); empty for an unknown source. For drawing and per-frame output."""
        src = self._sources.get(source)
        return src.last_ids.copy() if src is not None else np.zeros(0, dtype=np.int64)

    @property
    def num_tracks(self) -> int:
        """Tracks currently buffered, over all sources."""
        return sum(len(src.tracks) for src in self._sources.values())

    def status(self) -> dict:
        """Counters, live tracks and per-stage timing statistics (ms: median and p95)."""
        timings = {}
        for stage, values in self._timings.items():
            if values:
                arr = np.fromiter(values, dtype=np.float64)
                timings[stage] = {
                    "p50": float(np.percentile(arr, 50)),
                    "p95": float(np.percentile(arr, 95)),
                }
        return {
            **self.counters,
            "sources": len(self._sources),
            "tracks": self.num_tracks,
            "actions": len(self._active[0]),
            "timings_ms": timings,
        }
