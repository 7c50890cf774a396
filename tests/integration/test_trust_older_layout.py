"""Read models an older version made vouch for nothing, and nothing shows them.

A ledger written before the read models' layout changed (``tests/data/before-shape``: layout
5) keeps its old read-model tables until it is next opened to write. No query reads them
(the CLI answers from a private copy brought up to date from the events), so ``verify``
does not compare them, says so, and still checks the indexes; and altering those old
tables changes no answer.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from cli_invoke import invoke

DATA = Path(__file__).resolve().parents[1] / "data" / "before-shape"


def run(db: Path, *args: str) -> tuple[int, str]:
    result = invoke(args, db=db)
    return result.exit_code, result.stdout


@pytest.fixture
def old(tmp_path: Path) -> Path:
    db = tmp_path / "old.sqlite"
    shutil.copy(DATA / "every-op.sqlite", db)
    return db


def test_verify_says_the_old_read_models_are_not_compared(old: Path) -> None:
    code, out = run(old, "verify")
    assert code == 0, out
    chain, read_models = out.splitlines()
    assert chain.startswith("ok: the chain of 46 events is intact")
    assert "older version (read_models.v5)" in read_models
    assert "the indexes agree with the events up to position 46" in read_models


def test_altered_old_read_models_change_no_answer(old: Path) -> None:
    answers = json.loads((DATA / "answers.json").read_text(encoding="utf-8"))["every-op"]
    with sqlite3.connect(old) as c:
        c.execute("UPDATE rm_buckets SET delivered = '999999999'")
        c.execute("UPDATE rm_history SET summary = 'forged'")
    assert run(old, "verify")[0] == 0
    for question in ("balance puppet-tour --json", "history --json", "contributions --json"):
        assert run(old, *question.split(" "))[1] == answers[question]["stdout"], question


def test_an_altered_index_of_an_old_ledger_is_still_found(old: Path) -> None:
    with sqlite3.connect(old) as c:
        c.execute("UPDATE ledger_keys SET kind = 'party' WHERE key = 'c-npo-2008'")
    result = invoke(["verify"], db=old)
    assert result.exit_code == 1
    assert "ledger_keys" in result.stderr + result.stdout


def test_a_ledger_without_any_tracking_row_is_still_tampering(old: Path) -> None:
    with sqlite3.connect(old) as c:
        c.execute("DELETE FROM ledger_tracking")
    assert run(old, "verify")[0] == 1
