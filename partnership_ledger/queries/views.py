"""Plain-data views of aggregates (what ``show`` returns): dicts, lists, str, Decimal, date."""

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
from ..domain.values import Money, Terms


def money(m: Money | None) -> dict[str, Any] | None:
    return None if m is None else {"amount": m.amount, "currency": m.currency}


def fields(obj: object, *names: str) -> dict[str, Any]:
    """``{name: obj.name}`` for each of ``names``, in that order."""
    return {name: getattr(obj, name) for name in names}


def party_view(p: Party, on: date | None = None) -> dict[str, Any]:
    """A party's particulars (as they stood ``on`` a day, if given) and its amendments."""
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
        ],
    }


def partnership_view(p: Partnership) -> dict[str, Any]:
    return {
        **fields(p, "title", "purpose", "proposed_by", "proposed_on", "parent"),
        "phase": p.phase.value,
        **fields(p, "activated_on", "concluded_on", "currency", "current_members"),
        "members": [fields(s, "party", "role", "joined", "left", "leave_reason") for s in p.spells],
        "decisions": [
            {
                **fields(d, "key", "subject", "proposed_by"),
                "rule": d.rule.value,
                "votes": {k: v.value for k, v in d.votes.items()},
                **fields(d, "on", "adopted"),
            }
            for d in p.decisions.values()
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


def agreement_view(a: Agreement) -> dict[str, Any]:
    return {
        **fields(a, "partnership", "title", "parties", "status"),
        "terms": terms_of(a.terms),
        "signatures": dict(a.signatures),
        "unsigned": a.unsigned,
        "amendments": [
            {
                "key": m.key,
                "changes": {k: money(v) if isinstance(v, Money) else v for k, v in m.changes.items()},
                **fields(m, "proposed_by", "on"),
                "consents": dict(m.consents),
                "effective_on": m.effective_on,
            }
            for m in a.amendments.values()
        ],
        **fields(a, "terminated_on", "termination_reason"),
    }


def contribution_view(c: ResourceContribution) -> dict[str, Any]:
    return {
        **fields(c, "partnership", "party", "agreement"),
        "resource_kind": c.kind_of_resource.value,
        "instrument": c.instrument.value if c.instrument else None,
        **fields(c, "recipient", "fiscal_year"),
        "pledged": money(c.pledged),
        **fields(c, "quantity", "unit", "valuation_basis", "description"),
        "delivered": {"amount": c.delivered, "currency": c.currency},
        "withdrawn": {"amount": c.withdrawn_amount, "currency": c.currency},
        "deliveries": [{"value": money(d.value), "on": d.on, "evidence": d.evidence} for d in c.deliveries],
        "corrections": [{"delta": money(x.delta), "reason": x.reason, "on": x.on} for x in c.corrections],
        **fields(c, "withdrawn_on", "withdrawal_reason"),
    }


def target_view(t: NumericTarget) -> dict[str, Any]:
    return {
        **fields(t, "partnership", "indicator", "unit"),
        "direction": t.direction.value,
        "baseline": fields(t.baseline, "period", "value"),
        "targets": [fields(x, "period", "value") for x in t.targets],
        "measurements": [fields(m, "period", "value", "source", "on") for m in t.measurements],
        "revisions": [
            {"targets": [fields(x, "period", "value") for x in r.targets], **fields(r, "reason", "on")}
            for r in t.revisions
        ],
    }


def evaluation_view(e: Evaluation) -> dict[str, Any]:
    submissions = [
        {
            "evaluator": s.evaluator,
            "role": s.role.value,
            "party": s.party,
            "scores": dict(s.scores),
            **fields(s, "comment", "comment_public", "on"),
        }
        for s in e.submissions.values()
    ]
    return {
        **fields(e, "partnership", "period", "criteria", "scale_max", "resident_weight"),
        "status": "closed" if e.closed_on else "open",
        "closed_on": e.closed_on,
        "submissions": submissions,
    }


def aggregate_view(aggregate: LedgerAggregate) -> dict[str, Any]:
    """``{"kind", "key", ...}`` for any aggregate of the ledger."""
    view = next(view for kind, view in VIEWS.items() if isinstance(aggregate, kind))
    return {"kind": aggregate.kind, "key": aggregate.key, **view(aggregate), "version": aggregate.version}


#: The view of each kind of aggregate.
VIEWS: dict[type[LedgerAggregate], Callable[[Any], dict[str, Any]]] = {
    Party: party_view,
    Partnership: partnership_view,
    Agreement: agreement_view,
    ResourceContribution: contribution_view,
    NumericTarget: target_view,
    Evaluation: evaluation_view,
}


def _kept(day: date | None, on: date) -> bool:
    return day is None or day <= on


def view_on(view: dict[str, Any], aggregate: LedgerAggregate, on: date) -> dict[str, Any]:
    """``view`` (of ``aggregate``) as things stood on ``on``, by the dates things happened:
    what took effect later is left out (members, decisions, signatures, consents, deliveries,
    corrections, measurements, revisions, submissions), the rest as recorded."""
    out = dict(view)
    if isinstance(aggregate, Party):
        return {"kind": view["kind"], "key": view["key"], **party_view(aggregate, on), "version": view["version"]}
    if isinstance(aggregate, Partnership):
        members = []
        for m in view["members"]:
            if m["joined"] > on:
                continue
            if m["left"] is not None and m["left"] > on:
                m = {**m, "left": None, "leave_reason": None}
            members.append(m)
        out["members"] = members
        out["current_members"] = list(dict.fromkeys(m["party"] for m in members if m["left"] is None))
        out["decisions"] = [d for d in view["decisions"] if d["on"] <= on]
        if not _kept(view["concluded_on"], on):
            out["concluded_on"], out["phase"] = None, "active"
        if not _kept(view["activated_on"], on):
            out["activated_on"], out["phase"] = None, "preparing"
    elif isinstance(aggregate, Agreement):
        title, terms = aggregate.terms_on(on)
        out["title"] = title
        out["terms"] = terms_of(terms)
        out["signatures"] = {k: v for k, v in view["signatures"].items() if v <= on}
        out["unsigned"] = unsigned_parties(view["parties"], out["signatures"])
        if not _kept(view["terminated_on"], on):
            out["terminated_on"], out["termination_reason"] = None, None
        out["status"] = agreement_status(view["parties"], out["signatures"], out["terminated_on"])
        out["amendments"] = [
            {
                **m,
                "consents": {k: v for k, v in m["consents"].items() if v <= on},
                "effective_on": m["effective_on"] if _kept(m["effective_on"], on) else None,
            }
            for m in view["amendments"]
            if m["on"] <= on
        ]
    elif isinstance(aggregate, ResourceContribution):
        deliveries = [d for d in view["deliveries"] if d["on"] <= on]
        corrections = [x for x in view["corrections"] if x["on"] <= on]
        delivered = sum(
            [d["value"]["amount"] for d in deliveries] + [x["delta"]["amount"] for x in corrections], Decimal(0)
        )
        out["deliveries"], out["corrections"] = deliveries, corrections
        out["delivered"] = {**view["delivered"], "amount": delivered}
        if not _kept(view["withdrawn_on"], on):
            out["withdrawn_on"], out["withdrawal_reason"] = None, None
            out["withdrawn"] = {**view["withdrawn"], "amount": Decimal(0)}
    elif isinstance(aggregate, NumericTarget):
        out["measurements"] = [m for m in view["measurements"] if m["on"] <= on]
        revisions = [r for r in view["revisions"] if r["on"] <= on]
        if len(revisions) < len(view["revisions"]) and revisions:
            out["targets"] = revisions[-1]["targets"]
        out["revisions"] = revisions
    elif isinstance(aggregate, Evaluation):
        out["submissions"] = [x for x in view["submissions"] if x["on"] <= on]
        if not _kept(view["closed_on"], on):
            out["closed_on"], out["status"] = None, "open"
    return out
