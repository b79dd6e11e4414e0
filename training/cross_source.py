"""Cross-source zero-shot benchmark: train on every other source, classify a held-out source.

Protocol (`actzero eval --protocol cross-source`), for each held-out source S:

- training clips: every clip of every other source (Bandai Namco, synthetic, the other
  Kinect and motion capture sets); the classes are the canonical names with clips outside
  S. A stratified share of those clips (per class) is the validation split; it is the only
  data that fits anything (seen temperature, latent temperature, gate threshold). No clip
  of S is trained on or fitted to.
- one backbone per S (a lighter schedule than `actzero train`, windows per clip capped),
  its features cached under the output folder; per variant (direct projection, SA-DVAE
  full) a latent model trained on the training windows' features.
- ZSL: every clip of S among S's own classes, given as text (the class descriptions);
  window top-1 and clip top-1, a clip's prediction being the class of highest MEAN
  probability over its windows (softmax of the latent logits at the fitted temperature).
  Split into "novel" classes (canonical name absent from the training sources) and
  "familiar" ones (present there, trained on).
- served: the ZSL label set as a user who types S's classes gets it from a bundle: the familiar
  names are also scored by the backbone's own classifier, combined with the latent classifier
  as the shipped bundle does (mixture, seen penalty on their latent side).
- GZSL: the label set is the training classes plus S's novel classes (the backbone's
  classes are the seen side, combined with the latent classifier as the shipped bundle
  does); top-1 of S's clips over that union, and the share of S's clips that go to a
  training-only class (a label S does not have).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from actzero.model.canonical import UPRIGHT
from actzero.model.zeroshot import Calibration, combine_experts, softmax
from actzero.training.augment import AugmentConfig
from actzero.training.backbone import BackboneConfig
from actzero.training.evaluate import VARIANTS as EVAL_VARIANTS
from actzero.training.evaluate import Features, LatentModel
from actzero.training.sadvae import SADVAEConfig
from actzero.training.train import (
    DEFAULT_CALIBRATION,
    DEFAULT_RETENTION,
    ClipSet,
    TrainConfig,
    backbone_outputs,
    clip_windows,
    clips_from_dataset,
    embed_class_texts,
    fit_temperature,
    gate_threshold,
    stratified_holdout,
    train_backbone,
)

HOLDOUT_SOURCES = ("utd-mhad", "kinder-gator", "nw-ucla", "msr-action3d", "citi", "hdm05")
# Sources only ever tested on: Penn Action's 2D joints (z = 0) are no 3D training data.
TEST_ONLY_SOURCES = ("penn-action",)
VARIANTS = ("direct", "projection", "two-way", "full")
Progress = Callable[[str], None]


@dataclass(frozen=True)
class CrossSourceConfig:
    """Held-out sources, variants and the (lighter) schedule of the evaluation backbones."""

    holdout: tuple[str, ...] = HOLDOUT_SOURCES
    variants: tuple[str, ...] = VARIANTS
    seed: int = 0
    val_fraction: float = 0.15
    train_windows_per_clip: int = 4  # cap on feature windows per training clip
    test_windows_per_clip: int = 8  # cap on windows per validation / held-out clip
    test_stride: int = 16
    retention: float = DEFAULT_RETENTION
    calibration: Calibration = DEFAULT_CALIBRATION  # GZSL method and seen penalty (pooled)
    latent_score: str = "linear"  # SA-DVAE latent scoring: "linear" or "cosine" (model/zeroshot.py)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=6))
    vae: SADVAEConfig = field(default_factory=SADVAEConfig)

    def to_dict(self) -> dict:
        """Plain-JSON form."""
        return {
            "holdout": list(self.holdout),
            "variants": list(self.variants),
            "seed": self.seed,
            "val_fraction": self.val_fraction,
            "train_windows_per_clip": self.train_windows_per_clip,
            "test_windows_per_clip": self.test_windows_per_clip,
            "test_stride": self.test_stride,
            "retention": self.retention,
            "latent_score": self.latent_score,
            "calibration": {"method": self.calibration.method, "seen_penalty": self.calibration.seen_penalty},
            "train": self.train.to_dict(),
            "vae": self.vae.to_dict(),
        }


@dataclass
class HoldoutPlan:
    """Clips and classes of one held-out source (clip indices into the data set)."""

    source: str
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    train_names: list[str]  # classes with clips outside the held-out source (backbone order)
    target_names: list[str]  # the held-out source's classes
    novel: list[str]  # target classes absent from the training sources
    familiar: list[str]  # target classes the training sources have


def plan_holdout(
    clip_sources: np.ndarray,
    labels: np.ndarray,
    names: Sequence[str],
    source: str,
    val_fraction: float,
    seed: int,
) -> HoldoutPlan:
    """Split the clips for held-out `source`: its clips are the test set, the others train / val.

    Clips of `TEST_ONLY_SOURCES` are never in train / val.

    Raises:
        ValueError: the source has no clips, or no other source has any.
    """
    clip_sources, labels = np.asarray(clip_sources), np.asarray(labels)
    test = np.flatnonzero(clip_sources == source)
    rest = np.flatnonzero((clip_sources != source) & ~np.isin(clip_sources, TEST_ONLY_SOURCES))
    if len(test) == 0 or len(rest) == 0:
        raise ValueError(f"cross-source: {source!r} has {len(test)} clips and the other sources {len(rest)}")
    kept, held = stratified_holdout(labels[rest], val_fraction, seed)
    train_ids = sorted(set(labels[rest].tolist()))
    target_ids = sorted(set(labels[test].tolist()))
    return HoldoutPlan(
        source=source,
        train=rest[kept],
        val=rest[held],
        test=test,
        train_names=[names[i] for i in train_ids],
        target_names=[names[i] for i in target_ids],
        novel=[names[i] for i in target_ids if i not in train_ids],
        familiar=[names[i] for i in target_ids if i in train_ids],
    )


def capped_windows(
    clip_set: ClipSet, window: int, stride: int, cap: int, frame: str = UPRIGHT
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Canonical windows of every clip in `frame`, at most `cap` per clip (the stride widens on long clips).

    Returns:
        (windows, labels, clip index per window), as `train.windows_of_clips`.
    """
    if cap < 2:
        raise ValueError(f"at least 2 windows per clip, got {cap}")
    ws, ys, cs = [], [], []
    for i, (clip, label) in enumerate(zip(clip_set.clips, clip_set.labels, strict=True)):
        wide = max(stride, math.ceil(max(len(clip) - window, 0) / (cap - 1)))
        w = clip_windows(clip, window, wide, frame)
        ws.append(w)
        ys.append(np.full(len(w), label, dtype=np.int64))
        cs.append(np.full(len(w), i, dtype=np.int64))
    if not ws:
        return np.zeros((0, window, 25, 3), np.float32), np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(ws), np.concatenate(ys), np.concatenate(cs)


