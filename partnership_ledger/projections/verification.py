"""Checks that the read models and indexes hold exactly what the events give.

They live beside the events, outside the hash chain: :func:`check_read_models` recomputes
them all into a scratch SQLite file (:class:`Scratch`) by replaying the events with the
ledger's own projection code (so a new read model or column is covered), then compares the
stored tables with the recomputed ones (:mod:`.table_diff`) and names the first difference.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID

import attrs

from ..errors import IntegrityError, StorageError
from ..storage.db import Cursor, Db
from ..storage.setup import ENV_PATH
from ..storage.sqlite import _FileStore, read_only_uri
from .runner import TRACKING_NAME, Item, Projections, ReadModel
from .table_diff import Difference as Difference
from .table_diff import columns, compare_table

if TYPE_CHECKING:
    from ..application import PartnershipLedger

#: Checks started again when other processes recorded meanwhile, before giving up.
ATTEMPTS = 5
#: Rows copied at a time into the scratch file from a PostgreSQL ledger.
COPY_BATCH = 5000
#: The indexes kept with the events: recomputed by :class:`IndexModel`.
INDEX_TABLE_NAMES = ("ledger_ops", "ledger_keys")


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
            **attrs.asdict(self, recurse=False),
            "tables": list(self.tables),
            "difference": self.difference.to_dict() if self.difference else None,
            "changed": dict(self.changed),
        }


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
    from ..integrity import foreign_row

    found = foreign_row(ledger.db)
    if found is not None:  # nothing can be recomputed from rows the chain does not vouch for
        raise IntegrityError(f"tampering found: the event row at position {found[0]} {found[1]}")
    folder = tempfile.mkdtemp(prefix="partnership-ledger-verify-", dir=scratch_dir)
    try:
        result = _check(ledger, os.path.join(folder, "scratch.sqlite"), count, progress, repair_indexes)
        return _with_side_tables(ledger, result)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def require_read_models(ledger: PartnershipLedger) -> ReadModelCheck:
    """:func:`check_read_models`, raising :class:`IntegrityError` naming the first difference:
    for whatever prints figures it vouches for (``report --verify``)."""
    result = check_read_models(ledger)
    if not result.ok:
        raise IntegrityError(
            f"tampering found: a read model differs from the events, so no figure is printed: {result.message} "
            "(run 'partnership-ledger verify' to see it, 'partnership-ledger rebuild' to repair it)"
        )
    return result


def _with_side_tables(ledger: PartnershipLedger, result: ReadModelCheck) -> ReadModelCheck:
    """The read models' check, failed when the key table (residents' private values, kept
    beside the chain: docs/privacy.md) or a stored snapshot (the rules read snapshots:
    snapshots.py) disagrees with the events."""
    from ..snapshots import check_snapshots, snapshot_table

    if not result.ok:
        return result
    problem = ledger.check_key_table()
    if problem is not None:
        diff = Difference("ledger_private", {}, "(key table)", problem, None)
    else:
        found = check_snapshots(ledger)
        if found is None:
            return result
        key, problem = found
        diff = Difference(snapshot_table(ledger) or "snapshots", key, "state", "(stored snapshot)", "(replayed events)")
    return attrs.evolve(result, ok=False, difference=diff, message=problem)


def _tracking(db: Db) -> tuple[int | None, int, str | None]:
    """As stored: the read models' tracking position (None: no row of this version's layout),
    the last event's position, and the tracking row's name of read models an older version
    made (``read_models.v5``) when there is no row of this version's."""
    with db.transaction(commit=False) as c:
        c.execute(f"SELECT MAX({db.position_col}) FROM {db.events_table} WHERE {db.position_col} > 0")
        last = int((c.fetchone() or (0,))[0] or 0)
        try:
            c.execute("SELECT name, position FROM ledger_tracking WHERE name LIKE 'read_models.v%' ORDER BY name")
            rows = {str(name): position for name, position in c.fetchall()}
        except Exception:  # no tracking table
            rows = {}
    tracked = rows.get(TRACKING_NAME)
    if isinstance(tracked, int) and not isinstance(tracked, bool):
        return tracked, last, None
    older = [n for n in rows if n != TRACKING_NAME and n.removeprefix("read_models.v").isdigit()]
    return None, last, (older[-1] if older and TRACKING_NAME not in rows else None)


