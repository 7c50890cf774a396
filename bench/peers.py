"""Per-party totals against peers: ``balance --json`` beside beancount's ``bean-query`` and ``hledger bal``.

    python bench/peers.py [--contributions 100000] [--parties 12] [--repeat 5] [--quick] [--check]

Writes one partnership of ``--contributions`` money contributions (each pledged, then
delivered in full; amounts in euros with cents, the same for the same seed) three ways:

- a journal for the ledger (``pledge`` + ``deliver`` per contribution), imported once with
  ``partnership-ledger import`` (timed and reported, but not part of the comparison);
- a beancount file: one transaction per delivered contribution, from the party's account
  ``Assets:Received:<Party>`` against ``Equity:Partnership``;
- an hledger journal with exactly the same transactions.

Then it checks that the three tools give exactly the same per-party totals (as Decimals)
and times each command end to end, as a subprocess, best of ``--repeat`` runs after one
untimed warm-up, taking turns so that all see the same load:

- ``partnership-ledger --db L balance peer-pship --json``
- ``bean-query -f csv FILE "SELECT account, sum(position) ... GROUP BY account"`` with
  beancount's own pickle cache of the parsed file (its default; warm after the warm-up),
  and ``cold`` with ``BEANCOUNT_DISABLE_LOAD_CACHE=1`` (the file parsed every time)
- ``hledger -f FILE bal ^Assets:Received -O csv`` (Debian's ``hledger``)

Goal: ours at least 10x faster than each, end to end. A peer tool that is not installed
is reported as missing and the rest still runs. Results: ``bench/results/peers.json``
(``peers-quick.json`` with ``--quick``); ``--check`` exits 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from record import machine, timed_command  # noqa: E402

GOAL_TIMES_FASTER = 10.0
PARTNERSHIP = "peer-pship"
CURRENCY = "EUR"
SEED = 20080415
QUICK_CONTRIBUTIONS = 2000
FIRST_DAY = date(2011, 4, 1)
DAYS = 365 * 19
BEAN_QUERY = (
    "SELECT account, sum(position) AS total WHERE account ~ '^Assets:Received:' GROUP BY account ORDER BY account"
)


# -- the same contributions, three ways -------------------------------------------------------


@dataclass
class PeerFiles:
    journal: Path
    beancount: Path
    hledger: Path
    contributions: int
    operations: int
    #: party key -> exact total delivered, as generated
    totals: dict[str, Decimal]
    #: party key -> its account in beancount and hledger
    accounts: dict[str, str]


def party_key(i: int) -> str:
    return f"party-{i:03d}"


def party_account(i: int) -> str:
    return f"Assets:Received:Party-{i:03d}"


def write_peer_files(folder: Path, contributions: int, parties: int, seed: int = SEED) -> PeerFiles:
    """Write the journal, the beancount file and the hledger journal of the same contributions."""
    rnd = random.Random(seed)
    keys = [party_key(i) for i in range(parties)]
    accounts = {party_key(i): party_account(i) for i in range(parties)}
    ops: list[dict[str, Any]] = [
        {"op": "register_party", "key": k, "name": f"Party {i}", "sector": "npo" if i % 2 else "municipality"}
        for i, k in enumerate(keys)
    ]
    ops.append(
        {
            "op": "propose_partnership",
            "key": PARTNERSHIP,
            "title": "Partnership compared with beancount and hledger",
            "purpose": "that residents are better off than any member could make them alone",
            "proposed_by": keys[0],
            "members": keys,
            "on": "2011-03-01",
        }
    )
    ops.append({"op": "activate_partnership", "partnership": PARTNERSHIP, "on": "2011-03-15"})

    bean = io.StringIO()
    led = io.StringIO()
    bean.write(f'option "title" "{PARTNERSHIP}"\noption "operating_currency" "{CURRENCY}"\n\n')
    for account in accounts.values():
        bean.write(f"2011-01-01 open {account} {CURRENCY}\n")
        led.write(f"account {account}\n")
    bean.write(f"2011-01-01 open Equity:Partnership {CURRENCY}\n\n")
    led.write("account Equity:Partnership\n\n")

    totals = dict.fromkeys(keys, Decimal(0))
    for n in range(contributions):
        i = rnd.randrange(parties)
        key = keys[i]
        cents = rnd.randrange(100, 5_000_000)
        amount = Decimal(cents).scaleb(-2)  # exact: 1234.56
        day = FIRST_DAY + timedelta(days=DAYS * n // contributions)
        fiscal_year = day.year if day.month >= 4 else day.year - 1
        ckey = f"c-{n:07d}"
        value = {"amount": str(amount), "currency": CURRENCY}
        ops.append(
            {
                "op": "pledge",
                "key": ckey,
                "partnership": PARTNERSHIP,
                "party": key,
                "kind": "money",
                "instrument": "contribution",
                "value": value,
                "fiscal_year": fiscal_year,
            }
        )
        ops.append({"op": "deliver", "contribution": ckey, "value": value, "on": day.isoformat()})
        totals[key] += amount
        on = day.isoformat()
        account = accounts[key]
        bean.write(
            f'{on} * "{key}" "contribution {ckey}"\n  {account}  {amount} {CURRENCY}\n'
            f"  Equity:Partnership  -{amount} {CURRENCY}\n\n"
        )
        led.write(
            f"{on} {key} | contribution {ckey}\n    {account}  {amount} {CURRENCY}\n"
            f"    Equity:Partnership  -{amount} {CURRENCY}\n\n"
        )

    files = PeerFiles(
        journal=folder / "peers.jsonl",
        beancount=folder / "peers.beancount",
        hledger=folder / "peers.journal",
        contributions=contributions,
        operations=len(ops),
        totals=totals,
        accounts=accounts,
    )
    with files.journal.open("w", encoding="utf-8") as f:
        for op in ops:
            f.write(json.dumps(op, ensure_ascii=False) + "\n")
    files.beancount.write_text(bean.getvalue(), encoding="utf-8")
    files.hledger.write_text(led.getvalue(), encoding="utf-8")
    return files


# -- the three commands, and reading their answers ----------------------------------------------


def _venv_tool(name: str) -> str | None:
    """A console script next to this Python (the venv's), else on PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


def ours_command(db: Path) -> list[str]:
    exe = _venv_tool("partnership-ledger")
    base = [exe] if exe else [sys.executable, "-m", "partnership_ledger_cli"]
    return [*base, "--db", str(db), "balance", PARTNERSHIP, "--json"]


def bean_query_command(tool: str, files: PeerFiles) -> list[str]:
    return [tool, "-f", "csv", str(files.beancount), BEAN_QUERY]


def hledger_command(tool: str, files: PeerFiles) -> list[str]:
    return [tool, "-f", str(files.hledger), "bal", "^Assets:Received:", "--flat", "--no-total", "-O", "csv"]


def ours_totals(stdout: str) -> dict[str, Decimal]:
    data = json.loads(stdout)
    return {p["party"]: Decimal(p["value"]) for p in data["parties"]}


def _amount(text: str) -> Decimal:
    """``1234.56 EUR`` (or ``EUR 1234.56``) as a Decimal; the currency must be ours."""
    parts = text.replace(",", "").split()
    if len(parts) != 2 or CURRENCY not in parts:
        raise ValueError(f"unexpected amount {text!r}")
    number = parts[0] if parts[1] == CURRENCY else parts[1]
    return Decimal(number)


def account_totals(stdout: str, files: PeerFiles) -> dict[str, Decimal]:
    """Per-party totals from the CSV of bean-query or hledger (a header, then account, amount)."""
    party_of = {account: key for key, account in files.accounts.items()}
    rows = list(csv.reader(io.StringIO(stdout)))
    out: dict[str, Decimal] = {}
    for row in rows[1:]:
        if not row or not row[0].strip():
            continue
        account = row[0].strip()
        if account not in party_of:
            raise ValueError(f"unexpected account {account!r}")
        out[party_of[account]] = _amount(row[1].strip())
    return out


# -- the run ------------------------------------------------------------------------------


def build_ledger(db: Path, files: PeerFiles) -> dict[str, Any]:
    exe = _venv_tool("partnership-ledger")
    base = [exe] if exe else [sys.executable, "-m", "partnership_ledger_cli"]
    run = timed_command([*base, "--db", str(db), "-q", "import", str(files.journal)])
    if run["returncode"] != 0:
        raise SystemExit(f"importing the peer journal failed: {run['stderr'].strip()}")
    info = subprocess.run([*base, "--db", str(db), "info", "--json"], check=True, capture_output=True, text=True).stdout
    events = int(json.loads(info)["events"])
    return {
        "seconds": run["seconds"],
        "cpu_seconds": run["cpu_seconds"],
        "peak_rss_mb": run["peak_rss_mb"],
        "events": events,
        "db_mb": sum(p.stat().st_size for p in db.parent.glob(db.name + "*")) / 1e6,
    }


def _fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contributions", type=int, default=100_000, help="contributions in the partnership (100000)")
    parser.add_argument("--parties", type=int, default=12, help="members of the partnership (12)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each command; the best is kept (5)")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_CONTRIBUTIONS} contributions, 2 runs")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--json", type=Path, help="results file (bench/results/peers.json)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a goal is missed")
    ns = parser.parse_args(argv)

    contributions = QUICK_CONTRIBUTIONS if ns.quick else ns.contributions
    repeat = 2 if ns.quick else max(1, ns.repeat)
    results_file = ns.json or HERE / "results" / ("peers-quick.json" if ns.quick else "peers.json")

    tools: dict[str, str | None] = {"bean-query": _venv_tool("bean-query"), "hledger": shutil.which("hledger")}
    for name, path in tools.items():
        if path is None:
            hint = (
                "pip install beancount beanquery (the bench extra)"
                if name == "bean-query"
                else "apt-get install hledger"
            )
            print(f"{name}: not installed ({hint}); it is left out", flush=True)
    versions = {name: _tool_version(path) for name, path in tools.items() if path}

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="pl-bench-peers-") as tmp_name:
        tmp = Path(tmp_name)
        files = write_peer_files(tmp, contributions, ns.parties, ns.seed)
        sizes = {
            name: p.stat().st_size / 1e6
            for name, p in (("journal", files.journal), ("beancount", files.beancount), ("hledger", files.hledger))
        }
        print(
            f"{contributions} contributions of {ns.parties} parties in one partnership: journal "
            f"{files.operations} operations ({sizes['journal']:.1f} MB), beancount file {sizes['beancount']:.1f} MB, "
            f"hledger journal {sizes['hledger']:.1f} MB",
            flush=True,
        )
        db = tmp / "ledger.sqlite"
        build = build_ledger(db, files)
        print(
            f"ledger built once (not part of the comparison): import {build['seconds']:.1f} s "
            f"({build['cpu_seconds']:.1f} s CPU), {build['events']} events, peak RSS {build['peak_rss_mb']:.0f} MB",
            flush=True,
        )

        commands: dict[str, tuple[list[str], dict[str, str] | None]] = {"ours": (ours_command(db), None)}
        if tools["bean-query"]:
            bq = bean_query_command(tools["bean-query"], files)
            commands["bean-query"] = (bq, None)
            # With its cache disabled beancount deletes the cache file: point it at another
            # name, so that the cached runs keep theirs.
            cold = {"BEANCOUNT_DISABLE_LOAD_CACHE": "1", "BEANCOUNT_LOAD_CACHE_FILENAME": ".{filename}.cold-cache"}
            commands["bean-query (cold)"] = (bq, cold)
        if tools["hledger"]:
            commands["hledger"] = (hledger_command(tools["hledger"], files), None)

        # One untimed warm-up each (it also writes beancount's cache), which must agree.
        answers: dict[str, dict[str, Decimal]] = {}
        for name, (argv_, env) in commands.items():
            run = timed_command(argv_, env)
            if run["returncode"] != 0:
                raise SystemExit(f"{name} failed (exit {run['returncode']}): {run['stderr'].strip()[:2000]}")
            answers[name] = ours_totals(run["stdout"]) if name == "ours" else account_totals(run["stdout"], files)
        for name, got in answers.items():
            if got != files.totals:
                diff = {
                    k: (files.totals.get(k), got.get(k))
                    for k in set(files.totals) | set(got)
                    if files.totals.get(k) != got.get(k)
                }
                raise SystemExit(f"{name} disagrees with the generated totals: {diff}")
        print(f"per-party totals agree exactly (as Decimals) across {', '.join(answers)}", flush=True)

        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in commands}
        for _ in range(repeat):
            for name, (argv_, env) in commands.items():
                run = timed_command(argv_, env)
                if run["returncode"] != 0:
                    raise SystemExit(f"{name} failed (exit {run['returncode']}): {run['stderr'].strip()[:2000]}")
                got = ours_totals(run["stdout"]) if name == "ours" else account_totals(run["stdout"], files)
                if got != files.totals:
                    raise SystemExit(f"{name} gave other totals in a timed run")
                runs[name].append({k: run[k] for k in ("seconds", "cpu_seconds", "peak_rss_mb")})
    load_after = os.getloadavg()

    best = {name: min(r["seconds"] for r in rs) for name, rs in runs.items()}
    best_cpu = {name: min(r["cpu_seconds"] for r in rs) for name, rs in runs.items()}
    rss = {name: max(r["peak_rss_mb"] for r in rs) for name, rs in runs.items()}
    ratios = {name: best[name] / best["ours"] for name in runs if name != "ours"}
    cpu_ratios = {name: best_cpu[name] / best_cpu["ours"] for name in runs if name != "ours"}
    passed = {name: ratio >= GOAL_TIMES_FASTER for name, ratio in ratios.items()}

    m = machine()
    print()
    print(f"{m['cpus']} CPUs ({m['cpu']}), Python {m['python']}; " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    header = ("command", "wall ms (best)", "CPU ms (best)", "peak RSS MB", "ours x faster", "by CPU", "goal", "result")
    rows = [header]
    for name in runs:
        if name == "ours":
            rows.append(
                (
                    "ours: balance --json",
                    _fmt_ms(best[name]),
                    _fmt_ms(best_cpu[name]),
                    f"{rss[name]:.0f}",
                    "",
                    "",
                    "",
                    "",
                )
            )
        else:
            rows.append(
                (
                    name,
                    _fmt_ms(best[name]),
                    _fmt_ms(best_cpu[name]),
                    f"{rss[name]:.0f}",
                    f"{ratios[name]:.1f}",
                    f"{cpu_ratios[name]:.1f}",
                    f">= {GOAL_TIMES_FASTER:g}",
                    "PASS" if passed[name] else "FAIL",
                )
            )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for n, r in enumerate(rows):
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))))
        if n == 0:
            print("  ".join("-" * w for w in widths))
    print()
    for name in ratios:
        print(
            f"ratio vs {name}: ours {ratios[name]:.1f}x faster (by CPU {cpu_ratios[name]:.1f}x) "
            f"(goal >= {GOAL_TIMES_FASTER:g}x) {'PASS' if passed[name] else 'FAIL'}"
        )
    for name in ("bean-query", "hledger"):
        if not tools[name]:
            print(f"ratio vs {name}: not measured ({name} is not installed)")
    print(
        f"  load average before/after: {load_before[0]:.1f} / {load_after[0]:.1f} on {m['cpus']} CPUs; "
        f"best of {repeat} runs each, after a warm-up"
    )

    results = {
        "machine": m,
        "tools": versions,
        "seed": ns.seed,
        "contributions": contributions,
        "parties": ns.parties,
        "operations": files.operations,
        "file_mb": sizes,
        "build": build,
        "load_average": {"before": load_before, "after": load_after},
        "commands": {name: argv_ for name, (argv_, _) in commands.items()},
        "runs": runs,
        "best_seconds": best,
        "best_cpu_seconds": best_cpu,
        "peak_rss_mb": rss,
        "times_faster": ratios,
        "times_faster_by_cpu": cpu_ratios,
        "goal_times_faster": GOAL_TIMES_FASTER,
        "passed": passed,
        "missing_tools": [name for name, path in tools.items() if not path],
        "totals": {k: str(v) for k, v in files.totals.items()},
    }
    results_file.parent.mkdir(parents=True, exist_ok=True)
    results_file.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results written to {results_file}")
    return 1 if ns.check and not all(passed.values()) else 0


def _tool_version(path: str) -> str:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=60, check=False).stdout
    except OSError:
        return "?"
    return out.strip().splitlines()[0] if out.strip() else "?"


if __name__ == "__main__":
    sys.exit(main())
