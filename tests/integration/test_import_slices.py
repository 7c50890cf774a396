"""A batch is applied and written a slice at a time in its one transaction, and committed
aggregates are kept between writes: none of which may change what is recorded, what an error
says, or what a reader sees.

The slices are made tiny here (``Recorder.slice_size``), so that small journals span many.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import Op, invalid_operations, valid_journals

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.errors import JournalError, PartnershipConcluded, UnknownKey
from partnership_ledger.integrity import verify_chain
from partnership_ledger.journal import parse_journal, read_raw
from partnership_ledger.service.recorder import Recorder

NewLedger = Callable[[], AbstractContextManager[PartnershipLedger]]
KINDS = ("party", "partnership", "agreement", "contribution", "target", "evaluation")


@contextmanager
def slices_of(n: int) -> Iterator[None]:
    before = Recorder.slice_size
    Recorder.slice_size = n
    try:
        yield
    finally:
        Recorder.slice_size = before


def dump(ops: list[Op]) -> bytes:
    return json.dumps(ops, ensure_ascii=False).encode("utf-8")


def state(ledger: PartnershipLedger) -> dict[str, Any]:
    return {key: ledger.show(key) for kind in KINDS for key in ledger.keys(kind)}


def history(ledger: PartnershipLedger) -> list[dict[str, Any]]:
    return [{k: v for k, v in h.items() if k != "recorded_at"} for h in ledger.history()]


def counts(ledger: PartnershipLedger) -> tuple[int, ...]:
    with sqlite3.connect(ledger.location) as con:
        return tuple(
            int(con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
            for table in ("stored_events", "ledger_chain", "ledger_ops", "ledger_keys", "rm_history", "rm_aggregates")
        )


@given(valid_journals(), st.integers(1, 4))
def test_a_journal_written_in_small_slices_makes_the_same_ledger(new_ledger: NewLedger, ops: list[Op], n: int) -> None:
    with new_ledger() as whole, new_ledger() as sliced:
        expected = whole.import_journal(dump(ops))
        with slices_of(n):
            result = sliced.import_journal(dump(ops))
        assert (result.operations, result.applied, result.events) == (
            expected.operations,
            expected.applied,
            expected.events,
        )
        assert (result.first_position, result.last_position) == (expected.first_position, expected.last_position)
        assert state(sliced) == state(whole)
        assert history(sliced) == history(whole)
        assert counts(sliced) == counts(whole)
        assert verify_chain(sliced.db).ok
        assert sliced.info()["read_model_lag"] == 0
        with slices_of(n):
            assert sliced.import_journal(dump(ops)).applied == 0


@given(valid_journals(), st.data())
def test_a_bad_operation_in_any_slice_records_nothing(
    new_ledger: NewLedger, ops: list[Op], data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(ops)), label="index")
    journal = [*ops[:index], data.draw(invalid_operations(), label="bad"), *ops[index:]]
    with new_ledger() as ledger, slices_of(2):
        with pytest.raises(JournalError) as info:
            ledger.import_journal(dump(journal), source="j.json")
        assert {p.index for p in info.value.problems} == {index}
        parsed = refusal(lambda: parse_journal(dump(journal), source="j.json"))
        if parsed is not None:  # not a journal's operation: said as reading it whole says it
            assert str(info.value) == str(parsed)
            assert [p.to_dict() for p in info.value.problems] == [p.to_dict() for p in parsed.problems]
        assert counts(ledger) == (0, 0, 0, 0, 0, 0)


def refusal(read: Callable[[], object]) -> JournalError | None:
    try:
        read()
    except JournalError as e:
        return e
    return None


def world(contribution_in: str) -> list[Op]:
    parties = [{"op": "register_party", "key": k, "name": k.upper(), "sector": "npo"} for k in ("a", "b")]
    partnerships = [
        {"op": "propose_partnership", "key": p, "title": p, "purpose": "P", "proposed_by": "a", "members": ["a", "b"]}
        | {"on": "2020-04-01"}
        for p in ("p1", "p2")
    ]
    pledge = {
        "op": "pledge",
        "key": "c-1",
        "partnership": contribution_in,
        "party": "b",
        "kind": "money",
        "value": {"amount": "1000", "currency": "JPY"},
        "fiscal_year": 2020,
    }
    return [*parties, *partnerships, pledge]


def test_a_refused_operation_in_a_later_slice_records_nothing_and_leaves_no_trace(tmp_path: Path) -> None:
    refused = {
        "op": "deliver",
        "contribution": "c-404",
        "value": {"amount": "1", "currency": "JPY"},
        "on": "2020-05-01",
    }
    with PartnershipLedger.open(tmp_path / "l.sqlite") as ledger, slices_of(2):
        filler = {"op": "register_party", "key": "c", "name": "C", "sector": "npo"}
        with pytest.raises(JournalError) as info:  # slices: a b | p1 p2 | c-1 c | refused
            ledger.import_journal(dump([*world("p1"), filler, refused]), source="j.json")
        assert str(info.value) == "j.json: operation 6 (deliver): there is no contribution c-404"
        assert isinstance(info.value.__cause__, UnknownKey)
        assert counts(ledger) == (0, 0, 0, 0, 0, 0)
        # The same key, made again elsewhere: the read models knew c-1 in p1 from a slice that
        # was rolled back, and must have forgotten it.
        ledger.import_journal(dump(world("p2")))
        assert ledger.show("c-1")["partnership"] == "p2"
        assert [h["partnership"] for h in ledger.history("c-1")] == ["p2"]
        assert [h["key"] for h in ledger.history("p2") if h["op"] == "pledge"] == ["c-1"]
        assert [h["key"] for h in ledger.history("p1") if h["op"] == "pledge"] == []


def test_a_journal_that_breaks_off_late_is_refused_in_json_loads_own_words(tmp_path: Path) -> None:
    ops = world("p1")
    broken = dump(ops)[:-1] + b", {"  # the last operation never ends
    with pytest.raises(JournalError) as expected:
        read_raw(broken, "j.json")
    with PartnershipLedger.open(tmp_path / "l.sqlite") as ledger, slices_of(1):
        with pytest.raises(JournalError) as info:
            ledger.import_journal(broken, source="j.json")
        assert str(info.value) == str(expected.value)
        assert counts(ledger) == (0, 0, 0, 0, 0, 0)


def test_a_kept_aggregate_follows_what_another_writer_recorded(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    with PartnershipLedger.open(path) as first:
        first.import_journal(dump(world("p1")))
        first.deliver("c-1", {"amount": "100", "currency": "JPY"}, "2020-05-01")  # c-1 now kept by `first`
        first.activate_partnership("p2", "2020-04-02")
        first.pledge("c-2", "p2", "a", "money", {"amount": "5", "currency": "JPY"}, 2020)  # p2 kept too
        with PartnershipLedger.open(path) as second:
            second.deliver("c-1", {"amount": "10", "currency": "JPY"}, "2020-05-02")
            second.record_decision("p1", "d-1", "S", "a", "majority", {"a": "for"}, "2020-05-02")
            second.conclude_partnership("p2", "2020-05-02")
        # `first` kept c-1, p1 and p2 from before the other writer's events: it must not build
        # on them, nor judge by them (a pledge on p2 writes nothing to p2 that would clash).
        first.deliver("c-1", {"amount": "1", "currency": "JPY"}, "2020-05-03")
        first.record_decision("p1", "d-2", "S", "a", "majority", {"a": "for"}, "2020-05-03")
        with pytest.raises(PartnershipConcluded):
            first.pledge("c-3", "p2", "a", "money", {"amount": "5", "currency": "JPY"}, 2020)
        assert first.show("c-1")["delivered"]["amount"] == 111
        assert [d["key"] for d in first.show("p1")["decisions"]] == ["d-1", "d-2"]
    with sqlite3.connect(path) as con:
        gaps = con.execute(
            "SELECT originator_id FROM stored_events GROUP BY originator_id "
            "HAVING MIN(originator_version) != 1 OR MAX(originator_version) != COUNT(*)"
        ).fetchall()
    assert gaps == []


def test_a_refused_command_does_not_leave_its_changes_in_the_kept_aggregates(tmp_path: Path) -> None:
    with PartnershipLedger.open(tmp_path / "l.sqlite") as ledger:
        ledger.import_journal(dump(world("p1")))
        batch = [
            {"op": "deliver", "contribution": "c-1", "value": {"amount": "5", "currency": "JPY"}, "on": "2020-05-01"},
            {"op": "deliver", "contribution": "c-404", "value": {"amount": "1", "currency": "JPY"}, "on": "2020-05-01"},
        ]
        with pytest.raises(JournalError):
            ledger.import_journal(dump(batch))
        assert ledger.show("c-1")["delivered"]["amount"] == 0
        ledger.deliver("c-1", {"amount": "7", "currency": "JPY"}, "2020-05-02")
        assert ledger.show("c-1")["delivered"]["amount"] == 7
        assert ledger.show("c-1")["version"] == 2


def test_a_ledger_whose_index_tables_have_rowids_works_as_before(tmp_path: Path) -> None:
    # Ledgers made before ledger_ops and ledger_keys became tables without rowid keep theirs.
    path = tmp_path / "l.sqlite"
    with PartnershipLedger.open(path) as ledger:
        ledger.import_journal(dump(world("p1")))
    with sqlite3.connect(path) as con:
        made = dict(con.execute("SELECT name, sql FROM sqlite_master WHERE name IN ('ledger_ops', 'ledger_keys')"))
        assert all(text.endswith("WITHOUT ROWID") for text in made.values())
        for name, text in made.items():  # as an earlier version made them
            con.execute(f"ALTER TABLE {name} RENAME TO old")
            con.execute(text.removesuffix("WITHOUT ROWID"))
            con.execute(f"INSERT INTO {name} SELECT * FROM old")
            con.execute("DROP TABLE old")
    deliver = {"op": "deliver", "contribution": "c-1", "value": {"amount": "5", "currency": "JPY"}, "on": "2020-05-01"}
    with PartnershipLedger.open(path) as ledger:
        assert ledger.import_journal(dump(world("p1"))).applied == 0
        assert ledger.import_journal(dump([*world("p1"), deliver])).applied == 1
        assert ledger.show("c-1")["delivered"]["amount"] == 5
        with pytest.raises(JournalError):
            ledger.import_journal(dump([{**world("p1")[-1], "id": "again"}]))  # c-1 is known
        assert verify_chain(ledger.db).ok
    with sqlite3.connect(path) as con:
        assert con.execute("SELECT COUNT(*) FROM ledger_ops").fetchone()[0] == 6
