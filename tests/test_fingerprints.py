"""A big journal's fingerprints, worked out ahead by a child process, change nothing.

:class:`~partnership_ledger.journal.Fingerprints` only saves the importing process the work of
the operations' ids: the operations, their ids and every problem reported are those of a
validation without it, whatever the child gives or fails to give.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import Op, invalid_operations, operation_like, valid_journals

from partnership_ledger import journal
from partnership_ledger.application import PartnershipLedger
from partnership_ledger.errors import JournalError
from partnership_ledger.journal import Fingerprints, Validator, iter_raw, journal_text

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the child is started on Linux only")


@pytest.fixture(autouse=True)
def any_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(journal, "FINGERPRINTS_MIN", 0)


def validate(text: str, ahead: bool) -> tuple[Any, ...]:
    fingerprints = Fingerprints.start(text) if ahead else None
    if ahead:
        assert fingerprints is not None, "no child was started"
    validator = Validator(fingerprints)
    try:
        ops = [op if op is None else (op.op, op.fields, op.meta, op.index) for op in map(validator.add, iter_raw(text))]
        outcome: tuple[Any, ...] = ("ok", ops)
    except JournalError as e:
        outcome = ("error", str(e))
    finally:
        validator.close()
    error = validator.error("j")
    return outcome, None if error is None else [p.to_dict() for p in error.problems]


ops = st.lists(
    st.one_of(
        operation_like(),
        invalid_operations(),
        valid_journals(max_ops=3).flatmap(lambda ops: st.sampled_from(ops)),
        st.just([1, 2]),
        st.just("op"),
    ),
    min_size=1,
    max_size=10,
)


@given(ops, st.booleans())
@settings(max_examples=60, deadline=None)
def test_validating_with_fingerprints_worked_out_ahead_gives_what_validating_alone_gives(
    raws: list[Op], twice: bool
) -> None:
    raws = raws * 2 if twice else raws  # the same operations again: numbered, or repeated ids
    text = json.dumps(raws)
    assert validate(text, ahead=True) == validate(text, ahead=False)


@pytest.mark.parametrize(
    "text",
    [
        '[{"op": "register_party", "key": "p", "name": "P", "sector": "npo"}, {"op": 1.5}, {"op": "x"',
        '[{"op": "register_party", "key": "p", "name": "P", "sector": "npo"}, NaN, {"a": 1, "a": 2}]',
        '[{"op": "register_party", "key": "p", "name": "P", "sector": "npo", "id": "x"}, 1, "x", null]',
        # JSON Lines, good then broken
        '{"op": "register_party", "key": "p", "name": "P", "sector": "npo"}\n\n{"op": "join_partnership"}\n',
        '{"op": "register_party", "key": "p", "name": "P", "sector": "npo"}\n{"op": \n',
    ],
)
def test_floats_odd_values_and_a_broken_text_are_validated_as_without_the_child(text: str) -> None:
    assert validate(text, ahead=True) == validate(text, ahead=False)


def test_a_child_that_stops_early_leaves_the_work_to_the_parent() -> None:
    raws = [{"op": "register_party", "key": f"p{i}", "name": "P", "sector": "npo"} for i in range(3000)]
    text = json.dumps(raws)
    alone = validate(text, ahead=False)
    fingerprints = Fingerprints.start(text)
    assert fingerprints is not None
    os.kill(fingerprints._pid, 9)  # type: ignore[arg-type]
    validator = Validator(fingerprints)
    got = [(op.op, op.fields, op.meta, op.index) for op in map(validator.add, iter_raw(text)) if op is not None]
    validator.close()
    assert (("ok", got), None) == alone


def test_the_child_is_reaped(tmp_path: Path) -> None:
    text = json.dumps([{"op": "register_party", "key": f"p{i}", "name": "P", "sector": "npo"} for i in range(50)])
    fingerprints = Fingerprints.start(text)
    assert fingerprints is not None
    pid = fingerprints._pid
    assert fingerprints.take() == journal.op_fingerprint(json.loads(text)[0])
    fingerprints.close()
    fingerprints.close()  # twice: nothing more to do
    assert fingerprints.take() is None
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # type: ignore[arg-type]


def test_no_child_where_it_is_not_worth_it_or_not_safe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(journal, "FINGERPRINTS_MIN", 100)
    assert Fingerprints.start("[]") is None  # too small
    monkeypatch.setattr(journal, "FINGERPRINTS_MIN", 0)
    monkeypatch.setenv("PARTNERSHIP_LEDGER_HELPER", "off")
    assert Fingerprints.start("[]") is None
    monkeypatch.delenv("PARTNERSHIP_LEDGER_HELPER")
    monkeypatch.setattr("threading.active_count", lambda: 2)  # another thread could hold a lock
    assert Fingerprints.start("[]") is None


def test_an_import_records_the_same_ids_with_or_without_the_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal_file = tmp_path / "j.json"
    parties = [{"op": "register_party", "key": f"p{i}", "name": "P", "sector": "npo"} for i in range(5)]
    journal_file.write_text(json.dumps(parties))
    ids: list[Any] = []
    for helper in ("on", "off"):
        monkeypatch.setenv("PARTNERSHIP_LEDGER_HELPER", helper)
        ledger = PartnershipLedger.open(tmp_path / f"{helper}.sqlite")
        ledger.import_journal(journal_file)
        with ledger.db.transaction(commit=False) as c:
            c.execute("SELECT op_id, position FROM ledger_ops ORDER BY position")
            ids.append(c.fetchall())
        with pytest.raises(JournalError) as refused:
            ledger.import_journal(journal_text(json.dumps([{"op": "register_party", "key": "p0", "name": "P"}])))
        ids.append(str(refused.value))
        ledger.close()
    assert ids[0] == ids[2]
    assert ids[1] == ids[3]
    assert len(ids[0]) == 5
