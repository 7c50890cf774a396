"""The commands that record operations: import (journals and spreadsheets) and record (one operation)."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import attrs
import click

from partnership_ledger import PartnershipLedger, RecordResult
from partnership_ledger.errors import JournalError, JournalProblem, LedgerError, StorageError
from partnership_ledger.journal import Operation, check_journal, json_message, parse_journal, read_raw
from partnership_ledger.spreadsheets import locate_error, read_operations_located, sheet_format
from partnership_ledger.spreadsheets.reading import SheetRows

from .context import CliState, pass_state
from .errors import CommandFailed, failure_from
from .output import Output, output_options, plural
from .params import STDIN, read_source, source_name
from .progress import progress_bar


def positions(result: RecordResult) -> str:
    if result.first_position is None:
        return ""
    if result.first_position == result.last_position:
        return f" at position {result.first_position}"
    return f" at positions {result.first_position}-{result.last_position}"


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
    with journal_paths(files) as paths:
        if dry_run:
            dry_run_import(state, out, files, sheets, paths)
            return
        names = [source_name(f) for f in files]
        recorded, refused = record_files(state, files, sheets, paths)
    # Reported once the bar is gone, so that the two never share a line of the terminal.
    reports: list[dict[str, Any]] = []
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


def dry_run_import(
    state: CliState, out: Output, files: Sequence[str], sheets: dict[str, str], paths: dict[str, Path]
) -> None:
    """Report what importing the files would record, recording nothing."""
    journals = [
        (
            source_name(f),
            read_spreadsheet(f, sheets[f])[0] if f in sheets else parse_journal(paths[f], source_name(f)),
        )
        for f in files
    ]
    reports: list[dict[str, Any]] = []
    with dry_run_ledger(state) as ledger:
        for name, result in dry_run_journals(ledger, journals):
            reports.append(result_json(name, result))
            out.message(file_report(name, result, state.verbose))
    if out.format == "json":
        out.json({"dry_run": True, "files": reports})
    out.message("dry run: nothing was recorded")


def record_files(
    state: CliState, files: Sequence[str], sheets: dict[str, str], paths: dict[str, Path]
) -> tuple[list[tuple[str, RecordResult]], tuple[int, LedgerError] | None]:
    """Check every file, then record each in its own transaction, stopping at the first refused.

    A journal is read as it goes both times, never whole nor its operations kept, so that its
    size does not matter. Recording checks it again: a file changed meanwhile is still recorded
    whole or not at all. What was recorded, and the index of the file refused and why.
    """
    read_sheets: dict[str, tuple[list[Operation], SheetRows]] = {}
    total = 0
    for f in files:
        if f in sheets:
            read_sheets[f] = read_spreadsheet(f, sheets[f])
            total += len(read_sheets[f][0])
        else:
            total += check_journal(paths[f], source_name(f))
    recorded: list[tuple[str, RecordResult]] = []
    with state.open_ledger(create=True) as ledger, progress_bar("importing", total, quiet=state.quiet) as advance:
        for i, f in enumerate(files):
            name = source_name(f)
            try:
                if f in read_sheets:
                    result = record_spreadsheet(ledger, read_sheets.pop(f), name, advance)
                else:
                    result = ledger.import_journal(paths[f], source=name, progress=advance)
            except LedgerError as e:
                return recorded, (i, e)
            advance(result.skipped)  # the applied ones advanced the bar as they were applied
            recorded.append((name, result))
    return recorded, None


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


@contextmanager
def journal_paths(files: Sequence[str]) -> Iterator[dict[str, Path]]:
    """The path of each journal file; stdin ("-") copied to a temporary file, to be read twice."""
    paths = {f: Path(f) for f in files if f != STDIN}
    if STDIN not in files:
        yield paths
        return
    with tempfile.TemporaryDirectory(prefix="partnership-ledger-stdin-") as folder:
        copy = Path(folder) / "stdin.json"
        with copy.open("wb") as out:
            shutil.copyfileobj(sys.stdin.buffer, out)
        yield {**paths, STDIN: copy}


def register(cli: click.Group) -> None:
    for command in (import_, record):
        cli.add_command(command)
