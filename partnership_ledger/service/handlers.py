"""The service layer: how each journal operation changes the aggregates.

Each handler checks every rule that spans aggregates (membership, agreements in force, caps,
currencies) *before* changing anything, then calls the aggregates, then collects their
events into the unit of work in the order they happened.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

from ..domain import Agreement, Evaluation, LedgerAggregate, NumericTarget, Partnership, Party, ResourceContribution
from ..domain.agreement import check_terms
from ..domain.evaluation import DEFAULT_CRITERIA
from ..domain.target import check_targets
from ..domain.values import EvaluatorRole, Money, OpMeta, Terms
from ..errors import CorrectionRefused, CycleError, ErasureError, EvaluationError
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


# -- parties and partnerships ------------------------------------------------------------


@handles("register_party")
def register_party(uow: UnitOfWork, op: Operation) -> None:
    uow.check_new_key("party", op["key"])
    f = op.fields
    identifiers = f.get("identifiers") or []
    created(uow, Party(f["key"], f["name"], f["sector"], f.get("capacity"), identifiers, f.get("area"), op.meta))


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


@handles("join_partnership", "leave_partnership")
def join_or_leave(uow: UnitOfWork, op: Operation) -> None:
    p = open_partnership(uow, op["partnership"])
    party = op["party"]
    uow.get(Party, party)
    if op.op == "join_partnership":
        p.join(party, op.get("role"), op["on"], op.meta)
    else:
        p.leave(party, op.get("reason"), op["on"], op.meta)
    uow.collect(p)


@handles("activate_partnership", "conclude_partnership")
def change_phase(uow: UnitOfWork, op: Operation) -> None:
    # The partnership checks the phase it is in (a concluded one refuses as such).
    p = uow.get(Partnership, op["partnership"])
    change = p.activate if op.op == "activate_partnership" else p.conclude
    change(op["on"], op.meta)
    uow.collect(p)


@handles("record_decision")
def record_decision(uow: UnitOfWork, op: Operation) -> None:
    p = open_partnership(uow, op["partnership"])
    _parties_exist(uow, [op["proposed_by"], *op["votes"]])
    p.record_decision(op["key"], op["subject"], op["proposed_by"], op["rule"], op["votes"], op["on"], op.meta)
    uow.collect(p)


# -- agreements ----------------------------------------------------------------------------


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


@handles("sign_agreement")
def sign_agreement(uow: UnitOfWork, op: Operation) -> None:
    a = in_open_partnership(uow, Agreement, op["agreement"])
    uow.get(Party, op["party"])
    a.sign(op["party"], op["on"], op.meta)
    uow.collect(a)


@handles("amend_agreement")
def amend_agreement(uow: UnitOfWork, op: Operation) -> None:
    a = uow.get(Agreement, op["agreement"])
    p = open_partnership(uow, a.partnership)
    changes = op["changes"]
    _adopt_caps_currency(p, changes.get("annual_caps"), f"amendment {op['amendment']}", op.meta)
    a.propose_amendment(op["amendment"], changes, op["proposed_by"], op["on"], op.meta)
    uow.collect(a, p)


@handles("consent_amendment")
def consent_amendment(uow: UnitOfWork, op: Operation) -> None:
    a = in_open_partnership(uow, Agreement, op["agreement"])
    a.consent_amendment(op["amendment"], op["party"], op["on"], op.meta)
    uow.collect(a)


@handles("terminate_agreement")
def terminate_agreement(uow: UnitOfWork, op: Operation) -> None:
    a = in_open_partnership(uow, Agreement, op["agreement"])
    a.terminate(op["reason"], op["on"], op.meta)
    uow.collect(a)


# -- targets and evaluations ---------------------------------------------------------------


@handles("define_target")
def define_target(uow: UnitOfWork, op: Operation) -> None:
    key, p = new_in_open_partnership(uow, "target", op)
    baseline, targets = op["baseline"], op["targets"]
    check_targets(targets, baseline, f"target {key}")
    target = NumericTarget(key, p.key, op["indicator"], op["unit"], op["direction"], baseline, targets, op.meta)
    created(uow, target)


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


@handles("record_measurement")
def record_measurement(uow: UnitOfWork, op: Operation) -> None:
    t = in_open_partnership(uow, NumericTarget, op["target"])
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
    e = in_open_partnership(uow, Evaluation, op["evaluation"])
    e.close(op["on"], op.meta)
    uow.collect(e)


# The contribution operations live in a module of their own; importing it registers them.
from . import contribution_handlers as contribution_handlers  # noqa: E402
