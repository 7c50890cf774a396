"""The service layer: how each journal operation changes the aggregates.

Each handler checks every rule that spans aggregates (membership, agreements in force, caps,
currencies) *before* changing anything, then calls the aggregates, then collects their
events into the unit of work in the order they happened.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from ..domain import Agreement, Evaluation, LedgerAggregate, NumericTarget, Partnership, Party, ResourceContribution
from ..domain.agreement import check_terms
from ..domain.evaluation import DEFAULT_CRITERIA
from ..domain.target import check_targets
from ..domain.values import EvaluatorRole, Money, OpMeta, Terms, exact_sum
from ..errors import ContributionError, CorrectionRefused, CycleError, ErasureError, EvaluationError
from ..journal import Operation
from .unit_of_work import UnitOfWork

Handler = Callable[[UnitOfWork, Operation], None]
HANDLERS: dict[str, Handler] = {}


def handles(*ops: str) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of ``ops``."""

    def register(fn: Handler) -> Handler:
        HANDLERS.update(dict.fromkeys(ops, fn))
        return fn

    return register


def apply_operation(uow: UnitOfWork, op: Operation) -> None:
    """Apply one validated operation to the unit of work (or raise a domain error)."""
    uow.begin_operation(op.meta.op_id)
    HANDLERS[op.op](uow, op)


def open_partnership(uow: UnitOfWork, key: str) -> Partnership:
    p = uow.get(Partnership, key)
    p.check_open()
    return p


#: The aggregates that belong to one partnership.
Part = TypeVar("Part", Agreement, Evaluation, NumericTarget, ResourceContribution)


def in_open_partnership(uow: UnitOfWork, cls: type[Part], key: str) -> Part:
    """The ``cls`` named ``key``, whose partnership must still be open."""
    found = uow.get(cls, key)
    open_partnership(uow, found.partnership)
    return found


def new_in_open_partnership(uow: UnitOfWork, kind: str, op: Operation) -> tuple[str, Partnership]:
    """The key of the ``kind`` that ``op`` creates (not yet used) and its open partnership."""
    key: str = op["key"]
    uow.check_new_key(kind, key)
    return key, open_partnership(uow, op["partnership"])


def created(uow: UnitOfWork, aggregate: LedgerAggregate, *changed: LedgerAggregate) -> None:
    """Hold the new ``aggregate`` and collect its events (then ``changed``'s)."""
    uow.add(aggregate)
    uow.collect(aggregate, *changed)


def _parties_exist(uow: UnitOfWork, keys: list[str]) -> None:
    for k in keys:
        uow.get(Party, k)


# -- operations that call one method of the aggregate they name ----------------------------


A = TypeVar("A", bound=LedgerAggregate)


def _partnership_of(aggregate: LedgerAggregate) -> str:
    """The key of the partnership ``aggregate`` is, or belongs to."""
    if isinstance(aggregate, Partnership):
        return aggregate.key
    assert isinstance(aggregate, (Agreement, Evaluation, NumericTarget, ResourceContribution))
    return aggregate.partnership


def one_call(
    cls: type[A], call: Callable[[A, Operation], object], *, in_open: bool = True, party: bool = False
) -> Handler:
    """The handler of an operation that calls one method of the ``cls`` named by its field of
    the kind's name (``op["agreement"]``...): ``call(aggregate, op)``, once the aggregate's
    partnership (its own, or itself) is found still open (``in_open``) and the op's party
    registered (``party``)."""

    def change(uow: UnitOfWork, op: Operation) -> None:
        aggregate = uow.get(cls, op[cls.kind])
        if in_open:
            open_partnership(uow, _partnership_of(aggregate))
        if party:
            uow.get(Party, op["party"])
        call(aggregate, op)
        uow.collect(aggregate)

    return change


