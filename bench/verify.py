"""Verification speed, and what the hash chain costs when recording.

    python bench/verify.py [--events 1000000] [--record-ops 20000] [--commands 300]
                           [--repeat 3] [--db PATH] [--check] [--full-events N [--only-full]]

(a) verify: builds (or reuses) a ledger of ``--events`` stored events, by importing a
    synthetic journal (``bench/synthetic.py``, fixed seed) in chunks of 20,000 operations with
    the read models left to ``follow`` (verification does not read them); it is kept in
    ``bench/results/verify-<N>.sqlite`` for the next run. Then, in the same run, it times
    ``verify_chain`` over it against the floor: reading the same rows with sqlite3 and
    hashing each with hashlib (no link rows, no checks). Goal: at least 0.5 of the floor.
(b) record: imports a ``--record-ops`` journal into a fresh ledger, and records
    ``--commands`` operations one transaction each, with the chain on and with
    ``PARTNERSHIP_LEDGER_CHAIN=off``, each run in a fresh process, on and off interleaved,
    best of ``--repeat``. Goal: with the chain, at least 0.9 of the speed without.

(c) full vs chain-only (``--full-events N``): builds (or reuses) a ledger of N events with its
    read models kept inline, then times what ``verify --chain-only`` does (walk the chain)
    against what ``verify`` does (walk the chain, recompute every read model and index from
    the events in a scratch file, compare them table by table), taking turns, best of
    ``--repeat``. Goal: the full verify within 2x the chain-only time.

Every ratio is given by the clock and by CPU time (which a busy machine does not stretch).
Prints the rates and ratios and writes them to ``bench/results/verify.json``
(``verify-<N>.json`` for another ``--events``). With ``--check`` the exit status is 1 when a
goal is missed; an interrupted build resumes where it stopped.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import platform
import random
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

GOAL_VERIFY = 0.5  # verify_chain against reading and hashing the same rows
GOAL_RECORD = 0.9  # recording with the chain against recording without it
GOAL_FULL = 2.0  # the full verify (read models too) against the chain-only one, in time
CHUNK = 20_000  # operations per import while building the benchmark ledger
SEED = 20080415


# -- (a) verification ---------------------------------------------------------------------------


def build_ledger(path: Path, events: int) -> int:
    """A ledger of at least ``events`` events at ``path`` (reused if it has them); its size."""
    from synthetic import _operations  # the journal's generator, taken lazily chunk by chunk

    from partnership_ledger.application import PartnershipLedger

    os.environ["PARTNERSHIP_LEDGER_READ_MODELS"] = "follow"  # verification needs no read models
    try:
        with PartnershipLedger.open(path) as ledger:
            have = ledger.event_count()
            if have >= events:
                print(f"reusing {path} ({have} events)")
                return have
            # Chunks already imported (by an interrupted build) are skipped: import is idempotent.
            what = f"resuming {path} from {have}" if have else f"building {path}:"
            print(f"{what} up to {events} events, importing {CHUNK} operations at a time")
            stream = _operations(events, random.Random(SEED))
            start = time.perf_counter()
            while ledger.event_count() < events:
                chunk = list(itertools.islice(stream, CHUNK))
                if not chunk:
                    break
                ledger.import_journal(json.dumps(chunk))
                done = ledger.event_count()
                rate = done / (time.perf_counter() - start)
                print(f"  {done} events ({rate:.0f}/s)", flush=True)
            return ledger.event_count()
    finally:
        del os.environ["PARTNERSHIP_LEDGER_READ_MODELS"]


def floor_read_and_hash(path: Path, batch: int = 5000) -> int:
    """Read every stored event with sqlite3 and hash it with the one before: nothing else."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    sha256, pack = hashlib.sha256, struct.pack
    prev, last, n = bytes(32), 0, 0
    try:
        while True:
            rows = con.execute(
                "SELECT rowid, CAST(originator_id AS BLOB), originator_version, CAST(topic AS BLOB), state "
                "FROM stored_events WHERE rowid > ? ORDER BY rowid LIMIT ?",
                (last, batch),
            ).fetchall()
            for position, oid, version, topic, state in rows:
                prev = sha256(b"".join((prev, pack(">q", position), oid, pack(">q", version), topic, state))).digest()
            n += len(rows)
            if len(rows) < batch:
                return n
            last = rows[-1][0]
    finally:
        con.close()


def verify_once(path: Path) -> int:
    from partnership_ledger.integrity import verify_chain
    from partnership_ledger.storage.sqlite import file_db

    with file_db(path) as db:
        result = verify_chain(db)
    if not result.ok:
        raise SystemExit(f"the benchmark ledger does not verify: {result.message}")
    return result.size


