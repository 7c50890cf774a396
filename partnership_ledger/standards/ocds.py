"""OCDS: a release package (Open Contracting Data Standard 1.1.5), one contracting process
(``ocid``) per agreement, one release per change (per journal operation), and a record package with each process's
compiled release.

Each release is the whole process as it stood after a change of the ledger (a snapshot), so
merging them in order (OCDS's compiling) gives the last one: the compiled release. A change
that alters nothing OCDS shows (a partial consent, another party's signature...) still gets
its release when the snapshot differs, and none when it does not. docs/standards.md gives the
mapping field by field.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ..domain import Agreement, ResourceContribution
from ..domain.values import ContributionKind
from ..errors import InvalidArgument
from .history import GOVERNMENT_SECTORS, LedgerState, recipient_of, replay_operations
from .orgs import LeftOut

#: A placeholder: publishers register their own prefix with the OCDS helpdesk.
DEFAULT_OCID_PREFIX = "ocds-xxxxxx"
VERSION = "1.1"


def _dt(day: date) -> str:
    """A date as OCDS's date-time: midnight UTC of that day (the ledger records days)."""
    return f"{day.isoformat()}T00:00:00Z"


def ocds_export(
    events: Iterable[tuple[int, Any]],
    *,
    ocid_prefix: str = DEFAULT_OCID_PREFIX,
    publisher: str = "partnership-ledger",
    uri: str | None = None,
    published: datetime | None = None,
) -> dict[str, Any]:
    """``{"release_package", "record_package", "left_out"}`` for the ledger's events.

    ``ocid_prefix``: the publisher's registered OCDS prefix (``ocds-`` and 6 characters);
    each agreement's ocid is ``<prefix>-<agreement key>``.
    """
    if not ocid_prefix.startswith("ocds-") or len(ocid_prefix) < 6:
        raise InvalidArgument(
            f"an ocid prefix starts with ocds- and the publisher's registered code, not {ocid_prefix!r}"
        )
    left = LeftOut()
    releases: dict[str, list[dict[str, Any]]] = {}
    last_body: dict[str, dict[str, Any]] = {}
    last_state: LedgerState | None = None
    for changes, state in replay_operations(events):
        last_state = state
        change = changes[0]
        touched = {a.key: a for c in changes for a in _agreements_touched(state, c.kind, c.key)}
        for agreement in touched.values():
            ocid = f"{ocid_prefix}-{agreement.key}"
            body = _body(state, agreement, ocid, left)
            before = last_body.get(ocid)
            if before == body:
                continue
            last_body[ocid] = body
            release = {
                "ocid": ocid,
                "id": f"{ocid}-{change.position}",
                "date": change.recorded.isoformat(),
                "tag": _tags(before, body),
                "initiationType": "tender",
                **copy.deepcopy(body),
            }
            releases.setdefault(ocid, []).append(release)
    if last_state is not None:
        for c in last_state.contributions.values():
            if c.agreement is None:
                left.contribution(
                    c, "made outside any agreement: OCDS describes contracting processes (agreements) only"
                )
            elif c.kind_of_resource is not ContributionKind.MONEY:
                left.contribution(c, f"in kind ({c.kind_of_resource.value}): an OCDS budget and transactions are money")
    if not releases:
        raise InvalidArgument("there is no agreement to export (each OCDS contracting process is an agreement)")
    when = (published or datetime.now().astimezone()).isoformat()
    head: dict[str, Any] = {
        "uri": uri or f"urn:partnership-ledger:{ocid_prefix}",
        "version": VERSION,
        "publishedDate": when,
        "publisher": {"name": publisher},
    }
    all_releases = [r for ocid in sorted(releases) for r in releases[ocid]]
    records = []
    for ocid in sorted(releases):
        compiled = copy.deepcopy(releases[ocid][-1])
        compiled["id"] = f"{ocid}-compiled"
        compiled["tag"] = ["compiled"]
        records.append({"ocid": ocid, "releases": releases[ocid], "compiledRelease": compiled})
    return {
        "release_package": {**head, "releases": all_releases},
        "record_package": {**head, "records": records},
        "left_out": left.items,
    }


