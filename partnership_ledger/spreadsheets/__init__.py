"""Spreadsheets: the template clerks fill in, reading workbooks and CSV into journal
operations, and writing the ledger (and query results) back out as workbooks and CSV.

See ``docs/spreadsheets.md``. The columns come from the journal's own operation table
(:data:`partnership_ledger.journal.OPS`), so a new op or field appears here by itself.
"""

from __future__ import annotations

from .columns import SHEET_ORDER, SheetColumn, all_columns, columns_of, sheet_ops
from .opening import sheet_format
from .problems import CellProblem
from .reading import locate_error, read_operations, read_operations_located
from .writing import write_csv_folder, write_workbook

__all__ = [
    "SHEET_ORDER",
    "CellProblem",
    "SheetColumn",
    "all_columns",
    "columns_of",
    "locate_error",
    "read_operations",
    "read_operations_located",
    "sheet_format",
    "sheet_ops",
    "write_csv_folder",
    "write_workbook",
]
