"""Read journal operations from a workbook (.xlsx), a CSV file, or a folder of CSV files.

A workbook has one sheet per op, named by the op, or one sheet with an ``op`` column (see
``docs/spreadsheets.md``). Row 1 holds the column names; every later row that is not empty
is one operation. Sheets are taken in the template's order (:data:`columns.SHEET_ORDER`),
rows from top to bottom; rows numbered in a ``seq`` column (an export numbers them in the
order they were recorded) come first, in that order.

:func:`read_operations` checks everything before anything is recorded and raises one
:class:`~partnership_ledger.errors.JournalError` listing every problem, each named by its
cell (``pledge!F14 (value/amount): ...``). The operations it gives are the journal's own, with
the same ids as the equivalent JSON journal, so importing a workbook twice records nothing
new.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from .. import journal
from ..errors import JournalError, JournalProblem
from .cells import CellError, read_cell
from .columns import SheetColumn, all_columns
from .opening import Sheet, open_sheets, sheet_format
from .problems import MAX_PROBLEMS, CellProblem


def column_letter(n: int) -> str:
    """1 -> A, 27 -> AA (the spreadsheet's own column names)."""
    letters = ""
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(65 + r) + letters
    return letters


Known = dict[str, dict[str, SheetColumn]]  # op -> header -> column


@attrs.define
class _Header:
    columns: list[tuple[int, str | None]]  # (0-based index, header; None for the op column)
    letters: dict[tuple[str | None, str], str]  # (op, field) -> letter of its first column
    headers: dict[tuple[str | None, str], str]


class _Collector:
    def __init__(self) -> None:
        self.problems: list[JournalProblem] = []

    def add(self, problem: JournalProblem) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)

    @property
    def full(self) -> bool:
        return len(self.problems) >= MAX_PROBLEMS


@attrs.define
class SheetRows:
    """The raw operations read, in the order they apply, and where each came from."""

    raws: list[dict[str, Any]] = attrs.Factory(list)
    places: list[tuple[str, int]] = attrs.Factory(list)  # (sheet, row)
    letters: dict[tuple[str, str | None, str], str] = attrs.Factory(dict)  # (sheet, op, field)
    headers: dict[tuple[str, str | None, str], str] = attrs.Factory(dict)


def _text_cell(value: Any) -> str:
    return value.strip() if isinstance(value, str) else "" if value is None else str(value)


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _read_header(sheet: Sheet, header: Sequence[Any], known: Known, out: _Collector) -> _Header:
    by_header = known
    names = [_text_cell(v) for v in header]
    columns: list[tuple[int, str | None]] = []
    letters: dict[tuple[str | None, str], str] = {}
    headers: dict[tuple[str | None, str], str] = {}
    ops = [sheet.op] if sheet.op is not None else list(known)
    seen: set[str] = set()
    for i, name in enumerate(names):
        if not name:
            continue
        letter = column_letter(i + 1)
        if name in seen:
            out.add(CellProblem(f"names column {name!r} a second time", sheet.name, 1, letter, rule="duplicate_column"))
            continue
        seen.add(name)
        if name == "op" and sheet.op is None:
            columns.append((i, None))
            continue
        found = [by_header[op][name] for op in ops if name in by_header[op]]
        if not found:
            where = f"the columns of {sheet.op} are {', '.join(by_header[sheet.op])}" if sheet.op else "no op has it"
            out.add(
                CellProblem(f"unknown column {name!r} ({where})", sheet.name, 1, letter, name, rule="unknown_column")
            )
            continue
        columns.append((i, name))
        for op in ops:
            column = by_header[op].get(name)
            if column is not None:
                letters[(op, column.header)] = letter
                if (op, column.field) not in letters:
                    letters[(op, column.field)] = letter
                    headers[(op, column.field)] = column.header
    if sheet.op is not None:
        present = set(names)
        for column in known[sheet.op].values():
            if column.required and column.header not in present:
                out.add(
                    CellProblem(
                        f"has no column {column.header!r}, which {sheet.op} needs",
                        sheet.name,
                        1,
                        field=column.field,
                        rule="missing_column",
                    )
                )
    elif "op" not in names:  # pragma: no cover - only sheets with an op column get here
        out.add(CellProblem("has no op column", sheet.name, 1, rule="missing_column"))
    return _Header(columns, letters, headers)


