"""Snapshots: eventsourcing's own, every :data:`INTERVAL` events of a long-lived aggregate,
so loading one replays a bounded number of events.

Taken after the batch that crossed the interval commits, the older ones of that aggregate
removed. Evaluations are not snapshotted: their state holds residents' private values, which
must never be copied out of the events (an erasure could not reach the copy). A snapshot is
derived data, like a read model (not chained, not exported), but the rules read it, so
``verify`` recomputes every stored one from the events (:func:`check_snapshots`), and
``rebuild`` drops them all (loading then replays the events, and they are taken again).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.application import project_aggregate
from eventsourcing.persistence import JSONTranscoder, PersistenceError, StoredEvent

from .domain import Agreement, NumericTarget, Partnership, Party, ResourceContribution
from .domain.agreement import Amendment
from .domain.contribution import Correction, Delivery
from .domain.partnership import Decision, MemberSpell
from .domain.party import PartyAmendment
from .domain.target import Measurement, Revision
from .storage.transcodings import AttrsTranscoding

if TYPE_CHECKING:
    from .application import PartnershipLedger

#: Events of one aggregate between its snapshots.
INTERVAL = 100
#: How many bytes of encoded snapshots are stored at a time (memory stays bounded).
STORE_BYTES = 4_000_000
#: The kinds that are snapshotted, with their interval (eventsourcing's ``snapshotting_intervals``).
INTERVALS: dict[type[Any], int] = dict.fromkeys(
    (Agreement, Partnership, Party, ResourceContribution, NumericTarget), INTERVAL
)
#: The value objects of the snapshotted aggregates' state that their events do not carry.
STATE_VALUES = (
    (Amendment, "amendment"),
    (MemberSpell, "member_spell"),
    (Decision, "decision"),
    (PartyAmendment, "party_amendment"),
    (Delivery, "delivery"),
    (Correction, "correction"),
    (Measurement, "measurement"),
    (Revision, "revision"),
)


def register_snapshot_transcodings(transcoder: JSONTranscoder) -> None:
    """The value objects a snapshotted aggregate's state holds besides those its events carry."""
    for cls, name in STATE_VALUES:
        transcoder.register(AttrsTranscoding(cls, name))


def crossed(events: Iterable[Any]) -> set[UUID]:
    """The aggregates among ``events`` that reached a version at which a snapshot is due."""
    return {e.originator_id for e in events if e.originator_version % INTERVAL == 0}


def snapshot_table(ledger: PartnershipLedger) -> str | None:
    """The table of the ledger's snapshots, or None when it has none (opened to read only a
    ledger written before snapshots)."""
    store = ledger.snapshots
    if store is None:
        return None
    return str(store.recorder.events_table_name)  # type: ignore[attr-defined]


def take_snapshots(ledger: PartnershipLedger, aggregates: Iterable[Any], due: set[UUID]) -> None:
    """Snapshot those of ``aggregates`` (just committed) that reached a version at which one is
    due (:func:`crossed`), and drop their older snapshots.

    Taken from the aggregate in memory, which holds what its stored events give, so a long
    batch is not replayed again; stored :data:`STORE_BYTES` of encoded state at a time (a
    long-lived partnership's state can be half a megabyte, and a big import makes many due at
    once). Snapshots that cannot be stored (another process took the same one, the disk is
    full) are left out: they only save time.
    """
    table = snapshot_table(ledger)
    store = ledger.snapshots
    if table is None or store is None or not due:
        return
    encoded: list[StoredEvent] = []
    size = 0
    try:
        for a in aggregates:
            if a.id in due and type(a) in INTERVALS:
                encoded.append(store.mapper.to_stored_event(type(a).Snapshot.take(a)))
                size += len(encoded[-1].state)
                if size >= STORE_BYTES:
                    _store(ledger, table, encoded)
                    encoded, size = [], 0
        if encoded:
            _store(ledger, table, encoded)
    except PersistenceError:
        return


def _store(ledger: PartnershipLedger, table: str, encoded: list[StoredEvent]) -> None:
    """Store encoded snapshots, then delete the older ones of their aggregates."""
    ledger.snapshots.recorder.insert_events(encoded)  # type: ignore[union-attr]
    with ledger.db.transaction() as c:
        for snapshot in encoded:
            oid = UUID(str(snapshot.originator_id))
            c.execute(
                f"DELETE FROM {table} WHERE originator_id = ? AND originator_version < ?",
                (oid if ledger.backend == "postgresql" else oid.hex, snapshot.originator_version),
            )


def check_snapshots(ledger: PartnershipLedger) -> tuple[dict[str, Any], str] | None:
    """The first stored snapshot that differs from what the events give, as (its key, what
    differs), or None when every one matches (or there are none).

    Each is recomputed by replaying its aggregate's chained events up to its version, with
    no snapshot, and the two states are compared in their stored encoding.
    """
    table = snapshot_table(ledger)
    if table is None:
        return None
    with ledger.db.transaction(commit=False) as c:
        c.execute(f"SELECT originator_id, originator_version FROM {table} ORDER BY originator_id, originator_version")
        rows = [(UUID(str(r[0])), int(r[1])) for r in c.fetchall()]
    encode = ledger.mapper.transcoder.encode
    store = ledger.snapshots
    assert store is not None
    for agg_id, version in rows:
        where = {"aggregate": agg_id.hex, "version": version}
        try:
            stored: Any = next(iter(store.get(agg_id, gt=version - 1, lte=version)), None)
        except Exception as e:  # tampered beyond reading
            return where, f"the snapshot of aggregate {agg_id.hex} at version {version} cannot be read ({e})"
        if stored is None:
            continue  # replaced by a newer one meanwhile
        replayed: Any = project_aggregate(None, ledger.events.get(agg_id, lte=version))
        if replayed is None or replayed.version != version:
            return (
                where,
                f"the snapshot of aggregate {agg_id.hex} at version {version} has no such version in its events",
            )
        where = {"aggregate": f"{replayed.kind} {replayed.key}", "version": version}
        recomputed = type(replayed).Snapshot.take(replayed)
        if stored.topic != recomputed.topic or encode(_kept(stored.state)) != encode(_kept(recomputed.state)):
            return where, (
                f"the snapshot of {replayed.kind} {replayed.key} at version {version} differs from its events "
                "('rebuild' drops the snapshots: loading then replays the events)"
            )
    return None


def open_snapshots(ledger: PartnershipLedger) -> None:
    """Load without snapshots a ledger that has no table for them (one written before
    snapshots, opened to read only: nothing may be created in it)."""
    table = snapshot_table(ledger)
    if table is None:
        return
    try:
        with ledger.db.transaction(commit=False) as c:
            c.execute(f"SELECT 1 FROM {table} LIMIT 1")
            c.fetchall()
    except Exception:
        ledger.snapshots = None
        ledger.repository.snapshot_store = None


def drop_snapshots(ledger: PartnershipLedger) -> None:
    """Delete every stored snapshot (``rebuild`` does: they are taken again as aggregates change)."""
    table = snapshot_table(ledger)
    if table is not None:
        with ledger.db.transaction() as c:
            c.execute(f"DELETE FROM {table}")


def _kept(state: dict[str, Any]) -> dict[str, Any]:
    """``state`` without its empty containers: an aggregate makes some of its own (``voided``)
    the first time they are read, so one kept in memory may have an empty one where the
    replay of its events has none; the two are the same state."""
    return {k: v for k, v in state.items() if not (isinstance(v, dict | list) and not v)}
