"""The facts the indicators need, folded from events into a store.

One fold (:func:`apply_event`) writes to a :class:`FactStore`. The materialized read models
use a store backed by the ledger's database (:mod:`.sqlstore`); ``as_of`` queries replay the
events up to a moment into a :class:`MemoryFactStore`. Both are read by the same query
functions (:mod:`.queries`) and the same pure indicators, so they cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any, NamedTuple, Protocol

import attrs

from ..domain.agreement import agreement_status, takes_effect, unsigned_parties
from ..domain.partnership import decision_outcome
from ..domain.values import EXACT, Money, fiscal_year_of
from .runner import AggregateInfo

ZERO = Decimal(0)


@attrs.frozen
class PartyFact:
    """A party's particulars with every amendment (``name``, ``sector``, ``capacity``), and
    what they were at registration (``registered``, once amended) with each amendment, to
    read them as they stood on a day (:meth:`as_on`)."""

    key: str
    name: str
    sector: str
    capacity: Money | None
    amendments: list[dict[str, Any]] = attrs.field(factory=list)  # {"on", "reason", "changes"}
    registered: dict[str, Any] | None = None

    def as_on(self, day: date | None) -> PartyFact:
        """The party as it stood on ``day`` (amendments taking effect later left out)."""
        if not self.amendments or day is None:
            return self
        fields = dict(self.registered or {})
        for a in sorted(self.amendments, key=lambda a: a["on"]):
            if a["on"] <= day:
                fields.update(a["changes"])
        return attrs.evolve(
            self,
            name=fields.get("name", self.name),
            sector=fields.get("sector", self.sector),
            capacity=fields.get("capacity"),
        )


@attrs.frozen
class SpellFact:
    partnership: str
    party: str
    role: str | None
    joined: date
    left: date | None = None


@attrs.frozen
class DecisionFact:
    partnership: str
    key: str
    subject: str
    on: date
    proposed_by: str
    rule: str
    votes: dict[str, str]
    adopted: bool


@attrs.frozen
class AgreementFact:
    key: str
    partnership: str
    title: str
    seq: int  # order of drafting: the latest applicable agreement gives the agreed shares
    parties: list[str]
    shares: dict[str, Decimal] | None
    start: date
    end: date
    fiscal_year_start: int
    signatures: dict[str, date]
    terminated_on: date | None = None
    amendments: list[dict[str, Any]] = attrs.field(factory=list)
    #: The terms as drafted (title, shares, start, end, fiscal_year_start), kept once an
    #: amendment changes them: to read the agreement as it stood on a day (``--on``).
    drafted: dict[str, Any] | None = None

    @property
    def fully_signed(self) -> bool:
        return not unsigned_parties(self.parties, self.signatures)

    @property
    def status(self) -> str:
        return agreement_status(self.parties, self.signatures, self.terminated_on)


class ContributionFact(NamedTuple):
    """A pledged resource and what became of it.

    A named tuple rather than an attrs class, as :class:`BucketKey`: the fold makes a new one
    for every pledge and delivery, the most frequent events of a large ledger.
    """

    key: str
    partnership: str
    party: str
    agreement: str | None
    kind: str
    instrument: str | None
    fiscal_year: int
    fiscal_year_start: int  # of its agreement when pledged (April without one)
    currency: str
    pledged: Decimal
    delivered: Decimal = ZERO
    withdrawn: Decimal = ZERO
    quantity: Decimal | None = None
    unit: str | None = None
    valuation_basis: str | None = None
    description: str | None = None


#: In-kind contributions of one party, kind, unit and valuation basis, as the report groups
#: them: (party, kind, unit, valuation basis, how many, their quantities, pledged, withdrawn
#: and delivered amounts), the amounts as Decimals or decimal strings for exact sums. A
#: store may return one such row a contribution or several contributions a row.
InKindRow = tuple[str, str, str | None, str | None, int, list[Any], list[Any], list[Any], list[Any]]


def in_kind_row(c: ContributionFact) -> InKindRow:
    quantities = [] if c.quantity is None else [c.quantity]
    return (c.party, c.kind, c.unit, c.valuation_basis, 1, quantities, [c.pledged], [c.withdrawn], [c.delivered])


#: Makes a named tuple from a tuple of its fields in C (``BucketKey(...)`` runs a Python
#: ``__new__``): for the few that the fold makes for nearly every event.
_new_tuple: Any = tuple.__new__


class BucketKey(NamedTuple):
    """Where an amount is counted: partnership, party, fiscal year, kind, instrument.

    A named tuple rather than an attrs class: the fold builds one per event, and tuples
    are built and hashed in C.
    """

    partnership: str
    party: str
    fiscal_year: int
    kind: str
    instrument: str  # "" when not money or not stated
    currency: str


class Bucket(NamedTuple):
    pledged: Decimal = ZERO
    withdrawn: Decimal = ZERO
    delivered: Decimal = ZERO

    def plus(self, pledged: Decimal, withdrawn: Decimal, delivered: Decimal) -> Bucket:
        add = EXACT.add
        made: Bucket = _new_tuple(Bucket, (add(self[0], pledged), add(self[1], withdrawn), add(self[2], delivered)))
        return made


@attrs.frozen
class MeasurementFact:
    period: str
    value: Decimal
    source: str
    on: date


@attrs.frozen
class TargetFact:
    key: str
    partnership: str
    indicator: str
    unit: str
    direction: str
    baseline_period: str
    baseline_value: Decimal
    targets: list[tuple[str, Decimal]]
    measurements: list[MeasurementFact] = attrs.field(factory=list)
    revisions: list[dict[str, Any]] = attrs.field(factory=list)


@attrs.frozen
class SubmissionFact:
    evaluator: str
    role: str
    party: str | None
    scores: dict[str, int]
    comment: str | None
    comment_public: bool
    on: date


@attrs.frozen
class EvaluationFact:
    key: str
    partnership: str
    period: str
    criteria: list[str]
    scale_max: int
    resident_weight: Decimal
    closed_on: date | None = None
    submissions: list[SubmissionFact] = attrs.field(factory=list)


@attrs.frozen
class PartnershipFact:
    key: str
    title: str
    purpose: str
    parent: str | None
    proposed_by: str
    proposed_on: date
    phase: str = "preparing"
    activated_on: date | None = None
    concluded_on: date | None = None


class FactStore(Protocol):
    """Where the fold keeps its facts; read back by the query functions."""

    def put_party(self, fact: PartyFact) -> None: ...
    def party(self, key: str) -> PartyFact | None: ...
    def put_partnership(self, fact: PartnershipFact) -> None: ...
    def partnership(self, key: str) -> PartnershipFact | None: ...
    def partnership_keys(self) -> list[str]: ...
    def add_spell(self, fact: SpellFact) -> None: ...
    def end_spell(self, partnership: str, party: str, left: date) -> None: ...
    def spells(self, partnership: str) -> list[SpellFact]: ...
    def add_decision(self, fact: DecisionFact) -> None: ...
    def decisions(self, partnership: str) -> list[DecisionFact]: ...
    def put_agreement(self, fact: AgreementFact) -> None: ...
    def agreement(self, key: str) -> AgreementFact | None: ...
    def agreements(self, partnership: str) -> list[AgreementFact]: ...
    def put_contribution(self, fact: ContributionFact) -> None: ...
    def contribution(self, key: str) -> ContributionFact | None: ...
    def contributions(self, partnership: str) -> list[ContributionFact]: ...
    def count_contributions(self, partnership: str) -> int: ...
    def in_kind_rows(self, partnership: str) -> list[InKindRow]: ...
    def add_to_bucket(self, key: BucketKey, pledged: Decimal, withdrawn: Decimal, delivered: Decimal) -> None: ...
    def buckets(self, partnership: str) -> list[tuple[BucketKey, Bucket]]: ...
    def add_amount(
        self, key: BucketKey, day: date, pledged: Decimal, withdrawn: Decimal, delivered: Decimal
    ) -> None: ...
    def buckets_on(self, partnership: str, day: date) -> list[tuple[BucketKey, Bucket]]: ...
    def remove_decision(self, partnership: str, key: str) -> None: ...
    def remove_spell(self, partnership: str, index: int) -> None: ...
    def reopen_spell(self, partnership: str, index: int) -> None: ...
    def remove_measurement(self, target: str, index: int) -> None: ...
    def remove_submission(self, evaluation: str, evaluator: str) -> None: ...
    def put_target(self, fact: TargetFact) -> None: ...
    def add_measurement(self, target: str, fact: MeasurementFact) -> None: ...
    def target(self, key: str) -> TargetFact | None: ...
    def targets(self, partnership: str) -> list[TargetFact]: ...
    def put_evaluation(self, fact: EvaluationFact) -> None: ...
    def add_submission(self, evaluation: str, fact: SubmissionFact) -> None: ...
    def close_evaluation(self, evaluation: str, on: date) -> None: ...
    def evaluation(self, key: str) -> EvaluationFact | None: ...
    def evaluations(self, partnership: str) -> list[EvaluationFact]: ...


def _value(x: Any) -> Any:
    """An enum member's value (anything else as it is)."""
    return x._value_ if isinstance(x, Enum) else x


