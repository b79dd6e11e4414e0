"""`actzero actions ...`: list, add, replace and remove the actions (text classes) a worker recognises."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import NoReturn

import typer

from actzero.cli.main import app
from actzero.cli.options import (
    CONTROL_TIMEOUT_S,
    ClientSecret,
    Control,
    ControlTimeout,
    Registry,
    RegistryBundle,
    ServerKey,
)

actions_app = typer.Typer(
    help="List, add, replace and remove recognisable actions (the registry; optionally a running worker).",
    no_args_is_help=True,
)
app.add_typer(actions_app, name="actions")


def _fail(message: str) -> NoReturn:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def _manifest(bundle: Path | None) -> Path | None:
    from actzero.model.bundle import MANIFEST

    return None if bundle is None else bundle / MANIFEST


def _tell_worker(
    address: str, request: dict, timeout_s: float, server_key: Path | None, client_secret: Path | None
) -> None:
    """Send a control request to a worker and report its answer; exit 1 if it did not apply it."""
    from actzero.stream.control import send_request

    try:
        reply = send_request(
            address, request, timeout_s=timeout_s, server_key=server_key, client_secret=client_secret
        )
    except TimeoutError as exc:
        _fail(f"the registry was updated, but the worker did not answer: {exc}")
    except (ValueError, OSError) as exc:  # bad address, CURVE key files, malformed reply
        _fail(f"the registry was updated, but the worker could not be reached at {address}: {exc}")
    if not reply.get("ok"):
        _fail(f"the registry was updated, but the worker refused: {reply.get('error', 'no reason given')}")
    fit = reply.get("fit_s")
    fit_text = f" (refitted in {fit:.2f} s)" if isinstance(fit, int | float) else ""
    typer.echo(f"worker at {address} now recognises {reply.get('actions', '?')} actions{fit_text}")
    if isinstance(reply.get("saved"), str):
        typer.echo(f"worker registry: {reply['saved']}")


@actions_app.command("list")
def list_actions(
    registry: Registry = None,
    bundle: RegistryBundle = None,
) -> None:
    """Print the registered actions: name, source and first description.

    Example: actzero actions list
    """
    from rich.console import Console
    from rich.table import Table

    from actzero.model import registry as reg

    path = registry if registry is not None else reg.default_registry_path()
    try:
        entries = reg.load_entries(path, _manifest(bundle))
    except reg.RegistryError as exc:
        _fail(str(exc))
    count = f"{len(entries)} action" + ("" if len(entries) == 1 else "s")
    table = Table(title=count, title_justify="left")
    table.add_column("name", style="bold")
    table.add_column("source")
    table.add_column("description", overflow="fold")
    for entry in entries:
        more = len(entry.action.descriptions) - 1
        first = entry.action.descriptions[0] + (f"  (+{more} more)" if more else "")
        table.add_row(entry.action.name, entry.source, first)
    console = Console()
    console.print(table)
    note = "" if path.exists() else " (not created yet: these are the bundle's actions)"
    console.print(f"registry: {path}{note}", soft_wrap=True, highlight=False)


@actions_app.command("add")
def add(
    name: str = typer.Argument(..., help="The action's label, e.g. 'juggle'."),
    descriptions: list[str] = typer.Option(
        ...,
        "--description",
        "-d",
        help="A plain-English sentence about what the body does (repeat for several).",
    ),
    registry: Registry = None,
    bundle: RegistryBundle = None,
    control: Control = None,
    timeout: ControlTimeout = CONTROL_TIMEOUT_S,
    server_key: ServerKey = None,
    client_secret: ClientSecret = None,
) -> None:
    """Add an action described in words; it is recognisable without retraining.

    Example: actzero actions add "juggle" -d "both hands toss and catch balls in front of the chest"
    """
    from actzero.model import registry as reg

    try:
        action = reg.add_action(name, descriptions, path=registry, bundle_manifest=_manifest(bundle))
    except (reg.ActionError, reg.RegistryError) as exc:
        _fail(str(exc))
    typer.echo(f"added {action.name!r} with {len(action.descriptions)} description(s)")
    if control is not None:
        request = {"op": "add", "name": action.name, "descriptions": list(action.descriptions)}
        _tell_worker(control, request, timeout, server_key, client_secret)


@actions_app.command("replace")
def replace(
    name: str = typer.Argument(..., help="Name of the action to change (case-insensitive)."),
    descriptions: list[str] = typer.Option(
        ...,
        "--description",
        "-d",
        help="A plain-English sentence about what the body does (repeat for several); replaces all.",
    ),
    registry: Registry = None,
    bundle: RegistryBundle = None,
    control: Control = None,
    timeout: ControlTimeout = CONTROL_TIMEOUT_S,
    server_key: ServerKey = None,
    client_secret: ClientSecret = None,
) -> None:
    """Give an existing action new descriptions (in place; `add` refuses an existing name).

    Example: actzero actions replace wave -d "waves the right hand above the head"
    """
    from actzero.model import registry as reg

    try:
        action = reg.replace_action(name, descriptions, path=registry, bundle_manifest=_manifest(bundle))
    except (reg.ActionError, reg.RegistryError) as exc:
        _fail(str(exc))
    typer.echo(f"replaced {action.name!r}: now {len(action.descriptions)} description(s)")
    if control is not None:
        request = {"op": "replace", "name": action.name, "descriptions": list(action.descriptions)}
        _tell_worker(control, request, timeout, server_key, client_secret)


@actions_app.command("remove")
def remove(
    name: str = typer.Argument(..., help="Name of the action to remove (case-insensitive)."),
    registry: Registry = None,
    bundle: RegistryBundle = None,
    control: Control = None,
    timeout: ControlTimeout = CONTROL_TIMEOUT_S,
    server_key: ServerKey = None,
    client_secret: ClientSecret = None,
) -> None:
    """Remove an action from the registry (and from a running worker with --control).

    Example: actzero actions remove "juggle" --control tcp://127.0.0.1:5557
    """
    from actzero.model import registry as reg

    try:
        action = reg.remove_action(name, path=registry, bundle_manifest=_manifest(bundle))
    except (reg.ActionError, reg.RegistryError) as exc:
        _fail(str(exc))
    shipped = {e.action.name.casefold() for e in reg.bundle_entries(_manifest(bundle))}
    if action.name.casefold() in shipped:
        how = f"actzero actions reset {shlex.quote(action.name)}"
    else:
        how = f"actzero actions add {shlex.quote(action.name)} " + " ".join(
            f"-d {shlex.quote(text)}" for text in action.descriptions
        )
    typer.echo(f"removed {action.name!r} ({len(action.descriptions)} description(s)); to restore it: {how}")
    if control is not None:
        _tell_worker(control, {"op": "remove", "name": action.name}, timeout, server_key, client_secret)


@actions_app.command("reset")
def reset(
    name: str | None = typer.Argument(
        None,
        help="A shipped action to restore (default: all; actions you added are dropped).",
        show_default=False,
    ),
    registry: Registry = None,
    bundle: RegistryBundle = None,
) -> None:
    """Restore the shipped actions: all of them, or one removed or changed shipped action.

    A running worker keeps its own set: restart it (or use `actions add --control`) to apply this.

    Example: actzero actions reset walk   |   actzero actions reset
    """
    from actzero.model import registry as reg

    path = registry if registry is not None else reg.default_registry_path()
    try:
        entries = reg.reset_actions(name, path=registry, bundle_manifest=_manifest(bundle))
    except (reg.ActionError, reg.RegistryError) as exc:
        _fail(str(exc))
    if name is None:
        typer.echo(f"reset {path}: the {len(entries)} shipped actions, nothing else")
    else:
        action = entries[0].action
        typer.echo(f"restored {action.name!r} with its {len(action.descriptions)} shipped description(s)")
