"""The click CLI through CliRunner: every command, every output format, errors and exit codes."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from cli_invoke import invoke
from partnership_ledger_cli.main import cli
from partnership_ledger_cli.output import to_json

from partnership_ledger import PartnershipLedger
from partnership_ledger.demo import demo_journal_bytes

DEMO_OPS: list[dict[str, Any]] = json.loads(demo_journal_bytes())


def write_journal(path: Path, ops: Sequence[dict[str, Any]]) -> Path:
    path.write_text(json.dumps(list(ops), ensure_ascii=False), encoding="utf-8")
    return path


def events_in(db: Path) -> int:
    with PartnershipLedger.open(db, create=False) as ledger:
        return ledger.event_count()


def library(db: str | Path) -> PartnershipLedger:
    return PartnershipLedger.open(db, create=False)


def as_json(value: Any) -> Any:
    """What the CLI's JSON output of ``value`` parses back to."""
    return json.loads(to_json(value))


# -- init ---------------------------------------------------------------------------------


def test_init_creates_a_ledger_and_says_where(tmp_path: Path) -> None:
    db = tmp_path / "new.sqlite"
    first = invoke(["init"], db=db)
    assert first.exit_code == 0
    assert "created a new ledger" in first.stderr
    assert str(db) in first.stderr
    assert events_in(db) == 0
    again = invoke(["init"], db=db)
    assert again.exit_code == 0
    assert "already a ledger" in again.stderr


def test_init_json_tells_whether_it_created(tmp_path: Path) -> None:
    db = tmp_path / "new.sqlite"
    assert json.loads(invoke(["init", "--json"], db=db).stdout)["created"] is True
    second = json.loads(invoke(["init", "--json"], db=db).stdout)
    assert second == {"location": str(db), "created": False}


def test_init_uses_the_default_file_in_the_current_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert invoke(["init"]).exit_code == 0
    assert (tmp_path / "partnership-ledger.sqlite").is_file()


def test_db_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "env.sqlite"
    monkeypatch.setenv("PARTNERSHIP_LEDGER_DB", str(db))
    assert invoke(["init"]).exit_code == 0
    assert db.is_file()


def test_init_in_a_missing_folder_fails_clearly(tmp_path: Path) -> None:
    result = invoke(["init"], db=tmp_path / "no" / "such" / "l.sqlite")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot create a ledger")
    assert "does not exist" in result.stderr


def test_a_file_that_is_not_a_ledger_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "notes.txt"
    db.write_text("hello", encoding="utf-8")
    result = invoke(["parties"], db=db)
    assert result.exit_code == 1
    assert "is not a partnership ledger" in result.stderr
    assert db.read_text(encoding="utf-8") == "hello"


# -- commands that must not create a ledger -------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["parties"],
        ["partnerships"],
        ["show", "puppet-tour"],
        ["history"],
        ["export"],
        ["info"],
        ["rebuild"],
        ["parties", "--json"],
    ],
)
def test_a_missing_ledger_is_an_error_and_is_not_created(tmp_path: Path, args: list[str]) -> None:
    db = tmp_path / "missing.sqlite"
    result = invoke(args, db=db)
    assert result.exit_code == 1
    assert f"there is no ledger at {db}" in result.stderr
    assert result.stdout == ""
    assert not db.exists()


def test_a_folder_as_db_is_an_error(tmp_path: Path) -> None:
    result = invoke(["info"], db=tmp_path)
    assert result.exit_code == 1
    assert "is a folder" in result.stderr


# -- ledgers that cannot be used: one sentence, exit 1, the file untouched -------------------


def damaged_files(tmp_path: Path, demo_db: str) -> dict[str, tuple[Path, str]]:
    """Files that are not usable ledgers, and what the error says about each."""
    data = Path(demo_db).read_bytes()
    cases = {
        "not sqlite": (b"name,amount\nnpo,1\n", "is not a partnership ledger (it is not an SQLite database)"),
        "garbage after the header": (b"SQLite format 3\x00" + bytes(range(256)) * 20, "cannot read the ledger"),
        "cut short": (data[:100], "cannot read the ledger"),
    }
    out = {}
    for name, (content, expected) in cases.items():
        path = tmp_path / f"{name.replace(' ', '-')}.sqlite"
        path.write_bytes(content)
        out[name] = (path, expected)
    other = tmp_path / "other-app.sqlite"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE invoices (id INTEGER)")
    con.commit()
    con.close()
    out["another application's database"] = (other, "is an SQLite database but not a partnership ledger")
    return out


@pytest.mark.parametrize(
    "args",
    [["parties"], ["init"], ["verify"], ["history", "--json"], ["record", json.dumps({"op": "x"})], ["import", "-"]],
)
def test_a_file_that_is_no_usable_ledger_is_one_sentence(tmp_path: Path, demo_db: str, args: list[str]) -> None:
    for name, (path, expected) in damaged_files(tmp_path, demo_db).items():
        before = path.read_bytes()
        result = invoke(args, db=path, input=b"[]")
        assert result.exit_code == 1, (name, result.output)
        if "--json" in args:
            assert expected in json.loads(result.stderr)["error"]["message"], name
        else:
            assert expected in result.stderr, name
            assert len(result.stderr.splitlines()) == 1, name
        assert path.read_bytes() == before, name


