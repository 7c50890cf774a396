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


# -- verification -----------------------------------------------------------------------------

import base64  # noqa: E402
import json  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import attrs  # noqa: E402

from .errors import IntegrityError, InvalidArgument  # noqa: E402
from .storage.db import Db  # noqa: E402

BATCH = 5000


@attrs.frozen
class VerifyResult:
    """The outcome of walking the chain: its size and root, or the first bad position."""

    ok: bool
    size: int
    root: str
    last_position: int
    bad_position: int | None = None
    problem: str | None = None  # changed, missing, inserted, out_of_order, truncated, replaced
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def _fail(
    size: int, root: bytes, last: int, position: int, problem: str, message: str
) -> VerifyResult:
    return VerifyResult(False, size, root.hex(), last, position, problem, message)


def verify_chain(db: Db, progress: Callable[[int], None] | None = None) -> VerifyResult:
    """Walk every stored event with its chain link, following the links.

    Returns at the first bad position: an event changed (its hash differs), missing (a link
    points back past a gap, or a link has no event), inserted (an event without a link, or a
    link that does not point to the event before it), or out of order (an aggregate's
    versions go backwards).
    """
    size, last_position, prev_hash = 0, 0, GENESIS
    versions: dict[str, int] = {}
    pos, events = db.position_col, db.events_table  # rowid/stored_events on SQLite
    while True:
        with db.transaction(commit=False) as c:
            c.execute(
                f"SELECT e.{pos}, e.originator_id, e.originator_version, e.topic, e.state, "
                f"l.prev_position, l.hash FROM {events} e LEFT JOIN ledger_chain l "
                f"ON l.position = e.{pos} WHERE e.{pos} > ? ORDER BY e.{pos} LIMIT ?",
                (last_position, BATCH),
            )
            rows = c.fetchall()
            if rows:
                # Links whose events are gone, between the last position and this batch's end.
                c.execute(
                    f"SELECT l.position FROM ledger_chain l LEFT JOIN {events} e "
                    f"ON e.{pos} = l.position WHERE l.position > ? AND l.position <= ? "
                    f"AND e.{pos} IS NULL ORDER BY l.position LIMIT 1",
                    (last_position, rows[-1][0]),
                )
                orphan = c.fetchone()
            else:
                c.execute(
                    f"SELECT l.position FROM ledger_chain l LEFT JOIN {events} e "
                    f"ON e.{pos} = l.position WHERE l.position > ? AND e.{pos} IS NULL "
                    "ORDER BY l.position LIMIT 1",
                    (last_position,),
                )
                orphan = c.fetchone()
        if orphan is not None and (not rows or orphan[0] < rows[-1][0]):
            first_row_after = next((r for r in rows if r[0] > orphan[0]), None)
            if first_row_after is None or orphan[0] < first_row_after[0]:
                # Check events before the orphan first, so the first bad position is reported.
                rows = [r for r in rows if r[0] < orphan[0]]
            else:  # pragma: no cover
                orphan = None
        for position, oid, version, topic, state, prev_position, link in rows:
            if link is None:
                return _fail(
                    size,
                    prev_hash,
                    last_position,
                    position,
                    "inserted",
                    f"position {position} has an event that is not in the chain (inserted)",
                )
            if prev_position != last_position:
                if prev_position > last_position:
                    return _fail(
                        size,
                        prev_hash,
                        last_position,
                        position,
                        "missing",
                        f"position {position} follows position {prev_position}, which is missing",
                    )
                return _fail(
                    size,
                    prev_hash,
                    last_position,
                    position,
                    "inserted",
                    f"position {position} links back to position {prev_position}, not to "
                    f"{last_position}: something was inserted or moved",
                )
            expected = link_hash(prev_hash, position, oid, version, topic, bytes(state))
            if expected != bytes(link):
                seen = versions.get(oid)
                if seen is not None and version <= seen:
                    return _fail(
                        size,
                        prev_hash,
                        last_position,
                        position,
                        "out_of_order",
                        f"position {position} is out of order: version {version} of "
                        f"aggregate {oid} comes after version {seen}",
                    )
                return _fail(
                    size,
                    prev_hash,
                    last_position,
                    position,
                    "changed",
                    f"position {position} was changed after it was recorded",
                )
            versions[oid] = version
            prev_hash, last_position = expected, position
            size += 1
        if progress is not None and rows:
            progress(len(rows))
        if orphan is not None:
            return _fail(
                size,
                prev_hash,
                last_position,
                orphan[0],
                "missing",
                f"position {orphan[0]} is missing: its chain link remains but its event is gone",
            )
        if len(rows) < BATCH:
            break
    return VerifyResult(
        True,
        size,
        prev_hash.hex(),
        last_position,
        message=f"the chain of {size} events is intact; root {prev_hash.hex()}",
    )


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
    """(position, hash hex) of the ``size``-th link of the chain, following the links."""
    if size == 0:
        return 0, GENESIS.hex()
    with db.transaction(commit=False) as c:
        c.execute(
            "SELECT position, hash FROM ledger_chain ORDER BY position LIMIT 1 OFFSET ?",
            (size - 1,),
        )
        row = c.fetchone()
    return (int(row[0]), bytes(row[1]).hex()) if row else None