def _must(found: Any, what: str) -> Any:
    if found is None:  # pragma: no cover - events always follow their aggregate's creation
        raise LookupError(what)
    return found


def apply_event(store: FactStore, event: Any, info: AggregateInfo) -> None:
    """Fold one event into the store (derived events change nothing here)."""
    fold_one = _FOLDS.get(type(event).__qualname__)
    if fold_one is not None:
        fold_one(store, event, info)


# One function per event that changes a fact, found by the event class's name: a dictionary
# lookup rather than a match over every name, as the fold runs once for every stored event.


def _registered(store: FactStore, e: Any, info: AggregateInfo) -> None:
    store.put_party(PartyFact(e.key, e.name, _value(e.sector), e.capacity))


def _party_amended(store: FactStore, e: Any, info: AggregateInfo) -> None:
    p = _must(store.party(info.key), info.key)
    given = {"name": e.name, "sector": _value(e.sector), "capacity": e.capacity}
    given.update(identifiers=e.identifiers, area=e.area)
    changes = {k: v for k, v in given.items() if v is not None}
    registered = p.registered
    if registered is None:
        registered = {"name": p.name, "sector": p.sector, "capacity": p.capacity}
    amendments = [*p.amendments, {"on": e.on, "reason": e.reason, "changes": changes}]
    now = attrs.evolve(p, amendments=amendments, registered=registered).as_on(date.max)
    store.put_party(now)


