"""The user's action registry: the label set a worker recognises, kept in a JSON file.

The file lives in the user's config folder (`default_registry_path`) and looks like::

    {"format": "actzero-actions", "version": 1,
     "actions": [{"name": "wave", "descriptions": ["..."], "source": "user"}, ...]}

Until the first change is saved, the registry holds the default bundle's actions (the
`actions` of its manifest.json). Every write is atomic (temporary file, fsync, rename)
and serialised with a lock file; a file that cannot be read is reported, never reset.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from actzero.model.actions import Action
from actzero.model.atomic_write import write_text_atomic
from actzero.model.bundle import DEFAULT_BUNDLE, MANIFEST
from actzero.model.labelset import ActionError, LabelSet

FORMAT = "actzero-actions"
VERSION = 1
REGISTRY_FILE = "actions.json"
USER_SOURCE = "user"
# The shipped bundle's manifest, read as plain JSON so that editing the registry never opens
# the bundle's networks.
DEFAULT_MANIFEST = DEFAULT_BUNDLE / MANIFEST


class RegistryError(ValueError):
    """The registry file (or the bundle manifest it starts from) cannot be read."""


@dataclass(frozen=True)
class RegistryEntry:
    """One registered action and where it came from ("user", or the bundle's data source)."""

    action: Action
    source: str


def default_registry_path() -> Path:
    """$ACTZERO_CONFIG_DIR, else $XDG_CONFIG_HOME/actzero, else ~/.config/actzero; plus actions.json."""
    if os.environ.get("ACTZERO_CONFIG_DIR"):
        folder = Path(os.environ["ACTZERO_CONFIG_DIR"])
    elif os.environ.get("XDG_CONFIG_HOME"):
        folder = Path(os.environ["XDG_CONFIG_HOME"]) / "actzero"
    else:
        folder = Path.home() / ".config" / "actzero"
    return folder.expanduser() / REGISTRY_FILE


def _entries_from_json(items: object, origin: Path) -> list[RegistryEntry]:
    if not isinstance(items, list):
        raise RegistryError(f"{origin}: 'actions' must be a list")
    sources: list[str] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise RegistryError(f"{origin}: action {i} is not an object")
        source = item.get("source", USER_SOURCE)
        if not isinstance(source, str) or not source:
            raise RegistryError(f"{origin}: action {i} has an invalid 'source'")
        sources.append(source)
    try:
        labels = LabelSet(Action(item.get("name"), item.get("descriptions") or []) for item in items)
    except ActionError as exc:  # "action <i>: ..."
        raise RegistryError(f"{origin}: {exc}") from None
    return [RegistryEntry(action, source) for action, source in zip(labels, sources, strict=True)]


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RegistryError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise RegistryError(f"{path} is not UTF-8 text ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise RegistryError(
            f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    if not isinstance(data, dict):
        raise RegistryError(f"{path} must hold a JSON object")
    return data


def bundle_entries(bundle_manifest: Path | None = None) -> list[RegistryEntry]:
    """The actions a bundle ships (its manifest's `actions`): what the registry starts from.

    Args:
        bundle_manifest: The manifest; None = the default bundle's (no default bundle: none).

    Raises:
        RegistryError: The manifest is missing (when given) or unreadable.
    """
    manifest = Path(bundle_manifest) if bundle_manifest is not None else DEFAULT_MANIFEST
    if not manifest.is_file():
        if bundle_manifest is not None:
            raise RegistryError(f"bundle manifest {manifest} does not exist")
        return []  # no default bundle installed yet: the registry starts empty
    return _entries_from_json(_read_json(manifest).get("actions"), manifest)


def _read_registry(path: Path) -> list[RegistryEntry]:
    data = _read_json(path)
    hint = "; fix it or delete it to start again from the bundle's actions"
    if data.get("format") != FORMAT:
        raise RegistryError(f"{path}: not an actzero action registry (format {data.get('format')!r}){hint}")
    if data.get("version") != VERSION:
        raise RegistryError(
            f"{path}: registry version {data.get('version')!r}, this actzero reads version {VERSION}{hint}"
        )
    try:
        return _entries_from_json(data.get("actions"), path)
    except RegistryError as exc:
        raise RegistryError(f"{exc}{hint}") from None


def load_entries(path: Path | None = None, bundle_manifest: Path | None = None) -> list[RegistryEntry]:
    """Read the registry with each action's source.

    Args:
        path: Registry file; None = `default_registry_path()`.
        bundle_manifest: Manifest whose actions are the registry before its file exists;
            None = the default bundle's.

    Returns:
        The registered actions in order.

    Raises:
        RegistryError: The file (or manifest) is unreadable, not JSON, of another
            version, or holds invalid actions. The message names the file.
    """
    path = Path(path) if path is not None else default_registry_path()
    if path.exists():
        if not path.is_file():
            raise RegistryError(f"{path} is not a file")
        return _read_registry(path)
    return bundle_entries(bundle_manifest)


def load_actions(path: Path | None = None, bundle_manifest: Path | None = None) -> list[Action]:
    """Read the registered actions (see `load_entries` for the arguments and errors)."""
    return [entry.action for entry in load_entries(path, bundle_manifest)]


def _os_error(path: Path, exc: OSError) -> RegistryError:
    """A RegistryError naming the registry file for an OSError met while reading or writing it."""
    return RegistryError(f"cannot write the action registry {path}: {exc.strerror or exc}")


def _write(path: Path, entries: Sequence[RegistryEntry]) -> None:
    try:
        _write_file(path, entries)
    except OSError as exc:
        raise _os_error(path, exc) from None


def _write_file(path: Path, entries: Sequence[RegistryEntry]) -> None:
    data = {
        "format": FORMAT,
        "version": VERSION,
        "actions": [
            {"name": e.action.name, "descriptions": list(e.action.descriptions), "source": e.source}
            for e in entries
        ],
    }
    write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Serialise read-modify-write cycles of several processes on one registry file."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = open(path.with_name(path.name + ".lock"), "a")  # closed by the with below
    except OSError as exc:
        raise _os_error(path, exc) from None
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _labels(entries: Sequence[RegistryEntry]) -> LabelSet:
    return LabelSet(e.action for e in entries)


def add_action(
    name: str,
    descriptions: Sequence[str],
    *,
    path: Path | None = None,
    bundle_manifest: Path | None = None,
    source: str = USER_SOURCE,
) -> Action:
    """Validate a new action and append it to the registry file (`LabelSet.add`).

    Returns:
        The normalised action that was saved.

    Raises:
        ActionError: The action is invalid or its name is taken; nothing is written.
        RegistryError: The registry cannot be read or written; nothing is written.
    """
    path = Path(path) if path is not None else default_registry_path()
    with _locked(path):
        entries = load_entries(path, bundle_manifest)
        action = _labels(entries).add(name, descriptions)[-1]
        _write(path, [*entries, RegistryEntry(action, source)])
    return action


def replace_action(
    name: str, descriptions: Sequence[str], *, path: Path | None = None, bundle_manifest: Path | None = None
) -> Action:
    """Give a registered action new descriptions, in place (`LabelSet.replace`); its source becomes "user".

    Returns:
        The normalised action that was saved.

    Raises:
        ActionError: The action is invalid or no action has that name; nothing is written.
        RegistryError: The registry cannot be read or written; nothing is written.
    """
    path = Path(path) if path is not None else default_registry_path()
    with _locked(path):
        entries = load_entries(path, bundle_manifest)
        labels = _labels(entries).replace(name, descriptions)
        at = labels.position(name)
        entries[at] = RegistryEntry(labels[at], USER_SOURCE)
        _write(path, entries)
    return labels[at]


def remove_action(name: str, *, path: Path | None = None, bundle_manifest: Path | None = None) -> Action:
    """Remove an action (name matched case-insensitively, whitespace-normalised; `LabelSet.remove`).

    Returns:
        The removed action.

    Raises:
        ActionError: No action has that name, or it is the last one; nothing is written.
        RegistryError: The registry cannot be read or written; nothing is written.
    """
    path = Path(path) if path is not None else default_registry_path()
    with _locked(path):
        entries = load_entries(path, bundle_manifest)
        labels = _labels(entries)
        at = labels.position(name)
        labels.remove(name)  # refuses the last action
        _write(path, [*entries[:at], *entries[at + 1 :]])
    return entries[at].action


def reset_actions(
    name: str | None = None, *, path: Path | None = None, bundle_manifest: Path | None = None
) -> list[RegistryEntry]:
    """Restore shipped actions: all of them (the registry file is removed), or the one named.

    With no `name` the registry goes back to exactly the bundle's actions: actions the user
    added are dropped. With a `name`, that shipped action gets back its shipped descriptions and
    source, in place if it is registered (even re-added by the user) or appended if it was removed.

    Returns:
        The restored entries.

    Raises:
        ActionError: `name` is not an action the bundle ships; nothing is written.
        RegistryError: The registry cannot be read or written.
    """
    path = Path(path) if path is not None else default_registry_path()
    shipped = bundle_entries(bundle_manifest)
    with _locked(path):
        if name is None:
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:
                raise _os_error(path, exc) from None
            return shipped
        key = " ".join(str(name).split()).casefold()
        restored = next((e for e in shipped if e.action.name.casefold() == key), None)
        if restored is None:
            known = ", ".join(repr(e.action.name) for e in shipped) or "none"
            raise ActionError(f"{name!r} is not a shipped action (shipped: {known})")
        entries = load_entries(path, bundle_manifest)
        at = next((i for i, e in enumerate(entries) if e.action.name.casefold() == key), None)
        if at is None:
            entries.append(restored)
        else:
            entries[at] = restored
        _write(path, entries)
    return [restored]


def save_actions(path: Path | None, actions: Sequence[Action], bundle_manifest: Path | None = None) -> None:
    """Replace the registry's contents with `actions` (e.g. a worker's current label set).

    Sources of actions already known (in the file or the bundle) are kept; others are "user".

    Raises:
        ActionError: No actions, an invalid one, or two sharing a name; nothing is written.
        RegistryError: The existing file cannot be read (it is left for the user to fix).
    """
    path = Path(path) if path is not None else default_registry_path()
    if not actions:
        raise ActionError("refusing to save an empty action set")
    labels = LabelSet(actions)
    with _locked(path):
        known = {e.action.name.casefold(): e.source for e in load_entries(path, bundle_manifest)}
        _write(path, [RegistryEntry(a, known.get(a.name.casefold(), USER_SOURCE)) for a in labels])
