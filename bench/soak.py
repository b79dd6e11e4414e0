"""Soak test: stream realistic pose frames at 30 fps into a real `actzero worker` for N minutes.

The worker runs as its own process (`actzero worker --memory-only` on random loopback ports).
This script is the pose publisher and the result subscriber: it replays MediaPipe landmarks of
the sample video (two people, recorded once with the shipped pose model and cached under
cache/) as several sources at 30 fps each, with capture timestamps set at send time, and
reads the results. Every interval it records the worker's resident memory (VmRSS from /proc),
the end-to-end latency of the results (receive time minus the capture time of the window's last
frame, so transport and queueing are included), the worker-side latency, and the worker's
counters (control "status"). It prints one table row per interval, writes a JSON file and plots
memory and latency over time.

    nice -n 10 python bench/soak.py --minutes 10                  # the full soak, docs/img/soak.png
    python bench/soak.py --minutes 0.25 --interval 5 --plot ''    # a 15 s smoke run
"""

from __future__ import annotations

import argparse
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import zmq

from actzero.stream.control import send_request
from actzero.stream.frames import WALL_CLOCK, PoseFrame, pose_frame
from actzero.stream.pose import PoseResult
from actzero.stream.protocol import encode_pose_frame
from actzero.stream.results import decode_result

REPO = Path(__file__).resolve().parents[1]
POSES_CACHE = REPO / "cache" / "soak_poses.npz"
FIRST_FRAME, NUM_FRAMES = 59, 60  # both people are in view from frame 59 of the sample video
WIDTH, HEIGHT = 640, 360
FPS = 30.0


@dataclass
class Interval:
    """What one interval of the soak measured."""

    t_end_s: float
    rss_mb: float
    rss_max_mb: float
    frames_sent: int
    results: int
    latency_p50_ms: float
    latency_p95_ms: float
    worker_latency_p50_ms: float
    worker_latency_p95_ms: float
    frames_in: int  # cumulative, as the worker counts it
    frames_dropped: int  # in this interval, as results_dropped
    results_dropped: int
    bad_messages: int
    tracks: int


def record_poses(path: Path = POSES_CACHE) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """MediaPipe landmarks (image, world, visibility) of NUM_FRAMES sample-video frames (cached)."""
    if path.is_file():
        with np.load(path, allow_pickle=False) as data:
            counts = data["persons"]
            return [
                (data["image"][i, :n], data["world"][i, :n], data["visibility"][i, :n])
                for i, n in enumerate(counts)
            ]
    import cv2

    from actzero.stream.capture import SAMPLE_VIDEO
    from actzero.stream.pose import PoseEstimator, PoseOptions

    options = PoseOptions(
        num_poses=2, min_detection_confidence=0.2, min_presence_confidence=0.2, min_tracking_confidence=0.2
    )
    capture = cv2.VideoCapture(str(SAMPLE_VIDEO))
    poses = []
    with PoseEstimator.create(options) as estimator:
        for i in range(FIRST_FRAME + NUM_FRAMES):
            ok, frame = capture.read()
            if not ok:
                raise RuntimeError(f"cannot read frame {i} of {SAMPLE_VIDEO}")
            if i >= FIRST_FRAME:
                frame = cv2.resize(frame, (WIDTH, HEIGHT), interpolation=cv2.INTER_AREA)
                found = estimator.process(frame, round(i * 1000 / FPS))
                poses.append((found.image, found.world, found.visibility))
    capture.release()
    persons = np.array([p[0].shape[0] for p in poses])
    padded = {
        name: np.zeros((len(poses), 2, 33, *shape), np.float32)
        for name, shape in (("image", (3,)), ("world", (3,)), ("visibility", ()))
    }
    for i, pose in enumerate(poses):
        for name, array in zip(("image", "world", "visibility"), pose, strict=True):
            padded[name][i, : len(array)] = array
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, persons=persons, **padded)
    return poses


def replayed_frame(
    source: str,
    index: int,
    pose: tuple[np.ndarray, np.ndarray, np.ndarray],
    *,
    clock: str,
    wall_ts: float | None = None,
) -> PoseFrame:
    """Recorded landmarks (image, world, visibility) as frame `index` of `source`, built by
    `pose_frame` on `clock`: WALL_CLOCK at `wall_ts` (frames sent to a worker), or MEDIA_CLOCK,
    whose time is the frame's place in a 30 fps replay, index / FPS (frames fed in-process)."""
    image, world, visibility = pose
    poses = PoseResult(image, world, visibility, timestamp_ms=round(index * 1000 / FPS))
    return pose_frame(source, index, poses, WIDTH, HEIGHT, clock=clock, wall_ts=wall_ts)


