"""The tamper matrix on PostgreSQL (issue 14): every table of a PostgreSQL ledger, read from
``information_schema`` when the test runs (so a new table is covered), gets an edit of each
column, a deletion and an insertion of a row; each is either harmless to what the queries
answer or makes verification (the chain, then the read models) fail. Types cannot change:
PostgreSQL columns are typed. Needs the PostgreSQL test server (see conftest_pg)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from conftest_pg import PgDatabases

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.demo import demo_journal_bytes
from partnership_ledger.errors import LedgerError
from partnership_ledger.integrity import verify_chain
from partnership_ledger.projections.verification import check_read_models

pytestmark = pytest.mark.postgres


def _tables(con: psycopg.Connection[Any]) -> dict[str, list[tuple[str, str]]]:
    rows = con.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
    ).fetchall()
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in rows:
        tables.setdefault(table, []).append((column, kind))
    return tables


def _keys(con: psycopg.Connection[Any], table: str) -> list[str]:
    rows = con.execute(
        "SELECT k.column_name FROM information_schema.table_constraints c "
        "JOIN information_schema.key_column_usage k ON k.constraint_name = c.constraint_name "
        "AND k.table_name = c.table_name WHERE c.table_name = %s AND c.constraint_type = 'PRIMARY KEY' "
        "ORDER BY k.ordinal_position",
        (table,),
    ).fetchall()
    return [r[0] for r in rows]


def _changed(column: str, kind: str) -> str:
    if kind in ("integer", "bigint", "smallint"):
        return f"{column} + 1"
    if kind == "text" or kind.startswith("character"):
        return f"{column} || 'x'"
    if kind == "bytea":
        return f"{column} || '\\x00'::bytea"
    if kind == "uuid":
        return f"md5({column}::text)::uuid"
    if kind == "boolean":
        return f"NOT {column}"
    if kind.startswith("timestamp"):
        return f"{column} + interval '1 second'"
    return f"{column}"  # an unknown type: the case is skipped below


def outputs(url: str) -> Any:
    try:
        with PartnershipLedger.open(url, create=False) as ledger:
            keys = sorted(p["key"] for p in ledger.partnerships())
            return json.loads(
                json.dumps(
                    {
                        "parties": ledger.parties(),
                        "history": ledger.history(),
                        "export": list(ledger.export_operations()),
                        **{f"show {k}": ledger.show(k) for k in keys},
                        **{f"balance {k}": ledger.burden_balance(k) for k in keys},
                        **{f"voice {k}": ledger.voice(k) for k in keys},
                        **{f"targets {k}": ledger.target_progress(k) for k in keys},
                        **{f"evaluations {k}": ledger.evaluation_summary(k) for k in keys},
                    },
                    default=str,
                )
            )
    except LedgerError as e:
        return f"refused: {e}"


def verification_fails(url: str) -> bool:
    try:
        with PartnershipLedger.open(url, create=False, readonly=True) as ledger:
            return not verify_chain(ledger.db).ok or not check_read_models(ledger).ok
    except LedgerError:
        return True


@pytest.fixture(scope="module")
def pg_demo(pg_server: str) -> Iterator[tuple[str, dict[str, tuple[list[str], list[tuple[Any, ...]]]], Any]]:
    databases = PgDatabases(pg_server)
    url = databases.new_url()
    try:
        with PartnershipLedger.open(url) as ledger:
            ledger.import_journal(demo_journal_bytes())
        with psycopg.connect(url) as con:
            saved = {}
            for table, columns in _tables(con).items():
                names = [c for c, _ in columns]
                saved[table] = (names, con.execute(f"SELECT {', '.join(names)} FROM {table}").fetchall())
        assert not verification_fails(url)
        yield url, saved, outputs(url)
    finally:
        databases.drop_all()


def _restore(url: str, saved: dict[str, tuple[list[str], list[tuple[Any, ...]]]]) -> None:
    with psycopg.connect(url) as con:
        for table, (names, rows) in saved.items():
            con.execute(f"DELETE FROM {table}")
            if rows:
                with con.cursor() as c:
                    c.executemany(
                        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(['%s'] * len(names))})", rows
                    )


def _cases(url: str) -> Iterator[tuple[str, str | None, str, str]]:
    """(table, column, op, SQL) for every table and column."""
    with psycopg.connect(url) as con:
        for table, columns in _tables(con).items():
            (n,) = con.execute(f"SELECT COUNT(*) FROM {table}").fetchone() or (0,)
            if not n:
                continue
            middle = f"(SELECT ctid FROM {table} ORDER BY ctid OFFSET {n // 2} LIMIT 1)"
            yield table, None, "delete", f"DELETE FROM {table} WHERE ctid = {middle}"
            keys = _keys(con, table) or [columns[0][0]]
            kinds = dict(columns)
            first = keys[0]
            if kinds[first] in ("integer", "bigint"):
                moved = f"(SELECT LEAST(MIN({first}), 1) - 1 - 5 FROM {table})"
            else:
                moved = _changed(first, kinds[first])
            names = [c for c, _ in columns]
            chosen = ", ".join(moved if c == first else c for c in names)
            yield (
                table,
                None,
                "insert",
                f"INSERT INTO {table} ({', '.join(names)}) SELECT {chosen} FROM {table} WHERE ctid = {middle}",
            )
            for column, kind in columns:
                change = _changed(column, kind)
                if change != column:
                    yield table, column, "edit", f"UPDATE {table} SET {column} = {change} WHERE ctid = {middle}"


def test_every_pg_table_tampered_is_harmless_or_found(
    pg_demo: tuple[str, dict[str, tuple[list[str], list[tuple[Any, ...]]]], Any],
) -> None:
    url, saved, expected = pg_demo
    missed = []
    cases = list(_cases(url))
    assert {c[0] for c in cases} >= {"ledger_chain", "ledger_ops", "ledger_keys", "rm_history", "rm_buckets"}
    for table, column, op, sql in cases:
        try:
            with psycopg.connect(url) as con:
                try:
                    con.execute(sql)
                except psycopg.errors.IntegrityError:
                    continue  # the table itself refuses the change (a duplicate key)
            if not verification_fails(url) and outputs(url) != expected:
                missed.append(f"{op} {table}.{column}")
        finally:
            _restore(url, saved)
    assert missed == [], f"changed what a query answers, and verification passed: {missed}"