@pytest.mark.parametrize(
    ("db", "expected"),
    [
        ("foo://bar", "foo://bar is not a ledger location: --db takes an SQLite file path or a postgresql://"),
        ("sqlite:///l.sqlite", "is not a ledger location"),
        ("https://user:secret@example.org/l", "https://***@example.org/l is not a ledger location"),
        ("postgresql://nohost:1/x", "PostgreSQL"),
        ("postgresql://h:port/x", "invalid port"),
        ("postgresql://[::1/x", "is not a valid URL"),
        ("postgresql://", "names no database"),
    ],
)
def test_a_bad_url_is_one_sentence(db: str, expected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTGRES_CONNECT_TIMEOUT", "3")
    for args in (["parties"], ["init"], ["info", "--json"]):
        result = invoke(args, db=db)
        assert result.exit_code == 1, (db, args, result.output)
        assert "Traceback" not in result.output
        message = json.loads(result.stderr)["error"]["message"] if "--json" in args else result.stderr
        assert expected in message
        assert "secret" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 or "--json" in args


LOCK_HOLDER = """
import sqlite3, sys
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.read()  # hold the lock until the test closes our stdin
con.execute("ROLLBACK")
"""


def test_a_locked_ledger_is_one_sentence_and_unchanged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess
    import sys

    db = tmp_path / "l.sqlite"
    invoke(["import", str(write_journal(tmp_path / "j.json", DEMO_OPS[:10]))], db=db)
    before = events_in(db)
    monkeypatch.setenv("PARTNERSHIP_LEDGER_LOCK_TIMEOUT", "1")
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "locked\n"
        journal = write_journal(tmp_path / "more.json", DEMO_OPS[10:20])
        # Readers are not blocked (WAL): a query answers from the read models while a writer
        # holds the lock. Every write waits for the lock, then fails in one sentence.
        assert invoke(["parties"], db=db).exit_code == 0
        for args in (["import", str(journal)], ["record", json.dumps(PARTY)], ["rebuild", "--json"]):
            result = invoke(args, db=db)
            assert result.exit_code == 1, (args, result.output)
            message = json.loads(result.stderr)["error"]["message"] if "--json" in args else result.stderr
            assert "locked by another process" in message, args
            # How long it truly waited, and the setting it waited for.
            waited = re.search(r"gave up after ([0-9.]+) s; PARTNERSHIP_LEDGER_LOCK_TIMEOUT is 1 s", message)
            assert waited is not None, message
            assert float(waited.group(1)) >= 0.9
            assert "Traceback" not in result.output
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    assert events_in(db) == before
    assert invoke(["parties"], db=db).exit_code == 0  # and usable again once the lock is gone


# -- import ---------------------------------------------------------------------------------


def test_import_records_a_journal_and_is_idempotent(tmp_path: Path) -> None:
    db = tmp_path / "l.sqlite"
    journal = write_journal(tmp_path / "j.json", DEMO_OPS[:20])
    first = invoke(["import", str(journal)], db=db)
    assert first.exit_code == 0, first.output
    assert f"{journal}: recorded 20 operations" in first.stderr
    events = events_in(db)
    assert events >= 20
    second = invoke(["import", str(journal)], db=db)
    assert second.exit_code == 0
    assert "nothing new" in second.stderr
    assert "20 operations were already in the ledger" in second.stderr
    assert events_in(db) == events


def test_import_reports_each_file_and_skips_what_is_recorded(tmp_path: Path) -> None:
    db = tmp_path / "l.sqlite"
    a = write_journal(tmp_path / "a.json", DEMO_OPS[:5])
    b = write_journal(tmp_path / "b.json", DEMO_OPS[:8])
    result = invoke(["import", str(a), str(b), "--json"], db=db)
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["dry_run"] is False
    assert [(f["source"], f["applied"], f["skipped"]) for f in report["files"]] == [
        (str(a), 5, 0),
        (str(b), 3, 5),
    ]


def test_import_reads_json_lines_from_stdin(tmp_path: Path) -> None:
    db = tmp_path / "l.sqlite"
    lines = "".join(json.dumps(op, ensure_ascii=False) + "\n" for op in DEMO_OPS[:6])
    result = invoke(["import", "-"], db=db, input=lines.encode("utf-8"))
    assert result.exit_code == 0, result.output
    assert "stdin: recorded 6 operations" in result.stderr
    with library(db) as ledger:
        registered = [op["key"] for op in DEMO_OPS[:6] if op["op"] == "register_party"]
        assert [p["key"] for p in ledger.parties()] == sorted(registered)


def test_stdin_only_once(tmp_path: Path) -> None:
    result = invoke(["import", "-", "-"], db=tmp_path / "l.sqlite", input=b"[]")
    assert result.exit_code == 2


def bad_field_journal(tmp_path: Path) -> Path:
    ops = [*DEMO_OPS[:3], {"op": "register_party", "key": "x", "name": "X", "sector": "guild"}]
    ops.append({"op": "deliver", "contribution": "c"})
    return write_journal(tmp_path / "bad.json", ops)


def test_an_invalid_journal_names_the_operation_and_records_nothing(tmp_path: Path) -> None:
    db = tmp_path / "l.sqlite"
    invoke(["init"], db=db)
    result = invoke(["import", str(bad_field_journal(tmp_path))], db=db)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ")
    assert "operation 3 (register_party) field 'sector'" in lines[0]
    assert "more problem" in lines[0]
    assert "Traceback" not in result.output
    assert events_in(db) == 0


def test_a_broken_rule_names_the_operation_and_records_nothing(tmp_path: Path) -> None:
    db = tmp_path / "l.sqlite"
    ops = [*DEMO_OPS[:4], {"op": "activate_partnership", "partnership": "nowhere", "on": "2020-01-01"}]
    result = invoke(["import", str(write_journal(tmp_path / "j.json", ops))], db=db)
    assert result.exit_code == 1
    assert "operation 4 (activate_partnership)" in result.stderr
    assert "nowhere" in result.stderr
    assert events_in(db) == 0


def test_verbose_lists_every_problem(tmp_path: Path) -> None:
    result = invoke(["-v", "import", str(bad_field_journal(tmp_path))], db=tmp_path / "l.sqlite")
    assert result.exit_code == 1
    problems = result.stderr.splitlines()[1:]
    assert problems[0].strip().startswith("operation 3 (register_party) field 'sector'")
    assert any("operation 4 (deliver) field 'value'" in line for line in problems)
    assert len(problems) >= 3


def test_json_errors_are_json_on_stderr(tmp_path: Path) -> None:
    result = invoke(["import", "--json", str(bad_field_journal(tmp_path))], db=tmp_path / "l.sqlite")
    assert result.exit_code == 1
    assert result.stdout == ""
    error = json.loads(result.stderr)["error"]
    assert error["kind"] == "invalid_journal"
    assert error["problems"][0] == {
        "index": 3,
        "op": "register_party",
        "field": "sector",
        "rule": error["problems"][0]["rule"],
        "message": error["problems"][0]["message"],
    }
    assert {p["index"] for p in error["problems"]} == {3, 4}


def test_import_stops_at_the_first_refused_file(tmp_path: Path) -> None:
    db = tmp_path / "l.sqlite"
    good = write_journal(tmp_path / "good.json", DEMO_OPS[:5])
    refused = write_journal(
        tmp_path / "refused.json",
        [{"op": "join_partnership", "partnership": "nowhere", "party": "x", "on": "2020-01-01"}],
    )
    later = write_journal(tmp_path / "later.json", DEMO_OPS[5:7])
    result = invoke(["import", str(good), str(refused), str(later)], db=db)
    assert result.exit_code == 1
    assert f"{good}: recorded 5 operations" in result.stderr
    assert f"{refused}: operation 0 (join_partnership)" in result.stderr
    assert f"not imported: {later}" in result.stderr
    with library(db) as ledger:
        assert len(ledger.history()) == 5


def test_import_json_reports_what_was_recorded_before_the_refusal(tmp_path: Path) -> None:
    db = tmp_path / "l.sqlite"
    good = write_journal(tmp_path / "good.json", DEMO_OPS[:5])
    refused = write_journal(
        tmp_path / "refused.json", [{"op": "activate_partnership", "partnership": "nowhere", "on": "2020-01-01"}]
    )
    later = write_journal(tmp_path / "later.json", DEMO_OPS[5:7])
    result = invoke(["import", "--json", str(good), str(refused), str(later)], db=db)
    assert result.exit_code == 1
    assert [f["source"] for f in json.loads(result.stdout)["files"]] == [str(good)]
    error = json.loads(result.stderr)["error"]
    assert (error["kind"], error["source"], error["not_imported"]) == ("invalid_journal", str(refused), [str(later)])
    assert error["problems"][0]["index"] == 0


def test_every_file_is_read_before_anything_is_recorded(tmp_path: Path) -> None:
    db = tmp_path / "l.sqlite"
    good = write_journal(tmp_path / "good.json", DEMO_OPS[:5])
    result = invoke(["import", str(good), str(tmp_path / "missing.json")], db=db)
    assert result.exit_code == 1
    assert "missing.json: there is no such file" in result.stderr
    assert not db.exists()


def test_dry_run_records_nothing_and_creates_nothing(tmp_path: Path) -> None:
    db = tmp_path / "l.sqlite"
    first = write_journal(tmp_path / "1.json", DEMO_OPS[:5])
    builds_on_first = write_journal(tmp_path / "2.json", DEMO_OPS[5:12])
    result = invoke(["import", "--dry-run", str(first), str(builds_on_first)], db=db)
    assert result.exit_code == 0, result.output
    assert f"{first}: 5 operations valid; 5 would be recorded" in result.stderr
    assert f"{builds_on_first}: 7 operations valid; 7 would be recorded" in result.stderr
    assert "nothing was recorded" in result.stderr
    assert not db.exists()


def test_dry_run_against_an_existing_ledger_counts_what_is_there(tmp_path: Path) -> None:
    db = tmp_path / "l.sqlite"
    journal = write_journal(tmp_path / "j.json", DEMO_OPS[:10])
    invoke(["import", str(write_journal(tmp_path / "half.json", DEMO_OPS[:4]))], db=db)
    before = events_in(db)
    result = invoke(["import", "--dry-run", "--json", str(journal)], db=db)
    assert result.exit_code == 0
    (report,) = json.loads(result.stdout)["files"]
    assert (report["applied"], report["skipped"], report["dry_run"]) == (6, 4, True)
    assert events_in(db) == before


def test_dry_run_refuses_an_invalid_journal(tmp_path: Path) -> None:
    ops = [*DEMO_OPS[:4], {"op": "activate_partnership", "partnership": "nowhere", "on": "2020-01-01"}]
    journal = write_journal(tmp_path / "j.json", ops)
    result = invoke(["import", "--dry-run", str(journal)], db=tmp_path / "l.sqlite")
    assert result.exit_code == 1
    assert f"{journal}: operation 4 (activate_partnership)" in result.stderr


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'[{"op": "register_party", "key": "a", "name": "\xff"}]', "is not valid UTF-8"),
        (b"", "is empty"),
        (b'[{"op": "register_party",', "is not valid JSON"),
        (
            b'{"op": "register_party", "key": "a", "name": "A", "sector": "npo", '
            b'"capacity": {"amount": 1.5, "currency": "JPY"}}',
            "float",
        ),
    ],
)
def test_unreadable_journals_are_one_clear_sentence(tmp_path: Path, content: bytes, expected: str) -> None:
    journal = tmp_path / "j.json"
    journal.write_bytes(content)
    result = invoke(["import", str(journal)], db=tmp_path / "l.sqlite")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {journal}: ")
    assert expected in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_a_folder_or_missing_file_as_journal(tmp_path: Path) -> None:
    as_folder = invoke(["import", str(tmp_path)], db=tmp_path / "l.sqlite")
    assert as_folder.exit_code == 1
    # A folder is read as CSV files (one per op, as 'template --format csv' writes them).
    assert as_folder.stderr == f"error: cannot read {tmp_path}: it is a folder with no .csv files in it\n"
    missing = invoke(["import", str(tmp_path / "nope.json")], db=tmp_path / "l.sqlite")
    assert missing.exit_code == 1
    assert "there is no such file" in missing.stderr


