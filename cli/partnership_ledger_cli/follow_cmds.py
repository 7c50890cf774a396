"""The read-model updater as a process of its own: ``partnership-ledger follow``.

With many writers (PostgreSQL), set ``PARTNERSHIP_LEDGER_READ_MODELS=follow`` for writers and
readers, and run one ``follow`` process: it applies new events to the read models as soon as
they are recorded. On PostgreSQL it waits for the ``NOTIFY`` that every insert of events sends,
and polls as well, so a lost notification (or a dropped listening connection) delays it by one
polling interval at most; on SQLite it polls.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import click
from eventsourcing.persistence import InterfaceError, OperationalError

from partnership_ledger import PartnershipLedger

from .context import CliState, pass_state
from .output import Output, output_options, to_json
from .params import FiniteFloatRange

DEFAULT_INTERVAL = 0.5
MAX_RETRY_DELAY = 5.0


class _Stopped(Exception):
    """Raised between two batches of a long catch-up when asked to stop."""


class Listener:
    """Waits for the events table's notifications (PostgreSQL), or just sleeps (SQLite)."""

    def __init__(self, ledger: PartnershipLedger, *, listen: bool) -> None:
        self.ledger = ledger
        self.enabled = listen and ledger.backend == "postgresql"
        self.conn: Any = None
        self.lost = 0  # listening connections that dropped (their notifications are lost)

    def open(self) -> None:
        if not self.enabled or self.conn is not None:
            return
        channel = getattr(self.ledger.recorder, "channel_name", None)
        listener = getattr(self.ledger.db, "listener", None)
        if channel is None or listener is None:
            self.enabled = False
            return
        try:
            self.conn = listener(channel)
        except Exception:  # fall back to polling; try again next time
            self.conn = None

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            finally:
                self.conn = None

    def wait(self, timeout: float, stop: threading.Event) -> bool:
        """Wait up to ``timeout`` seconds for a notification; True if one came."""
        self.open()
        if self.conn is None:
            stop.wait(timeout)
            return False
        try:
            for _ in self.conn.notifies(timeout=timeout, stop_after=1):
                return True
            return False
        except Exception:  # fall back to polling; try again next time
            self.close()
            self.lost += 1
            stop.wait(timeout)
            return False

    @property
    def mode(self) -> str:
        return "LISTEN/NOTIFY and polling" if self.enabled else "polling"


def follow_ledger(
    ledger: PartnershipLedger,
    stop: threading.Event,
    *,
    interval: float = DEFAULT_INTERVAL,
    listen: bool = True,
    on_applied: Callable[[int, int], None] | None = None,
    on_error: Callable[[BaseException, float], None] | None = None,
    on_ready: Callable[[Listener], None] | None = None,
) -> int:
    """Keep ``ledger``'s read models up to date until ``stop`` is set; returns events applied.

    Each round catches up, then waits for a notification or ``interval`` seconds, whichever
    comes first. A database error (server restarting, connection lost) is reported through
    ``on_error`` and retried with a growing delay; any other error ends the loop.
    """
    listener = Listener(ledger, listen=listen)
    # Listen before the first catch-up, so nothing recorded in between goes unnoticed.
    listener.open()

    total, delay, ready = 0, interval, False

    def count_and_check_stop(n: int) -> None:
        nonlocal total
        total += n
        if stop.is_set():
            raise _Stopped

    try:
        while not stop.is_set():
            try:
                applied = ledger.catch_up(count_and_check_stop)
            except _Stopped:
                break
            except (OperationalError, InterfaceError) as e:
                if on_error is not None:
                    on_error(e, delay)
                stop.wait(delay)
                delay = min(delay * 2, MAX_RETRY_DELAY)
                continue
            delay = interval
            if applied and on_applied is not None:
                on_applied(applied, ledger.projections.position())
            if not ready:
                ready = True
                if on_ready is not None:
                    on_ready(listener)
            listener.wait(interval, stop)
    finally:
        listener.close()
    return total


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM and SIGINT set ``stop`` (the loop ends after the batch in hand)."""

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def plural_events(n: int) -> str:
    return f"{n} event" if n == 1 else f"{n} events"


@click.command()
@click.option(
    "--once",
    is_flag=True,
    help="Catch up once and exit, instead of following. Example: --once",
)
@click.option(
    "--interval",
    type=FiniteFloatRange(min=0.05, max=60),
    default=DEFAULT_INTERVAL,
    show_default=True,
    metavar="SECONDS",
    help="How often to look for new events even without a notification. Example: --interval 2",
)
@click.option(
    "--poll-only",
    is_flag=True,
    help="Do not LISTEN for PostgreSQL notifications; only poll. Example: --poll-only",
)
@output_options()
@pass_state
def follow(state: CliState, out: Output, once: bool, interval: float, poll_only: bool) -> None:
    """Keep the read models up to date, as a long-running process.

    Applies every newly recorded event to the read models (history, indexes,
    indicators) moments after it is recorded, until stopped with Ctrl-C or
    SIGTERM. On PostgreSQL it is woken by the notification each write sends, and
    polls every --interval seconds as well, so a lost notification cannot stall
    it; on SQLite it polls. Run one beside many writers, and set
    PARTNERSHIP_LEDGER_READ_MODELS=follow for the writers and readers so that
    they leave the read models to it.

    \b
    Examples:
      partnership-ledger --db postgresql://ledger:secret@db.example:5432/ledger follow
      partnership-ledger follow --once --json
      PARTNERSHIP_LEDGER_READ_MODELS=follow partnership-ledger import journal.json
    """
    with state.open_ledger(write=True) as ledger:
        if once:
            started = time.monotonic()
            applied = ledger.catch_up()
            position = ledger.projections.position()
            if out.format == "json":
                out.json(
                    {
                        "applied": applied,
                        "read_model_position": position,
                        "read_model_lag": ledger.last_position() - position,
                        "seconds": round(time.monotonic() - started, 3),
                    }
                )
            else:
                out.message(f"applied {plural_events(applied)}; read models at position {position}")
            return

        stop = threading.Event()

        def ready(listener: Listener) -> None:
            state.note(
                f"following {ledger.info()['location']} ({listener.mode} every {interval:g} s); "
                "stop with Ctrl-C or SIGTERM"
            )

        def report_applied(n: int, position: int) -> None:
            if out.format == "json":  # JSON Lines, one object per catch-up
                click.echo(to_json({"applied": n, "read_model_position": position}, indent=None))
                sys.stdout.flush()
            else:
                state.detail(f"applied {plural_events(n)}; read models at position {position}")

        def failed(exc: BaseException, delay: float) -> None:
            click.echo(f"warning: the database failed ({exc}); retrying in {delay:g} s", err=True)

        with stop_on_signals(stop):
            total = follow_ledger(
                ledger,
                stop,
                interval=interval,
                listen=not poll_only,
                on_applied=report_applied,
                on_error=failed,
                on_ready=ready,
            )
        position = ledger.projections.position()
        state.note(f"stopped following: applied {plural_events(total)}; read models at position {position}")


def register(cli: click.Group) -> None:
    cli.add_command(follow)
