"""The export command: the ledger as a journal, a workbook, or a standard's file (360Giving, OCDS)."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from partnership_ledger.journal import dump_operation

from .context import CliState, pass_state
from .output import plural, write_output
from .params import STDIN
from .progress import progress_bar

STANDARD_FORMATS = ("360giving", "ocds")
STANDARD_OPTIONS = {
    "--partnership": ("360giving",),
    "--fiscal-year": ("360giving",),
    "--id-prefix": ("360giving",),
    "--data-source": ("360giving",),
    "--ocid-prefix": ("ocds",),
    "--record-package": ("ocds",),
    "--publisher": STANDARD_FORMATS,
}


def journal_chunks(ops: Iterable[Mapping[str, Any]], fmt: str) -> Iterator[str]:
    """The journal text: a JSON array with one operation a line, or JSON Lines."""
    if fmt == "jsonl":
        for op in ops:
            yield dump_operation(op) + "\n"
        return
    yield "["
    separator = "\n"
    for op in ops:
        yield separator + dump_operation(op)
        separator = ",\n"
    yield "\n]\n"


@click.command()
@click.option(
    "-o",
    "--output",
    "output_path",
    type=click.Path(dir_okay=False, allow_dash=True),
    default=STDIN,
    help="Write the journal to this file (replaced whole, only once complete) instead of "
    "stdout. Example: -o backup.json",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "jsonl", "xlsx", *STANDARD_FORMATS]),
    default="json",
    show_default=True,
    help="A JSON array with one operation a line, or JSON Lines; a workbook in the template's "
    "shape (xlsx, with -o); or a standard's file: "
    "360giving (a 360Giving 1.4.3 package of the money pledges) or ocds (an OCDS 1.1.5 "
    "release package of the agreements). Example: --format jsonl",
)
@click.option(
    "--partnership",
    default=None,
    help="360giving: only this partnership's pledges. Example: --partnership puppet-tour",
)
@click.option(
    "--fiscal-year",
    type=int,
    default=None,
    help="360giving: only pledges for this fiscal year. Example: --fiscal-year 2009",
)
@click.option(
    "--id-prefix",
    default=None,
    help="360giving: your 360G- prefix for grant ids and parties without an org-id "
    "(default 360G-partnership-ledger). Example: --id-prefix 360G-kanagawa-npo",
)
@click.option(
    "--data-source",
    default=None,
    help="360giving: the URL where the file is published (each grant's dataSource). "
    "Example: --data-source https://example.org/grants.json",
)
@click.option(
    "--ocid-prefix",
    default=None,
    help="ocds: your registered OCDS prefix; each agreement's ocid is PREFIX-KEY "
    "(default ocds-xxxxxx, a placeholder). Example: --ocid-prefix ocds-213czf",
)
@click.option(
    "--record-package",
    is_flag=True,
    help="ocds: write a record package (each agreement's releases and its compiled release) "
    "instead of the release package. Example: --format ocds --record-package",
)
@click.option(
    "--publisher",
    default=None,
    help="360giving/ocds: the publisher's name in the package. Example: --publisher 'Kanagawa NPO desk'",
)
@pass_state
def export(
    state: CliState,
    output_path: str,
    fmt: str,
    partnership: str | None,
    fiscal_year: int | None,
    id_prefix: str | None,
    data_source: str | None,
    ocid_prefix: str | None,
    record_package: bool,
    publisher: str | None,
) -> None:
    """Write the whole ledger as a journal (or a workbook), or as a standard's file.

    Operations come in the order they were recorded. The journal imports into
    an equivalent ledger: export, then import into a new --db, and the new
    ledger holds the same operations. A workbook (--format xlsx) has the
    template's sheets, each operation numbered in seq (the order it was
    recorded) and with its id, so it too imports into an equivalent ledger.

    --format 360giving and ocds write the sector's open standards (see
    docs/standards.md); what they leave out is listed on stderr.

    \b
    Examples:
      partnership-ledger export -o backup.json
      partnership-ledger export --format jsonl | gzip > backup.jsonl.gz
      partnership-ledger export -o copy.json && partnership-ledger --db copy.sqlite import copy.json
      partnership-ledger export --format 360giving --partnership puppet-tour -o grants.json
      partnership-ledger export --format ocds --ocid-prefix ocds-213czf -o releases.json
      partnership-ledger export --format xlsx -o ledger.xlsx
    """
    given = {
        "--partnership": partnership,
        "--fiscal-year": fiscal_year,
        "--id-prefix": id_prefix,
        "--data-source": data_source,
        "--ocid-prefix": ocid_prefix,
        "--record-package": record_package or None,
        "--publisher": publisher,
    }
    for name, value in given.items():
        if value is not None and fmt not in STANDARD_OPTIONS[name]:
            raise click.UsageError(f"{name} applies to --format {' or '.join(STANDARD_OPTIONS[name])}")
    if fmt == "xlsx":
        export_workbook(state, output_path)
        return
    if fmt in STANDARD_FORMATS:
        with state.open_ledger() as ledger:
            if fmt == "360giving":
                found = ledger.export_360giving(
                    partnership=partnership,
                    fiscal_year=fiscal_year,
                    id_prefix=id_prefix,
                    data_source=data_source,
                    publisher=publisher,
                )
                data, what = found["package"], plural(len(found["package"]["grants"]), "grant")
            else:
                found = ledger.export_ocds(ocid_prefix=ocid_prefix, publisher=publisher)
                if record_package:
                    data = found["record_package"]
                    what = plural(len(data["records"]), "record")
                else:
                    data = found["release_package"]
                    what = plural(len(data["releases"]), "release")
        _report_left_out(found["left_out"], fmt, ocid_prefix)
        from partnership_ledger.standards.jsonout import dumps  # simplejson: only when needed

        text = dumps(data)
        if output_path == STDIN:
            sys.stdout.write(text)
            sys.stdout.flush()
            return
        write_output(output_path, [text])
        if not state.quiet:
            click.echo(f"wrote {what} to {click.format_filename(output_path)}")
        return
    count = 0

    def counted(ops: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
        nonlocal count
        for op in ops:
            count += 1
            yield op

    # No bar while the journal itself scrolls past on the same terminal.
    no_bar = state.quiet or (output_path == STDIN and sys.stdout.isatty())
    with (
        state.open_ledger() as ledger,
        progress_bar("exporting", ledger.event_count(), quiet=no_bar) as advance,
    ):
        chunks = journal_chunks(counted(ledger.export_operations(advance)), fmt)
        if output_path == STDIN:
            sys.stdout.flush()
            stream = sys.stdout.buffer
            for chunk in chunks:
                stream.write(chunk.encode("utf-8"))
            stream.flush()
            return
        write_output(output_path, chunks)
    if not state.quiet:
        click.echo(f"wrote {plural(count, 'operation')} to {click.format_filename(output_path)}")


def export_workbook(state: CliState, output_path: str) -> None:
    """The ledger as a workbook in the template's shape, to a file (or a pipe)."""
    from io import BytesIO

    from partnership_ledger.spreadsheets import write_workbook

    if output_path == STDIN and sys.stdout.isatty():
        raise click.UsageError("--format xlsx writes a binary workbook: give -o FILE.xlsx")
    if output_path != STDIN:
        from partnership_ledger.spreadsheets.writing import check_writable

        check_writable(Path(output_path))
    with state.open_ledger() as ledger, progress_bar("exporting", ledger.event_count(), quiet=state.quiet) as advance:
        ops = list(ledger.export_operations(advance))
    if output_path == STDIN:
        buffer = BytesIO()
        write_workbook(buffer, ops, numbered=True)
        sys.stdout.buffer.write(buffer.getvalue())
        sys.stdout.flush()
        return
    write_workbook(Path(output_path), ops, numbered=True)
    state.note(f"wrote {plural(len(ops), 'operation')} to {click.format_filename(output_path)}")


def _report_left_out(left_out: Sequence[Mapping[str, Any]], fmt: str, ocid_prefix: str | None) -> None:
    """What a standard's file could not carry, one line each on stderr (never dropped silently)."""
    if fmt == "ocds" and ocid_prefix is None:
        click.echo(
            "note: ocids use the placeholder prefix ocds-xxxxxx: give your registered one with --ocid-prefix", err=True
        )
    for item in left_out:
        click.echo(f"left out of {fmt}: {item['kind']} {item['key']}: {item['reason']}", err=True)


def register(cli: click.Group) -> None:
    cli.add_command(export)
