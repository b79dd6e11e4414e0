"""The public Python API (api.py) with real parts: the shipped bundle, onnxruntime, a real Bandai clip.

The Bandai clip comes from ../shared's archive (skipped when absent); the video is a short cut of
the bundled sample video. Nothing is written outside pytest's tmp_path.
"""

from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path

import numpy as np
import pytest

from actzero.api import Recognizer, annotate_video
from actzero.model.bundle import DEFAULT_BUNDLE
from actzero.model.bvh import read_bvh_ntu
from actzero.model.labelset import ActionError

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO / ".." / "shared"
BANDAI_1 = SHARED / "data" / "bandai-namco" / "Bandai-Namco-Research-Motiondataset-1.tar.xz"
# One of the archive's first BVH files (reading stops there, so little is decompressed): walking backwards.
# Its class is found through the Bandai tag in training/actions.toml. (The archive's first file,
# a wave goodbye, is no longer in the limbs-frame bundle's top 3: docs/model.md "Limb joints only".)
BANDAI_CLIP = "Bandai-Namco-Research-Motiondataset-1/data/dataset-1_walk-back_musical_001.bvh"
BANDAI_TAG = "dataset-1_walk-back"


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    """The shipped bundle with its own actions (not changed by the tests that use it)."""
    return Recognizer()


@pytest.fixture(scope="module")
def bandai_clip(tmp_path_factory: pytest.TempPathFactory, archive_members) -> tuple[np.ndarray, float, str]:
    """(joints, fps, class name) of one real Bandai Namco clip, read with model/bvh.py."""
    (path,) = archive_members(BANDAI_1, [BANDAI_CLIP], tmp_path_factory.mktemp("bandai"))
    joints, fps = read_bvh_ntu(path)
    with (REPO / "training" / "actions.toml").open("rb") as f:
        classes = tomllib.load(f)["action"]
    (name,) = [c["name"] for c in classes if BANDAI_TAG in c.get("tags", [])]
    return joints, fps, name


def test_default_recognizer_has_the_shipped_actions(recognizer: Recognizer) -> None:
    manifest = json.loads((DEFAULT_BUNDLE / "manifest.json").read_text())
    shipped = [action["name"] for action in manifest["actions"]]
    assert recognizer.labels == shipped
    assert [action.name for action in recognizer.actions] == shipped
    assert all(action.descriptions for action in recognizer.actions)


def test_classify_skeleton_finds_the_class_of_a_real_bandai_clip(
    recognizer: Recognizer, bandai_clip: tuple[np.ndarray, float, str]
) -> None:
    joints, fps, name = bandai_clip
    assert name in recognizer.labels  # the shipped bundle knows this class
    prediction = recognizer.classify_skeleton(joints, fps=fps, top_k=3)
    top = [label for label, _ in prediction.top_k]
    assert len(top) == 3 and set(top) <= set(recognizer.labels)
    assert name in top
    scores = [score for _, score in prediction.top_k]
    assert scores == sorted(scores, reverse=True) and 0.0 < scores[-1] <= scores[0] <= 1.0
    assert prediction.label is None or prediction.label == top[0]


def test_classify_skeleton_averages_the_clip_windows(
    recognizer: Recognizer, bandai_clip: tuple[np.ndarray, float, str]
) -> None:
    joints, fps, _ = bandai_clip
    windows = recognizer.clip_windows(joints, fps)
    mean = recognizer.core.classifier.probabilities(windows).mean(axis=0)
    best = int(np.argmax(mean))
    label, score = recognizer.classify_skeleton(joints, fps=fps).top_k[0]
    assert label == recognizer.labels[best]
    assert score == pytest.approx(float(mean[best]), abs=1e-5)


def test_clip_windows_shapes(recognizer: Recognizer, bandai_clip: tuple[np.ndarray, float, str]) -> None:
    joints, _, _ = bandai_clip
    window, fps = recognizer.bundle.window, recognizer.bundle.fps  # the bundle's rate: no resampling
    assert len(joints) > window
    stride = window // 2  # half a window (api.CLIP_STRIDE_FRACTION)
    expected = math.ceil((len(joints) - window) / stride) + 1  # the last window ends at the clip's end
    windows = recognizer.clip_windows(joints, fps)
    assert windows.shape == (expected, window, 25, 3)
    assert windows.dtype == np.float32 and np.isfinite(windows).all()
    short = recognizer.clip_windows(joints[: window // 2 + 8], fps)  # shorter than one window
    assert short.shape == (1, window, 25, 3)
    with pytest.raises(ValueError, match="too short"):
        recognizer.clip_windows(joints[:10], fps)


@pytest.mark.parametrize("shape", [(80, 24, 3), (80, 25), (80, 25, 2), (0, 25, 3)])
def test_classify_skeleton_refuses_a_wrong_shape(recognizer: Recognizer, shape: tuple[int, ...]) -> None:
    joints = np.zeros(shape, dtype=np.float32)
    with pytest.raises(ValueError, match=r"\(T, 25, 3\)"):
        recognizer.classify_skeleton(joints, fps=30.0)


def test_add_action_then_labels_contain_it() -> None:
    recognizer = Recognizer()
    before = list(recognizer.labels)
    assert "juggle three balls" not in before
    recognizer.add_action(
        "juggle three balls", "Both hands toss and catch three balls in a loop in front of the chest."
    )
    assert "juggle three balls" in recognizer.labels
    assert set(before) <= set(recognizer.labels)


def test_remove_action_of_an_unknown_name_is_a_clear_error() -> None:
    recognizer = Recognizer()
    before = list(recognizer.labels)
    with pytest.raises(ActionError, match="no action named 'no such action here'"):
        recognizer.remove_action("no such action here")
    assert recognizer.labels == before


@pytest.mark.slow  # MediaPipe on 60 half-size frames: ~5 s on a quiet machine
def test_annotate_video_returns_persons_with_segments(recognizer: Recognizer, sample_cut: Path) -> None:
    annotation = annotate_video(sample_cut, recognizer)  # the 2 s cut
    assert annotation.frames == 60 and annotation.duration_s == pytest.approx(2.0)
    assert [action["name"] for action in annotation.actions] == recognizer.labels
    assert annotation.persons, "the sample video's cut shows people"
    segments = [seg for person in annotation.persons for seg in person.segments]
    assert segments, "a 2 s cut with people gives at least one classified segment"
    for person in annotation.persons:
        assert 0.0 <= person.first_s <= person.last_s <= annotation.duration_s
        assert person.frames >= 1
    for seg in segments:
        assert 0.0 <= seg.start_s <= seg.end_s <= annotation.duration_s + 1e-3
        assert seg.label is None or seg.label in recognizer.labels
        assert seg.top_k and {name for name, _ in seg.top_k} <= set(recognizer.labels)
        assert seg.windows >= 1
