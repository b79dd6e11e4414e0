"""`actzero live`: camera or video -> pose publisher process -> ZeroMQ (loopback) -> worker process -> screen.

Two child processes talk over ZeroMQ on 127.0.0.1 exactly as `actzero pose` and `actzero worker`
do; this process subscribes to the results, to the pose process's view messages (each frame's
downscaled JPEG on a socket of its own, high-water mark 1, so a slow window skips pictures and
never lags; without a window, the same messages without pictures: frame counters only) and, for the
window, to the poses, and shows them: the camera picture with the skeletons, the labels, the frame
rate and the dropped frames (--headless prints the same figures every 2 s).
Every way out (Ctrl-C, SIGTERM, closing the window, --duration, the video's end) stops both children
and waits for them, killing one that does not stop in time, so no process is left behind; and the
children end by themselves when this process dies without that clean-up (SIGKILL, a native crash:
stream/lifetime.py). Without a display the window is replaced by --headless output, with a notice.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import typer

from actzero.cli.main import app
from actzero.cli.options import NumPoses, Verbose

_STOP_TIMEOUT_S = 5.0
_STATUS_INTERVAL_S = 2.0  # --headless prints the frame rate and dropped frames this often
_FPS_WINDOW_S = 2.0
_POSE_WAIT_S = 0.1  # how long a picture waits for its poses before it is shown without them
_RECENT_POSES = 32


def _fail(message: str) -> NoReturn:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


def _free_tcp_endpoint() -> str:
    """A tcp://127.0.0.1:PORT endpoint with a port the OS just reported free."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{probe.getsockname()[1]}"


def _display_problem() -> str | None:
    """Why no window can be opened here (None when one can).

    OpenCV's Qt backend aborts the whole process when it cannot reach a display, so a display
    named in the environment is tried in a short-lived subprocess first.
    """
    import os
    import subprocess
    import sys

    if not sys.platform.startswith("linux"):
        return None
    display = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    if not display:
        return "no display (DISPLAY and WAYLAND_DISPLAY are unset)"
    probe = "import cv2; cv2.namedWindow('actzero-probe'); cv2.waitKey(1); cv2.destroyAllWindows()"
    try:
        run = subprocess.run([sys.executable, "-c", probe], capture_output=True, timeout=20)
    except subprocess.TimeoutExpired:
        return "opening a window timed out"
    if run.returncode != 0:
        return f"cannot open a window on display {display}"
    return None


def _run_worker_process(
    config: object, stop: object, ready: object, actions_file: Path | None, parent_pid: int
) -> None:
    """Child process: the ZeroMQ worker service on the registry's (or the file's) actions."""
    import signal

    from actzero.stream.lifetime import ParentAwareStop, tie_to_parent

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent sets `stop`
    tie_to_parent(parent_pid)
    stop = ParentAwareStop(stop, parent_pid)

    from actzero.api import Recognizer
    from actzero.stream.worker_zmq import WorkerService

    recognizer = Recognizer.from_actions(actions_file)
    recognizer.core.warm_up()
    service = WorkerService(recognizer.core, config)
    try:
        ready.set()
        service.run(stop)
    finally:
        service.close()


