"""How sure the backbone is on camera windows, and where the GZSL gate sends them.

Runs the sample video (real MediaPipe, the worker's mapping, tracker and windows) through the
shipped bundle and records, per classified window, the backbone's calibrated top seen-class
probability and the soft gate g (the weight of the seen expert in the shipped "mixture"). The
gate threshold is the level that keeps `retention` of the bundle's held-out seen windows on
the seen side, so it is the motion-capture reference. With `--add`, one action is added by
description, as a user would, and the table also shows how many windows it takes.

Run:
    python bench/camera_gate.py
    python bench/camera_gate.py --add "jumping jacks: Jumps spreading the legs while \
        swinging both arms overhead, then back."
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import Table, print_tables  # noqa: E402

from actzero.model.actions import Action
from actzero.model.bundle import Bundle
from actzero.model.zeroshot import seen_gate, softmax
from actzero.stream.annotate import annotate_video
from actzero.stream.capture import SAMPLE_VIDEO
from actzero.stream.worker import WorkerCore


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--video", type=Path, default=SAMPLE_VIDEO)
    parser.add_argument("--add", default="", help='an action to add, "name: description"')
    args = parser.parse_args()

    bundle = Bundle.load()
    actions = list(bundle.actions)
    added = None
    if args.add:
        name, _, description = args.add.partition(":")
        if not description.strip():
            parser.error('--add needs "name: description"')
        added = name.strip()
        actions.append(Action(added, (description.strip(),)))
    classifier = bundle.fit_classifier(actions)
    calibration = classifier.calibration
    encode = classifier.encode
    seen_logits: list[np.ndarray] = []

    def recording_encode(windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        logits, z_r = encode(windows)  # type: ignore[operator]
        seen_logits.append(np.asarray(logits))
        return logits, z_r

    classifier.encode = recording_encode
    core = WorkerCore(bundle, actions, classifier=classifier)
    annotation = annotate_video(args.video, core)
    logits = np.concatenate(seen_logits)[1:] if seen_logits else np.zeros((0, 1))  # [0]: warm-up
    top = softmax(logits / calibration.seen_temperature).max(axis=1)
    gate = seen_gate(softmax(logits / calibration.seen_temperature), calibration)

    table = Table(
        f"Camera windows of {args.video.name} vs the gate (bundle calibration: {calibration.method})",
        ["quantity", "p10", "median", "p90"],
    )
    table.add("top seen probability", *np.percentile(top, [10, 50, 90]).tolist())
    table.add("gate g (weight of the seen expert)", *np.percentile(gate, [10, 50, 90]).tolist())
    table.notes.append(
        f"{len(top)} windows; gate threshold {calibration.gate_threshold:.3f} (keeps "
        f"{bundle.manifest['calibration'].get('retention', float('nan')):.0%} of held-out "
        "motion-capture windows on the seen side); "
        f"windows with g > 0.5: {np.mean(gate > 0.5):.0%}"
    )
    if added is not None:
        labels = [s.label for p in annotation.persons for s in p.segments]
        spans = [(p.track, s.label, s.end_s - s.start_s) for p in annotation.persons for s in p.segments]
        taken = sum(d for _, label, d in spans if label == added)
        total = sum(d for _, _, d in spans)
        table.notes.append(
            f"'{added}' labels {taken:.1f} s of {total:.1f} s of segments "
            f"({', '.join(sorted({f'#{t}' for t, label, _ in spans if label == added}))}); "
            f"labels seen: {sorted({str(x) for x in labels})}"
        )
    print_tables([table])


if __name__ == "__main__":
    main()