# -- export ---------------------------------------------------------------------------------


def test_export_then_import_round_trips(demo_db: str, tmp_path: Path) -> None:
    exported = invoke(["export"], db=demo_db)
    assert exported.exit_code == 0
    ops = json.loads(exported.stdout)
    assert len(ops) == len(DEMO_OPS)
    assert [op["op"] for op in ops] == [op["op"] for op in DEMO_OPS]
    journal = tmp_path / "copy.json"
    journal.write_text(exported.stdout, encoding="utf-8")
    copy = tmp_path / "copy.sqlite"
    assert invoke(["import", str(journal)], db=copy).exit_code == 0
    assert invoke(["export"], db=copy).stdout == exported.stdout
    for command in (["parties", "--json"], ["partnerships", "--json"], ["show", "puppet-tour"]):
        assert invoke(command, db=copy).stdout == invoke(command, db=demo_db).stdout


def test_export_writes_one_operation_a_line(demo_db: str) -> None:
    lines = invoke(["export"], db=demo_db).stdout.splitlines()
    assert (lines[0], lines[-1]) == ("[", "]")
    assert len(lines) == len(DEMO_OPS) + 2


def test_export_json_lines_to_a_file(demo_db: str, tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    result = invoke(["export", "--format", "jsonl", "-o", str(target)], db=demo_db)
    assert result.exit_code == 0
    assert f"wrote {len(DEMO_OPS)} operations to {target}" in result.stdout
    lines = target.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["op"] for line in lines] == [op["op"] for op in DEMO_OPS]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_export_of_an_empty_ledger_imports(tmp_path: Path) -> None:
    db = tmp_path / "l.sqlite"
    invoke(["init"], db=db)
    exported = invoke(["export"], db=db).stdout
    assert json.loads(exported) == []
    journal = tmp_path / "empty.json"
    journal.write_text(exported, encoding="utf-8")
    result = invoke(["import", str(journal)], db=tmp_path / "other.sqlite")
    assert result.exit_code == 0
    assert "no operations" in result.stderr


