"""Checks that the read models and indexes hold exactly what the events give.

The read models (history, burden facts, submissions...), the operation index
(``ledger_ops``), the key index (``ledger_keys``) and the tracking row live beside the
events, outside the hash chain: someone who can write the file can change a figure there and
``verify_chain`` would not see it. :func:`check_read_models` recomputes them all into a
scratch SQLite file (:mod:`.scratch`) by replaying the events with the same projection code the ledger uses
(so a new read model or column is covered without changing this module), then compares the
stored tables with the recomputed ones, table by table and row by row, in key order
(:mod:`.table_diff`).

The first difference is named by table, key, field, stored value and recomputed value.
With ``count=True`` every table is compared to the end and the rows that differ are
counted per table (what ``rebuild`` reports it repaired).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from ..storage.db import Db
from .runner import TRACKING_NAME
from .scratch import INDEX_TABLE_NAMES, Scratch, replace_indexes
from .table_diff import Difference as Difference
from .table_diff import compare_table

if TYPE_CHECKING:
    from ..application import PartnershipLedger


@attrs.frozen
class ReadModelCheck:
    """The outcome of :func:`check_read_models`."""

    ok: bool
    position: int  # the position the read models were checked at (their tracking row)
    tables: tuple[str, ...]
    difference: Difference | None = None
    changed: dict[str, int] = attrs.field(factory=dict)  # rows that differ, per table (count=True)
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "position": self.position,
            "tables": list(self.tables),
            "difference": self.difference.to_dict() if self.difference else None,
            "changed": dict(self.changed),
            "message": self.message,
        }


def _older_layout(db: Db) -> str | None:
    """The tracking row's name of read models an older version made (``read_models.v5``), if
    the ledger has such a row and none of this version's layout."""
    with db.transaction(commit=False) as c:
        try:
            c.execute(
                "SELECT name FROM ledger_tracking WHERE name LIKE 'read_models.v%' AND name <> ? ORDER BY name",
                (TRACKING_NAME,),
            )
            rows = c.fetchall()
        except Exception:  # no tracking table
            return None
    names = [str(r[0]) for r in rows if str(r[0]).removeprefix("read_models.v").isdigit()]
    return names[-1] if names else None


def _tracking(db: Db) -> tuple[int | None, int]:
    """(the read models' tracking position or None, the last event position) as stored."""
    with db.transaction(commit=False) as c:
        try:
            c.execute("SELECT position FROM ledger_tracking WHERE name=?", (TRACKING_NAME,))
            row = c.fetchone()
        except Exception:  # no tracking table
            row = None
        c.execute(f"SELECT MAX({db.position_col}) FROM {db.events_table} WHERE {db.position_col} > 0")
        last = c.fetchone()
    tracked = row[0] if row else None
    return (tracked if isinstance(tracked, int) and not isinstance(tracked, bool) else None), int(
        (last or (0,))[0] or 0
    )


def check_read_models(
    ledger: PartnershipLedger,
    *,
    count: bool = False,
    progress: Callable[[int], None] | None = None,
    scratch_dir: str | None = None,
    repair_indexes: bool = False,
) -> ReadModelCheck:
    """Recompute every read model and index from the events and compare them with the stored ones.

    The read models are compared at the position their tracking row names (a ledger whose
    read models another process keeps, ``follow``, may lag behind its events); the indexes,
    which are written with the events, at the last event. Returns the first difference (or,
    with ``count``, also the number of rows that differ in each table). Reads only: nothing
    of the ledger is changed, unless ``repair_indexes``: then operation and key indexes that
    differ are replaced by the recomputed ones (what ``rebuild`` does; the read models
    themselves it recomputes in place). ``progress`` is called with the number of events replayed.
    """
    from ..errors import IntegrityError
    from ..integrity import foreign_row

    found = foreign_row(ledger.db)
    if found is not None:  # nothing can be recomputed from rows the chain does not vouch for
        raise IntegrityError(f"tampering found: the event row at position {found[0]} {found[1]}")
    folder = tempfile.mkdtemp(prefix="partnership-ledger-verify-", dir=scratch_dir)
    try:
        result = _check(ledger, os.path.join(folder, "scratch.sqlite"), count, progress, repair_indexes)
        return _with_snapshots(ledger, _with_key_table(ledger, result))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _with_snapshots(ledger: PartnershipLedger, result: ReadModelCheck) -> ReadModelCheck:
    """The read models' check, failed when a stored snapshot differs from the events (the
    rules read snapshots: see snapshots.py)."""
    from ..snapshots import check_snapshots, snapshot_table

    found = check_snapshots(ledger) if result.ok else None
    if found is None:
        return result
    key, problem = found
    diff = Difference(snapshot_table(ledger) or "snapshots", key, "state", "(stored snapshot)", "(replayed events)")
    return attrs.evolve(result, ok=False, difference=diff, message=problem)


