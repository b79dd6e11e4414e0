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


def test_help_has_no_python_type_placeholders():
    for command in (["classify"], ["annotate"], ["live"], ["actions", "add"], ["worker"], ["pose"]):
        result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        for placeholder in ("<bool>", "<list[", "<path>", "<str>", "<int", "{files}", "{name}"):
            assert placeholder not in result.output, (command, placeholder, result.output)
    usage = runner.invoke(app, ["classify", "--help"], env={"COLUMNS": "200"}).output
    assert "Usage: actzero classify [OPTIONS] FILES..." in usage
