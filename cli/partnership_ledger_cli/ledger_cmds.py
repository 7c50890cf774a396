"""Commands that create, fill, copy out and look after a ledger.

init, import, export, record, rebuild, info, demo.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import attrs
import click

from partnership_ledger import PartnershipLedger, RecordResult
from partnership_ledger.config import ENV_DB
from partnership_ledger.demo import build_demo
from partnership_ledger.errors import JournalError, JournalProblem, LedgerError, StorageError
from partnership_ledger.journal import (
    Operation,
    Validator,
    dump_operation,
    iter_raw,
    journal_text,
    json_message,
    parse_journal,
    read_raw,
)
from partnership_ledger.spreadsheets import locate_error, read_operations_located, sheet_format
from partnership_ledger.spreadsheets.reading import SheetRows

from .context import CliState, pass_state
from .errors import CommandFailed, failure_from
from .output import Output, cell_text, output_options, write_output
from .params import STDIN, read_source, source_name
from .progress import progress_bar

DEMO_FOLDER = "partnership-ledger-demo"

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


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {nouns or noun + 's'}"


def positions(result: RecordResult) -> str:
    if result.first_position is None:
        return ""
    if result.first_position == result.last_position:
        return f" at position {result.first_position}"
    return f" at positions {result.first_position}-{result.last_position}"


# -- init ---------------------------------------------------------------------------------


@click.command()
@output_options()
@pass_state
def init(state: CliState, out: Output) -> None:
    """Create an empty ledger (the --db file or database) and say where it is.

    Running it again on an existing ledger is fine: nothing changes.

    \b
    Examples:
      partnership-ledger init
      partnership-ledger --db ledgers/fukushima.sqlite init
    """
    path = Path(state.db)
    empty_file = path.is_file() and path.stat().st_size == 0
    try:
        ledger = state.open_ledger(write=True)
        existed = not empty_file
    except StorageError:  # none there (or a file that is no ledger: create=True says which)
        ledger = state.open_ledger(create=True)
        existed = False
    with ledger:
        location = ledger.info()["location"]
    if out.format == "json":
        out.json({"location": location, "created": not existed})
    elif existed:
        out.message(f"there is already a ledger at {location}; nothing changed")
    else:
        out.message(f"created a new ledger at {location}")


# -- import -------------------------------------------------------------------------------


def file_report(name: str, result: RecordResult, verbose: bool) -> str:
    n, applied, skipped = result.operations, result.applied, result.skipped
    if result.dry_run:
        text = f"{name}: {plural(n, 'operation')} valid; {applied} would be recorded"
        return text + (f", {skipped} already in the ledger" if skipped else "")
    if n == 0:
        return f"{name}: no operations"
    if applied == 0:
        return f"{name}: nothing new; all {plural(n, 'operation')} were already in the ledger"
    text = f"{name}: recorded {plural(applied, 'operation')}"
    if verbose:
        text += f" ({plural(result.events, 'event')}{positions(result)})"
    if skipped:
        text += f"; {skipped} {'was' if skipped == 1 else 'were'} already in the ledger"
    return text


def dry_run_journals(
    ledger: PartnershipLedger, journals: Sequence[tuple[str, list[Operation]]]
) -> Iterator[tuple[str, RecordResult]]:
    """What importing ``journals`` in order would do, recording nothing.

    Each file is tried together with the files before it (in memory), so a file that
    builds on an earlier one validates as it would in a real import. An operation an
    earlier file already carries counts as skipped, as a real import would skip it.
    """
    batch: list[Operation] = []
    seen: set[str] = set()
    applied_before = 0
    for name, ops in journals:
        fresh = [o for o in ops if o.meta.op_id not in seen]
        seen.update(o.meta.op_id for o in fresh)
        batch.extend(fresh)
        total = ledger.execute(batch, dry_run=True, source=name)
        applied = total.applied - applied_before
        applied_before = total.applied
        yield (
            name,
            RecordResult(
                operations=len(ops),
                applied=applied,
                skipped=len(ops) - applied,
                events=0,
                dry_run=True,
            ),
        )


def result_json(name: str, result: RecordResult) -> dict[str, Any]:
    return {"source": name, **attrs.asdict(result)}


@click.command("import")
@click.argument("files", nargs=-1, required=True, metavar="FILE...", type=click.Path(allow_dash=True))
@click.option(
    "--dry-run",
    is_flag=True,
    help="Check the files against the ledger and report what would be recorded, recording "
    "nothing. Example: import --dry-run journal.json",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "xlsx", "csv"]),
    help="Read every FILE as a journal (json: a JSON array or JSON Lines), a workbook (xlsx) or "
    "CSV; by default each file's extension says (.xlsx, .csv, a folder of .csv files; "
    "anything else is a journal). Example: --format csv records.txt",
)
@output_options()
@pass_state
def import_(state: CliState, out: Output, files: tuple[str, ...], dry_run: bool, fmt: str | None) -> None:
    """Record journal files and spreadsheets in the ledger.

    A journal FILE is a JSON array, or JSON Lines, of operations ("-" reads
    stdin). A spreadsheet is a workbook (.xlsx) with one sheet per operation, a
    CSV file (UTF-8 or CP932), or a folder of CSV files, as the template
    command writes them (see docs/spreadsheets.md); a problem in one is named
    by its cell, such as pledge!F14 (value/amount). Every FILE is read and checked first. Then each is recorded
    atomically, in order: all of its operations or none. Recording stops at the
    first file the ledger refuses (the error names the operation: "operation N
    (op): ..."); files recorded before it stay recorded. Operations already in
    the ledger are skipped, so importing a file twice records nothing new.
    Creates the ledger if there is none (except with --dry-run). With -v an
    invalid journal lists every problem, one per line.

    \b
    Examples:
      partnership-ledger import parties.json partnerships.jsonl
      partnership-ledger import --dry-run journal.json
      cat journal.jsonl | partnership-ledger import -
    """
    if files.count(STDIN) > 1:
        raise click.UsageError("'-' (stdin) can be given only once")
    sheets = {f: found for f in files if (found := spreadsheet_format(f, fmt)) is not None}
    if STDIN in sheets:
        raise click.UsageError("a spreadsheet cannot be read from stdin ('-'): give its file name")
    reports: list[dict[str, Any]] = []
    if dry_run:
        journals = [
            (
                source_name(f),
                read_spreadsheet(f, sheets[f])[0] if f in sheets else parse_journal(read_source(f), source_name(f)),
            )
            for f in files
        ]
        with dry_run_ledger(state) as ledger:
            for name, result in dry_run_journals(ledger, journals):
                reports.append(result_json(name, result))
                out.message(file_report(name, result, state.verbose))
        if out.format == "json":
            out.json({"dry_run": True, "files": reports})
        out.message("dry run: nothing was recorded")
        return
    # Every file is checked before anything is recorded, one operation at a time and without
    # keeping them: a journal of a million operations would take gigabytes as typed
    # operations. Each file is then read again and recorded by import_journal, which streams
    # it in slices within its one transaction (and checks it again: a file changed meanwhile
    # is still recorded whole or not at all). Only stdin, which cannot be read twice, is kept.
    kept: dict[str, bytes] = {}
    read_sheets: dict[str, tuple[list[Operation], SheetRows]] = {}
    total = 0
    for f in files:
        if f in sheets:
            read_sheets[f] = read_spreadsheet(f, sheets[f])
            total += len(read_sheets[f][0])
            continue
        data = read_source(f)
        total += check_journal(data, source_name(f))
        if f == STDIN:
            kept[f] = data
        del data
    names = [source_name(f) for f in files]
    recorded: list[tuple[str, RecordResult]] = []
    refused: tuple[int, LedgerError] | None = None
    with state.open_ledger(create=True) as ledger, progress_bar("importing", total, quiet=state.quiet) as advance:
        for i, (f, name) in enumerate(zip(files, names, strict=True)):
            try:
                if f in read_sheets:
                    result = record_spreadsheet(ledger, read_sheets.pop(f), name, advance)
                else:
                    result = ledger.import_journal(kept.pop(f, b"") or read_source(f), source=name, progress=advance)
            except LedgerError as e:
                refused = (i, e)
                break
            advance(result.skipped)  # the applied ones advanced the bar as they were applied
            recorded.append((name, result))
    # Reported once the bar is gone, so that the two never share a line of the terminal.
    for name, result in recorded:
        reports.append(result_json(name, result))
        out.message(file_report(name, result, state.verbose))
    if out.format == "json":
        out.json({"dry_run": False, "files": reports})
    if refused is not None:
        index, exc = refused
        failure = failure_from(exc, verbose=state.verbose, as_json=state.json_errors)
        rest = names[index + 1 :]
        if rest:
            failure = CommandFailed(
                f"{failure.message} (not imported: {', '.join(rest)})",
                payload={**failure.payload, "not_imported": rest},
                details=failure.details,
                as_json=failure.as_json,
            )
        raise failure from exc


def spreadsheet_format(path: str, fmt: str | None) -> str | None:
    """``xlsx`` or ``csv`` if ``path`` is to be read as a spreadsheet, None for a journal."""
    if fmt == "json" or (path == STDIN and fmt is None):
        return None
    return sheet_format(path, fmt)


def read_spreadsheet(path: str, fmt: str) -> tuple[list[Operation], SheetRows]:
    """A spreadsheet's operations, every one checked, and where each came from."""
    if not Path(path).exists():
        raise StorageError(f"cannot read {path}: there is no such file")
    return read_operations_located(path, fmt, source=path)


def record_spreadsheet(
    ledger: PartnershipLedger, read: tuple[list[Operation], SheetRows], name: str, advance: Any
) -> RecordResult:
    """Record a spreadsheet's operations atomically; a refusal names the row it came from."""
    ops, rows = read
    try:
        return ledger.execute(ops, source=name, progress=advance)
    except JournalError as e:
        raise locate_error(e, rows) from e


def check_journal(data: bytes, name: str) -> int:
    """Check a journal's every operation, keeping none of them; how many there are.

    Raises the :class:`JournalError` that lists every problem, as :func:`parse_journal` would.
    """
    validator = Validator()
    for raw in iter_raw(journal_text(data, name), name):
        validator.add(raw)
    error = validator.error(name)
    if error is not None:
        raise error
    return validator.count


@contextmanager
def dry_run_ledger(state: CliState) -> Iterator[PartnershipLedger]:
    """The --db ledger, or with none there an empty one: a dry run never creates a ledger."""
    if Path(state.db).exists() or "://" in state.db:
        with state.open_ledger(write=True) as ledger:
            yield ledger
        return
    with (
        tempfile.TemporaryDirectory(prefix="partnership-ledger-dry-run-") as folder,
        PartnershipLedger.open(os.path.join(folder, "dry-run.sqlite")) as ledger,
    ):
        yield ledger


# -- export -------------------------------------------------------------------------------


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


# -- record -------------------------------------------------------------------------------


def read_operation(text: str) -> dict[str, Any]:
    """One operation from the command line ('-' for stdin) as a raw journal object."""
    source = "stdin" if text == STDIN else "OP"
    data = read_source(STDIN) if text == STDIN else os.fsencode(text)

    def refuse(message: str) -> JournalError:
        return JournalError([JournalProblem(message, rule="shape")], source)

    try:
        decoded = data.decode("utf-8").removeprefix("\ufeff").strip()
    except UnicodeDecodeError as e:
        raise refuse(f"is not valid UTF-8 (byte {e.start})") from None
    if not decoded.startswith("{"):
        raise refuse('must be one JSON object, like \'{"op": "register_party", "key": ...}\'')
    try:
        json.loads(decoded)  # only to point at a syntax error exactly where it is
    except json.JSONDecodeError as e:
        raise refuse(f"is not valid JSON at line {e.lineno}, column {e.colno}: {json_message(e)}") from None
    except (RecursionError, ValueError):
        pass  # read_raw below reports these in the journal's own words
    # As an array of one, the journal's reader applies its rules (no floats, no NaN, ...).
    raws = read_raw(f"[{decoded}]", source)
    assert len(raws) == 1  # json.loads above accepted exactly one value
    raw = raws[0]
    assert isinstance(raw, dict)
    return raw


def without_index(error: JournalError, op_name: str) -> JournalError:
    """A single operation's error, named by its op rather than "operation 0"."""
    problems = [JournalProblem(p.message, None, None, p.field, p.rule) for p in error.problems]
    return JournalError(problems, op_name)


@click.command()
@click.argument("operation", metavar="OP")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Check the operation against the ledger, recording nothing. Example: --dry-run",
)
@output_options()
@pass_state
def record(state: CliState, out: Output, operation: str, dry_run: bool) -> None:
    """Record one operation given as JSON.

    OP is one journal operation as a JSON object, exactly as in a journal file,
    or "-" to read it from stdin. Without an "id"
    field it is recorded every time you run the command; with one, only once.
    Creates the ledger if there is none.

    \b
    Examples:
      partnership-ledger record '{"op": "register_party", "key": "npo-puppets",
          "name": "NPO法人 人形劇の森", "sector": "npo"}'
      partnership-ledger record '{"op": "deliver", "contribution": "c-pref-2008",
          "value": {"amount": "8000000", "currency": "JPY"}, "on": "2008-07-01"}'
      echo '{"op": "activate_partnership", ...}' | partnership-ledger record -
    """
    raw = read_operation(operation)
    op_name = raw.get("op")
    ledger_cm: AbstractContextManager[PartnershipLedger] = (
        dry_run_ledger(state) if dry_run else state.open_ledger(create=True)
    )
    with ledger_cm as ledger:
        try:
            result = ledger.record(raw, dry_run=dry_run)
        except JournalError as e:
            raise without_index(e, str(op_name or "OP")) from e
    if out.format == "json":
        out.json({"op": op_name, **attrs.asdict(result)})
    elif dry_run:
        out.message(f"{op_name} is valid (dry run: nothing was recorded)")
    elif result.applied == 0:
        out.message(f"nothing new: an operation with id {raw.get('id')!r} is already recorded")
    else:
        out.message(f"recorded {op_name} ({plural(result.events, 'event')}{positions(result)})")