# -- record ---------------------------------------------------------------------------------

PARTY = {"op": "register_party", "key": "npo-a", "name": "NPO A", "sector": "npo"}


def test_record_one_operation(tmp_path: Path) -> None:
    db = tmp_path / "l.sqlite"
    result = invoke(["record", json.dumps(PARTY)], db=db)
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("recorded register_party")
    with library(db) as ledger:
        assert ledger.show("npo-a")["name"] == "NPO A"


def test_record_from_stdin_with_json_output(tmp_path: Path) -> None:
    db = tmp_path / "l.sqlite"
    pretty = json.dumps(PARTY, indent=2)
    result = invoke(["record", "--json", "-"], db=db, input=pretty)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["op"], report["applied"], report["dry_run"]) == ("register_party", 1, False)


def test_record_with_an_id_records_once(tmp_path: Path) -> None:
    db = tmp_path / "l.sqlite"
    op = json.dumps({**PARTY, "id": "party-a-1"})
    assert invoke(["record", op], db=db).exit_code == 0
    again = invoke(["record", op], db=db)
    assert again.exit_code == 0
    assert "already recorded" in again.stderr
    assert events_in(db) == 1


def test_record_refuses_a_broken_rule_naming_the_op(tmp_path: Path) -> None:
    db = tmp_path / "l.sqlite"
    invoke(["record", json.dumps(PARTY)], db=db)
    result = invoke(["record", json.dumps(PARTY)], db=db)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: register_party: ")
    assert "npo-a" in result.stderr
    assert events_in(db) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[1]", "must be one JSON object"),
        ('{"op": "register_party"', "is not valid JSON at line 1"),
        ('{"op": "x"} {"op": "y"}', "is not valid JSON"),
        (
            '{"op": "register_party", "key": "a", "name": "A", "sector": "npo", '
            '"capacity": {"amount": 2.5, "currency": "JPY"}}',
            "float",
        ),
        ('{"op": "no_such_op"}', "no_such_op"),
    ],
)
def test_record_refuses_bad_input(tmp_path: Path, text: str, expected: str) -> None:
    db = tmp_path / "l.sqlite"
    result = invoke(["record", text], db=db)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert expected in result.stderr
    assert not db.exists() or events_in(db) == 0


