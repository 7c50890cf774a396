"""From the report model to what a reader sees, in one language: words and formatted values.

:func:`present` turns the model (:mod:`..model`) into a view: every label translated, every
number, amount and date formatted with Babel (:class:`..formatting.Formatter`), every
sentence a :class:`Sentence` (a translated text with named, already formatted values). It
adds nothing up: the model did the arithmetic, the templates only lay the view out. The
sections are in :mod:`.resources`, :mod:`.governance` and :mod:`.results`; the overview's
are here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import labels as L
from ..i18n import N_, Language
from . import governance, resources, results
from .presenter import Presenter
from .sentence import Sentence, Table, sentence_parts

__all__ = ["Presenter", "Sentence", "Table", "present", "present_card", "sentence_parts"]


def present(
    model: Mapping[str, Any], language: Language, *, with_charts: bool = True, locale: str | None = None
) -> dict[str, Any]:
    """The view of ``model`` in ``language`` (charts only when ``with_charts``; ``locale``:
    ``en-GB``, ``en-US`` or ``ja-JP`` rather than the default of the language and currency)."""
    return view(Presenter(model, language, with_charts=with_charts, locale=locale))


def view(pr: Presenter) -> dict[str, Any]:
    return {
        "lang": pr.language,
        "sp": pr.f.space,
        "colon": "：" if pr.language == "ja" else ": ",
        "made_on": pr.f.date(pr.m["made_at"][:10]),
        "doc_title": pr.s(N_("%(title)s: report for residents"), title=pr.m["partnership"]["title"]),
        "partnership": partnership(pr),
        "made": made(pr),
        "glance": glance(pr),
        "parties": parties(pr),
        "subs": subs(pr),
        "contributions": resources.contributions(pr),
        "balance": resources.balance(pr),
        "decisions": governance.decisions(pr),
        "agreements": governance.agreements(pr),
        "timeline": governance.timeline(pr),
        "targets": results.targets(pr),
        "evaluations": results.evaluations(pr),
        "corrections": governance.corrections(pr),
        "integrity": integrity(pr),
        "scope": scope(pr),
    }


def scope(pr: Presenter) -> Sentence | None:
    """What the figures include, for a partnership with sub-partnerships."""
    subs = pr.m["sub_partnerships"]
    if not subs:
        return None
    included = [s for s in subs if s.get("included")]
    if included:
        return pr.s(
            N_("The figures below include the %(count)s sub-partnerships: %(names)s."),
            count=pr.f.integer(len(included)),
            names=pr.f.join_and([s["title"] for s in included]),
        )
    decisions = sum(int(s.get("decisions") or 0) for s in subs)
    return pr.s(
        N_(
            "The figures below are this partnership's own: its %(count)s sub-partnerships recorded "
            "%(decisions)s more decisions, and their resources, targets and evaluations, which the "
            "combined view counts too."
        ),
        count=pr.f.integer(len(subs)),
        decisions=pr.f.integer(decisions),
    )


def partnership(pr: Presenter) -> dict[str, Any]:
    p = pr.m["partnership"]
    facts = [
        pr.s(
            N_("Proposed by %(party)s on %(date)s."),
            party=pr.name(p["proposed_by"]),
            date=pr.f.date(p["proposed_on"]),
        )
    ]
    if p["activated_on"] is not None:
        facts.append(pr.s(N_("Active since %(date)s."), date=pr.f.date(p["activated_on"])))
    if p["concluded_on"] is not None:
        facts.append(pr.s(N_("Concluded on %(date)s."), date=pr.f.date(p["concluded_on"])))
    parent = p["parent"]
    return {
        "key": p["key"],
        "title": p["title"],
        "purpose": p["purpose"],
        "phase": pr.label(L.PHASES, p["phase"]),
        "facts": facts,
        "parent": {"key": parent["key"], "title": parent["title"]} if parent else None,
        "children_included": bool(pr.m["include_children"]),
    }


def made(pr: Presenter) -> Sentence:
    i = pr.m["integrity"]
    return pr.s(
        N_("Made on %(date)s from the ledger as it stood then (%(size)s recorded events)."),
        date=pr.f.date(pr.m["made_at"][:10]),
        size=pr.f.integer(i["size"]),
    )


def glance(pr: Presenter) -> list[Sentence]:
    c = pr.m["contributions"]
    out = [
        pr.s(
            N_("%(count)s parties have taken part; together they delivered resources worth %(total)s."),
            count=pr.f.integer(len(pr.m["parties"])),
            total=pr.prose_money(c["total"]),
        )
        if c["rows"]
        else pr.s(N_("No contribution has been recorded yet."))
    ]
    out += top_burden(pr)
    d = pr.m["decisions"]
    out.append(pr.decisions_sentence(d["total"], d["adopted"]))
    targets = pr.targets_sentence(pr.m["targets"])
    if targets is not None:
        out.append(targets)
    return out


def top_burden(pr: Presenter) -> list[Sentence]:
    """The burden sentence of the party that gave the most (none before any contribution)."""
    top = next((r for r in pr.m["burden_and_voice"] if r["share"] is not None), None)
    return [pr.burden_sentence(top)] if top is not None and pr.m["contributions"]["total"] else []


def parties(pr: Presenter) -> Table:
    rows = []
    for p in pr.m["parties"]:
        for s in p["spells"]:
            left = pr.f.date(s["left"]) if s["left"] else pr._("still a member")
            if s["leave_reason"]:
                reason = s["leave_reason"]
                left = f"{left}（{reason}）" if pr.language == "ja" else f"{left} ({reason})"
            role = s["role"] or (pr._("proposer") if p["proposer"] else pr._("member"))
            rows.append([p["name"], pr.label(L.SECTORS, p["sector"]), role, pr.f.date(s["joined"]), left])
    return Table(
        pr._("Who takes part"),
        [pr._("Party"), pr._("Sector"), pr._("Role"), pr._("Joined"), pr._("Left")],
        rows,
    )


def subs(pr: Presenter) -> list[dict[str, Any]]:
    return [
        {
            "key": s["key"],
            "title": s["title"],
            "purpose": s["purpose"],
            "phase": pr.label(L.PHASES, s["phase"]),
            "parent": s["parent"],
            "members": pr.join([pr.name(m) for m in s["members"]]),
        }
        for s in pr.m["sub_partnerships"]
    ]


def integrity(pr: Presenter) -> dict[str, Any]:
    i = pr.m["integrity"]
    return {
        "size": pr.f.integer(i["size"]),
        "position": pr.f.integer(i["position"]),
        "root": i["root"],
        "verified": pr.s(
            N_("The whole hash chain was verified when this report was made.")
            if i["verified"]
            else N_("The hash chain was not verified when this report was made.")
        ),
        "signed": pr.s(N_("The checkpoint is signed with the Ed25519 key whose public half is in it."))
        if i["checkpoint"].get("signature")
        else None,
        "checkpoint": i["checkpoint"],
        "command": i["verify_command"],
    }


def present_card(model: Mapping[str, Any], language: Language, locale: str | None = None) -> dict[str, Any]:
    """One partnership on the site's index: purpose, parties and headline indicators."""
    pr = Presenter(model, language, with_charts=False, locale=locale)
    part = model["partnership"]
    facts = [
        pr.s(
            N_("Resources delivered: %(total)s, by %(count)s parties."),
            total=pr.prose_money(model["contributions"]["total"]),
            count=pr.f.integer(len(model["parties"])),
        )
        if model["contributions"]["rows"]
        else pr.s(N_("No contribution has been recorded yet."))
    ]
    facts += top_burden(pr)
    if model["voice"]["disproportionality"] is not None:
        facts.append(
            pr.s(N_("Mismatch of say and burden: %(value)s."), value=pr.pct(model["voice"]["disproportionality"]))
        )
    targets = pr.targets_sentence(model["targets"])
    if targets is not None:
        facts.append(targets)
    alerts = [
        pr.s(N_("Excessive burden: %(party)s."), party=pr.name(r["party"]))
        for r in model["burden_and_voice"]
        if r["excessive_burden"]
    ] + [
        pr.s(N_("Money without voice: %(party)s."), party=pr.name(r["party"]))
        for r in model["burden_and_voice"]
        if r["money_without_voice"]
    ]
    return {
        "key": part["key"],
        "title": part["title"],
        "purpose": part["purpose"],
        "phase": pr.label(L.PHASES, part["phase"]),
        "parent": part["parent"],
        "parties": pr.join([x["name"] for x in model["parties"]]),
        "facts": facts,
        "alerts": alerts,
    }