def _check(
    ledger: PartnershipLedger,
    path: str,
    count: bool,
    progress: Callable[[int], None] | None,
    repair_indexes: bool,
) -> ReadModelCheck:
    source = ledger.db
    scratch: Scratch | None = None
    try:
        for attempt in range(1, ATTEMPTS + 1):
            tracked, last, older = _tracking(source)
            if scratch is None or (tracked is not None and tracked < scratch.replayed):
                # (A ledger whose read models lag, kept by a `follow` process, can be checked
                # at a position the scratch is already past: it starts again.)
                if scratch is not None:
                    scratch.close()
                scratch = Scratch(ledger, f"{path}.{attempt}")
            tables = scratch.tables
            phases: list[tuple[int, Sequence[str]]]
            key = {"name": TRACKING_NAME}
            if tracked is None and older is None:
                diff = Difference("ledger_tracking", key, None, None, (TRACKING_NAME,))
                return ReadModelCheck(False, 0, tables, diff, {"ledger_tracking": 1}, diff.sentence())
            if tracked is not None and not 0 <= tracked <= last:
                diff = Difference("ledger_tracking", key, "position", tracked, last)
                message = f"{diff.sentence()} (the read models claim events that are not there)"
                return ReadModelCheck(False, tracked, tables, diff, {"ledger_tracking": 1}, message)
            if tracked is None:
                # Read models an older version made: no reader uses them (a query answers from
                # a private copy brought up to date from the events), so they vouch for nothing
                # and are not compared; the indexes, written with the events, are.
                at, phases = last, [(last, INDEX_TABLE_NAMES)]
                message = (
                    f"the indexes agree with the events up to position {last}; the read models were made by "
                    f"an older version ({older}) and no query uses them (each answers from the events) until "
                    "'partnership-ledger rebuild' or the next write makes them anew"
                )
            else:
                # The read models up to their tracking position, then the indexes up to the
                # last event (the scratch runner goes on from where it stopped).
                at, phases = tracked, [(tracked, scratch.rm_tables), (last, INDEX_TABLE_NAMES)]
                message = (
                    f"the read models and indexes ({len(tables)} tables) agree with the events up to position {tracked}"
                )
            first, changed = scratch.compare(source, phases, count, progress)
            if first is None:
                return ReadModelCheck(True, at, tables, None, changed, message)
            # A difference is only meaningful if the ledger did not move on meanwhile (another
            # process recording): else once more, the replay going on from where it is.
            if _tracking(source) == (tracked, last, older):
                damaged = [t for t in INDEX_TABLE_NAMES if t in changed]
                if repair_indexes and damaged:
                    scratch.replace_indexes(source, damaged)
                return ReadModelCheck(False, at, tables, first, changed, first.sentence())
        raise StorageError(
            f"the ledger kept changing while its read models were checked ({ATTEMPTS} times, other "
            "processes recording): try again when it is quieter, or use --chain-only"
        )
    finally:
        if scratch is not None:
            scratch.close()


