"""Commands that answer questions about what is recorded.

parties, partnerships, show, history.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import click

from partnership_ledger.errors import UnknownKey
from partnership_ledger.journal import OPS

from .context import CliState, pass_state
from .output import Output, output_options
from .params import IsoDate, LedgerKey, Timestamp, complete_keys, on_options
from .rendering import Column, cell_text, tree_lines

PARTY_COLUMNS = (
    Column("key", "key"),
    Column("name", "name"),
    Column("sector", "sector"),
    Column("capacity", "capacity"),
    Column("identifiers", "identifiers"),
    Column("area", "area"),
)

PARTNERSHIP_COLUMNS = (
    Column("key", "key"),
    Column("title", "title"),
    Column("phase", "phase"),
    Column("parent", "parent"),
    Column("members", "members"),
    Column("currency", "currency"),
)


def _minutes(value: Any) -> str:
    # '2024-05-01T09:30:12.345+00:00' -> '2024-05-01 09:30' (always UTC in the ledger)
    return str(value)[:16].replace("T", " ") if value else ""


_AMOUNT_IN_TEXT = re.compile(r"(?<![\w.,])(-?[0-9]{4,})((?:\.[0-9]+)?) ([A-Z]{3})\b")


def summary_text(value: Any) -> str:
    """A summary as a table shows it: amounts with thousands separators (8,000,000 JPY)."""
    text = cell_text(value)
    return _AMOUNT_IN_TEXT.sub(lambda m: f"{int(m[1]):,}{m[2]} {m[3]}", text)


HISTORY_COLUMNS = (
    Column("position", "#"),
    Column("recorded_at", "recorded (UTC)", _minutes),
    Column("effective", "effective"),
    Column("op", "op"),
    Column("summary", "summary", summary_text),
)
HISTORY_VERBOSE_COLUMNS = (
    *HISTORY_COLUMNS,
    Column("recorded_by", "by"),
    Column("note", "note"),
)


@click.command()
@on_options
@output_options(csv=True)
@pass_state
def parties(state: CliState, out: Output, on: date | None, as_of: datetime | None) -> None:
    """List the registered parties.

    Each with its key, name, sector and annual capacity (budget), if recorded.
    --on D gives their particulars as amended by D; --as-of T only the parties
    recorded by T, as the ledger then said.

    \b
    Examples:
      partnership-ledger parties
      partnership-ledger parties --csv > parties.csv
      partnership-ledger parties --on 2010-03-31
    """
    with state.open_ledger() as ledger:
        rows = ledger.parties(on=on, as_of=as_of)
    empty = "no parties recorded by then" if as_of else "no parties yet: record some with 'import' or 'record'"
    out.rows(rows, PARTY_COLUMNS, empty=empty)


@click.command()
@on_options
@output_options(csv=True)
@pass_state
def partnerships(state: CliState, out: Output, on: date | None, as_of: datetime | None) -> None:
    """List the partnerships.

    Each with its key, title, phase, parent partnership, current members and
    currency. --on D gives the phase and members as they stood on D (leaving
    out those proposed later); --as-of T only the partnerships recorded by T,
    as the ledger then said.

    \b
    Examples:
      partnership-ledger partnerships
      partnership-ledger partnerships --json | jq '.[] | select(.phase == "active")'
      partnership-ledger partnerships --on 2009-03-31
    """
    with state.open_ledger() as ledger:
        rows = ledger.partnerships(on=on, as_of=as_of)
    out.rows(rows, PARTNERSHIP_COLUMNS, empty="no partnerships by then" if on or as_of else "no partnerships yet")


def show_lines(kind: str, view: Mapping[str, Any]) -> list[str]:
    body = {k: v for k, v in view.items() if k != "key" and not (k == "kind" and v == kind)}
    return [f"{kind} {view['key']}", *tree_lines(body, 2)]


@click.command()
@click.argument("key", type=LedgerKey(), shell_complete=complete_keys())
@on_options
@output_options(csv=True)
@pass_state
def show(state: CliState, out: Output, key: str, on: date | None, as_of: datetime | None) -> None:
    """Show everything recorded about a key.

    KEY names a party, partnership, agreement, contribution, target or
    evaluation. The first line says what KEY is ("partnership puppet-tour"); with --json the
    "kind" field does.

    \b
    Examples:
      partnership-ledger show puppet-tour
      partnership-ledger show puppet-agreement --json
      partnership-ledger show parents-assoc --on 2010-03-31
      partnership-ledger show c-pref-2008 --csv
    """
    with state.open_ledger() as ledger:
        view = ledger.show(key, on=on, as_of=as_of)
        # kind_of, not view["kind"]: a contribution's view uses "kind" for its resource kind.
        kind = ledger.kind_of(key) or str(view.get("kind"))
    out.record(view, text=lambda v: show_lines(kind, v))


def check_party(kind: str | None, party: str) -> None:
    if kind is None:
        raise UnknownKey(f"there is no party named {party} in the ledger")
    if kind != "party":
        article = "an" if kind[:1] in ("a", "e", "i", "o", "u") else "a"
        raise UnknownKey(f"{party} is {article} {kind}, not a party")


@click.command()
@click.argument("key", type=LedgerKey(), required=False, shell_complete=complete_keys())
@click.option(
    "--party",
    metavar="PARTY",
    type=LedgerKey(),
    shell_complete=complete_keys("party"),
    help="Only operations naming this party. Example: --party npo-puppets",
)
@click.option(
    "--since",
    type=IsoDate(),
    help="Only operations effective on or after this date. Example: --since 2009-04-01",
)
@click.option(
    "--until",
    type=IsoDate(),
    help="Only operations effective on or before this date. Example: --until 2010-03-31",
)
@click.option(
    "--op",
    "ops",
    multiple=True,
    type=click.Choice(sorted(OPS)),
    metavar="OP",
    help="Only this kind of operation (repeat for several). Example: --op deliver --op pledge",
)
@click.option(
    "--include-children",
    is_flag=True,
    help="With a partnership KEY, include its sub-partnerships' operations too. "
    "Example: history th-lsp --include-children",
)
@click.option(
    "--recorded-since",
    type=Timestamp(),
    help="Only operations recorded at or after this time (ISO; UTC unless a zone is given). "
    "Example: --recorded-since 2024-05-01T09:00",
)
@click.option(
    "--recorded-until",
    type=Timestamp(end_of_day=True),
    help="Only operations recorded at or before this time (a bare date includes that whole "
    "day). Example: --recorded-until 2024-05-31",
)
@on_options
@output_options(csv=True)
@pass_state
def history(
    state: CliState,
    out: Output,
    key: str | None,
    party: str | None,
    since: date | None,
    until: date | None,
    ops: tuple[str, ...],
    include_children: bool,
    recorded_since: datetime | None,
    recorded_until: datetime | None,
    on: date | None,
    as_of: datetime | None,
) -> None:
    """List recorded operations, oldest first.

    Without KEY, every operation. KEY may be anything in the ledger: for a
    partnership, everything recorded on it (its agreements, contributions,
    targets and evaluations too); for a party, everything that names it. Dates
    (--since, --until) are the dates the operations took effect;
    --recorded-since/--recorded-until filter on when they were recorded. With
    -v the table also shows who recorded each operation and its note; --json
    and --csv always carry every field, including each operation's op_id (what
    void_operation names) and its corrects/corrected_by links. --on D lists what
    took effect by D; --as-of T what was recorded by T.

    \b
    Examples:
      partnership-ledger history puppet-tour
      partnership-ledger history --party pref-fukushima --since 2009-04-01 --until 2010-03-31
      partnership-ledger history th-lsp --include-children --op record_decision
      partnership-ledger history --recorded-since 2024-05-01 --csv > recorded-in-may.csv
    """
    with state.open_ledger() as ledger:
        if party is not None:
            check_party(ledger.kind_of(party), party)
        rows = ledger.history(
            key,
            party,
            since,
            until,
            ops=ops or None,
            include_children=include_children,
            recorded_since=recorded_since,
            recorded_until=recorded_until,
            on=on,
            as_of=as_of,
        )
    columns = HISTORY_VERBOSE_COLUMNS if state.verbose else HISTORY_COLUMNS
    out.rows(rows, columns, empty="no operations match")


def register(cli: click.Group) -> None:
    for command in (parties, partnerships, show, history):
        cli.add_command(command)
