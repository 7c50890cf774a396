"""Running the CLI in the tests through click's CliRunner (``tests/conftest.py``'s autouse
``clean_env`` removes the shell's ledger settings first, ``demo_db`` gives the demo ledger)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from partnership_ledger_cli.main import cli


def invoke(
    args: Sequence[str | Path],
    *,
    db: str | Path | None = None,
    input: Any = None,
    env: Mapping[str, str | None] | None = None,
) -> Result:
    """Run the CLI with ``args`` (after ``--db db`` when given); an exception that is not a
    clean exit fails the test with its traceback."""
    full = [str(arg) for arg in args]
    if db is not None:
        full = ["--db", str(db), *full]
    result = CliRunner().invoke(cli, full, input=input, env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result