@dataclass
class WindowFeatures:
    """Backbone outputs of a group of clips, the clip (index into the group) of each window, clip labels."""

    features: Features
    clip: np.ndarray
    clip_labels: np.ndarray


def _group_features(
    backbone, clips: ClipSet, window: int, stride: int, cap: int, frame: str
) -> WindowFeatures:
    """Features in chunks of clips, so that only one chunk's windows are in memory."""
    feats, logits, labels, owner = [], [], [], []
    chunk = 256
    for start in range(0, len(clips.clips), chunk):
        part = ClipSet(clips.clips[start : start + chunk], clips.labels[start : start + chunk], clips.names)
        w, y, c = capped_windows(part, window, stride, cap, frame)
        f, z = backbone_outputs(backbone, w)
        feats.append(f)
        logits.append(z)
        labels.append(y)
        owner.append(c + start)
    return WindowFeatures(
        Features(np.concatenate(feats), np.concatenate(logits), np.concatenate(labels)),
        np.concatenate(owner),
        np.asarray(clips.labels, dtype=np.int64),
    )


# TrainConfig fields added after feature caches were written; left out of the key at their default.
_LATER_TRAIN_SETTINGS = ("source_balanced", "mask_weight", "mask_ratio")
_LATER_BACKBONE_SETTINGS = ("smooth_sigma",)
_LATER_AUGMENT_SETTINGS = ("low_rate_probability", "low_rate_steps", "placement_offset")


