"""How commands print: one JSON encoder, one decorator for ``--json``/``--csv``, and renderers.

A command computes plain data with the library, then hands it to :class:`Output`, which
prints it as JSON (``--json``), CSV (``--csv``), a rich table on a terminal, or plain aligned
text when stdout is piped. Renderers hold no arithmetic: they only format values.

Use it in a command like this::

    @click.command()
    @output_options(csv=True)
    @pass_state
    def parties(state: CliState, out: Output) -> None:
        with state.open_ledger() as ledger:
            out.rows(ledger.parties(), PARTY_COLUMNS, empty="no parties yet")
"""

from __future__ import annotations

import contextlib
import csv as csv_module
import enum
import functools
import io
import json
import os
import sys
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from pathlib import PurePath
from typing import Any

import attrs
import click
from rich.cells import cell_len

from partnership_ledger.spreadsheets.cells import neutralise

from .context import CliState

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
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
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


# -- the Output object and its decorator ----------------------------------------------------


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def color_enabled(stream: Any) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


@attrs.define
class Output:
    """Where and how a command prints: ``text`` (table or lines), ``json``, ``csv`` or
    ``xlsx``; to stdout, or to the file ``path`` (``-o``). ``bom``: start CSV with a byte
    order mark (so Excel reads it as UTF-8); None: when writing to a file."""

    format: str = "text"
    quiet: bool = False
    path: str | None = None
    bom: bool | None = None

    @property
    def is_text(self) -> bool:
        return self.format == "text"

    def json(self, value: Any) -> None:
        if self.path is not None:
            self._write_text(to_json(value) + "\n")
            return
        click.echo(to_json(value))

    def _write_text(self, text: str, *, bom: bool = False) -> None:
        from pathlib import Path

        from partnership_ledger.spreadsheets.writing import write_atomically

        data = (("\ufeff" if bom else "") + text).encode("utf-8")
        assert self.path is not None

        def save(tmp: str) -> None:
            Path(tmp).write_bytes(data)

        write_atomically(Path(self.path), save)
        self._wrote()

    def _wrote(self) -> None:
        if not self.quiet and self.path is not None:
            click.echo(f"wrote {click.format_filename(self.path)}", err=True)

    def csv(self, rows: Sequence[Mapping[str, Any]], columns: Sequence[Column]) -> None:
        """Rows as CSV, to the file (``-o``, with a BOM unless ``--no-bom``) or stdout."""
        text = csv_text(rows, columns)
        if self.path is not None:
            self._write_text(text, bom=self.bom is not False)
            return
        if self.bom:
            text = "\ufeff" + text
        click.echo(text, nl=False)

    def xlsx(self, rows: Sequence[Mapping[str, Any]], columns: Sequence[Column], title: str = "data") -> None:
        """Rows as a workbook (typed cells, formats, frozen header) in the file ``-o``."""
        from partnership_ledger.spreadsheets.tables import TableColumn, write_table

        assert self.path is not None
        table = [TableColumn(c.field, c.header, c.kind) for c in columns]
        write_table(self.path, rows, table, title=title)
        self._wrote()

    def rows(
        self,
        rows: Sequence[Mapping[str, Any]],
        columns: Sequence[Column],
        *,
        empty: str = "nothing to show",
    ) -> None:
        """Tabular data: every field in JSON/CSV, the given columns in a text table."""
        if self.format == "json":
            self.json(list(rows))
        elif self.format == "csv":
            self.csv(rows, columns)
        elif self.format == "xlsx":
            self.xlsx(rows, columns)
        elif not rows:
            if not self.quiet:
                click.echo(empty, err=True)
        elif stdout_is_terminal():
            print_rich_table(rows, columns)
        else:
            click.echo(plain_table(rows, columns))

    def data(self, result: Any, rows: Callable[[], Sequence[Mapping[str, Any]]], columns: Sequence[Column]) -> bool:
        """The whole ``result`` as JSON, or its ``rows()`` as CSV/XLSX; False for text, which
        the command writes its own way."""
        if self.format == "json":
            self.json(result)
        elif self.format in ("csv", "xlsx"):
            self.rows(rows(), columns)
        return not self.is_text

    def record(self, value: Mapping[str, Any], text: Callable[[Mapping[str, Any]], Iterable[str]] | None) -> None:
        """One object: JSON, or text lines (``tree_lines`` unless ``text`` is given)."""
        if self.format == "json":
            self.json(value)
            return
        if self.format in ("csv", "xlsx"):
            self.rows([value], [Column(k, k) for k in value])
            return
        for line in text(value) if text is not None else tree_lines(value):
            click.echo(line)

    def answer(self, text: str) -> None:
        """The command's answer in words (stdout, as data is): not with ``--json``/``--csv``."""
        if self.is_text:
            click.echo(text)

    def message(self, text: str) -> None:
        """A human summary line (stderr, so that it never mixes with data): not with
        ``--json``/``--csv``, not with ``-q``."""
        if self.is_text and not self.quiet:
            click.echo(text, err=True)


