"""The contributions of a ledger, one row each: what was pledged, delivered, corrected,
withdrawn. The query behind ``partnership-ledger contributions``."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from ..domain.contribution import ResourceContribution
from ..domain.values import exact_sum
from ..errors import InvalidArgument, UnknownKey
from .views import contribution_view

if TYPE_CHECKING:
    from ..application import PartnershipLedger


def contribution_row(c: ResourceContribution, on: date | None = None) -> dict[str, Any]:
    """One contribution as a row: amounts (Decimal) in the contribution's currency.

    ``delivered`` sums the deliveries, ``corrections`` the signed corrections (so what was
    put in is their sum); ``evidence`` counts the deliveries that name their evidence. With
    ``on``, only what took effect on or before that date counts (as ``show --on`` says it).
    """
    view = contribution_view(c, on)
    deliveries = view["deliveries"]
    return {
        "contribution": c.key,
        **{name: view[name] for name in ("partnership", "party")},
        "kind": view["resource_kind"],
        "instrument": view["instrument"],
        "currency": c.currency,
        "pledged": c.pledged.amount,
        "delivered": exact_sum(d["value"]["amount"] for d in deliveries),
        "corrections": exact_sum(x["delta"]["amount"] for x in view["corrections"]),
        "withdrawn": view["withdrawn"]["amount"],
        **{name: view[name] for name in ("agreement", "fiscal_year")},
        "evidence": sum(1 for d in deliveries if d["evidence"]),
    }


def contributions(
    ledger: PartnershipLedger,
    partnership: str | None = None,
    *,
    party: str | None = None,
    fiscal_year: int | None = None,
    kind: str | None = None,
    on: date | None = None,
    as_of: datetime | date | str | None = None,
) -> list[dict[str, Any]]:
    """Every contribution (of ``partnership``, ``party``, ``fiscal_year``, ``kind`` if given),
    ordered by partnership, fiscal year, party and key.

    ``on``: only what took effect by that date counts; ``as_of``: only the contributions
    recorded by that time, as the ledger then said (its deliveries, corrections and
    withdrawals recorded by then). Both compose.
    """
    for key, what in ((partnership, "partnership"), (party, "party")):
        if key is not None and ledger.kind_of(key) != what:
            raise UnknownKey(f"there is no {what} named {key} in the ledger")
    if kind is not None:
        from ..domain.values import ContributionKind

        if kind not in {k.value for k in ContributionKind}:
            choices = ", ".join(k.value for k in ContributionKind)
            raise InvalidArgument(f"kind must be one of {choices}, not {kind!r}")
    wanted = {"partnership": partnership, "party": party, "fiscal_year": fiscal_year}
    rows = []
    for c in ledger._recorded("contribution", as_of):
        assert isinstance(c, ResourceContribution)
        if any(value is not None and getattr(c, name) != value for name, value in wanted.items()):
            continue
        if kind is None or c.kind_of_resource.value == kind:
            rows.append(contribution_row(c, on))
    rows.sort(key=lambda r: (r["partnership"], r["fiscal_year"], r["party"], r["contribution"]))
    return rows
