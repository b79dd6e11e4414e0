"""The numpy zero-shot classifier: fitting, calibrated expert combination, decisions."""

from __future__ import annotations

import numpy as np
import pytest

from actzero.model.zeroshot import (
    Calibration,
    ZeroShotClassifier,
    combine_experts,
    fit_linear_softmax,
    fit_relative_threshold,
    fit_zero_shot,
    sample_latents,
)

DIM = 8


def _class_means(k: int, seed: int = 0, spread: float = 4.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, spread, (k, DIM)).astype(np.float32)


def _fit(means: np.ndarray, labels: list[str], seen_index=None, calibration=None):
    k = len(means)
    return fit_zero_shot(
        labels,
        np.full(k, -1) if seen_index is None else np.asarray(seen_index),
        [m[None] for m in means],
        [np.full((1, DIM), -2.0, np.float32) for _ in range(k)],
        calibration or Calibration(threshold=0.0, idle_label=None),
        samples_per_class=100,
    )


def test_classifier_recovers_well_separated_classes() -> None:
    means = _class_means(6)
    clf = _fit(means, [f"c{i}" for i in range(6)])
    rng = np.random.default_rng(1)
    truth = rng.integers(0, 6, 300)
    z = means[truth] + rng.normal(0, 0.3, (300, DIM)).astype(np.float32)
    probs = clf.probabilities_from_outputs(np.zeros((300, 0)), z)
    assert probs.shape == (300, 6)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert (probs.argmax(axis=1) == truth).mean() > 0.95


def test_adding_an_action_changes_predictions() -> None:
    means = _class_means(4, seed=3)
    probe = means[3] + 0.05  # a window that looks like the fourth action
    small = _fit(means[:3], ["a", "b", "c"])
    big = _fit(means, ["a", "b", "c", "d"])
    before = small.decide(small.probabilities_from_outputs(np.zeros((1, 0)), probe[None]))[0]
    after = big.decide(big.probabilities_from_outputs(np.zeros((1, 0)), probe[None]))[0]
    assert before.label in {"a", "b", "c"}
    assert after.label == "d"


def test_low_confidence_and_idle_give_no_action() -> None:
    means = _class_means(3, seed=5)
    clf = _fit(means, ["standing still", "wave", "jump"], calibration=Calibration(threshold=0.6))
    uncertain = np.array([[0.4, 0.35, 0.25]], np.float32)
    confident = np.array([[0.05, 0.9, 0.05]], np.float32)
    idle = np.array([[0.9, 0.05, 0.05]], np.float32)
    assert clf.decide(uncertain)[0].label is None
    assert clf.decide(confident)[0].label == "wave"
    assert clf.decide(confident)[0].top_k[0] == ("wave", pytest.approx(0.9))
    assert clf.decide(idle)[0].label is None
    assert len(clf.decide(confident, top_k=2)[0].top_k) == 2


def test_linear_softmax_fit_reduces_loss() -> None:
    rng = np.random.default_rng(0)
    means = _class_means(5, seed=7, spread=1.0)
    z, y = sample_latents([m[None] for m in means], [np.zeros((1, DIM), np.float32)] * 5, 80, rng)
    start = fit_linear_softmax(z, y, 5, steps=0)  # the Gaussian (shared variance) initialisation
    long = fit_linear_softmax(z, y, 5, steps=100)

    def nll(clf):
        logits = clf.logits(z)
        logits = logits - logits.max(1, keepdims=True)
        return float(-(logits[np.arange(len(y)), y] - np.log(np.exp(logits).sum(1))).mean())

    assert nll(start) < np.log(5)  # the start already beats chance
    assert nll(long) < nll(start) - 0.01


def test_samples_spread_over_descriptions() -> None:
    rng = np.random.default_rng(0)
    mu = np.array([[0.0] * DIM, [10.0] * DIM], np.float32)
    z, y = sample_latents([mu], [np.full((2, DIM), -8.0, np.float32)], 10, rng)
    assert (y == 0).all()
    near_second = (np.abs(z - 10.0) < 1).all(axis=1)
    assert near_second.sum() == 5


def test_stacking_penalty_moves_mass_from_seen_to_unseen() -> None:
    seen_logits = np.array([[4.0, 0.0]], np.float32)  # p_seen ~ (0.98, 0.02)
    latent = np.array([[0.0, 0.0, 2.0, 0.0]], np.float32)  # p_latent over unseen ~ (0.88, 0.12)
    columns = np.array([0, 1])
    plain, penalised = (
        combine_experts(seen_logits, columns, latent, columns, Calibration(method="stacking", seen_penalty=p))
        for p in (0.0, 1.0)
    )
    np.testing.assert_allclose(plain.sum(), 1.0, atol=1e-6)
    assert plain.argmax() == 0
    assert penalised.argmax() == 2
    assert penalised[0, 2] > plain[0, 2]


