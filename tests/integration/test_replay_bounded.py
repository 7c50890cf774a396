"""Loading an aggregate replays a bounded number of events; caps decide as before.

An agreement keeps one total per party and fiscal year (not every contribution's amount), and
agreements and partnerships are snapshotted every ``snapshots.INTERVAL`` events. These tests
hold that:

- loading a long-lived agreement reads its last snapshot and fewer than ``INTERVAL`` events;
- a snapshot-loaded aggregate is the aggregate its events give (random journals, with a
  tiny interval so that snapshots are taken all the time);
- its totals are the independent sum, over the contributions under it, of what each counts
  against the cap, and its cap decisions are those that sum gives (the old model's);
- an agreement stored before (version 1 ``ContributionCounted`` events, absolute amounts)
  loads with the same totals;
- a tampered snapshot is found by ``verify``; ``rebuild`` drops the snapshots, harmlessly.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from eventsourcing.application import project_aggregate
from hypothesis import HealthCheck, given, settings
from partnership_ledger_cli.main import cli
from strategies import valid_journals

from partnership_ledger import PartnershipLedger, snapshots
from partnership_ledger.domain import Agreement, ResourceContribution
from partnership_ledger.domain.values import Money
from partnership_ledger.errors import AnnualCapExceeded
from partnership_ledger.projections.verification import check_read_models

DATA = Path(__file__).resolve().parents[1] / "data"
SETTINGS = settings(deadline=None, max_examples=25, suppress_health_check=list(HealthCheck))


def busy_ledger(path: Path | str, pledges: int) -> None:
    with PartnershipLedger.open(path) as ledger:
        ledger.register_party("a", "A", "npo")
        ledger.register_party("b", "B", "npo")
        ledger.propose_partnership("p", "P", "pooling", "a", ["a", "b"], "2024-04-01")
        ledger.activate_partnership("p", "2024-04-02")
        cap = {"amount": "1000000", "currency": "JPY"}
        ledger.draft_agreement("g", "p", "G", ["a", "b"], "2024-04-01", "2030-03-31", annual_caps={"a": cap})
        ledger.sign_agreement("g", "a", "2024-04-03")
        ledger.sign_agreement("g", "b", "2024-04-03")
        for i in range(pledges):
            ledger.pledge(f"c{i}", "p", "a", "money", {"amount": "100", "currency": "JPY"}, 2024, agreement="g")


def events_read(ledger: PartnershipLedger, key: str, kind: str = "agreement") -> tuple[Any, int]:
    """The aggregate as loading gives it, and how many stored items (a snapshot, events) it read."""
    from partnership_ledger.domain import aggregate_id

    count = 0

    def counting(aggregate: Any, events: Any) -> Any:
        nonlocal count
        for e in events:
            count += 1
            aggregate = e.mutate(aggregate)
        return aggregate

    return ledger.repository.get(aggregate_id(kind, key), projector_func=counting), count


def state(ledger: PartnershipLedger, aggregate: Any) -> bytes:
    encoded: bytes = ledger.mapper.transcoder.encode(type(aggregate).Snapshot.take(aggregate).state)
    return encoded


def full_replay(ledger: PartnershipLedger, aggregate: Any) -> Any:
    return project_aggregate(None, ledger.events.get(aggregate.id))


def test_loading_a_long_lived_agreement_reads_its_snapshot_and_a_few_events(backend_url: str) -> None:
    busy_ledger(backend_url, 3 * snapshots.INTERVAL + 7)
    with PartnershipLedger.open(backend_url) as ledger:
        agreement, read = events_read(ledger, "g")
        assert agreement.version > 3 * snapshots.INTERVAL
        assert read <= snapshots.INTERVAL + 1  # one snapshot, then the events after it
        assert state(ledger, agreement) == state(ledger, full_replay(ledger, agreement))
        assert agreement.counted == {"a|2024": Decimal(100) * (3 * snapshots.INTERVAL + 7)}
        assert agreement.pledged_under == 3 * snapshots.INTERVAL + 7
        with ledger.db.transaction(commit=False) as c:
            c.execute(f"SELECT COUNT(*) FROM {snapshots.snapshot_table(ledger)}")
            assert c.fetchone()[0] == 1  # the older snapshots are dropped
        assert snapshots.check_snapshots(ledger) is None


def test_a_tampered_snapshot_is_found_by_verify_and_rebuild_drops_it(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    busy_ledger(path, snapshots.INTERVAL + 1)
    with PartnershipLedger.open(path) as ledger:
        assert check_read_models(ledger).ok
    con = sqlite3.connect(path)
    (raw,) = con.execute("SELECT state FROM stored_snapshots").fetchone()
    assert b'"a|2024"' in raw
    total = b'"a|2024":{"_type_":"decimal_str","_data_":"'
    tampered = raw.replace(total, total + b"-")
    assert tampered != raw
    with con:
        con.execute("UPDATE stored_snapshots SET state=?", (tampered,))
    con.close()
    with PartnershipLedger.open(path) as ledger:
        check = check_read_models(ledger)
        assert not check.ok
        assert "snapshot of agreement g" in check.message
    con = sqlite3.connect(path)
    with con:
        con.execute("UPDATE stored_snapshots SET state=?", (b"not json",))
    con.close()
    with PartnershipLedger.open(path, readonly=True) as ledger:
        found = snapshots.check_snapshots(ledger)
        assert found is not None
        assert "cannot be read" in found[1]
    result = CliRunner().invoke(cli, ["--db", str(path), "verify"])
    assert result.exit_code == 1
    assert "the snapshot of aggregate" in result.output + (result.stderr if result.stderr_bytes else "")
    with PartnershipLedger.open(path) as ledger:
        ledger.rebuild()  # drops the snapshots: they are taken again as the aggregates change
        assert check_read_models(ledger).ok
        assert ledger.aggregate("g").counted == {"a|2024": Decimal(100) * (snapshots.INTERVAL + 1)}


def test_an_agreement_stored_before_loads_with_the_totals_of_its_contributions(tmp_path: Path) -> None:
    shutil.copy(DATA / "ledger-before-corrections.sqlite", tmp_path / "l.sqlite")
    with PartnershipLedger.open(tmp_path / "l.sqlite", create=False, readonly=True, as_stored=True) as ledger:
        assert ledger.snapshots is None  # no table for them, and nothing is created
        agreements = ledger.keys("agreement")
        assert agreements
        for key in agreements:
            assert_totals_are_the_sum_of_the_contributions(ledger, key)
    with PartnershipLedger.open(tmp_path / "l.sqlite", create=False) as ledger:
        assert ledger.snapshots is not None
        for key in agreements:
            assert_totals_are_the_sum_of_the_contributions(ledger, key)


def assert_totals_are_the_sum_of_the_contributions(ledger: PartnershipLedger, key: str) -> dict[str, Decimal]:
    """The agreement's totals against the independent sum over the contributions under it."""
    agreement = ledger.aggregate(key)
    assert isinstance(agreement, Agreement)
    want: dict[str, Decimal] = {}
    pledged = 0
    for c_key in ledger.keys("contribution"):
        c = ledger.aggregate(c_key)
        assert isinstance(c, ResourceContribution)
        if c.agreement == key:
            bucket = f"{c.party}|{c.fiscal_year}"
            want[bucket] = want.get(bucket, Decimal(0)) + c.counted_against_cap
            pledged += c.counted_against_cap != 0
    assert {k: v for k, v in agreement.counted.items() if v or k in want} == want
    assert agreement.pledged_under == pledged
    return want