def _proposed(store: FactStore, e: Any, info: AggregateInfo) -> None:
    store.put_partnership(PartnershipFact(e.key, e.title, e.purpose, e.parent, e.proposed_by, e.on))
    for m in e.members:
        store.add_spell(SpellFact(e.key, m, None, e.on))


def _joined(store: FactStore, e: Any, info: AggregateInfo) -> None:
    store.add_spell(SpellFact(info.key, e.party, e.role, e.on))


def _left(store: FactStore, e: Any, info: AggregateInfo) -> None:
    store.end_spell(info.key, e.party, e.on)


def _activated(store: FactStore, e: Any, info: AggregateInfo) -> None:
    p = _must(store.partnership(info.key), info.key)
    store.put_partnership(attrs.evolve(p, phase="active", activated_on=e.on))


def _concluded(store: FactStore, e: Any, info: AggregateInfo) -> None:
    p = _must(store.partnership(info.key), info.key)
    store.put_partnership(attrs.evolve(p, phase="concluded", concluded_on=e.on))


def _decision(store: FactStore, e: Any, info: AggregateInfo) -> None:
    store.add_decision(
        DecisionFact(
            info.key,
            e.key,
            e.subject,
            e.on,
            e.proposed_by,
            _value(e.rule),
            {k: _value(v) for k, v in e.votes.items()},
            decision_outcome(e.rule, e.votes),
        )
    )


def _drafted(store: FactStore, e: Any, info: AggregateInfo) -> None:
    t = e.terms
    seq = len(store.agreements(e.partnership))
    store.put_agreement(
        AgreementFact(
            e.key,
            e.partnership,
            e.title,
            seq,
            list(e.parties),
            dict(t.shares) if t.shares is not None else None,
            t.start,
            t.end,
            t.fiscal_year_start,
            {},
        )
    )


def _signed(store: FactStore, e: Any, info: AggregateInfo) -> None:
    a = _must(store.agreement(info.key), info.key)
    store.put_agreement(attrs.evolve(a, signatures={**a.signatures, e.party: e.on}))


def _amendment_proposed(store: FactStore, e: Any, info: AggregateInfo) -> None:
    a = _must(store.agreement(info.key), info.key)
    entry = {
        "key": e.amendment,
        "changes": dict(e.changes),
        "proposed_by": e.proposed_by,
        "on": e.on,
        "consents": {},
        "effective_on": None,
    }
    store.put_agreement(attrs.evolve(a, amendments=[*a.amendments, entry]))


