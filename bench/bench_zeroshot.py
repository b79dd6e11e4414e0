"""Time the shipped bundle: classifier fitting (label sets up to 50 actions) and window throughput.

Run: python bench/bench_zeroshot.py [--threads 2]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from rich.console import Console
from rich.table import Table

from actzero.model.actions import Action
from actzero.model.bundle import Bundle


def _median_of(fn, repeats: int) -> float:
    """Median wall time of `repeats` calls (the machine is noisy: medians, not best-of)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=2, help="onnxruntime intra-op threads")
    args = parser.parse_args()
    bundle = Bundle.load(intra_op_threads=args.threads)
    shipped = list(bundle.actions)
    extra = [
        Action(f"new action {i}", (f"A person repeats movement number {i} with the arms and legs.",))
        for i in range(50)
    ]
    console = Console()
    table = Table(title=f"zero-shot classifier fit ({len(shipped)} shipped actions in the bundle)")
    for column in ("label set", "actions", "fit s median (warm text cache)", "fit s (new texts)"):
        table.add_column(column, justify="right")
    for n_shipped, n_new in ((len(shipped), 0), (40, 10), (24, 26), (len(shipped), 10)):
        actions = shipped[:n_shipped] + extra[:n_new]
        bundle.text_cache = {
            t: e for t, e in bundle.text_cache.items() if not t.startswith("A person repeats")
        }
        start = time.perf_counter()
        bundle.fit_classifier(actions)
        cold = time.perf_counter() - start
        warm = _median_of(lambda actions=actions: bundle.fit_classifier(actions), 5)
        table.add_row(f"{n_shipped} shipped + {n_new} new", str(len(actions)), f"{warm:.3f}", f"{cold:.3f}")
    console.print(table)

    clf = bundle.fit_classifier(shipped)
    rng = np.random.default_rng(0)
    speed = Table(title=f"skeleton network + classifier throughput ({args.threads} onnxruntime threads)")
    for column in ("batch", "windows/s", "ms/batch median"):
        speed.add_column(column, justify="right")
    for batch in (1, 8, 64):
        windows = rng.normal(0, 0.3, (batch, bundle.window, 25, 3)).astype(np.float32)
        clf.probabilities(windows)
        seconds = _median_of(lambda windows=windows: clf.probabilities(windows), 20)
        speed.add_row(str(batch), f"{batch / seconds:.0f}", f"{1000 * seconds:.2f}")
    console.print(speed)


if __name__ == "__main__":
    main()
