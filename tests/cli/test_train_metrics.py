"""`actzero train --metrics`: what the manifest keeps of either kind of evaluation results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from actzero.cli.train import manifest_metrics

REPO = Path(__file__).resolve().parents[2]


def test_cross_source_results_keep_the_mean_and_each_source_per_variant() -> None:
    results = json.loads((REPO / "docs" / "results" / "cross-source" / "limbs_cosine_cpu.json").read_text())
    kept = manifest_metrics(results)
    assert kept["protocol"] == "cross-source" and kept["command"] == results["command"]
    assert kept["mean"] == results["mean"]
    assert set(kept["zsl_clip_balanced"]) == set(results["sources"])
    nw = results["sources"]["nw-ucla"]["variants"]["full"]["zsl"]["clip_balanced"]
    assert kept["zsl_clip_balanced"]["nw-ucla"]["full"] == nw


def test_bandai_split_results_keep_their_summary_and_anything_else_is_refused() -> None:
    assert manifest_metrics({"summary": {"full": {"zsl": 0.4}}, "runs": []}) == {"full": {"zsl": 0.4}}
    with pytest.raises(KeyError):
        manifest_metrics({"config": {}})


def test_the_train_command_defaults_are_the_shipped_bundles_recipe() -> None:
    import inspect

    import typer

    from actzero.cli.main import app
    from actzero.cli.train import backbone_recipe

    command = typer.main.get_command(app).commands["train"]
    defaults = {p.name: p.default for p in command.params}
    options = inspect.signature(backbone_recipe).parameters
    recipe = backbone_recipe(**{name: defaults[name] for name in options if name in defaults})
    manifest = json.loads((REPO / "model" / "assets" / "default_bundle" / "manifest.json").read_text())
    assert defaults["epochs"] == 0  # the TrainConfig schedule
    assert json.loads(json.dumps(recipe.to_dict())) == manifest["training"]["config"]