# -- rebuild ------------------------------------------------------------------------------


@click.command()
@output_options()
@pass_state
def rebuild(state: CliState, out: Output) -> None:
    """Recompute the read models from the events.

    Every read model (history, indexes) is dropped and computed again from the
    stored events. Read models are kept up to date as operations are recorded; rebuild them
    after upgrading, or if you suspect they are out of step. The events
    themselves are not touched. Shows a progress bar on a terminal.

    \b
    Examples:
      partnership-ledger rebuild
      partnership-ledger -q rebuild
    """
    from partnership_ledger.projections.verification import check_read_models

    with state.open_ledger(write=True) as ledger:
        # What the stored read models hold that the events do not give (or lack): what this
        # rebuild repairs, counted in rows per table.
        with progress_bar("checking the read models", ledger.event_count(), quiet=state.quiet) as advance:
            repaired = check_read_models(ledger, count=True, progress=advance, repair_indexes=True).changed
        with progress_bar("rebuilding read models", ledger.event_count(), quiet=state.quiet) as advance:
            events = ledger.rebuild(advance)
    if out.format == "json":
        out.json({"events": events, "repaired": repaired})
    else:
        out.message(f"rebuilt the read models from {plural(events, 'event')}")
        if repaired:
            rows = ", ".join(f"{table} {plural(n, 'row')}" for table, n in repaired.items())
            out.message(f"repaired rows that differed from what the events give: {rows}")
        else:
            out.message("nothing to repair: the read models agreed with the events")


