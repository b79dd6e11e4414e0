"""The `actzero` command: one typer application; each command lives in its own module.

Heavy libraries (torch, mediapipe, onnxruntime) are imported inside the commands, so
`actzero --help` stays fast and works without the training extra.
"""

from __future__ import annotations

import os

# numpy's BLAS threads spin against onnxruntime's on a busy machine: refitting the zero-shot
# classifier in a running worker took 3-6 s instead of 0.3 s with both cores saturated
# (docs/reliability.md). The heavy per-window work runs in onnxruntime, which has its own threads,
# so one BLAS thread is enough. Set before numpy is first imported; a user's own value wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import typer  # noqa: E402

from actzero import __version__  # noqa: E402

app = typer.Typer(
    name="actzero",
    help="Real-time zero-shot skeleton action recognition: video/webcam -> MediaPipe -> SA-DVAE.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"actzero {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Real-time zero-shot skeleton action recognition."""


# Command modules register themselves on `app` (one import line each).
from actzero.cli import actions as _actions  # noqa: E402,F401
from actzero.cli import annotate as _annotate  # noqa: E402,F401
from actzero.cli import classify as _classify  # noqa: E402,F401
from actzero.cli import data as _data  # noqa: E402,F401
from actzero.cli import live as _live  # noqa: E402,F401
from actzero.cli import pose as _pose  # noqa: E402,F401
from actzero.cli import train as _train  # noqa: E402,F401
from actzero.cli import worker as _worker  # noqa: E402,F401
