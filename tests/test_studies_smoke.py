"""Smoke tests of the study scripts in studies/ (tiny inputs; the studies themselves are never run here).

Everything they write goes to pytest's tmp_path, never into the repository.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

STUDIES = Path(__file__).resolve().parents[1] / "studies"
sys.path.insert(0, str(STUDIES))


@pytest.mark.slow  # real MediaPipe on 60 half-size frames
def test_camera_gate_reports_every_tracked_window(sample_cut: Path, monkeypatch, capsys) -> None:
    import camera_gate

    script = [sys.executable, str(STUDIES / "camera_gate.py"), "--video", str(sample_cut)]
    done = subprocess.run(
        [*script, "--add", "juggle: Both hands toss and catch balls in front of the chest."],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| #")]
    windows = int(re.search(r"- (\d+) windows; gate threshold", done.stdout).group(1))
    assert rows and sum(int(row.split("|")[2]) for row in rows) == windows  # every window has a track
    assert "| top seen probability |" in done.stdout and "| gate g" in done.stdout
    monkeypatch.setattr(sys, "argv", [*script[1:], "--add", "no description"])  # its own argument parser,
    with pytest.raises(SystemExit) as refused:  # in this process: no second start-up
        camera_gate.main()
    assert refused.value.code == 2 and 'needs "name: description"' in capsys.readouterr().err


def test_track_quality_counts_switches_and_spurious_ids() -> None:
    import track_quality

    # two people walking apart; a ghost far from both in frame 2
    centres = [np.array([[0.2 + 0.01 * f, 0.5], [1.0 - 0.01 * f, 0.5]]) for f in range(6)]
    centres[2] = np.vstack([centres[2], [[0.6, 0.9]]])
    people = {"a": [(0, 0.2, 0.5), (5, 0.25, 0.5)], "b": [(0, 1.0, 0.5), (5, 0.95, 0.5)]}
    labels = track_quality.label_people(centres, people)
    assert labels[2] == {"a": 0, "b": 1}
    ids = [np.array([0, 1]), np.array([0, 1]), np.array([0, -1, 2]), np.array([0, 3])]
    ids += [np.array([0, 1]), np.array([0, 1])]  # b: 1, (none), 3, 1 -> two switches
    summary, per_person, per_id = track_quality.quality_tables(ids, labels, 30.0, "t")
    assert summary.values[0] == (4, 4, 1, 2, 1, 2)
    assert per_person.values == [("a", 6, 6, "0", 0), ("b", 6, 5, "1 3", 2)]
    assert per_id.column("detections of")[2] == "nobody 1"
