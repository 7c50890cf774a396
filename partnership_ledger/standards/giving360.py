"""360Giving: a grants package (360Giving Data Standard 1.4.3) from the ledger's money pledges.

One grant per money pledge given as a ``grant``, ``subsidy`` or ``contribution`` (a money
pledge without an instrument counts as a contribution). docs/standards.md gives the mapping
field by field; everything the file cannot carry is listed in ``left_out``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from ..domain import ResourceContribution
from ..domain.values import ContributionKind, Instrument, fiscal_year_bounds
from ..errors import InvalidArgument
from ..privacy.registry import is_commitment
from .history import LedgerState, final_state, recipient_of
from .orgs import LeftOut, note_local_ids, org_id, partnership_org

#: 360Giving's grant ids start with "360G-" and the publisher's own prefix.
DEFAULT_ID_PREFIX = "360G-partnership-ledger"
SCHEMA_VERSION = "1.4"  # the package's "version": major.minor (the package schema's pattern)
GRANT_INSTRUMENTS = frozenset({Instrument.GRANT, Instrument.SUBSIDY, Instrument.CONTRIBUTION})


def grants_package(
    events: Iterable[tuple[int, Any]],
    *,
    partnership: str | None = None,
    fiscal_year: int | None = None,
    id_prefix: str = DEFAULT_ID_PREFIX,
    data_source: str | None = None,
    publisher: str | None = None,
) -> dict[str, Any]:
    """``{"package": <360Giving package>, "left_out": [...]}`` for the ledger's events.

    ``partnership``: only its pledges; ``fiscal_year``: only pledges for that year;
    ``id_prefix``: the publisher's 360G- prefix (grant ids, and parties without an org-id);
    ``data_source``: a URL for each grant's ``dataSource``; ``publisher``: the package's
    publisher name. Amounts are Decimal (write them as JSON numbers, exactly).
    """
    if not id_prefix.startswith("360G-") or len(id_prefix) < 6:
        raise InvalidArgument(f"a 360Giving id prefix starts with 360G- and the publisher's name, not {id_prefix!r}")
    state = final_state(events)
    if partnership is not None and partnership not in state.partnerships:
        raise InvalidArgument(f"there is no partnership {partnership} in the ledger")
    left = LeftOut()
    grants = []
    for c in sorted(state.contributions.values(), key=lambda c: c.key):
        if partnership is not None and c.partnership != partnership:
            continue
        if fiscal_year is not None and c.fiscal_year != fiscal_year:
            continue
        if c.kind_of_resource is not ContributionKind.MONEY:
            left.contribution(
                c,
                f"in kind ({c.kind_of_resource.value}, {c.pledged.amount} {c.currency}): 360Giving records money only",
            )
            continue
        instrument = c.instrument or Instrument.CONTRIBUTION
        if instrument not in GRANT_INSTRUMENTS:
            left.contribution(
                c, f"money given as {instrument.value}: not a grant (a commission is a contract: see the OCDS export)"
            )
            continue
        grants.append(_grant(state, c, instrument, id_prefix, data_source, left))
    if not grants:
        raise InvalidArgument(
            "there is no money pledge given as a grant, subsidy or contribution to export"
            + (f" in partnership {partnership}" if partnership else "")
            + (f" for fiscal year {fiscal_year}" if fiscal_year is not None else "")
            + " (a 360Giving file holds at least one grant)"
        )
    package: dict[str, Any] = {"grants": grants, "version": SCHEMA_VERSION}
    if publisher is not None:
        package["publisher"] = {"name": publisher}
    return {"package": package, "left_out": left.items}


def _grant(
    state: LedgerState,
    c: ResourceContribution,
    instrument: Instrument,
    id_prefix: str,
    data_source: str | None,
    left: LeftOut,
) -> dict[str, Any]:
    p = state.partnerships[c.partnership]
    funder = state.parties[c.party]
    who, key = recipient_of(state, c)
    local = f"{id_prefix}-org"
    if who == "party":
        recipient = _organization(state, key, local)
        note_local_ids(state, [c.party, key], left, local)
    else:
        recipient = partnership_org(state, key, local)
        note_local_ids(state, [c.party], left, local)
    agreement = state.agreements.get(c.agreement) if c.agreement else None
    grant_id = f"{id_prefix}-{c.key}"
    grant: dict[str, Any] = {
        "id": grant_id,
        "title": c.description or f"{p.title} ({instrument.value}, fiscal year {c.fiscal_year})",
        "description": f"{instrument.value} from {funder.name} to partnership {p.title}: {p.purpose}",
        "currency": c.currency,
        "amountAwarded": c.pledged_net,
        "amountDisbursed": c.delivered,
        "awardDate": award_date(state, c).isoformat(),
        "plannedDates": [_planned(state, c)],
        "recipientOrganization": [recipient],
        "fundingOrganization": [_organization(state, c.party, local)],
        "grantProgramme": [
            {"code": agreement.key, "title": agreement.title}
            if agreement is not None
            else {"code": p.key, "title": p.title}
        ],
        "dateModified": _latest(state, c).isoformat(),
    }
    transactions = disbursements(c, grant_id)
    if transactions:
        grant["disbursementTransaction"] = transactions
    if data_source is not None:
        grant["dataSource"] = data_source
    return grant


def _organization(state: LedgerState, key: str, local_prefix: str) -> dict[str, Any]:
    party = state.parties[key]
    org: dict[str, Any] = {"id": org_id(party, local_prefix), "name": party.name}
    for identifier in party.identifiers:
        if identifier.startswith("GB-CHC-") and "charityNumber" not in org:
            org["charityNumber"] = identifier.removeprefix("GB-CHC-")
        elif identifier.startswith("GB-COH-") and "companyNumber" not in org:
            org["companyNumber"] = identifier.removeprefix("GB-COH-")
    return org


def award_date(state: LedgerState, c: ResourceContribution) -> date:
    """When the pledge was decided, as the ledger knows it: the first day of its fiscal year,
    or the day its agreement came into force (the last signature) if that is later."""
    agreement = state.agreements.get(c.agreement) if c.agreement else None
    start_month = agreement.terms.fiscal_year_start if agreement is not None else _fy_start(state, c)
    first = date(c.fiscal_year, start_month, 1)
    if agreement is not None and agreement.signatures and not agreement.unsigned:
        return max(first, max(agreement.signatures.values()))
    return first


def _fy_start(state: LedgerState, c: ResourceContribution) -> int:
    # Without an agreement: the partnership's agreements' fiscal year (any), else April.
    for a in state.agreements.values():
        if a.partnership == c.partnership:
            return a.terms.fiscal_year_start
    return 4


def _planned(state: LedgerState, c: ResourceContribution) -> dict[str, Any]:
    agreement = state.agreements.get(c.agreement) if c.agreement else None
    if agreement is not None:
        # the agreement's term as it stands (consented amendments applied), within the year
        first, last = fiscal_year_bounds(c.fiscal_year, agreement.terms.fiscal_year_start)
        start, end = max(first, agreement.terms.start), min(last, agreement.terms.end)
        if start > end:
            start, end = agreement.terms.start, agreement.terms.end
        return {"startDate": start.isoformat(), "endDate": end.isoformat()}
    first, last = fiscal_year_bounds(c.fiscal_year, _fy_start(state, c))
    return {"startDate": first.isoformat(), "endDate": last.isoformat()}


def disbursements(c: ResourceContribution, grant_id: str) -> list[dict[str, Any]]:
    """Deliveries, then corrections (signed), as disbursement transactions: their values sum
    to the delivered total."""
    out: list[dict[str, Any]] = []
    for n, d in enumerate(c.deliveries, start=1):
        item: dict[str, Any] = {
            "id": f"{grant_id}-delivery-{n}",
            "transactionDate": d.on.isoformat(),
            "value": d.value.amount,
            "currency": d.value.currency,
        }
        if d.evidence and not is_commitment(d.evidence):  # private evidence: not in open data
            item["description"] = d.evidence
        out.append(item)
    for n, x in enumerate(c.corrections, start=1):
        out.append(
            {
                "id": f"{grant_id}-correction-{n}",
                "transactionDate": x.on.isoformat(),
                "value": x.delta.amount,
                "currency": x.delta.currency,
                "description": f"correction: {x.reason}",
            }
        )
    return out


def _latest(state: LedgerState, c: ResourceContribution) -> datetime:
    times = [state.last_modified("contribution", c.key), state.last_modified("party", c.party)]
    if c.recipient is not None:
        times.append(state.last_modified("party", c.recipient))
    return max(times)