@dataclass
class ViewerCounts:
    """The figures the window shows and --headless prints: frame rate and dropped frames.

    Attributes:
        shown: pictures shown (headless: view messages received).
        newest_sequence: the view sequence number of the newest one shown (-1: none yet).
        pose_busy: frames the pose process dropped because it was busy (its source's count).
        times: when the pictures of the last `_FPS_WINDOW_S` seconds were shown.
        first, last: when the first and the newest picture were shown.
    """

    shown: int = 0
    newest_sequence: int = -1
    pose_busy: int = 0
    times: list[float] = field(default_factory=list)
    first: float = 0.0
    last: float = 0.0

    def add(self, sequence: int, pose_dropped: int, now: float) -> None:
        """Count one shown picture: its view `sequence` and the pose process's dropped count."""
        self.shown += 1
        self.newest_sequence = max(self.newest_sequence, sequence)
        self.pose_busy = max(self.pose_busy, pose_dropped)
        self.times.append(now)
        self.first, self.last = (self.first or now), now

    @property
    def viewer_skipped(self) -> int:
        """Pictures the pose process sent up to the newest shown that were not shown."""
        return self.newest_sequence + 1 - self.shown

    def fps(self, now: float) -> float:
        """Pictures shown per second over the last `_FPS_WINDOW_S` seconds."""
        while self.times and now - self.times[0] > _FPS_WINDOW_S:
            self.times.pop(0)
        if not self.times:
            return 0.0
        return len(self.times) / max(_FPS_WINDOW_S, now - self.times[0], 1e-3)

    def mean_fps(self) -> float:
        """Pictures shown per second from the first to the newest."""
        return (self.shown - 1) / (self.last - self.first) if self.last > self.first else 0.0

    def text(self, now: float, whole_run: bool = False) -> str:
        """'29.8 fps  85 frames  dropped: 3 pose busy, 1 viewer skipped' (fps: recent, or `whole_run`'s)."""
        fps = self.mean_fps() if whole_run else self.fps(now)
        return (
            f"{fps:4.1f} fps  {self.shown} frames  "
            f"dropped: {self.pose_busy} pose busy, {self.viewer_skipped} viewer skipped"
        )


def _stop_children(processes: list, stop: object) -> None:
    """Ask the children to stop, wait, then terminate / kill any that is still running."""
    stop.set()
    deadline = time.monotonic() + _STOP_TIMEOUT_S
    for process in processes:
        process.join(max(0.1, deadline - time.monotonic()))
    for process in processes:
        if process.is_alive():
            process.terminate()
            process.join(2.0)
        if process.is_alive():
            process.kill()
            process.join()