class PoseReplay:
    """The recorded poses as `sources` streams (two people each), ping-ponging so motion stays continuous.

    Each source starts at a different point of the recording; frame indices start at `start_index`.
    With `pose_by_time` the pose shown follows the capture time at 30 fps instead of the frame
    index, so people move at their real speed however fast frames are sent (a flood).
    """

    def __init__(self, sources: int, start_index: int = 0, pose_by_time: bool = False) -> None:
        self.poses = record_poses()
        self.cycle = list(range(len(self.poses))) + list(range(len(self.poses) - 2, 0, -1))
        self.sources = sources
        self.index = start_index
        self.pose_by_time = pose_by_time

    def next_messages(self, capture_ts: float) -> list[list[bytes]]:
        """The next frame of every source, encoded, all captured at `capture_ts` (wall clock)."""
        messages = []
        step = int(capture_ts * FPS) if self.pose_by_time else self.index
        for s in range(self.sources):
            pose = self.poses[self.cycle[(step + 7 * s) % len(self.cycle)]]
            frame = replayed_frame(f"cam{s}", self.index, pose, clock=WALL_CLOCK, wall_ts=capture_ts)
            messages.append(encode_pose_frame(frame))
        self.index += 1
        return messages


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_worker(
    poses: str, results: str, control: str, config_dir: Path, extra: tuple[str, ...] = ()
) -> subprocess.Popen:
    """`actzero worker` in its own process on the given endpoints, with its actions in memory.

    Its log goes to `config_dir`/worker.log (a pipe nobody reads could block it).
    """
    command = [
        sys.executable,
        "-c",
        "from actzero.cli.main import app; app()",
        "worker",
        "--memory-only",
        "--poses",
        poses,
        "--results",
        results,
        "--control",
        control,
        "--report-every",
        "0",
        *extra,
    ]
    env = {**os.environ, "ACTZERO_CONFIG_DIR": str(config_dir)}
    with open(config_dir / "worker.log", "ab") as log:
        return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


def _log_tail(config_dir: Path) -> str:
    return (config_dir / "worker.log").read_text(errors="replace")[-2000:]


