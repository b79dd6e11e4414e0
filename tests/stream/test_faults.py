"""Faults and hostile input against the streaming pipeline.

Fast tests (in-process, real sockets on loopback): nothing received is unpickled or evaluated,
every default endpoint is on loopback, remote binds need the opt-in, CURVE keeps unauthorised
clients out, oversized control requests and over-long action texts are refused, bad frames and bad
videos give clear errors.

Slow tests (real processes: bench/faults.py's publisher process and `actzero worker` on tcp
127.0.0.1): oversized and malformed pose messages, a flood with a stalled result subscriber,
SIGKILL and restart of the worker and of the publisher. They poll with generous timeouts; the
recovery times themselves are measured by `python bench/faults.py` (docs/reliability.md).
"""

from __future__ import annotations

import logging
import re
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import zmq
from _worker_poses import replay
from _worker_service import Publisher, running_service
from typer.main import get_command
from typer.testing import CliRunner

from actzero.cli.main import app
from actzero.model.actions import MAX_DESCRIPTIONS
from actzero.model.bundle import Bundle
from actzero.stream.capture import CaptureError, open_source
from actzero.stream.control import MAX_REQUEST_BYTES, send_request
from actzero.stream.frames import PoseFrame
from actzero.stream.protocol import MAX_MESSAGE_BYTES, encode_pose_frame
from actzero.stream.publisher import PublisherConfig
from actzero.stream.security import CurveAuthenticator, ExposureError, check_bind, is_loopback
from actzero.stream.worker import WorkerCore
from actzero.stream.worker_zmq import ServiceConfig, WorkerService

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))
runner = CliRunner()


@pytest.fixture(scope="module")
def core(bundle: Bundle) -> WorkerCore:
    """One core for the in-process tests (fitting a classifier takes seconds); each test uses its
    own source names."""
    return WorkerCore(bundle)


# ----- what is received is never executed ------------------------------------------------------

UNSAFE = re.compile(
    r"\bpickle\b|\bmarshal\b|\bshelve\b|\beval\(|\bexec\(|recv_pyobj|recv_serialized|allow_pickle=True"
    r"|yaml\.load\(|\bjsonpickle\b"
)


def test_nothing_received_is_unpickled_or_evaluated():
    """The runtime packages (what handles sockets and user files) never unpickle or evaluate."""
    offenders = []
    for folder in ("stream", "model", "cli"):
        for path in sorted((REPO / folder).glob("*.py")):
            for lineno, line in enumerate(path.read_text().splitlines(), start=1):
                if UNSAFE.search(line.split("#")[0]):
                    offenders.append(f"{path.relative_to(REPO)}:{lineno}: {line.strip()}")
    assert not offenders, "\n".join(offenders)
    for path in sorted((REPO / "stream").glob("*.py")):  # recv_json would be plain json.loads: still none
        assert "recv_json" not in path.read_text(), path


# ----- exposure -----------------------------------------------------------------------------------


def test_every_default_endpoint_is_loopback():
    defaults = [
        ServiceConfig().results,
        ServiceConfig().control,
        *ServiceConfig().poses,
        PublisherConfig().address,
    ]
    commands = [get_command(app)]
    while commands:  # every command and sub-command of the CLI
        command = commands.pop()
        commands += list(getattr(command, "commands", {}).values())
        for param in command.params:
            for value in param.default if isinstance(param.default, list | tuple) else [param.default]:
                if isinstance(value, str) and "://" in value:
                    defaults.append(value)
    assert len(defaults) >= 8  # the service's and publisher's own, plus the worker's and pose's options
    assert all(is_loopback(address) for address in defaults), defaults


@pytest.mark.parametrize(
    "address", ["tcp://0.0.0.0:5556", "tcp://*:5556", "tcp://192.168.1.20:5556", "tcp://eth0:1"]
)
def test_remote_bind_is_refused_without_the_option_and_warned_with_it(address, caplog):
    with pytest.raises(ExposureError, match="pass --allow-remote"):
        check_bind(address, allow_remote=False, role="results")
    with caplog.at_level(logging.WARNING, logger="actzero.worker"):
        check_bind(address, allow_remote=True, role="results")
    assert "reachable from other machines" in caplog.text


def test_worker_cli_refuses_a_remote_socket_without_the_option(tmp_path, monkeypatch):
    monkeypatch.setenv("ACTZERO_CONFIG_DIR", str(tmp_path))
    refused = runner.invoke(app, ["worker", "--memory-only", "--control", "tcp://0.0.0.0:5599"])
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert "is not on loopback; pass --allow-remote" in refused.output


