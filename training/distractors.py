"""The distractor test: do added actions win only where they fit?

Five actions that occur in none of the training or Kinect sources are added, as text, to a
label set; on windows of test data (which never show them) every window they take is an
error. `distractor_capture` returns that share (goal: under 5% of windows).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from actzero.model.actions import Action

# None of these occurs in Bandai Namco, the synthetic classes or the five Kinect sources'
# class tables (training/classes/*.toml).
DISTRACTORS: tuple[Action, ...] = (
    Action("juggle", ("Juggles three balls, tossing them up and catching them with alternating hands.",)),
    Action("play the violin", ("Holds a violin under the chin with the left hand and bows with the right.",)),
    Action("row a boat", ("Sits and pulls two oars towards the chest, leaning back, then reaches forward.",)),
    Action("ride a bicycle", ("Sits on a bicycle, hands on the handlebar, and pedals with both legs.",)),
    Action(
        "knit", ("Holds two knitting needles in front of the chest and makes small quick hand movements.",)
    ),
)


def capture_share(probs: np.ndarray, distractor_columns: Sequence[int]) -> float:
    """Share of rows (windows) whose top class is one of `distractor_columns`.

    Args:
        probs: (N, K) class probabilities or scores.
        distractor_columns: columns of the distractor actions.

    Returns:
        The share in [0, 1] (0 for no rows).
    """
    probs = np.atleast_2d(np.asarray(probs))
    if len(probs) == 0:
        return 0.0
    mask = np.zeros(probs.shape[1], dtype=bool)
    mask[list(distractor_columns)] = True
    return float(mask[probs.argmax(axis=1)].mean())


def distractor_capture(
    bundle,
    actions: Sequence[Action],
    seen_logits: np.ndarray,
    z_r: np.ndarray,
    distractors: Sequence[Action] = DISTRACTORS,
    seed: int = 0,
) -> float:
    """Share of test windows taken by distractor actions added to a label set.

    Args:
        bundle: an opened `actzero.model.bundle.Bundle` (its calibration and text model are used).
        actions: the label set of the test data.
        seen_logits: (N, S) backbone logits of the test windows (`Bundle.encode_windows`).
        z_r: (N, d) z_r means of the same windows.
        distractors: actions that occur nowhere in the test data.
        seed: the classifier's sampling seed.

    Returns:
        The share of windows whose top label is a distractor.
    """
    names = {a.name.casefold() for a in actions}
    clash = [d.name for d in distractors if d.name.casefold() in names]
    if clash:
        raise ValueError(f"distractors {clash} are already in the label set")
    classifier = bundle.fit_classifier([*actions, *distractors], seed=seed)
    probs = classifier.probabilities_from_outputs(seen_logits, z_r)
    return capture_share(probs, range(len(actions), len(actions) + len(distractors)))
