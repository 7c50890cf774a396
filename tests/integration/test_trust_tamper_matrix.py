"""The tamper matrix (issue 14): every table and column of a ledger, edited, deleted from,
inserted into and given another storage type, is either harmless to what every command
shows or makes the full ``verify`` exit 1.

Generated from the schema (``sqlite_master`` / ``information_schema``): a table or column
added later is covered without editing this file. Each case changes one row of a fresh copy
of the demo ledger, as someone with the file would.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_invoke import invoke
from ledger_files import fold_wal, ledger_file

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.demo import demo_journal_bytes
from partnership_ledger.integrity import verify_chain
from partnership_ledger.projections.verification import check_read_models

OPS = ("edit", "retype", "delete", "insert")


def _invoke(db: Path, *args: str) -> tuple[int, str]:
    result = invoke(args, db=db)
    return result.exit_code, result.stdout


def outputs(db: Path) -> dict[str, Any]:
    """What the query commands show (their JSON, or the refusal's exit code)."""
    seen: dict[str, Any] = {}

    def ask(*args: str) -> Any:
        code, out = _invoke(db, *args)
        seen[" ".join(args)] = out if code == 0 else f"exit {code}"
        return json.loads(out) if code == 0 and args[-1] == "--json" else None

    partnerships = ask("partnerships", "--json") or []
    ask("parties", "--json")
    ask("history", "--json")
    ask("contributions", "--json")
    ask("export")
    for p in sorted(x["key"] for x in partnerships):
        for command in ("show", "balance", "voice", "targets", "evaluations"):
            ask(command, p, "--json")
    return seen


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, dict[str, Any]]:
    path = ledger_file(tmp_path_factory.mktemp("matrix") / "base.sqlite", demo_journal_bytes())
    data = path.read_bytes()
    return data, outputs(path)


def _schema(data: bytes, folder: Path) -> list[tuple[str, list[str], bool]]:
    path = folder / "schema.sqlite"
    path.write_bytes(data)
    con = sqlite3.connect(path)
    tables = []
    for name, sql in con.execute("SELECT name, sql FROM sqlite_master WHERE type='table' ORDER BY name"):
        if name.startswith("sqlite_"):
            continue
        columns = [r[1] for r in con.execute(f"PRAGMA table_info({name})")]
        tables.append((name, columns, "WITHOUT ROWID" not in sql.upper()))
    con.close()
    path.unlink()
    return tables


def _cases() -> Iterator[tuple[str, str | None, str]]:
    folder = Path(os.environ.get("TMPDIR", "/tmp"))
    # The schema of a ledger as the library makes it today, read from a fresh one.
    probe = folder / f"probe-{os.getpid()}.sqlite"
    with PartnershipLedger.open(probe) as ledger:
        ledger.register_party("p", "P", "npo")
    data = fold_wal(probe).read_bytes()
    for suffix in ("", "-wal", "-shm"):
        Path(str(probe) + suffix).unlink(missing_ok=True)
    for table, columns, _ in _schema(data, folder):
        yield table, None, "delete"
        yield table, None, "insert"
        for column in columns:
            yield table, column, "edit"
            yield table, column, "retype"


def _changed(value: Any) -> Any:
    if value is None:
        return "x"
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + "x" if not value.isdigit() else str(int(value) + 1)
    return bytes(value) + b"x"


def _tamper(con: sqlite3.Connection, table: str, column: str | None, op: str, rowid: bool) -> bool:
    """Apply one change to the middle row of ``table``; False if there is no row to change."""
    (n,) = con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
    if n == 0:
        return False
    columns = [r[1] for r in con.execute(f"PRAGMA table_info({table})")]
    pk = [r[1] for r in sorted((r for r in con.execute(f"PRAGMA table_info({table})") if r[5]), key=lambda r: r[5])]
    key_cols = ["rowid"] if rowid else (pk or columns)
    row = con.execute(
        f"SELECT {', '.join(key_cols)}, {', '.join(columns)} FROM {table} ORDER BY {', '.join(key_cols)} "
        f"LIMIT 1 OFFSET {n // 2}"
    ).fetchone()
    key, values = row[: len(key_cols)], dict(zip(columns, row[len(key_cols) :], strict=True))
    where = " AND ".join(f"{k} IS ?" for k in key_cols)
    if op == "delete":
        con.execute(f"DELETE FROM {table} WHERE {where}", key)
    elif op == "insert":
        new = dict(values)
        target = pk[0] if pk else columns[0]
        if rowid and not pk:  # a rowid table without its own key: a copy at another rowid
            con.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                list(new.values()),
            )
            return True
        if isinstance(new[target], int):  # a row before the first: position 0 and below
            (low,) = con.execute(f"SELECT MIN({target}) FROM {table}").fetchone()
            new[target] = min(0, low) - 1
        else:
            new[target] = _changed(new[target])
        cols = list(new)
        con.execute(
            f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", list(new.values())
        )
        if rowid and table == "stored_events":
            con.execute(f"UPDATE {table} SET rowid = -5 WHERE rowid = last_insert_rowid()")
    elif op == "edit":
        try:
            con.execute(f"UPDATE {table} SET {column} = ? WHERE {where}", (_changed(values[column]), *key))
        except sqlite3.IntegrityError:
            return False  # the change is refused by the table itself (a duplicate key)
    else:
        try:
            con.execute(f"UPDATE {table} SET {column} = CAST({column} AS BLOB) WHERE {where}", key)
        except sqlite3.IntegrityError:
            return False  # an INTEGER PRIMARY KEY holds integers only
    return True


def _verify_fails(path: Path) -> bool:
    code, _ = _invoke(path, "verify")
    return code == 1


@pytest.mark.parametrize(("table", "column", "op"), list(_cases()), ids=lambda v: str(v))
def test_a_tampered_row_is_harmless_or_found(
    base: tuple[bytes, dict[str, Any]], tmp_path: Path, table: str, column: str | None, op: str
) -> None:
    data, expected = base
    path = tmp_path / "ledger.sqlite"
    path.write_bytes(data)
    rowid = next(r for t, _, r in _schema(data, tmp_path) if t == table)
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute("BEGIN")
        applied = _tamper(con, table, column, op, rowid)
        con.execute("COMMIT")
    finally:
        con.close()
    if not applied:
        pytest.skip(f"{table} has no row to {op} (or refuses the change)")
    if _verify_fails(path):
        return
    assert outputs(path) == expected, f"{op} of {table}.{column} changed what a command shows, and verify passed"


def test_the_library_check_agrees_on_an_intact_ledger(base: tuple[bytes, dict[str, Any]], tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    path.write_bytes(base[0])
    with PartnershipLedger.open(path, readonly=True, as_stored=True) as ledger:
        assert verify_chain(ledger.db).ok
        assert check_read_models(ledger).ok
