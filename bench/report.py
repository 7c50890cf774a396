"""Report speed: the resident report of a 200,000-contribution partnership.

    python bench/report.py [--ledger PATH] [--events 1000000] [--quick] [--check]

Builds (once, then reuses) a benchmark ledger of about ``--events`` stored events in which
one partnership, ``pship-big``, holds 200,000 contributions (``--quick``: 20,000 in a
100,000-event ledger), with their deliveries, decisions, measurements and resident
evaluations; the rest of the events belong to four smaller partnerships. Then, in a fresh
process each, it times the HTML report of ``pship-big`` (model, charts and rendering, as
``partnership-ledger report pship-big --format html`` does) and the Markdown and JSON
reports, and the ``partnership-ledger report pship-big -o FILE`` command end to end, each the
median of ``--repeat`` runs after one untimed warm-up, with each process's CPU time and
peak RSS.

It also times the PDF of the same report (``--format pdf``, WeasyPrint; skipped with
``--no-pdf`` or when WeasyPrint is not installed).

Goals: HTML in under 3 s in process and 4 s through the command, peak RSS under 300 MB;
PDF in under 20 s and 500 MB. Writes ``bench/results/report.json``
(``report-quick.json`` with ``--quick``); with ``--check`` the exit status is 1 when a goal
is missed. The ledger is kept at ``--ledger`` (default ``bench/results/report-1m.sqlite``)
so that later runs skip the long import.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
GOAL_SECONDS = 3.0
GOAL_CLI_SECONDS = 4.0
GOAL_RSS_MB = 300
GOAL_PDF_SECONDS = 20.0
GOAL_PDF_RSS_MB = 500
SEED = 20030301
BIG = "pship-big"
CRITERIA = ["shared purpose achieved", "benefit to residents", "equal footing"]
FIRST_DAY = date(2010, 6, 1)
LAST_DAY = date(2029, 12, 31)


def peak_rss_mb() -> float:
    """This process's peak resident set size, in MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024 if sys.platform == "darwin" else 1024)


def _jpy(amount: int) -> dict[str, str]:
    return {"amount": str(amount), "currency": "JPY"}


def _fiscal_year(day: date) -> int:
    return day.year if day.month >= 4 else day.year - 1


