"""The publisher loop over real ZeroMQ sockets (tcp on 127.0.0.1 and ipc) with real MediaPipe."""

import socket
import threading
import time
from pathlib import Path

import cv2
import pytest
import zmq

from actzero.stream.capture import SAMPLE_VIDEO
from actzero.stream.frames import WALL_CLOCK
from actzero.stream.protocol import MAX_MESSAGE_BYTES, TOPIC_PREFIX, decode_pose_frame
from actzero.stream.publisher import PublisherConfig, PublisherStats, run_publisher
from actzero.stream.security import ExposureError

NUM_FRAMES = 4
TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def short_video(tmp_path_factory) -> Path:
    """Four frames of the sample video (both people visible), cropped and halved to keep it quick."""
    path = tmp_path_factory.mktemp("video") / "two people.avi"
    capture = cv2.VideoCapture(str(SAMPLE_VIDEO))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30, (552, 496))
    for i in range(62 + NUM_FRAMES):
        ok, frame = capture.read()
        assert ok
        if i >= 62:
            writer.write(cv2.resize(frame[:, 400:1500], (552, 496)))
    writer.release()
    capture.release()
    return path


def free_tcp_address() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:  # closes synchronously, unlike zmq
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"tcp://127.0.0.1:{port}"


class PublisherThread:
    def __init__(self, config: PublisherConfig) -> None:
        self.stop = threading.Event()
        self.result: PublisherStats | BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(config,), daemon=True)
        self.thread.start()

    def _run(self, config: PublisherConfig) -> None:
        try:
            self.result = run_publisher(config, self.stop)
        except BaseException as error:  # handed to the test
            self.result = error

    def join(self) -> PublisherStats:
        self.thread.join(30)
        assert not self.thread.is_alive()
        if isinstance(self.result, BaseException):
            raise self.result
        return self.result


def receive_all(address: str, count: int, publisher: PublisherThread) -> list:
    context = zmq.Context.instance()
    subscriber = context.socket(zmq.SUB)
    subscriber.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
    subscriber.setsockopt(zmq.LINGER, 0)
    subscriber.subscribe(TOPIC_PREFIX)
    subscriber.connect(address)
    frames = []
    try:
        waited = 0
        while len(frames) < count:
            if subscriber.poll(100):
                frames.append(decode_pose_frame(subscriber.recv_multipart()))
                continue
            waited += 100
            if isinstance(publisher.result, BaseException):
                raise publisher.result
            assert waited < TIMEOUT_MS, f"no message within {TIMEOUT_MS} ms after {len(frames)}"
    finally:
        subscriber.close()
    return frames


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_every_frame_reaches_a_subscriber(short_video, tmp_path, transport):
    address = free_tcp_address() if transport == "tcp" else f"ipc://{tmp_path}/poses.sock"
    config = PublisherConfig(
        source=str(short_video), address=address, realtime=False, wait_for_subscriber=True, num_poses=2
    )
    started = time.time()
    publisher = PublisherThread(config)
    frames = receive_all(address, NUM_FRAMES, publisher)
    stats = publisher.join()
    # the wall clock at capture (not the video's media time, which starts at 0)
    assert all(f.clock == WALL_CLOCK and started <= f.capture_ts <= time.time() for f in frames)
    assert [f.index for f in frames] == list(range(NUM_FRAMES))
    assert {f.source for f in frames} == {"two-people"}  # the file stem, made a valid id
    assert all((f.width, f.height) == (552, 496) for f in frames)
    assert max(f.num_persons for f in frames) == 2
    assert frames[0].capture_ts <= frames[-1].capture_ts
    assert stats.published == stats.captured == NUM_FRAMES and stats.dropped == 0


def test_stop_event_ends_a_publisher_waiting_for_subscribers(short_video):
    config = PublisherConfig(source=str(short_video), address=free_tcp_address(), wait_for_subscriber=True)
    publisher = PublisherThread(config)
    publisher.stop.set()
    assert publisher.join().published == 0


