"""Commands that measure a partnership: balance, voice, targets, evaluations.

Every number comes from the library's indicator queries; this module only prints them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import click

from .context import CliState, pass_state
from .output import Output, output_options
from .params import DecimalNumber, IsoDate, LedgerKey, Timestamp, complete_keys, on_options
from .rendering import Column, amount_text, cell_text


def _pct(value: Any) -> str:
    if value is None:
        return ""
    return f"{(Decimal(value) * 100).quantize(Decimal('0.1'))}%"


def _ratio(value: Any) -> str:
    return "" if value is None else format(Decimal(value), "f")


def _score(value: Any) -> str:
    """A mean score with two places (``4.00``), as people write scores."""
    return "" if value is None else format(Decimal(value).quantize(Decimal("0.01")), "f")


BALANCE_COLUMNS = (
    Column("party", "party"),
    Column("sector", "sector"),
    Column("value", "value", lambda v: cell_text(v) if v is None else format(Decimal(v), ",f"), kind="amount"),
    Column("share", "share", _pct, kind="percent"),
    Column("agreed_share", "agreed", _pct, kind="percent"),
    Column("deviation", "deviation", _pct, kind="percent"),
    Column("capacity_burden", "of capacity", _ratio),
    Column("relative_capacity_burden", "relative", _ratio),
)

VOICE_COLUMNS = (
    Column("party", "party"),
    Column("voice", "voice"),
    Column("proposed", "proposed"),
    Column("votes", "votes"),
    Column("voice_share", "voice share", _pct, kind="percent"),
    Column("share", "burden share", _pct, kind="percent"),
)

TARGET_COLUMNS = (
    Column("key", "target"),
    Column("indicator", "indicator"),
    Column("direction", "direction"),
    Column("baseline", "baseline", lambda b: f"{cell_text(b['value'])} ({b['period']})" if b else ""),
    Column("period", "period"),
    Column("latest", "latest"),
    Column("target", "target"),
    Column("progress", "progress", _pct, kind="percent"),
    Column("status", "status"),
)

CRITERION_COLUMNS = (
    Column("criterion", "criterion"),
    Column("resident_mean", "residents", _score, kind="score"),
    Column("party_mean", "parties", _score, kind="score"),
    Column("external_mean", "external", _score, kind="score"),
    Column("combined", "combined", _score, kind="score"),
    Column("gap", "gap (parties - residents)", _score, kind="score"),
)


def indicator_command(
    *options: Callable[[Callable[..., Any]], Callable[..., Any]], period: bool = False
) -> Callable[[Callable[..., Any]], click.Command]:
    """A command measuring one PARTNERSHIP: its argument, the filters every indicator query
    shares (with ``period``, also ``--basis`` and ``--fiscal-year``), the command's own
    ``options``, then the output options. The command gets the filters as one ``query``
    dict of keyword arguments for the ledger's query and :meth:`CliState.open_indicators`'s
    ``as_of``."""

    def decorator(f: Callable[..., Any]) -> click.Command:
        @functools.wraps(f)
        def wrapper(*args: Any, include_children: bool, as_of: datetime | None, on: date | None, **kwargs: Any) -> Any:
            query: dict[str, Any] = {"as_of": as_of, "on": on, "include_children": include_children}
            if period:
                query |= {"fiscal_year": kwargs.pop("fiscal_year"), "basis": kwargs.pop("basis")}
            return f(*args, query=query, **kwargs)

        command = output_options(csv=True)(pass_state(wrapper))
        for option in reversed(options):
            command = option(command)
        command = on_options(
            click.option(
                "--include-children",
                is_flag=True,
                help="Roll up the sub-partnerships (a partnership of partnerships). Example: --include-children",
            )(command)
        )
        if period:
            command = click.option(
                "--basis",
                type=click.Choice(["delivered", "pledged"]),
                default="delivered",
                show_default=True,
                help="Count what was delivered, or what was pledged (minus withdrawn). Example: --basis pledged",
            )(command)
            command = click.option(
                "--fiscal-year",
                "fiscal_year",
                type=click.IntRange(1900, 2200),
                help="Only this fiscal year (named by the year it starts in; by effective dates, with the "
                "agreement's start month, April by default). Example: --fiscal-year 2009",
            )(command)
        command = click.argument("partnership", type=LedgerKey(), shell_complete=complete_keys("partnership"))(command)
        return click.command()(command)

    return decorator


def _lines(out: Output, header: Iterable[str], rows: list[Mapping[str, Any]], columns: tuple[Column, ...]) -> None:
    """Summary lines, then the parties' table (a rich table on a terminal)."""
    for line in header:
        click.echo(line)
    if rows:
        click.echo("")
    out.rows(rows, columns, empty="no parties in the period")


