"""The servers are commands of the one CLI, and cost `ecolint check` nothing: their libraries are
imported only when a server starts."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO, run_cli


def test_the_servers_are_listed_in_help() -> None:
    shown = run_cli("--help").output
    assert "\n  lsp " in shown and "\n  mcp " in shown


def test_check_imports_no_server_library() -> None:
    probe = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from ecolint.cli import main\n"
        "CliRunner().invoke(main, ['check', 'examples/demo'])\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'pygls', 'lsprotocol', 'mcp', 'pydantic', 'anyio'}))\n"
    )
    ran = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    assert ran.stdout == "[]\n"