def _agreements_touched(state: LedgerState, kind: str, key: str) -> list[Agreement]:
    if kind == "agreement":
        return [state.agreements[key]]
    if kind == "contribution":
        c = state.contributions[key]
        return [state.agreements[c.agreement]] if c.agreement is not None else []
    if kind == "party":
        return [
            a
            for a in state.agreements.values()
            if key in a.parties
            or any(c.agreement == a.key and key in (c.party, c.recipient) for c in state.contributions.values())
        ]
    return []


def _money_under(state: LedgerState, agreement: Agreement) -> list[ResourceContribution]:
    return sorted(
        (
            c
            for c in state.contributions.values()
            if c.agreement == agreement.key and c.kind_of_resource is ContributionKind.MONEY
        ),
        key=lambda c: c.key,
    )


def _party_id(state: LedgerState, key: str, ocid: str) -> str:
    party = state.parties[key]
    return party.identifiers[0] if party.identifiers else f"{ocid}-party-{key}"


def _body(state: LedgerState, agreement: Agreement, ocid: str, left: LeftOut) -> dict[str, Any]:
    """The process as it stands: parties, buyer, planning, awards, contracts."""
    partnership = state.partnerships[agreement.partnership]
    currency = partnership.currency
    money = _money_under(state, agreement)
    roles: dict[str, list[str]] = {}  # party id -> roles, in first-seen order
    orgs: dict[str, dict[str, Any]] = {}

    def role(key: str, name: str) -> dict[str, str]:
        if key.startswith("partnership:"):
            pkey = key.removeprefix("partnership:")
            ref = {"id": f"{ocid}-partnership-{pkey}", "name": state.partnerships[pkey].title}
            orgs.setdefault(ref["id"], {"id": ref["id"], "name": ref["name"]})
        else:
            party = state.parties[key]
            ref = {"id": _party_id(state, key, ocid), "name": party.name}
            org: dict[str, Any] = {"id": ref["id"], "name": party.name}
            if party.identifiers:
                scheme, local = _split(party.identifiers[0])
                org["identifier"] = {"scheme": scheme, "id": local, "legalName": party.name}
                extra = [dict(zip(("scheme", "id"), _split(i), strict=True)) for i in party.identifiers[1:]]
                if extra:
                    org["additionalIdentifiers"] = extra
            else:
                left.add("party", key, f"has no organisation identifier: named {ref['id']} in the OCDS export")
            orgs.setdefault(ref["id"], org)
        names = roles.setdefault(ref["id"], [])
        if name not in names:
            names.append(name)
        return ref

    buyer: dict[str, str] | None = None
    for key in agreement.parties:
        if state.parties[key].sector.value in GOVERNMENT_SECTORS:
            ref = role(key, "buyer")
            buyer = buyer or ref
        else:
            role(key, "supplier")
    transactions: list[dict[str, Any]] = []
    total = Decimal(0)
    for c in money:
        total += c.pledged_net
        government = state.parties[c.party].sector.value in GOVERNMENT_SECTORS
        payer = role(c.party, "payer" if government else "funder")
        if not government:
            role(c.party, "payer")
        who, rkey = recipient_of(state, c)
        payee = role(rkey if who == "party" else f"partnership:{rkey}", "payee")
        for n, d in enumerate(c.deliveries, start=1):
            transactions.append(_transaction(f"{c.key}-delivery-{n}", d.on, d.value.amount, currency, payer, payee))
        for n, x in enumerate(c.corrections, start=1):
            transactions.append(_transaction(f"{c.key}-correction-{n}", x.on, x.delta.amount, currency, payer, payee))
    transactions.sort(key=lambda t: (t["date"], t["id"]))
    value = {"amount": total, "currency": currency} if currency is not None else None
    body: dict[str, Any] = {
        "parties": [{**org, "roles": roles[oid]} for oid, org in orgs.items()],
    }
    if buyer is not None:
        body["buyer"] = buyer
    budget: dict[str, Any] = {
        "id": f"{ocid}-budget",
        "description": f"money pledged under {agreement.title} ({partnership.title}), net of withdrawals",
    }
    if value is not None:
        budget["amount"] = value
    body["planning"] = {"rationale": partnership.purpose, "budget": budget}
    signed = not agreement.unsigned
    if not signed and agreement.terminated_on is None:
        return body  # still being signed: planning only
    period = {"startDate": _dt(agreement.terms.start), "endDate": _dt(agreement.terms.end)}
    suppliers = [
        {"id": _party_id(state, k, ocid), "name": state.parties[k].name}
        for k in agreement.parties
        if state.parties[k].sector.value not in GOVERNMENT_SECTORS
    ]
    award: dict[str, Any] = {
        "id": f"{agreement.key}-award",
        "title": agreement.title,
        "status": "active" if signed else "cancelled",
        "contractPeriod": period,
    }
    if signed:
        award["date"] = _dt(max(agreement.signatures.values()))
    if suppliers:
        award["suppliers"] = suppliers
    if value is not None:
        award["value"] = value
    contract: dict[str, Any] = {
        "id": agreement.key,
        "awardID": award["id"],
        "title": agreement.title,
        "status": _contract_status(agreement),
        "period": period,
    }
    if value is not None:
        contract["value"] = value
    if signed:
        contract["dateSigned"] = _dt(max(agreement.signatures.values()))
    amendments = [
        {
            "id": m.key,
            "date": _dt(m.effective_on),
            "description": "changes " + ", ".join(sorted(m.changes)) + f", proposed by {m.proposed_by}",
        }
        for m in agreement.amendments.values()
        if m.effective_on is not None
    ]
    if amendments:
        contract["amendments"] = amendments
    if transactions:
        contract["implementation"] = {"transactions": transactions}
    body["awards"] = [award]
    body["contracts"] = [contract]
    return body


