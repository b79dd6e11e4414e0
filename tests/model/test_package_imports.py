"""The package root holds only the version: importing the model loads no stream, training or API code."""

import json
import os
import subprocess
import sys
from types import ModuleType

import pytest

import actzero

HEAVY = ("actzero.api", "actzero.stream", "actzero.training", "actzero.cli")


@pytest.mark.parametrize(
    "statement", ["import actzero", "import actzero.model", "import actzero.model.skeleton"]
)
def test_importing_the_model_loads_no_stream_training_or_api_module(statement):
    code = (
        f"import json, sys; {statement}; print(json.dumps(sorted(m for m in sys.modules if 'actzero' in m)))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    loaded = json.loads(out.stdout)
    assert "actzero" in loaded
    assert [m for m in loaded if m.startswith(HEAVY)] == []


def test_the_root_has_the_version_and_nothing_else():
    own = [n for n, v in vars(actzero).items() if not n.startswith("_") and not isinstance(v, ModuleType)]
    assert own == []  # (subpackages appear as attributes once something imports them)
    assert isinstance(actzero.__version__, str) and actzero.__version__[0].isdigit()
