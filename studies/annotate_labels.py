"""How much the sample video's annotation labels move when the poses change a little.

Records MediaPipe's poses of the bundled sample once per pose setting, then runs the same
`annotate_video` worker path on them (MediaPipe replaced by the recorded poses) and compares the
labels with those of the reference (every frame, native size, num_poses 4, one process):

- noise: the reference poses plus Gaussian noise (image and world coordinates), a floor for
  how stable the labels are;
- interpolation only: the reference poses on even frames, the odd ones interpolated between
  them (what --pose-every 2 does, without MediaPipe seeing fewer frames);
- num_poses 2, --pose-every 2 (MediaPipe itself on fewer frames), --pose-width 640;
- a fresh landmarker from a later frame stitched on without checking (what `pose_jobs` would
  give without its agreement check), for several warm-up lengths.

Agreement = the share of the reference's labelled person-time (0.05 s steps) that the variant
labels the same (any track), both ways; the per-track label ranges are printed too.

    python studies/annotate_labels.py [BUNDLE ...]    # default: the shipped bundle

With several bundles, MediaPipe runs once and every bundle labels the same recorded poses.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from bench_annotate import label_agreement, label_ranges  # noqa: E402

import actzero.stream.annotate as ann  # noqa: E402
from actzero.stream.capture import SAMPLE_VIDEO, VideoFileSource  # noqa: E402
from actzero.stream.pose import PoseEstimator, PoseOptions, PoseResult  # noqa: E402

Recorded = list[tuple[int, int, PoseResult]]  # (frame index, media ms, poses)


def _frames() -> list:
    with VideoFileSource(SAMPLE_VIDEO, realtime=False) as source:
        return list(source)


def record(
    frames: list, num_poses: int = 4, width: int | None = None, every: int = 1, start: int = 0
) -> Recorded:
    """MediaPipe's poses (interpolated where not estimated) of `frames[start:]`."""
    with PoseEstimator.create(PoseOptions(num_poses=num_poses)) as pose:
        pairs = ann.estimated_frames(iter(frames[start:]), pose, pose_every=every, pose_width=width)
        return [(c.index, c.timestamp_ms, p) for c, p in pairs]


def annotate_recorded(poses: Recorded, core) -> ann.Annotation:
    """`annotate_video` on the sample with MediaPipe replaced by the recorded poses."""
    by_time = {ms: p for _, ms, p in poses}

    class Replay:
        @classmethod
        def create(cls, options=None):
            return cls()

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return None

        def process(self, image, timestamp_ms):
            return by_time[timestamp_ms]

    real = ann.PoseEstimator
    ann.PoseEstimator = Replay
    try:
        return ann.annotate_video(SAMPLE_VIDEO, core)
    finally:
        ann.PoseEstimator = real


def main() -> None:
    from actzero.model.bundle import Bundle
    from actzero.stream.worker import WorkerCore

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundles", nargs="*", type=Path, help="bundle folders (default: the shipped one)")
    args = parser.parse_args()
    frames = _frames()
    reference_poses = record(frames)
    rng = np.random.default_rng(0)
    variants: list[tuple[str, Recorded]] = []
    for sigma in (1e-4, 1e-3, 3e-3):
        noisy = [
            (i, ms, PoseResult(p.image + rng.normal(0, sigma, p.image.shape).astype(np.float32),
                               p.world + rng.normal(0, sigma, p.world.shape).astype(np.float32),
                               p.visibility, p.timestamp_ms))
            for i, ms, p in reference_poses
        ]  # fmt: skip
        variants.append((f"noise sigma {sigma:g} (image units / metres)", noisy))
    halved = [
        (i, ms, ann.interpolate_poses(reference_poses[k - 1][2], reference_poses[k + 1][2], 0.5, ms))
        if i % 2 and k + 1 < len(reference_poses)
        else (i, ms, p)
        for k, (i, ms, p) in enumerate(reference_poses)
    ]
    variants.append(("interpolation only (odd frames from the even reference frames)", halved))
    variants.append(("num_poses 2", record(frames, num_poses=2)))
    variants.append(("--pose-every 2", record(frames, every=2)))
    variants.append(("--pose-width 640", record(frames, width=640)))
    middle = len(frames) // 2
    for warm_up in (30, 60):
        later = record(frames, start=middle - warm_up)
        stitched = reference_poses[:middle] + [r for r in later if r[0] >= middle]
        variants.append(
            (f"fresh landmarker from frame {middle - warm_up}, used from {middle} unchecked", stitched)
        )
    for bundle in args.bundles or [None]:
        core = WorkerCore(Bundle.load(bundle))
        core.warm_up()
        reference = annotate_recorded(reference_poses, core)
        print(f"== bundle {bundle or 'shipped'}\nreference (every frame, native size, num_poses 4):")
        print(f"{label_ranges(reference)}\n")
        for name, poses in variants:
            annotation = annotate_recorded(poses, core)
            there, back = label_agreement(reference, annotation), label_agreement(annotation, reference)
            print(f"{name}: agreement {there:.1%} (reverse {back:.1%})", flush=True)
            print(f"{label_ranges(annotation)}\n", flush=True)


if __name__ == "__main__":
    main()
