"""Write journal operations as a workbook (the template's shape) or as CSV files.

:func:`write_workbook` writes the template (``ops`` empty, or the demo's as examples) and the
export (every operation, numbered in ``seq`` in the order it was recorded, with its ``id``),
in one shape: a README sheet, then one sheet per op (:func:`columns.sheet_ops`), row 1 the
column names with a note in Japanese and English, drop-down lists for enumerations, dates as
date cells, amounts as text (so no spreadsheet rounds them). What is written reads back
(:mod:`.reading`) as the same operations with the same ids.

Text that a spreadsheet would take for a formula (``=``, ``+``, ``-``, ``@``, tab, CR first) is
written as text: in a workbook as a string cell marked "quote prefix" (what Excel does when you
type ``'=``), in CSV with a leading ``'`` that the reader takes off again (OWASP's advice).
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from ..errors import StorageError
from .cells import needs_neutralising, neutralise, write_value
from .columns import SheetColumn, all_columns, sheet_ops
from .notes import OPS as OP_NOTES
from .notes import README_ROWS, column_note

#: Column widths (characters) by kind of column.
_WIDTHS = {"date": 12, "decimal": 16, "currency": 10, "integer": 10, "enum": 18, "key": 18, "boolean": 10}
_HEADER_FILL = "DDEBF7"
#: The error values a spreadsheet shows; text that reads like one is written as text.
ERROR_CODES = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA"})
MAX_SHEET_ROWS = 1_048_576  # Excel's (and LibreOffice's) rows in a sheet


def _cell_values(op: Mapping[str, Any], columns: list[SheetColumn], seq: int | None) -> list[Any]:
    row: list[Any] = []
    for column in columns:
        if column.field == "seq":
            row.append(seq)
            continue
        value = op.get(column.field)
        if column.sub is not None:
            value = value.get(column.sub) if isinstance(value, Mapping) else None
        row.append(None if value is None else write_value(value, column.kind))
    return row


def grouped(ops: Iterable[Mapping[str, Any]], *, numbered: bool) -> dict[str, list[list[Any]]]:
    """Each op's rows of cell values, in the sheets' order (``seq`` filled when ``numbered``)."""
    columns = all_columns()
    rows: dict[str, list[list[Any]]] = {op: [] for op in columns}
    for n, op in enumerate(ops, 1):
        name = op["op"]
        if name in rows:
            rows[name].append(_cell_values(op, columns[name], n if numbered else None))
    return rows


def _text_cell(ws: Any, value: str) -> Any:
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value=None)
    cell.value = value
    cell.data_type = "s"  # never a formula, whatever it starts with
    cell.quotePrefix = True
    return cell


def _safe_row(ws: Any, values: list[Any]) -> list[Any]:
    # Text that looks like a formula, or like an error value (openpyxl would write "#N/A" as
    # one), is written as a text cell.
    return [
        _text_cell(ws, v) if isinstance(v, str) and (needs_neutralising(v) or v in ERROR_CODES) else v for v in values
    ]


def _write_readme(book: Any) -> None:
    from openpyxl.styles import Font

    ws = book.create_sheet("README")
    ws.column_dimensions["A"].width = 90
    ws.column_dimensions["B"].width = 90
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    from openpyxl.cell import WriteOnlyCell

    for n, (ja, en) in enumerate(README_ROWS):
        cells = []
        for text in (ja, en):
            cell = WriteOnlyCell(ws, value=text)
            if n == 0:
                cell.font = Font(bold=True, size=14)
            cells.append(cell)
        ws.append(cells)
    ws.append([])
    heading = []
    for text in ("シート（記録の順）", "sheets (in the order they are recorded)"):
        cell = WriteOnlyCell(ws, value=text)
        cell.font = Font(bold=True)
        heading.append(cell)
    ws.append(heading)
    for op in sheet_ops():
        ja, en = OP_NOTES.get(op, ("", ""))
        ws.append([f"{op}: {ja}" if ja else op, f"{op}: {en}" if en else op])


def _write_sheet(book: Any, op: str, columns: list[SheetColumn], rows: list[list[Any]]) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    ws = book.create_sheet(op)
    ws.freeze_panes = "A2"
    # Printed (or made a PDF) a sheet is as wide as the page: landscape, every column.
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    last_row = max(len(rows) + 200, 1000)
    for i, column in enumerate(columns, 1):
        letter = get_column_letter(i)
        dim = ws.column_dimensions[letter]
        dim.width = max(_WIDTHS.get(column.kind.name, 24), len(column.header) + 4)
        if column.kind.name == "date":
            dim.number_format = "yyyy-mm-dd"
        elif column.is_amount or column.kind.name in ("key", "label", "text", "keys", "texts", "map"):
            dim.number_format = "@"
        choices = column.kind.choices if column.kind.name == "enum" else ()
        if column.kind.name == "boolean":
            choices = ("TRUE", "FALSE")
        if choices and len(",".join(choices)) < 250:
            dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True)
            dv.error = f"{column.header}: " + " / ".join(choices)
            dv.errorTitle = column.header
            dv.add(f"{letter}2:{letter}{last_row}")
            ws.data_validations.append(dv)
    header = []
    for column in columns:
        cell = WriteOnlyCell(ws, value=column.header)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor=_HEADER_FILL)
        cell.alignment = Alignment(vertical="top")
        comment = Comment(column_note(column), "partnership-ledger")
        comment.width, comment.height = 320, 110
        cell.comment = comment
        header.append(cell)
    ws.append(header)
    for row in rows:
        ws.append(_safe_row(ws, row))


def write_workbook(target: str | Path | io.BytesIO, ops: Iterable[Mapping[str, Any]], *, numbered: bool) -> None:
    """Write ``ops`` (journal operations, JSON-ready) in the template's shape to ``target``
    (a file, replaced whole once complete, or a buffer). ``numbered``: fill ``seq``."""
    from openpyxl import Workbook

    if not isinstance(target, io.BytesIO):
        check_writable(Path(target))
    rows = grouped(ops, numbered=numbered)
    for op, op_rows in rows.items():
        if len(op_rows) >= MAX_SHEET_ROWS:
            raise StorageError(
                f"the ledger has {len(op_rows):,} {op} operations, more than a sheet holds "
                f"({MAX_SHEET_ROWS - 1:,} rows under its header): export it as JSON Lines instead"
            )
    book = Workbook(write_only=True)
    _write_readme(book)
    for op, columns in all_columns().items():
        _write_sheet(book, op, columns, rows[op])
    if isinstance(target, io.BytesIO):
        book.save(target)
        return
    write_atomically(Path(target), book.save)


def check_writable(path: Path) -> None:
    """Refuse, in one sentence, a file that cannot be written: before any work is done."""
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise StorageError(f"cannot write {path}: it is a folder")
    if not folder.is_dir():
        raise StorageError(f"cannot write {path}: there is no folder {folder}")
    if not os.access(folder, os.W_OK):
        raise StorageError(f"cannot write {path}: the folder {folder} is not writable")


def write_atomically(path: Path, save: Callable[[str], None]) -> None:
    """``save(tmp)`` then move the file into place: ``path`` is never left half-written."""
    check_writable(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or Path("."))
    os.close(fd)
    try:
        save(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return neutralise(value)
    return str(value)


def _bytes_saver(data: bytes) -> Callable[[str], None]:
    def save(tmp: str) -> None:
        Path(tmp).write_bytes(data)

    return save


def csv_file_name(n: int, op: str) -> str:
    """``01-register_party.csv``: numbered, so a folder listing is the template's order."""
    return f"{n:02d}-{op}.csv"


def write_csv_folder(folder: Path, ops: Iterable[Mapping[str, Any]], *, numbered: bool) -> list[Path]:
    """One CSV per op in ``folder`` (UTF-8 with a BOM, so Excel opens it right)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StorageError(f"cannot create the folder {folder}: {e.strerror}") from None
    rows = grouped(ops, numbered=numbered)
    written = []
    for n, (op, columns) in enumerate(all_columns().items(), 1):
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow([c.header for c in columns])
        for row in rows[op]:
            writer.writerow([_csv_cell(v) for v in row])
        path = folder / csv_file_name(n, op)
        data = ("\ufeff" + buffer.getvalue()).encode("utf-8")
        write_atomically(path, _bytes_saver(data))
        written.append(path)
    return written
