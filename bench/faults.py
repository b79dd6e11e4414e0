"""Fault injection with real processes and sockets: how long the pipeline takes to recover.

A pose publisher process (the sample video's recorded MediaPipe landmarks replayed at 30 fps,
bench/soak.py's `PoseReplay`) and an `actzero worker` process talk over tcp on 127.0.0.1; this
script subscribes to the results and injects faults:

- worker SIGKILLed and started again on the same ports (the publisher keeps running);
- publisher SIGKILLed and started again (its frame indices start from 0 again);
- full load: the publisher floods frames as fast as it can from many sources while a results
  subscriber never reads (small receive buffers), and control requests are timed.

    nice -n 10 python bench/faults.py                 # all scenarios, prints a table
    python bench/faults.py --publish PORT --sources 2 --fps 30   # (internal) the publisher process

tests/stream/test_faults.py runs the same scenarios with generous timeouts.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import zmq

sys.path.insert(0, str(Path(__file__).resolve().parent))
import soak  # noqa: E402  (bench/soak.py: worker process, pose replay)

from actzero.stream.control import send_request  # noqa: E402
from actzero.stream.results import ActionResult, decode_result  # noqa: E402

TIMEOUT_S = 60.0


def publish_forever(port: int, sources: int, fps: float, start_index: int = 0) -> None:
    """Bind an XPUB on 127.0.0.1:`port` and publish `sources` streams until killed (fps 0: flood)."""
    ctx = zmq.Context()
    pub = ctx.socket(zmq.XPUB)
    pub.linger = 0
    pub.sndhwm = 1000
    pub.bind(f"tcp://127.0.0.1:{port}")
    replay = soak.PoseReplay(sources, start_index, pose_by_time=fps <= 0)
    next_frame = time.monotonic()
    while True:
        while pub.poll(0):  # subscription notices
            pub.recv()
        for message in replay.next_messages(time.time()):
            pub.send_multipart(message)  # PUB: over the high-water mark the message is dropped
        if fps > 0:
            next_frame += 1.0 / fps
            time.sleep(max(0.0, next_frame - time.monotonic()))


def start_publisher(port: int, sources: int, fps: float = soak.FPS) -> subprocess.Popen:
    """The publisher as its own process (see `publish_forever`)."""
    command = [sys.executable, __file__, "--publish", str(port), "--sources", str(sources), "--fps", str(fps)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Send `sig` to a process started here and reap it."""
    if process.poll() is None:
        os.kill(process.pid, sig)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Rig:
    """A publisher process, a worker process and a result subscriber on loopback tcp ports.

    Attributes:
        extra_poses: further pose endpoints the worker connects to (e.g. a test's own socket).
    """

    sources: int = 2
    fps: float = soak.FPS
    extra_poses: tuple[str, ...] = ()
    pose_port: int = field(default_factory=soak.free_port)
    results: str = field(default_factory=lambda: f"tcp://127.0.0.1:{soak.free_port()}")
    control: str = field(default_factory=lambda: f"tcp://127.0.0.1:{soak.free_port()}")
    config_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="actzero-faults-")))

    def __post_init__(self) -> None:
        self.ctx = zmq.Context()
        self.sub = self.ctx.socket(zmq.SUB)
        self.sub.linger = 0
        self.sub.setsockopt(zmq.SUBSCRIBE, b"result/")
        self.sub.connect(self.results)
        self.publisher = start_publisher(self.pose_port, self.sources, self.fps)
        self.worker = self.start_worker()

    def start_worker(self) -> subprocess.Popen:
        """Start `actzero worker` on the rig's endpoints and wait until it answers."""
        poses = [f"tcp://127.0.0.1:{self.pose_port}", *self.extra_poses]
        extra = tuple(arg for address in poses[1:] for arg in ("--poses", address))
        worker = soak.start_worker(poses[0], self.results, self.control, self.config_dir, extra)
        soak.wait_ready(self.control, worker, TIMEOUT_S)
        return worker

    def status(self, timeout_s: float = 5.0) -> dict:
        reply = send_request(self.control, {"op": "status"}, timeout_s=timeout_s)
        assert reply["ok"], reply
        return reply["status"]

    def wait_result(
        self, predicate: Callable[[ActionResult], bool] = lambda r: True, timeout_s: float = TIMEOUT_S
    ) -> tuple[ActionResult, float]:
        """The next result satisfying `predicate`, and the wall-clock time it arrived."""
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not self.sub.poll(int(left * 1000)):
                raise TimeoutError(
                    f"no matching result within {timeout_s} s (exit codes, None = running: "
                    f"publisher {self.publisher.poll()}, worker {self.worker.poll()})"
                )
            result = decode_result(self.sub.recv_multipart())
            if predicate(result):
                return result, time.time()

    def close(self) -> None:
        stop(self.publisher)
        stop(self.worker)
        self.ctx.destroy(linger=0)


