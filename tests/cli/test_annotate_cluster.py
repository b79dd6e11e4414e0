"""`actzero annotate --cluster ADDRESS` and `--jobs 2`: each video a task, failures reported per video.

(`--cluster local:N` differs only in starting the LocalCluster itself; bench/bench_annotate.py
--cluster runs it.)
"""

import json
from pathlib import Path

import pytest
from _sample_cut import write_sample_cut
from typer.testing import CliRunner

from actzero.cli.main import app

runner = CliRunner()


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """Two 1 s cuts of the sample video (one in a sub-folder) and a file that is not a video."""
    root = tmp_path_factory.mktemp("videos")
    write_sample_cut(root / "first.mp4", seconds=1.0)
    (root / "sub").mkdir()
    write_sample_cut(root / "sub" / "second.mp4", seconds=1.2)
    (root / "broken.mp4").write_bytes(b"not a video at all")
    return root


@pytest.fixture(autouse=True)
def registry(tmp_path, monkeypatch):
    monkeypatch.setenv("ACTZERO_CONFIG_DIR", str(tmp_path / "cfg"))


def _check_outputs(out: Path) -> None:
    for name, frames in (("first", 30), ("sub/second", 36)):
        data = json.loads((out / f"{name}.actzero.json").read_text())
        assert data["video"]["frames"] == frames
        assert data["tracks"], f"{name}: the sample's people are tracked"
        assert (out / f"{name}.actzero.csv").read_text().startswith("video,track,")
    assert not (out / "broken.actzero.json").exists()
    assert not [p for p in out.rglob("*") if ".partial" in p.name or p.name.startswith(".")]


@pytest.mark.slow  # a Dask cluster of 2 worker processes, each loading MediaPipe and the model
def test_cluster_writes_both_videos_and_reports_the_bad_one_after_its_retries(folder, tmp_path):
    distributed = pytest.importorskip("distributed")
    out = tmp_path / "out"
    # started here and passed by address, as a real cluster would be (`--cluster tcp://host:8786`)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        assert cluster.scheduler_address.startswith("tcp://")
        result = runner.invoke(
            app,
            ["annotate", str(folder), "--out", str(out), "--csv"]
            + ["--cluster", cluster.scheduler_address, "--retries", "1"],
        )
    assert result.exit_code == 1, result.output
    assert f"failed {folder / 'broken.mp4'} (after 2 tries)" in result.output
    assert "cannot open video" in result.output or "no readable frames" in result.output
    assert "1 of 3 files failed" in result.output
    assert "Traceback" not in result.output
    _check_outputs(out)


@pytest.mark.slow  # 2 spawned processes, each loading MediaPipe and the model
def test_jobs_run_one_process_per_video_with_the_same_outputs(folder, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(app, ["annotate", str(folder), "--out", str(out), "--csv", "--jobs", "2"])
    assert result.exit_code == 1, result.output
    assert f"failed {folder / 'broken.mp4'}:" in result.output
    _check_outputs(out)


@pytest.mark.parametrize(
    ("address", "message"),
    [("local:0", "expected local:N"), ("scheduler:8786", "expected local:N or a Dask scheduler address")],
)
def test_a_malformed_cluster_address_is_one_line(folder, tmp_path, address, message):
    result = runner.invoke(app, ["annotate", str(folder), "--out", str(tmp_path), "--cluster", address])
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