def _amendment_consented(store: FactStore, e: Any, info: AggregateInfo) -> None:
    a = _must(store.agreement(info.key), info.key)
    amendments = []
    changes: dict[str, Any] | None = None
    for m in a.amendments:
        if m["key"] == e.amendment:
            consents = {**m["consents"], e.party: e.on}
            effective = e.on if takes_effect(a.parties, consents) else None
            m = {**m, "consents": consents, "effective_on": effective}
            if effective is not None:
                changes = m["changes"]
        amendments.append(m)
    a = attrs.evolve(a, amendments=amendments)
    if changes is not None:
        if a.drafted is None:
            a = attrs.evolve(a, drafted={k: getattr(a, k) for k in AGREEMENT_TERMS})
        # The order amendments took effect in (an earlier one may take effect later).
        took = sum(1 for m in amendments if m.get("effective_seq") is not None)
        a = attrs.evolve(
            a, amendments=[{**m, "effective_seq": took} if m["key"] == e.amendment else m for m in amendments]
        )
        fields = {k: v for k, v in changes.items() if k in AGREEMENT_TERMS}
        a = attrs.evolve(a, **fields)
    store.put_agreement(a)


#: What an amendment that took effect changes in an agreement's fact.
AGREEMENT_TERMS = ("title", "shares", "start", "end", "fiscal_year_start")


def _terminated(store: FactStore, e: Any, info: AggregateInfo) -> None:
    a = _must(store.agreement(info.key), info.key)
    store.put_agreement(attrs.evolve(a, terminated_on=e.on))


def _pledged(store: FactStore, e: Any, info: AggregateInfo) -> None:
    c = pledged_fact(store, e)
    store.put_contribution(c)
    bucket = _bucket(c, c.fiscal_year)
    store.add_to_bucket(bucket, c.pledged, ZERO, ZERO)
    store.add_amount(bucket, pledge_day(e, c), c.pledged, ZERO, ZERO)


def pledge_day(e: Any, c: ContributionFact) -> date:
    """A pledge's effective date: its own, or (pledges recorded before pledges had one) the
    first day of its fiscal year."""
    on: date | None = getattr(e, "on", None)
    return on if on is not None else date(c.fiscal_year, c.fiscal_year_start, 1)


def pledged_fact(store: FactStore, e: Any) -> ContributionFact:
    """The contribution a pledge makes (the fold then stores it and counts it in its bucket)."""
    fys = 4
    if e.agreement is not None:
        fys = _must(store.agreement(e.agreement), e.agreement).fiscal_year_start
    value = e.value
    c: ContributionFact = _new_tuple(  # every field, in order: made in C
        ContributionFact,
        (
            e.key,
            e.partnership,
            e.party,
            e.agreement,
            _value(e.kind_of_resource),
            _value(e.instrument) if e.instrument is not None else None,
            e.fiscal_year,
            fys,
            value.currency,
            value.amount,
            ZERO,
            ZERO,
            e.quantity,
            e.unit,
            e.valuation_basis,
            e.description,
        ),
    )
    return c


def _delivered(store: FactStore, e: Any, info: AggregateInfo) -> None:
    _add_delivered(store, info.key, e.value.amount, e.on)


def _corrected(store: FactStore, e: Any, info: AggregateInfo) -> None:
    _add_delivered(store, info.key, e.delta.amount, e.on)


def _add_delivered(store: FactStore, key: str, amount: Decimal, on: date) -> None:
    c = _must(store.contribution(key), key)
    store.put_contribution(_with_amounts(c, EXACT.add(c.delivered, amount), c.withdrawn))
    # Delivered value counts in the fiscal year of its effective date.
    bucket = _bucket(c, fiscal_year_of(on, c.fiscal_year_start))
    store.add_to_bucket(bucket, ZERO, ZERO, amount)
    store.add_amount(bucket, on, ZERO, ZERO, amount)


def _delivery_voided(store: FactStore, e: Any, info: AggregateInfo) -> None:
    _add_delivered(store, info.key, -e.value.amount, e.delivered_on)


def _delivery_redated(store: FactStore, e: Any, info: AggregateInfo) -> None:
    _add_delivered(store, info.key, -e.value.amount, e.from_on)
    _add_delivered(store, info.key, e.value.amount, e.delivered_on)


