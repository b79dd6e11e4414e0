"""The label set: the actions a classifier chooses between, and the one meaning of changing it.

A `LabelSet` is an immutable, ordered list of valid `Action`s with unique names (compared
case-insensitively after whitespace is collapsed). Changes return a new set:

- `add(name, descriptions)`: a new action; an existing name is refused (use `replace`);
- `replace(name, descriptions)`: new descriptions (and spelling) for an existing action, in
  its place; an unknown name is refused;
- `remove(name)`: an unknown name, or the last action, is refused.

The same rules serve the registry (model/registry.py), the Python API (api.py), the worker's
control ops (stream/worker_zmq.py) and every command. Where a command's label set comes from
is decided by `load_label_set`: the actions file when one is given, else the registry.

Validation (`validate_action`): a name of 1 to MAX_NAME_LENGTH characters, 1 to
MAX_DESCRIPTIONS descriptions of 1 to MAX_DESCRIPTION_LENGTH characters each, no repeated
description; runs of whitespace become one space; control characters (terminal escapes,
bidi overrides) are refused.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import overload

from actzero.model.actions import MAX_DESCRIPTION_LENGTH, MAX_DESCRIPTIONS, MAX_NAME_LENGTH, Action

_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_NAMES_IN_ERRORS = 20  # an unknown-name error lists at most this many known names


class ActionError(ValueError):
    """An action or a change that is not allowed (bad name or descriptions, duplicate, unknown)."""


class ActionsFileError(ValueError):
    """An actions text file that cannot be used (the message names the file and line)."""


def normalise_name(name: str) -> str:
    """The name with runs of whitespace collapsed to one space (how names are stored and matched)."""
    return " ".join(str(name).split())


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


def validate_action(name: str, descriptions: str | Sequence[str]) -> Action:
    """Check and normalise one action (runs of whitespace become one space).

    Args:
        name: The label.
        descriptions: 1 to MAX_DESCRIPTIONS plain-English sentences about the movement (a
            single string is one description).

    Returns:
        The normalised action.

    Raises:
        ActionError: Empty, too long or control characters in the name or a description,
            no or too many descriptions, or a repeated description.
    """
    clean_name = _clean_text(name, "the action name", MAX_NAME_LENGTH)
    if isinstance(descriptions, str):
        descriptions = [descriptions]
    if not isinstance(descriptions, Sequence):
        raise ActionError(f"the descriptions of {clean_name!r} must be a list of text")
    descriptions = list(descriptions)
    if not descriptions:
        raise ActionError(f"action {clean_name!r} needs at least one description")
    if len(descriptions) > MAX_DESCRIPTIONS:
        raise ActionError(
            f"action {clean_name!r} has {len(descriptions)} descriptions; the limit is {MAX_DESCRIPTIONS}"
        )
    clean: list[str] = []
    for i, text in enumerate(descriptions, start=1):
        item = _clean_text(text, f"description {i} of {clean_name!r}", MAX_DESCRIPTION_LENGTH)
        if item.casefold() in (c.casefold() for c in clean):
            raise ActionError(f"description {i} of {clean_name!r} repeats an earlier one")
        clean.append(item)
    return Action(clean_name, tuple(clean))


class LabelSet(Sequence[Action]):
    """An ordered set of valid actions with unique names (see the module docstring).

    Args:
        actions: The actions; each is validated and normalised.

    Raises:
        ActionError: An invalid action, or two with the same name (the message says which,
            as "action <index>: ...").
    """

    __slots__ = ("_actions",)

    def __init__(self, actions: Iterable[Action] = ()) -> None:
        checked: list[Action] = []
        names: dict[str, str] = {}
        for i, action in enumerate(actions):
            try:
                clean = validate_action(action.name, action.descriptions)
                key = clean.name.casefold()
                if key in names:
                    raise ActionError(f"an action named {names[key]!r} already exists")
            except ActionError as exc:
                raise ActionError(f"action {i}: {exc}") from None
            names[key] = clean.name
            checked.append(clean)
        self._actions: tuple[Action, ...] = tuple(checked)

    @classmethod
    def _of_valid(cls, actions: Iterable[Action]) -> LabelSet:
        """A set from actions already validated (by this class) and unique."""
        labels = cls.__new__(cls)
        labels._actions = tuple(actions)
        return labels

    @classmethod
    def from_file(cls, path: str | Path) -> LabelSet:
        """Read a text file of ``name: description`` lines.

        Blank lines and lines starting with ``#`` are ignored; the name is everything before
        the first colon. The same name on several lines gives that action several
        descriptions. Actions keep the order of their first line.

        Raises:
            ActionsFileError: unreadable file, a line without ``name: description``, an
                invalid name or description, or no action at all (the message names the file
                and line).
        """
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ActionsFileError(f"cannot read actions file {path}: {exc}") from None
        texts: dict[str, list[str]] = {}
        names: dict[str, str] = {}
        lines: dict[str, int] = {}
        for lineno, line in enumerate(text.splitlines(), start=1):
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            name, colon, description = stripped.partition(":")
            name, description = normalise_name(name), description.strip()
            if not colon or not name or not description:
                found = stripped[:60]
                raise ActionsFileError(f"{path}:{lineno}: expected 'name: description', found {found!r}")
            key = name.casefold()
            names.setdefault(key, name)
            lines.setdefault(key, lineno)
            texts.setdefault(key, []).append(description)
        if not texts:
            raise ActionsFileError(f"{path}: no actions (expected lines like 'wave: moves a raised hand')")
        actions = []
        for key, descriptions in texts.items():
            try:
                actions.append(validate_action(names[key], descriptions))
            except ActionError as exc:
                raise ActionsFileError(f"{path}:{lines[key]}: {exc}") from None
        return cls._of_valid(actions)

    # ----- reading ---------------------------------------------------------------------------
    @overload
    def __getitem__(self, index: int) -> Action: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Action]: ...

    def __getitem__(self, index: int | slice) -> Action | Sequence[Action]:
        return self._actions[index]

    def __len__(self) -> int:
        return len(self._actions)

    def __iter__(self) -> Iterator[Action]:
        return iter(self._actions)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LabelSet) and self._actions == other._actions

    def __hash__(self) -> int:
        return hash(self._actions)

    def __repr__(self) -> str:
        return f"LabelSet({[a.name for a in self._actions]!r})"

    @property
    def names(self) -> list[str]:
        """The action names, in order."""
        return [a.name for a in self._actions]

    def find(self, name: str) -> int | None:
        """The position of the action called `name` (case- and whitespace-insensitive), or None."""
        key = normalise_name(name).casefold()
        return next((i for i, a in enumerate(self._actions) if a.name.casefold() == key), None)

    def position(self, name: str) -> int:
        """The position of the action called `name`.

        Raises:
            ActionError: No action has that name (the message lists the known ones).
        """
        at = self.find(name)
        if at is None:
            known = ", ".join(repr(n) for n in self.names[:_NAMES_IN_ERRORS]) or "none"
            if len(self) > _NAMES_IN_ERRORS:
                known += f", +{len(self) - _NAMES_IN_ERRORS} more"
            raise ActionError(f"no action named {name!r} (known: {known})")
        return at

    def get(self, name: str) -> Action:
        """The action called `name` (raises `ActionError` like `position`)."""
        return self._actions[self.position(name)]

    # ----- changing --------------------------------------------------------------------------
    def add(self, name: str, descriptions: str | Sequence[str]) -> LabelSet:
        """A set with a new action appended.

        Raises:
            ActionError: An invalid action, or its name is taken (use `replace`).
        """
        action = validate_action(name, descriptions)
        at = self.find(action.name)
        if at is not None:
            taken = self._actions[at].name
            raise ActionError(f"an action named {taken!r} already exists (replace it to change it)")
        return LabelSet._of_valid((*self._actions, action))

    def replace(self, name: str, descriptions: str | Sequence[str]) -> LabelSet:
        """A set where the action called `name` has these descriptions (and this spelling), in place.

        Raises:
            ActionError: An invalid action, or no action has that name (use `add`).
        """
        action = validate_action(name, descriptions)
        at = self.position(action.name)
        return LabelSet._of_valid((*self._actions[:at], action, *self._actions[at + 1 :]))

    def remove(self, name: str) -> LabelSet:
        """A set without the action called `name`.

        Raises:
            ActionError: No action has that name, or it is the only one.
        """
        at = self.position(name)
        if len(self._actions) == 1:
            raise ActionError(f"cannot remove {self._actions[at].name!r}: it is the only action left")
        return LabelSet._of_valid((*self._actions[:at], *self._actions[at + 1 :]))


def load_label_set(
    actions_file: Path | None = None, *, registry: Path | None = None, bundle_manifest: Path | None = None
) -> LabelSet:
    """The label set of a command: the actions file when one is given, else the registry.

    Args:
        actions_file: A text file of ``name: description`` lines (`LabelSet.from_file`).
        registry: The registry file; None = the user's default one (model/registry.py).
        bundle_manifest: The manifest whose actions the registry starts from; None = the
            shipped bundle's.

    Returns:
        The label set; empty only when the registry is empty (no file and no shipped bundle).

    Raises:
        ActionsFileError: The actions file cannot be used.
        actzero.model.registry.RegistryError: The registry cannot be read.
    """
    if actions_file is not None:
        return LabelSet.from_file(actions_file)
    from actzero.model import registry as reg

    return LabelSet._of_valid(reg.load_actions(registry, bundle_manifest))
