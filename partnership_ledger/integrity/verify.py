"""Verification: walk the stored events with their chain links and name the first bad position.

Editing, deleting, inserting or reordering stored rows breaks the chain (see
:mod:`.chain`) at the first bad position; :func:`verify_chain` says which and how.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from .chain import GENESIS, STORED_TYPES, link_hash

if TYPE_CHECKING:
    from ..storage.db import Db

BATCH = 5000


@attrs.frozen
class VerifyResult:
    """The outcome of walking the chain: its size and root, or the first bad position."""

    ok: bool
    size: int
    root: str
    last_position: int
    bad_position: int | None = None
    problem: str | None = None  # changed, missing, inserted, out_of_order, truncated, replaced
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


#: The storage type of each column of a chain link as the recorders write it.
LINK_TYPES = {"prev_position": "integer", "hash": "blob"}


def _as_walked(db: Db, types: dict[str, str]) -> str:
    """The columns ``types`` names as the walk reads them. On SQLite: text as its bytes (an
    edit that makes a text column invalid UTF-8 must be reported, not crash the walk), and
    NULL where a value is not of the type the recorder writes: the application would not read
    such a row (see foreign_row), so it fails the walk."""
    if db.backend != "sqlite":
        return ", ".join(types)
    return ", ".join(
        f"CASE WHEN typeof({c}) = '{t}' THEN {f'CAST({c} AS BLOB)' if t == 'text' else c} END" for c, t in types.items()
    )


def _wrong_type(types: dict[str, str]) -> str:
    """An SQLite condition: some column of ``types`` holds a value of another storage type."""
    return " OR ".join(f"typeof({column}) <> '{kind}'" for column, kind in types.items())


def foreign_row(db: Db, *, outside_only: bool = False) -> tuple[int, str] | None:
    """The first stored row the chain cannot vouch for, and why; None if there is none.

    The application loads an aggregate's events by its id, whatever their position, and
    reads each column as the type the recorder writes. So every row must be at a position
    the chain covers (above 0) and of exactly those storage types (SQLite keeps any type in
    any column: an id stored as a BLOB has the same bytes, so the same hash, yet the
    application would no longer find it). Anything else is tampering. ``outside_only``:
    look for rows at positions up to 0 only.
    """
    pos, events = db.position_col, db.events_table
    with db.transaction(commit=False) as c:
        c.execute(f"SELECT MIN({pos}) FROM {events} WHERE {pos} <= 0")
        row = c.fetchone()
        if row is not None and row[0] is not None:
            return int(row[0]), "is outside the hash chain (positions start at 1)"
        c.execute("SELECT MIN(position) FROM ledger_chain WHERE position <= 0")
        row = c.fetchone()
        if row is not None and row[0] is not None:
            return int(row[0]), "has a chain link outside the hash chain (positions start at 1)"
        if outside_only or db.backend != "sqlite":
            return None
        wrong = _wrong_type(STORED_TYPES)
        c.execute(
            f"SELECT {pos}, {', '.join(f'typeof({k})' for k in STORED_TYPES)} FROM {events} WHERE {wrong} "
            f"ORDER BY {pos} LIMIT 1"
        )
        row = c.fetchone()
        if row is not None:
            column, kind = next((k, v) for k, v in zip(STORED_TYPES, row[1:], strict=True) if v != STORED_TYPES[k])
            return int(row[0]), f"has its {column} stored as {kind}, not {STORED_TYPES[column]}"
        c.execute(f"SELECT position FROM ledger_chain WHERE {_wrong_type(LINK_TYPES)} ORDER BY position LIMIT 1")
        row = c.fetchone()
        if row is not None:
            return int(row[0]), "has a chain link that is not one the ledger writes"
    return None


def verify_chain(db: Db, progress: Callable[[int], None] | None = None) -> VerifyResult:
    """Walk every stored event with its chain link, in position order.

    Returns at the first bad position: an event ``changed`` (its hash differs), ``missing``
    (its link remains but the event is gone, or the next link points back past it),
    ``inserted`` (an event without a link, or whose link points back before the event before
    it) or ``out_of_order`` (it holds the event recorded at a later position, or its link
    says it comes after a later event). A walk that reaches the end returns the chain's size
    and root: it proves the stored history is one unbroken line, not that its tail is the
    one recorded (:func:`~.checkpoint.verify_checkpoint` does that).

    ``missing`` names the position the chain points back to when an event and its link were
    both deleted: with several deleted in a row that is the last of them.
    """
    walk = _Walk(db)
    outside = foreign_row(db, outside_only=True)
    if outside is not None:
        return walk.fail(outside[0], "inserted", f"the row at position {outside[0]} {outside[1]}")
    pos, events, cols = db.position_col, db.events_table, _as_walked(db, STORED_TYPES)
    while True:
        after = walk.last_position
        with db.transaction(commit=False) as c:
            c.execute(f"SELECT {pos}, {cols} FROM {events} WHERE {pos} > ? ORDER BY {pos} LIMIT ?", (after, BATCH))
            rows = c.fetchall()
            full = len(rows) == BATCH
            # The links of the same stretch of positions (and, after the last event, any
            # links left without one): two range scans, merged below, cost less than a join.
            c.execute(
                f"SELECT position, {_as_walked(db, LINK_TYPES)} FROM ledger_chain WHERE position > ? "
                + ("AND position <= ? " if full else "")
                + "ORDER BY position",
                (after, rows[-1][0]) if full else (after,),
            )
            links = c.fetchall()
        j = 0
        for row in rows:
            position, link = row[0], None
            if j < len(links) and links[j][0] < position:
                break  # a link whose event is gone
            if j < len(links) and links[j][0] == position:
                link, j = links[j][1:], j + 1
            failed = walk.step(position, row[1:], link)
            if failed is not None:
                return failed
        if progress is not None and rows:
            progress(len(rows))
        if j < len(links):
            orphan = int(links[j][0])
            return walk.fail(
                orphan, "missing", f"position {orphan} is missing: its chain link remains but its event is gone"
            )
        if not full:
            root = walk.prev_hash.hex()
            message = f"the chain of {walk.size} events is intact; root {root}"
            return VerifyResult(True, walk.size, root, walk.last_position, message=message)


class _Walk:
    """A walk along the chain: how far it got, the hash it reached, and what went wrong where."""

    def __init__(self, db: Db) -> None:
        self.db = db
        self.size = 0
        self.last_position = 0
        self.prev_hash = GENESIS

    def fail(self, position: int | None, problem: str, message: str) -> VerifyResult:
        return VerifyResult(False, self.size, self.prev_hash.hex(), self.last_position, position, problem, message)

    def step(self, position: int, content: tuple[Any, ...], link: tuple[Any, ...] | None) -> VerifyResult | None:
        """Check one event (originator id, version, topic, state) against its link (previous
        position, hash) and advance; the failure, if any."""
        oid, version, topic, state = content
        if self.db.backend == "sqlite" and (link is None or None in content or None in link):
            # A value of another storage type reads as NULL in the walk: say which.
            found = foreign_row(self.db)
            if found is not None and found[0] <= position:
                return self.fail(found[0], "changed", f"the event row at position {found[0]} {found[1]}")
        if link is None:
            return self.fail(
                position, "inserted", f"position {position} has an event that is not in the chain (inserted)"
            )
        prev_position, hashed = link
        if prev_position is None:
            return self.fail(position, "changed", f"the chain link at position {position} was changed")
        if prev_position != self.last_position:
            return self.misplaced(position, prev_position)
        changed = f"position {position} was changed after it was recorded"
        if not isinstance(version, int) or isinstance(version, bool) or None in (oid, topic, state):
            return self.fail(position, "changed", changed)
        expected = link_hash(self.prev_hash, position, oid, version, topic, state)
        if expected != bytes(hashed):
            moved_from = self.recorded_at(position, content)
            if moved_from is None:
                return self.fail(position, "changed", changed)
            return self.fail(
                position,
                "out_of_order",
                f"position {position} is out of order: it holds the event recorded at position {moved_from}",
            )
        self.prev_hash, self.last_position = expected, position
        self.size += 1
        return None

    def misplaced(self, position: int, prev_position: int) -> VerifyResult:
        """Name what happened when a link does not point back to the event before it."""
        if prev_position < self.last_position:
            return self.fail(
                position,
                "inserted",
                f"position {position} links back to position {prev_position}, not to "
                f"{self.last_position}: something was inserted or moved",
            )
        with self.db.transaction(commit=False) as c:
            c.execute(f"SELECT 1 FROM {self.db.events_table} WHERE {self.db.position_col} = ?", (prev_position,))
            exists = c.fetchone() is not None
        if exists:
            return self.fail(
                position,
                "out_of_order",
                f"position {position} is out of order: its link says it comes after position {prev_position}",
            )
        return self.fail(
            prev_position,
            "missing",
            f"position {prev_position} is missing: the chain goes on after it at position {position}, "
            "but its event and link are gone",
        )

    def recorded_at(self, position: int, content: tuple[Any, ...]) -> int | None:
        """The later position whose link this event's content matches (it was moved), if any
        (only when the walk has already failed, so scanning the links is affordable)."""
        after = position
        while True:
            with self.db.transaction(commit=False) as c:
                c.execute(
                    "SELECT l.position, l.prev_position, l.hash, p.hash FROM ledger_chain l "
                    "LEFT JOIN ledger_chain p ON p.position = l.prev_position "
                    "WHERE l.position > ? ORDER BY l.position LIMIT ?",
                    (after, BATCH),
                )
                links = c.fetchall()
            for at, prev_position, hashed, prev_link in links:
                if prev_link is None and prev_position != 0:
                    continue
                prev = bytes(prev_link) if prev_link is not None else GENESIS
                if link_hash(prev, at, *content) == bytes(hashed):
                    return int(at)
            if len(links) < BATCH:
                return None
            after = links[-1][0]
