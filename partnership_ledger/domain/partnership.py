"""Partnership: who works together, toward which purpose, and how they decide."""

from __future__ import annotations

from datetime import date

import attrs
from eventsourcing.domain import event

from ..errors import (
    AlreadyAMember,
    CorrectionRefused,
    CurrencyMismatch,
    CycleError,
    DateOrderError,
    DecisionError,
    InvalidPhase,
    NotAMember,
    PartnershipConcluded,
)
from .base import LedgerAggregate
from .values import DecisionRule, OpMeta, Phase, Vote


@attrs.frozen
class MemberSpell:
    """One period of membership: a party may leave and later join again."""

    party: str
    role: str | None
    joined: date
    left: date | None = None
    leave_reason: str | None = None
    op: str | None = None  # the operation that made it (a proposal or a join)
    leave_op: str | None = None  # the leave that ended it


@attrs.frozen
class Decision:
    key: str
    subject: str
    proposed_by: str
    rule: DecisionRule
    votes: dict[str, Vote]
    on: date
    adopted: bool
    op: str | None = None


def decision_outcome(rule: DecisionRule, votes: dict[str, Vote]) -> bool:
    """Whether a decision is adopted: consensus needs no ``against``; majority more for."""
    against = sum(1 for v in votes.values() if v is Vote.AGAINST)
    in_favour = sum(1 for v in votes.values() if v is Vote.FOR)
    if rule is DecisionRule.CONSENSUS:
        return against == 0 and in_favour > 0
    return in_favour > against


