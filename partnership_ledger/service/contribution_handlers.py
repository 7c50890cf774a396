"""How the contribution operations change the aggregates: pledge, deliver, correct, withdraw.

Part of the service layer (:mod:`partnership_ledger.service.handlers` registers these with
the others): the rules that span aggregates (membership, the agreement in force, caps,
currencies) are checked before anything changes.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from ..domain import Agreement, Party, ResourceContribution
from ..domain.values import Money, OpMeta, exact_sum
from ..errors import ContributionError
from ..journal import Operation
from .handlers import created, handles, in_open_partnership, new_in_open_partnership
from .unit_of_work import UnitOfWork


@handles("pledge")
def pledge(uow: UnitOfWork, op: Operation) -> None:
    f = op.fields
    key, p = new_in_open_partnership(uow, "contribution", op)
    party = f["party"]
    uow.get(Party, party)
    p.check_member(party, f"pledge contribution {key}")
    kind, instrument, recipient = f["kind"], f.get("instrument"), f.get("recipient")
    ResourceContribution.check_pledge(key, party, kind, instrument, recipient)
    if recipient is not None:
        uow.get(Party, recipient)
        p.check_member(recipient, f"receive contribution {key}")
    fiscal_year = f["fiscal_year"]
    value: Money = f["value"]
    meta = op.meta
    agreement: Agreement | None = None
    agreement_key = f.get("agreement")
    if agreement_key is not None:
        agreement = uow.get(Agreement, agreement_key)
        if agreement.partnership != p.key:
            raise ContributionError(
                f"agreement {agreement.key} belongs to partnership {agreement.partnership}, not {p.key}"
            )
        agreement.check_contribution(party, fiscal_year, key, value)
    p.adopt_currency(value.currency, f"contribution {key}", meta)
    # Without a date, a pledge counts from the first day of its fiscal year (which starts in
    # its agreement's fiscal_year_start month; April without an agreement).
    first_month = agreement.terms.fiscal_year_start if agreement is not None else 4
    contribution = ResourceContribution(
        key=key,
        partnership=p.key,
        party=party,
        agreement=agreement_key,
        kind_of_resource=kind,
        value=value,
        quantity=f.get("quantity"),
        unit=f.get("unit"),
        valuation_basis=f.get("valuation_basis"),
        instrument=instrument,
        fiscal_year=fiscal_year,
        description=f.get("description"),
        meta=meta,
        recipient=recipient,
        on=f.get("on") or date(fiscal_year, first_month, 1),
    )
    created(uow, contribution, p)
    if agreement is not None:
        agreement.count_contribution(key, party, fiscal_year, None, value.amount, meta)
        uow.collect(agreement)


def _recount(uow: UnitOfWork, c: ResourceContribution, change: Decimal) -> Agreement | None:
    """Check the agreement's cap for what ``c`` will count after ``change`` to its delivered
    total, before anything changes."""
    if c.agreement is None:
        return None
    a = uow.get(Agreement, c.agreement)
    pledged_net = c.pledged_net
    counted_after = max(pledged_net, exact_sum((c.delivered, change)))
    counted = c.counted_against_cap
    if counted_after > counted:
        a.check_cap(c.party, c.fiscal_year, c.key, counted, Money(counted_after, c.currency))
    return a


def after_change(
    uow: UnitOfWork, c: ResourceContribution, a: Agreement | None, counted_before: Decimal, meta: OpMeta
) -> None:
    """Count what ``c`` now counts against its cap (``counted_before``: what it counted before)."""
    uow.collect(c)
    if a is not None:
        a.count_contribution(c.key, c.party, c.fiscal_year, counted_before, c.counted_against_cap, meta)
        uow.collect(a)


@handles("deliver")
def deliver(uow: UnitOfWork, op: Operation) -> None:
    f = op.fields
    c = in_open_partnership(uow, ResourceContribution, f["contribution"])
    value: Money = f["value"]
    c.check_delivery(value)  # a withdrawn pledge is refused as such, before any cap check
    a = _recount(uow, c, value.amount)
    before = c.counted_against_cap
    c.deliver(value, f["on"], _evidence(uow, c, f), op.meta)
    after_change(uow, c, a, before, op.meta)


def _evidence(uow: UnitOfWork, c: ResourceContribution, f: dict[str, Any]) -> str | None:
    """The delivery's evidence as the chain holds it: a commitment when it is marked
    ``evidence_private`` (privacy/registry.py), sealed under ``evidence_subject``'s key (by
    default the contribution's party), so that ``erase_subject`` of that subject destroys it."""
    evidence = f.get("evidence")
    if f.get("evidence_private") is not True:
        if f.get("evidence_subject") is not None:
            raise ContributionError(
                f"a delivery to {c.key} names evidence_subject but its evidence is not private "
                "(set evidence_private: true)"
            )
        return None if evidence is None else str(evidence)
    if not evidence:
        raise ContributionError(f"a delivery to {c.key} is marked evidence_private but gives no evidence")
    if uow.vault is None:
        raise ContributionError(
            f"a delivery to {c.key} has private evidence, but this ledger was written before private "
            "fields were committed (chain format 1): see docs/privacy.md"
        )
    fields = {**f, "evidence_subject": f.get("evidence_subject") or c.party}
    return str(uow.vault.commit_fields("deliver", fields, c.key)["evidence"])


@handles("correct_contribution")
def correct_contribution(uow: UnitOfWork, op: Operation) -> None:
    # A correction is an audit entry, not new activity: accepted on a concluded partnership.
    c = uow.get(ResourceContribution, op["contribution"])
    delta: Money | None = op.get("delta")
    delivery, delivered_on = op.get("delivery"), op.get("delivered_on")
    if c.redates(delta, delivery, delivered_on):
        c.redate_delivery(delivery, delivered_on, op["reason"], op["on"], op.meta)
        uow.collect(c)
        return
    assert delta is not None  # (redates() refuses a correction with neither)
    c.check_currency(delta, f"correction of contribution {c.key}")
    a = _recount(uow, c, delta.amount)
    before = c.counted_against_cap
    c.correct(delta, op["reason"], op["on"], op.meta)
    after_change(uow, c, a, before, op.meta)


@handles("withdraw_pledge")
def withdraw_pledge(uow: UnitOfWork, op: Operation) -> None:
    c = in_open_partnership(uow, ResourceContribution, op["contribution"])
    a = uow.get(Agreement, c.agreement) if c.agreement else None
    before = c.counted_against_cap
    c.withdraw(op["reason"], op["on"], op.meta)
    after_change(uow, c, a, before, op.meta)