@app.command("live")
def live(
    camera: int | None = typer.Option(None, "--camera", "-c", min=0, help="Camera index (0 = first camera)."),
    video: Path | None = typer.Option(None, "--video", "-v", help="A video file, played at its frame rate."),
    headless: bool = typer.Option(
        False, "--headless", help="No window: print one line per result, and the fps and drops every 2 s."
    ),
    duration: float | None = typer.Option(None, "--duration", min=0.1, help="Stop after this many seconds."),
    actions_file: Path | None = typer.Option(
        None, "--actions", help="Label set: text file of 'name: description' lines (default: the registry)."
    ),
    num_poses: NumPoses = 4,
    verbose: Verbose = False,
) -> None:
    """Recognise actions live: a pose process and a worker process over ZeroMQ, shown in a window.

    The window shows the camera picture with the skeletons drawn on it, each tracked person's
    current action, the latency from capture to result, the frame rate and the dropped frames
    (by the busy pose process, and skipped by a slow window). --headless prints the results and,
    every 2 s, the same figures. Stop with Ctrl-C, by closing the window (or pressing q), or with
    --duration.

    Example: actzero live --camera 0        |  actzero live --video clip.mp4 --headless --duration 10
    """
    import multiprocessing
    import os
    import signal

    import zmq

    from actzero.model.labelset import ActionsFileError, load_label_set
    from actzero.model.registry import RegistryError
    from actzero.stream.capture import CaptureError, open_source
    from actzero.stream.protocol import (
        MAX_MESSAGE_BYTES,
        MAX_VIEW_MESSAGE_BYTES,
        VIEW_TOPIC_PREFIX,
        ProtocolError,
        decode_pose_frame,
        decode_view_frame,
    )
    from actzero.stream.publisher import PublisherConfig, run_publisher_process
    from actzero.stream.results import ResultError, decode_result
    from actzero.stream.worker_zmq import ServiceConfig

    if (camera is None) == (video is None):
        _fail("give exactly one of --camera N or --video FILE")
    try:  # here, not in the worker process, whose error would be a bare exit code
        load_label_set(actions_file)
    except (ActionsFileError, RegistryError) as exc:
        _fail(str(exc))
    spec = str(camera) if camera is not None else str(video)
    try:  # check the source here: the child's error would otherwise be a bare exit code
        open_source(spec, realtime=True).close()
    except CaptureError as exc:
        what = f"camera {camera}" if camera is not None else str(video)
        _fail(f"cannot open {what}: {exc}")
    if not headless:
        problem = _display_problem()
        if problem is not None:
            typer.echo(f"live: {problem}; running headless (results printed below)", err=True)
            headless = True

    poses, results, control = _free_tcp_endpoint(), _free_tcp_endpoint(), _free_tcp_endpoint()
    views = _free_tcp_endpoint()
    ctx = multiprocessing.get_context("spawn")
    stop, ready = ctx.Event(), ctx.Event()
    worker = ctx.Process(
        target=_run_worker_process,
        args=(
            ServiceConfig(poses=(poses,), results=results, control=control),
            stop,
            ready,
            actions_file,
            os.getpid(),
        ),
        name="actzero-live-worker",
    )
    publisher = ctx.Process(
        target=run_publisher_process,
        args=(
            PublisherConfig(
                source=spec,
                address=poses,
                realtime=True,
                num_poses=num_poses,
                wait_for_subscriber=True,
                native_logs=verbose,
                view_address=views,
                view_pictures=not headless,
            ),
            stop,
            os.getpid(),
        ),
        name="actzero-live-pose",
    )
    interrupted = False

    def on_signal(*_: object) -> None:
        nonlocal interrupted
        interrupted = True

    previous = signal.signal(signal.SIGINT, on_signal)
    previous_term = signal.signal(signal.SIGTERM, on_signal)  # `kill` stops as cleanly as Ctrl-C
    context = zmq.Context()
    sockets = []
    window = "actzero live"
    shown = False
    try:
        worker.start()
        typer.echo("starting the worker (model and actions)...", err=True)
        while not ready.wait(0.2):
            if not worker.is_alive():
                _fail("the worker process stopped while starting (see the messages above)")
            if interrupted:
                return
        result_sub = context.socket(zmq.SUB)
        result_sub.setsockopt(zmq.SUBSCRIBE, b"")
        result_sub.connect(results)
        sockets.append(result_sub)
        view_sub = context.socket(zmq.SUB)
        view_sub.setsockopt(zmq.SUBSCRIBE, VIEW_TOPIC_PREFIX)
        view_sub.setsockopt(zmq.RCVHWM, 1)  # with the publisher's HWM of 1: skip pictures, never lag
        view_sub.setsockopt(zmq.MAXMSGSIZE, MAX_VIEW_MESSAGE_BYTES)
        view_sub.connect(views)
        sockets.append(view_sub)
        pose_sub = None
        if not headless:
            pose_sub = context.socket(zmq.SUB)
            pose_sub.setsockopt(zmq.SUBSCRIBE, b"")
            pose_sub.setsockopt(zmq.RCVHWM, 4)
            pose_sub.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
            pose_sub.connect(poses)
            sockets.append(pose_sub)
        publisher.start()
        typer.echo(
            f"live: poses {poses} -> worker -> results {results}, pictures {views} (Ctrl-C to stop); "
            f"pose pid {publisher.pid}, worker pid {worker.pid}",
            err=True,
        )
        poller = zmq.Poller()
        for sock in sockets:
            poller.register(sock, zmq.POLLIN)
        began = time.monotonic()
        next_status = began + _STATUS_INTERVAL_S
        labels: dict[tuple[str, int], tuple[str, float, float]] = {}  # (source, track) -> label, score, when
        latency_ms = 0.0
        counts = ViewerCounts()
        recent_poses: dict[int, object] = {}  # frame index -> PoseFrame, the newest few
        pending = None  # (view, when it arrived): a picture waiting for its poses
        publisher_done_at = None
        while not interrupted:
            now = time.monotonic()
            if duration is not None and now - began >= duration:
                break
            if not publisher.is_alive():  # the video ended (or the camera failed): drain briefly, stop
                publisher_done_at = publisher_done_at or now
                if now - publisher_done_at > 2.0:
                    break
            if not worker.is_alive():
                typer.secho("the worker process stopped unexpectedly", fg=typer.colors.RED, err=True)
                raise typer.Exit(1)
            events = dict(poller.poll(10 if pending else 50))
            if events.get(result_sub):
                for parts in _drain(result_sub):
                    try:
                        result = decode_result(parts)
                    except ResultError:
                        continue
                    latency_ms = result.latency_ms
                    labels[(result.source, result.track)] = (result.label or "-", result.score, now)
                    if headless:
                        typer.echo(
                            f"{now - began:7.2f}s {result.source} #{result.track} "
                            f"{result.label or '- (no action)'} {result.score:.2f} "
                            f"latency {result.latency_ms:.0f} ms"
                        )
            if pose_sub is not None and events.get(pose_sub):
                for parts in _drain(pose_sub):
                    try:
                        frame = decode_pose_frame(parts)
                    except ProtocolError:
                        continue
                    recent_poses[frame.index] = frame
                    while len(recent_poses) > _RECENT_POSES:
                        del recent_poses[min(recent_poses)]
            if events.get(view_sub):
                # headless: every message counts; window: only the newest picture is decoded, the
                # older ones are skipped (counted by their sequence numbers)
                for parts in _drain(view_sub)[(0 if headless else -1) :]:
                    try:
                        view = decode_view_frame(parts)
                    except ProtocolError:
                        continue
                    if headless:
                        counts.add(view.sequence, view.dropped, now)
                    else:
                        pending = (view, now)
            if pending is not None:
                view, arrived = pending
                newest_pose = max(recent_poses, default=-1)
                if view.index in recent_poses or newest_pose > view.index or now - arrived > _POSE_WAIT_S:
                    pending = None
                    counts.add(view.sequence, view.dropped, now)
                    lines = [counts.text(now), f"latency {latency_ms:4.0f} ms"]
                    lines += _label_lines(labels, now)
                    _show(window, view, recent_poses.get(view.index), lines)
                    shown = True
            if shown and _window_closed(window):
                break
            if headless and now >= next_status:
                typer.echo(f"{now - began:7.2f}s {counts.text(now)}")
                next_status += _STATUS_INTERVAL_S
        if headless:
            now = time.monotonic()
            typer.echo(f"{now - began:7.2f}s {counts.text(now, whole_run=True)} (whole run)")
    finally:
        signal.signal(signal.SIGINT, previous)
        signal.signal(signal.SIGTERM, previous_term)
        _stop_children([publisher, worker], stop)
        for sock in sockets:
            sock.close(0)
        context.term()
        if shown:
            import cv2

            cv2.destroyAllWindows()
    typer.echo("live: stopped", err=True)


def _drain(sock: object) -> list[list[bytes]]:
    """Every message waiting on `sock`, oldest first, without blocking."""
    import zmq

    messages = []
    while True:
        try:
            messages.append(sock.recv_multipart(zmq.NOBLOCK))
        except zmq.Again:
            return messages


def _label_lines(labels: dict, now: float) -> list[str]:
    """'#3 walking 0.72' for each track with a result in the last 3 s, by track id."""
    return [
        f"#{track} {label} {score:.2f}"
        for (_, track), (label, score, when) in sorted(labels.items(), key=lambda item: item[0][1])
        if now - when < 3.0
    ]


def _show(window: str, view: object, frame: object, lines: list[str]) -> None:
    """Show the view's camera picture with its frame's skeletons (None: none) and the status lines."""
    import cv2

    from actzero.stream.draw import draw_live_frame

    cv2.imshow(window, draw_live_frame(view.picture, frame, lines))


def _window_closed(window: str) -> bool:
    """Handle the window's events; True when the user closed it or pressed q (or Esc)."""
    import cv2

    key = cv2.waitKey(1) & 0xFF
    return key in (ord("q"), 27) or cv2.getWindowProperty(window, cv2.WND_PROP_VISIBLE) < 1
