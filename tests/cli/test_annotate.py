import json
from pathlib import Path

import pytest
from _sample_cut import write_sample_cut
from typer.testing import CliRunner

from actzero.cli.main import app

runner = CliRunner()


@pytest.fixture(scope="module")
def cut(sample_cut) -> Path:
    """The session's 2 s cut of the sample video (tests/conftest.py)."""
    return sample_cut


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
    assert f"{actions}:2" in result.output.replace("\n", "")  # rich wraps a long path
    assert "Traceback" not in result.output


def test_out_that_is_a_file_is_refused_before_any_work(tmp_path):
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"not a video: processing it would print 'skipped'")
    taken = tmp_path / "taken.json"
    taken.write_text("{}")
    result = runner.invoke(app, ["annotate", str(video), "--out", str(taken)])
    assert result.exit_code == 1
    assert f"--out {taken} is a file" in result.output and "skipped" not in result.output
    assert taken.read_text() == "{}"


def test_unwritable_out_is_refused_before_any_work(tmp_path):
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"not a video")
    result = runner.invoke(app, ["annotate", str(video), "--out", "/proc/actzero-out"])
    assert result.exit_code == 1
    assert "cannot write to --out /proc/actzero-out" in result.output and "skipped" not in result.output


def test_two_videos_with_one_name_are_refused(tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "clip.mp4").write_bytes(b"not a video")
    first, second = tmp_path / "a" / "clip.mp4", tmp_path / "b" / "clip.mp4"
    result = runner.invoke(app, ["annotate", str(first), str(second), "--out", str(tmp_path / "dup")])
    assert result.exit_code == 1
    assert str(first) in result.output and str(second) in result.output and "skipped" not in result.output
    assert not (tmp_path / "dup" / "clip.actzero.json").exists()


def test_a_folder_without_videos_is_named_with_the_suffixes_looked_for(tmp_path):
    (tmp_path / "docs" / "deeper").mkdir(parents=True)
    (tmp_path / "docs" / "deeper" / "notes.txt").write_text("no video")
    result = runner.invoke(app, ["annotate", str(tmp_path / "docs"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert (
        str(tmp_path / "docs") in result.output.replace("\n", "")
        and ".mp4" in result.output
        and ".mkv" in result.output
    )


@pytest.mark.slow  # MediaPipe on two 0.7 s cuts and one rendering: ~15 s
def test_folder_is_searched_recursively_and_outputs_keep_sub_paths(tmp_path):
    import importlib.util
    import re

    import cv2

    root = tmp_path / "videos"
    for sub in ("a", "b/deeper"):
        (root / sub).mkdir(parents=True)
        write_sample_cut(root / sub / "clip.mp4", seconds=0.7, scale=0.25)
    out = tmp_path / "out"
    result = runner.invoke(app, ["annotate", str(root), "--out", str(out), "--video-out"])
    assert result.exit_code == 0, result.output
    for sub in ("a", "b/deeper"):
        data = json.loads((out / sub / "clip.actzero.json").read_text())
        assert data["video"]["path"] == str(root / sub / "clip.mp4")
        rendered = out / sub / "clip.actzero.mp4"
        assert f"{rendered}" in result.output  # every file written is named
        capture = cv2.VideoCapture(str(rendered))
        assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == data["video"]["frames"]
        capture.release()
        printed = re.search(
            rf"{re.escape(str(out / sub))}/clip.actzero.json.*?processed in ([\d.]+) s", result.output
        )
        assert printed and float(printed.group(1)) == pytest.approx(data["processing_s"], abs=0.051)
    if importlib.util.find_spec("av") is not None:
        import av

        with av.open(str(out / "a" / "clip.actzero.mp4")) as container:
            assert container.streams.video[0].codec_context.name == "h264"
        assert "MPEG-4 Part 2" not in result.output
    else:
        assert "install the 'av' package" in result.output


def test_annotate_frames_carry_media_time_and_its_results_no_latency(cut):
    from actzero.model.bundle import Bundle
    from actzero.stream.annotate import video_pose_frames
    from actzero.stream.capture import VideoFileSource
    from actzero.stream.frames import MEDIA_CLOCK
    from actzero.stream.pose import PoseEstimator, PoseOptions
    from actzero.stream.worker import WorkerCore

    bundle = Bundle.load()
    core = WorkerCore(bundle, bundle.actions[:4])
    options = PoseOptions(num_poses=2)
    with VideoFileSource(cut, realtime=False) as source, PoseEstimator.create(options) as pose:
        frames = list(video_pose_frames(source, pose, "cut"))
        fps = source.fps
    assert len(frames) >= 40 and all(f.clock == MEDIA_CLOCK for f in frames)
    assert [f.capture_ts for f in frames] == pytest.approx([f.index / fps for f in frames], abs=1e-3)
    results = list(core.run(frames))
    assert results and all(r.latency_ms is None for r in results)
