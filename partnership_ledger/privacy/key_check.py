"""``verify``'s check of the key table against the chain (the key table is not in the chain).

See :func:`check_key_table` and docs/privacy.md.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .registry import commit, is_commitment
from .vault import CHAIN_FORMAT, Vault, _open

if TYPE_CHECKING:
    from ..storage.db import Db


def check_key_table(db: Db, master: bytes | None, pepper: bytes, mapper: Any) -> str | None:
    """Whether the key table agrees with the chain; the first disagreement in a sentence.

    Every sealed value must open under its subject's key to exactly the commitment the row
    is filed under, every subject's handle must be the commitment to its id and its lookup the
    HMAC of it; and every commitment the chain holds (read models checked against the events
    first) must have its row, unless a tombstone erased its subject. A row deleted without an
    erasure, one added, or one changed is tampering: the chain does not cover the key table,
    so this is how it is checked."""
    vault = Vault(db, master, pepper)
    with db.transaction(commit=False) as c:
        c.execute("SELECT lookup, handle, subject_key, identity FROM ledger_subjects")
        subjects = c.fetchall()
        c.execute("SELECT ref, handle, aggregate, field, sealed FROM ledger_private")
        private = c.fetchall()
        c.execute("SELECT evaluation, evaluator, comment FROM rm_submissions")
        submitted = c.fetchall()
        c.execute(
            f"SELECT originator_id, originator_version, topic, state FROM {db.events_table} WHERE topic LIKE ?",
            ("%.SubjectErased",),  # an evaluation's, or a contribution's (private evidence only)
        )
        tombstones = c.fetchall()
        c.execute(
            f"SELECT originator_id, originator_version, topic, state FROM {db.events_table} WHERE topic LIKE ?",
            ("%Evaluation.SubmissionVoided",),
        )
        voids = c.fetchall()
        c.execute("SELECT key, originator_id FROM ledger_keys WHERE kind = 'evaluation'")
        evaluation_keys = {str(r[1]).replace("-", ""): str(r[0]) for r in c.fetchall()}
        c.execute("SELECT value FROM ledger_meta WHERE name='chain_format'")
        fmt = c.fetchone()
    from uuid import UUID

    from eventsourcing.persistence import StoredEvent

    erased: set[str] = set()  # handles, and commitments of values, that erasures destroyed
    for oid, version, topic, state in tombstones:
        event = mapper.to_domain_event(StoredEvent(UUID(str(oid)), int(version), str(topic), bytes(state)))
        erased.add(str(event.subject))
        erased.update(str(v) for v in event.values)
    # Submissions voided as recorded in error (corrections): their sealed values stay in the
    # key table (erasable as any), though no read model shows the submission any more.
    voided: set[tuple[str, str]] = set()
    for oid, version, topic, state in voids:
        event = mapper.to_domain_event(StoredEvent(UUID(str(oid)), int(version), str(topic), bytes(state)))
        evaluation = evaluation_keys.get(UUID(str(oid)).hex, "")
        voided.add((evaluation, str(event.evaluator)))
        voided.add((evaluation, vault.lookup_of(str(event.evaluator))))
    keys: dict[str, bytes] = {}
    for lookup, handle, stored_key, identity in subjects:
        try:
            key = vault._unwrap(str(stored_key), str(lookup))
            opened = json.loads(_open(key, str(identity), str(handle)))
            ident, salt = str(opened["value"]), bytes.fromhex(str(opened["salt"]))
        except Exception:
            return f"the key table's subject {handle} cannot be opened: it was changed"
        if (commit(ident, salt) != handle and ident != handle) or (pepper and vault.lookup_of(ident) != lookup):
            return f"the key table's subject {handle} is not the one its key seals: it was changed"
        keys[str(handle)] = key
    refs: set[str] = set()
    for ref, handle, aggregate, _field, sealed in private:
        refs.add(str(ref))
        if handle not in keys:
            return f"the key table holds private data of {handle}, whose key is gone: its subject row was deleted"
        if not sealed:
            if ref != f"{aggregate}/{handle}":
                return f"the key table's row {ref} was changed"
            continue
        try:
            opened = json.loads(_open(keys[str(handle)], str(sealed), str(ref)))
            value, salt = str(opened["value"]), bytes.fromhex(str(opened["salt"]))
        except Exception:
            return f"the key table's private value {ref} cannot be opened: it was changed"
        if commit(value, salt) != ref:
            return f"the key table's private value {ref} is not the one the chain commits to"
    committed = False
    for evaluation, evaluator, comment in submitted:
        if is_commitment(evaluator):
            committed = True
            if evaluator not in erased and f"{evaluation}/{evaluator}" not in refs:
                return (
                    f"the private data of an evaluator of evaluation {evaluation} are missing from the key "
                    "table, with no erasure recorded: they were deleted"
                )
        if is_commitment(comment):
            committed = True
            if comment not in refs and comment not in erased:
                return (
                    f"a private comment in evaluation {evaluation} is missing from the key table, "
                    "with no erasure recorded: it was deleted"
                )
    evidence = private_evidence(db, mapper)
    for ref in evidence:
        if ref not in refs and ref not in erased:
            return (
                "a delivery's private evidence is missing from the key table, with no erasure recorded: it was deleted"
            )
    chain_refs = (
        {str(c) for _, _, c in submitted if is_commitment(c)}
        | {f"{e}/{v}" for e, v, _ in submitted if is_commitment(v)}
        | evidence
    )
    handles_of = {str(r[0]): str(r[1]) for r in subjects}  # lookup -> handle
    voided_handles = {(e, handles_of.get(x, x)) for e, x in voided}
    extra = sorted(
        str(ref)
        for ref, handle, aggregate, _f, _s in private
        if str(ref) not in chain_refs and (str(aggregate), str(handle)) not in voided_handles
    )
    if extra:
        return f"the key table holds a private value the chain does not commit to ({extra[0]}): it was inserted"
    if (committed or subjects) and (fmt is None or str(fmt[0]) != CHAIN_FORMAT):
        return "the ledger's chain format row (ledger_meta.chain_format) was changed or deleted"
    return None


def private_evidence(db: Db, mapper: Any) -> set[str]:
    """The commitments the chain holds in place of deliveries' private evidence (read from the
    events: the read models do not keep evidence). An unencrypted ledger's events are filtered
    by SQL first; an encrypted one's are each decrypted."""
    from uuid import UUID

    from eventsourcing.persistence import StoredEvent

    encrypted = getattr(mapper, "cipher", None) is not None
    sql = f"SELECT originator_id, originator_version, topic, state FROM {db.events_table} WHERE topic LIKE ?"
    args: tuple[str | bytes, ...] = ("%ResourceContribution.Delivered",)
    if not encrypted and db.backend == "sqlite":
        sql += " AND instr(state, ?) > 0"  # (state is a BLOB: LIKE would not match it)
        args += (b'"evidence":"sha256:',)
    found: set[str] = set()
    with db.transaction(commit=False) as c:
        c.execute(sql, args)
        for oid, version, topic, state in c.fetchall():
            event = mapper.to_domain_event(StoredEvent(UUID(str(oid)), int(version), str(topic), bytes(state)))
            if is_commitment(event.evidence):
                found.add(str(event.evidence))
    return found
