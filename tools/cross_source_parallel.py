"""The cross-source protocol for several recipes at once, held-out sources in parallel processes.

What `actzero eval --protocol cross-source` does for one recipe, run on a machine with many
cores (and a GPU for the backbones): stage 1 trains one backbone per (recipe, held-out
source) and caches its features (runs/<recipe>/s1_<source>/); stage 2 scores every
(recipe, latent scoring, source) on those features; then one cross_source.md/.json per
(recipe, scoring) in runs/<recipe>_<scoring>/. Reads cache/dataset-v3.npz and the class-text
embeddings of `tools/pack_dataset.py pack` (cache/xfer/embeddings.npz).

Run (from the repository root, actzero importable):
    python tools/cross_source_parallel.py [cuda|cpu] [workers]
"""

import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import replace
from pathlib import Path

HOLDOUT = ("utd-mhad", "kinder-gator", "nw-ucla", "msr-action3d", "citi", "hdm05")
RECIPES = {  # name: (canonical frame, text weight)
    "before": ("upright", 0.0),
    "gravity": ("gravity", 0.0),
    "gravity_text": ("gravity", 1.0),
    "upright_text": ("upright", 1.0),
}
PASSES = [  # (recipe, latent scoring)
    ("before", "linear"),
    ("gravity", "linear"),
    ("gravity", "cosine"),
    ("gravity_text", "linear"),
    ("gravity_text", "cosine"),
    ("upright_text", "linear"),
]
VARIANTS = ("direct", "no_disentangle", "no_tc", "full")


def _setup():
    import numpy as np
    import torch

    torch.set_num_threads(1)
    from actzero.training.dataset import load_dataset

    ds = load_dataset(Path("cache/dataset-v3.npz"))
    e = np.load("cache/xfer/embeddings.npz")
    emb = [e[f"c{i}"] for i in range(len(ds.classes))]
    return ds, emb


def _config(recipe, holdout, score, device):
    from actzero.training.cross_source import CrossSourceConfig

    frame, tw = RECIPES[recipe]
    base = CrossSourceConfig()
    train = replace(base.train, canonical_frame=frame, text_weight=tw, threads=1, device=device)
    return replace(base, holdout=holdout, train=train, latent_score=score, variants=VARIANTS)


def _guard(fn):
    import functools

    @functools.wraps(fn)
    def run(*args):
        import traceback

        try:
            return fn(*args)
        except Exception:
            return ("FAILED", args, traceback.format_exc()[-3000:])

    return run


@_guard
def stage1(recipe, source, device):
    ds, emb = _setup()
    from actzero.training.cross_source import evaluate_cross_source

    t = time.time()
    out = Path("runs") / recipe / f"s1_{source}"
    cfg = replace(_config(recipe, (source,), "linear", device), variants=("direct",))
    evaluate_cross_source(ds, out, cfg, embeddings=emb)
    return recipe, source, time.time() - t


@_guard
def stage2(recipe, score, source, device):
    ds, emb = _setup()
    from actzero.training.cross_source import evaluate_cross_source

    t = time.time()
    out = Path("runs") / f"{recipe}_{score}" / f"src_{source}"
    out.mkdir(parents=True, exist_ok=True)
    src = Path("runs") / recipe / f"s1_{source}" / f"cross_{source}.npz"
    if not (out / src.name).exists():
        os.link(src, out / src.name)
    evaluate_cross_source(ds, out, _config(recipe, (source,), score, device), embeddings=emb)
    return recipe, score, source, time.time() - t


def merge(recipe, score):
    """One cross_source.json/.md per (recipe, scoring) from its per-source runs."""
    from actzero.training.cross_source import markdown_report, mean_over_sources

    parts = [
        json.loads((Path("runs") / f"{recipe}_{score}" / f"src_{s}" / "cross_source.json").read_text())
        for s in HOLDOUT
        if (Path("runs") / f"{recipe}_{score}" / f"src_{s}" / "cross_source.json").is_file()
    ]
    if not parts:
        return
    merged = dict(parts[0])
    merged["sources"] = {k: v for p in parts for k, v in p["sources"].items()}
    merged["config"] = dict(parts[0]["config"], holdout=list(merged["sources"]))
    merged["mean"] = mean_over_sources(merged["sources"], VARIANTS)
    merged["time_s"] = {
        "total": sum(p["time_s"]["total"] for p in parts),
        "per_source": {k: v for p in parts for k, v in p["time_s"]["per_source"].items()},
    }
    merged["command"] = (
        f"actzero eval --protocol cross-source --dataset cache/dataset-v3.npz --frame "
        f"{RECIPES[recipe][0]} --text-weight {RECIPES[recipe][1]} --latent-score {score} "
        "--device cuda (held-out sources run in parallel processes on a GPU machine)"
    )
    out = Path("runs") / f"{recipe}_{score}"
    (out / "cross_source.json").write_text(json.dumps(merged, indent=2) + "\n")
    (out / "cross_source.md").write_text(markdown_report(merged) + "\n")


if __name__ == "__main__":
    device = sys.argv[1] if len(sys.argv) > 1 else "cuda"
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    t0 = time.time()
    with ProcessPoolExecutor(workers) as pool:
        jobs = [pool.submit(stage1, r, s, device) for r in RECIPES for s in HOLDOUT]
        for j in as_completed(jobs):
            print("stage1", j.result(), f"{time.time() - t0:.0f}s", flush=True)
        jobs = [pool.submit(stage2, r, sc, s, device) for r, sc in PASSES for s in HOLDOUT]
        for j in as_completed(jobs):
            print("stage2", j.result(), f"{time.time() - t0:.0f}s", flush=True)
    for r, sc in PASSES:
        merge(r, sc)
        print("merged", r, sc, flush=True)
