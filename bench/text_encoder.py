"""Time the runtime text encoder (onnxruntime + tokenizers) on real action descriptions.

Encodes the first 50 descriptions of training/actions.toml (what `actzero actions add`
and fitting a classifier do) and one short sentence (the latency of adding one action),
for 1 and 2 intra-op threads. Prints a table of median times over repeats.

Run: python bench/text_encoder.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import statistics
import time
import tomllib
from pathlib import Path

from rich.console import Console
from rich.table import Table

from actzero.model.text_encoder import DEFAULT_DIR, MODEL_FILE, TextEncoder

ACTIONS_TOML = Path(__file__).resolve().parents[1] / "training" / "actions.toml"


def descriptions(limit: int = 50) -> list[str]:
    """The first `limit` class descriptions of training/actions.toml."""
    with ACTIONS_TOML.open("rb") as f:
        actions = tomllib.load(f)["action"]
    return [text for action in actions for text in action["descriptions"]][:limit]


def median_seconds(fn, repeats: int) -> float:
    """Median wall time of `fn()` over `repeats` calls, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    texts = descriptions()
    table = Table(title=f"text encoder ({(DEFAULT_DIR / MODEL_FILE).stat().st_size / 1e6:.1f} MB ONNX)")
    for column in ("threads", "load ms", f"encode {len(texts)} ms", "per text ms", "encode 1 ms"):
        table.add_column(column, justify="right")
    for threads in (1, 2):
        start = time.perf_counter()
        encoder = TextEncoder.load(intra_op_threads=threads)
        load_s = time.perf_counter() - start
        batch_s = median_seconds(lambda enc=encoder: enc.encode(texts), args.repeats)
        one_s = median_seconds(
            lambda enc=encoder: enc.encode(["a person waves the right hand"]), args.repeats
        )
        table.add_row(
            str(threads),
            f"{load_s * 1e3:.0f}",
            f"{batch_s * 1e3:.0f}",
            f"{batch_s * 1e3 / len(texts):.1f}",
            f"{one_s * 1e3:.1f}",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
