"""Recording and import throughput on SQLite and PostgreSQL, against plain eventsourcing and raw inserts.

    python bench/throughput.py [--ops 10000] [--commands 2000] [--repeat 1] [--pg URL] [--backend B] [--quick]

On each backend, side by side in one run (every measurement in a fresh process, the three
sides taking turns so that they see the same load):

import   ours: ``PartnershipLedger.open(LOCATION).import_journal(journal)``, the synthetic
         journal of ``bench/synthetic.py`` in one transaction (read models included);
         plain: eventsourcing's ``Application`` saving as many events over a trivial
         ``Counter`` aggregate in one ``app.save(*counters)`` (``bench/plain.py``);
         raw: the very rows ours stored (originator id, version, topic, state), inserted
         with one ``executemany`` in one transaction, by ``sqlite3`` or ``psycopg``, into a
         fresh table of eventsourcing's own shape (made by its recorder).
commands ours: after the journal's set-up, ``--commands`` operations through the ledger's
         command methods, one transaction each; plain: get, increment, save a counter;
         raw: one row inserted and committed per transaction.

The journal is 10,000 operations by default, on both backends: on PostgreSQL
eventsourcing's ``save`` sends all of a transaction's events as one query parameter, and
above about 10 MB (some 15,000 events) psycopg's pipeline mode hangs, so the plain baseline
cannot save a bigger batch at once there (ours writes 2,000 operations at a time within its
one transaction and is not affected; see docs/performance.md). A measurement still running
after an hour stops the run.

Rates are events per second (import) and transactions per second (commands); the ratios
are ours over each baseline. PostgreSQL: ``--pg URL`` names a server on which the URL's user
may create databases (one fresh database per measurement, dropped at the end); without it
a throwaway server is started (``bench/pgserver.py``, durable defaults: ``fsync=on``), or,
when PostgreSQL is not installed, that part is skipped with a message. ``--backend sqlite``
(or ``postgresql``) measures one backend only. Results: ``bench/results/throughput.json``
(``throughput-quick.json`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from plain import is_postgres  # noqa: E402
from record import CHILDREN as RECORD_CHILDREN  # noqa: E402
from record import machine, peak_rss_mb, run_child, setup_length  # noqa: E402

#: eventsourcing's ``save`` sends a transaction's events to PostgreSQL as one parameter (an
#: array for ``unnest``, in psycopg's pipeline mode), and with psycopg 3.3 a parameter over
#: about 10 MB hangs forever: about 15,000 events. Hence 10,000 operations (about 11,300
#: events, 6.5 MB) on both backends by default, so that the plain baseline can run.
DEFAULT_OPS = 10_000
#: A measurement taking longer than this is taken for hung, and stops the run.
CHILD_TIMEOUT = 3600.0
QUICK_OPS = 2000
QUICK_COMMANDS = 50
PLAIN_POOL = 100
SEED = 20080415
SCRIPT = Path(__file__).resolve()


# -- raw inserts of the rows ours stored ---------------------------------------------------------


def stored_rows(location: str) -> list[tuple[Any, ...]]:
    """Every stored event of the ledger at ``location``, as eventsourcing's row: originator id,
    version, topic, state, in the order they were recorded."""
    if is_postgres(location):
        import psycopg

        with psycopg.connect(location) as conn:
            rows = conn.execute(
                "SELECT originator_id, originator_version, topic, state FROM partnershipledger_events "
                "ORDER BY notification_id"
            ).fetchall()
        return [(uuid.UUID(str(r[0])), r[1], r[2], bytes(r[3])) for r in rows]
    con = sqlite3.connect(location)
    try:
        return list(
            con.execute("SELECT originator_id, originator_version, topic, state FROM stored_events ORDER BY rowid")
        )
    finally:
        con.close()


def eventsourcing_table(location: str) -> str:
    """Make eventsourcing's own stored-events table in the fresh database at ``location``
    (through its recorder, as a plain Application does) and return its name."""
    from plain import plain_application

    app = plain_application(location)
    name = str(app.recorder.events_table_name)  # type: ignore[attr-defined]
    app.close()
    return name


@contextmanager
def raw_connection(location: str) -> Iterator[Any]:
    if is_postgres(location):
        import psycopg

        with psycopg.connect(location) as conn:
            yield conn
    else:
        con = sqlite3.connect(location, isolation_level=None)
        try:
            yield con
        finally:
            con.close()


def child_raw_import(args: dict[str, Any]) -> dict[str, Any]:
    rows = stored_rows(args["source"])
    target = args["target"]
    table = eventsourcing_table(target)
    pg = is_postgres(target)
    mark = "%s" if pg else "?"
    sql = (
        f"INSERT INTO {table} (originator_id, originator_version, topic, state) VALUES ({mark}, {mark}, {mark}, {mark})"
    )
    with raw_connection(target) as conn:
        start, cpu = time.perf_counter(), time.process_time()
        if pg:
            with conn.transaction(), conn.cursor() as cur:
                cur.executemany(sql, rows)
        else:
            conn.execute("BEGIN")
            conn.executemany(sql, rows)
            conn.execute("COMMIT")
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        count = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        settings = _durability(conn, pg)
    return {"events": int(count), "seconds": seconds, "cpu_seconds": cpu, "peak_rss_mb": peak_rss_mb(), **settings}


def child_raw_commands(args: dict[str, Any]) -> dict[str, Any]:
    rows = stored_rows(args["source"])[: args["commands"]]
    target = args["target"]
    table = eventsourcing_table(target)
    pg = is_postgres(target)
    mark = "%s" if pg else "?"
    sql = (
        f"INSERT INTO {table} (originator_id, originator_version, topic, state) VALUES ({mark}, {mark}, {mark}, {mark})"
    )
    with raw_connection(target) as conn:
        start, cpu = time.perf_counter(), time.process_time()
        for row in rows:
            if pg:
                conn.execute(sql, row)
                conn.commit()
            else:
                conn.execute("BEGIN")
                conn.execute(sql, row)
                conn.execute("COMMIT")
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        settings = _durability(conn, pg)
    return {"commands": len(rows), "seconds": seconds, "cpu_seconds": cpu, "peak_rss_mb": peak_rss_mb(), **settings}


def _durability(conn: Any, pg: bool) -> dict[str, Any]:
    if pg:
        return {
            "fsync": conn.execute("SHOW fsync").fetchone()[0],
            "synchronous_commit": conn.execute("SHOW synchronous_commit").fetchone()[0],
        }
    return {
        "journal_mode": conn.execute("PRAGMA journal_mode").fetchone()[0],
        "synchronous": conn.execute("PRAGMA synchronous").fetchone()[0],
    }


CHILDREN = {**RECORD_CHILDREN, "raw-import": child_raw_import, "raw-commands": child_raw_commands}


# -- the run ------------------------------------------------------------------------------


def measure_backend(
    backend: str, new_location: Any, journal: Path, setup: int, commands: int, repeat: int
) -> dict[str, list[dict[str, Any]]]:
    """All rounds of the six measurements on one backend."""
    runs: dict[str, list[dict[str, Any]]] = {}

    def child(name: str, **args: Any) -> dict[str, Any]:
        return run_child(name, script=SCRIPT, timeout=CHILD_TIMEOUT, **args)

    for _ in range(repeat):
        ours_db = new_location()
        ours = child("ours-import", db=ours_db, journal=str(journal))
        runs.setdefault("import/ours", []).append(ours)
        runs.setdefault("import/plain", []).append(
            child("plain-import", db=new_location(), aggregates=ours["aggregates"], events=ours["events"])
        )
        runs.setdefault("import/raw", []).append(child("raw-import", source=ours_db, target=new_location()))
        runs.setdefault("commands/ours", []).append(
            child(
                "ours-commands",
                db=new_location(),
                journal=str(journal),
                first=setup,
                commands=commands,
                import_setup=True,
            )
        )
        runs.setdefault("commands/plain", []).append(
            child("plain-commands", db=new_location(), commands=commands, pool=PLAIN_POOL)
        )
        runs.setdefault("commands/raw", []).append(
            child("raw-commands", source=ours_db, target=new_location(), commands=commands)
        )
    return runs


def summarize(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Best round of each measurement; rates; ratios of ours over each baseline, by the clock and by CPU."""
    out: dict[str, Any] = {}
    for what, unit in (("import", "events"), ("commands", "commands")):
        rates: dict[str, dict[str, float]] = {}
        for side in ("ours", "plain", "raw"):
            rounds = runs[f"{what}/{side}"]
            best = min(rounds, key=lambda r: float(r["seconds"]))
            n = float(best[unit])
            rates[side] = {
                unit: n,
                "seconds": float(best["seconds"]),
                "per_s": n / float(best["seconds"]),
                "per_cpu_s": n / max(1e-9, min(float(r["cpu_seconds"]) for r in rounds)),
            }
        out[what] = {
            "rates": rates,
            "ratio": {b: rates["ours"]["per_s"] / rates[b]["per_s"] for b in ("plain", "raw")},
            "cpu_ratio": {b: rates["ours"]["per_cpu_s"] / rates[b]["per_cpu_s"] for b in ("plain", "raw")},
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--ops", type=int, default=DEFAULT_OPS, help=f"journal operations imported ({DEFAULT_OPS}; see above)"
    )
    parser.add_argument("--commands", type=int, default=2000, help="operations recorded one per transaction (2000)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds; each measure keeps its best (1)")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_OPS} operations, {QUICK_COMMANDS} commands")
    parser.add_argument("--pg", metavar="URL", help="a PostgreSQL server to use (its user may create databases)")
    parser.add_argument(
        "--backend", choices=("both", "sqlite", "postgresql"), default="both", help="which backends (both)"
    )
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--json", type=Path, help="results file (bench/results/throughput.json)")
    parser.add_argument("--child", nargs=2, metavar=("NAME", "ARGS"), help=argparse.SUPPRESS)
    ns = parser.parse_args(argv)

    if ns.child:
        name, raw = ns.child
        print(json.dumps(CHILDREN[name](json.loads(raw))))
        return 0

    from pgserver import Databases, postgres_bin, server_setting, server_version, throwaway_server
    from synthetic import synthetic_journal

    ops_n = QUICK_OPS if ns.quick else ns.ops
    commands_n = QUICK_COMMANDS if ns.quick else ns.commands
    results_file = ns.json or HERE / "results" / ("throughput-quick.json" if ns.quick else "throughput.json")
    load_before = os.getloadavg()
    results: dict[str, Any] = {"machine": machine(), "operations": ops_n, "seed": ns.seed, "rounds": ns.repeat}
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pl-bench-throughput-")))
        journal = synthetic_journal(ops_n, ns.seed)
        journal_path = tmp / "journal.json"
        journal_path.write_text(json.dumps(journal, ensure_ascii=False))
        setup = setup_length(journal)
        commands_n = min(commands_n, len(journal) - setup)
        print(f"journal: {len(journal)} operations (seed {ns.seed}); {commands_n} commands; measuring...", flush=True)

        backends: dict[str, Any] = {}
        counter = iter(range(1_000_000))
        if ns.backend != "postgresql":
            backends["sqlite"] = lambda: str(tmp / f"db-{next(counter)}.sqlite")
        pg_server = ns.pg
        if ns.backend == "sqlite":
            print("postgresql: skipped (--backend sqlite)")
        elif pg_server is None and postgres_bin() is None:
            print("postgresql: skipped: PostgreSQL is not installed and no --pg URL was given")
        else:
            if pg_server is None:
                pg_server = stack.enter_context(throwaway_server())
                print("postgresql: a throwaway server on 127.0.0.1 (fsync on)", flush=True)
            databases = Databases(pg_server)
            stack.callback(databases.drop_all)
            backends["postgresql"] = databases.new
            results["postgresql"] = {
                "server_version": server_version(pg_server),
                "fsync": server_setting(pg_server, "fsync"),
                "synchronous_commit": server_setting(pg_server, "synchronous_commit"),
                "given_url": ns.pg is not None,
            }

        all_runs: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for backend, new_location in backends.items():
            print(f"{backend}: measuring...", flush=True)
            all_runs[backend] = measure_backend(backend, new_location, journal_path, setup, commands_n, ns.repeat)
    load_after = os.getloadavg()

    m = results["machine"]
    print()
    print(
        f"{m['cpus']} CPUs ({m['cpu']}), Python {m['python']}, eventsourcing {m['eventsourcing']}, SQLite {m['sqlite']}"
    )
    if "postgresql" in results:
        pg = results["postgresql"]
        print(f"PostgreSQL {pg['server_version']} (fsync {pg['fsync']}, synchronous_commit {pg['synchronous_commit']})")
    header = ("backend", "measure", "ours", "plain", "raw", "ours/plain", "ours/raw", "by CPU /plain", "by CPU /raw")
    rows = [header]
    summaries: dict[str, Any] = {}
    for backend, runs in all_runs.items():
        s = summarize(runs)
        summaries[backend] = s
        for what, label in (("import", "import, events/s"), ("commands", "commands, transactions/s")):
            r = s[what]
            rows.append(
                (
                    backend,
                    label,
                    f"{r['rates']['ours']['per_s']:,.0f}",
                    f"{r['rates']['plain']['per_s']:,.0f}",
                    f"{r['rates']['raw']['per_s']:,.0f}",
                    f"{r['ratio']['plain']:.3f}",
                    f"{r['ratio']['raw']:.3f}",
                    f"{r['cpu_ratio']['plain']:.3f}",
                    f"{r['cpu_ratio']['raw']:.3f}",
                )
            )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for n, r in enumerate(rows):
        print("  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))))
        if n == 0:
            print("  ".join("-" * w for w in widths))
    print()
    for backend, s in summaries.items():
        for what in ("import", "commands"):
            for base in ("plain", "raw"):
                print(
                    f"ratio ({backend}, {what}) vs {base}: {s[what]['ratio'][base]:.3f} "
                    f"(by CPU {s[what]['cpu_ratio'][base]:.3f})"
                )
    print(
        "  CPU: the measuring process only (on PostgreSQL the server's own CPU is not counted); "
        f"load average before/after: {load_before[0]:.1f} / {load_after[0]:.1f} on {m['cpus']} CPUs; "
        f"{ns.repeat} round(s), best kept"
    )
    results.update(
        load_average={"before": load_before, "after": load_after},
        commands=commands_n,
        summary=summaries,
        all_rounds=all_runs,
    )
    results_file.parent.mkdir(parents=True, exist_ok=True)
    results_file.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results written to {results_file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
