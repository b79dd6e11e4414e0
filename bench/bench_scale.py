"""Scale: worker cost, throughput and latency as simultaneous tracks and streams grow.

Inputs are the sample video's recorded MediaPipe landmarks (bench/soak.py), copied to as many
people per frame as needed: copy k is person k % 2 of the recorded frame, drawn into cell k of
a grid over the image so the tracker sees separate bodies.

1. In-process: one `WorkerCore` (the code the worker runs) is fed 30 fps frames with T people
   as fast as it goes; CPU milliseconds per second of video say how many tracks one core can
   follow in real time (> 1000 ms per second = slower than real time).
2. Real processes: `actzero worker` (own process) fed at 30 fps over ZeroMQ by bench/soak.py's
   `run_soak` with this module's `GridReplay`; end-to-end latency (result received - capture
   time of the window's last frame), results per second, dropped frames, worker CPU and peak
   RSS; T = 1..32 tracks (one stream, 16 people at most per stream: the worker's
   `max_persons`), and 1/2/4 streams sharing 8 tracks.

    python bench/bench_scale.py [--quick] [--plot docs/img/bench-scale.png]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import soak  # noqa: E402  (bench/soak.py: recorded poses, worker process, run_soak)
from report import REPO, Table, percentiles, print_tables  # noqa: E402

from actzero.stream.frames import MEDIA_CLOCK, WALL_CLOCK, PoseFrame  # noqa: E402
from actzero.stream.protocol import encode_pose_frame  # noqa: E402

TRACKS = (1, 2, 4, 8, 16, 32, 64, 128)  # real worker process
IN_PROCESS_TRACKS = (1, 2, 4, 8, 16, 32, 64, 128)
STREAMS = (1, 2, 4)
STREAM_TRACKS = 8
PER_STREAM_MAX = 16  # WorkerConfig.max_persons
FIRST_STEADY = 11  # recorded frames before this one show one person or jumpy detections


class GridReplay:
    """`sources` pose streams with `persons` people each, looping the recorded two-person frames.

    Same interface as soak.PoseReplay (`next_messages`), and `frames` for in-process use.
    """

    def __init__(self, sources: int, persons: int) -> None:
        poses = [p for p in soak.record_poses()[FIRST_STEADY:] if p[0].shape[0] == 2]
        cycle = poses + poses[-2:0:-1]  # ping-pong, so motion stays continuous
        grid = math.ceil(math.sqrt(persons))
        self.poses = []
        for image, world, visibility in cycle:
            picks = [k % 2 for k in range(persons)]
            cells = np.array([(k % grid, k // grid) for k in range(persons)], dtype=np.float32)
            placed = image[picks].copy()
            placed[..., :2] = (cells[:, None, :] + placed[..., :2]) / grid
            self.poses.append((placed, world[picks], visibility[picks]))
        self.sources, self.persons, self.index = sources, persons, 0

    def frames(self, clock: str, wall_ts: float | None = None) -> list[PoseFrame]:
        """The next frame of every source on `clock` (`soak.replayed_frame`: WALL_CLOCK at `wall_ts`)."""
        out = []
        for s in range(self.sources):
            pose = self.poses[(self.index + 7 * s) % len(self.poses)]
            out.append(soak.replayed_frame(f"cam{s}", self.index, pose, clock=clock, wall_ts=wall_ts))
        self.index += 1
        return out

    def next_messages(self, capture_ts: float) -> list[list[bytes]]:
        """The next frame of every source, encoded, all captured at `capture_ts` (wall clock)."""
        return [encode_pose_frame(frame) for frame in self.frames(WALL_CLOCK, capture_ts)]


def in_process_rows(tracks: tuple[int, ...], seconds: float) -> list[dict]:
    """CPU cost of one WorkerCore per second of 30 fps video with T people in one stream."""
    from actzero.model.bundle import Bundle
    from actzero.stream.worker import WorkerConfig, WorkerCore

    bundle = Bundle.load(intra_op_threads=1)
    classifier = bundle.fit_classifier(bundle.actions)
    rows = []
    for t in tracks:
        core = WorkerCore(bundle, bundle.actions, WorkerConfig(max_persons=max(t, 16)), classifier=classifier)
        replay = GridReplay(1, t)
        frames = int(seconds * soak.FPS)
        steps, batches = [], []
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for _ in range(frames):
            (frame,) = replay.frames(MEDIA_CLOCK)  # frame i at i / 30 s of video
            core.ingest(frame)
            began = time.perf_counter()
            results = core.classify_ready()
            if results:
                steps.append((time.perf_counter() - began) * 1e3)
                batches.append(len(results))
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        p50, p95 = percentiles(steps)
        rows.append(
            {
                "tracks": t,
                "tracks_started": core.counters["tracks_started"],
                "cpu_ms_per_s": 1000 * cpu / seconds,
                "wall_ms_per_s": 1000 * wall / seconds,
                "windows_per_s": core.counters["windows_classified"] / wall,
                "step_p50": p50,
                "step_p95": p95,
                "batch": float(np.median(batches)) if batches else 0.0,
            }
        )
    return rows


def in_process_table(rows: list[dict], seconds: float) -> Table:
    table = Table(
        "One worker core in-process: cost per second of 30 fps video vs tracks (1 stream, 1 ort thread)",
        (
            "tracks",
            "tracks seen",
            "CPU ms / video s",
            "wall ms / video s",
            "x real time",
            "windows/s (as fast as possible)",
            "batch per step",
            "classify step ms p50",
            "p95",
        ),
    )
    for r in rows:
        table.add(
            r["tracks"], r["tracks_started"], r["cpu_ms_per_s"], r["wall_ms_per_s"],
            1000 / r["wall_ms_per_s"], r["windows_per_s"], r["batch"], r["step_p50"], r["step_p95"],
        )  # fmt: skip
    t = np.array([r["tracks"] for r in rows], dtype=float)
    cpu = np.array([r["cpu_ms_per_s"] for r in rows])
    slope, intercept = np.polyfit(t, cpu, 1) if len(rows) >= 3 else (0.0, 0.0)
    if slope > 0:
        table.notes.append(
            f"least-squares line over the rows: CPU ms per video second = {intercept:.0f} + "
            f"{slope:.1f} x tracks, "
            f"so one core would saturate near {(1000 - intercept) / slope:.0f} tracks (an extrapolation "
            "where the rows stop short of 1000 ms)"
        )
    table.notes.append(
        f"{seconds:g} s of video per row, processed as fast as possible (WorkerCore.ingest + classify_ready "
        "per frame, stride 8); 'x real time' > 1 means one core keeps up with that many people; CPU time "
        "includes onnxruntime's thread"
    )
    return table


def _children_cpu_s(pid: int) -> dict[int, float]:
    """CPU seconds (user + system) of each child process of `pid`."""
    out = {}
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return out
    tick = os.sysconf("SC_CLK_TCK")
    for child in children:
        try:
            fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
            out[int(child)] = (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            continue
    return out


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def process_row(sources: int, persons: int, seconds: float, threads: int = 1) -> dict:
    """Run a real worker process for 2 x `seconds` at 30 fps; measure the second half."""
    marks: list[tuple[float, dict[int, float]]] = []
    peaks: list[float] = []

    def on_interval(_interval) -> None:
        cpu = _children_cpu_s(os.getpid())
        marks.append((time.monotonic(), cpu))
        peaks.extend(_peak_rss_mb(pid) for pid in cpu)

    intervals = soak.run_soak(
        2 * seconds / 60,
        interval_s=seconds,
        on_interval=on_interval,
        replay=GridReplay(sources, persons),
        worker_args=("--threads", str(threads)),
    )
    last = intervals[-1]
    (t0, cpu0), (t1, cpu1) = marks[-2], marks[-1]
    worker_cpu = sum(cpu1[p] - cpu0.get(p, cpu1[p]) for p in cpu1) / (t1 - t0)
    return {
        "threads": threads,
        "streams": sources,
        "persons": persons,
        "tracks": sources * persons,
        "tracks_seen": last.tracks,
        "frames_sent": last.frames_sent,
        "results_per_s": last.results / (t1 - t0),
        "e2e_p50": last.latency_p50_ms,
        "e2e_p95": last.latency_p95_ms,
        "worker_p50": last.worker_latency_p50_ms,
        "dropped": last.frames_dropped,
        "cpu_percent": 100 * worker_cpu,
        "peak_rss_mb": max(peaks) if peaks else float("nan"),
        "rss_mb": last.rss_mb,
    }


def _layout(tracks: int) -> tuple[int, int]:
    """(streams, persons per stream) for a track count on as few streams as the worker allows."""
    streams = math.ceil(tracks / PER_STREAM_MAX)
    return streams, tracks // streams


def process_table(rows: list[dict], title: str, seconds: float) -> Table:
    table = Table(
        title,
        (
            "tracks",
            "ort threads",
            "streams x people",
            "tracks seen",
            "results/s",
            "e2e p50 ms",
            "e2e p95 ms",
            "frames dropped",
            "worker CPU %",
            "worker RSS MiB",
            "peak RSS MiB",
        ),
    )
    for r in rows:
        table.add(
            r["tracks"], r["threads"], f"{r['streams']} x {r['persons']}", r["tracks_seen"],
            r["results_per_s"], r["e2e_p50"], r["e2e_p95"], r["dropped"], r["cpu_percent"], r["rss_mb"],
            r["peak_rss_mb"],
        )  # fmt: skip
    table.notes += [
        f"each row: a fresh `actzero worker --memory-only` fed 30 fps per stream for {2 * seconds:g} s, "
        f"measured over the last {seconds:g} s; e2e = result received - capture time of the window's last "
        "frame (frames are sent as they are stamped, so this is transport + queueing + worker, no pose "
        "estimation); expected results/s = tracks x 30 / 8",
        "frames dropped = the worker's newest-frame-per-source policy (stale) + index gaps, over the "
        "interval; worker CPU % = process CPU time / wall time (100 % = one core)",
    ]
    return table


def plot(
    in_rows: list[dict], track_rows: list[dict], stream_rows: list[dict], path: Path, cores: int
) -> None:
    """Four panels: in-process cost, real-worker throughput, latency and CPU vs tracks, streams."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ((cost, rate), (lat, streams)) = plt.subplots(2, 2, figsize=(12, 8.5))
    t = [r["tracks"] for r in in_rows]
    cost.plot(t, [r["wall_ms_per_s"] for r in in_rows], "o-", label="wall ms per video second")
    cost.plot(t, [r["cpu_ms_per_s"] for r in in_rows], "s--", label="CPU ms per video second")
    cost.axhline(1000, color="red", lw=1, label="real time (1000 ms per s)")
    cost.set_xscale("log", base=2)
    cost.set_yscale("log")
    cost.set_xlabel("simultaneous tracks (one stream)")
    cost.set_title("(a) WorkerCore in-process: cost per second of video")
    cost.legend(fontsize=8)

    t = [r["tracks"] for r in track_rows]
    rate.plot(t, [r["results_per_s"] for r in track_rows], "o-", label="results/s received")
    rate.plot(t, [x * soak.FPS / 8 for x in t], "k:", label="expected: tracks x 30 / 8")
    rate.set_xscale("log", base=2)
    rate.set_yscale("log")
    rate.set_xlabel("simultaneous tracks")
    rate.set_title("(b) real worker process at 30 fps: throughput")
    rate.legend(fontsize=8)

    lat.plot(t, [r["e2e_p50"] for r in track_rows], "o-", label="e2e p50 ms")
    lat.plot(t, [r["e2e_p95"] for r in track_rows], "s-", label="e2e p95 ms")
    lat.set_xscale("log", base=2)
    lat.set_ylim(bottom=0)
    lat.set_xlabel("simultaneous tracks")
    lat.set_ylabel("latency (ms)")
    cpu = lat.twinx()
    cpu.plot(t, [r["cpu_percent"] for r in track_rows], "^:", color="gray", label="worker CPU %")
    cpu.set_ylim(0, 100 * cores)
    cpu.set_ylabel(f"worker CPU % (100 = one core; {cores} cores)")
    lines, more = lat.get_legend_handles_labels(), cpu.get_legend_handles_labels()
    lat.legend(lines[0] + more[0], lines[1] + more[1], fontsize=8, loc="upper left")
    lat.set_title("(c) real worker process: latency and CPU")

    s = [r["streams"] for r in stream_rows]
    streams.plot(s, [r["e2e_p50"] for r in stream_rows], "o-", label="e2e p50 ms")
    streams.plot(s, [r["e2e_p95"] for r in stream_rows], "s-", label="e2e p95 ms")
    streams.set_xticks(s)
    streams.set_xlabel(f"streams sharing {STREAM_TRACKS} tracks")
    streams.set_ylabel("latency (ms)")
    streams.set_ylim(bottom=0)
    streams.legend(fontsize=8)
    streams.set_title("(d) streams at a fixed number of tracks")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)


