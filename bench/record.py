"""Recording speed: the ledger side by side with a plain eventsourcing Application.

    python bench/record.py [--ops 100000] [--commands 2000] [--repeat 1] [--quick] [--check]

Generates a realistic journal (``bench/synthetic.py``, fixed seed) in a temporary folder
and measures, in this one run:

(a) importing it: ``PartnershipLedger.open(tmp/l.sqlite).import_journal(path)``, one
    transaction, in a fresh process (peak RSS measured there), against a plain
    eventsourcing ``Application`` saving the same number of events over a trivial
    ``Counter`` aggregate in one ``app.save(*counters)``;
(b) one command per transaction: after the journal's setup (parties, partnerships,
    agreements) is imported, the next ``--commands`` operations go one by one through the
    ledger's command methods (``ledger.deliver(...)``, ``ledger.pledge(...)``, ...), each its
    own transaction, against the plain Application doing get, increment, save of a counter
    the same number of times. For information (no goal), ``--history-commands`` more
    operations are also recorded one by one on the ledger that (a) left, to show how one
    command fares after a long history.

Prints a table and the ratios against the goals, and writes the numbers to
``bench/results/record.json`` (``record-quick.json`` with ``--quick``). With ``--check``
the exit status is 1 when a goal is missed (by default the script only reports).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

GOAL_IMPORT = 0.5  # (a) at least half plain eventsourcing's batched save
GOAL_COMMAND = 0.7  # (b) at least 0.7 of its one-event-per-save rate
GOAL_RSS_MB = 200  # peak RSS of the 100k import
QUICK_OPS = 5000
QUICK_COMMANDS = 200
QUICK_HISTORY = 50
PLAIN_POOL = 100  # counters the plain one-event-per-save baseline spreads its commands over
SEED = 20080415


# -- measurements, each in a fresh child process ---------------------------------------------


def peak_rss_mb() -> float:
    """This process's peak resident set size (VmHWM), in MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    # ru_maxrss is in kilobytes on Linux, bytes on macOS
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024 if sys.platform == "darwin" else 1024)


#: Runs the command of ``timed_command`` and reports its rusage. A process's peak RSS as
#: ``wait4`` reports it is never less than that of the process it was forked from (Linux
#: keeps the larger across ``exec``): from a benchmark holding a big journal in memory, every
#: command would seem as big. From this small launcher it starts at about 10 MB.
_LAUNCHER = """
import json, os, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(proc.pid, 0)
seconds = time.perf_counter() - start
with open(sys.argv[1], "w") as f:
    json.dump({"seconds": seconds, "status": os.waitstatus_to_exitcode(status),
               "cpu_seconds": usage.ru_utime + usage.ru_stime, "maxrss": usage.ru_maxrss}, f)
"""


def timed_command(argv: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a command to its end: its wall time, CPU time (user + system) and peak RSS (from
    ``wait4``: the command's own, not this process's), exit status and output."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "rusage.json"
        out, err = Path(tmp) / "stdout", Path(tmp) / "stderr"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            subprocess.run(
                [sys.executable, "-c", _LAUNCHER, str(report), *argv],
                stdout=stdout,
                stderr=stderr,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **(env or {})},
                check=True,
            )
        usage = json.loads(report.read_text())
        return {
            "seconds": usage["seconds"],
            "cpu_seconds": usage["cpu_seconds"],
            # ru_maxrss is in kilobytes on Linux, bytes on macOS
            "peak_rss_mb": usage["maxrss"] / (1024 * 1024 if sys.platform == "darwin" else 1024),
            "returncode": usage["status"],
            "stdout": out.read_text("utf-8", "replace"),
            "stderr": err.read_text("utf-8", "replace"),
        }


