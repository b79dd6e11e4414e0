"""Time `canonicalise` per window (the live worker runs it once per window per person).

Run: python bench/bench_canonical.py   (times in ms per window, best of 5 repeats)
"""

from __future__ import annotations

import timeit

import numpy as np
from rich.console import Console
from rich.table import Table

from actzero.model import skeleton as sk
from actzero.model.canonical import canonicalise, normalise_bone_lengths


def _window(frames: int, missing: float, rng: np.random.Generator) -> np.ndarray:
    """A plausible standing body (random limbs around a vertical spine) with random missing joints."""
    seq = rng.normal(scale=0.15, size=(frames, sk.NUM_JOINTS, 3))
    seq[:, sk.SPINE_BASE] = 0.0
    seq[:, sk.SPINE_SHOULDER] = (0.0, 0.5, 0.0)
    seq[:, sk.L_SHOULDER] = (-0.18, 0.5, 0.0)
    seq[:, sk.R_SHOULDER] = (0.18, 0.5, 0.0)
    seq += rng.normal(scale=0.01, size=seq.shape)
    seq[rng.random((frames, sk.NUM_JOINTS)) < missing] = np.nan
    seq[:, sk.SPINE_BASE] = 0.0
    return seq.astype(np.float32)


def main() -> None:
    rng = np.random.default_rng(0)
    table = Table(title="canonicalise, one window (best of 5 repeats)")
    for col in ("frames", "missing joints", "all-missing joint", "ms / window", "+ normalise_bone_lengths"):
        table.add_column(col, justify="right")
    for frames in (64, 300):
        for missing, dead_joint in ((0.0, False), (0.1, False), (0.1, True)):
            seq = _window(frames, missing, rng)
            if dead_joint:
                seq[:, sk.L_HAND_TIP] = np.nan
            number = 200
            best = min(timeit.repeat(lambda seq=seq: canonicalise(seq), number=number, repeat=5)) / number
            both = min(
                timeit.repeat(
                    lambda seq=seq: normalise_bone_lengths(canonicalise(seq)), number=number, repeat=5
                )
            )
            row = (str(frames), f"{missing:.0%}", "yes" if dead_joint else "no")
            table.add_row(*row, f"{best * 1e3:.3f}", f"{both / number * 1e3:.3f}")
    Console().print(table)


if __name__ == "__main__":
    main()
