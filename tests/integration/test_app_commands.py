"""The facade's command methods: one per journal operation, taking exactly its fields, each
recording what the same journal object records (once per ``op_id``); and the slice size a
ledger writes a batch with, set on the ledger."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.journal import OPS

JPY = {"amount": "1000", "currency": "JPY"}


def _fields(op: str) -> set[str]:
    params = inspect.signature(getattr(PartnershipLedger, op)).parameters.values()
    return {p.name for p in params if p.name != "self" and p.kind is not p.VAR_KEYWORD}


@pytest.mark.parametrize("op", sorted(OPS))
def test_every_operation_has_a_method_taking_exactly_its_fields(op: str) -> None:
    assert _fields(op) == set(OPS[op]), op
    required = {name for name, (_, req) in OPS[op].items() if req}
    params = inspect.signature(getattr(PartnershipLedger, op)).parameters
    assert required <= {n for n, p in params.items() if p.default is p.empty}, op


def _world(ledger: PartnershipLedger) -> None:
    ledger.register_party("a", "A", "npo")
    ledger.register_party("b", "B", "municipality")
    ledger.propose_partnership("p", "P", "purpose", "a", ["a", "b"], "2020-04-01")
    ledger.activate_partnership("p", "2020-04-02")


def test_a_command_records_what_its_journal_object_records(tmp_path: Path) -> None:
    with (
        PartnershipLedger.open(tmp_path / "m.sqlite") as by_method,
        PartnershipLedger.open(tmp_path / "j.sqlite") as by_op,
    ):
        for ledger in (by_method, by_op):
            _world(ledger)
        by_method.pledge("c", "p", "a", "money", JPY, 2020, instrument="grant", on="2020-05-01", note="n", by="clerk")
        by_op.record(
            {
                "op": "pledge",
                "key": "c",
                "partnership": "p",
                "party": "a",
                "kind": "money",
                "value": JPY,
                "fiscal_year": 2020,
                "instrument": "grant",
                "on": "2020-05-01",
                "note": "n",
                "by": "clerk",
            }
        )
        assert by_method.show("c") == by_op.show("c")
        strip = ("recorded_at", "op_id")
        rows = [
            [{k: v for k, v in h.items() if k not in strip} for h in led.history("c")] for led in (by_method, by_op)
        ]
        assert rows[0] == rows[1]
        assert (rows[0][0]["note"], rows[0][0]["recorded_by"]) == ("n", "clerk")
        assert by_method.show("c")["pledged"]["amount"] == Decimal("1000")


def test_the_same_op_id_records_once_and_voiding_and_amending_go_through_methods(tmp_path: Path) -> None:
    with PartnershipLedger.open(tmp_path / "l.sqlite") as ledger:
        _world(ledger)
        decided = ledger.record_decision(
            "p", "d", "subject", "a", "majority", {"a": "for"}, "2020-05-02", op_id="decision-d"
        )
        again = ledger.record_decision(
            "p", "d", "subject", "a", "majority", {"a": "for"}, "2020-05-02", op_id="decision-d"
        )
        assert (decided.applied, again.applied, again.skipped) == (1, 0, 1)
        ledger.void_operation("decision-d", "recorded in error", "2020-05-03")
        assert ledger.history("p")[-1]["op"] == "void_operation"
        ledger.amend_party("b", "renamed", "2020-06-01", name="B2")
        assert ledger.show("b")["name"] == "B2"
        with pytest.raises(TypeError, match="id"):
            ledger.register_party("x", "X", "npo", id="x")  # type: ignore[call-arg]


def count_inserts(ledger: PartnershipLedger, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the slices the ledger writes: the calls of its storage's insert within a batch's
    transaction (``recorder.write_session``)."""
    inserts = [0]
    session = ledger.recorder.write_session  # type: ignore[attr-defined]

    @contextmanager
    def counted_session() -> Iterator[Callable[..., Sequence[int]]]:
        with session() as insert:

            def counted(*args: Any, **kwargs: Any) -> Sequence[int]:
                inserts[0] += 1
                positions: Sequence[int] = insert(*args, **kwargs)
                return positions

            yield counted

    monkeypatch.setattr(ledger.recorder, "write_session", counted_session)
    return inserts


def test_the_slice_size_is_a_setting_of_the_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    journal = json.dumps(
        [{"op": "register_party", "key": f"party-{i}", "name": f"P{i}", "sector": "npo"} for i in range(7)]
    )
    with PartnershipLedger.open(tmp_path / "l.sqlite") as ledger:
        inserts = count_inserts(ledger, monkeypatch)
        ledger.recording.slice_size = 2
        result = ledger.import_journal(journal)
        assert (result.applied, result.events, inserts) == (7, 7, [4])
        assert ledger.import_journal(journal).applied == 0
        assert [p["key"] for p in ledger.parties()] == sorted(f"party-{i}" for i in range(7))
    with PartnershipLedger.open(tmp_path / "m.sqlite") as whole:
        inserts = count_inserts(whole, monkeypatch)
        assert whole.import_journal(journal).events == 7
        assert inserts == [1]  # the default slice holds them all