def children_cpu() -> float:
    """CPU seconds of this process's reaped child processes."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def child_ours_import(args: dict[str, Any]) -> dict[str, Any]:
    from partnership_ledger import PartnershipLedger

    rss_before = peak_rss_mb()
    ledger = PartnershipLedger.open(args["db"])
    start, cpu, children = time.perf_counter(), time.process_time(), children_cpu()
    result = ledger.import_journal(Path(args["journal"]))
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    # The CPU of any child process the import started (none since clarity phase 1) counts too.
    helper_cpu = children_cpu() - children
    info = ledger.info()
    with ledger.db.transaction(commit=False) as c:
        c.execute("SELECT COUNT(*) FROM ledger_keys")
        row = c.fetchone()
    aggregates = int(row[0]) if row else 0
    ledger.close()
    return {
        "operations": result.operations,
        "applied": result.applied,
        "events": result.events,
        "stored_events": info["events"],
        "aggregates": aggregates,
        "seconds": seconds,
        "cpu_seconds": cpu + helper_cpu,
        "helper_cpu_seconds": helper_cpu,
        "peak_rss_mb": peak_rss_mb(),
        "rss_before_import_mb": rss_before,
        "synchronous": info.get("synchronous"),  # SQLite only
        "journal_mode": info.get("journal_mode"),
    }


def child_plain_import(args: dict[str, Any]) -> dict[str, Any]:
    from plain import batched_save, synchronous_setting

    out = batched_save(args["db"], args["aggregates"], args["events"])
    out["peak_rss_mb"] = peak_rss_mb()
    out["synchronous"] = synchronous_setting(args["db"])
    return out


def child_ours_commands(args: dict[str, Any]) -> dict[str, Any]:
    from partnership_ledger import PartnershipLedger

    ops: list[dict[str, Any]] = json.loads(Path(args["journal"]).read_text())
    first = args["first"]
    commands = ops[first : first + args["commands"]]
    ledger = PartnershipLedger.open(args["db"])
    if args["import_setup"]:
        ledger.import_journal(json.dumps(ops[:first]))
    history = ledger.event_count()
    start, cpu = time.perf_counter(), time.process_time()
    for raw in commands:
        fields = {k: v for k, v in raw.items() if k != "op"}
        getattr(ledger, raw["op"])(**fields)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    events = ledger.event_count() - history
    ledger.close()
    return {
        "history_operations": first,
        "history_events": history,
        "commands": len(commands),
        "events": events,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_rss_mb": peak_rss_mb(),
    }


def child_plain_commands(args: dict[str, Any]) -> dict[str, Any]:
    from plain import one_event_per_save

    out = one_event_per_save(args["db"], args["commands"], args["pool"])
    out["peak_rss_mb"] = peak_rss_mb()
    return out


CHILDREN = {
    "ours-import": child_ours_import,
    "plain-import": child_plain_import,
    "ours-commands": child_ours_commands,
    "plain-commands": child_plain_commands,
}


def run_child(
    name: str,
    env: dict[str, str] | None = None,
    *,
    script: Path | None = None,
    timeout: float | None = None,
    **args: Any,
) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; its last stdout line is JSON.

    ``script`` is the benchmark whose ``--child NAME ARGS`` runs it (this one by default);
    after ``timeout`` seconds the measurement is killed and the run stops.
    """
    try:
        proc = subprocess.run(
            [sys.executable, str(script or Path(__file__).resolve()), "--child", name, json.dumps(args)],
            capture_output=True,
            text=True,
            env={**os.environ, **(env or {})},
            check=False,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise SystemExit(f"measurement {name} did not finish in {timeout:.0f} s; stopped") from None
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"measurement {name} failed (exit {proc.returncode})")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


# -- the run ------------------------------------------------------------------------------


def setup_length(ops: list[dict[str, Any]]) -> int:
    """How many operations at the start set the scene (before the first pledge)."""
    for i, op in enumerate(ops):
        if op["op"] == "pledge":
            return i
    return len(ops)