# -- info ---------------------------------------------------------------------------------


def aligned_lines(data: Mapping[str, Any]) -> list[str]:
    width = max((len(k) for k in data), default=0)
    return [f"{k.ljust(width)}  {cell_text(v) or '(none)'}" for k, v in data.items()]


@click.command()
@output_options()
@pass_state
def info(state: CliState, out: Output) -> None:
    """Where the ledger is and what it holds.

    Shows where it is stored, the number of events, the last position, how far
    the read models have caught up, and the SQLite journal and sync modes.

    \b
    Examples:
      partnership-ledger info
      partnership-ledger --db partnership-ledger-demo/partnership-ledger.sqlite info --json
    """
    with state.open_ledger(readonly=True) as ledger:
        out.record(ledger.info(), text=aligned_lines)


# -- demo ---------------------------------------------------------------------------------

#: What to try on the demo ledger: (command, what it shows). Commands not installed are left out.
DEMO_TOUR: tuple[tuple[str, str], ...] = (
    ("partnerships", "the partnerships, their phase and members"),
    ("show puppet-tour", "one partnership in full"),
    ("history puppet-tour", "everything recorded on it, oldest first"),
    ("history th-lsp --include-children --op record_decision", "decisions of an LSP"),
    ("balance puppet-tour", "who carried the burden"),
    ("voice puppet-tour", "who had a say, set against who paid"),
    ("targets th-lsp", "the Local Area Agreement's targets"),
    ("evaluations puppet-tour", "what residents and partners thought"),
    ("report puppet-tour --format md", "the report for residents"),
    ("verify", "check that no stored event was changed"),
)


