"""Checks that the read models and indexes hold exactly what the events give.

The read models (history, burden facts, submissions...), the operation index
(``ledger_ops``), the key index (``ledger_keys``) and the tracking row live beside the
events, outside the hash chain: someone who can write the file can change a figure there and
``verify_chain`` would not see it. :func:`check_read_models` recomputes them all into a
scratch SQLite file by replaying the events with the same projection code the ledger uses
(so a new read model or column is covered without changing this module), then compares the
stored tables with the recomputed ones, table by table and row by row, in key order.

The first difference is named by table, key, field, stored value and recomputed value.
With ``count=True`` every table is compared to the end and the rows that differ are
counted per table (what ``rebuild`` reports it repaired).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import attrs

from ..storage.db import Db
from ..storage.sqlite import read_only_uri, sqlite_uri
from .runner import TRACKING_NAME, AggregateInfo, Item, Projections

if TYPE_CHECKING:
    from ..application import PartnershipLedger

#: Rows fetched at a time from each side while comparing a table.
FETCH = 5000
#: Events copied at a time into the scratch file when the ledger is not an SQLite file.
COPY_BATCH = 5000
#: The indexes kept with the events: recomputed by :class:`IndexModel`.
INDEX_TABLE_NAMES = ("ledger_ops", "ledger_keys")


@attrs.frozen
class Difference:
    """The first row where a stored table differs from what the events give."""

    table: str
    key: dict[str, Any]
    field: str | None  # None: the whole row is missing or extra
    stored: Any
    recomputed: Any

    def sentence(self) -> str:
        key = ", ".join(f"{k}={v!r}" for k, v in self.key.items()) or "(no key)"
        if self.field is None:
            if self.stored is None:
                return f"table {self.table} lacks the row {key} that the events give"
            return f"table {self.table} has a row {key} that the events do not give"
        return (
            f"table {self.table}, row {key}, field {self.field}: stored {self.stored!r}, "
            f"but the events give {self.recomputed!r}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "key": {k: _jsonable(v) for k, v in self.key.items()},
            "field": self.field,
            "stored": _jsonable(self.stored),
            "recomputed": _jsonable(self.recomputed),
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return "x'" + bytes(value).hex() + "'"
    return value


@attrs.frozen
class ReadModelCheck:
    """The outcome of :func:`check_read_models`."""

    ok: bool
    position: int  # the position the read models were checked at (their tracking row)
    tables: tuple[str, ...]
    difference: Difference | None = None
    changed: dict[str, int] = attrs.field(factory=dict)  # rows that differ, per table (count=True)
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "position": self.position,
            "tables": list(self.tables),
            "difference": self.difference.to_dict() if self.difference else None,
            "changed": dict(self.changed),
            "message": self.message,
        }


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

    def apply_all(self, c: Any, items: Sequence[Item]) -> None:
        for position, event, info in items:
            self.apply(c, position, event.timestamp, event, info)

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


# -- the scratch store ------------------------------------------------------------------------


class _ScratchStore:
    """A plain SQLite connection as the datastore of a :class:`Db` (see storage.sqlite)."""

    def __init__(self, path: str) -> None:
        # URIs on: the ledger is attached by its URI (read-only).
        self.connection = sqlite3.connect(sqlite_uri(path), uri=True, isolation_level=None, check_same_thread=False)
        # A throwaway file: nothing to keep across a crash.
        self.connection.execute("PRAGMA journal_mode=OFF")
        self.connection.execute("PRAGMA synchronous=OFF")
        self.connection.execute("PRAGMA temp_store=MEMORY")

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[Any]:
        from ..storage.sqlite import _Cursor

        c = self.connection.cursor()
        c.execute("BEGIN")
        try:
            yield _Cursor(c)
        except BaseException:
            if self.connection.in_transaction:
                self.connection.rollback()
            raise
        if commit:
            self.connection.commit()
        elif self.connection.in_transaction:
            self.connection.rollback()


class _ScratchDb(Db):
    """The scratch file: its events are a view (or copy) named ``scratch_events``."""

    position_col = "position"

    def __init__(self, store: _ScratchStore) -> None:
        super().__init__(store, "scratch_events")


def _columns_sqlite(con: sqlite3.Connection, schema: str, table: str) -> tuple[list[str], list[str]]:
    """(columns in order, primary-key columns in key order) of a table, [] if there is none."""
    rows = con.execute(f"PRAGMA {schema}.table_info({table})").fetchall()
    columns = [r[1] for r in rows]
    pk = [r[1] for r in sorted((r for r in rows if r[5]), key=lambda r: r[5])]
    return columns, pk


def _columns_pg(db: Db, table: str) -> list[str]:
    with db.transaction(commit=False) as c:
        c.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "AND table_schema = current_schema() ORDER BY ordinal_position",
            (table,),
        )
        return [str(r[0]) for r in c.fetchall()]


def _rank(value: Any) -> tuple[int, Any]:
    """SQLite's order of values (NULL, numbers, text, blobs), usable on mixed types."""
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, int | float):
        return (1, value)
    if isinstance(value, str):
        return (2, value)  # code point order is UTF-8 byte order
    return (3, bytes(value))


