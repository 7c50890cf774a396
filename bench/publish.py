"""The public ledger's speed (issue 19): recording with commitments, publish, verify --public.

    python bench/publish.py [--ops 100000] [--repeat 2] [--no-site] [--quick]

Generates a synthetic journal (``bench/synthetic.py``, fixed seed) whose resident evaluations
have private comments, and measures, in this one run:

(a) recording with commitments: importing the journal as it is (each resident submission:
    a subject key, two commitments, two AES-GCM seals) against importing the same journal
    with nothing private (those submissions made by ``external`` evaluators with public
    comments), each in a fresh process and a fresh ledger, alternating, best of ``--repeat``;
    goal: at least 0.9 of the speed without private fields;
(b) ``publish -o DIR --key K`` of the ledger (a): wall time and peak RSS (goals: < 3 minutes,
    < 500 MB, on the 1.43M-event benchmark ledger);
(c) ``verify --public DIR --public-key K.pub``: wall time (goal < 3 minutes) and peak RSS.

Prints the numbers and writes them to ``bench/results/publish.json`` (``publish-quick.json``
with ``--quick``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from record import timed_command  # noqa: E402
from synthetic import synthetic_journal  # noqa: E402

GOAL_RATIO = 0.9
GOAL_SECONDS = 180
GOAL_RSS_MB = 500
QUICK_OPS = 5000


def without_private(ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same journal with nothing private: residents' submissions made by external
    evaluators, their comments public (same scores, same number of events)."""
    out = []
    for op in ops:
        if op["op"] == "submit_evaluation" and op.get("role") == "resident":
            op = {**op, "role": "external", "evaluator": "x-" + op["evaluator"], "comment_public": True}
        out.append(op)
    return out


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "partnership_ledger_cli", *args]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ops", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--no-site", action="store_true", help="publish without the report site")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_OPS} operations, one round")
    ns = parser.parse_args(argv)
    ops_n, repeat = (QUICK_OPS, 1) if ns.quick else (ns.ops, ns.repeat)
    work = Path(tempfile.mkdtemp(prefix="bench-publish-"))
    try:
        journal = synthetic_journal(ops_n)
        private = sum(1 for op in journal if op["op"] == "submit_evaluation" and op.get("role") == "resident")
        paths = {"with": work / "with.json", "without": work / "without.json"}
        paths["with"].write_text(json.dumps(journal), encoding="utf-8")
        paths["without"].write_text(json.dumps(without_private(journal)), encoding="utf-8")
        del journal
        imports: dict[str, list[dict[str, Any]]] = {"with": [], "without": []}
        for round_ in range(repeat):
            for name in ("without", "with") if round_ % 2 == 0 else ("with", "without"):
                db = work / f"{name}-{round_}.sqlite"
                run = timed_command(cli("--db", str(db), "-q", "import", str(paths[name])))
                assert run["returncode"] == 0, run["stderr"]
                imports[name].append(
                    {"seconds": run["seconds"], "cpu_seconds": run["cpu_seconds"], "peak_rss_mb": run["peak_rss_mb"]}
                )
                if not (name == "with" and round_ == 0):
                    for suffix in ("", "-wal", "-shm"):
                        Path(str(db) + suffix).unlink(missing_ok=True)
        best = {name: min(r["seconds"] for r in runs) for name, runs in imports.items()}
        cpu = {name: min(r["cpu_seconds"] for r in runs) for name, runs in imports.items()}
        ratio = best["without"] / best["with"]
        cpu_ratio = cpu["without"] / cpu["with"]
        ledger = work / "with-0.sqlite"
        key = work / "office"
        assert timed_command(cli("keygen", "-o", str(key)))["returncode"] == 0
        folder = work / "public"
        args = ["--db", str(ledger), "-q", "publish", "-o", str(folder), "--key", str(key) + ".key"]
        if ns.no_site:
            args.append("--no-site")
        published = timed_command(cli(*args))
        assert published["returncode"] == 0, published["stderr"]
        manifest = json.loads((folder / "manifest.json").read_text())
        size_mb = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6
        verified = timed_command(cli("-q", "verify", "--public", str(folder), "--public-key", str(key) + ".pub"))
        assert verified["returncode"] == 0, verified["stderr"]
        result = {
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "operations": ops_n,
            "events": manifest["events"],
            "private_submissions": private,
            "import_seconds_with_private": best["with"],
            "import_seconds_without_private": best["without"],
            "import_cpu_seconds_with_private": cpu["with"],
            "import_cpu_seconds_without_private": cpu["without"],
            "recording_ratio": round(ratio, 3),
            "recording_ratio_cpu": round(cpu_ratio, 3),
            "recording_goal_met": ratio >= GOAL_RATIO,
            "imports": imports,
            "publish_seconds": round(published["seconds"], 2),
            "publish_peak_rss_mb": round(published["peak_rss_mb"], 1),
            "publish_site": not ns.no_site,
            "published_mb": round(size_mb, 1),
            "verify_public_seconds": round(verified["seconds"], 2),
            "verify_public_peak_rss_mb": round(verified["peak_rss_mb"], 1),
        }
        print(f"{ops_n} operations, {manifest['events']} events, {private} private resident submissions")
        print(
            f"(a) import with commitments {best['with']:.2f} s, without private fields {best['without']:.2f} s: "
            f"{ratio:.2f}x; by CPU {cpu['with']:.2f} s against {cpu['without']:.2f} s: {cpu_ratio:.2f}x "
            f"(goal >= {GOAL_RATIO})"
        )
        print(
            f"(b) publish {published['seconds']:.1f} s, peak RSS {published['peak_rss_mb']:.0f} MB, "
            f"{size_mb:.1f} MB written (goals < {GOAL_SECONDS} s, < {GOAL_RSS_MB} MB at 1.43M events)"
        )
        print(
            f"(c) verify --public {verified['seconds']:.1f} s, peak RSS {verified['peak_rss_mb']:.0f} MB "
            f"(goal < {GOAL_SECONDS} s at 1.43M events)"
        )
        out = HERE / "results" / ("publish-quick.json" if ns.quick else "publish.json")
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
