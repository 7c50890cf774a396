"""The view's results sections: targets with their trajectory and chart, and evaluation rounds
(residents first, then the parties, and the gap)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import charts
from .. import labels as L
from ..i18n import N_
from .presenter import Presenter
from .sentence import Sentence, Table


def targets(pr: Presenter) -> list[dict[str, Any]]:
    out = []
    for t in pr.m["targets"]:
        unit = t["unit"]
        num = pr.f.number
        rows = [
            [
                x["period"],
                num(x["baseline"]) if x["baseline"] is not None else "",
                num(x["target"]) if x["target"] is not None else "",
                num(x["measured"]) if x["measured"] is not None else "",
            ]
            for x in t["trajectory"]
        ]
        if t["status"] == "no_data":
            sentence = pr.s(N_("No measurement has been recorded yet."))
        else:
            sentence = pr.s(
                N_(
                    "In %(period)s the measurement was %(latest)s %(unit)s against a target of %(target)s "
                    "(baseline %(baseline)s in %(base_period)s): %(progress)s of the way."
                ),
                period=t["period"],
                latest=num(t["latest"]),
                unit=unit,
                target=num(t["target"]),
                baseline=num(t["baseline"]["value"]),
                base_period=t["baseline"]["period"],
                progress=pr.pct(t["progress"]),
            )
        revisions = [
            pr.s(N_("Targets revised on %(date)s: %(reason)s"), date=pr.f.date(r["on"]), reason=r["reason"])
            for r in t["revisions"]
        ]
        chart = None
        series = [pr._("Baseline"), pr._("Target"), pr._("Measured")]
        if pr.with_charts and len(t["trajectory"]) > 1:
            chart = charts.target_chart(
                [x["period"] for x in t["trajectory"]],
                [x["baseline"] for x in t["trajectory"]],
                [x["target"] for x in t["trajectory"]],
                [x["measured"] for x in t["trajectory"]],
                unit,
                t["indicator"],
            )
        out.append(
            {
                "key": t["key"],
                "indicator": t["indicator"],
                "unit": unit,
                "direction": pr.label(L.DIRECTIONS, t["direction"]),
                "status": pr.label(L.TARGET_STATUSES, t["status"]),
                "status_code": t["status"],
                "about": pr.s(
                    N_("(unit: %(unit)s; %(direction)s)"),
                    unit=unit,
                    direction=pr.label(L.DIRECTIONS, t["direction"]),
                ),
                "sentence": sentence,
                "revisions": revisions,
                "chart": chart,
                "legend": list(zip(series, charts.TARGET_COLOURS, strict=True)),
                "alt": pr.s(
                    N_(
                        "Line chart of %(indicator)s: the targets and the measurements by period. "
                        "The table beside it gives the same figures."
                    ),
                    indicator=t["indicator"],
                ),
                "table": Table(
                    pr._("Baseline, targets and measurements"),
                    [pr._("Period"), pr._("Baseline"), pr._("Target"), pr._("Measured")],
                    rows,
                    [False, True, True, True],
                ),
            }
        )
    return out


def evaluations(pr: Presenter) -> list[dict[str, Any]]:
    out = []
    for e in pr.m["evaluations"]:
        score = pr.f.score
        residents = Table(
            pr._("What residents said"),
            [pr._("Criterion"), pr._("Residents' mean score")],
            [[c["criterion"], score(c["resident_mean"])] for c in e["criteria"]],
            [False, True],
        )
        parties = Table(
            pr._("What the parties said, and the gap"),
            [
                pr._("Criterion"),
                pr._("Parties' mean score"),
                pr._("Gap (parties − residents)"),
                pr._("External evaluators"),
                pr._("Combined score"),
            ],
            [
                [
                    c["criterion"],
                    score(c["party_mean"]),
                    pr.f.signed_score(c["gap"]),
                    score(c["external_mean"]),
                    score(c["combined"]),
                ]
                for c in e["criteria"]
            ],
            [False, True, True, True, True],
        )
        widest = max(
            (c for c in e["criteria"] if c["gap"] is not None),
            key=lambda c: abs(c["gap"]),
            default=None,
        )
        gap = None
        if widest is not None and widest["gap"] != 0:
            gap = pr.s(
                N_(
                    "The widest gap is on “%(criterion)s”: parties scored %(party)s, residents %(resident)s "
                    "(out of %(max)s)."
                ),
                criterion=widest["criterion"],
                party=score(widest["party_mean"]),
                resident=score(widest["resident_mean"]),
                max=str(e["scale_max"]),
            )
        comments = {}
        for role in ("resident", "party", "external"):
            block = e["comments"][role]
            comments[role] = {
                "title": pr.label(L.ROLES, role),
                "items": [(pr.name(c["party"]) if c["party"] else None, c["comment"]) for c in block["items"]],
                "omitted": pr.s(
                    N_("%(count)s earlier public comments are not shown."), count=pr.f.integer(block["omitted"])
                )
                if block["omitted"]
                else None,
            }
        out.append(
            {
                "key": e["key"],
                "period": e["period"],
                "status": pr.label(L.EVALUATION_STATUSES, e["status"]),
                "counts": evaluation_counts(pr, e),
                "residents": residents,
                "parties": parties,
                "gap": gap,
                "comments": [comments["resident"], comments["party"], comments["external"]],
            }
        )
    return out


def evaluation_counts(pr: Presenter, e: Mapping[str, Any]) -> Sentence:
    subs = e["submissions"]
    who = [
        pr._(one if n == 1 else many) % {"n": pr.f.integer(n)}
        for one, many, n in (
            (N_("%(n)s resident"), N_("%(n)s residents"), subs.get("resident", 0)),
            (N_("%(n)s party"), N_("%(n)s parties"), subs.get("party", 0)),
            (N_("%(n)s external evaluator"), N_("%(n)s external evaluators"), subs.get("external", 0)),
        )
        if n
    ]
    if not who:
        return pr.s(
            N_("No one has scored it yet (from 1 to %(max)s; residents' scores will weigh %(weight)s)."),
            max=str(e["scale_max"]),
            weight=pr.pct(e["resident_weight"]),
        )
    return pr.s(
        N_("Scored from 1 to %(max)s by %(who)s; residents' scores weigh %(weight)s in the combined score."),
        who=pr.f.join_and(who),
        max=str(e["scale_max"]),
        weight=pr.pct(e["resident_weight"]),
    )
