"""Control channel: request validation, list/add/remove/status on a live worker, load, CURVE, exposure."""

from __future__ import annotations

import dataclasses
import json
import threading

import pytest
import zmq
from _worker_poses import replay
from _worker_service import Publisher, running_service

from actzero.model import registry
from actzero.model.bundle import Bundle
from actzero.stream.control import ControlError, parse_request, send_request
from actzero.stream.security import ExposureError, check_bind, create_keypair, is_loopback
from actzero.stream.worker import WorkerCore
from actzero.stream.worker_zmq import ServiceConfig, WorkerService

SMALL = 4  # actions of the workers under test: quick refits


@pytest.fixture(scope="module")
def classifier(bundle: Bundle):
    return bundle.fit_classifier(bundle.actions[:SMALL])


@pytest.fixture
def core(bundle: Bundle, classifier) -> WorkerCore:
    return WorkerCore(bundle, bundle.actions[:SMALL], classifier=classifier)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"op": "explode"}', "unknown op"),
        (b'{"name": "wave"}', "unknown op"),
        (b'{"op": "add", "name": "wave"}', "descriptions"),
        (b'{"op": "add", "name": "wave", "descriptions": []}', "at least one description"),
        (b'{"op": "add", "name": "", "descriptions": ["Waves a hand."]}', "empty"),
        (b'{"op": "add", "name": 5, "descriptions": ["Waves a hand."]}', "name"),
        (b'{"op": "add", "name": "wave", "descriptions": ["x\\u0000y"]}', "control character"),
        (b'{"op": "remove"}', "name"),
        (json.dumps({"op": "add", "name": "w" * 65, "descriptions": ["a"]}).encode(), "limit"),
        (b"{" + b" " * 70_000 + b"}", "exceeds"),
    ],
)
def test_parse_request_rejects_bad_requests(raw: bytes, message: str) -> None:
    with pytest.raises(ControlError, match=message):
        parse_request(raw)


def test_parse_request_normalises_whitespace() -> None:
    request = parse_request(b'{"op": "add", "name": "  jumping   jacks ", "descriptions": [" Jumps\\tup. "]}')
    assert request == {"op": "add", "name": "jumping jacks", "descriptions": ["Jumps up."]}
    assert parse_request(b'{"op": "status", "extra": 1}') == {"op": "status"}


def test_list_add_remove_status_and_persistence(core: WorkerCore, bundle: Bundle, tmp_path) -> None:
    path = tmp_path / "actions.json"
    names = [a.name for a in bundle.actions[:SMALL]]
    with running_service(core, [], registry=path) as worker:
        listed = worker.request({"op": "list"})
        assert listed["ok"] and [a["name"] for a in listed["actions"]] == names

        reply = worker.request({"op": "add", "name": "salute", "descriptions": ["Raises the right hand."]})
        assert reply["ok"] and not reply["replaced"] and reply["actions"] == SMALL + 1
        assert reply["fit_s"] > 0 and reply["saved"] == str(path)
        assert [a.name for a in registry.load_actions(path)] == [*names, "salute"]
        assert core.labels == [*names, "salute"]

        reply = worker.request({"op": "add", "name": "SALUTE", "descriptions": ["Touches the brow."]})
        assert not reply["ok"] and "an action named 'salute' already exists" in reply["error"]
        reply = worker.request({"op": "replace", "name": "SALUTE", "descriptions": ["Touches the brow."]})
        assert reply["ok"] and reply["replaced"] and reply["actions"] == SMALL + 1
        assert registry.load_actions(path)[-1].descriptions == ("Touches the brow.",)

        reply = worker.request({"op": "remove", "name": names[0]})
        assert reply["ok"] and reply["actions"] == SMALL
        assert [a.name for a in registry.load_actions(path)] == [*names[1:], "SALUTE"]

        for bad in ({"op": "remove", "name": "no such action"}, {"op": "fly"}):
            reply = worker.request(bad)
            assert not reply["ok"] and reply["error"]
        status = worker.status()
    for key in (
        "frames_in", "frames_dropped_stale", "frames_missing", "bad_messages", "windows_classified",
        "results_published", "results_dropped", "tracks", "uptime_s", "timings_ms",
    ):  # fmt: skip
        assert key in status
    assert status["control_requests"] == 8 and status["control_errors"] == 3 and status["actions"] == SMALL


