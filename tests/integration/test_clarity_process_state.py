"""The library leaves the embedding program's process as it found it: no sqlite3 adapters
registered, and the garbage collector as it was after an import or a rebuild."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CODE = """
import gc, json, sqlite3, sys
before = dict(sqlite3.adapters)
from partnership_ledger import PartnershipLedger
ledger = PartnershipLedger.open(sys.argv[1])
ledger.import_journal(json.dumps([{"op": "register_party", "key": "p", "name": "P", "sector": "npo"}]))
ledger.rebuild()

assert dict(sqlite3.adapters) == before, sorted(map(repr, set(sqlite3.adapters) - set(before)))
print(gc.isenabled())
"""


def test_importing_and_using_the_library_registers_no_sqlite3_adapter(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", CODE, str(tmp_path / "l.sqlite")], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True"