def test_gate_sends_unsure_seen_windows_to_the_new_labels() -> None:
    seen_logits = np.array([[4.0, 0.0], [0.1, 0.0]], np.float32)  # confident, then unsure
    latent = np.array([[0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 3.0, 0.0]], np.float32)
    calibration = Calibration(method="gate", gate_threshold=0.9)
    probs = combine_experts(
        seen_logits, np.arange(seen_logits.shape[1]), latent, np.array([0, 1]), calibration
    )
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert probs[0].argmax() == 0
    assert probs[1].argmax() == 2
    stricter = combine_experts(
        seen_logits,
        np.arange(seen_logits.shape[1]),
        latent,
        np.array([0, 1]),
        Calibration(method="gate", gate_threshold=0.999),
    )
    assert stricter[0, 0] < probs[0, 0]


def test_only_seen_labels_use_the_seen_classifier() -> None:
    seen_logits_all = np.array([[0.0, 5.0, 0.0]], np.float32)  # backbone classes x, y, z
    clf = _fit(_class_means(2), ["y", "x"], seen_index=[1, 0])
    probs = clf.probabilities_from_outputs(seen_logits_all, np.zeros((1, DIM), np.float32))
    assert probs[0].argmax() == 0  # label "y" is backbone class 1


def test_decide_rejects_wrong_width() -> None:
    clf = _fit(_class_means(2), ["a", "b"])
    with pytest.raises(ValueError):
        clf.decide(np.ones((1, 3), np.float32) / 3)


def test_mixture_does_not_give_a_single_added_label_the_whole_unseen_share():
    """With one added label, "gate" hands it all of (1 - g); "mixture" lets it win only when the
    latent classifier prefers it over the shipped labels too."""
    seen_logits = np.array([[0.2, 0.1, 0.0]])  # unsure backbone: the gate goes to the unseen side
    latent_logits = np.array([[0.0, 0.0, 0.0, 0.0]])  # a latent expert that knows nothing
    columns = np.array([0, 1, 2])
    gate = Calibration(method="gate", gate_threshold=0.9)
    mixture = Calibration(method="mixture", gate_threshold=0.9)
    assert (
        combine_experts(seen_logits, np.arange(seen_logits.shape[1]), latent_logits, columns, gate)[0, 3]
        > 0.9
    )
    mixed = combine_experts(seen_logits, np.arange(seen_logits.shape[1]), latent_logits, columns, mixture)
    assert np.isclose(mixed.sum(), 1.0) and mixed[0, 3] < 0.3
    confident = combine_experts(
        seen_logits, np.arange(seen_logits.shape[1]), np.array([[0.0, 0.0, 0.0, 9.0]]), columns, mixture
    )
    assert confident[0].argmax() == 3


def test_mixture_penalty_moves_between_plain_mixture_and_gate():
    seen_logits = np.array([[0.2, 0.1, 0.0]])  # unsure backbone: the gate goes to the unseen side
    latent_logits = np.array([[1.0, 0.0, 0.0, 0.0]])  # the latent expert mildly prefers a shipped label
    columns = np.array([0, 1, 2])
    added = [
        combine_experts(
            seen_logits,
            np.arange(seen_logits.shape[1]),
            latent_logits,
            columns,
            Calibration(method="mixture", gate_threshold=0.9, seen_penalty=p),
        )[0, 3]
        for p in (0.0, 1.0, 3.0, 20.0)
    ]
    assert all(a < b for a, b in zip(added, added[1:], strict=False))  # more penalty, more to the added label
    gate = combine_experts(
        seen_logits,
        np.arange(seen_logits.shape[1]),
        latent_logits,
        columns,
        Calibration(method="gate", gate_threshold=0.9),
    )
    assert abs(added[-1] - gate[0, 3]) < 1e-3
    assert added[0] < 0.3


def test_cosine_scoring_does_not_send_shifted_windows_to_a_hub_class() -> None:
    rng = np.random.default_rng(0)
    directions = rng.normal(size=(6, DIM))
    means = (3.0 * directions / np.linalg.norm(directions, axis=1, keepdims=True)).astype(np.float32)
    means[0] *= 0.2  # the hub: a label whose text latent lies near the middle of the space
    truth = rng.integers(1, 6, 400)
    # off-distribution windows: each towards its own class, but shrunk towards the middle
    z = (0.25 * means[truth] + rng.normal(0, 0.1, (400, DIM))).astype(np.float32)
    top = {}
    for score in ("linear", "cosine"):
        clf = _fit(means, [f"c{i}" for i in range(6)], calibration=Calibration(latent_score=score))
        top[score] = clf.probabilities_from_outputs(np.zeros((400, 0)), z).argmax(axis=1)
    assert (top["linear"] == 0).mean() > 0.9  # the failure: everything goes to the hub
    assert (top["cosine"] == 0).mean() < 0.05
    assert (top["cosine"] == truth).mean() > 0.9


