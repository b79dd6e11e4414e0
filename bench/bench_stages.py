"""Speed of every in-process stage of the live path, on the sample video and its real poses.

Stages: capture/decode of samples/sports2d-demo.mp4 (native size), MediaPipe pose estimation
(native size and 640x480, 1 and 2 people), the worker's per-frame work (MediaPipe -> NTU-25
mapping, tracking, buffering) and per-window work (resampling + canonicalisation), the model
per window (skeleton ONNX + SA-DVAE latent classifier + GZSL combination) batched and unbatched,
onnxruntime against PyTorch eager for the same network, and window lengths 32/64/128.

    python bench/bench_stages.py            # full
    python bench/bench_stages.py --quick    # few frames and repeats (a smoke run)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_pose  # noqa: E402  (bench/bench_pose.py: sample frames, MediaPipe timing)
import soak  # noqa: E402  (bench/soak.py: recorded MediaPipe poses of the sample video)
from report import Table, percentiles, print_tables, time_calls  # noqa: E402

from actzero.model.bundle import Bundle  # noqa: E402
from actzero.stream.capture import SAMPLE_VIDEO, VideoFileSource  # noqa: E402
from actzero.stream.frames import MEDIA_CLOCK, PoseFrame  # noqa: E402
from actzero.stream.protocol import decode_pose_frame, encode_pose_frame  # noqa: E402

BATCHES = (1, 8, 32, 128)


def decode_table(max_frames: int) -> Table:
    """Milliseconds per frame to read and decode the sample video with the project's capture source."""
    times = []
    with VideoFileSource(SAMPLE_VIDEO, realtime=False) as source:
        size = f"{source.width}x{source.height}"
        fps = source.fps
        while len(times) < max_frames:
            began = time.perf_counter()
            frame = source.read()
            if frame is None:
                break
            times.append((time.perf_counter() - began) * 1e3)
    p50, p95 = percentiles(times[1:])
    table = Table(
        "Capture/decode (stream.capture.VideoFileSource, every frame, OpenCV)",
        ("video", "frames", "ms/frame p50", "p95", "frames/s (1000/p50)", "x real time"),
    )
    table.add(f"{SAMPLE_VIDEO.name} {size} @ {fps:g} fps", len(times), p50, p95, 1000 / p50, 1000 / p50 / fps)
    return table


def pose_table(max_frames: int) -> Table:
    """MediaPipe PoseLandmarker ms/frame at native size and 640x480, num_poses 1 and 2."""
    frames = bench_pose.load_frames(max_frames)
    table = Table(
        "Pose estimation (MediaPipe PoseLandmarker full, VIDEO mode, CPU)",
        ("size", "num_poses", "persons/frame", "ms/frame p50", "p95", "frames/s (1000/p50)"),
    )
    for size in (None, (640, 480)):
        for num_poses in (1, 2):
            r = bench_pose.run(frames, size, num_poses)
            table.add(r["size"], num_poses, r["mean_persons"], r["median_ms"], r["p95_ms"], r["fps"])
    table.notes.append(
        f"the first {len(frames)} frames of {SAMPLE_VIDEO.name}, in order (the landmarker tracks between "
        "frames); 640x480 = the frame resized (aspect not kept); 1 person = num_poses=1 on the same "
        "frames (the sample shows 1 person in its first ~2 s, 2 after), not a crop"
    )
    return table


def _frames(persons: int, count: int) -> list[PoseFrame]:
    """`count` consecutive 30 fps pose frames of the recorded sample poses with at most `persons` people
    (media clock, as frames fed in-process; the recording ping-pongs so motion stays continuous)."""
    replay = soak.PoseReplay(1)
    frames = []
    for i in range(count):
        image, world, visibility = replay.poses[replay.cycle[i % len(replay.cycle)]]
        pose = (image[:persons], world[:persons], visibility[:persons])
        frames.append(soak.replayed_frame("cam0", i, pose, clock=MEDIA_CLOCK))
    return frames


