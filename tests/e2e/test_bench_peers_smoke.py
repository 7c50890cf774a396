"""The benchmarks against peers and of growth run end to end on tiny sizes; no timing asserted.

``bench/peers.py --quick`` (beancount's ``bean-query`` and ``hledger`` are optional: a missing
one must be reported, not fail the run), ``bench/throughput.py --quick`` on SQLite, and on
PostgreSQL through the test server of ``conftest_pg`` (skipped without it on a developer's
machine, failing in CI), and ``bench/scaling.py --quick``.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from partnership_ledger.journal import parse_journal

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _load(name: str) -> object:
    # bench/ is a folder of scripts, not a package: load one from its file, with bench/ on the
    # path for its own imports (as when it runs as a script).
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def test_peer_files_hold_the_same_contributions(tmp_path: Path) -> None:
    peers = _load("peers")
    files = peers.write_peer_files(tmp_path, 300, 5, seed=3)  # type: ignore[attr-defined]
    ops = parse_journal(files.journal.read_bytes(), "peers")
    assert len(ops) == files.operations
    delivered: dict[str, Decimal] = {}
    pledged_by: dict[str, str] = {}
    for raw in (json.loads(line) for line in files.journal.read_text().splitlines()):
        if raw["op"] == "pledge":
            pledged_by[raw["key"]] = raw["party"]
        elif raw["op"] == "deliver":
            party = pledged_by[raw["contribution"]]
            delivered[party] = delivered.get(party, Decimal(0)) + Decimal(raw["value"]["amount"])
    assert delivered == {k: v for k, v in files.totals.items() if v}
    beancount = files.beancount.read_text()
    hledger = files.hledger.read_text()
    assert beancount.count(" * ") == 300
    assert hledger.count("Equity:Partnership  -") == 300
    # the same postings, to the cent
    posting = re.compile(r"^\s+(Assets:Received:\S+)\s+(\d+\.\d\d) EUR$", re.M)
    assert posting.findall(beancount) == posting.findall(hledger)


def test_peers_benchmark_quick_run(tmp_path: Path) -> None:
    results = tmp_path / "peers.json"
    out = _run("peers.py", "--quick", "--json", str(results)).stdout
    data = json.loads(results.read_text())
    assert data["contributions"] == 2000
    assert data["build"]["events"] > 4000
    for tool in ("bean-query", "hledger"):
        measured = re.search(rf"^ratio vs {tool}: ours (\d+\.\d)x faster \(by CPU [\d.]+x\)", out, re.M)
        missing = re.search(rf"^ratio vs {tool}: not measured \({tool} is not installed\)", out, re.M)
        assert (measured is None) != (missing is None), out
        if measured:
            assert measured.group(1) == f"{data['times_faster'][tool]:.1f}"
            assert "per-party totals agree exactly" in out
        else:
            assert tool in data["missing_tools"]


def test_throughput_benchmark_quick_run_on_sqlite(tmp_path: Path) -> None:
    results = tmp_path / "throughput.json"
    out = _run("throughput.py", "--quick", "--backend", "sqlite", "--json", str(results)).stdout
    data = json.loads(results.read_text())
    for what in ("import", "commands"):
        for base in ("plain", "raw"):
            line = re.search(rf"^ratio \(sqlite, {what}\) vs {base}: (\d+\.\d+) \(by CPU \d+\.\d+\)", out, re.M)
            assert line is not None, out
            assert line.group(1) == f"{data['summary']['sqlite'][what]['ratio'][base]:.3f}"
    imported = data["summary"]["sqlite"]["import"]["rates"]
    # the same rows: ours, the plain Application and the raw inserts store as many events
    assert imported["ours"]["events"] == imported["plain"]["events"] == imported["raw"]["events"] > 2000


@pytest.mark.postgres
def test_throughput_benchmark_quick_run_on_postgresql(tmp_path: Path, pg_server: str) -> None:
    results = tmp_path / "throughput.json"
    out = _run("throughput.py", "--quick", "--backend", "postgresql", "--pg", pg_server, "--json", str(results)).stdout
    for what in ("import", "commands"):
        for base in ("plain", "raw"):
            assert re.search(rf"^ratio \(postgresql, {what}\) vs {base}: \d+\.\d+", out, re.M), out
    imported = json.loads(results.read_text())["summary"]["postgresql"]["import"]["rates"]
    assert imported["ours"]["events"] == imported["plain"]["events"] == imported["raw"]["events"] > 2000


def test_scaling_benchmark_quick_run(tmp_path: Path) -> None:
    results = tmp_path / "scaling.json"
    out = _run("scaling.py", "--quick", "--json", str(results)).stdout
    data = json.loads(results.read_text())
    assert len(data["measured"]) == 3
    for step in ("import", "balance", "rebuild", "verify"):
        found = re.findall(rf"^slope \({step}\) \d+ -> \d+ events: (-?\d+\.\d\d|n/a) \(net of fixed cost: ", out, re.M)
        assert len(found) == 2, out
    assert [r["events"] for r in data["measured"]] == sorted(r["events"] for r in data["measured"])
