"""The report model's resources: delivered value by party, fiscal year and kind, and each
party's share of the burden set against its share of the say."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ...domain.values import EXACT, exact_sum
from ...projections import queries


def contributions(breakdown: Mapping[str, Any], balance: Mapping[str, Any]) -> dict[str, Any]:
    """Delivered value by party and fiscal year (for the chart), and by party and kind."""
    rows = breakdown["rows"]
    years = sorted({r["fiscal_year"] for r in rows})
    kinds = sorted({r["kind"] for r in rows}, key=lambda k: (k != "money", k))
    parties = [r["party"] for r in balance["parties"]]  # largest first, as the balance lists them
    parties += sorted({r["party"] for r in rows} - set(parties))
    by_year: dict[tuple[str, int], Decimal] = {}
    by_kind: dict[tuple[str, str], dict[str, Decimal]] = {}
    for r in rows:
        key = (r["party"], r["fiscal_year"])
        by_year[key] = EXACT.add(by_year.get(key, Decimal(0)), r["delivered"])
        k = by_kind.setdefault((r["party"], r["kind"]), {"pledged": Decimal(0), "delivered": Decimal(0)})
        k["pledged"] = exact_sum([k["pledged"], r["pledged"], EXACT.minus(r["withdrawn"])])
        k["delivered"] = EXACT.add(k["delivered"], r["delivered"])
    year_totals = {y: exact_sum(by_year.get((p, y), Decimal(0)) for p in parties) for y in years}
    party_rows = []
    for p in parties:
        kinds_of_p = [{"kind": k, **by_kind[(p, k)]} for k in kinds if (p, k) in by_kind]
        money = exact_sum(k["delivered"] for k in kinds_of_p if k["kind"] == "money")
        total = exact_sum(k["delivered"] for k in kinds_of_p)
        party_rows.append(
            {
                "party": p,
                "by_year": [by_year.get((p, y), Decimal(0)) for y in years],
                "by_kind": kinds_of_p,
                "money": money,
                "in_kind": EXACT.subtract(total, money),
                "delivered": total,
                "pledged": exact_sum(k["pledged"] for k in kinds_of_p),
            }
        )
    money_total = exact_sum(r["money"] for r in party_rows)
    return {
        "currency": breakdown["currency"],
        "basis": "delivered",
        "count": breakdown["contributions"],
        "fiscal_years": years,
        "kinds": kinds,
        "parties": party_rows,
        "year_totals": [year_totals[y] for y in years],
        "total": balance["total"],
        "money_total": money_total,
        "in_kind_total": EXACT.subtract(balance["total"], money_total),
        "rows": rows,
        "in_kind": breakdown["in_kind"],
        "funding": balance["funding"],
    }


def burden_and_voice(
    balance: Mapping[str, Any], voice: Mapping[str, Any], decisions: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Per party: share of the resources against share of the say and of decisions taken
    part in; flags for excessive burden and money without voice."""
    burden = {r["party"]: r for r in balance["parties"]}
    said = {r["party"]: r for r in voice["parties"]}
    total = len(decisions)
    out = []
    for p in list(dict.fromkeys([*burden, *said])):
        b, v = burden.get(p, {}), said.get(p, {})
        took_part = sum(1 for d in decisions if d["proposed_by"] == p or p in d["votes"])
        out.append(
            {
                "party": p,
                "value": b.get("value", Decimal(0)),
                "share": b.get("share"),
                "agreed_share": b.get("agreed_share"),
                "deviation": b.get("deviation"),
                "capacity_burden": b.get("capacity_burden"),
                "relative_capacity_burden": b.get("relative_capacity_burden"),
                "voice": v.get("voice", 0),
                "voice_share": v.get("voice_share"),
                "proposed": v.get("proposed", 0),
                "votes": v.get("votes", 0),
                "decisions_taken_part": took_part,
                "decisions": total,
                "participation": queries.q6(Decimal(took_part) / total) if total else None,
                "excessive_burden": p in balance["excessive_burden"],
                "money_without_voice": p in voice["money_without_voice"],
            }
        )
    return out
