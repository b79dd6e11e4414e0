import json
import threading
from pathlib import Path

import pytest

from actzero.model import registry
from actzero.model.actions import MAX_DESCRIPTION_LENGTH, MAX_DESCRIPTIONS, MAX_NAME_LENGTH, Action
from actzero.model.registry import ActionError, RegistryError

BUNDLE_ACTIONS = [
    {"name": "wave", "descriptions": ["a person waves the right hand"], "source": "bandai-namco"},
    {"name": "standing still", "descriptions": ["standing with arms at the sides"], "source": "synthetic"},
]


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "bundle" / "manifest.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"format": "actzero-bundle", "version": 1, "actions": BUNDLE_ACTIONS}))
    return path


@pytest.fixture
def reg(tmp_path: Path) -> Path:
    return tmp_path / "config" / "actions.json"


def test_default_path_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ACTZERO_CONFIG_DIR", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    assert registry.default_registry_path() == tmp_path / "home" / ".config" / "actzero" / "actions.json"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert registry.default_registry_path() == tmp_path / "xdg" / "actzero" / "actions.json"
    monkeypatch.setenv("ACTZERO_CONFIG_DIR", str(tmp_path / "mine"))
    assert registry.default_registry_path() == tmp_path / "mine" / "actions.json"


def test_registry_starts_from_the_bundle_without_writing(reg, manifest):
    entries = registry.load_entries(reg, manifest)
    assert [(e.action.name, e.source) for e in entries] == [
        ("wave", "bandai-namco"),
        ("standing still", "synthetic"),
    ]
    assert registry.load_actions(reg, manifest)[0] == Action("wave", ("a person waves the right hand",))
    assert not reg.exists()


def test_add_persists_normalised_action_with_version(reg, manifest):
    added = registry.add_action(
        "  jumping   jacks ", ["arms up\tand legs\napart", "a star jump"], path=reg, bundle_manifest=manifest
    )
    assert added == Action("jumping jacks", ("arms up and legs apart", "a star jump"))
    data = json.loads(reg.read_text())
    assert data["version"] == registry.VERSION and data["format"] == registry.FORMAT
    assert [a["name"] for a in data["actions"]] == ["wave", "standing still", "jumping jacks"]
    assert data["actions"][2]["source"] == "user"
    # The file, not the bundle, is the registry from now on.
    other_manifest = manifest.with_name("other.json")
    other_manifest.write_text(json.dumps({"actions": []}))
    assert registry.load_actions(reg, other_manifest)[-1] == added
    assert [p.name for p in reg.parent.iterdir() if p.suffix == ".tmp"] == []


def test_unicode_names_and_descriptions_round_trip(reg, manifest):
    registry.add_action(
        "café dance 💃", ["la personne danse à côté du café"], path=reg, bundle_manifest=manifest
    )
    assert registry.load_actions(reg)[-1].name == "café dance 💃"


@pytest.mark.parametrize(
    ("name", "descriptions", "message"),
    [
        ("", ["x"], "name is empty"),
        ("   \t", ["x"], "name is empty"),
        ("WAVE", ["another wave"], "already exists"),
        (" Standing  Still ", ["idle"], "already exists"),
        ("n" * (MAX_NAME_LENGTH + 1), ["x"], "limit"),
        ("kick", [], "at least one description"),
        ("kick", [""], "description 1 .* is empty"),
        ("kick", ["a kick", "  "], "description 2 .* is empty"),
        ("kick", ["d" * (MAX_DESCRIPTION_LENGTH + 1)], "limit"),
        ("kick", [f"kick {i}" for i in range(MAX_DESCRIPTIONS + 1)], "limit"),
        ("kick", ["a kick", "A  kick"], "repeats"),
        ("ki\x00ck", ["a kick"], "control character U\\+0000"),
        ("kick", ["\x1b[31mred\x1b[0m kick"], "control character U\\+001B"),
        ("kick\u202e", ["a kick"], "control character U\\+202E"),
        (None, ["a kick"], "must be text"),
        ("kick", [42], "must be text"),
    ],
)
def test_invalid_additions_raise_and_change_nothing(reg, manifest, name, descriptions, message):
    registry.add_action("clap", ["claps hands"], path=reg, bundle_manifest=manifest)
    before = reg.read_bytes()
    with pytest.raises(ActionError, match=message):
        registry.add_action(name, descriptions, path=reg, bundle_manifest=manifest)
    assert reg.read_bytes() == before


