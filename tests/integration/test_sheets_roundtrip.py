"""A ledger written as a workbook (export --format xlsx) and read back into a fresh ledger
is the same ledger: the same export, operation for operation, ids included."""

from __future__ import annotations

import io
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import exact_amounts, valid_journals

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.spreadsheets import read_operations, write_workbook

# Text a spreadsheet is tempted to change: formulas, leading zeros, CJK, emoji, long text,
# separators the cells use (; = ,), JSON-looking text, numbers and dates as text.
TRICKY = st.sampled_from(
    [
        "=SUM(A1:A9)",
        "+81-3-1234-5678",
        "-1",
        "@risk",
        "#NULL!",
        "#N/A",
        "'=quoted",
        "0012",
        "人形劇の森 🎭",
        "福島県；会津",
        "a=b; c=d",
        "[1, 2]",
        '{"x": 1}',
        "2008-04-01",
        "1,000,000円",
        "TRUE",
        " leading and trailing ",
        "multi\nline",
        "\ttabbed",
        "長" * 3000,
    ]
)
SHEET_TEXT = st.one_of(
    TRICKY,
    st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Cn")), min_size=1, max_size=30).filter(
        str.strip
    ),
)
TEXT_FIELDS = (
    "name",
    "title",
    "purpose",
    "subject",
    "reason",
    "description",
    "evidence",
    "comment",
    "note",
    "source",
    "unit",
    "valuation_basis",
)


@st.composite
def sheet_journals(draw: st.DrawFn) -> list[dict[str, Any]]:
    ops = draw(valid_journals(max_ops=20, amounts=exact_amounts(max_digits=20, max_places=10).filter(lambda d: d > 0)))
    for op in ops:
        for field in TEXT_FIELDS:
            if field in op and draw(st.booleans()):
                op[field] = draw(SHEET_TEXT)
    return ops


def export(ledger: PartnershipLedger) -> list[dict[str, Any]]:
    return list(ledger.export_operations())


@settings(max_examples=15)
@given(journal=sheet_journals())
def test_a_workbook_export_imports_into_the_same_ledger(
    journal: list[dict[str, Any]],
    new_ledger: Callable[[], AbstractContextManager[PartnershipLedger]],
    scratch: Path,
) -> None:
    with new_ledger() as first:
        first.execute(_parse(journal))
        ops = export(first)
    buffer = io.BytesIO()
    write_workbook(buffer, ops, numbered=True)
    path = _saved(buffer, scratch)
    with new_ledger() as second:
        second.execute(read_operations(path))
        assert export(second) == ops
        # and again: nothing new
        assert second.execute(read_operations(path)).applied == 0


def _parse(journal: list[dict[str, Any]]) -> list[Any]:
    from partnership_ledger.journal import parse_operations

    return parse_operations(journal)


def _saved(buffer: io.BytesIO, folder: Path) -> Path:
    path = folder / "roundtrip.xlsx"  # the same file for every example: replaced each time
    path.write_bytes(buffer.getvalue())
    return path
