"""How commands print: :class:`Output`, one decorator for ``--json``/``--csv``/``--xlsx``/``-o``,
and writing a command's output to a file.

A command computes plain data with the library, then hands it to :class:`Output`, which
prints it as JSON (``--json``), CSV (``--csv``), a rich table on a terminal, or plain aligned
text when stdout is piped (the renderers are in :mod:`.rendering`).

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
import functools
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs
import click

from .context import CliState
from .rendering import (
    Column,
    cell_text,
    csv_text,
    plain_table,
    plural,
    print_rich_table,
    to_json,
    tree_lines,
)

# What commands import from here (the renderers live in .rendering).
__all__ = [
    "Column",
    "Output",
    "cell_text",
    "color_enabled",
    "output_options",
    "plural",
    "to_json",
    "tree_lines",
    "write_output",
]


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
