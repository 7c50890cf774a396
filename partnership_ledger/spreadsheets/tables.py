"""A query's rows as a workbook a person reads: typed cells, formats, a frozen header.

Amounts are numbers with their currency's format, dates are date cells, shares are
percentages, scores have two places; text a spreadsheet would take for a formula is written
as text. Column widths fit the longest value, counting a CJK character as two.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from .cells import needs_neutralising
from .writing import check_writable, write_atomically

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_CURRENCY_SYMBOLS = {"JPY": "¥", "GBP": "£", "USD": "$", "EUR": "€"}


@attrs.frozen
class TableColumn:
    """A column of the table: the row field, its header, and how to show it (``amount``,
    ``percent``, ``score``, ``date``, or None: by the value's type)."""

    field: str
    header: str
    kind: str | None = None


def display_width(text: str) -> int:
    """How many columns ``text`` takes in a spreadsheet: a CJK (wide) character two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def amount_format(currency: str | None, places: int) -> str:
    """``"¥"#,##0`` and the like: separators, the places the amount has, the currency."""
    number = "#,##0" + ("." + "0" * places if places > 0 else "")
    if currency is None:
        return number
    symbol = _CURRENCY_SYMBOLS.get(currency)
    return f'"{symbol}"{number}' if symbol else f'{number} "{currency}"'


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _is_money(value: Any) -> bool:
    return isinstance(value, Mapping) and set(value) == {"amount", "currency"}


def _plain(value: Any) -> Any:
    """A value as a cell holds it: Decimal, int, date, bool or text."""
    if value is None or isinstance(value, (bool, int, Decimal, date)):
        return value
    if isinstance(value, float):  # pragma: no cover - the ledger has no floats
        return Decimal(repr(value))
    if isinstance(value, str):
        if _ISO_DATE.fullmatch(value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                return value
        return value
    if hasattr(value, "value") and not isinstance(value, Mapping):  # an enum
        return _plain(value.value)
    if _is_money(value):
        return f"{value['amount']} {value['currency']}"
    if isinstance(value, Mapping):
        return "; ".join(f"{k}={_text(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return "; ".join(_text(v) for v in value)
    return str(value)


def _text(value: Any) -> str:
    plain = _plain(value)
    if isinstance(plain, Decimal):
        return format(plain, "f")
    if isinstance(plain, date):
        return plain.isoformat()
    return "" if plain is None else str(plain)


def _as_number(value: Any) -> Decimal | None:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, str):
        try:
            return Decimal(value)
        except ArithmeticError:
            return None
    return None


def _cell(ws: Any, value: Any, kind: str | None, currency: str | None) -> tuple[Any, str]:
    """The cell for ``value`` and the text it shows (to fit the column's width)."""
    from openpyxl.cell import WriteOnlyCell

    if _is_money(value):
        currency = value["currency"]
        value = value["amount"]
        kind = "amount"
    if kind in ("amount", "percent", "score", "number"):
        number = _as_number(value)
        if number is not None and len(number.as_tuple().digits) > 15:
            # More digits than a spreadsheet's number holds: kept exact, as text.
            cell = WriteOnlyCell(ws, value=format(number, "f"))
            cell.data_type = "s"
            return cell, format(number, "f")
        if number is not None:
            cell = WriteOnlyCell(ws, value=None)
            cell.value = number  # a Decimal: openpyxl writes str(number), exactly
            if kind == "amount":
                cell.number_format = amount_format(currency, _places(number))
                shown = f"{number:,f} {currency or ''}"
            elif kind == "percent":
                cell.number_format = "0.0%"
                shown = f"{number * 100:.1f}%"
            elif kind == "score":
                cell.number_format = "0.00"
                shown = f"{number:.2f}"
            else:
                shown = format(number, "f")
            return cell, shown
    plain = _plain(value)
    cell = WriteOnlyCell(ws, value=None)
    if isinstance(plain, datetime):
        cell.value = plain.replace(tzinfo=None)
        cell.number_format = "yyyy-mm-dd hh:mm"
        return cell, "yyyy-mm-dd hh:mm"
    if isinstance(plain, date):
        cell.value = plain
        cell.number_format = "yyyy-mm-dd"
        return cell, "yyyy-mm-dd"
    cell.value = plain
    if isinstance(plain, str):
        cell.data_type = "s"  # never a formula
        if needs_neutralising(plain):
            cell.quotePrefix = True
    return cell, _text(plain)


def write_table(
    target: str | Path | io.BytesIO,
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[TableColumn],
    *,
    title: str = "data",
) -> None:
    """``rows`` as a one-sheet workbook: the given columns, then any other field of the rows."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    if not isinstance(target, io.BytesIO):
        check_writable(Path(target))
    named = {c.field for c in columns}
    extra = [f for f in dict.fromkeys(k for r in rows for k in r) if f not in named]
    all_columns = [*columns, *(TableColumn(f, f) for f in extra)]
    book = Workbook(write_only=True)
    ws = book.create_sheet(title[:31] or "data")
    ws.freeze_panes = "A2"
    body: list[list[Any]] = []
    widths = [display_width(c.header) for c in all_columns]
    for row in rows:
        currency = row.get("currency") if isinstance(row.get("currency"), str) else None
        cells = []
        for i, column in enumerate(all_columns):
            cell, shown = _cell(ws, row.get(column.field), column.kind, currency)
            widths[i] = max(widths[i], display_width(shown))
            cells.append(cell)
        body.append(cells)
    for i, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = min(max(width + 2, 6), 60)
    header = []
    for column in all_columns:
        cell = WriteOnlyCell(ws, value=column.header)
        cell.font = Font(bold=True)
        cell.data_type = "s"
        header.append(cell)
    ws.append(header)
    for cells in body:
        ws.append(cells)
    if isinstance(target, io.BytesIO):
        book.save(target)
        return
    write_atomically(Path(target), book.save)