# -- checkpoints ----------------------------------------------------------------------------------

CHECKPOINT_FORMAT = "partnership-ledger checkpoint v1"


def checkpoint_message(size: int, root: str, position: int) -> bytes:
    """The exact bytes a checkpoint's signature covers."""
    return f"{CHECKPOINT_FORMAT}\nsize={size}\nposition={position}\nroot={root}\n".encode("ascii")


def generate_keypair() -> tuple[bytes, bytes]:
    """A new Ed25519 key pair as (private PEM, public PEM)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


def _load_private(pem: bytes) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        raise InvalidArgument("the signing key is not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InvalidArgument(
            "the signing key is not an Ed25519 key (make one with 'partnership-ledger keygen')"
        )
    return key


def _load_public(pem: bytes) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError):
        raise InvalidArgument("the public key is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidArgument("the public key is not an Ed25519 key")
    return key


def _public_pem(private_key: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    return str(
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def make_checkpoint(db: Db, private_key_pem: bytes | None = None) -> dict[str, Any]:
    """``{size, position, root, signature, public_key}`` of the ledger as it stands (verified)."""
    result = verify_chain(db)
    if not result.ok:
        raise IntegrityError(f"refusing to checkpoint a broken chain: {result.message}")
    checkpoint: dict[str, Any] = {
        "format": CHECKPOINT_FORMAT,
        "size": result.size,
        "position": result.last_position,
        "root": result.root,
        "signature": None,
        "public_key": None,
    }
    if private_key_pem is not None:
        key = _load_private(private_key_pem)
        message = checkpoint_message(result.size, result.root, result.last_position)
        checkpoint["signature"] = base64.b64encode(key.sign(message)).decode("ascii")
        checkpoint["public_key"] = _public_pem(key)
    return checkpoint


def read_checkpoint(data: bytes | str) -> dict[str, Any]:
    try:
        cp = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise InvalidArgument("the checkpoint file is not JSON") from None
    if (
        not isinstance(cp, dict)
        or not isinstance(cp.get("size"), int)
        or not isinstance(cp.get("root"), str)
        or not isinstance(cp.get("position", 0), int)
    ):
        raise InvalidArgument(
            "the checkpoint file lacks an integer size, a position and a root hash"
        )
    return cp


def verify_checkpoint(
    db: Db, checkpoint: dict[str, Any], public_key_pem: bytes | None = None
) -> VerifyResult:
    """Verify the chain and that it extends ``checkpoint`` (catches a truncated or replaced tail).

    The signature is checked against ``public_key_pem`` when given (an auditor's trusted key),
    otherwise against the key the checkpoint carries; a modified checkpoint fails either way.
    """
    size, root, position = checkpoint["size"], checkpoint["root"], checkpoint.get("position", 0)
    signature = checkpoint.get("signature")
    key_pem = public_key_pem or (checkpoint.get("public_key") or "").encode("ascii") or None
    if public_key_pem is not None and not signature:
        raise IntegrityError(
            "the checkpoint is not signed, so it cannot be checked against a public key"
        )
    if signature:
        if key_pem is None:
            raise IntegrityError(
                "the checkpoint is signed but carries no public key: pass --public-key"
            )
        from cryptography.exceptions import InvalidSignature

        key = _load_public(key_pem)
        try:
            key.verify(base64.b64decode(signature), checkpoint_message(size, root, position))
        except (InvalidSignature, ValueError):
            raise IntegrityError(
                "the checkpoint's signature does not match: the checkpoint was modified or the key is wrong"
            ) from None
    result = verify_chain(db)
    if not result.ok:
        return result
    if result.size < size:
        return attrs.evolve(
            result,
            ok=False,
            bad_position=result.last_position + 1,
            problem="truncated",
            message=f"the ledger has {result.size} events but the checkpoint had {size}: its tail was cut off",
        )
    found = link_at(db, size)
    if found is None or found[1] != root or (position and found[0] != position):
        return attrs.evolve(
            result,
            ok=False,
            bad_position=found[0] if found else None,
            problem="replaced",
            message=f"the ledger does not extend the checkpoint: event {size} is not the one it recorded "
            "(its tail was replaced)",
        )
    return attrs.evolve(
        result, message=result.message + f"; it extends the checkpoint of {size} events"
    )