class Partnership(LedgerAggregate):
    """Organisations pooling resources toward a shared ``purpose`` (the cause, 大義).

    Only current members propose and vote. Under ``consensus`` every current member votes
    and any ``against`` rejects; under ``majority`` more ``for`` than ``against`` adopts.
    No new activity is recorded once the partnership is concluded; corrections (a void of a
    decision or a membership change recorded in error) still are.
    """

    kind = "partnership"

    @staticmethod
    def check_proposal(key: str, proposed_by: str, members: list[str], parent: str | None) -> None:
        """A partnership is proposed by one of its ``members``, and is not its own ``parent``."""
        if proposed_by not in members:
            raise NotAMember(f"partnership {key} is proposed by {proposed_by}, who is not among its members")
        if parent == key:
            raise CycleError(f"partnership {key} cannot be its own parent")

    @event("Proposed")
    def __init__(
        self,
        key: str,
        title: str,
        purpose: str,
        proposed_by: str,
        members: list[str],
        parent: str | None,
        on: date,
        meta: OpMeta,
    ) -> None:
        self.key = key
        self.title = title
        self.purpose = purpose
        self.proposed_by = proposed_by
        self.parent = parent
        self.proposed_on = on
        self.meta = meta
        self.spells: list[MemberSpell] = [MemberSpell(p, None, on, op=meta.op_id) for p in members]
        self.phase = Phase.PREPARING
        self.activated_on: date | None = None
        self.concluded_on: date | None = None
        self.decisions: dict[str, Decision] = {}
        self.currency: str | None = None

    # -- queries -----------------------------------------------------------------------
    @property
    def current_members(self) -> list[str]:
        return [s.party for s in self.spells if s.left is None]

    def is_member(self, party: str) -> bool:
        return any(s.party == party and s.left is None for s in self.spells)

    # -- guards ------------------------------------------------------------------------
    def check_open(self) -> None:
        if self.phase is Phase.CONCLUDED:
            raise PartnershipConcluded(
                f"partnership {self.key} was concluded on {self.concluded_on}: nothing more can be recorded on it"
            )

    def check_member(self, party: str, doing: str) -> None:
        if not self.is_member(party):
            raise NotAMember(f"{party} is not a member of partnership {self.key}, so it cannot {doing}")

    def check_not_before_start(self, on: date, what: str) -> None:
        if on < self.proposed_on:
            raise DateOrderError(f"{what} on {on} is before partnership {self.key} was proposed ({self.proposed_on})")

    # -- commands ----------------------------------------------------------------------
    def join(self, party: str, role: str | None, on: date, meta: OpMeta) -> None:
        self.check_open()
        self.check_not_before_start(on, f"{party} joining")
        if self.is_member(party):
            raise AlreadyAMember(f"{party} is already a member of partnership {self.key}")
        self._joined(party, role, on, meta)

    @event("Joined")
    def _joined(self, party: str, role: str | None, on: date, meta: OpMeta) -> None:
        self.spells.append(MemberSpell(party, role, on, op=meta.op_id))

    def leave(self, party: str, reason: str | None, on: date, meta: OpMeta) -> None:
        self.check_open()
        self.check_member(party, "leave it")
        spell = next(s for s in self.spells if s.party == party and s.left is None)
        if on < spell.joined:
            raise DateOrderError(
                f"{party} cannot leave partnership {self.key} on {on}, before it joined ({spell.joined})"
            )
        if len(self.current_members) == 1:
            raise NotAMember(f"{party} is the last member of partnership {self.key}: conclude it instead")
        self._left(party, reason, on, meta)

    @event("Left")
    def _left(self, party: str, reason: str | None, on: date, meta: OpMeta) -> None:
        self.spells = [
            attrs.evolve(s, left=on, leave_reason=reason, leave_op=meta.op_id)
            if s.party == party and s.left is None
            else s
            for s in self.spells
        ]

    def activate(self, on: date, meta: OpMeta) -> None:
        self.check_open()
        if self.phase is not Phase.PREPARING:
            raise InvalidPhase(f"partnership {self.key} is already active since {self.activated_on}")
        self.check_not_before_start(on, "activation")
        self._activated(on, meta)

    @event("Activated")
    def _activated(self, on: date, meta: OpMeta) -> None:
        self.phase = Phase.ACTIVE
        self.activated_on = on

    def conclude(self, on: date, meta: OpMeta) -> None:
        self.check_open()
        if self.phase is not Phase.ACTIVE:
            raise InvalidPhase(f"partnership {self.key} cannot be concluded while preparing: activate it first")
        assert self.activated_on is not None
        if on < self.activated_on:
            raise DateOrderError(
                f"partnership {self.key} cannot be concluded on {on}, before it was activated ({self.activated_on})"
            )
        self._concluded(on, meta)

    @event("Concluded")
    def _concluded(self, on: date, meta: OpMeta) -> None:
        self.phase = Phase.CONCLUDED
        self.concluded_on = on

    def record_decision(
        self,
        key: str,
        subject: str,
        proposed_by: str,
        rule: DecisionRule,
        votes: dict[str, Vote],
        on: date,
        meta: OpMeta,
    ) -> Decision:
        self.check_open()
        self.check_not_before_start(on, f"decision {key}")
        if key in self.decisions:
            raise DecisionError(f"partnership {self.key} already has a decision {key}")
        self.check_member(proposed_by, f"propose decision {key}")
        for voter in votes:
            self.check_member(voter, f"vote on decision {key}")
        if not votes:
            raise DecisionError(f"decision {key} of partnership {self.key} has no votes")
        if rule is DecisionRule.CONSENSUS:
            missing = [m for m in self.current_members if m not in votes]
            if missing:
                raise DecisionError(
                    f"decision {key} of partnership {self.key} is by consensus, so every member "
                    f"must vote: {', '.join(missing)} did not"
                )
        self._decided(key, subject, proposed_by, rule, dict(votes), on, meta)
        return self.decisions[key]

    @event("DecisionRecorded")
    def _decided(
        self,
        key: str,
        subject: str,
        proposed_by: str,
        rule: DecisionRule,
        votes: dict[str, Vote],
        on: date,
        meta: OpMeta,
    ) -> None:
        self.decisions[key] = Decision(
            key, subject, proposed_by, rule, dict(votes), on, decision_outcome(rule, votes), meta.op_id
        )

    def adopt_currency(self, currency: str, what: str, meta: OpMeta) -> None:
        """Fix the partnership's one currency at its first valued contribution."""
        if self.currency is None:
            self._currency_adopted(currency, meta)
        elif self.currency != currency:
            raise CurrencyMismatch(
                f"{what} is in {currency}, but partnership {self.key} keeps its accounts in {self.currency}"
            )

    class CurrencyAdopted(LedgerAggregate.Event):
        derived = True
        currency: str
        meta: OpMeta

    @event(CurrencyAdopted)
    def _currency_adopted(self, currency: str, meta: OpMeta) -> None:
        self.currency = currency

    # -- corrections -------------------------------------------------------------------------
    def void(self, operation: str, reason: str, on: date, meta: OpMeta) -> None:
        """Void a decision, a join or a leave recorded in error: every view is then as if it
        had never been recorded (``history`` keeps both). Refused while something recorded
        later rests on it (a decision the joined party took part in; a later spell)."""
        self.check_voidable(operation)
        for d in self.decisions.values():
            if d.op == operation:
                self._decision_voided(operation, d.key, reason, on, meta)
                return
        for index, s in enumerate(self.spells):
            if s.op == operation:
                self.check_join_voidable(index)
                self._join_voided(operation, s.party, index, reason, on, meta)
                return
            if s.leave_op == operation:
                later = [x for x in self.spells[index + 1 :] if x.party == s.party]
                if later:
                    raise CorrectionRefused(
                        f"{s.party}'s leaving partnership {self.key} cannot be voided: it joined again on "
                        f"{later[0].joined}; void that join first"
                    )
                self._leave_voided(operation, s.party, index, reason, on, meta)
                return
        raise self.cannot_void(operation, "decisions, joins and leaves can (an activation or conclusion stands)")

    def party_joined_by(self, operation: str) -> str | None:
        """The party whose joining ``operation`` recorded (None if it recorded no join)."""
        return next((s.party for s in self.spells if s.op == operation and s.op != self.meta.op_id), None)

    def check_join_voidable_with(self, operation: str, pledges: list[str]) -> None:
        """A join cannot be voided when the party pledged contributions to the partnership
        (``pledges``, the handler finds them): only a member pledges, so they rest on it."""
        party = self.party_joined_by(operation)
        if party is not None and pledges:
            raise CorrectionRefused(
                f"{party}'s joining partnership {self.key} cannot be voided: it pledged contribution"
                f"{'s' if len(pledges) > 1 else ''} {', '.join(pledges)} as a member"
            )

    def check_join_voidable(self, index: int) -> None:
        """A join can be voided unless it is how a founding member came in, the party has left
        since (void the leave first), or it took part in decisions while a member."""
        s = self.spells[index]
        if s.op == self.meta.op_id:
            raise CorrectionRefused(f"{s.party} is a founding member of partnership {self.key}: its membership stands")
        if s.left is not None:
            raise CorrectionRefused(
                f"{s.party}'s joining partnership {self.key} cannot be voided: it left on {s.left}; "
                "void that leave first"
            )
        taken = [
            d.key
            for d in self.decisions.values()
            if d.on >= s.joined and (d.proposed_by == s.party or s.party in d.votes)
        ]
        if taken:
            raise CorrectionRefused(
                f"{s.party}'s joining partnership {self.key} cannot be voided: it took part in decision"
                f"{'s' if len(taken) > 1 else ''} {', '.join(taken)}; void {'those' if len(taken) > 1 else 'it'} first"
            )

    @event("DecisionVoided")
    def _decision_voided(self, operation: str, decision: str, reason: str, on: date, meta: OpMeta) -> None:
        del self.decisions[decision]
        self._note_voided(operation, meta)

    @event("JoinVoided")
    def _join_voided(self, operation: str, party: str, index: int, reason: str, on: date, meta: OpMeta) -> None:
        del self.spells[index]
        self._note_voided(operation, meta)

    @event("LeaveVoided")
    def _leave_voided(self, operation: str, party: str, index: int, reason: str, on: date, meta: OpMeta) -> None:
        self.spells[index] = attrs.evolve(self.spells[index], left=None, leave_reason=None, leave_op=None)
        self._note_voided(operation, meta)
