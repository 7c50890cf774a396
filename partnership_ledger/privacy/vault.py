"""The key table and the sealed private values: what the hash chain does not hold.

``ledger_subjects``: one row per subject (a resident who evaluated): a lookup (an HMAC of
the subject's id, so the id itself is not stored), the subject's handle (the per-subject
commitment the chain holds in place of the id), the subject's AES-256-GCM key (itself
encrypted under a key derived from ``PARTNERSHIP_LEDGER_CIPHER_KEY`` when one is set), and
the id with its salt, encrypted under the subject's key.

``ledger_private``: one row per private value: its commitment (the value the chain holds),
the subject's handle, the aggregate it belongs to, and the value with its salt, encrypted
under the subject's key.

Erasing a subject deletes its key and rows (SQLite overwrites them with zeros:
``secure_delete``); the chain keeps the commitments, which nobody can open any more.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import attrs

from ..errors import IntegrityError, StorageError
from .registry import SALT_BYTES, commit, is_commitment, private_fields

if TYPE_CHECKING:
    from ..storage.db import Cursor, Db

#: ``ledger_meta.chain_format``: 2 = private fields are committed (this module); a ledger
#: without the row was written before (format 1: its events hold every value as given).
CHAIN_FORMAT = "2"

TABLES = [
    "CREATE TABLE IF NOT EXISTS ledger_subjects (lookup TEXT PRIMARY KEY, handle TEXT NOT NULL, "
    "subject_key TEXT NOT NULL, identity TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ledger_subjects_handle ON ledger_subjects (handle)",
    "CREATE TABLE IF NOT EXISTS ledger_private (ref TEXT PRIMARY KEY, handle TEXT NOT NULL, "
    "aggregate TEXT NOT NULL, field TEXT NOT NULL, sealed TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ledger_private_handle ON ledger_private (handle)",
]


def _aead(key: bytes) -> Any:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM(key)


def _seal(key: bytes, data: bytes, aad: str) -> str:
    nonce = os.urandom(12)
    return base64.b64encode(nonce + _aead(key).encrypt(nonce, data, aad.encode("utf-8"))).decode("ascii")


def _open(key: bytes, sealed: str, aad: str) -> bytes:
    raw = base64.b64decode(sealed)
    try:
        opened: bytes = _aead(key).decrypt(raw[:12], raw[12:], aad.encode("utf-8"))
    except Exception:
        raise StorageError(
            "a private value of the ledger cannot be decrypted: its key table was changed, or the "
            "cipher key is not the one it was written with"
        ) from None
    return opened


def chain_format(db: Db) -> str:
    """The ledger's chain format: ``2`` when private fields are committed, ``1`` before."""
    try:
        with db.transaction(commit=False) as c:
            c.execute("SELECT value FROM ledger_meta WHERE name='chain_format'")
            row = c.fetchone()
    except Exception:
        return "1"
    return str(row[0]) if row else "1"


def init_tables(db: Db, *, new_ledger: bool) -> None:
    """Create the key tables; mark a ledger with no events yet as chain format 2."""
    db.script(TABLES)
    if not new_ledger:
        return
    with db.transaction() as c:
        c.execute("SELECT value FROM ledger_meta WHERE name='chain_format'")
        if c.fetchone() is None:
            c.execute(
                "INSERT INTO ledger_meta VALUES ('chain_format', ?) ON CONFLICT (name) DO NOTHING", (CHAIN_FORMAT,)
            )
            c.execute(
                "INSERT INTO ledger_meta VALUES ('subject_pepper', ?) ON CONFLICT (name) DO NOTHING",
                (os.urandom(32).hex(),),
            )


