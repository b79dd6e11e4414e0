"""Zero-shot evaluation: ZSL and GZSL on real-motion unseen classes, with ablations.

Protocol (docs/model.md):

- split k: U_k = 5 real (Bandai Namco) classes with >= `min_clips` clips, disjoint across
  splits; every other class (real and synthetic) is seen. Seen clips are divided per
  class into train / validation / test.
- validation (model selection and calibration, never unseen data): a pseudo split of the
  seen classes (P_k = 4 real seen classes treated as unseen) with its own backbone trained
  on the other seen classes' training clips. It fits the latent temperature, the stacking
  penalty and the gate, and scores hyper-parameters.
- test: a backbone trained on all seen training clips; per variant and seed a VAE is
  trained on its features; ZSL = accuracy over U_k windows among U_k labels (per sample
  and class-balanced); GZSL over seen + unseen labels: S on seen test windows, U on
  unseen windows, H = 2SU / (S + U).
- variants: direct projection (ridge map f_x -> text embedding, nearest class by cosine),
  SA-DVAE without disentanglement (dz_v = 0, no TC), without TC, and full.

Backbones and their features are cached per split under the output folder.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from actzero.model.zeroshot import (
    Calibration,
    combine_experts,
    cosine_scorer,
    fit_zero_shot,
)
from actzero.training.projection import (
    DEFAULT_RIDGE,
    class_prototypes,
    fit_text_projection,
    fit_two_way_projection,
)
from actzero.training.sadvae import SADVAEConfig, train_sadvae
from actzero.training.train import (
    ClipSet,
    TrainConfig,
    backbone_outputs,
    clips_from_dataset,
    embed_class_texts,
    fit_temperature,
    gate_threshold,
    semantic_means,
    text_latents,
    train_backbone,
    windows_of_clips,
)

VARIANTS: dict[str, dict | None] = {
    "direct": None,
    "projection": None,
    "two-way": None,
    "no_disentangle": {"dz_v": 0, "tc_weight": 0.0},
    "no_tc": {"tc_weight": 0.0},
    "full": {},
}
# Variants scored in the sentence-embedding space (training/projection.py): (ridge, centred,
# class-balanced fit, two-way). "direct" is the baseline as first measured (ridge 1, plain cosine,
# every window alike); "projection" the forward map alone (docs/model.md, "Text projection");
# "two-way" what the bundle serves (the mean of the cosines in both spaces, "Two-way scoring").
TEXT_SPACE_VARIANTS: dict[str, tuple[float, bool, bool, bool]] = {
    "direct": (1.0, False, False, False),
    "projection": (DEFAULT_RIDGE, True, True, False),
    "two-way": (DEFAULT_RIDGE, True, True, True),
}
Progress = Callable[[str], None]


# The Bandai-class split's backbone schedule: every documented run of that protocol used it, and
# `actzero eval` uses it unless --epochs says otherwise (the bundle's 36 would triple the run).
BANDAI_SPLIT_EPOCHS = 8


@dataclass(frozen=True)
class EvalConfig:
    """Splits, seeds and schedules of the evaluation."""

    splits: int = 3
    unseen_per_split: int = 5
    pseudo_unseen: int = 4
    min_clips: int = 10
    seeds: tuple[int, ...] = (0, 1)
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    test_stride: int = 32
    split_seed: int = 0
    train: TrainConfig = field(default_factory=TrainConfig)
    vae: SADVAEConfig = field(default_factory=SADVAEConfig)


@dataclass
class SplitPlan:
    """Class and clip assignment of one split."""

    unseen: list[str]
    pseudo_unseen: list[str]
    seen: list[str]
    train: np.ndarray  # clip indices (seen classes)
    val: np.ndarray
    test: np.ndarray
    unseen_clips: np.ndarray


def plan_splits(clips: ClipSet, sources: list[str], config: EvalConfig) -> list[SplitPlan]:
    """Disjoint unseen sets of real classes and stratified clip splits of the seen classes."""
    rng = np.random.default_rng(config.split_seed)
    counts = np.bincount(clips.labels, minlength=len(clips.names))
    eligible = [
        i for i, n in enumerate(clips.names) if sources[i] != "synthetic" and counts[i] >= config.min_clips
    ]
    order = list(rng.permutation(eligible))
    if len(order) < config.splits * config.unseen_per_split:
        raise ValueError(f"only {len(order)} real classes with >= {config.min_clips} clips for the splits")
    plans = []
    for k in range(config.splits):
        unseen_ids = order[k * config.unseen_per_split : (k + 1) * config.unseen_per_split]
        seen_ids = [i for i in range(len(clips.names)) if i not in unseen_ids]
        candidates = [i for i in eligible if i not in unseen_ids]
        pseudo_ids = list(rng.choice(candidates, size=config.pseudo_unseen, replace=False))
        train, val, test = [], [], []
        for c in seen_ids:
            idx = rng.permutation(np.flatnonzero(clips.labels == c))
            n_val = int(round(config.val_fraction * len(idx))) if len(idx) >= 4 else 0
            n_test = int(round(config.test_fraction * len(idx))) if len(idx) >= 4 else 0
            val.extend(idx[:n_val])
            test.extend(idx[n_val : n_val + n_test])
            train.extend(idx[n_val + n_test :])
        unseen_clips = np.flatnonzero(np.isin(clips.labels, unseen_ids))
        plans.append(
            SplitPlan(
                unseen=[clips.names[i] for i in unseen_ids],
                pseudo_unseen=[clips.names[i] for i in pseudo_ids],
                seen=[clips.names[i] for i in seen_ids],
                train=np.sort(np.array(train, dtype=np.int64)),
                val=np.sort(np.array(val, dtype=np.int64)),
                test=np.sort(np.array(test, dtype=np.int64)),
                unseen_clips=unseen_clips,
            )
        )
    return plans


@dataclass
class Features:
    """Backbone outputs of one group of windows."""

    features: np.ndarray
    logits: np.ndarray
    labels: np.ndarray  # indices into the split's full class list (`ClipSet.names`)


def _features(backbone, clips: ClipSet, index: np.ndarray, window: int, stride: int, frame: str) -> Features:
    subset = clips.subset(index)
    windows, labels, _ = windows_of_clips(subset, window, stride, frame)
    f, logits = backbone_outputs(backbone, windows)
    return Features(f, logits, labels)


def _cached_stage(
    path: Path,
    clips: ClipSet,
    train_names: list[str],
    groups: dict[str, np.ndarray],
    config: EvalConfig,
    seed: int,
    embeddings: list[np.ndarray] | None = None,
) -> tuple[list[str], dict[str, Features]]:
    """Train a backbone on the 'train' group (classes `train_names`) and cache features of all groups.

    The cache is used only when its fingerprint matches (same classes, clips, schedule, seed);
    otherwise the backbone is retrained and the file replaced.
    """
    key = _cache_key(list(clips.names) + ["|"] + list(train_names), groups, config, seed)
    if path.is_file():
        with np.load(path) as data:
            if "key" in data.files and str(data["key"]) == key:
                return train_names, {
                    g: Features(data[f"{g}_f"], data[f"{g}_logits"], data[f"{g}_y"]) for g in groups
                }
    train_set = clips.subset(groups["train"], names=train_names)
    texts = None if embeddings is None else [embeddings[clips.names.index(n)] for n in train_names]
    backbone = train_backbone(train_set, config.train, seed=seed, class_texts=texts)
    out = {}
    for g, idx in groups.items():
        stride = config.train.feature_stride if g == "train" else config.test_stride
        out[g] = _features(backbone, clips, idx, config.train.window, stride, config.train.canonical_frame)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.stem + ".partial.npz")
    np.savez(
        partial,
        key=np.array(key),
        **{
            f"{g}_{k}": getattr(v, a)
            for g, v in out.items()
            for k, a in (("f", "features"), ("logits", "logits"), ("y", "labels"))
        },
    )
    partial.replace(path)
    return train_names, out


def _accuracy(pred: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """(per-sample accuracy, class-balanced accuracy)."""
    if len(truth) == 0:
        return float("nan"), float("nan")
    correct = pred == truth
    per_class = [correct[truth == c].mean() for c in np.unique(truth)]
    return float(correct.mean()), float(np.mean(per_class))


def _harmonic(s: float, u: float) -> float:
    return 2 * s * u / (s + u) if s + u > 0 else 0.0


class LatentModel:
    """A trained text-skeleton alignment: latent logits of skeleton features for a label set."""

    def __init__(
        self,
        variant: str,
        train: Features,
        names: list[str],
        embeddings: list[np.ndarray],
        vae_config: SADVAEConfig,
        seed: int,
        latent_score: str = "linear",
        ridge: float | None = None,
    ) -> None:
        """`latent_score` is the SA-DVAE variants' scoring (model/zeroshot.py `Calibration`):
        "linear" (a softmax classifier on sampled z_y) or "cosine" (centred on the training
        classes' mean text latent, as the bundle centres on its shipped actions). `ridge`
        overrides the text-space variants' ridge (`TEXT_SPACE_VARIANTS`)."""
        self.variant, self.embeddings, self.seed = variant, embeddings, seed
        self.latent_score = latent_score
        self._classifiers: dict[tuple[int, ...], object] = {}
        self._logits: dict[tuple[int, tuple[int, ...]], tuple[np.ndarray, np.ndarray]] = {}
        local = {c: i for i, c in enumerate(sorted(set(train.labels.tolist())))}
        y = np.array([local[c] for c in train.labels])
        texts = [embeddings[c] for c in sorted(local)]
        if variant in TEXT_SPACE_VARIANTS:
            default_ridge, centred, balanced, two_way = TEXT_SPACE_VARIANTS[variant]
            ridge = default_ridge if ridge is None else ridge
            if two_way:
                self.projection = fit_two_way_projection(train.features, y, texts, ridge)
            else:
                protos = class_prototypes(texts)
                self.projection = fit_text_projection(
                    train.features, y, protos, ridge, class_balanced=balanced
                )
            # as the bundle centres (`Bundle.latent_centre`): the mean of the classes' mean label latents
            label_means = [self.projection.label_latents(t).mean(axis=0) for t in texts]
            self.centre = np.mean(label_means, axis=0) if centred else None
        else:
            overrides = VARIANTS[variant] or {}
            self.vae = train_sadvae(train.features, y, texts, replace(vae_config, **overrides), seed=seed)
            mus, _ = text_latents(self.vae, texts)
            self.centre = np.mean([m.mean(axis=0) for m in mus], axis=0).astype(np.float32)

    def logits(self, features: np.ndarray, label_classes: list[int]) -> np.ndarray:
        """Latent-classifier logits (N, K) for the classes `label_classes` (indices into names).

        Cached per (features array, label set): calibration scores the same windows many times.
        """
        key = (id(features), tuple(label_classes))
        if key not in self._logits:
            self._logits[key] = (features, self._compute_logits(features, label_classes))
        return self._logits[key][1]  # the cache holds `features`, so its id is not reused

    def _compute_logits(self, features: np.ndarray, label_classes: list[int]) -> np.ndarray:
        if self.variant in TEXT_SPACE_VARIANTS:
            labels = [self.projection.label_latents(self.embeddings[c]) for c in label_classes]
            scorer = cosine_scorer(labels, self.centre, self.projection.blocks)
            return 10.0 * scorer.logits(self.projection.window_latents(features))
        key = tuple(label_classes)
        if key not in self._classifiers:
            mus, logvars = text_latents(self.vae, [self.embeddings[c] for c in label_classes])
            self._classifiers[key] = fit_zero_shot(
                [str(c) for c in label_classes],
                np.full(len(label_classes), -1),
                mus,
                logvars,
                Calibration(latent_score=self.latent_score),
                seed=self.seed,
                centre=self.centre if self.latent_score == "cosine" else None,
            )
        return self._classifiers[key].latent.logits(semantic_means(self.vae, features))


def _subset(feats: Features, mask: np.ndarray) -> Features:
    return Features(feats.features[mask], feats.logits[mask], feats.labels[mask])


def _gzsl(
    seen_feats: Features,
    unseen_feats: Features,
    model: LatentModel,
    seen_classes: list[int],
    added_classes: list[int],
    backbone_classes: list[int],
    calibration: Calibration,
) -> dict:
    """GZSL S / U / H over seen + added labels (columns: seen classes first).

    S: seen windows among all labels; U: windows of the added classes among all labels.
    """
    labels = seen_classes + added_classes
    columns = np.arange(len(seen_classes))
    logit_index = [backbone_classes.index(c) for c in seen_classes]
    result = {}
    all_probs, all_truth = [], []
    groups = (
        ("S", seen_feats, np.ones(len(seen_feats.labels), dtype=bool)),
        ("U", unseen_feats, np.isin(unseen_feats.labels, added_classes)),
    )
    for name, feats, keep in groups:
        latent = model.logits(feats.features, labels)[keep]
        probs = combine_experts(feats.logits[keep], logit_index, latent, columns, calibration)
        truth = np.array([labels.index(c) for c in feats.labels[keep]], dtype=np.int64)
        result[name], result[name + "_balanced"] = _accuracy(probs.argmax(1), truth)
        all_probs.append(probs)
        all_truth.append(truth)
    result["H"] = _harmonic(result["S"], result["U"])
    result["ECE"] = calibration_error(np.concatenate(all_probs), np.concatenate(all_truth))
    return result


def calibration_error(probs: np.ndarray, truth: np.ndarray, bins: int = 15) -> float:
    """Expected calibration error of the top probability (equal-width bins, weighted by count)."""
    if len(truth) == 0:
        return float("nan")
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == truth
    which = np.clip((confidence * bins).astype(np.int64), 0, bins - 1)
    error = 0.0
    for b in np.unique(which):
        in_bin = which == b
        error += in_bin.mean() * abs(float(correct[in_bin].mean()) - float(confidence[in_bin].mean()))
    return float(error)


def gzsl_scenarios(
    seen_feats: Features,
    unseen_feats: Features,
    model: LatentModel,
    seen_classes: list[int],
    unseen_classes: list[int],
    backbone_classes: list[int],
    calibration: Calibration,
) -> dict:
    """GZSL in the two ways a user's label set grows.

    "all": every unseen class added at once (the usual GZSL protocol); "single": each unseen
    class added alone to the seen labels (a user typing one new action), S / U / H averaged
    over the unseen classes. A combination that hands the whole unseen share to the one
    added label scores a low S here.
    """
    args = (seen_feats, unseen_feats, model, seen_classes)
    out = {"all": _gzsl(*args, unseen_classes, backbone_classes, calibration)}
    singles = [_gzsl(*args, [u], backbone_classes, calibration) for u in unseen_classes]
    out["single"] = {m: float(np.mean([s[m] for s in singles])) for m in ("S", "U", "H", "ECE")}
    return out


def selection_score(scenarios: dict) -> float:
    """The figure GZSL settings are chosen by: mean of H with all and with single added classes."""
    return 0.5 * (scenarios["all"]["H"] + scenarios["single"]["H"])


METHODS = ("gate", "mixture", "stacking")
RETENTIONS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
PENALTIES = tuple(float(p) for p in np.linspace(-2.0, 8.0, 21))
MIXTURE_PENALTIES = (0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0)


def calibrate(
    seen_val: Features,
    pseudo: Features,
    model: LatentModel,
    seen_classes: list[int],
    pseudo_classes: list[int],
    backbone_classes: list[int],
) -> dict:
    """Fit every GZSL combination on a validation pseudo split (one half to fit, the other to score).

    The fitted parameters (the gate's retention for "gate" and "mixture", the penalty for
    "stacking" and "mixture") maximise `selection_score` on the fitting half.

    Returns:
        {method: Calibration for each of METHODS, "retention": {method: share of held-out
        seen windows the gate keeps on the seen side}, "val": {method: scenarios on the
        scoring half}}.
    """
    logit_index = [backbone_classes.index(c) for c in seen_classes]
    seen_truth = np.array([seen_classes.index(c) for c in seen_val.labels])
    seen_t = fit_temperature(seen_val.logits[:, logit_index], seen_truth)
    zsl_logits = model.logits(pseudo.features, pseudo_classes)
    latent_t = fit_temperature(zsl_logits, np.array([pseudo_classes.index(c) for c in pseudo.labels]))
    base = Calibration(seen_temperature=seen_t, latent_temperature=latent_t, threshold=0.0, idle_label=None)
    rng = np.random.default_rng(0)
    seen_fold = rng.random(len(seen_val.labels)) < 0.5
    pseudo_fold = rng.random(len(pseudo.labels)) < 0.5

    folds = {v: (_subset(seen_val, seen_fold == v), _subset(pseudo, pseudo_fold == v)) for v in (True, False)}

    def scenarios(calib: Calibration, fold_value: bool) -> dict:
        return gzsl_scenarios(
            *folds[fold_value],
            model,
            seen_classes,
            pseudo_classes,
            backbone_classes,
            calib,
        )

    def best(candidates: list[Calibration]) -> int:
        return int(np.argmax([selection_score(scenarios(c, True)) for c in candidates]))

    fitted: dict = {"retention": {}}
    stackings = [replace(base, method="stacking", seen_penalty=p) for p in PENALTIES]
    fitted["stacking"] = stackings[best(stackings)]
    fit_logits = seen_val.logits[seen_fold][:, logit_index]
    thresholds = {q: gate_threshold(fit_logits, seen_t, q) for q in RETENTIONS}
    for method, penalties in (("gate", (0.0,)), ("mixture", MIXTURE_PENALTIES)):
        grid = [(q, p) for q in RETENTIONS for p in penalties]
        gates = [replace(base, method=method, gate_threshold=thresholds[q], seen_penalty=p) for q, p in grid]
        chosen = best(gates)
        fitted[method] = gates[chosen]
        fitted["retention"][method] = grid[chosen][0]
    fitted["val"] = {m: scenarios(fitted[m], False) for m in METHODS}
    return fitted


def _cache_key(names: list[str], groups: dict[str, np.ndarray], config: EvalConfig, seed: int) -> str:
    """Fingerprint of what a cached stage depends on (classes, clip groups, schedule, seed)."""
    digest = hashlib.sha256()
    digest.update(json.dumps([names, config.train.to_dict(), config.test_stride, seed]).encode())
    for g in sorted(groups):
        digest.update(g.encode() + np.asarray(groups[g], dtype=np.int64).tobytes())
    return digest.hexdigest()


def evaluate(
    dataset, out_dir: Path, config: EvalConfig | None = None, progress: Progress | None = None
) -> dict:
    """Run the whole evaluation; writes results.json and results.md into `out_dir`.

    Returns:
        The results dictionary (per split, variant and seed, and aggregated mean/std).
    """
    config = config or EvalConfig()
    say = progress or (lambda message: None)
    started = time.time()
    clips = clips_from_dataset(dataset)
    sources = [c.source for c in dataset.classes]
    embeddings, _ = embed_class_texts([list(c.descriptions) for c in dataset.classes])
    plans = plan_splits(clips, sources, config)
    runs = []
    for k, plan in enumerate(plans):
        ids = {n: i for i, n in enumerate(clips.names)}
        seen = [ids[n] for n in plan.seen]
        unseen = [ids[n] for n in plan.unseen]
        pseudo = [ids[n] for n in plan.pseudo_unseen]
        seen_minus = [c for c in seen if c not in pseudo]
        # validation stage: backbone without the pseudo-unseen classes
        pseudo_mask = np.isin(clips.labels, pseudo)
        val_groups = {
            "train": plan.train[~pseudo_mask[plan.train]],
            "val": plan.val[~pseudo_mask[plan.val]],
            "pseudo": np.flatnonzero(pseudo_mask),
        }
        say(f"split {k}: validation backbone (seen minus {plan.pseudo_unseen})")
        _, val_feats = _cached_stage(
            out_dir / f"split{k}_val.npz",
            clips,
            [clips.names[c] for c in seen_minus],
            val_groups,
            config,
            seed=k,
            embeddings=embeddings,
        )
        say(f"split {k}: test backbone (unseen {plan.unseen})")
        test_groups = {"train": plan.train, "val": plan.val, "test": plan.test, "unseen": plan.unseen_clips}
        _, test_feats = _cached_stage(
            out_dir / f"split{k}_test.npz",
            clips,
            plan.seen,
            test_groups,
            config,
            seed=k,
            embeddings=embeddings,
        )
        for variant in VARIANTS:
            for seed in config.seeds:
                say(f"split {k}: {variant} seed {seed}")
                val_model = LatentModel(
                    variant, val_feats["train"], clips.names, embeddings, config.vae, seed
                )
                calibs = calibrate(
                    val_feats["val"], val_feats["pseudo"], val_model, seen_minus, pseudo, seen_minus
                )
                val_zsl = _accuracy(
                    val_model.logits(val_feats["pseudo"].features, pseudo).argmax(1),
                    np.array([pseudo.index(c) for c in val_feats["pseudo"].labels]),
                )
                model = LatentModel(variant, test_feats["train"], clips.names, embeddings, config.vae, seed)
                zsl_logits = model.logits(test_feats["unseen"].features, unseen)
                truth = np.array([unseen.index(c) for c in test_feats["unseen"].labels])
                zsl, zsl_balanced = _accuracy(zsl_logits.argmax(1), truth)
                seen_t = fit_temperature(
                    test_feats["val"].logits, np.array([seen.index(c) for c in test_feats["val"].labels])
                )
                run = {
                    "split": k,
                    "variant": variant,
                    "seed": seed,
                    "zsl": zsl,
                    "zsl_balanced": zsl_balanced,
                    "val_zsl": val_zsl[0],
                    "retention": calibs["retention"],
                }
                for method in METHODS:
                    # T_s and the gate threshold come from the test backbone's held-out seen clips
                    calib = replace(calibs[method], seen_temperature=seen_t)
                    if method in calibs["retention"]:
                        threshold = gate_threshold(
                            test_feats["val"].logits, seen_t, calibs["retention"][method]
                        )
                        calib = replace(calib, gate_threshold=threshold)
                    run[method] = gzsl_scenarios(
                        test_feats["test"], test_feats["unseen"], model, seen, unseen, seen, calib
                    )
                    run[method]["val"] = calibs["val"][method]
                    run[method]["calibration"] = calib.to_dict()
                runs.append(run)
    results = {
        "config": {
            "splits": config.splits,
            "unseen_per_split": config.unseen_per_split,
            "pseudo_unseen": config.pseudo_unseen,
            "seeds": list(config.seeds),
            "train": config.train.to_dict(),
            "vae": config.vae.to_dict(),
        },
        "splits": [
            {
                "unseen": p.unseen,
                "pseudo_unseen": p.pseudo_unseen,
                "seen_train_clips": len(p.train),
                "seen_val_clips": len(p.val),
                "seen_test_clips": len(p.test),
                "unseen_clips": len(p.unseen_clips),
            }
            for p in plans
        ],
        "runs": runs,
        "summary": summarise(runs),
        "recommended_calibration": recommended_calibration(runs),
        "time_s": round(time.time() - started, 1),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (out_dir / "results.md").write_text(markdown_table(results["summary"]) + "\n")
    return results


def summarise(runs: list[dict]) -> dict:
    """Mean and std over splits and seeds per variant (percentages), and the chosen GZSL method.

    Per variant, the GZSL method is chosen by its mean validation `selection_score` (pseudo
    split, never the test classes); `S`, `U`, `H` are that method's test figures with all
    unseen classes added, `single_H` with one added at a time.
    """
    out = {}
    for variant in VARIANTS:
        rows = [r for r in runs if r["variant"] == variant]
        if not rows:
            continue
        metrics = {
            "zsl": [r["zsl"] for r in rows],
            "zsl_balanced": [r["zsl_balanced"] for r in rows],
            "val_zsl": [r["val_zsl"] for r in rows],
        }
        for method in METHODS:
            for m in ("S", "U", "H", "ECE"):
                metrics[f"{method}_{m}"] = [r[method]["all"].get(m, np.nan) for r in rows]
                metrics[f"{method}_single_{m}"] = [r[method]["single"].get(m, np.nan) for r in rows]
            metrics[f"{method}_val_score"] = [selection_score(r[method]["val"]) for r in rows]
        chosen = max(METHODS, key=lambda m: float(np.mean(metrics[f"{m}_val_score"])))
        for m in ("S", "U", "H", "single_H", "ECE"):
            metrics[m] = metrics[f"{chosen}_{m}"]
        entry: dict = {
            name: {"mean": round(100 * float(np.mean(v)), 2), "std": round(100 * float(np.std(v)), 2)}
            for name, v in metrics.items()
        }
        entry["method"] = chosen
        entry["n"] = len(rows)
        out[variant] = entry
    return out


def recommended_calibration(runs: list[dict], variant: str = "full") -> dict:
    """GZSL settings for a bundle: the method chosen on validation, with the median of each
    parameter it was fitted with over the runs (latent temperature, seen penalty, retention).

    The seen temperature and the gate threshold are not included: they belong to a backbone
    and are refitted on the bundle's own held-out clips.
    """
    rows = [r for r in runs if r["variant"] == variant]
    if not rows:
        return {}
    method = summarise(rows)[variant]["method"]
    fitted = [r[method]["calibration"] for r in rows]
    out = {
        "method": method,
        "latent_temperature": float(np.median([c["latent_temperature"] for c in fitted])),
        "seen_penalty": float(np.median([c["seen_penalty"] for c in fitted])),
    }
    if method in rows[0]["retention"]:
        out["retention"] = float(np.median([r["retention"][method] for r in rows]))
    return out


def _cell(entry: dict, key: str) -> str:
    if key not in entry:  # a summary written by an older evaluation
        return "-"
    return f"{entry[key]['mean']:.1f} ± {entry[key]['std']:.1f}"


def markdown_table(summary: dict) -> str:
    """Markdown tables of the summary (mean ± std over splits x seeds, %): ablation, then GZSL methods."""
    cols = [
        ("zsl", "ZSL top-1"),
        ("zsl_balanced", "ZSL class-bal."),
        ("S", "GZSL S"),
        ("U", "GZSL U"),
        ("H", "GZSL H"),
        ("single_H", "GZSL H (one added)"),
        ("val_zsl", "val ZSL (pseudo)"),
    ]
    lines = [
        "| variant | " + " | ".join(c[1] for c in cols) + " | GZSL method | runs |",
        "|---|" + "---|" * (len(cols) + 2),
    ]
    for variant, entry in summary.items():
        cells = [_cell(entry, c) for c, _ in cols]
        lines.append(f"| {variant} | " + " | ".join(cells) + f" | {entry.get('method', '')} | {entry['n']} |")
    if not all("gate_single_H" in entry for entry in summary.values()):
        return "\n".join(lines)
    lines += [
        "",
        "GZSL combinations (test H with all unseen added / H with one added at a time / "
        "calibration error of the top probability with all added; val = selection score on "
        "the pseudo split):",
        "",
        "| variant | " + " | ".join(f"{m} H | {m} H (one) | {m} ECE | {m} val" for m in METHODS) + " |",
        "|---|" + "---|" * (4 * len(METHODS)),
    ]
    for variant, entry in summary.items():
        cells = [
            " | ".join(_cell(entry, f"{m}_{k}") for k in ("H", "single_H", "ECE", "val_score"))
            for m in METHODS
        ]
        lines.append(f"| {variant} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


SEARCH_GRID: tuple[dict, ...] = (
    {},
    {"dz_r": 16},
    {"dz_r": 64},
    {"dz_v": 4},
    {"dz_v": 16},
    {"lr": 3e-4},
    {"lr": 3e-3},
    {"beta_x": 0.01, "beta_y": 0.01},
    {"beta_x": 0.2, "beta_y": 0.2},
    {"cross_weight": 3.0},
    {"tc_weight": 3.0},
    {"epochs": 30},
)


def search_sadvae(
    dataset, out_dir: Path, config: EvalConfig | None = None, progress: Progress | None = None
) -> dict:
    """Score SA-DVAE settings (one change at a time from the defaults) on validation data only.

    Uses the cached validation-stage features of `evaluate` (backbones trained without the
    pseudo-unseen classes; splits not cached yet are skipped) and scores the class-balanced
    ZSL accuracy on the pseudo-unseen classes; the test classes are never touched. Writes
    search.json into `out_dir`.
    """
    config = config or EvalConfig()
    say = progress or (lambda message: None)
    clips = clips_from_dataset(dataset)
    embeddings, _ = embed_class_texts([list(c.descriptions) for c in dataset.classes])
    plans = plan_splits(clips, [c.source for c in dataset.classes], config)
    ids = {n: i for i, n in enumerate(clips.names)}
    rows = []
    for overrides in SEARCH_GRID:
        vae_config = replace(config.vae, **overrides)
        scores = []
        for k, plan in enumerate(plans):
            path = out_dir / f"split{k}_val.npz"
            if not path.is_file():
                continue
            with np.load(path) as data:
                train = Features(data["train_f"], data["train_logits"], data["train_y"])
                pseudo_feats = Features(data["pseudo_f"], data["pseudo_logits"], data["pseudo_y"])
            pseudo = [ids[n] for n in plan.pseudo_unseen]
            for seed in config.seeds:
                model = LatentModel("full", train, clips.names, embeddings, vae_config, seed)
                truth = np.array([pseudo.index(c) for c in pseudo_feats.labels])
                scores.append(_accuracy(model.logits(pseudo_feats.features, pseudo).argmax(1), truth)[1])
        rows.append(
            {"overrides": overrides, "val_zsl_balanced": float(np.mean(scores)), "std": float(np.std(scores))}
        )
        say(f"{overrides or 'defaults'}: validation ZSL (class-balanced) {100 * np.mean(scores):.1f}")
    result = {"base": config.vae.to_dict(), "rows": rows}
    (out_dir / "search.json").write_text(json.dumps(result, indent=2) + "\n")
    return result
