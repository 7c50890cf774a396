"""Compares a stored table with the one recomputed from the events (both in one SQLite
connection) and names the first difference in key order by table, key, field, stored and
recomputed value."""

from __future__ import annotations

import sqlite3
from typing import Any

import attrs


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


def columns(con: sqlite3.Connection, schema: str, table: str) -> tuple[list[str], list[str]]:
    """The columns of a table in order and its primary key's in key order ([] if there is no table)."""
    rows = con.execute(f"PRAGMA {schema}.table_info({table})").fetchall()
    return [r[1] for r in rows], [r[1] for r in sorted((r for r in rows if r[5]), key=lambda r: r[5])]


def compare_table(con: sqlite3.Connection, stored: str, table: str, count: bool) -> tuple[Difference | None, int]:
    """Compare ``table`` as stored (in the schema ``stored``) with the recomputed one (in
    ``main``): the first difference, and how many rows differ (with ``count``; else 0 or 1).

    SQLite finds the differing rows (``EXCEPT``, both ways, in C); a row differs in value or
    in storage type. Their keys are taken in SQLite's order (NULL, numbers, text, blobs)."""
    names, pk = columns(con, "main", table)
    stored_names = columns(con, stored, table)[0]
    if not stored_names:
        return Difference(table, {}, None, None, f"table {table}"), 1
    if stored_names != names:
        return Difference(table, {}, "(columns)", ", ".join(stored_names), ", ".join(names)), 1
    names = [*pk, *(c for c in names if c not in pk)]
    cols, key = ", ".join(names), ", ".join(pk or names)
    a, b = f"{stored}.{table}", f"main.{table}"
    differing = (
        f"SELECT {key} FROM (SELECT {cols} FROM {a} EXCEPT SELECT {cols} FROM {b}) "
        f"UNION SELECT {key} FROM (SELECT {cols} FROM {b} EXCEPT SELECT {cols} FROM {a})"
    )
    first = con.execute(f"{differing} ORDER BY {key} LIMIT 1").fetchone()
    if first is None:
        return None, 0
    n = con.execute(f"SELECT COUNT(*) FROM ({differing})").fetchone()[0] if count else 1
    where = " AND ".join(f"{k} IS ?" for k in pk or names)
    row = {side: con.execute(f"SELECT {cols} FROM {side} WHERE {where}", first).fetchone() for side in (a, b)}
    x, y = row[a], row[b]
    at = dict(zip(pk or names, first, strict=True))
    if x is None or y is None:
        return Difference(table, at, None, x, y), n
    for name, u, v in zip(names, x, y, strict=True):
        if u != v or type(u) is not type(v):
            return Difference(table, at, name, u, v), n
    return Difference(table, at, None, x, y), n  # (equal to Python, not to SQLite: 1 and 1.0)
