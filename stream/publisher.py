"""The pose publisher: frames from a source -> MediaPipe Pose -> ZeroMQ PUB (stream/protocol.py).

``run_publisher(config, stop)`` runs the loop until the source ends or ``stop`` is set; it works in
a thread or, through :func:`run_publisher_process`, in a ``multiprocessing.Process``. Frames are
on the wall clock: ``capture_ts`` is ``time.time()`` when the source captured the image.

The socket is an XPUB (a PUB socket that also reports subscriptions) with a send high-water mark:
a subscriber that cannot keep up loses messages (it sees gaps in the frame index) instead of
making the publisher's memory grow.

With ``view_address`` a second socket (PUB, send high-water mark 1) carries a downscaled JPEG of each
frame (the view message of stream/protocol.py) for a live window: a viewer that is slower than the
camera loses pictures, which never delay or enlarge the pose messages.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from actzero.stream.capture import open_source
from actzero.stream.frames import WALL_CLOCK, pose_frame
from actzero.stream.lifetime import ParentAwareStop, tie_to_parent
from actzero.stream.pose import PoseEstimator, PoseOptions
from actzero.stream.protocol import ViewFrame, encode_pose_frame, encode_view_frame, safe_source_name
from actzero.stream.security import check_bind

DEFAULT_ADDRESS = "tcp://127.0.0.1:5555"
_POLL_MS = 100


class StopEvent(Protocol):
    """``threading.Event`` or ``multiprocessing.Event``."""

    def is_set(self) -> bool: ...


@dataclass(frozen=True)
class PublisherConfig:
    """What to publish and where.

    Attributes:
        source: source spec for :func:`actzero.stream.capture.open_source` (camera index,
            "sample", video file, image folder).
        address: ZeroMQ endpoint to bind (tcp://host:port or ipc://path).
        name: source id in the messages; default: the source's own name (cam0, file stem).
        realtime: play video files at their frame rate, dropping late frames.
        wait_for_subscriber: hold the first frame until a subscriber has joined (so batch runs
            lose nothing to ZeroMQ's slow-joiner effect).
        allow_remote: permit binding to a non-loopback interface (logs a warning).
        num_poses: most persons per frame.
        send_hwm: messages queued per subscriber before further ones are dropped.
        linger_ms: how long closing the socket may wait to deliver queued messages.
        stats_interval_s: how often ``on_stats`` is called.
        native_logs: show MediaPipe's C++ start-up log (see ``PoseOptions.native_logs``).
        view_address: ZeroMQ endpoint to bind for the view messages (None: none are sent).
        view_pictures: put the frame's picture in the view messages (False: counters only,
            for a viewer without a window).
        view_width: the pictures' largest width in pixels (frames are downscaled, never enlarged).
        view_quality: JPEG quality of the pictures, 1-100.
    """

    source: str = "0"
    address: str = DEFAULT_ADDRESS
    name: str | None = None
    realtime: bool = True
    wait_for_subscriber: bool = False
    allow_remote: bool = False
    num_poses: int = 4
    send_hwm: int = 32
    linger_ms: int = 1000
    stats_interval_s: float = 2.0
    native_logs: bool = False
    view_address: str | None = None
    view_pictures: bool = True
    view_width: int = 640
    view_quality: int = 80


@dataclass(frozen=True)
class PublisherStats:
    """Counters and rates of a publisher run (``fps`` and ``pose_ms`` over the last interval).

    Attributes:
        source: the source id in the messages.
        published: messages sent.
        captured: frames read from the source.
        dropped: frames the source dropped as stale (live grabber or real-time playback).
        persons: persons in the latest frame.
        fps: published frames per second.
        pose_ms: mean pose-estimation time per frame, milliseconds.
        elapsed_s: seconds since the loop started.
    """

    source: str
    published: int
    captured: int
    dropped: int
    persons: int
    fps: float
    pose_ms: float
    elapsed_s: float


def run_publisher(
    config: PublisherConfig,
    stop: StopEvent,
    on_stats: Callable[[PublisherStats], None] | None = None,
) -> PublisherStats:
    """Publish the source's poses until it ends or ``stop`` is set; return the final stats.

    Raises:
        actzero.stream.capture.CaptureError: the source cannot be opened or read.
        actzero.stream.security.ExposureError: a non-loopback address without ``allow_remote``.
        zmq.ZMQError: the address cannot be bound (in use, bad endpoint).
    """
    import zmq

    check_bind(config.address, allow_remote=config.allow_remote, role="pose publisher")
    if config.view_address is not None:
        check_bind(config.view_address, allow_remote=config.allow_remote, role="pose publisher's view")
    context = zmq.Context()
    socket = context.socket(zmq.XPUB)
    socket.setsockopt(zmq.SNDHWM, config.send_hwm)
    socket.setsockopt(zmq.LINGER, config.linger_ms)
    view_socket = None
    try:
        socket.bind(config.address)
        if config.view_address is not None:
            view_socket = context.socket(zmq.PUB)
            view_socket.setsockopt(zmq.SNDHWM, 1)  # a slow viewer drops pictures instead of queueing
            view_socket.setsockopt(zmq.LINGER, 0)
            view_socket.bind(config.view_address)
        with (
            open_source(config.source, realtime=config.realtime) as source,
            PoseEstimator.create(
                PoseOptions(num_poses=config.num_poses, native_logs=config.native_logs)
            ) as pose,
        ):
            name = safe_source_name(config.name or source.name)
            if config.wait_for_subscriber and not _wait_for_subscriber(socket, stop):
                return PublisherStats(name, 0, 0, 0, 0, 0.0, 0.0, 0.0)
            return _publish(source, pose, (socket, view_socket), name, config, stop, on_stats)
    finally:
        socket.close()
        if view_socket is not None:
            view_socket.close()
        context.term()


def run_publisher_process(config: PublisherConfig, stop: StopEvent, parent_pid: int | None = None) -> None:
    """Entry point for ``multiprocessing.Process``; ignores Ctrl-C (the parent sets ``stop``).

    With `parent_pid` (the parent's ``os.getpid()``) the process also ends when that parent dies,
    however it dies (stream/lifetime.py).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent_pid is not None:
        tie_to_parent(parent_pid)
        stop = ParentAwareStop(stop, parent_pid)
    run_publisher(config, stop)


def _wait_for_subscriber(socket: object, stop: StopEvent) -> bool:
    import zmq

    while not stop.is_set():
        if socket.poll(_POLL_MS, zmq.POLLIN):
            message = socket.recv()
            if message[:1] == b"\x01":  # subscribe (b"\x00..." is unsubscribe)
                return True
    return False


def view_picture(image: np.ndarray, max_width: int) -> np.ndarray:
    """The frame as sent to viewers: downscaled to at most `max_width` pixels wide (never enlarged)."""
    import cv2

    height, width = image.shape[:2]
    if width <= max_width:
        return image
    size = (max_width, max(1, round(height * max_width / width)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def _publish(source, pose, sockets, name, config, stop, on_stats) -> PublisherStats:  # noqa: ANN001
    import zmq

    socket, view_socket = sockets
    start = last_report = time.monotonic()
    published = persons = 0
    interval_frames, interval_pose_s = 0, 0.0

    def snapshot(now: float) -> PublisherStats:
        span = max(now - last_report, 1e-9)
        return PublisherStats(
            source=name,
            published=published,
            captured=source.counters.captured,
            dropped=source.counters.dropped,
            persons=persons,
            fps=interval_frames / span,
            pose_ms=1000.0 * interval_pose_s / max(interval_frames, 1),
            elapsed_s=now - start,
        )

    for captured in source:
        if stop.is_set():
            break
        while socket.poll(0, zmq.POLLIN):  # subscription notices: read them so they never pile up
            socket.recv()
        height, width = captured.image.shape[:2]
        began = time.perf_counter()
        poses = pose.process(captured.image, captured.timestamp_ms)
        interval_pose_s += time.perf_counter() - began
        frame = pose_frame(
            name, captured.index, poses, width, height, clock=WALL_CLOCK, wall_ts=captured.capture_ts
        )
        socket.send_multipart(encode_pose_frame(frame))  # PUB never blocks: over the HWM it drops
        if view_socket is not None:
            picture = view_picture(captured.image, config.view_width) if config.view_pictures else None
            view = ViewFrame(
                name, captured.index, published, captured.capture_ts, width, height,
                source.counters.dropped, picture,
            )  # fmt: skip
            view_socket.send_multipart(encode_view_frame(view, config.view_quality))
        published += 1
        interval_frames += 1
        persons = frame.num_persons
        now = time.monotonic()
        if on_stats is not None and now - last_report >= config.stats_interval_s:
            on_stats(snapshot(now))
            last_report, interval_frames, interval_pose_s = now, 0, 0.0
    return snapshot(time.monotonic())