def _merge(
    table: str,
    names: list[str],
    key_len: int,
    stored: Iterator[tuple[Any, ...]],
    recomputed: Iterator[tuple[Any, ...]],
    count: bool,
) -> tuple[Difference | None, int]:
    """Walk two row streams in the same key order: the first difference, and how many rows differ."""
    first: Difference | None = None
    changed = 0
    key_names = names[:key_len]
    a, b = next(stored, None), next(recomputed, None)
    while a is not None or b is not None:
        diff: Difference | None = None
        if a is not None and b is not None:
            ka, kb = [_rank(v) for v in a[:key_len]], [_rank(v) for v in b[:key_len]]
            if ka == kb:
                if a != b or any(type(x) is not type(y) for x, y in zip(a, b, strict=True)):
                    for name, x, y in zip(names, a, b, strict=True):
                        if x != y or type(x) is not type(y):
                            diff = Difference(table, dict(zip(key_names, a, strict=False)), name, x, y)
                            break
                a, b = next(stored, None), next(recomputed, None)
            elif ka < kb:
                diff = Difference(table, dict(zip(key_names, a, strict=False)), None, a, None)
                a = next(stored, None)
            else:
                diff = Difference(table, dict(zip(key_names, b, strict=False)), None, None, b)
                b = next(recomputed, None)
        elif a is not None:
            diff = Difference(table, dict(zip(key_names, a, strict=False)), None, a, None)
            a = next(stored, None)
        else:
            assert b is not None
            diff = Difference(table, dict(zip(key_names, b, strict=False)), None, None, b)
            b = next(recomputed, None)
        if diff is not None:
            changed += 1
            if first is None:
                first = diff
                if not count:
                    break
    return first, changed


def _rows_sqlite(con: sqlite3.Connection, sql: str) -> Iterator[tuple[Any, ...]]:
    cur = con.execute(sql)
    while True:
        rows = cur.fetchmany(FETCH)
        if not rows:
            return
        yield from rows


def _rows_pg(c: Any, table: str, order: str, columns: str) -> Iterator[tuple[Any, ...]]:
    # Keyset pages would need the key's type; OFFSET pages are fine for a check that runs
    # in one snapshot (REPEATABLE READ), and every page is in the same order.
    offset = 0
    while True:
        c.execute(f"SELECT {columns} FROM {table} ORDER BY {order} LIMIT ? OFFSET ?", (FETCH, offset))
        rows = c.fetchall()
        for row in rows:
            yield tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
        if len(rows) < FETCH:
            return
        offset += FETCH


def _tracking(db: Db) -> tuple[int | None, int]:
    """(the read models' tracking position or None, the last event position) as stored."""
    with db.transaction(commit=False) as c:
        try:
            c.execute("SELECT position FROM ledger_tracking WHERE name=?", (TRACKING_NAME,))
            row = c.fetchone()
        except Exception:  # no tracking table
            row = None
        c.execute(f"SELECT MAX({db.position_col}) FROM {db.events_table} WHERE {db.position_col} > 0")
        last = c.fetchone()
    tracked = row[0] if row else None
    return (tracked if isinstance(tracked, int) and not isinstance(tracked, bool) else None), int(
        (last or (0,))[0] or 0
    )


