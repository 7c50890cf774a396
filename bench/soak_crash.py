"""Crash soak: kill an import with SIGKILL at random moments; the ledger must survive each one.

    python bench/soak_crash.py [--runs 1000] [--ops 20000] [--seed N] [--folder DIR]

A child process imports a large journal (``bench/synthetic.py``, one transaction) into a
SQLite ledger; the parent kills it at a random moment: anywhere, while the events are being
written, or while the read models catch up afterwards. After every kill:

- ``PRAGMA integrity_check`` is ok and ``verify_chain`` passes;
- the import is wholly present or wholly absent (0 events, or every one of them, with its
  operation index rows);
- the next run imports into what the kill left (so each run is also a re-run after a crash);
  once the import is present the ledger starts again from empty.

At the end an uncut import completes, and the read models (caught up on opening) give the
same balances as a replay of the events. Exit status 1 on the first failure.
``tests/integration/test_crash.py`` runs the same soak briefly.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import IO

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

# The child: open, import, and say when the events are being saved and when they are saved.
CHILD = """
import sys
from contextlib import contextmanager
from pathlib import Path
from partnership_ledger.application import PartnershipLedger

with PartnershipLedger.open(sys.argv[1]) as ledger:
    session = ledger.recorder.write_session

    @contextmanager
    def probed():
        # the import's one write transaction, from its first slice of events to its commit
        print("saving", flush=True)
        with session() as insert:
            yield insert
        print("saved", flush=True)

    ledger.recorder.write_session = probed
    print("opened", flush=True)
    result = ledger.import_journal(Path(sys.argv[2]))
    print("done", result.applied, result.events, flush=True)
"""

PHASES = ("anywhere", "saving", "catching up")


class SoakFailure(AssertionError):
    """The ledger was left in a state it must never be in."""


def write_journal(path: Path, ops: int, seed: int = 20080415) -> None:
    from synthetic import synthetic_journal

    path.write_text(json.dumps(synthetic_journal(ops, seed), ensure_ascii=False), encoding="utf-8")


def _read_until(stream: IO[str], marker: str) -> bool:
    """Read the child's lines until ``marker``; False if it ended first."""
    while True:
        line = stream.readline()
        if not line:
            return False
        if line.split()[0] == marker:
            return True