def _top_probabilities(k: int, rng: np.random.Generator) -> np.ndarray:
    """Top probabilities of in-set windows of a random k-label synthetic problem (cosine scoring)."""
    means = rng.normal(0, 1, (k, DIM)).astype(np.float32)
    clf = _fit(means, [f"c{i}" for i in range(k)], calibration=Calibration(latent_score="cosine"))
    clf.calibration = Calibration(latent_score="cosine", latent_temperature=0.1)
    truth = rng.integers(0, k, 300)
    z = means[truth] + rng.normal(0, 0.6, (300, DIM)).astype(np.float32)
    return clf.probabilities_from_outputs(np.zeros((300, 0)), z)


def test_relative_no_action_rate_does_not_depend_on_the_number_of_labels() -> None:
    rng = np.random.default_rng(4)
    sizes = (3, 6, 12, 24)
    fit = {k: np.concatenate([_top_probabilities(k, rng).max(axis=1) for _ in range(4)]) for k in sizes}
    a, b = fit_relative_threshold(fit, target=0.1)
    relative = Calibration(no_action="relative", relative_threshold=a, relative_exponent=b, threshold=1.0)
    absolute = Calibration(threshold=relative.no_action_threshold(3))  # right for 3 labels only
    rates = {"relative": [], "absolute": []}
    for k in sizes:
        probs = np.concatenate([_top_probabilities(k, rng) for _ in range(4)])  # fresh problems
        for name, calib in (("relative", relative), ("absolute", absolute)):
            clf = ZeroShotClassifier([f"c{i}" for i in range(k)], np.full(k, -1), None, calib)
            rates[name].append(np.mean([p.label is None for p in clf.decide(probs)]))
    assert all(abs(r - 0.1) < 0.07 for r in rates["relative"]), rates
    assert rates["absolute"][-1] - rates["absolute"][0] > 0.3, rates  # what the relative rule fixes


def test_no_action_threshold_rules() -> None:
    relative = Calibration(no_action="relative", relative_threshold=0.8, relative_exponent=0.5, threshold=1.0)
    assert relative.no_action_threshold(4) == pytest.approx(0.4)
    assert relative.no_action_threshold(16) == pytest.approx(0.2)
    assert Calibration(threshold=0.3).no_action_threshold(16) == 0.3
    with pytest.raises(ValueError, match="no_action"):
        Calibration(no_action="sometimes").no_action_threshold(3)


def test_the_window_encoder_is_given_at_construction() -> None:
    means = _class_means(3, seed=5)
    calls = []

    def encode(windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        calls.append(windows.shape)
        return np.zeros((len(windows), 0), np.float32), means[[2] * len(windows)] + 0.01

    k = len(means)
    clf = fit_zero_shot(
        ["a", "b", "c"],
        np.full(k, -1),
        [m[None] for m in means],
        [np.full((1, DIM), -2.0, np.float32) for _ in range(k)],
        Calibration(threshold=0.0, idle_label=None),
        samples_per_class=100,
        encode=encode,
    )
    windows = np.zeros((2, 30, 25, 3), np.float32)
    assert clf.decide(clf.probabilities(windows))[0].label == "c"
    assert calls == [(2, 30, 25, 3)]
    with pytest.raises(RuntimeError, match="no encoder"):
        _fit(means, ["a", "b", "c"]).probabilities(windows)


def test_a_few_shipped_labels_do_not_take_the_windows_of_backbone_classes_outside_the_set() -> None:
    """Label set: shipped "a" (backbone class 0) and a new label. A window the backbone is sure is
    its class 2 (not in the set) goes to the latent side, which prefers the new label; one it is
    sure is class 0 stays "a"."""
    backbone = np.array([[0.0, 0.0, 8.0], [8.0, 0.0, 0.0]])  # classes 0, 1, 2 of the backbone
    latent = np.array([[0.0, 2.0], [0.0, 2.0]])  # the latent expert prefers the new label for both
    calibration = Calibration(method="mixture", gate_threshold=0.5, seen_penalty=1.0)
    probs = combine_experts(backbone, np.array([0]), latent, np.array([0]), calibration)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-6)
    assert probs[0].argmax() == 1 and probs[1].argmax() == 0
    # the same window with every backbone class in the set: the backbone's expert decides
    every = combine_experts(backbone, np.arange(3), np.zeros((2, 4)), np.arange(3), calibration)
    assert every[0].argmax() == 2 and every[1].argmax() == 0
