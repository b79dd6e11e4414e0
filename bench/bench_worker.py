"""Worker benchmark: batched throughput, end-to-end added latency, add-action time, overload drops.

Poses are real: MediaPipe landmarks of the sample video (two people), computed once with the
shipped pose model and cached under cache/. The networks are the shipped default bundle.

1. throughput: `WorkerCore` in-process with N one-person sources all ready at every step
   (stride 1), so each step classifies N windows in one batch; windows/s and the per-window
   stage times.
2. latency: `actzero worker` as its own process on ipc:// sockets; this script publishes S
   two-person sources at 30 fps (capture_ts = send time) and subscribes to the results.
   Added latency = result receive time - capture time of the window's last frame, i.e. what
   the worker and transport add on top of the window itself.
3. add-action: while (2) runs, `add` requests with new text (the text encoder runs too);
   the reply time seen by the client and the worker's fit time.
4. overload: the same worker fed far faster than it can classify; frames kept vs dropped.

    nice -n 10 python bench/bench_worker.py                 # all parts (about 1.5 minutes)
    python bench/bench_worker.py --parts throughput --threads 2
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import zmq
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
import soak  # noqa: E402  (bench/soak.py: recorded poses -> PoseFrame)

from actzero.model.bundle import Bundle  # noqa: E402
from actzero.stream.control import send_request  # noqa: E402
from actzero.stream.frames import MEDIA_CLOCK, WALL_CLOCK, PoseFrame  # noqa: E402
from actzero.stream.protocol import encode_pose_frame  # noqa: E402
from actzero.stream.results import decode_result  # noqa: E402
from actzero.stream.worker import WorkerConfig, WorkerCore  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
POSES_CACHE = REPO / "cache" / "bench_worker_poses.npz"
VIDEO = REPO / "samples" / "sports2d-demo.mp4"
FIRST, COUNT = 59, 90  # both people are in view from frame 59
WIDTH, HEIGHT = soak.WIDTH, soak.HEIGHT  # the size soak.replayed_frame gives the frames
console = Console()


def load_poses() -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(image, world, visibility) per frame of the sample stretch, from the cache or MediaPipe."""
    if not POSES_CACHE.is_file():
        import cv2

        from actzero.stream.pose import PoseEstimator, PoseOptions

        console.print("running MediaPipe on the sample video once (cached for next time)...")
        cap = cv2.VideoCapture(str(VIDEO))
        arrays: dict[str, np.ndarray] = {}
        options = PoseOptions(num_poses=2, min_detection_confidence=0.2, min_presence_confidence=0.2)
        with PoseEstimator.create(options) as estimator:
            for i in range(FIRST + COUNT):
                ok, frame = cap.read()
                if not ok:
                    raise SystemExit(f"cannot read frame {i} of {VIDEO}")
                if i >= FIRST:
                    found = estimator.process(cv2.resize(frame, (WIDTH, HEIGHT)), i * 1000 // 30)
                    image, world, vis = found.image, found.world, found.visibility
                    k = i - FIRST
                    arrays[f"image{k}"], arrays[f"world{k}"], arrays[f"vis{k}"] = image, world, vis
        cap.release()
        POSES_CACHE.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(POSES_CACHE, **arrays)
    with np.load(POSES_CACHE) as data:
        return [(data[f"image{k}"], data[f"world{k}"], data[f"vis{k}"]) for k in range(COUNT)]


def frame_at(poses, source: str, k: int, ts: float, t_video: float) -> PoseFrame:
    """Message k of a source, captured at wall-clock time `ts`, showing the poses at `t_video` seconds
    of a forwards-backwards replay of the recorded stretch: the motion keeps its real speed however
    fast frames are sent."""
    cycle = len(poses) * 2 - 2
    j = int(t_video * 30) % cycle
    return soak.replayed_frame(
        source, k, poses[j if j < len(poses) else cycle - j], clock=WALL_CLOCK, wall_ts=ts
    )


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


# ----- 1. throughput ---------------------------------------------------------------------------
def bench_throughput(poses, threads: int, seconds: float) -> Table:
    bundle = Bundle.load(intra_op_threads=threads)
    one_person = walker_poses(poses)
    table = Table(title=f"1. batched classification (onnxruntime {threads} thread(s), stride 1)")
    for col in ("tracks", "windows/s", "step ms p50", "map ms/frame", "canon ms/window", "model ms/batch"):
        table.add_column(col, justify="right")
    classifier = bundle.fit_classifier(bundle.actions)
    for n in (1, 2, 4, 8, 16, 32):
        core = WorkerCore(bundle, classifier=classifier, config=WorkerConfig(stride=1))
        sources = [f"s{i:02d}" for i in range(n)]
        k = 0

        while k < bundle.window:  # fill the windows
            _step(core, one_person, sources, k)
            k += 1
        windows, steps, t0 = 0, [], time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            s0 = time.perf_counter()
            windows += len(_step(core, one_person, sources, k))
            steps.append(time.perf_counter() - s0)
            k += 1
        elapsed = time.perf_counter() - t0
        timings = core.status()["timings_ms"]
        table.add_row(
            str(n),
            f"{windows / elapsed:.0f}",
            f"{1e3 * np.median(steps):.1f}",
            f"{timings['map']['p50']:.3f}",
            f"{timings['canonicalise']['p50']:.2f}",
            f"{timings['model']['p50']:.1f}",
        )
    return table


def walker_poses(poses) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The walking woman alone (the pose on the right half of the image), forwards then backwards."""
    alone = []
    for image, world, vis in poses:
        keep = image[:, 11:25, 0].mean(axis=1) > 0.5
        if keep.any():
            i = int(np.flatnonzero(keep)[0])
            alone.append((image[i : i + 1], world[i : i + 1], vis[i : i + 1]))
    return alone + alone[-2:0:-1]


def _step(core: WorkerCore, walker: list, sources: list[str], k: int) -> list:
    """Frame k of every one-person source (each at its own point of the walk), then one step."""
    for i, name in enumerate(sources):
        core.ingest(soak.replayed_frame(name, k, walker[(k + 7 * i) % len(walker)], clock=MEDIA_CLOCK))
    return core.classify_ready()


# ----- 2-4. the worker process ---------------------------------------------------------------
class WorkerProcess:
    """`actzero worker --memory-only` on ipc:// sockets in a temporary folder."""

    def __init__(self, folder: Path, threads: int) -> None:
        self.folder = folder
        self.poses = f"ipc://{folder}/poses"
        self.results = f"ipc://{folder}/results"
        self.control = f"ipc://{folder}/control"
        self.log = open(folder / "worker.log", "wb")  # noqa: SIM115 (closed in stop)
        env = {**os.environ, "ACTZERO_CONFIG_DIR": str(folder)}
        self.proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "actzero"), "worker", "--memory-only", "--report-every", "0",
             "--threads", str(threads), "--poses", self.poses, "--results", self.results,
             "--control", self.control],
            stdout=self.log, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip

    def wait_ready(self, timeout_s: float = 120.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                log = (self.folder / "worker.log").read_text(errors="replace")[-2000:]
                raise SystemExit(f"worker exited with {self.proc.returncode}:\n{log}")
            try:
                send_request(self.control, {"op": "status"}, timeout_s=1.0)
                return
            except TimeoutError:
                continue
        raise SystemExit("worker not ready")

    def status(self) -> dict:
        return send_request(self.control, {"op": "status"}, timeout_s=5.0)["status"]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.log.close()


class Publisher:
    """Publishes two-person sources from a thread: at `fps` each, or as fast as possible (fps 0)."""

    def __init__(self, ctx: zmq.Context, address: str, poses) -> None:
        self.socket = ctx.socket(zmq.PUB)
        self.socket.sndhwm = 1000
        self.socket.bind(address)
        self.poses = poses
        self.k = 0
        self.sent = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, sources: int, fps: float) -> None:
        self.sent = 0
        self._stop.clear()
        names = [f"cam{i:02d}" for i in range(sources)]
        self._thread = threading.Thread(target=self._run, args=(names, fps), daemon=True)
        self._thread.start()

    def _run(self, names: list[str], fps: float) -> None:
        period = 1.0 / fps if fps else 0.0
        next_t = start = time.perf_counter()
        while not self._stop.is_set():
            for i, name in enumerate(names):
                t_video = time.perf_counter() - start + 0.7 * i  # sources at different moments
                frame = frame_at(self.poses, name, self.k, time.time(), t_video)
                self.socket.send_multipart(encode_pose_frame(frame))
                self.sent += 1
            self.k += 1
            if period:
                next_t += period
                delay = next_t - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)  # a camera's frame clock
                else:
                    next_t = time.perf_counter()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def close(self) -> None:
        self.stop()
        self.socket.close(linger=0)


