"""The hash chain: the one encoding of a stored event that every link hashes, and the links.

Each stored event gets a link ``(position, prev_position, hash)`` written in the same
transaction as the event, where ``hash = SHA-256(prev_hash || canonical_record(event))``.
The SQLite and PostgreSQL recorders, ``verify`` and the published ledger all hash through
:func:`link_hash`: :func:`canonical_record` is the only place the hashed bytes are made.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable
from typing import TYPE_CHECKING
from uuid import UUID

if TYPE_CHECKING:
    from ..storage.db import Db

GENESIS = bytes(32)

#: One stored event as the chain sees it: position, originator id, version, topic, state.
Record = tuple[int, UUID | str | bytes, int, str | bytes, bytes]
#: The storage type of each column of an event row as the SQLite recorder writes it (SQLite
#: keeps any type anywhere): a row of another is tampering, never read as an event.
STORED_TYPES = {"originator_id": "text", "originator_version": "integer", "topic": "text", "state": "blob"}


def as_stored(value: UUID | str | bytes | bytearray | memoryview) -> bytes:
    """The bytes of a stored text column: a UUID as its 32 hex digits (how the SQLite recorder
    stores an originator id, and PostgreSQL's ``uuid`` reads back), text as UTF-8 (a lone
    surrogate kept, so an edit into invalid text is hashed, not refused), bytes as they are."""
    if type(value) is bytes:
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    if isinstance(value, UUID):
        return value.hex.encode("ascii")
    return bytes(value)


def canonical_record(record: Record) -> bytes:
    """The bytes the chain hashes for one stored event (chain formats 1 and 2 alike): ``record``
    is its position, originator id, version, topic and state.

    Position and version as 8-byte big-endian signed integers; the originator id, the topic
    and the state each length-prefixed (8-byte big-endian), so no two different records
    encode to the same bytes. ``originator_id`` is hashed as stored (see :func:`as_stored`):
    any edit of the stored text, even one that leaves the same UUID, changes the hash.
    """
    position, originator_id, originator_version, topic, state = record
    oid, name = as_stored(originator_id), as_stored(topic)
    return b"".join(
        (
            struct.pack(">qQ", position, len(oid)),
            oid,
            struct.pack(">qQ", originator_version, len(name)),
            name,
            struct.pack(">Q", len(state)),
            state,
        )
    )


def link_hash(
    prev_hash: bytes,
    position: int,
    originator_id: UUID | str | bytes,
    originator_version: int,
    topic: str | bytes,
    state: bytes,
) -> bytes:
    """The chain hash of a record given the hash of the link before it."""
    record = canonical_record((position, originator_id, originator_version, topic, state))
    return hashlib.sha256(prev_hash + record).digest()


def chain_links(prev_position: int, prev_hash: bytes, records: Iterable[Record]) -> list[tuple[int, int, bytes]]:
    """The links ``(position, prev_position, hash)`` of ``records``, in order, after the link
    at ``prev_position`` with ``prev_hash``: what a recorder inserts with the events."""
    links = []
    for position, oid, version, topic, state in records:
        prev_hash = link_hash(prev_hash, position, oid, version, topic, state)
        links.append((position, prev_position, prev_hash))
        prev_position = position
    return links


def chain_head(db: Db) -> tuple[int, str, int]:
    """(size, root hex, last position) of the chain as stored, without verifying it."""
    with db.transaction(commit=False) as c:
        c.execute("SELECT COUNT(*), MAX(position) FROM ledger_chain")
        row = c.fetchone()
        size, last = (int(row[0]), int(row[1] or 0)) if row else (0, 0)
        c.execute("SELECT hash FROM ledger_chain ORDER BY position DESC LIMIT 1")
        h = c.fetchone()
    return size, (bytes(h[0]).hex() if h else GENESIS.hex()), last


def link_at(db: Db, size: int) -> tuple[int, str] | None:
    """(position, hash hex) of the ``size``-th link of the chain (of a verified chain)."""
    if size == 0:
        return 0, GENESIS.hex()
    with db.transaction(commit=False) as c:
        c.execute(
            "SELECT position, hash FROM ledger_chain ORDER BY position LIMIT 1 OFFSET ?",
            (size - 1,),
        )
        row = c.fetchone()
    return (int(row[0]), bytes(row[1]).hex()) if row else None