@pytest.fixture
def tiny_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshots, "INTERVAL", 2)


@SETTINGS
@given(journal=valid_journals(min_ops=15, max_ops=45))
def test_snapshot_loads_equal_replays_and_caps_decide_by_the_sum_of_the_contributions(
    tmp_path_factory: pytest.TempPathFactory, tiny_interval: None, journal: list[dict[str, Any]]
) -> None:
    path = tmp_path_factory.mktemp("snap") / "l.sqlite"
    with PartnershipLedger.open(path) as ledger:
        for i in range(0, len(journal), 4):  # batches of four operations (the rest is skipped)
            ledger.import_journal(json.dumps([{**op, "id": f"op-{n}"} for n, op in enumerate(journal[: i + 4])]))
    with PartnershipLedger.open(path) as ledger:  # a fresh process: nothing kept in memory
        assert snapshots.check_snapshots(ledger) is None  # taken from memory, equal to the replay
        for cls in snapshots.INTERVALS:
            kind = cls.kind
            for key in ledger.keys(kind):
                loaded, read = events_read(ledger, key, kind)
                assert isinstance(loaded, cls)
                assert state(ledger, loaded) == state(ledger, full_replay(ledger, loaded))
                assert read <= snapshots.INTERVAL + 1  # the snapshot, then fewer than INTERVAL + 1 events
        for key in ledger.keys("agreement"):
            sums = assert_totals_are_the_sum_of_the_contributions(ledger, key)
            agreement = ledger.aggregate(key)
            assert isinstance(agreement, Agreement)
            for party, cap in (agreement.terms.annual_caps or {}).items():
                for bucket, total in sums.items():
                    who, year = bucket.split("|")
                    if who != party:
                        continue
                    room = cap.amount - total
                    if room >= 0:
                        agreement.check_cap(party, int(year), "probe", Decimal(0), Money(room, cap.currency))
                    with pytest.raises(AnnualCapExceeded):
                        agreement.check_cap(party, int(year), "probe", Decimal(0), Money(room + 1, cap.currency))
