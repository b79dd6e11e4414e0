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
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from actzero.model.actions import MAX_DESCRIPTION_LENGTH, MAX_DESCRIPTIONS, MAX_NAME_LENGTH, Action
from actzero.model.atomic_write import write_text_atomic
from actzero.model.bundle import DEFAULT_BUNDLE, MANIFEST

FORMAT = "actzero-actions"
VERSION = 1
REGISTRY_FILE = "actions.json"
USER_SOURCE = "user"
# The shipped bundle's manifest, read as plain JSON so that editing the registry never opens
# the bundle's networks.
DEFAULT_MANIFEST = DEFAULT_BUNDLE / MANIFEST
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class ActionError(ValueError):
    """An action change that is not allowed (bad name or descriptions, duplicate, unknown)."""


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


def _clean_text(value: object, what: str, max_length: int) -> str:
    if not isinstance(value, str):
        raise ActionError(f"{what} must be text, got {type(value).__name__}")
    text = " ".join(value.split())  # tabs and newlines become single spaces
    if not text:
        raise ActionError(f"{what} is empty")
    for char in text:
        if unicodedata.category(char) in ("Cc", "Cs") or char in _BIDI_CONTROLS:
            raise ActionError(f"{what} contains the control character U+{ord(char):04X}")
    if len(text) > max_length:
        raise ActionError(f"{what} has {len(text)} characters; the limit is {max_length}")
    return text


def validate_action(name: str, descriptions: Sequence[str], existing: Sequence[Action] = ()) -> Action:
    """Check and normalise a new action (runs of whitespace become one space).

    Args:
        name: The label.
        descriptions: 1 to MAX_DESCRIPTIONS plain-English sentences about the movement.
        existing: Actions already registered; the name must differ from theirs (case-insensitive).

    Returns:
        The normalised action.

    Raises:
        ActionError: Empty, too long or control characters in the name or a description,
            no or too many descriptions, a repeated description, or a duplicate name.
    """
    clean_name = _clean_text(name, "the action name", MAX_NAME_LENGTH)
    if isinstance(descriptions, str):
        descriptions = [descriptions]
    descriptions = list(descriptions)
    if not descriptions:
        raise ActionError(f"action {clean_name!r} needs at least one description")
    if len(descriptions) > MAX_DESCRIPTIONS:
        raise ActionError(
            f"action {clean_name!r} has {len(descriptions)} descriptions; the limit is {MAX_DESCRIPTIONS}"
        )
    clean = []
    for i, text in enumerate(descriptions, start=1):
        item = _clean_text(text, f"description {i} of {clean_name!r}", MAX_DESCRIPTION_LENGTH)
        if item.casefold() in (c.casefold() for c in clean):
            raise ActionError(f"description {i} of {clean_name!r} repeats an earlier one")
        clean.append(item)
    for other in existing:
        if other.name.casefold() == clean_name.casefold():
            raise ActionError(f"an action named {other.name!r} already exists")
    return Action(clean_name, tuple(clean))


def _entries_from_json(items: object, origin: Path) -> list[RegistryEntry]:
    if not isinstance(items, list):
        raise RegistryError(f"{origin}: 'actions' must be a list")
    entries: list[RegistryEntry] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise RegistryError(f"{origin}: action {i} is not an object")
        source = item.get("source", USER_SOURCE)
        if not isinstance(source, str) or not source:
            raise RegistryError(f"{origin}: action {i} has an invalid 'source'")
        try:
            action = validate_action(
                item.get("name"), item.get("descriptions") or [], [e.action for e in entries]
            )
        except ActionError as exc:
            raise RegistryError(f"{origin}: action {i}: {exc}") from None
        entries.append(RegistryEntry(action, source))
    return entries


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


def add_action(
    name: str,
    descriptions: Sequence[str],
    *,
    path: Path | None = None,
    bundle_manifest: Path | None = None,
    source: str = USER_SOURCE,
) -> Action:
    """Validate a new action and append it to the registry file.

    Returns:
        The normalised action that was saved.

    Raises:
        ActionError: The action is invalid or its name is taken; nothing is written.
        RegistryError: The registry cannot be read or written; nothing is written.
    """
    path = Path(path) if path is not None else default_registry_path()
    with _locked(path):
        entries = load_entries(path, bundle_manifest)
        action = validate_action(name, descriptions, [e.action for e in entries])
        _write(path, [*entries, RegistryEntry(action, source)])
    return action


def remove_action(name: str, *, path: Path | None = None, bundle_manifest: Path | None = None) -> Action:
    """Remove an action (name matched case-insensitively, whitespace-normalised).

    Returns:
        The removed action.

    Raises:
        ActionError: No action has that name, or it is the last one; nothing is written.
        RegistryError: The registry cannot be read or written; nothing is written.
    """
    path = Path(path) if path is not None else default_registry_path()
    key = " ".join(str(name).split()).casefold()
    with _locked(path):
        entries = load_entries(path, bundle_manifest)
        matches = [e for e in entries if e.action.name.casefold() == key]
        if not matches:
            known = ", ".join(repr(e.action.name) for e in entries) or "none"
            raise ActionError(f"no action named {name!r} (registered: {known})")
        if len(entries) == 1:
            raise ActionError(f"cannot remove {matches[0].action.name!r}: it is the only action left")
        _write(path, [e for e in entries if e is not matches[0]])
    return matches[0].action


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
    with _locked(path):
        known = {e.action.name.casefold(): e.source for e in load_entries(path, bundle_manifest)}
        entries: list[RegistryEntry] = []
        for action in actions:
            clean = validate_action(action.name, action.descriptions, [e.action for e in entries])
            entries.append(RegistryEntry(clean, known.get(clean.name.casefold(), USER_SOURCE)))
        _write(path, entries)
