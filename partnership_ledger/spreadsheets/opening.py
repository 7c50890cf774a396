"""Opening spreadsheets as sheets of rows: a workbook's sheets (checked by :mod:`.xlsx_scan`
first), a CSV or TSV file, or a folder of CSV files, in the template's order of ops; CSV
text in UTF-8 (with or without a BOM) or CP932."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs

from .. import journal
from ..errors import JournalError, JournalProblem, StorageError
from .columns import sheet_ops
from .problems import MAX_PROBLEMS, CellProblem
from .xlsx_scan import scan_sheets

#: Sheets that hold no operations (the template's explanations).
README_SHEETS = frozenset({"readme", "はじめに", "説明", "記入方法"})
_CSV_NAME = re.compile(r"(?:[0-9]+[-_ ])?([a-z_]+)")
SHEET_FORMATS = ("xlsx", "csv")


@attrs.define
class Sheet:
    """One sheet (or CSV file): its name, the op it holds (None: an ``op`` column), its rows."""

    name: str
    op: str | None
    rows: Iterable[Sequence[Any]]
    csv: bool = False


def sheet_format(path: str, given: str | None = None) -> str | None:
    """``xlsx`` or ``csv`` for a spreadsheet (by ``given``, else the name; a folder is CSV
    files), None for a journal."""
    if given in SHEET_FORMATS:
        return given
    if given is not None:
        return None
    lower = path.lower()
    if lower.endswith((".xlsx", ".xlsm")):
        return "xlsx"
    if lower.endswith((".csv", ".tsv")) or Path(path).is_dir():
        return "csv"
    return None


class _Opened:
    def __init__(self, sheets: Iterator[Sheet], close: Any = None) -> None:
        self.sheets = sheets
        self.close = close

    def __enter__(self) -> Iterator[Sheet]:
        return self.sheets

    def __exit__(self, *exc: Any) -> None:
        if self.close is not None:
            self.close()


def open_sheets(path: Path, fmt: str, name: str) -> _Opened:
    if fmt == "csv":
        if path.is_dir():
            files = sorted(path.glob("*.csv")) + sorted(path.glob("*.tsv"))
            if not files:
                raise StorageError(f"cannot read {name}: it is a folder with no .csv files in it")
            return _Opened(iter([_csv_sheet(f, f.name) for f in _csv_order(files)]))
        return _Opened(iter([_csv_sheet(path, name)]))
    return _xlsx_sheets(path, name)


def _op_of_name(stem: str) -> str | None:
    m = _CSV_NAME.fullmatch(stem.strip().lower())
    if m is not None and m[1] in journal.OPS:
        return m[1]
    return None


def _csv_order(files: list[Path]) -> list[Path]:
    rank = {op: i for i, op in enumerate(sheet_ops())}
    return sorted(files, key=lambda f: (rank.get(_op_of_name(f.stem) or "", len(rank)), f.name))


def decode_csv(data: bytes, name: str) -> str:
    """CSV bytes as text: UTF-8 (with or without a BOM) or CP932 (Japanese Excel's "CSV")."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8")
        except UnicodeDecodeError as e:
            raise _encoding_error(name, f"starts as UTF-8 but byte {e.start + 3} is not") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _encoding_error(name, "is UTF-16 text (Excel's 'Unicode text')")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp932")
    except UnicodeDecodeError:
        raise _encoding_error(name, "is neither UTF-8 nor CP932 (Shift_JIS) text") from None


def _encoding_error(name: str, what: str) -> JournalError:
    return JournalError(
        [JournalProblem(f"{what}: save it as 'CSV UTF-8' (or CSV from Japanese Excel)", rule="encoding")],
        name,
    )


def _csv_sheet(path: Path, name: str) -> Sheet:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise StorageError(f"cannot read {name}: {e.strerror}") from None
    text = decode_csv(data, name)
    first = text.split("\n", 1)[0]
    delimiter = "\t" if path.suffix.lower() == ".tsv" or ("\t" in first and "," not in first) else ","
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    return Sheet(path.name, _op_of_name(path.stem), rows, csv=True)


def _xlsx_sheets(path: Path, name: str) -> _Opened:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError:
        raise StorageError(f"cannot read {name}: no such file") from None
    except Exception as e:  # zipfile.BadZipFile, KeyError, XML errors: not a workbook
        raise JournalError(
            [JournalProblem(f"is not an .xlsx workbook Excel or LibreOffice wrote ({e})", rule="format")], name
        ) from None
    try:
        findings = scan_sheets(path, skip=README_SHEETS)
    except Exception:
        book.close()
        raise
    problems: list[JournalProblem] = [CellProblem(f.message, f.sheet, f.row, f.column, rule=f.rule) for f in findings]
    if problems:
        book.close()
        raise JournalError(problems[:MAX_PROBLEMS], name)
    rank = {op: i for i, op in enumerate(sheet_ops())}
    sheets: list[Sheet] = []
    for ws in book.worksheets:
        title = ws.title
        if title.strip().lower() in README_SHEETS:
            continue
        op = title.strip() if title.strip() in journal.OPS else None
        sheets.append(Sheet(title, op, ws.iter_rows(values_only=True)))
    sheets.sort(key=lambda s: rank.get(s.op or "", len(rank)) if s.op else len(rank))
    return _Opened(iter(sheets), book.close)
