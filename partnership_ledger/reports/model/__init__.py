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
from typing import TYPE_CHECKING, Any

from ...integrity import CHECKPOINT_FORMAT, chain_head, make_checkpoint
from ...projections import queries
from ...projections.facts import AgreementFact, FactStore
from ..i18n import default_language
from . import governance, resources, results

if TYPE_CHECKING:
    from ...application import PartnershipLedger

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
        from ...projections.on_date import OnDate
        from ...queries.indicators import parse_on

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
    agreements = [
        governance.agreement_view(ledger, a.key, on) for v in scope_views for a in store.of(AgreementFact, v["key"])
    ]
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
        "contributions": resources.contributions(breakdown, balance),
        "balance": balance,
        "voice": voice,
        "burden_and_voice": resources.burden_and_voice(balance, voice, decisions),
        "decisions": governance.decisions(decisions, decisions_shown),
        "agreements": [governance.agreement(a) for a in agreements],
        "timeline": governance.timeline(agreements),
        "targets": results.targets(ledger, targets),
        "evaluations": [results.evaluation(e, comments_shown) for e in evaluations["evaluations"]],
        "integrity": dict(integrity) if integrity is not None else integrity_section(ledger, verify),
        "corrections": governance.corrections_section(ledger, [v["key"] for v in scope_views], parties),
    }
    model["party_names"] = names.table()
    return model


class _ReadOnce:
    """A fact store that remembers what it read (for one report, which only reads)."""

    def __init__(self, store: FactStore) -> None:
        self._store = store
        self._found: dict[tuple[str, tuple[Any, ...]], Any] = {}

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._store, name)
        if name in ("put", "add", "replace", "add_amounts"):
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
        from ...errors import UnknownKey

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