class IndexModel(ReadModel):
    """Recomputes the operation and key indexes from the events (scratch use only).

    ``ledger_ops``: each operation id at the position of the first event carrying it (every
    event carries its operation's id in ``meta``, and the events are chained); ``ledger_keys``:
    each aggregate's key, kind and id from its first event.
    """

    tables = (
        "CREATE TABLE IF NOT EXISTS ledger_ops (op_id TEXT PRIMARY KEY, position INTEGER NOT NULL)",
        "CREATE TABLE IF NOT EXISTS ledger_keys (key TEXT PRIMARY KEY, kind TEXT NOT NULL, "
        "originator_id TEXT NOT NULL)",
    )
    table_names = INDEX_TABLE_NAMES

    def apply_all(self, c: Cursor, items: Sequence[Item]) -> None:
        ops = [(getattr(getattr(e, "meta", None), "op_id", None), position) for position, e, _ in items]
        keys = [(info.key, info.kind, e.originator_id.hex) for _, e, info in items if e.originator_version == 1]
        ops = [o for o in ops if o[0] is not None]
        c.executemany("INSERT INTO ledger_ops VALUES (?,?) ON CONFLICT (op_id) DO NOTHING", ops)
        c.executemany("INSERT INTO ledger_keys VALUES (?,?,?) ON CONFLICT (key) DO NOTHING", keys)


