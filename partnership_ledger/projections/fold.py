"""The fold: how each event changes the facts the indicators need (see :mod:`.facts`).

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
from typing import Any

import attrs

from ..domain.agreement import takes_effect
from ..domain.partnership import decision_outcome
from ..domain.values import EXACT, fiscal_year_of
from . import facts as F
from .facts import AGREEMENT_TERMS, ZERO, FactStore, must
from .memory_facts import MemoryFactStore
from .runner import AggregateInfo


def _value(x: Any) -> Any:
    """An enum member's value (anything else as it is)."""
    return x._value_ if isinstance(x, Enum) else x


def apply_event(store: FactStore, event: Any, info: AggregateInfo) -> None:
    """Fold one event into the store (derived events change nothing here)."""
    fold_one = FOLDS.get(type(event).__qualname__)
    if fold_one is not None:
        fold_one(store, event, info)


# One function per event that changes a fact, found by the event class's name: a dictionary
# lookup rather than a match over every name, as the fold runs once for every stored event.


def _registered(store: FactStore, e: Any, info: AggregateInfo) -> None:
    store.put(F.PartyFact(e.key, e.name, _value(e.sector), e.capacity))


def _party_amended(store: FactStore, e: Any, info: AggregateInfo) -> None:
    p = must(store.get(F.PartyFact, info.key), info.key)
    given = {"name": e.name, "sector": _value(e.sector), "capacity": e.capacity}
    given.update(identifiers=e.identifiers, area=e.area)
    changes = {k: v for k, v in given.items() if v is not None}
    registered = p.registered
    if registered is None:
        registered = {"name": p.name, "sector": p.sector, "capacity": p.capacity}
    amendments = [*p.amendments, {"on": e.on, "reason": e.reason, "changes": changes}]
    store.put(attrs.evolve(p, amendments=amendments, registered=registered).as_on(date.max))


def _proposed(store: FactStore, e: Any, info: AggregateInfo) -> None:
    store.put(F.PartnershipFact(e.key, e.title, e.purpose, e.parent, e.proposed_by, e.on))
    for m in e.members:
        store.add(e.key, F.SpellFact(e.key, m, None, e.on))


def _joined(store: FactStore, e: Any, info: AggregateInfo) -> None:
    store.add(info.key, F.SpellFact(info.key, e.party, e.role, e.on))


def _left(store: FactStore, e: Any, info: AggregateInfo) -> None:
    for i, s in enumerate(store.items(F.SpellFact, info.key)):
        if s.party == e.party and s.left is None:
            store.replace(F.SpellFact, info.key, i, attrs.evolve(s, left=e.on))


def _activated(store: FactStore, e: Any, info: AggregateInfo) -> None:
    p = must(store.get(F.PartnershipFact, info.key), info.key)
    store.put(attrs.evolve(p, phase="active", activated_on=e.on))


def _concluded(store: FactStore, e: Any, info: AggregateInfo) -> None:
    p = must(store.get(F.PartnershipFact, info.key), info.key)
    store.put(attrs.evolve(p, phase="concluded", concluded_on=e.on))


def _decision(store: FactStore, e: Any, info: AggregateInfo) -> None:
    store.add(
        info.key,
        F.DecisionFact(
            info.key,
            e.key,
            e.subject,
            e.on,
            e.proposed_by,
            _value(e.rule),
            {k: _value(v) for k, v in e.votes.items()},
            decision_outcome(e.rule, e.votes),
        ),
    )


