"""Ratios are rounded to 6 places at any magnitude (a capacity burden can be huge)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from partnership_ledger.projections.queries import q6


def test_a_ratio_past_28_digits_is_rounded_not_refused() -> None:
    assert q6(Decimal("12345678901234567890123.1234565")) == Decimal("12345678901234567890123.123456")


@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=Decimal("-1E40"), max_value=Decimal("1E40")))
def test_q6_keeps_six_places_and_stays_within_half_a_millionth(d: Decimal) -> None:
    q = q6(d)
    assert q is not None
    assert q.as_tuple().exponent == -6
    assert abs(q - d) <= Decimal("0.0000005")
