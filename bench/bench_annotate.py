"""Annotation speed on the sample video: seconds of processing per second of video.

Two measurements, each with and without writing the annotated video:

- `actzero annotate` as a user runs it (a fresh process: start-up, model loading, JSON/CSV
  writing included), when the command exists;
- the same pipeline in-process (`stream.annotate.annotate_video` with a loaded bundle, then
  `render_video`), which separates start-up from per-frame work.

Real-time factor = processing seconds / video seconds (below 1 = faster than real time).

    python bench/bench_annotate.py [--quick]
"""

from __future__ import annotations

import argparse
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
    """Wall seconds of `actzero annotate` on a copy of the sample video, without and with --video-out.

    The copy sits in a temporary folder, so outputs written beside the video land there.
    """
    takes_value = re.search(r"--video-out\s+(PATH|FILE|TEXT)", help_text) is not None
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for label, with_video in (("actzero annotate", False), ("actzero annotate --video-out", True)):
            times = []
            for r in range(repeats):
                run_dir = Path(folder) / f"{int(with_video)}-{r}"
                run_dir.mkdir()
                video = run_dir / SAMPLE_VIDEO.name
                shutil.copyfile(SAMPLE_VIDEO, video)
                command = [*CLI, "annotate", str(video)]
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


def in_process_rows(repeats: int, max_frames: int | None) -> tuple[list[tuple[str, list[float]]], float]:
    """Seconds for annotate_video alone and with render_video, with the bundle already loaded."""
    from actzero.model.bundle import Bundle
    from actzero.stream.annotate import annotate_video, render_video
    from actzero.stream.worker import WorkerCore

    setup_start = time.perf_counter()
    core = WorkerCore(Bundle.load())
    core.warm_up()
    setup_s = time.perf_counter() - setup_start
    video = SAMPLE_VIDEO
    with tempfile.TemporaryDirectory() as folder:
        if max_frames is not None:
            video = _cut(SAMPLE_VIDEO, Path(folder) / "cut.mp4", max_frames)
        plain, rendered, render_only = [], [], []
        for _ in range(repeats):
            began = time.perf_counter()
            annotate_video(video, core)
            plain.append(time.perf_counter() - began)
            began = time.perf_counter()
            annotation = annotate_video(video, core, keep_poses=True)
            middle = time.perf_counter()
            render_video(annotation, Path(folder) / "out.mp4")
            rendered.append(time.perf_counter() - began)
            render_only.append(time.perf_counter() - middle)
    rows = [
        ("in-process annotate_video", plain),
        ("in-process annotate_video + render_video", rendered),
        ("of which render_video", render_only),
    ]
    return rows, setup_s


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


def run(quick: bool = False) -> list[Table]:
    """The annotation-speed table (quick: 30 frames, in-process only, one repeat)."""
    repeats = 1 if quick else 3
    frames = 30 if quick else None
    video_s, total_frames = _video_seconds(SAMPLE_VIDEO)
    if frames is not None:
        video_s, total_frames = frames / (total_frames / video_s), frames
    rows, setup_s = in_process_rows(repeats, frames)
    notes = [
        f"{SAMPLE_VIDEO.name}: {total_frames} frames, {video_s:.2f} s of video at 1768x994; every frame is "
        "decoded and run through MediaPipe (num_poses 4) and the worker core; "
        "the median over the runs in the runs column; real-time factor = processing s / video s",
        f"in-process rows exclude loading the bundle and warming up ({setup_s:.2f} s, once per process)",
    ]
    help_text = None if quick else cli_help()
    if help_text is not None:
        rows = cli_rows(max(1, repeats - 1), help_text) + rows
        notes.append(
            "`actzero annotate` rows are whole commands in a fresh process (start-up, model loading and "
            "the printed timeline included), run on a copy of the sample with an empty config folder "
            "(ACTZERO_CONFIG_DIR), so the label set is the bundle's actions"
        )
    elif not quick:
        notes.append("`actzero annotate` is not available in this checkout: in-process rows only")
    table = Table(
        "Annotating a video file",
        ("pipeline", "runs", "seconds p50", "s per video s (RTF)", "video frames/s"),
    )
    for label, times in rows:
        p50 = sorted(times)[len(times) // 2]
        table.add(label, len(times), p50, p50 / video_s, total_frames / p50)
    table.notes += notes
    return [table]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="30 frames, in-process only")
    args = parser.parse_args()
    print_tables(run(args.quick))


if __name__ == "__main__":
    main()
