"""Keys and ids: how a human key names an aggregate. Light: no event-store import."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from uuid import UUID, SafeUUID

# Fixed forever: changing it would change every aggregate id of every ledger.
NAMESPACE = UUID("6f1d2c9e-3b0a-5d4e-9a51-7c2b8e0f4d13")

KINDS = ("party", "partnership", "agreement", "contribution", "target", "evaluation")

_NAMESPACE_SHA1 = hashlib.sha1(NAMESPACE.bytes, usedforsecurity=False)
_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))  # the variant and version bits
_SET = (0x8000 << 48) | (5 << 76)  # RFC 4122 variant, version 5
_new = object.__new__
_set = object.__setattr__


def uuid5_of(name: str) -> UUID:
    """``uuid.uuid5(NAMESPACE, name)``, a few times quicker: the namespace's part of the SHA-1
    is hashed once, and the UUID is built from its integer without ``UUID.__init__``'s checks."""
    h = _NAMESPACE_SHA1.copy()
    h.update(name.encode("utf-8"))
    value = _new(UUID)
    _set(value, "int", (int.from_bytes(h.digest()[:16], "big") & _CLEAR) | _SET)
    _set(value, "is_safe", SafeUUID.unknown)
    return value


# Cached: every operation looks up a few aggregates by key, and uuid5 (a SHA-1) was a fifth
# of the domain's time in a big import (bench/record.py).
@lru_cache(maxsize=16_384)
def aggregate_id(kind: str, key: str) -> UUID:
    """The id of the aggregate of ``kind`` named ``key``: ``uuid5(NAMESPACE, "kind:key")``."""
    return uuid5_of(f"{kind}:{key}")
