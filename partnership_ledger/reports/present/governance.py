"""The view's governance sections: decisions and who took part, agreements and their timeline,
and the corrections made after the fact."""

from __future__ import annotations

from datetime import date
from typing import Any

from .. import labels as L
from ..i18n import N_
from .presenter import Presenter
from .sentence import Table


def decisions(pr: Presenter) -> dict[str, Any]:
    d = pr.m["decisions"]
    items = []
    colon = "：" if pr.language == "ja" else ": "
    for x in d["items"]:
        votes = pr.join([f"{pr.name(v['party'])}{colon}{pr.label(L.VOTES, v['vote'])}" for v in x["votes"]])
        items.append(
            [
                pr.f.date(x["on"]),
                x["subject"],
                pr.name(x["proposed_by"]),
                pr.label(L.RULES, x["rule"]),
                pr._("adopted") if x["adopted"] else pr._("rejected"),
                votes,
            ]
        )
    return {
        "summary": pr.decisions_sentence(d["total"], d["adopted"]),
        "omitted": pr.s(
            N_("The %(count)s earlier decisions are in the ledger's history."), count=pr.f.integer(d["omitted"])
        )
        if d["omitted"]
        else None,
        "table": Table(
            pr._("Decisions and who took part"),
            [
                pr._("Date"),
                pr._("Subject"),
                pr._("Proposed by"),
                pr._("Rule"),
                pr._("Outcome"),
                pr._("Votes"),
            ],
            items,
        ),
    }


def agreements(pr: Presenter) -> list[dict[str, Any]]:
    out = []
    for a in pr.m["agreements"]:
        t = a["terms"]
        facts = [
            (pr._("Status"), pr.label(L.AGREEMENT_STATUSES, a["status"])),
            (pr._("Parties"), pr.join([pr.name(p) for p in a["parties"]])),
            (
                pr._("Term"),
                pr._("%(start)s to %(end)s") % {"start": pr.f.date(t["start"]), "end": pr.f.date(t["end"])},
            ),
        ]
        if t["shares"]:
            facts.append(
                (
                    pr._("Agreed shares"),
                    pr.join([f"{pr.name(p)} {pr.pct(s)}" for p, s in t["shares"].items()]),
                )
            )
        if t["annual_caps"]:
            facts.append(
                (
                    pr._("Yearly caps"),
                    pr.join(
                        [f"{pr.name(p)} {pr.f.money(c['amount'], c['currency'])}" for p, c in t["annual_caps"].items()]
                    ),
                )
            )
        if t["max_years"]:
            facts.append((pr._("At most"), pr.n_("%(n)s year", "%(n)s years", t["max_years"]) % {"n": t["max_years"]}))
        if a["unsigned"]:
            facts.append((pr._("Not yet signed by"), pr.join([pr.name(p) for p in a["unsigned"]])))
        out.append({"key": a["key"], "title": a["title"], "facts": facts})
    return out


def timeline(pr: Presenter) -> Table:
    titles = {a["key"]: a["title"] for a in pr.m["agreements"]}
    rows = []
    for e in pr.m["timeline"]:
        text = pr._(L.TIMELINE_EVENTS[e["event"]]) % {
            "agreement": titles.get(e["agreement"], e["agreement"]),
            "party": pr.name(e["party"]),
            "amendment": e.get("amendment") or "",
            "reason": e.get("reason") or "",
        }
        rows.append([pr.f.date(e["on"]), text])
    return Table(pr._("Agreements, signatures and amendments"), [pr._("Date"), pr._("What happened")], rows)


def corrections(pr: Presenter) -> Table:
    """The corrections made after the fact: when recorded, what, why (a minimal table)."""
    rows = [
        [pr.f.date(date.fromisoformat(c["recorded_at"][:10])), c["summary"], c["reason"] or ""]
        for c in pr.m.get("corrections", {}).get("items", [])
    ]
    return Table(
        pr._("Corrections made after the fact"),
        [pr._("Recorded on"), pr._("What was corrected"), pr._("Why")],
        rows,
    )
