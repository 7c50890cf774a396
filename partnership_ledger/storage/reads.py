"""The ledger's own reads of its stored events and indexes (``ledger_ops``, ``ledger_keys``):
positions, counts, rows, key kinds and recorded operations. SQL with ``?`` placeholders, for
both backends, through :class:`~partnership_ledger.storage.db.Db`. Light (no event-store
import): the CLI's quick read-model answers use it too."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from .db import SQLITE_STORED_TYPES, Cursor, Db

#: Values bound in one ``IN (...)`` list (SQLite's limit on bound values is far above it).
CHUNK = 500


def last_position(db: Db, c: Cursor | None = None) -> int:
    """The position of the last stored event (0: none)."""
    with db.reading(c) as c:
        c.execute(f"SELECT MAX({db.position_col}) FROM {db.events_table}")
        row = c.fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def event_count(db: Db) -> int:
    with db.transaction(commit=False) as c:
        c.execute(f"SELECT COUNT(*) FROM {db.events_table}")
        row = c.fetchone()
        return int(row[0]) if row else 0


#: The columns of a stored event that the ledger reads back, after its position.
EVENT_COLUMNS = "originator_id, originator_version, topic, state"


def event_rows(db: Db, after: int, limit: int) -> list[tuple[Any, ...]]:
    """Up to ``limit`` stored events after position ``after``, in order:
    ``(position, originator_id, originator_version, topic, state)``."""
    col, table = db.position_col, db.events_table
    with db.transaction(commit=False) as c:
        c.execute(f"SELECT {col}, {EVENT_COLUMNS} FROM {table} WHERE {col} > ? ORDER BY {col} LIMIT ?", (after, limit))
        return c.fetchall()


def event_rows_at(c: Cursor, db: Db, positions: Sequence[int]) -> dict[int, tuple[Any, ...]]:
    """The stored events at ``positions`` (at most :data:`CHUNK`), by position."""
    col, table = db.position_col, db.events_table
    marks = ",".join("?" * len(positions))
    c.execute(f"SELECT {col}, {EVENT_COLUMNS} FROM {table} WHERE {col} IN ({marks})", list(positions))
    return {int(r[0]): r for r in c.fetchall()}


def kind_of_key(db: Db, key: str, c: Cursor | None = None) -> str | None:
    """Which kind of thing ``key`` names (party, partnership...), or None."""
    with db.reading(c) as c:
        return kinds_of_keys(c, [key]).get(key)


def kinds_of_keys(c: Cursor, keys: Sequence[str]) -> dict[str, str]:
    """The kinds of those of ``keys`` that the ledger holds."""
    return dict(_in_chunks(c, "SELECT key, kind FROM ledger_keys WHERE key IN ({})", keys))


def recorded_ops(c: Cursor, op_ids: Sequence[str]) -> list[tuple[str, int]]:
    """``(op_id, position)`` of those of ``op_ids`` that the operation index holds."""
    return _in_chunks(c, "SELECT op_id, position FROM ledger_ops WHERE op_id IN ({})", op_ids)


def _in_chunks(c: Cursor, sql: str, values: Sequence[str]) -> list[tuple[Any, Any]]:
    """The rows of ``sql`` (its ``IN ({})`` list filled) for every value, :data:`CHUNK` at a time."""
    found: list[tuple[Any, Any]] = []
    for i in range(0, len(values), CHUNK):
        chunk = values[i : i + CHUNK]
        c.execute(sql.format(",".join("?" * len(chunk))), chunk)
        found.extend((r[0], r[1]) for r in c.fetchall())
    return found


def holds_no_index_rows(c: Cursor) -> bool:
    """Whether the operation and key indexes are both empty (a new ledger)."""
    c.execute("SELECT EXISTS (SELECT 1 FROM ledger_ops), EXISTS (SELECT 1 FROM ledger_keys)")
    row = c.fetchone()
    return row is not None and not row[0] and not row[1]


def origin_of_op(db: Db, op_id: str, c: Cursor | None = None) -> uuid.UUID | None:
    """The originator id of an operation's first event (the aggregate it was recorded on)."""
    col, table = db.position_col, db.events_table
    with db.reading(c) as c:
        c.execute(
            f"SELECT e.originator_id FROM ledger_ops o JOIN {table} e ON e.{col} = o.position WHERE o.op_id = ?",
            (op_id,),
        )
        row = c.fetchone()
    return uuid.UUID(str(row[0])) if row else None


def originators_between(db: Db, after: int, until: int) -> Iterator[uuid.UUID]:
    """The aggregates that events at positions in ``(after, until]`` changed."""
    col, table = db.position_col, db.events_table
    with db.transaction(commit=False) as c:
        c.execute(f"SELECT DISTINCT originator_id FROM {table} WHERE {col} > ? AND {col} <= ?", (after, until))
        rows = c.fetchall()
    return (uuid.UUID(str(r[0])) for r in rows)


def pledges_of(db: Db, partnership: str, party: str, c: Cursor | None = None) -> list[str]:
    """The contributions a party pledged to a partnership, from the read models."""
    with db.reading(c) as c:
        c.execute("SELECT key FROM rm_contributions WHERE partnership=? AND party=?", (partnership, party))
        return [str(r[0]) for r in c.fetchall()]


def events_of(c: Cursor, db: Db, agg_id: uuid.UUID, after: int) -> list[tuple[int, str, bytes]]:
    """``(version, topic, state)`` of aggregate ``agg_id``'s events after version ``after``,
    in order: the rows the chain covers only, as the event store reads them. With the cursor
    of a write transaction, its own events not committed yet are among them."""
    col, table = db.position_col, db.events_table
    sql = f"SELECT originator_version, topic, state FROM {table} WHERE originator_id=? AND originator_version>?"
    sql += f" AND {col}>0"
    if db.backend == "sqlite":
        sql += f" AND {SQLITE_STORED_TYPES}"
    c.execute(sql + " ORDER BY originator_version", (agg_id.hex if db.backend == "sqlite" else agg_id, after))
    return [(int(r[0]), str(r[1]), bytes(r[2])) for r in c.fetchall()]


def index_sizes(c: Cursor, db: Db, tracking: str) -> tuple[Any, ...] | None:
    """In one statement (one snapshot on PostgreSQL too): the read models' position, the last
    event's, and the rows of the operation index and of the history."""
    col, table = db.position_col, db.events_table
    c.execute(
        "SELECT (SELECT position FROM ledger_tracking WHERE name=?), "
        f"(SELECT MAX({col}) FROM {table}), (SELECT COUNT(*) FROM ledger_ops), (SELECT COUNT(*) FROM rm_history)",
        (tracking,),
    )
    return c.fetchone()


def heads(c: Cursor, db: Db, tracking: str) -> tuple[Any, ...] | None:
    """The read models' position and the last event's."""
    col, table = db.position_col, db.events_table
    sql = f"SELECT (SELECT position FROM ledger_tracking WHERE name=?), (SELECT MAX({col}) FROM {table})"
    c.execute(sql, (tracking,))
    return c.fetchone()
