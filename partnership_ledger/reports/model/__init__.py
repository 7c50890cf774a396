"""The report model: one partnership's ledger as plain data, before any rendering.

:func:`build_report` asks the ledger's queries (``show``, ``burden_balance``, ``voice``,
``target_progress``, ``evaluation_summary``, ``children``, the contribution breakdown) and
the integrity checkpoint, and puts the answers together in the shape the renderers need.
The result holds only dicts, lists, str, int, bool, None, ``Decimal`` and ``date``; it is
the ``json`` format of the report, and the HTML and Markdown renderers only format it.

Privacy: residents' evaluator ids are never read into the model, and a comment is included
only when its submitter marked it public.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..domain.values import EXACT, Money, exact_sum
from ..integrity import CHECKPOINT_FORMAT, chain_head, make_checkpoint
from ..projections import queries
from ..projections.facts import FactStore
from .i18n import default_language

if TYPE_CHECKING:
    from ..application import PartnershipLedger

REPORT_FORMAT = "partnership-ledger report v1"
#: Decisions listed one by one (the latest); the rest are counted.
DECISIONS_SHOWN = 40
#: Public comments listed per evaluation round and role (the latest); the rest are counted.
COMMENTS_SHOWN = 20


def build_report(
    ledger: PartnershipLedger,
    partnership: str,
    *,
    include_children: bool = False,
    verify: bool = False,
    made_at: datetime | None = None,
    decisions_shown: int = DECISIONS_SHOWN,
    comments_shown: int = COMMENTS_SHOWN,
    integrity: Mapping[str, Any] | None = None,
    on: date | str | None = None,
) -> dict[str, Any]:
    """The report on ``partnership`` as plain data (see the module docstring).

    ``on``: the indicators as things stood on that date, by the dates things happened.

    ``include_children`` adds the sub-partnerships' contributions, decisions, targets and
    evaluations to the indicators. ``verify`` walks the whole hash chain before the report
    is made (and refuses a broken one; on a ledger of a million events that takes seconds);
    without it the report names the chain's head as stored, and says it was not verified.
    ``integrity``: that section already made by :func:`integrity_section` (a site takes the
    checkpoint once for all its reports). ``made_at`` is the time printed on the report
    (now by default).
    """
    # The indicator queries that ``ledger.burden_balance``, ``voice``, ``target_progress`` and
    # ``evaluation_summary`` run, over one store that reads each fact once for the report
    # (a large partnership's thousands of decisions are otherwise decoded several times).
    store: Any = _ReadOnce(ledger.facts)
    if on is not None:
        from ..projections.on_date import OnDate
        from ..queries.indicators import parse_on

        store = OnDate(store, parse_on(on))
    view = partnership_view(ledger, partnership, on)
    children = ledger.children(partnership) if include_children else []
    child_views = [partnership_view(ledger, k, on) for k in ledger.children(partnership)]
    scope_views = [view, *(v for v in child_views if v["key"] in children)]

    # what the ledger's own query methods add for the present state
    now = {"as_of": None, "on": None if on is None else str(on)}
    balance = queries.burden_balance(store, partnership, children=children) | now
    voice = queries.voice(store, partnership, children=children) | now
    targets = queries.target_progress(store, partnership, children=children) | now
    evaluations = queries.evaluation_summary(store, partnership, children=children) | now
    breakdown = queries.contribution_breakdown(store, partnership, children=children)

    decisions = sorted(
        (d | {"partnership": v["key"]} for v in scope_views for d in v["decisions"]),
        key=lambda d: (d["on"], d["key"]),
    )
    agreements = [agreement_view(ledger, a.key, on) for v in scope_views for a in store.agreements(v["key"])]
    currency = balance["currency"] or view["currency"]

    names = _PartyNames(ledger)
    parties = _parties(view, names)
    names.add_all(r["party"] for r in balance["parties"])
    names.add_all(r["party"] for r in voice["parties"])
    names.add_all(r["party"] for r in breakdown["rows"])
    names.add_all(p for a in agreements for p in a["parties"])
    names.add_all(p for d in decisions for p in (d["proposed_by"], *d["votes"]))
    for v in child_views:
        names.add_all(m["party"] for m in v["members"])

    model: dict[str, Any] = {
        "format": REPORT_FORMAT,
        "made_at": (made_at or datetime.now(UTC)).isoformat(timespec="seconds"),
        "language": default_language(currency or _members_currency(parties)),
        "include_children": children,
        "partnership": {
            "key": view["key"],
            "title": view["title"],
            "purpose": view["purpose"],
            "phase": view["phase"],
            "proposed_by": view["proposed_by"],
            "proposed_on": view["proposed_on"],
            "activated_on": view["activated_on"],
            "concluded_on": view["concluded_on"],
            "currency": currency,
            "parent": _parent(ledger, view["parent"]),
        },
        "parties": parties,
        "sub_partnerships": [
            {
                "key": v["key"],
                "title": v["title"],
                "purpose": v["purpose"],
                "phase": v["phase"],
                "parent": v["parent"],
                "members": v["current_members"],
                "included": v["key"] in children,
                "decisions": len(v["decisions"]),
            }
            for v in child_views
        ],
        "contributions": _contributions(breakdown, balance),
        "balance": balance,
        "voice": voice,
        "burden_and_voice": _burden_and_voice(balance, voice, decisions),
        "decisions": _decisions(decisions, decisions_shown),
        "agreements": [_agreement(a) for a in agreements],
        "timeline": _timeline(agreements),
        "targets": _targets(ledger, targets),
        "evaluations": [_evaluation(e, comments_shown) for e in evaluations["evaluations"]],
        "integrity": dict(integrity) if integrity is not None else integrity_section(ledger, verify),
        "corrections": corrections_section(ledger, [v["key"] for v in scope_views], parties),
    }
    model["party_names"] = names.table()
    return model


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


class _ReadOnce:
    """A fact store that remembers what it read (for one report, which only reads)."""

    def __init__(self, store: FactStore) -> None:
        self._store = store
        self._found: dict[tuple[str, tuple[Any, ...]], Any] = {}

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._store, name)
        if name.startswith(("put_", "add_", "end_")):
            raise AttributeError(f"a report does not change the facts ({name})")

        def read(*args: Any) -> Any:
            key = (name, args)
            if key not in self._found:
                self._found[key] = method(*args)
            return self._found[key]

        return read


def partnership_view(ledger: PartnershipLedger, key: str, on: date | str | None = None) -> dict[str, Any]:
    """What ``ledger.show(partnership, on=on)`` says (loading it reads its last snapshot and
    the few events after it, however many decisions it holds)."""
    kind = ledger.kind_of(key)
    if kind != "partnership":
        from ..errors import UnknownKey

        raise UnknownKey(f"there is no partnership {key}" if kind is None else f"{key} is a {kind}, not a partnership")
    return {k: v for k, v in ledger.show(key, on=on).items() if k != "version"}


class _PartyNames:
    """Names and sectors of every party the report mentions, looked up once each."""

    def __init__(self, ledger: PartnershipLedger) -> None:
        self.ledger = ledger
        self.found: dict[str, dict[str, Any]] = {}

    def get(self, key: str) -> dict[str, Any]:
        if key not in self.found:
            v = self.ledger.show(key) if self.ledger.kind_of(key) == "party" else None
            self.found[key] = (
                {"name": v["name"], "sector": v["sector"], "capacity": v["capacity"]}
                if v is not None
                else {"name": key, "sector": None, "capacity": None}
            )
        return self.found[key]

    def add_all(self, keys: Iterable[str]) -> None:
        for k in keys:
            self.get(k)

    def table(self) -> dict[str, dict[str, Any]]:
        return {k: {"name": v["name"], "sector": v["sector"]} for k, v in sorted(self.found.items())}


def _members_currency(parties: list[dict[str, Any]]) -> str | None:
    """Before any contribution: the currency most members keep their budgets in."""
    seen: dict[str, int] = {}
    for p in parties:
        if p["capacity"] is not None:
            seen[p["capacity"]["currency"]] = seen.get(p["capacity"]["currency"], 0) + 1
    return max(sorted(seen), key=lambda c: seen[c]) if seen else None


def _parent(ledger: PartnershipLedger, key: str | None) -> dict[str, Any] | None:
    if key is None:
        return None
    v = ledger.show(key)
    return {"key": key, "title": v["title"]}


def _parties(view: Mapping[str, Any], names: _PartyNames) -> list[dict[str, Any]]:
    """Everyone who is or was a member: sector, each spell (role, joined, left, why)."""
    order: dict[str, list[dict[str, Any]]] = {}
    for s in view["members"]:
        order.setdefault(s["party"], []).append(
            {"role": s["role"], "joined": s["joined"], "left": s["left"], "leave_reason": s["leave_reason"]}
        )
    out = []
    for key, spells in order.items():
        info = names.get(key)
        out.append(
            {
                "party": key,
                "name": info["name"],
                "sector": info["sector"],
                "capacity": info["capacity"],
                "proposer": key == view["proposed_by"],
                "current": key in view["current_members"],
                "spells": spells,
            }
        )
    return out


def _contributions(breakdown: Mapping[str, Any], balance: Mapping[str, Any]) -> dict[str, Any]:
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


def _burden_and_voice(
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


def _decisions(decisions: list[dict[str, Any]], shown: int) -> dict[str, Any]:
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


def _agreement(a: Mapping[str, Any]) -> dict[str, Any]:
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


def _timeline(agreements: list[dict[str, Any]]) -> list[dict[str, Any]]:
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


def _targets(ledger: PartnershipLedger, progress: Mapping[str, Any]) -> list[dict[str, Any]]:
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


def _evaluation(e: Mapping[str, Any], shown: int) -> dict[str, Any]:
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


def integrity_section(ledger: PartnershipLedger, verify: bool = False, key_pem: bytes | None = None) -> dict[str, Any]:
    """The checkpoint the report was made from: chain size, last position and root hash;
    with ``key_pem`` (an Ed25519 private key) the chain is verified and the checkpoint signed."""
    signature = public_key = None
    if verify or key_pem is not None:
        cp = make_checkpoint(ledger.db, key_pem)
        size, position, root = cp["size"], cp["position"], cp["root"]
        signature, public_key = cp["signature"], cp["public_key"]
    else:
        size, root, position = chain_head(ledger.db)
    checkpoint: dict[str, Any] = {
        "format": CHECKPOINT_FORMAT,
        "size": size,
        "position": position,
        "root": root,
    }
    command = "partnership-ledger --db LEDGER verify --checkpoint checkpoint.json"
    if signature is not None:
        checkpoint |= {"signature": signature, "public_key": public_key}
        command += " --public-key PUBLIC-KEY.pem"
    return {
        "size": size,
        "position": position,
        "root": root,
        "verified": verify or key_pem is not None,
        "checkpoint": checkpoint,
        "verify_command": command,
    }
