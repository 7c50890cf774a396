"""Evaluation: a round in which parties, residents and outsiders score a partnership."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import attrs
from eventsourcing.domain import event

from ..errors import DateOrderError, EvaluationClosed, EvaluationError
from .base import LedgerAggregate
from .values import EvaluatorRole, OpMeta

DEFAULT_CRITERIA = ("overall",)


@attrs.frozen
class Submission:
    evaluator: str
    role: EvaluatorRole
    party: str | None
    scores: dict[str, int]
    comment: str | None
    comment_public: bool
    on: date
    op: str | None = None


@dataclasses.dataclass(eq=False, repr=False)
class Evaluation(LedgerAggregate, created_event_name="Opened"):
    """One evaluation round of a partnership for a period.

    Each evaluator submits once; scores are whole numbers 1..``scale_max`` for the round's
    criteria; nothing is accepted after closing. Residents are opaque ids, never names, and
    each party's own view is kept, never averaged away (mutual respect, 相互の尊重).
    """

    kind = "evaluation"

    key: str
    partnership: str
    period: str
    criteria: list[str]
    scale_max: int
    resident_weight: Decimal
    meta: OpMeta

    def __post_init__(self) -> None:
        self.submissions: dict[str, Submission] = {}
        self.closed_on: date | None = None
        #: Handles of evaluators whose private values were erased (see privacy/).
        self.erased: set[str] = set()

    def check_open(self) -> None:
        if self.closed_on is not None:
            raise EvaluationClosed(f"evaluation {self.key} was closed on {self.closed_on}")

    def submit(
        self,
        evaluator: str,
        role: EvaluatorRole,
        party: str | None,
        scores: dict[str, int],
        comment: str | None,
        comment_public: bool,
        on: date,
        meta: OpMeta,
    ) -> None:
        self.check_open()
        if role is EvaluatorRole.PARTY:
            if party is None:
                raise EvaluationError(
                    f"{evaluator} submits to evaluation {self.key} as a party, so it must name the party"
                )
            if any(x.role is EvaluatorRole.PARTY and x.party == party for x in self.submissions.values()):
                raise EvaluationError(f"party {party} has already submitted to evaluation {self.key}")
        elif role is EvaluatorRole.RESIDENT and party is not None:
            raise EvaluationError(
                f"resident {evaluator} in evaluation {self.key} cannot name a party: residents speak for themselves"
            )
        if evaluator in self.submissions:
            raise EvaluationError(f"{evaluator} has already submitted to evaluation {self.key}")
        if not scores:
            raise EvaluationError(f"the submission of {evaluator} to evaluation {self.key} has no scores")
        for criterion, score in scores.items():
            if criterion not in self.criteria:
                raise EvaluationError(
                    f"evaluation {self.key} has no criterion {criterion!r} (its criteria: {', '.join(self.criteria)})"
                )
            if not 1 <= score <= self.scale_max:
                raise EvaluationError(
                    f"score {score} for {criterion!r} in evaluation {self.key} is outside 1..{self.scale_max}"
                )
        self._submitted(evaluator, role, party, dict(scores), comment, comment_public, on, meta)

    @event("Submitted")
    def _submitted(
        self,
        evaluator: str,
        role: EvaluatorRole,
        party: str | None,
        scores: dict[str, int],
        comment: str | None,
        comment_public: bool,
        on: date,
        meta: OpMeta,
    ) -> None:
        self.submissions[evaluator] = Submission(
            evaluator, role, party, dict(scores), comment, comment_public, on, meta.op_id
        )

    def close(self, on: date, meta: OpMeta) -> None:
        """Close the round on ``on``, not before its last submission; none is taken after."""
        self.check_open()
        latest = max((s.on for s in self.submissions.values()), default=None)
        if latest is not None and on < latest:
            raise DateOrderError(f"evaluation {self.key} cannot close on {on}, before its last submission ({latest})")
        self._closed(on, meta)

    @event("Closed")
    def _closed(self, on: date, meta: OpMeta) -> None:
        self.closed_on = on

    @event("SubjectErased")
    def erase_subject(
        self, subject: str, evaluations: list[str], values: list[str], reason: str, on: date, meta: OpMeta
    ) -> None:
        """The tombstone of an erasure: the private values (their commitments: ``values``) of
        the evaluator whose handle is ``subject`` were destroyed in ``evaluations`` (this one
        first; one tombstone for the operation), why and when, not who asked. Scores stay."""
        self.erased.add(subject)

    def void(self, operation: str, reason: str, on: date, meta: OpMeta) -> None:
        """Void a submission recorded in error (say, entered twice), even after closing."""
        self.check_voidable(operation)
        for s in self.submissions.values():
            if s.op == operation:
                self._submission_voided(operation, s.evaluator, reason, on, meta)
                return
        raise self.cannot_void(operation, "submissions can (a closing stands)")

    @event("SubmissionVoided")
    def _submission_voided(self, operation: str, evaluator: str, reason: str, on: date, meta: OpMeta) -> None:
        del self.submissions[evaluator]
        self._note_voided(operation, meta)
