"""Tamper evidence: the hash chain over stored events, checkpoints and verification.

Each stored event gets a link ``(position, prev_position, hash)`` written in the same
transaction as the event, where ``hash = SHA-256(prev_hash || canonical(record))``. Editing,
deleting, inserting or reordering stored rows breaks the chain at the first bad position.

The chain has no secret: someone who can write the database can also recompute every link
after an edit. A checkpoint (``{size, position, root}``, signed with an Ed25519 key and kept
elsewhere) catches that, and a truncated or replaced tail: see :func:`verify_checkpoint`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from uuid import UUID

import attrs

from .errors import IntegrityError, InvalidArgument

if TYPE_CHECKING:
    from .storage.db import Db

GENESIS = bytes(32)
BATCH = 5000


def _field(data: bytes) -> bytes:
    # Length-prefixed, so no two different records encode to the same bytes.
    return struct.pack(">Q", len(data)) + data


def _text_bytes(value: UUID | str | bytes) -> bytes:
    if isinstance(value, UUID):
        return value.hex.encode("ascii")
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return value.encode("utf-8", "surrogatepass")


def canonical_record(
    position: int,
    originator_id: UUID | str | bytes,
    originator_version: int,
    topic: str | bytes,
    state: bytes,
) -> bytes:
    """The canonical encoding of one stored event that the chain hashes.

    ``originator_id`` is hashed as stored: a UUID as its 32 hex digits (how the SQLite
    recorder stores it), a string or bytes exactly as given, so that any edit of the stored
    text, even one that leaves the same UUID, changes the hash.
    """
    return b"".join(
        (
            struct.pack(">q", position),
            _field(_text_bytes(originator_id)),
            struct.pack(">q", originator_version),
            _field(_text_bytes(topic)),
            _field(bytes(state)),
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
    return hashlib.sha256(
        prev_hash + canonical_record(position, originator_id, originator_version, topic, state)
    ).digest()


def chain_links(
    prev_position: int, prev_hash: bytes, records: Iterable[tuple[int, UUID | str | bytes, int, str | bytes, bytes]]
) -> list[tuple[int, int, bytes]]:
    """The links ``(position, prev_position, hash)`` of ``records`` (position, originator id,
    version, topic, state), in order, after the link at ``prev_position`` with ``prev_hash``.

    The same hashes as :func:`link_hash`, computed inline: recorders call this for every event.
    """
    sha256, pack = hashlib.sha256, struct.pack
    links = []
    # Each topic's length and bytes, made once: a ledger has a few dozen topics.
    topics: dict[str, bytes] = {}
    for position, oid, version, topic, state in records:
        if type(topic) is str:
            topic_field = topics.get(topic)
            if topic_field is None:
                topic_field = _field(_text_bytes(topic))
                if len(topics) < 1000:
                    topics[topic] = topic_field
        else:
            topic_field = _field(_text_bytes(topic))
        if type(oid) is str and len(oid) == 32 and oid.isascii():  # as stored: a UUID's hex digits
            head = pack(">qQ32sq", position, 32, oid.encode(), version)
        elif type(oid) is UUID:  # its 32 hex digits, as _text_bytes has it
            head = pack(">qQ32sq", position, 32, oid.hex.encode(), version)
        else:
            head = pack(">q", position) + _field(_text_bytes(oid)) + pack(">q", version)
        h = sha256(b"".join((prev_hash, head, topic_field, pack(">Q", len(state)), state))).digest()
        links.append((position, prev_position, h))
        prev_position, prev_hash = position, h
    return links


# -- verification -----------------------------------------------------------------------------


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


Row = tuple[Any, ...]  # position, originator id, version, topic, state, prev position, hash


class _Walk:
    """The state of a walk along the chain: how far it got and the hash it reached."""

    def __init__(self) -> None:
        self.size = 0
        self.last_position = 0
        self.prev_hash = GENESIS

    def fail(self, position: int | None, problem: str, message: str) -> VerifyResult:
        return VerifyResult(False, self.size, self.prev_hash.hex(), self.last_position, position, problem, message)


def _columns(db: Db) -> str:
    if db.backend == "sqlite":
        # As stored, as bytes (an edit that makes a text column invalid UTF-8 must be reported,
        # not crash the walk), and NULL where the value is not of the type the recorder writes:
        # the application would not read such a row (see foreign_row), so it fails the walk.
        return (
            "CASE WHEN typeof(originator_id) = 'text' THEN CAST(originator_id AS BLOB) END, "
            "CASE WHEN typeof(originator_version) = 'integer' THEN originator_version END, "
            "CASE WHEN typeof(topic) = 'text' THEN CAST(topic AS BLOB) END, "
            "CASE WHEN typeof(state) = 'blob' THEN state END"
        )
    return "originator_id, originator_version, topic, state"


def _link_columns(db: Db) -> str:
    if db.backend == "sqlite":
        return (
            "position, CASE WHEN typeof(prev_position) = 'integer' THEN prev_position END, "
            "CASE WHEN typeof(hash) = 'blob' THEN hash END"
        )
    return "position, prev_position, hash"


def _outside_chain(db: Db) -> int | None:
    """The first position up to 0 of an event or a link (the chain starts at 1), if any."""
    pos, events = db.position_col, db.events_table
    with db.transaction(commit=False) as c:
        c.execute(
            f"SELECT MIN(p) FROM (SELECT MIN({pos}) AS p FROM {events} WHERE {pos} <= 0 "
            "UNION ALL SELECT MIN(position) FROM ledger_chain WHERE position <= 0) AS below"
        )
        row = c.fetchone()
    return int(row[0]) if row and row[0] is not None else None


def _oid_bytes(oid: Any) -> bytes:
    if isinstance(oid, bytes | bytearray | memoryview):
        return bytes(oid)
    if isinstance(oid, UUID):
        return oid.hex.encode("ascii")
    return str(oid).encode("utf-8", "surrogatepass")


def foreign_row(db: Db) -> tuple[int, str] | None:
    """The first stored row the chain cannot vouch for, and why; None if there is none.

    The application loads an aggregate's events by its id, whatever their position, and
    reads each column as the type the recorder writes. So every row must be at a position
    the chain covers (above 0) and of exactly those storage types (SQLite keeps any type in
    any column: an id stored as a BLOB has the same bytes, so the same hash, yet the
    application would no longer find it). Anything else is tampering.
    """
    pos, events = db.position_col, db.events_table
    with db.transaction(commit=False) as c:
        c.execute(f"SELECT {pos} FROM {events} WHERE {pos} <= 0 ORDER BY {pos} LIMIT 1")
        row = c.fetchone()
        if row is not None:
            return int(row[0]), "is outside the hash chain (positions start at 1)"
        if db.backend != "sqlite":
            c.execute("SELECT position FROM ledger_chain WHERE position <= 0 ORDER BY position LIMIT 1")
            row = c.fetchone()
            return (int(row[0]), "has a chain link outside the chain (positions start at 1)") if row else None
        c.execute(
            f"SELECT {pos}, typeof(originator_id), typeof(originator_version), typeof(topic), typeof(state) "
            f"FROM {events} WHERE typeof(originator_id) <> 'text' OR typeof(originator_version) <> 'integer' "
            "OR typeof(topic) <> 'text' OR typeof(state) <> 'blob' "
            f"ORDER BY {pos} LIMIT 1"
        )
        row = c.fetchone()
        if row is not None:
            kinds = dict(zip(("originator_id", "originator_version", "topic", "state"), row[1:], strict=True))
            wanted = {"originator_id": "text", "originator_version": "integer", "topic": "text", "state": "blob"}
            column = next(k for k, v in kinds.items() if v != wanted[k])
            return int(row[0]), f"has its {column} stored as {kinds[column]}, not {wanted[column]}"
        c.execute(
            "SELECT position, typeof(prev_position), typeof(hash) FROM ledger_chain WHERE position <= 0 "
            "OR typeof(prev_position) <> 'integer' OR typeof(hash) <> 'blob' ORDER BY position LIMIT 1"
        )
        row = c.fetchone()
        if row is not None:
            return int(row[0]), "has a chain link that is not one the ledger writes"
    return None


def verify_chain(db: Db, progress: Callable[[int], None] | None = None) -> VerifyResult:
    """Walk every stored event with its chain link, in position order.

    Returns at the first bad position: an event ``changed`` (its hash differs), ``missing``
    (its link remains but the event is gone, or the next link points back past it),
    ``inserted`` (an event without a link, or whose link points back before the event before
    it) or ``out_of_order`` (it holds the event recorded at a later position, or its link
    says it comes after a later event). A walk that reaches the end returns the chain's size
    and root: it proves the stored history is one unbroken line, not that its tail is the
    one recorded (:func:`verify_checkpoint` does that).

    ``missing`` names the position the chain points back to when an event and its link were
    both deleted: with several deleted in a row that is the last of them.
    """
    walk = _Walk()
    outside = _outside_chain(db)
    if outside is not None:
        return walk.fail(
            outside, "inserted", f"the row at position {outside} is outside the hash chain (positions start at 1)"
        )
    pos, events, cols = db.position_col, db.events_table, _columns(db)
    sha256, pack = hashlib.sha256, struct.pack
    while True:
        after = walk.last_position
        with db.transaction(commit=False) as c:
            c.execute(
                f"SELECT {pos}, {cols} FROM {events} WHERE {pos} > ? ORDER BY {pos} LIMIT ?",
                (after, BATCH),
            )
            rows = c.fetchall()
            full = len(rows) == BATCH
            # The links of the same stretch of positions (and, after the last event, any
            # links left without one), merged with the events below: two range scans are
            # cheaper than a join.
            c.execute(
                f"SELECT {_link_columns(db)} FROM ledger_chain WHERE position > ? "
                + ("AND position <= ? " if full else "")
                + "ORDER BY position",
                (after, rows[-1][0]) if full else (after,),
            )
            links = c.fetchall()
        # The common case inline (this loop is what verification spends its time on): the
        # same hash as link_hash, for stored bytes; anything else goes to _check.
        size, last, prev = walk.size, walk.last_position, walk.prev_hash
        j, n_links = 0, len(links)
        for position, oid, version, topic, state in rows:
            if j < n_links and links[j][0] < position:
                break  # a link whose event is gone
            if j < n_links and links[j][0] == position:
                prev_position, link = links[j][1], links[j][2]
                j += 1
                if type(oid) is not bytes and oid is not None:  # PostgreSQL: a uuid, text
                    oid = _oid_bytes(oid)
                if type(topic) is str:
                    topic = topic.encode("utf-8", "surrogatepass")
                if type(link) is not bytes and link is not None:
                    link = bytes(link)
                if (
                    prev_position == last
                    and type(oid) is bytes
                    and type(topic) is bytes
                    and type(state) is bytes
                    and type(version) is int
                ):
                    expected = sha256(
                        b"".join(
                            (
                                prev,
                                pack(">qQ", position, len(oid)),
                                oid,
                                pack(">qQ", version, len(topic)),
                                topic,
                                pack(">Q", len(state)),
                                state,
                            )
                        )
                    ).digest()
                    if expected == link:
                        size, last, prev = size + 1, position, expected
                        continue
            else:
                prev_position = link = None
            walk.size, walk.last_position, walk.prev_hash = size, last, prev
            failed = _check(db, walk, (position, oid, version, topic, state, prev_position, link))
            if failed is not None:
                return failed
            size, last, prev = walk.size, walk.last_position, walk.prev_hash
        walk.size, walk.last_position, walk.prev_hash = size, last, prev
        if progress is not None and rows:
            progress(len(rows))
        if j < n_links:
            orphan = int(links[j][0])
            return walk.fail(
                orphan,
                "missing",
                f"position {orphan} is missing: its chain link remains but its event is gone",
            )
        if not full:
            break
    root = walk.prev_hash.hex()
    return VerifyResult(
        True,
        walk.size,
        root,
        walk.last_position,
        message=f"the chain of {walk.size} events is intact; root {root}",
    )


def _check(db: Db, walk: _Walk, row: Row) -> VerifyResult | None:
    """Check one event against its link and advance the walk; the failure, if any."""
    position, oid, version, topic, state, prev_position, link = row
    if db.backend == "sqlite" and None in (oid, version, topic, state, prev_position, link):
        # A value of another storage type reads as NULL in the walk: say which.
        found = foreign_row(db)
        if found is not None and found[0] <= position:
            return walk.fail(found[0], "changed", f"the event row at position {found[0]} {found[1]}")
    if link is None:
        return walk.fail(
            position,
            "inserted",
            f"position {position} has an event that is not in the chain (inserted)",
        )
    if prev_position is None:
        return walk.fail(position, "changed", f"the chain link at position {position} was changed")
    if prev_position != walk.last_position:
        return _misplaced(db, walk, position, prev_position)
    if not isinstance(version, int) or isinstance(version, bool) or oid is None or topic is None or state is None:
        return walk.fail(position, "changed", f"position {position} was changed after it was recorded")
    expected = link_hash(walk.prev_hash, position, _oid_bytes(oid), version, topic, state)
    if expected != bytes(link):
        moved_from = _recorded_at(db, position, (_oid_bytes(oid), version, topic, state))
        if moved_from is not None:
            return walk.fail(
                position,
                "out_of_order",
                f"position {position} is out of order: it holds the event recorded at position {moved_from}",
            )
        return walk.fail(position, "changed", f"position {position} was changed after it was recorded")
    walk.prev_hash, walk.last_position = expected, position
    walk.size += 1
    return None


def _misplaced(db: Db, walk: _Walk, position: int, prev_position: int) -> VerifyResult:
    """Name what happened when a link does not point back to the event before it."""
    if prev_position < walk.last_position:
        return walk.fail(
            position,
            "inserted",
            f"position {position} links back to position {prev_position}, not to "
            f"{walk.last_position}: something was inserted or moved",
        )
    pos, events = db.position_col, db.events_table
    with db.transaction(commit=False) as c:
        c.execute(f"SELECT 1 FROM {events} WHERE {pos} = ?", (prev_position,))
        exists = c.fetchone() is not None
    if exists:
        return walk.fail(
            position,
            "out_of_order",
            f"position {position} is out of order: its link says it comes after position {prev_position}",
        )
    return walk.fail(
        prev_position,
        "missing",
        f"position {prev_position} is missing: the chain goes on after it at position {position}, "
        "but its event and link are gone",
    )


def _recorded_at(db: Db, position: int, content: tuple[bytes, int, Any, Any]) -> int | None:
    """The later position whose link this event's content matches (it was moved), if any.

    Only run when verification has already failed, so scanning the links is affordable.
    """
    after = position
    while True:
        with db.transaction(commit=False) as c:
            c.execute(
                "SELECT l.position, l.prev_position, l.hash, p.hash FROM ledger_chain l "
                "LEFT JOIN ledger_chain p ON p.position = l.prev_position "
                "WHERE l.position > ? ORDER BY l.position LIMIT ?",
                (after, BATCH),
            )
            links = c.fetchall()
        for at, prev_position, link, prev_link in links:
            if prev_link is None and prev_position != 0:
                continue
            prev = bytes(prev_link) if prev_link is not None else GENESIS
            if link_hash(prev, at, *content) == bytes(link):
                return int(at)
        if len(links) < BATCH:
            return None
        after = links[-1][0]


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
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public


def _load_private(pem: bytes) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        raise InvalidArgument("the signing key is not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InvalidArgument("the signing key is not an Ed25519 key (make one with 'partnership-ledger keygen')")
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


def _check_signature(checkpoint: dict[str, Any], public_key_pem: bytes | None) -> None:
    size, root = checkpoint["size"], checkpoint["root"]
    position = checkpoint.get("position", 0)
    signature = checkpoint.get("signature")
    if public_key_pem is not None and not signature:
        raise IntegrityError("the checkpoint is not signed, so it cannot be checked against a public key")
    if not signature:
        return
    carried = checkpoint.get("public_key")
    key_pem = public_key_pem or (carried.encode("ascii", "replace") if carried else None)
    if key_pem is None:
        raise IntegrityError("the checkpoint is signed but carries no public key: pass --public-key")
    from cryptography.exceptions import InvalidSignature

    key = _load_public(key_pem)
    try:
        key.verify(base64.b64decode(signature, validate=True), checkpoint_message(size, root, position))
    except (InvalidSignature, ValueError, UnicodeError):
        raise IntegrityError(
            "the checkpoint's signature does not match: the checkpoint was modified or the key is wrong"
        ) from None


def key_fingerprint(public_key_pem: bytes | str) -> str:
    """``SHA256:`` and the base64 of the SHA-256 of the raw Ed25519 public key (as OpenSSH shows it)."""
    from cryptography.hazmat.primitives import serialization

    pem = public_key_pem.encode("ascii", "replace") if isinstance(public_key_pem, str) else public_key_pem
    raw = _load_public(pem).public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
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
    _check_signature(checkpoint, public_key_pem)
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
