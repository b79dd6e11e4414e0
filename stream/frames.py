"""The pose frame: what the pose front-end produces and the worker consumes (transport-agnostic)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NUM_LANDMARKS = 33  # MediaPipe Pose (BlazePose) landmarks


@dataclass(frozen=True)
class PoseFrame:
    """One video frame's poses, for P >= 0 persons.

    Attributes:
        source: name of the camera/video stream (unique per publisher).
        index: frame index within the source, increasing.
        capture_ts: wall-clock capture time, seconds since the epoch (time.time()).
        width, height: image size in pixels.
        image: (P, 33, 3) float32; x, y normalised to [0, 1] of width/height, z MediaPipe's relative depth.
        world: (P, 33, 3) float32 metres, origin between the hips, MediaPipe's axes, which follow the
            camera (measured): x to the image's right, y down, z away from the camera.
        visibility: (P, 33) float32 in [0, 1].
    """

    source: str
    index: int
    capture_ts: float
    width: int
    height: int
    image: np.ndarray
    world: np.ndarray
    visibility: np.ndarray

    @property
    def num_persons(self) -> int:
        return int(self.image.shape[0])
