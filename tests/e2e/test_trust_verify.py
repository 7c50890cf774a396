"""`verify` vouches for the read models too (issue 14): edits outside the chain are found,
named, repaired by `rebuild`, and `report --verify` refuses to print figures they changed."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cli_invoke import invoke
from ledger_files import ledger_file

from partnership_ledger.demo import demo_journal_bytes


@pytest.fixture(scope="module")
def demo_ledger_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return ledger_file(tmp_path_factory.mktemp("demo") / "demo.sqlite", demo_journal_bytes()).read_bytes()


@pytest.fixture
def db(demo_ledger_bytes: bytes, tmp_path: Path) -> Path:
    path = tmp_path / "ledger.sqlite"
    path.write_bytes(demo_ledger_bytes)
    return path


def run(db: Path, *args: str) -> tuple[int, str, str]:
    result = invoke(args, db=db)
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
    code, out, err = run(db, "rebuild")
    assert code == 0
    assert out == ""  # what rebuild did is a summary for people: stderr
    assert "nothing to repair" in err


def test_a_rewound_tracking_row_is_no_dead_end(db: Path) -> None:
    history = run(db, "history", "--json")[1]
    edit(db, TAMPERING["tracking"])
    assert run(db, "verify")[0] == 1
    # A query answers what the events give (from a private copy), and writes nothing.
    code, out, err = run(db, "history", "--json")
    assert code == 0
    assert json.loads(out) == json.loads(history)
    assert "behind" in err
    assert run(db, "verify")[0] == 1
    # A command that writes refills the read models.
    assert run(db, "follow", "--once")[0] == 0
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


# -- the operation index (item 3) -------------------------------------------------------------


def test_a_deleted_op_index_row_never_makes_a_reimport_record_twice(db: Path, tmp_path: Path) -> None:
    journal = tmp_path / "demo.json"
    journal.write_bytes(demo_journal_bytes())
    edit(db, "DELETE FROM ledger_ops WHERE position = (SELECT MIN(position) FROM ledger_ops WHERE position > 100)")
    before = sqlite3.connect(db).execute("SELECT COUNT(*) FROM stored_events").fetchone()
    code, _, err = run(db, "import", str(journal))
    assert code == 1
    assert "operation index" in err
    assert sqlite3.connect(db).execute("SELECT COUNT(*) FROM stored_events").fetchone() == before
    assert run(db, "rebuild")[0] == 0
    code, _out, _ = run(db, "import", str(journal))
    assert code == 0
    assert sqlite3.connect(db).execute("SELECT COUNT(*) FROM stored_events").fetchone() == before


def test_a_forged_op_index_row_never_makes_an_operation_be_skipped(db: Path, tmp_path: Path) -> None:
    journal = tmp_path / "new.json"
    journal.write_text(
        json.dumps([{"id": "new-op", "op": "register_party", "key": "zz", "name": "Z", "sector": "npo"}])
    )
    edit(db, "INSERT INTO ledger_ops VALUES ('new-op', 5)")
    code, _, err = run(db, "import", str(journal))
    assert code == 1
    assert "names operation new-op" in err
    assert run(db, "verify")[0] == 1
    assert run(db, "rebuild")[0] == 0
    assert run(db, "import", str(journal))[0] == 0
    code, out, _ = run(db, "show", "zz", "--json")
    assert code == 0
    assert json.loads(out)["name"] == "Z"


# -- rows outside the chain (item 2) ----------------------------------------------------------


def test_an_event_row_before_position_1_is_tampering_and_never_read(db: Path) -> None:
    edit(
        db,
        "INSERT INTO stored_events (rowid, originator_id, originator_version, topic, state) "
        "SELECT -5, originator_id, originator_version + 1000, topic, state FROM stored_events WHERE rowid = 300",
    )
    code, _, err = run(db, "verify")
    assert code == 1
    assert "position -5" in err
    # Loading an aggregate reads its events by id, whatever their position: refused.
    code, _, err = run(db, "show", "puppet-tour")
    assert code == 1
    assert "outside the hash chain" in err


@pytest.mark.parametrize(("column", "kind"), [("originator_id", "BLOB"), ("topic", "BLOB"), ("state", "TEXT")])
def test_a_column_of_another_storage_type_is_tampering(db: Path, column: str, kind: str) -> None:
    edit(db, f"UPDATE stored_events SET {column} = CAST({column} AS {kind}) WHERE rowid = 300")
    code, _, err = run(db, "verify")
    assert code == 1
    assert f"position 300 has its {column} stored as" in err
    # rebuild refuses, and leaves the read models as they were (never an empty ledger).
    code, _, err = run(db, "rebuild")
    assert code == 1
    assert "tampering found" in err
    code, out, _ = run(db, "history", "--json")
    assert code == 0
    assert len(json.loads(out)) >= 300
    # A command that loads the aggregate whose event is hidden says so in one sentence.
    code, out, err = run(db, "partnerships")
    assert code == 0 or err.startswith("error: tampering found")


# -- read commands write nothing (item 8) -----------------------------------------------------


def test_verify_of_an_empty_or_missing_file_creates_no_ledger(tmp_path: Path) -> None:
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")
    code, _, err = run(empty, "verify")
    assert code == 1
    assert "empty" in err
    assert empty.read_bytes() == b""
    missing = tmp_path / "missing.sqlite"
    assert run(missing, "verify")[0] == 1
    assert not missing.exists()


def test_verify_changes_no_byte_of_the_ledger(db: Path) -> None:
    before = {p.name: p.read_bytes() for p in db.parent.iterdir()}
    assert run(db, "verify")[0] == 0
    after = {p.name: p.read_bytes() for p in db.parent.iterdir() if p.name in before}
    assert after[db.name] == before[db.name]


@contextmanager
def read_only_folder(tmp_path: Path, files: dict[str, bytes]) -> Iterator[Path]:
    """A folder holding ``files`` that cannot be written: a read-only tmpfs mount as root
    (which ignores permissions), a folder without write permission otherwise."""
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() != 0:
        for name, data in files.items():
            (folder / name).write_bytes(data)
            os.chmod(folder / name, 0o444)
        os.chmod(folder, 0o555)
        try:
            yield folder
        finally:
            os.chmod(folder, 0o755)
        return
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(folder)], check=False).returncode:
        pytest.skip("cannot mount a tmpfs here to make a read-only folder as root")
    try:
        for name, data in files.items():
            (folder / name).write_bytes(data)
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


def test_a_ledger_in_a_read_only_folder_can_be_verified_and_queried(demo_ledger_bytes: bytes, tmp_path: Path) -> None:
    with read_only_folder(tmp_path, {"ledger.sqlite": demo_ledger_bytes}) as folder:
        db = folder / "ledger.sqlite"
        code, out, err = run(db, "verify")
        assert code == 0, err
        for args in (("balance", "puppet-tour", "--json"), ("show", "puppet-tour", "--json"), ("history", "--json")):
            code, out, err = run(db, *args)
            assert code == 0, err
            assert json.loads(out)
        assert sorted(p.name for p in folder.iterdir()) == ["ledger.sqlite"]


def test_a_path_with_a_hash_sign_is_a_path(demo_ledger_bytes: bytes, tmp_path: Path) -> None:
    odd = tmp_path / "a#b.sqlite"
    odd.write_bytes(demo_ledger_bytes)
    code, out, _ = run(odd, "verify")
    assert code == 0
    assert not (tmp_path / "a").exists()
    code, out, _ = run(odd, "partnerships", "--json")
    assert code == 0
    assert json.loads(out)


@pytest.mark.parametrize("back", [1, 3, 50])
def test_a_rewound_tracking_row_never_counts_an_event_twice(db: Path, back: int) -> None:
    _, before, _ = run(db, "balance", "puppet-tour", "--json")
    edit(db, f"UPDATE ledger_tracking SET position = position - {back}")
    code, after, _ = run(db, "balance", "puppet-tour", "--json")
    assert code == 0
    assert json.loads(after) == json.loads(before)
    assert run(db, "verify")[0] == 1  # a query writes nothing
    assert run(db, "follow", "--once")[0] == 0
    assert run(db, "verify")[0] == 0
