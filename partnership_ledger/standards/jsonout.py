"""Writing the standards' files: amounts as exact JSON numbers.

360Giving and OCDS amounts are JSON numbers. The ledger's amounts are Decimal: simplejson
writes a Decimal as the number it is (``use_decimal``), digit for digit, never through a
float (the standard library's json cannot).
"""

from __future__ import annotations

from typing import Any

import simplejson


def dumps(data: Any) -> str:
    """``data`` as indented JSON (UTF-8 text kept as it is), Decimals as exact numbers."""
    text: str = simplejson.dumps(data, use_decimal=True, ensure_ascii=False, indent=2)
    return text + "\n"
