"""The view's resources sections: contributions by party, year, kind and instrument, and the
balance of burden and voice (tables, sentences, alerts, charts)."""

from __future__ import annotations

from typing import Any

from .. import charts
from .. import labels as L
from ..formatting import Formatter, largest_remainder
from ..i18n import N_
from .presenter import Presenter
from .sentence import Table


def contributions(pr: Presenter) -> dict[str, Any]:
    c = pr.m["contributions"]
    years = [pr.f.fiscal_year(y) for y in c["fiscal_years"]]
    by_year = Table(
        pr._("Resources delivered by party and fiscal year"),
        [pr._("Party"), *years, pr._("Total")],
        [[pr.name(r["party"]), *(pr.money(v) for v in r["by_year"]), pr.money(r["delivered"])] for r in c["parties"]],
        [False, *(True for _ in years), True],
        [pr._("Total"), *(pr.money(v) for v in c["year_totals"]), pr.money(c["total"])],
    )
    by_kind = Table(
        pr._("Resources by party and kind (pledged and delivered)"),
        [pr._("Party"), pr._("Kind"), pr._("Pledged"), pr._("Delivered")],
        [
            [
                pr.name(r["party"]),
                pr.label(L.KINDS, k["kind"]),
                pr.money(k["pledged"]),
                pr.money(k["delivered"]),
            ]
            for r in c["parties"]
            for k in r["by_kind"]
        ],
        [False, False, True, True],
    )
    in_kind = Table(
        pr._("How resources in kind were valued"),
        [
            pr._("Party"),
            pr._("Kind"),
            pr._("Contributions"),
            pr._("Quantity"),
            pr._("Valued at"),
            pr._("Delivered value"),
        ],
        [
            [
                pr.name(g["party"]),
                pr.label(L.KINDS, g["kind"]),
                pr.f.integer(g["contributions"]),
                (f"{pr.f.number(g['quantity'])} {g['unit'] or ''}".strip() if g["quantity"] is not None else "–"),
                g["valuation_basis"] or pr._("not stated"),
                pr.money(g["delivered"]),
            ]
            for g in c["in_kind"]
        ],
        [False, False, True, True, False, True],
    )
    funding = c["funding"]
    instruments = funding["by_instrument"]
    rounded = largest_remainder(r["share"] for r in instruments)
    funding_table = Table(
        pr._("How the money came"),
        [pr._("Instrument"), pr._("Delivered"), pr._("Share")],
        [
            [pr.label(L.INSTRUMENTS, r["instrument"]), pr.money(r["value"]), pr.pct(share)]
            for r, share in zip(instruments, rounded, strict=True)
        ],
        [False, True, True],
    )
    summary = [
        pr.s(
            N_(
                "In all, %(total)s was delivered: %(money)s in money and %(in_kind)s in kind, "
                "over %(count)s recorded contributions."
            ),
            total=pr.prose_money(c["total"]),
            money=pr.prose_money(c["money_total"]),
            in_kind=pr.prose_money(c["in_kind_total"]),
            count=pr.f.integer(c["count"]),
        )
    ]
    mix = [
        pr._("%(instrument)s %(share)s")
        % {"instrument": pr.label(L.INSTRUMENTS, r["instrument"]), "share": pr.pct(share)}
        for r, share in zip(instruments, rounded, strict=True)
        if share is not None
    ]
    if mix:
        summary.append(pr.s(N_("How the money came: %(mix)s."), mix=pr.join(mix)))
    if funding["subsidy_or_commission_share"]:
        summary.append(
            pr.s(
                N_(
                    "A plain subsidy or commission is not the basic model of collaboration (rule 4); "
                    "a joint contribution is."
                )
            )
        )
    chart = None
    if pr.with_charts and c["fiscal_years"] and c["total"]:
        neutral = Formatter("en")  # the chart is drawn once for every language
        chart = charts.contributions_chart(
            [pr.name(r["party"]) for r in c["parties"]],
            c["fiscal_years"],
            [r["by_year"] for r in c["parties"]],
            lambda amount: neutral.money(amount, pr.currency),
            pr._("Resources delivered by party and fiscal year"),
        )
    alt = pr.s(
        N_(
            "Stacked bar chart of the value each party delivered in each fiscal year, %(first)s to "
            "%(last)s. The table below gives the same figures."
        ),
        first=years[0] if years else "–",
        last=years[-1] if years else "–",
    )
    return {
        "empty": not c["parties"] or not c["rows"],
        "summary": summary,
        "chart": chart,
        "legend": [(pr.name(r["party"]), charts.PALETTE[i % len(charts.PALETTE)]) for i, r in enumerate(c["parties"])],
        "alt": alt,
        "by_year": by_year,
        "by_kind": by_kind,
        "in_kind": in_kind if c["in_kind"] else None,
        "funding": funding_table if funding["by_instrument"] else None,
    }


