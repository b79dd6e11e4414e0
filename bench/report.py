"""Shared helpers of the benchmark scripts: timing statistics, tables, machine description.

Every benchmark returns `Table`s; `Table.markdown()` is what the scripts print and what
bench/run_all.py writes into BENCHMARKS.md.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Table:
    """One result table: a title, column names, rows of cells and notes printed under it."""

    title: str
    columns: Sequence[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *cells: object) -> None:
        """Append a row; floats are formatted by `fmt`."""
        if len(cells) != len(self.columns):
            raise ValueError(f"{self.title}: {len(cells)} cells for {len(self.columns)} columns")
        self.rows.append([fmt(c) for c in cells])

    def markdown(self) -> str:
        """The table as GitHub markdown (title as a bold line, notes as a list below)."""
        lines = [f"**{self.title}**", "", "| " + " | ".join(self.columns) + " |"]
        lines.append("|" + "|".join("---" if i == 0 else "---:" for i in range(len(self.columns))) + "|")
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        if self.notes:
            lines.append("")
            lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines) + "\n"


def fmt(value: object) -> str:
    """A table cell: floats with 3 significant digits (at least one decimal below 100)."""
    if isinstance(value, float | np.floating):
        v = float(value)
        if not np.isfinite(v):
            return "n/a"
        if abs(v) >= 100:
            return f"{v:.0f}"
        if abs(v) >= 10:
            return f"{v:.1f}"
        if abs(v) >= 1:
            return f"{v:.2f}"
        return f"{v:.3f}"
    return str(value)


def percentiles(values: Sequence[float], qs: Sequence[float] = (50, 95)) -> list[float]:
    """Percentiles of `values` (NaN for none)."""
    if len(values) == 0:
        return [float("nan")] * len(qs)
    return [float(v) for v in np.percentile(np.asarray(values, dtype=np.float64), qs)]


def time_calls(fn: Callable[[], object], repeats: int, warmup: int = 1) -> list[float]:
    """Wall times in milliseconds of `repeats` calls of `fn` after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        fn()
        times.append((time.perf_counter() - began) * 1e3)
    return times


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return f"{line.split('=', 1)[1].strip(chr(34))}, Linux {platform.release()}"
    except OSError:
        pass
    return platform.platform()


def _version(module: str) -> str:
    try:
        imported = __import__(module)
    except ImportError:
        return "not installed"
    return str(getattr(imported, "__version__", "?"))


def machine_table(load_note: str = "") -> Table:
    """The machine and software the numbers were taken on, with the load at this moment."""
    table = Table("Machine", ("item", "value"))
    table.add("CPU", _cpu_model())
    table.add("cores (os.cpu_count / usable)", f"{os.cpu_count()} / {len(os.sched_getaffinity(0))}")
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    table.add("RAM", f"{pages / 2**30:.1f} GiB")
    table.add("OS", _os_name())
    table.add("Python", platform.python_version())
    for module in ("numpy", "onnxruntime", "mediapipe", "torch", "cv2", "zmq"):
        table.add(module, _version(module))
    one, five, fifteen = os.getloadavg()
    table.add("load average (1/5/15 min) at start", f"{one:.2f} / {five:.2f} / {fifteen:.2f}")
    if load_note:
        table.add("load situation", load_note)
    return table


def load_now() -> str:
    """The 1-minute load average, for notes."""
    return f"{os.getloadavg()[0]:.2f}"


def print_tables(tables: Sequence[Table]) -> None:
    """Print tables as markdown, flushed (so a long run shows progress)."""
    for table in tables:
        print(table.markdown(), flush=True)


def quiet_median(values: Sequence[float]) -> float:
    """Median (NaN for none)."""
    return float(statistics.median(values)) if values else float("nan")
