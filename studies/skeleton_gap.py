"""Measure the gap between live skeletons (MediaPipe on real video -> model.mapping) and the
training skeletons (Bandai Namco BVH -> model.bvh), both canonicalised.

Prints three tables:
1. bone lengths relative to body size (median over frames), MediaPipe vs BVH;
2. mean canonical positions of the torso and head joints (per-frame canonical frame);
3. calibration: scale-free proportions measured on the raw MediaPipe landmarks and on the
   BVH-derived joints, and the `model.mapping` constants they imply.

With --kinect, prints instead the bone lengths of the Kinect sources (training/kinect_sources.py,
raw joints over each clip's body size) against the NTU template body (model.canonical.TEMPLATE_POSE).

Run (needs ../shared/data/video and the Bandai archives extracted under cache/bandai-namco):
    python studies/skeleton_gap.py
    python studies/skeleton_gap.py --kinect utd-mhad kinder-gator nw-ucla msr-action3d citi
    python studies/skeleton_gap.py --normalise-bones
    python studies/skeleton_gap.py --bvh-glob 'cache/bandai-namco/*/data/*_walk_*.bvh' --max-clips 12
"""

from __future__ import annotations

import argparse
import glob
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from actzero.model import mapping as mpm
from actzero.model import skeleton as sk
from actzero.model.bvh import read_bvh_ntu
from actzero.model.canonical import CanonicalisationError, canonicalise, normalise_bone_lengths

REPO = Path(__file__).resolve().parents[1]
VIDEO = REPO.parent / "shared" / "data" / "video" / "sports2d-demo.mp4"
BVH_GLOB = str(REPO / "cache" / "bandai-namco" / "*" / "data" / "*_walk_normal_*.bvh")


def mediapipe_landmarks(video: Path) -> tuple[np.ndarray, np.ndarray]:
    """World landmarks (F, 33, 3) and visibility (F, 33) of every person in every frame."""
    import cv2

    from actzero.stream.pose import PoseEstimator, PoseOptions

    capture = cv2.VideoCapture(str(video))
    fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
    worlds, visibilities = [], []
    with PoseEstimator.create(PoseOptions(num_poses=2)) as pose:
        index = 0
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            found = pose.process(frame, int(index * 1000 / fps))
            world, visibility = found.world, found.visibility
            worlds.extend(world)
            visibilities.extend(visibility)
            index += 1
    capture.release()
    return np.asarray(worlds), np.asarray(visibilities)


def bvh_joints(paths: list[str], step: int) -> np.ndarray:
    """NTU joints (F, 25, 3) of every `step`-th frame of the given BVH clips."""
    return np.concatenate([read_bvh_ntu(path)[0][::step] for path in paths])


def synthetic_joints(step: int) -> np.ndarray:
    """NTU joints (F, 25, 3) of every `step`-th frame of two synthetic clips per synthetic class."""
    from actzero.training.synthetic import generate_clips

    return np.concatenate([clip.joints[::step] for clip in generate_clips(clips_per_class=2, seed=0)])


def per_frame_canonical(frames: np.ndarray, bones: bool) -> np.ndarray:
    """Canonicalise each frame on its own (then normalise bone lengths if `bones`); joints missing
    in the input stay NaN, frames that cannot be canonicalised are dropped."""
    out = []
    for frame in frames:
        try:
            canonical = canonicalise(frame[None])
        except CanonicalisationError:
            continue
        canonical = (normalise_bone_lengths(canonical) if bones else canonical)[0]
        canonical[np.isnan(frame).any(axis=-1)] = np.nan
        out.append(canonical)
    return np.asarray(out)


def _norm(v: np.ndarray) -> np.ndarray:
    return np.linalg.norm(v, axis=-1)