def _withdrawn(store: FactStore, e: Any, info: AggregateInfo) -> None:
    c = _must(store.contribution(info.key), info.key)
    withdrawn = max(EXACT.subtract(c.pledged, c.delivered), ZERO)
    store.put_contribution(_with_amounts(c, c.delivered, withdrawn))
    bucket = _bucket(c, c.fiscal_year)
    store.add_to_bucket(bucket, ZERO, withdrawn, ZERO)
    store.add_amount(bucket, e.on, ZERO, withdrawn, ZERO)


def _decision_voided(store: FactStore, e: Any, info: AggregateInfo) -> None:
    store.remove_decision(info.key, e.decision)


def _join_voided(store: FactStore, e: Any, info: AggregateInfo) -> None:
    store.remove_spell(info.key, e.index)


def _leave_voided(store: FactStore, e: Any, info: AggregateInfo) -> None:
    store.reopen_spell(info.key, e.index)


def _signature_voided(store: FactStore, e: Any, info: AggregateInfo) -> None:
    a = _must(store.agreement(info.key), info.key)
    store.put_agreement(attrs.evolve(a, signatures={k: v for k, v in a.signatures.items() if k != e.party}))


def _consent_voided(store: FactStore, e: Any, info: AggregateInfo) -> None:
    a = _must(store.agreement(info.key), info.key)
    amendments = [
        {**m, "consents": {k: v for k, v in m["consents"].items() if k != e.party}} if m["key"] == e.amendment else m
        for m in a.amendments
    ]
    store.put_agreement(attrs.evolve(a, amendments=amendments))


def _measurement_voided(store: FactStore, e: Any, info: AggregateInfo) -> None:
    store.remove_measurement(info.key, e.index)


def _submission_voided(store: FactStore, e: Any, info: AggregateInfo) -> None:
    store.remove_submission(info.key, e.evaluator)


def _defined(store: FactStore, e: Any, info: AggregateInfo) -> None:
    store.put_target(
        TargetFact(
            e.key,
            e.partnership,
            e.indicator,
            e.unit,
            _value(e.direction),
            e.baseline.period,
            e.baseline.value,
            sorted(((t.period, t.value) for t in e.targets), key=lambda x: x[0]),
        )
    )


def _measured(store: FactStore, e: Any, info: AggregateInfo) -> None:
    store.add_measurement(info.key, MeasurementFact(e.period, e.value, e.source, e.on))


def _revised(store: FactStore, e: Any, info: AggregateInfo) -> None:
    t = _must(store.target(info.key), info.key)
    new = sorted(((x.period, x.value) for x in e.targets), key=lambda x: x[0])
    rev = {"targets": new, "reason": e.reason, "on": e.on, "previous": t.targets}
    store.put_target(attrs.evolve(t, targets=new, revisions=[*t.revisions, rev]))


def _opened(store: FactStore, e: Any, info: AggregateInfo) -> None:
    store.put_evaluation(
        EvaluationFact(e.key, e.partnership, e.period, list(e.criteria), e.scale_max, e.resident_weight)
    )


def _submitted(store: FactStore, e: Any, info: AggregateInfo) -> None:
    store.add_submission(
        info.key,
        SubmissionFact(
            e.evaluator,
            _value(e.role),
            e.party,
            dict(e.scores),
            e.comment,
            bool(e.comment_public),
            e.on,
        ),
    )


def _closed(store: FactStore, e: Any, info: AggregateInfo) -> None:
    store.close_evaluation(info.key, e.on)


_FOLDS: dict[str, Callable[[FactStore, Any, AggregateInfo], None]] = {
    "Party.Registered": _registered,
    "Partnership.Proposed": _proposed,
    "Partnership.Joined": _joined,
    "Partnership.Left": _left,
    "Partnership.Activated": _activated,
    "Partnership.Concluded": _concluded,
    "Partnership.DecisionRecorded": _decision,
    "Agreement.Drafted": _drafted,
    "Agreement.Signed": _signed,
    "Agreement.AmendmentProposed": _amendment_proposed,
    "Agreement.AmendmentConsented": _amendment_consented,
    "Agreement.Terminated": _terminated,
    "ResourceContribution.Pledged": _pledged,
    "ResourceContribution.Delivered": _delivered,
    "ResourceContribution.Corrected": _corrected,
    "ResourceContribution.Withdrawn": _withdrawn,
    "NumericTarget.Defined": _defined,
    "NumericTarget.Measured": _measured,
    "NumericTarget.Revised": _revised,
    "Evaluation.Opened": _opened,
    "Evaluation.Submitted": _submitted,
    "Evaluation.Closed": _closed,
    "Party.Amended": _party_amended,
    "ResourceContribution.DeliveryVoided": _delivery_voided,
    "ResourceContribution.DeliveryRedated": _delivery_redated,
    "Partnership.DecisionVoided": _decision_voided,
    "Partnership.JoinVoided": _join_voided,
    "Partnership.LeaveVoided": _leave_voided,
    "Agreement.SignatureVoided": _signature_voided,
    "Agreement.ConsentVoided": _consent_voided,
    "NumericTarget.MeasurementVoided": _measurement_voided,
    "Evaluation.SubmissionVoided": _submission_voided,
}

