"""From the report model to what a reader sees, in one language: words and formatted values.

:func:`present` turns the model (:mod:`.model`) into a view: every label translated, every
number, amount and date formatted with Babel (:class:`.formatting.Formatter`), every
sentence a :class:`Sentence` (a translated text with named, already formatted values). It
adds nothing up: the model did the arithmetic, the templates only lay the view out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

from . import charts
from . import labels as L
from .formatting import Formatter, largest_remainder
from .i18n import N_, Language, translations


@attrs.frozen
class Sentence:
    """A translated sentence with ``%(name)s`` placeholders and the values to put in them.

    Renderers escape the text and each value for their format (and isolate each value's
    writing direction), so ledger data can never become markup.
    """

    text: str
    args: Mapping[str, str] = attrs.field(factory=dict)

    def plain(self) -> str:
        return self.text % dict(self.args) if self.args else self.text


@attrs.frozen
class Table:
    """A table: caption, column headers, rows of cells (first cell heads its row)."""

    caption: str
    head: Sequence[str]
    rows: Sequence[Sequence[str]]
    numeric: Sequence[bool] = ()
    foot: Sequence[str] | None = None


class Presenter:
    """Formats one report model in one language."""

    def __init__(
        self, model: Mapping[str, Any], language: Language, *, with_charts: bool, locale: str | None = None
    ) -> None:
        self.m = model
        self.currency: str | None = model["partnership"]["currency"]
        self.f = Formatter(language, self.currency, locale)
        self.t = translations(language)
        self.language = language
        self.with_charts = with_charts
        self.names = model["party_names"]

    # -- small helpers ----------------------------------------------------------------------
    def _(self, message: str) -> str:
        return self.t.gettext(message)

    def n_(self, singular: str, plural: str, n: int) -> str:
        return self.t.ngettext(singular, plural, n)

    def s(self, message: str, **args: Any) -> Sentence:
        return Sentence(self._(message), {k: str(v) for k, v in args.items()})

    def label(self, table: Mapping[str, str], code: str | None) -> str:
        if code is None:
            return "–"
        return self._(table[code]) if code in table else code

    def name(self, party: str | None) -> str:
        if party is None:
            return "–"
        found = self.names.get(party)
        return str(found["name"]) if found else party

    def money(self, amount: Decimal | None) -> str:
        """An amount in a table: ``72,090,000円``."""
        return self.f.money(amount, self.currency)

    def prose_money(self, amount: Decimal | None) -> str:
        """An amount in a sentence: ``7,209万円``."""
        return self.f.money_prose(amount, self.currency)

    def join(self, items: Sequence[str]) -> str:
        return self.f.join(items)

    def pct(self, ratio: Decimal | None) -> str:
        return self.f.percent(ratio)

    # -- the view ---------------------------------------------------------------------------
    def view(self) -> dict[str, Any]:
        p = self.m["partnership"]
        return {
            "lang": self.language,
            "sp": self.f.space,
            "colon": "：" if self.language == "ja" else ": ",
            "made_on": self.f.date(self.m["made_at"][:10]),
            "doc_title": self.s(N_("%(title)s: report for residents"), title=p["title"]),
            "partnership": self.partnership(),
            "made": self.made(),
            "glance": self.glance(),
            "parties": self.parties(),
            "subs": self.subs(),
            "contributions": self.contributions(),
            "balance": self.balance(),
            "decisions": self.decisions(),
            "agreements": self.agreements(),
            "timeline": self.timeline(),
            "targets": self.targets(),
            "evaluations": self.evaluations(),
            "corrections": self.corrections(),
            "integrity": self.integrity(),
            "scope": self.scope(),
        }

    def scope(self) -> Sentence | None:
        """What the figures include, for a partnership with sub-partnerships."""
        subs = self.m["sub_partnerships"]
        if not subs:
            return None
        included = [s for s in subs if s.get("included")]
        if included:
            return self.s(
                N_("The figures below include the %(count)s sub-partnerships: %(names)s."),
                count=self.f.integer(len(included)),
                names=self.f.join_and([s["title"] for s in included]),
            )
        decisions = sum(int(s.get("decisions") or 0) for s in subs)
        return self.s(
            N_(
                "The figures below are this partnership's own: its %(count)s sub-partnerships recorded "
                "%(decisions)s more decisions, and their resources, targets and evaluations, which the "
                "combined view counts too."
            ),
            count=self.f.integer(len(subs)),
            decisions=self.f.integer(decisions),
        )

    def partnership(self) -> dict[str, Any]:
        p = self.m["partnership"]
        facts = [
            self.s(
                N_("Proposed by %(party)s on %(date)s."),
                party=self.name(p["proposed_by"]),
                date=self.f.date(p["proposed_on"]),
            )
        ]
        if p["activated_on"] is not None:
            facts.append(self.s(N_("Active since %(date)s."), date=self.f.date(p["activated_on"])))
        if p["concluded_on"] is not None:
            facts.append(self.s(N_("Concluded on %(date)s."), date=self.f.date(p["concluded_on"])))
        parent = p["parent"]
        return {
            "key": p["key"],
            "title": p["title"],
            "purpose": p["purpose"],
            "phase": self.label(L.PHASES, p["phase"]),
            "facts": facts,
            "parent": {"key": parent["key"], "title": parent["title"]} if parent else None,
            "children_included": bool(self.m["include_children"]),
        }

    def made(self) -> Sentence:
        i = self.m["integrity"]
        return self.s(
            N_("Made on %(date)s from the ledger as it stood then (%(size)s recorded events)."),
            date=self.f.date(self.m["made_at"][:10]),
            size=self.f.integer(i["size"]),
        )

    def decisions_sentence(self, total: int, adopted: int) -> Sentence:
        if total == 0:
            return self.s(N_("No decision has been recorded yet."))
        if total == 1:
            return self.s(
                N_("One decision was recorded, and it was adopted.")
                if adopted
                else N_("One decision was recorded; it was not adopted.")
            )
        if adopted == total:
            return self.s(N_("%(count)s decisions were recorded, all of them adopted."), count=self.f.integer(total))
        if adopted == 0:
            return self.s(N_("%(count)s decisions were recorded, none of them adopted."), count=self.f.integer(total))
        return self.s(
            N_("%(count)s decisions were recorded, %(adopted)s of them adopted."),
            count=self.f.integer(total),
            adopted=self.f.integer(adopted),
        )

    def targets_sentence(self, targets: Sequence[Mapping[str, Any]]) -> Sentence | None:
        """Every target counted, those with no measurement too."""
        if not targets:
            return None
        statuses: dict[str, int] = {}
        for t in targets:
            statuses[t["status"]] = statuses.get(t["status"], 0) + 1
        words = {
            "achieved": N_("%(n)s achieved"),
            "on_track": N_("%(n)s on track"),
            "off_track": N_("%(n)s off track"),
            "no_data": N_("%(n)s not yet measured"),
        }
        order = [*words, *sorted(set(statuses) - set(words))]
        parts = [
            (self._(words[k]) if k in words else "%(n)s " + self.label(L.TARGET_STATUSES, k))
            % {"n": self.f.integer(statuses[k])}
            for k in order
            if statuses.get(k)
        ]
        if len(targets) == 1:
            return self.s(N_("One target: %(list)s."), list=self.join(parts))
        return self.s(
            N_("Of %(count)s targets: %(list)s."), count=self.f.integer(len(targets)), list=self.f.join_and(parts)
        )

    def glance(self) -> list[Sentence]:
        c, bv = self.m["contributions"], self.m["burden_and_voice"]
        out = [
            self.s(
                N_("%(count)s parties have taken part; together they delivered resources worth %(total)s."),
                count=self.f.integer(len(self.m["parties"])),
                total=self.prose_money(c["total"]),
            )
            if c["rows"]
            else self.s(N_("No contribution has been recorded yet."))
        ]
        top = next((r for r in bv if r["share"] is not None), None)
        if top is not None and c["total"]:
            out.append(self.burden_sentence(top))
        d = self.m["decisions"]
        out.append(self.decisions_sentence(d["total"], d["adopted"]))
        targets = self.targets_sentence(self.m["targets"])
        if targets is not None:
            out.append(targets)
        return out

    def burden_sentence(self, r: Mapping[str, Any]) -> Sentence:
        if r["decisions"]:
            return self.s(
                N_("%(party)s gave %(share)s of the resources and took part in %(part)s of decisions."),
                party=self.name(r["party"]),
                share=self.pct(r["share"]),
                part=self.pct(r["participation"]),
            )
        return self.s(
            N_("%(party)s gave %(share)s of the resources."),
            party=self.name(r["party"]),
            share=self.pct(r["share"]),
        )

    def parties(self) -> Table:
        rows = []
        for p in self.m["parties"]:
            for s in p["spells"]:
                left = self.f.date(s["left"]) if s["left"] else self._("still a member")
                if s["leave_reason"]:
                    reason = s["leave_reason"]
                    left = f"{left}（{reason}）" if self.language == "ja" else f"{left} ({reason})"
                role = s["role"] or (self._("proposer") if p["proposer"] else self._("member"))
                rows.append([p["name"], self.label(L.SECTORS, p["sector"]), role, self.f.date(s["joined"]), left])
        return Table(
            self._("Who takes part"),
            [self._("Party"), self._("Sector"), self._("Role"), self._("Joined"), self._("Left")],
            rows,
        )

    def subs(self) -> list[dict[str, Any]]:
        return [
            {
                "key": s["key"],
                "title": s["title"],
                "purpose": s["purpose"],
                "phase": self.label(L.PHASES, s["phase"]),
                "parent": s["parent"],
                "members": self.join([self.name(m) for m in s["members"]]),
            }
            for s in self.m["sub_partnerships"]
        ]

    # -- contributions ------------------------------------------------------------------------
    def contributions(self) -> dict[str, Any]:
        c = self.m["contributions"]
        years = [self.f.fiscal_year(y) for y in c["fiscal_years"]]
        by_year = Table(
            self._("Resources delivered by party and fiscal year"),
            [self._("Party"), *years, self._("Total")],
            [
                [self.name(r["party"]), *(self.money(v) for v in r["by_year"]), self.money(r["delivered"])]
                for r in c["parties"]
            ],
            [False, *(True for _ in years), True],
            [self._("Total"), *(self.money(v) for v in c["year_totals"]), self.money(c["total"])],
        )
        by_kind = Table(
            self._("Resources by party and kind (pledged and delivered)"),
            [self._("Party"), self._("Kind"), self._("Pledged"), self._("Delivered")],
            [
                [
                    self.name(r["party"]),
                    self.label(L.KINDS, k["kind"]),
                    self.money(k["pledged"]),
                    self.money(k["delivered"]),
                ]
                for r in c["parties"]
                for k in r["by_kind"]
            ],
            [False, False, True, True],
        )
        in_kind = Table(
            self._("How resources in kind were valued"),
            [
                self._("Party"),
                self._("Kind"),
                self._("Contributions"),
                self._("Quantity"),
                self._("Valued at"),
                self._("Delivered value"),
            ],
            [
                [
                    self.name(g["party"]),
                    self.label(L.KINDS, g["kind"]),
                    self.f.integer(g["contributions"]),
                    (f"{self.f.number(g['quantity'])} {g['unit'] or ''}".strip() if g["quantity"] is not None else "–"),
                    g["valuation_basis"] or self._("not stated"),
                    self.money(g["delivered"]),
                ]
                for g in c["in_kind"]
            ],
            [False, False, True, True, False, True],
        )
        funding = c["funding"]
        instruments = funding["by_instrument"]
        rounded = largest_remainder(r["share"] for r in instruments)
        funding_table = Table(
            self._("How the money came"),
            [self._("Instrument"), self._("Delivered"), self._("Share")],
            [
                [self.label(L.INSTRUMENTS, r["instrument"]), self.money(r["value"]), self.pct(share)]
                for r, share in zip(instruments, rounded, strict=True)
            ],
            [False, True, True],
        )
        summary = [
            self.s(
                N_(
                    "In all, %(total)s was delivered: %(money)s in money and %(in_kind)s in kind, "
                    "over %(count)s recorded contributions."
                ),
                total=self.prose_money(c["total"]),
                money=self.prose_money(c["money_total"]),
                in_kind=self.prose_money(c["in_kind_total"]),
                count=self.f.integer(c["count"]),
            )
        ]
        mix = [
            self._("%(instrument)s %(share)s")
            % {"instrument": self.label(L.INSTRUMENTS, r["instrument"]), "share": self.pct(share)}
            for r, share in zip(instruments, rounded, strict=True)
            if share is not None
        ]
        if mix:
            summary.append(self.s(N_("How the money came: %(mix)s."), mix=self.join(mix)))
        if funding["subsidy_or_commission_share"]:
            summary.append(
                self.s(
                    N_(
                        "A plain subsidy or commission is not the basic model of collaboration (rule 4); "
                        "a joint contribution is."
                    )
                )
            )
        chart = None
        if self.with_charts and c["fiscal_years"] and c["total"]:
            neutral = Formatter("en")  # the chart is drawn once for every language
            chart = charts.contributions_chart(
                [self.name(r["party"]) for r in c["parties"]],
                c["fiscal_years"],
                [r["by_year"] for r in c["parties"]],
                lambda amount: neutral.money(amount, self.currency),
                self._("Resources delivered by party and fiscal year"),
            )
        alt = self.s(
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
            "legend": [
                (self.name(r["party"]), charts.PALETTE[i % len(charts.PALETTE)]) for i, r in enumerate(c["parties"])
            ],
            "alt": alt,
            "by_year": by_year,
            "by_kind": by_kind,
            "in_kind": in_kind if c["in_kind"] else None,
            "funding": funding_table if funding["by_instrument"] else None,
        }

    # -- burden and voice ------------------------------------------------------------------------
    def balance(self) -> dict[str, Any]:
        b, v, rows = self.m["balance"], self.m["voice"], self.m["burden_and_voice"]
        agreed = b["agreement"] is not None
        head = [self._("Party"), self._("Delivered"), self._("Share of resources")]
        if agreed:
            head += [self._("Agreed share"), self._("Difference")]
        head += [self._("Share of the say"), self._("Decisions taken part in"), self._("Burden on own budget")]
        table_rows = []
        for r in rows:
            cells = [self.name(r["party"]), self.money(r["value"]), self.pct(r["share"])]
            if agreed:
                cells += [self.pct(r["agreed_share"]), self.f.points(r["deviation"])]
            cells += [
                self.pct(r["voice_share"]),
                self._("%(n)s of %(total)s")
                % {"n": self.f.integer(r["decisions_taken_part"]), "total": self.f.integer(r["decisions"])},
                self.f.percent(r["capacity_burden"], places=3),
            ]
            table_rows.append(cells)
        table = Table(
            self._("Balance of burden and voice"),
            head,
            table_rows,
            [False, *(True for _ in head[1:])],
        )
        sentences = [self.burden_sentence(r) for r in rows if r["share"] is not None]
        alerts = []
        for r in rows:
            if r["excessive_burden"]:
                if r["deviation"] is not None and r["deviation"] > b["thresholds"]["deviation"]:
                    alerts.append(
                        self.s(
                            N_(
                                "Excessive burden: %(party)s gave %(share)s of the resources, more than "
                                "the %(agreed)s agreed (%(points)s)."
                            ),
                            party=self.name(r["party"]),
                            share=self.pct(r["share"]),
                            agreed=self.pct(r["agreed_share"]),
                            points=self.f.points(r["deviation"]),
                        )
                    )
                else:
                    alerts.append(
                        self.s(
                            N_(
                                "Excessive burden: for the size of its own budget, %(party)s carried "
                                "%(times)s times the average burden of the parties."
                            ),
                            party=self.name(r["party"]),
                            times=self.f.number(r["relative_capacity_burden"], places=1),
                        )
                    )
            if r["money_without_voice"]:
                alerts.append(
                    self.s(
                        N_(
                            "Money without voice: %(party)s put in money but cast no vote "
                            '("if you put in money, put in your voice too").'
                        ),
                        party=self.name(r["party"]),
                    )
                )
        indicators = [
            (
                self._("Gini coefficient of resources"),
                self.f.number(b["gini"], places=2),
                self._("0 means every party gave the same; values near 1 mean one party gave nearly everything."),
            ),
            (
                self._("Concentration (HHI)"),
                self.f.number(b["hhi"], places=2),
                self._(
                    "The sum of squared shares: 1 when one party gives everything, lower when resources are spread."
                ),
            ),
            (
                self._("Mismatch of say and burden"),
                self.pct(v["disproportionality"]),
                self._(
                    "The part of the say that would have to move to match each party's share of the "
                    "resources (0% means a perfect match)."
                ),
            ),
        ]
        chart = None
        series = [self._("Share of resources"), self._("Share of the say"), self._("Decisions taken part in")]
        if self.with_charts and rows:
            chart = charts.voice_burden_chart(
                [self.name(r["party"]) for r in rows],
                [r["share"] for r in rows],
                [r["voice_share"] for r in rows],
                [r["participation"] for r in rows],
                " / ".join(series),
            )
        alt = self.s(
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
            "basis": self.s(
                N_("Resources are counted as delivered, at their recorded value in %(currency)s."),
                currency=self.currency or "–",
            ),
        }

    # -- decisions, agreements -------------------------------------------------------------------
    def decisions(self) -> dict[str, Any]:
        d = self.m["decisions"]
        items = []
        colon = "：" if self.language == "ja" else ": "
        for x in d["items"]:
            votes = self.join([f"{self.name(v['party'])}{colon}{self.label(L.VOTES, v['vote'])}" for v in x["votes"]])
            items.append(
                [
                    self.f.date(x["on"]),
                    x["subject"],
                    self.name(x["proposed_by"]),
                    self.label(L.RULES, x["rule"]),
                    self._("adopted") if x["adopted"] else self._("rejected"),
                    votes,
                ]
            )
        return {
            "summary": self.decisions_sentence(d["total"], d["adopted"]),
            "omitted": self.s(
                N_("The %(count)s earlier decisions are in the ledger's history."), count=self.f.integer(d["omitted"])
            )
            if d["omitted"]
            else None,
            "table": Table(
                self._("Decisions and who took part"),
                [
                    self._("Date"),
                    self._("Subject"),
                    self._("Proposed by"),
                    self._("Rule"),
                    self._("Outcome"),
                    self._("Votes"),
                ],
                items,
            ),
        }

    def agreements(self) -> list[dict[str, Any]]:
        out = []
        for a in self.m["agreements"]:
            t = a["terms"]
            facts = [
                (self._("Status"), self.label(L.AGREEMENT_STATUSES, a["status"])),
                (self._("Parties"), self.join([self.name(p) for p in a["parties"]])),
                (
                    self._("Term"),
                    self._("%(start)s to %(end)s") % {"start": self.f.date(t["start"]), "end": self.f.date(t["end"])},
                ),
            ]
            if t["shares"]:
                facts.append(
                    (
                        self._("Agreed shares"),
                        self.join([f"{self.name(p)} {self.pct(s)}" for p, s in t["shares"].items()]),
                    )
                )
            if t["annual_caps"]:
                facts.append(
                    (
                        self._("Yearly caps"),
                        self.join(
                            [
                                f"{self.name(p)} {self.f.money(c['amount'], c['currency'])}"
                                for p, c in t["annual_caps"].items()
                            ]
                        ),
                    )
                )
            if t["max_years"]:
                facts.append(
                    (self._("At most"), self.n_("%(n)s year", "%(n)s years", t["max_years"]) % {"n": t["max_years"]})
                )
            if a["unsigned"]:
                facts.append((self._("Not yet signed by"), self.join([self.name(p) for p in a["unsigned"]])))
            out.append({"key": a["key"], "title": a["title"], "facts": facts})
        return out

    def timeline(self) -> Table:
        titles = {a["key"]: a["title"] for a in self.m["agreements"]}
        rows = []
        for e in self.m["timeline"]:
            text = self._(L.TIMELINE_EVENTS[e["event"]]) % {
                "agreement": titles.get(e["agreement"], e["agreement"]),
                "party": self.name(e["party"]),
                "amendment": e.get("amendment") or "",
                "reason": e.get("reason") or "",
            }
            rows.append([self.f.date(e["on"]), text])
        return Table(self._("Agreements, signatures and amendments"), [self._("Date"), self._("What happened")], rows)

    def corrections(self) -> Table:
        """The corrections made after the fact: when recorded, what, why (a minimal table)."""
        rows = [
            [self.f.date(date_of(c["recorded_at"])), c["summary"], c["reason"] or ""]
            for c in self.m.get("corrections", {}).get("items", [])
        ]
        return Table(
            self._("Corrections made after the fact"),
            [self._("Recorded on"), self._("What was corrected"), self._("Why")],
            rows,
        )

    # -- targets ------------------------------------------------------------------------------
    def targets(self) -> list[dict[str, Any]]:
        out = []
        for t in self.m["targets"]:
            unit = t["unit"]
            num = self.f.number
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
                sentence = self.s(N_("No measurement has been recorded yet."))
            else:
                sentence = self.s(
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
                    progress=self.pct(t["progress"]),
                )
            revisions = [
                self.s(N_("Targets revised on %(date)s: %(reason)s"), date=self.f.date(r["on"]), reason=r["reason"])
                for r in t["revisions"]
            ]
            chart = None
            series = [self._("Baseline"), self._("Target"), self._("Measured")]
            if self.with_charts and len(t["trajectory"]) > 1:
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
                    "direction": self.label(L.DIRECTIONS, t["direction"]),
                    "status": self.label(L.TARGET_STATUSES, t["status"]),
                    "status_code": t["status"],
                    "about": self.s(
                        N_("(unit: %(unit)s; %(direction)s)"),
                        unit=unit,
                        direction=self.label(L.DIRECTIONS, t["direction"]),
                    ),
                    "sentence": sentence,
                    "revisions": revisions,
                    "chart": chart,
                    "legend": list(zip(series, charts.TARGET_COLOURS, strict=True)),
                    "alt": self.s(
                        N_(
                            "Line chart of %(indicator)s: the targets and the measurements by period. "
                            "The table beside it gives the same figures."
                        ),
                        indicator=t["indicator"],
                    ),
                    "table": Table(
                        self._("Baseline, targets and measurements"),
                        [self._("Period"), self._("Baseline"), self._("Target"), self._("Measured")],
                        rows,
                        [False, True, True, True],
                    ),
                }
            )
        return out

    # -- evaluations ---------------------------------------------------------------------------
    def evaluations(self) -> list[dict[str, Any]]:
        out = []
        for e in self.m["evaluations"]:
            score = self.f.score
            residents = Table(
                self._("What residents said"),
                [self._("Criterion"), self._("Residents' mean score")],
                [[c["criterion"], score(c["resident_mean"])] for c in e["criteria"]],
                [False, True],
            )
            parties = Table(
                self._("What the parties said, and the gap"),
                [
                    self._("Criterion"),
                    self._("Parties' mean score"),
                    self._("Gap (parties − residents)"),
                    self._("External evaluators"),
                    self._("Combined score"),
                ],
                [
                    [
                        c["criterion"],
                        score(c["party_mean"]),
                        self.f.signed_score(c["gap"]),
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
                gap = self.s(
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
                    "title": self.label(L.ROLES, role),
                    "items": [(self.name(c["party"]) if c["party"] else None, c["comment"]) for c in block["items"]],
                    "omitted": self.s(
                        N_("%(count)s earlier public comments are not shown."), count=self.f.integer(block["omitted"])
                    )
                    if block["omitted"]
                    else None,
                }
            out.append(
                {
                    "key": e["key"],
                    "period": e["period"],
                    "status": self.label(L.EVALUATION_STATUSES, e["status"]),
                    "counts": self.evaluation_counts(e),
                    "residents": residents,
                    "parties": parties,
                    "gap": gap,
                    "comments": [comments["resident"], comments["party"], comments["external"]],
                }
            )
        return out

    def evaluation_counts(self, e: Mapping[str, Any]) -> Sentence:
        subs = e["submissions"]
        who = [
            self._(one if n == 1 else many) % {"n": self.f.integer(n)}
            for one, many, n in (
                (N_("%(n)s resident"), N_("%(n)s residents"), subs.get("resident", 0)),
                (N_("%(n)s party"), N_("%(n)s parties"), subs.get("party", 0)),
                (N_("%(n)s external evaluator"), N_("%(n)s external evaluators"), subs.get("external", 0)),
            )
            if n
        ]
        if not who:
            return self.s(
                N_("No one has scored it yet (from 1 to %(max)s; residents' scores will weigh %(weight)s)."),
                max=str(e["scale_max"]),
                weight=self.pct(e["resident_weight"]),
            )
        return self.s(
            N_("Scored from 1 to %(max)s by %(who)s; residents' scores weigh %(weight)s in the combined score."),
            who=self.f.join_and(who),
            max=str(e["scale_max"]),
            weight=self.pct(e["resident_weight"]),
        )

    def integrity(self) -> dict[str, Any]:
        i = self.m["integrity"]
        return {
            "size": self.f.integer(i["size"]),
            "position": self.f.integer(i["position"]),
            "root": i["root"],
            "verified": self.s(
                N_("The whole hash chain was verified when this report was made.")
                if i["verified"]
                else N_("The hash chain was not verified when this report was made.")
            ),
            "signed": self.s(N_("The checkpoint is signed with the Ed25519 key whose public half is in it."))
            if i["checkpoint"].get("signature")
            else None,
            "checkpoint": i["checkpoint"],
            "command": i["verify_command"],
        }


def date_of(recorded_at: str) -> Any:
    from datetime import date

    return date.fromisoformat(recorded_at[:10])


def present(
    model: Mapping[str, Any], language: Language, *, with_charts: bool = True, locale: str | None = None
) -> dict[str, Any]:
    """The view of ``model`` in ``language`` (charts only when ``with_charts``; ``locale``:
    ``en-GB``, ``en-US`` or ``ja-JP`` rather than the default of the language and currency)."""
    return Presenter(model, language, with_charts=with_charts, locale=locale).view()


def sentence_parts(sentence: Sentence) -> list[tuple[str, bool]]:
    """``sentence`` as (text, is_value) pieces, for renderers that escape each piece."""
    import re

    parts: list[tuple[str, bool]] = []
    pos = 0
    for m in re.finditer(r"%\((\w+)\)s|%%", sentence.text):
        parts.append((sentence.text[pos : m.start()], False))
        if m.group(0) == "%%":
            parts.append(("%", False))
        else:
            parts.append((sentence.args.get(m.group(1), ""), True))
        pos = m.end()
    parts.append((sentence.text[pos:], False))
    return [(text, is_value) for text, is_value in parts if text]


Escape = Callable[[str], str]


def present_card(model: Mapping[str, Any], language: Language, locale: str | None = None) -> dict[str, Any]:
    """One partnership on the site's index: purpose, parties and headline indicators."""
    p = Presenter(model, language, with_charts=False, locale=locale)
    part = model["partnership"]
    facts = [
        p.s(
            N_("Resources delivered: %(total)s, by %(count)s parties."),
            total=p.prose_money(model["contributions"]["total"]),
            count=p.f.integer(len(model["parties"])),
        )
        if model["contributions"]["rows"]
        else p.s(N_("No contribution has been recorded yet."))
    ]
    top = next((r for r in model["burden_and_voice"] if r["share"] is not None), None)
    if top is not None and model["contributions"]["total"]:
        facts.append(p.burden_sentence(top))
    if model["voice"]["disproportionality"] is not None:
        facts.append(
            p.s(N_("Mismatch of say and burden: %(value)s."), value=p.pct(model["voice"]["disproportionality"]))
        )
    targets = p.targets_sentence(model["targets"])
    if targets is not None:
        facts.append(targets)
    alerts = [
        p.s(N_("Excessive burden: %(party)s."), party=p.name(r["party"]))
        for r in model["burden_and_voice"]
        if r["excessive_burden"]
    ] + [
        p.s(N_("Money without voice: %(party)s."), party=p.name(r["party"]))
        for r in model["burden_and_voice"]
        if r["money_without_voice"]
    ]
    return {
        "key": part["key"],
        "title": part["title"],
        "purpose": part["purpose"],
        "phase": p.label(L.PHASES, part["phase"]),
        "parent": part["parent"],
        "parties": p.join([x["name"] for x in model["parties"]]),
        "facts": facts,
        "alerts": alerts,
    }