def test_garbage_on_the_control_socket_is_answered_with_an_error(core: WorkerCore) -> None:
    with running_service(core, []) as worker:
        ctx = zmq.Context.instance()
        req = ctx.socket(zmq.REQ)
        req.linger = 0
        req.connect(worker.control)
        req.send(b"\x00\x01 definitely not json")
        assert req.poll(5000)
        reply = json.loads(req.recv())
        req.close()
        assert reply["ok"] is False and "JSON" in reply["error"]
        assert worker.request({"op": "status"})["ok"]


def test_requests_answered_within_a_second_under_full_load(bundle: Bundle, tmp_path) -> None:
    core = WorkerCore(bundle)  # the full action set: a refit takes a while
    ctx = zmq.Context()
    pub = Publisher(ctx)
    cameras = [replay(f"cam{i}", 58) for i in range(4)]
    stop = threading.Event()

    def flood() -> None:  # four 2-person cameras at 250 frames/s each until stopped
        k = 0
        while not stop.wait(0.004):
            for frames in cameras:
                frame = frames[k % len(frames)]
                pub.send(dataclasses.replace(frame, index=k, capture_ts=frame.capture_ts + k / 250))
            k += 1

    with running_service(core, [pub.address]) as worker:
        pub.wait_subscribed()
        flooder = threading.Thread(target=flood)
        flooder.start()
        try:
            worker.wait_status(lambda s: s["windows_classified"] > 0)
            # an add is fitted in the background; meanwhile other requests are answered at once
            adder = ctx.socket(zmq.REQ)
            adder.linger = 0
            adder.connect(worker.control)
            adder.send_json({"op": "add", "name": "hula hoop", "descriptions": ["Circles the hips."]})
            for _ in range(3):
                assert send_request(worker.control, {"op": "status"}, timeout_s=1.0)["ok"]
            assert adder.poll(10_000), "the add was never answered"
            reply = adder.recv_json()
            adder.close()
            assert reply["ok"] and reply["actions"] == len(bundle.actions) + 1
            assert "hula hoop" in [
                a["name"] for a in send_request(worker.control, {"op": "list"}, 1.0)["actions"]
            ]
        finally:
            stop.set()
            flooder.join()
    pub.close()
    ctx.destroy(linger=0)


def test_curve_protects_the_control_socket(core: WorkerCore, tmp_path) -> None:
    server_pub, server_secret = create_keypair(tmp_path / "server", "server")
    _, client_secret = create_keypair(tmp_path / "clients", "alice")
    _, stranger_secret = create_keypair(tmp_path / "strangers", "mallory")
    with running_service(core, [], curve_secret=server_secret, curve_clients=tmp_path / "clients") as worker:
        reply = worker.request({"op": "list"}, server_key=server_pub, client_secret=client_secret)
        assert reply["ok"]
        with pytest.raises(TimeoutError):  # a key the worker does not know
            worker.request({"op": "list"}, 0.5, server_key=server_pub, client_secret=stranger_secret)
        with pytest.raises(TimeoutError):  # no CURVE at all
            worker.request({"op": "list"}, 0.5)
    with pytest.raises(FileExistsError):
        create_keypair(tmp_path / "clients", "alice")  # never overwrites a key


