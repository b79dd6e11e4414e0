import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from _sample_cut import write_sample_cut


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _live(*args: str, env_dir) -> subprocess.CompletedProcess:
    env = {**os.environ, "ACTZERO_CONFIG_DIR": str(env_dir)}
    return subprocess.run(
        [str(Path(sys.executable).with_name("actzero")), "live", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


@pytest.mark.slow  # two real processes (MediaPipe, the model) on a 3 s video: ~10 s
def test_headless_video_prints_results_and_leaves_no_children(tmp_path):
    video = write_sample_cut(tmp_path / "cut.mp4", seconds=3.0)
    run = _live("--video", str(video), "--headless", "--duration", "30", env_dir=tmp_path / "cfg")
    assert run.returncode == 0, run.stderr[-2000:]
    lines = [line for line in run.stdout.splitlines() if "latency" in line]
    assert lines, run.stdout + run.stderr[-2000:]
    assert all(re.search(r" cut #\d+ .+ \d\.\d\d latency \d+ ms$", line) for line in lines), lines
    pids = [int(p) for p in re.findall(r"(?:pose|worker) pid (\d+)", run.stderr)]
    assert len(pids) == 2
    assert not [pid for pid in pids if _alive(pid)]


def test_no_camera_is_a_clear_error(tmp_path):
    run = _live("--camera", "57", "--headless", env_dir=tmp_path / "cfg")
    assert run.returncode != 0
    assert "camera 57" in run.stderr and "Traceback" not in run.stderr


def test_needs_exactly_one_source(tmp_path):
    run = _live("--headless", env_dir=tmp_path / "cfg")
    assert run.returncode != 0 and "exactly one of" in run.stderr
