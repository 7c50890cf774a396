"""Work for the processes that tests start, kept in a small module so that they start fast.

A process started with ``multiprocessing``'s spawn method imports the module of its target
function: this one imports only the library.
"""

from __future__ import annotations

import json
from typing import Any

from partnership_ledger.application import PartnershipLedger

PARTIES_EACH = 6


def shared_journal() -> list[dict[str, Any]]:
    """A journal every writer imports at once: it must be recorded exactly once."""
    founding: list[dict[str, Any]] = [
        {"id": "founder", "op": "register_party", "key": "founder", "name": "Founder", "sector": "npo"},
        {
            "id": "hub",
            "op": "propose_partnership",
            "key": "hub",
            "title": "Hub",
            "purpose": "Everyone",
            "proposed_by": "founder",
            "members": ["founder"],
            "on": "2020-04-01",
        },
    ]
    others = [
        {"id": f"shared-{i}", "op": "register_party", "key": f"shared-{i}", "name": "S", "sector": "npo"}
        for i in range(5)
    ]
    return founding + others


def writer(url: str, n: int, barrier: Any) -> None:
    """Writer ``n``: opens (maybe creates) the ledger with the others, imports the shared
    journal with them, then records parties of its own that all join ``hub``."""
    barrier.wait(timeout=120)
    with PartnershipLedger.open(url) as ledger:
        ledger.import_journal(json.dumps(shared_journal()), source=f"writer {n}")
        for j in range(PARTIES_EACH):
            key = f"w{n}-{j}"
            ledger.register_party(key, f"Writer {n} party {j}", "npo", op_id=f"reg-{key}")
            # Every writer joins the one partnership: they race for its next version.
            ledger.join_partnership("hub", key, "2020-05-01", op_id=f"join-{key}")
