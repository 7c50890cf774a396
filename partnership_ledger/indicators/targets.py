"""Numeric (LAA-style) targets: progress from the baseline and whether it is on track."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from .exact import EXACT, ONE, ZERO, div, finite, mul, sub

Direction = Literal["increase", "decrease"]
TargetStatus = Literal["achieved", "on_track", "off_track", "no_data"]


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
    baseline = finite(baseline, "baseline")
    n = len(targets)
    position = next((i for i in range(n, 0, -1) if targets[i - 1][0] in measurements), None)
    if position is None:
        return TargetProgress(None, None, None, None, None, "no_data")

    period, target = targets[position - 1]
    target = finite(target, f"target for {period!r}")
    latest = finite(measurements[period], f"measurement for {period!r}")
    final = finite(targets[-1][1], f"target for {targets[-1][0]!r}")

    span = sub(target, baseline)
    if span.is_zero():
        progress = ONE if _meets(direction, latest, target) else ZERO
    else:
        progress = div(sub(latest, baseline), span)

    rise = mul(sub(final, baseline), Decimal(position))  # (t_final − b)·i
    expected = EXACT.add(baseline, div(rise, Decimal(n)))

    status: TargetStatus
    if progress >= 1:
        status = "achieved"
    elif position == n:
        status = "off_track"
    else:
        # Compare exactly, scaled by n: m·n against b·n + (t_final − b)·i.
        scaled_latest = mul(latest, Decimal(n))
        scaled_expected = EXACT.add(mul(baseline, Decimal(n)), rise)
        on_track = _meets(direction, scaled_latest, scaled_expected)
        status = "on_track" if on_track else "off_track"
    return TargetProgress(period, latest, target, progress, expected, status)
