"""The read models' event decoder (projections/decoding.py) makes exactly the events that
eventsourcing's mapper makes from the same stored rows: same class, same fields in the same
order, same values and types, for the layouts it reads from the bytes and for the rest."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any
from uuid import UUID

import attrs
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from strategies import valid_journals

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.errors import LedgerError
from partnership_ledger.projections import decoding
from partnership_ledger.projections.decoding import EventDecoder


def stored_rows(ledger: PartnershipLedger) -> list[tuple[Any, ...]]:
    with sqlite3.connect(ledger.location) as con:
        return con.execute("SELECT originator_id, originator_version, topic, state FROM stored_events").fetchall()


def same_event(a: Any, b: Any) -> bool:
    if type(a) is not type(b) or list(a.__dict__) != list(b.__dict__):
        return False
    pairs = zip(a.__dict__.values(), b.__dict__.values(), strict=True)
    return all(type(x) is type(y) and repr(x) == repr(y) for x, y in pairs)


def check_all(ledger: PartnershipLedger) -> dict[str, int]:
    """Decode every stored event both ways; how many took each fast layout."""
    from eventsourcing.persistence import StoredEvent

    decoder = EventDecoder(ledger.mapper)
    fast: dict[str, int] = {}
    for oid, version, topic, state in stored_rows(ledger):
        want = ledger.mapper.to_domain_event(
            StoredEvent(originator_id=UUID(oid), originator_version=version, topic=topic, state=state)
        )
        got, stamp = decoder.decode_stamped(oid, version, topic, state)
        assert same_event(got, want), topic
        # The stored text of the recorded time, when given, is what isoformat makes of it.
        assert stamp is None or stamp == want.timestamp.isoformat(), (stamp, topic)
        if topic in decoder._fast and not stamp_of(state).startswith(b"2"):  # pragma: no cover
            raise AssertionError(f"an unexpected timestamp in {state!r}")
        layout = decoder._fast.get(topic)
        if layout is not None and layout(bytes(state)) is not None:
            name = topic.rsplit(".", 1)[1]
            fast[name] = fast.get(name, 0) + 1
    return fast


def stamp_of(state: bytes) -> bytes:
    return bytes(state).split(b'"_data_":"', 1)[1].split(b'"', 1)[0]


@settings(max_examples=30)
@given(valid_journals(min_ops=4, max_ops=40))
def test_decoded_events_equal_the_mappers(tmp_path_factory: Any, ops: list[dict[str, Any]]) -> None:
    path = tmp_path_factory.mktemp("dec") / "l.sqlite"
    with PartnershipLedger.open(path) as ledger:
        ledger.import_journal(json.dumps(ops).encode())
        check_all(ledger)


# Text with what JSON escapes (quotes, backslashes) and what it may not (non-ASCII, "/").
WEIRD = st.text(
    alphabet=st.one_of(st.sampled_from('ab "\\/\u00e9\u65e5\u2028'), st.characters(blacklist_categories=("Cc", "Cs"))),
    min_size=1,
    max_size=12,
)


@settings(max_examples=30)
@given(WEIRD, WEIRD, WEIRD, st.sampled_from(["1", "0.10", "123456789012345678901234.5678", "2400"]))
def test_any_text_in_a_pledge_or_delivery_decodes_as_the_mapper_does(
    tmp_path_factory: Any, evidence: str, note: str, basis: str, amount: str
) -> None:
    # Quotes, backslashes, control characters and non-ASCII text are escaped or not in the
    # stored JSON: the decoder reads the plain ones from the bytes and leaves the others to
    # the transcoder, and both must give the mapper's event.
    ops: list[dict[str, Any]] = [
        {"op": "register_party", "key": "pa", "name": "A", "sector": "npo"},
        {
            "op": "propose_partnership",
            "key": "p",
            "title": "T",
            "purpose": "P",
            "proposed_by": "pa",
            "members": ["pa"],
            "on": "2020-04-01",
        },
        {
            "op": "pledge",
            "key": "c1",
            "partnership": "p",
            "party": "pa",
            "kind": "equipment",
            "value": {"amount": "1000", "currency": "JPY"},
            "quantity": amount,
            "unit": note,
            "valuation_basis": basis,
            "description": evidence,
            "fiscal_year": 2020,
            "by": note,
            "note": evidence,
        },
        {
            "op": "deliver",
            "contribution": "c1",
            "value": {"amount": "10", "currency": "JPY"},
            "on": "2020-06-01",
            "evidence": evidence,
            "by": basis,
            "note": note,
        },
    ]
    path = tmp_path_factory.mktemp("dec") / "l.sqlite"
    with PartnershipLedger.open(path) as ledger:
        try:
            ledger.import_journal(json.dumps(ops).encode())
        except LedgerError:  # a text the journal refuses: nothing stored
            assume(False)
        check_all(ledger)


def test_the_every_op_journal_takes_the_fast_layouts(tmp_path: Path, every_op_path: Path) -> None:
    with PartnershipLedger.open(tmp_path / "l.sqlite") as ledger:
        ledger.import_journal(every_op_path.read_bytes())
        fast = check_all(ledger)
    # Every pledge and delivery there is plain text: read from the bytes, with money and
    # metadata made straight from their fields.
    assert fast == {"Pledged": 4, "Delivered": 3, "Measured": 3, "DecisionRecorded": 1, "Submitted": 3}
    decoder = EventDecoder(ledger.mapper)
    assert decoder._new_money is not None
    assert decoder._new_meta is not None


def test_small_id_and_date_caches_still_decode_every_event(
    tmp_path: Path, every_op_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setattr(decoding, "UUID_CACHE", 2)
    monkeypatch.setattr(decoding, "DATE_CACHE", 1)
    with PartnershipLedger.open(tmp_path / "l.sqlite") as ledger:
        ledger.import_journal(every_op_path.read_bytes())
        check_all(ledger)
        ledger.rebuild()
        assert ledger.info()["read_model_lag"] == 0


def test_an_attrs_value_is_made_by_its_class_when_its_fields_are_in_that_order() -> None:
    @attrs.frozen
    class Plain:
        a: int
        b: int

    assert decoding._positional(FakeTranscoding(Plain), ("a", "b")) is Plain
    assert decoding._positional(FakeTranscoding(Plain), ("b", "a")) is None


class FakeTranscoding:
    def __init__(self, cls: type[Any]) -> None:
        self.type = cls


FakeTranscoding.__name__ = "AttrsTranscoding"


@pytest.mark.parametrize(
    ("stored", "quick"),
    [
        ("2026-11-29T14:42:27.354437+00:00", True),
        ("2026-11-29T14:42:27+00:00", True),  # no microseconds: isoformat leaves them out
        ("2026-11-29T23:42:27.000001+09:00", True),
        ("2026-11-29T09:42:27.5-05:00", False),  # not six digits
        ("2026-11-29T14:42:27.000000+00:00", False),  # isoformat would leave them out
        ("2026-11-29T14:42:27-00:00", False),  # isoformat writes +00:00
        ("2026-11-29 14:42:27+00:00", False),  # a space
        ("2026-11-29T14:42:27Z", False),
        ("2026-11-29T14:42:27", False),  # naive
    ],
)
def test_a_timestamp_not_as_isoformat_writes_it_decodes_the_generic_way(
    tmp_path: Path, every_op_path: Path, stored: str, quick: bool
) -> None:
    """The history rows keep the stored text of the recorded time only when it is the one
    ``isoformat`` makes of the decoded time; any other form is decoded as the mapper does."""
    from eventsourcing.persistence import StoredEvent

    with PartnershipLedger.open(tmp_path / "l.sqlite") as ledger:
        ledger.import_journal(every_op_path.read_bytes())
        decoder = EventDecoder(ledger.mapper)
        rows = [r for r in stored_rows(ledger) if r[2] == decoding._DELIVERED_TOPIC]
        oid, version, topic, state = rows[0]
        state = state.replace(stamp_of(state), stored.encode(), 1)
        want = ledger.mapper.to_domain_event(
            StoredEvent(originator_id=UUID(oid), originator_version=version, topic=topic, state=state)
        )
        got, stamp = decoder.decode_stamped(oid, version, topic, state)
        assert same_event(got, want)
        assert (decoder._fast[topic](state) is not None) is quick
        assert stamp == (stored if quick else None)
        if quick:
            assert stamp == got.timestamp.isoformat()