def vault_secrets(db: Db, cipher_key: str | None) -> tuple[bytes | None, bytes]:
    """(the key that wraps subject keys, or None; the secret of the subjects' lookups).

    With a cipher key both derive from it and nothing of them is in the file; without one the
    lookup secret is the ledger's own (``ledger_meta.subject_pepper``) and subject keys are
    stored as they are: destroying one still destroys what it encrypts."""
    if cipher_key:
        k = base64.b64decode(cipher_key)
        return (
            hmac.new(k, b"partnership-ledger subject keys", hashlib.sha256).digest(),
            hmac.new(k, b"partnership-ledger subject lookup", hashlib.sha256).digest(),
        )
    with db.transaction(commit=False) as c:
        c.execute("SELECT value FROM ledger_meta WHERE name='subject_pepper'")
        row = c.fetchone()
    if row is None:
        return None, b""
    text = row[0]
    if not (isinstance(text, str) and len(text) == 64 and all(ch in "0123456789abcdef" for ch in text)):
        # The ledger wrote 32 random bytes as 64 lower-case hex digits; anything else was
        # written by someone else (the lookups of residents' ids would change with it).
        raise IntegrityError(
            "tampering found: ledger_meta's subject_pepper is not the 64 hexadecimal digits the ledger wrote"
        )
    return None, bytes.fromhex(text)


@attrs.define
class Subject:
    lookup: str
    handle: str
    key: bytes
    ident: str
    new: bool = False


