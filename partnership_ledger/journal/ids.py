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
from collections.abc import Mapping
from typing import Any

from ..domain.values import OpMeta
from ..errors import JournalError, JournalProblem
from .operations import Operation, check

# Canonical JSON of an operation (its fingerprint, the id of an operation without one):
# sorted keys, non-ASCII characters as they are, no spaces. These bytes are hashed into the
# ids of recorded operations: they must never change (tests/unit/test_journal_ids.py).
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def op_fingerprint(raw: Mapping[str, Any]) -> str:
    """A stable id for an operation that has none: the hash of its canonical JSON."""
    obj = {k: v for k, v in raw.items() if k != "id"} if "id" in raw else raw
    return hashlib.sha256(_CANONICAL.encode(obj).encode("utf-8")).hexdigest()[:32]


def validate_operation(raw: Any, index: int) -> tuple[Operation | None, list[JournalProblem]]:
    """Check one raw operation; return it typed, or the problems found in it."""
    name, fields, meta, problems = check(raw, index)
    if problems:
        return None, problems
    op_id = meta.get("id") or op_fingerprint(raw)
    return Operation(name, fields, OpMeta(op_id, meta.get("by"), meta.get("note")), index), []


# An id made from a fingerprint: "<32 hex digits>-<n>" (n without leading zeros).
_MADE_ID = re.compile(r"([0-9a-f]{32})-(0|[1-9][0-9]*)\Z")


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
        self._occurrences: dict[str, int] = {}
        self._given_ids: set[str] = set()

    def add(self, raw: Any) -> Operation | None:
        """The next raw operation, typed; None if it has problems (kept in ``problems``)."""
        index = self.count
        self.count = index + 1
        name, fields, meta, found = check(raw, index)
        if found:
            self.problems.extend(found)
            return None
        given = meta.get("id")
        if given is None:
            # Two identical operations in one file are two operations: number them.
            fingerprint = op_fingerprint(raw)
            n = self._occurrences.get(fingerprint, 0)
            self._occurrences[fingerprint] = n + 1
            op_id = f"{fingerprint}-{n}"
            repeated = op_id in self._given_ids
        else:
            # A given id may repeat another given one, or one made for an earlier operation.
            op_id = given
            made = _MADE_ID.match(op_id)
            repeated = op_id in self._given_ids or (
                made is not None and self._occurrences.get(made[1], 0) > int(made[2])
            )
            self._given_ids.add(op_id)
        if repeated:
            self.problems.append(JournalProblem(f"repeats id {op_id!r}", index, name, "id", "duplicate_id"))
        return Operation(name, fields, OpMeta(op_id, meta.get("by"), meta.get("note")), index)

    def error(self, source: str | None = None) -> JournalError | None:
        """Every problem found so far, in the order of the operations; None if there is none."""
        if not self.problems:
            return None
        problems = sorted(self.problems, key=lambda p: p.index if p.index is not None else -1)
        return JournalError(problems, source)
