"""The service layer: how each journal operation changes the aggregates.

Each handler checks every rule that spans aggregates (membership, agreements in force, caps,
currencies) *before* changing anything, then calls the aggregates, then collects their
events into the unit of work in the order they happened.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from ..domain import (
    Agreement,
    Evaluation,
    NumericTarget,
    Partnership,
    Party,
    ResourceContribution,
)
from ..domain.agreement import check_terms
from ..domain.evaluation import DEFAULT_CRITERIA
from ..domain.target import check_targets
from ..domain.values import EvaluatorRole, Terms
from ..errors import (
    CorrectionRefused,
    CycleError,
    ErasureError,
    EvaluationError,
)
from ..journal import Operation
from .unit_of_work import UnitOfWork

Handler = Callable[[UnitOfWork, Operation], None]
HANDLERS: dict[str, Handler] = {}


def handles(op: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[op] = fn
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


def _parties_exist(uow: UnitOfWork, keys: list[str]) -> None:
    for k in keys:
        uow.get(Party, k)


# -- parties and partnerships ------------------------------------------------------------


@handles("register_party")
def register_party(uow: UnitOfWork, op: Operation) -> None:
    uow.check_new_key("party", op["key"])
    party = Party(
        key=op["key"],
        name=op["name"],
        sector=op["sector"],
        capacity=op.get("capacity"),
        identifiers=op.get("identifiers") or [],
        area=op.get("area"),
        meta=op.meta,
    )
    uow.add(party)
    uow.collect(party)


@handles("amend_party")
def amend_party(uow: UnitOfWork, op: Operation) -> None:
    party = uow.get(Party, op["party"])
    f = op.fields
    party.amend(
        f.get("name"),
        f.get("sector"),
        f.get("capacity"),
        f.get("identifiers"),
        f.get("area"),
        f["reason"],
        f["on"],
        op.meta,
    )
    uow.collect(party)


@handles("propose_partnership")
def propose_partnership(uow: UnitOfWork, op: Operation) -> None:
    key = op["key"]
    uow.check_new_key("partnership", key)
    members: list[str] = op["members"]
    _parties_exist(uow, [*members, op["proposed_by"]])
    parent = op.get("parent")
    Partnership.check_proposal(key, op["proposed_by"], members, parent)
    if parent is not None:
        _check_parent(uow, key, parent)
    partnership = Partnership(
        key=key,
        title=op["title"],
        purpose=op["purpose"],
        proposed_by=op["proposed_by"],
        members=members,
        parent=parent,
        on=op["on"],
        meta=op.meta,
    )
    uow.add(partnership)
    uow.collect(partnership)


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


@handles("join_partnership")
def join_partnership(uow: UnitOfWork, op: Operation) -> None:
    p = open_partnership(uow, op["partnership"])
    uow.get(Party, op["party"])
    p.join(op["party"], op.get("role"), op["on"], op.meta)
    uow.collect(p)


@handles("leave_partnership")
def leave_partnership(uow: UnitOfWork, op: Operation) -> None:
    p = open_partnership(uow, op["partnership"])
    uow.get(Party, op["party"])
    p.leave(op["party"], op.get("reason"), op["on"], op.meta)
    uow.collect(p)


@handles("activate_partnership")
def activate_partnership(uow: UnitOfWork, op: Operation) -> None:
    p = uow.get(Partnership, op["partnership"])
    p.activate(op["on"], op.meta)
    uow.collect(p)


@handles("conclude_partnership")
def conclude_partnership(uow: UnitOfWork, op: Operation) -> None:
    p = uow.get(Partnership, op["partnership"])
    p.conclude(op["on"], op.meta)
    uow.collect(p)


@handles("record_decision")
def record_decision(uow: UnitOfWork, op: Operation) -> None:
    p = open_partnership(uow, op["partnership"])
    _parties_exist(uow, [op["proposed_by"], *op["votes"]])
    p.record_decision(op["key"], op["subject"], op["proposed_by"], op["rule"], op["votes"], op["on"], op.meta)
    uow.collect(p)


# -- agreements ----------------------------------------------------------------------------


@handles("draft_agreement")
def draft_agreement(uow: UnitOfWork, op: Operation) -> None:
    key = op["key"]
    uow.check_new_key("agreement", key)
    p = open_partnership(uow, op["partnership"])
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
    caps = terms.annual_caps or {}
    if caps:
        currency = next(iter(caps.values())).currency
        p.adopt_currency(currency, f"an annual cap of agreement {key}", op.meta)
    agreement = Agreement(key=key, partnership=p.key, title=op["title"], parties=parties, terms=terms, meta=op.meta)
    uow.add(agreement)
    uow.collect(agreement, p)


def _agreement_ofopen_partnership(uow: UnitOfWork, key: str) -> tuple[Agreement, Partnership]:
    a = uow.get(Agreement, key)
    return a, open_partnership(uow, a.partnership)


@handles("sign_agreement")
def sign_agreement(uow: UnitOfWork, op: Operation) -> None:
    a, _ = _agreement_ofopen_partnership(uow, op["agreement"])
    uow.get(Party, op["party"])
    a.sign(op["party"], op["on"], op.meta)
    uow.collect(a)


@handles("amend_agreement")
def amend_agreement(uow: UnitOfWork, op: Operation) -> None:
    a, p = _agreement_ofopen_partnership(uow, op["agreement"])
    changes = op["changes"]
    caps = changes.get("annual_caps") or {}
    if caps:
        currency = next(iter(caps.values())).currency
        p.adopt_currency(currency, f"an annual cap of amendment {op['amendment']}", op.meta)
    a.propose_amendment(op["amendment"], changes, op["proposed_by"], op["on"], op.meta)
    uow.collect(a, p)


@handles("consent_amendment")
def consent_amendment(uow: UnitOfWork, op: Operation) -> None:
    a, _ = _agreement_ofopen_partnership(uow, op["agreement"])
    a.consent_amendment(op["amendment"], op["party"], op["on"], op.meta)
    uow.collect(a)


@handles("terminate_agreement")
def terminate_agreement(uow: UnitOfWork, op: Operation) -> None:
    a, _ = _agreement_ofopen_partnership(uow, op["agreement"])
    a.terminate(op["reason"], op["on"], op.meta)
    uow.collect(a)


# -- targets and evaluations ---------------------------------------------------------------


@handles("define_target")
def define_target(uow: UnitOfWork, op: Operation) -> None:
    key = op["key"]
    uow.check_new_key("target", key)
    p = open_partnership(uow, op["partnership"])
    check_targets(op["targets"], op["baseline"], f"target {key}")
    target = NumericTarget(
        key=key,
        partnership=p.key,
        indicator=op["indicator"],
        unit=op["unit"],
        direction=op["direction"],
        baseline=op["baseline"],
        targets=op["targets"],
        meta=op.meta,
    )
    uow.add(target)
    uow.collect(target)


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
    before = target.counted_against_cap if isinstance(target, ResourceContribution) else None
    target.void(operation, op["reason"], op["on"], op.meta)
    if isinstance(target, ResourceContribution) and target.agreement is not None and before is not None:
        # What the contribution counts against its party's cap may go down.
        a = uow.get(Agreement, target.agreement)
        contribution_handlers.after_change(uow, target, a, before, op.meta)
        return
    uow.collect(target)


def _target(uow: UnitOfWork, key: str) -> NumericTarget:
    t = uow.get(NumericTarget, key)
    open_partnership(uow, t.partnership)
    return t


@handles("record_measurement")
def record_measurement(uow: UnitOfWork, op: Operation) -> None:
    t = _target(uow, op["target"])
    t.record_measurement(op["period"], op["value"], op["source"], op["on"], op.meta)
    uow.collect(t)


@handles("revise_target")
def revise_target(uow: UnitOfWork, op: Operation) -> None:
    # A revision is a correction (of past periods' targets too): accepted after conclusion.
    t = uow.get(NumericTarget, op["target"])
    t.revise(op["targets"], op["reason"], op["on"], op.meta)
    uow.collect(t)


@handles("open_evaluation")
def open_evaluation(uow: UnitOfWork, op: Operation) -> None:
    key = op["key"]
    uow.check_new_key("evaluation", key)
    p = open_partnership(uow, op["partnership"])
    evaluation = Evaluation(
        key=key,
        partnership=p.key,
        period=op["period"],
        criteria=op.get("criteria") or list(DEFAULT_CRITERIA),
        scale_max=op.get("scale_max", 5),
        resident_weight=op.get("resident_weight", Decimal("0.5")),
        meta=op.meta,
    )
    uow.add(evaluation)
    uow.collect(evaluation)


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
        e.submit(
            evaluator,
            role,
            party,
            op["scores"],
            comment,
            op.get("comment_public", False),
            op["on"],
            op.meta,
        )
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


@handles("close_evaluation")
def close_evaluation(uow: UnitOfWork, op: Operation) -> None:
    e = uow.get(Evaluation, op["evaluation"])
    open_partnership(uow, e.partnership)
    e.close(op["on"], op.meta)
    uow.collect(e)


# The contribution operations live in a module of their own; importing it registers them.
from . import contribution_handlers as contribution_handlers  # noqa: E402
