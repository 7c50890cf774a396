"""Parties registered and pledges made before identifiers, areas and recipients still load.

A version 1 ``Party.Registered`` (no ``identifiers``, no ``area``, no ``class_version`` in its
state) is upcast; a ``Pledged`` stored without ``recipient`` reads as naming none, through the
mapper, as the read models read it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.domain import Party, ResourceContribution
from partnership_ledger.errors import ContributionError, NotAMember, UnknownKey

JOURNAL = [
    {"op": "register_party", "key": "a", "name": "A", "sector": "npo", "identifiers": ["GB-CHC-1234567"]},
    {"op": "register_party", "key": "b", "name": "B", "sector": "prefecture", "area": "JP-LGC-070009"},
    {"op": "register_party", "key": "c", "name": "C", "sector": "npo"},
    {
        "op": "propose_partnership",
        "key": "p",
        "title": "P",
        "purpose": "x",
        "proposed_by": "a",
        "members": ["a", "b"],
        "on": "2020-04-01",
    },
    {
        "op": "pledge",
        "key": "m",
        "partnership": "p",
        "party": "b",
        "kind": "money",
        "value": {"amount": "5", "currency": "JPY"},
        "fiscal_year": 2020,
        "recipient": "a",
    },
    {
        "op": "pledge",
        "key": "n",
        "partnership": "p",
        "party": "b",
        "kind": "money",
        "value": {"amount": "7", "currency": "JPY"},
        "fiscal_year": 2020,
    },
]


def stored(ledger: PartnershipLedger) -> list[StoredEvent]:
    return [ledger.mapper.to_stored_event(e) for _, e in ledger.stored_events()]


def as_old(event: StoredEvent, drop: tuple[str, ...]) -> StoredEvent:
    state = json.loads(event.state)
    for name in (*drop, "class_version"):
        state.pop(name, None)
    return StoredEvent(event.originator_id, event.originator_version, event.topic, json.dumps(state).encode())


def test_old_events_load(tmp_path: Path) -> None:
    with PartnershipLedger.open(tmp_path / "l.sqlite") as ledger:
        ledger.import_journal(json.dumps(JOURNAL).encode())
        events = stored(ledger)
        assert b'"class_version":2' in events[0].state
        old_party = as_old(events[0], ("identifiers", "area"))
        party = ledger.mapper.to_domain_event(old_party).mutate(None)
        assert isinstance(party, Party)
        assert (party.key, party.identifiers, party.area) == ("a", [], None)
        new_party = ledger.mapper.to_domain_event(events[0]).mutate(None)
        assert (new_party.identifiers, new_party.area) == (["GB-CHC-1234567"], None)

        pledges = [e for e in events if e.topic.endswith("ResourceContribution.Pledged")]
        assert b'"recipient":"a"' in pledges[0].state
        for pledge in pledges:
            old = as_old(pledge, ("recipient",))
            assert b"recipient" not in old.state
            event = ledger.mapper.to_domain_event(old)
            c = event.mutate(None)
            assert isinstance(c, ResourceContribution)
            assert c.recipient is None
            assert event.recipient is None  # the class's default
        assert ledger.show("m")["recipient"] == "a"
        assert ledger.show("n")["recipient"] is None
        exported = list(ledger.export_operations())
        assert exported[4]["recipient"] == "a"
        assert "recipient" not in exported[5]
        assert "identifiers" not in exported[2]
        assert exported[0]["identifiers"] == ["GB-CHC-1234567"]


@pytest.mark.parametrize(
    ("changes", "error", "says"),
    [
        ({"recipient": "b"}, ContributionError, "names its own party b as its recipient"),
        ({"recipient": "c"}, NotAMember, "c is not a member of partnership p, so it cannot receive contribution x"),
        ({"recipient": "zz"}, UnknownKey, "zz"),
        ({"kind": "facility"}, ContributionError, "a recipient applies to money only"),
    ],
)
def test_a_recipient_is_a_member_other_than_the_giver(
    tmp_path: Path, changes: dict[str, Any], error: type[Exception], says: str
) -> None:
    with PartnershipLedger.open(tmp_path / "l.sqlite") as ledger:
        ledger.import_journal(json.dumps(JOURNAL).encode())
        before = ledger.event_count()
        args: dict[str, Any] = {"kind": "money", "recipient": "a", **changes}
        with pytest.raises(error, match=says):
            ledger.pledge("x", "p", "b", value={"amount": "1", "currency": "JPY"}, fiscal_year=2020, **args)
        assert ledger.event_count() == before
