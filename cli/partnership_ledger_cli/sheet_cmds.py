"""Commands for the clerk's spreadsheets: template (the workbook or CSV files to fill in) and
contributions (one row per contribution, for a spreadsheet or a table)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from partnership_ledger.domain.values import ContributionKind
from partnership_ledger.queries.contributions import contributions as contribution_rows

from .context import CliState, pass_state
from .output import Output, output_options
from .params import IsoDate, LedgerKey, Timestamp, complete_keys
from .rendering import Column, amount_text


@click.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["xlsx", "csv"]),
    default="xlsx",
    show_default=True,
    help="A workbook with one sheet per operation, or a folder of CSV files (one per "
    "operation, UTF-8 with a BOM). Example: --format csv",
)
@click.option(
    "-o",
    "--output",
    "path",
    required=True,
    type=click.Path(),
    help="The workbook to write (replaced whole), or with --format csv the folder to write "
    "the CSV files in (created). Example: -o ledger-template.xlsx",
)
@click.option(
    "--with-demo",
    is_flag=True,
    help="Fill the sheets with the demo journal's operations, as examples. Example: --with-demo",
)
@pass_state
def template(state: CliState, fmt: str, path: str, with_demo: bool) -> None:
    """Write the spreadsheet template a clerk fills in, to import with 'import'.

    One sheet per operation, in the order they are recorded (parties first,
    endings last); row 1 holds the journal's field names (value/amount,
    value/currency...), each with a note in Japanese and English; enumerations
    have drop-down lists, date columns are dates and amount columns text. A
    README sheet explains how to fill it. No ledger is needed.

    \b
    Examples:
      partnership-ledger template -o ledger-template.xlsx
      partnership-ledger template --with-demo -o demo.xlsx
      partnership-ledger template --format csv -o records/
    """
    from partnership_ledger.spreadsheets import write_csv_folder, write_workbook

    ops: list[dict[str, Any]] = []
    if with_demo:
        import json

        from partnership_ledger.demo import demo_journal_bytes

        ops = json.loads(demo_journal_bytes())
    target = Path(path)
    if fmt == "csv":
        if target.exists() and not target.is_dir():
            raise click.UsageError(f"{path} is a file: with --format csv, -o names a folder")
        written = write_csv_folder(target, ops, numbered=with_demo)
        state.note(f"wrote {len(written)} CSV files to {click.format_filename(path)}")
        return
    if target.is_dir():
        raise click.UsageError(f"{path} is a folder: give the workbook's file name, such as {path}/template.xlsx")
    write_workbook(target, ops, numbered=with_demo)
    state.note(f"wrote the template to {click.format_filename(path)}")


CONTRIBUTION_COLUMNS = (
    Column("contribution", "contribution"),
    Column("partnership", "partnership"),
    Column("party", "party"),
    Column("kind", "kind"),
    Column("instrument", "instrument"),
    Column("pledged", "pledged", amount_text, kind="amount"),
    Column("delivered", "delivered", amount_text, kind="amount"),
    Column("corrections", "corrections", amount_text, kind="amount"),
    Column("withdrawn", "withdrawn", amount_text, kind="amount"),
    Column("currency", "currency"),
    Column("agreement", "agreement"),
    Column("fiscal_year", "fiscal year"),
    Column("evidence", "evidence"),
)


@click.command()
@click.argument("partnership", required=False, type=LedgerKey(), shell_complete=complete_keys("partnership"))
@click.option(
    "--party",
    type=LedgerKey(),
    shell_complete=complete_keys("party"),
    help="Only this party's. Example: --party pref-fukushima",
)
@click.option(
    "--fiscal-year",
    "fiscal_year",
    type=click.IntRange(1900, 2200),
    help="Only this fiscal year's (the year it starts in). Example: --fiscal-year 2008",
)
@click.option(
    "--kind",
    type=click.Choice([k.value for k in ContributionKind]),
    help="Only this kind of resource. Example: --kind money",
)
@click.option(
    "--on",
    "on",
    type=IsoDate(),
    help="How things stood on that date: deliveries, corrections and withdrawals after it do not count. "
    "Example: --on 2009-03-31",
)
@click.option(
    "--as-of",
    "as_of",
    type=Timestamp(end_of_day=True),
    help="What the ledger said at that recorded time; a bare date means the end of that day, "
    "UTC. Example: --as-of 2026-12-31",
)
@output_options(csv=True)
@pass_state
def contributions(
    state: CliState,
    out: Output,
    partnership: str | None,
    party: str | None,
    fiscal_year: int | None,
    kind: str | None,
    on: date | None,
    as_of: datetime | None,
) -> None:
    """One row per contribution: pledged, delivered, corrections, withdrawn.

    For PARTNERSHIP, or every partnership; --party, --fiscal-year and --kind
    narrow it. Amounts are in the contribution's currency; delivered plus
    corrections is what was put in; evidence counts the deliveries that name
    their evidence. --on D counts what took effect by D; --as-of T gives only
    what was recorded by T.

    \b
    Examples:
      partnership-ledger contributions puppet-tour
      partnership-ledger contributions --party pref-fukushima --fiscal-year 2008 --csv -o fy2008.csv
      partnership-ledger contributions puppet-tour --xlsx -o contributions.xlsx
    """
    with state.open_ledger() as ledger:
        rows = contribution_rows(
            ledger, partnership, party=party, fiscal_year=fiscal_year, kind=kind, on=on, as_of=as_of
        )
    out.rows(rows, CONTRIBUTION_COLUMNS, empty="no contributions match")


def register(cli: click.Group) -> None:
    for command in (template, contributions):
        cli.add_command(command)
