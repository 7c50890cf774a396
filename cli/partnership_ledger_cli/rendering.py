"""Values as text for every output: the ledger's JSON, table cells, plain and rich tables,
CSV (nested fields flattened, formulas neutralised) and nested ``name: value`` lines.

Renderers hold no arithmetic: they only format values. :class:`.output.Output` chooses
which of them a command's ``--json``, ``--csv`` or text output uses.
"""

from __future__ import annotations

import csv as csv_module
import enum
import io
import json
import sys
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from pathlib import PurePath
from typing import Any

import attrs
from rich.cells import cell_len

from partnership_ledger.spreadsheets.cells import neutralise

# -- JSON ---------------------------------------------------------------------------------


class LedgerJSONEncoder(json.JSONEncoder):
    """JSON for ledger data: Decimal as a plain-notation string, dates ISO, enums by value."""

    def default(self, o: Any) -> Any:
        if isinstance(o, Decimal):
            return format(o, "f") if o.is_finite() else str(o)
        if isinstance(o, date):  # datetime too
            return o.isoformat()
        if isinstance(o, enum.Enum):
            return o.value
        if isinstance(o, (set, frozenset)):
            return sorted(o)
        if isinstance(o, PurePath):
            return str(o)
        if attrs.has(type(o)):
            return attrs.asdict(o, recurse=False)
        return super().default(o)


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """``1 operation``, ``2 operations`` (``nouns`` when the plural is not ``noun + "s"``)."""
    return f"{n} {noun}" if n == 1 else f"{n} {nouns or noun + 's'}"


def to_json(value: Any, *, indent: int | None = 2) -> str:
    """``value`` as JSON text (UTF-8 characters kept, not escaped)."""
    return json.dumps(value, cls=LedgerJSONEncoder, ensure_ascii=False, indent=indent)


# -- text cells ---------------------------------------------------------------------------


def _is_money(value: Any) -> bool:
    return isinstance(value, Mapping) and set(value) == {"amount", "currency"}


