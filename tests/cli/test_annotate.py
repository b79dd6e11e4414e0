import json
from pathlib import Path

import pytest
from _sample_cut import write_sample_cut
from typer.testing import CliRunner

from actzero.cli.main import app

runner = CliRunner()


@pytest.fixture(scope="module")
def cut(tmp_path_factory) -> Path:
    return write_sample_cut(tmp_path_factory.mktemp("video") / "cut.mp4")


@pytest.fixture(autouse=True)
def registry(tmp_path, monkeypatch):
    monkeypatch.setenv("ACTZERO_CONFIG_DIR", str(tmp_path / "cfg"))


@pytest.mark.slow  # MediaPipe on 60 frames: ~5 s on a quiet machine
def test_annotate_writes_tracks_with_segments_and_skips_a_bad_file(cut, tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video at all")
    out = tmp_path / "out"
    result = runner.invoke(app, ["annotate", str(cut), str(bad), "--out", str(out), "--csv"])
    assert result.exit_code == 1, result.output
    assert "broken.mp4" in result.output
    data = json.loads((out / "cut.actzero.json").read_text())
    assert data["format"] == "actzero-annotation"
    assert data["video"]["frames"] == 60 and data["video"]["duration_s"] == pytest.approx(2.0)
    assert data["model"]["bundle"].startswith("default_bundle@")
    names = {a["name"] for a in data["actions"]}
    segments = [s for t in data["tracks"] for s in t["segments"]]
    assert segments, "a 2 s clip with people gives at least one classified segment"
    for seg in segments:
        assert 0.0 <= seg["start_s"] <= seg["end_s"] <= data["video"]["duration_s"] + 1e-3
        assert seg["label"] is None or seg["label"] in names
        assert seg["top_k"] and all(name in names for name, _ in seg["top_k"])
    csv_rows = (out / "cut.actzero.csv").read_text().strip().splitlines()
    assert len(csv_rows) == 1 + len(segments)
    assert not (out / "broken.actzero.json").exists()
    assert not [p for p in out.iterdir() if ".partial" in p.name]


def test_existing_output_stays_intact_when_its_video_fails(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    previous = out / "clip.actzero.json"
    previous.write_text('{"kept": true}\n')
    (tmp_path / "clip.mp4").write_bytes(b"\x00" * 1000)
    result = runner.invoke(app, ["annotate", str(tmp_path / "clip.mp4"), "--out", str(out)])
    assert result.exit_code == 1
    assert previous.read_text() == '{"kept": true}\n'


def test_bad_actions_file_is_a_clear_error(cut, tmp_path):
    actions = tmp_path / "labels.txt"
    actions.write_text("wave: raises a hand\nno colon here\n")
    result = runner.invoke(app, ["annotate", str(cut), "--actions", str(actions), "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert f"{actions}:2" in result.output
    assert "Traceback" not in result.output