def _cache_key(plan: HoldoutPlan, names: list[str], config: CrossSourceConfig) -> str:
    feature_keys = (
        "seed",
        "val_fraction",
        "train_windows_per_clip",
        "test_windows_per_clip",
        "test_stride",
        "train",
    )
    settings = {k: v for k, v in config.to_dict().items() if k in feature_keys}
    train = settings["train"]
    # settings added later change nothing at their defaults: left out there, earlier caches stay valid
    later = (
        (train, TrainConfig(), _LATER_TRAIN_SETTINGS),
        (train["backbone"], BackboneConfig(), _LATER_BACKBONE_SETTINGS),
        (train["augment"], AugmentConfig(), _LATER_AUGMENT_SETTINGS),
    )
    for written, defaults, names_ in later:
        for name in names_:
            if written[name] == getattr(defaults, name):
                del written[name]
    digest = hashlib.sha256(json.dumps([names, plan.train_names, settings]).encode())
    for group in (plan.train, plan.val, plan.test):
        digest.update(np.asarray(group, dtype=np.int64).tobytes())
    return digest.hexdigest()


def holdout_features(
    clips: ClipSet,
    plan: HoldoutPlan,
    config: CrossSourceConfig,
    cache: Path,
    progress: Progress,
    embeddings: list[np.ndarray] | None = None,
) -> dict[str, WindowFeatures]:
    """Train the backbone of one held-out source on its training clips; features of train / val / test.

    Cached in `cache` (.npz) under a fingerprint of the classes, clips and settings.
    `embeddings` (class description embeddings in class order) feed the backbone's text
    alignment when `config.train.text_weight` > 0.
    """
    key = _cache_key(plan, clips.names, config)
    groups = {"train": plan.train, "val": plan.val, "test": plan.test}
    if cache.is_file():
        with np.load(cache) as data:
            if "key" in data.files and str(data["key"]) == key:
                progress(f"{plan.source}: cached features {cache}")
                return {
                    g: WindowFeatures(
                        Features(data[f"{g}_f"], data[f"{g}_logits"], data[f"{g}_y"]),
                        data[f"{g}_clip"],
                        data[f"{g}_clip_labels"],
                    )
                    for g in groups
                }
    started = time.time()
    train_set = clips.subset(plan.train, names=plan.train_names)
    progress(f"{plan.source}: backbone on {len(plan.train)} clips, {len(plan.train_names)} classes")
    texts = None if embeddings is None else [embeddings[clips.names.index(n)] for n in plan.train_names]
    backbone = train_backbone(
        train_set,
        config.train,
        seed=config.seed,
        class_texts=texts,
        progress=lambda stage, done: progress(
            f"{plan.source}: {stage} {done:.0%} ({time.time() - started:.0f} s)"
        ),
    )
    progress(f"{plan.source}: backbone trained in {time.time() - started:.0f} s")
    out = {}
    for g, index in groups.items():
        stride = config.train.feature_stride if g == "train" else config.test_stride
        cap = config.train_windows_per_clip if g == "train" else config.test_windows_per_clip
        out[g] = _group_features(
            backbone, clips.subset(index), config.train.window, stride, cap, config.train.canonical_frame
        )
        progress(f"{plan.source}: {g} features, {len(out[g].clip)} windows of {len(index)} clips")
    cache.parent.mkdir(parents=True, exist_ok=True)
    partial = cache.with_name(cache.stem + ".partial.npz")
    arrays = {"key": np.array(key)}
    for g, v in out.items():
        arrays |= {
            f"{g}_f": v.features.features,
            f"{g}_logits": v.features.logits,
            f"{g}_y": v.features.labels,
            f"{g}_clip": v.clip,
            f"{g}_clip_labels": v.clip_labels,
        }
    np.savez(partial, **arrays)
    partial.replace(cache)
    return out


def _top1(pred: np.ndarray, truth: np.ndarray) -> tuple[float | None, float | None]:
    """(per-sample accuracy, class-balanced accuracy); None when there is nothing to score."""
    if len(truth) == 0:
        return None, None
    correct = pred == truth
    balanced = float(np.mean([correct[truth == c].mean() for c in np.unique(truth)]))
    return round(float(correct.mean()), 4), round(balanced, 4)


