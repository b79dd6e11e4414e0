"""Evaluation protocol: disjoint real-class splits, cache fingerprints, GZSL scenarios, method choice."""

from __future__ import annotations

import numpy as np

from actzero.model.zeroshot import Calibration
from actzero.training.evaluate import (
    METHODS,
    EvalConfig,
    Features,
    LatentModel,
    _cache_key,
    calibration_error,
    gzsl_scenarios,
    plan_splits,
    recommended_calibration,
    summarise,
)
from actzero.training.sadvae import SADVAEConfig
from actzero.training.train import ClipSet, TrainConfig

SEEN = 12  # enough seen classes for the direct projection to span the 8-d toy text space


def _clip_set(
    real: int = 20, synthetic: int = 3, per_class: int = 12, small: int = 2
) -> tuple[ClipSet, list]:
    """Labels only (the clips are not read by the planner); the last `small` real classes have 3 clips."""
    names = [f"real{i}" for i in range(real)] + [f"synth{i}" for i in range(synthetic)]
    sources = ["bandai-namco"] * real + ["synthetic"] * synthetic
    counts = [3 if real - small <= i < real else per_class for i in range(real + synthetic)]
    labels = np.repeat(np.arange(len(names)), counts)
    clips = [np.zeros((4, 25, 3), np.float32) for _ in labels]
    return ClipSet(clips, labels, names), sources


def test_splits_hold_out_disjoint_real_classes_and_no_unseen_clip_is_trained_on() -> None:
    clips, sources = _clip_set()
    config = EvalConfig(splits=3, unseen_per_split=4, pseudo_unseen=3, min_clips=10)
    plans = plan_splits(clips, sources, config)
    unseen_sets = [set(p.unseen) for p in plans]
    assert all(len(u) == 4 for u in unseen_sets)
    assert not (unseen_sets[0] & unseen_sets[1]) and not (unseen_sets[1] & unseen_sets[2])
    for plan in plans:
        assert all(n.startswith("real") and n not in ("real18", "real19") for n in plan.unseen)
        assert not set(plan.pseudo_unseen) & set(plan.unseen)
        assert set(plan.pseudo_unseen) <= set(plan.seen)
        unseen_ids = [clips.names.index(n) for n in plan.unseen]
        for group in (plan.train, plan.val, plan.test):
            assert not np.isin(clips.labels[group], unseen_ids).any()
        assert np.array_equal(plan.unseen_clips, np.flatnonzero(np.isin(clips.labels, unseen_ids)))
        seen_clips = np.concatenate([plan.train, plan.val, plan.test])
        assert len(np.unique(seen_clips)) == len(seen_clips) == len(clips.labels) - len(plan.unseen_clips)


def test_cache_key_follows_classes_clips_schedule_and_seed() -> None:
    names = ["a", "b"]
    groups = {"train": np.array([0, 1, 2]), "val": np.array([3])}
    config = EvalConfig()
    key = _cache_key(names, groups, config, 0)
    assert key == _cache_key(list(names), {k: v.copy() for k, v in groups.items()}, config, 0)
    assert key != _cache_key(["a", "c"], groups, config, 0)
    assert key != _cache_key(names, {"train": np.array([0, 1]), "val": np.array([3])}, config, 0)
    assert key != _cache_key(names, groups, EvalConfig(train=TrainConfig(epochs=3)), 0)
    assert key != _cache_key(names, groups, config, 1)


def _features(
    classes: list[int], texts: list[np.ndarray], per_class: int, seen_logit: float, rng
) -> Features:
    """Skeleton features near their class's text embedding; seen logits peaked by `seen_logit`."""
    labels = np.repeat(classes, per_class)
    feats = np.stack([texts[c][0] for c in labels]) + rng.normal(0, 0.02, (len(labels), texts[0].shape[1]))
    logits = np.zeros((len(labels), SEEN), np.float32)
    for i, c in enumerate(labels):
        if c < SEEN:
            logits[i, c] = seen_logit
    return Features(feats.astype(np.float32), logits, labels)