def check_read_models(
    ledger: PartnershipLedger,
    *,
    count: bool = False,
    progress: Callable[[int], None] | None = None,
    scratch_dir: str | None = None,
    repair_indexes: bool = False,
) -> ReadModelCheck:
    """Recompute every read model and index from the events and compare them with the stored ones.

    The read models are compared at the position their tracking row names (a ledger whose
    read models another process keeps, ``follow``, may lag behind its events); the indexes,
    which are written with the events, at the last event. Returns the first difference (or,
    with ``count``, also the number of rows that differ in each table). Reads only: nothing
    of the ledger is changed, unless ``repair_indexes``: then operation and key indexes that
    differ are replaced by the recomputed ones (what ``rebuild`` does; the read models
    themselves it recomputes in place). ``progress`` is called with the number of events replayed.
    """
    from ..errors import IntegrityError
    from ..integrity import foreign_row

    found = foreign_row(ledger.db)
    if found is not None:  # nothing can be recomputed from rows the chain does not vouch for
        raise IntegrityError(f"tampering found: the event row at position {found[0]} {found[1]}")
    folder = tempfile.mkdtemp(prefix="partnership-ledger-verify-", dir=scratch_dir)
    try:
        result = _check(ledger, os.path.join(folder, "scratch.sqlite"), count, progress, repair_indexes)
        return _with_key_table(ledger, result)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _with_key_table(ledger: PartnershipLedger, result: ReadModelCheck) -> ReadModelCheck:
    """The read models' check, failed when the key table (residents' private values, kept
    beside the chain: docs/privacy.md) disagrees with the chain."""
    if not result.ok:
        return result
    problem = ledger.check_key_table()
    if problem is None:
        return result
    diff = Difference("ledger_private", {}, "(key table)", problem, None)
    return attrs.evolve(result, ok=False, difference=diff, message=problem)


class _Scratch:
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
        if source.backend == "sqlite":
            self.con.execute("ATTACH DATABASE ? AS src", (read_only_uri(ledger.location),))
            memory = ledger.env.get("PARTNERSHIP_LEDGER_MEMORY_READ_MODELS")
            if memory:  # an encrypted ledger's read models are kept in memory (docs/privacy.md)
                self.con.execute("ATTACH DATABASE ? AS srcrm", (memory,))
        else:
            self.con.execute(
                "CREATE TABLE scratch_copy (position INTEGER PRIMARY KEY, originator_id TEXT, "
                "originator_version INTEGER, topic TEXT, state BLOB)"
            )
        self.rm_tables = tuple(name for m in models for name in m.table_names)
        self.tables = (*self.rm_tables, *INDEX_TABLE_NAMES)
        self.replayed = 0  # the position the scratch read models are at

    def replay(self, source: Db, upto: int, progress: Callable[[int], None] | None) -> None:
        _events_upto(self.con, source, source.backend == "sqlite", upto)
        self.runner.catch_up(progress)
        self.replayed = upto

    def close(self) -> None:
        self.con.close()


def _check(
    ledger: PartnershipLedger,
    path: str,
    count: bool,
    progress: Callable[[int], None] | None,
    repair_indexes: bool = False,
) -> ReadModelCheck:
    source = ledger.db
    sqlite_source = source.backend == "sqlite"
    scratch: _Scratch | None = None
    try:
        for attempt in range(1, ATTEMPTS + 1):
            tracked, last = _tracking(source)
            if scratch is None or (tracked is not None and tracked < scratch.replayed):
                # (A ledger whose read models lag, kept by a `follow` process, can be checked
                # at a position the scratch is already past: it starts again.)
                if scratch is not None:
                    scratch.close()
                scratch = _Scratch(ledger, f"{path}.{attempt}")
            con, tables = scratch.con, scratch.tables
            if tracked is None:
                diff = Difference("ledger_tracking", {"name": TRACKING_NAME}, None, None, (TRACKING_NAME,))
                return ReadModelCheck(False, 0, tables, diff, {"ledger_tracking": 1}, diff.sentence())
            if tracked > last or tracked < 0:
                diff = Difference("ledger_tracking", {"name": TRACKING_NAME}, "position", tracked, last)
                return ReadModelCheck(
                    False,
                    tracked,
                    tables,
                    diff,
                    {"ledger_tracking": 1},
                    f"{diff.sentence()} (the read models claim events that are not there)",
                )
            changed: dict[str, int] = {}
            first: Difference | None = None
            # Phase 1: the read models, up to their tracking position; phase 2: the indexes,
            # up to the last event (the scratch runner goes on from where it stopped).
            for upto, names in ((tracked, scratch.rm_tables), (last, INDEX_TABLE_NAMES)):
                scratch.replay(source, upto, progress)
                for table in names:
                    found, n = _compare(con, source, sqlite_source, table, count)
                    if n:
                        changed[table] = n
                    if found is not None and first is None:
                        first = found
                        if not count:
                            break
                if first is not None and not count:
                    break
            if first is None:
                return ReadModelCheck(
                    True,
                    tracked,
                    tables,
                    None,
                    changed,
                    f"the read models and indexes ({len(tables)} tables) agree with the events up to "
                    f"position {tracked}",
                )
            # A difference is only meaningful if the ledger did not move on meanwhile (another
            # process recording): else once more, the replay going on from where it is.
            now, now_last = _tracking(source)
            if now == tracked and now_last == last:
                damaged = [t for t in INDEX_TABLE_NAMES if t in changed]
                if repair_indexes and damaged:
                    _replace_indexes(con, source, damaged)
                return ReadModelCheck(False, tracked, tables, first, changed, first.sentence())
        from ..errors import StorageError

        raise StorageError(
            f"the ledger kept changing while its read models were checked ({ATTEMPTS} times, other "
            "processes recording): try again when it is quieter, or use --chain-only"
        )
    finally:
        if scratch is not None:
            scratch.close()


