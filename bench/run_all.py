"""Run every benchmark and write BENCHMARKS.md (tables, plots, the machine they were taken on).

    nice -n 10 python bench/run_all.py                   # full: BENCHMARKS.md, docs/img/bench-*.png
    python bench/run_all.py --quick --out /tmp/bench.md  # small sizes, a few minutes
    python bench/run_all.py --only accuracy,stages       # some sections

Sections: accuracy (read from `actzero eval`'s results, nothing is trained here), stages
(bench/bench_stages.py), e2e (bench/bench_e2e.py), scale (bench/bench_scale.py), annotate
(bench/bench_annotate.py). Each table is printed as soon as it is measured.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import REPO, Table, load_now, machine_table, print_tables  # noqa: E402

SECTIONS = ("accuracy", "stages", "e2e", "scale", "annotate")
EVAL_RESULTS = REPO / "runs" / "eval_v4" / "results.json"
IMG = REPO / "docs" / "img"


def _shown(path: Path) -> Path:
    """`path` relative to the repository when it lies inside it (as the report names it), else as given."""
    resolved = path.resolve()
    return resolved.relative_to(REPO) if resolved.is_relative_to(REPO) else path


def _cross_source_lines(metrics: dict, source: str) -> list[str]:
    """Per held-out source and variant, class-balanced ZSL clip top-1 of a cross-source run."""
    per_source = metrics["zsl_clip_balanced"]
    variants = list(next(iter(per_source.values())))
    lines = [
        f"Cross-source benchmark from {source}: `{metrics['command']}`. Class-balanced ZSL clip top-1 %, "
        "each held-out source's own classes given as text (docs/model.md, cross-source protocol).",
        "",
        "| held-out | " + " | ".join(variants) + " |",
        "|---|" + "---|" * len(variants),
    ]
    for name, figures in per_source.items():
        lines.append(f"| {name} | " + " | ".join(f"{100 * figures[v]:.1f}" for v in variants) + " |")
    means = [metrics["mean"][v]["zsl_clip_balanced"] for v in variants]
    lines.append("| **mean** | " + " | ".join(f"{100 * m:.1f}" for m in means) + " |")
    return lines


def accuracy_section(results_path: Path = EVAL_RESULTS) -> str:
    """Markdown of the zero-shot evaluation: `actzero eval` results, else the bundle manifest's metrics."""
    from actzero.model.bundle import DEFAULT_BUNDLE, MANIFEST

    if results_path.is_file():
        results = json.loads(results_path.read_text())
        summary, config = results["summary"], results.get("config", {})
        epochs = config.get("train", {}).get("epochs")
        command = (
            f"actzero eval --out {_shown(results_path.parent)} --splits {config.get('splits')} "
            f"--seeds {len(config.get('seeds', []))}" + (f" --epochs {epochs}" if epochs else "")
        )
        source = f"`{_shown(results_path)}` written by `{command}` ({results.get('time_s', 0) / 60:.0f} min)"
        splits = results.get("splits", [])
    else:
        manifest = json.loads((DEFAULT_BUNDLE / MANIFEST).read_text())
        summary, splits = manifest.get("metrics") or {}, []
        source = f"the shipped bundle's manifest ({(DEFAULT_BUNDLE / MANIFEST).relative_to(REPO)}, 'metrics')"
    lines = ["## Accuracy (zero-shot and generalised zero-shot)", ""]
    if not summary:
        lines.append(f"No evaluation results found ({_shown(results_path)} missing, manifest metrics empty).")
        return "\n".join(lines) + "\n"
    if summary.get("protocol") == "cross-source":
        return "\n".join(lines + _cross_source_lines(summary, source)) + "\n"
    table_md = results_path.with_suffix(".md")
    if results_path.is_file() and table_md.is_file():
        table = table_md.read_text().strip()  # written by `actzero eval` beside results.json
    else:
        from actzero.training.evaluate import markdown_table  # imports torch

        table = markdown_table(summary)
    lines += [
        f"Mean ± std over splits x seeds, in %, from {source}. Nothing is retrained by the benchmark.",
        "",
        table,
        "",
        "- ZSL: top-1 over the unseen classes only; GZSL: seen (S) and unseen (U) top-1 over all "
        "classes and their harmonic mean H, with all unseen classes added at once; H (one added): "
        "each unseen class added alone, averaged; GZSL method: the expert combination (gate, "
        "mixture, stacking) with the best validation score on the pseudo split; "
        "val ZSL: on the validation pseudo-unseen classes (model selection).",
        "- variants (training/evaluate.py VARIANTS): direct = ridge projection of the backbone "
        "feature onto the sentence embedding, nearest class by cosine (a non-VAE baseline); "
        "projection = the same with ridge 0.1 and both sides centred on the training classes' mean "
        "prototype (what the shipped bundle serves, training/projection.py); "
        "no_disentangle = SA-DVAE with dz_v 0 and no TC; no_tc = no total-correlation term; "
        "full = SA-DVAE (trained and exported in the bundle; see docs/model.md).",
    ]
    for k, split in enumerate(splits):
        lines.append(
            f"- split {k}: unseen {', '.join(split['unseen'])} ({split['unseen_clips']} clips); "
            f"{split['seen_train_clips']} seen training clips"
        )
    return "\n".join(lines) + "\n"


