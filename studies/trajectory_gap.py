"""How far the body root travels inside one model window: training data vs live camera skeletons.

MediaPipe's world landmarks are centred between the hips in every frame, so a person walking
across the camera view keeps the root at the origin; motion capture and the synthetic clips
carry the walk's path. This prints, per source, the root (spine_base) travel within 64-frame
windows in body units: the largest distance of the root from its window mean, with the
per-window translation either kept (`canonicalise` up to actzero 0.1) or removed per frame
(`canonicalise` now: root-relative).

Run (needs the data set built by `actzero data build --out cache/dataset-v2.npz --seed 0`):
    python studies/trajectory_gap.py
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))  # bench/report.py: Table

from report import REPO, Table, print_tables  # noqa: E402

from actzero.model import skeleton as sk
from actzero.model.canonical import CanonicalisationError
from actzero.model.windows import model_window, sliding_windows
from actzero.stream.capture import SAMPLE_VIDEO

WINDOW = 64


def root_travel(window: np.ndarray) -> float:
    """Largest distance (body units) of the raw root from its window mean, after canonicalisation."""
    size = sk.body_size(window)
    root = window[:, sk.SPINE_BASE]
    root = root[np.isfinite(root).all(axis=1)]
    if len(root) == 0 or not np.isfinite(size) or size <= 0:
        return float("nan")
    return float(np.linalg.norm(root - root.mean(axis=0), axis=1).max() / size)


def canonical_root_travel(window: np.ndarray) -> float:
    """The same travel measured on the canonical window the model sees."""
    try:
        out = model_window(window, len(window))
    except CanonicalisationError:
        return float("nan")
    root = out[:, sk.SPINE_BASE]
    return float(np.linalg.norm(root - root.mean(axis=0), axis=1).max())


def camera_windows(video: Path) -> list[np.ndarray]:
    """NTU windows of the tracked people of a video (real MediaPipe, the worker's mapping and tracker)."""
    import cv2

    from actzero.model.mapping import mediapipe_to_ntu
    from actzero.stream.pose import PoseEstimator, PoseOptions
    from actzero.stream.tracker import Tracker, torso_summary

    capture = cv2.VideoCapture(str(video))
    fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
    tracker, tracks = Tracker(), {}
    with PoseEstimator.create(PoseOptions(num_poses=2)) as pose:
        index = 0
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            found = pose.process(frame, int(index * 1000 / fps))
            image, world, visibility = found.image, found.world, found.visibility
            centres, scales, quality = torso_summary(image, visibility, frame.shape[1], frame.shape[0])
            ids = tracker.update(centres, scales, index / fps, quality).ids
            for joints, tid in zip(mediapipe_to_ntu(world, visibility), ids.tolist(), strict=True):
                if tid >= 0:
                    tracks.setdefault(tid, []).append(joints)
            index += 1
    capture.release()
    return [w for t in tracks.values() for w in sliding_windows(np.stack(t), WINDOW, WINDOW // 2)]


def dataset_windows(path: Path, classes: list[str]) -> dict[str, list[np.ndarray]]:
    """Raw 64-frame windows of the named classes of a data set."""
    from actzero.training.dataset import load_dataset

    data = load_dataset(path)
    names = [c.name for c in data.classes]
    out: dict[str, list[np.ndarray]] = {c: [] for c in classes}
    for i, label in enumerate(data.labels):
        name = names[int(label)]
        if name in out:
            clip = data.frames[data.offsets[i] : data.offsets[i + 1]]
            out[name].extend(sliding_windows(clip, WINDOW, WINDOW))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", type=Path, default=REPO / "cache" / "dataset-v2.npz")
    parser.add_argument("--video", type=Path, default=SAMPLE_VIDEO)
    parser.add_argument("--classes", default="walk,run,walk backwards,jump in place,standing still")
    args = parser.parse_args()
    groups = dataset_windows(args.dataset, [c.strip() for c in args.classes.split(",")])
    groups["camera: " + args.video.name] = camera_windows(args.video)
    table = Table(
        "Root travel within a 64-frame window (body units; median / p90 over windows)",
        ["source", "windows", "raw median", "raw p90", "canonical median", "canonical p90"],
    )
    for name, windows in groups.items():
        raw = np.array([root_travel(w) for w in windows])
        canon = np.array([canonical_root_travel(w) for w in windows])
        raw, canon = raw[np.isfinite(raw)], canon[np.isfinite(canon)]
        if len(raw) == 0:
            table.add(name, 0, "-", "-", "-", "-")
            continue
        table.add(
            name,
            len(raw),
            round(float(np.median(raw)), 3),
            round(float(np.percentile(raw, 90)), 3),
            round(float(np.median(canon)), 3),
            round(float(np.percentile(canon, 90)), 3),
        )
    print_tables([table])


if __name__ == "__main__":
    main()
