"""The CLI as users run it: real processes, real pipes, real exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from partnership_ledger import PartnershipLedger

SCRIPT = Path(sys.executable).parent / "partnership-ledger"


def env() -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("PARTNERSHIP_LEDGER_DB", "PARTNERSHIP_LEDGER_DEBUG")}
    clean["PYTHONIOENCODING"] = "utf-8"
    return clean


def run(*args: str, cwd: Path, stdin: bytes | None = None, script: bool = False) -> subprocess.CompletedProcess[str]:
    command = [str(SCRIPT)] if script else [sys.executable, "-m", "partnership_ledger_cli"]
    return subprocess.run(
        [*command, *args],
        cwd=cwd,
        env=env(),
        input=stdin.decode("utf-8") if stdin is not None else None,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo, built by the installed console script (or ``python -m`` without one)."""
    folder = tmp_path_factory.mktemp("e2e")
    built = run("demo", cwd=folder, script=SCRIPT.exists())
    assert built.returncode == 0, built.stderr
    assert f"--db {DEMO_DB} history puppet-tour" in built.stdout
    return folder


DEMO_DB = "partnership-ledger-demo/partnership-ledger.sqlite"


def test_demo_then_query_through_a_pipe(demo_folder: Path) -> None:
    history = run("--db", DEMO_DB, "history", "puppet-tour", cwd=demo_folder)
    assert history.returncode == 0, history.stderr
    lines = history.stdout.splitlines()
    assert lines[0].split()[:4] == ["#", "RECORDED", "(UTC)", "EFFECTIVE"]
    assert len(lines) > 10
    assert "\x1b[" not in history.stdout  # piped: plain text, no colour codes


def test_exit_codes_and_clean_errors(demo_folder: Path, tmp_path: Path) -> None:
    usage = run("--db", DEMO_DB, "history", "--since", "someday", cwd=demo_folder)
    assert usage.returncode == 2
    missing = run("parties", cwd=tmp_path)
    assert missing.returncode == 1
    assert missing.stderr == (
        "error: there is no ledger at partnership-ledger.sqlite: create one with "
        "'partnership-ledger init' or name another with --db\n"
    )
    assert not (tmp_path / "partnership-ledger.sqlite").exists()
    assert "Traceback" not in usage.stderr


def test_import_from_stdin_and_refuse_an_invalid_journal(tmp_path: Path) -> None:
    good = b'{"op": "register_party", "key": "npo-a", "name": "NPO A", "sector": "npo"}\n'
    recorded = run("import", "-", cwd=tmp_path, stdin=good)
    assert recorded.returncode == 0, recorded.stderr
    assert recorded.stdout == "stdin: recorded 1 operation\n"
    bad = tmp_path / "bad.json"
    bad.write_text('[{"op": "deliver", "contribution": "c", "on": "2020-01-01"}]', "utf-8")
    refused = run("import", str(bad), cwd=tmp_path)
    assert refused.returncode == 1
    assert refused.stderr.startswith(f"error: {bad}: operation 0 (deliver)")
    assert len(refused.stderr.splitlines()) == 1
    with PartnershipLedger.open(tmp_path / "partnership-ledger.sqlite", create=False) as ledger:
        assert [p["key"] for p in ledger.parties()] == ["npo-a"]


def test_a_closed_pipe_ends_quietly(demo_folder: Path) -> None:
    # More output than a pipe holds, read one line of it, then hang up.
    process = subprocess.Popen(
        [sys.executable, "-m", "partnership_ledger_cli", "--db", DEMO_DB, "export"],
        cwd=demo_folder,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    assert process.stdout.readline() == b"[\n"
    process.stdout.close()
    _, err = process.communicate(timeout=60)
    assert b"Traceback" not in err
    assert b"Exception ignored" not in err


def test_shell_completion_script(tmp_path: Path) -> None:
    environment = {**env(), "_PARTNERSHIP_LEDGER_COMPLETE": "bash_source"}
    result = subprocess.run(
        [sys.executable, "-m", "partnership_ledger_cli"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0
    assert "complete" in result.stdout
    assert "_PARTNERSHIP_LEDGER_COMPLETE" in result.stdout
