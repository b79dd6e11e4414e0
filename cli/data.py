"""`actzero data ...`: build and inspect training data sets."""

from __future__ import annotations

import typer

from actzero.cli.main import app

data_app = typer.Typer(help="Build and inspect training data sets.", no_args_is_help=True)
app.add_typer(data_app, name="data")


@data_app.command("layout")
def layout() -> None:
    """Print the canonical NTU-25 joint layout (index, name, parent)."""
    from actzero.model import skeleton

    for i, name in enumerate(skeleton.JOINT_NAMES):
        parent = skeleton.PARENTS[i]
        typer.echo(f"{i:2d}  {name:<16s} parent={'-' if parent < 0 else skeleton.JOINT_NAMES[parent]}")
