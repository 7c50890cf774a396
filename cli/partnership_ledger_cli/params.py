"""Parameter types, shell completion of keys, and reading input files, shared by commands.

For a new command taking a partnership::

    @click.argument("partnership", type=LedgerKey(), shell_complete=complete_keys("partnership"))
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
from click.shell_completion import CompletionItem

from partnership_ledger.config import default_location
from partnership_ledger.domain import KINDS
from partnership_ledger.errors import StorageError

STDIN = "-"
_DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_DECIMAL_RE = re.compile(r"^[0-9]{1,30}(\.[0-9]{1,30})?\Z")
_SIGNED_RE = re.compile(r"^-[0-9]{1,30}(\.[0-9]{1,30})?\Z")


class _Written(click.ParamType):  # type: ignore[type-arg]  # generic only in newer click
    """A value written as text (``metavar`` in the help); one already converted is kept."""

    metavar: str
    kind: type

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return self.metavar

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, self.kind):
            return value
        return self.parse(str(value), param, ctx)

    def parse(self, text: str, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        raise NotImplementedError


class IsoDate(_Written):
    """A date written ``YYYY-MM-DD``."""

    name = "date"
    metavar = "YYYY-MM-DD"
    kind = date

    def parse(self, text: str, param: click.Parameter | None, ctx: click.Context | None) -> date:
        try:
            if _DATE_RE.match(text):
                return date.fromisoformat(text)
        except ValueError:
            pass
        self.fail(f"{text!r} is not a date: write YYYY-MM-DD", param, ctx)


class Timestamp(_Written):
    """A recorded time: ISO date or date-time; without a zone it is UTC.

    A bare date means the start of that day, or with ``end_of_day`` its end (so that
    ``--recorded-until 2024-05-01`` includes everything recorded on 1 May).
    """

    name = "timestamp"
    metavar = "TIME"
    kind = datetime

    def __init__(self, *, end_of_day: bool = False) -> None:
        self.end_of_day = end_of_day

    def parse(self, text: str, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        try:
            if _DATE_RE.match(text):
                day = date.fromisoformat(text)
                return datetime.combine(day, time.max if self.end_of_day else time.min, UTC)
            moment = datetime.fromisoformat(text)
        except ValueError:
            self.fail(
                f"{text!r} is not a time: write YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][+HH:MM]",
                param,
                ctx,
            )
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)


class LedgerKey(click.ParamType):  # type: ignore[type-arg]  # generic only in newer click
    """A key in the ledger (``npo-puppets``). Bytes that are not UTF-8 text, which a shell can
    pass, are refused here: no key can hold them."""

    name = "key"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        if not text.strip():
            self.fail("a key cannot be empty", param, ctx)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            self.fail(f"{text!a} is not a key: it holds bytes that are not UTF-8 text", param, ctx)
        return text


class DecimalNumber(_Written):
    """A finite, non-negative decimal number written plainly (``0.05``, ``2``), kept exact."""

    name = "decimal"
    metavar = "DECIMAL"
    kind = Decimal

    def parse(self, text: str, param: click.Parameter | None, ctx: click.Context | None) -> Decimal:
        text = text.strip()
        if not _DECIMAL_RE.match(text):
            if _SIGNED_RE.match(text):
                self.fail(f"{text!r} is negative: it must be 0 or more, such as 0.05 or 2", param, ctx)
            if text.lower().lstrip("+-") in ("nan", "inf", "infinity"):
                self.fail(f"{text!r} is not a finite number: write a decimal such as 0.05 or 2", param, ctx)
            self.fail(f"{text!r} is not a number: write a decimal such as 0.05 or 2", param, ctx)
        return Decimal(text)


class FiniteFloatRange(click.FloatRange):
    """click's FloatRange, refusing NaN and infinities too (``nan`` compares false with both
    bounds, so FloatRange lets it through)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        import math

        number = super().convert(value, param, ctx)
        if isinstance(number, float) and not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


def complete_keys(
    *kinds: str,
) -> Callable[[click.Context, click.Parameter, str], list[CompletionItem]]:
    """Shell completion of the keys of ``kinds`` (every kind if none) in the ``--db`` ledger."""

    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
        db = ctx.find_root().params.get("db") or default_location()
        try:
            from partnership_ledger import PartnershipLedger

            with PartnershipLedger.open(db, create=False) as ledger:
                keys = [k for kind in (kinds or KINDS) for k in ledger.keys(kind)]
        except Exception:  # completion must never fail loudly
            return []
        return [CompletionItem(k) for k in sorted(keys) if k.startswith(incomplete)]

    return complete


def source_name(path: str) -> str:
    return "stdin" if path == STDIN else path


def read_source(path: str) -> bytes:
    """The bytes of a file, or of stdin for ``-``; a clear error if it cannot be read."""
    if path == STDIN:
        return sys.stdin.buffer.read()
    p = Path(path)
    if p.is_dir():
        raise StorageError(f"cannot read {path}: it is a folder, not a file")
    try:
        return p.read_bytes()
    except FileNotFoundError:
        raise StorageError(f"cannot read {path}: there is no such file") from None
    except PermissionError:
        raise StorageError(f"cannot read {path}: permission denied") from None
    except OSError as e:
        raise StorageError(f"cannot read {path}: {e.strerror or e}") from None


def on_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """``--on`` (by the dates things happened) and ``--as-of`` (by when they were recorded),
    which compose: every query takes both."""
    f = click.option(
        "--as-of",
        "as_of",
        type=Timestamp(end_of_day=True),
        help="What the ledger said at that recorded time (replays the events up to it); a bare "
        "date means the end of that day, UTC. Example: --as-of 2026-12-31",
    )(f)
    f = click.option(
        "--on",
        "on",
        type=IsoDate(),
        help="How things stood on that date, by the dates things happened (with everything "
        "recorded so far; with --as-of, what was recorded by then). Example: --on 2010-03-31",
    )(f)
    return f
