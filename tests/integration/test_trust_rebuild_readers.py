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

    def ask() -> tuple[int, str, str]:
        result = CliRunner().invoke(cli, ["--db", str(db), "balance", partnership, "--json"], catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    code, expected, _ = ask()
    assert code == 0
    rebuilder = subprocess.Popen(
        [sys.executable, "-c", REBUILDER, str(db), "6"], stdout=subprocess.PIPE, text=True, env=None
    )
    try:
        assert rebuilder.stdout is not None
        assert rebuilder.stdout.readline() == "rebuilding\n"
        answers = 0
        n = 0
        while rebuilder.poll() is None:
            code, out, err = ask()
            assert code == 0, err
            assert json.loads(out) == json.loads(expected)
            party = {"op": "register_party", "key": f"during-{n}", "name": "D", "sector": "npo"}
            result = CliRunner().invoke(cli, ["--db", str(db), "record", json.dumps(party)], catch_exceptions=False)
            assert result.exit_code == 0, result.stderr
            answers += 1
            n += 1
            time.sleep(0.05)
        assert rebuilder.wait(timeout=60) == 0
        assert answers >= 3
    finally:
        rebuilder.kill()
    result = CliRunner().invoke(cli, ["--db", str(db), "verify"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr


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
