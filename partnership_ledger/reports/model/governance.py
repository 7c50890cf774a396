"""The report model's governance: decisions, agreements as plain data, their timeline, and the
corrections made after the fact."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from ...domain.values import Money

if TYPE_CHECKING:
    from ...application import PartnershipLedger


def decisions(decisions: list[dict[str, Any]], shown: int) -> dict[str, Any]:
    latest = decisions[-shown:] if shown > 0 else []
    return {
        "total": len(decisions),
        "adopted": sum(1 for d in decisions if d["adopted"]),
        "omitted": len(decisions) - len(latest),
        "items": [
            {
                "key": d["key"],
                "partnership": d["partnership"],
                "subject": d["subject"],
                "on": d["on"],
                "proposed_by": d["proposed_by"],
                "rule": d["rule"],
                "adopted": d["adopted"],
                "votes": [{"party": p, "vote": vote} for p, vote in d["votes"].items()],
            }
            for d in latest
        ],
    }


def agreement_view(ledger: PartnershipLedger, key: str, on: date | str | None = None) -> dict[str, Any]:
    """What ``ledger.show(agreement, on=on)`` says, as plain data (loading it reads its last
    snapshot and the few events after it, however many contributions count under it)."""
    view: dict[str, Any] = plain_data(
        {k: v for k, v in ledger.show(key, on=on).items() if k not in ("kind", "version")}
    )
    return view


def agreement(a: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "key": a["key"],
        "partnership": a["partnership"],
        "title": a["title"],
        "status": a["status"],
        "parties": a["parties"],
        "terms": plain_data(a["terms"]),
        "signatures": [{"party": p, "on": on} for p, on in a["signatures"].items()],
        "unsigned": a["unsigned"],
        "amendments": [
            {
                "key": m["key"],
                "changes": plain_data(m["changes"]),
                "proposed_by": m["proposed_by"],
                "on": m["on"],
                "consents": [{"party": p, "on": on} for p, on in m["consents"].items()],
                "effective_on": m["effective_on"],
            }
            for m in a["amendments"]
        ],
        "terminated_on": a["terminated_on"],
        "termination_reason": a["termination_reason"],
    }


def plain_data(value: Any) -> Any:
    """``value`` with any Money inside as ``{"amount", "currency"}`` (plain data only)."""
    if isinstance(value, Money):
        return {"amount": value.amount, "currency": value.currency}
    if isinstance(value, Mapping):
        return {k: plain_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_data(v) for v in value]
    return value


def timeline(agreements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Agreement events in date order: term start, signatures, amendments and consents,
    amendments taking effect, termination, term end."""
    events: list[dict[str, Any]] = []

    def add(on: date | None, event: str, agreement: str, **more: Any) -> None:
        if on is not None:
            events.append({"on": on, "event": event, "agreement": agreement, "party": None, **more})

    for a in agreements:
        key = a["key"]
        add(a["terms"]["start"], "term_starts", key)
        for p, on in a["signatures"].items():
            add(on, "signed", key, party=p)
        for m in a["amendments"]:
            add(m["on"], "amendment_proposed", key, party=m["proposed_by"], amendment=m["key"])
            for p, on in m["consents"].items():
                add(on, "amendment_consented", key, party=p, amendment=m["key"])
            add(m["effective_on"], "amendment_effective", key, amendment=m["key"])
        add(a["terminated_on"], "terminated", key, reason=a["termination_reason"])
        if a["terminated_on"] is None:
            add(a["terms"]["end"], "term_ends", key)
    order = {
        "term_starts": 0,
        "signed": 1,
        "amendment_proposed": 2,
        "amendment_consented": 3,
        "amendment_effective": 4,
        "terminated": 5,
        "term_ends": 6,
    }
    return sorted(events, key=lambda e: (e["on"], order[e["event"]]))


def corrections_section(
    ledger: PartnershipLedger, partnerships: list[str], parties: Iterable[Mapping[str, Any]]
) -> dict[str, Any]:
    """The corrections made after the fact (residents should see that figures were revised):
    ``count`` and ``items``, oldest first, each with ``op`` (what kind), ``summary`` (what),
    ``reason`` (why), ``recorded_at`` (when recorded), ``effective`` (from when it counts),
    ``corrects`` (the op id of what it voids or re-dates, if one) and ``op_id``. Those of the
    partnerships in scope and the amendments of their parties."""
    members = sorted({str(p.get("party")) for p in parties if p.get("party")})
    where = [f"partnership IN ({','.join('?' * len(partnerships))})"]
    params: list[Any] = list(partnerships)
    if members:
        where.append(f"(kind = 'party' AND key IN ({','.join('?' * len(members))}))")
        params += members
    names = ("op_id", "op", "summary", "reason", "recorded_at", "effective", "corrects", "kind", "key", "partnership")
    with ledger.db.transaction(commit=False) as c:
        c.execute(
            f"SELECT {', '.join(names)} FROM rm_corrections WHERE {' OR '.join(where)} ORDER BY position",
            params,
        )
        items = [dict(zip(names, row, strict=True)) for row in c.fetchall()]
    return {"count": len(items), "items": items}
