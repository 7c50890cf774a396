"""The lookup secret of residents' ids (ledger_meta.subject_pepper) edited by hand is
tampering, said in one sentence, never a traceback (found by the tamper property)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from click.testing import CliRunner
from partnership_ledger_cli.main import cli

from partnership_ledger.application import PartnershipLedger

JOURNAL = '[{"op": "register_party", "key": "npo-a", "name": "A", "sector": "npo"}]'


def test_a_pepper_that_is_not_what_the_ledger_wrote_fails_verify(tmp_path: Path) -> None:
    db = tmp_path / "ledger.sqlite"
    with PartnershipLedger.open(db) as ledger:
        ledger.import_journal(JOURNAL)
    assert CliRunner().invoke(cli, ["--db", str(db), "verify"]).exit_code == 0
    con = sqlite3.connect(db)
    with con:
        con.execute("UPDATE ledger_meta SET value = value || 'zz' WHERE name='subject_pepper'")
    con.close()
    result = CliRunner().invoke(cli, ["--db", str(db), "verify"])
    assert result.exit_code == 1
    assert "subject_pepper" in result.output
    assert "Traceback" not in result.output
