"""The report model's results: each target with its trajectory, each evaluation round with
its public comments (the latest shown, the rest counted)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ...application import PartnershipLedger


def targets(ledger: PartnershipLedger, progress: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each target with its trajectory: per period the target and the latest measurement."""
    out = []
    for t in progress["targets"]:
        revisions = ledger.show(t["key"])["revisions"] if t["revisions"] else []
        measured: dict[str, Decimal] = {}
        for m in t["measurements"]:
            measured[m["period"]] = m["value"]  # a later measurement of a period replaces it
        targeted = {x["period"]: x["value"] for x in t["targets"]}
        periods = sorted({t["baseline"]["period"], *targeted, *measured})
        out.append(
            {
                **t,
                "revisions": revisions,
                "trajectory": [
                    {
                        "period": period,
                        "baseline": t["baseline"]["value"] if period == t["baseline"]["period"] else None,
                        "target": targeted.get(period),
                        "measured": measured.get(period),
                    }
                    for period in periods
                ],
            }
        )
    return out


def evaluation(e: Mapping[str, Any], shown: int) -> dict[str, Any]:
    """A round with residents' view first, then the parties', and the gap between them."""
    comments: dict[str, list[dict[str, Any]]] = {"resident": [], "party": [], "external": []}
    for c in e["public_comments"]:
        comments[c["role"]].append({"comment": c["comment"], "party": c["party"] if c["role"] == "party" else None})
    return {
        "key": e["key"],
        "partnership": e["partnership"],
        "period": e["period"],
        "status": e["status"],
        "closed_on": e["closed_on"],
        "scale_max": e["scale_max"],
        "resident_weight": e["resident_weight"],
        "submissions": e["submissions"],
        "criteria": e["criteria"],
        "party_views": [
            {"party": v["party"], "scores": v["scores"], "comment": v["comment"]} for v in e["party_views"]
        ],
        "comments": {
            role: {"items": items[-shown:] if shown > 0 else [], "omitted": len(items) - min(len(items), shown)}
            for role, items in comments.items()
        },
    }
