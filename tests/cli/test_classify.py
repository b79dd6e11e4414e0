import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from actzero.api import ActionsFileError, Recognizer, read_actions_file
from actzero.cli.main import app
from actzero.model.bundle import Bundle
from actzero.model.windows import WindowError
from actzero.training.synthetic import generate_clips

runner = CliRunner()

ACTIONS = """# my label set
sit down: lowers the body onto a chair, bending knees and hips
sit down: the person goes from standing to sitting

standing still: a person stands upright without moving
clap hands: brings both palms together in front of the chest repeatedly
"""


@pytest.fixture(autouse=True)
def registry(tmp_path, monkeypatch):
    monkeypatch.setenv("ACTZERO_CONFIG_DIR", str(tmp_path / "cfg"))


@pytest.fixture
def clips(tmp_path) -> Path:
    made = generate_clips(["sit down", "clap hands"], clips_per_class=1, seed=3)
    long_clip = np.concatenate([made[1].joints] * 4)  # longer than one window: several windows averaged
    path = tmp_path / "clips.npz"
    np.savez(path, sit=made[0].joints, clap_long=long_clip)
    return path


def test_one_json_line_per_clip_with_the_given_label_set(clips, tmp_path):
    labels = tmp_path / "labels.txt"
    labels.write_text(ACTIONS)
    result = runner.invoke(app, ["classify", str(clips), "--actions", str(labels), "--fps", "30"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.strip().splitlines()]
    assert [line["clip"] for line in lines] == [f"{clips}:sit", f"{clips}:clap_long"]
    for line in lines:
        assert set(line) == {"clip", "label", "score", "top_k"}
        assert [name for name, _ in line["top_k"]] and {n for n, _ in line["top_k"]} <= {
            "sit down",
            "standing still",
            "clap hands",
        }
        assert line["label"] in {None, "sit down", "standing still", "clap hands"}
        assert 0.0 <= line["score"] <= 1.0


def test_bad_file_is_reported_and_the_others_still_classified(clips, tmp_path):
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"nope")
    result = runner.invoke(app, ["classify", str(bad), str(clips)])
    assert result.exit_code == 1
    assert "broken.npz" in result.stderr and "Traceback" not in result.output
    assert len(result.stdout.strip().splitlines()) == 2


def test_actions_file_repeated_names_and_comments(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(ACTIONS)
    actions = read_actions_file(path)
    assert [a.name for a in actions] == ["sit down", "standing still", "clap hands"]
    assert len(actions[0].descriptions) == 2


@pytest.mark.parametrize(
    ("text", "line"),
    [("wave: raises a hand\njust words\n", 2), ("# c\n\n: no name\n", 3), ("wave:\n", 1)],
)
def test_actions_file_errors_name_file_and_line(tmp_path, text, line):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(ActionsFileError, match=f"{path}:{line}"):
        read_actions_file(path)
    result = runner.invoke(app, ["classify", str(path), "--actions", str(path)])
    assert result.exit_code == 1 and f"{path}:{line}" in result.stderr


def test_empty_actions_file_is_an_error(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("# nothing\n\n")
    with pytest.raises(ActionsFileError, match="no actions"):
        read_actions_file(path)


def _long_clip(minutes: float) -> np.ndarray:
    """A synthetic clap clip played forwards and backwards for `minutes` at 30 fps."""
    clip = generate_clips(["clap hands"], clips_per_class=1, seed=3)[0].joints
    return np.resize(np.concatenate([clip, clip[::-1]]), (int(minutes * 60 * 30), 25, 3)).astype(np.float32)


def _cap_address_space(limit: int):
    def apply() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


def test_a_30_minute_clip_is_classified_within_a_1_5_gb_address_space(tmp_path):
    path = tmp_path / "half_an_hour.npy"
    np.save(path, _long_clip(30))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
        "ACTZERO_CONFIG_DIR": str(tmp_path / "cfg"),
    }
    code = "import sys; from actzero.cli.main import app; sys.argv[0] = 'actzero'; app()"
    done = subprocess.run(
        [sys.executable, "-c", code, "classify", str(path), "--fps", "30"],
        capture_output=True,
        text=True,
        env=env,
        preexec_fn=_cap_address_space(int(1.5 * 1024**3)),
        timeout=200,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    line = json.loads(done.stdout)
    assert line["clip"] == str(path)
    # the limb-joint input cannot see the hands: clapping and rubbing them differ only in how
    # the wrists move, and the shipped bundle ranks "rub hands together" 0.30 vs "clap hands" 0.29
    assert line["label"] in {"clap hands", "rub hands together"}
    assert "clap hands" in [name for name, _ in line["top_k"][:2]]


@pytest.mark.parametrize(
    ("fps", "bound"),
    [
        ("0.001", "greater than or equal to 5"),
        ("4.9", "greater"),
        ("1001", "less than or equal to 1000"),
        ("1e300", "less"),
    ],
)
def test_fps_outside_5_to_1000_is_refused(tmp_path, fps, bound):
    path = tmp_path / "clip.npy"
    np.save(path, _long_clip(0.05))
    result = runner.invoke(app, ["classify", str(path), "--fps", fps])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert bound in " ".join(result.output.replace("│", " ").split())


def test_too_short_and_too_slow_clips_get_a_clear_error(tmp_path):
    short = tmp_path / "short.npz"
    np.savez(short, blink=_long_clip(0.05)[:10])
    result = runner.invoke(app, ["classify", str(short), "--fps", "30"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.strip().splitlines() == [
        f"error: {short}: clip too short: 10 frames at 30 fps (0.30 s); "
        "at least 0.77 s (24 frames at the model's 30 fps) needed"
    ]
    # a rate the readers accept (a BVH may declare any) is refused before any window is made
    with pytest.raises(WindowError, match="5 to 1000 frames per second, got 0.001"):
        Recognizer(actions=Bundle.load().actions[:2]).classify_skeleton(_long_clip(0.05), fps=0.001)


def test_top_k_sets_how_many_classes_are_listed(clips):
    result = runner.invoke(app, ["classify", str(clips), "--fps", "30", "--top-k", "2"])
    assert result.exit_code == 0, result.output
    for line in map(json.loads, result.stdout.strip().splitlines()):
        assert "top5" not in line and len(line["top_k"]) == 2