def test_a_remote_control_socket_requires_curve(core):
    config = ServiceConfig(results="tcp://127.0.0.1:*", control="tcp://0.0.0.0:*", allow_remote=True)
    with pytest.raises(ExposureError, match="a control socket off loopback requires CURVE"):
        WorkerService(core, config)


def test_curve_control_answers_only_authorised_clients(core, tmp_path):
    keys, clients = tmp_path / "keys", tmp_path / "clients"
    for folder, name in ((keys, "server"), (clients, "laptop"), (keys, "stranger")):
        created = runner.invoke(app, ["keys", "create", str(folder), "--name", name])
        assert created.exit_code == 0, created.output
    again = runner.invoke(app, ["keys", "create", str(keys), "--name", "server"])
    assert again.exit_code == 1 and "already exists" in again.output  # never overwritten
    with running_service(
        core, ["tcp://127.0.0.1:1"], curve_secret=keys / "server.key_secret", curve_clients=clients
    ) as worker:
        with pytest.raises(TimeoutError):  # plain client: the CURVE handshake never completes
            send_request(worker.control, {"op": "status"}, timeout_s=1.0)
        with pytest.raises(TimeoutError):  # a valid key pair that is not authorised
            send_request(
                worker.control,
                {"op": "status"},
                timeout_s=1.0,
                server_key=keys / "server.key",
                client_secret=keys / "stranger.key_secret",
            )
        reply = send_request(
            worker.control,
            {"op": "status"},
            timeout_s=10.0,
            server_key=keys / "server.key",
            client_secret=clients / "laptop.key_secret",
        )
        assert reply["ok"] and reply["status"]["control_requests"] == 1  # the refused ones never got in


def test_zap_handler_answers_by_mechanism_and_key_and_stops_while_clients_retry():
    ctx = zmq.Context()
    auth = CurveAuthenticator(ctx, {b"k" * 32})
    try:
        ok, stranger = b"k" * 32, b"s" * 32
        assert auth.answer([b"1.0", b"7", b"*", b"127.0.0.1", b"", b"CURVE", ok])[1:3] == [b"7", b"200"]
        assert auth.answer([b"1.0", b"8", b"*", b"127.0.0.1", b"", b"CURVE", stranger])[2] == b"400"
        assert auth.answer([b"1.0", b"9", b"*", b"127.0.0.1", b"", b"PLAIN", b"u", b"p"])[2] == b"400"
        assert auth.answer([b"1.0", b"10", b"", b"127.0.0.1", b"", b"NULL"])[2] == b"200"
        assert auth.answer([b"0.9", b"11"])[1:3] == [b"11", b"500"]
        assert auth.refused == 2
        # a refused CURVE client keeps retrying its handshake; stop still returns and the context ends
        server = ctx.socket(zmq.ROUTER)
        server.linger = 0
        server_public, server_secret = zmq.curve_keypair()
        server.curve_secretkey, server.curve_publickey = server_secret, server_public
        server.curve_server = True
        port = server.bind_to_random_port("tcp://127.0.0.1")
        client = ctx.socket(zmq.REQ)
        client.linger = 0
        client.curve_publickey, client.curve_secretkey = zmq.curve_keypair()
        client.curve_serverkey = server_public
        client.connect(f"tcp://127.0.0.1:{port}")
        client.send(b"hello")
        assert not server.poll(500)  # refused: nothing reaches the server
        assert auth.refused > 2
        server.close()
        client.close()
    finally:
        auth.stop(timeout_s=5.0)
    assert not auth._thread.is_alive()
    ctx.term()  # would block for ever if the handler's socket were left open


def test_oversized_requests_and_texts_are_refused_and_the_worker_carries_on(core):
    with running_service(core, ["tcp://127.0.0.1:1"]) as worker:
        long_text = worker.request({"op": "add", "name": "jump", "descriptions": ["x" * 10_000]})
        assert not long_text["ok"] and "the limit is 300" in long_text["error"]
        long_name = worker.request({"op": "add", "name": "j" * 500, "descriptions": ["A person jumps."]})
        assert not long_name["ok"] and "the limit is 64" in long_name["error"]
        many = worker.request({"op": "add", "name": "jump", "descriptions": [f"jump {i}" for i in range(50)]})
        assert not many["ok"] and f"the limit is {MAX_DESCRIPTIONS}" in many["error"]
        with pytest.raises(TimeoutError):  # over ZMQ_MAXMSGSIZE: the connection is dropped unread
            send_request(worker.control, {"op": "list", "pad": "x" * MAX_REQUEST_BYTES}, timeout_s=1.0)
        status = worker.status()
        assert status["control_requests"] == 4 and status["actions"] == len(core.actions)


