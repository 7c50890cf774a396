"""Exact decimal arithmetic for the indicators: sums exact, each division rounded once.

Sums, differences and products run in an unbounded context, so they are exact; each
division runs once, at the end, correctly rounded to ``PRECISION`` significant digits.
Nothing here depends on the caller's decimal context.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import (
    MAX_EMAX,
    MAX_PREC,
    MIN_EMIN,
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)

PRECISION = 50
"""Significant digits of every division."""

SHARE_PLACES = 27
"""Decimal places a share is rounded to when its quotient does not terminate sooner.

27 places keep every share of non-negative values at most 28 significant digits, so
even ``sum(shares.values())`` in Python's default context (precision 28) is exact and
gives exactly ``Decimal(1)``.
"""


def _context(precision: int) -> Context:
    return Context(
        prec=precision,
        Emax=MAX_EMAX,
        Emin=MIN_EMIN,
        rounding=ROUND_HALF_EVEN,
        traps=[InvalidOperation, DivisionByZero, Overflow],
    )


# Additions, subtractions, multiplications and quantize: unbounded, hence exact
# (the decimal documentation's recipe for exact arithmetic; never divide in it).
EXACT = _context(MAX_PREC)
# Divisions: correctly rounded to PRECISION significant digits.
_DIVIDE = _context(PRECISION)

ZERO = Decimal(0)
ONE = Decimal(1)
_SIX_PLACES = Decimal("0.000001")
_SHARE_QUANTUM = Decimal(1).scaleb(-SHARE_PLACES)


def finite(value: Decimal, what: str) -> Decimal:
    """The value itself, if it is a finite Decimal (an int is taken exactly)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if not isinstance(value, Decimal):
        # Floats above all: money and indicators never pass through binary floats.
        raise TypeError(f"{what} must be a Decimal, not {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"{what} must be a finite Decimal, not {value}")
    return value


def exact_sum(values: Iterable[Decimal]) -> Decimal:
    """Exact sum."""
    with localcontext(EXACT):
        return sum(values, ZERO)


def sub(a: Decimal, b: Decimal) -> Decimal:
    return EXACT.subtract(a, b)


def mul(a: Decimal, b: Decimal) -> Decimal:
    return EXACT.multiply(a, b)


def div(a: Decimal, b: Decimal) -> Decimal:
    """Correctly rounded quotient; callers make sure ``b`` is not zero."""
    return _DIVIDE.divide(a, b)


def exact_shares(values: Mapping[str, Decimal]) -> dict[str, Decimal | None]:
    """value/total per key, adjusted so the shares sum to exactly 1."""
    whole = exact_sum(values.values())
    if whole.is_zero():
        return dict.fromkeys(values)
    shares: dict[str, Decimal] = {}
    for key, value in values.items():
        share = div(value, whole)
        # A non-terminating (or very long) quotient is capped at SHARE_PLACES so the
        # residue below is tiny and sums stay exact in ordinary contexts; a short
        # exact quotient (0.125) is kept as it is.
        capped = share.quantize(_SHARE_QUANTUM, context=EXACT)
        shares[key] = share if capped == share else capped
    residue = sub(ONE, exact_sum(shares.values()))
    if not residue.is_zero():
        # Deterministic: the largest share absorbs the rounding residue; among
        # equal largest shares, the first key in sorted order.
        largest = min(shares, key=lambda key: (-shares[key], key))
        shares[largest] = EXACT.add(shares[largest], residue)
    return dict(shares)


def quantize6(d: Decimal | None) -> str | None:
    """Format an indicator for JSON: 6 decimal places, ``ROUND_HALF_EVEN``.

    ``None`` stays ``None``; ``-0`` comes out as ``"0.000000"``. Plain notation,
    never an exponent: ``quantize6(Decimal("1")/3) == "0.333333"``.
    """
    if d is None:
        return None
    q = finite(d, "value").quantize(_SIX_PLACES, context=EXACT)
    if q.is_zero():
        q = q.copy_abs()
    return f"{q:f}"
