import json
import threading
from pathlib import Path

import pytest
import zmq
from typer.testing import CliRunner

from actzero.cli.main import app
from actzero.stream.control import parse_request

runner = CliRunner()


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    folder = tmp_path / "bundle"
    folder.mkdir()
    actions = [
        {"name": "wave", "descriptions": ["a person waves", "raises a hand"], "source": "bandai-namco"},
        {"name": "standing still", "descriptions": ["stands without moving"], "source": "synthetic"},
    ]
    (folder / "manifest.json").write_text(json.dumps({"actions": actions}))
    return folder


@pytest.fixture
def reg(tmp_path: Path) -> Path:
    return tmp_path / "cfg" / "actions.json"


def invoke(*args: str):
    return runner.invoke(app, ["actions", *args])


def test_list_shows_bundle_actions_before_the_file_exists(reg, bundle):
    result = invoke("list", "--registry", str(reg), "--bundle", str(bundle))
    assert result.exit_code == 0, result.output
    assert "wave" in result.output and "bandai-namco" in result.output and "(+1 more)" in result.output
    assert "standing still" in result.output and "synthetic" in result.output
    assert "not created yet" in result.output
    assert not reg.exists()


def test_add_remove_round_trip_through_the_default_config_dir(tmp_path, bundle, monkeypatch):
    monkeypatch.setenv("ACTZERO_CONFIG_DIR", str(tmp_path / "conf"))
    result = invoke(
        "add",
        "jumping jacks",
        "-d",
        "jumps spreading legs and arms",
        "-d",
        "star jumps",
        "--bundle",
        str(bundle),
    )
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "conf" / "actions.json").read_text())
    assert saved["actions"][-1] == {
        "name": "jumping jacks",
        "descriptions": ["jumps spreading legs and arms", "star jumps"],
        "source": "user",
    }
    listed = invoke("list")
    assert "jumping jacks" in listed.output and "user" in listed.output
    removed = invoke("remove", "WAVE")
    assert removed.exit_code == 0 and "removed 'wave'" in removed.output
    assert [a["name"] for a in json.loads((tmp_path / "conf" / "actions.json").read_text())["actions"]] == [
        "standing still",
        "jumping jacks",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add", "Wave", "-d", "another wave"], "already exists"),
        (["add", "   ", "-d", "something"], "name is empty"),
        (["add", "kick", "-d", "bad \x1b[2J escape"], "control character"),
        (["remove", "kick"], "no action named 'kick'"),
    ],
)
def test_user_mistakes_give_a_clear_error_and_exit_1(reg, bundle, args, message):
    result = invoke(*args, "--registry", str(reg), "--bundle", str(bundle))
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # no traceback
    assert message in result.output
    assert not reg.exists()


def test_add_without_description_is_a_usage_error(reg):
    result = invoke("add", "kick", "--registry", str(reg))
    assert result.exit_code == 2
    assert not reg.exists()


def test_corrupt_registry_is_reported_not_reset(reg):
    reg.parent.mkdir(parents=True)
    reg.write_text("{not json")
    for args in (["list"], ["add", "kick", "-d", "a kick"], ["remove", "kick"]):
        result = invoke(*args, "--registry", str(reg))
        assert result.exit_code == 1
        assert str(reg) in result.output.replace("\n", "") and "not valid JSON" in result.output
    assert reg.read_text() == "{not json"


class FakeWorkerControl:
    """A real REP socket answering one control request the way the worker's protocol says."""

    def __init__(self, reply: dict) -> None:
        self.context = zmq.Context.instance()
        self.socket = self.context.socket(zmq.REP)
        self.socket.linger = 0
        port = self.socket.bind_to_random_port("tcp://127.0.0.1")
        self.address = f"tcp://127.0.0.1:{port}"
        self.reply = reply
        self.request: dict | None = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        if self.socket.poll(10_000):
            self.request = parse_request(self.socket.recv())
            self.socket.send(json.dumps(self.reply).encode())

    def close(self) -> None:
        self.thread.join(timeout=10)
        self.socket.close()


