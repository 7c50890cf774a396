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
    """How many operations had each fingerprint (its 16 bytes) or gave themselves each id (its
    text): a dict, moved to a temporary database when it fills up. (Bytes and text are never
    equal, in a dict as in SQLite: a fingerprint and an id never count as one another.)"""

    def __init__(self) -> None:
        self._counts: dict[bytes | str, int] = {}
        self._db: sqlite3.Connection | None = None

    def count(self, seen: bytes | str) -> int:
        """How many operations had ``seen`` so far."""
        if self._db is None:
            return self._counts.get(seen, 0)
        row = self._db.execute("SELECT n FROM counts WHERE seen = ?", (seen,)).fetchone()
        return int(row[0]) if row else 0

    def add(self, seen: bytes | str) -> int:
        """Count one more operation with ``seen``: how many had it before."""
        if self._db is not None:
            sql = "INSERT INTO counts VALUES (?, 1) ON CONFLICT (seen) DO UPDATE SET n = n + 1 RETURNING n"
            return int(self._db.execute(sql, (seen,)).fetchone()[0]) - 1
        n = self._counts.get(seen, 0)
        self._counts[seen] = n + 1
        if len(self._counts) >= KEPT_IN_MEMORY:
            # "": a private temporary database, in a file SQLite deletes when it is closed
            # (with the validator); one transaction that is never committed, nothing made
            # durable. The rows are written first and indexed once (cheaper than keeping the
            # index ordered row after row).
            db = sqlite3.connect("", isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=OFF")
            db.execute("BEGIN")
            db.execute("CREATE TABLE counts (seen NOT NULL, n INTEGER NOT NULL)")
            db.executemany("INSERT INTO counts VALUES (?, ?)", self._counts.items())
            db.execute("CREATE UNIQUE INDEX counts_seen ON counts (seen)")
            self._db, self._counts = db, {}
        return n


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
        # "<fingerprint>-<n>", so never the same), and how many gave themselves each id.
        self._seen = _Seen()
        self._any_given = False  # most journals give no ids, or give every operation one

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
            repeated = self._any_given and seen.count(op_id) > 0
        else:
            # A given id may repeat another given one, or one made for an earlier operation.
            op_id = given
            made = _MADE_ID.match(op_id)
            repeated = seen.add(op_id) > 0 or (made is not None and seen.count(bytes.fromhex(made[1])) > int(made[2]))
            self._any_given = True
        if repeated:
            self.problems.append(JournalProblem(f"repeats id {op_id!r}", index, name, "id", "duplicate_id"))
        return Operation(name, fields, OpMeta(op_id, meta.get("by"), meta.get("note")), index)

    def error(self, source: str | None = None) -> JournalError | None:
        """Every problem found so far, in the order of the operations; None if there is none."""
        if not self.problems:
            return None
        problems = sorted(self.problems, key=lambda p: p.index if p.index is not None else -1)
        return JournalError(problems, source)
