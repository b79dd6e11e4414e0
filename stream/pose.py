"""Pose estimation: MediaPipe PoseLandmarker (BlazePose full) in VIDEO mode, as numpy arrays.

The model is the task file committed in stream/assets (built by ``tools/build_pose_task.py``);
nothing is downloaded at run time.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

import numpy as np

from actzero.stream.frames import NUM_LANDMARKS

POSE_TASK = Path(__file__).resolve().parent / "assets" / "pose_landmarker_full.task"


@dataclass(frozen=True)
class PoseOptions:
    """Settings of the pose estimator.

    Attributes:
        num_poses: most persons detected per frame.
        min_detection_confidence: minimum person-detector score for a new pose.
        min_presence_confidence: minimum landmark-model presence score to keep a pose.
        min_tracking_confidence: minimum score to keep tracking a pose from the previous frame
            instead of running the detector again.
        model_path: the PoseLandmarker ``.task`` file.
        native_logs: let MediaPipe/LiteRT's C++ start-up log through to stderr (about 50 lines,
            38 of them "Sparsity tensors may not yet be fully supported"); off, it is swallowed
            unless starting the model fails.
    """

    num_poses: int = 4
    min_detection_confidence: float = 0.5
    min_presence_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    model_path: Path = POSE_TASK
    native_logs: bool = False


@dataclass(frozen=True)
class PoseResult:
    """The poses found in one video frame (P >= 0 persons, all arrays float32).

    Attributes:
        image: (P, 33, 3): x, y normalised to [0, 1] of width/height, z MediaPipe's relative depth.
        world: (P, 33, 3) metres, origin between the hips (axes: see stream/frames.py).
        visibility: (P, 33) in [0, 1].
        timestamp_ms: the frame's media time as given to MediaPipe (after the strictly-increasing
            adjustment of `PoseEstimator.process`), milliseconds.
    """

    image: np.ndarray
    world: np.ndarray
    visibility: np.ndarray
    timestamp_ms: int

    @property
    def num_persons(self) -> int:
        return int(self.image.shape[0])


class PoseEstimator:
    """MediaPipe PoseLandmarker in VIDEO running mode with explicit create/close.

    Use as a context manager, or call :meth:`close` yourself::

        with PoseEstimator.create(PoseOptions(num_poses=2)) as pose:
            poses = pose.process(frame_bgr, timestamp_ms)  # a PoseResult
    """

    def __init__(self, landmarker: object, options: PoseOptions) -> None:
        """Wrap an open landmarker; use :meth:`create` instead."""
        self._landmarker = landmarker
        self.options = options
        self._last_timestamp_ms: int | None = None
        self._quiet_until_first_pose = not options.native_logs

    @classmethod
    def create(cls, options: PoseOptions | None = None) -> PoseEstimator:
        """Load the model and start a landmarker in VIDEO mode.

        Raises:
            FileNotFoundError: the task file is missing.
            ValueError: an option is out of range.
        """
        options = options or PoseOptions()
        if not 1 <= options.num_poses <= 16:
            raise ValueError(f"num_poses must be in 1..16, got {options.num_poses}")
        for name in ("min_detection_confidence", "min_presence_confidence", "min_tracking_confidence"):
            value = getattr(options, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value}")
        if not Path(options.model_path).is_file():
            raise FileNotFoundError(f"pose model not found: {options.model_path}")

        from mediapipe.tasks.python import BaseOptions, vision

        mp_options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(options.model_path)),
            running_mode=vision.RunningMode.VIDEO,
            num_poses=options.num_poses,
            min_pose_detection_confidence=options.min_detection_confidence,
            min_pose_presence_confidence=options.min_presence_confidence,
            min_tracking_confidence=options.min_tracking_confidence,
        )
        if options.native_logs:
            return cls(vision.PoseLandmarker.create_from_options(mp_options), options)
        with _native_stderr_swallowed():
            landmarker = vision.PoseLandmarker.create_from_options(mp_options)
            # the first frame sets up the graph's remaining calculators, which log too
            landmarker.detect_for_video(_blank_image(), -1)
        return cls(landmarker, options)

    def process(self, frame_bgr: np.ndarray, timestamp_ms: int) -> PoseResult:
        """Detect the poses in one video frame.

        Args:
            frame_bgr: (H, W, 3) uint8 image in OpenCV's BGR order.
            timestamp_ms: the frame's time in milliseconds. MediaPipe needs strictly increasing
                timestamps; one that does not increase is moved to the previous one + 1 ms.

        Returns:
            The landmarks, world landmarks and visibility per person, and the timestamp used.

        Raises:
            ValueError: the frame is not an (H, W, 3) uint8 image.
            RuntimeError: the estimator is closed.
        """
        if self._landmarker is None:
            raise RuntimeError("PoseEstimator is closed")
        if frame_bgr.dtype != np.uint8 or frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3:
            raise ValueError(
                f"expected an (H, W, 3) uint8 BGR frame, got {frame_bgr.dtype} {frame_bgr.shape}"
            )
        timestamp_ms = int(timestamp_ms)
        if self._last_timestamp_ms is not None and timestamp_ms <= self._last_timestamp_ms:
            timestamp_ms = self._last_timestamp_ms + 1
        self._last_timestamp_ms = timestamp_ms

        import cv2
        import mediapipe as mp

        rgb = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB)  # an exact channel swap, 20x faster than [..., ::-1]
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
        if self._quiet_until_first_pose:  # the first pose found logs a landmark-projection warning
            with _native_stderr_swallowed():
                result = self._landmarker.detect_for_video(image, timestamp_ms)
            self._quiet_until_first_pose = not result.pose_landmarks
        else:
            result = self._landmarker.detect_for_video(image, timestamp_ms)
        image, world, visibility = landmarks_to_arrays(result.pose_landmarks, result.pose_world_landmarks)
        return PoseResult(image, world, visibility, timestamp_ms)

    def close(self) -> None:
        """Release the landmarker (idempotent)."""
        if self._landmarker is not None:
            if self.options.native_logs:
                self._landmarker.close()
            else:
                with _native_stderr_swallowed():
                    self._landmarker.close()
            self._landmarker = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _blank_image() -> object:
    import mediapipe as mp

    return mp.Image(image_format=mp.ImageFormat.SRGB, data=np.zeros((64, 64, 3), np.uint8))


@contextlib.contextmanager
def _native_stderr_swallowed() -> Iterator[None]:
    """Send file descriptor 2 (where C++ libraries log) to a temporary file while the block runs.

    The GLOG_minloglevel / TF_CPP_MIN_LOG_LEVEL variables do not silence MediaPipe 1.2's LiteRT
    log (measured: 51 lines either way, docs/reliability.md), so the descriptor itself is moved.
    What was captured is written back to stderr when the block raises.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode("utf-8", "replace")[-20000:])
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def landmarks_to_arrays(
    image_landmarks: list[list[object]], world_landmarks: list[list[object]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Convert MediaPipe landmark lists to ``(image (P,33,3), world (P,33,3), visibility (P,33))`` float32."""
    persons = len(image_landmarks)
    image = np.zeros((persons, NUM_LANDMARKS, 3), np.float32)
    world = np.zeros((persons, NUM_LANDMARKS, 3), np.float32)
    visibility = np.zeros((persons, NUM_LANDMARKS), np.float32)
    for p, (pose_image, pose_world) in enumerate(zip(image_landmarks, world_landmarks, strict=True)):
        image[p] = [(lm.x, lm.y, lm.z) for lm in pose_image]
        world[p] = [(lm.x, lm.y, lm.z) for lm in pose_world]
        visibility[p] = [lm.visibility if lm.visibility is not None else 0.0 for lm in pose_image]
    return image, world, visibility
