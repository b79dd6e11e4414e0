"""The one atomic-write helper: the target is the old file or the new one, never half of either."""

from __future__ import annotations

import json
import os
import stat
import zipfile

import pytest

from actzero.model import registry
from actzero.model.atomic_write import atomic_path, write_text_atomic


def test_success_replaces_the_file_and_leaves_no_temporary_file(tmp_path) -> None:
    target = tmp_path / "sub" / "out.json"
    write_text_atomic(target, "first\n")
    write_text_atomic(target, "second\r\n")
    assert target.read_bytes() == b"second\r\n"
    assert os.listdir(target.parent) == ["out.json"]


def test_an_exception_mid_write_leaves_the_old_file_intact(tmp_path) -> None:
    target = tmp_path / "data.npz"
    target.write_bytes(b"old contents")
    with pytest.raises(RuntimeError, match="disk on fire"), atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".npz"  # writers may pick the format by suffix
        with zipfile.ZipFile(tmp, "w") as archive:
            archive.writestr("a.npy", b"x" * 1000)
        raise RuntimeError("disk on fire")
    assert target.read_bytes() == b"old contents"
    assert os.listdir(tmp_path) == ["data.npz"]


def test_the_replaced_file_keeps_its_permissions(tmp_path) -> None:
    target = tmp_path / "actions.json"
    target.write_text("{}")
    os.chmod(target, 0o600)
    write_text_atomic(target, "{}\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_a_registry_write_that_fails_keeps_the_old_registry(tmp_path, monkeypatch) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"actions": [{"name": "wave", "descriptions": ["waves a hand"]}]}))
    path = tmp_path / "actions.json"
    registry.add_action("clap", ["claps hands"], path=path, bundle_manifest=manifest)
    before = path.read_bytes()

    def failing_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(registry.RegistryError, match="No space left on device"):
        registry.add_action("kick", ["kicks"], path=path, bundle_manifest=manifest)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["actions.json", "actions.json.lock", "manifest.json"]