#: Amending a party and revising a target are corrections, accepted after conclusion; a
#: partnership checks the phase it is in itself (a concluded one refuses as such).
CHANGES: dict[str, Handler] = {
    "amend_party": one_call(
        Party,
        lambda party, op: party.amend(
            op.get("name"),
            op.get("sector"),
            op.get("capacity"),
            op.get("identifiers"),
            op.get("area"),
            op["reason"],
            op["on"],
            op.meta,
        ),
        in_open=False,
    ),
    "join_partnership": one_call(
        Partnership, lambda p, op: p.join(op["party"], op.get("role"), op["on"], op.meta), party=True
    ),
    "leave_partnership": one_call(
        Partnership, lambda p, op: p.leave(op["party"], op.get("reason"), op["on"], op.meta), party=True
    ),
    "activate_partnership": one_call(Partnership, lambda p, op: p.activate(op["on"], op.meta), in_open=False),
    "conclude_partnership": one_call(Partnership, lambda p, op: p.conclude(op["on"], op.meta), in_open=False),
    "sign_agreement": one_call(Agreement, lambda a, op: a.sign(op["party"], op["on"], op.meta), party=True),
    "consent_amendment": one_call(
        Agreement, lambda a, op: a.consent_amendment(op["amendment"], op["party"], op["on"], op.meta)
    ),
    "terminate_agreement": one_call(Agreement, lambda a, op: a.terminate(op["reason"], op["on"], op.meta)),
    "record_measurement": one_call(
        NumericTarget, lambda t, op: t.record_measurement(op["period"], op["value"], op["source"], op["on"], op.meta)
    ),
    "revise_target": one_call(
        NumericTarget, lambda t, op: t.revise(op["targets"], op["reason"], op["on"], op.meta), in_open=False
    ),
    "close_evaluation": one_call(Evaluation, lambda e, op: e.close(op["on"], op.meta)),
}
HANDLERS.update(CHANGES)


# -- parties, partnerships and agreements ----------------------------------------------------


@handles("register_party")
def register_party(uow: UnitOfWork, op: Operation) -> None:
    uow.check_new_key("party", op["key"])
    f = op.fields
    identifiers = f.get("identifiers") or []
    created(uow, Party(f["key"], f["name"], f["sector"], f.get("capacity"), identifiers, f.get("area"), op.meta))


@handles("propose_partnership")
def propose_partnership(uow: UnitOfWork, op: Operation) -> None:
    key, by, members, parent = op["key"], op["proposed_by"], op["members"], op.get("parent")
    uow.check_new_key("partnership", key)
    _parties_exist(uow, [*members, by])
    Partnership.check_proposal(key, by, members, parent)
    if parent is not None:
        _check_parent(uow, key, parent)
    created(uow, Partnership(key, op["title"], op["purpose"], by, members, parent, op["on"], op.meta))


def _check_parent(uow: UnitOfWork, key: str, parent_key: str) -> None:
    """The parent is an open partnership, and a partnership of partnerships is a tree: walk
    the parent chain to be sure it does not come back to ``key`` (even in hand-edited ledgers)."""
    seen = {key}
    node: Partnership | None = open_partnership(uow, parent_key)
    while node is not None:
        if node.key in seen:
            raise CycleError(f"partnership {key} under {parent_key} would make a cycle")
        seen.add(node.key)
        node = uow.find(Partnership, node.parent) if node.parent else None


@handles("record_decision")
def record_decision(uow: UnitOfWork, op: Operation) -> None:
    p = open_partnership(uow, op["partnership"])
    _parties_exist(uow, [op["proposed_by"], *op["votes"]])
    p.record_decision(op["key"], op["subject"], op["proposed_by"], op["rule"], op["votes"], op["on"], op.meta)
    uow.collect(p)


def _adopt_caps_currency(p: Partnership, caps: dict[str, Money] | None, what: str, meta: OpMeta) -> None:
    """Annual caps fix the partnership's currency (as a first valued contribution would)."""
    if caps:
        p.adopt_currency(next(iter(caps.values())).currency, f"an annual cap of {what}", meta)


@handles("draft_agreement")
def draft_agreement(uow: UnitOfWork, op: Operation) -> None:
    key, p = new_in_open_partnership(uow, "agreement", op)
    parties: list[str] = op["parties"]
    _parties_exist(uow, parties)
    for party in parties:
        p.check_member(party, f"be a party to agreement {key}")
    terms = Terms(
        start=op["start"],
        end=op["end"],
        shares=op.get("shares"),
        annual_caps=op.get("annual_caps"),
        max_years=op.get("max_years"),
        fiscal_year_start=op.get("fiscal_year_start", 4),
    )
    check_terms(terms, parties, f"agreement {key}")
    _adopt_caps_currency(p, terms.annual_caps, f"agreement {key}", op.meta)
    created(uow, Agreement(key, p.key, op["title"], parties, terms, op.meta), p)


@handles("amend_agreement")
def amend_agreement(uow: UnitOfWork, op: Operation) -> None:
    a = uow.get(Agreement, op["agreement"])
    p = open_partnership(uow, a.partnership)
    changes = op["changes"]
    _adopt_caps_currency(p, changes.get("annual_caps"), f"amendment {op['amendment']}", op.meta)
    a.propose_amendment(op["amendment"], changes, op["proposed_by"], op["on"], op.meta)
    uow.collect(a, p)


