"""The ledger's transcoder and mapper store exactly what eventsourcing's own would.

The stored bytes are a contract (the hash chain covers them): :class:`LedgerTranscoder` and
:class:`LedgerMapper` only get there quicker, so each is compared with eventsourcing's
:class:`JSONTranscoder` and :class:`Mapper` given the same transcodings, over random values
and over the events real journals make.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import JSONTranscoder, Mapper, StoredEvent
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import Op, valid_journals

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.domain.transcodings import LedgerMapper, LedgerTranscoder, register_transcodings
from partnership_ledger.domain.values import ENUMS, Money, OpMeta, PeriodValue, Terms


def _transcoders() -> tuple[JSONTranscoder, LedgerTranscoder]:
    generic, quick = JSONTranscoder(), LedgerTranscoder()
    for t in (generic, quick):
        Application.register_transcodings(Application, t)  # type: ignore[arg-type]
        register_transcodings(t)
    return generic, quick


GENERIC, QUICK = _transcoders()

texts = st.text(max_size=12)  # any code point but lone surrogates (JSON cannot store those)
decimals = st.decimals(allow_nan=False, allow_infinity=False) | st.sampled_from(
    [Decimal("-0"), Decimal("1E+3"), Decimal("1.50"), Decimal("NaN"), Decimal("-Infinity")]
)
datetimes = st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=9)), None]))
enums = st.sampled_from([member for cls in ENUMS for member in cls])
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False),
    texts,
    decimals,
    st.dates(),
    datetimes,
    st.uuids(),
    enums,
    st.tuples(texts, st.integers()),  # not a type of its own here: the generic way
)
moneys = st.builds(Money, decimals | st.integers() | st.none(), texts | st.none())


def _values(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(texts, inner, max_size=4),
        st.dictionaries(st.integers() | st.booleans() | st.none(), inner, min_size=1, max_size=3),
        st.builds(Money, inner, inner),
        st.builds(OpMeta, inner, inner, inner),
        st.builds(PeriodValue, inner, inner),
        st.builds(Terms, inner, inner, inner, inner, inner, inner),
    )


values = st.recursive(scalars | moneys, _values, max_leaves=10)
names = st.text(min_size=1, max_size=8) | st.sampled_from(["timestamp", "meta", "{p0}", "v0", "'", '"', "}"])


@given(st.dictionaries(names, values, max_size=8))
@settings(max_examples=500)
def test_the_quick_transcoder_writes_the_bytes_of_the_generic_one(state: dict[str, Any]) -> None:
    assert QUICK.encode(state) == GENERIC.encode(state)


@given(st.lists(st.tuples(names, values), max_size=8), st.integers(0, 8), st.integers(0, 8))
@settings(max_examples=500)
def test_an_events_attributes_are_written_as_its_state_without_its_originator(
    items: list[tuple[str, Any]], at_id: int, at_version: int
) -> None:
    attributes = {k: v for k, v in items if k not in ("originator_id", "originator_version")}
    listed = list(attributes.items())
    listed.insert(min(at_id, len(listed)), ("originator_id", uuid.uuid4()))
    listed.insert(min(at_version, len(listed)), ("originator_version", 3))
    with_originator = dict(listed)
    expected = GENERIC.encode(attributes)
    # Twice: the second time through the function made for this order of names.
    assert QUICK.encode_event(with_originator) == expected
    assert QUICK.encode_event(with_originator) == expected


@given(
    st.lists(st.builds(OpMeta, texts, texts | st.none(), texts | st.none()), min_size=1, max_size=4),
    st.lists(st.dates(), max_size=4),
)
def test_metadata_and_days_met_again_are_written_as_the_first_time(metas: list[OpMeta], days: list[date]) -> None:
    # The quick path keeps the last metadata's text and each day's: the same object again, an
    # equal one, or another in between, are written as the generic transcoder writes them.
    for meta in [*metas, metas[0], OpMeta(metas[0].op_id, metas[0].by, metas[0].note), *metas]:
        state = {"meta": meta, "days": days, "day": days[0] if days else None}
        assert QUICK.encode(state) == GENERIC.encode(state)
        assert QUICK.encode_event({"originator_id": 1, **state, "originator_version": 2}) == GENERIC.encode(state)


def test_many_names_or_none_at_all_are_written_the_general_way() -> None:
    many = {f"n{i}": i for i in range(300)}
    assert QUICK.encode_event({"originator_id": 1, **many, "originator_version": 2}) == GENERIC.encode(many)
    assert QUICK.encode_event({"originator_id": 1, "originator_version": 2}) == b"{}"


def test_values_that_json_cannot_hold_fail_as_they_do_generically() -> None:
    for bad in ({"x": object()}, {"x": [{1, 2}]}, {"x": {(1, 2): 3}}):
        with pytest.raises(TypeError):
            GENERIC.encode(bad)
        with pytest.raises(TypeError):
            QUICK.encode(bad)
        with pytest.raises(TypeError):
            QUICK.encode_event(bad)


def test_a_transcoding_registered_again_replaces_the_quick_path() -> None:
    _, quick = _transcoders()

    class Cents:  # a Decimal stored as whole cents, under the name of the usual transcoding
        type = Decimal
        name = "decimal_str"

        def encode(self, obj: Decimal) -> int:
            return int(obj * 100)

        def decode(self, data: int) -> Decimal:
            return Decimal(data) / 100

    quick.register(Cents())  # type: ignore[arg-type]
    generic = JSONTranscoder()
    generic.register(Cents())  # type: ignore[arg-type]
    register_transcodings(generic)
    value = {"m": Money(Decimal("1.25"), "JPY"), "d": Decimal("2.5")}
    assert quick.encode(value) == generic.encode(value)
    assert quick.decode(quick.encode(value)) == value


# -- the mapper -------------------------------------------------------------------------


class Thing(Aggregate):
    class Named(Aggregate.Event):
        name: str
        amount: Money

    class Renamed(Aggregate.Event):
        class_version = 2
        name: str

    def __init__(self, name: str) -> None:
        self.name = name

    def rename(self, name: str) -> None:
        self.trigger_event(self.Renamed, name=name)


def _generic_mapper() -> Mapper[uuid.UUID]:
    return Mapper(_transcoders()[0])


def _same(a: StoredEvent, b: StoredEvent) -> None:
    assert (a.originator_id, a.originator_version, a.topic, a.state) == (
        b.originator_id,
        b.originator_version,
        b.topic,
        b.state,
    )


def test_the_mapper_stores_any_event_as_eventsourcings_does() -> None:
    thing = Thing("x")
    thing.trigger_event(Thing.Named, name="y", amount=Money(Decimal("10.5"), "EUR"))
    thing.rename("z")  # a class_version 2: eventsourcing's way (the state records the version)
    quick = LedgerMapper(_transcoders()[1])
    events = thing.collect_events()
    for event in events * 2:
        _same(quick.to_stored_event(event), _generic_mapper().to_stored_event(event))
    assert b'"class_version":2' in quick.to_stored_event(events[-1]).state
    for event in events:
        assert vars(quick.to_domain_event(quick.to_stored_event(event))) == vars(event)


def test_the_mapper_compresses_and_encrypts_when_told() -> None:
    pytest.importorskip("Crypto")
    from eventsourcing.cipher import AESCipher
    from eventsourcing.compressor import ZlibCompressor

    key = AESCipher.create_key(32)
    cipher = AESCipher({"CIPHER_KEY": key})
    quick = LedgerMapper(_transcoders()[1], compressor=ZlibCompressor(), cipher=cipher)
    generic = Mapper(_transcoders()[0], compressor=ZlibCompressor(), cipher=cipher)
    thing = Thing("secret name")
    (event,) = thing.collect_events()
    stored = quick.to_stored_event(event)
    assert b"secret" not in stored.state
    assert vars(quick.to_domain_event(stored)) == vars(event)
    assert vars(generic.to_domain_event(stored)) == vars(event)


def test_another_transcoder_goes_eventsourcings_way() -> None:
    generic_transcoder = _transcoders()[0]
    thing = Thing("x")
    (event,) = thing.collect_events()
    _same(LedgerMapper(generic_transcoder).to_stored_event(event), Mapper(generic_transcoder).to_stored_event(event))


@pytest.fixture(scope="module")
def events_of(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Import a journal into a fresh ledger and return the events it recorded."""
    made = iter(range(10**9))

    def events(ops: list[Op]) -> list[Any]:
        path = tmp_path_factory.mktemp("transcodings") / f"l{next(made)}.sqlite"
        ledger = PartnershipLedger.open(str(path))
        try:
            assert isinstance(ledger.mapper, LedgerMapper)
            seen: list[Any] = []
            to_stored = ledger.mapper.to_stored_event

            def keep(event: Any) -> StoredEvent:
                seen.append(event)
                return to_stored(event)

            ledger.mapper.to_stored_event = keep  # type: ignore[method-assign]
            ledger.import_journal(json.dumps(ops).encode())
            return seen
        finally:
            ledger.close()

    return events


@given(valid_journals(max_ops=30))
@settings(max_examples=30, deadline=None)
def test_a_journals_events_are_stored_as_eventsourcings_mapper_stores_them(events_of: Any, ops: list[Op]) -> None:
    generic, quick = _generic_mapper(), LedgerMapper(_transcoders()[1])
    for event in events_of(ops):
        _same(quick.to_stored_event(event), generic.to_stored_event(event))


def test_every_op_stores_what_eventsourcings_mapper_stores(events_of: Any, every_op_path: Path) -> None:
    generic, quick = _generic_mapper(), LedgerMapper(_transcoders()[1])
    events = events_of(json.loads(every_op_path.read_text()))
    assert len({type(e) for e in events}) > 15
    for event in events:
        _same(quick.to_stored_event(event), generic.to_stored_event(event))


def test_dates_and_times_keep_their_iso_text() -> None:
    moment = datetime(2024, 4, 1, 9, 30, 0, 123, tzinfo=timezone(timedelta(hours=9)))
    value = {"at": moment, "on": date(2024, 4, 1), "id": uuid.UUID(int=5)}
    assert QUICK.encode(value) == GENERIC.encode(value)
    assert QUICK.decode(QUICK.encode(value)) == value
