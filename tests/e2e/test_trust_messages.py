"""Messages that tell the truth (issue 14): usage errors in one sentence (JSON under --json),
numeric options and settings refused when not finite or out of range, journal values refused
as documented, and PARTNERSHIP_LEDGER_CHAIN=off refused on a chained ledger."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_invoke import invoke
from click.testing import Result

PARTY = {"op": "register_party", "key": "p", "name": "P", "sector": "npo"}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.sqlite"
    assert run(path, "record", json.dumps(PARTY)).exit_code == 0
    return path


def run(db: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return invoke(args, db=db, env=env)


def one_sentence(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("follow", "--interval", "nan"), "'nan' is not a finite number"),
        (("follow", "--interval", "inf"), "--interval"),
        (("follow", "--interval", "0"), "--interval"),
        (("balance", "p", "--deviation-threshold", "-1"), "'-1' is negative"),
        (("balance", "p", "--deviation-threshold", "nan"), "is not a finite number"),
        (("show",), "missing argument"),
        (("show", "p", "--db", "x"), "global options such as --db go before the command"),
        (("nosuch",), "no such command 'nosuch'"),
    ],
)
def test_a_usage_error_is_one_sentence_and_exit_2(db: Path, args: tuple[str, ...], says: str) -> None:
    result = run(db, *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert says in one_sentence(result.stderr)


def test_a_usage_error_under_json_is_json(db: Path) -> None:
    result = run(db, "balance", "p", "--json", "--deviation-threshold", "-1")
    assert result.exit_code == 2
    error = json.loads(result.stderr)["error"]
    assert error["kind"] == "usage"
    assert "'-1' is negative" in error["message"]


@pytest.mark.parametrize("value", ["-1", "nan", "inf", "soon", "1e9"])
def test_a_bad_lock_timeout_names_the_variable(db: Path, value: str) -> None:
    for args in (("parties",), ("balance", "p")):
        result = run(db, *args, env={"PARTNERSHIP_LEDGER_LOCK_TIMEOUT": value})
        assert result.exit_code == 1
        line = one_sentence(result.stderr)
        assert "PARTNERSHIP_LEDGER_LOCK_TIMEOUT must be a number of seconds" in line
        assert repr(value) in line


def test_chain_off_is_refused_on_a_chained_ledger(db: Path, tmp_path: Path) -> None:
    other = {**PARTY, "key": "q"}
    result = run(db, "record", json.dumps(other), env={"PARTNERSHIP_LEDGER_CHAIN": "off"})
    assert result.exit_code == 1
    assert "PARTNERSHIP_LEDGER_CHAIN=off" in one_sentence(result.stderr)
    assert run(db, "verify").exit_code == 0


@pytest.mark.parametrize(
    ("op", "says"),
    [
        ({**PARTY, "key": "c1", "name": "a\u0085b"}, "contains control characters"),
        ({**PARTY, "key": "c1", "name": "a\u009fb"}, "contains control characters"),
        (
            {
                "op": "register_party",
                "key": "c2",
                "name": "N",
                "sector": "npo",
                "capacity": {"amount": " 1000", "currency": "JPY"},
            },
            "must be a decimal number",
        ),
        (
            {
                "op": "register_party",
                "key": "c2",
                "name": "N",
                "sector": "npo",
                "capacity": {"amount": "1000\n", "currency": "JPY"},
            },
            "must be a decimal number",
        ),
    ],
)
def test_journal_values_are_refused_as_documented(db: Path, tmp_path: Path, op: dict[str, object], says: str) -> None:
    journal = tmp_path / "j.json"
    journal.write_text(json.dumps([op]))
    result = run(db, "import", str(journal))
    assert result.exit_code == 1
    assert says in one_sentence(result.stderr)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('[{"op": "register_party", "key": "a", "name": "x', "Unterminated string starting there"),
        ('[{"op": "register_party", "capacity": ' + "9" * 5000 + "}]", "far more digits than a journal allows"),
        ('{"op": "register_party", "key": "a", "name": "x\n', "Unterminated string starting there"),
    ],
)
def test_broken_json_is_a_whole_sentence(db: Path, tmp_path: Path, text: str, says: str) -> None:
    journal = tmp_path / "j.json"
    journal.write_text(text)
    result = run(db, "import", str(journal))
    assert result.exit_code == 1
    line = one_sentence(result.stderr)
    assert says in line
    assert "set_int_max_str_digits" not in line
    assert not line.endswith(" at")
