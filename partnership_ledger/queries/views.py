"""Plain-data views of aggregates (what ``show`` returns), now or as things stood on a day:
dicts, lists, str, Decimal, date."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from ..domain import (
    Agreement,
    Evaluation,
    LedgerAggregate,
    NumericTarget,
    Partnership,
    Party,
    ResourceContribution,
)
from ..domain.agreement import agreement_status, unsigned_parties
from ..domain.values import Money, Terms, exact_sum


def money(m: Money | None) -> dict[str, Any] | None:
    return None if m is None else {"amount": m.amount, "currency": m.currency}


def fields(obj: object, *names: str) -> dict[str, Any]:
    """``{name: obj.name}`` for each of ``names``, in that order."""
    return {name: getattr(obj, name) for name in names}


def party_view(p: Party, on: date | None = None) -> dict[str, Any]:
    """A party's particulars (as they stood ``on`` a day, if given) and its amendments (those
    that took effect by then)."""
    now = p.as_on(on)
    sector = now["sector"]
    return {
        "name": now["name"],
        "sector": sector.value if hasattr(sector, "value") else sector,
        "capacity": money(now["capacity"]),
        "identifiers": list(now.get("identifiers") or []),
        "area": now.get("area"),
        "amendments": [
            {
                "on": a.on,
                "reason": a.reason,
                "changes": {
                    k: money(v) if isinstance(v, Money) else v.value if hasattr(v, "value") else v
                    for k, v in a.changes.items()
                },
                "op_id": a.op,
            }
            for a in p.amendments
            if on is None or a.on <= on
        ],
    }


def _by(day: date | None, on: date | None) -> date | None:
    """``day``, if it had come by ``on`` (None: by any day), else None (not yet)."""
    return day if on is None or day is None or day <= on else None


def partnership_view(p: Partnership, on: date | None = None) -> dict[str, Any]:
    members = []
    for s in p.spells:
        if on is None or s.joined <= on:
            left = _by(s.left, on)  # (a leave after the day: still a member then)
            leave_reason = s.leave_reason if left == s.left else None
            members.append({**fields(s, "party", "role", "joined"), "left": left, "leave_reason": leave_reason})
    activated, concluded = _by(p.activated_on, on), _by(p.concluded_on, on)
    phase = p.phase.value if concluded == p.concluded_on else "active"
    phase = phase if activated == p.activated_on else "preparing"
    current = p.current_members if on is None else list(dict.fromkeys(m["party"] for m in members if m["left"] is None))
    return {
        **fields(p, "title", "purpose", "proposed_by", "proposed_on", "parent"),
        "phase": phase,
        "activated_on": activated,
        "concluded_on": concluded,
        "currency": p.currency,
        "current_members": current,
        "members": members,
        "decisions": [
            {
                **fields(d, "key", "subject", "proposed_by"),
                "rule": d.rule.value,
                "votes": {k: v.value for k, v in d.votes.items()},
                **fields(d, "on", "adopted"),
            }
            for d in p.decisions.values()
            if on is None or d.on <= on
        ],
    }


def terms_of(t: Terms) -> dict[str, Any]:
    return {
        "start": t.start,
        "end": t.end,
        "shares": dict(t.shares) if t.shares is not None else None,
        "annual_caps": {k: money(v) for k, v in t.annual_caps.items()} if t.annual_caps else None,
        "max_years": t.max_years,
        "fiscal_year_start": t.fiscal_year_start,
    }


def agreement_view(a: Agreement, on: date | None = None) -> dict[str, Any]:
    """An agreement (on a day, if given: its terms as amended by then; the signatures,
    consents, amendments and termination of that day)."""
    title, terms = (a.title, a.terms) if on is None else a.terms_on(on)
    signatures = {k: v for k, v in a.signatures.items() if on is None or v <= on}
    terminated = _by(a.terminated_on, on)
    return {
        "partnership": a.partnership,
        "title": title,
        "parties": a.parties,
        "status": agreement_status(a.parties, signatures, terminated),
        "terms": terms_of(terms),
        "signatures": signatures,
        "unsigned": unsigned_parties(a.parties, signatures),
        "amendments": [
            {
                "key": m.key,
                "changes": {k: money(v) if isinstance(v, Money) else v for k, v in m.changes.items()},
                **fields(m, "proposed_by", "on"),
                "consents": {k: v for k, v in m.consents.items() if on is None or v <= on},
                "effective_on": _by(m.effective_on, on),
            }
            for m in a.amendments.values()
            if on is None or m.on <= on
        ],
        "terminated_on": terminated,
        "termination_reason": a.termination_reason if terminated == a.terminated_on else None,
    }


def contribution_view(c: ResourceContribution, on: date | None = None) -> dict[str, Any]:
    """A contribution (on a day, if given: the deliveries, corrections and withdrawal of that
    day, and what they add up to)."""
    deliveries = [d for d in c.deliveries if on is None or d.on <= on]
    corrections = [x for x in c.corrections if on is None or x.on <= on]
    delivered, withdrawn, withdrawn_on = c.delivered, c.withdrawn_amount, _by(c.withdrawn_on, on)
    if on is not None:
        delivered = exact_sum([d.value.amount for d in deliveries] + [x.delta.amount for x in corrections])
        withdrawn = withdrawn if withdrawn_on == c.withdrawn_on else Decimal(0)
    return {
        **fields(c, "partnership", "party", "agreement"),
        "resource_kind": c.kind_of_resource.value,
        "instrument": c.instrument.value if c.instrument else None,
        **fields(c, "recipient", "fiscal_year"),
        "pledged": money(c.pledged),
        **fields(c, "quantity", "unit", "valuation_basis", "description"),
        "delivered": {"amount": delivered, "currency": c.currency},
        "withdrawn": {"amount": withdrawn, "currency": c.currency},
        "deliveries": [{"value": money(d.value), "on": d.on, "evidence": d.evidence} for d in deliveries],
        "corrections": [{"delta": money(x.delta), "reason": x.reason, "on": x.on} for x in corrections],
        "withdrawn_on": withdrawn_on,
        "withdrawal_reason": c.withdrawal_reason if withdrawn_on == c.withdrawn_on else None,
    }


def target_view(t: NumericTarget, on: date | None = None) -> dict[str, Any]:
    """A target (on a day, if given: its measurements and revisions of that day, and the
    targets in force that day: those its last revision by then set, else those it was
    defined with)."""
    made = [r for r in t.revisions if on is None or r.on <= on]
    in_force = t.targets
    if len(made) < len(t.revisions):
        # (a revision keeps its targets as given; those in force are by period, as targets --on gives them)
        in_force = sorted(made[-1].targets, key=lambda x: x.period) if made else t.revisions[0].previous or t.targets
    return {
        **fields(t, "partnership", "indicator", "unit"),
        "direction": t.direction.value,
        "baseline": fields(t.baseline, "period", "value"),
        "targets": [fields(x, "period", "value") for x in in_force],
        "measurements": [
            fields(m, "period", "value", "source", "on") for m in t.measurements if on is None or m.on <= on
        ],
        "revisions": [
            {"targets": [fields(x, "period", "value") for x in r.targets], **fields(r, "reason", "on")} for r in made
        ],
    }


def evaluation_view(e: Evaluation, on: date | None = None) -> dict[str, Any]:
    submissions = [
        {
            "evaluator": s.evaluator,
            "role": s.role.value,
            "party": s.party,
            "scores": dict(s.scores),
            **fields(s, "comment", "comment_public", "on"),
        }
        for s in e.submissions.values()
        if on is None or s.on <= on
    ]
    closed = _by(e.closed_on, on)
    return {
        **fields(e, "partnership", "period", "criteria", "scale_max", "resident_weight"),
        "status": "closed" if closed else "open",
        "closed_on": closed,
        "submissions": submissions,
    }


def aggregate_view(aggregate: LedgerAggregate, on: date | None = None) -> dict[str, Any]:
    """``{"kind", "key", ...}`` for any aggregate of the ledger: as things stood ``on`` that
    day, if given, by the dates things happened (what took effect later is left out, the
    rest as recorded)."""
    view = next(view for kind, view in VIEWS.items() if isinstance(aggregate, kind))
    return {"kind": aggregate.kind, "key": aggregate.key, **view(aggregate, on), "version": aggregate.version}


#: The view of each kind of aggregate.
VIEWS: dict[type[LedgerAggregate], Callable[[Any, date | None], dict[str, Any]]] = {
    Party: party_view,
    Partnership: partnership_view,
    Agreement: agreement_view,
    ResourceContribution: contribution_view,
    NumericTarget: target_view,
    Evaluation: evaluation_view,
}
