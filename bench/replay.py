"""Loading long-lived aggregates: one agreement with many pledges, one partnership with many decisions.

    python bench/replay.py [--pledges 20000] [--commands 200] [--decisions 5268]

Imports, into a fresh SQLite ledger in a temporary folder, a journal with one capped
agreement and ``--pledges`` pledges under it, then opens the ledger afresh (nothing kept in
memory) and measures the first ``show`` of the agreement and ``--commands`` commands on it
(pledges and deliveries, one transaction each); then the same for a partnership with
``--decisions`` decisions (``show``, and the report's view of it). Prints JSON with wall and
CPU seconds (the CPU figures are the steadier on a shared machine). docs/performance.md
("Bounded replay") gives the numbers before and after snapshots.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from partnership_ledger import PartnershipLedger
from partnership_ledger.reports.model import partnership_view


def yen(amount: int) -> dict[str, str]:
    return {"amount": str(amount), "currency": "JPY"}


def setup() -> list[dict[str, Any]]:
    m, d = ["a", "b", "c"], "2024-04-01"
    return [
        *({"op": "register_party", "key": k, "name": k.upper(), "sector": "npo"} for k in m),
        {"op": "propose_partnership", "key": "p", "title": "P", "purpose": "x", "proposed_by": m[0], "members": m}
        | {"on": d},
        {"op": "activate_partnership", "partnership": "p", "on": d},
    ]


def timed(fn: Any) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def agreement(folder: Path, pledges: int, commands: int) -> dict[str, Any]:
    ops = [
        *setup(),
        {
            "op": "draft_agreement",
            "key": "g",
            "partnership": "p",
            "title": "G",
            "parties": ["a", "b"],
            "start": "2024-04-01",
            "end": "2034-03-31",
            "annual_caps": {"a": yen(10**12)},
        },
        {"op": "sign_agreement", "agreement": "g", "party": "a", "on": "2024-04-03"},
        {"op": "sign_agreement", "agreement": "g", "party": "b", "on": "2024-04-03"},
    ]
    for i in range(pledges):
        party = "a" if i % 2 else "b"
        ops.append(
            {
                "op": "pledge",
                "key": f"c{i}",
                "partnership": "p",
                "party": party,
                "agreement": "g",
                "kind": "money",
                "value": yen(1000 + i % 7),
                "fiscal_year": 2024 + i % 5,
            }
        )
    path = folder / "agreement.sqlite"
    with PartnershipLedger.open(path) as ledger:
        result, wall, cpu = timed(lambda: ledger.import_journal(json.dumps(ops)))
    out: dict[str, Any] = {"events": result.events, "import_s": wall, "import_cpu_s": cpu}
    with PartnershipLedger.open(path) as ledger:
        _, out["first_show_s"], out["first_show_cpu_s"] = timed(lambda: ledger.show("g"))

        def run() -> None:
            for i in range(commands):
                if i % 2:
                    ledger.pledge(f"n{i}", "p", "a", "money", yen(5), 2025, agreement="g")
                else:
                    ledger.deliver(f"c{i}", yen(3), "2024-06-01")

        _, wall, cpu = timed(run)
    out["command_ms"], out["command_cpu_ms"] = 1000 * wall / commands, 1000 * cpu / commands
    return out


def partnership(folder: Path, decisions: int) -> dict[str, Any]:
    ops = setup()
    votes = {"a": "for", "b": "against", "c": "for"}
    ops += [
        {
            "op": "record_decision",
            "partnership": "p",
            "key": f"d{i}",
            "subject": f"subject {i}",
            "proposed_by": "a",
            "rule": "majority",
            "votes": votes,
            "on": "2024-05-01",
        }
        for i in range(decisions)
    ]
    path = folder / "partnership.sqlite"
    with PartnershipLedger.open(path) as ledger:
        ledger.import_journal(json.dumps(ops))
    out: dict[str, Any] = {}
    with PartnershipLedger.open(path) as ledger:
        _, out["show_s"], out["show_cpu_s"] = timed(lambda: ledger.show("p"))
        _, out["report_view_s"], out["report_view_cpu_s"] = timed(lambda: partnership_view(ledger, "p"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pledges", type=int, default=20000)
    parser.add_argument("--commands", type=int, default=200)
    parser.add_argument("--decisions", type=int, default=5268)
    ns = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        found = {
            "agreement": agreement(Path(tmp), ns.pledges, ns.commands),
            "partnership": partnership(Path(tmp), ns.decisions),
        }
    print(json.dumps(found, indent=2))


if __name__ == "__main__":
    main()