def test_one_added_action_scenario_exposes_a_gate_that_gives_it_every_unsure_window() -> None:
    rng = np.random.default_rng(0)
    texts = [v[None] / np.linalg.norm(v) for v in rng.normal(0, 1, (SEEN + 2, 8)).astype(np.float32)]
    seen, unseen = list(range(SEEN)), [SEEN, SEEN + 1]
    train = _features(seen, texts, 30, 3.0, rng)
    model = LatentModel("direct", train, [str(i) for i in range(SEEN + 2)], texts, SADVAEConfig(), seed=0)
    unsure_seen = _features(seen, texts, 10, 0.2, rng)  # the backbone is unsure on these
    unseen_feats = _features(unseen, texts, 10, 0.0, rng)
    base = Calibration(seen_temperature=1.0, latent_temperature=0.5, gate_threshold=0.9, threshold=0.0)

    def scores(method: str) -> dict:
        calib = Calibration(**{**base.to_dict(), "method": method})
        return gzsl_scenarios(unsure_seen, unseen_feats, model, seen, unseen, seen, calib)

    gate, mixture = scores("gate"), scores("mixture")
    # with the seen side closed, "gate" puts every seen window on the added label(s)
    assert gate["single"]["S"] == 0.0 and gate["all"]["S"] == 0.0
    assert gate["single"]["U"] == 1.0
    # "mixture" lets the latent classifier keep them on their own (seen) label
    assert mixture["single"]["S"] > 0.9 and mixture["single"]["U"] > 0.9
    assert mixture["single"]["H"] > gate["single"]["H"]


def _run(variant: str, val: dict[str, float], test_h: dict[str, float]) -> dict:
    run = {"variant": variant, "zsl": 0.5, "zsl_balanced": 0.5, "val_zsl": 0.5}
    for m in METHODS:
        cell = {"S": test_h[m], "U": test_h[m], "H": test_h[m]}
        run[m] = {"all": cell, "single": cell, "val": {"all": {"H": val[m]}, "single": {"H": val[m]}}}
    return run


def test_summary_chooses_the_gzsl_method_on_validation_not_test() -> None:
    val = {"gate": 0.2, "mixture": 0.6, "stacking": 0.4}
    test_h = {"gate": 0.9, "mixture": 0.5, "stacking": 0.1}  # the test set would pick "gate"
    summary = summarise([_run("full", val, test_h), _run("full", val, test_h)])
    entry = summary["full"]
    assert entry["method"] == "mixture"
    assert entry["H"]["mean"] == 50.0 and entry["single_H"]["mean"] == 50.0
    assert entry["gate_H"]["mean"] == 90.0 and entry["n"] == 2


def test_calibration_error_is_the_gap_between_confidence_and_accuracy() -> None:
    probs = np.tile(np.array([[0.9, 0.1]]), (10, 1))
    truth = np.array([0] * 5 + [1] * 5)  # 90% confident, 50% right
    assert abs(calibration_error(probs, truth) - 0.4) < 1e-9
    honest = np.array([[0.6, 0.4]] * 5 + [[0.9, 0.1]] * 10)
    truth = np.array([0, 0, 0, 1, 1] + [0] * 9 + [1])  # 60% and 90% right in their bins
    assert abs(calibration_error(honest, truth)) < 1e-9


def test_recommended_calibration_takes_the_chosen_method_and_median_parameters() -> None:
    val = {"gate": 0.2, "mixture": 0.6, "stacking": 0.4}
    runs = []
    for temperature, penalty, retention in ((0.5, 3.0, 0.3), (0.7, 4.0, 0.4), (20.0, 8.0, 0.4)):
        run = _run("full", val, val)
        run["retention"] = {"gate": 0.9, "mixture": retention}
        for m in METHODS:
            run[m]["calibration"] = {"latent_temperature": temperature, "seen_penalty": penalty}
        runs.append(run)
    assert recommended_calibration(runs) == {
        "method": "mixture",
        "latent_temperature": 0.7,
        "seen_penalty": 4.0,
        "retention": 0.4,
    }
    assert recommended_calibration(runs, "direct") == {}
