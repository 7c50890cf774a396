"""verify, checkpoint and keygen through CliRunner: intact ledgers pass, tampering is named.

Each test edits its own copy of a small ledger with sqlite3, as someone holding the file
could, and checks that ``verify`` exits 1 naming the first bad position.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest
from cli_invoke import invoke
from ledger_files import ledger_file

from partnership_ledger import PartnershipLedger
from partnership_ledger.demo import demo_journal_bytes

OPS = json.loads(demo_journal_bytes())


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small ledger (the demo's first 60 operations), checkpointed into one file."""
    return ledger_file(tmp_path_factory.mktemp("integrity") / "base.sqlite", json.dumps(OPS[:60]))


@pytest.fixture
def db(base: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "ledger.sqlite"
    shutil.copyfile(base, copy)
    return copy


def events(db: Path) -> int:
    with PartnershipLedger.open(db, create=False) as ledger:
        return ledger.event_count()


def edit(db: Path, sql: str, *params: object) -> None:
    con = sqlite3.connect(db, isolation_level=None)
    con.execute(sql, params)
    con.close()


def change_event(db: Path, position: int) -> None:
    edit(db, "UPDATE stored_events SET state = CAST(? AS BLOB) WHERE rowid = ?", b'{"forged": true}', position)


# -- verify -------------------------------------------------------------------------------------


def test_an_intact_ledger_verifies(db: Path) -> None:
    n = events(db)
    result = invoke(["--db", db, "verify"])
    assert result.exit_code == 0
    assert result.stdout.startswith(f"ok: the chain of {n} events is intact; root ")
    assert result.stderr == ""
    data = json.loads(invoke(["--db", db, "verify", "--json"]).stdout)
    assert (data["ok"], data["size"], data["bad_position"]) == (True, n, None)
    quiet = invoke(["-q", "--db", db, "verify"])
    assert quiet.stdout == f"{n} {data['root']}\n"


@pytest.mark.parametrize("position", [1, 7, 30])
def test_a_changed_event_is_named_by_its_position(db: Path, position: int) -> None:
    change_event(db, position)
    result = invoke(["--db", db, "verify"])
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: tampering found: ")
    assert f"position {position}" in lines[0]


def test_tampering_as_json(db: Path) -> None:
    change_event(db, 12)
    result = invoke(["--db", db, "verify", "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert (report["ok"], report["bad_position"], report["problem"]) == (False, 12, "changed")
    error = json.loads(result.stderr)["error"]
    assert (error["kind"], error["position"], error["problem"]) == ("tampering", 12, "changed")


def test_a_deleted_event_is_found(db: Path) -> None:
    edit(db, "DELETE FROM stored_events WHERE rowid = 20")
    result = invoke(["--db", db, "verify"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: tampering found: position 20 is missing")


def test_a_damaged_ledger_still_answers_other_commands_and_verify_is_repeatable(db: Path) -> None:
    change_event(db, 40)
    first = invoke(["--db", db, "verify"])
    assert first.exit_code == 1
    assert invoke(["--db", db, "verify"]).stderr == first.stderr
    info = invoke(["--db", db, "info", "--json"])
    assert info.exit_code == 0  # the auditor can still look at what is there
    assert json.loads(info.stdout)["events"] == events(db)


def test_public_key_needs_a_checkpoint(db: Path, tmp_path: Path) -> None:
    result = invoke(["--db", db, "verify", "--public-key", tmp_path / "office.pub"])
    assert result.exit_code == 2
    assert "--public-key needs --checkpoint" in result.stderr


def test_verify_needs_a_ledger(tmp_path: Path) -> None:
    result = invoke(["--db", tmp_path / "missing.sqlite", "verify"])
    assert result.exit_code == 1
    assert "there is no ledger at" in result.stderr
    assert not (tmp_path / "missing.sqlite").exists()


# -- keygen, checkpoint, verify --checkpoint ----------------------------------------------------


def keygen(folder: Path, name: str = "office") -> tuple[Path, Path]:
    prefix = folder / name
    result = invoke(["keygen", "-o", prefix])
    assert result.exit_code == 0, result.output
    return prefix.with_name(name + ".key"), prefix.with_name(name + ".pub")


def test_keygen_writes_a_private_and_a_public_key(tmp_path: Path) -> None:
    key, pub = keygen(tmp_path)
    assert key.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert pub.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    if os.name == "posix":
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    again = invoke(["keygen", "-o", tmp_path / "office"])
    assert again.exit_code == 1
    assert "already exists" in again.stderr
    assert key.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")


@pytest.mark.parametrize("prefix", ["", ".", "..", "office/.."])
def test_keygen_needs_a_name_for_the_files(prefix: str) -> None:
    result = invoke(["keygen", "-o", prefix])
    assert result.exit_code == 2
    assert "error: invalid value for '-o' / '--output'" in result.stderr


def test_keygen_into_a_missing_folder(tmp_path: Path) -> None:
    result = invoke(["keygen", "-o", tmp_path / "no" / "such" / "office"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot write the key pair")


def test_checkpoint_unsigned_to_stdout(db: Path) -> None:
    result = invoke(["--db", db, "checkpoint"])
    assert result.exit_code == 0
    cp = json.loads(result.stdout)
    assert (cp["size"], cp["signature"], cp["public_key"]) == (events(db), None, None)


def test_signed_checkpoint_then_verify_against_it(db: Path, tmp_path: Path) -> None:
    key, pub = keygen(tmp_path)
    cp_file = tmp_path / "march.checkpoint.json"
    made = invoke(["--db", db, "checkpoint", "--key", key, "-o", cp_file])
    assert made.exit_code == 0, made.output
    assert f"written to {cp_file}" in made.stderr
    cp = json.loads(cp_file.read_text(encoding="utf-8"))
    assert cp["signature"]
    assert cp["public_key"]
    ok = invoke(["--db", db, "verify", "--checkpoint", cp_file, "--public-key", pub])
    assert ok.exit_code == 0, ok.output
    assert "extends the checkpoint" in ok.stdout
    # The ledger grows: it still extends the checkpoint.
    journal = tmp_path / "more.json"
    journal.write_text(json.dumps(OPS[60:70]), encoding="utf-8")
    assert invoke(["--db", db, "import", journal]).exit_code == 0
    assert invoke(["--db", db, "verify", "--checkpoint", cp_file, "--public-key", pub]).exit_code == 0


def test_a_checkpoint_checked_with_another_key_fails(db: Path, tmp_path: Path) -> None:
    key, _ = keygen(tmp_path, "office")
    _, other_pub = keygen(tmp_path, "someone-else")
    cp_file = tmp_path / "cp.json"
    assert invoke(["--db", db, "checkpoint", "--key", key, "-o", cp_file]).exit_code == 0
    result = invoke(["--db", db, "verify", "--checkpoint", cp_file, "--public-key", other_pub])
    assert result.exit_code == 1
    assert "signature does not match" in result.stderr
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("wrong", ["public", "garbage", "missing", "folder"])
def test_checkpoint_with_a_wrong_key_fails_clearly(db: Path, tmp_path: Path, wrong: str) -> None:
    _, pub = keygen(tmp_path)
    garbage = tmp_path / "garbage.key"
    garbage.write_bytes(b"\x00\xffnot a key")
    key = {"public": pub, "garbage": garbage, "missing": tmp_path / "nope.key", "folder": tmp_path}[wrong]
    result = invoke(["--db", db, "checkpoint", "--key", key])
    assert result.exit_code in (1, 2)  # a folder is refused by the option's type: a usage error
    assert result.exit_code == (2 if wrong == "folder" else 1)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    if wrong != "folder":
        assert len(result.stderr.splitlines()) == 1
        assert result.stderr.startswith("error: ")


def test_a_truncated_tail_is_found_against_a_checkpoint(db: Path, tmp_path: Path) -> None:
    cp_file = tmp_path / "cp.json"
    assert invoke(["--db", db, "checkpoint", "-o", cp_file]).exit_code == 0
    last = events(db)
    edit(db, "DELETE FROM stored_events WHERE rowid = ?", last)
    edit(db, "DELETE FROM ledger_chain WHERE position = ?", last)
    # The chain alone still looks whole; the checkpoint shows that its tail was cut off.
    assert invoke(["--db", db, "verify", "--chain-only"]).exit_code == 0
    # (The read models still hold what the cut event gave, which the full verify finds.)
    assert invoke(["--db", db, "verify"]).exit_code == 1
    result = invoke(["--db", db, "verify", "--checkpoint", cp_file, "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert (report["ok"], report["problem"]) == (False, "truncated")
    assert json.loads(result.stderr)["error"]["kind"] == "tampering"


@pytest.mark.parametrize("content", [b"", b"not json", b"[1, 2]", b'{"size": "x", "root": 1}'])
def test_an_unusable_checkpoint_file_is_one_sentence(db: Path, tmp_path: Path, content: bytes) -> None:
    cp_file = tmp_path / "cp.json"
    cp_file.write_bytes(content)
    result = invoke(["--db", db, "verify", "--checkpoint", cp_file])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: the checkpoint")
    assert len(result.stderr.splitlines()) == 1


def test_checkpoint_refuses_a_broken_chain(db: Path) -> None:
    change_event(db, 3)
    result = invoke(["--db", db, "checkpoint"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "refusing to checkpoint a broken chain" in result.stderr