def _median(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    return float(np.median(values)) if values.size else float("nan")


def bone_table(live: np.ndarray, train: np.ndarray) -> Table:
    table = Table(title="Bone length / body size (median over frames)")
    for col in ("bone (child <- parent)", "MediaPipe", "BVH", "MP / BVH"):
        table.add_column(col, justify="right" if col != "bone (child <- parent)" else "left")
    log_ratios = []
    for child, parent in sk.BONES:
        a = _median(_norm(live[:, child] - live[:, parent]))
        b = _median(_norm(train[:, child] - train[:, parent]))
        log_ratios.append(abs(np.log(a / b)))
        name = f"{sk.JOINT_NAMES[child]} <- {sk.JOINT_NAMES[parent]}"
        table.add_row(name, f"{a:.3f}", f"{b:.3f}", f"{a / b:.2f}")
    table.caption = f"mean |log(MP / BVH)| over the 24 bones: {np.mean(log_ratios):.3f}"
    for name, (i, j) in {
        "hip width": (sk.L_HIP, sk.R_HIP),
        "shoulder width": (sk.L_SHOULDER, sk.R_SHOULDER),
    }.items():
        a, b = _median(_norm(live[:, i] - live[:, j])), _median(_norm(train[:, i] - train[:, j]))
        table.add_row(name, f"{a:.3f}", f"{b:.3f}", f"{a / b:.2f}")
    return table


TORSO = (sk.SPINE_BASE, sk.SPINE_MID, sk.NECK, sk.HEAD, sk.SPINE_SHOULDER, sk.L_SHOULDER, sk.L_HIP, sk.L_KNEE)


def position_table(live: np.ndarray, train: np.ndarray) -> Table:
    table = Table(
        title="Canonical joint positions, per-frame canonical frame (median x, y, z; body size = 1)"
    )
    for col in ("joint", "MediaPipe", "BVH", "distance"):
        table.add_column(col, justify="right" if col != "joint" else "left")
    distances = np.linalg.norm(np.nanmedian(live, axis=0) - np.nanmedian(train, axis=0), axis=-1)
    table.caption = f"mean distance of the median positions over all 25 joints: {np.mean(distances):.3f}"
    for j in TORSO:
        a = np.nanmedian(live[:, j], axis=0)
        b = np.nanmedian(train[:, j], axis=0)
        table.add_row(
            sk.JOINT_NAMES[j],
            " ".join(f"{v:+.3f}" for v in a),
            " ".join(f"{v:+.3f}" for v in b),
            f"{np.linalg.norm(a - b):.3f}",
        )
    return table


def _proportions_mediapipe(world: np.ndarray, visibility: np.ndarray) -> dict[str, float]:
    """Scale-free proportions of the raw MediaPipe landmarks (frames with all used landmarks visible)."""
    p = np.where((visibility >= 0.5)[..., None], world, np.nan)
    mid_hip = (p[:, mpm.MP_L_HIP] + p[:, mpm.MP_R_HIP]) / 2
    mid_sh = (p[:, mpm.MP_L_SHOULDER] + p[:, mpm.MP_R_SHOULDER]) / 2
    torso = _norm(mid_sh - mid_hip)
    ears = (p[:, mpm.MP_L_EAR] + p[:, mpm.MP_R_EAR]) / 2
    hand = (p[:, mpm.MP_L_WRIST] + p[:, mpm.MP_L_PINKY] + p[:, mpm.MP_L_INDEX]) / 3
    return {
        "hip width / shoulder width": _median(
            _norm(p[:, mpm.MP_L_HIP] - p[:, mpm.MP_R_HIP])
            / _norm(p[:, mpm.MP_L_SHOULDER] - p[:, mpm.MP_R_SHOULDER])
        ),
        "shoulder width / torso": _median(_norm(p[:, mpm.MP_L_SHOULDER] - p[:, mpm.MP_R_SHOULDER]) / torso),
        "thigh / torso": _median(_norm(p[:, mpm.MP_L_KNEE] - p[:, mpm.MP_L_HIP]) / torso),
        "shin / torso": _median(_norm(p[:, mpm.MP_L_ANKLE] - p[:, mpm.MP_L_KNEE]) / torso),
        "upper arm / torso": _median(_norm(p[:, mpm.MP_L_ELBOW] - p[:, mpm.MP_L_SHOULDER]) / torso),
        "head (mid-ears) above mid-shoulders / torso": _median(_norm(ears - mid_sh) / torso),
        "ankle -> foot joint / shin": _median(
            _norm(p[:, mpm.MP_L_FOOT_INDEX] - p[:, mpm.MP_L_ANKLE])
            / _norm(p[:, mpm.MP_L_ANKLE] - p[:, mpm.MP_L_KNEE])
        ),
        "wrist -> hand joint / forearm": _median(
            _norm(hand - p[:, mpm.MP_L_WRIST]) / _norm(p[:, mpm.MP_L_WRIST] - p[:, mpm.MP_L_ELBOW])
        ),
    }


def _along(point: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Position of `point` along start -> end as a fraction of its length (per frame)."""
    axis = end - start
    return np.einsum("ij,ij->i", point - start, axis) / np.einsum("ij,ij->i", axis, axis)


def _proportions_ntu(j: np.ndarray) -> dict[str, float]:
    """The same proportions for NTU joints whose hips/shoulders are the anatomical joints (BVH)."""

    def length(a: int, b: int) -> np.ndarray:
        return _norm(j[:, a] - j[:, b])

    mid_hip = (j[:, sk.L_HIP] + j[:, sk.R_HIP]) / 2
    mid_sh = (j[:, sk.L_SHOULDER] + j[:, sk.R_SHOULDER]) / 2
    torso = _norm(mid_sh - mid_hip)
    shin = length(sk.L_ANKLE, sk.L_KNEE)
    base, ss = j[:, sk.SPINE_BASE], j[:, sk.SPINE_SHOULDER]
    return {
        "hip width / shoulder width": _median(
            length(sk.L_HIP, sk.R_HIP) / length(sk.L_SHOULDER, sk.R_SHOULDER)
        ),
        "shoulder width / torso": _median(length(sk.L_SHOULDER, sk.R_SHOULDER) / torso),
        "thigh / torso": _median(length(sk.L_KNEE, sk.L_HIP) / torso),
        "shin / torso": _median(shin / torso),
        "upper arm / torso": _median(length(sk.L_ELBOW, sk.L_SHOULDER) / torso),
        "head (mid-ears) above mid-shoulders / torso": _median(_norm(j[:, sk.HEAD] - mid_sh) / torso),
        "ankle -> foot joint / shin": _median(length(sk.L_FOOT, sk.L_ANKLE) / shin),
        "wrist -> hand joint / forearm": _median(
            length(sk.L_HAND, sk.L_WRIST) / length(sk.L_WRIST, sk.L_ELBOW)
        ),
        # Where the NTU torso joints sit along mid-hips -> mid-shoulders (0 = hips, 1 = shoulders).
        "spine_base along hips -> shoulders": _median(_along(base, mid_hip, mid_sh)),
        "spine_shoulder along hips -> shoulders": _median(_along(ss, mid_hip, mid_sh)),
        "spine_mid along spine_base -> spine_shoulder": _median(_along(j[:, sk.SPINE_MID], base, ss)),
        "neck along spine_shoulder -> head": _median(_along(j[:, sk.NECK], ss, j[:, sk.HEAD])),
        "l_hip along hips -> shoulders": _median(_along(j[:, sk.L_HIP], mid_hip, mid_sh)),
    }


def calibration_table(world: np.ndarray, visibility: np.ndarray, train: np.ndarray) -> Table:
    live_raw = _proportions_mediapipe(world, visibility)
    live_mapped = _proportions_ntu(mpm.mediapipe_to_ntu(world, visibility))
    train_props = _proportions_ntu(train)
    table = Table(title="Proportions: raw MediaPipe landmarks, mapped MediaPipe (NTU), BVH (NTU)")
    for col in ("proportion", "MP raw", "MP mapped", "BVH"):
        table.add_column(col, justify="right" if col != "proportion" else "left")
    for name, value in train_props.items():
        raw = live_raw.get(name, float("nan"))
        table.add_row(name, f"{raw:.3f}", f"{live_mapped[name]:.3f}", f"{value:.3f}")
    return table


def kinect_bone_table(sources: list[str], shared: Path, cache: Path, max_clips: int) -> Table:
    """Median bone length / body size of each Kinect source's clips (every n-th clip, at most
    `max_clips`) next to the NTU template's; the caption gives each source's mean |log ratio|."""
    from actzero.model.canonical import TEMPLATE_POSE
    from actzero.training.kinect_sources import iter_clips

    pairs = [*sk.BONES, (sk.L_HIP, sk.R_HIP), (sk.L_SHOULDER, sk.R_SHOULDER)]
    names = [f"{sk.JOINT_NAMES[c]} <- {sk.JOINT_NAMES[p]}" for c, p in sk.BONES] + [
        "hip width",
        "shoulder width",
    ]
    template = np.array([_norm(TEMPLATE_POSE[c] - TEMPLATE_POSE[p]) for c, p in pairs])
    ratios = {}
    for source in sources:
        clips = list(iter_clips(source, shared, cache))
        lengths = []
        for clip in clips[:: max(1, len(clips) // max_clips)][:max_clips]:
            joints = clip.joints.astype(np.float64)
            lengths.append(
                np.stack([_norm(joints[:, c] - joints[:, p]) for c, p in pairs], -1) / sk.body_size(joints)
            )
        ratios[source] = np.array([_median(column) for column in np.concatenate(lengths).T]) / template
    table = Table(title="Bone length / body size: Kinect sources over the NTU template (median over frames)")
    table.add_column("bone (child <- parent)")
    table.add_column("template", justify="right")
    for source in sources:
        table.add_column(source, justify="right")
    for i, name in enumerate(names):
        table.add_row(name, f"{template[i]:.3f}", *(f"{ratios[s][i]:.2f}" for s in sources))
    gaps = {s: np.nanmean(np.abs(np.log(r[: len(sk.BONES)]))) for s, r in ratios.items()}
    table.caption = "mean |log(source / template)| over the bones (NaN thumbs left out): " + ", ".join(
        f"{s} {g:.3f}" for s, g in gaps.items()
    )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", type=Path, default=VIDEO)
    parser.add_argument("--bvh-glob", default=BVH_GLOB)
    parser.add_argument("--max-clips", type=int, default=8)
    parser.add_argument(
        "--reference",
        choices=("bvh", "synthetic"),
        default="bvh",
        help="training skeletons to compare with: Bandai BVH clips or training.synthetic bodies",
    )
    parser.add_argument("--step", type=int, default=3, help="use every N-th BVH frame")
    parser.add_argument(
        "--normalise-bones", action="store_true", help="apply canonical.normalise_bone_lengths to both"
    )
    parser.add_argument("--kinect", nargs="+", metavar="SOURCE", help="compare these Kinect sources instead")
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--cache", type=Path, default=REPO / "cache" / "kinect")
    args = parser.parse_args()

    console = Console()
    if args.kinect:
        console.print(kinect_bone_table(args.kinect, args.shared, args.cache, max(args.max_clips, 1)))
        return
    if args.reference == "bvh":
        paths = sorted(glob.glob(args.bvh_glob))[: args.max_clips]
        if not paths:
            raise SystemExit(f"no BVH files match {args.bvh_glob} (extract the Bandai archives under cache/)")
        train_raw = bvh_joints(paths, args.step)
        source = f"BVH: {len(train_raw)} frames from {len(paths)} clips ({Path(paths[0]).name} ...)"
    else:
        train_raw = synthetic_joints(args.step)
        source = f"synthetic: {len(train_raw)} frames"
    world, visibility = mediapipe_landmarks(args.video)
    live = per_frame_canonical(mpm.mediapipe_to_ntu(world, visibility), args.normalise_bones)
    train = per_frame_canonical(train_raw, args.normalise_bones)
    console.print(
        f"MediaPipe: {len(world)} person-frames from {args.video.name} ({len(live)} canonicalised); "
        f"{source}; the 'BVH' columns hold the {args.reference} reference"
    )
    names = ("HIP_WIDTH_SCALE", "HIP_RAISE", "SPINE_BASE_RAISE", "SPINE_SHOULDER_RAISE", "SPINE_MID_FRACTION")
    names += ("NECK_FRACTION",)
    names += ("HAND_TIP_EXTENSION", "THUMB_EXTENSION", "FOOT_FRACTION")
    console.print("mapping constants: " + " ".join(f"{n}={getattr(mpm, n, '-')}" for n in names))
    console.print(bone_table(live, train))
    console.print(position_table(live, train))
    console.print(calibration_table(world, visibility, train_raw))


if __name__ == "__main__":
    main()
