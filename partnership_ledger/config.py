"""Where a ledger is when none is named, and how long to wait for another process's lock.

Light on purpose (no event-store import): the CLI reads it before it knows which command runs.
"""

from __future__ import annotations

import math
import os

from .errors import StorageError

DEFAULT_DB = "partnership-ledger.sqlite"
ENV_DB = "PARTNERSHIP_LEDGER_DB"
#: How long to wait for another process's lock, in seconds (default 30).
ENV_LOCK_TIMEOUT = "PARTNERSHIP_LEDGER_LOCK_TIMEOUT"
MAX_LOCK_TIMEOUT = 86_400.0


def default_location() -> str:
    """``$PARTNERSHIP_LEDGER_DB``, or ``partnership-ledger.sqlite`` in the working folder."""
    return os.environ.get(ENV_DB) or DEFAULT_DB


def lock_timeout() -> float:
    """``$PARTNERSHIP_LEDGER_LOCK_TIMEOUT`` in seconds, checked: a finite number from 0 to a day.

    Raises :class:`~partnership_ledger.errors.StorageError` naming the variable otherwise.
    """
    raw = os.environ.get(ENV_LOCK_TIMEOUT, "30")
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not 0 <= value <= MAX_LOCK_TIMEOUT:  # NaN and the infinities are outside too
        raise StorageError(
            f"{ENV_LOCK_TIMEOUT} must be a number of seconds from 0 to {MAX_LOCK_TIMEOUT:.0f}, not {raw!r}"
        )
    return value
