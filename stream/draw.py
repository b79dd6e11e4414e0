"""Drawing poses, track ids and action labels on frames (shared by `annotate --video-out` and `live`).

Pure OpenCV + numpy. Each person is drawn in the colour of its track id: the MediaPipe
33-landmark skeleton, and a caption "#<id> <label> <score>" above the head. The ids are the
worker core's (`WorkerCore.track_ids`), so the drawn ids are the ids in its results.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from actzero.stream.frames import PoseFrame

# MediaPipe Pose (BlazePose) landmark connections of the body (face: nose to eyes and ears).
POSE_CONNECTIONS: tuple[tuple[int, int], ...] = (
    (0, 2), (0, 5), (2, 7), (5, 8),
    (11, 12), (11, 13), (13, 15), (15, 17), (15, 19), (17, 19), (15, 21),
    (12, 14), (14, 16), (16, 18), (16, 20), (18, 20), (16, 22),
    (11, 23), (12, 24), (23, 24),
    (23, 25), (25, 27), (27, 29), (29, 31), (27, 31),
    (24, 26), (26, 28), (28, 30), (30, 32), (28, 32),
)  # fmt: skip

# Distinct BGR colours, one per track id (cycled); grey for people without a track.
PALETTE: tuple[tuple[int, int, int], ...] = (
    (75, 180, 60), (48, 130, 245), (200, 130, 0), (25, 225, 255), (180, 30, 145),
    (240, 240, 70), (230, 50, 240), (60, 20, 220), (128, 128, 0), (0, 128, 128),
)  # fmt: skip
NO_TRACK = (160, 160, 160)
MIN_VISIBILITY = 0.3


@dataclass(frozen=True)
class Caption:
    """What is written next to one tracked person: the current label (None = no action) and score."""

    label: str | None
    score: float


def track_colour(track_id: int) -> tuple[int, int, int]:
    """The BGR colour of a track id (grey for -1, "no track")."""
    return NO_TRACK if track_id < 0 else PALETTE[track_id % len(PALETTE)]


def _font_scale(image: np.ndarray) -> float:
    return max(0.4, image.shape[0] / 900.0)


def draw_text(
    image: np.ndarray,
    text: str,
    origin: tuple[int, int],
    colour: tuple[int, int, int],
    scale: float | None = None,
) -> None:
    """Write `text` with its bottom-left corner at `origin` on a dark box, in place."""
    import cv2

    scale = scale or _font_scale(image)
    thickness = max(1, round(scale * 1.6))
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    x = int(np.clip(origin[0], 0, max(image.shape[1] - w - 4, 0)))
    y = int(np.clip(origin[1], h + 4, image.shape[0] - base - 2))
    cv2.rectangle(image, (x - 3, y - h - 4), (x + w + 3, y + base + 2), (20, 20, 20), cv2.FILLED)
    cv2.putText(image, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, colour, thickness, cv2.LINE_AA)


def caption_text(track_id: int, caption: Caption | None) -> str:
    """ "#3 walking 0.72", "#3 no action" (unsure or idle) or "#3 ..." (not classified yet).

    No score is shown for "no action": it would be the score of a class that was not chosen.
    """
    if track_id < 0:
        return ""
    if caption is None:
        return f"#{track_id} ..."
    if caption.label is None:
        return f"#{track_id} no action"
    return f"#{track_id} {caption.label} {caption.score:.2f}"


def draw_poses(
    image: np.ndarray,
    frame: PoseFrame,
    track_ids: Sequence[int],
    captions: Mapping[int, Caption],
) -> np.ndarray:
    """Draw every person's skeleton and caption on `image` (BGR, in place) and return it.

    Args:
        image: the frame to draw on (any size: landmarks are normalised coordinates).
        frame: the poses of this frame.
        track_ids: (P,) track id per person (-1 = none).
        captions: the current caption of each track id (missing = not classified yet).
    """
    import cv2

    height, width = image.shape[:2]
    thickness = max(2, round(height / 300))
    for person, track_id in enumerate(track_ids):
        xy = frame.image[person, :, :2] * np.array([width, height], dtype=np.float32)
        seen = frame.visibility[person] >= MIN_VISIBILITY
        colour = track_colour(int(track_id))
        for a, b in POSE_CONNECTIONS:
            if seen[a] and seen[b]:
                pa, pb = xy[a].round().astype(int), xy[b].round().astype(int)
                cv2.line(image, tuple(pa.tolist()), tuple(pb.tolist()), colour, thickness, cv2.LINE_AA)
        for j in np.flatnonzero(seen):
            cv2.circle(image, tuple(xy[j].round().astype(int).tolist()), thickness + 1, colour, -1)
        text = caption_text(int(track_id), captions.get(int(track_id)))
        if text and seen.any():
            top = xy[seen]
            origin = (int(top[:, 0].min()), int(top[:, 1].min()) - 2 * thickness)
            draw_text(image, text, origin, colour)
    return image


def draw_status(image: np.ndarray, lines: Sequence[str]) -> np.ndarray:
    """Write status lines (latency, fps, ...) in the top-left corner, in place."""
    scale = _font_scale(image) * 0.8
    step = int(32 * scale) + 8
    for i, line in enumerate(lines):
        draw_text(image, line, (8, step * (i + 1)), (240, 240, 240), scale)
    return image


def draw_live_frame(picture: np.ndarray, frame: PoseFrame | None, status: Sequence[str]) -> np.ndarray:
    """The live window's image: the camera picture with the skeletons and status lines drawn on it.

    Args:
        picture: the camera frame (BGR, any size; the view message's downscaled JPEG); not modified.
        frame: the poses of that frame (None: no skeletons, e.g. its pose message was lost).
        status: lines for the top-left corner (fps, latency, dropped frames, labels).

    Returns:
        A new image of the picture's size.
    """
    image = picture.copy()
    if frame is not None:
        draw_poses(image, frame, [-1] * frame.num_persons, {})
    return draw_status(image, status)
