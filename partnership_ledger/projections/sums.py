"""Amounts summed by key in the read models, for balances that read a handful of rows.

``rm_buckets`` holds the pledged, withdrawn and delivered amounts of each partnership, party,
fiscal year, kind, instrument and currency; ``rm_amounts`` the same by effective day too, for
"how things stood on a date" (``--on``). Within a batch of events, every row of a
(partnership, party) pair is read at once when the first is needed, summed in place, and
written back by :meth:`Sums.flush`.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ..domain.values import EXACT
from ..storage.db import Db
from .facts import ZERO, Bucket, BucketKey

_add = EXACT.add
#: A read: SQL and its parameters, to the rows.
Read = Callable[[str, tuple[Any, ...]], list[tuple[Any, ...]]]

BUCKET_KEY = ("partnership", "party", "fiscal_year", "kind", "instrument", "currency")
#: The key of a row of ``rm_amounts`` as :class:`Sums` keeps it: a bucket's, then the day.
DAY_KEY = (*BUCKET_KEY, "day")


class Sums:
    """The rows of one table of sums (pledged, withdrawn, delivered) by a key whose first two
    columns are a partnership and a party, cached within a batch."""

    def __init__(self, table: str, key: tuple[str, ...], whole_pairs: bool = True) -> None:
        self.table = table
        #: Whether a batch reads every row of a pair at its first key (else a row at a time:
        #: for a table whose pairs grow a row per day, which would be read again every batch).
        self.whole_pairs = whole_pairs
        where = " AND ".join(f"{k}=?" for k in key)
        self._read_pair = (
            f"SELECT {', '.join(key[2:])}, pledged, withdrawn, delivered FROM {table} WHERE partnership=? AND party=?"
        )
        self._read_one = f"SELECT pledged, withdrawn, delivered FROM {table} WHERE {where}"
        marks = ",".join("?" * (len(key) + 3))
        self._insert = f"INSERT INTO {table} ({', '.join(key)}, pledged, withdrawn, delivered) VALUES ({marks})"
        self._update = f"UPDATE {table} SET pledged=?, withdrawn=?, delivered=? WHERE {where}"
        #: The amounts by key, as lists [pledged, withdrawn, delivered] summed in place; and the
        #: (partnership, party) pairs whose every row is in that cache: a key of theirs that is
        #: not in it is a new row.
        self.cache: dict[tuple[Any, ...], list[Decimal]] = {}
        self.pairs: set[tuple[Any, ...]] = set()
        self._new: set[tuple[Any, ...]] = set()
        self._changed: set[tuple[Any, ...]] = set()
        #: The partnerships of the batch that have no rows in the table (proposed in it).
        self.fresh: set[str] = set()

    def clear(self) -> None:
        self.cache, self.pairs = {}, set()
        self._new.clear()
        self._changed.clear()
        self.fresh = set()

    def kept(self) -> tuple[Any, ...]:
        return self.cache, self.pairs

    def restore(self, kept: tuple[Any, ...], size: int) -> None:
        """Take back what :meth:`kept` gave (still what the table holds), unless it grew past
        ``size`` entries: all or nothing, as a pair is cached whole."""
        if len(kept[0]) <= size:
            self.cache, self.pairs = kept

    def add(self, read: Read, in_batch: bool, key: tuple[Any, ...], p: Decimal, w: Decimal, d: Decimal) -> None:
        slot = self.cache.get(key)
        if slot is None:
            slot = self._slot(read, in_batch, key)
        slot[0] = _add(slot[0], p)
        slot[1] = _add(slot[1], w)
        slot[2] = _add(slot[2], d)
        self._changed.add(key)

    def _slot(self, read: Read, in_batch: bool, key: tuple[Any, ...]) -> list[Decimal]:
        """The cached amounts of a key not in the cache yet: read with every row of its
        partnership and party (once a batch, or once for a whole catch-up), or a new one."""
        pair = key[:2]
        cache = self.cache
        if in_batch and key[0] in self.fresh:
            self._new.add(key)
            fresh = cache[key] = [ZERO, ZERO, ZERO]  # nothing stored to read
            return fresh
        if in_batch and self.whole_pairs and pair not in self.pairs:
            for *rest, p, w, d in read(self._read_pair, pair):
                found = (*pair, *rest)
                if found not in cache:  # else changed in this batch: the cache is newer
                    cache[found] = [Decimal(p), Decimal(w), Decimal(d)]
            self.pairs.add(pair)
        slot = cache.get(key)
        if slot is None:
            # Outside a batch, or row by row: this one row (else the pair's rows are all read).
            rows = [] if in_batch and self.whole_pairs else read(self._read_one, key)
            if rows:
                slot = cache[key] = [Decimal(rows[0][0]), Decimal(rows[0][1]), Decimal(rows[0][2])]
            else:
                slot = cache[key] = [ZERO, ZERO, ZERO]
                self._new.add(key)
        return slot

    def pending(self, partnership: str) -> list[tuple[tuple[Any, ...], list[Decimal]]]:
        """The cached rows of ``partnership`` (inside a batch: newer than the table's)."""
        return [(k, v) for k, v in self.cache.items() if k[0] == partnership]

    def flush(self, c: Any) -> None:
        """Write back the rows changed in this batch."""
        inserts, updates = [], []
        cache, new = self.cache, self._new
        for key in sorted(self._changed):  # in key order: each page of the table visited once
            p, w, d = cache[key]
            if key in new:
                inserts.append((*key, str(p), str(w), str(d)))
            else:
                updates.append((str(p), str(w), str(d), *key))
        if inserts:
            c.executemany(self._insert, inserts)
        if updates:
            c.executemany(self._update, updates)
        self._new.clear()
        self._changed.clear()
        self.fresh = set()  # (their rows are in the table now)


def buckets(read: Read, sums: Sums, partnership: str) -> list[tuple[BucketKey, Bucket]]:
    """The buckets of ``partnership``: the table's rows, and what the batch changed."""
    rows = read(
        "SELECT party, fiscal_year, kind, instrument, currency, pledged, withdrawn, delivered "
        "FROM rm_buckets WHERE partnership=?",
        (partnership,),
    )
    found = {(partnership, *r[:5]): Bucket(Decimal(r[5]), Decimal(r[6]), Decimal(r[7])) for r in rows}
    for key, (p, w, d) in sums.pending(partnership):
        found[key] = Bucket(p, w, d)
    return [(BucketKey(*key), b) for key, b in found.items()]


def buckets_on(
    read: Read, db: Db, in_batch: bool, days: Sums, partnership: str, text: str
) -> list[tuple[BucketKey, Bucket]]:
    """The buckets of ``partnership`` counting only what took effect up to the day ``text``:
    the rows of ``rm_amounts`` up to that day, summed exactly (or, outside a batch and when
    fewer rows lie after the day, today's buckets less those rows: :func:`_from_now`)."""
    if not in_batch:
        later = _from_now(db, partnership, text)
        if later is not None:
            return later
    rows = read(
        "SELECT party, fiscal_year, kind, instrument, currency, day, pledged, withdrawn, delivered "
        "FROM rm_amounts WHERE partnership=? AND day<=?",
        (partnership, text),
    )
    pending = [(k, v) for k, v in days.pending(partnership) if k[6] <= text]
    if pending:  # inside a batch: what it changed is newer than the table
        newer = {k[1:] for k, _ in pending}
        rows = [r for r in rows if tuple(r[:6]) not in newer]
        rows += [(*k[1:], str(p), str(w), str(d)) for k, (p, w, d) in pending]
    sums: dict[tuple[Any, ...], list[Decimal]] = {}
    for row in rows:
        _sum_into(sums, row[:5], row[6:], 1)
    return [(BucketKey(partnership, *ident), Bucket(*amounts)) for ident, amounts in sums.items()]


def _sum_into(sums: dict[tuple[Any, ...], list[Decimal]], ident: Any, amounts: Any, sign: int) -> None:
    """Add ``sign`` times three amounts (decimal strings) to the sums of ``ident``; most rows
    hold one amount and zeros, which are not read into Decimals."""
    slot = sums.setdefault(tuple(ident), [ZERO, ZERO, ZERO])
    for i, text in enumerate(amounts):
        if text != "0":
            slot[i] = (_add if sign > 0 else EXACT.subtract)(slot[i], Decimal(text))


def _from_now(db: Db, partnership: str, text: str) -> list[tuple[BucketKey, Bucket]] | None:
    """:func:`buckets_on` from the other side, when fewer rows lie after ``text`` than up to
    it (a date late in the partnership's life): today's buckets (``rm_buckets``, which hold
    exactly the sums of all of the partnership's ``rm_amounts`` rows: ``verify`` checks both)
    less the rows after the day. Only the buckets with a row up to the day are kept, as the
    sum up to the day keeps them. None when summing up to the day reads fewer rows. Read in
    one snapshot."""
    with db.transaction(commit=False) as c:
        c.execute("SELECT count(*) FROM rm_amounts WHERE partnership=? AND day>?", (partnership, text))
        later = int((c.fetchone() or (0,))[0])
        c.execute("SELECT count(*) FROM rm_amounts WHERE partnership=? AND day<=?", (partnership, text))
        if later >= int((c.fetchone() or (0,))[0]):
            return None
        c.execute(
            "SELECT party, fiscal_year, kind, instrument, currency, pledged, withdrawn, delivered "
            "FROM rm_buckets WHERE partnership=?",
            (partnership,),
        )
        now: dict[tuple[Any, ...], list[Decimal]] = {}
        for row in c.fetchall():
            _sum_into(now, row[:5], row[5:], 1)
        c.execute(
            "SELECT DISTINCT party, fiscal_year, kind, instrument, currency FROM rm_amounts "
            "WHERE partnership=? AND day<=?",
            (partnership, text),
        )
        kept = {tuple(r) for r in c.fetchall()}
        c.execute(
            "SELECT party, fiscal_year, kind, instrument, currency, pledged, withdrawn, delivered "
            "FROM rm_amounts WHERE partnership=? AND day>?",
            (partnership, text),
        )
        for row in c.fetchall():
            _sum_into(now, row[:5], row[5:], -1)
    return [(BucketKey(partnership, *ident), Bucket(*amounts)) for ident, amounts in now.items() if ident in kept]
