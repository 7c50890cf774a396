"""The ``report`` command: the transparency report for residents, one page (HTML, Markdown,
JSON, PDF) or with ``--all`` a site of every partnership's."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from partnership_ledger.errors import InvalidArgument

from .context import CliState, pass_state
from .output import write_output
from .params import IsoDate, complete_keys
from .signing import read_key, signing_key_option

#: What each format's file is called; a file named for another format is refused.
SUFFIXES = {"html": (".html", ".htm"), "md": (".md", ".markdown"), "json": (".json",), "pdf": (".pdf",)}


def check_output_name(path: Path, fmt: str) -> None:
    """Refuse to write one format into a file named for another (HTML into ``x.pdf``)."""
    suffix = path.suffix.lower()
    for other, suffixes in SUFFIXES.items():
        if other != fmt and suffix in suffixes:
            raise InvalidArgument(
                f"{path} is named like a {other} file but the report format is {fmt}: "
                f"use --format {other} or a file name ending in {SUFFIXES[fmt][0]}"
            )


def _write_file(path: Path, text: str | bytes) -> None:
    """Write ``text`` to ``path`` whole or not at all (see output.write_output)."""
    if path.is_dir():
        raise InvalidArgument(f"{path} is a folder: give a file name with -o (or use --all for a site)")
    write_output(path, [text])


@click.command()
@click.argument("partnership", required=False, shell_complete=complete_keys("partnership"))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "md", "json", "pdf"]),
    default="html",
    show_default=True,
    help="html: one self-contained page (inline CSS and SVG charts, no script); md: Markdown; "
    "json: the report's data; pdf: A4 pages (needs the pdf extra, WeasyPrint). Example: --format md",
)
@click.option(
    "--lang",
    type=click.Choice(["ja", "en"]),
    help="Language of the report (default: ja when the partnership keeps accounts in JPY, "
    "otherwise en). Example: --lang en",
)
@click.option(
    "--locale",
    type=click.Choice(["en-GB", "en-US", "ja-JP"]),
    help="Dates and numbers as in this locale (default: en-GB for a partnership in pounds, en-US for "
    "other English reports, ja-JP for Japanese). Example: --lang en --locale en-GB",
)
@signing_key_option(
    help="With --all: sign checkpoint.json with this Ed25519 private key (PEM, from 'partnership-ledger "
    "keygen'); the chain is verified first. Example: --all -o site --key office.key",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(),
    help="File to write (default: stdout); with --all, the folder of the site. Example: -o report.html",
)
@click.option(
    "--all",
    "all_partnerships",
    is_flag=True,
    help="Write a static site of every partnership (index and reports, in Japanese and English) "
    "into the -o folder. Example: --all -o site",
)
@click.option(
    "--include-children",
    is_flag=True,
    help="Count the sub-partnerships' contributions, decisions, targets and evaluations too. "
    "Example: report th-lsp --include-children",
)
@click.option(
    "--verify",
    is_flag=True,
    help="Walk the whole hash chain and recompute the read models first, and refuse a broken chain "
    "or a read model that differs from the events; the report then says it was verified. "
    "Example: --all -o site --verify",
)
@click.option(
    "--on",
    "on",
    type=IsoDate(),
    help="The figures as things stood on that date, by the dates things happened. Example: --on 2010-03-31",
)
@pass_state
def report(
    state: CliState,
    partnership: str | None,
    fmt: str,
    lang: str | None,
    locale: str | None,
    key_file: Path | None,
    output: str | None,
    all_partnerships: bool,
    include_children: bool,
    verify: bool,
    on: date | None,
) -> None:
    """Write the transparency report on a partnership for residents.

    The report says, in plain words: the shared purpose; who takes part; what each
    party put in (money and in kind, by year); the balance of burden and voice;
    decisions; agreements; targets; evaluations (residents' view first); and the
    integrity checkpoint it was made from, with how to verify it. Residents' ids
    never appear, and comments only when their writer made them public.

    \b
    Examples:
      partnership-ledger report puppet-tour -o puppet-tour.html
      partnership-ledger report th-lsp --format md --lang ja
      partnership-ledger report puppet-tour --format json | jq .balance
      partnership-ledger report puppet-tour --format pdf -o puppet-tour.pdf
      partnership-ledger report th-lsp --locale en-US
      partnership-ledger report --all -o site --verify --key office.key
      partnership-ledger report puppet-tour --format md --on 2010-03-31
    """
    # Imported here: Babel, Jinja2 and matplotlib are not needed by the other commands.
    from partnership_ledger.projections.verification import require_read_models
    from partnership_ledger.reports import build_report, render_report, write_site

    if all_partnerships:
        if partnership is not None:
            raise click.UsageError("give a partnership or --all, not both")
        if output is None:
            raise click.UsageError("--all writes a folder: name it with -o DIR")
        source = click.get_current_context().get_parameter_source("fmt")
        if (source is not None and source.name != "DEFAULT" and fmt != "html") or lang is not None:
            raise click.UsageError("--all writes an HTML site in Japanese and English: leave out --format and --lang")
        if Path(output).exists() and not Path(output).is_dir():
            raise click.UsageError(f"{output} is a file: --all needs a folder")
        if locale is not None and locale.startswith("ja"):
            locale = None  # the site's Japanese pages are ja-JP already
        key_pem = read_key(key_file)
        with state.open_ledger() as ledger:
            if verify:  # no figure the events do not give (issue 14)
                require_read_models(ledger)
            index = write_site(ledger, Path(output), verify=verify, key_pem=key_pem, locale=locale)
        click.echo(str(index))
        return
    if key_file is not None:
        raise click.UsageError("--key signs the checkpoint of a site: use it with --all")
    if partnership is None:
        raise click.UsageError("name the partnership to report on (or use --all -o DIR)")
    if output is not None and output != "-":
        check_output_name(Path(output), fmt)
    elif fmt == "pdf":
        raise click.UsageError("a PDF is written to a file: name it with -o FILE.pdf")
    with state.open_ledger() as ledger:
        if verify:
            require_read_models(ledger)
        model = build_report(ledger, partnership, include_children=include_children, verify=verify, on=on)
    language = lang or (locale[:2] if locale else None)
    text: str | bytes
    if fmt == "pdf":
        from partnership_ledger.reports.i18n import check_language
        from partnership_ledger.reports.pdf import render_pdf

        text = render_pdf(model, check_language(language) if language else None, locale=locale)
    else:
        text = render_report(model, fmt, language, locale=locale)
    if output is None or output == "-":
        click.echo(text, nl=False)
    else:
        _write_file(Path(output), text)
        state.note(f"wrote the {fmt} report on {partnership} to {output}")


def register(cli: click.Group) -> None:
    cli.add_command(report)
