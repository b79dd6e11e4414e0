"""Pose estimation speed on the sample video: frames per second at the native size and resized.

Runs the shipped PoseLandmarker (VIDEO mode, num_poses=4) over the frames of
samples/sports2d-demo.mp4 in order, once per size, and prints median / p90 milliseconds per frame,
frames per second (1000 / median) and how many persons were found.

    python bench/bench_pose.py                 # all 230 frames, 1768x994 and 640x480
    python bench/bench_pose.py --frames 60 --size 960x540
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np

from actzero.stream.capture import SAMPLE_VIDEO
from actzero.stream.pose import PoseEstimator, PoseOptions


def load_frames(count: int) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(SAMPLE_VIDEO))
    frames = []
    while len(frames) < count:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return frames


def run(frames: list[np.ndarray], size: tuple[int, int] | None, num_poses: int) -> dict[str, float]:
    if size is not None:
        frames = [cv2.resize(frame, size, interpolation=cv2.INTER_AREA) for frame in frames]
    times, persons = [], []
    with PoseEstimator.create(PoseOptions(num_poses=num_poses)) as estimator:
        for i, frame in enumerate(frames):
            began = time.perf_counter()
            image = estimator.process(frame, round(i * 1000 / 30)).image
            times.append(time.perf_counter() - began)
            persons.append(image.shape[0])
    ms = 1000 * np.asarray(times[1:] or times)  # the first frame includes one-off set-up
    counts = np.asarray(persons)
    height, width = frames[0].shape[:2]
    return {
        "size": f"{width}x{height}",
        "median_ms": float(np.median(ms)),
        "p90_ms": float(np.percentile(ms, 90)),
        "p95_ms": float(np.percentile(ms, 95)),
        "fps": 1000 / float(np.median(ms)),
        "mean_persons": float(counts.mean()),
        "frames_2plus": int((counts >= 2).sum()),
        "frames_0": int((counts == 0).sum()),
        "frames": len(frames),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=230, help="frames of the sample video to use")
    parser.add_argument("--size", action="append", help="extra WxH sizes (default: native and 640x480)")
    parser.add_argument("--num-poses", type=int, default=4)
    args = parser.parse_args()
    sizes: list[tuple[int, int] | None] = [None, (640, 480)]
    for text in args.size or []:
        width, height = (int(v) for v in text.lower().split("x"))
        sizes.append((width, height))
    frames = load_frames(args.frames)
    print(f"pose: {len(frames)} frames of {SAMPLE_VIDEO.name}, num_poses={args.num_poses}, VIDEO mode, CPU")
    columns = ("size", "median ms", "p90 ms", "fps", "persons/frame", "frames >=2", "frames 0")
    widths = (10, 10, 8, 6, 14, 11, 9)
    print(" ".join(f"{c:>{w}}" for c, w in zip(columns, widths, strict=True)))
    for size in sizes:
        r = run(frames, size, args.num_poses)
        print(
            f"{r['size']:>10} {r['median_ms']:>10.1f} {r['p90_ms']:>8.1f} {r['fps']:>6.1f} "
            f"{r['mean_persons']:>14.2f} {r['frames_2plus']:>11d} {r['frames_0']:>9d}"
        )


if __name__ == "__main__":
    main()
