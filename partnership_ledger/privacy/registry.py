"""Which fields of which operations are private: named here, and only here.

A private field never enters the hash chain as itself: the chained event holds a salted
commitment in its place (see :func:`commit`), and the value with its salt is kept apart,
encrypted under the key of the field's *subject* (the person it is about), so that destroying
that key (``erase_subject``) destroys the value while the chain stays the same.

Add a field with :func:`register` (and have its handler pass the operation's fields through
:meth:`Vault.commit_fields`); a delivery's ``evidence`` marked ``evidence_private`` is one,
whose subject is ``evidence_subject`` (the deliver handler fills in the contribution's party
when it is not given).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ..domain.values import EvaluatorRole

#: What every commitment starts with: the hash it uses.
COMMITMENT_PREFIX = "sha256:"
#: Mixed into every commitment, so that it cannot be mistaken for any other hash.
COMMITMENT_DOMAIN = b"partnership-ledger commitment v1\x00"
SALT_BYTES = 16
#: What every view shows in place of a value whose subject asked for it to be erased.
ERASED_TEXT = "erased at the resident's request"
#: What public outputs (standard exports) show in place of a private value: nothing of it.
WITHHELD_TEXT = "withheld: private"


def commit(value: str, salt: bytes) -> str:
    """The commitment to ``value`` with ``salt``: ``sha256:`` and the hex SHA-256 of the domain
    tag, the salt and the value's UTF-8. Without the salt (16 random bytes) a guess of the
    value cannot be checked against it; with it anyone can check a disclosed value."""
    return COMMITMENT_PREFIX + hashlib.sha256(COMMITMENT_DOMAIN + salt + value.encode("utf-8")).hexdigest()


def is_commitment(value: Any) -> bool:
    return (
        isinstance(value, str)
        and len(value) == len(COMMITMENT_PREFIX) + 64
        and value.startswith(COMMITMENT_PREFIX)
        and all(c in "0123456789abcdef" for c in value[len(COMMITMENT_PREFIX) :])
    )


@attrs.frozen
class PrivateField:
    """A field of a journal operation that is private when ``when(fields)`` is true.

    ``subject`` names the field whose value is the person the private value is about (whose
    key encrypts it, and who can ask for it to be erased). ``per_subject``: the commitment
    uses the subject's own salt, so it is the same in each of the subject's operations (an
    opaque handle: a resident's id, so that one resident submits once per evaluation)."""

    op: str
    field: str
    subject: str
    when: Callable[[Mapping[str, Any]], bool]
    description: str
    per_subject: bool = False


def _resident(fields: Mapping[str, Any]) -> bool:
    return fields.get("role") is EvaluatorRole.RESIDENT


def _private_comment(fields: Mapping[str, Any]) -> bool:
    return bool(fields.get("comment")) and not fields.get("comment_public")


def _private_evidence(fields: Mapping[str, Any]) -> bool:
    return bool(fields.get("evidence")) and fields.get("evidence_private") is True


PRIVATE_FIELDS: list[PrivateField] = [
    PrivateField("submit_evaluation", "evaluator", "evaluator", _resident, "a resident evaluator's id", True),
    PrivateField("submit_evaluation", "comment", "evaluator", _private_comment, "a comment not made public"),
    PrivateField("deliver", "evidence", "evidence_subject", _private_evidence, "a delivery's evidence marked private"),
]


def register(field: PrivateField) -> None:
    """Name one more private field."""
    PRIVATE_FIELDS.append(field)


def private_fields(op: str, fields: Mapping[str, Any]) -> list[PrivateField]:
    """The fields of this operation that are private, as given."""
    return [p for p in PRIVATE_FIELDS if p.op == op and fields.get(p.field) is not None and p.when(fields)]
