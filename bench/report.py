"""Shared helpers of the benchmark scripts: timing statistics, tables, machine description.

Every benchmark returns `Table`s; `Table.markdown()` is what the scripts print and what
bench/run_all.py writes into BENCHMARKS.md.
"""

from __future__ import annotations

import os
import platform
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
    values: list[tuple[object, ...]] = field(default_factory=list)  # the unformatted cells

    def add(self, *cells: object) -> None:
        """Append a row; floats are formatted by `fmt`."""
        if len(cells) != len(self.columns):
            raise ValueError(f"{self.title}: {len(cells)} cells for {len(self.columns)} columns")
        self.rows.append([fmt(c) for c in cells])
        self.values.append(cells)

    def column(self, name: str) -> list[object]:
        """The unformatted values of one column."""
        index = list(self.columns).index(name)
        return [row[index] for row in self.values]

    def markdown(self) -> str:
        """The table as GitHub markdown (title as a bold line, notes as a list below)."""
        lines = [f"**{self.title}**", "", "| " + " | ".join(self.columns) + " |"]
        align = (
            "---" if i == 0 or not self.values or not _numeric(self.values[0][i]) else "---:"
            for i in range(len(self.columns))
        )
        lines.append("|" + "|".join(align) + "|")
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        if self.notes:
            lines.append("")
            lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines) + "\n"


def _numeric(value: object) -> bool:
    return isinstance(value, int | float | np.integer | np.floating)


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
        info = dict(
            (key.strip(), value.strip())
            for key, _, value in (
                line.partition(":") for line in Path("/proc/cpuinfo").read_text().splitlines()
            )
            if value
        )
    except OSError:
        return platform.processor() or "unknown"
    text = f"{info.get('model name', 'unknown')} (family {info.get('cpu family')}, model {info.get('model')})"
    if "hypervisor" in info.get("flags", "").split():
        text += ", virtual machine"
    return text


def busy_processes(seconds: float = 1.0, top: int = 4) -> str:
    """The processes (other than this one) using the most CPU over `seconds`, as 'name NN%' items."""

    def sample() -> dict[int, tuple[str, float]]:
        out = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                text = stat.read_text()
                name = text[text.index("(") + 1 : text.rindex(")")]
                fields = text.rsplit(")", 1)[1].split()
                out[int(stat.parent.name)] = (name, int(fields[11]) + int(fields[12]))
            except (OSError, ValueError, IndexError):
                continue
        return out

    before = sample()
    time.sleep(seconds)
    after = sample()
    tick = os.sysconf("SC_CLK_TCK")
    usage = []
    for pid, (name, ticks) in after.items():
        if pid != os.getpid() and pid in before:
            cmdline = Path(f"/proc/{pid}/cmdline")
            try:
                args = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace").split()
            except OSError:
                args = []
            label = " ".join(a.rsplit("/", 1)[-1] for a in args[:4]) or name
            usage.append((100 * (ticks - before[pid][1]) / tick / seconds, label))
    usage.sort(reverse=True)
    busy = [f"{label} {pct:.0f}%" for pct, label in usage[:top] if pct >= 5]
    return "; ".join(busy) or "nothing else above 5% CPU"


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return f"{line.split('=', 1)[1].strip(chr(34))}, Linux {platform.release()}"
    except OSError:
        pass
    return platform.platform()


def _version(*distributions: str) -> str:
    """The installed version of the first of `distributions` found (read from metadata, not imported)."""
    from importlib import metadata

    for name in distributions:
        try:
            return f"{metadata.version(name)} ({name})" if len(distributions) > 1 else metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return "not installed"


def machine_table(load_note: str = "", busy_seconds: float = 1.0) -> Table:
    """The machine and software the numbers were taken on, with the load at this moment."""
    table = Table("Machine", ("item", "value"))
    table.add("CPU", _cpu_model())
    table.add("cores (os.cpu_count / usable)", f"{os.cpu_count()} / {len(os.sched_getaffinity(0))}")
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    table.add("RAM", f"{pages / 2**30:.1f} GiB")
    table.add("OS", _os_name())
    table.add("Python", platform.python_version())
    for name in ("numpy", "onnxruntime", "mediapipe", "torch"):
        table.add(name, _version(name))
    table.add("OpenCV", _version("opencv-contrib-python", "opencv-python", "opencv-python-headless"))
    import zmq

    table.add("pyzmq / libzmq", f"{zmq.__version__} / {zmq.zmq_version()}")
    one, five, fifteen = os.getloadavg()
    table.add("load average (1/5/15 min) at start", f"{one:.2f} / {five:.2f} / {fifteen:.2f}")
    table.add("other processes at start (CPU %, 100 = one core)", busy_processes(busy_seconds))
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
