"""Tamper evidence: the hash chain over stored events, checkpoints and verification.

Each stored event gets a link ``(position, prev_position, hash)`` written in the same
transaction as the event, where ``hash = SHA-256(prev_hash || canonical(record))``. Editing,
deleting, inserting or reordering stored rows breaks the chain at the first bad position.
"""

from __future__ import annotations

import hashlib
import struct
from uuid import UUID

GENESIS = bytes(32)


def _field(data: bytes) -> bytes:
    # Length-prefixed, so no two different records encode to the same bytes.
    return struct.pack(">Q", len(data)) + data


def canonical_record(
    position: int, originator_id: UUID | str, originator_version: int, topic: str, state: bytes
) -> bytes:
    """The canonical encoding of one stored event that the chain hashes."""
    oid = (
        originator_id.hex
        if isinstance(originator_id, UUID)
        else str(originator_id).replace("-", "")
    )
    return b"".join(
        (
            struct.pack(">q", position),
            _field(oid.encode("ascii")),
            struct.pack(">q", originator_version),
            _field(topic.encode("utf-8")),
            _field(bytes(state)),
        )
    )


def link_hash(
    prev_hash: bytes,
    position: int,
    originator_id: UUID | str,
    originator_version: int,
    topic: str,
    state: bytes,
) -> bytes:
    """The chain hash of a record given the hash of the link before it."""
    return hashlib.sha256(
        prev_hash + canonical_record(position, originator_id, originator_version, topic, state)
    ).digest()