class Scratch:
    """The throwaway SQLite file that the ledger's events are replayed into, with the ledger's
    own projection code (and :class:`IndexModel`), to recompute its read models and indexes.
    The stored tables are read from schema ``src``: the ledger file itself, attached, or a
    copy of a PostgreSQL ledger's tables (``srcrm``: an encrypted ledger's read models, in memory)."""

    def __init__(self, ledger: PartnershipLedger, path: str) -> None:
        self.store = _FileStore(path, readonly=False)
        self.con = con = self.store.connection
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "temp_store=MEMORY"):  # nothing to keep
            con.execute(f"PRAGMA {pragma}")
        scratch = Db(self.store, "scratch_events")  # the ledger's events, as a view or a copy
        scratch.position_col = "position"
        projections = ledger.read_models_for(scratch)
        models = list(projections.models)
        self.runner = Projections(scratch, projections.mapper, [*models, IndexModel()], projections.info_of)
        # Every scratch table made before the ledger is attached: SQLite looks a table name up
        # in the main file first, so the runner's statements never reach the ledger's tables.
        self.runner.create_tables()
        self.sqlite = ledger.db.backend == "sqlite"
        memory = ledger.env.get("PARTNERSHIP_LEDGER_MEMORY_READ_MODELS") if self.sqlite else None
        if self.sqlite:
            con.execute("ATTACH DATABASE ? AS src", (read_only_uri(ledger.env[ENV_PATH]),))  # (maybe a copy)
        else:
            con.execute("ATTACH DATABASE ? AS src", (f"{path}.src",))
            con.execute(
                f"CREATE TABLE scratch_copy ({ledger.db.position_col} INTEGER PRIMARY KEY, originator_id TEXT, "
                "originator_version INTEGER, topic TEXT, state BLOB)"
            )
        if memory:
            con.execute("ATTACH DATABASE ? AS srcrm", (memory,))
        self.memory = bool(memory)
        self.rm_tables = tuple(name for m in models for name in m.table_names)
        self.tables = (*self.rm_tables, *INDEX_TABLE_NAMES)
        self.replayed = 0  # the position the scratch read models are at

    def compare(
        self,
        source: Db,
        phases: Sequence[tuple[int, Sequence[str]]],
        count: bool,
        progress: Callable[[int], None] | None,
    ) -> tuple[Difference | None, dict[str, int]]:
        """For each ``(position, tables)``: replay up to the position, then compare those
        tables. The first difference, and how many rows differ per table."""
        first: Difference | None = None
        changed: dict[str, int] = {}
        for upto, names in phases:
            self._events_upto(source, upto)
            self.runner.catch_up(progress)
            self.replayed = upto
            for table in names:
                if not self.sqlite:
                    self._copy_table(source, table)
                schema = "srcrm" if self.memory and table not in INDEX_TABLE_NAMES else "src"
                found, n = compare_table(self.con, schema, table, count)
                if n:
                    changed[table] = n
                first = first or found
                if first is not None and not count:
                    return first, changed
        return first, changed

    def replace_indexes(self, source: Db, tables: Sequence[str]) -> None:
        """Replace the ledger's ``tables`` (operation, key indexes) by the recomputed ones, at once."""
        with source.transaction() as c:
            for table in tables:
                rows = self.con.execute(f"SELECT * FROM main.{table}").fetchall()
                c.execute(f"DELETE FROM {table}")
                if rows:
                    c.executemany(f"INSERT INTO {table} VALUES ({','.join('?' * len(rows[0]))})", rows)

    def _events_upto(self, source: Db, upto: int) -> None:
        """Make ``scratch_events`` the chained events of the ledger up to position ``upto``: a
        view of an SQLite ledger's, else a copy of a PostgreSQL ledger's."""
        con, upto, pos = self.con, int(upto), source.position_col
        con.execute("DROP VIEW IF EXISTS temp.scratch_events")
        if self.sqlite:
            con.execute(
                "CREATE TEMP VIEW scratch_events AS SELECT rowid AS position, originator_id, originator_version, "
                f"topic, state FROM src.{source.events_table} WHERE rowid > 0 AND rowid <= {upto}"
            )
            return
        (have,) = con.execute(f"SELECT COALESCE(MAX({pos}), 0) FROM scratch_copy").fetchone()
        names = [pos, "originator_id", "originator_version", "topic", "state"]
        self._copy(source, f"{source.events_table} WHERE {pos} <= {upto}", names, [pos], "scratch_copy", (have,))
        con.execute(
            f"CREATE TEMP VIEW scratch_events AS SELECT {pos} AS position, originator_id, originator_version, "
            f"topic, state FROM scratch_copy WHERE {pos} <= {upto}"
        )

    def _copy_table(self, source: Db, table: str) -> None:
        """Copy a PostgreSQL ledger's stored ``table`` into ``src``, its values as they are (no column types)."""
        with source.transaction(commit=False) as c:
            c.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                "AND table_schema = current_schema() ORDER BY ordinal_position",
                (table,),
            )
            names = [str(r[0]) for r in c.fetchall()]
        self.con.execute(f"DROP TABLE IF EXISTS src.{table}")
        if names:
            self.con.execute(f"CREATE TABLE src.{table} ({', '.join(names)})")
            recomputed, pk = columns(self.con, "main", table)
            if names == recomputed:  # (else the columns are the difference)
                self._copy(source, f"{table} WHERE TRUE", names, pk, f"src.{table}")

    def _copy(
        self, source: Db, rows: str, names: list[str], key: list[str], into: str, after: tuple[Any, ...] = ()
    ) -> None:
        """Copy the columns ``names`` of ``rows`` (``table WHERE condition``) of a PostgreSQL
        ledger into the scratch table ``into``, in ``key`` order after ``after``, :data:`COPY_BATCH`
        at a time, all from one snapshot (a transaction at REPEATABLE READ, writing nothing)."""
        at, keys = [names.index(k) for k in key], ", ".join(key)
        select = f"SELECT {', '.join(names)} FROM {rows}"
        with source.transaction(commit=True) as c:
            c.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            while True:
                page = f" AND ({keys}) > ({', '.join('?' * len(key))})" if after else ""
                c.execute(f"{select}{page} ORDER BY {keys} LIMIT ?", (*after, COPY_BATCH))
                got = [tuple(_as_scratch(v) for v in row) for row in c.fetchall()]
                self.con.execute("BEGIN")
                self.con.executemany(f"INSERT INTO {into} VALUES ({', '.join('?' * len(names))})", got)
                self.con.execute("COMMIT")
                if len(got) < COPY_BATCH:
                    return
                after = tuple(got[-1][i] for i in at)

    def close(self) -> None:
        self.con.close()


def _as_scratch(value: Any) -> Any:
    """A PostgreSQL value as SQLite keeps it (an id as text, bytes for a ``bytea``)."""
    if isinstance(value, memoryview):
        return bytes(value)
    return str(value) if isinstance(value, UUID) else value