def test_record_dry_run_records_nothing(tmp_path: Path) -> None:
    db = tmp_path / "l.sqlite"
    result = invoke(["record", "--dry-run", json.dumps(PARTY)], db=db)
    assert result.exit_code == 0
    assert "nothing was recorded" in result.stderr
    assert not db.exists()


# -- rebuild, info --------------------------------------------------------------------------


def test_rebuild_and_info(tmp_path: Path) -> None:
    db = tmp_path / "l.sqlite"
    invoke(["import", str(write_journal(tmp_path / "j.json", DEMO_OPS[:30]))], db=db)
    facts = json.loads(invoke(["info", "--json"], db=db).stdout)
    assert facts["location"] == str(db)
    assert facts["read_model_lag"] == 0
    rebuilt = invoke(["rebuild", "--json"], db=db)
    assert rebuilt.exit_code == 0
    assert json.loads(rebuilt.stdout) == {"events": facts["events"], "repaired": {}}
    text = invoke(["rebuild"], db=db)
    assert f"rebuilt the read models from {facts['events']} events" in text.stderr
    history = invoke(["history", "--json"], db=db)
    assert len(json.loads(history.stdout)) == 30
    info_text = invoke(["info"], db=db).stdout
    assert any(line.split() == ["events", str(facts["events"])] for line in info_text.splitlines())


# -- progress bars: on a terminal only, never with -q, never on stdout ------------------------

LONG_WORK = {
    "import": ("importing", ["import", "JOURNAL"]),
    "rebuild": ("rebuilding read models", ["rebuild"]),
    "verify": ("verifying the hash chain", ["verify"]),
    "export": ("exporting", ["export", "-o", "OUT"]),
}


def long_work_args(name: str, tmp_path: Path) -> list[str]:
    journal = write_journal(tmp_path / "j.json", DEMO_OPS[:40])
    replace = {"JOURNAL": str(journal), "OUT": str(tmp_path / "out.json")}
    return [replace.get(a, a) for a in LONG_WORK[name][1]]


