"""Does the MediaPipe error model's jitter size explain its bundle's weak clean accuracy?

Trains a bundle with the shipped schedule (as `actzero train --camera-error`) but the error
model's jitter multiplied by `--scale`, and prints the backbone's held-out window accuracy on
the clean held-out windows of the training sources and the fitted calibration. Then look at the
sample video with `python studies/sample_video_labels.py OUT`. About 4 min on 2 idle cores.

    python studies/error_model_strength.py --scale 0.5 --out runs/bundle_error_half
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from actzero.training.augment import AugmentConfig
from actzero.training.dataset import load_dataset
from actzero.training.train import TrainConfig, train_default_bundle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.5)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--dataset", type=Path, default=Path("cache") / "dataset-v3.npz")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    base = AugmentConfig(camera_error=True)
    augment = replace(
        base,
        error_jitter_xy=args.scale * base.error_jitter_xy,
        error_jitter_z=args.scale * base.error_jitter_z,
    )
    config = replace(TrainConfig(), threads=args.threads, canonical_frame="gravity", augment=augment)
    manifest = train_default_bundle(load_dataset(args.dataset), args.out, seed=0, config=config)
    accuracy = 100 * manifest["training"]["heldout_window_accuracy"]
    print(f"jitter x{args.scale:g}: held-out window accuracy {accuracy:.1f}%")
    print(f"calibration: {manifest['calibration']}")


if __name__ == "__main__":
    main()