def test_exposure_rules(core: WorkerCore, tmp_path, caplog) -> None:
    assert is_loopback("tcp://127.0.0.1:5557") and is_loopback("tcp://localhost:1")
    assert is_loopback("ipc:///tmp/x") and is_loopback("tcp://[::1]:5557")
    assert not is_loopback("tcp://0.0.0.0:5557") and not is_loopback("tcp://*:5557")
    assert not is_loopback("tcp://192.168.1.20:5557") and not is_loopback("udp://127.0.0.1:1")
    with caplog.at_level("WARNING", logger="actzero.worker"):
        check_bind("tcp://0.0.0.0:5556", allow_remote=True, role="results")
    assert "reachable from other machines" in caplog.text
    with pytest.raises(ExposureError, match="allow-remote"):
        WorkerService(core, ServiceConfig(poses=(), results="tcp://0.0.0.0:0", control="tcp://127.0.0.1:*"))
    with pytest.raises(ExposureError, match="CURVE"):
        WorkerService(
            core,
            ServiceConfig(poses=(), results="tcp://127.0.0.1:*", control="tcp://*:0", allow_remote=True),
        )


def test_send_request_times_out_without_a_worker(tmp_path) -> None:
    with pytest.raises(TimeoutError):
        send_request(f"ipc://{tmp_path}/nobody", {"op": "status"}, timeout_s=0.2)


def test_keys_command_writes_a_keypair_and_never_overwrites(tmp_path) -> None:
    from typer.testing import CliRunner

    from actzero.cli.main import app

    runner = CliRunner()
    result = runner.invoke(app, ["keys", "create", str(tmp_path), "--name", "alice"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "alice.key").is_file() and (tmp_path / "alice.key_secret").stat().st_mode & 0o077 == 0
    again = runner.invoke(app, ["keys", "create", str(tmp_path), "--name", "alice"])
    assert again.exit_code == 1 and "already exists" in again.output and "Traceback" not in again.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--results", "tcp://0.0.0.0:5556"], "allow-remote"),
        (["--control", "tcp://0.0.0.0:5557", "--allow-remote"], "CURVE"),
    ],
)
def test_worker_command_refuses_unsafe_addresses_before_loading(args: list[str], message: str) -> None:
    from typer.testing import CliRunner

    from actzero.cli.main import app

    result = CliRunner().invoke(app, ["worker", "--memory-only", *args])
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("op", "name", "descriptions"),
    [
        ("add", "{first_upper}", ["another description"]),  # add never replaces
        ("add", "w" * 65, ["Waves."]),
        ("add", "kick", ["kicks \x1b[2J"]),
        ("replace", "no such action", ["Does something."]),
        ("remove", "no such action", None),
    ],
)
def test_actions_add_the_api_and_the_control_op_refuse_a_mistake_alike(
    core: WorkerCore, bundle: Bundle, tmp_path, op, name, descriptions
) -> None:
    from typer.testing import CliRunner

    from actzero.api import ActionError, Recognizer
    from actzero.cli.main import app

    actions = core.actions
    name = name.format(first_upper=actions[0].name.upper())
    folder = tmp_path / "bundle"  # a bundle manifest with the worker's actions: the registry starts there
    folder.mkdir()
    listed = [{"name": a.name, "descriptions": list(a.descriptions)} for a in actions]
    (folder / "manifest.json").write_text(json.dumps({"actions": listed}))
    args = ["actions", op, name, *[f"--description={d}" for d in descriptions or []]]
    cli = CliRunner().invoke(app, [*args, "--registry", str(tmp_path / "a.json"), "--bundle", str(folder)])
    assert cli.exit_code == 1 and isinstance(cli.exception, SystemExit)
    cli_error = cli.output.strip().removeprefix("error: ")

    recognizer = Recognizer(bundle, actions)
    with pytest.raises(ActionError) as api:
        getattr(recognizer, f"{op}_action")(name, *([descriptions] if descriptions else []))

    with running_service(core, []) as worker:
        request = {"op": op, "name": name, **({"descriptions": descriptions} if descriptions else {})}
        reply = worker.request(request)
    assert not reply["ok"]
    assert cli_error == str(api.value) == reply["error"]
    assert core.actions == actions == recognizer.actions and not (tmp_path / "a.json").exists()
