"""A ledger that a newer version wrote in a format this version does not know is refused
before anything is written to it: one sentence, exit code 1, the file unchanged."""

from __future__ import annotations

import hashlib
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner
from partnership_ledger_cli.main import cli

from partnership_ledger import PartnershipLedger
from partnership_ledger.errors import StorageError
from partnership_ledger.storage.db import FORMAT_VERSION


def ledger_of_format(path: Path, value: str) -> Path:
    with PartnershipLedger.open(path) as ledger:
        ledger.register_party("a", "A", "npo")
    with closing(sqlite3.connect(path)) as con, con:
        con.execute("UPDATE ledger_meta SET value=? WHERE name='format'", (value,))
    return path


def test_the_ledgers_own_format_opens_to_write(tmp_path: Path) -> None:
    with PartnershipLedger.open(ledger_of_format(tmp_path / "l.sqlite", FORMAT_VERSION)) as ledger:
        ledger.register_party("b", "B", "npo")
        assert ledger.keys("party") == ["a", "b"]


def test_a_newer_format_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    path = ledger_of_format(tmp_path / "l.sqlite", "2")
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(StorageError, match="the ledger is in format 2, which this version"):
        PartnershipLedger.open(path)
    result = CliRunner().invoke(
        cli, ["--db", str(path), "record", '{"op": "register_party", "key": "b", "name": "B", "sector": "npo"}']
    )
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "the ledger is in format 2, which this version of partnership-ledger does not know" in result.output
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
