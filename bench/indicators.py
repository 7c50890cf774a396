"""Read models and indicators on a 1M-event ledger, side by side with their baselines.

    python bench/indicators.py [--ledger PATH] [--events 1000000] [--repeat 1] [--quick] [--check]
    python bench/indicators.py --ledger PATH --build-only   # only build it (see bench/fullsize.py)

Uses the benchmark ledger of ``bench/report.py`` (built once and reused: about ``--events``
stored events, with ``pship-big`` holding 200,000 contributions; ``--quick``: 100,000
events and 20,000 contributions) and measures in one run:

(a) rebuilding every read model from the first event, against eventsourcing's own raw
    replay of the same notification log (select + deserialise each event); goal >= 0.5x;
(b) ``balance --json`` for ``pship-big`` end to end through the CLI (goal < 300 ms) and
    in-process (goal < 20 ms), against computing it by a full replay (the ratio);
(c) peak RSS of the rebuild process (goal < 300 MB).

Each measurement runs in a fresh process; (a) reports wall and CPU time (the machine may be
shared: the CPU-time ratio is the steadier one). With ``--repeat N`` the raw replay and the
rebuild alternate for N rounds, so that both see the same load on the machine; each keeps
its best round (by wall time; peak RSS: the worst round), and every round is kept in the
results. The raw replay and the rebuild open the copy
with ``PARTNERSHIP_LEDGER_READ_MODELS=follow``, so that opening it (say, a ledger whose read
models an older version made) does not bring the read models up to date before the timing.

Writes ``bench/results/indicators.json`` (``indicators-quick.json`` with ``--quick``);
``--check`` exits 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from report import BIG, build_ledger, peak_rss_mb  # noqa: E402

GOAL_REBUILD_RATIO = 0.5
GOAL_CLI_MS = 300.0
GOAL_INPROCESS_MS = 20.0
GOAL_RSS_MB = 300.0


def child(task: str, path: str) -> dict[str, Any]:
    """One measurement, in this (fresh) process."""
    from partnership_ledger import PartnershipLedger

    with PartnershipLedger.open(path, create=False) as ledger:
        if task == "rebuild":
            started, cpu = time.perf_counter(), time.process_time()
            n = ledger.rebuild()
            seconds = time.perf_counter() - started
            return {"events": n, "seconds": seconds, "cpu_seconds": time.process_time() - cpu, "rss_mb": peak_rss_mb()}
        if task == "raw_replay":
            # eventsourcing's own reading of the notification log: select, then deserialise.
            started, cpu = time.perf_counter(), time.process_time()
            n, start = 0, 1
            while True:
                notifications = ledger.recorder.select_notifications(start=start, limit=2000)
                for notification in notifications:
                    ledger.mapper.to_domain_event(notification)
                n += len(notifications)
                if len(notifications) < 2000:
                    break
                start = notifications[-1].id + 1
            seconds = time.perf_counter() - started
            return {"events": n, "seconds": seconds, "cpu_seconds": time.process_time() - cpu, "rss_mb": peak_rss_mb()}
        if task == "balance":
            times = []
            result = None
            for _ in range(21):
                started = time.perf_counter()
                result = ledger.burden_balance(BIG)
                times.append(time.perf_counter() - started)
            assert result is not None
            assert result["parties"], "pship-big has no parties"
            return {"ms": statistics.median(times) * 1000, "runs": len(times)}
        if task == "replay_balance":
            started = time.perf_counter()
            replayed = ledger.burden_balance(BIG, as_of="2999-12-31")
            seconds = time.perf_counter() - started
            materialized = ledger.burden_balance(BIG)
            same = {k: v for k, v in replayed.items() if k != "as_of"} == {
                k: v for k, v in materialized.items() if k != "as_of"
            }
            return {"ms": seconds * 1000, "same_as_read_model": same, "rss_mb": peak_rss_mb()}
    raise SystemExit(f"unknown task {task}")


def run_child(task: str, path: Path) -> dict[str, Any]:
    env = dict(os.environ)
    if task in ("raw_replay", "rebuild"):
        env["PARTNERSHIP_LEDGER_READ_MODELS"] = "follow"
    out = subprocess.run(
        [sys.executable, __file__, "--child", task, str(path)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def cli_balance_ms(path: Path, runs: int = 7) -> float:
    """Median wall time of ``partnership-ledger --db PATH balance pship-big --json``."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "partnership_ledger_cli", "--db", str(path), "balance", BIG, "--json"],
            check=True,
            capture_output=True,
        )
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ledger", type=Path, help="benchmark ledger to build or reuse")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="100k events, 20k big contributions")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of (a); each side keeps its best (1)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a goal is missed")
    parser.add_argument("--build-only", action="store_true", help="build the ledger if missing, then stop")
    parser.add_argument("--child", nargs=2, metavar=("TASK", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(*args.child)))
        return 0

    events = 100_000 if args.quick else args.events
    contributions = 20_000 if args.quick else 200_000
    results_dir = HERE / "results"
    results_dir.mkdir(exist_ok=True)
    ledger = args.ledger or results_dir / f"report-{events // 1000}k.sqlite"
    if not ledger.exists():
        print(f"building the benchmark ledger {ledger} ({events} events; once) ...", flush=True)
        build_ledger(ledger, contributions, events)
    if args.build_only:
        print(f"the benchmark ledger: {ledger}", flush=True)
        return 0

    with tempfile.TemporaryDirectory() as tmp:
        # Work on a copy: a rebuild must not disturb the shared benchmark ledger.
        copy = Path(tmp) / "ledger.sqlite"
        for suffix in ("", "-wal", "-shm"):
            src = Path(str(ledger) + suffix)
            if src.exists():
                shutil.copy(src, str(copy) + suffix)
        rounds: dict[str, list[dict[str, Any]]] = {"raw_replay": [], "rebuild": []}
        for _ in range(max(1, args.repeat)):
            for task in ("raw_replay", "rebuild"):
                rounds[task].append(run_child(task, copy))
                print(f"  {task}: {json.dumps(rounds[task][-1])}", flush=True)
        raw = min(rounds["raw_replay"], key=lambda r: float(r["seconds"]))
        rebuild = min(rounds["rebuild"], key=lambda r: float(r["seconds"]))
        rebuild = {**rebuild, "rss_mb": max(float(r["rss_mb"]) for r in rounds["rebuild"])}
        balance = run_child("balance", copy)
        replay = run_child("replay_balance", copy)
        cli_ms = cli_balance_ms(copy)

    raw_rate = raw["events"] / raw["seconds"]
    rebuild_rate = rebuild["events"] / rebuild["seconds"]
    raw_cpu_rate = raw["events"] / raw["cpu_seconds"]
    rebuild_cpu_rate = rebuild["events"] / rebuild["cpu_seconds"]
    rss, raw_rss = rebuild["rss_mb"], raw["rss_mb"]
    table = [
        ("(a) rebuild, events/s", rebuild_rate, raw_rate, rebuild_rate / raw_rate, f">= {GOAL_REBUILD_RATIO}x"),
        ("(a) rebuild, events per CPU second", rebuild_cpu_rate, raw_cpu_rate, rebuild_cpu_rate / raw_cpu_rate, ""),
        ("(b) balance in-process, ms", balance["ms"], replay["ms"], replay["ms"] / balance["ms"], "< 20 ms"),
        ("(b) balance --json via CLI, ms", cli_ms, replay["ms"], replay["ms"] / cli_ms, f"< {GOAL_CLI_MS} ms"),
        ("(c) rebuild peak RSS, MB", rss, raw_rss, rss / raw_rss, f"< {GOAL_RSS_MB} MB"),
    ]
    passed = {
        "rebuild_ratio": rebuild_rate / raw_rate >= GOAL_REBUILD_RATIO,
        "balance_in_process": balance["ms"] < GOAL_INPROCESS_MS,
        "balance_cli": cli_ms < GOAL_CLI_MS,
        "rebuild_rss": rebuild["rss_mb"] < GOAL_RSS_MB,
        "replay_equals_read_model": bool(replay["same_as_read_model"]),
    }
    best_cpu = (
        min(float(r["cpu_seconds"]) for r in rounds["raw_replay"]),
        min(float(r["cpu_seconds"]) for r in rounds["rebuild"]),
    )
    print(
        f"ledger: {ledger} ({raw['events']} events; {os.cpu_count()} cores; "
        f"{len(rounds['rebuild'])} round(s) of (a), best kept)"
    )
    print(f"{'measure':34} {'ours':>12} {'baseline':>12} {'ratio':>8}  goal")
    for name, ours, base, ratio, goal in table:
        print(f"{name:34} {ours:12.1f} {base:12.1f} {ratio:8.2f}  {goal}")
    print(
        "baselines: (a) eventsourcing raw replay (select + deserialise); (b) full replay of the "
        "events into the same indicator; (c) the raw replay's RSS"
    )
    for name, ok in passed.items():
        print(f"{'pass' if ok else 'MISS'}: {name}")
    print(f"(a) by the best CPU time of each side: {best_cpu[0] / best_cpu[1]:.2f}x")
    out = {
        "events": raw["events"],
        "rounds": len(rounds["rebuild"]),
        "all_rounds": rounds,
        "rebuild_ratio_best_cpu": best_cpu[0] / best_cpu[1],
        "raw_replay": raw,
        "rebuild": rebuild,
        "balance_in_process": balance,
        "balance_cli_ms": cli_ms,
        "replay_balance": replay,
        "passed": passed,
    }
    name = "indicators-quick.json" if args.quick else "indicators.json"
    (results_dir / name).write_text(json.dumps(out, indent=2))
    return 1 if args.check and not all(passed.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
