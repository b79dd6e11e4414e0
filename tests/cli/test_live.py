import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _live(*args: str, env_dir, display: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "ACTZERO_CONFIG_DIR": str(env_dir)}
    if not display:
        env = {k: v for k, v in env.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    return subprocess.run(
        [str(Path(sys.executable).with_name("actzero")), "live", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


@pytest.mark.slow  # two real processes (MediaPipe, the model) on a 2 s video: ~8 s
def test_without_a_display_it_runs_headless_prints_results_and_leaves_no_children(tmp_path, sample_cut):
    """No --headless and no display: the headless fallback (the kill tests pass --headless)."""
    video = sample_cut
    run = _live("--video", str(video), "--duration", "30", env_dir=tmp_path / "cfg", display=False)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "running headless" in run.stderr
    lines = [line for line in run.stdout.splitlines() if "latency" in line]
    assert lines, run.stdout + run.stderr[-2000:]
    assert all(re.search(r" cut #\d+ .+ \d\.\d\d latency \d+ ms$", line) for line in lines), lines
    # every 2 s, and once at the end, the figures the window shows: frame rate and dropped frames
    status = re.compile(
        r"^ *\d+\.\d\ds +(\d+\.\d) fps  (\d+) frames  dropped: (\d+) pose busy, (\d+) viewer skipped"
    )
    figures = [tuple(float(x) for x in m.groups()) for m in map(status.match, run.stdout.splitlines()) if m]
    assert len(figures) >= 2 and run.stdout.rstrip().endswith("(whole run)"), run.stdout
    fps, frames, busy, skipped = figures[-1]
    assert frames > 0 and fps > 1.0, run.stdout
    # each frame up to the last one published was either dropped by the busy pose process or
    # published, and each published one was either received or skipped: together, the whole cut
    # but for the frames the source skipped after the last one published (one pose estimate's worth)
    total = _frame_count(video)
    assert total - 15 <= frames + busy + skipped <= total, run.stdout
    pids = [int(p) for p in re.findall(r"(?:pose|worker) pid (\d+)", run.stderr)]
    assert len(pids) == 2
    assert not [pid for pid in pids if _alive(pid)]


def _frame_count(video: Path) -> int:
    import cv2

    capture = cv2.VideoCapture(str(video))
    count = 0
    while capture.grab():
        count += 1
    capture.release()
    return count


def test_no_camera_is_a_clear_error(tmp_path):
    run = _live("--camera", "57", "--headless", env_dir=tmp_path / "cfg")
    assert run.returncode != 0
    assert "camera 57" in run.stderr and "Traceback" not in run.stderr


def test_needs_exactly_one_source(tmp_path):
    run = _live("--headless", env_dir=tmp_path / "cfg")
    assert run.returncode != 0 and "exactly one of" in run.stderr


def _descendants(pid: int) -> set[int]:
    """Every process below `pid` (Linux /proc), children first found first."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        current = todo.pop()
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                children = [int(c) for c in task.read_text().split()]
            except OSError:
                continue
            for child in children:
                if child not in found:
                    found.add(child)
                    todo.append(child)
    return found


def _running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's zombie may wait for a reaper that never comes)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _start_live_and_kill(tmp_path, video: Path, sig: int) -> tuple[set[int], subprocess.Popen]:
    """Start `live --headless` on `video`, wait until both children run, send `sig`.

    Returns the parent's descendants seen before the signal, and the parent process.
    """
    import queue
    import threading
    import time

    env = {**os.environ, "ACTZERO_CONFIG_DIR": str(tmp_path / "cfg")}
    parent = subprocess.Popen(
        [str(Path(sys.executable).with_name("actzero")), "live", "--video", str(video), "--headless"]
        + ["--duration", "120"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in parent.stderr], daemon=True).start()
    deadline = time.monotonic() + 90
    pids: list[int] = []
    while not pids:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            parent.kill()
            pytest.fail("live never reported its children's pids")
        pids = [int(p) for p in re.findall(r"(?:pose|worker) pid (\d+)", line)]
    children = _descendants(parent.pid)
    assert set(pids) <= children, (pids, children)
    parent.send_signal(sig)
    return children, parent


def _wait_gone(pids: set[int], seconds: float) -> set[int]:
    """Poll until none of `pids` runs or the deadline passes; return those still running."""
    import time

    deadline = time.monotonic() + seconds
    left = {pid for pid in pids if _running(pid)}
    while left and time.monotonic() < deadline:
        time.sleep(0.05)  # a poll interval; the deadline bounds the wait
        left = {pid for pid in left if _running(pid)}
    return left


@pytest.mark.slow  # starts the real pose and worker processes (~10 s)
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_killing_the_parent_leaves_no_child(tmp_path, sample_cut, sig):
    children, parent = _start_live_and_kill(tmp_path, sample_cut, sig)
    try:
        parent.wait(timeout=30)
        left = _wait_gone(children, 30)
    finally:
        for pid in _descendants(parent.pid) | children:
            if _running(pid):
                os.kill(pid, signal.SIGKILL)
    assert not left, f"still running after the parent got {sig!r}: {sorted(left)}"
    if sig == signal.SIGTERM:
        assert parent.returncode == 0  # a clean stop, like Ctrl-C


def test_unreachable_display_is_detected(monkeypatch):
    from actzero.cli.live import _display_problem

    monkeypatch.setenv("DISPLAY", ":4711")  # no X server there: Qt would abort the process
    problem = _display_problem()
    assert problem is not None and ":4711" in problem


@pytest.mark.slow  # the real pose and worker processes on a 2 s cut (~10 s); only the GUI calls are stubbed
def test_the_window_shows_the_camera_picture_with_its_own_poses(tmp_path, sample_cut, monkeypatch):
    """The window path end to end, in this process: real children and sockets, no display needed.

    OpenCV's window functions are replaced by recorders (this machine has no display); everything
    before `cv2.imshow` is the real code.
    """
    import cv2
    import numpy as np
    from typer.testing import CliRunner

    import actzero.cli.live as live_module
    from actzero.cli.main import app

    video = sample_cut
    capture = cv2.VideoCapture(str(video))
    originals = []
    while (image := capture.read()[1]) is not None:
        originals.append(image)
    capture.release()
    shown, windows = [], []
    real_show = live_module._show

    def record_show(window, view, frame, lines):
        shown.append((view, frame, lines))
        real_show(window, view, frame, lines)

    monkeypatch.setenv("ACTZERO_CONFIG_DIR", str(tmp_path / "cfg"))
    monkeypatch.setattr(live_module, "_display_problem", lambda: None)
    monkeypatch.setattr(live_module, "_show", record_show)
    monkeypatch.setattr(cv2, "imshow", lambda name, image: windows.append(image.copy()))
    monkeypatch.setattr(cv2, "waitKey", lambda delay: -1)
    monkeypatch.setattr(cv2, "getWindowProperty", lambda name, prop: 1.0)
    monkeypatch.setattr(cv2, "destroyAllWindows", lambda: None)
    run = CliRunner().invoke(app, ["live", "--video", str(video), "--duration", "60"])
    assert run.exit_code == 0, run.output
    assert len(shown) >= 5 and len(windows) == len(shown), run.output
    status = re.compile(r"^ *\d+\.\d fps  (\d+) frames  dropped: (\d+) pose busy, (\d+) viewer skipped$")
    for count, ((view, frame, lines), image) in enumerate(zip(shown, windows, strict=True), start=1):
        # the camera's picture (downscaled to 640 wide), of the frame it claims to be
        height, width = originals[view.index].shape[:2]
        size = (640, round(height * 640 / width))
        assert image.shape == view.picture.shape == (size[1], 640, 3)
        expected = cv2.resize(originals[view.index], size, interpolation=cv2.INTER_AREA)
        assert np.abs(view.picture.astype(np.int16) - expected).mean() < 8.0
        # drawn on, not replaced: most of the window is the picture itself
        assert (image == view.picture).all(axis=2).mean() > 0.5
        # with the poses of that same frame, and the figures in the corner
        assert frame is None or frame.index == view.index
        match = status.match(lines[0])
        assert match and int(match.group(1)) == count, lines
    assert sum(frame is not None and frame.num_persons > 0 for _, frame, _ in shown) >= len(shown) // 2
    view, _, lines = shown[-1]
    frames, busy, skipped = map(int, status.match(lines[0]).groups())
    assert frames + busy + skipped == view.index + 1  # every frame up to the newest is accounted for
