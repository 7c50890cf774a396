"""Pure indicator functions: burden, voice, targets and evaluations.

Everything here is Decimal in, Decimal out: no floats, no I/O and no imports from the
rest of the package, so the read models and replay compute identical numbers. A value
that is undefined (zero total, no capacity, no data) is ``None``; nothing here raises
``ZeroDivisionError``.

Arithmetic never depends on the caller's decimal context. Sums, differences and
products run in an unbounded context, so they are exact; each division runs once, at
the end, correctly rounded to ``PRECISION`` significant digits. Because of that, the
indicators are exactly invariant under reordering (and, for Gini, under scaling), and
a quotient that terminates within the precision is exact (``3/10`` is ``0.3``).

Formulas follow DESIGN.md, section "Indicators". Use :func:`quantize6` to turn a
result into the 6-place string that JSON output carries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
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
from typing import Literal

__all__ = [
    "PRECISION",
    "SHARE_PLACES",
    "CriterionSummary",
    "Direction",
    "EvaluationRole",
    "TargetProgress",
    "TargetStatus",
    "alignment",
    "burden_shares",
    "capacity_burdens",
    "deviations",
    "disproportionality",
    "evaluation_summary",
    "excessive_burden",
    "gini",
    "hhi",
    "money_without_voice",
    "quantize6",
    "target_progress",
    "voice_counts",
    "voice_shares",
]

PRECISION = 50
"""Significant digits of every division."""

SHARE_PLACES = 27
"""Decimal places a share is rounded to when its quotient does not terminate sooner.

