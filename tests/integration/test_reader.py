"""The quick reader of the read models (``ReadModelReader``) and the CLI's use of it.

``balance``, ``voice``, ``targets`` and ``evaluations`` answer from the read models alone
when they are current, without importing the event store; the central property that the
reader answers exactly what the full ledger answers is in ``test_read_models.py``. Here: the
demo, when the reader must step aside (read models behind, encrypted ledger, a key set, a
missing or foreign file, a PostgreSQL URL, ``as_of``), and that the CLI's quick path really
skips the event store.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from partnership_ledger_cli.main import cli

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.errors import LedgerError, UnknownKey
from partnership_ledger.queries.indicators import ReadModelReader

QUERIES = ("burden_balance", "voice", "target_progress", "evaluation_summary")


def test_reader_answers_what_the_ledger_answers_on_the_demo(demo_db: str) -> None:
    with PartnershipLedger.open(demo_db, create=False) as ledger:
        keys = ledger.keys("partnership")
        want = {
            (q, k, children): getattr(ledger, q)(k, include_children=children)
            for q in QUERIES
            for k in keys
            for children in (False, True)
        }
        years = {
            (k, fy): ledger.burden_balance(k, fiscal_year=fy, basis="pledged") for k in keys for fy in (2008, 2009)
        }
    reader = ReadModelReader.open_current(demo_db)
    assert reader is not None
    with reader:
        assert reader.keys("partnership") == keys
        for (q, k, children), expected in want.items():
            assert getattr(reader, q)(k, include_children=children) == expected, (q, k, children)
        for (k, fy), expected in years.items():
            assert reader.burden_balance(k, fiscal_year=fy, basis="pledged") == expected


def test_reader_refuses_what_the_ledger_refuses(demo_db: str) -> None:
    reader = ReadModelReader.open_current(demo_db)
    assert reader is not None
    with reader, PartnershipLedger.open(demo_db, create=False) as ledger:
        for key in ("no-such-thing", "npo-puppets"):
            with pytest.raises(UnknownKey) as from_ledger:
                ledger.burden_balance(key)
            with pytest.raises(UnknownKey) as from_reader:
                reader.burden_balance(key)
            assert str(from_reader.value) == str(from_ledger.value)
        with pytest.raises(LedgerError, match="basis must be delivered or pledged"):
            reader.voice("puppet-tour", basis="promised")
        with pytest.raises(LedgerError, match="as_of needs the events"):
            reader.burden_balance("puppet-tour", as_of="2010-01-01")


def test_reader_steps_aside_when_the_read_models_are_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "l.sqlite"
    with PartnershipLedger.open(db) as ledger:
        ledger.register_party("npo-a", "NPO A", "npo")
    assert ReadModelReader.open_current(db) is not None
    # A writer that leaves the read models to a `follow` process: the events move ahead.
    monkeypatch.setenv("PARTNERSHIP_LEDGER_READ_MODELS", "follow")
    with PartnershipLedger.open(db) as ledger:
        ledger.register_party("npo-b", "NPO B", "npo")
    assert ReadModelReader.open_current(db) is None
    monkeypatch.delenv("PARTNERSHIP_LEDGER_READ_MODELS")
    with PartnershipLedger.open(db):  # opening catches the read models up
        pass
    reader = ReadModelReader.open_current(db)
    assert reader is not None
    with reader:
        assert reader.keys("party") == ["npo-a", "npo-b"]


def test_reader_steps_aside_for_anything_unusual(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert ReadModelReader.open_current(tmp_path / "missing.sqlite") is None
    assert ReadModelReader.open_current(tmp_path) is None  # a folder
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")
    assert ReadModelReader.open_current(empty) is None
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    assert ReadModelReader.open_current(junk) is None
    foreign = tmp_path / "foreign.sqlite"
    sqlite3.connect(foreign).execute("CREATE TABLE t (x)").connection.commit()
    assert ReadModelReader.open_current(foreign) is None
    assert ReadModelReader.open_current("postgresql://u:p@127.0.0.1:1/none") is None
    db = tmp_path / "l.sqlite"
    with PartnershipLedger.open(db) as ledger:
        ledger.register_party("npo-a", "NPO A", "npo")
    assert ReadModelReader.open_current(db) is not None
    with sqlite3.connect(db) as con:  # a ledger of another format is not read as this one
        con.execute("UPDATE ledger_meta SET value='0' WHERE name='format'")
    assert ReadModelReader.open_current(db) is None
    with sqlite3.connect(db) as con:
        con.execute("UPDATE ledger_meta SET value='1' WHERE name='format'")
    # With a key set, the full ledger must check it against the file: no quick answers.
    monkeypatch.setenv("PARTNERSHIP_LEDGER_CIPHER_KEY", "x" * 44)
    assert ReadModelReader.open_current(db) is None


def test_reader_steps_aside_for_an_encrypted_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("Crypto")
    from partnership_ledger import generate_cipher_key

    monkeypatch.setenv("PARTNERSHIP_LEDGER_CIPHER_KEY", generate_cipher_key())
    db = tmp_path / "secret.sqlite"
    with PartnershipLedger.open(db) as ledger:
        ledger.register_party("npo-a", "NPO A", "npo")
    monkeypatch.delenv("PARTNERSHIP_LEDGER_CIPHER_KEY")
    assert ReadModelReader.open_current(db) is None
    # And the CLI still says what is wrong, through the full ledger.
    result = CliRunner().invoke(cli, ["--db", str(db), "balance", "anything"])
    assert result.exit_code == 1
    assert "the ledger is encrypted" in result.stderr


def _run_cli(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a fresh interpreter that reports, after the command, whether it imported
    the event store's application module."""
    code = (
        "import sys\n"
        "from partnership_ledger_cli.main import cli\n"
        "try:\n"
        f"    cli.main(args={['--db', str(db), *args]!r}, prog_name='partnership-ledger')\n"
        "except SystemExit as e:\n"
        "    status = e.code\n"
        "print('EVENTSTORE' if 'eventsourcing.application' in sys.modules else 'QUICK', file=sys.stderr)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARTNERSHIP_LEDGER_")}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)


@pytest.mark.parametrize("command", ["balance", "voice", "targets", "evaluations"])
def test_cli_indicators_skip_the_event_store_when_current(demo_db: str, command: str) -> None:
    quick = _run_cli(Path(demo_db), command, "th-lsp", "--include-children", "--json")
    assert quick.stderr.strip().endswith("QUICK"), quick.stderr
    with PartnershipLedger.open(demo_db, create=False) as ledger:
        method = {"balance": "burden_balance", "targets": "target_progress", "evaluations": "evaluation_summary"}
        want = getattr(ledger, method.get(command, command))("th-lsp", include_children=True)
    assert json.loads(quick.stdout) == json.loads(json.dumps(want, default=str))


def test_cli_as_of_goes_through_the_full_ledger(demo_db: str) -> None:
    full = _run_cli(Path(demo_db), "balance", "puppet-tour", "--as-of", "2999-01-01", "--json")
    assert full.stderr.strip().endswith("EVENTSTORE"), full.stderr
    quick = _run_cli(Path(demo_db), "balance", "puppet-tour", "--json")
    got, now = json.loads(full.stdout), json.loads(quick.stdout)
    assert got.pop("as_of")
    assert now.pop("as_of") is None
    assert got == now