def safe_text(text: str) -> str:
    """``text`` with control characters made visible, so data cannot drive the terminal."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch in "\n\t":
            out.append(" ")
        elif unicodedata.category(ch) == "Cc":
            out.append(ch.encode("unicode_escape").decode("ascii"))
        else:
            out.append(ch)
    return "".join(out)


def cell_text(value: Any) -> str:
    """One value as the text of a table cell or a ``name: value`` line."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return str(value.value)
    if _is_money(value):
        amount = value["amount"]
        if isinstance(amount, Decimal):
            amount = format(amount, ",f")
        return f"{amount} {value['currency']}"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={cell_text(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(cell_text(v) for v in value)
    return safe_text(str(value))


@attrs.frozen
class Column:
    """A column of a text table: the row field, its header, and an optional formatter.

    ``kind`` says how a workbook (``--xlsx``) shows it: ``amount`` (a number with its
    currency's format), ``percent``, ``score`` (two places), or None (by the value's type).
    """

    field: str
    header: str
    format: Callable[[Any], str] = cell_text
    kind: str | None = None


def amount_text(value: Any) -> str:
    """An amount with thousands separators (``8,000,000``), as every command shows amounts."""
    if value is None:
        return ""
    try:
        return format(Decimal(value), ",f")
    except (ArithmeticError, TypeError, ValueError):
        return cell_text(value)


def plain_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[Column]) -> str:
    """Rows as plain text: an upper-case header line, columns aligned by display width."""
    table = [[c.header.upper() for c in columns]]
    table += [[c.format(row.get(c.field)) for c in columns] for row in rows]
    widths = [max(cell_len(line[i]) for line in table) for i in range(len(columns))]
    lines = []
    for line in table:
        cells = [cell + " " * (w - cell_len(cell)) for cell, w in zip(line, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def print_rich_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[Column]) -> None:
    """Rows as a rich table on the terminal (colour unless NO_COLOR is set)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False, show_edge=False)
    cells = [[c.format(row.get(c.field)) for c in columns] for row in rows]
    for i, c in enumerate(columns):
        if c.field in KEY_FIELDS or i == 0:
            # A key is what the reader types next: never cut or wrapped; other columns wrap.
            width = max((cell_len(line[i]) for line in cells), default=0)
            table.add_column(c.header.upper(), no_wrap=True, min_width=max(width, cell_len(c.header)))
        else:
            table.add_column(c.header.upper(), overflow="fold")
    for line in cells:
        # Text(), not str: ledger data must never be read as rich markup.
        table.add_row(*(Text(cell) for cell in line))
    Console(file=sys.stdout).print(table)


#: Row fields that hold keys (shown whole in a terminal table).
KEY_FIELDS = frozenset(
    {"key", "party", "partnership", "contribution", "agreement", "target", "evaluation", "evaluator", "parent"}
)


def _item_text(item: Any) -> str:
    """One object of a list, as a spreadsheet cell shows it: ``2008=3000`` for a period's
    value (other fields after it in brackets), else ``name=value, name=value``."""
    if not isinstance(item, Mapping):
        return _csv_scalar(item)
    if _is_money(item):
        return f"{_csv_scalar(item['amount'])} {item['currency']}"
    if "period" in item and "value" in item:
        rest = [_csv_scalar(v) for k, v in item.items() if k not in ("period", "value") and v is not None]
        extra = f" ({', '.join(rest)})" if rest else ""
        return f"{_csv_scalar(item['period'])}={_csv_scalar(item['value'])}{extra}"
    return ", ".join(f"{k}={_item_text(v)}" for k, v in item.items() if v is not None)


def flatten_for_csv(row: Mapping[str, Any]) -> dict[str, str]:
    """One row as CSV cells: nested objects become ``name_sub`` columns, lists of plain
    values join with spaces, and lists of objects one cell of ``; ``-separated items (no
    JSON in a cell: ``2008=3000; 2009=5500``)."""
    out: dict[str, str] = {}

    def put(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping) and value:
            for k, v in value.items():
                put(f"{prefix}_{k}", v)
        elif isinstance(value, (list, tuple)) and any(isinstance(v, (Mapping, list, tuple)) for v in value):
            out[prefix] = neutralise("; ".join(_item_text(v) for v in value))
        elif isinstance(value, (list, tuple)):
            out[prefix] = " ".join(_csv_scalar(v) for v in value)
        else:
            out[prefix] = _csv_scalar(value)

    for k, v in row.items():
        put(k, v)
    return out


def _csv_scalar(value: Any) -> str:
    if isinstance(value, str):
        # Text a spreadsheet would run as a formula gets a leading "'" (OWASP); numbers,
        # negative ones too, are left as they are.
        return neutralise(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None or isinstance(value, (Decimal, date)):
        return cell_text(value)
    if isinstance(value, (Mapping, list, tuple)):
        return to_json(value, indent=None)
    return str(value)


def csv_text(rows: Sequence[Mapping[str, Any]], columns: Sequence[Column]) -> str:
    """Rows as CSV with every field (the table's columns first), nested values flattened."""
    flat = [flatten_for_csv(r) for r in rows]
    found = list(dict.fromkeys(n for r in flat for n in r)) or [c.field for c in columns]
    # A field that is empty in some rows and an object in others: keep only its sub-columns.
    found = [n for n in found if not (any(m.startswith(n + "_") for m in found) and all(not r.get(n) for r in flat))]
    fields = {c.field for c in columns}
    first = [n for c in columns for n in found if n == c.field or (n.startswith(c.field + "_") and n not in fields)]
    names = list(dict.fromkeys(first + found))
    buffer = io.StringIO()
    writer = csv_module.writer(buffer, lineterminator="\r\n")  # RFC 4180; quotes any \r or \n
    writer.writerow(names)
    for r in flat:
        writer.writerow([r.get(n, "") for n in names])
    return buffer.getvalue()


def tree_lines(data: Mapping[str, Any], indent: int = 0) -> list[str]:
    """Nested data as indented ``name: value`` lines, lists of objects as ``-`` items."""
    pad = " " * indent
    lines: list[str] = []
    for name, value in data.items():
        if value is None:
            lines.append(f"{pad}{name}: (none)")
        elif _is_money(value) or not isinstance(value, (Mapping, list, tuple)):
            lines.append(f"{pad}{name}: {cell_text(value)}")
        elif not value:
            lines.append(f"{pad}{name}: (none)")
        elif isinstance(value, Mapping):
            lines.append(f"{pad}{name}:")
            lines.extend(tree_lines(value, indent + 2))
        elif all(_is_money(v) or not isinstance(v, (Mapping, list, tuple)) for v in value):
            lines.append(f"{pad}{name}: {cell_text(value)}")
        else:
            lines.append(f"{pad}{name}:")
            for item in value:
                if isinstance(item, Mapping) and not _is_money(item):
                    sub = tree_lines(item, 0) or ["(empty)"]
                    lines.append(f"{pad}  - {sub[0]}")
                    lines.extend(f"{pad}    {line}" for line in sub[1:])
                else:
                    lines.append(f"{pad}  - {cell_text(item)}")
    return lines
