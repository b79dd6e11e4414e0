import subprocess
import sys

from typer.testing import CliRunner

from actzero import __version__
from actzero.cli.main import app

runner = CliRunner()


def test_version_flag_prints_package_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"actzero {__version__}"


def test_help_lists_commands_with_one_line_help():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "data" in result.output


def test_console_script_runs_without_importing_torch():
    code = (
        "import sys; from actzero.cli.main import app; "
        "assert 'torch' not in sys.modules, 'torch imported by the CLI'; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"