def demo_tour(db: str, available: Iterable[str]) -> list[str]:
    names = set(available)
    prefix = f"partnership-ledger --db {shlex.quote(db)}"
    return [f"{prefix} {cmd}" for cmd, _ in DEMO_TOUR if cmd.split()[0] in names]


@click.command()
@click.option(
    "-o",
    "--output",
    "folder",
    type=click.Path(),
    default=DEMO_FOLDER,
    show_default=True,
    help="Folder to build the demo ledger in (created; must not hold a ledger already). Example: -o /tmp/demo",
)
@click.option(
    "--force",
    is_flag=True,
    help="Build the demo again where one was built before (its ledger and site are replaced). Example: demo --force",
)
@output_options()
@click.pass_context
def demo(ctx: click.Context, folder: str, out: Output, force: bool) -> None:
    """Build the demo ledger and say what to try.

    The ledger holds the bundled demo journal: a puppet-theatre partnership
    between an NPO and Fukushima Prefecture, a Kanagawa Fund 21 project and a
    Tower Hamlets-style Local Strategic Partnership with its Local Area
    Agreement. It is built in a folder of its own and never touches an
    existing ledger (--db is ignored). Next to it, the reports for residents
    of every partnership are written as a static site (site/index.html, in
    Japanese and English), whose index path is printed.

    \b
    Examples:
      partnership-ledger demo
      partnership-ledger demo -o /tmp/demo
    """
    path = Path(folder)
    if path.exists() and not path.is_dir():
        raise StorageError(f"{folder} is a file, not a folder: choose another with -o")
    existing = path / "partnership-ledger.sqlite"
    if existing.exists():
        if not force:
            raise StorageError(
                f"{existing} already exists: 'partnership-ledger demo --force' builds the demo again "
                "(or choose another folder with -o)"
            )
        remove_demo(path)
    ledger_path = build_demo(path)
    with PartnershipLedger.open(ledger_path, create=False) as ledger:
        facts = ledger.info()
        # The reports for residents, next to the ledger: a static site in both languages.
        from partnership_ledger.reports import write_site

        site_index = write_site(ledger, path / "site", verify=True)
    db = str(ledger_path)
    root = ctx.find_root().command
    available = root.list_commands(ctx) if isinstance(root, click.Group) else []
    tour = demo_tour(db, available)
    if out.format == "json":
        out.json(
            {
                "ledger": db,
                "location": facts["location"],
                "events": facts["events"],
                "parties": facts["parties"],
                "partnerships": facts["partnerships"],
                "site": str(site_index),
                "try": tour,
            }
        )
        return
    out.message(
        f"built the demo ledger at {db} ({plural(facts['parties'], 'party', 'parties')}, "
        f"{plural(facts['partnerships'], 'partnership')}, {plural(facts['events'], 'event')})"
    )
    out.message(f"wrote the reports for residents: {site_index}")
    out.message("\nTry:")
    for line in tour:
        out.message(f"  {line}")
    out.message(f"\nor set the ledger once: export {ENV_DB}={shlex.quote(db)}")


def remove_demo(path: Path) -> None:
    """Remove what ``demo`` built in ``path`` (its ledger files and its site), nothing else."""
    import shutil

    for suffix in ("", "-wal", "-shm", "-journal"):
        (path / f"partnership-ledger.sqlite{suffix}").unlink(missing_ok=True)
    shutil.rmtree(path / "site", ignore_errors=True)


def register(cli: click.Group) -> None:
    for command in (init, import_, export, record, rebuild, info, demo):
        cli.add_command(command)
