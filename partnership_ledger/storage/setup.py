"""Opening a ledger's storage: checking where it is, the environment that selects it, and the
statements run when it opens (its format row, the rows outside the chain, its info).

:class:`~partnership_ledger.application.PartnershipLedger` calls these; it runs no SQL itself.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import uuid
from contextlib import closing
from pathlib import Path
from typing import Any

from ..config import lock_timeout
from ..errors import IntegrityError, StorageError
from ..integrity import foreign_row
from .cipher import cipher_env, cipher_key
from .db import FORMAT_VERSION, Db
from .sqlite import ENV_MEMORY_READ_MODELS, read_only_uri, sqlite_uri

#: Set by ``PartnershipLedger.open(readonly=True)``: open without writing anything.
ENV_READONLY = "PARTNERSHIP_LEDGER_READONLY"
#: The SQLite file's path (as given), for the ledger's ``location``.
ENV_PATH = "PARTNERSHIP_LEDGER_PATH"
#: The PostgreSQL database's URL without its password, for the ledger's ``location``.
ENV_URL = "PARTNERSHIP_LEDGER_URL"
#: What opening to read only adds to the environment: no table is created, nothing written.
READONLY_ENV = {ENV_READONLY: "1", "CREATE_TABLE": "false"}


def is_postgres(location: str) -> bool:
    return location.startswith(("postgresql://", "postgres://"))


def sqlite_env(path: str, *, readonly: bool = False) -> dict[str, str]:
    """The eventsourcing environment of the SQLite ledger at ``path``."""
    return {
        "PERSISTENCE_MODULE": "partnership_ledger.storage.sqlite:LedgerSQLiteFactory",
        # A URI that names exactly this file ('#' or '?' in its name are part of it).
        "SQLITE_DBNAME": read_only_uri(path) if readonly else sqlite_uri(path),
        ENV_PATH: path,
        **(READONLY_ENV if readonly else {}),
        "SQLITE_LOCK_TIMEOUT": f"{lock_timeout():g}",
        **cipher_env(),  # encryption at rest when PARTNERSHIP_LEDGER_CIPHER_KEY is set
        **memory_read_models(),
    }


def memory_read_models() -> dict[str, str]:
    """With a cipher key the read models (names, titles, amounts...) are kept in memory, out
    of the file: rebuilt from the events at each open (docs/privacy.md)."""
    if cipher_key() is None:
        return {}
    # A shared in-memory database of this process, new for this ledger.
    return {ENV_MEMORY_READ_MODELS: f"file:partnership-ledger-rm-{uuid.uuid4().hex}?mode=memory&cache=shared"}


def check_sqlite_location(path: str, create: bool) -> None:
    """Refuse, in a sentence, a path that is not a ledger (or, without ``create``, is none)."""
    p = Path(path)
    if p.is_dir():
        raise StorageError(f"{path} is a folder, not a ledger file")
    if not p.exists():
        if not create:
            raise StorageError(
                f"there is no ledger at {path}: create one with 'partnership-ledger init' or name another with --db"
            )
        if not p.parent.exists():
            raise StorageError(f"cannot create a ledger at {path}: folder {p.parent} does not exist")
        return
    try:
        with open(p, "rb") as f:
            head = f.read(16)
    except OSError as e:
        raise StorageError(f"cannot read the ledger at {path}: {e.strerror}") from None
    if not head and not create:
        raise StorageError(f"{path} is an empty file, not a ledger: create one with 'partnership-ledger init'")
    if head and head != b"SQLite format 3\x00":
        raise StorageError(f"{path} is not a partnership ledger (it is not an SQLite database)")
    if head:
        try:
            with closing(sqlite3.connect(read_only_uri(p), uri=True)) as con:
                names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        except sqlite3.DatabaseError as e:
            raise StorageError(f"cannot read the ledger at {path}: {e}") from None
        if names and "ledger_meta" not in names:
            raise StorageError(f"{path} is an SQLite database but not a partnership ledger")


def private_copy(path: str) -> tuple[str, str]:
    """A copy of the SQLite ledger at ``path`` in a new temporary folder, as (folder, copy's
    path): one consistent snapshot, taken without a write lock (SQLite's backup)."""
    folder = tempfile.mkdtemp(prefix="partnership-ledger-query-")
    copy = os.path.join(folder, "ledger.sqlite")
    source, target = sqlite3.connect(read_only_uri(path), uri=True), sqlite3.connect(copy)
    try:
        source.backup(target)
    except sqlite3.Error as e:
        shutil.rmtree(folder, ignore_errors=True)
        raise StorageError(f"cannot read the ledger at {path}: {e}") from None
    finally:
        source.close()
        target.close()
    return folder, copy


def init_meta(db: Db) -> None:
    """The ``ledger_meta`` table and its format row; a ledger that a newer version wrote in a
    format this one does not know is refused before anything is written to it."""
    db.script(["CREATE TABLE IF NOT EXISTS ledger_meta (name TEXT PRIMARY KEY, value TEXT)"])
    with db.transaction() as c:
        c.execute("SELECT value FROM ledger_meta WHERE name='format'")
        row = c.fetchone()
        if row is None:
            c.execute("INSERT INTO ledger_meta VALUES ('format', ?) ON CONFLICT (name) DO NOTHING", (FORMAT_VERSION,))
        elif row[0] != FORMAT_VERSION:
            raise StorageError(
                f"the ledger is in format {row[0]}, which this version of partnership-ledger does not know "
                f"(it writes format {FORMAT_VERSION}): a newer version wrote it; upgrade to write to it"
            )


def refuse_rows_outside_the_chain(db: Db) -> None:
    """Never load an event the chain does not cover (a row at a position up to 0, which
    loading an aggregate by its id would read): a quick look at the start of the tables."""
    found = foreign_row(db, outside_only=True)
    if found is not None:
        raise IntegrityError(
            f"tampering found: the row at position {found[0]} {found[1]}; it is not read "
            "(see 'partnership-ledger verify')"
        )


def has_no_events(db: Db) -> bool:
    with db.transaction(commit=False) as c:
        c.execute(f"SELECT {db.position_col} FROM {db.events_table} LIMIT 1")
        return c.fetchone() is None


def drop_file_read_models(db: Db) -> bool:
    """Drop the read models an encrypted ledger made before kept in the file (they are kept in
    memory now), their pages overwritten with zeros. Whether there were any."""
    with db.transaction() as c:
        c.execute(
            "SELECT name FROM main.sqlite_master WHERE type='table' "
            "AND (name LIKE 'rm\\_%' ESCAPE '\\' OR name = 'ledger_tracking')"
        )
        left = [str(r[0]) for r in c.fetchall()]
        if left:
            c.execute("PRAGMA secure_delete=ON")
            for name in left:
                c.execute(f'DROP TABLE main."{name}"')
    return bool(left)


def leave_no_copy(db: Db, path: str | None) -> None:
    """Leave no copy of erased rows in the file: the write-ahead log copied into the database
    (whose freed cells ``secure_delete`` zeroed) and truncated to nothing; on PostgreSQL the
    key tables rewritten without them."""
    if db.backend != "sqlite":
        # PostgreSQL keeps deleted rows in the table's pages until they are rewritten:
        # VACUUM (FULL) writes the two key tables afresh, without them (docs/privacy.md).
        from .postgres import connect_directly

        with connect_directly(db.datastore) as conn:
            conn.execute("VACUUM (FULL) ledger_subjects, ledger_private")
    elif path:
        with closing(sqlite3.connect(sqlite_uri(path), uri=True, isolation_level=None)) as con:
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def storage_info(db: Db) -> dict[str, Any]:
    """How the ledger is stored: the server's version, or SQLite's journal mode and sync level."""
    with db.transaction(commit=False) as c:
        if db.backend == "postgresql":
            c.execute("SHOW server_version")
            return {"server_version": (c.fetchone() or ("?",))[0]}
        c.execute("PRAGMA journal_mode")
        journal_mode = (c.fetchone() or ("?",))[0]
        c.execute("PRAGMA synchronous")
        sync = (c.fetchone() or (None,))[0]
    return {
        "journal_mode": journal_mode,
        "synchronous": {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(sync, str(sync)),
    }


def reason(e: BaseException) -> str:
    """A storage failure in words (a full disk, a lock held by another process...)."""
    text = str(e) or type(e).__name__
    if "database or disk is full" in text:
        return "the disk is full"
    if "database is locked" in text:
        return "the database is locked by another process"
    return text
