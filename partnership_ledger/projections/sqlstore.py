"""The fact store materialized in the ledger's database (the indicators' read models).

Facts are kept as JSON documents in ``rm_facts``; items a row each, appended (a partnership's
spells and decisions, a target's measurements, an evaluation's submissions). Contributions
are rows of ``rm_contributions``; their amounts are summed by bucket and by day
(:mod:`.sums`), so a balance reads a handful of rows however many contributions a
partnership has. The tables and rows are in :mod:`.fact_rows`. Within one batch of events
the store caches what it reads and writes everything back at the end, in the batch's
transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

import attrs

from ..storage.db import Cursor, Db
from . import sums
from .fact_rows import ITEM_TABLES, TABLE_NAMES, TABLES, contribution_from_row, contribution_row, dumps, loads
from .facts import (
    CARRIED,
    DOCUMENTS,
    Bucket,
    BucketKey,
    ContributionFact,
    InKindRow,
    SpellFact,
    in_kind_row,
    in_order,
    with_items,
)
from .fold import FOLDS
from .runner import Item, ReadModel, trim
from .sums import BUCKET_KEY, DAY_KEY, Sums

T = TypeVar("T")

#: How many contributions one ``SELECT ... WHERE key IN (...)`` reads (SQLite's oldest limit
#: on a statement's parameters is 999).
PREFETCH_CHUNK = 500
#: The names of the events whose fold reads their contribution (by the aggregate's key).
_READ_CONTRIBUTION = frozenset(
    ("ResourceContribution.Delivered", "ResourceContribution.Corrected", "ResourceContribution.Withdrawn")
)
_PLEDGED = "ResourceContribution.Pledged"
_PROPOSED = "Partnership.Proposed"


class SqlFactStore(ReadModel):
    """A :class:`~.facts.FactStore` over the read-model tables, and the read model
    that folds events into them for the projection runner.

    Outside a batch it reads straight from the database; inside :meth:`begin` ... :meth:`end`
    (the projection's transaction) it caches and writes back on :meth:`end`.
    """

    tables = TABLES
    table_names = TABLE_NAMES
    event_names = frozenset(FOLDS)  # the rest (derived bookkeeping) change no fact
    #: How many entries each cache keeps from one slice of a transaction to the next.
    CACHE_SIZE = 10_000

    def __init__(self, db: Db) -> None:
        self.db = db
        #: The position of the event being folded: numbers the rows appended for it.
        self.position = 0
        self._c: Cursor | None = None
        self._buckets = Sums("rm_buckets", BUCKET_KEY)
        self._days = Sums("rm_amounts", DAY_KEY, whole_pairs=False)  # a row per day: read one at a time
        self._clear()
        #: The caches of the last batch, kept by :meth:`end` for :meth:`resume` (the next
        #: slice of the same transaction, or the next batch of a catch-up that nothing came
        #: between); ``None`` once they may be stale.
        self._kept: tuple[Any, ...] | None = None

    def _clear(self) -> None:
        """Start the batch's caches and lists afresh."""
        self._facts: dict[tuple[str, str], Any] = {}
        self._dirty: set[tuple[str, str]] = set()
        # Contributions apart, by key: the fold reads and writes one for most events.
        self._contributions: dict[str, ContributionFact | None] = {}
        self._changed_contributions: dict[str, ContributionFact] = {}
        #: The items appended in this batch, by kind: (owner, position, item).
        self._new_items: dict[type[Any], list[tuple[str, int, Any]]] = {kind: [] for kind in ITEM_TABLES}
        self._buckets.clear()
        self._days.clear()

    # -- batch lifecycle (driven by the projection runner) --------------------------------
    def begin(self, c: Cursor) -> None:
        self._kept = None
        self._clear()
        self._c = c

    def resume(self, c: Cursor) -> None:
        """Begin a batch after the last one, which ended with :meth:`end`, in the same
        transaction or in the next when nothing was written between (the runner knows):
        what it cached (read or written) is still what the tables hold."""
        kept, self._kept = self._kept, None
        self._clear()
        if kept is not None:
            self._facts, self._contributions = kept[:2]
            trim(self._facts, self.CACHE_SIZE)
            trim(self._contributions, self.CACHE_SIZE)
            self._buckets.restore(kept[2], self.CACHE_SIZE)
            self._days.restore(kept[3], self.CACHE_SIZE)
        self._c = c

    def release(self) -> None:
        """Drop the caches kept for a following slice (none will come in this transaction)."""
        self._kept = None

    def abort(self) -> None:
        """Forget the batch (its transaction rolled back): nothing of it was written."""
        self._kept = None
        self._clear()
        self._c = None

    def apply_all(self, c: Cursor, items: Iterable[Item]) -> None:
        items = list(items)
        # The contributions the batch's deliveries, corrections and withdrawals change, read
        # a few hundred at a time rather than one by one as the fold meets them; not those
        # pledged in the batch (not stored yet: the fold has them from their pledge).
        cache = self._contributions
        wanted: list[str] = []
        pledged: set[str] = set()
        proposed: set[str] = set()
        for _, e, info in items:
            name = type(e).__qualname__
            if name in _READ_CONTRIBUTION:
                wanted.append(info.key)
            elif name == _PLEDGED:
                pledged.add(info.key)
            elif name == _PROPOSED:
                proposed.add(info.key)
        # A partnership proposed in the batch has no sums stored yet: none are read.
        self._buckets.fresh = self._days.fresh = proposed
        missing = [k for k in dict.fromkeys(wanted) if k not in cache and k not in pledged]
        for i in range(0, len(missing), PREFETCH_CHUNK):
            chunk = missing[i : i + PREFETCH_CHUNK]
            cache.update(dict.fromkeys(chunk))  # not stored (yet): pledged in this batch, if at all
            marks = ",".join("?" * len(chunk))
            for row in self._read(f"SELECT * FROM rm_contributions WHERE key IN ({marks})", tuple(chunk)):
                cache[row[0]] = contribution_from_row(row)
        folds = FOLDS
        for position, event, info in items:
            self.position = position
            folds[type(event).__qualname__](self, event, info)  # (the runner gives only folded events)

    def end(self) -> None:
        """Write the batch back, in its transaction."""
        c = self._c
        assert c is not None
        # In key order: each page of the table visited once.
        contributions = [contribution_row(f) for _, f in sorted(self._changed_contributions.items())]
        documents = []
        for kind, key in sorted(self._dirty):
            fact = self._facts[(kind, key)]
            documents.append((kind, key, getattr(fact, "partnership", None), getattr(fact, "seq", 0), dumps(fact)))
        if documents:
            c.executemany(
                "INSERT INTO rm_facts VALUES (?,?,?,?,?) ON CONFLICT (kind, key) DO UPDATE SET body = excluded.body",
                documents,
            )
        if contributions:  # (once stored, only a contribution's amounts change)
            c.executemany(
                "INSERT INTO rm_contributions VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (key) "
                "DO UPDATE SET delivered = excluded.delivered, withdrawn = excluded.withdrawn",
                contributions,
            )
        self._settle(c)
        self._buckets.flush(c)
        self._days.flush(c)
        # Outside a batch the store reads straight from the database, which other processes
        # may change: nothing cached may outlive the batch's transaction. The caches are put
        # aside (now equal to the tables) for the next slice of this same transaction, which
        # only the projection runner can tell (it calls :meth:`resume` rather than begin).
        kept = (self._facts, self._contributions, self._buckets.kept(), self._days.kept())
        self._clear()
        self._kept = kept
        self._c = None

    def _settle(self, c: Cursor) -> None:
        """Write the items appended in this batch so far: at its end, and before a void."""
        for kind, new in self._new_items.items():
            if not new:
                continue
            if kind is SpellFact:
                # A partnership has a few spells: numbered by counting. The other items are
                # numbered by their event's position, so appending one reads nothing back.
                for spell in new:
                    c.execute(
                        "INSERT INTO rm_spells VALUES (?, (SELECT COALESCE(MAX(seq) + 1, 0) FROM rm_spells "
                        "WHERE partnership = ?), ?)",
                        (spell[0], spell[0], dumps(spell[2])),
                    )
            else:
                table = ITEM_TABLES[kind]
                rows = [table.row(*item) for item in new]
                c.executemany(f"INSERT INTO {table.name} VALUES ({','.join('?' * len(rows[0]))})", rows)
            new.clear()

    def _read(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        if self._c is not None:
            self._c.execute(sql, params)
            return self._c.fetchall()
        with self.db.transaction(commit=False) as c:
            c.execute(sql, params)
            return c.fetchall()

    # -- documents and contributions ------------------------------------------------------
    def put(self, fact: Any) -> None:
        if type(fact) is ContributionFact:
            self._contributions[fact.key] = self._changed_contributions[fact.key] = fact
            return
        carried = CARRIED.get(type(fact))
        if carried is not None and getattr(fact, carried[0]):  # kept as rows of their own
            fact = attrs.evolve(fact, **{carried[0]: []})
        ident = (DOCUMENTS[type(fact)], fact.key)
        self._facts[ident] = fact
        self._dirty.add(ident)

    def get(self, kind: type[T], key: str) -> T | None:
        if kind is ContributionFact:
            return self._contribution(key)  # type: ignore[return-value]
        ident = (DOCUMENTS[kind], key)
        if ident in self._facts:
            fact = self._facts[ident]
        else:
            rows = self._read("SELECT body FROM rm_facts WHERE kind=? AND key=?", ident)
            fact = loads(rows[0][0]) if rows else None
            if self._c is not None:
                self._facts[ident] = fact
        return None if fact is None else with_items(self, fact)

    def of(self, kind: type[T], partnership: str) -> list[T]:
        if kind is ContributionFact:
            return self._contributions_of(partnership)  # type: ignore[return-value]
        name = DOCUMENTS[kind]
        rows = self._read("SELECT key, body FROM rm_facts WHERE kind=? AND partnership=?", (name, partnership))
        found = {key: loads(body) for key, body in rows}
        for (k, key), fact in self._facts.items():
            if k == name and fact is not None and fact.partnership == partnership:
                found[key] = fact
        return [with_items(self, f) for f in in_order(found.values())]

    def _contribution(self, key: str) -> ContributionFact | None:
        if key in self._contributions:
            return self._contributions[key]
        rows = self._read("SELECT * FROM rm_contributions WHERE key=?", (key,))
        fact = contribution_from_row(rows[0]) if rows else None
        if self._c is not None:
            self._contributions[key] = fact
        return fact

    def _contributions_of(self, partnership: str) -> list[ContributionFact]:
        rows = self._read("SELECT * FROM rm_contributions WHERE partnership=? ORDER BY key", (partnership,))
        found = {r[0]: contribution_from_row(r) for r in rows}
        for key, fact in self._contributions.items():
            if fact is not None and fact.partnership == partnership:
                found[key] = fact
        return [found[k] for k in sorted(found)]

    def count_contributions(self, partnership: str) -> int:
        if self._c is not None:  # inside a batch: what it changed is newer than the table
            return len(self._contributions_of(partnership))
        rows = self._read("SELECT COUNT(*) FROM rm_contributions WHERE partnership=?", (partnership,))
        return int(rows[0][0])

    def in_kind_rows(self, partnership: str) -> list[InKindRow]:
        # Grouped in SQL (a partnership may hold hundreds of thousands of contributions); the
        # amounts come back as stored, decimal strings, for exact sums by the caller.
        if self._c is not None:  # inside a batch, as above
            return [in_kind_row(c) for c in self._contributions_of(partnership) if c.kind != "money"]
        concat = "string_agg" if getattr(self.db, "backend", "sqlite") == "postgresql" else "group_concat"
        rows = self._read(
            f"SELECT party, kind, unit, valuation_basis, COUNT(*), {concat}(quantity, ' '), "
            f"{concat}(pledged, ' '), {concat}(withdrawn, ' '), {concat}(delivered, ' ') "
            "FROM rm_contributions WHERE partnership=? AND kind <> 'money' "
            "GROUP BY party, kind, unit, valuation_basis",
            (partnership,),
        )
        return [
            (party, kind, unit, basis, int(n), *((text or "").split() for text in amounts))
            for party, kind, unit, basis, n, *amounts in rows
        ]

    # -- items: appended in a batch; a void (rare) settles them and changes the table --------
    def add(self, owner: str, item: Any) -> None:
        self._new_items[type(item)].append((owner, self.position, item))

    def items(self, kind: type[T], owner: str) -> list[T]:
        table = ITEM_TABLES[kind]
        rows = self._read(f"SELECT * FROM {table.name} WHERE {table.owner}=? ORDER BY seq", (owner,))
        return [table.item(r) for r in rows] + [item for o, _, item in self._new_items[kind] if o == owner]

    def replace(self, kind: type[Any], owner: str, index: int, item: Any | None) -> None:
        c = self._c
        assert c is not None, "a void is folded inside a batch"
        self._settle(c)
        table = ITEM_TABLES[kind]
        c.execute(f"SELECT seq FROM {table.name} WHERE {table.owner}=? ORDER BY seq", (owner,))
        seq = c.fetchall()[index][0]
        c.execute(f"DELETE FROM {table.name} WHERE {table.owner}=? AND seq=?", (owner, seq))
        if item is not None:
            row = table.row(owner, seq, item)
            c.execute(f"INSERT INTO {table.name} VALUES ({','.join('?' * len(row))})", row)

    # -- sums: by bucket, and by bucket and effective day -----------------------------------
    def add_amounts(self, key: BucketKey, day: date, pledged: Decimal, withdrawn: Decimal, delivered: Decimal) -> None:
        in_batch = self._c is not None
        self._buckets.add(self._read, in_batch, key, pledged, withdrawn, delivered)
        self._days.add(self._read, in_batch, (*key, day.isoformat()), pledged, withdrawn, delivered)

    def buckets(self, partnership: str) -> list[tuple[BucketKey, Bucket]]:
        return sums.buckets(self._read, self._buckets, partnership)

    def buckets_on(self, partnership: str, day: date) -> list[tuple[BucketKey, Bucket]]:
        """The buckets of ``partnership`` counting only what took effect up to ``day``."""
        return sums.buckets_on(self._read, self.db, self._c is not None, self._days, partnership, day.isoformat())
