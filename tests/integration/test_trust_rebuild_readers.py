"""Readers keep reading while another process rebuilds the read models (issue 14): a query
during a rebuild answers what it answers before and after (a rebuild is one transaction:
readers see the read models as they were until it commits), and a writer waits its turn."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from partnership_ledger_cli.main import cli

from partnership_ledger.application import PartnershipLedger

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

REBUILDER = r"""
import sys, time
from partnership_ledger.application import PartnershipLedger
with PartnershipLedger.open(sys.argv[1], create=False) as ledger:
    end = time.monotonic() + float(sys.argv[2])
    print("rebuilding", flush=True)
    while time.monotonic() < end:
        ledger.rebuild()
        time.sleep(0.1)  # SQLite's lock is not fair: a writer waiting for it gets it in a pause
"""


def test_queries_and_writes_during_a_rebuild(tmp_path: Path) -> None:
    from synthetic import synthetic_journal

    db = tmp_path / "ledger.sqlite"
    journal = synthetic_journal(6000, 7)
    with PartnershipLedger.open(db) as ledger:
        ledger.import_journal(json.dumps(journal))
        partnership = sorted(p["key"] for p in ledger.partnerships())[0]

    queries = [["balance", partnership, "--json"], ["history", partnership, "--json"]]

    def ask(args: list[str]) -> tuple[int, str, str]:
        result = CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    expected = {tuple(q): ask(q) for q in queries}
    assert all(code == 0 for code, _, _ in expected.values())
    rebuilder = subprocess.Popen(
        [sys.executable, "-c", REBUILDER, str(db), "6"], stdout=subprocess.PIPE, text=True, env=None
    )
    try:
        assert rebuilder.stdout is not None
        assert rebuilder.stdout.readline() == "rebuilding\n"
        answers = 0
        n = 0
        while rebuilder.poll() is None:
            for q in queries:  # the balance from the read models alone, the history from the ledger
                code, out, err = ask(q)
                assert code == 0, err
                assert json.loads(out) == json.loads(expected[tuple(q)][1]), q
            if n < 3:  # a writer waits its turn (SQLite's lock is not fair: not at every round)
                party = {"op": "register_party", "key": f"during-{n}", "name": "D", "sector": "npo"}
                result = CliRunner().invoke(cli, ["--db", str(db), "record", json.dumps(party)], catch_exceptions=False)
                assert result.exit_code == 0, result.stderr
            answers += 1
            n += 1
        assert rebuilder.wait(timeout=60) == 0
        assert answers >= 3
    finally:
        rebuilder.kill()
    result = CliRunner().invoke(cli, ["--db", str(db), "verify"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr


def test_a_reader_during_a_rebuild_sees_the_read_models_whole(
    backend_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the batches of a rebuild (its progress calls), another connection and a CLI
    query read the read models as they were before it: never emptied or half refilled (on
    SQLite and on PostgreSQL, where the rebuild deletes rows rather than dropping tables)."""
    from synthetic import synthetic_journal

    from partnership_ledger.projections import runner

    db = backend_url
    with PartnershipLedger.open(db) as ledger:
        ledger.import_journal(json.dumps(synthetic_journal(400, 5)))
        partnership = sorted(p["key"] for p in ledger.partnerships())[0]
    monkeypatch.setattr(runner, "REBUILD_BATCH", 50)
    with PartnershipLedger.open(db) as rebuilding, PartnershipLedger.open(db, readonly=True) as reader:

        def answers() -> tuple[object, ...]:
            direct = (reader.history(partnership), reader.burden_balance(partnership), reader.parties())
            cli_answer = CliRunner().invoke(cli, ["--db", str(db), "history", partnership, "--json"])
            assert cli_answer.exit_code == 0, cli_answer.stderr
            return (*direct, json.loads(cli_answer.stdout))

        want = answers()
        seen: list[bool] = []
        rebuilding.rebuild(lambda n: seen.append(answers() == want))
        assert all(seen)  # fails at once on a rebuild that commits its batches one by one
        assert len(seen) > 3
        assert answers() == want


WRITER = r"""
import json, sys, time
from partnership_ledger.application import PartnershipLedger
with PartnershipLedger.open(sys.argv[1], create=False) as ledger:
    end = time.monotonic() + float(sys.argv[2])
    print("writing", flush=True)
    n = 0
    while time.monotonic() < end:
        ledger.record({"op": "register_party", "key": f"w-{n}", "name": "W", "sector": "npo"})
        n += 1
"""