# ----- bad frames and bad videos -------------------------------------------------------------------


def _frames_like(frames: list[PoseFrame], **arrays) -> list[PoseFrame]:
    out = []
    for f in frames:
        image, world, visibility = (
            arrays[k](getattr(f, k)) if k in arrays else getattr(f, k)
            for k in ("image", "world", "visibility")
        )
        out.append(PoseFrame(f.source, f.index, f.capture_ts, f.width, f.height, image, world, visibility))
    return out


BAD_FRAMES = {
    "no person": dict(image=lambda a: a[:0], world=lambda a: a[:0], visibility=lambda a: a[:0]),
    "nothing visible": dict(visibility=lambda a: np.zeros_like(a)),
    "absurd world coordinates": dict(world=lambda a: a * 1e6),
    "all joints at one point": dict(world=lambda a: np.zeros_like(a)),
    "image far outside the frame": dict(image=lambda a: a + 1e4),
}


@pytest.mark.parametrize("kind", list(BAD_FRAMES))
def test_bad_but_valid_frames_never_crash_the_core(core, kind):
    source = f"bad{list(BAD_FRAMES).index(kind)}"
    frames = _frames_like(replay(source, 48), **BAD_FRAMES[kind])
    for f in frames:
        encode_pose_frame(f)  # they are valid on the wire: the decoder lets them through
    before = core.status()["frames_in"]
    results = list(core.run(frames))
    assert core.status()["frames_in"] == before + 48
    for r in results:
        assert r.source == source and np.isfinite(r.score) and all(np.isfinite(p) for _, p in r.top_k)
    if kind in ("no person", "nothing visible"):
        assert results == []


def test_non_finite_landmarks_never_reach_the_core():
    frame = next(f for f in replay("cam1", 30) if f.num_persons)
    for bad in (np.nan, np.inf):
        world = frame.world.copy()
        world[0, 3, 1] = bad
        broken = PoseFrame(frame.source, 0, 1.0, 640, 360, frame.image, world, frame.visibility)
        with pytest.raises(ValueError, match="non-finite"):
            encode_pose_frame(broken)


@pytest.fixture(scope="module")
def bad_videos(tmp_path_factory) -> Path:
    from actzero.stream.capture import SAMPLE_VIDEO

    folder = tmp_path_factory.mktemp("videos")
    data = SAMPLE_VIDEO.read_bytes()
    (folder / "empty.mp4").write_bytes(b"")
    (folder / "noise.mp4").write_bytes(np.random.default_rng(0).bytes(50_000))
    (folder / "header.mp4").write_bytes(data[:2000])
    (folder / "notes.mp4").write_text("not a video")
    (folder / "truncated.mp4").write_bytes(data[: len(data) // 3])
    images = folder / "images"
    images.mkdir()
    (images / "0.jpg").write_bytes(b"not a jpeg")
    return folder


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.mp4", "cannot open video (not a video file, or corrupt)"),
        ("noise.mp4", "cannot open video (not a video file, or corrupt)"),
        ("header.mp4", "cannot open video (not a video file, or corrupt)"),
        ("notes.mp4", "cannot open video (not a video file, or corrupt)"),
        ("missing.mp4", "no such file or folder"),
    ],
)
def test_bad_video_gives_a_capture_error(bad_videos, name, message):
    with pytest.raises(CaptureError, match=re.escape(message)):
        open_source(bad_videos / name, realtime=False)


def test_truncated_video_yields_the_frames_it_has(bad_videos):
    with open_source(bad_videos / "truncated.mp4", realtime=False) as source:
        count = sum(1 for _ in source)
    assert 0 < count < 230  # the sample video has 230 frames


def test_unreadable_image_in_a_folder_is_a_capture_error(bad_videos):
    with open_source(bad_videos / "images") as source, pytest.raises(CaptureError, match="cannot read image"):
        next(iter(source))