def _row_raw(
    sheet: Sheet,
    number: int,
    values: Sequence[Any],
    header: _Header,
    known: Known,
    out: _Collector,
) -> tuple[dict[str, Any] | None, int | None]:
    """The raw operation of one row (None if it has problems, reported), and its seq."""
    op = sheet.op
    cells: list[tuple[int, str, Any]] = []
    bad = False
    for i, name in header.columns:
        value = values[i] if i < len(values) else None
        if _is_empty(value):
            continue
        if name is None:
            op = _text_cell(value)
            if op not in known:
                out.add(
                    CellProblem(
                        f"unknown op {op!r} (known: {', '.join(known)})",
                        sheet.name,
                        number,
                        column_letter(i + 1),
                        "op",
                        rule="unknown_op",
                    )
                )
                return None, None
            continue
        cells.append((i, name, value))
    if op is None:
        if cells:
            out.add(CellProblem("has no op", sheet.name, number, header="op", rule="missing_field"))
        return None, None
    own = known[op]
    raw: dict[str, Any] = {"op": op}
    seq: int | None = None
    yen: set[str] = set()
    bad_fields: set[str] = set()
    for i, name, value in cells:
        letter = column_letter(i + 1)
        column = own.get(name)
        if column is None:
            out.add(
                CellProblem(
                    f"is not a column of {op} (leave it empty in {op} rows)",
                    sheet.name,
                    number,
                    letter,
                    name,
                    op=op,
                    rule="unknown_field",
                )
            )
            bad = True
            continue
        try:
            parsed = read_cell(value, column.kind, csv=sheet.csv)
        except CellError as e:
            out.add(
                CellProblem(str(e), sheet.name, number, letter, column.header, op=op, field=column.field, rule="cell")
            )
            bad = True
            bad_fields.add(column.field)
            continue
        if column.field == "seq":
            seq = parsed
        elif column.sub is None:
            raw[column.field] = parsed
        else:
            nested = raw.setdefault(column.field, {})
            if isinstance(nested, dict):
                nested[column.sub] = parsed
            if column.sub == "amount" and isinstance(value, str) and ("円" in value or "¥" in value or "￥" in value):
                yen.add(column.field)
    for field in yen:  # "8,000,000円" with no currency given: yen
        nested = raw[field]
        if isinstance(nested, dict) and "currency" not in nested:
            nested["currency"] = "JPY"
    if bad:
        # The row is not recorded, but its other cells are checked too, so that one import
        # lists every problem (those of the cells already reported are left out).
        found = journal.check(raw, 0)[3]
        for p in found:
            if p.field is None or p.field in bad_fields:
                continue
            where, named = _cell_of(header.letters, header.headers, (op,), p.field, p.message)
            out.add(CellProblem(p.message, sheet.name, number, where, named, op=op, field=p.field, rule=p.rule))
        return None, seq
    return raw, seq


def _cell_of(
    letters: Mapping[Any, str], headers: Mapping[Any, str], prefix: tuple[Any, ...], field: str, message: str
) -> tuple[str | None, str]:
    """The column letter and header of a journal field's cell (``letters`` and ``headers`` keyed
    by ``(*prefix, field)``): for money, the currency's cell when the message is about it."""
    letter: str | None = letters.get((*prefix, field))
    header: str | None = headers.get((*prefix, field))
    if header is not None and header.endswith("/amount") and message.startswith("currency"):
        header = header[: -len("amount")] + "currency"
        letter = letters.get((*prefix, header)) or letter
    return letter, header or field


def _read_sheet(sheet: Sheet, known: Known, rows: SheetRows, out: _Collector) -> list[int | None]:
    """Read a sheet's rows into ``rows``; the seq of each (None where not numbered)."""
    iterator = iter(sheet.rows)
    header_values = next(iterator, None)
    seqs: list[int | None] = []
    if header_values is None or all(_is_empty(v) for v in header_values):
        for number, values in enumerate(iterator, 2):
            if not all(_is_empty(v) for v in values):
                out.add(CellProblem("has data but row 1 has no column names", sheet.name, number, rule="no_header"))
                break
        return seqs
    if sheet.op is None and "op" not in {_text_cell(v) for v in header_values}:
        out.add(
            CellProblem(
                f"is not an operation (name each sheet by its op: {', '.join(known)}; or give the "
                "sheet an 'op' column)",
                sheet.name,
                None,
                rule="unknown_sheet",
            )
        )
        return seqs
    header = _read_header(sheet, header_values, known, out)
    if out.full:
        return seqs
    for key, letter in header.letters.items():
        rows.letters[(sheet.name, *key)] = letter
        if key in header.headers:
            rows.headers[(sheet.name, *key)] = header.headers[key]
    for number, values in enumerate(iterator, 2):
        if all(_is_empty(v) for v in values):
            continue
        raw, seq = _row_raw(sheet, number, values, header, known, out)
        if out.full:
            break
        if raw is not None:
            rows.raws.append(raw)
            rows.places.append((sheet.name, number))
            seqs.append(seq)
    return seqs