def output_options(*, csv: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Add ``--json`` (and with ``csv=True`` also ``--csv``) and pass an :class:`Output`.

    The decorated function receives ``out: Output`` as a keyword argument. With ``--json``
    errors are printed as ``{"error": {...}}`` too.
    """

    def decorator(f: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(f)
        def wrapper(
            *args: Any,
            json_output: bool,
            csv_output: bool = False,
            xlsx_output: bool = False,
            output_path: str | None = None,
            bom: bool | None = None,
            **kwargs: Any,
        ) -> Any:
            chosen = [n for n, on in (("--json", json_output), ("--csv", csv_output), ("--xlsx", xlsx_output)) if on]
            if len(chosen) > 1:
                raise click.UsageError(f"{' and '.join(chosen)} cannot be used together")
            fmt = "json" if json_output else "csv" if csv_output else "xlsx" if xlsx_output else "text"
            if xlsx_output and output_path is None:
                raise click.UsageError("--xlsx writes a workbook: give -o FILE.xlsx")
            if output_path is not None and fmt == "text":
                raise click.UsageError("-o goes with --csv, --xlsx or --json")
            if bom is not None and fmt != "csv":
                raise click.UsageError("--bom and --no-bom go with --csv")
            state = click.get_current_context().find_object(CliState)
            if state is not None and json_output:
                state.json_errors = True
            out = Output(fmt, quiet=state.quiet if state is not None else False, path=output_path, bom=bom)
            return f(*args, out=out, **kwargs)

        command = wrapper
        if csv:
            command = click.option(
                "--bom/--no-bom",
                "bom",
                default=None,
                help="Start the CSV with a byte order mark, so that Excel reads it as UTF-8 (the default "
                "when writing to a file with -o). Example: --csv --bom > rows.csv",
            )(command)
            command = click.option(
                "-o",
                "--output",
                "output_path",
                type=click.Path(dir_okay=False, writable=True),
                help="Write the --csv, --xlsx or --json output to this file (replaced whole) instead "
                "of stdout. Example: --xlsx -o rows.xlsx",
            )(command)
            command = click.option(
                "--xlsx",
                "xlsx_output",
                is_flag=True,
                help="Write a workbook (with -o FILE): amounts as numbers in their currency's format, "
                "dates as dates, shares as percentages. Example: --xlsx -o rows.xlsx",
            )(command)
            command = click.option(
                "--csv",
                "csv_output",
                is_flag=True,
                help="Print CSV with a header row (nested fields as NAME_SUB columns; text that would "
                "read as a formula starts with '). Example: --csv > rows.csv",
            )(command)
        return click.option(
            "--json",
            "json_output",
            is_flag=True,
            help="Print JSON (amounts as decimal strings, dates ISO). Example: --json | jq .",
        )(command)

    return decorator


# -- writing a command's output to a path (-o) ------------------------------------------------


def write_output(path: str | os.PathLike[str], chunks: Iterable[str | bytes]) -> None:
    """Write ``chunks`` (text as UTF-8, or bytes) to ``path``, as ``-o`` does everywhere.

    A regular file (or a new path) is replaced whole, and only once everything is written: a
    temporary file beside it is filled, flushed to disk and renamed over it, keeping the old
    file's permissions. A symbolic link is followed: its target is what is written (the link
    stays). Anything else that is not a regular file, a named pipe (FIFO), a device such as
    ``/dev/null`` or a terminal, is written through as it is, never replaced. Any failure
    (a full disk, a read-only folder, a missing one) raises :class:`InvalidArgument` with
    one sentence, and leaves no partial or temporary file behind.
    """
    import stat
    import tempfile

    from partnership_ledger.errors import InvalidArgument

    shown = os.fspath(path)
    target = os.path.realpath(shown)

    def fail(e: OSError) -> InvalidArgument:
        reason = e.strerror or str(e)
        return InvalidArgument(f"cannot write {shown}: {reason[:1].lower() + reason[1:]}")

    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise fail(e) from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise InvalidArgument(f"cannot write {shown}: it is a folder, give a file name")
    if st is not None and not stat.S_ISREG(st.st_mode):
        # A FIFO, a device, a socket's path: written through, whatever reads it gets it all.
        try:
            with open(target, "wb") as f:
                for chunk in chunks:
                    f.write(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
        except OSError as e:
            raise fail(e) from None
        return
    folder = os.path.dirname(target) or "."
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=folder)
    except OSError as e:
        raise fail(e) from None
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in chunks:
                f.write(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
            f.flush()
            os.fsync(f.fileno())
        if st is not None:
            os.chmod(tmp, stat.S_IMODE(st.st_mode))
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except OSError as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise fail(e) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