def wait_ready(control: str, worker: subprocess.Popen, timeout_s: float = 120.0) -> None:
    """Ask for the status until the worker answers."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise RuntimeError(f"worker exited with {worker.returncode}")
        try:
            if send_request(control, {"op": "status"}, timeout_s=1.0)["ok"]:
                return
        except TimeoutError:
            continue
    raise TimeoutError(f"worker not ready within {timeout_s} s")


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def _percentiles(values: list[float]) -> tuple[float, float]:
    if not values:
        return float("nan"), float("nan")
    p50, p95 = np.percentile(values, [50, 95])
    return float(p50), float(p95)


def run_soak(
    minutes: float,
    interval_s: float = 60.0,
    sources: int = 3,
    on_interval=None,
    replay=None,
    worker_args: tuple[str, ...] = (),
) -> list[Interval]:
    """Run the soak and return one `Interval` per `interval_s` seconds.

    Args:
        minutes: how long to stream.
        interval_s: length of one reporting interval.
        sources: pose sources streamed at 30 fps each (two people each, so 2 x sources tracks).
        on_interval: called with each `Interval` as soon as it is measured.
        replay: what to stream instead of `PoseReplay(sources)` (any object with the same
            `next_messages(capture_ts)`; bench/bench_scale.py streams more people per source).
        worker_args: extra `actzero worker` options (e.g. ("--threads", "2")).
    """
    replay = replay if replay is not None else PoseReplay(sources)
    ctx = zmq.Context()
    pub = ctx.socket(zmq.XPUB)
    pub.linger = 0
    pub.sndhwm = 1000
    pose_port = pub.bind_to_random_port("tcp://127.0.0.1")
    results_address = f"tcp://127.0.0.1:{free_port()}"
    control_address = f"tcp://127.0.0.1:{free_port()}"
    config_dir = Path(tempfile.mkdtemp(prefix="actzero-soak-"))
    worker = start_worker(
        f"tcp://127.0.0.1:{pose_port}", results_address, control_address, config_dir, worker_args
    )
    sub = ctx.socket(zmq.SUB)
    sub.linger = 0
    sub.setsockopt(zmq.SUBSCRIBE, b"result/")
    intervals: list[Interval] = []
    try:
        try:
            wait_ready(control_address, worker)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}: {_log_tail(config_dir)}") from None
        sub.connect(results_address)
        if not pub.poll(30_000):
            raise TimeoutError("the worker never subscribed to the poses")
        pub.recv()
        start = time.monotonic()
        end = start + minutes * 60.0
        next_frame, next_report = start, start + interval_s
        sent = received = 0
        latencies: list[float] = []
        worker_latencies: list[float] = []
        rss_samples: list[float] = []
        dropped = (0, 0)  # the worker's cumulative frame and result drops at the last report
        next_rss = start
        while True:
            now = time.monotonic()
            if now >= next_frame and now < end:
                for message in replay.next_messages(time.time()):
                    pub.send_multipart(message, zmq.NOBLOCK)
                    sent += 1
                next_frame += 1.0 / FPS
                while pub.poll(0):  # subscription notices
                    pub.recv()
            if now >= next_rss:
                rss_samples.append(rss_mb(worker.pid))
                next_rss += 1.0
            if now >= next_report:
                status = send_request(control_address, {"op": "status"}, timeout_s=5.0)["status"]
                p50, p95 = _percentiles(latencies)
                w50, w95 = _percentiles(worker_latencies)
                row = Interval(
                    t_end_s=round(now - start, 1),
                    rss_mb=rss_samples[-1],
                    rss_max_mb=max(rss_samples),
                    frames_sent=sent,
                    results=received,
                    latency_p50_ms=p50,
                    latency_p95_ms=p95,
                    worker_latency_p50_ms=w50,
                    worker_latency_p95_ms=w95,
                    frames_in=status["frames_in"],
                    frames_dropped=status["frames_dropped_stale"] + status["frames_missing"] - dropped[0],
                    results_dropped=status["results_dropped"] - dropped[1],
                    bad_messages=status["bad_messages"],
                    tracks=status["tracks"],
                )
                dropped = (
                    status["frames_dropped_stale"] + status["frames_missing"],
                    status["results_dropped"],
                )
                intervals.append(row)
                if on_interval is not None:
                    on_interval(row)
                latencies, worker_latencies, rss_samples = [], [], []
                sent = received = 0
                next_report += interval_s
                if now >= end:
                    break
            if worker.poll() is not None:
                raise RuntimeError(f"the worker died: {_log_tail(config_dir)}")
            wait_ms = max(0.0, min(next_frame, next_report, next_rss) - time.monotonic()) * 1000
            if sub.poll(math.ceil(wait_ms)):
                while True:
                    try:
                        parts = sub.recv_multipart(zmq.NOBLOCK)
                    except zmq.Again:
                        break
                    result = decode_result(parts)
                    latencies.append((time.time() - result.end_ts) * 1000)
                    worker_latencies.append(result.latency_ms)
                    received += 1
    finally:
        worker.terminate()
        try:
            worker.wait(10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        sub.close()
        pub.close()
        ctx.term()
    return intervals


HEADER = (
    f"{'t (s)':>7} {'RSS MiB':>8} {'max':>7} {'sent':>6} {'results':>7} {'e2e p50':>8} {'p95 ms':>7} "
    f"{'worker p50':>10} {'p95 ms':>7} {'dropped':>7} {'res.drop':>8} {'tracks':>6}"
)


def format_row(r: Interval) -> str:
    """One table line."""
    return (
        f"{r.t_end_s:7.0f} {r.rss_mb:8.1f} {r.rss_max_mb:7.1f} {r.frames_sent:6d} {r.results:7d} "
        f"{r.latency_p50_ms:8.1f} {r.latency_p95_ms:7.1f} {r.worker_latency_p50_ms:10.1f} "
        f"{r.worker_latency_p95_ms:7.1f} {r.frames_dropped:7d} {r.results_dropped:8d} {r.tracks:6d}"
    )


def plot(intervals: list[Interval], path: Path, title: str) -> None:
    """Memory and latency per interval as a two-panel PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    minutes = [r.t_end_s / 60 for r in intervals]
    fig, (mem, lat) = plt.subplots(2, 1, figsize=(7, 5.5), sharex=True)
    mem.plot(minutes, [r.rss_mb for r in intervals], "o-", label="RSS at interval end")
    mem.plot(minutes, [r.rss_max_mb for r in intervals], "--", label="max RSS in interval")
    mem.set_ylabel("worker RSS (MiB)")
    mem.legend(loc="lower right")
    mem.set_title(title)
    lat.plot(minutes, [r.latency_p50_ms for r in intervals], "o-", label="end-to-end p50")
    lat.plot(minutes, [r.latency_p95_ms for r in intervals], "s-", label="end-to-end p95")
    lat.plot(minutes, [r.worker_latency_p50_ms for r in intervals], ".--", label="worker-side p50")
    lat.set_ylabel("result latency (ms)")
    lat.set_xlabel("minutes")
    lat.legend(loc="upper right")
    lat.set_ylim(bottom=0)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to stream (default 10)")
    parser.add_argument("--interval", type=float, default=60.0, help="seconds per table row (default 60)")
    parser.add_argument("--sources", type=int, default=3, help="30 fps sources, two people each (default 3)")
    parser.add_argument("--json", type=Path, default=REPO / "cache" / "soak.json", help="measurements file")
    parser.add_argument("--plot", default=str(REPO / "docs" / "img" / "soak.png"), help="PNG ('' for none)")
    args = parser.parse_args()
    print(f"soak: {args.sources} sources x 30 fps for {args.minutes:g} min; worker = `actzero worker`")
    print(HEADER, flush=True)
    intervals = run_soak(
        args.minutes, args.interval, args.sources, lambda r: print(format_row(r), flush=True)
    )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps([asdict(r) for r in intervals], indent=1))
    if args.plot:
        title = f"actzero worker soak: {args.sources} sources x 30 fps, {2 * args.sources} tracks"
        plot(intervals, Path(args.plot), title)
        print(f"plot: {args.plot}")
    first, last = intervals[0].rss_mb, intervals[-1].rss_mb
    print(f"RSS first -> last interval: {first:.1f} -> {last:.1f} MiB ({last - first:+.1f})")


if __name__ == "__main__":
    main()