def test_pose_cli_reports_a_corrupt_video_without_a_traceback(bad_videos):
    result = runner.invoke(
        app, ["pose", "--source", str(bad_videos / "noise.mp4"), "--publish", "tcp://127.0.0.1:5597"]
    )
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "cannot open video" in result.output


# ----- a restarted publisher (in-process, exact) ---------------------------------------------------


def test_a_restarted_publisher_is_followed_at_once(core):
    assert list(core.run(replay("restart", 60, start_ts=1000.0), flush=False))
    rejected = core.status()["frames_rejected"]
    restarted = replay("restart", 60, start_ts=1003.0)  # same source, indices from 0, later capture times
    results = list(core.run(restarted, flush=False))
    assert core.status()["frames_rejected"] == rejected
    assert results and all(r.start_ts >= 1003.0 for r in results)


# ----- real processes ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    """bench/faults.py's publisher process + `actzero worker` process; the worker also listens to
    this test's own pose socket (for hand-made messages)."""
    import faults

    context = zmq.Context()
    own = Publisher(context)
    setup = faults.Rig(sources=2, extra_poses=(own.address,))
    setup.own_publisher, setup.own_context = own, context
    try:
        yield setup
    finally:
        setup.close()
        context.destroy(linger=0)


def _wait_status(rig, predicate, timeout_s: float = 30.0) -> dict:
    """Ask the worker for its status until `predicate(status)` holds (each answer is a loop turn)."""
    import time

    deadline = time.monotonic() + timeout_s
    while True:
        status = rig.status()
        if predicate(status):
            return status
        assert time.monotonic() < deadline, f"status never satisfied the condition: {status}"


@pytest.mark.slow
def test_oversized_pose_message_never_reaches_the_decoder(rig):
    own = rig.own_publisher
    own.wait_subscribed()
    frame = next(f for f in replay("probe", 30) if f.num_persons)
    good = encode_pose_frame(frame)
    start = rig.status()["bad_messages"]
    own.send_raw([good[0], b"{broken", *good[2:]])
    before = _wait_status(rig, lambda s: s["bad_messages"] == start + 1)["bad_messages"]
    own.send(frame)
    _wait_status(rig, lambda s: s["sources"] == 3)  # cam0, cam1 and probe: the good frame was used
    own.send_raw([good[0], good[1], b"\0" * (MAX_MESSAGE_BYTES + 1), *good[3:]])
    # The worker drops the connection unread: its subscription goes (\x00) and, because the worker
    # reconnects at once, may come back (\x01) before the old one is reported gone.
    assert own.socket.poll(30_000) and own.socket.recv() in (b"\x00pose/", b"\x01pose/")
    assert rig.status()["bad_messages"] == before
    first, _ = rig.wait_result()
    rig.wait_result(lambda r: r.end_ts > first.end_ts)  # the other publisher's results keep coming


@pytest.mark.slow
def test_worker_reconnects_after_an_oversized_message(rig):
    """Runs after the oversized-message test: the test's own publisher restarts on its address."""
    address = rig.own_publisher.address
    rig.own_publisher.close()
    deadline = time.monotonic() + 10.0
    while True:  # libzmq releases the closed socket's port in its I/O thread, a moment later
        try:
            rig.own_publisher = Publisher(rig.own_context, address)
            break
        except zmq.ZMQError as exc:
            if exc.errno != zmq.EADDRINUSE or time.monotonic() > deadline:
                raise
    assert rig.own_publisher.socket.poll(3000), "the worker never came back to this publisher"


@pytest.mark.slow
def test_publisher_sigkill_and_restart_is_picked_up(rig):
    import faults

    times = faults.publisher_restart(rig)
    assert times["frames reach the worker"] < times["first result"] < faults.TIMEOUT_S


@pytest.mark.slow
def test_worker_sigkill_and_restart_resumes_results(rig):
    import faults

    times = faults.worker_restart(rig)
    assert times["worker answers control"] < times["first result"] < faults.TIMEOUT_S


@pytest.mark.slow
def test_flood_and_stalled_subscriber_never_stall_the_worker(rig):
    import faults

    faults.stop(rig.publisher)
    rig.publisher = faults.start_publisher(rig.pose_port, sources=8, fps=0)  # as fast as it can
    rig.wait_result(lambda r: r.source == "cam7")
    load = faults.control_under_load(rig, seconds=3.0, add=False)  # every status request answered
    assert load["status requests"] >= 3
    assert load["frames dropped (stale+missing)"] > 0  # the worker kept up by dropping stale frames
    assert load["results published"] > 0
