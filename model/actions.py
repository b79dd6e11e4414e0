"""Actions are text: a name plus one or more plain-English descriptions of what the body does."""

from __future__ import annotations

from dataclasses import dataclass

MAX_NAME_LENGTH = 64
MAX_DESCRIPTION_LENGTH = 300
MAX_DESCRIPTIONS = 16  # a class seen in several data sets merges their descriptions (up to 12 today)


@dataclass(frozen=True)
class Action:
    """A recognisable action: `name` is the label, `descriptions` what the model matches against."""

    name: str
    descriptions: tuple[str, ...]