def test_non_loopback_address_needs_allow_remote(short_video):
    config = PublisherConfig(source=str(short_video), address="tcp://0.0.0.0:5599")
    with pytest.raises(ExposureError, match="--allow-remote"):
        run_publisher(config, threading.Event())


@pytest.mark.slow
def test_publisher_runs_in_a_spawned_process_and_stops_on_its_event(short_video):
    import multiprocessing

    from actzero.stream.publisher import run_publisher_process

    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    address = free_tcp_address()
    config = PublisherConfig(
        source=str(short_video), address=address, realtime=False, wait_for_subscriber=True
    )
    process = context.Process(target=run_publisher_process, args=(config, stop))
    process.start()
    try:
        subscriber = zmq.Context.instance().socket(zmq.SUB)
        subscriber.setsockopt(zmq.LINGER, 0)
        subscriber.subscribe(TOPIC_PREFIX)
        subscriber.connect(address)
        assert subscriber.poll(TIMEOUT_MS), "the publisher process sent nothing"
        assert decode_pose_frame(subscriber.recv_multipart()).index == 0
        subscriber.close()
        stop.set()
        process.join(20)
        assert process.exitcode == 0
    finally:
        if process.is_alive():
            process.kill()


def test_view_messages_carry_each_frames_picture_beside_its_poses(short_video):
    import numpy as np

    from actzero.stream.protocol import MAX_VIEW_MESSAGE_BYTES, VIEW_TOPIC_PREFIX, decode_view_frame

    address, view_address = free_tcp_address(), free_tcp_address()
    context = zmq.Context.instance()
    viewer = context.socket(zmq.SUB)
    viewer.setsockopt(zmq.MAXMSGSIZE, MAX_VIEW_MESSAGE_BYTES)
    viewer.setsockopt(zmq.LINGER, 0)
    viewer.subscribe(VIEW_TOPIC_PREFIX)
    viewer.connect(view_address)  # before the first frame: the publisher waits for the pose subscriber
    config = PublisherConfig(
        source=str(short_video), address=address, realtime=False, wait_for_subscriber=True,
        num_poses=2, view_address=view_address, view_width=276,
    )  # fmt: skip
    publisher = PublisherThread(config)
    try:
        frames = receive_all(address, NUM_FRAMES, publisher)
        views, deadline = [], time.monotonic() + TIMEOUT_MS / 1000
        while len(views) < NUM_FRAMES and time.monotonic() < deadline:
            # once the publisher has ended, its view socket is closed (linger 0): no further picture
            # is sent, so wait only for what is on its way instead of the whole timeout for a lost one
            ended = not publisher.thread.is_alive()
            if viewer.poll(1000 if ended else 100):
                views.append(decode_view_frame(viewer.recv_multipart()))
            elif ended:
                break
    finally:
        viewer.close()
    publisher.join()
    # the publisher sent the pictures no faster than the poses; with a high-water mark of 1 a few
    # may be lost, and a gap in `sequence` says so; every picture pairs with its pose frame's index
    assert views and [v.sequence for v in views] == sorted({v.sequence for v in views})
    by_index = {f.index: f for f in frames}
    capture = cv2.VideoCapture(str(short_video))
    originals = [capture.read()[1] for _ in range(NUM_FRAMES)]
    capture.release()
    for view in views:
        assert view.index == view.sequence and view.index in by_index
        assert (view.source, view.capture_ts, view.width, view.height, view.dropped) == (
            "two-people", by_index[view.index].capture_ts, 552, 496, 0,
        )  # fmt: skip
        assert view.picture.shape == (248, 276, 3)  # halved: at most 276 wide, aspect kept
        expected = cv2.resize(originals[view.index], (276, 248), interpolation=cv2.INTER_AREA)
        assert np.abs(view.picture.astype(np.int16) - expected).mean() < 8.0  # JPEG at quality 80
