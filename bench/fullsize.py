"""The full-size goals through the CLI, on the 1.43M-event benchmark ledger, each command timed
by ``/usr/bin/time -v`` in a fresh process, the median of ``--runs``.

    python bench/indicators.py --ledger big.sqlite --build-only     # once: the ledger
    python bench/fullsize.py --ledger big.sqlite [--runs 3] [--only balance|publish]

Measures (goals from issues 15, 19 and 20):

* ``balance pship-big --json`` (< 300 ms at 1M events) and ``balance pship-big --on DATE
  --json`` for an early, a middle and a late date of the ledger's range (< 500 ms);
* ``publish -o DIR --key KEY`` (< 3 min, peak RSS < 500 MB; the folder's size) and
  ``verify --public DIR --public-key KEY.pub`` on it (< 3 min).

The ledger is used as it is (publish and balance only read it; work on a copy if it must stay
untouched). Wall time depends on the machine's load (printed with every run: ``uptime``);
CPU time (user + system) is the steadier figure on a shared machine. Writes
``bench/results/fullsize.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATES = ("2011-03-31", "2020-03-31", "2028-03-31")  # early, middle and late in the ledger's range
BIG = "pship-big"


def _cli() -> list[str]:
    return [sys.executable, "-m", "partnership_ledger_cli"]


def _seconds(text: str) -> float:
    return sum(float(v) * 60**i for i, v in enumerate(reversed(text.split(":"))))


def timed(args: list[str], label: str, runs: int, before: Any = None) -> dict[str, Any]:
    """``args`` run ``runs`` times under ``/usr/bin/time -v``: each run, and the medians."""
    rounds = []
    for _ in range(runs):
        if before is not None:
            before()
        load = os.getloadavg()[0]
        p = subprocess.run(["/usr/bin/time", "-v", *_cli(), *args], capture_output=True, text=True, check=False)
        if p.returncode != 0:
            raise SystemExit(f"{label} failed (exit {p.returncode}): {p.stderr[-600:]}")
        err = p.stderr

        def field(name: str, text: str = err) -> str:
            found = re.search(re.escape(name) + r": (\S+)", text)
            assert found is not None, name
            return found.group(1)

        rounds.append(
            {
                "wall_s": _seconds(field("Elapsed (wall clock) time (h:mm:ss or m:ss)")),
                "cpu_s": float(field("User time (seconds)")) + float(field("System time (seconds)")),
                "rss_mb": int(field("Maximum resident set size (kbytes)")) / 1024,
                "load_before": load,
            }
        )
    result = {
        "label": label,
        "command": "partnership-ledger " + " ".join(args),
        "rounds": rounds,
        "median_wall_s": statistics.median(r["wall_s"] for r in rounds),
        "median_cpu_s": statistics.median(r["cpu_s"] for r in rounds),
        "peak_rss_mb": max(r["rss_mb"] for r in rounds),
        "uptime": subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip(),
    }
    print(
        f"{label}: median {result['median_wall_s']:.2f} s wall, {result['median_cpu_s']:.2f} CPU-s, "
        f"peak {result['peak_rss_mb']:.0f} MB ({result['uptime']})",
        flush=True,
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ledger", type=Path, required=True, help="the 1.43M-event benchmark ledger")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", choices=("balance", "publish"))
    parser.add_argument("--out", type=Path, help="where publish writes (a temporary folder by default)")
    args = parser.parse_args(argv)
    db = str(args.ledger)
    results: list[dict[str, Any]] = []
    if args.only in (None, "balance"):
        results.append(timed(["--db", db, "balance", BIG, "--json"], "balance --json", args.runs))
        for day in DATES:
            results.append(timed(["--db", db, "balance", BIG, "--on", day, "--json"], f"balance --on {day}", args.runs))
    if args.only in (None, "publish"):
        with tempfile.TemporaryDirectory() as tmp:
            keys, out = Path(tmp) / "office", args.out or Path(tmp) / "public"
            subprocess.run([*_cli(), "keygen", "-o", str(keys)], check=True, capture_output=True)

            def clean() -> None:
                shutil.rmtree(out, ignore_errors=True)

            command = ["--db", db, "publish", "-o", str(out), "--key", f"{keys}.key"]
            publish = timed(command, "publish", args.runs, clean)
            publish["bytes"] = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
            publish["events_bytes"] = (out / "events.jsonl").stat().st_size
            print(f"  the public ledger: {publish['bytes']:,} bytes", flush=True)
            results.append(publish)
            results.append(
                timed(["verify", "--public", str(out), "--public-key", f"{keys}.pub"], "verify --public", args.runs)
            )
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "fullsize.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
