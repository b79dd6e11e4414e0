"""Smoke tests of the benchmark scripts (tiny sizes; the benchmarks themselves are never run here).

Everything they write goes to pytest's tmp_path, never into the repository.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import bench_stages  # noqa: E402
import run_all  # noqa: E402
from report import Table  # noqa: E402


def test_table_markdown_formats_cells_and_keeps_values() -> None:
    table = Table("t", ("name", "ms"))
    table.add("a", 1234.5)
    table.add("b", 0.01234)
    text = table.markdown()
    assert "| a | 1234 |" in text and "| b | 0.012 |" in text
    assert table.column("ms") == [1234.5, 0.01234]
    with pytest.raises(ValueError):
        table.add("only one cell")


def test_model_table_tiny_batches_on_the_shipped_bundle() -> None:
    rng = np.random.default_rng(0)
    windows = rng.normal(0, 0.3, (4, 64, 25, 3)).astype(np.float32)
    table = bench_stages.model_table(1, (1,), windows=windows, batches=(1, 4))
    assert table.column("batch N") == [1, 4]
    ms = table.column("ms/batch p50")
    assert all(v > 0 for v in ms)
    assert table.column("windows/s")[1] == pytest.approx(1000 * 4 / ms[1])


def test_accuracy_section_reads_eval_results(tmp_path: Path) -> None:
    cell = {"mean": 41.5, "std": 2.0}
    keys = ("zsl", "zsl_balanced", "S", "U", "H", "single_H", "val_zsl")
    results = {
        "config": {"splits": 2, "seeds": [0, 1], "train": {"epochs": 3}},
        "splits": [{"unseen": ["run", "bow"], "unseen_clips": 9, "seen_train_clips": 90}],
        "summary": {"full": {**dict.fromkeys(keys, cell), "n": 4}},
        "time_s": 120,
    }
    path = tmp_path / "eval" / "results.json"
    path.parent.mkdir()
    path.write_text(json.dumps(results))
    path.with_suffix(".md").write_text("| variant | ZSL top-1 |\n|---|---|\n| full | 41.5 ± 2.0 |\n")
    text = run_all.accuracy_section(path)
    assert f"`{path}` written by `actzero eval --out {path.parent} --splits 2 --seeds 2 --epochs 3`" in text
    assert "| full | 41.5 ± 2.0 |" in text
    assert "unseen run, bow (9 clips)" in text


def test_run_all_quick_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "bench.md"
    done = subprocess.run(
        [sys.executable, str(BENCH / "run_all.py"), "--quick", "--only", "accuracy", "--out", str(out)]
        + ["--img-dir", str(tmp_path / "img")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    text = out.read_text()
    assert text.startswith("# actzero benchmarks")
    assert "| onnxruntime |" in text and "| Python |" in text
    assert "## Accuracy" in text
    manifest = json.loads(
        (BENCH.parent / "model" / "assets" / "default_bundle" / "manifest.json").read_text()
    )
    if manifest["metrics"].get("protocol") == "cross-source":  # the shipped bundle's per-source figures
        mean = 100 * manifest["metrics"]["mean"]["full"]["zsl_clip_balanced"]
        assert "| utd-mhad |" in text and "| **mean** |" in text and f"{mean:.1f} |" in text
    assert "**Machine**" in done.stdout  # every table is printed too


def test_write_report_keeps_the_hand_written_summary(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    summary = f"{run_all.SUMMARY_START}\nThe knee is at 40 tracks.\n{run_all.SUMMARY_END}"
    out.write_text(f"# old\n\n{summary}\n\nold tables\n")
    machine = Table("Machine", ("item", "value"))
    machine.add("CPU", "test")
    run_all.write_report(
        out, ["## New section\n"], machine, "python bench/run_all.py", "2026-01-01 00:00", 1.0
    )
    text = out.read_text()
    assert "The knee is at 40 tracks." in text and "old tables" not in text
    assert text.index("The knee") < text.index("**Machine**") < text.index("## New section")