@pytest.mark.parametrize("name", sorted(LONG_WORK))
def test_long_work_shows_a_progress_bar_on_a_terminal(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from partnership_ledger_cli import progress

    label = LONG_WORK[name][0]
    db = tmp_path / "l.sqlite"
    if name != "import":
        invoke(["import", str(write_journal(tmp_path / "first.json", DEMO_OPS[:40]))], db=db)
    piped = invoke(long_work_args(name, tmp_path), db=db)
    assert piped.exit_code == 0
    assert label not in piped.stderr  # stderr is no terminal here: no bar

    monkeypatch.setattr(progress, "stderr_is_terminal", lambda: True)
    shown = invoke(long_work_args(name, tmp_path), db=db)
    assert shown.exit_code == 0, shown.output
    assert label in shown.stderr
    assert "━" in shown.stderr
    assert label not in shown.stdout
    assert "━" not in shown.stdout
    assert "\x1b[3" in shown.stderr  # coloured ...
    monkeypatch.setenv("NO_COLOR", "1")
    plain = invoke(long_work_args(name, tmp_path), db=db)
    assert label in plain.stderr
    assert "\x1b[3" not in plain.stderr  # ... unless NO_COLOR is set
    quiet = invoke(["-q", *long_work_args(name, tmp_path)], db=db)
    assert quiet.exit_code == 0
    assert label not in quiet.stderr


def test_import_progress_counts_every_operation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from partnership_ledger_cli import progress

    monkeypatch.setattr(progress, "stderr_is_terminal", lambda: True)
    db = tmp_path / "l.sqlite"
    invoke(["import", str(write_journal(tmp_path / "a.json", DEMO_OPS[:10]))], db=db)
    both = [
        str(write_journal(tmp_path / "b.json", DEMO_OPS[:25])),
        str(write_journal(tmp_path / "c.json", DEMO_OPS[25:30])),
    ]
    result = invoke(["import", *both], db=db)
    assert result.exit_code == 0
    # 10 skipped and 15 applied from b, 5 from c: the bar ends full.
    assert "30/30" in result.stderr


def test_quiet_silences_summaries_but_not_data(tmp_path: Path) -> None:
    db = tmp_path / "l.sqlite"
    assert invoke(["-q", "init"], db=db).stdout == ""
    journal = write_journal(tmp_path / "j.json", DEMO_OPS[:3])
    assert invoke(["-q", "import", str(journal)], db=db).stdout == ""
    assert len(json.loads(invoke(["-q", "parties", "--json"], db=db).stdout)) == 3


# -- demo -----------------------------------------------------------------------------------


def test_demo_builds_a_ledger_and_suggests_real_commands(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    result = invoke(["demo", "-o", str(folder)])
    assert result.exit_code == 0, result.output
    db = folder / "partnership-ledger.sqlite"
    assert f"built the demo ledger at {db}" in result.stderr
    suggested = [line.strip() for line in result.stderr.splitlines() if line.startswith("  ")]
    assert suggested
    for line in suggested:
        words = line.split()
        assert words[:3] == ["partnership-ledger", "--db", str(db)]
        assert words[3] in cli.all_commands()
        # every suggestion works on the demo
        run = invoke(words[3:], db=db)
        assert run.exit_code == 0, (line, run.output)
    with library(db) as ledger:
        assert len(ledger.history()) == len(DEMO_OPS)


def test_demo_refuses_an_existing_ledger(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    assert invoke(["demo", "-o", str(folder), "--json"]).exit_code == 0
    before = (folder / "partnership-ledger.sqlite").stat().st_mtime_ns
    again = invoke(["demo", "-o", str(folder)])
    assert again.exit_code == 1
    assert again.stderr.startswith("error: ")
    assert "already exists" in again.stderr
    assert (folder / "partnership-ledger.sqlite").stat().st_mtime_ns == before


def test_demo_defaults_to_a_folder_in_the_current_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke(["demo", "--json"])
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["ledger"] == "partnership-ledger-demo/partnership-ledger.sqlite"
    assert (tmp_path / report["ledger"]).is_file()
    assert report["events"] > len(DEMO_OPS) / 2


def test_demo_into_a_file_is_an_error(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x", encoding="utf-8")
    result = invoke(["demo", "-o", str(target)])
    assert result.exit_code == 1
    assert "is a file, not a folder" in result.stderr


# -- parties, partnerships, show ------------------------------------------------------------


def test_parties_table_json_and_csv(demo_db: str) -> None:
    with library(demo_db) as ledger:
        expected = ledger.parties()
    table = invoke(["parties"], db=demo_db).stdout.splitlines()
    assert table[0].split() == ["KEY", "NAME", "SECTOR", "CAPACITY", "IDENTIFIERS", "AREA"]
    assert len(table) == len(expected) + 1
    assert table[1].startswith(expected[0]["key"])
    assert json.loads(invoke(["parties", "--json"], db=demo_db).stdout) == as_json(expected)
    rows = list(csv.DictReader(io.StringIO(invoke(["parties", "--csv"], db=demo_db).stdout)))
    assert [r["key"] for r in rows] == [p["key"] for p in expected]
    with_capacity = next(p for p in expected if p["capacity"] is not None)
    row = next(r for r in rows if r["key"] == with_capacity["key"])
    assert row["capacity_amount"] == str(with_capacity["capacity"]["amount"])
    assert row["capacity_currency"] == with_capacity["capacity"]["currency"]
    with_ids = next(p for p in expected if p["identifiers"])
    row = next(r for r in rows if r["key"] == with_ids["key"])
    assert row["identifiers"] == " ".join(with_ids["identifiers"])
    assert row["area"] == with_ids["area"]
    assert any(with_ids["identifiers"][0] in line for line in table)


def test_partnerships_table_json_and_csv(demo_db: str) -> None:
    with library(demo_db) as ledger:
        expected = ledger.partnerships()
    table = invoke(["partnerships"], db=demo_db).stdout.splitlines()
    assert table[0].split() == ["KEY", "TITLE", "PHASE", "PARENT", "MEMBERS", "CURRENCY"]
    assert json.loads(invoke(["partnerships", "--json"], db=demo_db).stdout) == as_json(expected)
    rows = list(csv.DictReader(io.StringIO(invoke(["partnerships", "--csv"], db=demo_db).stdout)))
    assert [r["members"].split() for r in rows] == [p["members"] for p in expected]


def test_empty_lists_say_so(tmp_path: Path) -> None:
    db = tmp_path / "l.sqlite"
    invoke(["init"], db=db)
    result = invoke(["parties"], db=db)
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "no parties yet" in result.stderr
    assert json.loads(invoke(["parties", "--json"], db=db).stdout) == []
    assert invoke(["parties", "--csv"], db=db).stdout.splitlines()[0].startswith("key,")


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        ("npo-puppets", "party"),
        ("puppet-tour", "partnership"),
        ("puppet-agreement", "agreement"),
        ("t-children", "target"),
        ("e-2008", "evaluation"),
    ],
)
def test_show_says_what_a_key_is(demo_db: str, key: str, kind: str) -> None:
    text = invoke(["show", key], db=demo_db)
    assert text.exit_code == 0
    assert text.stdout.splitlines()[0] == f"{kind} {key}"
    data = json.loads(invoke(["show", key, "--json"], db=demo_db).stdout)
    assert (data["kind"], data["key"]) == (kind, key)
    with library(demo_db) as ledger:
        assert data == as_json(ledger.show(key))


def test_show_a_contribution(demo_db: str) -> None:
    key = next(op["key"] for op in DEMO_OPS if op["op"] == "pledge")
    assert invoke(["show", key], db=demo_db).stdout.startswith(f"contribution {key}\n")


def test_show_money_as_decimal_strings(demo_db: str) -> None:
    data = json.loads(invoke(["show", "npo-puppets", "--json"], db=demo_db).stdout)
    assert isinstance(data["capacity"]["amount"], str)


def test_show_unknown_key(demo_db: str) -> None:
    result = invoke(["show", "no-such-thing"], db=demo_db)
    assert result.exit_code == 1
    assert result.stderr == "error: there is nothing named no-such-thing in the ledger\n"
    as_json_error = invoke(["show", "no-such-thing", "--json"], db=demo_db)
    assert as_json_error.exit_code == 1
    assert json.loads(as_json_error.stderr)["error"]["kind"] == "unknown_key"


# -- history --------------------------------------------------------------------------------


def history_json(db: str, *args: str) -> list[dict[str, Any]]:
    result = invoke(["history", "--json", *args], db=db)
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


def test_history_of_a_partnership(demo_db: str) -> None:
    rows = history_json(demo_db, "puppet-tour")
    with library(demo_db) as ledger:
        # the library's rows, and the amount and currency of each money operation
        assert rows == as_json(ledger.history("puppet-tour"))
    assert any(r["amount"] is not None for r in rows)
    assert rows
    assert [r["position"] for r in rows] == sorted(r["position"] for r in rows)
    table = invoke(["history", "puppet-tour"], db=demo_db).stdout.splitlines()
    assert table[0].split()[:4] == ["#", "RECORDED", "(UTC)", "EFFECTIVE"]
    assert len(table) == len(rows) + 1


def test_history_filters(demo_db: str) -> None:
    everything = history_json(demo_db)
    assert len(everything) == len(DEMO_OPS)
    dated = history_json(demo_db, "--since", "2009-04-01", "--until", "2010-03-31")
    assert dated
    assert all("2009-04-01" <= r["effective"] <= "2010-03-31" for r in dated)
    assert len(dated) == sum(1 for r in everything if r["effective"] and "2009-04-01" <= r["effective"] <= "2010-03-31")
    money = history_json(demo_db, "--op", "deliver", "--op", "pledge")
    assert {r["op"] for r in money} == {"deliver", "pledge"}
    assert len(money) == sum(1 for op in DEMO_OPS if op["op"] in ("deliver", "pledge"))
    with library(demo_db) as ledger:
        assert history_json(demo_db, "--party", "school-board") == as_json(ledger.history(party="school-board"))


def test_history_include_children(demo_db: str) -> None:
    own = history_json(demo_db, "th-lsp")
    with_children = history_json(demo_db, "th-lsp", "--include-children")
    assert len(with_children) > len(own)
    assert {r["position"] for r in own} <= {r["position"] for r in with_children}


def test_history_by_recorded_time(demo_db: str) -> None:
    everything = history_json(demo_db)
    assert history_json(demo_db, "--recorded-since", "2999-01-01") == []
    last_day = everything[-1]["recorded_at"][:10]
    assert history_json(demo_db, "--recorded-until", last_day) == everything
    assert history_json(demo_db, "--recorded-since", everything[0]["recorded_at"]) == everything
    empty = invoke(["history", "--recorded-since", "2999-01-01"], db=demo_db)
    assert empty.exit_code == 0
    assert "no operations match" in empty.stderr


def test_history_csv_carries_every_field(demo_db: str) -> None:
    out = invoke(["history", "puppet-tour", "--csv"], db=demo_db).stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows
    assert {"position", "recorded_at", "effective", "op", "summary", "note"} <= set(rows[0])
    assert [int(r["position"]) for r in rows] == [r["position"] for r in history_json(demo_db, "puppet-tour")]


def test_history_verbose_shows_who_recorded(demo_db: str) -> None:
    header = invoke(["-v", "history", "puppet-tour"], db=demo_db).stdout.splitlines()[0]
    assert header.split()[-2:] == ["BY", "NOTE"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["history", "no-such-key"], "there is nothing named no-such-key"),
        (["history", "--party", "no-such-party"], "there is no party named no-such-party"),
        (["history", "--party", "puppet-tour"], "puppet-tour is a partnership, not a party"),
    ],
)
def test_history_unknown_keys(demo_db: str, args: list[str], expected: str) -> None:
    result = invoke(args, db=demo_db)
    assert result.exit_code == 1
    assert expected in result.stderr


