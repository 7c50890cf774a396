"""Pure indicator functions: burden, voice, targets and evaluations.

Everything here is Decimal in, Decimal out: no floats, no I/O and no imports from the
rest of the package, so the read models and replay compute identical numbers. A value
that is undefined (zero total, no capacity, no data) is ``None``; nothing here raises
``ZeroDivisionError``.

Arithmetic never depends on the caller's decimal context (:mod:`.exact`): sums,
differences and products are exact; each division runs once, at the end, correctly
rounded to ``PRECISION`` significant digits. Because of that, the indicators are exactly
invariant under reordering (and, for Gini, under scaling), and a quotient that terminates
within the precision is exact (``3/10`` is ``0.3``).

Formulas follow DESIGN.md, section "Indicators": :mod:`.burden`, :mod:`.voice`,
:mod:`.targets`, :mod:`.evaluations`. Use :func:`quantize6` to turn a result into the
6-place string that JSON output carries.
"""

from __future__ import annotations

from .burden import burden_shares, capacity_burdens, deviations, excessive_burden, gini, hhi
from .evaluations import CriterionSummary, EvaluationRole, evaluation_summary
from .exact import PRECISION, SHARE_PLACES, quantize6
from .targets import Direction, TargetProgress, TargetStatus, target_progress
from .voice import alignment, disproportionality, money_without_voice, voice_counts, voice_shares

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
