"""Checkpoints: ``{size, position, root}`` of a verified chain, signed with an Ed25519 key.

The chain has no secret: someone who can write the database can also recompute every link
after an edit. A checkpoint kept elsewhere catches that, and a truncated or replaced tail:
see :func:`verify_checkpoint`.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import TYPE_CHECKING, Any

import attrs

from ..errors import IntegrityError, InvalidArgument
from .chain import link_at
from .verify import VerifyResult, verify_chain

if TYPE_CHECKING:
    from ..storage.db import Db

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
    return private, _public_bytes(key.public_key())


def _public_bytes(public_key: Any, raw: bool = False) -> bytes:
    """A public key as PEM (SubjectPublicKeyInfo), or as its raw 32 bytes."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    if raw:
        return bytes(public_key.public_bytes(Encoding.Raw, PublicFormat.Raw))
    return bytes(public_key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))


def load_signing_key(pem: bytes) -> Any:
    """The Ed25519 private key in ``pem`` (refused with one sentence if it is not one)."""
    return _load_key(pem, private=True)


def _load_key(pem: bytes, *, private: bool) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

    which = "signing" if private else "public"
    try:
        key = serialization.load_pem_private_key(pem, None) if private else serialization.load_pem_public_key(pem)
    except (ValueError, TypeError):
        form = "an unencrypted PEM private key" if private else "a PEM public key"
        raise InvalidArgument(f"the {which} key is not {form}") from None
    if not isinstance(key, Ed25519PrivateKey if private else Ed25519PublicKey):
        hint = " (make one with 'partnership-ledger keygen')" if private else ""
        raise InvalidArgument(f"the {which} key is not an Ed25519 key{hint}")
    return key


def make_checkpoint(db: Db, private_key_pem: bytes | None = None) -> dict[str, Any]:
    """``{size, position, root, signature, public_key}`` of the ledger as it stands (verified)."""
    key = load_signing_key(private_key_pem) if private_key_pem is not None else None
    result = verify_chain(db)
    if not result.ok:
        raise IntegrityError(f"refusing to checkpoint a broken chain: {result.message}")
    return checkpoint_of(result.size, result.last_position, result.root, key)


def checkpoint_of(size: int, position: int, root: str, key: Any = None) -> dict[str, Any]:
    """The checkpoint of a chain of ``size`` links ending at ``position`` with hash ``root``,
    signed with ``key`` (from :func:`load_signing_key`) when one is given."""
    checkpoint: dict[str, Any] = {
        "format": CHECKPOINT_FORMAT,
        "size": size,
        "position": position,
        "root": root,
        "signature": None,
        "public_key": None,
    }
    if key is not None:
        signature = key.sign(checkpoint_message(size, root, position))
        checkpoint["signature"] = base64.b64encode(signature).decode("ascii")
        checkpoint["public_key"] = _public_bytes(key.public_key()).decode("ascii")
    return checkpoint


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def read_checkpoint(data: bytes | str) -> dict[str, Any]:
    """Parse and check the shape of a checkpoint file (not its truth: see verify_checkpoint)."""
    try:
        cp = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise InvalidArgument("the checkpoint file is not JSON") from None
    if (
        not isinstance(cp, dict)
        or not _is_count(cp.get("size"))
        or not isinstance(cp.get("root"), str)
        or not _is_count(cp.get("position", 0))
    ):
        raise InvalidArgument("the checkpoint file lacks an integer size, a position and a root hash")
    for name in ("signature", "public_key"):
        if cp.get(name) is not None and not isinstance(cp[name], str):
            raise InvalidArgument(f"the checkpoint's {name} is not a string")
    return cp


def check_signature(checkpoint: dict[str, Any], public_key_pem: bytes | None) -> None:
    """Raise :class:`IntegrityError` unless the checkpoint's signature (if any) matches, by
    ``public_key_pem`` when given, else by the key it carries."""
    size, root = checkpoint["size"], checkpoint["root"]
    position = checkpoint.get("position", 0)
    signature = checkpoint.get("signature")
    if not signature:
        if public_key_pem is not None:
            raise IntegrityError("the checkpoint is not signed, so it cannot be checked against a public key")
        return
    carried = checkpoint.get("public_key")
    key_pem = public_key_pem or (carried.encode("ascii", "replace") if carried else None)
    if key_pem is None:
        raise IntegrityError("the checkpoint is signed but carries no public key: pass --public-key")
    from cryptography.exceptions import InvalidSignature

    key = _load_key(key_pem, private=False)
    try:
        key.verify(base64.b64decode(signature, validate=True), checkpoint_message(size, root, position))
    except (InvalidSignature, ValueError, UnicodeError):
        raise IntegrityError(
            "the checkpoint's signature does not match: the checkpoint was modified or the key is wrong"
        ) from None


def key_fingerprint(public_key_pem: bytes | str) -> str:
    """``SHA256:`` and the base64 of the SHA-256 of the raw Ed25519 public key (as OpenSSH shows it)."""
    pem = public_key_pem.encode("ascii", "replace") if isinstance(public_key_pem, str) else public_key_pem
    raw = _public_bytes(_load_key(pem, private=False), raw=True)
    return "SHA256:" + base64.b64encode(hashlib.sha256(raw).digest()).decode("ascii").rstrip("=")


def checkpoint_trust(checkpoint: dict[str, Any], public_key_pem: bytes | None = None) -> dict[str, Any]:
    """What a checkpoint can prove: whether it is signed, by which key, and whether that key
    is one the auditor trusts (given with ``public_key_pem``) or only the one it carries.

    Returns ``{signed, fingerprint, trusted_key, message}``; ``message`` says it in a sentence.
    The signature itself is checked by :func:`verify_checkpoint`.
    """
    signed = bool(checkpoint.get("signature"))
    carried = checkpoint.get("public_key")
    key = public_key_pem if public_key_pem is not None else carried
    fingerprint = key_fingerprint(key) if signed and key else None
    trusted = signed and public_key_pem is not None
    if not signed:
        message = (
            "the checkpoint is unsigned: it proves nothing against someone who can write the "
            "checkpoint file as well as the ledger"
        )
    elif trusted:
        message = f"the checkpoint is signed by the trusted key {fingerprint} (--public-key)"
    else:
        message = (
            f"the checkpoint is signed by the key it carries, {fingerprint}; without --public-key "
            "that only shows the file is unchanged since that key signed it, not who holds the key"
        )
    return {"signed": signed, "fingerprint": fingerprint, "trusted_key": trusted, "message": message}


def verify_checkpoint(db: Db, checkpoint: dict[str, Any], public_key_pem: bytes | None = None) -> VerifyResult:
    """Verify the chain and that it extends ``checkpoint`` (catches a truncated or replaced tail).

    The signature is checked against ``public_key_pem`` when given (an auditor's trusted key),
    otherwise against the key the checkpoint carries. Without a trusted key a signature only
    shows that the checkpoint is unchanged since whoever holds its key signed it: someone who
    can replace the checkpoint can also sign it with a key of their own.
    """
    checkpoint = read_checkpoint(json.dumps(checkpoint))
    check_signature(checkpoint, public_key_pem)
    size, root, position = checkpoint["size"], checkpoint["root"], checkpoint.get("position", 0)
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
            message=f"the ledger does not extend the checkpoint: its event {size} (position "
            f"{found[0] if found else '?'}) is not the one the checkpoint recorded, so events up "
            "to there were replaced",
        )
    return attrs.evolve(result, message=result.message + f"; it extends the checkpoint of {size} events")