#: The fold of each event class (by name) that changes a fact.
FOLDS: dict[str, Callable[[FactStore, Any, AggregateInfo], None]] = _FOLDS
#: The events the fold reads (by class name); the rest (derived bookkeeping) change no fact.
FOLDED_EVENTS = frozenset(_FOLDS)


def _with_amounts(c: ContributionFact, delivered: Decimal, withdrawn: Decimal) -> ContributionFact:
    # The fold's hot path: the tuple is rebuilt in C (fields 10 and 11 are the two amounts).
    made: ContributionFact = _new_tuple(ContributionFact, (*c[:10], delivered, withdrawn, *c[12:]))
    return made


def _bucket(c: ContributionFact, fiscal_year: int) -> BucketKey:
    made: BucketKey = _new_tuple(
        BucketKey, (c.partnership, c.party, fiscal_year, c.kind, c.instrument or "", c.currency)
    )
    return made


class MemoryFactStore:
    """Facts in dictionaries: for replays (``as_of``) and as the model in tests."""

    def __init__(self) -> None:
        self._parties: dict[str, PartyFact] = {}
        self._partnerships: dict[str, PartnershipFact] = {}
        self._spells: dict[str, list[SpellFact]] = {}
        self._decisions: dict[str, list[DecisionFact]] = {}
        self._agreements: dict[str, AgreementFact] = {}
        self._contributions: dict[str, ContributionFact] = {}
        self._buckets: dict[BucketKey, Bucket] = {}
        self._amounts: dict[tuple[BucketKey, date], Bucket] = {}
        self._targets: dict[str, TargetFact] = {}
        self._evaluations: dict[str, EvaluationFact] = {}

    def put_party(self, fact: PartyFact) -> None:
        self._parties[fact.key] = fact

    def party(self, key: str) -> PartyFact | None:
        return self._parties.get(key)

    def put_partnership(self, fact: PartnershipFact) -> None:
        self._partnerships[fact.key] = fact

    def partnership(self, key: str) -> PartnershipFact | None:
        return self._partnerships.get(key)

    def partnership_keys(self) -> list[str]:
        return sorted(self._partnerships)

    def add_spell(self, fact: SpellFact) -> None:
        self._spells.setdefault(fact.partnership, []).append(fact)

    def end_spell(self, partnership: str, party: str, left: date) -> None:
        self._spells[partnership] = [
            attrs.evolve(s, left=left) if s.party == party and s.left is None else s
            for s in self._spells.get(partnership, [])
        ]

    def spells(self, partnership: str) -> list[SpellFact]:
        return list(self._spells.get(partnership, []))

    def add_decision(self, fact: DecisionFact) -> None:
        self._decisions.setdefault(fact.partnership, []).append(fact)

    def decisions(self, partnership: str) -> list[DecisionFact]:
        return list(self._decisions.get(partnership, []))

    def put_agreement(self, fact: AgreementFact) -> None:
        self._agreements[fact.key] = fact

    def agreement(self, key: str) -> AgreementFact | None:
        return self._agreements.get(key)

    def agreements(self, partnership: str) -> list[AgreementFact]:
        return sorted(
            (a for a in self._agreements.values() if a.partnership == partnership),
            key=lambda a: a.seq,
        )

    def put_contribution(self, fact: ContributionFact) -> None:
        self._contributions[fact.key] = fact

    def contribution(self, key: str) -> ContributionFact | None:
        return self._contributions.get(key)

    def contributions(self, partnership: str) -> list[ContributionFact]:
        return sorted(
            (c for c in self._contributions.values() if c.partnership == partnership),
            key=lambda c: c.key,
        )

    def count_contributions(self, partnership: str) -> int:
        return sum(1 for c in self._contributions.values() if c.partnership == partnership)

    def in_kind_rows(self, partnership: str) -> list[InKindRow]:
        return [in_kind_row(c) for c in self.contributions(partnership) if c.kind != "money"]

    def add_to_bucket(self, key: BucketKey, pledged: Decimal, withdrawn: Decimal, delivered: Decimal) -> None:
        self._buckets[key] = self._buckets.get(key, Bucket()).plus(pledged, withdrawn, delivered)

    def buckets(self, partnership: str) -> list[tuple[BucketKey, Bucket]]:
        return [(k, b) for k, b in self._buckets.items() if k.partnership == partnership]

    def add_amount(self, key: BucketKey, day: date, pledged: Decimal, withdrawn: Decimal, delivered: Decimal) -> None:
        self._amounts[(key, day)] = self._amounts.get((key, day), Bucket()).plus(pledged, withdrawn, delivered)

    def buckets_on(self, partnership: str, day: date) -> list[tuple[BucketKey, Bucket]]:
        return sum_amounts((k, b) for (k, d), b in self._amounts.items() if k.partnership == partnership and d <= day)

    def remove_decision(self, partnership: str, key: str) -> None:
        self._decisions[partnership] = [d for d in self._decisions.get(partnership, []) if d.key != key]

    def remove_spell(self, partnership: str, index: int) -> None:
        del self._spells[partnership][index]

    def reopen_spell(self, partnership: str, index: int) -> None:
        spells = self._spells[partnership]
        spells[index] = attrs.evolve(spells[index], left=None)

    def remove_measurement(self, target: str, index: int) -> None:
        t = _must(self._targets.get(target), target)
        self._targets[target] = attrs.evolve(t, measurements=[m for i, m in enumerate(t.measurements) if i != index])

    def remove_submission(self, evaluation: str, evaluator: str) -> None:
        ev = _must(self._evaluations.get(evaluation), evaluation)
        kept = [s for s in ev.submissions if s.evaluator != evaluator]
        self._evaluations[evaluation] = attrs.evolve(ev, submissions=kept)

    def put_target(self, fact: TargetFact) -> None:
        self._targets[fact.key] = fact

    def add_measurement(self, target: str, fact: MeasurementFact) -> None:
        t = _must(self._targets.get(target), target)
        self._targets[target] = attrs.evolve(t, measurements=[*t.measurements, fact])

    def target(self, key: str) -> TargetFact | None:
        return self._targets.get(key)

    def targets(self, partnership: str) -> list[TargetFact]:
        return sorted((t for t in self._targets.values() if t.partnership == partnership), key=lambda t: t.key)

    def put_evaluation(self, fact: EvaluationFact) -> None:
        self._evaluations[fact.key] = fact

    def add_submission(self, evaluation: str, fact: SubmissionFact) -> None:
        ev = _must(self._evaluations.get(evaluation), evaluation)
        self._evaluations[evaluation] = attrs.evolve(ev, submissions=[*ev.submissions, fact])

    def close_evaluation(self, evaluation: str, on: date) -> None:
        ev = _must(self._evaluations.get(evaluation), evaluation)
        self._evaluations[evaluation] = attrs.evolve(ev, closed_on=on)

    def evaluation(self, key: str) -> EvaluationFact | None:
        return self._evaluations.get(key)

    def evaluations(self, partnership: str) -> list[EvaluationFact]:
        return sorted(
            (e for e in self._evaluations.values() if e.partnership == partnership),
            key=lambda e: e.key,
        )


def sum_amounts(rows: Iterable[tuple[BucketKey, Bucket]]) -> list[tuple[BucketKey, Bucket]]:
    """Amounts by day summed into buckets (exact sums, in the order the buckets are first met)."""
    summed: dict[BucketKey, Bucket] = {}
    for key, b in rows:
        found = summed.get(key)
        summed[key] = b if found is None else found.plus(b.pledged, b.withdrawn, b.delivered)
    return list(summed.items())


def fold(events: Iterable[tuple[Any, AggregateInfo]], store: FactStore | None = None) -> FactStore:
    """Fold events (each with its aggregate's info) into a store (a new memory store by default)."""
    target: FactStore = store if store is not None else MemoryFactStore()
    for event, info in events:
        apply_event(target, event, info)
    return target
