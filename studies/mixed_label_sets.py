"""The seen penalty for label sets that mix shipped and new actions, on the unseen-class folds.

Validation data of the training sources only: the fold features of `studies/unseen_class_folds.py`
(a backbone per fold trained without that fold's classes). For each fold, label sets are drawn:

- "mixed": `--shipped` training classes (the backbone's own, scored by its expert as a bundle
  does) plus `--new` classes of the fold (never trained on: the latent classifier only);
- "full": every training class plus every class of the fold (a bundle's shipped set with
  actions added).

The shipped labels' clips are the validation clips of the training classes, the new labels' clips
the fold's clips. Each set goes through `combine_experts` (mixture, the bundle's gate on the
backbone's full softmax) at each `--penalties` value, with the temperatures and the gate threshold
fitted on the validation clips as the cross-source protocol fits them. Figures: class-balanced
clip top-1 of the shipped (S) and the new (U) labels, and their harmonic mean H, averaged over
sets and folds.

    python studies/mixed_label_sets.py --folds runs/class_folds --recipe limbs_tw1
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from actzero.model.zeroshot import combine_experts
from actzero.training.cross_source import clip_scores
from actzero.training.evaluate import Features, LatentModel
from actzero.training.sadvae import SADVAEConfig
from actzero.training.train import (
    DEFAULT_CALIBRATION,
    DEFAULT_RETENTION,
    fit_temperature,
    gate_threshold,
)

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))  # bench/report.py: Table
from report import Table, print_tables  # noqa: E402


def penalty_scores(
    fold: dict[str, np.ndarray],
    embeddings: list[np.ndarray],
    penalties: list[float],
    shipped: int,
    new: int,
    sets: int,
    rng: np.random.Generator,
    variant: str = "two-way",
) -> dict[tuple[str, float], list[tuple[float, float]]]:
    """(kind, penalty) -> [(S, U)] over the label sets of one fold (see the module docstring)."""
    train_classes = sorted(set(fold["train_y"].tolist()))
    fold_classes = sorted(set(fold["test_y"].tolist()))
    train = Features(fold["train_f"], fold["train_logits"], fold["train_y"])
    names = [str(i) for i in range(len(embeddings))]
    model = LatentModel(variant, train, names, embeddings, SADVAEConfig(), 0, "cosine")
    val_truth = np.array([train_classes.index(c) for c in fold["val_y"]])
    seen_t = fit_temperature(fold["val_logits"], val_truth)
    latent_t = fit_temperature(model.logits(fold["val_f"], train_classes), val_truth)
    base = replace(
        DEFAULT_CALIBRATION,
        seen_temperature=seen_t,
        latent_temperature=latent_t,
        gate_threshold=gate_threshold(fold["val_logits"], seen_t, DEFAULT_RETENTION),
        threshold=0.0,
        idle_label=None,
    )
    draws = [
        (
            "mixed",
            sorted(rng.choice(train_classes, shipped, replace=False).tolist()),
            sorted(rng.choice(fold_classes, new, replace=False).tolist()),
        )
        for _ in range(sets)
    ]
    draws.append(("full", train_classes, fold_classes))
    out: dict[tuple[str, float], list[tuple[float, float]]] = {}
    for kind, known, added in draws:
        labels = known + added
        in_val, in_test = np.isin(fold["val_y"], known), np.isin(fold["test_y"], added)
        features = np.concatenate([fold["val_f"][in_val], fold["test_f"][in_test]])
        logits = np.concatenate([fold["val_logits"][in_val], fold["test_logits"][in_test]])
        offset = len(fold["val_clip_labels"])  # clip ids: the validation clips, then the fold's
        clip = np.concatenate([fold["val_clip"][in_val], offset + fold["test_clip"][in_test]])
        column = {c: i for i, c in enumerate(labels)}
        truth = np.array(
            [column[c] for c in np.concatenate([fold["val_y"][in_val], fold["test_y"][in_test]])]
        )
        every_clip = np.concatenate([fold["val_clip_labels"], fold["test_clip_labels"]])
        clip_truth = np.array([column.get(c, -1) for c in every_clip])  # -1: not in the set, no window
        groups = {"shipped": list(range(len(known))), "new": list(range(len(known), len(labels)))}
        latent = model.logits(features, labels)
        seen_index = [train_classes.index(c) for c in known]
        for penalty in penalties:
            probs = combine_experts(
                logits, seen_index, latent, np.arange(len(known)), replace(base, seen_penalty=penalty)
            )
            scores = clip_scores(probs, truth, clip, clip_truth, groups)
            out.setdefault((kind, penalty), []).append(
                (scores["shipped_clip_balanced"], scores["new_clip_balanced"])
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--folds", type=Path, default=REPO / "runs" / "class_folds")
    parser.add_argument("--recipe", default="limbs_tw1", help="fold files fold<k>_<recipe>.npz")
    parser.add_argument("--dataset", type=Path, default=REPO / "cache" / "dataset-v3.npz")
    parser.add_argument("--penalties", default="0,1,2,3,4,7")
    parser.add_argument("--shipped", type=int, default=6)
    parser.add_argument("--new", type=int, default=6)
    parser.add_argument("--sets", type=int, default=10, help="mixed label sets per fold")
    args = parser.parse_args()
    from actzero.training.dataset import load_dataset
    from actzero.training.train import embed_class_texts

    dataset = load_dataset(args.dataset)
    embeddings, _ = embed_class_texts([list(c.descriptions) for c in dataset.classes])
    files = sorted(args.folds.glob(f"fold*_{args.recipe}.npz"))
    if not files:
        raise SystemExit(
            f"no fold files fold*_{args.recipe}.npz in {args.folds}: run studies/unseen_class_folds.py"
        )
    penalties = [float(p) for p in args.penalties.split(",")]
    rng = np.random.default_rng(0)
    scores: dict[tuple[str, float], list[tuple[float, float]]] = {}
    for path in files:
        with np.load(path) as data:
            fold = {k: data[k] for k in data.files}
        for key, values in penalty_scores(
            fold, embeddings, penalties, args.shipped, args.new, args.sets, rng
        ).items():
            scores.setdefault(key, []).extend(values)
        print(f"{path.name} scored", flush=True)
    table = Table(
        f"Seen penalty on the unseen-class folds ({args.recipe}): class-balanced clip top-1 %",
        ["label sets", "penalty", "S (shipped)", "U (new)", "H"],
    )
    for (kind, penalty), values in sorted(scores.items()):
        s, u = (100 * float(v) for v in np.mean(values, axis=0))
        table.add(kind, f"{penalty:g}", round(s, 1), round(u, 1), round(2 * s * u / max(s + u, 1e-9), 1))
    table.notes.append(
        f"{len(files)} folds; mixed: {args.shipped} shipped + {args.new} new labels, {args.sets} sets per "
        "fold; full: every training class + every class of the fold"
    )
    print_tables([table])


if __name__ == "__main__":
    main()
