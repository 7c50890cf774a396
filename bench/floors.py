"""Issue 20's floors: this tree side by side with an earlier commit, in the same run.

    python bench/floors.py [--baseline 04fc734] [--ops 100000] [--commands 2000]
                           [--shape synthetic|flat|both] [--repeat 3] [--cli-import-ops 0]

The earlier commit is unpacked (``git archive``) into a temporary folder; every measure
runs in a fresh interpreter with ``PYTHONPATH`` set to one tree or the other, the two
trees alternating round by round so that both see the same load; each keeps its best
round. The same journal files are given to both. Measured, through the public API only
(so that both trees run the same code here):

- import: ``PartnershipLedger.open(db).import_journal(path)`` into a fresh SQLite ledger,
  events per second and peak RSS;
- commands: after the journal's setup (the operations before the first pledge), the next
  ``--commands`` operations one by one through the command methods, events per second;
- rebuild: ``ledger.rebuild()`` of the imported ledger, seconds and peak RSS;
- balance: ``partnership-ledger balance P --json`` through the CLI on the imported ledger,
  wall seconds (the largest partnership);
- with ``--cli-import-ops N``: peak RSS of ``partnership-ledger import`` of an N-operation
  journal through the CLI (the floor is < 300 MB at 1M operations).

Two journal shapes: ``synthetic`` (``bench/synthetic.py``, as ``bench/record.py``) and
``flat``: one partnership per 100 contributions, half pledges and half deliveries, no
agreements. Prints the numbers and the ratios (this tree over the baseline, by wall time, and
by CPU time, which a shared machine's load stretches less) against the floors, and writes them
to ``bench/results/floors.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from record import setup_length, timed_command  # noqa: E402
from synthetic import synthetic_journal  # noqa: E402

FLOORS = {"import": 0.75, "commands": 0.9, "rebuild": 0.75}
BASELINE = "04fc734"  # main before issue 20's restructuring

#: Runs in the measured tree's interpreter: only the public API of both trees.
CHILD = r"""
import json, sys, time
from pathlib import Path

def peak():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0

args = json.loads(sys.argv[1])
from partnership_ledger import PartnershipLedger
if args["what"] == "import":
    ledger = PartnershipLedger.open(args["db"])
    t, cpu = time.perf_counter(), time.process_time()
    result = ledger.import_journal(Path(args["journal"]))
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    ledger.close()
    out = {"events": result.events, "seconds": seconds, "cpu": cpu}
elif args["what"] == "commands":
    ops = json.loads(Path(args["journal"]).read_text())
    first = args["first"]
    ledger = PartnershipLedger.open(args["db"])
    ledger.import_journal(json.dumps(ops[:first]))
    before = ledger.event_count()
    t, cpu = time.perf_counter(), time.process_time()
    for raw in ops[first:first + args["commands"]]:
        getattr(ledger, raw["op"])(**{k: v for k, v in raw.items() if k != "op"})
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    out = {"events": ledger.event_count() - before, "seconds": seconds, "cpu": cpu}
    ledger.close()
else:
    ledger = PartnershipLedger.open(args["db"])
    t, cpu = time.perf_counter(), time.process_time()
    ledger.rebuild()
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    out = {"events": ledger.event_count(), "seconds": seconds, "cpu": cpu}
    ledger.close()
