"""Cross-source protocol on a tiny three-source set of synthetic clips: plans, scores, report files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from actzero.training.backbone import BackboneConfig
from actzero.training.cross_source import (
    CrossSourceConfig,
    WindowFeatures,
    backbone_gap,
    clip_scores,
    evaluate_cross_source,
    plan_holdout,
)
from actzero.training.dataset import ClassInfo, Dataset
from actzero.training.evaluate import Features
from actzero.training.sadvae import SADVAEConfig
from actzero.training.train import TrainConfig

# source -> its classes: "hdm05" alone has class 3, "nw-ucla" alone 5 and 6; utd-mhad's are all shared
SOURCES = {"utd-mhad": (0, 1, 2), "hdm05": (0, 1, 3, 4), "nw-ucla": (2, 4, 5, 6)}
PER_SOURCE_CLASS = 4


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    synthetic = pytest.importorskip("actzero.training.synthetic")
    names = list(synthetic.SYNTHETIC_ACTIONS[:7])
    generated = synthetic.generate_clips(names, clips_per_class=PER_SOURCE_CLASS * 3, seed=0)
    by_class = {n: [c for c in generated if c.name == n] for n in names}
    joints, labels, sources, ids = [], [], [], []
    for source, classes in SOURCES.items():
        for c in classes:
            for clip in by_class[names[c]][:PER_SOURCE_CLASS]:
                by_class[names[c]].remove(clip)
                joints.append(clip.joints)
                labels.append(c)
                sources.append(source)
                ids.append(f"{source}/{clip.clip_id}")
    lengths = [len(j) for j in joints]
    return Dataset(
        frames=np.concatenate(joints).astype(np.float32),
        offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        labels=np.array(labels, dtype=np.int64),
        classes=[ClassInfo(n, (f"A person does {n}.",), "synthetic", "MIT") for n in names],
        clip_ids=np.array(ids),
        sources=np.array(sources),
        actors=np.full(len(labels), ""),
        meta={"format": "actzero-dataset", "version": 3, "fps": 30.0},
    )


def _text_vectors(n: int) -> list[np.ndarray]:
    """Fixed unit vectors, one set of two descriptions per class (the sentence model is too slow here)."""
    rng = np.random.default_rng(7)
    vectors = rng.normal(0, 1, (n, 2, 384)).astype(np.float32)
    return list(vectors / np.linalg.norm(vectors, axis=-1, keepdims=True))


def test_plan_never_trains_on_the_held_out_source_and_names_novel_classes(dataset: Dataset) -> None:
    names = [c.name for c in dataset.classes]
    for source, classes in SOURCES.items():
        plan = plan_holdout(dataset.sources, dataset.labels, names, source, 0.15, seed=0)
        np.testing.assert_array_equal(plan.test, np.flatnonzero(dataset.sources == source))
        assert not set(plan.train) & set(plan.test) and not set(plan.val) & set(plan.test)
        assert not set(plan.train) & set(plan.val) and len(plan.val) > 0
        assert sorted([*plan.train, *plan.val, *plan.test]) == list(range(len(dataset)))
        others = {c for s, cs in SOURCES.items() if s != source for c in cs}
        assert plan.train_names == [names[c] for c in sorted(others)]
        assert plan.target_names == [names[c] for c in classes]
        assert plan.novel == [names[c] for c in classes if c not in others]
        assert plan.familiar == [names[c] for c in classes if c in others]
    assert plan_holdout(dataset.sources, dataset.labels, names, "hdm05", 0.15, 0).novel == [names[3]]
    with pytest.raises(ValueError, match="'citi' has 0 clips"):
        plan_holdout(dataset.sources, dataset.labels, names, "citi", 0.15, 0)


def test_scores_split_novel_and_familiar_and_average_probabilities_per_clip() -> None:
    # columns 0, 1 novel, 2 familiar; clips: 0 (novel 0), 1 (novel 1), 2 (familiar 2), 3 (familiar 2)
    owner = np.array([0, 0, 1, 2, 2, 3])
    truth_window = np.array([0, 0, 1, 2, 2, 2])
    probs = np.array(
        [
            [0.9, 0.1, 0.0],  # clip 0: window 1 right, window 2 wrong; the mean is right
            [0.4, 0.6, 0.0],
            [0.0, 1.0, 0.0],  # clip 1 right
            [1.0, 0.0, 0.0],  # clip 2: both windows wrong
            [0.6, 0.0, 0.4],
            [0.0, 0.0, 1.0],  # clip 3 right
        ]
    )
    out = clip_scores(probs, truth_window, owner, np.array([0, 1, 2, 2]), {"novel": [0, 1], "familiar": [2]})
    assert out["clip_top1"] == 0.75 and out["window_top1"] == round(3 / 6, 4)
    assert out["novel_clip_top1"] == 1.0 and out["familiar_clip_top1"] == 0.5
    assert out["novel_window_top1"] == round(2 / 3, 4) and out["familiar_window_top1"] == round(1 / 3, 4)
    assert out["clip_balanced"] == round((1 + 1 + 0.5) / 3, 4)


def test_backbone_gap_scores_the_familiar_classes_among_themselves(dataset: Dataset) -> None:
    names = [c.name for c in dataset.classes]
    plan = plan_holdout(dataset.sources, dataset.labels, names, "nw-ucla", 0.25, seed=0)  # familiar: 2 and 4
    columns = {c: plan.train_names.index(names[c]) for c in (2, 4)}

    def group(labels: list[int], predicted: list[int]) -> WindowFeatures:
        logits = np.zeros((len(labels), len(plan.train_names)), dtype=np.float32)
        logits[np.arange(len(labels)), [columns[c] for c in predicted]] = 5.0
        logits[:, plan.train_names.index(names[0])] = 9.0  # a training-only class wins overall: not counted
        return WindowFeatures(
            Features(np.zeros((len(labels), 4)), logits, np.array(labels)),
            np.arange(len(labels)),
            np.array(labels),
        )

    feats = {
        "val": group([2, 2, 4, 0], [2, 2, 4, 2]),  # class 0 is no familiar class: left out
        "test": group([2, 4, 4, 5], [4, 4, 2, 2]),  # one of three familiar windows right
    }
    assert backbone_gap(feats, plan, names) == {"classes": 2, "validation": 1.0, "held_out": round(1 / 3, 4)}


def test_cross_source_runs_end_to_end_and_writes_both_files(dataset: Dataset, tmp_path) -> None:
    config = CrossSourceConfig(
        holdout=tuple(SOURCES),
        train=TrainConfig(
            window=32,
            epochs=1,
            windows_per_epoch=64,
            batch_size=32,
            threads=1,
            feature_stride=16,
            backbone=BackboneConfig(stem_channels=8, blocks=((16, 2), (16, 2)), feature_dim=32),
        ),  # fmt: skip
        vae=SADVAEConfig(epochs=2),
    )
    embeddings = _text_vectors(len(dataset.classes))
    results = evaluate_cross_source(dataset, tmp_path, config, command="test", embeddings=embeddings)
    for source, plan in results["plans"].items():
        held = set(np.flatnonzero(dataset.sources == source))
        assert not held & set(plan.train) and not held & set(plan.val)
        with np.load(tmp_path / f"cross_{source}.npz") as cache:  # windows of the training clips only
            assert cache["train_clip"].max() < len(plan.train) and len(cache["test_clip_labels"]) == len(held)
            np.testing.assert_array_equal(cache["test_clip_labels"], dataset.labels[sorted(held)])
    written = json.loads((tmp_path / "cross_source.json").read_text())
    assert set(written["sources"]) == set(SOURCES) and set(written["mean"]) == {
        "direct",
        "projection",
        "two-way",
        "full",
    }
    hdm = written["sources"]["hdm05"]
    assert hdm["novel"] == [dataset.classes[3].name] and hdm["train_sources"] == ["nw-ucla", "utd-mhad"]
    assert written["sources"]["nw-ucla"]["familiar"] == [dataset.classes[c].name for c in (2, 4)]
    for source, entry in written["sources"].items():
        for variant in ("direct", "projection", "two-way", "full"):
            zsl, gzsl = entry["variants"][variant]["zsl"], entry["variants"][variant]["gzsl"]
            served = entry["variants"][variant]["served"]
            assert zsl["clips_scored"] == entry["clips"] == len(SOURCES[source]) * PER_SOURCE_CLASS
            assert served["clips_scored"] == zsl["clips_scored"] and 0.0 <= served["clip_balanced"] <= 1.0
            if not entry["familiar"]:  # no backbone expert: the served label set is the latent classifier
                assert served["clip_balanced"] == zsl["clip_balanced"]
            assert 0.0 <= zsl["clip_top1"] <= 1.0 and 0.0 <= gzsl["share_to_training_only"] <= 1.0
    assert (
        written["sources"]["utd-mhad"]["variants"]["full"]["zsl"]["novel_clip_top1"] is None
    )  # no novel class
    assert all(
        0.0 <= entry["backbone_familiar"]["validation"] <= 1.0 for entry in written["sources"].values()
    )
    report = (tmp_path / "cross_source.md").read_text()
    assert "Command: `test`" in report and "Pooled" in report and "LIGHTER schedule" in report
    assert all(f"| {s} | full |" in report for s in SOURCES) and "| **mean** | direct |" in report
    # a second run reads the cached features and gives the same figures
    again = evaluate_cross_source(dataset, tmp_path, config, command="test", embeddings=embeddings)
    assert again["sources"] == written["sources"]


def test_cli_refuses_a_held_out_source_the_data_set_lacks_and_an_unknown_protocol(
    dataset: Dataset, tmp_path
) -> None:
    from typer.testing import CliRunner

    from actzero.cli.main import app
    from actzero.training.dataset import save_dataset

    save_dataset(dataset, tmp_path / "ds.npz")
    args = ["eval", "--dataset", str(tmp_path / "ds.npz"), "--out", str(tmp_path / "out")]
    missing = CliRunner().invoke(app, [*args, "--protocol", "cross-source", "--holdout", "citi"])
    assert missing.exit_code == 1 and "no clips of citi" in missing.output
    assert "Traceback" not in missing.output
    unknown = CliRunner().invoke(app, [*args, "--protocol", "leave-one-out"])
    assert unknown.exit_code == 1 and "--protocol must be" in unknown.output
