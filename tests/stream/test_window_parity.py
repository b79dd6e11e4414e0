"""Training and serving see the same windows: the worker fed frame by frame with timestamps vs
training's clip windows of the same frames (real MediaPipe poses of the sample video)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from _worker_poses import replay_one_person

from actzero.model.bundle import Bundle
from actzero.model.mapping import mediapipe_to_ntu
from actzero.stream.worker import WorkerConfig, WorkerCore

train = pytest.importorskip("actzero.training.train", reason="the training extra (torch) is not installed")


class _RecordingClassifier:
    """The real fitted classifier, keeping a copy of every batch of windows it is given."""

    def __init__(self, inner) -> None:
        self.inner, self.labels, self.batches = inner, inner.labels, []

    def probabilities(self, windows: np.ndarray) -> np.ndarray:
        self.batches.append(windows.copy())
        return self.inner.probabilities(windows)

    def decide(self, probs: np.ndarray, top_k: int = 5):
        return self.inner.decide(probs, top_k=top_k)


@pytest.mark.parametrize("frame", ["upright", "gravity"])
def test_worker_windows_are_byte_identical_to_training_clip_windows(bundle: Bundle, classifier, frame):
    seen = [f for f in replay_one_person("cam", 100) if f.num_persons == 1]
    # the frames where she is detected, renumbered as a 30 fps stream (epoch timestamps)
    frames = [dataclasses.replace(f, index=k, capture_ts=1.7e9 + k / 30) for k, f in enumerate(seen)]
    assert len(frames) >= 90
    model = dataclasses.replace(bundle, canonical_frame=frame)
    recorder = _RecordingClassifier(classifier)
    core = WorkerCore(model, classifier=recorder, config=WorkerConfig(stride=8, min_frames=24, ema=1.0))
    results = [r for f in frames for r in core.process(f)]
    served = np.concatenate(recorder.batches)
    assert len(served) == len(results) >= 8

    clip = np.stack([mediapipe_to_ntu(f.world[0], f.visibility[0]) for f in frames])
    for result, window in zip(results, served, strict=True):
        piece = clip[result.start_index : result.end_index + 1]  # the frames this window covers
        assert len(piece) == result.frames <= bundle.window
        trained = train.clip_windows(piece, bundle.window, 8, frame)
        assert len(trained) == 1
        assert trained[0].tobytes() == window.tobytes(), f"window ending at frame {result.end_index} differs"
    assert any(r.frames < bundle.window for r in results) and any(r.frames == bundle.window for r in results)
    # and the sliding windows of the whole clip are the worker's full windows
    full = [w for r, w in zip(results, served, strict=True) if r.frames == bundle.window]
    full_start = next(r.start_index for r in results if r.frames == bundle.window)
    sliding = train.clip_windows(clip[full_start : results[-1].end_index + 1], bundle.window, 8, frame)
    assert np.array_equal(sliding[-len(full) :], np.stack(full))
