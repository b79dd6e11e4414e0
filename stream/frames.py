"""The pose frame: what the pose front-end produces and the worker consumes (transport-agnostic).

Every frame says which clock its `capture_ts` is on: `WALL_CLOCK` (live sources: `time.time()`
when the frame was captured, set by the publisher) or `MEDIA_CLOCK` (batch: the frame's position
in its video, seconds from the start, set by annotate). `pose_frame` builds frames from a
captured image's poses with the clock stated by the caller; only wall-clock frames give a
meaningful capture-to-result latency.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from actzero.stream.pose import PoseResult

NUM_LANDMARKS = 33  # MediaPipe Pose (BlazePose) landmarks
WALL_CLOCK = "wall"
MEDIA_CLOCK = "media"
CLOCKS = (WALL_CLOCK, MEDIA_CLOCK)


@dataclass(frozen=True)
class PoseFrame:
    """One video frame's poses, for P >= 0 persons.

    Attributes:
        source: name of the camera/video stream (unique per publisher).
        index: frame index within the source, increasing.
        capture_ts: seconds on the frame's `clock`: with "wall", the wall-clock capture time in
            seconds since the epoch (time.time(); live, and every frame on the wire); with
            "media", the frame's time in its video, seconds from the start (batch annotate).
        width, height: image size in pixels.
        image: (P, 33, 3) float32; x, y normalised to [0, 1] of width/height, z MediaPipe's relative depth.
        world: (P, 33, 3) float32 metres, origin between the hips, MediaPipe's axes, which follow the
            camera (measured): x to the image's right, y down, z away from the camera.
        visibility: (P, 33) float32 in [0, 1].
        clock: `WALL_CLOCK` or `MEDIA_CLOCK` (see `capture_ts`).
    """

    source: str
    index: int
    capture_ts: float
    width: int
    height: int
    image: np.ndarray
    world: np.ndarray
    visibility: np.ndarray
    clock: str = WALL_CLOCK

    @property
    def num_persons(self) -> int:
        return int(self.image.shape[0])


def pose_frame(
    source: str,
    index: int,
    poses: PoseResult,
    width: int,
    height: int,
    *,
    clock: str,
    wall_ts: float | None = None,
) -> PoseFrame:
    """The `PoseFrame` of one image's poses, on an explicit clock.

    Args:
        source: the stream's name.
        index: the frame's index in the stream.
        poses: what `PoseEstimator.process` found in the image.
        width, height: the image size in pixels.
        clock: `WALL_CLOCK`: `capture_ts` is `wall_ts` (time.time() when the image was
            captured); `MEDIA_CLOCK`: `capture_ts` is the poses' media timestamp in seconds.
        wall_ts: the wall-clock capture time; required with `WALL_CLOCK`, refused with `MEDIA_CLOCK`.

    Raises:
        ValueError: an unknown clock, or `wall_ts` missing for / given with the wrong clock.
    """
    if clock == WALL_CLOCK:
        if wall_ts is None:
            raise ValueError("a wall-clock frame needs wall_ts (time.time() at capture)")
        capture_ts = float(wall_ts)
    elif clock == MEDIA_CLOCK:
        if wall_ts is not None:
            raise ValueError("a media-time frame takes its time from the poses, not wall_ts")
        capture_ts = poses.timestamp_ms / 1000.0
    else:
        raise ValueError(f"unknown clock {clock!r}; expected one of {', '.join(CLOCKS)}")
    return PoseFrame(
        source, index, capture_ts, width, height, poses.image, poses.world, poses.visibility, clock
    )