def _with_key_table(ledger: PartnershipLedger, result: ReadModelCheck) -> ReadModelCheck:
    """The read models' check, failed when the key table (residents' private values, kept
    beside the chain: docs/privacy.md) disagrees with the chain."""
    if not result.ok:
        return result
    problem = ledger.check_key_table()
    if problem is None:
        return result
    diff = Difference("ledger_private", {}, "(key table)", problem, None)
    return attrs.evolve(result, ok=False, difference=diff, message=problem)


def _check(
    ledger: PartnershipLedger,
    path: str,
    count: bool,
    progress: Callable[[int], None] | None,
    repair_indexes: bool = False,
) -> ReadModelCheck:
    source = ledger.db
    scratch: Scratch | None = None
    try:
        for attempt in range(1, ATTEMPTS + 1):
            tracked, last = _tracking(source)
            if scratch is None or (tracked is not None and tracked < scratch.replayed):
                # (A ledger whose read models lag, kept by a `follow` process, can be checked
                # at a position the scratch is already past: it starts again.)
                if scratch is not None:
                    scratch.close()
                scratch = Scratch(ledger, f"{path}.{attempt}")
            con, tables = scratch.con, scratch.tables
            older = _older_layout(source) if tracked is None else None
            if older is not None:
                # Read models an older version made: no reader uses them (a query answers from
                # a private copy brought up to date from the events), so they vouch for nothing
                # and are not compared; the indexes, written with the events, are.
                return _check_indexes_only(source, scratch, last, older, count, progress)
            if tracked is None:
                diff = Difference("ledger_tracking", {"name": TRACKING_NAME}, None, None, (TRACKING_NAME,))
                return ReadModelCheck(False, 0, tables, diff, {"ledger_tracking": 1}, diff.sentence())
            if tracked > last or tracked < 0:
                diff = Difference("ledger_tracking", {"name": TRACKING_NAME}, "position", tracked, last)
                return ReadModelCheck(
                    False,
                    tracked,
                    tables,
                    diff,
                    {"ledger_tracking": 1},
                    f"{diff.sentence()} (the read models claim events that are not there)",
                )
            changed: dict[str, int] = {}
            first: Difference | None = None
            # Phase 1: the read models, up to their tracking position; phase 2: the indexes,
            # up to the last event (the scratch runner goes on from where it stopped).
            for upto, names in ((tracked, scratch.rm_tables), (last, INDEX_TABLE_NAMES)):
                scratch.replay(source, upto, progress)
                for table in names:
                    found, n = compare_table(con, source, scratch.source_schema(table), table, count)
                    if n:
                        changed[table] = n
                    if found is not None and first is None:
                        first = found
                        if not count:
                            break
                if first is not None and not count:
                    break
            if first is None:
                return ReadModelCheck(
                    True,
                    tracked,
                    tables,
                    None,
                    changed,
                    f"the read models and indexes ({len(tables)} tables) agree with the events up to "
                    f"position {tracked}",
                )
            # A difference is only meaningful if the ledger did not move on meanwhile (another
            # process recording): else once more, the replay going on from where it is.
            now, now_last = _tracking(source)
            if now == tracked and now_last == last:
                damaged = [t for t in INDEX_TABLE_NAMES if t in changed]
                if repair_indexes and damaged:
                    replace_indexes(con, source, damaged)
                return ReadModelCheck(False, tracked, tables, first, changed, first.sentence())
        from ..errors import StorageError

        raise StorageError(
            f"the ledger kept changing while its read models were checked ({ATTEMPTS} times, other "
            "processes recording): try again when it is quieter, or use --chain-only"
        )
    finally:
        if scratch is not None:
            scratch.close()


def _check_indexes_only(
    source: Db, scratch: Scratch, last: int, older: str, count: bool, progress: Callable[[int], None] | None
) -> ReadModelCheck:
    """The check of a ledger whose read models are of an older layout: the indexes only."""
    scratch.replay(source, last, progress)
    changed: dict[str, int] = {}
    first: Difference | None = None
    for table in INDEX_TABLE_NAMES:
        found, n = compare_table(scratch.con, source, scratch.source_schema(table), table, count)
        if n:
            changed[table] = n
        first = first or found
        if first is not None and not count:
            break
    if first is not None:
        return ReadModelCheck(False, last, scratch.tables, first, changed, first.sentence())
    return ReadModelCheck(
        True,
        last,
        scratch.tables,
        None,
        changed,
        f"the indexes agree with the events up to position {last}; the read models were made by an "
        f"older version ({older}) and no query uses them (each answers from the events) until "
        "'partnership-ledger rebuild' or the next write makes them anew",
    )


#: Checks started again when other processes recorded meanwhile, before giving up.
ATTEMPTS = 5


def require_read_models(ledger: PartnershipLedger) -> ReadModelCheck:
    """:func:`check_read_models`, raising :class:`IntegrityError` naming the first difference:
    for whatever prints figures it vouches for (``report --verify``)."""
    from ..errors import IntegrityError

    result = check_read_models(ledger)
    if not result.ok:
        raise IntegrityError(
            f"tampering found: a read model differs from the events, so no figure is printed: {result.message} "
            "(run 'partnership-ledger verify' to see it, 'partnership-ledger rebuild' to repair it)"
        )
    return result
