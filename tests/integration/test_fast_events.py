"""The ledger's quick way to trigger events (``LedgerAggregate._new`` / ``._trigger``) makes
exactly what eventsourcing's generic path makes: the same events (stored byte for byte), the
same aggregates, the same refusals with the same messages."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from eventsourcing import domain as es_domain
from hypothesis import given
from hypothesis import strategies as st
from strategies import Op, valid_journals

import partnership_ledger.domain.base as base
from partnership_ledger.application import PartnershipLedger, _project
from partnership_ledger.domain import AGGREGATE_CLASSES, LedgerAggregate, Party
from partnership_ledger.domain.keys import NAMESPACE, aggregate_id
from partnership_ledger.domain.values import OpMeta, Sector
from partnership_ledger.errors import DomainError
from partnership_ledger.handlers import apply_operation
from partnership_ledger.journal import parse_operations
from partnership_ledger.unit_of_work import UnitOfWork


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PartnershipLedger]:
    with PartnershipLedger.open(str(tmp_path_factory.mktemp("fast") / "l.sqlite")) as opened:
        yield opened


@contextmanager
def generic(on: bool) -> Iterator[None]:
    """eventsourcing's own path instead of the quick one (when ``on``)."""
    saved = base.FAST
    base.FAST = not on
    try:
        yield
    finally:
        base.FAST = saved


@contextmanager
def clock() -> Iterator[None]:
    """A clock that ticks a microsecond at each reading, the same in every run."""
    start = datetime(2020, 1, 1, tzinfo=UTC)
    ticks = iter(range(10**9))
    saved = es_domain.datetime_now_with_tzinfo
    es_domain.datetime_now_with_tzinfo = lambda: start + timedelta(microseconds=next(ticks))
    try:
        yield
    finally:
        es_domain.datetime_now_with_tzinfo = saved


class _NoStore:
    def get(self, aggregate_id: uuid.UUID) -> Any:
        raise AssertionError("nothing is stored")


def run(ops: list[Op], *, slow: bool) -> tuple[list[Any], list[tuple[int, str, str]], UnitOfWork]:
    """Apply ``ops`` one by one to a fresh unit of work: its events, refusals and itself."""
    uow = UnitOfWork(_NoStore(), lambda key: None)
    refusals = []
    with generic(slow), clock():
        for i, raw in enumerate(ops):
            (op,) = parse_operations([raw])
            before = len(uow.events)
            try:
                apply_operation(uow, op)
            except DomainError as e:
                # A refused operation changes nothing and leaves no events.
                assert len(uow.events) == before
                refusals.append((i, type(e).__name__, str(e)))
    return uow.events, refusals, uow


def replayed(ledger: PartnershipLedger, events: list[Any]) -> dict[uuid.UUID, LedgerAggregate]:
    """Every aggregate rebuilt from its stored events (encoded, then decoded)."""
    by_id: dict[uuid.UUID, list[Any]] = {}
    for e in events:
        stored = ledger.mapper.to_stored_event(e)
        by_id.setdefault(e.originator_id, []).append(ledger.mapper.to_domain_event(stored))
    return {agg_id: _project(None, evs) for agg_id, evs in by_id.items()}


def check_same(ledger: PartnershipLedger, ops: list[Op]) -> None:
    fast_events, fast_refusals, fast_uow = run(ops, slow=False)
    slow_events, slow_refusals, slow_uow = run(ops, slow=True)
    assert fast_refusals == slow_refusals
    assert fast_events == slow_events
    for f, s in zip(fast_events, slow_events, strict=True):
        assert type(f) is type(s)
        assert list(vars(f)) == list(vars(s))  # the order the state is stored in
        assert ledger.mapper.to_stored_event(f) == ledger.mapper.to_stored_event(s)
    fast_aggs = {a.id: a for a in fast_uow.aggregates()}
    slow_aggs = {a.id: a for a in slow_uow.aggregates()}
    assert fast_aggs == slow_aggs
    for agg_id, agg in fast_aggs.items():
        assert list(vars(agg)) == list(vars(slow_aggs[agg_id]))
        assert not agg.pending_events
    rebuilt = replayed(ledger, fast_events)
    assert rebuilt == {k: v for k, v in fast_aggs.items() if k in rebuilt}


@given(valid_journals(max_ops=40))
def test_valid_journals_make_the_same_events_and_aggregates(ledger: PartnershipLedger, ops: list[Op]) -> None:
    check_same(ledger, ops)


@given(st.data())
def test_refusals_are_the_same_too(ledger: PartnershipLedger, data: st.DataObject) -> None:
    # Replaying parts of a valid journal, shuffled, breaks many rules (keys taken, unknown keys,
    # caps, dates, phases...): both paths refuse the same operations with the same messages.
    ops = data.draw(valid_journals(max_ops=30))
    again = data.draw(st.lists(st.sampled_from(ops), max_size=30))
    check_same(ledger, data.draw(st.permutations(ops)) + again)
    check_same(ledger, ops + again)


def test_every_event_of_every_aggregate_takes_the_quick_path() -> None:
    for cls in AGGREGATE_CLASSES.values():
        assert base._spec(cls, "") is not None, cls
        for event_cls in es_domain.decorated_funcs:
            if getattr(cls, event_cls.__name__, None) is event_cls:
                assert base._spec(cls, event_cls.__name__) is not None, event_cls


def test_fields_in_any_order_or_missing() -> None:
    meta = OpMeta("op-1")
    with clock():
        a = Party._new(key="p-1", name="P", sector=Sector.NPO, capacity=None, identifiers=[], area=None, meta=meta)
    with clock():
        b = Party._new(meta=meta, area=None, identifiers=[], capacity=None, sector=Sector.NPO, name="P", key="p-1")
    with generic(True), clock():
        c = Party._new(key="p-1", name="P", sector=Sector.NPO, capacity=None, identifiers=[], area=None, meta=meta)
    assert a == b == c
    assert list(vars(a.pending_events[0])) == list(vars(b.pending_events[0])) == list(vars(c.pending_events[0]))
    assert a.id == aggregate_id("party", "p-1")
    assert a.version == 1
    assert a.created_on == a.modified_on
    with pytest.raises(TypeError):
        Party._new(key="p-2", name="P", sector=Sector.NPO, meta=meta)
    with pytest.raises(TypeError):
        Party._new(
            key="p-2", name="P", sector=Sector.NPO, capacity=None, identifiers=[], area=None, meta=meta, colour="red"
        )
    partnership = AGGREGATE_CLASSES["partnership"]._new(
        key="ps", title="t", purpose="p", proposed_by="p-1", members=["p-1"], parent=None, on=None, meta=meta
    )
    with pytest.raises(TypeError):
        partnership._trigger("CurrencyAdopted", currency="JPY")
    assert partnership.version == 1
    assert len(partnership.pending_events) == 1
    partnership._trigger("CurrencyAdopted", meta=meta, currency="JPY")
    assert partnership.currency == "JPY"
    assert partnership.version == 2
    assert list(vars(partnership.pending_events[-1]))[-2:] == ["currency", "meta"]


@given(st.sampled_from(["party", "contribution"]), st.text(max_size=40))
def test_an_aggregates_id_is_uuid5_of_its_kind_and_key(kind: str, key: str) -> None:
    assert aggregate_id(kind, key) == uuid.uuid5(NAMESPACE, f"{kind}:{key}")