def test_verify_while_another_process_records_never_claims_tampering(tmp_path: Path) -> None:
    from synthetic import synthetic_journal

    db = tmp_path / "ledger.sqlite"
    with PartnershipLedger.open(db) as ledger:
        ledger.import_journal(json.dumps(synthetic_journal(2000, 11)))
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(db), "5"], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline() == "writing\n"
        runs = 0
        while writer.poll() is None:
            result = CliRunner().invoke(cli, ["--db", str(db), "verify"], catch_exceptions=False)
            assert "tampering" not in result.stderr, result.stderr
            assert result.exit_code == 0 or "kept changing" in result.stderr, result.stderr
            runs += 1
        assert writer.wait(timeout=60) == 0
        assert runs >= 1
    finally:
        writer.kill()
    assert CliRunner().invoke(cli, ["--db", str(db), "verify"], catch_exceptions=False).exit_code == 0


HOLDER = r"""
import sqlite3, sys, time
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("BEGIN IMMEDIATE")  # the write lock, held until killed
print("holding", flush=True)
time.sleep(120)
"""


@pytest.mark.parametrize("lagging", [False, True])
def test_a_query_never_writes_nor_waits_for_a_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lagging: bool
) -> None:
    """Queries answer while another process holds the write lock, within the lock timeout, and
    what the events give, even when the read models lag behind the events (kept by a
    ``follow`` process): and they write nothing to the ledger, not even to catch up."""
    from synthetic import synthetic_journal

    db = tmp_path / "ledger.sqlite"
    journal = synthetic_journal(600, 3)
    half = len(journal) // 2
    with PartnershipLedger.open(db) as ledger:
        ledger.import_journal(json.dumps(journal[:half]))
    if lagging:
        monkeypatch.setenv("PARTNERSHIP_LEDGER_READ_MODELS", "follow")  # recording leaves them behind
    with PartnershipLedger.open(db) as ledger:
        ledger.import_journal(json.dumps(journal[half:]))
        partnership = sorted(p["key"] for p in ledger.partnerships())[0]
        lag = ledger.info()["read_model_lag"]
        assert (lag > 0) == lagging
    monkeypatch.delenv("PARTNERSHIP_LEDGER_READ_MODELS", raising=False)
    # What the events give: a fresh ledger of the same journal.
    fresh = tmp_path / "fresh.sqlite"
    with PartnershipLedger.open(fresh) as ledger:
        ledger.import_journal(json.dumps(journal))
    queries = [
        ["balance", partnership, "--json"],
        ["voice", partnership, "--json"],
        ["history", partnership, "--json"],
        ["show", partnership, "--json"],
        ["parties", "--json"],
    ]

    def ask(path: Path, args: list[str]) -> tuple[int, str, str]:
        result = CliRunner().invoke(cli, ["--db", str(path), *args], catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    def comparable(args: list[str], out: str) -> object:
        value = json.loads(out)
        if args[0] == "history":  # recorded times differ between the two ledgers
            return [{k: v for k, v in e.items() if k not in ("recorded_at", "position")} for e in value]
        if args[0] == "show":
            value.pop("recorded_at", None)
        return value

    want = {tuple(q): comparable(q, ask(fresh, q)[1]) for q in queries}
    import tempfile

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where a private copy goes
    monkeypatch.setenv("PARTNERSHIP_LEDGER_LOCK_TIMEOUT", "2")
    before = written(db)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "holding\n"
        for q in queries:
            started = time.monotonic()
            code, out, err = ask(db, q)
            assert code == 0, err
            assert time.monotonic() - started < 2, q  # never waited for the lock
            assert comparable(q, out) == want[tuple(q)], q
            assert ("behind" in err) == lagging, err
    finally:
        holder.kill()
        holder.wait()
    assert not list(scratch.iterdir())  # a private copy is removed when its command ends
    # Nothing written: the ledger's file and its write-ahead log are as they were.
    assert written(db) == before
    with PartnershipLedger.open(db, readonly=True, as_stored=True) as ledger:
        assert ledger.info()["read_model_lag"] == lag


def written(db: Path) -> tuple[bytes, bytes]:
    """The ledger file's bytes and its write-ahead log's (SQLite's shared-memory index, which
    any reader may touch, holds no data)."""
    wal = Path(f"{db}-wal")
    return db.read_bytes(), wal.read_bytes() if wal.exists() else b""
