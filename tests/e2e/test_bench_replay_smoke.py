"""bench/replay.py runs (tiny sizes) and reports what docs/performance.md quotes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_replay_benchmark_tiny_run() -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "cli"), os.environ.get("PYTHONPATH", "")]),
    }
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "replay.py"), "--pledges", "120", "--commands", "4", "--decisions", "30"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=300,
    )
    found = json.loads(out.stdout)
    assert found["agreement"]["events"] == 2 * 120 + 2 + 3 + 2 + 1 + 1  # pledges and their counts, the set-up
    assert found["agreement"]["first_show_cpu_s"] >= 0
    assert set(found["partnership"]) == {"show_s", "show_cpu_s", "report_view_s", "report_view_cpu_s"}
