"""Writing journals: typed field values back into journal JSON, one operation a line.

What :mod:`.fields` reads, :func:`to_json_value` writes back (``Decimal`` as a positional
string, dates as ISO text, ``Money`` as an object); :func:`dump_operation` makes the line that
``export`` writes for each operation.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from ..domain.values import Money, PeriodValue


def to_json_value(value: Any) -> Any:
    """Turn typed field values back into journal JSON values (Decimal as strings)."""
    if isinstance(value, Decimal):
        # Positional, never str()'s "1E-7", which the journal (rightly) does not accept.
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Money):
        return {"amount": format(value.amount, "f"), "currency": value.currency}
    if isinstance(value, PeriodValue):
        return {"period": value.period, "value": format(value.value, "f")}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {k: to_json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json_value(v) for v in value]
    return value


#: Characters that some readers take for line breaks (Python's ``str.splitlines``, JavaScript
#: before ES2019): written as JSON escapes, so that one operation is always one line.
_LINE_SEPARATORS = str.maketrans({"\u0085": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def dump_operation(op: Mapping[str, Any]) -> str:
    """One operation as a line of JSON (no character in it that any reader splits lines on:
    NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR are escaped; JSON escapes the others)."""
    return json.dumps(to_json_value(dict(op)), ensure_ascii=False, separators=(", ", ": ")).translate(_LINE_SEPARATORS)
