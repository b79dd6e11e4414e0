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


def _conventional_help_names() -> None:
    """Show click's conventional names in --help instead of typer's Python-type placeholders.

    typer 0.2x writes `<bool>` after every flag, `<list[Path]>` after a repeatable option and
    `{files}...` for a required argument in the usage line. This keeps the help readable:
    `FILES...`, `PATH`, `INTEGER`, nothing after a flag. It only touches typer's help-text
    methods when they exist, so another typer version keeps its own help.
    """
    from typer import core

    parameter = getattr(core, "_TyperParameter", None)
    argument = getattr(core, "TyperArgument", None)
    if parameter is None or argument is None or not hasattr(parameter, "display_type"):
        return
    original = parameter.display_type
    names = {
        "str": "TEXT",
        "int": "INTEGER",
        "float": "FLOAT",
        "int range": "INTEGER",
        "float range": "FLOAT",
    }

    def display_type(self: object, ctx: object) -> str:
        if getattr(self, "is_flag", False):
            return ""
        label = str(original(self, ctx)).strip("<>")
        if label.startswith("list[") and label.endswith("]"):
            label = label[5:-1]
        return names.get(label, label.upper())

    def usage_name(self: object) -> str:
        name = self.metavar or self.name.upper()
        name = name if self.required else f"[{name}]"
        return name + ("..." if self.nargs != 1 else "")

    parameter.display_type = display_type
    if hasattr(argument, "_usage_display_name"):
        argument._usage_display_name = usage_name


_conventional_help_names()

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