#: Checks started again when other processes recorded meanwhile, before giving up.
ATTEMPTS = 5


def require_read_models(ledger: PartnershipLedger) -> ReadModelCheck:
    """:func:`check_read_models`, raising :class:`IntegrityError` naming the first difference:
    for whatever prints figures it vouches for (``report --verify``)."""
    from ..errors import IntegrityError

    result = check_read_models(ledger)
    if not result.ok:
        raise IntegrityError(
            f"tampering found: a read model differs from the events, so no figure is printed: {result.message} "
            "(run 'partnership-ledger verify' to see it, 'partnership-ledger rebuild' to repair it)"
        )
    return result


def _replace_indexes(con: sqlite3.Connection, source: Db, tables: Sequence[str]) -> None:
    """Replace the ledger's ``tables`` (operation, key indexes) by the recomputed ones, at once."""
    with source.transaction() as c:
        for table in tables:
            rows = con.execute(f"SELECT * FROM main.{table}").fetchall()
            c.execute(f"DELETE FROM {table}")
            if rows:
                c.executemany(f"INSERT INTO {table} VALUES ({','.join('?' * len(rows[0]))})", rows)


def _events_upto(con: sqlite3.Connection, source: Db, sqlite_source: bool, upto: int) -> None:
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


def _compare(
    con: sqlite3.Connection, source: Db, sqlite_source: bool, table: str, count: bool
) -> tuple[Difference | None, int]:
    """Compare the stored ``table`` with the recomputed one: (first difference, rows that differ)."""
    columns, pk = _columns_sqlite(con, "main", table)
    src = "src"
    if (
        sqlite_source
        and table not in INDEX_TABLE_NAMES
        and any(r[1] == "srcrm" for r in con.execute("PRAGMA database_list"))
    ):
        src = "srcrm"  # read models kept in memory
    if sqlite_source:
        stored_columns, _ = _columns_sqlite(con, src, table)
    else:
        stored_columns = _columns_pg(source, table)
    if not stored_columns:
        return Difference(table, {}, None, None, f"table {table}"), 1
    if stored_columns != columns:
        return Difference(table, {}, "(columns)", ", ".join(stored_columns), ", ".join(columns)), 1
    names = [*pk, *(c for c in columns if c not in pk)]
    cols = ", ".join(names)
    if sqlite_source:
        # Most tables are equal: SQLite finds that in C; only a table that differs is walked.
        (n,) = con.execute(
            f"SELECT EXISTS (SELECT {cols} FROM {src}.{table} EXCEPT SELECT {cols} FROM main.{table}) "
            f"OR EXISTS (SELECT {cols} FROM main.{table} EXCEPT SELECT {cols} FROM {src}.{table})"
        ).fetchone()
        if not n:
            return None, 0
        order = ", ".join(names)
        stored = _rows_sqlite(con, f"SELECT {cols} FROM {src}.{table} ORDER BY {order}")
        recomputed = _rows_sqlite(con, f"SELECT {cols} FROM main.{table} ORDER BY {order}")
        return _merge(table, names, len(pk), stored, recomputed, count)
    order_pg = ", ".join(
        f'{n} COLLATE "C" NULLS FIRST' if _is_text(con, table, n) else f"{n} NULLS FIRST" for n in names
    )
    # A transaction (writing nothing) at REPEATABLE READ: every page of the table from one
    # snapshot (a read outside a transaction sees each statement's own).
    with source.transaction(commit=True) as c:
        c.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        recomputed = _rows_sqlite(con, f"SELECT {cols} FROM main.{table} ORDER BY {', '.join(names)}")
        return _merge(table, names, len(pk), _rows_pg(c, table, order_pg, cols), recomputed, count)


def _is_text(con: sqlite3.Connection, table: str, column: str) -> bool:
    for row in con.execute(f"PRAGMA main.table_info({table})"):
        if row[1] == column:
            return "TEXT" in str(row[2]).upper()
    return False
