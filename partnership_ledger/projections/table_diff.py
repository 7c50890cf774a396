"""Compares a stored table with the one recomputed from the events, row by row in key
order, and names the first difference by table, key, field, stored and recomputed value."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import attrs

from ..storage.db import Db

#: Rows fetched at a time from each side while comparing a table.
FETCH = 5000


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


def _columns_sqlite(con: sqlite3.Connection, schema: str, table: str) -> tuple[list[str], list[str], set[str]]:
    """(columns in order, primary-key columns in key order, text columns) of a table, [] if there is none."""
    rows = con.execute(f"PRAGMA {schema}.table_info({table})").fetchall()
    columns = [r[1] for r in rows]
    pk = [r[1] for r in sorted((r for r in rows if r[5]), key=lambda r: r[5])]
    return columns, pk, {r[1] for r in rows if "TEXT" in str(r[2]).upper()}


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
    a, b = next(stored, None), next(recomputed, None)
    while a is not None or b is not None:
        ka = None if a is None else [_rank(v) for v in a[:key_len]]
        kb = None if b is None else [_rank(v) for v in b[:key_len]]
        diff: Difference | None = None
        if a is not None and (kb is None or (ka is not None and ka < kb)):  # only stored
            diff = Difference(table, dict(zip(names[:key_len], a, strict=False)), None, a, None)
            a = next(stored, None)
        elif b is not None and (ka is None or (kb is not None and kb < ka)):  # only recomputed
            diff = Difference(table, dict(zip(names[:key_len], b, strict=False)), None, None, b)
            b = next(recomputed, None)
        else:  # the same key: the first field that differs in value or in type
            assert a is not None
            assert b is not None
            for name, x, y in zip(names, a, b, strict=True):
                if x != y or type(x) is not type(y):
                    diff = Difference(table, dict(zip(names[:key_len], a, strict=False)), name, x, y)
                    break
            a, b = next(stored, None), next(recomputed, None)
        if diff is not None:
            changed += 1
            first = first or diff
            if not count:
                break
    return first, changed


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


def compare_table(
    con: sqlite3.Connection, source: Db, src: str | None, table: str, count: bool
) -> tuple[Difference | None, int]:
    """Compare the stored ``table`` with the recomputed one (in ``con``'s main file): the first
    difference, and how many rows differ. ``src``: the schema the stored table is attached
    as (an SQLite ledger), or None to read it from ``source`` (PostgreSQL)."""
    columns, pk, text = _columns_sqlite(con, "main", table)
    stored_columns = _columns_pg(source, table) if src is None else _columns_sqlite(con, src, table)[0]
    if not stored_columns:
        return Difference(table, {}, None, None, f"table {table}"), 1
    if stored_columns != columns:
        return Difference(table, {}, "(columns)", ", ".join(stored_columns), ", ".join(columns)), 1
    names = [*pk, *(c for c in columns if c not in pk)]
    cols = ", ".join(names)
    if src is not None:
        # Most tables are equal: SQLite finds that in C; only a table that differs is walked.
        (n,) = con.execute(
            f"SELECT EXISTS (SELECT {cols} FROM {src}.{table} EXCEPT SELECT {cols} FROM main.{table}) "
            f"OR EXISTS (SELECT {cols} FROM main.{table} EXCEPT SELECT {cols} FROM {src}.{table})"
        ).fetchone()
        if not n:
            return None, 0
        order = ", ".join(names)
        stored = con.execute(f"SELECT {cols} FROM {src}.{table} ORDER BY {order}")  # (fetched as walked)
        recomputed = con.execute(f"SELECT {cols} FROM main.{table} ORDER BY {order}")
        return _merge(table, names, len(pk), stored, recomputed, count)
    order_pg = ", ".join(f'{n} COLLATE "C" NULLS FIRST' if n in text else f"{n} NULLS FIRST" for n in names)
    # A transaction (writing nothing) at REPEATABLE READ: every page of the table from one
    # snapshot (a read outside a transaction sees each statement's own).
    with source.transaction(commit=True) as c:
        c.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        recomputed = con.execute(f"SELECT {cols} FROM main.{table} ORDER BY {', '.join(names)}")
        return _merge(table, names, len(pk), _rows_pg(c, table, order_pg, cols), recomputed, count)
