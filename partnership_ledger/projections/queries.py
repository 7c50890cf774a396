"""Indicator queries over a fact store: balance of burden, voice, targets, evaluations.

The same functions read the materialized read models and an ``as_of`` replay; all arithmetic
is in :mod:`partnership_ledger.indicators`. Results are plain data: ratios are Decimals
rounded to 6 places (``ROUND_HALF_EVEN``), amounts are exact Decimals.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Literal

from .. import indicators as ind
from ..domain.values import EXACT, exact_sum, fiscal_year_bounds
from ..errors import CurrencyMismatch, UnknownKey
from ..indicators.exact import div
from .facts import (
    AgreementFact,
    Bucket,
    BucketKey,
    DecisionFact,
    EvaluationFact,
    FactStore,
    PartnershipFact,
    PartyFact,
    SpellFact,
    TargetFact,
)

Basis = Literal["delivered", "pledged"]
SIX = Decimal("0.000001")
DEFAULT_DEVIATION_THRESHOLD = Decimal("0.05")
DEFAULT_RELATIVE_CAPACITY_THRESHOLD = Decimal("2")
#: The figures of each criterion of an evaluation round, as ratios.
MEANS = ("resident_mean", "party_mean", "external_mean", "others_mean", "combined", "gap")


def q6(d: Decimal | None) -> Decimal | None:
    """Round a ratio to 6 places, half to even (what JSON output carries), at any magnitude
    (the default context's 28 digits would refuse a ratio of 10**22 or more)."""
    return None if d is None else d.quantize(SIX, rounding=ROUND_HALF_EVEN, context=EXACT)


def applicable_agreement(agreements: Sequence[AgreementFact], fiscal_year: int | None) -> AgreementFact | None:
    """The agreement whose agreed shares apply: the latest drafted that is fully signed and in
    force (for a fiscal year: in force at some time during it) and sets shares."""
    best: AgreementFact | None = None
    for a in agreements:
        if not a.fully_signed or a.shares is None:
            continue
        if fiscal_year is None:
            if a.terminated_on is not None:
                continue
        else:
            first, last = fiscal_year_bounds(fiscal_year, a.fiscal_year_start)
            if a.start > last or a.end < first:
                continue
            if a.terminated_on is not None and a.terminated_on < first:
                continue
        if best is None or a.seq > best.seq:
            best = a
    return best


def _period(store: FactStore, partnership: str, fiscal_year: int | None) -> tuple[date, date] | None:
    """The first and last day of ``fiscal_year`` (None: all time) by the partnership's
    calendar: its latest signed agreement's fiscal-year start month, else April (an unsigned
    draft binds nobody, so it does not move the partnership's calendar)."""
    if fiscal_year is None:
        return None
    signed = [a for a in store.of(AgreementFact, partnership) if a.fully_signed]
    return fiscal_year_bounds(fiscal_year, signed[-1].fiscal_year_start if signed else 4)


def scope(store: FactStore, partnership: str, children: Sequence[str] = ()) -> list[str]:
    """The partnership and those of ``children`` the store knows: asked ``as_of`` a time
    before a sub-partnership was proposed, the answer must not name it."""
    if store.get(PartnershipFact, partnership) is None:
        raise UnknownKey(f"there is no partnership {partnership}")
    return [partnership, *(c for c in children if store.get(PartnershipFact, c) is not None)]


def _buckets(store: FactStore, partnerships: Sequence[str]) -> list[tuple[BucketKey, Bucket]]:
    out: list[tuple[BucketKey, Bucket]] = []
    for p in partnerships:
        # A bucket of nothing (what a voided delivery leaves, or a delivery corrected to
        # nothing) is as if it had never been counted.
        out.extend(kb for kb in store.buckets(p) if kb[1].pledged or kb[1].withdrawn or kb[1].delivered)
    return out


def _currency(partnership: str, buckets: Sequence[tuple[BucketKey, Bucket]]) -> str | None:
    currencies = sorted({k.currency for k, _ in buckets})
    if len(currencies) > 1:
        raise CurrencyMismatch(
            f"partnership {partnership} and its sub-partnerships keep accounts in "
            f"{', '.join(currencies)}: they cannot be added up"
        )
    return currencies[0] if currencies else None


def _amount(b: Bucket, basis: Basis) -> Decimal:
    return b.delivered if basis == "delivered" else EXACT.subtract(b.pledged, b.withdrawn)


def party_values(
    store: FactStore,
    partnerships: Sequence[str],
    fiscal_year: int | None,
    basis: Basis,
    *,
    kinds: Sequence[str] | None = None,
) -> tuple[dict[str, Decimal], str | None]:
    """(value per party in scope in the period, zero included; the currency)."""
    buckets = _buckets(store, partnerships)
    currency = _currency(partnerships[0], buckets)
    period = _period(store, partnerships[0], fiscal_year)
    # Every member who is or was in the partnership in the period, in the order they joined.
    values: dict[str, Decimal] = {
        s.party: Decimal(0)
        for p in partnerships
        for s in store.items(SpellFact, p)
        if period is None or (s.joined <= period[1] and (s.left is None or s.left >= period[0]))
    }
    for k, b in buckets:
        if fiscal_year is not None and k.fiscal_year != fiscal_year:
            continue
        if kinds is not None and k.kind not in kinds:
            continue
        values[k.party] = EXACT.add(values.get(k.party, Decimal(0)), _amount(b, basis))
    return values, currency


def burden_balance(
    store: FactStore,
    partnership: str,
    *,
    fiscal_year: int | None = None,
    basis: Basis = "delivered",
    children: Sequence[str] = (),
    deviation_threshold: Decimal = DEFAULT_DEVIATION_THRESHOLD,
    relative_capacity_threshold: Decimal = DEFAULT_RELATIVE_CAPACITY_THRESHOLD,
) -> dict[str, Any]:
    """Who carried the burden: values, shares, Gini, HHI, agreed shares, capacity burden."""
    partnerships = scope(store, partnership, children)
    values, currency = party_values(store, partnerships, fiscal_year, basis)
    parties = list(values)
    total = exact_sum(values.values())
    shares = ind.burden_shares(values)
    agreement = applicable_agreement(store.of(AgreementFact, partnership), fiscal_year)
    agreed = dict(agreement.shares) if agreement and agreement.shares is not None else None
    devs = ind.deviations(shares, agreed) if agreed is not None else dict.fromkeys(values)
    capacities: dict[str, Decimal | None] = {}
    sectors: dict[str, str | None] = {}
    # The capacity in force in the period: on the last day of the fiscal year asked for.
    period = _period(store, partnership, fiscal_year)
    for p in parties:
        fact = store.get(PartyFact, p)
        if fact is not None and period is not None:
            fact = fact.as_on(period[1])
        sectors[p] = fact.sector if fact else None
        cap = fact.capacity if fact else None
        capacities[p] = cap.amount if cap is not None and cap.currency == currency else None
    cap_burden, rel_burden = ind.capacity_burdens(values, capacities)
    excessive = ind.excessive_burden(
        {p: devs.get(p) for p in parties},
        rel_burden,
        deviation_threshold=deviation_threshold,
        relative_capacity_threshold=relative_capacity_threshold,
    )
    rows = [
        {
            "party": p,
            "sector": sectors[p],
            "value": values[p],
            "share": q6(shares[p]),
            "agreed_share": q6(agreed.get(p)) if agreed is not None else None,
            "deviation": q6(devs.get(p)),
            "capacity_burden": q6(cap_burden.get(p)),
            "relative_capacity_burden": q6(rel_burden.get(p)),
        }
        for p in sorted(parties, key=lambda x: (-values[x], x))
    ]
    return {
        "partnership": partnership,
        "include_children": partnerships[1:],
        "currency": currency,
        "basis": basis,
        "fiscal_year": fiscal_year,
        "total": total,
        "gini": q6(ind.gini(list(values.values()))) if values else None,
        "hhi": q6(ind.hhi(shares)),
        "agreement": agreement.key if agreement else None,
        "excessive_burden": excessive,
        "thresholds": {
            "deviation": deviation_threshold,
            "relative_capacity_burden": relative_capacity_threshold,
        },
        "funding": funding_instruments(store, partnerships, fiscal_year, basis),
        "parties": rows,
    }


def funding_instruments(
    store: FactStore, partnerships: Sequence[str], fiscal_year: int | None, basis: Basis
) -> dict[str, Any]:
    """Rule 4: how the money came — joint contribution versus plain subsidy or commissioning."""
    by: dict[str, Decimal] = {}
    for k, b in _buckets(store, partnerships):
        if k.kind != "money" or (fiscal_year is not None and k.fiscal_year != fiscal_year):
            continue
        name = k.instrument or "unspecified"
        by[name] = EXACT.add(by.get(name, Decimal(0)), _amount(b, basis))
    total = exact_sum(by.values())
    shares = ind.burden_shares(by) if by else {}
    joint = by.get("contribution", Decimal(0))
    plain = EXACT.add(by.get("subsidy", Decimal(0)), by.get("commission", Decimal(0)))
    return {
        "money_total": total,
        "by_instrument": [
            {"instrument": name, "value": by[name], "share": q6(shares.get(name))} for name in sorted(by)
        ],
        "joint_contribution_share": q6(div(joint, total)) if total else None,
        "subsidy_or_commission_share": q6(div(plain, total)) if total else None,
    }


def voice(
    store: FactStore,
    partnership: str,
    *,
    fiscal_year: int | None = None,
    basis: Basis = "delivered",
    children: Sequence[str] = (),
) -> dict[str, Any]:
    """Who had a say: voice counts and shares set against burden shares."""
    partnerships = scope(store, partnership, children)
    values, currency = party_values(store, partnerships, fiscal_year, basis)
    parties = list(values)
    money, _ = party_values(store, partnerships, fiscal_year, "delivered", kinds=("money",))
    period = _period(store, partnership, fiscal_year)
    decisions = [
        d
        for p in partnerships
        for d in store.items(DecisionFact, p)
        if period is None or period[0] <= d.on <= period[1]
    ]
    counts = ind.voice_counts(((d.proposed_by, list(d.votes)) for d in decisions), parties)
    for p in counts:
        values.setdefault(p, Decimal(0))
    burden = ind.burden_shares(values)
    vshares = ind.voice_shares(counts)
    d = ind.disproportionality(vshares, burden)
    voters = {v for dec in decisions for v in dec.votes}
    everyone = sorted(set(counts) | set(values), key=lambda x: (-counts.get(x, 0), x))
    return {
        "partnership": partnership,
        "include_children": partnerships[1:],
        "fiscal_year": fiscal_year,
        "basis": basis,
        "currency": currency,
        "decisions": len(decisions),
        "adopted": sum(1 for x in decisions if x.adopted),
        "disproportionality": q6(d),
        "alignment": q6(ind.alignment(d)),
        "money_without_voice": ind.money_without_voice(money, voters),
        "parties": [
            {
                "party": p,
                "voice": counts.get(p, 0),
                "voice_share": q6(vshares.get(p)),
                "share": q6(burden.get(p)),
                "proposed": sum(1 for x in decisions if x.proposed_by == p),
                "votes": sum(1 for x in decisions if p in x.votes),
            }
            for p in everyone
        ],
    }


def target_progress(store: FactStore, partnership: str, *, children: Sequence[str] = ()) -> dict[str, Any]:
    """Are the public-service targets met? Progress and status of each target."""
    partnerships = scope(store, partnership, children)
    out = []
    for p in partnerships:
        for t in store.of(TargetFact, p):
            latest = {m.period: m.value for m in t.measurements}
            prog = ind.target_progress(t.direction, t.baseline_value, t.targets, latest)  # type: ignore[arg-type]
            out.append(
                {
                    "key": t.key,
                    "partnership": t.partnership,
                    "indicator": t.indicator,
                    "unit": t.unit,
                    "direction": t.direction,
                    "baseline": {"period": t.baseline_period, "value": t.baseline_value},
                    "targets": [{"period": per, "value": v} for per, v in t.targets],
                    "measurements": [
                        {"period": m.period, "value": m.value, "source": m.source, "on": m.on} for m in t.measurements
                    ],
                    "revisions": len(t.revisions),
                    "period": prog.period,
                    "latest": prog.latest,
                    "target": prog.target,
                    "expected": q6(prog.expected),
                    "progress": q6(prog.progress),
                    "status": prog.status,
                }
            )
    return {
        "partnership": partnership,
        "include_children": partnerships[1:],
        "status_counts": dict(Counter(str(row["status"]) for row in out)),
        "targets": out,
    }


def evaluation_summary(store: FactStore, partnership: str, *, children: Sequence[str] = ()) -> dict[str, Any]:
    """What residents and parties think: means by role, resident-weighted score, gap.

    Residents' ids never appear; comments appear only where the submitter made them public.
    """
    partnerships = scope(store, partnership, children)
    rounds = []
    for p in partnerships:
        for e in store.of(EvaluationFact, p):
            summary = ind.evaluation_summary(e.criteria, [(s.role, s.scores) for s in e.submissions], e.resident_weight)
            role_counts = {r: sum(1 for s in e.submissions if s.role == r) for r in ("resident", "party", "external")}
            rounds.append(
                {
                    "key": e.key,
                    "partnership": e.partnership,
                    "period": e.period,
                    "status": "closed" if e.closed_on else "open",
                    "closed_on": e.closed_on,
                    "scale_max": e.scale_max,
                    "resident_weight": e.resident_weight,
                    "submissions": role_counts,
                    "criteria": [
                        {"criterion": c.criterion, **{name: q6(getattr(c, name)) for name in MEANS}, "counts": c.counts}
                        for c in summary
                    ],
                    "party_views": [
                        {
                            "party": s.party,
                            "scores": dict(s.scores),
                            "comment": s.comment if s.comment_public else None,
                        }
                        for s in e.submissions
                        if s.role == "party"
                    ],
                    "public_comments": [
                        {
                            "role": s.role,
                            "party": s.party if s.role != "resident" else None,
                            "comment": s.comment,
                        }
                        for s in e.submissions
                        if s.comment and s.comment_public
                    ],
                }
            )
    return {"partnership": partnership, "include_children": partnerships[1:], "evaluations": rounds}


def contribution_breakdown(store: FactStore, partnership: str, *, children: Sequence[str] = ()) -> dict[str, Any]:
    """What each party put in, by fiscal year and kind, and how in-kind resources were valued.

    ``rows``: one per (party, fiscal year, kind, instrument) with pledged, withdrawn and
    delivered amounts (delivered value counts in the fiscal year it was delivered, as in
    :func:`burden_balance`). ``in_kind``: in-kind contributions grouped by party, kind, unit
    and valuation basis, with their number, total quantity and values.
    """
    partnerships = scope(store, partnership, children)
    buckets = _buckets(store, partnerships)
    currency = _currency(partnership, buckets)
    merged: dict[tuple[str, int, str, str], Bucket] = {}
    for k, b in buckets:
        ident = (k.party, k.fiscal_year, k.kind, k.instrument)
        merged[ident] = merged.get(ident, Bucket()).plus(b.pledged, b.withdrawn, b.delivered)
    count = sum(store.count_contributions(p) for p in partnerships)
    groups: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for p in partnerships:
        for party, kind, unit, basis, n, quantities, pledged, withdrawn, delivered in store.in_kind_rows(p):
            g = groups.setdefault(
                (party, kind, unit or "", basis or ""),
                {"contributions": 0, "quantity": None, "pledged": Decimal(0), "delivered": Decimal(0)},
            )
            g["contributions"] += n
            if quantities:
                g["quantity"] = exact_sum([g["quantity"] or Decimal(0), *map(Decimal, quantities)])
            net = EXACT.subtract(exact_sum(map(Decimal, pledged)), exact_sum(map(Decimal, withdrawn)))
            g["pledged"] = EXACT.add(g["pledged"], net)
            g["delivered"] = exact_sum([g["delivered"], *map(Decimal, delivered)])
    return {
        "partnership": partnership,
        "include_children": partnerships[1:],
        "currency": currency,
        "contributions": count,
        "rows": [
            {
                "party": party,
                "fiscal_year": fy,
                "kind": kind,
                "instrument": instrument or None,
                "pledged": b.pledged,
                "withdrawn": b.withdrawn,
                "delivered": b.delivered,
            }
            for (party, fy, kind, instrument), b in sorted(merged.items())
        ],
        "in_kind": [
            {
                "party": party,
                "kind": kind,
                "unit": unit or None,
                "valuation_basis": basis or None,
                **g,
            }
            for (party, kind, unit, basis), g in sorted(groups.items())
        ],
    }
