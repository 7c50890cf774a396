"""Keys and ids: how a human key names an aggregate. Light: no event-store import."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from uuid import UUID

# Fixed forever: changing it would change every aggregate id of every ledger.
NAMESPACE = UUID("6f1d2c9e-3b0a-5d4e-9a51-7c2b8e0f4d13")

KINDS = ("party", "partnership", "agreement", "contribution", "target", "evaluation")

# The SHA-1 of uuid5's first part, the namespace's 16 bytes, taken once: each id copies it
# and hashes only its name (``tests/unit/test_journal_ids.py`` compares with ``uuid.uuid5``).
_NAMESPACE_SHA1 = hashlib.sha1(NAMESPACE.bytes, usedforsecurity=False)


# Cached: every operation looks up a few aggregates by key.
@lru_cache(maxsize=16_384)
def aggregate_id(kind: str, key: str) -> UUID:
    """The id of the aggregate of ``kind`` named ``key``: ``uuid5(NAMESPACE, "kind:key")``."""
    sha1 = _NAMESPACE_SHA1.copy()
    sha1.update(f"{kind}:{key}".encode())
    return UUID(bytes=sha1.digest()[:16], version=5)