class Vault:
    """The key table as one batch of operations sees it: subjects and private values read
    from the ledger, and those the batch adds or erases, written with its events."""

    def __init__(self, db: Db, master: bytes | None, pepper: bytes, mapper: Any = None) -> None:
        self.db = db
        #: eventsourcing's mapper, to read tombstones (:meth:`erased_handle_of`), if given.
        self.mapper = mapper
        self._erased_refs: dict[str, str] | None = None
        self._master = master
        self._pepper = pepper
        self._subjects: dict[str, Subject | None] = {}
        self._new_subjects: list[tuple[str, str, str, str]] = []
        self._new_private: list[tuple[str, str, str, str, str]] = []
        self._erased: list[Subject] = []
        #: Rows already handed to the batch's transaction (not visible to other connections
        #: until it commits): what a later slice of the same batch must still see.
        self._written_private: list[tuple[str, str, str, str, str]] = []
        self.erased_any = False

    # -- subjects -----------------------------------------------------------------------------

    @functools.cached_property
    def _hmac(self) -> hmac.HMAC:
        # Made when a subject is first looked up (most batches look up none).
        return hmac.new(self._pepper, digestmod=hashlib.sha256)

    def lookup_of(self, ident: str) -> str:
        h = self._hmac.copy()
        h.update(ident.encode("utf-8"))
        return h.hexdigest()

    def prefetch(self, operations: Iterable[Any]) -> None:
        """Look up at once the subjects that ``operations`` name in private fields (one query
        for a slice of a journal, not one for each submission)."""
        wanted: dict[str, str] = {}
        for op in operations:
            for p in private_fields(op.op, op.fields):
                if op.fields.get(p.subject) is None:
                    continue  # a subject the handler fills in (a delivery's party): found then
                ident = str(op.fields[p.subject])
                lookup = self.lookup_of(ident)
                if lookup not in self._subjects:
                    wanted[lookup] = ident
        if not wanted:
            return
        found: dict[str, tuple[str, str]] = {}
        lookups = list(wanted)
        with self.db.transaction(commit=False) as c:
            for i in range(0, len(lookups), 500):
                part = lookups[i : i + 500]
                marks = ",".join("?" * len(part))
                c.execute(f"SELECT lookup, handle, subject_key FROM ledger_subjects WHERE lookup IN ({marks})", part)
                found.update((str(r[0]), (str(r[1]), str(r[2]))) for r in c.fetchall())
        for lookup, ident in wanted.items():
            row = found.get(lookup)
            self._subjects[lookup] = (
                Subject(lookup, row[0], self._unwrap(row[1], lookup), ident) if row is not None else None
            )

    def _wrap(self, key: bytes, lookup: str) -> str:
        if self._master is None:
            return base64.b64encode(key).decode("ascii")
        return _seal(self._master, key, "subject key " + lookup)

    def _unwrap(self, stored: str, lookup: str) -> bytes:
        if self._master is None:
            return base64.b64decode(stored)
        return _open(self._master, stored, "subject key " + lookup)

    def find(self, ident: str) -> Subject | None:
        """The subject ``ident`` (its key and handle), if the ledger holds one."""
        lookup = self.lookup_of(ident)
        if lookup in self._subjects:
            return self._subjects[lookup]
        with self.db.transaction(commit=False) as c:
            c.execute("SELECT handle, subject_key FROM ledger_subjects WHERE lookup=?", (lookup,))
            row = c.fetchone()
        found = Subject(lookup, str(row[0]), self._unwrap(str(row[1]), lookup), ident) if row else None
        self._subjects[lookup] = found
        return found

    def subject(self, ident: str) -> Subject:
        """The subject ``ident``, made (with a new key and salt) if the ledger has none."""
        found = self.find(ident)
        if found is not None:
            return found
        lookup = self.lookup_of(ident)
        key, salt = os.urandom(32), os.urandom(SALT_BYTES)
        # An id that is a commitment already is the handle of a subject erased in the ledger
        # an export came from: it stays as it is, so that the export imports back the same.
        handle = ident if is_commitment(ident) else commit(ident, salt)
        identity = _seal(key, json.dumps({"value": ident, "salt": salt.hex()}).encode(), handle)
        made = Subject(lookup, handle, key, ident, new=True)
        self._subjects[lookup] = made
        self._new_subjects.append((lookup, handle, self._wrap(key, lookup), identity))
        return made

    # -- committing an operation's private fields ------------------------------------------------

    def commit_fields(self, op: str, fields: dict[str, Any], aggregate: str) -> dict[str, Any]:
        """``fields`` with each private one replaced by its commitment; the values sealed
        under their subjects' keys (written with the batch's events)."""
        privates = private_fields(op, fields)
        if not privates:
            return fields
        out = dict(fields)
        for p in privates:
            s = self.subject(str(fields[p.subject]))
            if p.per_subject:
                out[p.field] = s.handle
                # A row that says the subject has a value in this aggregate (to erase it there).
                self._new_private.append((f"{aggregate}/{s.handle}", s.handle, aggregate, p.field, ""))
                continue
            value, salt = str(fields[p.field]), os.urandom(SALT_BYTES)
            ref = commit(value, salt)
            sealed = _seal(s.key, json.dumps({"value": value, "salt": salt.hex()}).encode(), ref)
            self._new_private.append((ref, s.handle, aggregate, p.field, sealed))
            out[p.field] = ref
        return out

    # -- erasure -----------------------------------------------------------------------------------

    def aggregates_of(self, subject: Subject) -> list[str]:
        """The keys of the aggregates holding private values of ``subject``."""
        found = {a for _, h, a, _, _ in (*self._written_private, *self._new_private) if h == subject.handle}
        if not subject.new:
            with self.db.transaction(commit=False) as c:
                c.execute("SELECT DISTINCT aggregate FROM ledger_private WHERE handle=?", (subject.handle,))
                found.update(str(r[0]) for r in c.fetchall())
        return sorted(found)

    def values_of(self, subject: Subject) -> list[str]:
        """The commitments of ``subject``'s sealed values (what an erasure destroys)."""
        found = {
            r for r, h, _, _, sealed in (*self._written_private, *self._new_private) if h == subject.handle and sealed
        }
        if not subject.new:
            with self.db.transaction(commit=False) as c:
                c.execute("SELECT ref FROM ledger_private WHERE handle=? AND sealed <> ''", (subject.handle,))
                found.update(str(r[0]) for r in c.fetchall())
        return sorted(found)

    def erase(self, subject: Subject) -> None:
        """Destroy ``subject``'s key and sealed values when the batch is written."""
        self._subjects[subject.lookup] = None
        self._new_subjects = [r for r in self._new_subjects if r[0] != subject.lookup]
        self._new_private = [r for r in self._new_private if r[1] != subject.handle]
        self._written_private = [r for r in self._written_private if r[1] != subject.handle]
        if not subject.new:
            self._erased.append(subject)
        self.erased_any = True

    # -- writing ---------------------------------------------------------------------------------

    def writer(self) -> Callable[[Cursor], None] | None:
        """What the batch adds and erases since the last call, as a function that writes it
        with a cursor of the events' transaction (None: nothing)."""
        subjects, private, erased = self._new_subjects, self._new_private, self._erased
        if not (subjects or private or erased):
            return None
        self._new_subjects, self._new_private, self._erased = [], [], []
        self._written_private.extend(private)
        if erased:
            gone = {s.handle for s in erased}
            self._written_private = [r for r in self._written_private if r[1] not in gone]
        for lookup, *_ in subjects:
            s = self._subjects.get(lookup)
            if s is not None:
                s.new = False
        backend = self.db.backend

        def write(c: Cursor) -> None:
            if subjects:
                c.executemany("INSERT INTO ledger_subjects VALUES (?,?,?,?)", subjects)
            if private:
                # (A resubmission after a void files its evaluator row again: kept once.)
                c.executemany("INSERT INTO ledger_private VALUES (?,?,?,?,?) ON CONFLICT (ref) DO NOTHING", private)
            if erased:
                if backend == "sqlite":
                    # Deleted rows overwritten with zeros, not left in free space.
                    c.execute("PRAGMA secure_delete=ON")
                for s in erased:
                    c.execute("DELETE FROM ledger_private WHERE handle=?", (s.handle,))
                    c.execute("DELETE FROM ledger_subjects WHERE lookup=?", (s.lookup,))

        return write

    # -- revealing -----------------------------------------------------------------------------

    def reveal(self, value: Any) -> str | None:
        """The value behind a commitment or handle, or None if it cannot be read (erased)."""
        if not is_commitment(value):
            return None
        try:
            return self._reveal(value)
        except StorageError:
            raise
        except Exception:  # no key table (a ledger opened to read, made before)
            return None

    def _reveal(self, value: str) -> str | None:
        with self.db.transaction(commit=False) as c:
            c.execute("SELECT lookup, subject_key, identity FROM ledger_subjects WHERE handle=?", (value,))
            row = c.fetchone()
        if row is not None:
            key = self._unwrap(str(row[1]), str(row[0]))
            return str(json.loads(_open(key, str(row[2]), value))["value"])
        opened = self._sealed(value)
        return None if opened is None else str(opened[0]["value"])

    def _sealed(self, ref: str) -> tuple[dict[str, Any], str] | None:
        """(the value and salt sealed under ``ref``, the id of its subject), or None: no such
        value (erased, or a per-subject row, which seals nothing)."""
        with self.db.transaction(commit=False) as c:
            c.execute(
                "SELECT s.handle, s.lookup, s.subject_key, s.identity, p.sealed FROM ledger_private p "
                "JOIN ledger_subjects s ON s.handle = p.handle WHERE p.ref=?",
                (ref,),
            )
            row = c.fetchone()
        if row is None or not row[4]:
            return None
        key = self._unwrap(str(row[2]), str(row[1]))
        subject = str(json.loads(_open(key, str(row[3]), str(row[0])))["value"])
        return dict(json.loads(_open(key, str(row[4]), ref))), subject

    def subject_of(self, ref: str) -> str | None:
        """The id of the subject whose key seals the private value ``ref``, or None."""
        opened = self._sealed(ref)
        return None if opened is None else opened[1]

    def erased_handle_of(self, ref: str) -> str | None:
        """The handle of the subject whose erasure destroyed ``ref`` (from the tombstones), or
        None (not erased, or no mapper to read the tombstones with)."""
        if self.mapper is None:
            return None
        if self._erased_refs is None:
            from uuid import UUID

            from eventsourcing.persistence import StoredEvent

            self._erased_refs = {}
            with self.db.transaction(commit=False) as c:
                c.execute(
                    f"SELECT originator_id, originator_version, topic, state FROM {self.db.events_table} "
                    "WHERE topic LIKE ?",
                    ("%.SubjectErased",),
                )
                rows = c.fetchall()
            for oid, version, topic, state in rows:
                e = self.mapper.to_domain_event(StoredEvent(UUID(str(oid)), int(version), str(topic), bytes(state)))
                self._erased_refs.update((str(v), str(e.subject)) for v in e.values)
        return self._erased_refs.get(ref)

    def opening(self, value: Any) -> dict[str, str] | None:
        """``{"value", "salt"}`` that open a commitment (to disclose it), or None."""
        if not is_commitment(value):
            return None
        opened = self._sealed(value)
        return None if opened is None else {"value": str(opened[0]["value"]), "salt": str(opened[0]["salt"])}
