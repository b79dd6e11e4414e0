"""Multi-person tracking within one source: stable person ids across frames.

Each detection is summarised by its torso centre (mean of the shoulders and hips in
image coordinates, x scaled by the aspect ratio so distances are isotropic) and its
torso length (mid-shoulder to mid-hip). A track predicts its centre with a
constant-velocity model; detections are matched to tracks greedily by increasing cost
(centre distance in units of torso length, plus a scale-change penalty), and a pair is
only accepted under a gating cost. Unmatched detections start new tracks; tracks that
miss too many frames (or too long a time) expire. Ids are never reused.

MediaPipe sometimes reports one person twice (two poses on the same body); detections
whose centres lie within `duplicate_distance` torso lengths of a better one are dropped.
Two real people that overlap that closely are indistinguishable in the image anyway: the
hidden one misses a few frames and keeps its id through the motion prediction.

Greedy matching on a gated cost is optimal whenever each person is closest to its own
prediction, which the motion model makes true for people crossing at ordinary speeds;
the number of people per frame is small, so it is also cheap. Pure numpy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# MediaPipe Pose landmark indices used for the torso.
_MP_SHOULDERS = (11, 12)
_MP_HIPS = (23, 24)


@dataclass(frozen=True)
class TrackerConfig:
    """Tracker parameters.

    Attributes:
        gate: largest accepted matching cost (centre distance in torso lengths + scale penalty).
        scale_weight: weight of |log(scale ratio)| in the cost.
        max_missed_frames: a track expires after this many consecutive frames without a match.
        max_missed_s: ... or after this many seconds without a match, whichever comes first.
        velocity_smoothing: weight of the newest velocity estimate (0..1) in the motion model.
        min_visibility: landmarks below this visibility do not count for the torso summary.
        duplicate_distance: a detection this close (in torso lengths) to a better one is a duplicate.
    """

    gate: float = 1.5
    scale_weight: float = 1.0
    max_missed_frames: int = 15
    max_missed_s: float = 1.0
    velocity_smoothing: float = 0.5
    min_visibility: float = 0.3
    duplicate_distance: float = 0.2


@dataclass
class _Track:
    track_id: int
    centre: np.ndarray  # (2,)
    velocity: np.ndarray  # (2,) per second
    scale: float
    last_ts: float
    missed: int = 0


@dataclass
class TrackUpdate:
    """Result of one tracker update.

    Attributes:
        ids: (P,) int64 track id of each detection in input order (-1 for unusable or duplicate
            detections).
        expired: ids of tracks that expired in this update (their state can be freed).
    """

    ids: np.ndarray
    expired: list[int] = field(default_factory=list)


def torso_summary(
    image: np.ndarray, visibility: np.ndarray, width: int, height: int, min_visibility: float = 0.3
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Torso centre, torso length and torso visibility of each person from MediaPipe image landmarks.

    Args:
        image: (P, 33, 3) landmarks, x and y normalised to [0, 1].
        visibility: (P, 33) landmark visibility.
        width, height: image size in pixels (x is scaled by width / height).
        min_visibility: landmarks below this visibility are ignored.

    Returns:
        centres (P, 2) and scales (P,), in units of the image height (NaN where the torso is not
        visible), and quality (P,): the mean visibility of the four torso landmarks.
    """
    torso = [*_MP_SHOULDERS, *_MP_HIPS]
    vis = np.asarray(visibility, dtype=np.float64)[:, torso]  # (P, 4)
    xy = np.asarray(image, dtype=np.float64)[:, torso, :2] * (width / max(height, 1), 1.0)
    seen = (vis >= min_visibility) & np.isfinite(xy).all(axis=-1)
    weights = seen.astype(np.float64)[..., None]
    xy = np.where(seen[..., None], xy, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):  # an unseen pair gives NaN, on purpose
        shoulders = (xy[:, :2] * weights[:, :2]).sum(axis=1) / weights[:, :2].sum(axis=1)
        hips = (xy[:, 2:] * weights[:, 2:]).sum(axis=1) / weights[:, 2:].sum(axis=1)
        centres = (xy * weights).sum(axis=1) / weights.sum(axis=1)
    centres = np.where(np.isfinite(shoulders) & np.isfinite(hips), (shoulders + hips) / 2, centres)
    scales = np.sqrt(((shoulders - hips) ** 2).sum(axis=-1))
    return centres, scales, vis.mean(axis=1)