# -- usage errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["no-such-command"],
        ["parties", "--no-such-option"],
        ["history", "--since", "2009-13-01"],
        ["history", "--since", "yesterday"],
        ["history", "--recorded-since", "soon"],
        ["history", "--op", "steal"],
        ["parties", "--json", "--csv"],
        ["-q", "-v", "parties"],
        ["import"],
        ["export", "--format", "xml"],
        ["show"],
    ],
)
def test_usage_errors_exit_2(demo_db: str, args: list[str]) -> None:
    result = invoke(args, db=demo_db)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [["show", "\udcff"], ["history", "npo-\udcfe"], ["history", "--party", "\udcff"], ["balance", "\udcff"]],
)
def test_keys_a_shell_passed_as_undecodable_bytes(demo_db: str, args: list[str]) -> None:
    # $'\xff' on a command line reaches Python as a lone surrogate (surrogateescape).
    result = invoke(args, db=demo_db)
    assert result.exit_code == 2
    assert "is not a key: it holds bytes that are not UTF-8 text" in result.stderr


def test_version() -> None:
    from partnership_ledger import __version__

    result = invoke(["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"partnership-ledger {__version__}"


# -- unexpected failures --------------------------------------------------------------------


@pytest.fixture
def broken_parties(monkeypatch: pytest.MonkeyPatch) -> list[BaseException]:
    raised: list[BaseException] = []

    def parties(self: PartnershipLedger, **kwargs: Any) -> list[dict[str, Any]]:
        raise raised[0]

    monkeypatch.setattr(PartnershipLedger, "parties", parties)
    return raised


def test_an_unexpected_error_is_one_sentence(demo_db: str, broken_parties: list[BaseException]) -> None:
    broken_parties.append(RuntimeError("the cat sat on the keyboard"))
    result = invoke(["parties"], db=demo_db)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: internal error: RuntimeError: the cat sat")
    assert "PARTNERSHIP_LEDGER_DEBUG" in result.stderr
    assert "Traceback" not in result.output


def test_debug_shows_the_traceback(
    demo_db: str, broken_parties: list[BaseException], monkeypatch: pytest.MonkeyPatch
) -> None:
    broken_parties.append(RuntimeError("boom"))
    monkeypatch.setenv("PARTNERSHIP_LEDGER_DEBUG", "1")
    result = invoke(["parties"], db=demo_db)
    assert result.exit_code == 1
    assert "Traceback" in result.stderr
    assert "error: internal error: RuntimeError: boom" in result.stderr


def test_ctrl_c_exits_130(demo_db: str, broken_parties: list[BaseException]) -> None:
    broken_parties.append(KeyboardInterrupt())
    result = invoke(["parties"], db=demo_db)
    assert result.exit_code == 130
    assert result.stderr.startswith("error: interrupted")


def test_os_errors_are_one_sentence(demo_db: str, broken_parties: list[BaseException]) -> None:
    broken_parties.append(PermissionError(13, "Permission denied", "/some/file"))
    result = invoke(["parties", "--json"], db=demo_db)
    assert result.exit_code == 1
    assert json.loads(result.stderr) == {"error": {"kind": "os_error", "message": "/some/file: Permission denied"}}


def test_database_errors_are_one_sentence(demo_db: str, broken_parties: list[BaseException]) -> None:
    import sqlite3

    broken_parties.append(sqlite3.OperationalError("disk I/O error"))
    result = invoke(["parties"], db=demo_db)
    assert result.exit_code == 1
    assert result.stderr == "error: the ledger's database failed: disk I/O error\n"


def test_a_lock_met_while_working_is_one_sentence(demo_db: str, broken_parties: list[BaseException]) -> None:
    import sqlite3

    broken_parties.append(sqlite3.OperationalError("database is locked"))
    result = invoke(["parties", "--json"], db=demo_db)
    assert result.exit_code == 1
    error = json.loads(result.stderr)["error"]
    assert error["kind"] == "locked"
    assert "locked by another process" in error["message"]


def test_the_command_table_names_exactly_what_the_modules_register() -> None:
    """main.COMMANDS (which lets each command's module load only when it runs) must name
    every command the modules define, in the module that defines it."""
    import importlib

    import click
    from partnership_ledger_cli.main import COMMAND_MODULES, COMMANDS

    for module in COMMAND_MODULES:
        group = click.Group()
        importlib.import_module(f"partnership_ledger_cli.{module}").register(group)
        assert sorted(group.commands) == sorted(n for n, m in COMMANDS.items() if m == module), module
    assert list(cli.all_commands()) == list(COMMANDS)
