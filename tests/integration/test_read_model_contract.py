"""The read-model contract (``projections.runner.ReadModel``): the runner calls every hook of
every model, in order, around each batch; a model overrides only the hooks it needs, and one
that names no events reads them all."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import journal_ops as ops
import pytest
from test_import_slices import slices_of

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.projections.runner import Item, ReadModel
from partnership_ledger.storage.db import Cursor

JOURNAL = [
    {"op": "register_party", "key": "pa", "name": "A", "sector": "npo"},
    {"op": "register_party", "key": "pb", "name": "B", "sector": "business"},
    ops.propose("p", "pa", ["pa", "pb"], "2020-04-01", title="T", purpose="P"),
]


class EveryEvent(ReadModel):
    """Only ``apply_all``: the hooks are the base class's, and it reads every event."""

    def __init__(self) -> None:
        self.positions: list[int] = []

    def apply_all(self, c: Cursor, items: Sequence[Item]) -> None:
        self.positions += [position for position, _, _ in items]


class Hooks(ReadModel):
    """Notes each hook the runner calls; its ``apply_all`` fails once if ``failing``."""

    event_names = frozenset(("Party.Registered",))

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.failing = False

    def begin(self, c: Cursor) -> None:
        self.calls.append("begin")

    def resume(self, c: Cursor) -> None:
        self.calls.append("resume")

    def apply_all(self, c: Cursor, items: Sequence[Item]) -> None:
        self.calls.append(f"apply {len(items)}")
        if self.failing:
            self.failing = False
            raise RuntimeError("a read model bug")

    def end(self) -> None:
        self.calls.append("end")

    def abort(self) -> None:
        self.calls.append("abort")

    def release(self) -> None:
        self.calls.append("release")


def with_models(ledger: PartnershipLedger, monkeypatch: pytest.MonkeyPatch, *models: Any) -> None:
    monkeypatch.setattr(ledger.projections, "models", [*ledger.projections.models, *models])


def test_a_model_with_only_apply_all_reads_every_event(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with PartnershipLedger.open(tmp_path / "l.sqlite") as ledger:
        every = EveryEvent()
        with_models(ledger, monkeypatch, every)
        ledger.import_journal(json.dumps(JOURNAL))
        assert every.positions == list(range(1, ledger.event_count() + 1))
        every.positions.clear()
        assert ledger.rebuild() == ledger.event_count()
        assert every.positions == list(range(1, ledger.event_count() + 1))


def test_the_runner_calls_the_hooks_around_each_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with PartnershipLedger.open(tmp_path / "l.sqlite") as ledger:
        hooks = Hooks()
        with_models(ledger, monkeypatch, hooks)
        with slices_of(1):
            ledger.import_journal(json.dumps(JOURNAL))
        # One slice an operation, in one transaction: the later slices resume; a batch with
        # none of the model's events is not given to apply_all; when the transaction ends,
        # what was kept for a next slice is released (no other transaction resumes it).
        assert hooks.calls == ["begin", "apply 1", "end", "resume", "apply 1", "end", "resume", "end", "release"]
        hooks.calls.clear()
        assert ledger.rebuild() == ledger.event_count()
        assert hooks.calls == ["release", "begin", "apply 2", "end", "release"]
        hooks.calls.clear()
        hooks.failing = True
        ledger.import_journal(json.dumps([{"op": "register_party", "key": "pc", "name": "C", "sector": "npo"}]))
        # The event is recorded all the same, and the read models catch up from the stored events.
        assert hooks.calls == ["begin", "apply 1", "abort", "begin", "apply 1", "end", "release"]
        assert ledger.info()["read_model_lag"] == 0
