"""Which latent classifier recognises classes it never saw, on VALIDATION data of the training sources only.

The cross-source protocol (`actzero eval --protocol cross-source`) caches, per held-out
source, the backbone features of the training sources' training and validation clips. This
study never looks at the held-out source: for each of those caches it splits the training
classes into `--folds` groups; each group in turn is pseudo-unseen: the latent model is
trained on the training windows of the other classes, and the validation clips of the
group's classes are classified among the group's classes, given as text. Figure: class-
balanced clip top-1 (a clip's class = highest mean probability over its windows), mean over
the folds, per cache and pooled over caches.

Caveat: the backbone that made the features was trained on all training classes, the
pseudo-unseen ones included, so the figures are optimistic for every head alike; they rank
heads, they do not predict held-out accuracy.

Heads: the cross-source variants (training/evaluate.py `VARIANTS`: direct, projection, full,
no_tc, no_disentangle), a text-space variant with another ridge as "projection@0.01", an
SA-DVAE variant with other settings as "full@dz_r=128,beta_x=0.005".

    python studies/latent_validation.py runs/xs_limbs --heads direct,projection,full \
        --dataset cache/dataset-v3.npz
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from actzero.model.zeroshot import softmax
from actzero.training.cross_source import HOLDOUT_SOURCES, WindowFeatures, clip_scores, plan_holdout
from actzero.training.dataset import load_dataset
from actzero.training.evaluate import TEXT_SPACE_VARIANTS, Features, LatentModel
from actzero.training.sadvae import SADVAEConfig
from actzero.training.train import clips_from_dataset, embed_class_texts

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))  # bench/report.py: Table
from report import Table, print_tables  # noqa: E402


def load_cache(path: Path) -> dict[str, WindowFeatures]:
    """Train / val groups of a cross-source feature cache (training/cross_source.py `holdout_features`)."""
    with np.load(path) as data:
        return {
            g: WindowFeatures(
                Features(data[f"{g}_f"], data[f"{g}_logits"], data[f"{g}_y"]),
                data[f"{g}_clip"],
                data[f"{g}_clip_labels"],
            )
            for g in ("train", "val")
        }


def make_head(spec: str, train: Features, names: list[str], embeddings: list[np.ndarray]) -> LatentModel:
    """A latent model from a head name ("projection", "projection@0.01", "full@dz_r=128", ...)."""
    variant, _, settings = spec.partition("@")
    if variant in TEXT_SPACE_VARIANTS:
        ridge = float(settings) if settings else None
        return LatentModel(variant, train, names, embeddings, SADVAEConfig(), 0, "cosine", ridge=ridge)
    config = SADVAEConfig()
    for item in filter(None, settings.split(",")):
        key, value = item.split("=")
        config = replace(config, **{key: type(getattr(config, key))(value)})
    return LatentModel(variant, train, names, embeddings, config, 0, "cosine")


def clip_balanced(model: LatentModel, group: WindowFeatures, classes: list[int]) -> float:
    """Class-balanced clip top-1 of the group's clips of `classes`, among `classes`."""
    mask = np.isin(group.features.labels, classes)
    probs = softmax(model.logits(group.features.features[mask], classes))
    at = {c: i for i, c in enumerate(classes)}
    owners, owner = np.unique(group.clip[mask], return_inverse=True)
    truth_window = np.array([at[c] for c in group.features.labels[mask]], dtype=np.int64)
    truth_clip = np.array([at[c] for c in group.clip_labels[owners]], dtype=np.int64)
    return clip_scores(probs, truth_window, owner, truth_clip, {})["clip_balanced"]


def validation_scores(
    feats: dict[str, WindowFeatures],
    train_classes: list[int],
    heads: list[str],
    names: list[str],
    embeddings: list[np.ndarray],
    folds: int,
    seed: int = 0,
) -> dict[str, float]:
    """Per head, the mean over folds of the pseudo-unseen classes' class-balanced clip top-1."""
    classes = np.asarray(train_classes)
    fold_of = np.random.default_rng(seed).permutation(len(classes)) % folds
    scores: dict[str, list[float]] = {h: [] for h in heads}
    for k in range(folds):
        unseen = sorted(classes[fold_of == k].tolist())
        seen_mask = np.isin(feats["train"].features.labels, classes[fold_of != k])
        f = feats["train"].features
        train = Features(f.features[seen_mask], f.logits[seen_mask], f.labels[seen_mask])
        for head in heads:
            scores[head].append(
                clip_balanced(make_head(head, train, names, embeddings), feats["val"], unseen)
            )
    return {h: float(np.mean(v)) for h, v in scores.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run", type=Path, help="an `actzero eval --protocol cross-source` output folder")
    parser.add_argument("--heads", default="direct,projection,full")
    parser.add_argument("--dataset", type=Path, default=REPO / "cache" / "dataset-v3.npz")
    parser.add_argument(
        "--sources", default=",".join(HOLDOUT_SOURCES), help="caches to use (held-out sources)"
    )
    parser.add_argument("--folds", type=int, default=4)
    args = parser.parse_args()
    heads = args.heads.split(",")
    dataset = load_dataset(args.dataset)
    clips = clips_from_dataset(dataset)
    embeddings, _ = embed_class_texts([list(c.descriptions) for c in dataset.classes])
    ids = {n: i for i, n in enumerate(clips.names)}
    table = Table(
        f"Validation ZSL of pseudo-unseen training classes, class-balanced clip top-1 % ({args.run})",
        ["caches of held-out source", *heads],
    )
    per_source = []
    for source in args.sources.split(","):
        cache = args.run / f"cross_{source}.npz"
        if not cache.is_file():
            raise SystemExit(f"no feature cache {cache}: run the cross-source protocol into {args.run} first")
        plan = plan_holdout(np.asarray(dataset.sources), clips.labels, clips.names, source, 0.15, 0)
        train_classes = [ids[n] for n in plan.train_names]
        scores = validation_scores(
            load_cache(cache), train_classes, heads, clips.names, embeddings, args.folds
        )
        per_source.append(scores)
        table.add(source, *[round(100 * scores[h], 1) for h in heads])
        print(f"{source}: " + ", ".join(f"{h} {100 * v:.1f}" for h, v in scores.items()), flush=True)
    table.add("**mean**", *[round(100 * float(np.mean([s[h] for s in per_source])), 1) for h in heads])
    table.notes.append(
        f"{args.folds} folds of the training classes per cache; features from the backbone trained on "
        "all of them (optimistic for every head alike); validation clips of the training sources only, "
        "never the held-out source"
    )
    print_tables([table])


if __name__ == "__main__":
    main()
