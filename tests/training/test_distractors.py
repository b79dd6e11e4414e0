"""The distractor test: the share of windows that added, never-occurring actions take."""

from __future__ import annotations

import numpy as np
import pytest

from actzero.model.bundle import Bundle
from actzero.training.distractors import DISTRACTORS, capture_share, distractor_capture


def test_capture_share_counts_rows_whose_top_class_is_a_distractor() -> None:
    probs = np.array(
        [
            [0.6, 0.1, 0.2, 0.1],  # label 0
            [0.1, 0.2, 0.6, 0.1],  # distractor 2
            [0.2, 0.5, 0.1, 0.2],  # label 1
            [0.1, 0.1, 0.3, 0.5],  # distractor 3
            [0.4, 0.3, 0.2, 0.1],  # label 0
        ]
    )
    assert capture_share(probs, [2, 3]) == pytest.approx(2 / 5)
    assert capture_share(probs, [1]) == pytest.approx(1 / 5)
    assert capture_share(np.zeros((0, 4)), [2]) == 0.0


def test_distractor_capture_on_windows_of_shipped_actions() -> None:
    bundle = Bundle.load()
    actions = [a for a in bundle.actions if a.name in {"walk", "sit down", "clap hands", "punch"}]
    z, y = [], []
    # latents of the four actions' own descriptions stand in for windows of those actions
    for i, action in enumerate(actions):
        mu, _ = bundle.label_latents(list(action.descriptions))
        z.append(mu)
        y.extend([i] * len(mu))
    z_r = np.concatenate(z)
    logits = np.full((len(z_r), len(bundle.actions)), -5.0, np.float32)
    shipped = [a.name for a in bundle.actions]
    logits[np.arange(len(z_r)), [shipped.index(actions[i].name) for i in y]] = 5.0
    share = distractor_capture(bundle, actions, logits, z_r)
    assert 0.0 <= share < 0.2
    # a "distractor" that is one of the test actions under another name takes its windows
    twin = [type(d)(d.name, actions[0].descriptions) for d in DISTRACTORS[:1]]
    assert distractor_capture(bundle, actions[1:], logits, z_r, distractors=twin) > share
    with pytest.raises(ValueError, match="already in the label set"):
        distractor_capture(bundle, [*actions, DISTRACTORS[0]], logits, z_r)