def run(quick: bool = False, plot_path: Path | None = None) -> list[Table]:
    """The scale tables (quick: fewer, shorter rows); writes the plot when `plot_path` is given."""
    seconds = 2.0 if quick else 10.0
    tracks = (1, 4) if quick else TRACKS
    in_rows = in_process_rows(tracks if quick else IN_PROCESS_TRACKS, 2.0 if quick else 8.0)
    track_rows = [process_row(*_layout(t), seconds) for t in tracks]
    more_threads = [] if quick else [process_row(*_layout(t), seconds, threads=2) for t in tracks[-2:]]
    streams = (1, 2) if quick else STREAMS
    stream_rows = [process_row(s, STREAM_TRACKS // s, seconds) for s in streams]
    tables = [
        in_process_table(in_rows, 2.0 if quick else 8.0),
        process_table(
            track_rows + more_threads,
            "Real worker process vs simultaneous tracks (30 fps per stream)",
            seconds,
        ),
        process_table(
            stream_rows, f"Real worker process vs streams ({STREAM_TRACKS} tracks in all)", seconds
        ),
    ]
    if plot_path is not None:
        plot(in_rows, track_rows, stream_rows, plot_path, os.cpu_count() or 1)
    return tables


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer and shorter rows")
    parser.add_argument(
        "--plot", default=str(REPO / "docs" / "img" / "bench-scale.png"), help="PNG ('' for none)"
    )
    args = parser.parse_args()
    print_tables(run(args.quick, Path(args.plot) if args.plot else None))


if __name__ == "__main__":
    main()
