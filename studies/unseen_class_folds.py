"""Zero-shot on classes the backbone never saw, with training-source data only: for choosing recipes.

The held-out sources must not choose anything; validation clips of the training classes cannot
judge a backbone recipe for zero-shot either, because the backbone saw those classes (and, with
text alignment, their descriptions). Here the classes of every training source (all sources
but Penn Action) are split into `--folds` folds. For each fold a backbone is trained (the
cross-source schedule, training/cross_source.py) on the clips of the OTHER classes; the latent
models (`--variants`) are fitted on its features of those classes; then every clip of the
fold's classes is classified among the fold's classes, given as text (their descriptions).
This is the cross-source code path (`holdout_features`, `score_holdout`) with "held-out
source" replaced by "held-out classes". It is in-domain: the same sources, often the same
people, so it ranks recipes; it does not predict transfer to a new sensor.

Features are cached in --out (one file per fold and recipe), so a rerun only rescores.

    python studies/unseen_class_folds.py --out runs/class_folds --text-weight 0 --folds 4
    python studies/unseen_class_folds.py --out runs/class_folds --text-weight 1 --folds 4
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from actzero.model.canonical import CANONICAL_FRAMES, LIMBS
from actzero.training.cross_source import (
    TEST_ONLY_SOURCES,
    CrossSourceConfig,
    HoldoutPlan,
    holdout_features,
    score_holdout,
)
from actzero.training.dataset import load_dataset
from actzero.training.train import clips_from_dataset, embed_class_texts, stratified_holdout

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))  # bench/report.py: Table
from report import Table, print_tables  # noqa: E402


def fold_plans(
    labels: np.ndarray, sources: np.ndarray, names: list[str], folds: int, val_fraction: float, seed: int
) -> list[HoldoutPlan]:
    """One plan per fold: train / val = clips of the other classes; test = all clips of the fold's classes."""
    usable = np.flatnonzero(~np.isin(sources, TEST_ONLY_SOURCES))
    classes = np.unique(labels[usable])
    fold_of = dict(
        zip(
            classes.tolist(),
            (np.random.default_rng(seed).permutation(len(classes)) % folds).tolist(),
            strict=True,
        )
    )
    plans = []
    for k in range(folds):
        unseen = np.array([fold_of[int(c)] == k for c in labels[usable]])
        rest = usable[~unseen]
        kept, held = stratified_holdout(labels[rest], val_fraction, seed)
        train_ids = sorted(set(labels[rest].tolist()))
        test_ids = sorted(set(labels[usable[unseen]].tolist()))
        plans.append(
            HoldoutPlan(
                source=f"fold{k}",
                train=rest[kept],
                val=rest[held],
                test=usable[unseen],
                train_names=[names[i] for i in train_ids],
                target_names=[names[i] for i in test_ids],
                novel=[names[i] for i in test_ids],
                familiar=[],
            )
        )
    return plans


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "class_folds")
    parser.add_argument("--dataset", type=Path, default=REPO / "cache" / "dataset-v3.npz")
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--text-weight", type=float, default=0.0)
    parser.add_argument("--frame", default=LIMBS, choices=CANONICAL_FRAMES)
    parser.add_argument("--variants", default="direct,projection,two-way,full")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--smooth-sigma", type=float, default=0.0, help="the backbone's temporal low-pass")
    parser.add_argument("--mask-weight", type=float, default=0.0, help="masked-motion loss weight")
    parser.add_argument(
        "--low-frame-rate", type=float, default=0.0, help="share of windows seen as a 15 or 10 fps camera"
    )
    parser.add_argument(
        "--placement-offset",
        type=float,
        default=0.0,
        help="largest std of fixed per-joint offsets (body sizes)",
    )
    parser.add_argument(
        "--epochs", type=int, default=0, help="backbone epochs (0: the cross-source schedule)"
    )
    args = parser.parse_args()
    dataset = load_dataset(args.dataset)
    clips = clips_from_dataset(dataset)
    embeddings, _ = embed_class_texts([list(c.descriptions) for c in dataset.classes])
    base = CrossSourceConfig()
    config = replace(
        base,
        variants=tuple(args.variants.split(",")),
        latent_score="cosine",
        train=replace(
            base.train,
            canonical_frame=args.frame,
            text_weight=args.text_weight,
            threads=args.threads,
            epochs=args.epochs or base.train.epochs,
            mask_weight=args.mask_weight,
            backbone=replace(base.train.backbone, smooth_sigma=args.smooth_sigma),
            augment=replace(
                base.train.augment,
                low_rate_probability=args.low_frame_rate,
                placement_offset=args.placement_offset,
            ),
        ),
    )
    smoothing = f"_s{args.smooth_sigma:g}" if args.smooth_sigma else ""
    schedule = (
        (f"_e{args.epochs}" if args.epochs else "")
        + (f"_m{args.mask_weight:g}" if args.mask_weight else "")
        + (f"_lr{args.low_frame_rate:g}" if args.low_frame_rate else "")
        + (f"_po{args.placement_offset:g}" if args.placement_offset else "")
    )
    recipe = f"{args.frame}_tw{args.text_weight:g}{smoothing}{schedule}"
    plans = fold_plans(
        clips.labels, np.asarray(dataset.sources), clips.names, args.folds, config.val_fraction, config.seed
    )
    table = Table(
        f"Unseen-class folds ({recipe}): ZSL among each fold's classes, class-balanced clip top-1 %",
        ["fold", "classes", "clips", *config.variants],
    )
    results = {}
    for plan in plans:
        cache = args.out / f"{plan.source}_{recipe}.npz"
        feats = holdout_features(clips, plan, config, cache, lambda m: print(m, flush=True), embeddings)
        scores = {
            v: score_holdout(feats, plan, clips.names, embeddings, v, config)["zsl"]["clip_balanced"]
            for v in config.variants
        }
        results[plan.source] = scores
        table.add(
            plan.source,
            len(plan.target_names),
            len(plan.test),
            *[round(100 * scores[v], 1) for v in config.variants],
        )
        print(plan.source, scores, flush=True)
    means = {v: float(np.mean([r[v] for r in results.values()])) for v in config.variants}
    table.add("**mean**", "", "", *[round(100 * means[v], 1) for v in config.variants])
    table.notes.append(
        f"{args.folds} folds of the classes of every source but Penn Action (seed {config.seed}); backbone: "
        f"{config.train.epochs} epochs, frame {args.frame}, text weight {args.text_weight:g}, "
        f"smoothing sigma {args.smooth_sigma:g}, low frame rate {args.low_frame_rate:g}, placement offset "
        f"{args.placement_offset:g}; in-domain"
    )
    print_tables([table])
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"summary_{recipe}.json").write_text(
        json.dumps({"folds": results, "mean": means}, indent=2) + "\n"
    )


if __name__ == "__main__":
    main()