class Soak:
    """A ledger, a journal, and the expected shape of the ledger with the import present."""

    def __init__(self, folder: Path, ops: int, seed: int = 20080415) -> None:
        from partnership_ledger.application import PartnershipLedger

        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.journal = folder / "journal.json"
        write_journal(self.journal, ops, seed)
        self.base = folder / "base.sqlite"
        with PartnershipLedger.open(self.base):
            pass  # the schema, no events
        self.path = folder / "ledger.sqlite"
        self.present: tuple[int, int] | None = None
        self.timings: dict[str, float] = {}
        self._reset()
        self.present = self.import_uncut()  # (events, operations) with the import present
        self._reset()
        self.outcomes: Counter[tuple[str, str]] = Counter()

    # -- running the child ---------------------------------------------------------------------

    def _start(self) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-c", CHILD, str(self.path), str(self.journal)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def _reset(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(str(self.path) + suffix).unlink(missing_ok=True)
        shutil.copy(self.base, self.path)

    def import_uncut(self) -> tuple[int, int]:
        """Import into the ledger without a kill; the (events, operations) it then holds.

        Also times the phases of the import (the first time), to aim the kills.
        """
        start = time.perf_counter()
        child = self._start()
        assert child.stdout is not None
        assert child.stderr is not None
        marks = {line.split()[0]: time.perf_counter() - start for line in child.stdout if line.strip()}
        err = child.stderr.read()
        child.wait()
        child.stdout.close()
        child.stderr.close()
        total = time.perf_counter() - start
        if child.returncode != 0 or "done" not in marks:
            raise SoakFailure(f"an uncut import failed (exit {child.returncode}): {err.strip()[-2000:]}")
        if not self.timings:
            saving, saved = marks.get("saving", total), marks.get("saved", total)
            self.timings = {"total": total, "save": max(saved - saving, 0.01), "catch_up": max(total - saved, 0.01)}
        return self.check()

    def kill_once(self, rng: random.Random, phase: str | None = None) -> str:
        """Start an import into what the last run left, kill it at a random moment of
        ``phase`` (one of PHASES, random if None), and check what it left."""
        phase = phase or rng.choice(PHASES)
        child = self._start()
        assert child.stdout is not None
        try:
            if phase == "anywhere":
                time.sleep(rng.uniform(0, self.timings["total"]))
            elif phase == "saving":
                if _read_until(child.stdout, "saving"):
                    time.sleep(rng.uniform(0, self.timings["save"]))
            elif _read_until(child.stdout, "saved"):
                time.sleep(rng.uniform(0, self.timings["catch_up"]))
            child.send_signal(signal.SIGKILL)
        finally:
            child.wait()
            child.stdout.close()
            assert child.stderr is not None
            err = child.stderr.read()
            child.stderr.close()
        if child.returncode not in (0, -signal.SIGKILL):
            raise SoakFailure(f"the import failed on its own (exit {child.returncode}): {err.strip()[-2000:]}")
        events, _ = self.check()
        outcome = "present" if events else "absent"
        self.outcomes[phase, outcome] += 1
        if outcome == "present":
            if phase == "catching up":
                self.check_read_models()
            self._reset()
        return outcome

    # -- checking what a kill left --------------------------------------------------------------

    def check(self) -> tuple[int, int]:
        """Check the ledger file; its (events, operations)."""
        from partnership_ledger.integrity import verify_chain
        from partnership_ledger.storage.sqlite import file_db

        con = sqlite3.connect(self.path)  # read-write: the first connection recovers the WAL
        try:
            (integrity,) = con.execute("PRAGMA integrity_check").fetchone()
            if integrity != "ok":
                raise SoakFailure(f"PRAGMA integrity_check says: {integrity}")
            events = int(con.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0])
            ops = int(con.execute("SELECT COUNT(*) FROM ledger_ops").fetchone()[0])
        finally:
            con.close()
        with file_db(self.path, readonly=False) as db:
            result = verify_chain(db)
        if not result.ok:
            raise SoakFailure(f"the chain is broken: {result.message}")
        if result.size != events:
            raise SoakFailure(f"the chain has {result.size} links for {events} events")
        if self.present is not None and (events, ops) not in ((0, 0), self.present):
            raise SoakFailure(
                f"the import is half there: {events} events and {ops} operations, "
                f"where all is {self.present[0]} and {self.present[1]}"
            )
        return events, ops

    def check_read_models(self) -> None:
        """Opening catches the read models up; they must agree with a replay of the events."""
        from partnership_ledger.application import PartnershipLedger

        with PartnershipLedger.open(self.path, create=False) as ledger:
            info = ledger.info()
            if info["read_model_lag"] != 0 or info["read_model_error"]:
                raise SoakFailure(f"the read models did not catch up: {info}")
            for p in ledger.partnerships()[:3]:
                key = p["key"]
                live = {k: v for k, v in ledger.burden_balance(key).items() if k != "as_of"}
                replay = {k: v for k, v in ledger.burden_balance(key, as_of="2999-01-01").items() if k != "as_of"}
                if live != replay:
                    raise SoakFailure(f"the read models of {key} differ from a replay of its events")

    def finish(self) -> None:
        """An uncut import into whatever the last kill left completes, and reads back right."""
        if self.import_uncut() != self.present:
            raise SoakFailure("a re-run of the import did not leave the whole import in the ledger")
        self.check_read_models()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100, help="kills (default 100)")
    parser.add_argument("--ops", type=int, default=20_000, help="operations in the journal (default 20000)")
    parser.add_argument("--seed", type=int, default=None, help="seed for the kill moments (default: random)")
    parser.add_argument("--folder", type=Path, default=None, help="work folder (default: a temporary one)")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    folder = args.folder or Path(__import__("tempfile").mkdtemp(prefix="soak-crash-"))
    print(f"soak: {args.runs} kills of a {args.ops}-operation import, seed {seed}, in {folder}")
    soak = Soak(folder, args.ops)
    t, present = soak.timings, soak.present
    assert present is not None
    print(
        f"uncut import: {t['total']:.1f} s (events saved in {t['save']:.2f} s, read models "
        f"{t['catch_up']:.2f} s); {present[0]} events"
    )
    try:
        for run in range(1, args.runs + 1):
            soak.kill_once(rng, PHASES[run % len(PHASES)])
            if run % 10 == 0 or run == args.runs:
                summary = ", ".join(f"{p} {o}: {n}" for (p, o), n in sorted(soak.outcomes.items()))
                print(f"{run} kills survived ({summary})", flush=True)
        soak.finish()
    except SoakFailure as e:
        print(f"FAILED (seed {seed}): {e}", file=sys.stderr)
        return 1
    print("ok: every kill left the ledger whole, and a final re-run completed")
    if args.folder is None:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
