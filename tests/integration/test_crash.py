"""A crash at any moment of an import leaves the ledger whole: all of the import, or none.

A child process imports a journal of a few thousand operations in one transaction and is
killed with SIGKILL at random moments (anywhere, while its events are written, while the read
models catch up): see ``bench/soak_crash.py``, which this runs briefly (30 kills under the
``ci`` hypothesis profile, 5 otherwise; ``python bench/soak_crash.py --runs 1000`` at length).
"""

from __future__ import annotations

import importlib.util
import os
import random
import sqlite3
import sys
from pathlib import Path
from types import ModuleType

import pytest

KILLS = 30 if os.environ.get("HYPOTHESIS_PROFILE") == "ci" else 5
OPS = 2000
SOAK = Path(__file__).resolve().parents[2] / "bench" / "soak_crash.py"


def load_soak() -> ModuleType:
    spec = importlib.util.spec_from_file_location("soak_crash", SOAK)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["soak_crash"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_an_import_killed_at_random_moments_is_all_there_or_not_at_all(tmp_path: Path) -> None:
    soak_crash = load_soak()
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    soak = soak_crash.Soak(tmp_path, OPS)
    assert soak.present[0] > OPS  # the uncut import recorded every event
    outcomes = []
    for run in range(KILLS):
        phase = soak_crash.PHASES[run % len(soak_crash.PHASES)]
        try:
            outcomes.append(soak.kill_once(rng, phase))
        except soak_crash.SoakFailure as e:
            pytest.fail(f"kill {run + 1} ({phase}, seed {seed}): {e}")
    soak.finish()  # a re-run completes, and the read models agree with a replay
    assert set(outcomes) <= {"present", "absent"}
    assert sum(soak.outcomes.values()) == KILLS


def test_a_half_written_import_would_be_caught(tmp_path: Path) -> None:
    """The check itself can fail: delete part of a finished import and it says so."""
    soak_crash = load_soak()
    soak = soak_crash.Soak(tmp_path, 300)
    soak.import_uncut()
    con = sqlite3.connect(soak.path)
    con.execute("DELETE FROM ledger_ops WHERE op_id IN (SELECT op_id FROM ledger_ops LIMIT 5)")
    con.commit()
    con.close()
    with pytest.raises(soak_crash.SoakFailure, match="half there"):
        soak.check()
