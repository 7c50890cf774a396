"""Where a ledger is when none is named: the ``--db`` default and its environment variable.

Light on purpose (no event-store import): the CLI reads it before it knows which command runs.
"""

from __future__ import annotations

import os

DEFAULT_DB = "partnership-ledger.sqlite"
ENV_DB = "PARTNERSHIP_LEDGER_DB"


def default_location() -> str:
    """``$PARTNERSHIP_LEDGER_DB``, or ``partnership-ledger.sqlite`` in the working folder."""
    return os.environ.get(ENV_DB) or DEFAULT_DB
