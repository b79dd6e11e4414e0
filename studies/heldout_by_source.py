"""How well a trained bundle's backbone labels the held-out clips of its own training sources.

`actzero train` holds out a stratified 10% of the data set's clips (`stratified_holdout`, the
manifest's training seed) and stores one accuracy over all of them. This splits it by source:
per bundle, the backbone's window top-1 among the bundle's own actions on those held-out clips,
the windows cut as training cut them (the bundle's canonical frame, the training feature stride).
With `--confusions N`, the N classes whose accuracy differs most between the first two bundles,
each with the second bundle's two most frequent labels. In-domain figures: the same sources,
often the same people, as training; the cross-source protocol measures transfer.

    python studies/heldout_by_source.py model/assets/default_bundle runs/bundle_limbs --confusions 10
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from actzero.model.bundle import Bundle
from actzero.training.dataset import load_dataset
from actzero.training.train import clips_from_dataset, stratified_holdout, windows_of_clips

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))  # bench/report.py: Table
from report import Table, print_tables  # noqa: E402

HELD_OUT_FRACTION = 0.1  # training/train.py train_default_bundle


def held_out_labels(bundle: Bundle, dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """(predicted action index, true action index, source) per held-out window, and the action names."""
    training = bundle.manifest["training"]
    clips = clips_from_dataset(dataset)
    _, held = stratified_holdout(clips.labels, HELD_OUT_FRACTION, int(training["seed"]))
    held_set = clips.subset(held)
    stride = int(training["config"]["feature_stride"])
    windows, labels, owner = windows_of_clips(held_set, bundle.window, stride, bundle.canonical_frame)
    names = [a["name"] for a in bundle.manifest["actions"]]
    truth = np.array([names.index(held_set.names[c]) for c in labels])
    logits = np.concatenate(
        [bundle.encode_windows(windows[i : i + 256])[0] for i in range(0, len(windows), 256)]
    )
    return logits.argmax(axis=1), truth, held_set.sources[owner], names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundles", nargs="+", type=Path)
    parser.add_argument("--dataset", type=Path, default=REPO / "cache" / "dataset-v3.npz")
    parser.add_argument("--confusions", type=int, default=0, help="classes listed for the first two bundles")
    args = parser.parse_args()
    dataset = load_dataset(args.dataset)
    labels = [b.name for b in args.bundles]
    labels = labels if len(set(labels)) == len(labels) else [str(b) for b in args.bundles]
    results = {
        label: held_out_labels(Bundle.load(b), dataset) for label, b in zip(labels, args.bundles, strict=True)
    }
    sources = sorted(set(next(iter(results.values()))[2].tolist()))
    table = Table(
        "Backbone window top-1 % on the held-out clips of the training sources (windows)",
        ("source", *results),
    )
    for source in [*sources, "all"]:
        cells = []
        for pred, truth, of, _ in results.values():
            mask = np.ones(len(truth), bool) if source == "all" else of == source
            cells.append(f"{100 * (pred[mask] == truth[mask]).mean():.1f} ({mask.sum()})")
        table.add(source, *cells)
    tables = [table]
    if args.confusions and len(results) >= 2:
        (a, b) = list(results)[:2]
        pred_a, truth, _, names = results[a]
        pred_b = results[b][0]
        rows = []  # (change, class, windows, accuracy before, after, the second bundle's top labels)
        for k in np.unique(truth):
            mask = truth == k
            before, after = (pred_a[mask] == k).mean(), (pred_b[mask] == k).mean()
            top = ", ".join(f"{names[p]} {n}" for p, n in Counter(pred_b[mask].tolist()).most_common(2))
            rows.append((after - before, names[k], int(mask.sum()), 100 * before, 100 * after, top))
        changes = Table(
            f"Largest changes, {a} -> {b} (window top-1 %)", ("class", "windows", a, b, f"{b}: top labels")
        )
        for row in sorted(rows, key=lambda r: r[0])[: args.confusions]:
            changes.add(*row[1:])
        tables.append(changes)
    print_tables(tables)


if __name__ == "__main__":
    main()
