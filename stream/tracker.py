"""Multi-person tracking within one source: stable person ids across frames.

SORT-style tracking by detection (Bewley et al., "Simple Online and Realtime Tracking", ICIP
2016) with the motion gating of Deep SORT (Wojke et al., ICIP 2017) and the lost-track handling
of ByteTrack (Zhang et al., ECCV 2022), on a pose summary instead of a box:

- A detection is its torso centre (mean of the shoulders and hips in image coordinates, x
  scaled by the aspect ratio so distances are isotropic) and its torso length (mid-shoulder
  to mid-hip), the "torso length" unit of all noise levels below.
- Each track has a constant-velocity Kalman filter on (x, y, log torso length), with noise
  proportional to the torso length as SORT/ByteTrack scale theirs with the box height, and
  with the time step from the frame timestamps (sources at any frame rate).
- Association: the squared Mahalanobis distance between each track's predicted measurement
  and each detection, gated by a chi-square quantile (Deep SORT), solved as an assignment
  (Hungarian algorithm, scipy's linear_sum_assignment) in two rounds: first the tracks seen in
  the previous frame, then the lost ones (a matching cascade: a lost track's wider uncertainty
  must not win a detection from a track that is still in view).
- A new track is *tentative* and has no id until it has been matched in `min_hits`
  consecutive frames (SORT's min_hits); a tentative track that misses a frame is dropped, so
  a one-frame ghost never gets an id. Tracks born in the tracker's first `min_hits` frames are
  published at once (as in SORT), so the people at the start of a stream get ids right away.
- A confirmed track that misses frames is kept (its prediction goes on and its uncertainty
  grows) for `max_missed_frames` / `max_missed_s`, so a person hidden for a moment comes back
  with the same id. Ids are never reused.

MediaPipe sometimes reports one person twice (two poses on the same body); detections
whose centres lie within `duplicate_distance` torso lengths of a better one are dropped.
Two real people that overlap that closely are indistinguishable in the image anyway: the
hidden one misses a few frames and keeps its id through the motion prediction.

Pure numpy plus scipy's assignment solver; people per frame are few, so it is cheap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

# MediaPipe Pose landmark indices used for the torso.
_MP_SHOULDERS = (11, 12)
_MP_HIPS = (23, 24)

_BLOCKED = 1e9  # assignment cost of a pair outside the gate


@dataclass(frozen=True)
class TrackerConfig:
    """Tracker parameters (why these values: docs/tracking.md).

    Attributes:
        gate: largest accepted squared Mahalanobis distance of a detection from a track's
            prediction (chi-square with 3 degrees of freedom: 11.34 is its 99 % quantile).
        centre_noise: measurement noise of the torso centre (std, torso lengths).
        scale_noise: measurement noise of the log torso length (std).
        centre_diffusion: process noise of the centre: std it adds over one second (torso lengths).
        velocity_diffusion: process noise of the centre velocity: std it adds over one second
            (torso lengths per second).
        scale_diffusion: process noise of the log torso length over one second (std).
        initial_speed: std of a new track's unknown velocity (torso lengths per second).
        max_distance: farthest a detection may lie from a track's predicted centre (torso
            lengths), however uncertain the prediction: a lost track's reach stops growing here
            (as ByteTrack's IoU gate bounds it by the box size).
        min_hits: consecutive matched frames before a new track gets an id.
        max_missed_frames: a track expires after this many consecutive frames without a match.
        max_missed_s: ... or after this many seconds without a match, whichever comes first.
        min_visibility: landmarks below this visibility do not count for the torso summary.
        duplicate_distance: a detection this close (in torso lengths) to a better one is a duplicate.
    """

    gate: float = 11.34
    centre_noise: float = 0.15
    scale_noise: float = 0.15
    centre_diffusion: float = 0.9
    velocity_diffusion: float = 3.5
    scale_diffusion: float = 0.5
    initial_speed: float = 3.0
    max_distance: float = 2.0
    min_hits: int = 3
    max_missed_frames: int = 15
    max_missed_s: float = 1.0
    min_visibility: float = 0.3
    duplicate_distance: float = 0.2


@dataclass
class _Track:
    """One track: Kalman state (x, y, log s, vx, vy, vlog s) with covariance, and bookkeeping."""

    state: np.ndarray  # (6,)
    cov: np.ndarray  # (6, 6)
    last_ts: float
    track_id: int = -1  # -1 while tentative
    hits: int = 1
    missed: int = 0

    @property
    def scale(self) -> float:
        return math.exp(self.state[2])


@dataclass
class TrackUpdate:
    """Result of one tracker update.

    Attributes:
        ids: (P,) int64 track id of each detection in input order (-1 for unusable or duplicate
            detections and for tracks not yet confirmed).
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
        self._tracks: list[_Track] = []
        self._next_id = 0
        self._updates = 0

    @property
    def active_ids(self) -> list[int]:
        """Ids of the published tracks currently alive (in view or lost for a moment)."""
        return [t.track_id for t in self._tracks if t.track_id >= 0]

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
            The published track id of each detection (-1 for unusable, duplicate or
            tentative ones) and the ids that expired.
        """
        cfg = self.config
        self._updates += 1
        centres = np.asarray(centres, dtype=np.float64).reshape(-1, 2)
        scales = np.asarray(scales, dtype=np.float64).reshape(-1)
        usable = np.isfinite(centres).all(axis=1) & np.isfinite(scales) & (scales > 1e-6)
        usable &= ~self._duplicates(centres, scales, usable, quality)
        det_idx = np.flatnonzero(usable)
        measured = np.column_stack([centres[det_idx], np.log(scales[det_idx])])  # (D, 3)

        predicted = [self._predict(t, ts) for t in self._tracks]
        owner: dict[int, int] = {}  # detection row -> track index
        in_view = [i for i, t in enumerate(self._tracks) if t.missed == 0]
        lost = [i for i, t in enumerate(self._tracks) if t.missed > 0]
        for group in (in_view, lost):
            free = [d for d in range(len(det_idx)) if d not in owner]
            owner.update(self._assign(group, free, predicted, measured))

        ids = np.full(len(centres), -1, dtype=np.int64)
        matched = set(owner.values())
        for d, ti in owner.items():
            track = self._tracks[ti]
            track.state, track.cov = self._correct(*predicted[ti], measured[d])
            track.last_ts, track.hits, track.missed = ts, track.hits + 1, 0
            if track.track_id < 0 and track.hits >= cfg.min_hits:
                track.track_id = self._new_id()
            ids[det_idx[d]] = track.track_id

        expired: list[int] = []
        kept: list[_Track] = []
        for ti, track in enumerate(self._tracks):
            if ti not in matched:  # its state stays at the last match, predicted from there
                track.missed += 1
                too_old = track.missed > cfg.max_missed_frames or ts - track.last_ts > cfg.max_missed_s
                if track.track_id < 0 or too_old:
                    if track.track_id >= 0:
                        expired.append(track.track_id)
                    continue
            kept.append(track)
        self._tracks = kept

        for d in range(len(det_idx)):
            if d not in owner:
                track = self._start(measured[d], ts)
                if self._updates <= cfg.min_hits:
                    track.track_id = self._new_id()
                ids[det_idx[d]] = track.track_id
        return TrackUpdate(ids=ids, expired=expired)

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    def _assign(
        self,
        tracks: list[int],
        detections: list[int],
        predicted: list[tuple[np.ndarray, np.ndarray]],
        measured: np.ndarray,
    ) -> dict[int, int]:
        """Gated minimum-cost assignment of `detections` (rows of `measured`) to `tracks`."""
        if not tracks or not detections:
            return {}
        cfg = self.config
        cost = np.empty((len(tracks), len(detections)))
        for row, ti in enumerate(tracks):
            state, cov = predicted[ti]
            cost[row] = self._mahalanobis(state, cov, measured[detections])
            distance = np.linalg.norm(measured[detections, :2] - state[:2], axis=1) / math.exp(state[2])
            cost[row, distance > cfg.max_distance] = _BLOCKED
        cost = np.where(cost <= cfg.gate, cost, _BLOCKED)
        rows, cols = linear_sum_assignment(cost)
        return {detections[c]: tracks[r] for r, c in zip(rows, cols, strict=True) if cost[r, c] < _BLOCKED}

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

    # ----- Kalman filter -------------------------------------------------------------------
    def _noise(self, scale: float) -> np.ndarray:
        """Measurement noise covariance R (3, 3) at a torso length."""
        cfg = self.config
        return np.diag([(cfg.centre_noise * scale) ** 2] * 2 + [cfg.scale_noise**2])

    def _start(self, measurement: np.ndarray, ts: float) -> _Track:
        cfg = self.config
        scale = math.exp(measurement[2])
        state = np.concatenate([measurement, np.zeros(3)])
        cov = np.zeros((6, 6))
        cov[:3, :3] = self._noise(scale)
        cov[3:, 3:] = np.diag([(cfg.initial_speed * scale) ** 2] * 2 + [cfg.scale_diffusion**2])
        track = _Track(state, cov, ts)
        self._tracks.append(track)
        return track

    def _predict(self, track: _Track, ts: float) -> tuple[np.ndarray, np.ndarray]:
        """State and covariance of `track` moved on to time `ts` (constant velocity)."""
        cfg = self.config
        dt = max(ts - track.last_ts, 0.0)
        transition = np.eye(6)
        transition[:3, 3:] = dt * np.eye(3)
        scale = track.scale
        process = (
            np.diag(
                [(cfg.centre_diffusion * scale) ** 2] * 2
                + [cfg.scale_diffusion**2]
                + [(cfg.velocity_diffusion * scale) ** 2] * 2
                + [cfg.scale_diffusion**2]
            )
            * dt
        )
        return transition @ track.state, transition @ track.cov @ transition.T + process

    def _innovation_cov(self, state: np.ndarray, cov: np.ndarray) -> np.ndarray:
        return cov[:3, :3] + self._noise(math.exp(state[2]))

    def _mahalanobis(self, state: np.ndarray, cov: np.ndarray, measured: np.ndarray) -> np.ndarray:
        """(D,) squared Mahalanobis distances of measurements (D, 3) from the predicted one."""
        residual = measured - state[:3]
        solved = np.linalg.solve(self._innovation_cov(state, cov), residual.T)
        return (residual * solved.T).sum(axis=1)

    def _correct(
        self, state: np.ndarray, cov: np.ndarray, measured: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Kalman update of a predicted state with one measurement (x, y, log s)."""
        gain = np.linalg.solve(self._innovation_cov(state, cov), cov[:3, :]).T  # (6, 3)
        state = state + gain @ (measured - state[:3])
        cov = cov - gain @ cov[:3, :]
        return state, (cov + cov.T) / 2
