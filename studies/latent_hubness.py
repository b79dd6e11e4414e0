"""Does z_r zero-shot classification improve with centring / L2-normalisation of the latents (hubness)?

Reuses the backbone features that `actzero eval` cached in its output folder
(split{k}_val.npz, split{k}_test.npz), trains the full SA-DVAE per split and seed as the
evaluation does, and scores ZSL (per sample and class-balanced) on the validation
pseudo-unseen classes and on the test unseen classes with four z_r classifiers:

- linear: today's classifier (linear softmax fitted on sampled text latents, model/zeroshot.py);
- linear-centred: the same after centring and L2-normalising both sides (skeleton z_r by the
  mean z_r of the training windows, text latents by the mean text latent of the training
  classes: statistics of seen data only, no test data);
- cosine: nearest class by cosine between z_r and the mean text latent of each class;
- cosine-centred: cosine after the same centring.

Choose on the validation columns only. Run:
    python studies/latent_hubness.py --eval-dir cache/eval --dataset cache/dataset-v2.npz --splits 3 --seeds 1
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from actzero.model.zeroshot import fit_linear_softmax
from actzero.training.dataset import load_dataset
from actzero.training.evaluate import EvalConfig, Features, LatentModel, _accuracy, plan_splits
from actzero.training.train import clips_from_dataset, embed_class_texts, semantic_means, text_latents

VARIANTS = ("linear", "linear-centred", "cosine", "cosine-centred")


def _unit(x: np.ndarray) -> np.ndarray:
    return x / (np.linalg.norm(x, axis=-1, keepdims=True) + 1e-8)


def zsl_scores(
    model: LatentModel,
    train: Features,
    test: Features,
    classes: list[int],
    embeddings: list[np.ndarray],
    seed: int,
) -> dict[str, tuple[float, float]]:
    """(per-sample, class-balanced) ZSL accuracy of each variant on `test` among `classes`."""
    vae = model.vae
    z_train = semantic_means(vae, train.features)
    z = semantic_means(vae, test.features)
    seen = sorted(set(train.labels.tolist()))
    seen_mus, _ = text_latents(vae, [embeddings[c] for c in seen])
    skeleton_centre = z_train.mean(0)
    text_centre = np.concatenate(seen_mus).mean(0)
    mus, logvars = text_latents(vae, [embeddings[c] for c in classes])
    truth = np.array([classes.index(c) for c in test.labels])
    out = {}
    out["linear"] = model.logits(test.features, classes)
    # centre and normalise the text side in the latent space by drawing samples, then fitting
    rng = np.random.default_rng(seed)
    samples, labels = [], []
    for k, (mu, logvar) in enumerate(zip(mus, logvars, strict=True)):
        which = np.arange(200) % len(mu)
        draw = mu[which] + np.exp(0.5 * logvar[which]) * rng.standard_normal((200, mu.shape[1]))
        samples.append(_unit(draw - text_centre))
        labels.append(np.full(200, k))
    centred = fit_linear_softmax(
        np.concatenate(samples).astype(np.float32), np.concatenate(labels), len(classes)
    )
    out["linear-centred"] = centred.logits(_unit(z - skeleton_centre))
    protos = np.stack([m.mean(0) for m in mus])
    out["cosine"] = _unit(z) @ _unit(protos).T
    out["cosine-centred"] = _unit(z - skeleton_centre) @ _unit(protos - text_centre).T
    return {name: _accuracy(logits.argmax(1), truth) for name, logits in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--eval-dir", type=Path, required=True, help="output folder of `actzero eval`")
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--splits", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=1)
    args = parser.parse_args()
    config = EvalConfig(splits=args.splits, seeds=tuple(range(args.seeds)))
    dataset = load_dataset(args.dataset)
    clips = clips_from_dataset(dataset)
    embeddings, _ = embed_class_texts([list(c.descriptions) for c in dataset.classes])
    plans = plan_splits(clips, [c.source for c in dataset.classes], config)
    ids = {n: i for i, n in enumerate(clips.names)}
    rows: dict[str, list[list[float]]] = {v: [] for v in VARIANTS}
    for k, plan in enumerate(plans):
        stages = {}
        for stage in ("val", "test"):
            with np.load(args.eval_dir / f"split{k}_{stage}.npz") as data:
                groups = ("train", "pseudo") if stage == "val" else ("train", "unseen")
                stages[stage] = {
                    g: Features(data[f"{g}_f"], data[f"{g}_logits"], data[f"{g}_y"]) for g in groups
                }
        for seed in config.seeds:
            scores = {}
            for stage, target, classes in (
                ("val", "pseudo", [ids[n] for n in plan.pseudo_unseen]),
                ("test", "unseen", [ids[n] for n in plan.unseen]),
            ):
                train = stages[stage]["train"]
                model = LatentModel("full", train, clips.names, embeddings, config.vae, seed)
                scores[stage] = zsl_scores(model, train, stages[stage][target], classes, embeddings, seed)
            for v in VARIANTS:
                rows[v].append([*scores["val"][v], *scores["test"][v]])
    print("| z_r classifier | val ZSL | val ZSL class-bal. | test ZSL | test ZSL class-bal. |")
    print("|---|---|---|---|---|")
    for v in VARIANTS:
        mean, std = 100 * np.mean(rows[v], axis=0), 100 * np.std(rows[v], axis=0)
        print(f"| {v} | " + " | ".join(f"{m:.1f} ± {s:.1f}" for m, s in zip(mean, std, strict=True)) + " |")
    print(f"({len(rows['linear'])} runs: splits x seeds)")


if __name__ == "__main__":
    main()
