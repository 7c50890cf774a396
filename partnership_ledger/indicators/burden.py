"""Balance of burden: shares of the resources, Gini, HHI, deviation from the agreed
shares, burden against each party's capacity, and who carries an excessive burden."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, localcontext

from .exact import EXACT, ZERO, div, exact_shares, exact_sum, finite, mul, sub


def burden_shares(values: Mapping[str, Decimal]) -> dict[str, Decimal | None]:
    """Each party's share of the total: ``share_i = value_i / total``.

    ``values`` maps party key to value (delivered or pledged, zero included). Returns
    the same keys in the same order. When the total is 0 every share is ``None``.
    Otherwise the shares sum to exactly ``Decimal(1)``: a quotient that terminates
    within ``SHARE_PLACES`` places is exact; the others are rounded to that many
    places and the largest share (ties: first key in sorted order) absorbs the
    residue of at most a few units in the 27th place.
    """
    return exact_shares({k: finite(v, f"value of {k!r}") for k, v in values.items()})


def gini(values: Sequence[Decimal]) -> Decimal | None:
    """Gini coefficient ``Σ_i Σ_j |v_i − v_j| / (2 n² mean)``.

    ``None`` when there are no values or their total is 0. For non-negative values
    it lies in ``[0, (n−1)/n]``: 0 when everyone carries the same, ``(n−1)/n`` when
    one party carries everything. O(n log n): with the values sorted ascending,
    ``Σ_i Σ_j |v_i − v_j| = 2 Σ_i (2i − n − 1) v_(i)``, so the coefficient is
    ``Σ_i (2i − n − 1) v_(i) / (n · total)``, numerator and denominator exact.
    """
    n = len(values)
    if n == 0:
        return None
    ordered = sorted(finite(v, "value") for v in values)
    total = exact_sum(ordered)
    if total.is_zero():
        return None
    with localcontext(EXACT):
        weighted = sum(((2 * i - n - 1) * v for i, v in enumerate(ordered, start=1)), ZERO)
    return div(weighted, mul(Decimal(n), total))


def hhi(shares: Mapping[str, Decimal | None]) -> Decimal | None:
    """Herfindahl–Hirschman index ``Σ share_i²`` (exact).

    Pass the result of :func:`burden_shares`. ``None`` when there are no shares or
    the shares are undefined (any ``None``, i.e. a zero total). For shares summing
    to 1 it lies in ``[1/n, 1]``.
    """
    if not shares:
        return None
    defined: list[Decimal] = []
    for key, share in shares.items():
        if share is None:
            return None
        defined.append(finite(share, f"share of {key!r}"))
    return exact_sum(mul(s, s) for s in defined)


def deviations(
    shares: Mapping[str, Decimal | None],
    agreed: Mapping[str, Decimal] | None,
) -> dict[str, Decimal | None]:
    """Each party's actual share minus its agreed share: ``share_i − agreed_i``.

    ``agreed`` holds the shares of the agreement in force, or ``None`` when there
    is none. Keys: those of ``shares`` in order, then any party only in ``agreed``.
    A deviation is ``None`` when either side is missing (a party absent from
    ``agreed`` has no agreed share; a ``None`` share is undefined). Exact.
    """
    agreed = agreed or {}
    result: dict[str, Decimal | None] = {}
    for key in [*shares, *(k for k in agreed if k not in shares)]:
        share = shares.get(key)
        agreed_share = agreed.get(key)
        if share is None or agreed_share is None:
            result[key] = None
        else:
            result[key] = sub(
                finite(share, f"share of {key!r}"),
                finite(agreed_share, f"agreed share of {key!r}"),
            )
    return result


def capacity_burdens(
    values: Mapping[str, Decimal],
    capacities: Mapping[str, Decimal | None],
) -> tuple[dict[str, Decimal | None], dict[str, Decimal | None]]:
    """Burden relative to each party's capacity (annual budget).

    Returns ``(capacity_burden, relative_capacity_burden)``, both keyed like
    ``values``. ``capacity_burden_i = value_i / capacity_i``; ``None`` when the party
    has no capacity or a capacity that is not positive. ``relative_i =
    capacity_burden_i / mean`` where ``mean`` is taken over the parties that have a
    capacity burden; ``None`` for the others, and for everyone when no party has one
    or the mean is 0. A relative burden of 2 means twice the average strain.
    """
    burden: dict[str, Decimal | None] = {}
    for key, value in values.items():
        value = finite(value, f"value of {key!r}")
        capacity = capacities.get(key)
        if capacity is None or finite(capacity, f"capacity of {key!r}") <= 0:
            burden[key] = None
        else:
            burden[key] = div(value, finite(capacity, "capacity"))
    defined = [b for b in burden.values() if b is not None]
    relative: dict[str, Decimal | None] = dict.fromkeys(burden)
    if defined:
        mean_total = exact_sum(defined)
        if not mean_total.is_zero():
            # b / (Σ/k) = b·k / Σ: one rounding instead of two.
            count = Decimal(len(defined))
            for key, b in burden.items():
                if b is not None:
                    relative[key] = div(mul(b, count), mean_total)
    return burden, relative


def excessive_burden(
    deviations: Mapping[str, Decimal | None],
    relative_capacity_burdens: Mapping[str, Decimal | None],
    *,
    deviation_threshold: Decimal = Decimal("0.05"),
    relative_capacity_threshold: Decimal = Decimal("2"),
) -> list[str]:
    """Parties carrying an excessive burden, sorted by key.

    A party is listed when its deviation from the agreed share is strictly above
    ``deviation_threshold`` or its relative capacity burden is strictly above
    ``relative_capacity_threshold``. ``None`` values never qualify.
    """
    flagged: set[str] = set()
    for key, deviation in deviations.items():
        if deviation is not None and deviation > deviation_threshold:
            flagged.add(key)
    for key, relative in relative_capacity_burdens.items():
        if relative is not None and relative > relative_capacity_threshold:
            flagged.add(key)
    return sorted(flagged)