class Tracker:
    """Keeps stable ids for the people of one source across frames."""

    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.config = config or TrackerConfig()
        self._tracks: dict[int, _Track] = {}
        self._next_id = 0

    @property
    def active_ids(self) -> list[int]:
        """Ids of the tracks currently alive."""
        return list(self._tracks)

    def update(
        self, centres: np.ndarray, scales: np.ndarray, ts: float, quality: np.ndarray | None = None
    ) -> TrackUpdate:
        """Match this frame's detections to tracks.

        Args:
            centres: (P, 2) torso centres (NaN rows are unusable detections).
            scales: (P,) torso lengths, same units as the centres.
            ts: frame timestamp in seconds (increasing).
            quality: (P,) detection quality (e.g. torso visibility) to choose among duplicates;
                earlier detections win when None.

        Returns:
            The track id of each detection and the ids that expired.
        """
        cfg = self.config
        centres = np.asarray(centres, dtype=np.float64).reshape(-1, 2)
        scales = np.asarray(scales, dtype=np.float64).reshape(-1)
        usable = np.isfinite(centres).all(axis=1) & np.isfinite(scales) & (scales > 1e-6)
        usable &= ~self._duplicates(centres, scales, usable, quality)
        ids = np.full(len(centres), -1, dtype=np.int64)

        track_ids = list(self._tracks)
        det_idx = np.flatnonzero(usable)
        if track_ids and det_idx.size:
            cost = self._cost(track_ids, centres[det_idx], scales[det_idx], ts)
            order = np.argsort(cost, axis=None, kind="stable")
            used_t: set[int] = set()
            used_d: set[int] = set()
            for flat in order:
                ti, di = divmod(int(flat), det_idx.size)
                if cost[ti, di] > cfg.gate:
                    break
                if ti in used_t or di in used_d:
                    continue
                used_t.add(ti)
                used_d.add(di)
                det = int(det_idx[di])
                self._refresh(self._tracks[track_ids[ti]], centres[det], scales[det], ts)
                ids[det] = track_ids[ti]

        for det in det_idx:
            if ids[det] < 0:
                ids[det] = self._start(centres[det], scales[det], ts)

        matched = set(ids[ids >= 0].tolist())
        expired = []
        for tid in track_ids:
            if tid in matched:
                continue
            track = self._tracks[tid]
            track.missed += 1
            if track.missed > cfg.max_missed_frames or ts - track.last_ts > cfg.max_missed_s:
                expired.append(tid)
                del self._tracks[tid]
        return TrackUpdate(ids=ids, expired=expired)

    def _duplicates(
        self, centres: np.ndarray, scales: np.ndarray, usable: np.ndarray, quality: np.ndarray | None
    ) -> np.ndarray:
        """Mask of detections that repeat a better detection of the same body."""
        duplicate = np.zeros(len(centres), dtype=bool)
        idx = np.flatnonzero(usable)
        if idx.size < 2:
            return duplicate
        if quality is not None:
            idx = idx[np.argsort(-np.asarray(quality, dtype=np.float64)[idx], kind="stable")]
        kept: list[int] = []
        for i in idx:
            for k in kept:
                unit = max(scales[i], scales[k])
                if np.linalg.norm(centres[i] - centres[k]) < self.config.duplicate_distance * unit:
                    duplicate[i] = True
                    break
            else:
                kept.append(int(i))
        return duplicate

    def _cost(self, track_ids: list[int], centres: np.ndarray, scales: np.ndarray, ts: float) -> np.ndarray:
        tracks = [self._tracks[t] for t in track_ids]
        dt = np.array([max(ts - t.last_ts, 0.0) for t in tracks])[:, None]
        pred = np.stack([t.centre for t in tracks]) + np.stack([t.velocity for t in tracks]) * dt
        t_scale = np.array([t.scale for t in tracks])[:, None]
        dist = np.linalg.norm(pred[:, None, :] - centres[None, :, :], axis=-1)
        unit = np.maximum(t_scale, scales[None, :])
        return dist / unit + self.config.scale_weight * np.abs(np.log(scales[None, :] / t_scale))

    def _refresh(self, track: _Track, centre: np.ndarray, scale: float, ts: float) -> None:
        dt = ts - track.last_ts
        if dt > 1e-6:
            a = self.config.velocity_smoothing
            track.velocity = a * (centre - track.centre) / dt + (1 - a) * track.velocity
        track.centre = centre.copy()
        track.scale = float(scale)
        track.last_ts = ts
        track.missed = 0

    def _start(self, centre: np.ndarray, scale: float, ts: float) -> int:
        tid = self._next_id
        self._next_id += 1
        self._tracks[tid] = _Track(tid, centre.copy(), np.zeros(2), float(scale), ts)
        return tid
