"""The history read model's quick rows for pledges, deliveries and decisions equal its general rows.

The history model makes the rows of the three most frequent operations straight from their
events (``_FAST_ROWS``); every other event goes through the journal operation it records
(``history_row``). For every event of random valid journals and of the every-operation
journal, both ways must give the very same row and parties.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from strategies import indicator_journals, valid_journals

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.projections.history import _FAST_ROWS, history_row, with_info

NewLedger = Callable[[], AbstractContextManager[PartnershipLedger]]


def assert_quick_rows_equal_general_rows(ledger: PartnershipLedger) -> int:
    checked = 0
    stored = list(ledger.stored_events())
    positions = {id(e): p for p, e in stored}
    for event, info in with_info(e for _, e in stored):
        quick = _FAST_ROWS.get(type(event).__qualname__)
        if quick is None:
            continue
        position = positions[id(event)]
        stamp = event.timestamp.isoformat()
        assert quick(position, stamp, event, info) == history_row(position, stamp, event, info)
        checked += 1
    return checked


def test_every_op_journal(new_ledger: NewLedger, every_op_path: Path) -> None:
    with new_ledger() as ledger:
        ledger.import_journal(every_op_path.read_bytes())
        assert assert_quick_rows_equal_general_rows(ledger) > 0


@settings(max_examples=15)
@given(valid_journals(min_ops=5, max_ops=40))
def test_valid_journals(new_ledger: NewLedger, ops: list[dict[str, Any]]) -> None:
    with new_ledger() as ledger:
        ledger.import_journal(json.dumps(ops))
        assert_quick_rows_equal_general_rows(ledger)


@settings(max_examples=15)
@given(indicator_journals())
def test_indicator_journals(new_ledger: NewLedger, ops: list[dict[str, Any]]) -> None:
    with new_ledger() as ledger:
        ledger.import_journal(json.dumps(ops))
        assert assert_quick_rows_equal_general_rows(ledger) > 0
