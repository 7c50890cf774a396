"""Operation ids: an operation's own ``id``, or ``<fingerprint>-<n>`` made from its content.

The fingerprint is the SHA-256 (first 32 hex digits) of the operation's canonical JSON;
``n`` numbers identical operations in one journal; an id used twice is refused. These ids
are stored with every recorded operation, so that importing a journal again records nothing:
they never change (``tests/unit/test_journal_ids.py`` pins them).
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Mapping
from typing import Any

import orjson

from ..domain.values import OpMeta
from ..errors import JournalError, JournalProblem
from .operations import Operation, check

# Canonical JSON of an operation (its fingerprint, the id of an operation without one):
# sorted keys, non-ASCII characters as they are, no spaces. These bytes are hashed into the
# ids of recorded operations: they must never change (tests/unit/test_journal_ids.py).
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def op_fingerprint(raw: Mapping[str, Any]) -> str:
    """A stable id for an operation that has none: the hash of its canonical JSON."""
    return _digest(raw).hex()


def _digest(raw: Mapping[str, Any]) -> bytes:
    """The fingerprint as 16 bytes (the first half of the SHA-256; in hex, the fingerprint)."""
    obj = {k: v for k, v in raw.items() if k != "id"} if "id" in raw else raw
    return hashlib.sha256(_canonical(obj)).digest()[:16]


#: The types orjson writes exactly as ``json`` does (these types, not their subclasses).
_SCALARS = frozenset((str, int, bool, type(None)))
_PLAIN = _SCALARS | {dict, list}


def _canonical(obj: Any) -> bytes:
    """``_CANONICAL``'s bytes (UTF-8), written by orjson when ``obj`` holds only what orjson
    writes as ``json`` does: text, integers up to 64 bits, booleans, null, and dicts (text
    keys, sorted as ``json`` sorts them) and lists of those. Anything else (a float, a
    subclass, another type, a lone surrogate) is left to ``json``, as before
    (``tests/unit/test_journal_ids.py`` compares the two)."""
    if type(obj) is dict and _plain(obj):
        try:
            return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:
            pass  # a key that is not text, an integer beyond 64 bits, a lone surrogate
    return _CANONICAL.encode(obj).encode("utf-8")


def _plain(value: dict[str, Any] | list[Any]) -> bool:
    """Whether the values in ``value`` (a dict or a list) are only of :data:`_PLAIN` types, all the way down."""
    items = value.values() if type(value) is dict else value
    kinds = set(map(type, items))
    if kinds <= _SCALARS:
        return True
    if not kinds <= _PLAIN:
        return False
    for item in items:  # noqa: SIM110 (a loop: quicker than all() over a generator)
        if (type(item) is dict or type(item) is list) and not _plain(item):
            return False
    return True


# An id made from a fingerprint: "<32 hex digits>-<n>" (n without leading zeros).
_MADE_ID = re.compile(r"([0-9a-f]{32})-(0|[1-9][0-9]*)\Z")


#: Fingerprints and given ids a :class:`Validator` keeps in memory; past that many it keeps
#: them in a private temporary SQLite database (on disk), so that checking a journal of
#: millions of operations takes no more memory than one of a hundred thousand or so. A
#: fingerprint is kept as its 16 bytes: 150,000 of them take 12.6 MB (measured with
#: tracemalloc, the dict's table included), what 100,000 hex strings took (11.9 MB).
KEPT_IN_MEMORY = 150_000


class _Seen:
    """How many operations without an id had each fingerprint (its 16 bytes), and the ids
    operations gave themselves: a dict and a set, moved to a temporary database when they
    fill up."""

    def __init__(self) -> None:
        self._counts: dict[bytes, int] = {}
        self._given: set[str] = set()
        self._any_given = False  # most journals give no ids, or give every operation one
        self._db: sqlite3.Connection | None = None

    def count(self, fingerprint: bytes) -> int:
        """How many operations had ``fingerprint`` so far."""
        if self._db is None:
            return self._counts.get(fingerprint, 0)
        row = self._db.execute("SELECT n FROM counts WHERE fp = ?", (fingerprint,)).fetchone()
        return int(row[0]) if row else 0

    def add(self, fingerprint: bytes) -> int:
        """Count one more operation with ``fingerprint``: how many had it before."""
        if self._db is None:
            n = self._counts.get(fingerprint, 0)
            self._counts[fingerprint] = n + 1
            self._spill_when_full()
            return n
        sql = "INSERT INTO counts VALUES (?, 1) ON CONFLICT (fp) DO UPDATE SET n = n + 1 RETURNING n"
        return int(self._db.execute(sql, (fingerprint,)).fetchone()[0]) - 1

    def given(self, op_id: str) -> bool:
        """Whether an operation gave itself ``op_id`` so far."""
        if not self._any_given:
            return False
        if self._db is None:
            return op_id in self._given
        return self._db.execute("SELECT 1 FROM given WHERE id = ?", (op_id,)).fetchone() is not None

    def give(self, op_id: str) -> None:
        self._any_given = True
        if self._db is None:
            self._given.add(op_id)
            self._spill_when_full()
        else:
            self._db.execute("INSERT OR IGNORE INTO given VALUES (?)", (op_id,))

    def _spill_when_full(self) -> None:
        if len(self._counts) + len(self._given) < KEPT_IN_MEMORY:
            return
        # "": a private temporary database, in a file SQLite deletes when it is closed (with
        # the validator); one transaction that is never committed, nothing made durable.
        # The rows are written first and indexed once (cheaper than keeping the index
        # ordered row after row).
        db = sqlite3.connect("", isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("BEGIN")
        db.execute("CREATE TABLE counts (fp BLOB NOT NULL, n INTEGER NOT NULL)")
        db.execute("CREATE TABLE given (id TEXT NOT NULL)")
        db.executemany("INSERT INTO counts VALUES (?, ?)", self._counts.items())
        db.executemany("INSERT INTO given VALUES (?)", [(i,) for i in self._given])
        db.execute("CREATE UNIQUE INDEX counts_fp ON counts (fp)")
        db.execute("CREATE UNIQUE INDEX given_id ON given (id)")
        self._db, self._counts, self._given = db, {}, set()


class Validator:
    """Validates a journal's raw operations one at a time, in order.

    Keeps every problem found (:meth:`error` lists them all, as :func:`parse_operations`
    does), numbers identical operations that have no id, and refuses an id used twice; so a
    journal can be checked while it is read, without holding all of it.
    """

    def __init__(self) -> None:
        self.problems: list[JournalProblem] = []
        self.count = 0  # operations read so far
        # How many operations without an id had each fingerprint (their ids are
        # "<fingerprint>-<n>", so never the same), and the ids operations gave themselves.
        self._seen = _Seen()

    def add(self, raw: Any) -> Operation | None:
        """The next raw operation, typed; None if it has problems (kept in ``problems``)."""
        index = self.count
        self.count = index + 1
        name, fields, meta, found = check(raw, index)
        if found:
            self.problems.extend(found)
            return None
        given = meta.get("id")
        seen = self._seen
        if given is None:
            # Two identical operations in one file are two operations: number them.
            fingerprint = _digest(raw)
            op_id = f"{fingerprint.hex()}-{seen.add(fingerprint)}"
            repeated = seen.given(op_id)
        else:
            # A given id may repeat another given one, or one made for an earlier operation.
            op_id = given
            made = _MADE_ID.match(op_id)
            repeated = seen.given(op_id) or (made is not None and seen.count(bytes.fromhex(made[1])) > int(made[2]))
            seen.give(op_id)
        if repeated:
            self.problems.append(JournalProblem(f"repeats id {op_id!r}", index, name, "id", "duplicate_id"))
        return Operation(name, fields, OpMeta(op_id, meta.get("by"), meta.get("note")), index)

    def error(self, source: str | None = None) -> JournalError | None:
        """Every problem found so far, in the order of the operations; None if there is none."""
        if not self.problems:
            return None
        problems = sorted(self.problems, key=lambda p: p.index if p.index is not None else -1)
        return JournalError(problems, source)
