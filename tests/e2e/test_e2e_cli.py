"""The CLI as users run it: real processes, real pipes, real exit codes."""

from __future__ import annotations

import json
import os
import shlex
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
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """README's quick start: `partnership-ledger demo` in a fresh folder, by the installed
    console script (or ``python -m`` without one): the folder and what the run printed."""
    folder = tmp_path_factory.mktemp("e2e")
    built = run("demo", cwd=folder, script=SCRIPT.exists())
    assert built.returncode == 0, built.stderr
    assert f"--db {DEMO_DB} history puppet-tour" in built.stderr
    return folder, built


@pytest.fixture(scope="module")
def demo_folder(demo_run: tuple[Path, subprocess.CompletedProcess[str]]) -> Path:
    return demo_run[0]


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
    assert recorded.stderr == "stdin: recorded 1 operation\n"
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


def suggestions(demo_output: str) -> list[str]:
    """The commands ``demo`` prints under "Try:"."""
    lines = demo_output.splitlines()
    start = lines.index("Try:") + 1
    out = []
    for line in lines[start:]:
        if not line.startswith("  "):
            break
        out.append(line.strip())
    return out


def test_readme_quick_start_demo_then_every_suggestion(
    demo_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    """README's quick start: `partnership-ledger demo` in a fresh folder, then what it says to try."""
    tmp_path, built = demo_run
    assert built.stdout == ""  # what it built and what to try are for people: stderr
    tried = suggestions(built.stderr)
    assert len(tried) >= 8
    for line in tried:
        words = shlex.split(line)
        assert words[0] == "partnership-ledger"
        result = run(*words[1:], cwd=tmp_path)
        assert result.returncode == 0, (line, result.stderr)
        assert result.stdout.strip(), line
        assert "Traceback" not in result.stderr
    # ... and the last hint: name the ledger once in the environment.
    hint = next(line for line in built.stderr.splitlines() if "export PARTNERSHIP_LEDGER_DB=" in line)
    db = shlex.split(hint.split("export ", 1)[1])[0].split("=", 1)[1]
    environment = {**env(), "PARTNERSHIP_LEDGER_DB": db}
    parties = subprocess.run(
        [sys.executable, "-m", "partnership_ledger_cli", "parties", "--json"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )
    assert parties.returncode == 0, parties.stderr
    assert len(json.loads(parties.stdout)) > 10


def test_piped_output_formats(demo_folder: Path) -> None:
    as_json = run("--db", DEMO_DB, "balance", "puppet-tour", "--json", cwd=demo_folder)
    assert as_json.returncode == 0
    assert isinstance(json.loads(as_json.stdout)["total"], str)
    as_csv = run("--db", DEMO_DB, "voice", "puppet-tour", "--csv", cwd=demo_folder)
    assert as_csv.stdout.splitlines()[0] == "party,voice,proposed,votes,voice_share,share"
    error = run("--db", DEMO_DB, "show", "nothing-here", "--json", cwd=demo_folder)
    assert (error.returncode, error.stdout) == (1, "")
    assert json.loads(error.stderr)["error"]["kind"] == "unknown_key"


def test_a_progress_bar_only_on_a_terminal(demo_folder: Path) -> None:
    """stderr on a real pseudo-terminal gets the bar; stdout, piped, stays plain data."""
    import pty

    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "partnership_ledger_cli", "--db", DEMO_DB, "verify"],
            cwd=demo_folder,
            env={**env(), "TERM": "xterm", "COLUMNS": "100"},
            stdout=subprocess.PIPE,
            stderr=follower,
        )
        os.close(follower)  # the child holds the terminal now; reading ends when it exits
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal's other end is closed, all is read
                break
            if not chunk:
                break
            seen += chunk
        out, _ = process.communicate(timeout=60)
    finally:
        os.close(leader)
    assert process.returncode == 0
    assert b"verifying the hash chain" in seen
    assert out.decode("utf-8").startswith("ok: the chain of ")
    assert b"verifying" not in out
    piped = run("--db", DEMO_DB, "verify", cwd=demo_folder)
    assert "verifying" not in piped.stderr
