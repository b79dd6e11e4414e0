"""How a trained bundle labels real-video joints: Penn Action's 15 classes typed as a label set.

For each bundle, the label set is Penn Action's classes with their descriptions
(training/classes/penn-action.toml) - what a user would type - and every clip (2D joints from
real video, `training.penn.penn_joints`: flat, z = 0) is classified the way `actzero classify`
does (the bundle's windows, probabilities averaged over the clip), without the plausibility
check (a flat, foreshortened body changes its apparent bone lengths). Printed per bundle:
class-balanced clip top-1 of the argmax (a clip without a usable window - shorter than 24
frames, or no frame whose body the canonical frame can use - counts as wrong), plain top-1, the
share of usable clips decided "no action",
and per class the top-1. No bundle trains on Penn Action, so this measures transfer to real
video of the shipped artifact itself (the cross-source protocol measures recipes).

    python studies/penn_bundles.py model/assets/default_bundle runs/bundle_image
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from actzero.api import Recognizer
from actzero.model.actions import Action
from actzero.training.penn import SOURCE, iter_penn_clips, penn_joints
from actzero.training.sources import load_class_table

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))  # bench/report.py: Table
from report import Table, print_tables  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundles", nargs="+", type=Path)
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--cache", type=Path, default=REPO / "cache")
    args = parser.parse_args()
    table = {c.label: c for c in load_class_table(SOURCE)}
    actions = [Action(c.name, c.descriptions) for c in table.values()]
    names = [a.name for a in actions]
    clips = [
        (penn_joints(c), names.index(table[c.action].name)) for c in iter_penn_clips(args.shared, args.cache)
    ]
    truth = np.array([label for _, label in clips])
    summary = Table(
        "Penn Action, 15 classes typed as text (chance 6.7%)",
        ("bundle", "clips", "unusable clips", "class-balanced top-1 %", "top-1 %", "no action %"),
    )
    per_class = Table("Penn Action top-1 % per class", ("class", *[b.name for b in args.bundles]))
    columns = []
    for bundle in args.bundles:
        recognizer = Recognizer(bundle, actions)
        classifier = recognizer.core.classifier
        mean = np.full((len(clips), len(names)), np.nan)
        for i, (joints, _) in enumerate(clips):
            try:
                mean[i] = classifier.probabilities(recognizer.clip_windows(joints)).mean(axis=0)
            except ValueError:  # shorter than a model window, or no frame with a usable body
                pass
        usable = ~np.isnan(mean[:, 0])
        pred = np.where(usable, np.nan_to_num(mean).argmax(axis=1), -1)  # unusable clips count as wrong
        decided = classifier.decide(mean[usable].astype(np.float32))
        right = pred == truth
        present = [truth == k for k in range(len(names))]
        by_class = [float(right[mask].mean()) if mask.any() else None for mask in present]
        no_action = float(np.mean([d.label is None for d in decided]))
        summary.add(
            bundle.name,
            len(clips),
            int((~usable).sum()),
            100 * np.mean([v for v in by_class if v is not None]),
            100 * right.mean(),
            100 * no_action,
        )
        columns.append(by_class)
    for k, name in enumerate(names):
        per_class.add(name, *["-" if col[k] is None else 100 * col[k] for col in columns])
    print_tables([summary, per_class])


if __name__ == "__main__":
    main()