out["peak_rss_mb"] = peak()
print(json.dumps(out))
"""


def flat_journal(ops: int) -> list[dict[str, Any]]:
    """One partnership per 100 contributions, half pledges, half deliveries, no agreements."""
    parties = [f"org-{i:03d}" for i in range(max(4, min(200, ops // 500)))]
    out: list[dict[str, Any]] = [
        {"op": "register_party", "key": p, "name": f"Organisation {i}", "sector": "npo" if i % 3 else "municipality"}
        for i, p in enumerate(parties)
    ]
    block = 0
    while len(out) < ops:
        members = [parties[(block + k) % len(parties)] for k in range(3)]
        key = f"flat-{block:05d}"
        out.append(
            {
                "op": "propose_partnership",
                "key": key,
                "title": f"Partnership {block}",
                "purpose": "a shared service",
                "proposed_by": members[0],
                "members": members,
                "on": "2020-04-01",
            }
        )
        for n in range(50):
            c = f"{key}-c{n:02d}"
            party = members[n % 3]
            out.append(
                {
                    "op": "pledge",
                    "key": c,
                    "partnership": key,
                    "party": party,
                    "kind": "money" if n % 2 else "staff_time",
                    "value": {"amount": str(10_000 + 100 * n), "currency": "JPY"},
                    "fiscal_year": 2020 + n % 5,
                }
            )
            out.append(
                {
                    "op": "deliver",
                    "contribution": c,
                    "value": {"amount": str(10_000 + 100 * n), "currency": "JPY"},
                    "on": f"{2021 + n % 5}-03-01",
                }
            )
        block += 1
    return out[:ops]


def unpack(rev: str, into: Path) -> Path:
    """The tree of ``rev`` (of this repository) in the folder ``into``."""
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def env_of(tree: Path) -> dict[str, str]:
    return {"PYTHONPATH": f"{tree}{os.pathsep}{tree / 'cli'}"}


def child(tree: Path, **args: Any) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(args)],
        capture_output=True,
        text=True,
        env={**os.environ, **env_of(tree)},
        cwd=tree,
        check=False,
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-3000:])
        raise SystemExit(f"{args['what']} failed in {tree}")
    found: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return found


def cli(tree: Path, *argv: str) -> dict[str, Any]:
    """A CLI command in ``tree``: wall seconds, peak RSS, exit status (``record.timed_command``)."""
    script = Path(sys.executable).parent / "partnership-ledger"
    return timed_command([str(script), *argv], env=env_of(tree))


def largest_partnership(journal: list[dict[str, Any]]) -> str:
    counts: dict[str, int] = {}
    for op in journal:
        if op["op"] == "pledge":
            counts[op["partnership"]] = counts.get(op["partnership"], 0) + 1
    return max(counts, key=lambda k: counts[k])


def rounds(trees: dict[str, Path], repeat: int) -> Iterator[tuple[str, Path]]:
    """The trees, alternating which goes first, ``repeat`` times."""
    names = list(trees)
    for r in range(repeat):
        for name in names if r % 2 == 0 else reversed(names):
            yield name, trees[name]


def measure_shape(shape: str, ns: argparse.Namespace, trees: dict[str, Path], tmp: Path) -> dict[str, Any]:
    journal = synthetic_journal(ns.ops) if shape == "synthetic" else flat_journal(ns.ops)
    path = tmp / f"{shape}.json"
    path.write_text(json.dumps(journal, ensure_ascii=False))
    first = setup_length(journal)
    partnership = largest_partnership(journal)
    best: dict[str, dict[str, Any]] = {name: {} for name in trees}
    for i, (name, tree) in enumerate(rounds(trees, ns.repeat)):
        db = tmp / f"{shape}-{name}-{i}.sqlite"
        got = best[name]
        imp = child(tree, what="import", db=str(db), journal=str(path))
        cmd_db = tmp / f"cmd-{name}-{i}.sqlite"
        cmd = child(tree, what="commands", db=str(cmd_db), journal=str(path), first=first, commands=ns.commands)
        reb = child(tree, what="rebuild", db=str(db))
        bal = [cli(tree, "--db", str(db), "balance", partnership, "--json")["seconds"] for _ in range(3)]
        for key, value, better in (
            ("import_events_per_s", imp["events"] / imp["seconds"], max),
            ("import_events_per_cpu_s", imp["events"] / imp["cpu"], max),
            ("import_peak_rss_mb", imp["peak_rss_mb"], min),
            ("commands_events_per_s", cmd["events"] / cmd["seconds"], max),
            ("commands_events_per_cpu_s", cmd["events"] / cmd["cpu"], max),
            ("rebuild_seconds", reb["seconds"], min),
            ("rebuild_cpu_seconds", reb["cpu"], min),
            ("rebuild_peak_rss_mb", reb["peak_rss_mb"], min),
            ("balance_cli_seconds", statistics.median(bal), min),
        ):
            got[key] = value if key not in got else better(got[key], value)
        got["events"] = imp["events"]
        for leftover in tmp.glob(f"*-{name}-{i}.sqlite*"):
            leftover.unlink()
        print(f"  {shape} round {i // len(trees) + 1} {name}: {json.dumps(got)}", flush=True)
    new, base = best["this tree"], best["baseline"]
    ratios = {
        "import": new["import_events_per_s"] / base["import_events_per_s"],
        "commands": new["commands_events_per_s"] / base["commands_events_per_s"],
        "rebuild": base["rebuild_seconds"] / new["rebuild_seconds"],
    }
    # By CPU time too: the load of a shared machine stretches wall times, not CPU times.
    cpu_ratios = {
        "import": new["import_events_per_cpu_s"] / base["import_events_per_cpu_s"],
        "commands": new["commands_events_per_cpu_s"] / base["commands_events_per_cpu_s"],
        "rebuild": base["rebuild_cpu_seconds"] / new["rebuild_cpu_seconds"],
    }
    return {
        "operations": len(journal),
        "partnership": partnership,
        "best": best,
        "ratios": ratios,
        "cpu_ratios": cpu_ratios,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default=BASELINE, help=f"the earlier commit ({BASELINE})")
    parser.add_argument("--ops", type=int, default=100_000, help="journal operations (100000)")
    parser.add_argument("--commands", type=int, default=2000, help="commands one per transaction (2000)")
    parser.add_argument("--shape", choices=["synthetic", "flat", "both"], default="both")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; each keeps its best (3)")
    parser.add_argument("--cli-import-ops", type=int, default=0, help="also a CLI import of N operations (0: skip)")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "floors.json")
    ns = parser.parse_args(argv)
    results: dict[str, Any] = {"baseline": ns.baseline, "load_before": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="pl-floors-") as tmp_name:
        tmp = Path(tmp_name)
        trees = {"baseline": unpack(ns.baseline, tmp / "baseline"), "this tree": ROOT}
        for shape in ("synthetic", "flat") if ns.shape == "both" else (ns.shape,):
            print(f"{shape}: {ns.ops} operations, {ns.commands} commands, {ns.repeat} rounds", flush=True)
            results[shape] = measure_shape(shape, ns, trees, tmp)
        if ns.cli_import_ops:
            path = tmp / "cli.json"
            path.write_text(json.dumps(synthetic_journal(ns.cli_import_ops), ensure_ascii=False))
            results["cli_import"] = {}
            for name, tree in trees.items():
                db = tmp / f"cli-{name}.sqlite"
                cli(tree, "--db", str(db), "init")
                run = cli(tree, "--db", str(db), "import", str(path))
                results["cli_import"][name] = {k: run[k] for k in ("seconds", "peak_rss_mb", "returncode")}
                print(f"  cli import {name}: {results['cli_import'][name]}", flush=True)
                for leftover in tmp.glob(f"cli-{name}.sqlite*"):
                    leftover.unlink()
    results["load_after"] = os.getloadavg()
    ns.json.parent.mkdir(exist_ok=True)
    ns.json.write_text(json.dumps(results, indent=1) + "\n")
    missed = []
    for shape in ("synthetic", "flat"):
        if shape in results:
            for what, ratio in results[shape]["ratios"].items():
                ok = ratio >= FLOORS[what]
                missed += [] if ok else [f"{shape} {what}"]
                cpu = results[shape]["cpu_ratios"][what]
                print(
                    f"{shape:9} {what:8} {ratio:5.2f}x the baseline ({cpu:.2f}x by CPU; floor {FLOORS[what]}x) "
                    f"{'ok' if ok else 'MISSED'}"
                )
            best = results[shape]["best"]["this tree"]
            print(
                f"{shape:9} import RSS {best['import_peak_rss_mb']:.0f} MB, rebuild RSS "
                f"{best['rebuild_peak_rss_mb']:.0f} MB, balance --json {best['balance_cli_seconds'] * 1000:.0f} ms"
            )
    print(f"wrote {ns.json}" + (f"; floors missed: {', '.join(missed)}" if missed else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
