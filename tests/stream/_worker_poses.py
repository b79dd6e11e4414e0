"""Real pose frames for the worker tests: MediaPipe on a stretch of the sample video (two people).

Computed once per test session (about 3 s) and replayed with any source name, frame rate and
start time, forwards then backwards so the motion stays continuous however long it runs.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from actzero.stream.frames import PoseFrame

VIDEO = Path(__file__).resolve().parents[2] / "samples" / "sports2d-demo.mp4"
WIDTH, HEIGHT = 640, 360
FIRST_FRAME = 59  # from here on both people are in view
NUM_FRAMES = 30


@functools.cache
def sample_poses() -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]:
    """(image, world, visibility) of each of NUM_FRAMES consecutive frames of the sample video."""
    import cv2

    from actzero.stream.pose import PoseEstimator, PoseOptions

    cap = cv2.VideoCapture(str(VIDEO))
    poses = []
    try:
        with PoseEstimator.create(
            PoseOptions(
                num_poses=2,
                min_detection_confidence=0.2,
                min_presence_confidence=0.2,
                min_tracking_confidence=0.2,
            )
        ) as estimator:
            for i in range(FIRST_FRAME + NUM_FRAMES):
                ok, frame = cap.read()
                assert ok, f"cannot read frame {i} of {VIDEO}"
                if i >= FIRST_FRAME:
                    frame = cv2.resize(frame, (WIDTH, HEIGHT), interpolation=cv2.INTER_AREA)
                    found = estimator.process(frame, round(i * 1000 / 30))
                    poses.append((found.image, found.world, found.visibility))
    finally:
        cap.release()
    return tuple(poses)


def replay(
    source: str, count: int, *, fps: float = 30.0, start_ts: float = 1.7e9, start_index: int = 0
) -> list[PoseFrame]:
    """`count` frames of the sample poses as one source, ping-ponging through the recorded stretch."""
    poses = sample_poses()
    cycle = list(range(len(poses))) + list(range(len(poses) - 2, 0, -1))
    frames = []
    for k in range(count):
        image, world, visibility = poses[cycle[k % len(cycle)]]
        frames.append(
            PoseFrame(source, start_index + k, start_ts + k / fps, WIDTH, HEIGHT, image, world, visibility)
        )
    return frames


def replay_one_person(source: str, count: int, **kwargs) -> list[PoseFrame]:
    """Like `replay` but keeping only the walking woman (the pose on the right half of the image)."""
    frames = []
    for f in replay(source, count, **kwargs):
        keep = f.image[:, 11:25, 0].mean(axis=1) > 0.5 if f.num_persons else np.zeros(0, dtype=bool)
        frames.append(
            PoseFrame(
                f.source, f.index, f.capture_ts, f.width, f.height,
                f.image[keep], f.world[keep], f.visibility[keep],
            )
        )  # fmt: skip
    return frames