def _clip_mean(probs: np.ndarray, owner: np.ndarray, n_clips: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean window probabilities per clip: (clips with windows, their mean probabilities)."""
    sums = np.zeros((n_clips, probs.shape[1]))
    np.add.at(sums, owner, probs)
    counts = np.bincount(owner, minlength=n_clips)
    has = np.flatnonzero(counts)
    return has, sums[has] / counts[has, None]


def clip_scores(
    probs: np.ndarray, truth_window: np.ndarray, owner: np.ndarray, truth_clip: np.ndarray, groups: dict
) -> dict:
    """Window and clip top-1 (per sample and class-balanced), overall and per class group.

    `groups` maps a group name to the label columns that belong to it ("novel", "familiar").
    """
    has, clip_probs = _clip_mean(probs, owner, len(truth_clip))
    clip_pred, clip_truth = clip_probs.argmax(1), truth_clip[has]
    window_pred = probs.argmax(1)
    out: dict = {"clips_scored": len(has), "clips_without_windows": len(truth_clip) - len(has)}
    out["clip_top1"], out["clip_balanced"] = _top1(clip_pred, clip_truth)
    out["window_top1"], out["window_balanced"] = _top1(window_pred, truth_window)
    for name, columns in groups.items():
        in_clip, in_window = np.isin(clip_truth, columns), np.isin(truth_window, columns)
        out[f"{name}_clip_top1"], out[f"{name}_clip_balanced"] = _top1(
            clip_pred[in_clip], clip_truth[in_clip]
        )
        out[f"{name}_window_top1"], _ = _top1(window_pred[in_window], truth_window[in_window])
    return out


def backbone_gap(feats: dict[str, WindowFeatures], plan: HoldoutPlan, names: list[str]) -> dict:
    """The backbone's own window top-1 among the held-out source's familiar classes.

    The same classes on the training sources' validation windows and on the held-out source's
    windows: the difference is the domain gap of the skeleton features, apart from anything
    zero-shot. None where a group has no window of those classes.
    """
    ids = {n: i for i, n in enumerate(names)}
    train_classes = [ids[n] for n in plan.train_names]
    familiar = [ids[n] for n in plan.familiar]
    columns = [train_classes.index(c) for c in familiar]
    out: dict = {"classes": len(familiar)}
    for group, key in (("val", "validation"), ("test", "held_out")):
        f = feats[group].features
        mask = np.isin(f.labels, familiar)
        if not mask.any():
            out[key] = None
            continue
        truth = np.array([familiar.index(c) for c in f.labels[mask]])
        out[key] = round(float((f.logits[mask][:, columns].argmax(1) == truth).mean()), 4)
    return out


def score_holdout(
    feats: dict[str, WindowFeatures],
    plan: HoldoutPlan,
    names: list[str],
    embeddings: list[np.ndarray],
    variant: str,
    config: CrossSourceConfig,
) -> dict:
    """ZSL and GZSL figures of one variant on one held-out source (see the module docstring)."""
    ids = {n: i for i, n in enumerate(names)}
    train_classes = [ids[n] for n in plan.train_names]
    target = [ids[n] for n in plan.target_names]
    union = train_classes + [ids[n] for n in plan.novel]
    train, val, test = feats["train"].features, feats["val"].features, feats["test"]
    model = LatentModel(variant, train, names, embeddings, config.vae, config.seed, config.latent_score)
    # temperatures and the gate: validation clips of the training sources only
    val_truth = np.array([train_classes.index(c) for c in val.labels], dtype=np.int64)
    seen_t = fit_temperature(val.logits, val_truth)
    latent_t = fit_temperature(model.logits(val.features, train_classes), val_truth)
    calib = replace(
        config.calibration,
        seen_temperature=seen_t,
        latent_temperature=latent_t,
        gate_threshold=gate_threshold(val.logits, seen_t, config.retention),
        threshold=0.0,
        idle_label=None,
    )
    truth_clip_ids = test.clip_labels

    def scores_among(columns: list[int], probs: np.ndarray) -> dict:
        """clip_scores with labels re-indexed to `columns` (the label set the probabilities are over)."""
        at = {c: i for i, c in enumerate(columns)}
        groups = {
            g: [at[ids[n]] for n in names_]
            for g, names_ in (("novel", plan.novel), ("familiar", plan.familiar))
        }
        return clip_scores(
            probs,
            np.array([at[c] for c in test.features.labels], dtype=np.int64),
            test.clip,
            np.array([at[c] for c in truth_clip_ids], dtype=np.int64),
            groups,
        )

    # ZSL: the held-out source's own classes
    latent_target = model.logits(test.features.features, target)
    zsl = scores_among(target, softmax(latent_target / latent_t))
    # served: the same label set, familiar names also through the backbone's expert (as a bundle does)
    familiar_cols = [i for i, c in enumerate(target) if c in train_classes]
    familiar_index = [train_classes.index(target[i]) for i in familiar_cols]
    served_probs = combine_experts(
        test.features.logits, familiar_index, latent_target, np.array(familiar_cols, dtype=np.int64), calib
    )
    served = scores_among(target, served_probs)
    # GZSL: training classes (the backbone's seen side) + the novel classes
    latent = model.logits(test.features.features, union)
    seen = np.arange(len(train_classes))
    gzsl_probs = combine_experts(test.features.logits, seen, latent, seen, calib)
    gzsl = scores_among(union, gzsl_probs)
    has, clip_probs = _clip_mean(gzsl_probs, test.clip, len(truth_clip_ids))
    training_only = [union.index(c) for c in train_classes if c not in target]
    gzsl["share_to_training_only"] = (
        round(float(np.isin(clip_probs.argmax(1), training_only).mean()), 4) if len(has) else None
    )
    return {
        "zsl": zsl,
        "served": served,
        "gzsl": gzsl,
        "seen_temperature": round(seen_t, 4),
        "latent_temperature": round(latent_t, 4),
        "gate_threshold": round(calib.gate_threshold, 4),
    }


MEAN_KEYS = (
    ("zsl", "clip_top1"),
    ("zsl", "clip_balanced"),
    ("zsl", "window_top1"),
    ("zsl", "novel_clip_top1"),
    ("zsl", "familiar_clip_top1"),
    ("served", "clip_balanced"),
    ("served", "novel_clip_top1"),
    ("served", "familiar_clip_top1"),
    ("gzsl", "clip_top1"),
    ("gzsl", "window_top1"),
    ("gzsl", "novel_clip_top1"),
    ("gzsl", "familiar_clip_top1"),
    ("gzsl", "share_to_training_only"),
)


def mean_over_sources(per_source: dict[str, dict], variants: Sequence[str]) -> dict:
    """Per variant, the mean of each headline figure over the held-out sources that have it."""
    out = {}
    for variant in variants:
        entry = {}
        for part, key in MEAN_KEYS:
            values = [r["variants"][variant].get(part, {}).get(key) for r in per_source.values()]
            values = [v for v in values if v is not None]
            entry[f"{part}_{key}"] = round(float(np.mean(values)), 4) if values else None
            entry[f"{part}_{key}_sources"] = len(values)
        out[variant] = entry
    return out


def evaluate_cross_source(
    dataset,
    out_dir: Path,
    config: CrossSourceConfig | None = None,
    progress: Progress | None = None,
    command: str = "",
    embeddings: list[np.ndarray] | None = None,
) -> dict:
    """Run the cross-source protocol; writes cross_source.json and cross_source.md into `out_dir`.

    Args:
        dataset: a `training.dataset.Dataset` (v3: clips of several sources).
        out_dir: output folder (also holds the per-source feature caches).
        config: held-out sources, variants and schedules.
        progress: callback for one line per stage.
        command: the command line, written into the header.
        embeddings: class description embeddings in class order (default: computed here).

    Returns:
        The results (as in cross_source.json) plus "plans": {source: HoldoutPlan}.

    Raises:
        ValueError: a held-out source without clips, or an unknown variant.
    """
    config = config or CrossSourceConfig()
    say = progress or (lambda message: None)
    unknown = [v for v in config.variants if v not in EVAL_VARIANTS]
    if unknown:
        raise ValueError(f"unknown variant(s) {unknown}")
    started = time.time()
    clips = clips_from_dataset(dataset)
    clip_sources = np.asarray(dataset.sources)
    missing = [s for s in config.holdout if s not in set(clip_sources.tolist())]
    if missing:
        raise ValueError(f"the data set has no clips of {', '.join(missing)} (rebuild it with those sources)")
    if embeddings is None:
        say("embedding the class descriptions")
        embeddings, _ = embed_class_texts([list(c.descriptions) for c in dataset.classes])
    per_source, plans, timings = {}, {}, {}
    for source in config.holdout:
        t0 = time.time()
        plan = plan_holdout(clip_sources, clips.labels, clips.names, source, config.val_fraction, config.seed)
        plans[source] = plan
        say(
            f"{source}: {len(plan.test)} held-out clips, {len(plan.target_names)} classes "
            f"({len(plan.novel)} novel); training {len(plan.train)} + validation {len(plan.val)} clips"
        )
        feats = holdout_features(clips, plan, config, out_dir / f"cross_{source}.npz", say, embeddings)
        t1 = time.time()
        variants = {}
        for variant in config.variants:
            variants[variant] = score_holdout(feats, plan, clips.names, embeddings, variant, config)
            zsl = variants[variant]["zsl"]["clip_top1"]
            say(f"{source}: {variant} ZSL clip top-1 {zsl}")
        per_source[source] = {
            "clips": len(plan.test),
            "classes": plan.target_names,
            "novel": plan.novel,
            "familiar": plan.familiar,
            "train_clips": len(plan.train),
            "val_clips": len(plan.val),
            "train_classes": len(plan.train_names),
            "train_sources": sorted(set(clip_sources[plan.train].tolist())),
            "backbone_familiar": backbone_gap(feats, plan, clips.names),
            "variants": variants,
        }
        timings[source] = {
            "backbone_and_features_s": round(t1 - t0, 1),
            "scoring_s": round(time.time() - t1, 1),
        }
        say(f"{source}: done in {time.time() - t0:.0f} s")
    results = {
        "command": command,
        "config": config.to_dict(),
        "pooled": pooled_note(config),
        "dataset": {k: v for k, v in dataset.meta.items() if isinstance(v, str | int | float)},
        "sources": per_source,
        "mean": mean_over_sources(per_source, config.variants),
        "time_s": {"total": round(time.time() - started, 1), "per_source": timings},
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "cross_source.json").write_text(json.dumps(results, indent=2) + "\n")
    (out_dir / "cross_source.md").write_text(markdown_report(results) + "\n")
    return results | {"plans": plans}


def pooled_note(config: CrossSourceConfig) -> str:
    """Which choices are the same for every held-out source, and which are fitted per source."""
    return (
        "Pooled (the same for every held-out source): the GZSL combination "
        f"({config.calibration.method}) and its seen penalty ({config.calibration.seen_penalty:g}) "
        "(training/train.py DEFAULT_CALIBRATION, chosen on the shipped bundle's held-out windows of all "
        "nine sources, the held-out source's among them: the GZSL figures are not strictly held-out, the "
        f"ZSL ones do not depend on it; docs/model.md), the gate's retention ({config.retention:g}), "
        "the SA-DVAE settings "
        f"(the defaults), the latent scoring ({config.latent_score}). Fitted per held-out source on the "
        "training sources' validation clips: the seen temperature, the latent temperature (validation "
        "windows among the training classes), the gate threshold."
    )


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def markdown_report(results: dict) -> str:
    """The header (command, settings, pooled choices) and one table row per held-out source and variant."""
    config = results["config"]
    train = config["train"]
    lines = [
        "# Cross-source zero-shot benchmark",
        "",
        f"Command: `{results['command']}`" if results["command"] else "Command: (library call)",
        "",
        f"Settings: held-out sources {', '.join(config['holdout'])}; "
        f"variants {', '.join(config['variants'])}; "
        f"seed {config['seed']}; validation {config['val_fraction']:.0%} of the training sources' clips per "
        f"class. Evaluation backbones use a LIGHTER schedule than `actzero train`: {train['epochs']} epochs "
        f"x {train['windows_per_epoch']} windows, window {train['window']}; features of at most "
        f"{config['train_windows_per_clip']} windows per training clip (stride >= {train['feature_stride']}) "
        f"and {config['test_windows_per_clip']} per validation / held-out clip (stride >= "
        f"{config['test_stride']}), the stride widening on long clips. Features cached per held-out source.",
        "",
        results["pooled"],
        "",
        "Clip top-1: the class of highest mean probability over the clip's windows. ZSL: among the "
        "held-out source's own classes (their descriptions as text). Novel: canonical name absent from "
        "the training sources; familiar: present there. GZSL: label set = training classes + novel "
        "classes; 'to train-only' = share of the held-out clips given a class the held-out source does "
        "not have. Figures in %; class-balanced where marked.",
        "",
        "| held-out | variant | clips | classes (novel) | ZSL clip | ZSL clip bal. | ZSL window | "
        "ZSL novel | ZSL familiar | GZSL clip | GZSL window | GZSL novel | GZSL familiar | to train-only |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for source, entry in results["sources"].items():
        for variant, r in entry["variants"].items():
            z, g = r["zsl"], r["gzsl"]
            cells = [
                source,
                variant,
                str(entry["clips"]),
                f"{len(entry['classes'])} ({len(entry['novel'])})",
                *(_pct(z[k]) for k in ("clip_top1", "clip_balanced", "window_top1")),
                *(_pct(z[k]) for k in ("novel_clip_top1", "familiar_clip_top1")),
                *(_pct(g[k]) for k in ("clip_top1", "window_top1", "novel_clip_top1", "familiar_clip_top1")),
                _pct(g["share_to_training_only"]),
            ]
            lines.append("| " + " | ".join(cells) + " |")
    for variant, m in results["mean"].items():
        cells = [
            "**mean**",
            variant,
            "",
            "",
            _pct(m["zsl_clip_top1"]),
            _pct(m["zsl_clip_balanced"]),
            _pct(m["zsl_window_top1"]),
            _pct(m["zsl_novel_clip_top1"]),
            _pct(m["zsl_familiar_clip_top1"]),
            _pct(m["gzsl_clip_top1"]),
            _pct(m["gzsl_window_top1"]),
            _pct(m["gzsl_novel_clip_top1"]),
            _pct(m["gzsl_familiar_clip_top1"]),
            _pct(m["gzsl_share_to_training_only"]),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "As served: the held-out source's classes typed as a bundle's label set, the familiar ones also "
        "scored by the backbone's own classifier (mixture and seen penalty as in the GZSL columns); "
        "class-balanced clip top-1 % over all, novel and familiar classes.",
        "",
        "| held-out | variant | served bal. | served novel | served familiar |",
        "|---|---|---|---|---|",
    ]
    for source, entry in results["sources"].items():
        for variant, r in entry["variants"].items():
            if "served" in r:
                v = r["served"]
                cells = [
                    source,
                    variant,
                    *(_pct(v[k]) for k in ("clip_balanced", "novel_clip_top1", "familiar_clip_top1")),
                ]
                lines.append("| " + " | ".join(cells) + " |")
    for variant, m in results["mean"].items():
        if m.get("served_clip_balanced") is not None:
            cells = [
                "**mean**",
                variant,
                *(_pct(m[f"served_{k}"]) for k in ("clip_balanced", "novel_clip_top1", "familiar_clip_top1")),
            ]
            lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "Backbone window top-1 among the held-out source's familiar classes (its own classifier, no "
        "text): on the training sources' validation windows of those classes vs on the held-out "
        "source's windows; the difference is the skeleton features' domain gap.",
        "",
        "| held-out | familiar classes | validation | held-out |",
        "|---|---|---|---|",
    ]
    for source, entry in results["sources"].items():
        gap = entry.get("backbone_familiar")
        if gap:
            lines.append(
                f"| {source} | {gap['classes']} | {_pct(gap['validation'])} | {_pct(gap['held_out'])} |"
            )
    total = results["time_s"]["total"]
    lines += ["", f"Time: {total:.0f} s in all ({total / 60:.1f} min)."]
    return "\n".join(lines)
