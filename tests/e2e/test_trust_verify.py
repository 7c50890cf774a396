"""`verify` vouches for the read models too (issue 14): edits outside the chain are found,
named, repaired by `rebuild`, and `report --verify` refuses to print figures they changed."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from partnership_ledger_cli.main import cli

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.demo import demo_journal_bytes


@pytest.fixture(scope="module")
def demo_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    with PartnershipLedger.open(path) as ledger:
        ledger.import_journal(demo_journal_bytes())
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return path.read_bytes()


@pytest.fixture
def db(demo_bytes: bytes, tmp_path: Path) -> Path:
    path = tmp_path / "ledger.sqlite"
    path.write_bytes(demo_bytes)
    return path


def run(db: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def edit(db: Path, sql: str) -> None:
    con = sqlite3.connect(db)
    with con:
        assert con.execute(sql).rowcount >= 1
    con.close()


BUCKET = "(SELECT partnership FROM rm_buckets WHERE delivered <> '0' ORDER BY partnership, party LIMIT 1)"

TAMPERING = {
    "burden": f"UPDATE rm_buckets SET delivered = delivered || '0' WHERE partnership = {BUCKET}",
    "history": "UPDATE rm_history SET summary = 'nothing happened' WHERE position = 5",
    "submission": "UPDATE rm_submissions SET comment_public = 1 - comment_public WHERE seq = "
    "(SELECT MIN(seq) FROM rm_submissions)",
    "op index": "DELETE FROM ledger_ops WHERE position = 7",
    "key index": "UPDATE ledger_keys SET kind = 'party' WHERE kind = 'partnership' AND key = "
    "(SELECT MIN(key) FROM ledger_keys WHERE kind = 'partnership')",
    "tracking": "UPDATE ledger_tracking SET position = position - 3",
}


@pytest.mark.parametrize("what", sorted(TAMPERING))
def test_an_edited_read_model_fails_verify_names_it_and_rebuild_repairs_it(db: Path, what: str) -> None:
    assert run(db, "verify")[0] == 0
    edit(db, TAMPERING[what])
    code, out, err = run(db, "verify", "--json")
    assert code == 1
    error = json.loads(err)["error"]
    assert error["kind"] == "tampering"
    assert error["problem"] == "read_model"
    diff = error["difference"]
    assert diff["table"].startswith(("rm_", "ledger_"))
    assert not json.loads(out)["ok"]
    # --chain-only does not look at the read models: the chain is intact.
    assert run(db, "verify", "--chain-only")[0] == 0
    code, out, _ = run(db, "rebuild", "--json")
    assert code == 0
    if what != "tracking":  # (opening the ledger to rebuild already refilled those)
        assert json.loads(out)["repaired"], "rebuild must say what it repaired"
    assert run(db, "verify")[0] == 0


def test_the_first_difference_names_table_key_field_and_both_values(db: Path) -> None:
    edit(db, "UPDATE rm_submissions SET comment = 'forged' WHERE seq = (SELECT MIN(seq) FROM rm_submissions)")
    code, _, err = run(db, "verify")
    assert code == 1
    assert err.startswith("error: tampering found:")
    assert "table rm_submissions" in err
    assert "field comment" in err
    assert "'forged'" in err


def test_report_verify_prints_no_figure_from_an_edited_read_model(db: Path, tmp_path: Path) -> None:
    edit(db, TAMPERING["burden"])
    code, out, err = run(db, "report", "puppet-tour", "--format", "md", "--verify")
    assert code == 1
    assert out == ""
    assert "read model differs" in err
    code, out, err = run(db, "report", "--all", "-o", str(tmp_path / "site"), "--verify")
    assert code == 1
    assert not (tmp_path / "site").exists()


def test_rebuild_on_an_intact_ledger_repairs_nothing(db: Path) -> None:
    code, out, _ = run(db, "rebuild")
    assert code == 0
    assert "nothing to repair" in out


def test_a_rewound_tracking_row_is_no_dead_end(db: Path) -> None:
    edit(db, TAMPERING["tracking"])
    assert run(db, "verify")[0] == 1
    # Any command that opens the ledger to write refills the read models.
    code, out, _ = run(db, "parties", "--json")
    assert code == 0
    assert json.loads(out)
    assert run(db, "verify")[0] == 0


def test_verify_checkpoint_says_signed_or_not_and_the_key(db: Path, tmp_path: Path) -> None:
    cp = tmp_path / "cp.json"
    assert run(db, "checkpoint", "-o", str(cp))[0] == 0
    code, out, _ = run(db, "verify", "--checkpoint", str(cp))
    assert code == 0
    assert "unsigned" in out
    assert "proves nothing" in out
    prefix = tmp_path / "office"
    assert run(db, "keygen", "-o", str(prefix))[0] == 0
    assert run(db, "checkpoint", "--key", f"{prefix}.key", "-o", str(cp))[0] == 0
    code, out, _ = run(db, "verify", "--checkpoint", str(cp), "--json")
    trust = json.loads(out)["checkpoint"]
    assert trust["signed"]
    assert not trust["trusted_key"]
    assert trust["fingerprint"].startswith("SHA256:")
    code, out, _ = run(db, "verify", "--checkpoint", str(cp), "--public-key", f"{prefix}.pub")
    assert code == 0
    assert "trusted key SHA256:" in out
