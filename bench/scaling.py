"""How cost grows with the ledger: import, rebuild, balance and verify at 10k, 100k and 1M events.

    python bench/scaling.py [--sizes 10000,100000,1000000] [--runs 5] [--quick]

For each size, a synthetic journal of about that many events (``bench/synthetic.py``,
fixed seed) goes through the command line, each step a subprocess timed end to end (wall
time, CPU time and peak RSS of the command itself):

import   ``partnership-ledger --db L -q import journal.json`` (one file, one transaction);
balance  ``partnership-ledger --db L balance pship-00 --json`` (best of ``--runs``, after a
         warm-up);
rebuild  ``partnership-ledger --db L -q rebuild`` (every read model from the first event);
verify   ``partnership-ledger --db L -q verify`` (the whole hash chain; best of ``--runs``).

Prints, for each step, the time per event at each size and the log-log slope between
consecutive sizes (1: cost proportional to the events; 0: independent of them; above 1:
worse than linear), also net of the step's fixed cost: its time on a ledger of 60
operations (Python's start, imports, opening the ledger), taken off every time.
Results: ``bench/results/scaling.json`` (``scaling-quick.json`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from record import machine, timed_command  # noqa: E402

DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (500, 2000, 5000)
EVENTS_PER_OP = 1.136  # the synthetic journal stores about this many events per operation
PARTNERSHIP = "pship-00"
STEPS = ("import", "balance", "rebuild", "verify")
#: The smallest journal: parties and partnerships set up, hardly any activity. Each step's
#: time on it is that step's fixed cost (Python's start, imports, opening the ledger).
FLOOR_OPS = 60
SEED = 20080415


def cli() -> list[str]:
    beside = Path(sys.executable).parent / "partnership-ledger"
    return [str(beside)] if beside.exists() else [sys.executable, "-m", "partnership_ledger_cli"]


def run(argv: list[str], what: str) -> dict[str, Any]:
    result = timed_command(argv)
    if result["returncode"] != 0:
        raise SystemExit(f"{what} failed (exit {result['returncode']}): {result['stderr'].strip()[:2000]}")
    return result


def best_of(argv: list[str], what: str, runs: int) -> dict[str, Any]:
    """Best of ``runs`` timed runs after one untimed warm-up."""
    run(argv, what)
    results = [run(argv, what) for _ in range(runs)]
    best = min(results, key=lambda r: float(r["seconds"]))
    best = {**best, "cpu_seconds": min(float(r["cpu_seconds"]) for r in results)}
    best["all_seconds"] = [r["seconds"] for r in results]
    return best


def measure_size(size: int, tmp: Path, runs: int, seed: int) -> dict[str, Any]:
    from synthetic import synthetic_journal

    ops = max(FLOOR_OPS, round(size / EVENTS_PER_OP))
    journal = tmp / f"journal-{size}.json"
    journal.write_text(json.dumps(synthetic_journal(ops, seed), ensure_ascii=False))
    db = tmp / f"ledger-{size}.sqlite"
    base = [*cli(), "--db", str(db)]
    out: dict[str, Any] = {"target_events": size, "operations": ops, "journal_mb": journal.stat().st_size / 1e6}
    print(f"{size}: importing {ops} operations...", flush=True)
    out["import"] = run([*base, "-q", "import", str(journal)], "import")
    journal.unlink()
    info = json.loads(run([*base, "info", "--json"], "info")["stdout"])
    out["events"] = int(info["events"])
    print(f"{size}: {out['events']} events; balance, rebuild, verify...", flush=True)
    out["balance"] = best_of([*base, "balance", PARTNERSHIP, "--json"], "balance", runs)
    parties = json.loads(out["balance"]["stdout"])["parties"]
    out["balance_parties"] = len(parties)
    out["rebuild"] = run([*base, "-q", "rebuild"], "rebuild")
    out["verify"] = best_of([*base, "-q", "verify"], "verify", max(1, min(runs, 3)))
    out["db_mb"] = sum(p.stat().st_size for p in tmp.glob(db.name + "*")) / 1e6
    for step in STEPS:
        out[step] = {k: v for k, v in out[step].items() if k not in ("stdout", "stderr", "returncode")}
    for p in tmp.glob(db.name + "*"):
        p.unlink()
    return out


def slopes(points: list[tuple[float, float]]) -> list[float | None]:
    """The log-log slope between each pair of consecutive (events, seconds) points."""
    out: list[float | None] = []
    for (n1, t1), (n2, t2) in itertools.pairwise(points):
        if n1 > 0 and n2 > n1 and t1 > 0 and t2 > 0:
            out.append(math.log(t2 / t1) / math.log(n2 / n1))
        else:
            out.append(None)
    return out


def _cell(step: dict[str, Any], events: int) -> str:
    """``seconds (µs per event) [CPU seconds]``."""
    seconds = float(step["seconds"])
    return f"{seconds:,.2f} ({seconds / events * 1e6:,.1f}) [{float(step['cpu_seconds']):,.1f}]"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default=",".join(str(s) for s in DEFAULT_SIZES),
        help="events at each size, comma-separated (10000,100000,1000000)",
    )
    parser.add_argument("--runs", type=int, default=5, help="timed runs of balance (and up to 3 of verify) (5)")
    parser.add_argument("--quick", action="store_true", help=f"sizes {','.join(map(str, QUICK_SIZES))}, 2 runs")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--json", type=Path, help="results file (bench/results/scaling.json)")
    ns = parser.parse_args(argv)

    try:
        sizes = sorted({int(s) for s in (QUICK_SIZES if ns.quick else ns.sizes.split(","))})
    except ValueError:
        parser.error("--sizes takes whole numbers separated by commas, e.g. 10000,100000")
    runs = 2 if ns.quick else max(1, ns.runs)
    results_file = ns.json or HERE / "results" / ("scaling-quick.json" if ns.quick else "scaling.json")

    load: list[tuple[float, float, float]] = [os.getloadavg()]
    measured: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="pl-bench-scaling-") as tmp:
        floor = measure_size(0, Path(tmp), runs, ns.seed)
        for size in sizes:
            measured.append(measure_size(size, Path(tmp), runs, ns.seed))
            load.append(os.getloadavg())

    m = machine()
    print()
    print(
        f"{m['cpus']} CPUs ({m['cpu']}), Python {m['python']}, eventsourcing {m['eventsourcing']}, SQLite {m['sqlite']}"
    )
    pairs = [f"{a['events']:,}→{b['events']:,}" for a, b in itertools.pairwise(measured)]
    header = [
        "step",
        f"fixed cost ({floor['events']} events)",
        *[f"{r['events']:,} events" for r in measured],
        *[f"slope {p}" for p in pairs],
        *[f"net slope {p}" for p in pairs],
    ]
    subheader = [
        "",
        "s [CPU s]",
        *["s (µs/event) [CPU s]" for _ in measured],
        *["" for _ in pairs],
        *["" for _ in pairs],
    ]
    rows = [header, subheader]
    slope_table: dict[str, list[float | None]] = {}
    net_slope_table: dict[str, list[float | None]] = {}
    for step in STEPS:
        points = [(float(r["events"]), float(r[step]["seconds"])) for r in measured]
        slope_table[step] = slopes(points)
        fixed = float(floor[step]["seconds"])
        net_slope_table[step] = slopes([(n, t - fixed) for n, t in points])
        rows.append(
            [
                step,
                f"{floor[step]['seconds']:.2f} [{floor[step]['cpu_seconds']:.1f}]",
                *[_cell(r[step], r["events"]) for r in measured],
                *["n/a" if x is None else f"{x:.2f}" for x in slope_table[step]],
                *["n/a" if x is None else f"{x:.2f}" for x in net_slope_table[step]],
            ]
        )
    blank = ["" for _ in pairs] * 2
    for step in ("import", "rebuild"):
        rows.append(
            [
                f"peak RSS of {step}, MB",
                f"{floor[step]['peak_rss_mb']:,.0f}",
                *[f"{r[step]['peak_rss_mb']:,.0f}" for r in measured],
                *blank,
            ]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for n, r in enumerate(rows):
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))))
        if n == 1:
            print("  ".join("-" * w for w in widths))
    print()
    for step in STEPS:
        for (a, b), x, y in zip(itertools.pairwise(measured), slope_table[step], net_slope_table[step], strict=True):
            shown = "n/a" if x is None else f"{x:.2f}"
            net = "n/a" if y is None else f"{y:.2f}"
            print(f"slope ({step}) {a['events']} -> {b['events']} events: {shown} (net of fixed cost: {net})")
    print(
        "  slope: log(t2/t1) / log(n2/n1), 1 = proportional to the events, 0 = independent of them; "
        f"net: the same after taking off the step's fixed cost (its time on a {FLOOR_OPS}-operation ledger)"
    )
    print(
        f"  balance: partnership {PARTNERSHIP}, best of {runs}; load average before and after each size: "
        + ", ".join(f"{x[0]:.1f}" for x in load)
        + f" on {m['cpus']} CPUs"
    )
    results = {
        "machine": m,
        "seed": ns.seed,
        "sizes": sizes,
        "load_average": load,
        "floor": floor,
        "measured": measured,
        "slopes": slope_table,
        "net_slopes": net_slope_table,
    }
    results_file.parent.mkdir(parents=True, exist_ok=True)
    results_file.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results written to {results_file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