def real_windows(count: int, window: int = 64) -> np.ndarray:
    """`count` canonical windows (count, window, 25, 3) cut from the sample video's recorded poses."""
    from actzero.model.canonical import canonicalise
    from actzero.model.mapping import mediapipe_to_ntu

    frames = _frames(2, window + 2 * count)
    both = [mediapipe_to_ntu(f.world, f.visibility) for f in frames if f.num_persons == 2]
    sequence = np.stack([b[0] for b in both] + [b[1] for b in both])
    starts = np.linspace(0, len(sequence) - window, count).astype(int)
    return np.stack([canonicalise(sequence[s : s + window]) for s in starts]).astype(np.float32)


def worker_steps_table(repeats: int) -> Table:
    """Per-frame and per-window work of the worker core on the recorded sample poses."""
    from actzero.model.canonical import canonicalise
    from actzero.model.mapping import mediapipe_to_ntu
    from actzero.model.windows import fit_length, resample_at, track_window
    from actzero.stream.worker import WorkerConfig, WorkerCore

    bundle = Bundle.load()
    table = Table(
        "Worker per-frame and per-window steps (numpy, one core)",
        ("step", "unit", "ms p50", "p95", "per second of 30 fps video, ms"),
    )
    frames2 = _frames(2, 60)
    for persons in (1, 2):
        frames = [f for f in _frames(persons, 60) if f.num_persons == persons]
        times = []
        for _ in range(max(1, repeats // len(frames))):
            for f in frames:
                began = time.perf_counter()
                mediapipe_to_ntu(f.world, f.visibility)
                times.append((time.perf_counter() - began) * 1e3)
        p50, p95 = percentiles(times)
        table.add("MediaPipe 33 -> NTU-25 mapping", f"frame, {persons} person(s)", p50, p95, 30 * p50)

    core = WorkerCore(bundle, config=WorkerConfig(stride=10**6))  # stride: never classify here
    ingest = []
    for i, f in enumerate(frames2 * max(1, repeats // len(frames2))):
        moved = soak.replayed_frame(f.source, i, (f.image, f.world, f.visibility), clock=MEDIA_CLOCK)
        began = time.perf_counter()
        core.ingest(moved)
        ingest.append((time.perf_counter() - began) * 1e3)
    p50, p95 = percentiles(ingest)
    table.add("WorkerCore.ingest (map + track + buffer)", "frame, 2 persons", p50, p95, 30 * p50)

    wire = []
    for f in frames2 * max(1, repeats // len(frames2)):
        began = time.perf_counter()
        decode_pose_frame(encode_pose_frame(f))
        wire.append((time.perf_counter() - began) * 1e3)
    p50, p95 = percentiles(wire)
    table.add("encode_pose_frame + decode_pose_frame (wire format)", "frame, 2 persons", p50, p95, 30 * p50)

    joints = np.stack([mediapipe_to_ntu(f.world, f.visibility)[0] for f in frames2 if f.num_persons])
    joints = np.concatenate([joints, joints[::-1]])[:64]
    ts = np.arange(len(joints)) / 30.0
    per_window = {
        "resample_at (timestamps -> 64 frames at 30 fps)": lambda: resample_at(
            ts, joints, ts[-1] - np.arange(63, -1, -1) / 30.0
        ),
        "canonicalise (64 frames)": lambda: canonicalise(joints),
        "fit_length (24 -> 64 frames, a young track)": lambda: fit_length(joints[:24], 64),
        "track_window (resample + canonicalise, 64 frames)": lambda: track_window(ts, joints, 64, 30.0, 64),
    }
    for name, fn in per_window.items():
        p50, p95 = percentiles(time_calls(fn, repeats))
        table.add(name, "window", p50, p95, 30 / 8 * p50)
    table.notes.append(
        "input: MediaPipe landmarks of 60 sample-video frames (640x360) recorded by bench/soak.py; "
        "'per second of video' = 30 frames, or 30/8 windows per track at the worker's default stride 8"
    )
    return table


def model_table(
    repeats: int,
    threads: tuple[int, ...],
    windows: np.ndarray | None = None,
    batches: tuple[int, ...] = BATCHES,
    added_actions: int = 0,
) -> Table:
    """The bundle's classifier per window: batched vs one window per call, and the ONNX part.

    Args:
        repeats: timed calls per row (fewer for big batches).
        threads: onnxruntime intra-op thread counts to compare (shipped label set).
        windows: canonical windows to tile into batches (default: 32 from the sample video).
        batches: batch sizes.
        added_actions: when > 0, also time (1 thread) the shipped actions plus this many added
            ones (the latent classifier and the seen/unseen combination run then).
    """
    from actzero.model.actions import Action

    table = Table(
        "Model per window: skeleton.onnx (backbone + SA-DVAE encoder) + latent classifier + GZSL",
        (
            "label set",
            "ort threads",
            "batch N",
            "ms/batch p50",
            "p95",
            "ms/window",
            "windows/s",
            "one window per call, ms",
            "batching speed-up",
            "of which ONNX ms/batch",
        ),
    )
    windows = real_windows(32) if windows is None else windows
    configs = [(t, 0) for t in threads] + ([(1, added_actions)] if added_actions else [])
    for n_threads, n_added in configs:
        bundle = Bundle.load(intra_op_threads=n_threads)
        extra = [
            Action(f"added action {i}", (f"A person repeats movement number {i} with the arms and legs.",))
            for i in range(n_added)
        ]
        clf = bundle.fit_classifier([*bundle.actions, *extra])
        label = f"{len(bundle.actions)} shipped" + (f" + {n_added} added" if n_added else "")
        for n in batches:
            batch = windows[np.arange(n) % len(windows)]
            reps = max(3, repeats // max(1, n // 8))
            batched = time_calls(lambda batch=batch, clf=clf: clf.probabilities(batch), reps)
            onnx = time_calls(lambda batch=batch, bundle=bundle: bundle.encode_windows(batch), reps)
            single = time_calls(lambda clf=clf: clf.probabilities(windows[:1]), max(reps, 10))
            p50, p95 = percentiles(batched)
            single_p50 = percentiles(single)[0]
            table.add(
                label, n_threads, n, p50, p95, p50 / n, 1000 * n / p50, single_p50, single_p50 * n / p50,
                percentiles(onnx)[0],
            )  # fmt: skip
    table.notes.append(
        "shipped actions only: the backbone's own softmax decides; with added actions the latent "
        "classifier and the calibrated seen/unseen combination run too; real canonical windows of the "
        "sample video; batching speed-up = (one window per call) x N / (batch of N)"
    )
    return table


def _random_networks(manifest: dict):
    """The bundle's backbone and SA-DVAE architectures (sizes from the manifest), random weights."""
    import torch

    from actzero.training.backbone import BackboneConfig, GraphBackbone
    from actzero.training.sadvae import SADVAE, SADVAEConfig

    torch.manual_seed(0)
    config = BackboneConfig.from_dict(
        {k: v for k, v in manifest["backbone"].items() if k != "macs_per_window"}
    )
    backbone = GraphBackbone(len(manifest["actions"]), config)
    vae = SADVAE(
        config.feature_dim,
        int(manifest["text_dim"]),
        SADVAEConfig(dz_r=manifest["dz_r"], dz_v=manifest["dz_v"]),
    )
    return backbone.eval(), vae.eval()


def torch_vs_ort_table(repeats: int, threads: tuple[int, ...], windows_lengths=(32, 64, 128)) -> Table:
    """onnxruntime vs PyTorch eager on the same network (export round trip), and window lengths."""
    import onnxruntime as ort
    import torch

    from actzero.training.export import SkeletonNetwork, export_networks

    manifest = Bundle.load().manifest
    table = Table(
        "onnxruntime vs PyTorch eager, same network and weights (export round trip)",
        (
            "window T",
            "threads",
            "batch N",
            "torch ms/batch p50",
            "ort ms/batch p50",
            "torch / ort",
            "ort ms/window",
            "shipped skeleton.onnx ms/batch",
            "max |torch - ort|",
        ),
    )
    previous = torch.get_num_threads()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        for window in windows_lengths:
            backbone, vae = _random_networks(manifest)
            network = SkeletonNetwork(backbone, vae).eval()
            sub = Path(folder) / f"T{window}"
            diff = export_networks(backbone, vae, sub, window=window)["skeleton.onnx"]
            for n_threads in threads:
                torch.set_num_threads(n_threads)
                options = ort.SessionOptions()
                options.intra_op_num_threads = n_threads
                options.inter_op_num_threads = 1
                session = ort.InferenceSession(
                    str(sub / "skeleton.onnx"), options, providers=["CPUExecutionProvider"]
                )
                shipped = Bundle.load(intra_op_threads=n_threads) if window == manifest["window"] else None
                for n in BATCHES if window == manifest["window"] else (32,):
                    batch = (rng.normal(0, 0.5, (n, window, 25, 3))).astype(np.float32)
                    tensor = torch.from_numpy(batch)
                    reps = max(3, repeats // max(1, n // 8))

                    def run_torch(tensor=tensor, network=network):
                        with torch.inference_mode():
                            network(tensor)

                    t_ms = percentiles(time_calls(run_torch, reps))[0]
                    o_ms = percentiles(
                        time_calls(lambda b=batch, session=session: session.run(None, {"windows": b}), reps)
                    )[0]
                    s_ms = (
                        percentiles(
                            time_calls(lambda b=batch, shipped=shipped: shipped.encode_windows(b), reps)
                        )[0]
                        if shipped is not None
                        else "static T=64"
                    )
                    table.add(window, n_threads, n, t_ms, o_ms, t_ms / o_ms, o_ms / n, s_ms, f"{diff:.1e}")
    torch.set_num_threads(previous)
    table.notes += [
        "the bundle ships ONNX only (no torch weights), so both sides are the bundle's architecture "
        "(training.backbone.GraphBackbone + training.sadvae.SADVAE encoder, sizes from the manifest) "
        "with random weights, exported by training.export.export_networks; speed does not depend on "
        "weight values; the shipped skeleton.onnx column times the real bundle at the same batch",
        "torch eager under torch.inference_mode(); inputs random (N, T, 25, 3) float32",
        "window lengths: the shipped skeleton.onnx has a static time axis of 64 frames "
        "(dynamic axis: batch only); the architecture itself takes any T, so T=32/128 are measured on "
        "exports at those lengths",
    ]
    return table


def canonical_lengths_table(repeats: int) -> Table:
    """canonicalise cost per window for window lengths 32/64/128 (real poses)."""
    from actzero.model.canonical import canonicalise
    from actzero.model.mapping import mediapipe_to_ntu

    frames = [f for f in _frames(2, 130) if f.num_persons]
    seq = np.stack([mediapipe_to_ntu(f.world, f.visibility)[0] for f in frames])
    table = Table("canonicalise per window vs window length", ("window T", "ms p50", "p95"))
    for window in (32, 64, 128):
        p50, p95 = percentiles(time_calls(lambda w=window: canonicalise(seq[:w]), repeats))
        table.add(window, p50, p95)
    return table


def run(quick: bool = False) -> list[Table]:
    """All stage tables (quick: few frames and repeats)."""
    frames = 20 if quick else 230
    repeats = 5 if quick else 50
    threads = (1,) if quick else (1, 2)
    tables = [decode_table(frames), pose_table(12 if quick else 230), worker_steps_table(repeats)]
    tables.append(model_table(repeats, threads, added_actions=0 if quick else 26))
    tables.append(torch_vs_ort_table(repeats, threads, (64,) if quick else (32, 64, 128)))
    tables.append(canonical_lengths_table(repeats))
    return tables


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="few frames and repeats")
    args = parser.parse_args()
    print_tables(run(args.quick))


if __name__ == "__main__":
    main()
