"""Evaluation rounds: mean scores by role, the resident-weighted combined score, the gap."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from .exact import EXACT, ONE, div, finite, mul, sub

EvaluationRole = Literal["party", "resident", "external"]
_ROLES: tuple[EvaluationRole, ...] = ("party", "resident", "external")


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
    return div(total, Decimal(count)) if count else None


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
    weight = finite(resident_weight, "resident_weight")
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
            numerator = EXACT.add(
                mul(mul(weight, Decimal(s["resident"])), Decimal(others_count)),
                mul(mul(sub(ONE, weight), others_sum), Decimal(k["resident"])),
            )
            combined = div(numerator, Decimal(k["resident"] * others_count))
        else:
            combined = resident_mean if resident_mean is not None else others_mean
        gap = sub(party_mean, resident_mean) if party_mean is not None and resident_mean is not None else None
        counted: dict[str, int] = {role: k[role] for role in _ROLES}
        summaries.append(
            CriterionSummary(criterion, party_mean, resident_mean, external_mean, others_mean, combined, gap, counted)
        )
    return summaries
