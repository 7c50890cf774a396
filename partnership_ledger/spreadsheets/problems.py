"""Where a problem in a spreadsheet is: a sheet, a row, a column (``pledge!F14``), a field."""

from __future__ import annotations

from typing import Any

from ..errors import JournalProblem

MAX_PROBLEMS = 200  # stop collecting after this many: the first ones say what is wrong


class CellProblem(JournalProblem):
    """A problem in a spreadsheet, named by its cell (or row) in A1 notation and its column.

    ``str()`` gives ``pledge!F14 (value/amount): ...``; the journal's index, op and field are
    kept too where known, so ``--json`` errors carry both.
    """

    def __init__(
        self,
        message: str,
        sheet: str,
        row: int | None,
        column: str | None = None,
        header: str | None = None,
        *,
        index: int | None = None,
        op: str | None = None,
        field: str | None = None,
        rule: str | None = None,
    ) -> None:
        super().__init__(message, index, op, field or header, rule)
        self.sheet = sheet
        self.row = row
        self.column = column
        self.header = header

    @property
    def cell(self) -> str:
        """``sheet!F14`` (a cell), ``sheet!14`` (a row), ``sheet!F`` (a column) or ``sheet``."""
        where = f"{self.column or ''}{self.row if self.row is not None else ''}"
        return f"{self.sheet}!{where}" if where else self.sheet

    def __str__(self) -> str:
        named = self.header or self.field
        what = f" ({named})" if named else ""
        return f"{self.cell}{what}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            "cell": self.cell,
            "sheet": self.sheet,
            "row": self.row,
            "column": self.header,
        }
