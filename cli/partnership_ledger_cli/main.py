"""The ``partnership-ledger`` group: global options, error handling, command registration.

Commands live in one module per group of commands (``ledger_cmds``, ``query_cmds``, ...).
Each such module defines ``register(cli: click.Group) -> None`` that adds its commands. To add
a command, define it in such a module and name it in :data:`COMMANDS` below (command name ->
module): commands are listed in ``--help`` in that order, and ``docs/cli.md`` is regenerated
with ``python -m partnership_ledger_cli.docs > docs/cli.md``.

A command's module is imported only when that command runs (or ``--help`` lists them all):
``balance --json`` should not pay for importing the report renderer or the journal parser.
A test checks that :data:`COMMANDS` names exactly what the modules register.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from partnership_ledger import __version__
from partnership_ledger.config import DEFAULT_DB, ENV_DB, lock_timeout

from .context import CliState, mark_start
from .errors import failure_from, is_broken_pipe, print_debug_traceback, usage_failure

PROG_NAME = "partnership-ledger"

#: Every command and the module that defines it, in the order ``--help`` lists them.
COMMANDS: dict[str, str] = {
    "init": "ledger_cmds",
    "import": "import_cmds",
    "export": "export_cmds",
    "record": "import_cmds",
    **dict.fromkeys(("rebuild", "info", "demo"), "ledger_cmds"),
    **dict.fromkeys(("parties", "partnerships", "show", "history"), "query_cmds"),
    **dict.fromkeys(("balance", "voice", "targets", "evaluations", "diff"), "indicator_cmds"),
    "report": "report_cmds",
    **dict.fromkeys(("verify", "checkpoint", "keygen"), "integrity_cmds"),
    "publish": "privacy_cmds",
    "follow": "follow_cmds",
    **dict.fromkeys(("template", "contributions"), "sheet_cmds"),
}
#: Where the group keeps the command line it parsed (``ctx.meta``).
RAW_ARGS = "partnership_ledger.args"
#: The modules that add commands.
COMMAND_MODULES: tuple[str, ...] = tuple(dict.fromkeys(COMMANDS.values()))


class LedgerGroup(click.Group):
    """A group that loads each command's module on first use, lists commands in the order of
    :data:`COMMANDS`, and reports every error plainly."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loaded: set[str] = set()

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self._load(COMMANDS[cmd_name])
        return self.commands.get(cmd_name)

    def all_commands(self) -> dict[str, click.Command]:
        """Every command, each module loaded (for documentation and tests)."""
        for module in COMMAND_MODULES:
            self._load(module)
        return {name: self.commands[name] for name in COMMANDS}

    def _load(self, module: str) -> None:
        if module not in self._loaded:
            self._loaded.add(module)
            importlib.import_module(f"{__package__}.{module}").register(self)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta[RAW_ARGS] = list(args)  # to know, on a usage error, whether --json was asked
        return super().parse_args(ctx, args)

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as exc:
            raise usage_failure(exc, args) from exc

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as exc:
            # A command's own arguments or options (parsed here, in its make_context), or a
            # UsageError a command raised: one sentence, exit 2.
            raise usage_failure(exc, ctx.meta.get(RAW_ARGS, ())) from exc
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except (Exception, KeyboardInterrupt) as exc:
            if is_broken_pipe(exc):
                raise  # click ends quietly when stdout is closed early
            print_debug_traceback(exc)
            state = ctx.obj if isinstance(ctx.obj, CliState) else None
            # --json also for an error raised before the command parsed its options (a bad
            # PARTNERSHIP_LEDGER_LOCK_TIMEOUT, say).
            as_json = (state.json_errors if state else False) or "--json" in ctx.meta.get(RAW_ARGS, ())
            failure = failure_from(exc, verbose=state.verbose if state else False, as_json=as_json)
            raise failure from exc


@click.group(
    cls=LedgerGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--db",
    metavar="PATH|URL",
    default=DEFAULT_DB,
    show_default=True,
    envvar=ENV_DB,
    show_envvar=True,
    help="The ledger: an SQLite file, or a PostgreSQL database as postgresql://user:password@host:port/dbname. "
    "Example: --db ~/ledgers/fukushima.sqlite",
)
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="Print only data and errors, no summaries or hints. Example: -q import a.json",
)
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Print more: every problem of an invalid journal, event positions, who recorded "
    "what. "
    "Example: -v import a.json",
)
@click.version_option(__version__, "--version", prog_name=PROG_NAME, message="%(prog)s %(version)s")
@click.pass_context
def cli(ctx: click.Context, db: str, quiet: bool, verbose: bool) -> None:
    """An event-sourced, tamper-evident ledger of partnerships between NPOs, local
    governments and the bodies that work with them.

    Every decision, signature, contribution, measurement and evaluation is an
    immutable event. Record them by importing journals (JSON) or spreadsheets
    (fill in the template: partnership-ledger template -o ledger-template.xlsx),
    or one operation at a time, then ask who carried the burden, who had a say,
    and how the partnership went.

    \b
    Examples:
      partnership-ledger demo
      partnership-ledger --db partnership-ledger-demo/partnership-ledger.sqlite partnerships
      partnership-ledger init
      partnership-ledger import journal.json
      partnership-ledger history puppet-tour --since 2009-04-01
      partnership-ledger show npo-puppets --json

    \b
    Output and errors:
      Data goes to stdout: a table on a terminal, plain aligned text when piped,
      JSON with --json, CSV with --csv (JSON Schemas in docs/schemas/). Long work
      (import, rebuild, verify, export) shows a progress bar on a terminal.
      Errors go to stderr as one sentence starting "error:" (with --json, as
      {"error": {...}}).
      Exit codes: 0 fine; 1 the ledger refused (invalid journal, broken rule,
      unknown key, missing, damaged or locked ledger, tampering); 2 usage error;
      130 interrupted.
      Set NO_COLOR=1 for no colour, PARTNERSHIP_LEDGER_DEBUG=1 for tracebacks,
      PARTNERSHIP_LEDGER_LOCK_TIMEOUT=SECONDS to wait for a locked ledger (30).

    \b
    Shell completion (bash; zsh and fish likewise):
      eval "$(_PARTNERSHIP_LEDGER_COMPLETE=bash_source partnership-ledger)"
    """
    if quiet and verbose:
        raise click.UsageError("-q/--quiet and -v/--verbose cannot be used together")
    mark_start()
    ctx.obj = CliState(db=db, quiet=quiet, verbose=verbose)
    lock_timeout()  # a bad PARTNERSHIP_LEDGER_LOCK_TIMEOUT is refused before any command runs


def main(args: list[str] | None = None) -> None:
    """The console script: run the CLI and exit with its status."""
    cli.main(args=args, prog_name=PROG_NAME)