def machine() -> dict[str, Any]:
    from importlib.metadata import version

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "eventsourcing": version("eventsourcing"),
        "sqlite": sqlite3.sqlite_version,
    }


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ops", type=int, default=100_000, help="journal operations (100000)")
    parser.add_argument("--commands", type=int, default=2000, help="commands recorded one by one in (b) (2000)")
    parser.add_argument(
        "--history-commands",
        type=int,
        default=300,
        help="commands recorded one by one after the whole journal, for information (300; 0: skip)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_OPS} operations, {QUICK_COMMANDS} + {QUICK_HISTORY} commands",
    )
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--json", type=Path, help="results file (bench/results/record.json)")
    parser.add_argument(
        "--chain-cost",
        action="store_true",
        help="also import with the hash chain off, to show what the chain costs",
    )
    parser.add_argument("--repeat", type=int, default=1, help="rounds; each measure keeps its best round (1)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a goal is missed")
    parser.add_argument("--child", nargs=2, metavar=("NAME", "ARGS"), help=argparse.SUPPRESS)
    ns = parser.parse_args(argv)

    if ns.child:
        name, raw = ns.child
        print(json.dumps(CHILDREN[name](json.loads(raw))))
        return 0

    from synthetic import synthetic_journal

    ops_n = QUICK_OPS if ns.quick else ns.ops
    commands_n = QUICK_COMMANDS if ns.quick else ns.commands
    history_n = QUICK_HISTORY if ns.quick else ns.history_commands
    results_file = ns.json or HERE / "results" / ("record-quick.json" if ns.quick else "record.json")

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="pl-bench-") as tmp_name:
        tmp = Path(tmp_name)
        # One stream of operations: the journal imported in (a) is its first ops_n; the
        # commands recorded one by one on top of that whole history follow it.
        stream = synthetic_journal(ops_n + history_n, ns.seed)
        stream_path = tmp / "stream.json"
        stream_path.write_text(json.dumps(stream, ensure_ascii=False))
        journal = stream[:ops_n]
        journal_path = tmp / "journal.json"
        journal_path.write_text(json.dumps(journal, ensure_ascii=False))
        setup = setup_length(journal)
        commands_n = min(commands_n, len(journal) - setup)
        print(
            f"journal: {len(journal)} operations (seed {ns.seed}), "
            f"{journal_path.stat().st_size / 1e6:.1f} MB; measuring...",
            flush=True,
        )

        # Ours and the baseline alternate, round by round, so that both see the same load
        # on the machine; each keeps its best round.
        runs: dict[str, list[dict[str, Any]]] = {}
        for n in range(ns.repeat):
            ours_a = run_child("ours-import", db=str(tmp / f"a{n}.sqlite"), journal=str(journal_path))
            runs.setdefault("ours_a", []).append(ours_a)
            runs.setdefault("plain_a", []).append(
                run_child(
                    "plain-import",
                    db=str(tmp / f"plain-a{n}.sqlite"),
                    aggregates=ours_a["aggregates"],
                    events=ours_a["events"],
                )
            )
            if ns.chain_cost:
                runs.setdefault("chain_off", []).append(
                    run_child(
                        "ours-import",
                        env={"PARTNERSHIP_LEDGER_CHAIN": "off"},
                        db=str(tmp / f"a-nochain{n}.sqlite"),
                        journal=str(journal_path),
                    )
                )
            runs.setdefault("ours_b", []).append(
                run_child(
                    "ours-commands",
                    db=str(tmp / f"b{n}.sqlite"),
                    journal=str(journal_path),
                    first=setup,
                    commands=commands_n,
                    import_setup=True,
                )
            )
            if n == 0 and history_n:
                # (once: it is slow) commands on the ledger that (a) left, the whole journal
                for suffix in ("", "-wal"):
                    if (tmp / f"a0.sqlite{suffix}").exists():
                        shutil.copy(tmp / f"a0.sqlite{suffix}", tmp / f"h.sqlite{suffix}")
                runs["ours_history"] = [
                    run_child(
                        "ours-commands",
                        db=str(tmp / "h.sqlite"),
                        journal=str(stream_path),
                        first=ops_n,
                        commands=history_n,
                        import_setup=False,
                    )
                ]
            runs.setdefault("plain_b", []).append(
                run_child(
                    "plain-commands",
                    db=str(tmp / f"plain-b{n}.sqlite"),
                    commands=commands_n,
                    pool=PLAIN_POOL,
                )
            )
    load_after = os.getloadavg()

    def best(name: str) -> dict[str, Any]:
        return min(runs[name], key=lambda r: float(r["seconds"]))

    ours_a, plain_a, ours_b, plain_b = best("ours_a"), best("plain_a"), best("ours_b"), best("plain_b")
    chain_off = best("chain_off") if ns.chain_cost else None
    # Peak RSS: the worst round, not the best.
    rss = max(float(r["peak_rss_mb"]) for r in runs["ours_a"])

    ours_import_rate = ours_a["events"] / ours_a["seconds"]
    plain_import_rate = plain_a["events"] / plain_a["seconds"]
    ratio_a = ours_import_rate / plain_import_rate
    ours_cmd_rate = ours_b["commands"] / ours_b["seconds"]
    ours_cmd_events = ours_b["events"] / ours_b["seconds"]
    plain_cmd_rate = plain_b["commands"] / plain_b["seconds"]
    plain_create_rate = plain_b["commands"] / plain_b["create_only_seconds"]
    ratio_b = ours_cmd_rate / plain_cmd_rate
    # The RSS goal is stated for 100k operations; smaller runs report it all the same.
    rss_ok = rss < GOAL_RSS_MB

    rows = [
        (
            f"(a) import {ours_a['operations']} ops, one transaction",
            f"{ours_import_rate:,.0f}",
            f"{plain_import_rate:,.0f}",
            f"{ratio_a:.2f}",
            f">= {GOAL_IMPORT}",
            verdict(ratio_a >= GOAL_IMPORT),
        ),
        (
            f"(b) {ours_b['commands']} commands, one per transaction",
            f"{ours_cmd_rate:,.0f}",
            f"{plain_cmd_rate:,.0f}",
            f"{ratio_b:.2f}",
            f">= {GOAL_COMMAND}",
            verdict(ratio_b >= GOAL_COMMAND),
        ),
        (
            "peak RSS of the import (MB)",
            f"{rss:.0f}",
            f"{plain_a['peak_rss_mb']:.0f}",
            "",
            f"< {GOAL_RSS_MB}",
            verdict(rss_ok),
        ),
    ]
    header = ("measure", "ours", "plain eventsourcing", "ratio", "goal", "result")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    m = machine()
    print()
    print(
        f"{m['cpus']} CPUs ({m['cpu']}), Python {m['python']}, eventsourcing {m['eventsourcing']}, SQLite {m['sqlite']}"
    )
    print(
        f"journal: {ours_a['operations']} operations -> {ours_a['events']} events "
        f"over {ours_a['aggregates']} aggregates; rates: (a) events/s, (b) transactions/s"
    )
    print(line(header))
    print(line(tuple("-" * w for w in widths)))
    for r in rows:
        print(line(r))
    print()
    print(f"ratio (a) import: {ratio_a:.2f} (goal >= {GOAL_IMPORT}) {verdict(ratio_a >= GOAL_IMPORT)}")
    print(
        f"ratio (b) one command per transaction: {ratio_b:.2f} "
        f"(goal >= {GOAL_COMMAND}) {verdict(ratio_b >= GOAL_COMMAND)}"
    )
    print(f"peak RSS (import): {rss:.0f} MB (goal < {GOAL_RSS_MB} MB) {verdict(rss_ok)}")
    print(
        f"  (b) also: ours {ours_cmd_events:,.0f} events/s ({ours_b['events']} events); "
        f"plain saving a new counter each time (no read): {plain_create_rate:,.0f}/s"
    )
    cpu_ratio_a = (ours_a["events"] / ours_a["cpu_seconds"]) / (plain_a["events"] / plain_a["cpu_seconds"])
    print(f"  (a) by CPU time instead of wall-clock time: ratio {cpu_ratio_a:.2f}")
    cpu_ratio_b = (ours_b["commands"] / ours_b["cpu_seconds"]) / (plain_b["commands"] / plain_b["cpu_seconds"])
    print(
        f"  (b) by CPU time: ratio {cpu_ratio_b:.2f} (ours {1000 * ours_b['cpu_seconds'] / ours_b['commands']:.2f} ms "
        f"of CPU a command, plain {1000 * plain_b['cpu_seconds'] / plain_b['commands']:.2f} ms)"
    )
    print(
        f"  load average before/after: {load_before[0]:.1f} / {load_after[0]:.1f} "
        f"on {m['cpus']} CPUs; {ns.repeat} round(s), best kept"
    )
    if max(load_before[0], load_after[0]) > 0.5 * (m["cpus"] or 1):
        print("  note: the machine was busy while measuring; timings are noisy")
    ours_history = runs["ours_history"][0] if "ours_history" in runs else None
    if ours_history is not None:
        rate = ours_history["commands"] / ours_history["seconds"]
        print(
            f"  (b) after the whole journal ({ours_history['history_events']} events of history): "
            f"{ours_history['commands']} commands at {rate:,.1f}/s, ratio {rate / plain_cmd_rate:.2f} "
            "(for information: no goal)"
        )
    if chain_off is not None:
        rate = chain_off["events"] / chain_off["seconds"]
        print(f"  hash chain cost: import without it {rate:,.0f} events/s ({ours_import_rate / rate:.2f}x with it)")

    results = {
        "machine": m,
        "seed": ns.seed,
        "operations": ours_a["operations"],
        "rounds": ns.repeat,
        "load_average": {"before": load_before, "after": load_after},
        "all_rounds": runs,
        "goals": {"import": GOAL_IMPORT, "command": GOAL_COMMAND, "peak_rss_mb": GOAL_RSS_MB},
        "import": {
            "ours": ours_a,
            "plain": plain_a,
            "ours_events_per_s": ours_import_rate,
            "plain_events_per_s": plain_import_rate,
            "ratio": ratio_a,
            "cpu_time_ratio": cpu_ratio_a,
            "pass": ratio_a >= GOAL_IMPORT,
        },
        "commands": {
            "ours": ours_b,
            "plain": plain_b,
            "ours_commands_per_s": ours_cmd_rate,
            "ours_events_per_s": ours_cmd_events,
            "plain_commands_per_s": plain_cmd_rate,
            "plain_create_only_per_s": plain_create_rate,
            "ratio": ratio_b,
            "cpu_time_ratio": cpu_ratio_b,
            "pass": ratio_b >= GOAL_COMMAND,
        },
        "peak_rss": {"mb": rss, "pass": rss_ok},
        "import_without_chain": chain_off,
        "commands_after_history": ours_history,
    }
    results_file.parent.mkdir(parents=True, exist_ok=True)
    results_file.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results written to {results_file}")
    missed = not (ratio_a >= GOAL_IMPORT and ratio_b >= GOAL_COMMAND and rss_ok)
    return 1 if ns.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
