"""Measure MediaPipe's 3D error on real video, beside the Kinect and motion-capture sources.

A bone's length is constant, so how much it changes over a track shows the error of the
estimator; how its length changes with its depth extent shows how depth is scaled. Printed
per source (MediaPipe world landmarks of the sample video's two people; Kinect clips; Bandai
motion capture), in body units (median spine length + shoulder width = 1):

- bone CV: median over the limb bones of (std / median) of the bone's length over a track;
- depth scale: the factor s on depth (camera z) that makes limb-bone lengths most constant
  (argmin over s of the CV of sqrt(dx^2 + dy^2 + (s dz)^2)); 1 = depth as good as x and y,
  below 1 = depth compressed (the estimator's depth varies less than the body's);
- jitter x/y and z: std of each joint's deviation from a centred 5-frame moving average
  (high-frequency noise), median over joints, in the image plane and along depth.

These are the parameters of the MediaPipe error model of training/augment.py
(`AugmentConfig.camera_error`). Run:
    python studies/camera_error.py                 # sample video + utd-mhad, nw-ucla, bandai
    python studies/camera_error.py --max-clips 100
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from actzero.model import skeleton as sk

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))  # bench/report.py: Table
from report import Table, print_tables  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
VIDEO = REPO / "samples" / "sports2d-demo.mp4"
LIMB_BONES = (
    (sk.L_SHOULDER, sk.L_ELBOW), (sk.L_ELBOW, sk.L_WRIST), (sk.R_SHOULDER, sk.R_ELBOW),
    (sk.R_ELBOW, sk.R_WRIST), (sk.L_HIP, sk.L_KNEE), (sk.L_KNEE, sk.L_ANKLE),
    (sk.R_HIP, sk.R_KNEE), (sk.R_KNEE, sk.R_ANKLE),
)  # fmt: skip
SCALES = np.linspace(0.1, 2.0, 39)


def mediapipe_tracks(video: Path, min_frames: int = 30) -> list[np.ndarray]:
    """NTU-25 joints (T, 25, 3) from MediaPipe world landmarks per person (nearest image centre)."""
    import cv2

    from actzero.model.mapping import mediapipe_to_ntu
    from actzero.stream.pose import PoseEstimator, PoseOptions

    capture = cv2.VideoCapture(str(video))
    fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
    tracks: list[tuple[np.ndarray, list[np.ndarray]]] = []  # (last centre, joints)
    with PoseEstimator.create(PoseOptions(num_poses=2)) as pose:
        index = 0
        while True:
            ok, image = capture.read()
            if not ok:
                break
            found = pose.process(image, int(index * 1000 / fps))
            index += 1
            joints = mediapipe_to_ntu(found.world, found.visibility)
            for person in range(found.num_persons):
                centre = found.image[person, :, :2].mean(axis=0)
                near = [i for i, (c, _) in enumerate(tracks) if np.linalg.norm(c - centre) < 0.1]
                if near:
                    tracks[near[0]] = (centre, tracks[near[0]][1] + [joints[person]])
                else:
                    tracks.append((centre, [joints[person]]))
    capture.release()
    return [np.stack(js) for _, js in tracks if len(js) >= min_frames]


def _bone_lengths(clip: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """(T, bones) limb-bone lengths with depth (z) multiplied by `scale`."""
    a = clip[:, [p for p, _ in LIMB_BONES]]
    b = clip[:, [c for _, c in LIMB_BONES]]
    d = (b - a) * np.array([1.0, 1.0, scale])
    return np.sqrt((d * d).sum(-1))


def _cv(lengths: np.ndarray) -> float:
    """Median over bones of std / median of the length over frames (NaN frames left out)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        values = np.nanstd(lengths, axis=0) / np.nanmedian(lengths, axis=0)
    return float(np.nanmedian(values))


def clip_error(clip: np.ndarray) -> dict[str, float]:
    """Bone CV, depth scale and jitter of one (T, 25, 3) clip in camera axes (z = depth)."""
    size = sk.body_size(clip)
    cvs = [_cv(_bone_lengths(clip, s)) for s in SCALES]
    smooth = np.full_like(clip, np.nan)
    smooth[2:-2] = sum(clip[k : len(clip) - 4 + k] for k in range(5)) / 5
    residual = (clip - smooth) / size
    return {
        "bone_cv": _cv(_bone_lengths(clip)),
        "depth_scale": float(SCALES[int(np.nanargmin(cvs))]),
        "jitter_xy": float(np.nanmedian(np.nanstd(residual[..., :2], axis=0))),
        "jitter_z": float(np.nanmedian(np.nanstd(residual[..., 2], axis=0))),
    }


def source_clips(source: str, max_clips: int) -> list[np.ndarray]:
    """Up to `max_clips` raw clips (at least 30 frames) of a data-set source, spread over the set."""
    from actzero.training.dataset import load_dataset

    data = load_dataset(REPO / "cache" / "dataset-v3.npz")
    index = np.flatnonzero((data.sources == source) & (data.lengths() >= 30))
    index = index[np.linspace(0, len(index) - 1, min(max_clips, len(index))).astype(int)]
    return [data.clip(int(i)) for i in index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=VIDEO)
    parser.add_argument("--sources", nargs="*", default=["utd-mhad", "nw-ucla", "bandai-namco"])
    parser.add_argument("--max-clips", type=int, default=60)
    args = parser.parse_args()
    rows = {"mediapipe (sample video)": mediapipe_tracks(args.video)}
    for source in args.sources:
        rows[source] = source_clips(source, args.max_clips)
    if "bandai-namco" in rows:  # the error model of training/augment.py on clean motion capture
        from actzero.training.augment import AugmentConfig, camera_error

        config, rng = AugmentConfig(camera_error=True), np.random.default_rng(0)
        rows["bandai-namco + error model"] = [camera_error(c, config, rng) for c in rows["bandai-namco"]]
    table = Table(
        "3D error per source (medians over clips / tracks)",
        ("source", "clips", "bone CV", "depth scale", "jitter x/y", "jitter z"),
    )
    for name, clips in rows.items():
        stats = [clip_error(c) for c in clips]
        med = {k: float(np.median([s[k] for s in stats])) for k in stats[0]}
        table.add(
            name, str(len(clips)), f"{med['bone_cv']:.3f}", f"{med['depth_scale']:.2f}",
            f"{med['jitter_xy']:.4f}", f"{med['jitter_z']:.4f}",
        )  # fmt: skip
    print_tables([table])


if __name__ == "__main__":
    main()