@handles("void_operation")
def void_operation(uow: UnitOfWork, op: Operation) -> None:
    # A void is an audit entry, not new activity: accepted on a concluded partnership.
    operation = op["operation"]
    target = uow.aggregate_of_op(operation)
    if target is None:
        raise CorrectionRefused(f"there is no operation {operation} in the ledger")
    if isinstance(target, Partnership):
        joined = target.party_joined_by(operation)
        if joined is not None:  # a join: what the party pledged rests on it
            target.check_join_voidable_with(operation, uow.pledges_of(target.key, joined))
    if not isinstance(target, ResourceContribution):
        target.void(operation, op["reason"], op["on"], op.meta)
        uow.collect(target)
        return
    # What the contribution counts against its party's cap may go down.
    before = target.counted_against_cap
    target.void(operation, op["reason"], op["on"], op.meta)
    after_change(uow, target, uow.get(Agreement, target.agreement) if target.agreement else None, before, op.meta)


# -- targets and evaluations -----------------------------------------------------------------


@handles("define_target")
def define_target(uow: UnitOfWork, op: Operation) -> None:
    key, p = new_in_open_partnership(uow, "target", op)
    baseline, targets = op["baseline"], op["targets"]
    check_targets(targets, baseline, f"target {key}")
    target = NumericTarget(key, p.key, op["indicator"], op["unit"], op["direction"], baseline, targets, op.meta)
    created(uow, target)


@handles("open_evaluation")
def open_evaluation(uow: UnitOfWork, op: Operation) -> None:
    key, p = new_in_open_partnership(uow, "evaluation", op)
    criteria = op.get("criteria") or list(DEFAULT_CRITERIA)
    weight = op.get("resident_weight", Decimal("0.5"))
    created(uow, Evaluation(key, p.key, op["period"], criteria, op.get("scale_max", 5), weight, op.meta))


@handles("submit_evaluation")
def submit_evaluation(uow: UnitOfWork, op: Operation) -> None:
    e = uow.get(Evaluation, op["evaluation"])
    p = open_partnership(uow, e.partnership)
    e.check_open()  # a closed round refuses as such, whoever submits
    role: EvaluatorRole = op["role"]
    party = op.get("party")
    evaluator = op["evaluator"]
    # What the ledger knows of the evaluator (the round's own rules are Evaluation.submit's).
    if role is EvaluatorRole.RESIDENT and uow.kind_of(evaluator) is not None:
        raise EvaluationError(
            f"resident evaluator {evaluator} in evaluation {e.key} must be an opaque id, not a key of the ledger"
        )
    if party is not None and role is EvaluatorRole.PARTY:
        p.check_member(party, f"evaluate as a party in evaluation {e.key}")
    elif party is not None and role is EvaluatorRole.EXTERNAL:
        uow.get(Party, party)
    comment, named = op.get("comment"), evaluator
    if uow.vault is not None:
        # Private fields (privacy/registry.py) enter the chain as commitments.
        committed = uow.vault.commit_fields("submit_evaluation", op.fields, e.key)
        evaluator, comment = committed["evaluator"], committed.get("comment")
    try:
        e.submit(evaluator, role, party, op["scores"], comment, op.get("comment_public", False), op["on"], op.meta)
    except EvaluationError as err:
        if evaluator == named:
            raise
        # The rule names the evaluator as given, never by the handle the chain holds.
        raise type(err)(err.message.replace(evaluator, named)) from None
    uow.collect(e)


@handles("erase_subject")
def erase_subject(uow: UnitOfWork, op: Operation) -> None:
    evaluator = op["evaluator"]
    if uow.vault is None:
        raise ErasureError(
            "this ledger was written before private fields were committed (chain format 1): its "
            "events hold residents' ids and comments as given, so erasing them would break the hash "
            "chain; export it and import the journal into a new ledger (see docs/privacy.md)"
        )
    subject = uow.vault.find(evaluator)
    aggregates = uow.vault.aggregates_of(subject) if subject is not None else []
    if subject is None or not aggregates:
        raise ErasureError(
            f"the ledger holds no private data of evaluator {evaluator} (never recorded, or erased already)"
        )
    evaluations = [k for k in aggregates if uow.kind_of(k) == "evaluation"]
    for key in evaluations:
        uow.get(Evaluation, key)  # each exists
    values = uow.vault.values_of(subject)
    if evaluations:
        e = uow.get(Evaluation, evaluations[0])
        e.erase_subject(subject.handle, evaluations, values, op["reason"], op["on"], op.meta)
        uow.collect(e)
    else:  # only a delivery's private evidence: the tombstone is the first contribution's
        c = uow.get(ResourceContribution, aggregates[0])
        c.erase_subject(subject.handle, aggregates, values, op["reason"], op["on"], op.meta)
        uow.collect(c)
    uow.vault.erase(subject)


# -- contributions ---------------------------------------------------------------------------


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
    counted_after = max(c.pledged_net, exact_sum((c.delivered, change)))
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
