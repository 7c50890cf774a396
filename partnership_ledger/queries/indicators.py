"""The queries every reader of a ledger shares: keys, sub-partnerships and the indicators.

:class:`IndicatorQueries` answers from the materialized read models (``self.facts``, the
``rm_*`` tables through ``self.db``); ``as_of`` answers come from replaying the events, which
only :class:`~partnership_ledger.application.PartnershipLedger` can do. :class:`ReadModelReader`
answers the same queries from an SQLite ledger's read models alone, without importing the
event store or the domain: the CLI uses it for ``balance``, ``voice``, ``targets`` and
``evaluations`` when the read models are current, so those commands start quickly.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from contextlib import closing, suppress
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any, TypedDict, Unpack, cast

from ..errors import InvalidArgument as LedgerValueError
from ..errors import UnknownKey
from ..projections import queries
from ..projections.facts import FactStore
from ..projections.on_date import OnDate
from ..projections.sqlstore import SqlFactStore
from ..projections.tables import current_in
from ..storage import reads
from ..storage.cipher import cipher_key, is_plain
from ..storage.db import FORMAT_VERSION, Db


class When(TypedDict, total=False):
    """What every indicator query takes besides its own options (all optional; they compose)."""

    as_of: datetime | date | str | None  # what the ledger said at that recorded time (replays the events)
    on: date | str | None  # how things stood on that date, by the dates things happened (no replay)
    include_children: bool  # the sub-partnerships' too


class IndicatorQueries:
    """Keys, sub-partnerships and indicator queries over the read models (a mixin)."""

    db: Db
    facts: FactStore

    def kind_of(self, key: str) -> str | None:
        """Which kind of thing ``key`` names (party, partnership, ...), or None."""
        return reads.kind_of_key(self.db, key)

    def keys(self, kind: str) -> list[str]:
        with self.db.transaction(commit=False) as c:
            c.execute("SELECT key FROM rm_aggregates WHERE kind=? ORDER BY key", (kind,))
            return [r[0] for r in c.fetchall()]

    def children(self, partnership: str) -> list[str]:
        """Sub-partnerships of ``partnership``, recursively (a partnership of partnerships)."""
        found: list[str] = []
        frontier = [partnership]
        with self.db.transaction(commit=False) as c:
            while frontier:
                parent = frontier.pop()
                c.execute(
                    "SELECT key FROM rm_aggregates WHERE kind='partnership' AND parent=? ORDER BY key",
                    (parent,),
                )
                kids = [r[0] for r in c.fetchall()]
                found.extend(kids)
                frontier.extend(kids)
        return found

    def _facts_for(self, as_of: datetime | date | str | None, on: date | str | None = None) -> FactStore:
        """The facts the ledger said at recorded time ``as_of`` (a replay; None: now), as they
        stood on effective date ``on`` (None: with everything, whatever its date)."""
        store = self.facts if as_of is None else self.replay_facts(as_of)
        if on is None:
            return store
        return cast(FactStore, OnDate(store, parse_on(on)))

    def replay_facts(self, as_of: datetime | date | str | None = None) -> FactStore:
        """Facts computed by replaying the events up to ``as_of``: only the full ledger can."""
        raise LedgerValueError("as_of needs the events: open the ledger with PartnershipLedger.open")

    def _children_for(self, partnership: str, include_children: bool) -> list[str]:
        if self.kind_of(partnership) != "partnership":
            found = self.kind_of(partnership)
            if found is None:
                raise UnknownKey(f"there is no partnership {partnership}")
            article = "an" if found[:1] in ("a", "e", "i", "o", "u") else "a"
            raise UnknownKey(f"{partnership} is {article} {found}, not a partnership")
        return self.children(partnership) if include_children else []

    def _answer(
        self, query: Callable[..., dict[str, Any]], partnership: str, when: When, **options: Any
    ) -> dict[str, Any]:
        """``query`` of ``partnership`` (and its sub-partnerships if asked), ``as_of``/``on``."""
        unknown = sorted(when.keys() - When.__optional_keys__)
        if unknown:
            raise TypeError(f"unexpected keyword argument {unknown[0]!r}")
        as_of, on = when.get("as_of"), when.get("on")
        children = self._children_for(partnership, when.get("include_children", False))
        answer = query(self._facts_for(as_of, on), partnership, children=children, **options)
        as_of_text = None if as_of is None else parse_as_of(as_of).isoformat()
        return answer | {"as_of": as_of_text, "on": None if on is None else parse_on(on).isoformat()}

    def burden_balance(
        self,
        partnership: str,
        *,
        fiscal_year: int | None = None,
        basis: str = "delivered",
        deviation_threshold: Decimal | str = queries.DEFAULT_DEVIATION_THRESHOLD,
        relative_capacity_threshold: Decimal | str = queries.DEFAULT_RELATIVE_CAPACITY_THRESHOLD,
        **when: Unpack[When],
    ) -> dict[str, Any]:
        """Who carried the burden (DESIGN.md "Indicators"): values, shares, Gini, HHI,
        deviations from agreed shares, capacity burden, excessive burden, funding instruments.

        ``fiscal_year`` filters by effective date; ``basis`` is ``delivered`` or ``pledged``
        (pledged minus withdrawn).
        """
        return self._answer(
            queries.burden_balance,
            partnership,
            when,
            fiscal_year=fiscal_year,
            basis=basis_of(basis),
            deviation_threshold=Decimal(str(deviation_threshold)),
            relative_capacity_threshold=Decimal(str(relative_capacity_threshold)),
        )

    def voice(
        self, partnership: str, *, fiscal_year: int | None = None, basis: str = "delivered", **when: Unpack[When]
    ) -> dict[str, Any]:
        """Who had a say: voice counts and shares against burden shares, Loosemore–Hanby
        disproportionality, alignment, and parties that put in money without a vote."""
        return self._answer(queries.voice, partnership, when, fiscal_year=fiscal_year, basis=basis_of(basis))

    def target_progress(self, partnership: str, **when: Unpack[When]) -> dict[str, Any]:
        """Each numeric target's baseline, targets, measurements, progress and status."""
        return self._answer(queries.target_progress, partnership, when)

    def evaluation_summary(self, partnership: str, **when: Unpack[When]) -> dict[str, Any]:
        """Evaluation rounds: means by role, resident-weighted combined score, party–resident gap."""
        return self._answer(queries.evaluation_summary, partnership, when)