def _drafted(store: FactStore, e: Any, info: AggregateInfo) -> None:
    t = e.terms
    seq = len(store.of(F.AgreementFact, e.partnership))
    store.put(
        F.AgreementFact(
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
    a = must(store.get(F.AgreementFact, info.key), info.key)
    store.put(attrs.evolve(a, signatures={**a.signatures, e.party: e.on}))


def _amendment_proposed(store: FactStore, e: Any, info: AggregateInfo) -> None:
    a = must(store.get(F.AgreementFact, info.key), info.key)
    entry = {
        "key": e.amendment,
        "changes": dict(e.changes),
        "proposed_by": e.proposed_by,
        "on": e.on,
        "consents": {},
        "effective_on": None,
    }
    store.put(attrs.evolve(a, amendments=[*a.amendments, entry]))


def _amendment_consented(store: FactStore, e: Any, info: AggregateInfo) -> None:
    a = must(store.get(F.AgreementFact, info.key), info.key)
    took = sum(1 for m in a.amendments if m.get("effective_seq") is not None)
    amendments = []
    for m in a.amendments:
        if m["key"] == e.amendment:
            consents = {**m["consents"], e.party: e.on}
            m = {**m, "consents": consents, "effective_on": e.on if takes_effect(a.parties, consents) else None}
            if m["effective_on"] is not None:
                # The order amendments took effect in (an earlier one may take effect later).
                m["effective_seq"] = took
                if a.drafted is None:
                    a = attrs.evolve(a, drafted={k: getattr(a, k) for k in AGREEMENT_TERMS})
        amendments.append(m)
    store.put(attrs.evolve(a, amendments=amendments).with_terms())


def _terminated(store: FactStore, e: Any, info: AggregateInfo) -> None:
    a = must(store.get(F.AgreementFact, info.key), info.key)
    store.put(attrs.evolve(a, terminated_on=e.on))


def _pledged(store: FactStore, e: Any, info: AggregateInfo) -> None:
    fys = 4 if e.agreement is None else must(store.get(F.AgreementFact, e.agreement), e.agreement).fiscal_year_start
    c = F.ContributionFact(  # (its fields in order: positional arguments cost half of named ones)
        e.key,
        e.partnership,
        e.party,
        e.agreement,
        _value(e.kind_of_resource),
        _value(e.instrument) if e.instrument is not None else None,
        e.fiscal_year,
        fys,
        e.value.currency,
        e.value.amount,  # pledged
        ZERO,  # delivered
        ZERO,  # withdrawn
        e.quantity,
        e.unit,
        e.valuation_basis,
        e.description,
    )
    store.put(c)
    # A pledge counts from its own date, or (recorded before pledges had one) from the first
    # day of its fiscal year.
    on = getattr(e, "on", None) or date(c.fiscal_year, fys, 1)
    store.add_amounts(_bucket(c, c.fiscal_year), on, c.pledged, ZERO, ZERO)


def _delivered(store: FactStore, e: Any, info: AggregateInfo) -> None:
    _add_delivered(store, info.key, e.value.amount, e.on)


def _corrected(store: FactStore, e: Any, info: AggregateInfo) -> None:
    _add_delivered(store, info.key, e.delta.amount, e.on)


def _add_delivered(store: FactStore, key: str, amount: Decimal, on: date) -> None:
    c = must(store.get(F.ContributionFact, key), key)
    store.put(c.with_amounts(EXACT.add(c.delivered, amount), c.withdrawn))
    # Delivered value counts in the fiscal year of its effective date.
    store.add_amounts(_bucket(c, fiscal_year_of(on, c.fiscal_year_start)), on, ZERO, ZERO, amount)


def _delivery_voided(store: FactStore, e: Any, info: AggregateInfo) -> None:
    _add_delivered(store, info.key, EXACT.minus(e.value.amount), e.delivered_on)


def _delivery_redated(store: FactStore, e: Any, info: AggregateInfo) -> None:
    _add_delivered(store, info.key, EXACT.minus(e.value.amount), e.from_on)
    _add_delivered(store, info.key, e.value.amount, e.delivered_on)


def _withdrawn(store: FactStore, e: Any, info: AggregateInfo) -> None:
    c = must(store.get(F.ContributionFact, info.key), info.key)
    withdrawn = max(EXACT.subtract(c.pledged, c.delivered), ZERO)
    store.put(c.with_amounts(c.delivered, withdrawn))
    store.add_amounts(_bucket(c, c.fiscal_year), e.on, ZERO, withdrawn, ZERO)


def _decision_voided(store: FactStore, e: Any, info: AggregateInfo) -> None:
    keys = [d.key for d in store.items(F.DecisionFact, info.key)]
    store.replace(F.DecisionFact, info.key, keys.index(e.decision), None)


def _join_voided(store: FactStore, e: Any, info: AggregateInfo) -> None:
    store.replace(F.SpellFact, info.key, e.index, None)


def _leave_voided(store: FactStore, e: Any, info: AggregateInfo) -> None:
    spell = store.items(F.SpellFact, info.key)[e.index]
    store.replace(F.SpellFact, info.key, e.index, attrs.evolve(spell, left=None))


def _signature_voided(store: FactStore, e: Any, info: AggregateInfo) -> None:
    a = must(store.get(F.AgreementFact, info.key), info.key)
    store.put(attrs.evolve(a, signatures={k: v for k, v in a.signatures.items() if k != e.party}))


def _consent_voided(store: FactStore, e: Any, info: AggregateInfo) -> None:
    a = must(store.get(F.AgreementFact, info.key), info.key)
    amendments = [
        {**m, "consents": {k: v for k, v in m["consents"].items() if k != e.party}} if m["key"] == e.amendment else m
        for m in a.amendments
    ]
    store.put(attrs.evolve(a, amendments=amendments))


def _measurement_voided(store: FactStore, e: Any, info: AggregateInfo) -> None:
    store.replace(F.MeasurementFact, info.key, e.index, None)


def _submission_voided(store: FactStore, e: Any, info: AggregateInfo) -> None:
    evaluators = [s.evaluator for s in store.items(F.SubmissionFact, info.key)]
    store.replace(F.SubmissionFact, info.key, evaluators.index(e.evaluator), None)


def _defined(store: FactStore, e: Any, info: AggregateInfo) -> None:
    store.put(
        F.TargetFact(
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
    store.add(info.key, F.MeasurementFact(e.period, e.value, e.source, e.on))


def _revised(store: FactStore, e: Any, info: AggregateInfo) -> None:
    t = must(store.get(F.TargetFact, info.key), info.key)
    new = sorted(((x.period, x.value) for x in e.targets), key=lambda x: x[0])
    rev = {"targets": new, "reason": e.reason, "on": e.on, "previous": t.targets}
    store.put(attrs.evolve(t, targets=new, revisions=[*t.revisions, rev]))


def _opened(store: FactStore, e: Any, info: AggregateInfo) -> None:
    store.put(F.EvaluationFact(e.key, e.partnership, e.period, list(e.criteria), e.scale_max, e.resident_weight))


def _submitted(store: FactStore, e: Any, info: AggregateInfo) -> None:
    store.add(
        info.key,
        F.SubmissionFact(
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
    ev = must(store.get(F.EvaluationFact, info.key), info.key)
    store.put(attrs.evolve(ev, closed_on=e.on))


#: The fold of each event class (by name) that changes a fact.
FOLDS: dict[str, Callable[[FactStore, Any, AggregateInfo], None]] = {
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


def _bucket(c: F.ContributionFact, fiscal_year: int) -> F.BucketKey:
    return F.BucketKey(c.partnership, c.party, fiscal_year, c.kind, c.instrument or "", c.currency)


def fold(events: Iterable[tuple[Any, AggregateInfo]]) -> MemoryFactStore:
    """The facts of ``events`` (each with its aggregate's info), folded into memory."""
    store = MemoryFactStore()
    for event, info in events:
        apply_event(store, event, info)
    return store
