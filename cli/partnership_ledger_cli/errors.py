"""Turning any exception into one clear sentence on stderr and an exit code.

Every :class:`~partnership_ledger.errors.LedgerError` becomes ``error: <sentence>`` and exit
1; with ``--json`` it becomes ``{"error": {...}}`` (``LedgerError.to_dict()``), also on
stderr, so stdout only ever carries a command's data. Other failures (files, the database,
Ctrl-C, bugs) are reported the same way; ``PARTNERSHIP_LEDGER_DEBUG=1`` adds a traceback.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import sys
import traceback
from collections.abc import Sequence
from typing import IO, Any

import click

from partnership_ledger.errors import JournalError, LedgerError

from .output import color_enabled, to_json

DEBUG_ENV = "PARTNERSHIP_LEDGER_DEBUG"
EXIT_REFUSED = 1  # the data says no, or the command could not do its work
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C


def debug_enabled() -> bool:
    return os.environ.get(DEBUG_ENV, "") not in ("", "0", "false", "no")


class CommandFailed(click.ClickException):
    """A failure to report: one sentence (or a JSON error object), then exit."""

    def __init__(
        self,
        message: str,
        *,
        kind: str = "error",
        payload: dict[str, Any] | None = None,
        details: Sequence[str] = (),
        as_json: bool = False,
    ) -> None:
        super().__init__(message)
        self.payload = payload if payload is not None else {"kind": kind, "message": message}
        self.details = list(details)
        self.as_json = as_json

    def show(self, file: IO[Any] | None = None) -> None:
        stream = file if file is not None else sys.stderr
        if self.as_json:
            click.echo(to_json({"error": self.payload}), file=stream)
            return
        prefix = click.style("error:", fg="red", bold=True)
        click.echo(f"{prefix} {self.message}", file=stream, color=color_enabled(stream))
        for line in self.details:
            click.echo(f"  {line}", file=stream)


class UsageFailed(CommandFailed):
    """A usage error (exit 2) as one sentence starting ``error:``, not click's three lines."""

    exit_code = 2


GLOBAL_OPTIONS = ("--db", "-q", "--quiet", "-v", "--verbose")


def usage_failure(exc: click.UsageError, args: Sequence[str]) -> UsageFailed:
    """``exc`` as one sentence naming the command and where its help is; JSON with ``--json``."""
    text = exc.format_message()
    text = text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text
    command = exc.ctx.command_path if exc.ctx is not None else "partnership-ledger"
    option = getattr(exc, "option_name", None)
    if option in GLOBAL_OPTIONS and exc.ctx is not None and exc.ctx.parent is not None:
        text = (
            text.rstrip(".")
            + f" (global options such as {option} go before the command: partnership-ledger {option} ... COMMAND)"
        )
    message = f"{text.rstrip('.')} (see '{command} --help')"
    return UsageFailed(message, kind="usage", as_json="--json" in args)


class Interrupted(CommandFailed):
    """Ctrl-C: whatever was being recorded was rolled back."""

    exit_code = EXIT_INTERRUPTED


def failure_from(exc: BaseException, *, verbose: bool, as_json: bool) -> CommandFailed:
    """The report for ``exc``: what happened, in the user's terms."""
    if isinstance(exc, LedgerError):
        details: list[str] = []
        if isinstance(exc, JournalError) and verbose and len(exc.problems) > 1:
            details = [str(p) for p in exc.problems]
        if exc.message.endswith("locked by another process"):
            # Say how long the command truly waited, and for what setting.
            from .context import locked_wait

            payload = {**exc.to_dict(), "message": exc.message + locked_wait()}
            return CommandFailed(payload["message"], payload=payload, details=details, as_json=as_json)
        return CommandFailed(exc.message, payload=exc.to_dict(), details=details, as_json=as_json)
    if isinstance(exc, KeyboardInterrupt):
        return Interrupted("interrupted; nothing more was recorded", kind="interrupted", as_json=as_json)
    if isinstance(exc, UnicodeEncodeError) and "surrogates not allowed" in str(exc):
        # A shell passes bytes that are not UTF-8 as lone surrogates: no key or text holds them.
        return CommandFailed(
            "a value given on the command line holds bytes that are not UTF-8 text",
            kind="invalid_argument",
            as_json=as_json,
        )
    if isinstance(exc, OSError):
        reason = exc.strerror or str(exc) or type(exc).__name__
        where = f"{os.fsdecode(exc.filename)}: " if exc.filename is not None else ""
        return CommandFailed(f"{where}{reason}", kind="os_error", as_json=as_json)
    from eventsourcing.persistence import PersistenceError

    if isinstance(exc, (sqlite3.Error, PersistenceError)):
        if "database is locked" in str(exc):
            from .context import locked_message

            return CommandFailed(locked_message(), kind="locked", as_json=as_json)
        return CommandFailed(f"the ledger's database failed: {exc}", kind="database_error", as_json=as_json)
    name = type(exc).__name__
    text = f"{name}: {exc}" if str(exc) else name
    return CommandFailed(
        f"internal error: {text} (set {DEBUG_ENV}=1 to see where)",
        kind="internal_error",
        as_json=as_json,
    )


def is_broken_pipe(exc: BaseException) -> bool:
    """Stdout was closed early (``| head``): click ends quietly on this."""
    return isinstance(exc, OSError) and exc.errno == errno.EPIPE


def print_debug_traceback(exc: BaseException) -> None:
    if debug_enabled():
        traceback.print_exception(exc)
