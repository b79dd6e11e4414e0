"""Print one markdown table comparing cross-source runs (cross_source.json files) side by side.

Rows: each held-out source (and the mean over the sources every run has) per variant; columns:
the runs, labelled `label=path`. Figures: class-balanced ZSL clip top-1 % by default (`--key`).
Several files may make one column (`label=a.json+b.json`): e.g. six sources from one run and
Penn Action from another run of the same recipe.

    python tools/compare_recipes.py "3D=docs/results/cross-source/gravity_cosine_cpu.json" \\
        "2D=runs/xs_image/cross_source.json"
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def load_column(spec: str) -> tuple[str, dict[str, dict]]:
    """`label=a.json[+b.json]` -> (label, {source: per-source results}); later files win."""
    label, _, paths = spec.partition("=")
    sources: dict[str, dict] = {}
    for path in paths.split("+"):
        sources |= json.loads(Path(path).read_text())["sources"]
    return label, sources


def figure(result: dict, variant: str, part: str, key: str) -> float | None:
    value = result["variants"].get(variant, {}).get(part, {}).get(key)
    return None if value is None else 100 * value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("columns", nargs="+", help="label=cross_source.json[+more.json]")
    parser.add_argument("--variants", default="direct,full")
    parser.add_argument("--part", default="zsl", help="zsl or gzsl")
    parser.add_argument("--key", default="clip_balanced")
    args = parser.parse_args()
    columns = [load_column(spec) for spec in args.columns]
    sources = list(dict.fromkeys(s for _, col in columns for s in col))
    common = [s for s in sources if all(s in col for _, col in columns)]
    print(f"| held-out (classes; chance) | variant | {' | '.join(label for label, _ in columns)} |")
    print("|---|---|" + "---|" * len(columns))
    for variant in args.variants.split(","):
        for source in sources:
            first = next(col[source] for _, col in columns if source in col)
            n = len(first["classes"])
            cells = []
            for _, col in columns:
                value = figure(col[source], variant, args.part, args.key) if source in col else None
                cells.append("-" if value is None else f"{value:.1f}")
            print(f"| {source} ({n}; {100 / n:.1f}) | {variant} | {' | '.join(cells)} |")
        means = []
        for _, col in columns:
            values = [figure(col[s], variant, args.part, args.key) for s in common]
            values = [v for v in values if v is not None]
            means.append(f"{np.mean(values):.1f}" if values else "-")
        print(f"| **mean of {len(common)}** | {variant} | {' | '.join(means)} |")


if __name__ == "__main__":
    main()