def best_rates(fns: dict[str, Any], path: Path, repeat: int) -> dict[str, dict[str, float]]:
    """Each function's best events per second, by the clock and by CPU time, over ``repeat``
    rounds; the functions take turns within a round, so they see the same load."""
    best = {name: {"events": 0.0, "per_s": 0.0, "per_cpu_s": 0.0} for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            start, cpu = time.perf_counter(), time.process_time()
            n = fn(path)
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu
            b = best[name]
            b["events"] = n
            b["per_s"] = max(b["per_s"], n / wall)
            b["per_cpu_s"] = max(b["per_cpu_s"], n / max(cpu, 1e-9))
    return best


# -- (c) the full verify against the chain-only one -------------------------------------------------


def build_current_ledger(path: Path, events: int) -> int:
    """A ledger of at least ``events`` events whose read models are current (the full verify
    compares them), built like (a)'s but with the read models kept inline."""
    from synthetic import _operations

    from partnership_ledger.application import PartnershipLedger

    with PartnershipLedger.open(path) as ledger:
        have = ledger.event_count()
        if have >= events:
            print(f"reusing {path} ({have} events)")
            return have
        print(f"building {path}: up to {events} events, read models inline")
        stream = _operations(events, random.Random(SEED))
        while ledger.event_count() < events:
            chunk = list(itertools.islice(stream, CHUNK))
            if not chunk:
                break
            ledger.import_journal(json.dumps(chunk))
            print(f"  {ledger.event_count()} events", flush=True)
        return ledger.event_count()


def chain_only_once(path: Path) -> int:
    """What ``verify --chain-only`` does: walk the chain (the ledger opened read-only)."""
    from partnership_ledger.application import PartnershipLedger
    from partnership_ledger.integrity import verify_chain

    with PartnershipLedger.open(path, create=False, readonly=True, as_stored=True) as ledger:
        result = verify_chain(ledger.db)
    if not result.ok:
        raise SystemExit(f"the benchmark ledger does not verify: {result.message}")
    return result.size


def full_verify_once(path: Path) -> int:
    """What ``verify`` does: walk the chain, then recompute and compare the read models."""
    from partnership_ledger.application import PartnershipLedger
    from partnership_ledger.integrity import verify_chain
    from partnership_ledger.projections.verification import check_read_models

    with PartnershipLedger.open(path, create=False, readonly=True, as_stored=True) as ledger:
        result = verify_chain(ledger.db)
        checked = check_read_models(ledger, scratch_dir=str(path.parent))
    if not result.ok or not checked.ok:
        raise SystemExit(f"the benchmark ledger does not verify: {result.message} {checked.message}")
    return result.size


def side_by_side(path: Path, events: int, repeat: int) -> dict[str, float]:
    size = build_current_ledger(path, events)
    rates = best_rates({"chain_only": chain_only_once, "full": full_verify_once}, path, repeat)
    chain, full = rates["chain_only"], rates["full"]
    result = {
        "events": size,
        "chain_only_s": size / chain["per_s"],
        "full_s": size / full["per_s"],
        "chain_only_cpu_s": size / chain["per_cpu_s"],
        "full_cpu_s": size / full["per_cpu_s"],
        "ratio": chain["per_s"] / full["per_s"],
        "ratio_by_cpu": chain["per_cpu_s"] / full["per_cpu_s"],
        "goal": GOAL_FULL,
    }
    print(f"\n(c) full verify vs --chain-only, {size} events (best of {repeat})")
    print(f"  chain only  {result['chain_only_s']:8.2f} s  ({result['chain_only_cpu_s']:.2f} CPU-s)")
    print(f"  full        {result['full_s']:8.2f} s  ({result['full_cpu_s']:.2f} CPU-s)")
    print(f"  full / chain-only {result['ratio']:.2f}, by CPU time {result['ratio_by_cpu']:.2f} (goal <= {GOAL_FULL})")
    return result


# -- (b) recording, with and without the chain ------------------------------------------------------

CHILD = r"""
import json, sys, time
from pathlib import Path
from partnership_ledger.application import PartnershipLedger

db, journal, setup, commands = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
with PartnershipLedger.open(db) as ledger:
    if commands:
        ops = json.loads(journal.read_text(encoding="utf-8"))
        ledger.import_journal(json.dumps(ops[:setup]))
        start, cpu = time.perf_counter(), time.process_time()
        for op in ops[setup : setup + commands]:
            ledger.record(op)
        print(time.perf_counter() - start, time.process_time() - cpu)
    else:
        start, cpu = time.perf_counter(), time.process_time()
        ledger.import_journal(journal)
        print(time.perf_counter() - start, time.process_time() - cpu)
"""


def record_once(folder: Path, journal: Path, chain: bool, setup: int, commands: int) -> tuple[float, float]:
    """(seconds, CPU seconds) to import ``journal`` (commands=0) or record ``commands``
    operations one transaction each, in a fresh process."""
    db = folder / f"record-{'on' if chain else 'off'}-{time.monotonic_ns()}.sqlite"
    env = dict(os.environ)
    env.pop("PARTNERSHIP_LEDGER_READ_MODELS", None)
    if chain:
        env.pop("PARTNERSHIP_LEDGER_CHAIN", None)
    else:
        env["PARTNERSHIP_LEDGER_CHAIN"] = "off"
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(db), str(journal), str(setup), str(commands)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    return float(out[0]), float(out[1])


def record_bench(ops: int, commands: int, repeat: int) -> dict[str, dict[str, float]]:
    from synthetic import synthetic_journal

    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        journal = folder / "journal.json"
        operations = synthetic_journal(ops, SEED)
        journal.write_text(json.dumps(operations), encoding="utf-8")
        setup = min(len(operations) - commands, max(len(operations) // 2, 1))
        for name, n, cmd in (("import", ops, 0), ("commands", commands, commands)):
            wall = {True: float("inf"), False: float("inf")}
            cpu = {True: float("inf"), False: float("inf")}
            for _ in range(repeat):
                for chain in (True, False):
                    w, c = record_once(folder, journal, chain, setup, cmd)
                    wall[chain], cpu[chain] = min(wall[chain], w), min(cpu[chain], c)
            results[name] = {
                "operations": n,
                "chain_on_ops_per_s": n / wall[True],
                "chain_off_ops_per_s": n / wall[False],
                "ratio": wall[False] / wall[True],
                "ratio_by_cpu": cpu[False] / cpu[True],
            }
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the verified ledger")
    parser.add_argument("--db", type=Path, default=None, help="the ledger to verify (built if missing)")
    parser.add_argument("--record-ops", type=int, default=20_000, help="operations imported in (b)")
    parser.add_argument("--commands", type=int, default=300, help="one-operation transactions in (b)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement (best is kept)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a goal is missed")
    parser.add_argument(
        "--full-events",
        type=int,
        default=0,
        help="(c) also time the full verify against --chain-only on a ledger of this many events "
        "whose read models are current (built in bench/results/verify-full-<N>.sqlite)",
    )
    parser.add_argument("--only-full", action="store_true", help="run (c) only, not (a) and (b)")
    args = parser.parse_args(argv)
    results_dir = HERE / "results"
    results_dir.mkdir(exist_ok=True)
    db = args.db or results_dir / f"verify-{args.events}.sqlite"
    if args.only_full:
        full = side_by_side(results_dir / f"verify-full-{args.full_events}.sqlite", args.full_events, args.repeat)
        out = results_dir / f"verify-full-{args.full_events}.json"
        out.write_text(json.dumps({"load_average": os.getloadavg(), "full": full}, indent=2) + "\n")
        return 1 if args.check and full["ratio"] > GOAL_FULL else 0

    size = build_ledger(db, args.events)
    rates = best_rates({"verify": verify_once, "floor": floor_read_and_hash}, db, args.repeat)
    verify, floor = rates["verify"], rates["floor"]
    assert verify["events"] == floor["events"] == size
    verify_ratio = verify["per_s"] / floor["per_s"]
    verify_ratio_cpu = verify["per_cpu_s"] / floor["per_cpu_s"]
    print(f"\n(a) verify {size} events (best of {args.repeat})")
    print(f"  verify_chain            {verify['per_s']:>12,.0f} events/s  ({size / verify['per_s']:.2f} s)")
    print(f"  sqlite3 + hashlib floor {floor['per_s']:>12,.0f} events/s  ({size / floor['per_s']:.2f} s)")
    print(f"  ratio {verify_ratio:.2f}, by CPU time {verify_ratio_cpu:.2f} (goal >= {GOAL_VERIFY})")

    record = record_bench(args.record_ops, args.commands, args.repeat)
    print(f"\n(b) recording, chain on vs off (best of {args.repeat}, fresh process each)")
    for name, r in record.items():
        print(
            f"  {name:<8} {r['operations']:>6} ops: on {r['chain_on_ops_per_s']:>9,.0f} ops/s, "
            f"off {r['chain_off_ops_per_s']:>9,.0f} ops/s, ratio {r['ratio']:.2f}, by CPU time "
            f"{r['ratio_by_cpu']:.2f} (goal >= {GOAL_RECORD})"
        )
    full = None
    if args.full_events:
        full = side_by_side(results_dir / f"verify-full-{args.full_events}.sqlite", args.full_events, args.repeat)
    report = {
        "full": full,
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "load_average": os.getloadavg(),
        "verify": {
            "events": size,
            "verify_events_per_s": verify["per_s"],
            "floor_events_per_s": floor["per_s"],
            "verify_events_per_cpu_s": verify["per_cpu_s"],
            "floor_events_per_cpu_s": floor["per_cpu_s"],
            "ratio": verify_ratio,
            "ratio_by_cpu": verify_ratio_cpu,
            "goal": GOAL_VERIFY,
        },
        "record": {**record, "goal": GOAL_RECORD},
    }
    name = "verify.json" if args.events == 1_000_000 else f"verify-{args.events}.json"
    (results_dir / name).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    missed = verify_ratio < GOAL_VERIFY or any(r["ratio"] < GOAL_RECORD for r in record.values())
    missed = missed or (full is not None and full["ratio"] > GOAL_FULL)
    print("\nall goals met" if not missed else "\na goal was missed")
    return 1 if missed and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