def parse_as_of(value: datetime | date | str) -> datetime:
    """A recorded time: an aware datetime (naive means UTC); a date means the end of that day."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise LedgerValueError(f"as_of {value!r} is not a date (YYYY-MM-DD) or an ISO 8601 time") from None
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return datetime.combine(value, time.max, tzinfo=UTC)


def parse_on(value: date | str) -> date:
    """An effective date: a date, or its ISO text (YYYY-MM-DD)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise LedgerValueError(f"on {value!r} is not a date (YYYY-MM-DD)") from None


def basis_of(value: str) -> queries.Basis:
    if value not in ("delivered", "pledged"):
        raise LedgerValueError(f"basis must be delivered or pledged, not {value!r}")
    return cast(queries.Basis, value)


class _Connection:
    """What :class:`~partnership_ledger.storage.db.Db` needs of a datastore, over one plain
    sqlite3 connection that holds a read transaction open (one snapshot for every query)."""

    def __init__(self, con: sqlite3.Connection) -> None:
        self.con = con

    def transaction(self, *, commit: bool = True) -> closing[sqlite3.Cursor]:
        return closing(self.con.cursor())


class ReadModelReader(IndicatorQueries):
    """The indicator queries of an SQLite ledger, answered from its read models alone.

    Open it with :meth:`open_current`, which gives ``None`` unless the read models are
    current with the events (so that what it answers is exactly what
    :class:`~partnership_ledger.application.PartnershipLedger` would answer); then use the
    full ledger instead. It reads one snapshot, holds no lock a writer waits for (WAL), and
    cannot answer ``as_of`` (that replays events).
    """

    def __init__(self, con: sqlite3.Connection) -> None:
        self._con = con
        self.db = Db(_Connection(con))
        self.facts = SqlFactStore(self.db)

    @classmethod
    def open_current(cls, location: str | os.PathLike[str]) -> ReadModelReader | None:
        """A reader of the SQLite ledger at ``location`` if its read models are current, else None.

        None also for anything unusual (a PostgreSQL URL, a missing, empty, encrypted or
        damaged file, an older format): the full ledger then opens it and says what is wrong.
        """
        path = Path(os.fspath(location))
        if "://" in str(location) or not path.is_file() or path.stat().st_size == 0:
            return None
        try:
            con = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, isolation_level=None)
        except sqlite3.Error:
            return None
        reader = cls(con)
        with suppress(sqlite3.Error):
            con.execute("BEGIN")
            if reader._is_current():
                return reader
        reader.close()
        return None

    def _is_current(self) -> bool:
        """Whether every stored event is applied to the read models, the ledger's format is the
        one this reader knows, and the events are not encrypted and no key is set (the full
        ledger checks keys)."""
        with self.db.transaction(commit=False) as c:
            c.execute("SELECT value FROM ledger_meta WHERE name='format'")
            row = c.fetchone()
            if row is None or row[0] != FORMAT_VERSION or cipher_key() is not None or not current_in(c, self.db):
                return False
            c.execute("SELECT state FROM stored_events ORDER BY rowid LIMIT 1")
            first = c.fetchone()
        return first is None or is_plain(bytes(first[0]))

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> ReadModelReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