def evaluation_rows(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per evaluation round and criterion, for CSV: the round's fields, then the criterion's."""
    rows: list[dict[str, Any]] = []
    for e in result["evaluations"]:
        round_fields = {
            "evaluation": e["key"],
            "partnership": e["partnership"],
            "period": e["period"],
            "status": e["status"],
            "resident_weight": e["resident_weight"],
        }
        rows.extend({**round_fields, **c} for c in e["criteria"])
    return rows


EVALUATION_CSV_COLUMNS = (
    Column("evaluation", "evaluation"),
    Column("partnership", "partnership"),
    Column("period", "period"),
    Column("status", "status"),
    Column("resident_weight", "resident weight"),
    *CRITERION_COLUMNS,
)


@indicator_command(
    click.option(
        "--deviation-threshold",
        type=DecimalNumber(),
        default="0.05",
        show_default=True,
        help="Flag a party whose share exceeds its agreed share by more than this. Example: --deviation-threshold 0.1",
    ),
    click.option(
        "--capacity-threshold",
        type=DecimalNumber(),
        default="2",
        show_default=True,
        help="Flag a party whose burden relative to its capacity is more than this many times the "
        "average. Example: --capacity-threshold 3",
    ),
    period=True,
)
def balance(
    state: CliState,
    out: Output,
    partnership: str,
    query: dict[str, Any],
    deviation_threshold: Decimal,
    capacity_threshold: Decimal,
) -> None:
    """Who carried the burden: each party's value, share, agreed share and capacity burden.

    Shares of all resources put in (money and valued in-kind), Gini and HHI of the
    shares, deviation from the agreed shares of the agreement in force, burden
    relative to each party's annual capacity, and the parties carrying an excessive
    burden. Also how the money came: joint contribution versus subsidy or commission.

    \b
    Examples:
      partnership-ledger balance puppet-tour
      partnership-ledger balance puppet-tour --fiscal-year 2009 --json
      partnership-ledger balance th-lsp --include-children --basis pledged
      partnership-ledger balance puppet-tour --on 2010-03-31
      partnership-ledger balance puppet-tour --on 2010-03-31 --as-of 2026-01-01T00:00:00Z
      partnership-ledger balance puppet-tour --csv > burden.csv
    """
    with state.open_indicators(as_of=query["as_of"]) as ledger:
        result = ledger.burden_balance(
            partnership,
            **query,
            deviation_threshold=deviation_threshold,
            relative_capacity_threshold=capacity_threshold,
        )
    if out.data(result, lambda: result["parties"], BALANCE_COLUMNS):
        return
    funding = result["funding"]
    header = [
        f"partnership: {partnership}"
        + (f" (with {len(result['include_children'])} sub-partnerships)" if result["include_children"] else ""),
        f"basis: {result['basis']}; fiscal year: {result['fiscal_year'] or 'all'}"
        + (f"; as of {result['as_of']}" if result["as_of"] else "")
        + (f"; on {result['on']}" if result.get("on") else ""),
        f"total: {cell_text({'amount': result['total'], 'currency': result['currency'] or ''})}",
        f"gini: {_ratio(result['gini'])}  hhi: {_ratio(result['hhi'])}  "
        f"agreement: {result['agreement'] or '(none in force with shares)'}",
        "excessive burden: " + (", ".join(result["excessive_burden"]) or "none"),
        "money by instrument: "
        + (", ".join(f"{i['instrument']} {_pct(i['share'])}" for i in funding["by_instrument"]) or "no money recorded"),
    ]
    _lines(out, header, result["parties"], BALANCE_COLUMNS)


@indicator_command(period=True)
def voice(state: CliState, out: Output, partnership: str, query: dict[str, Any]) -> None:
    """Who had a say, set against who carried the burden.

    Each decision gives its proposer one and each voter one; a party's voice share
    is its count over all counts. Disproportionality (Loosemore-Hanby) is half the
    sum of the differences between voice and burden shares; alignment is one minus
    that. "Money without voice" lists parties that put in money but never voted
    ("if you put in money, put in your voice too").

    \b
    Examples:
      partnership-ledger voice puppet-tour
      partnership-ledger voice th-pmg --fiscal-year 2008 --json
      partnership-ledger voice puppet-tour --csv > voice.csv
    """
    with state.open_indicators(as_of=query["as_of"]) as ledger:
        result = ledger.voice(partnership, **query)
    if out.data(result, lambda: result["parties"], VOICE_COLUMNS):
        return
    header = [
        f"partnership: {partnership}; decisions: {result['decisions']} ({result['adopted']} adopted)",
        f"disproportionality: {_ratio(result['disproportionality'])}  alignment: {_ratio(result['alignment'])}",
        "money without voice: " + (", ".join(result["money_without_voice"]) or "none"),
    ]
    _lines(out, header, result["parties"], VOICE_COLUMNS)


@indicator_command()
def targets(state: CliState, out: Output, partnership: str, query: dict[str, Any]) -> None:
    """Are the public-service targets met? Baseline, targets, latest measurement, status.

    Progress is (latest - baseline) / (target - baseline) for the latest target
    period with a measurement; status is achieved (progress >= 1), on_track (at or
    beyond the straight line from baseline to the final target), off_track or
    no_data.

    \b
    Examples:
      partnership-ledger targets th-lsp
      partnership-ledger targets puppet-tour --json
    """
    with state.open_indicators(as_of=query["as_of"]) as ledger:
        result = ledger.target_progress(partnership, **query)
    if out.format == "json":
        out.json(result)
        return
    out.rows(result["targets"], TARGET_COLUMNS, empty=f"partnership {partnership} has no targets")


@indicator_command()
def evaluations(state: CliState, out: Output, partnership: str, query: dict[str, Any]) -> None:
    """What residents and parties think: means by role, the resident-weighted score, the gap.

    Per criterion: the residents' mean, the parties' mean, outside evaluators' mean,
    combined = w x residents + (1 - w) x others (w is the round's resident weight),
    and the gap between parties and residents. Residents' ids never appear; comments
    only when their authors made them public.

    \b
    Examples:
      partnership-ledger evaluations puppet-tour
      partnership-ledger evaluations th-lsp --include-children --json
      partnership-ledger evaluations puppet-tour --csv > criteria.csv
    """
    with state.open_indicators(as_of=query["as_of"]) as ledger:
        result = ledger.evaluation_summary(partnership, **query)
    if out.data(result, lambda: evaluation_rows(result), EVALUATION_CSV_COLUMNS):
        return
    if not result["evaluations"]:
        state.note(f"partnership {partnership} has no evaluations")
        return
    for i, e in enumerate(result["evaluations"]):
        if i:
            click.echo("")
        counts = e["submissions"]
        click.echo(
            f"evaluation {e['key']} ({e['partnership']}, period {e['period']}, {e['status']}): "
            f"{counts['resident']} residents, {counts['party']} parties, {counts['external']} external; "
            f"resident weight {cell_text(e['resident_weight'])}"
        )
        out.rows(e["criteria"], CRITERION_COLUMNS, empty="  no criteria")
        for c in e["public_comments"]:
            who = c["party"] or c["role"]
            click.echo(f"  - {who}: {cell_text(c['comment'])}")


def _headline(ind: dict[str, Any]) -> dict[str, Any]:
    if not ind.get("exists"):
        return {"exists": False}
    b, v, t = ind["balance"], ind["voice"], ind["targets"]
    return {
        "total": b["total"],
        "currency": b["currency"],
        "gini": b["gini"],
        "hhi": b["hhi"],
        "excessive_burden": b["excessive_burden"],
        "decisions": v["decisions"],
        "alignment": v["alignment"],
        "money_without_voice": v["money_without_voice"],
        "targets": t["status_counts"],
        "shares": {p["party"]: p["share"] for p in b["parties"]},
    }


@click.command()
@click.argument("partnership", type=LedgerKey(), shell_complete=complete_keys("partnership"))
@click.option(
    "--from",
    "from_time",
    required=True,
    type=Timestamp(),
    help="The earlier recorded time (a bare date is the start of that day, UTC). Example: --from 2026-01-01",
)
@click.option(
    "--to",
    "to_time",
    required=True,
    type=Timestamp(end_of_day=True),
    help="The later recorded time (a bare date is the end of that day, UTC). Example: --to 2026-03-31",
)
@click.option("--include-children", is_flag=True, help="Include the sub-partnerships. Example: --include-children")
@click.option(
    "--by",
    type=click.Choice(["recorded", "effective"]),
    default="recorded",
    show_default=True,
    help="Compare two recorded times, or two effective dates (how things stood on each, by "
    "what is recorded now). Example: --by effective --from 2009-03-31 --to 2010-03-31",
)
@click.option(
    "--on",
    "on",
    type=IsoDate(),
    help="With --by recorded: view both sides as things stood on this date. Example: --on 2010-03-31",
)
@output_options(csv=True)
@pass_state
def diff(
    state: CliState,
    out: Output,
    partnership: str,
    from_time: datetime,
    to_time: datetime,
    include_children: bool,
    by: str,
    on: date | None,
) -> None:
    """What changed between two times: the operations, and each indicator before and after.

    By recorded time (the default) the indicators are computed as the ledger stated them
    at each time (by replaying the events recorded up to it), so a correction recorded
    later shows up here. With --by effective, FROM and TO are dates: the operations that
    took effect between them, and the indicators as things stood on each date.

    \b
    Examples:
      partnership-ledger diff puppet-tour --from 2026-01-01 --to 2026-03-31
      partnership-ledger diff puppet-tour --by effective --from 2009-03-31 --to 2010-03-31
      partnership-ledger diff th-lsp --include-children --from 2026-01-01T09:00 --to 2026-02-01 --json
      partnership-ledger diff puppet-tour --from 2026-01-01 --to 2026-03-31 --csv

    With --csv (or --xlsx -o FILE) one row per indicator: before, after, changed.
    """
    with state.open_ledger() as ledger:
        result = ledger.diff(partnership, from_time, to_time, include_children=include_children, by=by, on=on)
    if out.data(result, lambda: diff_rows(result), DIFF_COLUMNS):
        return
    click.echo(f"partnership {partnership}: from {result['from']} to {result['to']}")
    click.echo(f"operations recorded: {len(result['operations'])}")
    for h in result["operations"]:
        click.echo(f"  #{h['position']} {h['recorded_at'][:19]} {h['op']}: {cell_text(h['summary'])}")
    click.echo("indicators (before -> after):")
    for name, b, a, is_share in compared(result):
        if is_share:
            if b != a:
                click.echo(f"  {name}: {_pct(b) or '-'} -> {_pct(a) or '-'}")
            continue
        mark = "" if b == a else "  *"
        shown = amount_text if name == "total" else cell_text  # amounts with separators, as everywhere
        click.echo(f"  {name}: {shown(b) or '-'} -> {shown(a) or '-'}{mark}")


DIFF_INDICATORS = (
    "total",
    "gini",
    "hhi",
    "excessive_burden",
    "decisions",
    "alignment",
    "money_without_voice",
    "targets",
)
DIFF_COLUMNS = (
    Column("indicator", "indicator"),
    Column("before", "before"),
    Column("after", "after"),
    Column("changed", "changed"),
)


def compared(result: Mapping[str, Any]) -> Iterator[tuple[str, Any, Any, bool]]:
    """A diff's headline indicators, then each party's share: (name, before, after, is_share)."""
    before, after = _headline(result["before"]), _headline(result["after"])
    for name in DIFF_INDICATORS:
        yield name, before.get(name), after.get(name), False
    shares_b, shares_a = before.get("shares") or {}, after.get("shares") or {}
    for party in sorted(set(shares_b) | set(shares_a)):
        yield f"share of {party}", shares_b.get(party), shares_a.get(party), True


def diff_rows(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per indicator (and per party's share) of a diff: before, after, changed."""
    return [
        {
            "indicator": name,
            "before": _pct(b) if is_share else cell_text(b),
            "after": _pct(a) if is_share else cell_text(a),
            "changed": b != a,
        }
        for name, b, a, is_share in compared(result)
    ]


def register(cli: click.Group) -> None:
    for command in (balance, voice, targets, evaluations, diff):
        cli.add_command(command)