def benchmark_journal(contributions: int, other_ops: int, seed: int = SEED) -> Iterator[dict[str, Any]]:
    """Valid operations: ``contributions`` pledges (each delivered in one or two parts) in
    ``pship-big``, and about ``other_ops`` operations spread over four other partnerships."""
    rnd = random.Random(seed)
    parties = [f"party-{i:02d}" for i in range(40)]
    sectors = ("npo", "prefecture", "municipality", "business", "intermediary", "resident_group")
    for i, key in enumerate(parties):
        op: dict[str, Any] = {
            "op": "register_party",
            "key": key,
            "name": f"Party {i}",
            "sector": sectors[i % len(sectors)],
        }
        if i % 2 == 0:
            op["capacity"] = _jpy(rnd.randrange(10, 5000) * 1_000_000)
        yield op
    keys = [BIG, *(f"pship-{i}" for i in range(4))]
    members = {k: parties[i * 8 : i * 8 + 8] for i, k in enumerate(keys)}
    for k in keys:
        m = members[k]
        yield {
            "op": "propose_partnership",
            "key": k,
            "title": f"Partnership {k}",
            "purpose": "that residents are better off than any member could make them alone",
            "proposed_by": m[0],
            "members": m,
            "on": "2010-04-01",
        }
        yield {"op": "activate_partnership", "partnership": k, "on": "2010-05-01"}
        yield {
            "op": "draft_agreement",
            "key": f"a-{k}",
            "partnership": k,
            "title": f"Agreement of {k}",
            "parties": m[:3],
            "start": "2010-04-01",
            "end": "2031-03-31",
            "shares": {m[0]: "0.5", m[1]: "0.3", m[2]: "0.2"},
        }
        for s in m[:3]:
            yield {"op": "sign_agreement", "agreement": f"a-{k}", "party": s, "on": "2010-05-10"}
        for t in range(3):
            yield {
                "op": "define_target",
                "key": f"t-{k}-{t}",
                "partnership": k,
                "indicator": f"residents reached ({t})",
                "unit": "people",
                "direction": "increase",
                "baseline": {"period": "2009", "value": rnd.randrange(100, 1000)},
                "targets": [{"period": str(y), "value": 1000 + 200 * (y - 2010)} for y in range(2010, 2030)],
            }
    span = (LAST_DAY - FIRST_DAY).days
    big_steps = contributions * 20 // 19  # one step in twenty of pship-big's is not a pledge
    total = big_steps + other_ops
    big_share = big_steps / total
    pledged = big_pledged = 0
    decisions = residents = 0
    evaluation: dict[str, tuple[str, int]] = {}
    for i in range(total):
        day = FIRST_DAY + timedelta(days=span * i // total)
        on = day.isoformat()
        k = BIG if rnd.random() < big_share else keys[1 + rnd.randrange(4)]
        m = members[k]
        big = k == BIG
        if (big and big_pledged < contributions and rnd.random() < 0.95) or (not big and rnd.random() < 0.5):
            big_pledged += big
            pledged += 1
            key = f"c-{pledged:07d}"
            party = rnd.choice(m)
            amount = rnd.randrange(100, 5000) * 1000
            op = {
                "op": "pledge",
                "key": key,
                "partnership": k,
                "party": party,
                "fiscal_year": _fiscal_year(day),
                "value": _jpy(amount),
            }
            if party in m[:3]:
                op["agreement"] = f"a-{k}"
            if rnd.random() < 0.7:
                op.update(kind="money", instrument=rnd.choice(("contribution", "subsidy")))
            else:
                op.update(
                    kind=rnd.choice(("staff_time", "volunteer_time")),
                    quantity=amount // 2500,
                    unit="hours",
                    valuation_basis="2,500 JPY per hour",
                )
            yield op
            first = amount if rnd.random() < 0.5 else amount // 2
            yield {"op": "deliver", "contribution": key, "value": _jpy(first), "on": on}
            if first < amount:
                yield {
                    "op": "deliver",
                    "contribution": key,
                    "value": _jpy(amount - first),
                    "on": on,
                }
            continue
        roll = rnd.random()
        if roll < 0.5:
            decisions += 1
            voters = rnd.sample(m, 3)
            yield {
                "op": "record_decision",
                "partnership": k,
                "key": f"d-{decisions:07d}",
                "subject": "next season's programme",
                "proposed_by": voters[0],
                "rule": "majority",
                "votes": {v: rnd.choice(("for", "for", "against", "abstain")) for v in voters},
                "on": on,
            }
        elif roll < 0.7:
            yield {
                "op": "record_measurement",
                "target": f"t-{k}-{rnd.randrange(3)}",
                "period": str(day.year),
                "value": rnd.randrange(500, 6000),
                "source": "attendance sheets",
                "on": on,
            }
        else:
            ev = evaluation.get(k)
            if ev is None or ev[1] != day.year:
                if ev is not None:
                    yield {"op": "close_evaluation", "evaluation": ev[0], "on": on}
                ev = (f"e-{k}-{day.year}", day.year)
                evaluation[k] = ev
                yield {
                    "op": "open_evaluation",
                    "key": ev[0],
                    "partnership": k,
                    "period": str(day.year),
                    "criteria": CRITERIA,
                    "scale_max": 5,
                }
            residents += 1
            yield {
                "op": "submit_evaluation",
                "evaluation": ev[0],
                "evaluator": f"r-{residents:07x}",
                "role": "resident",
                "scores": {c: rnd.randint(1, 5) for c in CRITERIA},
                "comment": "thank you",
                "comment_public": rnd.random() < 0.3,
                "on": on,
            }


def build_ledger(path: Path, contributions: int, events: int) -> dict[str, Any]:
    """Import the benchmark journal into a new ledger at ``path``, in chunks."""
    from partnership_ledger import PartnershipLedger

    # About 2.6 events for each big-partnership pledge (pledge, 1.5 deliveries, bookkeeping).
    other = max(10_000, int((events - 2.6 * contributions) / 1.1))
    start = time.perf_counter()
    chunk: list[dict[str, Any]] = []
    with PartnershipLedger.open(path) as ledger:
        for op in benchmark_journal(contributions, other):
            chunk.append(op)
            if len(chunk) >= 50_000:
                ledger.import_journal(json.dumps(chunk))
                chunk = []
                print(f"  {ledger.event_count():,} events", file=sys.stderr)
        if chunk:
            ledger.import_journal(json.dumps(chunk))
        stored = ledger.event_count()
    return {"events": stored, "seconds": time.perf_counter() - start}


def child_report(args: dict[str, Any]) -> dict[str, Any]:
    from partnership_ledger import PartnershipLedger
    from partnership_ledger.reports import build_report, render_report

    start = time.perf_counter()
    cpu = time.process_time()
    with PartnershipLedger.open(args["ledger"], create=False) as ledger:
        opened = time.perf_counter()
        report = build_report(ledger, BIG)
    built = time.perf_counter()
    if args["format"] == "pdf":
        from partnership_ledger.reports import render_pdf

        data = render_pdf(report)
        Path(args["out"]).write_bytes(data)
        size = len(data)
    else:
        text = render_report(report, args["format"])
        Path(args["out"]).write_text(text, encoding="utf-8")
        size = len(text.encode("utf-8"))
    done = time.perf_counter()
    return {
        "format": args["format"],
        "seconds": done - start,
        "cpu_seconds": time.process_time() - cpu,
        "open_seconds": opened - start,
        "model_seconds": built - opened,
        "render_seconds": done - built,
        "bytes": size,
        "contributions": report["contributions"]["count"],
        "peak_rss_mb": peak_rss_mb(),
    }


def cli_report(ledger: Path, out: Path) -> dict[str, Any]:
    """``partnership-ledger report pship-big -o OUT`` end to end: wall time and peak RSS."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "partnership_ledger_cli", "--db", str(ledger), "report", BIG, "-o", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    cpu_seconds = usage.ru_utime + usage.ru_stime
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"the report command failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "bytes": out.stat().st_size,
    }


def run_child(**args: Any) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(args)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"the report measurement failed (exit {proc.returncode})")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ledger", type=Path, help="the benchmark ledger (built if missing)")
    parser.add_argument("--events", type=int, default=1_000_000, help="events (1000000)")
    parser.add_argument("--contributions", type=int, default=200_000, help="in pship-big")
    parser.add_argument("--quick", action="store_true", help="100k events, 20k contributions")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement; the median counts (3)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a goal is missed")
    parser.add_argument("--no-pdf", action="store_true", help="do not time the PDF")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child_report(json.loads(args.child))))
        return 0
    if args.quick:
        args.events, args.contributions = 100_000, 20_000
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    suffix = "-quick" if args.quick else ""
    ledger = args.ledger or results / f"report-{args.events // 1000}k.sqlite"
    build: dict[str, Any] | None = None
    if not ledger.exists():
        print(f"building the benchmark ledger {ledger} (once) ...", file=sys.stderr)
        # Built under another name and renamed when complete, so that a run that finds the
        # file never measures a ledger still being built.
        partial = ledger.with_name(ledger.name + ".building")
        for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
            leftover.unlink(missing_ok=True)
        build = build_ledger(partial, args.contributions, args.events)
        os.replace(partial, ledger)
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        # One untimed run first: it reads the ledger file into the operating system's cache
        # (1.7 GB), as any earlier use of the ledger would have; then the median of --repeat.
        run_child(ledger=str(ledger), format="json", out=f"{tmp}/warm.json")
        formats = ["html", "md", "json"]
        if not args.no_pdf:
            try:
                import weasyprint  # noqa: F401
            except (ImportError, OSError):
                print("WeasyPrint is not installed: the PDF is not timed", file=sys.stderr)
            else:
                formats.append("pdf")
        for fmt in formats:
            rounds = [run_child(ledger=str(ledger), format=fmt, out=f"{tmp}/report.{fmt}") for _ in range(args.repeat)]
            runs[fmt] = sorted(rounds, key=lambda r: r["seconds"])[len(rounds) // 2]
        clis = [cli_report(ledger, Path(tmp) / "cli.html") for _ in range(args.repeat)]
        cli = sorted(clis, key=lambda r: r["seconds"])[len(clis) // 2]
    html = runs["html"]
    from partnership_ledger import PartnershipLedger

    with PartnershipLedger.open(ledger, create=False) as opened:
        stored = opened.event_count()
    pdf = runs.get("pdf")
    ok = (
        html["seconds"] < GOAL_SECONDS
        and cli["seconds"] < GOAL_CLI_SECONDS
        and max(html["peak_rss_mb"], cli["peak_rss_mb"]) < GOAL_RSS_MB
        and (pdf is None or (pdf["seconds"] < GOAL_PDF_SECONDS and pdf["peak_rss_mb"] < GOAL_PDF_RSS_MB))
    )
    out = {
        "ledger": str(ledger),
        "events": stored,
        "contributions": html["contributions"],
        "build": build,
        "goals": {
            "html_seconds": GOAL_SECONDS,
            "cli_seconds": GOAL_CLI_SECONDS,
            "peak_rss_mb": GOAL_RSS_MB,
            "pdf_seconds": GOAL_PDF_SECONDS,
            "pdf_peak_rss_mb": GOAL_PDF_RSS_MB,
        },
        "runs": runs,
        "cli": cli,
        "pass": ok,
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
    }
    (results / f"report{suffix}.json").write_text(json.dumps(out, indent=2) + "\n")
    print(f"{'format':<6} {'seconds':>8} {'CPU s':>7} {'model':>7} {'render':>7} {'peak RSS':>9} {'size':>9}")
    for fmt, r in runs.items():
        print(
            f"{fmt:<6} {r['seconds']:>8.2f} {r['cpu_seconds']:>7.2f} {r['model_seconds']:>7.2f}"
            f" {r['render_seconds']:>7.2f} {r['peak_rss_mb']:>7.0f}MB {r['bytes'] / 1024:>7.0f}kB"
        )
    print(
        f"{'cli':<6} {cli['seconds']:>8.2f} {cli['cpu_seconds']:>7.2f} {'':>7} {'':>7}"
        f" {cli['peak_rss_mb']:>7.0f}MB {cli['bytes'] / 1024:>7.0f}kB"
    )
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    print(
        f"HTML report of {html['contributions']:,} contributions in a ledger of {stored:,} events: "
        f"{html['seconds']:.2f} s in process, "
        f"{cli['seconds']:.2f} s by the command "
        f"(goals < {GOAL_SECONDS} s, < {GOAL_CLI_SECONDS} s), "
        f"peak RSS {max(html['peak_rss_mb'], cli['peak_rss_mb']):.0f} MB "
        f"(goal < {GOAL_RSS_MB} MB)"
        + (f"; PDF {pdf['seconds']:.2f} s, {pdf['peak_rss_mb']:.0f} MB" if pdf else "")
        + f": {'PASS' if ok else 'FAIL'}"
    )
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    raise SystemExit(main())
