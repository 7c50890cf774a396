"""The CLI's import reads every journal twice as it goes (check, then record): nothing is recorded
unless every file is valid, stdin included, however late in the last file the fault is."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from cli_invoke import invoke
from click.testing import Result

from partnership_ledger.demo import demo_journal_bytes
from partnership_ledger.journal import read_raw

DEMO_OPS: list[dict[str, Any]] = read_raw(demo_journal_bytes())


def import_into(db: Path, *args: str, input: bytes | None = None) -> Result:
    return invoke(["-q", "import", *args], db=db, input=input)


def events(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db) as con:
        return int(con.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0])


@pytest.mark.parametrize("lines", [False, True])
def test_a_bad_operation_late_in_the_second_file_records_nothing(tmp_path: Path, lines: bool) -> None:
    first = tmp_path / "first.json"
    first.write_text(json.dumps(DEMO_OPS[:20], ensure_ascii=False), encoding="utf-8")
    second_ops = [*DEMO_OPS[20:], {**DEMO_OPS[-1], "on": "2024-02-30"}]
    second = tmp_path / ("second.jsonl" if lines else "second.json")
    if lines:
        second.write_text("\n".join(json.dumps(op, ensure_ascii=False) for op in second_ops), encoding="utf-8")
    else:
        second.write_text(json.dumps(second_ops, ensure_ascii=False), encoding="utf-8")
    db = tmp_path / "l.sqlite"
    result = import_into(db, str(first), str(second))
    assert result.exit_code == 1
    bad = len(second_ops) - 1
    assert f"{second}: operation {bad} ({second_ops[-1]['op']}) field 'on'" in result.stderr
    assert events(db) == 0
    # The same files without the fault record everything, each operation once.
    second.write_text(json.dumps(second_ops[:-1], ensure_ascii=False), encoding="utf-8")
    assert import_into(db, str(first), str(second)).exit_code == 0
    recorded = events(db)
    assert recorded >= len(DEMO_OPS)
    assert import_into(db, str(first), str(second)).exit_code == 0
    assert events(db) == recorded


def test_a_journal_that_breaks_off_late_on_stdin_records_nothing(tmp_path: Path) -> None:
    first = tmp_path / "first.json"
    first.write_text(json.dumps(DEMO_OPS[:20]), encoding="utf-8")
    broken = json.dumps(DEMO_OPS[20:]).encode("utf-8")[:-2]
    db = tmp_path / "l.sqlite"
    result = import_into(db, str(first), "-", input=broken)
    assert result.exit_code == 1
    assert "stdin: is not valid JSON at line 1, column" in result.stderr
    assert events(db) == 0
    result = import_into(db, str(first), "-", input=json.dumps(DEMO_OPS[20:]).encode("utf-8"))
    assert result.exit_code == 0, result.stderr
    assert events(db) >= len(DEMO_OPS)


def test_a_file_that_is_not_utf8_names_the_operation_and_records_nothing(tmp_path: Path) -> None:
    ops = [*DEMO_OPS[:5], {"op": "register_party", "key": "late", "name": "X", "sector": "npo"}]
    data = json.dumps(ops).encode("utf-8").replace(b'"name": "X"', b'"name": "\xff"')
    journal = tmp_path / "j.json"
    journal.write_bytes(data)
    db = tmp_path / "l.sqlite"
    result = import_into(db, str(journal))
    assert result.exit_code == 1
    offset = data.index(b"\xff")
    assert f"operation 5 (register_party) field 'name': is not valid UTF-8 (byte {offset})" in result.stderr
    assert events(db) == 0
