"""History rows carry the amount and currency of each pledge, delivery and correction.

They are columns of the history read model (not parsed back from the summary): each equals
the ``value`` (pledge, deliver) or ``delta`` (correct_contribution) of the journal operation
the row records, as an exact Decimal; every other operation has neither.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from strategies import indicator_journals

from partnership_ledger.application import PartnershipLedger

NewLedger = Callable[[], AbstractContextManager[PartnershipLedger]]


def expected(op: dict[str, Any]) -> tuple[Decimal | None, str | None]:
    money = op.get("value") if op["op"] in ("pledge", "deliver") else op.get("delta")
    if op["op"] not in ("pledge", "deliver", "correct_contribution") or money is None:
        return None, None
    return Decimal(str(money["amount"])), money["currency"]


def assert_amounts_follow_the_journal(ledger: PartnershipLedger) -> int:
    by_id = {op["id"]: op for op in ledger.export_operations()}
    checked = 0
    for row in ledger.history():
        assert (row["amount"], row["currency"]) == expected(by_id[row["op_id"]]), row
        if row["amount"] is not None:
            assert isinstance(row["amount"], Decimal)
            checked += 1
    return checked


def test_every_op_journal(new_ledger: NewLedger, every_op_path: Path) -> None:
    with new_ledger() as ledger:
        ledger.import_journal(every_op_path.read_bytes())
        assert assert_amounts_follow_the_journal(ledger) >= 3
        # the same after a rebuild from the events
        ledger.rebuild()
        assert assert_amounts_follow_the_journal(ledger) >= 3


@settings(max_examples=10)
@given(indicator_journals())
def test_indicator_journals(new_ledger: NewLedger, ops: list[dict[str, Any]]) -> None:
    with new_ledger() as ledger:
        ledger.import_journal(json.dumps(ops))
        # (a journal may have no pledge at all: then no row has an amount)
        assert assert_amounts_follow_the_journal(ledger) == sum(expected(op)[0] is not None for op in ops)
