"""Commands that create and look after a ledger: init, rebuild, info, demo.

Recording (import, record) is in :mod:`.import_cmds`, export in :mod:`.export_cmds`.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import click

from partnership_ledger import PartnershipLedger
from partnership_ledger.config import ENV_DB
from partnership_ledger.demo import build_demo
from partnership_ledger.errors import StorageError

from .context import CliState, pass_state
from .output import Output, cell_text, output_options, plural
from .progress import progress_bar

DEMO_FOLDER = "partnership-ledger-demo"

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
    for command in (init, rebuild, info, demo):
        cli.add_command(command)
