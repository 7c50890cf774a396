"""``PartnershipLedger.open(path, readonly=True)`` answers what the events give, without
writing to the ledger, even when its read models lag behind its events (kept by a ``follow``
process) or were made by an older version (whose tables lack what this one reads): it then
reads a private copy brought up to date, removed when the ledger closes. ``as_stored=True``
reads the read models as they are stored (what ``verify`` and ``info`` look at)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.demo import demo_journal_bytes
from partnership_ledger.errors import LedgerError

OLD = Path(__file__).resolve().parents[1] / "data" / "before-shape" / "every-op.sqlite"


def written(db: Path) -> tuple[bytes, bytes]:
    """The ledger file's bytes and its write-ahead log's."""
    wal = Path(f"{db}-wal")
    return db.read_bytes(), wal.read_bytes() if wal.exists() else b""


def answers(ledger: PartnershipLedger) -> tuple[object, ...]:
    partnerships = [p["key"] for p in ledger.partnerships()]
    return (
        ledger.history(),
        ledger.parties(),
        [ledger.burden_balance(p) for p in partnerships],
        [ledger.voice(p) for p in partnerships],
    )


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where private copies go (checked empty once the ledger is closed)."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_an_older_layout_answers_from_a_private_copy(tmp_path: Path, scratch: Path) -> None:
    db, reference = tmp_path / "old.sqlite", tmp_path / "reference.sqlite"
    shutil.copy(OLD, db)
    shutil.copy(OLD, reference)
    with PartnershipLedger.open(reference) as ledger:  # opened to write: its read models made anew
        want = answers(ledger)
        events = ledger.info()["events"]
    before = written(db)
    with PartnershipLedger.open(db, readonly=True) as ledger:
        assert ledger.private_copy_lag == events  # an older layout: none of them applied
        assert answers(ledger) == want
        assert ledger.info()["location"] == str(db.resolve())
        assert list(scratch.iterdir())
    assert not list(scratch.iterdir())  # the copy is removed when the ledger closes
    assert written(db) == before  # nothing written to the ledger


def test_lagging_read_models_answer_what_the_events_give(
    tmp_path: Path, scratch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "ledger.sqlite"
    with PartnershipLedger.open(db) as ledger:
        ledger.import_journal(demo_journal_bytes())
    monkeypatch.setenv("PARTNERSHIP_LEDGER_READ_MODELS", "follow")  # recording leaves them behind
    with PartnershipLedger.open(db) as ledger:
        ledger.register_party("npo-late", "NPO Late", "npo")
        lag = ledger.info()["read_model_lag"]
    assert lag > 0
    monkeypatch.delenv("PARTNERSHIP_LEDGER_READ_MODELS")
    reference = tmp_path / "reference.sqlite"
    shutil.copy(db, reference)
    if Path(f"{db}-wal").exists():
        shutil.copy(f"{db}-wal", f"{reference}-wal")
    with PartnershipLedger.open(reference) as ledger:  # caught up when opened to write
        want = answers(ledger)
    assert "npo-late" in {p["key"] for p in want[1]}  # type: ignore[attr-defined]
    before = written(db)
    with PartnershipLedger.open(db, readonly=True) as ledger:
        assert ledger.private_copy_lag == lag
        assert answers(ledger) == want
        assert ledger.info()["read_model_lag"] == 0
        with pytest.raises(LedgerError):
            ledger.register_party("npo-lost", "NPO Lost", "npo")  # a copy: recording is refused
    assert not list(scratch.iterdir())
    assert written(db) == before
    with PartnershipLedger.open(db, readonly=True, as_stored=True) as ledger:
        assert ledger.private_copy_lag is None
        assert ledger.info()["read_model_lag"] == lag  # the ledger's own are as they were


def test_current_read_models_are_read_in_place(tmp_path: Path, scratch: Path) -> None:
    db = tmp_path / "ledger.sqlite"
    with PartnershipLedger.open(db) as ledger:
        ledger.import_journal(demo_journal_bytes())
        want = answers(ledger)
    with PartnershipLedger.open(db, readonly=True) as ledger:
        assert ledger.private_copy_lag is None
        assert answers(ledger) == want
        assert not list(scratch.iterdir())


def test_read_models_without_a_tracking_table_answer_from_a_copy(tmp_path: Path, scratch: Path) -> None:
    import sqlite3

    db = tmp_path / "ledger.sqlite"
    with PartnershipLedger.open(db) as ledger:
        ledger.import_journal(demo_journal_bytes())
        want = answers(ledger)
        events = ledger.info()["events"]
    with sqlite3.connect(db) as con:
        con.execute("DROP TABLE ledger_tracking")
    con.close()
    before = written(db)
    with PartnershipLedger.open(db, readonly=True) as ledger:
        assert ledger.private_copy_lag == events
        assert answers(ledger) == want
    assert written(db) == before
