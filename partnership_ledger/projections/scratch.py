"""The scratch SQLite file that ``verify`` replays a ledger's events into, with the ledger's
own projection code, to recompute its read models and its operation and key indexes."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..storage.db import Db
from ..storage.sqlite import _FileStore, read_only_uri, sqlite_uri
from .runner import AggregateInfo, Projections

if TYPE_CHECKING:
    from ..application import PartnershipLedger

#: Events copied at a time into the scratch file when the ledger is not an SQLite file.
COPY_BATCH = 5000
#: The indexes kept with the events: recomputed by :class:`IndexModel`.
INDEX_TABLE_NAMES = ("ledger_ops", "ledger_keys")


class IndexModel:
    """Recomputes the operation and key indexes from the events (scratch use only).

    ``ledger_ops``: each operation id at the position of the first event carrying it (every
    event carries its operation's id in ``meta``, and the events are chained); ``ledger_keys``:
    each aggregate's key, kind and id from its first event.
    """

    tables = (
        "CREATE TABLE IF NOT EXISTS ledger_ops (op_id TEXT PRIMARY KEY, position INTEGER NOT NULL)",
        "CREATE TABLE IF NOT EXISTS ledger_keys (key TEXT PRIMARY KEY, kind TEXT NOT NULL, "
        "originator_id TEXT NOT NULL)",
    )
    table_names = INDEX_TABLE_NAMES

    def __init__(self) -> None:
        self._ops: list[tuple[str, int]] = []
        self._keys: list[tuple[str, str, str]] = []
        self._c: Any = None

    def begin(self, c: Any) -> None:
        self._c = c
        self._ops.clear()
        self._keys.clear()

    def apply(self, c: Any, position: int, recorded_at: Any, event: Any, info: AggregateInfo) -> None:
        meta = getattr(event, "meta", None)
        op_id = getattr(meta, "op_id", None)
        if op_id is not None:
            self._ops.append((op_id, position))
        if event.originator_version == 1:
            self._keys.append((info.key, info.kind, event.originator_id.hex))

    def end(self) -> None:
        c = self._c
        if c is not None:
            c.executemany("INSERT INTO ledger_ops VALUES (?,?) ON CONFLICT (op_id) DO NOTHING", self._ops)
            c.executemany("INSERT INTO ledger_keys VALUES (?,?,?) ON CONFLICT (key) DO NOTHING", self._keys)
        self.abort()

    def abort(self) -> None:
        self._ops.clear()
        self._keys.clear()
        self._c = None


class _ScratchStore(_FileStore):
    """A plain SQLite connection to a throwaway file as the datastore of a :class:`Db`."""

    def __init__(self, path: str) -> None:
        # URIs on: the ledger is attached by its URI (read-only).
        self.connection = sqlite3.connect(sqlite_uri(path), uri=True, isolation_level=None, check_same_thread=False)
        # A throwaway file: nothing to keep across a crash.
        self.connection.execute("PRAGMA journal_mode=OFF")
        self.connection.execute("PRAGMA synchronous=OFF")
        self.connection.execute("PRAGMA temp_store=MEMORY")


class _ScratchDb(Db):
    """The scratch file: its events are a view (or copy) named ``scratch_events``."""

    position_col = "position"

    def __init__(self, store: _ScratchStore) -> None:
        super().__init__(store, "scratch_events")


class Scratch:
    """The scratch file and the runner that replays the ledger's events into it."""

    def __init__(self, ledger: PartnershipLedger, path: str) -> None:
        source = ledger.db
        self.store = _ScratchStore(path)
        self.con = self.store.connection
        scratch = _ScratchDb(self.store)
        projections = ledger.read_models_for(scratch)
        models = list(projections.models)
        self.runner = Projections(scratch, projections.mapper, [*models, IndexModel()], projections.info_of)
        # Every scratch table made before the ledger is attached: SQLite looks a table name up
        # in the main file first, so the runner's statements never reach the ledger's tables.
        self.runner.create_tables()
        self._memory = False
        self._sqlite = source.backend == "sqlite"
        if self._sqlite:
            self.con.execute("ATTACH DATABASE ? AS src", (read_only_uri(ledger.location),))
            memory = ledger.env.get("PARTNERSHIP_LEDGER_MEMORY_READ_MODELS")
            if memory:  # an encrypted ledger's read models are kept in memory (docs/privacy.md)
                self.con.execute("ATTACH DATABASE ? AS srcrm", (memory,))
                self._memory = True
        else:
            self.con.execute(
                "CREATE TABLE scratch_copy (position INTEGER PRIMARY KEY, originator_id TEXT, "
                "originator_version INTEGER, topic TEXT, state BLOB)"
            )
        self.rm_tables = tuple(name for m in models for name in m.table_names)
        self.tables = (*self.rm_tables, *INDEX_TABLE_NAMES)
        self.replayed = 0  # the position the scratch read models are at

    def source_schema(self, table: str) -> str | None:
        """The schema the ledger's ``table`` is attached as (None: not an SQLite ledger)."""
        if not self._sqlite:
            return None
        return "srcrm" if self._memory and table not in INDEX_TABLE_NAMES else "src"

    def replay(self, source: Db, upto: int, progress: Callable[[int], None] | None) -> None:
        events_upto(self.con, source, source.backend == "sqlite", upto)
        self.runner.catch_up(progress)
        self.replayed = upto

    def close(self) -> None:
        self.con.close()


def replace_indexes(con: sqlite3.Connection, source: Db, tables: Sequence[str]) -> None:
    """Replace the ledger's ``tables`` (operation, key indexes) by the recomputed ones, at once."""
    with source.transaction() as c:
        for table in tables:
            rows = con.execute(f"SELECT * FROM main.{table}").fetchall()
            c.execute(f"DELETE FROM {table}")
            if rows:
                c.executemany(f"INSERT INTO {table} VALUES ({','.join('?' * len(rows[0]))})", rows)


def events_upto(con: sqlite3.Connection, source: Db, sqlite_source: bool, upto: int) -> None:
    """Make ``scratch_events`` the chained events of the ledger up to position ``upto``."""
    if sqlite_source:
        con.execute("DROP VIEW IF EXISTS temp.scratch_events")
        con.execute(
            "CREATE TEMP VIEW scratch_events AS SELECT rowid AS position, originator_id, originator_version, "
            f"topic, state FROM src.{source.events_table} WHERE rowid > 0 AND rowid <= {int(upto)}"
        )
        return
    (have,) = con.execute("SELECT COALESCE(MAX(position), 0) FROM scratch_copy").fetchone()
    pos, table = source.position_col, source.events_table
    while have < upto:
        with source.transaction(commit=False) as c:
            c.execute(
                f"SELECT {pos}, originator_id, originator_version, topic, state FROM {table} "
                f"WHERE {pos} > ? AND {pos} <= ? ORDER BY {pos} LIMIT ?",
                (have, upto, COPY_BATCH),
            )
            rows = c.fetchall()
        if not rows:
            break
        con.execute("BEGIN")
        con.executemany(
            "INSERT INTO scratch_copy VALUES (?,?,?,?,?)",
            [(p, str(o), v, t, bytes(s)) for p, o, v, t, s in rows],
        )
        con.execute("COMMIT")
        have = rows[-1][0]
    con.execute("DROP VIEW IF EXISTS temp.scratch_events")
    con.execute(f"CREATE TEMP VIEW scratch_events AS SELECT * FROM scratch_copy WHERE position <= {int(upto)}")
