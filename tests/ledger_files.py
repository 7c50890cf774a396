"""Ledger files for the tests that copy or edit the SQLite file itself: written from a journal,
with the write-ahead log folded into the file so that copying the one file copies the ledger."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from partnership_ledger.application import PartnershipLedger


def fold_wal(path: Path) -> Path:
    """Checkpoint the write-ahead log of the SQLite ledger at ``path`` into its file (without
    waiting on the disk: the tests read the file back, they do not survive a power cut)."""
    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return path


def ledger_file(path: Path, journal: bytes | str) -> Path:
    """A new ledger at ``path`` holding ``journal``, its write-ahead log folded into the file."""
    with PartnershipLedger.open(path) as ledger:
        ledger.import_journal(journal)
    return fold_wal(path)
