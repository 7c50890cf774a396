"""ResourceContribution: what one party puts into a partnership, pledged then delivered."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import attrs
from eventsourcing.domain import event

from ..errors import ContributionError, CorrectionRefused, CurrencyMismatch, NegativeDelivered
from .base import LedgerAggregate
from .values import ContributionKind, Instrument, Money, OpMeta, exact_sub, exact_sum


@attrs.frozen
class Delivery:
    value: Money
    on: date
    evidence: str | None
    op: str | None = None


@attrs.frozen
class Correction:
    delta: Money
    reason: str
    on: date


class ResourceContribution(LedgerAggregate):
    """Money or a valued in-kind resource pledged by a party, then delivered.

    In-kind resources carry a ``quantity``, ``unit`` and ``valuation_basis`` saying how the
    value was arrived at. Corrections are signed amounts with a reason; the delivered total
    never goes below zero. A withdrawn pledge takes no further deliveries.
    """

    kind = "contribution"

    class Pledged(LedgerAggregate.Created):
        """``recipient`` (the party the money goes to, if named) and ``on`` (the effective date;
        without one a pledge counts from the first day of its fiscal year) came after the first
        stored pledges: each is last with a default, so a pledge stored without them reads so."""

        key: str
        partnership: str
        party: str
        agreement: str | None
        kind_of_resource: ContributionKind
        value: Money
        quantity: Decimal | None
        unit: str | None
        valuation_basis: str | None
        instrument: Instrument | None
        fiscal_year: int
        description: str | None
        meta: OpMeta
        recipient: str | None = None
        on: date | None = None

    @staticmethod
    def check_pledge(
        key: str, party: str, kind: ContributionKind, instrument: Instrument | None, recipient: str | None
    ) -> None:
        """A funding ``instrument`` and a ``recipient`` (another party than the giver) apply to
        money only."""
        if instrument is not None and kind is not ContributionKind.MONEY:
            raise ContributionError(f"contribution {key} is {kind.value}: a funding instrument applies to money only")
        if recipient is not None:
            if kind is not ContributionKind.MONEY:
                raise ContributionError(f"contribution {key} is {kind.value}: a recipient applies to money only")
            if recipient == party:
                raise ContributionError(f"contribution {key} names its own party {party} as its recipient")

    @event(Pledged)
    def __init__(
        self,
        key: str,
        partnership: str,
        party: str,
        agreement: str | None,
        kind_of_resource: ContributionKind,
        value: Money,
        quantity: Decimal | None,
        unit: str | None,
        valuation_basis: str | None,
        instrument: Instrument | None,
        fiscal_year: int,
        description: str | None,
        meta: OpMeta,
        recipient: str | None = None,
        on: date | None = None,
    ) -> None:
        self.key = key
        self.partnership = partnership
        self.party = party
        self.agreement = agreement
        self.kind_of_resource = kind_of_resource
        self.pledged = value
        self.quantity = quantity
        self.unit = unit
        self.valuation_basis = valuation_basis
        self.instrument = instrument
        self.fiscal_year = fiscal_year
        self.description = description
        self.meta = meta
        self.recipient = recipient
        self.pledged_on = on
        self.deliveries: list[Delivery] = []
        self.corrections: list[Correction] = []
        self.withdrawn_on: date | None = None
        self.withdrawal_reason: str | None = None
        self.withdrawn_amount = Decimal(0)
        # Deliveries plus corrections so far (kept as they come: read for every change).
        self._delivered_total = Decimal(0)

    # -- queries -----------------------------------------------------------------------
    @property
    def currency(self) -> str:
        return self.pledged.currency

    @property
    def delivered(self) -> Decimal:
        """Deliveries plus corrections: the value actually put in (exact, so in any order)."""
        return self._delivered_total

    @property
    def pledged_net(self) -> Decimal:
        """Pledged minus withdrawn."""
        return exact_sub(self.pledged.amount, self.withdrawn_amount)

    @property
    def counted_against_cap(self) -> Decimal:
        """What this contribution counts against its party's annual cap."""
        return max(self.pledged_net, self.delivered)

    # -- guards ------------------------------------------------------------------------
    def check_currency(self, value: Money, what: str) -> None:
        if value.currency != self.currency:
            raise CurrencyMismatch(f"{what} is in {value.currency}, but contribution {self.key} is in {self.currency}")

    # -- commands ----------------------------------------------------------------------
    def check_delivery(self, value: Money) -> None:
        """The rules of this contribution that a delivery of ``value`` must keep."""
        self.check_currency(value, f"delivery to contribution {self.key}")
        if self.withdrawn_on is not None:
            raise ContributionError(
                f"contribution {self.key} was withdrawn on {self.withdrawn_on}: it takes no deliveries"
            )
        if value.amount <= 0:
            raise ContributionError(f"a delivery to contribution {self.key} must be more than zero, not {value.amount}")

    def deliver(self, value: Money, on: date, evidence: str | None, meta: OpMeta) -> None:
        self.check_delivery(value)
        self.trigger_event(self.Delivered, value=value, on=on, evidence=evidence, meta=meta)

    class Delivered(LedgerAggregate.Event):
        """A delivery, the most frequent event: a class with its own ``apply`` (spared the
        ``@event`` decorator's work on every call; see docs/performance.md)."""

        value: Money
        on: date
        evidence: str | None
        meta: OpMeta

        def apply(self, aggregate: ResourceContribution) -> None:
            aggregate.deliveries.append(Delivery(self.value, self.on, self.evidence, self.meta.op_id))
            aggregate._delivered_total = exact_sum((aggregate._delivered_total, self.value.amount))

    def correct(self, delta: Money, reason: str, on: date, meta: OpMeta) -> None:
        self.check_currency(delta, f"correction of contribution {self.key}")
        if delta.amount == 0:
            raise ContributionError(f"a correction of contribution {self.key} must change the amount")
        after = exact_sum([self.delivered, delta.amount])
        if after < 0:
            raise NegativeDelivered(
                f"correction of contribution {self.key} by {delta.amount} {delta.currency} would take "
                f"its delivered total below zero ({after})"
            )
        self._corrected(delta, reason, on, meta)

    @event("Corrected")
    def _corrected(self, delta: Money, reason: str, on: date, meta: OpMeta) -> None:
        self.corrections.append(Correction(delta, reason, on))
        self._delivered_total = exact_sum((self._delivered_total, delta.amount))

    def withdraw(self, reason: str, on: date, meta: OpMeta) -> None:
        if self.withdrawn_on is not None:
            raise ContributionError(f"contribution {self.key} was already withdrawn on {self.withdrawn_on}")
        self._withdrawn(reason, on, meta)

    @event("Withdrawn")
    def _withdrawn(self, reason: str, on: date, meta: OpMeta) -> None:
        self.withdrawn_on = on
        self.withdrawal_reason = reason
        # What was already delivered stays delivered; only the rest of the pledge is withdrawn.
        self.withdrawn_amount = max(exact_sub(self.pledged.amount, self.delivered), Decimal(0))

    @event("SubjectErased")
    def erase_subject(
        self, subject: str, contributions: list[str], values: list[str], reason: str, on: date, meta: OpMeta
    ) -> None:
        """The tombstone of an erasure whose subject (``subject``: its handle) had private
        evidence in ``contributions`` and no evaluation (else the tombstone is the
        evaluation's): the commitments ``values`` can no longer be opened. See privacy/.
        The deliveries keep their commitments; the views read them as erased."""

    # -- corrections -------------------------------------------------------------------------
    def delivery_of(self, operation: str) -> Delivery | None:
        return next((d for d in self.deliveries if d.op == operation), None)

    def void(self, operation: str, reason: str, on: date, meta: OpMeta) -> None:
        """Void a delivery recorded in error (a correction stands: correct it again instead).

        Refused on a withdrawn contribution (what was withdrawn was worked out from what had
        been delivered: correct the delivered total with ``correct_contribution``), and when
        later corrections would leave the delivered total below zero without it.
        """
        self.check_voidable(operation)
        d = self.delivery_of(operation)
        if d is None:
            raise self.cannot_void(
                operation, "deliveries can (a correction is undone by another correction; a pledge is withdrawn)"
            )
        if self.withdrawn_on is not None:
            raise CorrectionRefused(
                f"the delivery {operation} to contribution {self.key} cannot be voided: the contribution was "
                f"withdrawn on {self.withdrawn_on}, counting what had been delivered; correct it with "
                "correct_contribution instead"
            )
        after = exact_sub(self.delivered, d.value.amount)
        if after < 0:
            raise NegativeDelivered(
                f"voiding the delivery {operation} to contribution {self.key} would take its delivered total "
                f"below zero ({after}): correct the later corrections first"
            )
        self._delivery_voided(operation, d.value, d.on, reason, on, meta)

    @event("DeliveryVoided")
    def _delivery_voided(
        self, operation: str, value: Money, delivered_on: date, reason: str, on: date, meta: OpMeta
    ) -> None:
        self.deliveries = [d for d in self.deliveries if d.op != operation]
        self._delivered_total = exact_sub(self._delivered_total, value.amount)
        self._note_voided(operation, meta)

    def redates(self, delta: Money | None, delivery: str | None, delivered_on: date | None) -> bool:
        """Whether a correction re-dates a delivery (gives ``delivery`` and ``delivered_on``)
        rather than changes the delivered total (gives ``delta``); refuses any other mix."""
        if delta is not None and delivery is not None:
            raise ContributionError(
                f"a correction of contribution {self.key} gives either a delta or a delivery to re-date, not both"
            )
        if delivery is not None or delivered_on is not None:
            if delivery is None or delivered_on is None:
                raise ContributionError(
                    f"re-dating a delivery to contribution {self.key} needs both delivery (its operation) and "
                    "delivered_on"
                )
            return True
        if delta is None:
            raise ContributionError(
                f"a correction of contribution {self.key} needs a delta, or a delivery and delivered_on to re-date it"
            )
        return False

    def redate_delivery(self, operation: str, delivered_on: date, reason: str, on: date, meta: OpMeta) -> None:
        """Correct the date of a delivery (its value then counts in that day's fiscal year)."""
        if operation in self.voided:
            raise CorrectionRefused(f"the delivery {operation} to contribution {self.key} was voided")
        d = self.delivery_of(operation)
        if d is None:
            raise CorrectionRefused(f"operation {operation} is not a delivery to contribution {self.key}")
        if d.on == delivered_on:
            raise CorrectionRefused(
                f"the delivery {operation} to contribution {self.key} is already dated {delivered_on}"
            )
        self._delivery_redated(operation, d.value, d.on, delivered_on, reason, on, meta)

    @event("DeliveryRedated")
    def _delivery_redated(
        self,
        operation: str,
        value: Money,
        from_on: date,
        delivered_on: date,
        reason: str,
        on: date,
        meta: OpMeta,
    ) -> None:
        self.deliveries = [attrs.evolve(d, on=delivered_on) if d.op == operation else d for d in self.deliveries]