def collect_latency(sub: zmq.Socket, seconds: float) -> tuple[list[float], list[float]]:
    """(end-to-end added latency ms, worker-side latency ms) of the results received in `seconds`."""
    added, worker = [], []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if sub.poll(100):
            parts = sub.recv_multipart()
            now = time.time()
            result = decode_result(parts)
            added.append((now - result.end_ts) * 1e3)
            worker.append(result.latency_ms)
    return added, worker


def wait_drained(worker: WorkerProcess) -> dict:
    """Status once the worker has stopped receiving (two answers 0.2 s apart agree)."""
    previous = worker.status()
    while True:
        time.sleep(0.2)
        status = worker.status()
        if status["messages_in"] == previous["messages_in"]:
            return status
        previous = status


def bench_service(poses, threads: int, seconds: float, sources: int) -> list[Table]:
    ctx = zmq.Context()
    with tempfile.TemporaryDirectory(prefix="actzero-bench-") as tmp:
        worker = WorkerProcess(Path(tmp), threads)
        pub = Publisher(ctx, worker.poses, poses)
        sub = ctx.socket(zmq.SUB)
        sub.setsockopt(zmq.SUBSCRIBE, b"result/")
        sub.connect(worker.results)
        try:
            worker.wait_ready()
            pub.start(sources, fps=30.0)
            collect_latency(sub, 3.0)  # warm-up: windows fill
            before = worker.status()
            added, inside = collect_latency(sub, seconds)
            after = worker.status()
            lat = Table(
                title=f"2. latency, worker process: {sources} sources x 2 people at 30 fps, {seconds:.0f} s"
            )
            for col in ("results", "windows/s", "added p50 ms", "added p95 ms", "worker p50 ms",
                        "worker p95 ms", "frames dropped"):  # fmt: skip
                lat.add_column(col, justify="right")
            dropped = sum(after[k] - before[k] for k in ("frames_dropped_stale", "frames_missing"))
            lat.add_row(
                str(len(added)),
                f"{(after['windows_classified'] - before['windows_classified']) / seconds:.0f}",
                f"{percentile(added, 50):.1f}", f"{percentile(added, 95):.1f}",
                f"{percentile(inside, 50):.1f}", f"{percentile(inside, 95):.1f}", str(dropped),
            )  # fmt: skip

            add = Table(title="3. add-action under that load (new text: the text encoder runs)")
            for col in ("request", "reply s", "fit s", "actions"):
                add.add_column(col, justify="right")
            for i in range(5):
                request = {
                    "op": "add",
                    "name": f"bench action {i}",
                    "descriptions": [f"The person raises both arms {i + 2} times and then bows deeply."],
                }
                t0 = time.perf_counter()
                reply = send_request(worker.control, request, timeout_s=30.0)
                elapsed = time.perf_counter() - t0
                add.add_row(str(i + 1), f"{elapsed:.3f}", f"{reply.get('fit_s', float('nan')):.3f}",
                            str(reply.get("actions")))  # fmt: skip
            t0 = time.perf_counter()
            send_request(worker.control, {"op": "status"}, timeout_s=5.0)
            add.caption = f"status reply under the same load: {(time.perf_counter() - t0) * 1e3:.1f} ms"
            pub.stop()

            over = Table(title="4. overload: 16 two-person sources published as fast as possible, 5 s")
            for col in ("published", "received", "classified frames", "dropped stale", "missing",
                        "kept %", "windows/s"):  # fmt: skip
                over.add_column(col, justify="right")
            before = wait_drained(worker)
            pub.start(16, fps=0.0)
            collect_latency(sub, 5.0)
            pub.stop()
            after = wait_drained(worker)
            keys = (
                "messages_in",
                "frames_in",
                "frames_dropped_stale",
                "frames_missing",
                "windows_classified",
            )
            diff = {k: after[k] - before[k] for k in keys}
            over.add_row(
                str(pub.sent),
                str(diff["messages_in"]),
                str(diff["frames_in"]),
                str(diff["frames_dropped_stale"]),
                str(diff["frames_missing"]),
                f"{100 * diff['frames_in'] / max(pub.sent, 1):.1f}",
                f"{diff['windows_classified'] / 5.0:.0f}",
            )
            return [lat, add, over]
        finally:
            pub.close()
            sub.close(linger=0)
            worker.stop()
            ctx.destroy(linger=0)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--parts", nargs="+", default=["throughput", "service"], choices=["throughput", "service"]
    )
    parser.add_argument("--threads", type=int, default=2, help="onnxruntime threads per session")
    parser.add_argument("--seconds", type=float, default=4.0, help="measuring time per configuration")
    parser.add_argument("--sources", type=int, default=4, help="two-person sources for the latency run")
    args = parser.parse_args()
    poses = load_poses()
    console.print(f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}")
    if "throughput" in args.parts:
        console.print(bench_throughput(poses, args.threads, args.seconds))
    if "service" in args.parts:
        for table in bench_service(poses, args.threads, max(args.seconds, 10.0), args.sources):
            console.print(table)


if __name__ == "__main__":
    main()
