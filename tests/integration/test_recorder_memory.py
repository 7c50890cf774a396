"""A big import's memory does not grow with the journal (issue 20): once a slice is written,
the recorder lets go of what it loaded, and reads it back in the batch's own transaction when
a later operation names it again. None of which may change what is recorded or refused.

Here slices are tiny and the unit of work keeps almost nothing, so that small journals
exercise what a journal of a million operations does.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import Op, valid_journals

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.errors import JournalError
from partnership_ledger.journal import Validator, ids
from partnership_ledger.service.recorder import Recorder
from partnership_ledger.service.unit_of_work import UnitOfWork

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

NewLedger = Callable[[], AbstractContextManager[PartnershipLedger]]
KINDS = ("party", "partnership", "agreement", "contribution", "target", "evaluation")


@contextmanager
def forgetful(slice_size: int, keep: int) -> Iterator[None]:
    """Slices of ``slice_size`` operations, and ``keep`` aggregates kept from one to the next."""
    before = Recorder.slice_size, UnitOfWork.keep
    Recorder.slice_size, UnitOfWork.keep = slice_size, keep
    try:
        yield
    finally:
        Recorder.slice_size, UnitOfWork.keep = before


def dump(ops: list[Op]) -> bytes:
    return json.dumps(ops, ensure_ascii=False).encode("utf-8")


def state(ledger: PartnershipLedger) -> dict[str, Any]:
    return {key: ledger.show(key) for kind in KINDS for key in ledger.keys(kind)}


def counts(ledger: PartnershipLedger) -> tuple[int, ...]:
    with sqlite3.connect(ledger.location) as con:
        return tuple(
            int(con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
            for table in ("stored_events", "ledger_ops", "ledger_keys", "rm_history", "rm_contributions")
        )


@given(valid_journals(), st.integers(1, 3), st.integers(0, 2))
def test_a_journal_recorded_by_a_forgetful_recorder_makes_the_same_ledger(
    new_ledger: NewLedger, ops: list[Op], slice_size: int, keep: int
) -> None:
    with new_ledger() as whole, new_ledger() as forgetting:
        expected = whole.import_journal(dump(ops))
        with forgetful(slice_size, keep):
            result = forgetting.import_journal(dump(ops))
            assert forgetting.import_journal(dump(ops)).applied == 0
        assert (result.applied, result.events, result.last_position) == (
            expected.applied,
            expected.events,
            expected.last_position,
        )
        assert state(forgetting) == state(whole)
        assert counts(forgetting) == counts(whole)


def world() -> list[Op]:
    parties = [{"op": "register_party", "key": k, "name": k.upper(), "sector": "npo"} for k in ("a", "b", "c")]
    propose = {"op": "propose_partnership", "key": "p1", "title": "P", "purpose": "P", "proposed_by": "a"}
    return [
        *parties,
        {**propose, "members": ["a", "b"], "on": "2020-04-01"},
        {"op": "activate_partnership", "partnership": "p1", "on": "2020-04-02"},
        {"op": "join_partnership", "partnership": "p1", "party": "c", "on": "2020-04-03", "id": "join-c"},
        *(
            {
                "op": "pledge",
                "key": f"c-{n}",
                "partnership": "p1",
                "party": "c" if n < 2 else "b",
                "kind": "money",
                "value": {"amount": "1000", "currency": "JPY"},
                "fiscal_year": 2020,
            }
            for n in range(6)
        ),
        {
            "op": "deliver",
            "contribution": "c-0",
            "value": {"amount": "400", "currency": "JPY"},
            "on": "2020-05-01",
            "id": "delivery-0",
        },
        *({"op": "register_party", "key": f"filler-{n}", "name": "F", "sector": "npo"} for n in range(5)),
    ]


def test_what_a_later_slice_names_is_found_in_the_batch_s_own_transaction(new_location: Callable[[], str]) -> None:
    # Each operation is its own slice and nothing is kept: the contributions, the operations
    # to void and the pledges that stand on a join are all read back from what was written
    # (on PostgreSQL, where the read models are applied after the commit, the contributions
    # stay in memory).
    later = [
        {"op": "deliver", "contribution": "c-1", "value": {"amount": "5", "currency": "JPY"}, "on": "2020-05-02"},
        {"op": "void_operation", "operation": "delivery-0", "reason": "typo", "on": "2020-05-03"},
        {"op": "deliver", "contribution": "c-0", "value": {"amount": "7", "currency": "JPY"}, "on": "2020-05-04"},
    ]
    void_join = {"op": "void_operation", "operation": "join-c", "reason": "typo", "on": "2020-05-05"}
    results = []
    for keep in (10_000, 0):
        with PartnershipLedger.open(new_location()) as ledger, forgetful(1, keep):
            with pytest.raises(JournalError, match="it pledged contributions c-0, c-1 as a member"):
                ledger.import_journal(dump([*world(), *later, void_join]))
            assert ledger.event_count() == 0
            result = ledger.import_journal(dump([*world(), *later]))
            assert ledger.show("c-0")["delivered"]["amount"] == 7
            assert ledger.show("c-1")["delivered"]["amount"] == 5
            assert ledger.import_journal(dump([*world(), *later])).applied == 0
            history = [{k: v for k, v in h.items() if k != "recorded_at"} for h in ledger.history()]
            results.append((result.events, state(ledger), history))
    assert results[0] == results[1]


def test_the_recorder_holds_a_bounded_number_of_aggregates_and_keys(tmp_path: Path, monkeypatch: Any) -> None:
    from synthetic import synthetic_journal

    held: list[int] = []
    release = UnitOfWork.release

    def counting(uow: UnitOfWork, **kwargs: Any) -> None:
        release(uow, **kwargs)
        held.append(uow.held())

    monkeypatch.setattr(UnitOfWork, "release", counting)
    journal = synthetic_journal(3000, 3)
    with PartnershipLedger.open(tmp_path / "l.sqlite") as ledger, forgetful(100, 50):
        ledger.import_journal(dump(journal))
        assert ledger.event_count() > len(journal)
    assert len(held) >= 25  # a release after every slice
    # What a slice named is let go once it is written: at most the kept aggregates (and
    # those due a snapshot, a few here) and the kinds of the few long-lived keys remain,
    # not the journal's thousands of keys.
    long_lived = sum(1 for op in journal if op["op"] in ("register_party", "propose_partnership", "draft_agreement"))
    assert long_lived < 150
    assert max(held) <= 50 + 10 + long_lived
    assert sum(1 for op in journal if op["op"] == "pledge") > 500


def checked(journal: list[Any]) -> tuple[list[str | None], list[tuple[int | None, str]]]:
    validator = Validator()
    found = [validator.add(raw) for raw in journal]
    return [op.meta.op_id if op is not None else None for op in found], [
        (p.index, p.message) for p in validator.problems
    ]


def test_a_journal_s_ids_are_the_same_when_its_reader_keeps_them_on_disk(monkeypatch: Any) -> None:
    party = {"op": "register_party", "key": "a", "name": "A", "sector": "npo"}
    journal: list[Any] = [
        party,
        party,
        {**party, "key": "b"},
        party,
        {**party, "id": "given"},
        {**party, "id": "given"},
    ]
    in_memory = checked(journal)
    ids_made = in_memory[0]
    # An id given that one made for an earlier operation already is, and one that a later
    # operation would make.
    journal += [{**party, "id": ids_made[1]}, {**party, "id": ids_made[0][:-1] + "4"}, party, party, {"op": "nope"}]
    in_memory = checked(journal)
    monkeypatch.setattr(ids, "KEPT_IN_MEMORY", 2)  # on disk from the third fingerprint or id on
    on_disk = checked(journal)
    assert on_disk == in_memory
    assert len(set(in_memory[0][:4])) == 4
    assert in_memory[0][9] == ids_made[0][:-1] + "4"
    assert [i for i, _ in in_memory[1]] == [5, 6, 9, 10]
