"""With the garbage-collector pause or without it, a ledger records and answers the same
(the pause, ``partnership_ledger/collector.py``, only changes when memory is collected)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


def test_an_import_and_a_rebuild_record_the_same_without_the_pause(
    tmp_path: Path, every_op_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pause changes when memory is collected, never what is recorded or computed."""
    import contextlib

    import partnership_ledger.projections.runner as runner
    import partnership_ledger.service.commands as commands
    from partnership_ledger import PartnershipLedger

    def answers(name: str) -> tuple[Any, ...]:
        with PartnershipLedger.open(tmp_path / name) as ledger:
            ledger.import_journal(every_op_path.read_bytes())
            ledger.rebuild()
            return ledger.history(), ledger.burden_balance("puppet-tour"), list(ledger.export_operations())

    paused = answers("paused.sqlite")
    monkeypatch.setattr(commands, "collector_paused", contextlib.nullcontext)
    monkeypatch.setattr(runner, "collector_paused", contextlib.nullcontext)
    plain = answers("plain.sqlite")
    assert [{k: v for k, v in r.items() if k != "recorded_at"} for r in paused[0]] == [
        {k: v for k, v in r.items() if k != "recorded_at"} for r in plain[0]
    ]
    assert paused[1] == plain[1]
    # (residents' ids are salted commitments, different in each ledger: the operations and ids match)
    assert [(o["op"], o["id"]) for o in paused[2]] == [(o["op"], o["id"]) for o in plain[2]]
