"""Keys and ids: how a human key names an aggregate. Light: no event-store import."""

from __future__ import annotations

from functools import lru_cache
from uuid import UUID, uuid5

# Fixed forever: changing it would change every aggregate id of every ledger.
NAMESPACE = UUID("6f1d2c9e-3b0a-5d4e-9a51-7c2b8e0f4d13")

KINDS = ("party", "partnership", "agreement", "contribution", "target", "evaluation")


# Cached: every operation looks up a few aggregates by key.
@lru_cache(maxsize=16_384)
def aggregate_id(kind: str, key: str) -> UUID:
    """The id of the aggregate of ``kind`` named ``key``: ``uuid5(NAMESPACE, "kind:key")``."""
    return uuid5(NAMESPACE, f"{kind}:{key}")
