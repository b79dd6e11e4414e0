"""Annotation speed on the sample video: real-time factor and per-stage seconds.

- `actzero annotate` as a user runs it (a fresh process: start-up, model loading, JSON/CSV
  writing included), with and without the annotated video, when the command exists;
- the pipeline in-process (`stream.annotate.annotate_video` with a loaded bundle) for each speed
  setting (pose on every frame or every 2nd, native size or downscaled), with the median seconds
  of its stages (decode on its own thread, pose, worker) and whether the labels per person and
  time match those of the default setting;
- with --cluster, `actzero annotate FOLDER --cluster local:2` on 4 short cuts of the sample.

Real-time factor (RTF) = video seconds / wall seconds (above 1 = faster than real time). The load
average (1 min) is printed with each table: the machine may be shared.

    python bench/bench_annotate.py [--quick] [--cluster]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import Table, print_tables  # noqa: E402

from actzero.stream.capture import SAMPLE_VIDEO  # noqa: E402

CLI = [sys.executable, "-c", "from actzero.cli.main import app; app()"]


def _video_seconds(path: Path) -> tuple[float, int]:
    import cv2

    capture = cv2.VideoCapture(str(path))
    try:
        fps, frames = capture.get(cv2.CAP_PROP_FPS), int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    finally:
        capture.release()
    return frames / fps, frames


def cli_help() -> str | None:
    """`actzero annotate --help` text, or None when the command or its --video-out option is missing."""
    done = subprocess.run(
        [*CLI, "annotate", "--help"], capture_output=True, text=True, timeout=120, env=_WIDE
    )
    return done.stdout if done.returncode == 0 and "--video-out" in done.stdout else None


_WIDE = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}


def cli_rows(repeats: int, help_text: str) -> list[tuple[str, list[float]]]:
    """Wall seconds of `actzero annotate` on a copy of the sample video: one pose process, the
    defaults, and the defaults with --video-out.

    The copy sits in a temporary folder, so outputs written beside the video land there.
    """
    takes_value = re.search(r"--video-out\s+(PATH|FILE|TEXT)", help_text) is not None
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        commands = (
            ("actzero annotate --pose-jobs 1", ["--pose-jobs", "1"], False),
            ("actzero annotate", [], False),
            ("actzero annotate --video-out", [], True),
        )
        for label, extra, with_video in commands:
            times = []
            for r in range(repeats):
                run_dir = Path(folder) / f"{len(rows)}-{r}"
                run_dir.mkdir()
                video = run_dir / SAMPLE_VIDEO.name
                shutil.copyfile(SAMPLE_VIDEO, video)
                command = [*CLI, "annotate", str(video), *extra]
                if with_video:
                    command += ["--video-out"] + ([str(run_dir / "out.mp4")] if takes_value else [])
                began = time.perf_counter()
                env = {**_WIDE, "ACTZERO_CONFIG_DIR": str(run_dir / "config")}  # the bundle's actions
                done = subprocess.run(
                    command, capture_output=True, text=True, timeout=900, cwd=run_dir, env=env
                )
                times.append(time.perf_counter() - began)
                if done.returncode != 0:
                    raise RuntimeError(
                        f"{' '.join(command[3:])} failed: {(done.stdout + done.stderr)[-1500:]}"
                    )
                if with_video and not any(p.suffix == ".mp4" and p != video for p in run_dir.rglob("*")):
                    raise RuntimeError(f"{' '.join(command[3:])} wrote no video into {run_dir}")
            rows.append((label, times))
    return rows


SETTINGS = (  # (label, pose_every, pose_width, pose_jobs); the first is the reference for labels
    ("every frame, native size, 1 process", 1, None, 1),
    ("--pose-jobs 2 (the command's default)", 1, None, 2),
    ("--pose-width 640", 1, 640, 1),
    ("--pose-every 2", 2, None, 1),
    ("--pose-every 2 --pose-jobs 2", 2, None, 2),
    ("--pose-every 2 --pose-width 640 --pose-jobs 2", 2, 640, 2),
)


def _timeline(annotation) -> list[tuple[float, float, str | None]]:
    """Every segment of every track, as (start, end, label), for comparing settings."""
    return sorted((s.start_s, s.end_s, s.label) for p in annotation.persons for s in p.segments)


def label_agreement(reference, other, step: float = 0.05) -> float | None:
    """Fraction of the reference's labelled person-time that `other` labels the same.

    At each `step` within a reference segment, the label counts as the same when a segment of
    `other` covering that time carries it (any track: track ids differ between settings).
    """
    checked = same = 0
    theirs = _timeline(other)
    for start, end, label in _timeline(reference):
        for t in [start + i * step for i in range(int((end - start) / step) + 1)]:
            checked += 1
            same += any(a <= t <= b and lab == label for a, b, lab in theirs)
    return same / checked if checked else None  # None: the reference labelled nothing


def label_ranges(annotation) -> str:
    """One line per track: its time range and its labelled segments."""
    return "\n".join(
        f"  track {p.track} {p.first_s:.2f}-{p.last_s:.2f} s: "
        + ", ".join(f"{s.start_s:.2f}-{s.end_s:.2f} {s.label or '-'}" for s in p.segments)
        for p in annotation.persons
    )


def in_process_rows(repeats: int, max_frames: int | None) -> tuple[list[tuple], float, dict[str, str]]:
    """Per setting: wall seconds, stage seconds, label agreement with the first setting and whether
    the JSON tracks are identical to it, the handover frames and the load (annotate_video with
    the bundle loaded). The settings run in turn within each repeat, so load changes hit all alike.
    """
    from actzero.model.bundle import Bundle
    from actzero.stream.annotate import annotate_video, render_video
    from actzero.stream.worker import WorkerCore

    setup_start = time.perf_counter()
    core = WorkerCore(Bundle.load())
    core.warm_up()
    setup_s = time.perf_counter() - setup_start
    video = SAMPLE_VIDEO
    walls: dict[str, list[float]] = {label: [] for label, *_ in SETTINGS}
    stages: dict[str, dict[str, list[float]]] = {label: {} for label, *_ in SETTINGS}
    loads: dict[str, list[float]] = {label: [] for label, *_ in SETTINGS}
    first: dict[str, object] = {}
    handovers: dict[str, list[int]] = {}
    with tempfile.TemporaryDirectory() as folder:
        if max_frames is not None:
            video = _cut(SAMPLE_VIDEO, Path(folder) / "cut.mp4", max_frames)
        for _ in range(repeats):
            for label, every, width, jobs in SETTINGS:
                annotation = annotate_video(video, core, pose_every=every, pose_width=width, pose_jobs=jobs)
                walls[label].append(annotation.processing_s)
                for name, seconds in annotation.stages.items():
                    stages[label].setdefault(name, []).append(seconds)
                loads[label].append(_load())
                first.setdefault(label, annotation)
                handovers[label] = annotation.pose_handovers
        reference = first[SETTINGS[0][0]]
        rows = []
        for label, *_ in SETTINGS:
            annotation = first[label]
            identical = annotation.to_json()["tracks"] == reference.to_json()["tracks"]
            rows.append(
                (
                    label,
                    walls[label],
                    {k: _median(v) for k, v in stages[label].items()},
                    label_agreement(reference, annotation),
                    "yes" if identical else "no",
                    " ".join(map(str, handovers[label])) or "-",
                    _median(loads[label]),
                )
            )
        render = []
        for _ in range(repeats):
            annotation = annotate_video(video, core, keep_poses=True)
            began = time.perf_counter()
            render_video(annotation, Path(folder) / "out.mp4")
            render.append(time.perf_counter() - began)
        rows.append(("render_video (--video-out adds)", render, {}, "", "", "", _load()))
    return rows, setup_s, {label: label_ranges(first[label]) for label, *_ in SETTINGS}


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def _load() -> float:
    return os.getloadavg()[0]


def cluster_row(videos: int = 4, seconds: float = 2.0) -> tuple[float, float, float, float]:
    """`actzero annotate FOLDER --cluster local:2` on `videos` cuts of `seconds` each.

    Returns:
        Wall seconds, video seconds, the summed per-video processing seconds, the load average.
    """
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "videos"
        root.mkdir()
        frames = int(round(seconds * 30))
        for i in range(videos):
            _cut(SAMPLE_VIDEO, root / f"clip{i}.mp4", frames)
        out = Path(folder) / "out"
        env = {**_WIDE, "ACTZERO_CONFIG_DIR": str(Path(folder) / "config")}
        command = [*CLI, "annotate", str(root), "--out", str(out), "--cluster", "local:2"]
        began = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, timeout=900, env=env)
        wall = time.perf_counter() - began
        if done.returncode != 0:
            raise RuntimeError(f"annotate --cluster failed: {(done.stdout + done.stderr)[-1500:]}")
        outputs = [json.loads(p.read_text()) for p in sorted(out.glob("*.actzero.json"))]
        if len(outputs) != videos:
            raise RuntimeError(f"annotate --cluster wrote {len(outputs)} of {videos} outputs")
        video_s = sum(o["video"]["duration_s"] for o in outputs)
        return wall, video_s, sum(o["processing_s"] for o in outputs), _load()


def _cut(source: Path, target: Path, frames: int) -> Path:
    """The first `frames` frames of a video (quick runs)."""
    import cv2

    capture = cv2.VideoCapture(str(source))
    fps = capture.get(cv2.CAP_PROP_FPS)
    writer = None
    for _ in range(frames):
        ok, image = capture.read()
        if not ok:
            break
        if writer is None:
            height, width = image.shape[:2]
            writer = cv2.VideoWriter(str(target), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
        writer.write(image)
    capture.release()
    writer.release()
    return target


def run(quick: bool = False, cluster: bool = False, repeats: int = 3, with_cli: bool = True) -> list[Table]:
    """The annotation-speed tables (quick: 30 frames, in-process only, one repeat)."""
    repeats = 1 if quick else repeats
    frames = 30 if quick else None
    video_s, total_frames = _video_seconds(SAMPLE_VIDEO)
    if frames is not None:
        video_s, total_frames = frames / (total_frames / video_s), frames
    rows, setup_s, ranges = in_process_rows(repeats, frames)
    table = Table(
        "Annotating a video file",
        (
            "pipeline",
            "runs",
            "wall s p50",
            "RTF (video s / wall s)",
            "decode s",
            "pose s",
            "worker s",
            "labels as first row",
            "JSON tracks identical",
            "handover frame",
            "load avg",
        ),
    )
    help_text = None if quick or not with_cli else cli_help()
    if help_text is not None:
        for label, times in cli_rows(repeats, help_text):
            p50 = _median(times)
            table.add(label, len(times), p50, video_s / p50, "", "", "", "", "", "", _load())
    for label, times, stages, agreement, identical, handover, load in rows:
        p50 = _median(times)
        table.add(
            label,
            len(times),
            p50,
            video_s / p50,
            stages.get("decode", ""),
            stages.get("pose", ""),
            stages.get("worker", ""),
            agreement if isinstance(agreement, str) else "n/a" if agreement is None else f"{agreement:.0%}",
            identical,
            handover,
            load,
        )
    table.notes += [
        f"{SAMPLE_VIDEO.name}: {total_frames} frames, {video_s:.2f} s of video at 1768x994, MediaPipe "
        "num_poses 4; medians over the runs; RTF = video s / wall s (above 1 = faster than real time)",
        "decode runs on its own thread, overlapping pose; its seconds are not part of the wall time's "
        "critical path when pose is slower. Stage seconds are wall time inside each stage",
        "labels as first row: the share of the first row's labelled person-time (0.05 s steps) "
        "where the setting gives the same label (MediaPipe finds and tracks persons differently on a "
        "downscaled or skipped frame, so track starts, ends and labels move); JSON tracks identical: "
        "every segment, score and top-5 equal",
        "handover frame: where the second pose process took over (stream/pose_parallel.py: once both "
        "give bit-identical poses on 2 estimated frames; '-' = never, the first process did every frame)",
        f"in-process rows exclude loading the bundle and warming up ({setup_s:.2f} s, once per process); "
        "the settings run in turn in each repeat; load avg = median 1-minute load average at the end of "
        "the runs (2 cores)",
    ]
    if help_text is not None:
        table.notes.append(
            "`actzero annotate` rows are whole commands in a fresh process (start-up, model loading and "
            "the printed timeline included), default settings, on a copy of the sample with an empty "
            "config folder (ACTZERO_CONFIG_DIR), so the label set is the bundle's actions"
        )
    table.notes += [f"labels of {label}:\n{text}" for label, text in ranges.items()]
    tables = [table]
    if cluster and not quick:
        wall, cut_s, processing_s, load = cluster_row()
        scale = Table(
            "Annotating a folder on a local Dask cluster",
            (
                "command",
                "videos",
                "video s",
                "wall s",
                "RTF (video s / wall s)",
                "sum of per-video s",
                "load avg",
            ),
        )
        scale.add(
            "actzero annotate FOLDER --cluster local:2", 4, cut_s, wall, cut_s / wall, processing_s, load
        )
        scale.notes.append(
            "4 cuts of the first 2 s of the sample (1768x994), one run; wall = the whole command (cluster "
            "start, 2 worker processes each loading MediaPipe and the model, the 4 tasks, shutdown)"
        )
        tables.append(scale)
    return tables


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="30 frames, in-process only")
    parser.add_argument("--cluster", action="store_true", help="also time --cluster local:2 (needs Dask)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per setting (default 3)")
    parser.add_argument("--no-cli", action="store_true", help="skip the whole-command rows")
    args = parser.parse_args()
    print_tables(run(args.quick, args.cluster, args.repeats, not args.no_cli))


if __name__ == "__main__":
    main()
