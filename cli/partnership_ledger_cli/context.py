"""What every command shares: the global options and how to open the ledger they name."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import attrs
import click

from partnership_ledger.errors import StorageError

if TYPE_CHECKING:
    from partnership_ledger import PartnershipLedger
    from partnership_ledger.queries.indicators import IndicatorQueries

LOCK_TIMEOUT_ENV = "PARTNERSHIP_LEDGER_LOCK_TIMEOUT"


@attrs.define
class CliState:
    """The global options (``--db``, ``-q``, ``-v``), set by the top-level group.

    Commands receive it with ``@pass_state``. ``json_errors`` is set by ``--json`` so that
    an error is printed as JSON too.
    """

    db: str
    quiet: bool = False
    verbose: bool = False
    json_errors: bool = False

    def open_ledger(self, *, create: bool = False, readonly: bool = False, write: bool = False) -> PartnershipLedger:
        """Open the ledger named by ``--db``; without ``create`` a missing one is an error.

        Use it as a context manager: ``with state.open_ledger() as ledger: ...``. Every
        failure to open is a :class:`StorageError` whose message says what is wrong.
        ``readonly``: change nothing, and read the read models as stored (``verify``, ``info``).
        ``write`` (or ``create``): for a command that records or recomputes. Otherwise (a
        query) nothing is written either, and read models that lag behind the events are
        brought up to date in a private copy (see :func:`open_for_query`).
        """
        if create or readonly or write:
            return open_ledger_at(self.db, create=create, readonly=readonly, as_stored=readonly)
        return open_for_query(self.db, self.note)

    @contextmanager
    def open_indicators(self, *, as_of: object = None) -> Iterator[IndicatorQueries]:
        """The indicator queries of the ``--db`` ledger, as quickly as they can be had.

        When the ledger is an SQLite file whose read models are current (and ``as_of`` is not
        asked), a :class:`~partnership_ledger.queries.indicators.ReadModelReader` answers from
        the read models without importing the event store; otherwise the full ledger opens
        (catching the read models up, or replaying for ``as_of``). Both give the same answers.
        """
        from partnership_ledger.queries.indicators import ReadModelReader

        reader = ReadModelReader.open_current(self.db) if as_of is None and not _URL.match(self.db) else None
        if reader is not None:
            with reader:
                yield reader
            return
        with self.open_ledger() as ledger:
            yield ledger

    def note(self, text: str) -> None:
        """A remark for people (stderr), not part of the command's output; silenced by -q."""
        if not self.quiet:
            click.echo(text, err=True)

    def detail(self, text: str) -> None:
        """Extra detail shown only with -v (stderr)."""
        if self.verbose:
            click.echo(text, err=True)


_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_USERINFO = re.compile(r"//[^/@]*@")
POSTGRES_SCHEMES = ("postgresql", "postgres")


def redact(location: str) -> str:
    """``location`` without a URL's user and password, fit to print."""
    return _USERINFO.sub("//***@", location, count=1)


def open_ledger_at(
    location: str, *, create: bool = False, readonly: bool = False, as_stored: bool = False
) -> PartnershipLedger:
    """Open a ledger for a command, turning every way that fails into one clear sentence."""
    url = _URL.match(location)
    if url and url.group(1).lower() not in POSTGRES_SCHEMES:
        raise StorageError(
            f"{redact(location)} is not a ledger location: --db takes an SQLite file path or a "
            "postgresql://user:password@host:port/dbname URL"
        )
    from partnership_ledger import PartnershipLedger

    try:
        ledger = PartnershipLedger.open(location, create=create, readonly=readonly, as_stored=as_stored)
    except StorageError as e:
        if "locked" in e.message:
            where = redact(location)
            raise StorageError(locked_message(where)) from None
        raise
    except ValueError as e:  # a URL that the URL parser itself rejects
        if url is None:
            raise
        raise StorageError(f"the database URL {redact(location)} is not a valid URL: {e}") from None
    error = ledger.read_model_error
    if error is not None and error != "the disk is full" and not ledger.projections.is_current():
        # The read models could not be brought up to date (not for lack of room): answering
        # from them would show what the events do not give.
        ledger.close()
        raise StorageError(
            f"the read models cannot be brought up to date ({error}): run 'partnership-ledger verify' "
            "to see why, then 'partnership-ledger rebuild'"
        )
    return ledger


def open_for_query(location: str, note: Callable[[str], None]) -> PartnershipLedger:
    """Open a ledger to answer a query: never writing to it, never waiting for a writer.

    The ledger opens to read only (SQLite's readers do not wait for its writer in WAL mode;
    PostgreSQL's never wait), and answers what the events give: an SQLite ledger whose read
    models lag behind its events (kept by a ``follow`` process that is behind, a write that
    could not update them, or made by an older version) answers from a private copy brought
    up to date (``PartnershipLedger.open(readonly=True)`` does that); ``note`` says so and how
    to bring the ledger's own up to date. A PostgreSQL ledger catches them up in place.
    """
    started = time.monotonic()
    ledger = open_ledger_at(location, readonly=True)
    lag = ledger.private_copy_lag
    if lag is not None:
        note(
            f"note: the read models are {lag} events behind the ledger's events; this answer comes from a private "
            f"copy brought up to date ({time.monotonic() - started:.1f} s). 'partnership-ledger follow --once' or "
            "the next write brings the ledger's own up to date."
        )
    if not _URL.match(location) or ledger.projections.is_current():
        return ledger
    ledger.close()
    return open_ledger_at(location)


#: When this command started: a lock's refusal says how long it really waited.
STARTED = time.monotonic()


def mark_start() -> None:
    """Note that a command starts now (the CLI's group calls it for each command it runs)."""
    global STARTED
    STARTED = time.monotonic()


def lock_timeout() -> str:
    """How long a command waits for another process's lock (``PARTNERSHIP_LEDGER_LOCK_TIMEOUT``)."""
    return os.environ.get(LOCK_TIMEOUT_ENV, "30")


def locked_wait() -> str:
    """`` (gave up after X s; PARTNERSHIP_LEDGER_LOCK_TIMEOUT is N s): try again...``"""
    waited = time.monotonic() - STARTED
    return f" (gave up after {waited:.1f} s; {LOCK_TIMEOUT_ENV} is {lock_timeout()} s): try again when it has finished"


def locked_message(where: str = "") -> str:
    """The refusal for a ledger another process holds locked, with the time truly waited."""
    place = f" at {where}" if where else ""
    return f"the ledger{place} is locked by another process" + locked_wait()


pass_state = click.make_pass_decorator(CliState)
