"""How much frame-to-frame jitter each source's canonical windows carry, before and after a temporal low-pass.

Jitter index of a set of windows: mean |second difference| / mean |first difference| over frames
(joints, axes and windows pooled). Smooth human motion gives a small index; sensor noise, which
changes direction from frame to frame, a large one. "kept" is the share of the mean |first
difference| (the motion) left after a Gaussian low-pass of `sigma` model frames, the filter the
backbone applies with `BackboneConfig.smooth_sigma`.

    python studies/jitter_by_source.py --dataset cache/dataset-v3.npz --sigmas 1,2
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))  # bench/report.py: Table
from report import Table, print_tables  # noqa: E402


def jitter_index(windows: np.ndarray) -> tuple[float, float]:
    """(mean |first difference|, mean |second difference| / mean |first difference|) over axis 1."""
    first = float(np.abs(np.diff(windows, axis=1)).mean())
    second = float(np.abs(np.diff(windows, 2, axis=1)).mean())
    return first, second / max(first, 1e-12)


def low_pass(windows: np.ndarray, sigma: float) -> np.ndarray:
    """The backbone's temporal filter (training/backbone.py `smooth_in_time`) on (N, T, 25, 3) windows."""
    from actzero.training.backbone import gaussian_kernel, smooth_in_time

    kernel = torch.from_numpy(gaussian_kernel(sigma))
    return smooth_in_time(torch.from_numpy(np.ascontiguousarray(windows, dtype=np.float32)), kernel).numpy()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", type=Path, default=REPO / "cache" / "dataset-v3.npz")
    parser.add_argument("--sigmas", default="1,2")
    parser.add_argument("--clips", type=int, default=150, help="clips drawn per source")
    parser.add_argument("--frame", default="limbs")
    args = parser.parse_args()
    from actzero.model.windows import clip_windows
    from actzero.training.dataset import load_dataset
    from actzero.training.train import clips_from_dataset

    dataset = load_dataset(args.dataset)
    clips = clips_from_dataset(dataset)
    sources = np.asarray(dataset.sources)
    sigmas = [float(s) for s in args.sigmas.split(",")]
    rng = np.random.default_rng(0)
    columns = ["source", "clips", "jitter index"]
    for sigma in sigmas:
        columns += [f"index, sigma {sigma:g}", f"motion kept, sigma {sigma:g}"]
    table = Table(f"Frame-to-frame jitter of canonical windows ({args.frame} frame, 64 frames)", columns)
    for source in sorted(set(sources.tolist())):
        picked = rng.permutation(np.flatnonzero(sources == source))[: args.clips]
        windows = [clip_windows(clips.clips[i], 64, 32, args.frame) for i in picked]
        windows = np.concatenate([w for w in windows if len(w)])
        motion, index = jitter_index(windows)
        row = [source, len(picked), round(index, 3)]
        for sigma in sigmas:
            smooth_motion, smooth_index = jitter_index(low_pass(windows, sigma))
            row += [round(smooth_index, 3), round(smooth_motion / motion, 3)]
        table.add(*row)
    table.notes.append(f"{args.clips} random clips per source (fewer where a source has fewer); seed 0")
    print_tables([table])


if __name__ == "__main__":
    main()