def test_invalid_first_addition_creates_no_file(reg, manifest):
    with pytest.raises(ActionError):
        registry.add_action("wave", ["dup"], path=reg, bundle_manifest=manifest)
    assert not reg.exists()


def test_remove_is_case_insensitive_and_persists(reg, manifest):
    removed = registry.remove_action("  WAVE ", path=reg, bundle_manifest=manifest)
    assert removed.name == "wave"
    assert [a.name for a in registry.load_actions(reg, manifest)] == ["standing still"]


def test_remove_unknown_or_last_action_fails_without_writing(reg, manifest):
    with pytest.raises(ActionError, match="no action named 'kick'.*'wave'"):
        registry.remove_action("kick", path=reg, bundle_manifest=manifest)
    assert not reg.exists()
    registry.remove_action("wave", path=reg, bundle_manifest=manifest)
    before = reg.read_bytes()
    with pytest.raises(ActionError, match="only action left"):
        registry.remove_action("standing still", path=reg, bundle_manifest=manifest)
    assert reg.read_bytes() == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"format": "actzero-actions", "version": 1, "actions": [', "not valid JSON \\(line 1"),
        ("[]", "must hold a JSON object"),
        ('{"format": "something-else", "version": 1, "actions": []}', "not an actzero action registry"),
        ('{"format": "actzero-actions", "version": 2, "actions": []}', "version 2"),
        ('{"format": "actzero-actions", "version": 1, "actions": {}}', "must be a list"),
        (
            '{"format": "actzero-actions", "version": 1, "actions": ['
            '{"name": "a", "descriptions": ["x"]}, {"name": "A", "descriptions": ["y"]}]}',
            "action 1: an action named 'a' already exists",
        ),
    ],
)
def test_bad_registry_file_is_reported_with_its_path_and_kept(reg, manifest, content, message):
    reg.parent.mkdir(parents=True)
    reg.write_text(content)
    with pytest.raises(RegistryError, match=message) as info:
        registry.load_actions(reg, manifest)
    assert str(reg) in str(info.value)
    with pytest.raises(RegistryError):
        registry.add_action("kick", ["a kick"], path=reg, bundle_manifest=manifest)
    with pytest.raises(RegistryError):
        registry.save_actions(reg, [Action("kick", ("a kick",))], bundle_manifest=manifest)
    assert reg.read_text() == content


def test_non_utf8_file_is_reported(reg):
    reg.parent.mkdir(parents=True)
    reg.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(RegistryError, match="not UTF-8"):
        registry.load_actions(reg)


def test_missing_explicit_manifest_is_an_error(reg, tmp_path):
    with pytest.raises(RegistryError, match="does not exist"):
        registry.load_actions(reg, tmp_path / "nope" / "manifest.json")


def test_failed_write_keeps_the_old_file_and_leaves_no_temp(reg, manifest, monkeypatch):
    registry.add_action("clap", ["claps hands"], path=reg, bundle_manifest=manifest)
    before = reg.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(registry.os, "replace", broken_replace)
    with pytest.raises(RegistryError, match="disk full"):
        registry.add_action("kick", ["a kick"], path=reg, bundle_manifest=manifest)
    assert reg.read_bytes() == before
    assert sorted(p.name for p in reg.parent.iterdir()) == ["actions.json", "actions.json.lock"]


def test_save_actions_keeps_known_sources(reg, manifest):
    registry.save_actions(
        reg,
        [Action("standing still", ("standing",)), Action("kick", ("a kick",))],
        bundle_manifest=manifest,
    )
    entries = registry.load_entries(reg)
    assert [(e.action.name, e.source) for e in entries] == [("standing still", "synthetic"), ("kick", "user")]
    with pytest.raises(ActionError, match="already exists"):
        registry.save_actions(reg, [Action("kick", ("a",)), Action("Kick", ("b",))])
    with pytest.raises(ActionError, match="empty"):
        registry.save_actions(reg, [])
    assert [e.action.name for e in registry.load_entries(reg)] == ["standing still", "kick"]


def test_concurrent_additions_are_all_kept(reg, manifest):
    names = [f"action {i}" for i in range(8)]
    errors = []

    def add(name):
        try:
            registry.add_action(name, [f"does {name}"], path=reg, bundle_manifest=manifest)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert {a.name for a in registry.load_actions(reg)} == set(names) | {a["name"] for a in BUNDLE_ACTIONS}
