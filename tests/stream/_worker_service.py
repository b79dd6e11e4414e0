"""Helpers for the worker service tests: a service on real loopback sockets in a thread, a pose
publisher that knows when a worker has subscribed, and a result subscriber."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import zmq

from actzero.stream.control import send_request
from actzero.stream.frames import PoseFrame
from actzero.stream.protocol import encode_pose_frame
from actzero.stream.results import ActionResult, decode_result
from actzero.stream.worker import WorkerCore
from actzero.stream.worker_zmq import ServiceConfig, WorkerService

TIMEOUT_S = 10.0


class Publisher:
    """A pose publisher bound to a random loopback port (XPUB: subscriptions are visible)."""

    def __init__(self, ctx: zmq.Context, address: str = "tcp://127.0.0.1:*") -> None:
        self.socket = ctx.socket(zmq.XPUB)
        self.socket.linger = 0
        self.socket.sndhwm = 100_000
        self.socket.setsockopt(zmq.XPUB_VERBOSE, 1)
        self.socket.bind(address)
        self.address = self.socket.getsockopt_string(zmq.LAST_ENDPOINT)

    def wait_subscribed(self, timeout_s: float = TIMEOUT_S, subscribe: bool = True) -> bytes:
        """Wait for the next (un)subscription message (a worker (dis)connected); returns its topic."""
        kind = b"\x01" if subscribe else b"\x00"
        while True:
            assert self.socket.poll(int(timeout_s * 1000)), "no (un)subscription within the timeout"
            message = self.socket.recv()
            if message[:1] == kind:
                return message[1:]

    def send(self, frame: PoseFrame) -> None:
        self.socket.send_multipart(encode_pose_frame(frame))

    def send_raw(self, parts: list[bytes]) -> None:
        self.socket.send_multipart(parts)

    def close(self) -> None:
        self.socket.close(linger=0)


class Results:
    """A result subscriber."""

    def __init__(self, ctx: zmq.Context, address: str, topic: bytes = b"result/") -> None:
        self.socket = ctx.socket(zmq.SUB)
        self.socket.linger = 0
        self.socket.setsockopt(zmq.SUBSCRIBE, topic)
        self.socket.connect(address)

    def take(self, count: int, timeout_s: float = TIMEOUT_S) -> list[ActionResult]:
        """Receive exactly `count` results (fails after `timeout_s` without a message)."""
        out = []
        while len(out) < count:
            assert self.socket.poll(int(timeout_s * 1000)), f"only {len(out)} of {count} results arrived"
            out.append(decode_result(self.socket.recv_multipart()))
        return out

    def close(self) -> None:
        self.socket.close(linger=0)


class RunningService:
    """A `WorkerService` running in a thread, with helpers to talk to it."""

    def __init__(self, service: WorkerService) -> None:
        self.service = service
        self.control = service.control_endpoint
        self.results = service.results_endpoint
        self._stop = threading.Event()
        self._thread = threading.Thread(target=service.run, args=(self._stop, 20), daemon=True)
        self._thread.start()

    def request(self, request: dict, timeout_s: float = TIMEOUT_S, **kwargs) -> dict:
        return send_request(self.control, request, timeout_s=timeout_s, **kwargs)

    def status(self) -> dict:
        reply = self.request({"op": "status"})
        assert reply["ok"], reply
        return reply["status"]

    def wait_status(self, predicate, timeout_s: float = TIMEOUT_S) -> dict:
        """Ask for the status until `predicate(status)` holds (each answer is a loop turn)."""
        import time

        deadline = time.monotonic() + timeout_s
        while True:
            status = self.status()
            if predicate(status):
                return status
            assert time.monotonic() < deadline, f"status never satisfied the condition: {status}"

    def publish_in_step(self, publisher: Publisher, frames: list[PoseFrame]) -> None:
        """Publish frames one at a time, each after the worker has taken the previous one."""
        start = self.status()["messages_in"]
        for k, frame in enumerate(frames, start=1):
            publisher.send(frame)
            self.wait_status(lambda s, k=k: s["messages_in"] >= start + k)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=TIMEOUT_S)
        assert not self._thread.is_alive()
        self.service.close()


@contextlib.contextmanager
def running_service(core: WorkerCore, poses: list[str], **config) -> Iterator[RunningService]:
    """Run a worker service on loopback with random ports; stops it afterwards."""
    config.setdefault("results", "tcp://127.0.0.1:*")
    config.setdefault("control", "tcp://127.0.0.1:*")
    service = WorkerService(core, ServiceConfig(poses=tuple(poses), **config))
    running = RunningService(service)
    try:
        yield running
    finally:
        running.stop()
