"""End-to-end latency with real processes, and the time to add an action to a running worker.

Three processes talk over ZeroMQ on 127.0.0.1 tcp: `actzero pose --source sample` (decodes the
sample video in real time, dropping late frames, runs MediaPipe and publishes the poses),
`actzero worker --memory-only` (bench/soak.py's `start_worker`) and this script, which subscribes
to the results. End-to-end latency = the time this script receives a result minus the capture
time of the window's last frame (the publisher stamps each frame with the wall clock when it
is read from the video; all processes share the clock), so it includes pose estimation, both
transports, queueing and the worker's windowing and model. The video is played `plays`
times, each as a new source name.

Add-action: control request ("add", one new description, so the text encoder runs) to reply,
measured by the client, with the worker holding 25 and 50 actions after the add; each timed
add is followed by a (timed) remove.

    python bench/bench_e2e.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import zmq

sys.path.insert(0, str(Path(__file__).resolve().parent))
import soak  # noqa: E402  (bench/soak.py: worker process helpers)
from report import Table, percentiles, print_tables  # noqa: E402

from actzero.stream.control import send_request  # noqa: E402
from actzero.stream.results import decode_result  # noqa: E402

DONE = re.compile(r"done: (\d+) frames published, (\d+) captured, (\d+) dropped")


class WorkerRig:
    """A worker process on free loopback ports plus a result subscriber (use as a context manager)."""

    def __init__(self, pose_address: str, env: dict[str, str] | None = None) -> None:
        self.pose_address = pose_address
        self.results = f"tcp://127.0.0.1:{soak.free_port()}"
        self.control = f"tcp://127.0.0.1:{soak.free_port()}"
        self.config_dir = Path(tempfile.mkdtemp(prefix="actzero-bench-"))
        saved = dict(os.environ)
        os.environ.update(env or {})  # soak.start_worker passes this process's environment on
        try:
            self.worker = soak.start_worker(pose_address, self.results, self.control, self.config_dir)
        finally:
            os.environ.clear()
            os.environ.update(saved)
        self.ctx = zmq.Context()
        self.sub = self.ctx.socket(zmq.SUB)
        self.sub.linger = 0
        self.sub.setsockopt(zmq.SUBSCRIBE, b"result/")
        soak.wait_ready(self.control, self.worker)
        self.sub.connect(self.results)

    def __enter__(self) -> WorkerRig:
        return self

    def __exit__(self, *exc: object) -> None:
        self.worker.terminate()
        try:
            self.worker.wait(10)
        except subprocess.TimeoutExpired:
            self.worker.kill()
            self.worker.wait()
        self.sub.close()
        self.ctx.term()


def play_sample(rig: WorkerRig, port: int, name: str, on_result) -> dict[str, int]:
    """Run `actzero pose --source sample` once to its end, passing every result to `on_result`."""
    command = [
        sys.executable, "-c", "from actzero.cli.main import app; app()", "pose", "--source", "sample",
        "--publish", f"tcp://127.0.0.1:{port}", "--name", name, "--wait-for-subscriber",
        "--stats-every", "60",
    ]  # fmt: skip
    with tempfile.TemporaryFile() as log:
        publisher = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            while publisher.poll() is None:
                if rig.sub.poll(100):
                    on_result(decode_result(rig.sub.recv_multipart()), time.time())
            deadline = time.monotonic() + 2.0  # results of the last frames
            while time.monotonic() < deadline:
                if rig.sub.poll(100):
                    on_result(decode_result(rig.sub.recv_multipart()), time.time())
        finally:
            if publisher.poll() is None:
                publisher.kill()
                publisher.wait()
        log.seek(0)
        text = log.read().decode(errors="replace")
    match = DONE.search(text)
    if publisher.returncode != 0 or match is None:
        raise RuntimeError(f"actzero pose failed ({publisher.returncode}): {text[-1500:]}")
    published, captured, dropped = (int(v) for v in match.groups())
    return {"published": published, "captured": captured, "dropped": dropped}


def e2e_table(plays: int) -> Table:
    """End-to-end latency percentiles over `plays` real-time plays of the sample video."""
    port = soak.free_port()
    e2e, worker_side, model_ms = [], [], []
    totals = {"published": 0, "captured": 0, "dropped": 0}
    with WorkerRig(f"tcp://127.0.0.1:{port}") as rig:

        def on_result(result, received: float) -> None:
            e2e.append((received - result.end_ts) * 1e3)
            worker_side.append(result.latency_ms)
            model_ms.append(result.timings_ms.get("model", float("nan")))

        for k in range(plays):
            for key, value in play_sample(rig, port, f"sample{k}", on_result).items():
                totals[key] += value
        status = send_request(rig.control, {"op": "status"}, timeout_s=5.0)["status"]
    table = Table(
        "End-to-end latency, capture -> result received "
        "(real publisher + worker processes, ZeroMQ tcp loopback)",
        ("measure", "results", "p50 ms", "p95 ms", "p99 ms", "max ms"),
    )
    for name, values in (
        ("capture -> result received by a subscriber", e2e),
        ("capture -> result made in the worker (ActionResult.latency_ms)", worker_side),
        ("model call in the worker (batch of ready tracks)", model_ms),
    ):
        p50, p95, p99 = percentiles(values, (50, 95, 99))
        table.add(name, len(values), p50, p95, p99, max(values) if values else float("nan"))
    table.notes += [
        f"`actzero pose --source sample` (MediaPipe at the native 1768x994, num_poses 4) played in real "
        f"time {plays}x: {totals['captured']} frames captured, {totals['published']} published, "
        f"{totals['dropped']} dropped as late by the real-time player (pose estimation slower than 30 fps)",
        f"worker defaults (stride 8 frames, min 24 frames, 1 onnxruntime thread); the worker counted "
        f"{status['frames_dropped_stale']} stale and {status['frames_missing']} missing frames, "
        f"{status['windows_classified']} windows classified",
        "latency is measured from the capture of the window's *last* frame; a window also spans "
        "the 64 frames (2.1 s) before it, and a result comes every 8 frames (0.27 s) per person",
    ]
    return table


def _new_action(i: int) -> dict:
    return {
        "op": "add",
        "name": f"benchmark action {i}",
        "descriptions": [f"A person repeats movement number {i} with the arms and legs, {time.time_ns()}."],
    }


def add_action_table(
    repeats: int, sizes: tuple[int, ...] = (25, 50), blas: tuple[str, ...] = ("", "1")
) -> Table:
    """Control round trip of add and remove at the given action-set sizes (idle worker).

    Args:
        repeats: timed add + remove pairs per size.
        sizes: action-set sizes after the add.
        blas: OPENBLAS_NUM_THREADS values for the worker process ("" = not set: OpenBLAS's default).
    """
    table = Table(
        "Add an action to a running worker (control request -> reply, idle worker)",
        (
            "worker OPENBLAS_NUM_THREADS",
            "actions after add",
            "repeats",
            "add ms p50",
            "add ms p95",
            "fit s p50 (worker)",
            "remove ms p50",
            "remove ms p95",
        ),
    )
    for threads in blas:
        env = {"OPENBLAS_NUM_THREADS": threads} if threads else {}
        with WorkerRig(f"tcp://127.0.0.1:{soak.free_port()}", env) as rig:
            count = len(send_request(rig.control, {"op": "list"}, timeout_s=5.0)["actions"])
            filler = 0
            if count >= min(sizes):  # a bundle with more shipped actions: keep the same steps above it
                sizes = tuple(count + 1 + s - min(sizes) for s in sizes)
            for size in sizes:
                while count < size - 1:
                    reply = send_request(rig.control, _new_action(1000 + filler), timeout_s=60.0)
                    assert reply["ok"], reply
                    filler, count = filler + 1, reply["actions"]
                adds, removes, fits = [], [], []
                for r in range(repeats):
                    request = _new_action(r)
                    began = time.perf_counter()
                    reply = send_request(rig.control, request, timeout_s=60.0)
                    adds.append((time.perf_counter() - began) * 1e3)
                    assert reply["ok"] and reply["actions"] == size, reply
                    fits.append(reply["fit_s"])
                    began = time.perf_counter()
                    remove = {"op": "remove", "name": request["name"]}
                    reply = send_request(rig.control, remove, timeout_s=60.0)
                    removes.append((time.perf_counter() - began) * 1e3)
                    assert reply["ok"], reply
                a50, a95 = percentiles(adds)
                r50, r95 = percentiles(removes)
                label = threads or f"not set ({os.cpu_count()} cores)"
                table.add(label, size, repeats, a50, a95, percentiles(fits)[0], r50, r95)
    table.notes += [
        "each add carries a description never seen before (the runtime text encoder embeds it); the "
        "worker fits the whole label set's classifier (bundle.fit_classifier: numpy matrix products, "
        "OpenBLAS) in a helper thread and swaps it in; workers started with --memory-only",
        "OPENBLAS_NUM_THREADS=1 rows: the same worker with OpenBLAS limited to one thread; on a busy "
        "machine OpenBLAS's extra threads wait for cores and slow the small products down",
    ]
    return table


def run(quick: bool = False) -> list[Table]:
    """The end-to-end and add-action tables."""
    return [e2e_table(1 if quick else 3), add_action_table(2 if quick else 10, (25,) if quick else (25, 50))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="one play, few repeats")
    args = parser.parse_args()
    print_tables(run(args.quick))


if __name__ == "__main__":
    main()