def _split(identifier: str) -> tuple[str, str]:
    """``JP-JCN-7000020070009`` → (``JP-JCN``, ``7000020070009``): scheme and local id."""
    country, list_code, local = identifier.split("-", 2)
    return f"{country}-{list_code}", local


def _contract_status(agreement: Agreement) -> str:
    if agreement.terminated_on is not None:
        return "terminated" if not agreement.unsigned else "cancelled"
    return "active"


def _transaction(
    tid: str, on: date, amount: Decimal, currency: str | None, payer: dict[str, str], payee: dict[str, str]
) -> dict[str, Any]:
    return {
        "id": tid,
        "date": _dt(on),
        "value": {"amount": amount, "currency": currency},
        "payer": payer,
        "payee": payee,
    }


def _tags(before: dict[str, Any] | None, after: dict[str, Any]) -> list[str]:
    """The releaseTag codes that say what changed from ``before`` to ``after``."""
    if before is None:
        return ["planning"] + (["award", "contract"] if "contracts" in after else [])
    tags: list[str] = []
    if before.get("planning") != after.get("planning") or before.get("parties") != after.get("parties"):
        tags.append("planningUpdate")
    if "awards" in after:
        if "awards" not in before:
            cancelled = after["awards"][0]["status"] == "cancelled"
            tags += ["awardCancellation"] if cancelled else ["award", "contract"]
        else:
            if before["awards"] != after["awards"]:
                tags.append("awardUpdate")
            b, a = before["contracts"][0], after["contracts"][0]
            if len(a.get("amendments", [])) > len(b.get("amendments", [])):
                tags.append("contractAmendment")
            if a["status"] == "terminated" and b["status"] != "terminated":
                tags.append("contractTermination")
            strip = ("implementation", "amendments", "status")
            if {k: v for k, v in a.items() if k not in strip} != {k: v for k, v in b.items() if k not in strip}:
                tags.append("contractUpdate")
            bt = b.get("implementation", {}).get("transactions", [])
            at = a.get("implementation", {}).get("transactions", [])
            if at != bt:
                kept = {t["id"] for t in bt} <= {t["id"] for t in at}
                tags.append("implementation" if kept and len(at) > len(bt) else "implementationUpdate")
    return tags or ["planningUpdate"]


def budget_total(release: dict[str, Any]) -> Decimal:
    amount = release.get("planning", {}).get("budget", {}).get("amount")
    return Decimal(str(amount["amount"])) if amount else Decimal(0)
