"""Read models made by an older layout are made again; a rebuild makes its indexes at the end.

The tracking row's name carries the read models' layout (``runner.TRACKING_NAME``). A ledger
whose read models an older version made (another row name, tables of another shape) must,
when opened, drop them and apply every event again (as a rebuild), and give what a fresh
ledger gives. A rebuild creates the tables' secondary indexes once, after the last event, all in one
transaction: a rebuild that stopped half way changed nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_read_models import read_model_rows

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.projections import runner
from partnership_ledger.projections.runner import ReadModel
from partnership_ledger.queries.indicators import ReadModelReader


def indexes(ledger: PartnershipLedger) -> set[str]:
    with ledger.db.transaction(commit=False) as c:
        c.execute("SELECT name FROM sqlite_master WHERE type='index' AND name LIKE 'rm_%'")
        return {r[0] for r in c.fetchall()}


def indicators(ledger: PartnershipLedger) -> list[Any]:
    found = []
    for p in ledger.partnerships():
        for query in (ledger.burden_balance, ledger.voice, ledger.target_progress, ledger.evaluation_summary):
            found.append(query(p["key"]))
    return found


def test_read_models_of_an_older_layout_are_made_again_on_opening(tmp_path: Path, every_op_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    with PartnershipLedger.open(path) as ledger:
        ledger.import_journal(every_op_path.read_bytes())
        want_rows, want = read_model_rows(ledger), indicators(ledger)
        history, made = ledger.history(), indexes(ledger)
        # What version 1 left: its tracking row, its decisions table, no measurements table.
        with ledger.db.transaction() as c:
            c.execute("UPDATE ledger_tracking SET name='read_models'")
            c.execute("DROP TABLE rm_decisions")
            c.execute(
                "CREATE TABLE rm_decisions (partnership TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL, "
                "PRIMARY KEY (partnership, seq))"
            )
            c.execute("INSERT INTO rm_decisions VALUES ('p', 0, '{}')")
            c.execute("DROP TABLE rm_measurements")
    # A reader of the read models alone does not take tables of another layout for current.
    assert ReadModelReader.open_current(path) is None
    with PartnershipLedger.open(path) as ledger:
        assert indexes(ledger) == made
        assert read_model_rows(ledger) == want_rows
        assert indicators(ledger) == want
        assert ledger.history() == history
        assert ledger.info()["read_model_lag"] == 0
    reader = ReadModelReader.open_current(path)
    assert reader is not None
    reader.close()


class IndexProbe(ReadModel):
    """A read model of no tables that reads no events: at the start of
    each batch it notes the read models' indexes that the batch's transaction sees (others
    see the read models as they were)."""

    event_names = ()

    def __init__(self) -> None:
        self.seen: list[set[str]] = []

    def begin(self, c: Any) -> None:
        c.execute("SELECT name FROM sqlite_master WHERE type='index' AND name LIKE 'rm_%'")
        self.seen.append({r[0] for r in c.fetchall()})

    def apply_all(self, c: Any, items: Any) -> None:
        assert not items, "the probe reads no events"


def test_a_rebuild_makes_the_indexes_after_the_last_event(
    tmp_path: Path, every_op_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ops = json.loads(every_op_path.read_bytes())
    path = tmp_path / "l.sqlite"
    with PartnershipLedger.open(path) as ledger:
        ledger.import_journal(json.dumps(ops))
        made = indexes(ledger)
        assert {"rm_history_agreement", "rm_contributions_partnership"} <= made
        rows = read_model_rows(ledger)
        probe = IndexProbe()
        monkeypatch.setattr(ledger.projections, "models", [*ledger.projections.models, probe])
        monkeypatch.setattr(runner, "REBUILD_BATCH", 7)
        assert ledger.rebuild() == ledger.event_count()
        assert len(probe.seen) > 2
        assert not any(probe.seen)  # no index while the events are applied
        assert indexes(ledger) == made
        assert read_model_rows(ledger) == rows


def test_a_rebuild_that_stopped_half_way_changed_nothing(
    tmp_path: Path, every_op_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "l.sqlite"
    with PartnershipLedger.open(path) as ledger:
        ledger.import_journal(every_op_path.read_bytes())
        rows, made = read_model_rows(ledger), indexes(ledger)
        batches = [0]

        def progress(applied: int) -> None:  # called after each batch, inside the rebuild
            batches[0] += 1
            if batches[0] == 2:
                raise KeyboardInterrupt

        monkeypatch.setattr(runner, "REBUILD_BATCH", 7)
        with pytest.raises(KeyboardInterrupt):
            ledger.rebuild(progress)
        assert batches[0] == 2  # stopped with two batches of seven applied, more to come
        assert ledger.projections.position() == ledger.last_position()
        assert indexes(ledger) == made
        assert read_model_rows(ledger) == rows
    monkeypatch.undo()
    with PartnershipLedger.open(path) as ledger:
        assert indexes(ledger) == made
        assert read_model_rows(ledger) == rows
