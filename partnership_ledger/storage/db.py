"""A small SQL adapter shared by the read models, the indexes and verification.

SQL is written once with ``?`` placeholders; the adapter converts it for PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

#: The ledger's format (``ledger_meta.format``): a ledger of another format is not read as this one.
FORMAT_VERSION = "1"


class Cursor(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...
    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...
    def fetchone(self) -> tuple[Any, ...] | None: ...
    def fetchall(self) -> list[tuple[Any, ...]]: ...
    @property
    def rowcount(self) -> int: ...


_READ_MODEL_DDL = re.compile(
    r"^(\s*CREATE\s+(?:UNIQUE\s+)?(?:TABLE|INDEX)\s+(?:IF\s+NOT\s+EXISTS\s+)?)(rm_\w+|ledger_tracking)\b", re.I
)


def in_schema(sql: str, schema: str | None) -> str:
    """``sql`` creating a read-model table or index in ``schema`` (the read models kept in
    memory: docs/privacy.md); anything else as it is. Other statements find the tables by
    name: SQLite looks in the attached schema when the file has no table of that name."""
    if schema is None or sql.lstrip()[:6].upper() != "CREATE":
        return sql
    return _READ_MODEL_DDL.sub(lambda m: f"{m.group(1)}{schema}.{m.group(2)}", sql, count=1)


def _values(row: Any) -> tuple[Any, ...]:
    """A row's values, from a cursor of tuple rows or of dict rows (psycopg's, as the recorder's
    write session on PostgreSQL gives them)."""
    return tuple(row.values()) if isinstance(row, dict) else tuple(row)


class TupleRows:
    """What the cursor adapters share: a driver's cursor (``_c``) whose rows come back as tuples."""

    _c: Any

    def fetchone(self) -> tuple[Any, ...] | None:
        row = self._c.fetchone()
        return _values(row) if row is not None else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [_values(r) for r in self._c.fetchall()]


class SQLiteCursorAdapter(TupleRows):
    def __init__(self, cursor: Any, schema: str | None = None) -> None:
        self._c = cursor
        self._schema = schema

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        if self._schema is not None:
            sql = in_schema(sql, self._schema)
        self._c.execute(sql, tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._c.executemany(sql, rows)

    @property
    def rowcount(self) -> int:
        return int(self._c.sqlite_cursor.rowcount)


class Db:
    """Transactions on the ledger's own database (the same one eventsourcing writes)."""

    backend = "sqlite"
    #: The column of ``events_table`` that holds an event's position (notification id).
    position_col = "rowid"

    def __init__(self, datastore: Any, events_table: str = "stored_events") -> None:
        self.datastore = datastore
        #: eventsourcing's table of stored events (its name differs between backends).
        self.events_table = events_table
        #: The schema of the read models when they are kept in memory (None: in the file).
        self.memory_schema: str | None = None

    @contextmanager
    def transaction(self, *, commit: bool = True) -> Iterator[Cursor]:
        with self.datastore.transaction(commit=commit) as c:
            yield SQLiteCursorAdapter(c, self.memory_schema)

    def script(self, statements: Sequence[str]) -> None:
        with self.transaction() as c:
            for s in statements:
                c.execute(s)