def worker_restart(rig: Rig) -> dict[str, float]:
    """SIGKILL the worker, start a new one on the same ports: seconds until it answers and until results."""
    rig.wait_result()
    stop(rig.worker, signal.SIGKILL)
    killed = time.time()
    rig.worker = rig.start_worker()
    ready = time.time()
    _, arrived = rig.wait_result(lambda r: r.end_ts > killed)
    return {"worker answers control": ready - killed, "first result": arrived - killed}


def publisher_restart(rig: Rig) -> dict[str, float]:
    """SIGKILL the publisher, start a new one (indices from 0): seconds until the worker's results
    are about the new stream."""
    rig.wait_result()
    stop(rig.publisher, signal.SIGKILL)
    killed = time.time()
    before = rig.status()["messages_in"]
    rig.publisher = start_publisher(rig.pose_port, rig.sources, rig.fps)
    deadline = time.monotonic() + TIMEOUT_S
    while rig.status()["messages_in"] == before:  # each answer is one worker loop turn
        assert time.monotonic() < deadline, "no frame from the restarted publisher"
    frames_back = time.time()
    result, arrived = rig.wait_result(lambda r: r.start_ts > killed)
    return {"frames reach the worker": frames_back - killed, "first result": arrived - killed}


def control_under_load(rig: Rig, seconds: float = 10.0, add: bool = True) -> dict[str, float]:
    """Control round trips while the publisher floods and a result subscriber never reads.

    Args:
        rig: the running rig (its publisher should be flooding).
        seconds: how long to send status requests, one after the other.
        add: also time one "add action" request (the classifier is refitted under load).

    Returns round-trip percentiles (ms) and the worker's frame and result counters over the run.
    """
    stalled = rig.ctx.socket(zmq.SUB)
    stalled.linger = 0
    stalled.rcvhwm = 1
    stalled.rcvbuf = 1024
    stalled.setsockopt(zmq.SUBSCRIBE, b"")
    stalled.connect(rig.results)  # and never read
    try:
        first = rig.status()
        rtts = []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            t0 = time.perf_counter()
            rig.status(timeout_s=10.0)
            rtts.append((time.perf_counter() - t0) * 1000)
        add_ms = float("nan")
        if add:
            t0 = time.perf_counter()
            action = {
                "op": "add",
                "name": "star jump",
                "descriptions": ["A person jumps, spreading arms and legs."],
            }
            reply = send_request(rig.control, action, timeout_s=30.0)
            add_ms = (time.perf_counter() - t0) * 1000
            assert reply["ok"], reply
        last = rig.status()
    finally:
        stalled.close()
    p50, p95 = np.percentile(rtts, [50, 95])
    elapsed = max(last["uptime_s"] - first["uptime_s"], 1e-9)
    return {
        "status p50 ms": float(p50),
        "status p95 ms": float(p95),
        "status max ms": float(max(rtts)),
        "status requests": len(rtts),
        "add action ms": add_ms,
        "messages in /s": (last["messages_in"] - first["messages_in"]) / elapsed,
        "frames used /s": (last["frames_in"] - first["frames_in"]) / elapsed,
        "frames dropped (stale+missing)": (last["frames_dropped_stale"] + last["frames_missing"])
        - (first["frames_dropped_stale"] + first["frames_missing"]),
        "results published": last["results_published"] - first["results_published"],
        "results dropped": last["results_dropped"] - first["results_dropped"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--publish", type=int, help="(internal) run the publisher on this port")
    parser.add_argument("--sources", type=int, default=2)
    parser.add_argument("--fps", type=float, default=soak.FPS, help="publisher rate; 0 = as fast as possible")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each restart scenario")
    parser.add_argument("--load-seconds", type=float, default=20.0, help="length of the full-load run")
    args = parser.parse_args()
    if args.publish is not None:
        publish_forever(args.publish, args.sources, args.fps)
        return
    rows: list[tuple[str, str, float]] = []
    rig = Rig(sources=args.sources)
    try:
        for _ in range(args.repeat):
            rows += [("worker SIGKILL + restart", k, v) for k, v in worker_restart(rig).items()]
            rows += [("publisher SIGKILL + restart", k, v) for k, v in publisher_restart(rig).items()]
    finally:
        rig.close()
    flood = Rig(sources=8, fps=0)
    try:
        rows += [("flood 8 sources + stalled subscriber", k, v) for k, v in control_under_load(flood).items()]
    finally:
        flood.close()
    print(f"{'scenario':38} {'measure':32} {'value':>10}")
    for scenario, measure, value in rows:
        print(f"{scenario:38} {measure:32} {value:10.2f}")


if __name__ == "__main__":
    main()
