"""The label set: one meaning each for add / replace / remove, validation, and where a set comes from."""

from __future__ import annotations

import json

import pytest

from actzero.model import registry
from actzero.model.actions import MAX_DESCRIPTIONS, MAX_NAME_LENGTH, Action
from actzero.model.labelset import ActionError, ActionsFileError, LabelSet, load_label_set

WAVE = Action("wave", ("raises a hand and moves it side to side",))
SIT = Action("sit down", ("bends the knees and sits on a chair",))


def test_add_appends_and_refuses_an_existing_name_whatever_its_case_and_spacing() -> None:
    labels = LabelSet([WAVE])
    bigger = labels.add("  jumping\tjacks ", " jumps  spreading the legs ")
    assert bigger.names == ["wave", "jumping jacks"]
    assert bigger[-1].descriptions == ("jumps spreading the legs",)
    assert labels.names == ["wave"]  # changes return a new set
    with pytest.raises(ActionError, match="an action named 'wave' already exists \\(replace it"):
        bigger.add(" WAVE ", ["another wave"])


def test_replace_changes_descriptions_in_place_and_refuses_an_unknown_name() -> None:
    labels = LabelSet([WAVE, SIT])
    replaced = labels.replace("WAVE", ["waves both hands", "waves overhead"])
    assert replaced.names == ["WAVE", "sit down"]
    assert replaced.get("wave").descriptions == ("waves both hands", "waves overhead")
    with pytest.raises(ActionError, match="no action named 'kick' \\(known: 'wave', 'sit down'\\)"):
        labels.replace("kick", ["kicks"])


def test_remove_refuses_an_unknown_name_and_the_last_action() -> None:
    labels = LabelSet([WAVE, SIT])
    assert labels.remove(" Sit   Down").names == ["wave"]
    with pytest.raises(ActionError, match="no action named 'kick'"):
        labels.remove("kick")
    with pytest.raises(ActionError, match="cannot remove 'wave': it is the only action left"):
        LabelSet([WAVE]).remove("wave")


def test_an_unknown_name_error_lists_a_bounded_number_of_names() -> None:
    labels = LabelSet(Action(f"a{i}", ("x",)) for i in range(50))
    with pytest.raises(ActionError, match="'a19', \\+30 more\\)$"):
        labels.get("b")


@pytest.mark.parametrize(
    ("actions", "message"),
    [
        ([WAVE, Action("Wave", ("y",))], "action 1: an action named 'wave' already exists"),
        ([Action("", ("x",))], "action 0: the action name is empty"),
        ([Action("n" * (MAX_NAME_LENGTH + 1), ("x",))], "limit is 64"),
        ([Action("kick", ())], "needs at least one description"),
        (
            [Action("kick", tuple(f"d{i}" for i in range(MAX_DESCRIPTIONS + 1)))],
            f"the limit is {MAX_DESCRIPTIONS}",
        ),
        ([Action("kick", ("kicks", "KICKS"))], "repeats an earlier one"),
        ([Action("kick\x1b[2J", ("kicks",))], "control character U\\+001B"),
        ([Action("kick", ("kicks\u202e",))], "control character U\\+202E"),
        ([Action(None, ("kicks",))], "must be text"),  # type: ignore[arg-type]
    ],
)
def test_invalid_sets_are_refused_with_the_action_named(actions, message) -> None:
    with pytest.raises(ActionError, match=message):
        LabelSet(actions)


def test_the_actions_file_or_else_the_registry(tmp_path) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"actions": [{"name": "wave", "descriptions": ["waves"]}]}))
    reg = tmp_path / "actions.json"
    registry.add_action("clap", ["claps hands"], path=reg, bundle_manifest=manifest)
    text = tmp_path / "mine.txt"
    text.write_text("# two actions\nkick: kicks forward\nkick: a front kick\nbow: bends forward\n")
    from_file = load_label_set(text, registry=reg, bundle_manifest=manifest)
    assert from_file.names == ["kick", "bow"]
    assert from_file[0].descriptions == ("kicks forward", "a front kick")
    assert load_label_set(None, registry=reg, bundle_manifest=manifest).names == ["wave", "clap"]
    text.write_text("kick: " + "x" * 301 + "\n")
    with pytest.raises(ActionsFileError, match=f"{text}:1: description 1 of 'kick' has 301 characters"):
        load_label_set(text, registry=reg, bundle_manifest=manifest)
    reg.write_text("{broken")
    with pytest.raises(registry.RegistryError, match="not valid JSON"):
        load_label_set(None, registry=reg, bundle_manifest=manifest)
