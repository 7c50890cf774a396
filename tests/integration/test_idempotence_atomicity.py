"""Journal round trip, atomic import and idempotent import, over random valid journals."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import Op, invalid_operations, valid_journals

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.errors import JournalError
from partnership_ledger.journal import OPS

KINDS = ("party", "partnership", "agreement", "contribution", "target", "evaluation")


NewLedger = Callable[[], AbstractContextManager[PartnershipLedger]]


def dump(ops: list[Op]) -> bytes:
    return json.dumps(ops, ensure_ascii=False).encode("utf-8")


def state(ledger: PartnershipLedger) -> dict[str, Any]:
    """``show()`` of every key, by key."""
    return {key: ledger.show(key) for kind in KINDS for key in ledger.keys(kind)}


def history(ledger: PartnershipLedger) -> list[dict[str, Any]]:
    return [{k: v for k, v in h.items() if k not in ("position", "recorded_at")} for h in ledger.history()]


def recorded_ops(ledger: PartnershipLedger) -> int:
    with sqlite3.connect(ledger.location) as con:
        return int(con.execute("SELECT COUNT(*) FROM ledger_ops").fetchone()[0])


@given(valid_journals())
def test_export_imports_into_an_equivalent_ledger(new_ledger: NewLedger, ops: list[Op]) -> None:
    with new_ledger() as first, new_ledger() as second:
        result = first.import_journal(dump(ops))
        assert result.applied == len(ops)
        exported = list(first.export_operations())
        assert len(exported) == len(ops)
        second.import_journal(dump(exported))
        assert state(second) == state(first)
        assert history(second) == history(first)
        assert list(second.export_operations()) == exported
        # The export carries every operation's id: importing it into the first ledger, or
        # the original journal into the second, records nothing.
        assert first.import_journal(dump(exported)).applied == 0
        assert second.import_journal(dump(ops)).applied == 0
        assert second.event_count() == first.event_count()


@given(valid_journals(), st.data())
def test_one_bad_operation_records_nothing_and_is_named(
    new_ledger: NewLedger, ops: list[Op], data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(ops)), label="index")
    bad = data.draw(invalid_operations(), label="bad")
    journal = [*ops[:index], bad, *ops[index:]]
    with new_ledger() as ledger:
        with pytest.raises(JournalError) as info:
            ledger.import_journal(dump(journal), source="j.json")
        assert {p.index for p in info.value.problems} == {index}
        assert str(info.value).startswith(f"j.json: operation {index} ")
        if bad["op"] in OPS:
            assert str(info.value).startswith(f"j.json: operation {index} ({bad['op']})")
        assert ledger.event_count() == 0
        assert recorded_ops(ledger) == 0
        assert state(ledger) == {}
        # Over a ledger that holds the operations before it, too: nothing changes.
        ledger.import_journal(dump(ops[:index]))
        before = (ledger.event_count(), recorded_ops(ledger), state(ledger))
        with pytest.raises(JournalError) as again:
            ledger.import_journal(dump(journal))
        assert {p.index for p in again.value.problems} == {index}
        assert (ledger.event_count(), recorded_ops(ledger), state(ledger)) == before


@given(valid_journals(), st.data())
def test_importing_twice_or_a_prefix_first_records_each_operation_once(
    new_ledger: NewLedger, ops: list[Op], data: st.DataObject
) -> None:
    cut = data.draw(st.integers(0, len(ops)), label="cut")
    with new_ledger() as whole, new_ledger() as in_parts:
        whole.import_journal(dump(ops))
        events = whole.event_count()
        again = whole.import_journal(dump(ops))
        assert (again.applied, again.skipped, again.events) == (0, len(ops), 0)
        assert whole.event_count() == events

        first = in_parts.import_journal(dump(ops[:cut]))
        assert first.applied == cut
        rest = in_parts.import_journal(dump(ops))
        assert (rest.applied, rest.skipped) == (len(ops) - cut, cut)
        assert in_parts.event_count() == events
        assert recorded_ops(in_parts) == len(ops)
        assert state(in_parts) == state(whole)
        assert list(in_parts.export_operations()) == list(whole.export_operations())


@given(valid_journals(max_ops=10))
def test_json_lines_and_array_of_the_same_operations_are_the_same_journal(new_ledger: NewLedger, ops: list[Op]) -> None:
    lines = "\n".join(json.dumps(op, ensure_ascii=False) for op in ops).encode("utf-8")
    with new_ledger() as from_array, new_ledger() as from_lines:
        from_array.import_journal(dump(ops))
        from_lines.import_journal(lines)
        assert state(from_lines) == state(from_array)
        assert from_lines.import_journal(dump(ops)).applied == 0


def test_a_dry_run_records_nothing(ledger: PartnershipLedger, every_op_path: Path) -> None:
    result = ledger.import_journal(every_op_path, dry_run=True)
    assert result.dry_run
    assert result.applied == result.operations > 0
    assert ledger.event_count() == 0
    assert recorded_ops(ledger) == 0


def test_identical_operations_in_one_file_are_two_operations(ledger: PartnershipLedger) -> None:
    ledger.register_party("a", "A", "npo")
    ledger.propose_partnership("p", "T", "P", "a", ["a"], "2020-04-01")
    deliver = {"op": "deliver", "contribution": "c", "value": {"amount": "5", "currency": "JPY"}, "on": "2020-05-01"}
    journal = [
        {
            "op": "pledge",
            "key": "c",
            "partnership": "p",
            "party": "a",
            "kind": "money",
            "value": {"amount": "10", "currency": "JPY"},
            "fiscal_year": 2020,
        },
        deliver,
        deliver,
    ]
    assert ledger.import_journal(dump(journal)).applied == 3
    assert ledger.show("c")["delivered"]["amount"] == 10
    assert ledger.import_journal(dump(journal)).applied == 0
    # A file with the same delivery three times has one more operation than was recorded.
    assert ledger.import_journal(dump([*journal, deliver])).applied == 1
    assert ledger.show("c")["delivered"]["amount"] == 15


def test_record_without_an_id_records_again_with_one_it_does_not(ledger: PartnershipLedger) -> None:
    ledger.register_party("a", "A", "npo")
    ledger.propose_partnership("p", "T", "P", "a", ["a"], "2020-04-01")
    ledger.pledge("c", "p", "a", "money", {"amount": "10", "currency": "JPY"}, 2020)
    ledger.deliver("c", {"amount": "1", "currency": "JPY"}, "2020-05-01")
    ledger.deliver("c", {"amount": "1", "currency": "JPY"}, "2020-05-01")
    assert ledger.show("c")["delivered"]["amount"] == 2
    first = ledger.deliver("c", {"amount": "1", "currency": "JPY"}, "2020-05-01", op_id="retry-1")
    retried = ledger.deliver("c", {"amount": "1", "currency": "JPY"}, "2020-05-01", op_id="retry-1")
    assert (first.applied, retried.applied, retried.skipped) == (1, 0, 1)
    assert ledger.show("c")["delivered"]["amount"] == 3


def test_reopening_keeps_everything(tmp_path: Path, every_op_path: Path) -> None:
    with PartnershipLedger.open(tmp_path / "l.sqlite") as ledger:
        ledger.import_journal(every_op_path)
        before = (state(ledger), history(ledger), list(ledger.export_operations()))
    with PartnershipLedger.open(tmp_path / "l.sqlite", create=False) as ledger:
        assert (state(ledger), history(ledger), list(ledger.export_operations())) == before
        assert ledger.import_journal(every_op_path).applied == 0
