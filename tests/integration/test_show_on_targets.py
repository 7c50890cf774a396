"""``show TARGET --on DAY`` gives the targets in force that day, as ``targets --on DAY`` does:
those the last revision made by then set, else those the target was defined with, also when
the target is loaded from a snapshot taken after its revisions."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from partnership_ledger import PartnershipLedger, snapshots

REVISIONS = [("2024-06-01", "30"), ("2024-09-01", "25")]


def targets_ledger(path: Path, measurements: int) -> PartnershipLedger:
    ledger = PartnershipLedger.open(path)
    ledger.register_party("a", "A", "npo")
    ledger.propose_partnership("p", "P", "pooling", "a", ["a"], "2024-04-01")
    baseline = {"period": "2023", "value": "10"}
    ledger.define_target("t", "p", "visits", "people", "increase", baseline, [{"period": "2025", "value": "20"}])
    for on, value in REVISIONS:
        ledger.revise_target("t", [{"period": "2025", "value": value}], "rethought", on)
    for i in range(measurements):
        ledger.record_measurement("t", "2025", str(i), "count", "2024-10-01")
    return ledger


def days() -> list[date]:
    turns = [date.fromisoformat(on) for on, _ in REVISIONS]
    return sorted({d for t in turns for d in (t - timedelta(days=1), t, t + timedelta(days=1))})


@pytest.mark.parametrize("measurements", [0, snapshots.INTERVAL + 5])
def test_show_on_a_day_gives_the_targets_in_force_as_the_target_query_does(tmp_path: Path, measurements: int) -> None:
    with targets_ledger(tmp_path / "l.sqlite", measurements) as ledger:
        expected = {"2024-05-31": "20", "2024-06-01": "30", "2024-06-02": "30", "2024-08-31": "30"}
        expected |= {"2024-09-01": "25", "2024-09-02": "25"}
        for day in days():
            shown = ledger.show("t", on=day)["targets"]
            queried = ledger.target_progress("p", on=day)["targets"][0]["targets"]
            assert [(x["period"], str(x["value"])) for x in shown] == [("2025", expected[day.isoformat()])], day
            assert [(x["period"], str(x["value"])) for x in queried] == [("2025", expected[day.isoformat()])], day
        assert [(x["period"], str(x["value"])) for x in ledger.show("t")["targets"]] == [("2025", "25")]


def test_the_snapshot_of_a_revised_target_keeps_the_targets_each_revision_replaced(tmp_path: Path) -> None:
    with targets_ledger(tmp_path / "l.sqlite", snapshots.INTERVAL + 5) as ledger:
        with ledger.db.transaction(commit=False) as c:
            c.execute("SELECT count(*) FROM stored_snapshots")
            assert c.fetchone()[0] >= 1
        target = ledger.aggregate("t")
        assert [[str(x.value) for x in r.previous or []] for r in target.revisions] == [["20"], ["30"]]
