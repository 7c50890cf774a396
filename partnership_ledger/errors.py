"""The errors the ledger raises: each names the thing and the rule, in one sentence.

Every error a user can cause is a :class:`LedgerError`. ``kind`` is a stable
machine-readable name (used in the CLI's ``--json`` error objects); ``str(error)`` is the
sentence shown to people.
"""

from __future__ import annotations

from typing import Any

import attrs


class LedgerError(Exception):
    """Base of every error the ledger reports to its users."""

    kind = "ledger_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message}


class DomainError(LedgerError):
    """A rule of the domain was broken; nothing was recorded."""

    kind = "rule_broken"


class UnknownKey(DomainError):
    kind = "unknown_key"


class DuplicateKey(DomainError):
    kind = "duplicate_key"


class NotAMember(DomainError):
    kind = "not_a_member"


class AlreadyAMember(DomainError):
    kind = "already_a_member"


class PartnershipConcluded(DomainError):
    kind = "partnership_concluded"


class InvalidPhase(DomainError):
    kind = "invalid_phase"


class CycleError(DomainError):
    kind = "partnership_cycle"


class DecisionError(DomainError):
    kind = "decision_invalid"


class AgreementError(DomainError):
    kind = "agreement_invalid"


class NotInForce(DomainError):
    kind = "agreement_not_in_force"


class AgreementTerminated(DomainError):
    kind = "agreement_terminated"


class AnnualCapExceeded(DomainError):
    kind = "annual_cap_exceeded"


class MaxYearsExceeded(DomainError):
    kind = "max_years_exceeded"


class CurrencyMismatch(DomainError):
    kind = "currency_mismatch"


class ContributionError(DomainError):
    kind = "contribution_invalid"


class NegativeDelivered(DomainError):
    kind = "delivered_below_zero"


class EvaluationError(DomainError):
    kind = "evaluation_invalid"


class ErasureError(DomainError):
    """An erasure that cannot be done (nothing to erase, or history written before privacy)."""

    kind = "erasure_invalid"


class EvaluationClosed(DomainError):
    kind = "evaluation_closed"


class TargetError(DomainError):
    kind = "target_invalid"


class DateOrderError(DomainError):
    kind = "date_out_of_order"


class CorrectionRefused(DomainError):
    """A correction (a void, a re-dating) that the rules refuse: what it names depends on it."""

    kind = "correction_refused"


class IdentifierError(DomainError):
    """An organisation identifier or area code is not in a form the ledger accepts."""

    kind = "identifier_invalid"


class JournalError(LedgerError):
    """A journal (or one operation) could not be read or was refused; nothing was recorded.

    ``problems`` lists every problem found, each with the operation's index, op and field.
    """

    kind = "invalid_journal"

    def __init__(self, problems: list[JournalProblem], source: str | None = None) -> None:
        self.problems = problems
        self.source = source
        first = problems[0]
        where = f"{source}: " if source else ""
        more = f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})"
        message = where + str(first) + (more if len(problems) > 1 else "")
        super().__init__(message)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "source": self.source, "problems": [p.to_dict() for p in self.problems]}


@attrs.define(eq=False, slots=False)
class JournalProblem:
    """One problem in a journal: where (index, op, field) and what."""

    message: str
    index: int | None = None
    op: str | None = None
    field: str | None = None
    rule: str | None = None

    def __str__(self) -> str:
        parts = []
        if self.index is not None:
            parts.append(f"operation {self.index}")
        if self.op:
            parts.append(f"({self.op})")
        if self.field:
            parts.append(f"field {self.field!r}")
        where = " ".join(parts)
        return f"{where}: {self.message}" if where else self.message

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "op": self.op, "field": self.field, "rule": self.rule, "message": self.message}


class InvalidArgument(LedgerError):
    """A query or command was given a value it cannot use (a bad date, basis, ...)."""

    kind = "invalid_argument"


class StorageError(LedgerError):
    """The ledger's database could not be opened, read or written."""

    kind = "storage_error"


class ConcurrencyError(LedgerError):
    """A write kept losing races with other writers and was not recorded."""

    kind = "concurrent_write"


class IntegrityError(LedgerError):
    """The hash chain shows that stored history was changed."""

    kind = "tampering_found"