def _ordered(rows: SheetRows, seqs: list[int | None], out: _Collector) -> SheetRows:
    """Rows numbered by ``seq`` first, in its order; then the others as they came."""
    if all(s is None for s in seqs):
        return rows
    numbered = sorted((s, i) for i, s in enumerate(seqs) if s is not None)
    for (a, i), (b, j) in itertools.pairwise(numbered):
        if a == b:
            sheet, row = rows.places[j]
            out.add(
                CellProblem(f"repeats seq {b} (of {rows.places[i][0]}!{rows.places[i][1]})", sheet, row, rule="seq")
            )
    order = [i for _, i in numbered] + [i for i, s in enumerate(seqs) if s is None]
    return attrs.evolve(rows, raws=[rows.raws[i] for i in order], places=[rows.places[i] for i in order])


def _locate(problem: JournalProblem, rows: SheetRows) -> JournalProblem:
    """A journal problem (operation index, field) named by its cell."""
    if isinstance(problem, CellProblem) or problem.index is None or problem.index >= len(rows.places):
        return problem
    sheet, number = rows.places[problem.index]
    op = problem.op
    letter = header = None
    field = problem.field
    if field is None and op in journal.KEY_FIELDS:
        field = _field_named(problem.message, op, rows.raws[problem.index])
    if field is not None:
        letter, header = _cell_of(rows.letters, rows.headers, (sheet, op), field, problem.message)
    return CellProblem(
        problem.message,
        sheet,
        number,
        letter,
        header,
        index=problem.index,
        op=op,
        field=field,
        rule=problem.rule,
    )


def _field_named(message: str, op: str, raw: dict[str, Any]) -> str | None:
    """The field of ``raw`` whose key a rule's message names ("there is no party npo-x"), so
    that the error points at that cell; None when the message names none of them."""
    fields = [f for f, _shape in journal.KEY_FIELDS[op]]
    # The row's own key last: a rule about the row names it, the cause is in another cell.
    for field in sorted(fields, key=lambda f: f == "key"):
        value = raw.get(field)
        named = [value] if isinstance(value, str) else list(value) if isinstance(value, (list, dict)) else []
        for key in named:
            if isinstance(key, str) and re.search(rf"(?<![\w.:-]){re.escape(key)}(?![\w.:-])", message):
                return field
    return None


def locate_error(error: JournalError, rows: SheetRows) -> JournalError:
    """``error`` (from validating or recording ``rows``) with every problem named by its cell."""
    return JournalError([_locate(p, rows) for p in error.problems], error.source)


def read_sheets(sheets: Iterable[Sheet], source: str) -> tuple[SheetRows, list[JournalProblem]]:
    """The raw operations of ``sheets`` in the order they apply, and the problems found."""
    known = {op: {c.header: c for c in cols} for op, cols in all_columns().items()}
    out = _Collector()
    rows = SheetRows()
    seqs: list[int | None] = []
    for sheet in sheets:
        seqs += _read_sheet(sheet, known, rows, out)
        if out.full:
            break
    return _ordered(rows, seqs, out), out.problems


def read_operations(path: str | Path, fmt: str | None = None, *, source: str | None = None) -> list[journal.Operation]:
    """The journal operations in a workbook, CSV file or folder of CSV files, checked.

    Raises :class:`JournalError` naming every problem by its cell; nothing is half-read.
    """
    ops, _rows = read_operations_located(path, fmt, source=source)
    return ops


def read_operations_located(
    path: str | Path, fmt: str | None = None, *, source: str | None = None
) -> tuple[list[journal.Operation], SheetRows]:
    """:func:`read_operations`, and where each operation came from (to name a cell in an
    error the ledger raises when recording them: :func:`locate_error`)."""
    name = source or str(path)
    found = sheet_format(str(path), fmt)
    if found is None:
        raise JournalError([JournalProblem("is not a spreadsheet (.xlsx or .csv)", rule="format")], name)
    with open_sheets(Path(path), found, name) as sheets:
        rows, problems = read_sheets(sheets, name)
        validator = journal.Validator()
        ops = [op for op in map(validator.add, rows.raws) if op is not None]
    if validator.problems:
        problems += [_locate(p, rows) for p in validator.problems]
    if problems:
        raise JournalError(_in_sheet_order(problems)[:MAX_PROBLEMS], name)
    return ops, rows


def _in_sheet_order(problems: list[JournalProblem]) -> list[JournalProblem]:
    """Problems as a reader meets them: sheet by sheet (in the order first named), then by
    row and column; the journal's own checks and the cells' in one list."""
    sheets: dict[str, int] = {}
    for p in problems:
        if isinstance(p, CellProblem):
            sheets.setdefault(p.sheet, len(sheets))

    def key(p: JournalProblem) -> tuple[int, int, int, str]:
        if not isinstance(p, CellProblem):
            return (-1, 0, 0, "")
        column = p.column or ""
        return (sheets[p.sheet], p.row or 0, len(column), column)

    return sorted(problems, key=key)