def _section(title: str, intro: str, tables: list[Table], images: list[str] = ()) -> str:
    parts = [f"## {title}", "", intro, ""] + [t.markdown() for t in tables]
    parts += [f"![{Path(image).stem}]({image})\n" for image in images]
    return "\n".join(parts)


def model_plot(stage_tables: list[Table], path: Path) -> bool:
    """ms per window vs batch size: the bundle (onnxruntime) and torch eager vs onnxruntime."""
    model = next((t for t in stage_tables if t.title.startswith("Model per window")), None)
    versus = next((t for t in stage_tables if t.title.startswith("onnxruntime vs PyTorch")), None)
    if model is None or versus is None:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label in dict.fromkeys(model.column("label set")):
        for threads in sorted(set(model.column("ort threads"))):
            rows = [r for r in model.values if r[0] == label and r[1] == threads]
            if rows:
                name = f"bundle ({label}), classifier incl., {threads} thr"
                ax.plot([r[2] for r in rows], [r[5] for r in rows], "o-", label=name)
    for threads in sorted(set(versus.column("threads"))):
        rows = [r for r in versus.values if r[1] == threads and r[0] == 64]
        n = [r[2] for r in rows]
        ax.plot(n, [r[3] / r[2] for r in rows], "s--", label=f"torch eager, {threads} thr")
        ax.plot(n, [r[4] / r[2] for r in rows], "^:", label=f"onnxruntime, {threads} thr")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("batch N (windows of 64 frames)")
    ax.set_ylabel("ms per window (p50)")
    ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    ax.set_title("Skeleton network per window vs batch size (lower is better)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return True


SCALE_INTRO = (
    "`python bench/bench_scale.py`. Window length: the shipped bundle's ONNX time axis is static "
    "(64 frames), so the worker itself only runs 64-frame windows; the network's cost at 32/64/128 "
    "frames is in the onnxruntime vs PyTorch table above (exports of the same architecture at each "
    "length) and canonicalisation in the table after it."
)


def _measure(section: str, quick: bool, img_dir: Path) -> tuple[str, str, list[Table], list[Path]]:
    """Run one timed section: (title, intro, tables, plots written)."""
    if section == "stages":
        import bench_stages

        tables = bench_stages.run(quick)
        plot = img_dir / "bench-model.png"
        plots = [plot] if not quick and model_plot(tables, plot) else []
        intro = (
            "In-process timings of every stage on the sample video and its real MediaPipe poses "
            "(`python bench/bench_stages.py`)."
        )
        return "Speed of each stage", intro, tables, plots
    if section == "e2e":
        import bench_e2e

        intro = (
            "`actzero pose` and `actzero worker` as separate processes over ZeroMQ on loopback "
            "(`python bench/bench_e2e.py`)."
        )
        return "End to end, real processes", intro, bench_e2e.run(quick), []
    if section == "scale":
        import bench_scale

        plot = None if quick else img_dir / "bench-scale.png"
        tables = bench_scale.run(quick, plot)
        return "Scale: tracks, streams, window length", SCALE_INTRO, tables, [plot] if plot else []
    import bench_annotate

    return "Annotating a video", "`python bench/bench_annotate.py`.", bench_annotate.run(quick), []


def run(sections: tuple[str, ...], quick: bool, img_dir: Path, out_dir: Path) -> list[str]:
    """Run the sections and return their markdown (tables are printed as they come).

    A section that fails is reported in its place (with the error) and the others still run.
    """
    parts = []
    for section in sections:
        if section == "accuracy":
            text = accuracy_section()
            print(text, flush=True)
            parts.append(text)
            continue
        try:
            title, intro, tables, plots = _measure(section, quick, img_dir)
        except Exception as exc:  # one broken benchmark must not lose the others' numbers
            traceback.print_exc()
            parts.append(f"## {section}\n\nThis section failed in this run: `{type(exc).__name__}: {exc}`\n")
            continue
        print_tables(tables)
        images = [os.path.relpath(plot, out_dir) for plot in plots]
        parts.append(_section(title, intro, tables, images))
    return parts


SUMMARY_START, SUMMARY_END = "<!-- summary: kept by run_all.py -->", "<!-- /summary -->"


def kept_summary(path: Path) -> str:
    """The hand-written summary block of an existing report (between the markers), or ''."""
    if not path.is_file():
        return ""
    text = path.read_text()
    start, end = text.find(SUMMARY_START), text.find(SUMMARY_END)
    return text[start : end + len(SUMMARY_END)] + "\n" if 0 <= start < end else ""


def write_report(
    path: Path, parts: list[str], machine: Table, command: str, started: str, minutes: float
) -> None:
    """BENCHMARKS.md: how it was made, a kept hand-written summary, the machine, then the sections."""
    summary = kept_summary(path)
    head = [
        "# actzero benchmarks",
        "",
        f"Produced by `{command}` (started {started} UTC, {minutes:.0f} min). Every number below was "
        "measured in that run on the machine described here, except the accuracy table, which is "
        "read from the evaluation run named there. Medians (p50) and tail percentiles are over the "
        "repeats stated under each table.",
        "",
        *([summary] if summary else []),
        machine.markdown(),
    ]
    path.write_text("\n".join(head + parts))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes and few repeats (no plots)")
    parser.add_argument("--out", type=Path, default=REPO / "BENCHMARKS.md", help="markdown file to write")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated sections of {SECTIONS}")
    parser.add_argument("--img-dir", type=Path, default=IMG, help="folder for the PNG plots")
    parser.add_argument("--load-note", default="", help="what else ran on the machine (written with it)")
    args = parser.parse_args(argv)
    sections = tuple(s.strip() for s in args.only.split(",") if s.strip())
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; choose from {SECTIONS}")
    started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")
    began = time.monotonic()
    note = args.load_note or f"niceness {os.nice(0)}; see the load averages at start and end"
    machine = machine_table(note, busy_seconds=0.2 if args.quick else 2.0)
    print(machine.markdown(), flush=True)
    parts = run(sections, args.quick, args.img_dir, args.out.resolve().parent)
    machine.add("load average (1 min) at end", load_now())
    argv_text = " ".join(sys.argv[1:] if argv is None else argv)
    command = f"python bench/run_all.py {argv_text}".strip()
    write_report(args.out, parts, machine, command, started, (time.monotonic() - began) / 60)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
