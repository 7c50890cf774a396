"""The benchmarks run end to end (``bench/record.py --quick``, a tiny ``bench/floors.py``); no timing asserted."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from partnership_ledger.journal import parse_operations

BENCH = Path(__file__).resolve().parents[2] / "bench"

# bench/ is a folder of scripts, not a package: load the generator from its file (rather
# than putting bench/ on sys.path for every test).
_spec = importlib.util.spec_from_file_location("bench_synthetic", BENCH / "synthetic.py")
assert _spec is not None
assert _spec.loader is not None
_synthetic = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_synthetic)
synthetic_journal = _synthetic.synthetic_journal

RATIO = r"(\d+\.\d\d) \(goal >= ([\d.]+)\) (PASS|FAIL)"


@pytest.mark.parametrize("ops", [1, 40, 1000])
def test_synthetic_journal_is_valid_and_exactly_as_long_as_asked(ops: int) -> None:
    journal = synthetic_journal(ops)
    assert len(journal) == ops
    assert len(parse_operations(journal)) == ops


def test_synthetic_journal_depends_on_the_seed_only() -> None:
    assert synthetic_journal(500, seed=7) == synthetic_journal(500, seed=7)
    assert synthetic_journal(500, seed=7) != synthetic_journal(500, seed=8)


def test_synthetic_journal_is_mostly_pledges_and_deliveries() -> None:
    ops = [o["op"] for o in synthetic_journal(3000)]
    assert ops.count("pledge") + ops.count("deliver") > len(ops) / 2
    for op in ("register_party", "propose_partnership", "sign_agreement", "record_decision", "record_measurement"):
        assert op in ops


def test_record_benchmark_quick_run(tmp_path: Path) -> None:
    results = tmp_path / "record.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH / "record.py"), "--quick", "--json", str(results)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    a = re.search(r"^ratio \(a\) import: " + RATIO, out, re.M)
    b = re.search(r"^ratio \(b\) one command per transaction: " + RATIO, out, re.M)
    assert a is not None, out
    assert b is not None, out
    assert re.search(r"^peak RSS \(import\): \d+ MB", out, re.M), out

    data = json.loads(results.read_text())
    assert data["operations"] == 5000
    assert data["import"]["ours"]["events"] >= 5000
    assert data["import"]["plain"]["events"] == data["import"]["ours"]["events"]
    assert data["commands"]["ours"]["commands"] == data["commands"]["plain"]["commands"] > 0
    # what is printed is what is recorded
    assert a.group(1) == f"{data['import']['ratio']:.2f}"
    assert b.group(1) == f"{data['commands']['ratio']:.2f}"


def test_floors_benchmark_tiny_run(tmp_path: Path) -> None:
    """``bench/floors.py`` unpacks the baseline commit, runs both trees on both shapes and
    prints a ratio per floor: what it prints is what it records."""
    results = tmp_path / "floors.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(BENCH / "floors.py"),
            "--ops",
            "400",
            "--commands",
            "20",
            "--repeat",
            "1",
            "--json",
            str(results),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(results.read_text())
    for shape in ("synthetic", "flat"):
        best = data[shape]["best"]
        assert best["baseline"]["events"] == best["this tree"]["events"] > 400
        for what, ratio in data[shape]["ratios"].items():
            assert re.search(rf"^{shape} +{what} +{ratio:.2f}x the baseline", proc.stdout, re.M), proc.stdout
