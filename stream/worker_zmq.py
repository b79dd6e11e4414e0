"""The worker as a ZeroMQ service: SUB pose frames, PUB results, control for REQ clients.

One thread runs one poller loop over every socket. Each turn it

1. answers control requests (a ROUTER socket, so several REQ clients are served at once):
   list/status at once; add/replace/remove join a queue and are fitted one at a time in a helper
   thread, each answered when its fit finishes, while frames and other requests flow;
2. drains every pose subscriber without blocking and decodes only the newest message of
   each source (topic): live input never queues up, older messages are dropped unread and
   counted as stale; index gaps (frames lost before this worker: the publisher's or
   ZeroMQ's high-water marks) are counted as missing;
3. feeds the kept frames to the `WorkerCore`, classifies ready tracks in one batch and
   publishes the results without blocking: when a slow subscriber's queue is full the
   result is dropped and counted (XPUB with NODROP, so the drop is visible), the worker
   never stalls.

A turn is bounded (at most `max_drain` messages per subscriber, one batch), so a
control request is answered within one turn even under full load.

Safety: every message part is size-bounded (ZMQ_MAXMSGSIZE: ZeroMQ drops the connection of a
peer that sends a larger one, as a protocol violation, and would never reconnect on its own; a
socket monitor on each pose subscriber sees the disconnection, and the worker connects that
endpoint again, so a restarted or fixed publisher is followed and one bad message cannot cut a
camera off for good; counted as `reconnects`); a message that does not decode is
logged with the reason, counted and skipped; sockets bind to loopback unless
`allow_remote`, and a control socket off loopback requires CURVE (see stream/security.py).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import zmq

from actzero.model.actions import Action
from actzero.model.labelset import ActionError, LabelSet
from actzero.stream.control import ControlError, parse_request
from actzero.stream.frames import PoseFrame
from actzero.stream.protocol import MAX_MESSAGE_BYTES, TOPIC_PREFIX, decode_pose_frame
from actzero.stream.results import encode_result
from actzero.stream.security import ExposureError, check_bind, is_loopback, secure_server
from actzero.stream.worker import WorkerCore

log = logging.getLogger("actzero.worker")

DEFAULT_POSES = "tcp://127.0.0.1:5555"
DEFAULT_RESULTS = "tcp://127.0.0.1:5556"
DEFAULT_CONTROL = "tcp://127.0.0.1:5557"


@dataclass(frozen=True)
class ServiceConfig:
    """Where and how the worker service talks.

    Attributes:
        poses: pose publisher endpoints to connect to (SUB).
        results: endpoint to bind the result publisher to.
        control: endpoint to bind the control socket to.
        topics: subscription prefixes: "pose/" for every source, "pose/cam1" for one.
        allow_remote: allow binding results/control to non-loopback addresses.
        curve_secret: the control server's `.key_secret` file (required off loopback).
        curve_clients: folder of authorised client `.key` files (required off loopback).
        registry: action registry file that action changes are saved to (None: memory only).
        max_message_bytes: a pose message part larger than this disconnects the sender.
        rcv_hwm: queued pose messages per publisher before ZeroMQ drops new ones.
        snd_hwm: queued results per subscriber before results are dropped.
        results_sndbuf: kernel send buffer per result subscriber in bytes (0: the OS default);
            small values make a stalled subscriber drop results sooner instead of receiving old ones.
        max_drain: most messages read per subscriber per turn.
        source_idle_s: forget a source's tracks after this long without a frame.
    """

    poses: tuple[str, ...] = (DEFAULT_POSES,)
    results: str = DEFAULT_RESULTS
    control: str = DEFAULT_CONTROL
    topics: tuple[str, ...] = (TOPIC_PREFIX.decode(),)
    allow_remote: bool = False
    curve_secret: Path | None = None
    curve_clients: Path | None = None
    registry: Path | None = None
    max_message_bytes: int = MAX_MESSAGE_BYTES
    rcv_hwm: int = 64
    snd_hwm: int = 256
    results_sndbuf: int = 0
    max_drain: int = 1000
    source_idle_s: float = 10.0


MAX_QUEUED_CHANGES = 16


@dataclass
class _Change:
    """An add/replace/remove request; fitted in a helper thread when its turn comes."""

    envelope: list[bytes]  # the requester's routing frames
    request: dict
    actions: list[Action] | None = None
    reply: dict | None = None
    thread: threading.Thread | None = None
    error: str | None = None
    fit_s: float = 0.0


@dataclass
class ServiceCounters:
    """What the service counts (reported by the "status" op)."""

    messages_in: int = 0
    bad_messages: int = 0
    frames_dropped_stale: int = 0
    frames_missing: int = 0
    results_published: int = 0
    results_dropped: int = 0
    control_requests: int = 0
    control_errors: int = 0
    result_subscriptions: int = 0
    reconnects: int = 0


def check_exposure(config: ServiceConfig, warn: bool = True) -> None:
    """Apply the exposure rules to a service configuration (before opening anything).

    Args:
        config: the configuration.
        warn: log a warning for each allowed non-loopback address.

    Raises:
        ExposureError: a non-loopback bind without `allow_remote`, or a control socket off
            loopback without CURVE keys.
    """
    check_bind(config.results, allow_remote=config.allow_remote, role="results", warn=warn)
    check_bind(config.control, allow_remote=config.allow_remote, role="control", warn=warn)
    if not is_loopback(config.control) and (config.curve_secret is None or config.curve_clients is None):
        raise ExposureError(
            "a control socket off loopback requires CURVE: give the server secret key (--curve-secret) "
            "and the folder of authorised client keys (--curve-clients)"
        )


class WorkerService:
    """Runs a `WorkerCore` behind ZeroMQ sockets (see the module docstring).

    Args:
        core: the worker core (its action set is the starting one).
        config: endpoints and limits.
        context: ZeroMQ context (a new one when None).

    Raises:
        ExposureError: a bind address or key setup the exposure rules forbid.
    """

    def __init__(self, core: WorkerCore, config: ServiceConfig, context: zmq.Context | None = None):
        self.core = core
        self.config = config
        self.counters = ServiceCounters()
        self._started = time.monotonic()
        self._changes: deque[_Change] = deque()
        self._last_index: dict[str, int] = {}
        self._last_reported: dict | None = None
        self._auth = None
        check_exposure(config)
        self._ctx = context or zmq.Context()
        self._own_ctx = context is None
        self._subs: list[zmq.Socket] = []
        self._monitors: dict[zmq.Socket, tuple[zmq.Socket, str]] = {}  # monitor -> (sub, address)
        try:
            self._bind_sockets(secure_control=config.curve_secret is not None)
        except BaseException:
            self.close()
            raise

    def _bind_sockets(self, secure_control: bool) -> None:
        cfg = self.config
        for address in cfg.poses:
            self._open_subscriber(address)
        self.results = self._ctx.socket(zmq.XPUB)
        self.results.linger = 0
        self.results.sndhwm = cfg.snd_hwm
        if cfg.results_sndbuf:
            self.results.sndbuf = cfg.results_sndbuf
        self.results.setsockopt(zmq.XPUB_NODROP, 1)
        self.results.setsockopt(zmq.XPUB_VERBOSER, 1)  # see every (un)subscription: status counts them
        self.results.setsockopt(zmq.MAXMSGSIZE, 1024)  # only subscriptions come in
        self.results.bind(cfg.results)
        self.control = self._ctx.socket(zmq.ROUTER)  # answers REQ clients, several at a time
        self.control.linger = 0
        self.control.setsockopt(zmq.MAXMSGSIZE, 64 * 1024)
        if secure_control:
            if cfg.curve_clients is None:
                raise ExposureError("CURVE needs the folder of authorised client keys")
            self._auth = secure_server(self.control, cfg.curve_secret, cfg.curve_clients)
        self.control.bind(cfg.control)

    def _open_subscriber(self, address: str) -> tuple[zmq.Socket, zmq.Socket]:
        """A pose SUB connected to `address` and the monitor that reports its disconnections."""
        cfg = self.config
        sub = self._ctx.socket(zmq.SUB)
        sub.linger = 0
        sub.rcvhwm = cfg.rcv_hwm
        sub.setsockopt(zmq.MAXMSGSIZE, cfg.max_message_bytes)
        for topic in cfg.topics:
            sub.setsockopt(zmq.SUBSCRIBE, topic.encode())
        sub.connect(address)
        monitor = sub.get_monitor_socket(zmq.EVENT_DISCONNECTED)
        self._subs.append(sub)
        self._monitors[monitor] = (sub, address)
        return sub, monitor

    @property
    def results_endpoint(self) -> str:
        """The bound result endpoint (resolves wildcard ports)."""
        return self.results.getsockopt_string(zmq.LAST_ENDPOINT)

    @property
    def control_endpoint(self) -> str:
        """The bound control endpoint (resolves wildcard ports)."""
        return self.control.getsockopt_string(zmq.LAST_ENDPOINT)

    # ----- main loop ---------------------------------------------------------------------
    def run(
        self, stop: threading.Event | None = None, poll_ms: int = 50, report_every_s: float = 0.0
    ) -> None:
        """Serve until `stop` is set (or forever).

        Args:
            stop: set it (from another thread or a signal handler) to end the loop.
            poll_ms: longest wait for a message before housekeeping.
            report_every_s: log a one-line status this often (0: never).
        """
        stop = stop or threading.Event()
        poller = zmq.Poller()
        for sub in self._subs:
            poller.register(sub, zmq.POLLIN)
        for monitor in self._monitors:
            poller.register(monitor, zmq.POLLIN)
        poller.register(self.results, zmq.POLLIN)
        poller.register(self.control, zmq.POLLIN)
        last_housekeeping = last_report = time.monotonic()
        self._last_reported = self.status()
        while not stop.is_set():
            events = dict(poller.poll(5 if self._changes else poll_ms))
            if events.get(self.control):
                self._serve_control()
            self._advance_changes()
            if events.get(self.results):
                self._drain_subscriptions()
            for monitor in list(self._monitors):
                if events.get(monitor):
                    self._reconnect(monitor, poller)
            frames = self._drain_frames([s for s in self._subs if events.get(s)])
            for frame in frames:
                try:
                    self.core.ingest(frame)
                except Exception as exc:  # a frame that decodes but cannot be used
                    self._bad_message(exc)
            if frames:
                self._publish(self.core.classify_ready())
            now = time.monotonic()
            if now - last_housekeeping > 1.0:
                self.core.expire_idle_sources(self.config.source_idle_s)
                last_housekeeping = now
            if report_every_s and now - last_report >= report_every_s:
                self._report(now - last_report)
                last_report = now
        self._advance_changes(wait=True)

    def _drain_frames(self, subs: list[zmq.Socket]) -> list[PoseFrame]:
        """Read everything waiting; decode only the newest message of each topic (= source).

        Older messages of a topic are dropped unread (counted as stale), so an overloaded worker
        spends nothing on frames it would discard anyway.
        """
        newest: dict[bytes, list[bytes]] = {}
        stale: dict[bytes, int] = {}
        for sub in subs:
            for _ in range(self.config.max_drain):
                try:
                    parts = sub.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                self.counters.messages_in += 1
                topic = parts[0]
                if topic in newest:
                    self.counters.frames_dropped_stale += 1
                    stale[topic] = stale.get(topic, 0) + 1
                newest[topic] = parts
        frames = []
        for topic, parts in newest.items():
            try:
                frame = decode_pose_frame(parts)
            except Exception as exc:  # ProtocolError, or anything a hostile message provokes
                self._bad_message(exc)
                continue
            self._count_missing(frame, stale.get(topic, 0))
            frames.append(frame)
        return sorted(frames, key=lambda f: f.capture_ts)

    def _count_missing(self, frame: PoseFrame, stale: int) -> None:
        """Count frames lost before reaching this worker: index gaps not explained by stale drops."""
        last = self._last_index.get(frame.source)
        if last is not None and frame.index > last + 1:
            self.counters.frames_missing += max(frame.index - last - 1 - stale, 0)
        if last is None or frame.index > last:
            self._last_index[frame.source] = frame.index

    def _reconnect(self, monitor: zmq.Socket, poller: zmq.Poller) -> None:
        """A publisher's connection ended: a new subscriber connects its endpoint (module docstring).

        The old socket is closed rather than disconnected and connected again: libzmq can abort
        ("!_more", fq.cpp) when `disconnect` ends a pipe while a multipart message is in flight
        (zeromq/libzmq#2163). Messages still queued in the old socket are dropped, like any
        stale frame.
        """
        old_sub, address = self._monitors.pop(monitor)
        for sock in (old_sub, monitor):
            poller.unregister(sock)
        self._subs.remove(old_sub)
        old_sub.disable_monitor()
        monitor.close(linger=0)
        old_sub.close(linger=0)
        for sock in self._open_subscriber(address):
            poller.register(sock, zmq.POLLIN)
        self.counters.reconnects += 1
        log.info("pose publisher %s disconnected; connecting again (#%d)", address, self.counters.reconnects)

    def _bad_message(self, exc: Exception) -> None:
        self.counters.bad_messages += 1
        n = self.counters.bad_messages
        if n <= 10 or n % 1000 == 0:
            log.warning("bad pose message #%d skipped: %s", n, exc)

    def _drain_subscriptions(self) -> None:
        while True:
            try:
                message = self.results.recv(zmq.NOBLOCK)
            except zmq.Again:
                return
            if message[:1] == b"\x01":
                self.counters.result_subscriptions += 1
            elif message[:1] == b"\x00":
                self.counters.result_subscriptions -= 1

    def _publish(self, results: list) -> None:
        for result in results:
            try:
                self.results.send_multipart(encode_result(result), zmq.NOBLOCK)
                self.counters.results_published += 1
            except zmq.Again:
                self.counters.results_dropped += 1

    # ----- control -----------------------------------------------------------------------
    def _serve_control(self) -> None:
        """Answer the waiting control requests; add/replace/remove join the queue of changes."""
        for _ in range(MAX_QUEUED_CHANGES):
            try:
                frames = self.control.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            if len(frames) < 3 or frames[-2] != b"":
                continue  # not a REQ client's envelope: nobody to answer
            envelope, raw = frames[:-1], frames[-1]
            self.counters.control_requests += 1
            try:
                request = parse_request(raw)
                actions = self.core.actions
                if request["op"] == "list":
                    listed = [{"name": a.name, "descriptions": list(a.descriptions)} for a in actions]
                    self._reply(envelope, {"ok": True, "actions": listed})
                elif request["op"] == "status":
                    self._reply(envelope, {"ok": True, "status": self.status()})
                elif len(self._changes) >= MAX_QUEUED_CHANGES:
                    raise ControlError("too many action changes waiting; try again shortly")
                else:
                    self._changes.append(_Change(envelope, request))
            except ControlError as exc:
                self._reply(envelope, {"ok": False, "error": str(exc)})
            except Exception as exc:  # a request must never take the worker down
                log.exception("control request failed")
                self._reply(envelope, {"ok": False, "error": f"internal error: {exc}"})

    def _reply(self, envelope: list[bytes], reply: dict) -> None:
        if not reply.get("ok"):
            self.counters.control_errors += 1
        self.control.send_multipart([*envelope, json.dumps(reply).encode()])

    def _advance_changes(self, wait: bool = False) -> None:
        """Answer a finished fit and start the next queued change (one fit at a time)."""
        while self._changes:
            change = self._changes[0]
            if change.thread is None:
                try:
                    self._start(change)
                except ControlError as exc:
                    self._changes.popleft()
                    self._reply(change.envelope, {"ok": False, "error": str(exc)})
                    continue
            if wait:
                change.thread.join()
            if change.thread.is_alive():
                return
            self._changes.popleft()
            if change.error is not None:
                self._reply(change.envelope, {"ok": False, "error": change.error})
                continue
            reply = {**change.reply, "fit_s": change.fit_s, "actions": len(change.actions)}
            saved = self._persist(change.actions)
            if saved is not None:
                reply["saved"] = saved
            self._reply(change.envelope, reply)

    def _start(self, change: _Change) -> None:
        """Work out the new action set against the current one and start fitting it."""
        request = change.request
        labels = LabelSet(self.core.actions)
        try:
            if request["op"] == "remove":
                new = labels.remove(request["name"])
            elif request["op"] == "replace":
                new = labels.replace(request["name"], request["descriptions"])
            else:
                new = labels.add(request["name"], request["descriptions"])
        except ActionError as exc:
            raise ControlError(str(exc)) from None
        change.reply = {"ok": True}
        if request["op"] != "remove":
            change.reply["replaced"] = request["op"] == "replace"
        change.actions = list(new)

        def fit() -> None:
            try:
                change.fit_s = self.core.set_actions(new)
            except Exception as exc:
                change.error = str(exc)

        change.thread = threading.Thread(target=fit, name="actzero-fit", daemon=True)
        change.thread.start()

    def _persist(self, actions: list[Action]) -> str | None:
        """Save the action set to the registry file; returns a note for the reply."""
        if self.config.registry is None:
            return None
        from actzero.model import registry

        manifest = self.core.bundle.manifest_path
        try:
            registry.save_actions(self.config.registry, actions, bundle_manifest=manifest)
        except (OSError, ValueError) as exc:
            log.error("could not save actions to %s: %s", self.config.registry, exc)
            return f"not saved: {exc}"
        return str(self.config.registry)

    def _report(self, elapsed_s: float) -> None:
        status = self.status()
        previous, self._last_reported = self._last_reported or status, status
        rate = {k: (status[k] - previous[k]) / elapsed_s for k in ("frames_in", "windows_classified")}
        log.info(
            "%.1f frames/s, %.1f windows/s, %d tracks in %d sources; dropped: %d stale, %d missing, "
            "%d results; %d bad messages",
            rate["frames_in"],
            rate["windows_classified"],
            status["tracks"],
            status["sources"],
            status["frames_dropped_stale"],
            status["frames_missing"],
            status["results_dropped"],
            status["bad_messages"],
        )

    def status(self) -> dict:
        """Core and service counters, timings, uptime."""
        c = self.counters
        return {
            **self.core.status(),
            "messages_in": c.messages_in,
            "bad_messages": c.bad_messages,
            "frames_dropped_stale": c.frames_dropped_stale,
            "frames_missing": c.frames_missing,
            "results_published": c.results_published,
            "results_dropped": c.results_dropped,
            "control_requests": c.control_requests,
            "control_errors": c.control_errors,
            "result_subscriptions": c.result_subscriptions,
            "reconnects": c.reconnects,
            "uptime_s": time.monotonic() - self._started,
        }

    def close(self) -> None:
        """Close the sockets (and the context when it is ours)."""
        for sub in self._subs:
            sub.disable_monitor()
        for sock in [
            *self._monitors,
            *self._subs,
            getattr(self, "results", None),
            getattr(self, "control", None),
        ]:
            if sock is not None:
                sock.close(linger=0)
        if self._auth is not None:
            self._auth.stop()
        if self._own_ctx:
            self._ctx.term()