27 places keep every share of non-negative values at most 28 significant digits, so
even ``sum(shares.values())`` in Python's default context (precision 28) is exact and
gives exactly ``Decimal(1)``.
"""

_TRAPS = [InvalidOperation, DivisionByZero, Overflow]

# Additions, subtractions, multiplications and quantize: unbounded, hence exact
# (the decimal documentation's recipe for exact arithmetic; never divide in it).
_EXACT = Context(
    prec=MAX_PREC,
    Emax=MAX_EMAX,
    Emin=MIN_EMIN,
    rounding=ROUND_HALF_EVEN,
    traps=_TRAPS,
)
# Divisions: correctly rounded to PRECISION significant digits.
_DIVIDE = Context(
    prec=PRECISION,
    Emax=MAX_EMAX,
    Emin=MIN_EMIN,
    rounding=ROUND_HALF_EVEN,
    traps=_TRAPS,
)

_ZERO = Decimal(0)
_ONE = Decimal(1)
_HALF = Decimal("0.5")
_SIX_PLACES = Decimal("0.000001")
_SHARE_QUANTUM = Decimal(1).scaleb(-SHARE_PLACES)

Direction = Literal["increase", "decrease"]
TargetStatus = Literal["achieved", "on_track", "off_track", "no_data"]
EvaluationRole = Literal["party", "resident", "external"]
_ROLES: tuple[EvaluationRole, ...] = ("party", "resident", "external")


# --------------------------------------------------------------------------- helpers


def _finite(value: Decimal, what: str) -> Decimal:
    """The value itself, if it is a finite Decimal (an int is taken exactly)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if not isinstance(value, Decimal):
        # Floats above all: money and indicators never pass through binary floats.
        raise TypeError(f"{what} must be a Decimal, not {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"{what} must be a finite Decimal, not {value}")
    return value


def _sum(values: Iterable[Decimal]) -> Decimal:
    """Exact sum."""
    with localcontext(_EXACT):
        return sum(values, _ZERO)


def _sub(a: Decimal, b: Decimal) -> Decimal:
    return _EXACT.subtract(a, b)


def _mul(a: Decimal, b: Decimal) -> Decimal:
    return _EXACT.multiply(a, b)


def _div(a: Decimal, b: Decimal) -> Decimal:
    """Correctly rounded quotient; callers make sure ``b`` is not zero."""
    return _DIVIDE.divide(a, b)


def _exact_shares(values: Mapping[str, Decimal]) -> dict[str, Decimal | None]:
    """value/total per key, adjusted so the shares sum to exactly 1."""
    total = _sum(values.values())
    if total.is_zero():
        return dict.fromkeys(values)
    shares: dict[str, Decimal] = {}
    for key, value in values.items():
        share = _div(value, total)
        # A non-terminating (or very long) quotient is capped at SHARE_PLACES so the
        # residue below is tiny and sums stay exact in ordinary contexts; a short
        # exact quotient (0.125) is kept as it is.
        capped = share.quantize(_SHARE_QUANTUM, context=_EXACT)
        shares[key] = share if capped == share else capped
    residue = _sub(_ONE, _sum(shares.values()))
    if not residue.is_zero():
        # Deterministic: the largest share absorbs the rounding residue; among
        # equal largest shares, the first key in sorted order.
        largest = min(shares, key=lambda key: (-shares[key], key))
        shares[largest] = _EXACT.add(shares[largest], residue)
    return dict(shares)


# ------------------------------------------------------------------------ formatting


def quantize6(d: Decimal | None) -> str | None:
    """Format an indicator for JSON: 6 decimal places, ``ROUND_HALF_EVEN``.

    ``None`` stays ``None``; ``-0`` comes out as ``"0.000000"``. Plain notation,
    never an exponent: ``quantize6(Decimal("1")/3) == "0.333333"``.
    """
    if d is None:
        return None
    q = _finite(d, "value").quantize(_SIX_PLACES, context=_EXACT)
    if q.is_zero():
        q = q.copy_abs()
    return f"{q:f}"


# ---------------------------------------------------------------- balance of burden


def burden_shares(values: Mapping[str, Decimal]) -> dict[str, Decimal | None]:
    """Each party's share of the total: ``share_i = value_i / total``.

    ``values`` maps party key to value (delivered or pledged, zero included). Returns
    the same keys in the same order. When the total is 0 every share is ``None``.
    Otherwise the shares sum to exactly ``Decimal(1)``: a quotient that terminates
    within ``SHARE_PLACES`` places is exact; the others are rounded to that many
    places and the largest share (ties: first key in sorted order) absorbs the
    residue of at most a few units in the 27th place.
    """
    return _exact_shares({k: _finite(v, f"value of {k!r}") for k, v in values.items()})


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
    ordered = sorted(_finite(v, "value") for v in values)
    total = _sum(ordered)
    if total.is_zero():
        return None
    with localcontext(_EXACT):
        weighted = sum(((2 * i - n - 1) * v for i, v in enumerate(ordered, start=1)), _ZERO)
    return _div(weighted, _mul(Decimal(n), total))


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
        defined.append(_finite(share, f"share of {key!r}"))
    return _sum(_mul(s, s) for s in defined)


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
            result[key] = _sub(
                _finite(share, f"share of {key!r}"),
                _finite(agreed_share, f"agreed share of {key!r}"),
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
        value = _finite(value, f"value of {key!r}")
        capacity = capacities.get(key)
        if capacity is None or _finite(capacity, f"capacity of {key!r}") <= 0:
            burden[key] = None
        else:
            burden[key] = _div(value, _finite(capacity, "capacity"))
    defined = [b for b in burden.values() if b is not None]
    relative: dict[str, Decimal | None] = dict.fromkeys(burden)
    if defined:
        mean_total = _sum(defined)
        if not mean_total.is_zero():
            # b / (Σ/k) = b·k / Σ: one rounding instead of two.
            count = Decimal(len(defined))
            for key, b in burden.items():
                if b is not None:
                    relative[key] = _div(_mul(b, count), mean_total)
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


# --------------------------------------------------------------------------- voice


def voice_counts(
    decisions: Iterable[tuple[str, Iterable[str]]],
    parties: Iterable[str] = (),
) -> dict[str, int]:
    """Count each party's voice in decisions.

    Each decision is ``(proposer, voters)``: the proposer gets 1 and each distinct
    voter gets 1, so a proposer who also votes gets 2. Pass ``parties`` (e.g. all
    members) to list parties without any voice with 0. Keys: ``parties`` in order,
    then others as first seen.
    """
    counts: dict[str, int] = dict.fromkeys(parties, 0)
    for proposer, voters in decisions:
        counts[proposer] = counts.get(proposer, 0) + 1
        for voter in dict.fromkeys(voters):
            counts[voter] = counts.get(voter, 0) + 1
    return counts


def voice_shares(counts: Mapping[str, int]) -> dict[str, Decimal | None]:
    """Each party's share of all voice counts (see :func:`voice_counts`).

    All ``None`` when there are no counts at all; otherwise the shares sum to
    exactly 1, with the same rounding rule as :func:`burden_shares`.
    """
    return _exact_shares({key: Decimal(count) for key, count in counts.items()})


def _defined(shares: Mapping[str, Decimal | None]) -> dict[str, Decimal] | None:
    defined = {k: _finite(v, f"share of {k!r}") for k, v in shares.items() if v is not None}
    return defined or None


def disproportionality(
    voice_shares: Mapping[str, Decimal | None],
    burden_shares: Mapping[str, Decimal | None],
) -> Decimal | None:
    """Loosemore–Hanby disproportionality ``½ Σ_i |voice_share_i − share_i|``.

    Taken over the union of parties, a missing (or ``None``) share counting as 0.
    ``None`` when either side is empty or entirely ``None``. Exact; for two sets of
    shares that each sum to 1 it lies in ``[0, 1]``.
    """
    voice = _defined(voice_shares)
    burden = _defined(burden_shares)
    if voice is None or burden is None:
        return None
    keys = [*voice, *(k for k in burden if k not in voice)]
    gaps = (_sub(voice.get(k, _ZERO), burden.get(k, _ZERO)).copy_abs() for k in keys)
    return _mul(_HALF, _sum(gaps))


def alignment(disproportionality: Decimal | None) -> Decimal | None:
    """``1 − disproportionality``: 1 when voice mirrors burden exactly; ``None`` stays."""
    if disproportionality is None:
        return None
    return _sub(_ONE, _finite(disproportionality, "disproportionality"))


def money_without_voice(
    money_delivered: Mapping[str, Decimal],
    voters: Iterable[str],
) -> list[str]:
    """Parties that put in money but no voice ("put in money, put in your voice").

    ``money_delivered`` maps party to money delivered in the period; ``voters`` are
    the parties that cast a vote in it. Returns, sorted, the parties with money
    above 0 that are not among the voters.
    """
    voted = set(voters)
    return sorted(
        key for key, money in money_delivered.items() if _finite(money, f"money of {key!r}") > 0 and key not in voted
    )


# ------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class TargetProgress:
    """Where a numeric target stands, from :func:`target_progress`.

    ``period``: the latest target period with a measurement (``None`` if none);
    ``latest``: the measurement there; ``target``: the target there; ``progress``:
    ``(latest − baseline) / (target − baseline)``, 1 meaning the target is met;
    ``expected``: the value on the straight line from the baseline to the final
    target at that period; ``status``: ``achieved``, ``on_track``, ``off_track`` or
    ``no_data``.
    """

    period: str | None
    latest: Decimal | None
    target: Decimal | None
    progress: Decimal | None
    expected: Decimal | None
    status: TargetStatus


def _meets(direction: Direction, value: Decimal, bar: Decimal) -> bool:
    return value >= bar if direction == "increase" else value <= bar


def target_progress(
    direction: Direction,
    baseline: Decimal,
    targets: Sequence[tuple[str, Decimal]],
    measurements: Mapping[str, Decimal],
) -> TargetProgress:
    """Progress of a numeric (LAA-style) target.

    ``targets`` are ``(period, value)`` in period order; ``measurements`` map period
    to measured value (periods without a target are ignored). ``P`` is the latest
    target period with a measurement; without one the status is ``no_data``.

    ``progress = (m[P] − baseline) / (t[P] − baseline)`` serves both directions
    (for ``decrease`` both sides are negative when improving) and is exactly 1 when
    the measurement equals the target. When ``t[P] == baseline`` progress is 1 if
    the measurement meets or beats the target in ``direction``, else 0.

    ``expected = baseline + (t_final − baseline)·i/n``, the straight line from the
    baseline (position 0) to the final target (position n) at P's 1-based position
    i. Status: ``achieved`` if progress ≥ 1; else ``off_track`` at the final
    period; else ``on_track`` if ``m[P]`` is at least ``expected`` (``decrease``: at
    most), otherwise ``off_track``.
    """
    if direction not in ("increase", "decrease"):
        raise ValueError(f"direction must be 'increase' or 'decrease', not {direction!r}")
    baseline = _finite(baseline, "baseline")
    n = len(targets)
    position = next((i for i in range(n, 0, -1) if targets[i - 1][0] in measurements), None)
    if position is None:
        return TargetProgress(None, None, None, None, None, "no_data")

    period, target = targets[position - 1]
    target = _finite(target, f"target for {period!r}")
    latest = _finite(measurements[period], f"measurement for {period!r}")
    final = _finite(targets[-1][1], f"target for {targets[-1][0]!r}")

    span = _sub(target, baseline)
    if span.is_zero():
        progress = _ONE if _meets(direction, latest, target) else _ZERO
    else:
        progress = _div(_sub(latest, baseline), span)

    rise = _mul(_sub(final, baseline), Decimal(position))  # (t_final − b)·i
    expected = _EXACT.add(baseline, _div(rise, Decimal(n)))

    status: TargetStatus
    if progress >= 1:
        status = "achieved"
    elif position == n:
        status = "off_track"
    else:
        # Compare exactly, scaled by n: m·n against b·n + (t_final − b)·i.
        scaled_latest = _mul(latest, Decimal(n))
        scaled_expected = _EXACT.add(_mul(baseline, Decimal(n)), rise)
        on_track = _meets(direction, scaled_latest, scaled_expected)
        status = "on_track" if on_track else "off_track"
    return TargetProgress(period, latest, target, progress, expected, status)


# --------------------------------------------------------------------- evaluations


@dataclass(frozen=True)
class CriterionSummary:
    """One criterion of an evaluation round, from :func:`evaluation_summary`.

    Means per role (``None`` when no one in that role scored the criterion);
    ``others_mean`` pools every non-resident score; ``combined`` weighs residents
    by the round's ``resident_weight``; ``gap = party_mean − resident_mean``;
    ``counts`` holds the number of scores per role (all three roles present).
    """

    criterion: str
    party_mean: Decimal | None
    resident_mean: Decimal | None
    external_mean: Decimal | None
    others_mean: Decimal | None
    combined: Decimal | None
    gap: Decimal | None
    counts: dict[str, int]


def _mean(total: Decimal, count: int) -> Decimal | None:
    return _div(total, Decimal(count)) if count else None


def evaluation_summary(
    criteria: Sequence[str],
    submissions: Iterable[tuple[str, Mapping[str, int]]],
    resident_weight: Decimal,
) -> list[CriterionSummary]:
    """Summarise an evaluation round per criterion, in the order of ``criteria``.

    Each submission is ``(role, scores)`` with role ``party``, ``resident`` or
    ``external`` and scores mapping criterion to an integer score; scores for
    criteria not listed are ignored. ``resident_weight`` (w, in [0, 1]) gives
    ``combined = w·resident_mean + (1−w)·others_mean``, or whichever of the two
    exists when only one does (``None`` if neither). Each party's own view stays
    visible in ``party_mean`` and ``gap``, never averaged away.
    """
    weight = _finite(resident_weight, "resident_weight")
    if not 0 <= weight <= 1:
        raise ValueError(f"resident_weight must be between 0 and 1, not {weight}")
    sums = {c: dict.fromkeys(_ROLES, 0) for c in criteria}
    counts = {c: dict.fromkeys(_ROLES, 0) for c in criteria}
    for role, scores in submissions:
        if role not in _ROLES:
            raise ValueError(f"role must be one of {', '.join(_ROLES)}, not {role!r}")
        for criterion, score in scores.items():
            if criterion in sums:
                sums[criterion][role] += score
                counts[criterion][role] += 1

    summaries: list[CriterionSummary] = []
    for criterion in criteria:
        s, k = sums[criterion], counts[criterion]
        party_mean = _mean(Decimal(s["party"]), k["party"])
        resident_mean = _mean(Decimal(s["resident"]), k["resident"])
        external_mean = _mean(Decimal(s["external"]), k["external"])
        others_sum = Decimal(s["party"] + s["external"])
        others_count = k["party"] + k["external"]
        others_mean = _mean(others_sum, others_count)
        combined: Decimal | None
        if resident_mean is not None and others_mean is not None:
            # w·Sr/kr + (1−w)·So/ko as one fraction, so it is rounded only once.
            numerator = _EXACT.add(
                _mul(_mul(weight, Decimal(s["resident"])), Decimal(others_count)),
                _mul(_mul(_sub(_ONE, weight), others_sum), Decimal(k["resident"])),
            )
            combined = _div(numerator, Decimal(k["resident"] * others_count))
        else:
            combined = resident_mean if resident_mean is not None else others_mean
        gap = _sub(party_mean, resident_mean) if party_mean is not None and resident_mean is not None else None
        summaries.append(
            CriterionSummary(
                criterion=criterion,
                party_mean=party_mean,
                resident_mean=resident_mean,
                external_mean=external_mean,
                others_mean=others_mean,
                combined=combined,
                gap=gap,
                counts={role: k[role] for role in _ROLES},
            )
        )
    return summaries