def test_add_and_remove_are_sent_to_a_running_worker(reg, bundle):
    worker = FakeWorkerControl(
        {"ok": True, "fit_s": 0.05, "replaced": False, "actions": 3, "saved": str(reg)}
    )
    result = invoke(
        "add",
        "kick",
        "-d",
        "kicks  forward",
        "--registry",
        str(reg),
        "--bundle",
        str(bundle),
        "--control",
        worker.address,
    )
    worker.close()
    assert result.exit_code == 0, result.output
    assert worker.request == {"op": "add", "name": "kick", "descriptions": ["kicks forward"]}
    assert "now recognises 3 actions" in result.output and f"worker registry: {reg}" in result.output

    worker = FakeWorkerControl({"ok": True, "fit_s": 0.04, "actions": 2})
    result = invoke("remove", "KICK", "--registry", str(reg), "--control", worker.address)
    worker.close()
    assert result.exit_code == 0, result.output
    assert worker.request == {"op": "remove", "name": "kick"}


def test_worker_refusal_or_silence_is_an_error_after_saving(reg, bundle, tmp_path):
    worker = FakeWorkerControl({"ok": False, "error": "fit failed"})
    result = invoke(
        "add",
        "kick",
        "-d",
        "a kick",
        "--registry",
        str(reg),
        "--bundle",
        str(bundle),
        "--control",
        worker.address,
    )
    worker.close()
    assert result.exit_code == 1 and "worker refused: fit failed" in result.output
    assert "kick" in reg.read_text()

    silent = f"ipc://{tmp_path / 'nobody-listens'}"
    result = invoke("remove", "kick", "--registry", str(reg), "--control", silent, "--timeout", "0.2")
    assert result.exit_code == 1 and "did not answer" in result.output
    assert "kick" not in reg.read_text()


@pytest.mark.parametrize("where", ["proc", "under-a-file"])
def test_unwritable_registry_is_a_clear_error(tmp_path, bundle, monkeypatch, where):
    if where == "proc":  # what a user typed in the issue; even root cannot create files in /proc
        monkeypatch.setenv("ACTZERO_CONFIG_DIR", "/proc/x")
        extra: tuple[str, ...] = ()
    else:
        (tmp_path / "file").write_text("not a folder")
        extra = ("--registry", str(tmp_path / "file" / "actions.json"))
    result = invoke("add", "zz", "-d", "zz", "--bundle", str(bundle), *extra)
    assert result.exit_code == 1, result.output
    assert "cannot write the action registry" in result.output and "actions.json" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_remove_says_how_to_restore_and_reset_restores_a_shipped_action(reg, bundle):
    result = invoke("remove", "wave", "--registry", str(reg), "--bundle", str(bundle))
    assert result.exit_code == 0, result.output
    assert "removed 'wave' (2 description(s)); to restore it: actzero actions reset wave" in result.output
    invoke("add", "wave", "-d", "hand up", "--registry", str(reg), "--bundle", str(bundle))
    result = invoke("reset", "wave", "--registry", str(reg), "--bundle", str(bundle))
    assert result.exit_code == 0, result.output
    saved = json.loads(reg.read_text())["actions"]
    wave = [a for a in saved if a["name"] == "wave"]
    assert wave == [
        {"name": "wave", "descriptions": ["a person waves", "raises a hand"], "source": "bandai-namco"}
    ]


def test_remove_of_a_user_action_prints_the_add_command_back(reg, bundle):
    invoke("add", "hop it", "-d", "hops on one leg", "--registry", str(reg), "--bundle", str(bundle))
    result = invoke("remove", "hop it", "--registry", str(reg), "--bundle", str(bundle))
    assert "to restore it: actzero actions add 'hop it' -d 'hops on one leg'" in result.output


def test_reset_all_drops_added_actions_and_refuses_unknown_names(reg, bundle):
    invoke("add", "hop", "-d", "hops on one leg", "--registry", str(reg), "--bundle", str(bundle))
    invoke("remove", "wave", "--registry", str(reg), "--bundle", str(bundle))
    result = invoke("reset", "hop", "--registry", str(reg), "--bundle", str(bundle))
    assert result.exit_code == 1 and "not a shipped action" in result.output
    result = invoke("reset", "--registry", str(reg), "--bundle", str(bundle))
    assert result.exit_code == 0, result.output
    listed = invoke("list", "--registry", str(reg), "--bundle", str(bundle)).output
    assert "wave" in listed and "hop" not in listed and "standing still" in listed
