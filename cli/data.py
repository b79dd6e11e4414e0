"""`actzero data ...`: build and inspect training data sets."""

from __future__ import annotations

from pathlib import Path

import typer

from actzero.cli.main import app
from actzero.cli.options import DEFAULT_DATASET, DEFAULT_SHARED

data_app = typer.Typer(help="Build and inspect training data sets.", no_args_is_help=True)
app.add_typer(data_app, name="data")


@data_app.command("layout")
def layout() -> None:
    """Print the canonical NTU-25 joint layout (index, name, parent)."""
    from actzero.model import skeleton

    for i, name in enumerate(skeleton.JOINT_NAMES):
        parent = skeleton.PARENTS[i]
        typer.echo(f"{i:2d}  {name:<16s} parent={'-' if parent < 0 else skeleton.JOINT_NAMES[parent]}")


@data_app.command("build")
def build(
    shared: Path = typer.Option(
        DEFAULT_SHARED, "--shared", help="The shared folder holding data/<kind>/<source>/*.tar.xz."
    ),
    sources: str = typer.Option(
        "all",
        "--sources",
        help="Comma-separated sources to include (bandai-namco, synthetic, utd-mhad, kinder-gator, "
        "nw-ucla, msr-action3d, citi, hdm05, cmu) or 'all'.",
    ),
    out: Path = typer.Option(
        DEFAULT_DATASET, "--out", help="The .npz to write; archives are extracted beside it."
    ),
    seed: int = typer.Option(
        0, "--seed", help="Seed of the synthetic motions (the result is deterministic)."
    ),
    synthetic_per_class: int = typer.Option(
        40, "--synthetic-per-class", min=0, help="Synthetic clips per synthetic class (0: none)."
    ),
) -> None:
    """Build the training data set: Bandai Namco mocap, synthetic clips and the Kinect / mocap sources.

    Bandai and synthetic clips are labelled by training/actions.toml, the other sources by
    their class tables (training/classes/<source>.toml); one class per canonical name.

    Example: actzero data build --shared ../shared --out cache/dataset-v3.npz --seed 0
    """
    import time

    from rich.console import Console
    from rich.table import Table

    from actzero.model.bvh import BVHError
    from actzero.training.bandai import BandaiError
    from actzero.training.dataset import DatasetError, build_dataset

    console = Console()
    start = time.perf_counter()
    chosen = None if sources.strip() == "all" else [s.strip() for s in sources.split(",") if s.strip()]
    try:
        dataset = build_dataset(shared, out, seed, sources=chosen, synthetic_per_class=synthetic_per_class)
    except (BandaiError, BVHError, DatasetError, OSError, ValueError) as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from None
    elapsed = time.perf_counter() - start

    fps = float(dataset.meta["fps"])
    lengths = dataset.lengths()
    table = Table(title=f"actzero data set ({len(dataset)} clips, {len(dataset.classes)} classes)")
    for column, justify in (("class", "left"), ("clips", "right"), ("seconds", "right"), ("sources", "left")):
        table.add_column(column, justify=justify)
    for label, info in enumerate(dataset.classes):
        mine = dataset.labels == label
        seconds = f"{lengths[mine].sum() / fps:.0f}"
        table.add_row(info.name, str(int(mine.sum())), seconds, ", ".join(info.sources or (info.source,)))
    table.add_row("total", str(len(dataset)), f"{lengths.sum() / fps:.0f}", "", end_section=True)
    console.print(table)
    per_source = Table(title="per source")
    for column in ("source", "clips", "classes", "minutes", "skipped clips"):
        per_source.add_column(column, justify="left" if column == "source" else "right")
    for name, counts in dataset.meta["sources"].items():
        skipped = counts["skipped_unlabelled"] + counts["skipped_empty"]
        minutes = f"{counts['frames'] / fps / 60:.1f}"
        per_source.add_row(name, str(counts["clips"]), str(counts["classes"]), minutes, str(skipped))
    console.print(per_source)
    if dataset.meta["synthetic"] != "included":
        console.print(f"synthetic clips: {dataset.meta['synthetic']}")
    size = out.stat().st_size / 2**20
    console.print(f"wrote {out} ({size:.1f} MiB) in {elapsed:.1f} s")
