"""How sure each expert is on camera windows, and where the GZSL gate sends them.

Runs a video (default: the bundled sample; real MediaPipe, the worker's mapping, tracker and
windows, as `actzero annotate` does) through the shipped bundle and records, per classified
window, the backbone's calibrated top seen-class probability, the soft gate g (the weight of
the seen expert in the shipped "mixture") and the latent classifier's own top label. The gate
threshold is the level that keeps `retention` of the bundle's held-out motion-capture windows
on the seen side, so it is the in-domain reference. With `--add`, one action is added by
description, as a user would, and the tables show which windows it takes.

Run:
    python studies/camera_gate.py
    python studies/camera_gate.py --add "jumping jacks: Jumps spreading the legs while \
        swinging both arms overhead, then back."
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))  # bench/report.py: Table

from report import Table, print_tables  # noqa: E402

from actzero.model.actions import Action
from actzero.model.bundle import Bundle
from actzero.model.zeroshot import seen_gate, softmax
from actzero.stream.annotate import video_pose_frames
from actzero.stream.capture import SAMPLE_VIDEO, VideoFileSource
from actzero.stream.pose import PoseEstimator
from actzero.stream.worker import WorkerCore


def _counts(labels: list[str]) -> str:
    return ", ".join(f"{name} {n}" for name, n in Counter(labels).most_common(3))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--video", type=Path, default=SAMPLE_VIDEO)
    parser.add_argument("--add", default="", help='an action to add, "name: description"')
    args = parser.parse_args()

    bundle = Bundle.load()
    actions = list(bundle.actions)
    if args.add:
        name, _, description = args.add.partition(":")
        if not description.strip():
            parser.error('--add needs "name: description"')
        actions.append(Action(name.strip(), (description.strip(),)))
    classifier = bundle.fit_classifier(actions)
    calibration = classifier.calibration
    encode = classifier.encode
    batches: list[tuple[np.ndarray, np.ndarray]] = []

    def recording_encode(windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        seen_logits, z_r = encode(windows)  # type: ignore[operator]
        batches.append((np.asarray(seen_logits), np.asarray(z_r)))
        return seen_logits, z_r

    classifier.encode = recording_encode
    core = WorkerCore(bundle, actions, classifier=classifier)
    rows: list[tuple[int, str, np.ndarray, np.ndarray]] = []  # track, label, seen logits, z_r

    def collect(results: list) -> None:
        if results:  # one classify step = one encoder batch, windows in result order
            seen_logits, z_r = batches[-1]
            rows.extend(
                (r.track, r.label or "(no action)", seen_logits[i], z_r[i]) for i, r in enumerate(results)
            )

    with VideoFileSource(args.video, realtime=False) as source, PoseEstimator.create() as pose:
        for frame in video_pose_frames(source, pose, "video"):
            collect(core.process(frame))
        collect(core.classify_ready(flush=True))
    if not rows:
        sys.exit(f"no person in {args.video} was tracked long enough for a window")

    seen_probs = softmax(np.stack([r[2] for r in rows]) / calibration.seen_temperature)
    top = seen_probs.max(axis=1)
    gate = seen_gate(seen_probs, calibration)
    latent_top = classifier.latent.logits(np.stack([r[3] for r in rows])).argmax(axis=1)
    tracks = np.array([r[0] for r in rows])

    summary = Table(
        f"Camera windows of {args.video.name} vs the gate (bundle calibration: {calibration.method})",
        ["quantity", "p10", "median", "p90"],
    )
    summary.add("top seen probability", *np.percentile(top, [10, 50, 90]).tolist())
    summary.add("gate g (weight of the seen expert)", *np.percentile(gate, [10, 50, 90]).tolist())
    retention = bundle.manifest["calibration"].get("retention", float("nan"))
    summary.notes.append(
        f"{len(rows)} windows; gate threshold {calibration.gate_threshold:.3f} (keeps {retention:.0%} "
        "of held-out motion-capture windows on the seen side); "
        f"windows with g > 0.5: {np.mean(gate > 0.5):.0%}"
    )
    added = actions[-1].name if args.add else None
    per_track = Table(
        "Per track: the label the worker gives and the latent classifier's own top label (3 most frequent)",
        ["track", "windows", "top seen p (median)", "worker label", "latent top-1", "added action"],
    )
    for track in sorted(set(tracks.tolist())):
        mask = tracks == track
        worker_labels = [r[1] for r, m in zip(rows, mask, strict=True) if m]
        per_track.add(
            f"#{track}",
            int(mask.sum()),
            float(np.median(top[mask])),
            _counts(worker_labels),
            _counts([classifier.labels[k] for k in latent_top[mask]]),
            f"{worker_labels.count(added)} windows" if added else "-",
        )
    print_tables([summary, per_track])


if __name__ == "__main__":
    main()