def balance(pr: Presenter) -> dict[str, Any]:
    b, v, rows = pr.m["balance"], pr.m["voice"], pr.m["burden_and_voice"]
    agreed = b["agreement"] is not None
    head = [pr._("Party"), pr._("Delivered"), pr._("Share of resources")]
    if agreed:
        head += [pr._("Agreed share"), pr._("Difference")]
    head += [pr._("Share of the say"), pr._("Decisions taken part in"), pr._("Burden on own budget")]
    table_rows = []
    for r in rows:
        cells = [pr.name(r["party"]), pr.money(r["value"]), pr.pct(r["share"])]
        if agreed:
            cells += [pr.pct(r["agreed_share"]), pr.f.points(r["deviation"])]
        cells += [
            pr.pct(r["voice_share"]),
            pr._("%(n)s of %(total)s")
            % {"n": pr.f.integer(r["decisions_taken_part"]), "total": pr.f.integer(r["decisions"])},
            pr.f.percent(r["capacity_burden"], places=3),
        ]
        table_rows.append(cells)
    table = Table(
        pr._("Balance of burden and voice"),
        head,
        table_rows,
        [False, *(True for _ in head[1:])],
    )
    sentences = [pr.burden_sentence(r) for r in rows if r["share"] is not None]
    alerts = []
    for r in rows:
        if r["excessive_burden"]:
            if r["deviation"] is not None and r["deviation"] > b["thresholds"]["deviation"]:
                alerts.append(
                    pr.s(
                        N_(
                            "Excessive burden: %(party)s gave %(share)s of the resources, more than "
                            "the %(agreed)s agreed (%(points)s)."
                        ),
                        party=pr.name(r["party"]),
                        share=pr.pct(r["share"]),
                        agreed=pr.pct(r["agreed_share"]),
                        points=pr.f.points(r["deviation"]),
                    )
                )
            else:
                alerts.append(
                    pr.s(
                        N_(
                            "Excessive burden: for the size of its own budget, %(party)s carried "
                            "%(times)s times the average burden of the parties."
                        ),
                        party=pr.name(r["party"]),
                        times=pr.f.number(r["relative_capacity_burden"], places=1),
                    )
                )
        if r["money_without_voice"]:
            alerts.append(
                pr.s(
                    N_(
                        "Money without voice: %(party)s put in money but cast no vote "
                        '("if you put in money, put in your voice too").'
                    ),
                    party=pr.name(r["party"]),
                )
            )
    indicators = [
        (
            pr._("Gini coefficient of resources"),
            pr.f.number(b["gini"], places=2),
            pr._("0 means every party gave the same; values near 1 mean one party gave nearly everything."),
        ),
        (
            pr._("Concentration (HHI)"),
            pr.f.number(b["hhi"], places=2),
            pr._("The sum of squared shares: 1 when one party gives everything, lower when resources are spread."),
        ),
        (
            pr._("Mismatch of say and burden"),
            pr.pct(v["disproportionality"]),
            pr._(
                "The part of the say that would have to move to match each party's share of the "
                "resources (0% means a perfect match)."
            ),
        ),
    ]
    chart = None
    series = [pr._("Share of resources"), pr._("Share of the say"), pr._("Decisions taken part in")]
    if pr.with_charts and rows:
        chart = charts.voice_burden_chart(
            [pr.name(r["party"]) for r in rows],
            [r["share"] for r in rows],
            [r["voice_share"] for r in rows],
            [r["participation"] for r in rows],
            " / ".join(series),
        )
    alt = pr.s(
        N_(
            "Bar chart comparing, for each party, its share of the resources, its share of the say and "
            "the share of decisions it took part in. The table below gives the same figures."
        )
    )
    return {
        "table": table,
        "sentences": sentences,
        "alerts": alerts,
        "indicators": indicators,
        "chart": chart,
        "legend": list(zip(series, charts.VOICE_COLOURS, strict=True)),
        "alt": alt,
        "basis": pr.s(
            N_("Resources are counted as delivered, at their recorded value in %(currency)s."),
            currency=pr.currency or "–",
        ),
    }
