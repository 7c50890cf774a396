"""The ledger's history replayed for the standard exports: every aggregate after every change.

Both standards describe a process as it changed (OCDS publishes one release per change) and
each record with when it was last modified (360Giving's ``dateModified``), so the exports
read the stored events in order and keep the aggregates as they stand after each one, made
by the domain's own event methods (the same state ``show`` gives).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

import attrs

from ..domain import Agreement, LedgerAggregate, Partnership, Party, ResourceContribution
from ..queries.operations import event_name

#: The sectors on the government side of a partnership (OCDS's buyer and payer).
GOVERNMENT_SECTORS = frozenset({"prefecture", "municipality", "national_government", "public_agency"})


@attrs.frozen
class Change:
    """One stored event: where and when it was recorded, what it was and what it changed."""

    position: int
    recorded: datetime
    event: str  # the event class's qualified name, e.g. "Agreement.Signed"
    kind: str
    key: str
    op_id: str | None  # the journal operation it records (an operation may make several events)


@attrs.define
class LedgerState:
    """The aggregates an export reads, by kind and key, as they stand after the last change."""

    parties: dict[str, Party] = attrs.Factory(dict)
    partnerships: dict[str, Partnership] = attrs.Factory(dict)
    agreements: dict[str, Agreement] = attrs.Factory(dict)
    contributions: dict[str, ResourceContribution] = attrs.Factory(dict)
    modified: dict[tuple[str, str], datetime] = attrs.Factory(dict)  # (kind, key) -> last change

    def last_modified(self, kind: str, key: str) -> datetime:
        return self.modified[(kind, key)]


_TABLES = {
    "party": "parties",
    "partnership": "partnerships",
    "agreement": "agreements",
    "contribution": "contributions",
}


def replay(events: Iterable[tuple[int, Any]]) -> Iterator[tuple[Change, LedgerState]]:
    """Each stored event (position, domain event), applied: the change and the state after it.

    The state is one object, changed in place as the events come: read what you need of it
    before asking for the next change. Targets and evaluations are not kept (the standards
    exports do not use them).
    """
    for changes, state in replay_operations(events):
        yield changes[-1], state


def replay_operations(events: Iterable[tuple[int, Any]]) -> Iterator[tuple[list[Change], LedgerState]]:
    """The stored events applied an operation at a time: the changes one journal operation
    made (a pledge also adopts a currency and counts against an agreement's cap) and the state
    after all of them. The state is changed in place, as in :func:`replay`."""
    state = LedgerState()
    by_id: dict[Any, LedgerAggregate] = {}
    changes: list[Change] = []
    for position, event in events:
        meta = getattr(event, "meta", None)
        op_id = getattr(meta, "op_id", None)
        if changes and (op_id is None or op_id != changes[-1].op_id):
            yield changes, state
            changes = []
        found = by_id.get(event.originator_id)
        if found is None and event.originator_version != 1:
            continue  # an aggregate whose creation this export does not keep
        aggregate = event.mutate(found)
        if not isinstance(aggregate, Party | Partnership | Agreement | ResourceContribution):
            continue
        by_id[event.originator_id] = aggregate
        kind = aggregate.kind
        getattr(state, _TABLES[kind])[aggregate.key] = aggregate
        state.modified[(kind, aggregate.key)] = event.timestamp
        changes.append(Change(position, event.timestamp, event_name(event), kind, aggregate.key, op_id))
    if changes:
        yield changes, state


def final_state(events: Iterable[tuple[int, Any]]) -> LedgerState:
    """The state after every event."""
    last = LedgerState()
    for _, state in replay(events):
        last = state
    return last


def recipient_of(state: LedgerState, c: ResourceContribution) -> tuple[str, str]:
    """Who receives a money contribution: ``("party", key)`` or ``("partnership", key)``.

    1. the party the pledge names as ``recipient``;
    2. else the partnership's proposer, when it is not the party that gives;
    3. else the partnership itself: a pooled budget its members hold together (the proposer
       putting money into its own partnership).
    """
    if c.recipient is not None:
        return ("party", c.recipient)
    proposer = state.partnerships[c.partnership].proposed_by
    if proposer != c.party:
        return ("party", proposer)
    return ("partnership", c.partnership)


def sector_of(state: LedgerState, party: str) -> str:
    return state.parties[party].sector.value
