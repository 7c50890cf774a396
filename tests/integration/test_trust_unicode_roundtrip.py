"""Any text the journal accepts survives export and import in every journal format (issue 14:
a JSON Lines backup holding U+2028 could not be restored)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from cli_invoke import invoke
from hypothesis import HealthCheck, given, settings
from strategies import tricky_texts

from partnership_ledger.journal import dump_operation, iter_raw, read_raw


def stdout_of(*args: str) -> str:
    result = invoke(args)
    assert result.exit_code == 0, result.stderr
    return result.stdout


@given(name=tricky_texts, note=tricky_texts)
def test_a_line_of_json_lines_is_one_operation(name: str, note: str) -> None:
    op = {"op": "register_party", "key": "p", "name": name, "sector": "npo", "note": note}
    line = dump_operation(op)
    assert "\n" not in line
    assert line.splitlines() == [line], "a reader that splits on any line break must see one line"
    text = line + "\n" + line + "\r\n"
    assert list(iter_raw(text)) == [op, op] == read_raw(text)


# Two ledgers and a dozen commands an example: fewer examples than the profile's under CI.
EXAMPLES = 60 if os.environ.get("HYPOTHESIS_PROFILE") == "ci" else 25
SCRATCH = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
@settings(max_examples=EXAMPLES, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(name=tricky_texts, title=tricky_texts, note=tricky_texts)
def test_export_then_import_keeps_every_character(fmt: str, name: str, title: str, note: str) -> None:
    with tempfile.TemporaryDirectory(dir=SCRATCH) as tmp:
        _round_trip(Path(tmp), fmt, name, title, note)


def _round_trip(folder: Path, fmt: str, name: str, title: str, note: str) -> None:
    journal = [
        {"op": "register_party", "key": "p", "name": name, "sector": "npo", "note": note},
        {
            "op": "propose_partnership",
            "key": "q",
            "title": title,
            "purpose": note,
            "proposed_by": "p",
            "members": ["p"],
            "on": "2024-04-01",
        },
    ]
    source, copy = folder / "a.sqlite", folder / "b.sqlite"
    (folder / "in.json").write_text(json.dumps(journal, ensure_ascii=False), encoding="utf-8")
    stdout_of("--db", str(source), "import", str(folder / "in.json"))
    exported = folder / f"out.{fmt}"
    stdout_of("--db", str(source), "-q", "export", "--format", fmt, "-o", str(exported))
    stdout_of("--db", str(copy), "import", str(exported))
    for key in ("p", "q"):
        assert stdout_of("--db", str(copy), "show", key, "--json") == stdout_of(
            "--db", str(source), "show", key, "--json"
        )
    again = folder / f"again.{fmt}"
    stdout_of("--db", str(copy), "-q", "export", "--format", fmt, "-o", str(again))
    assert again.read_bytes() == exported.read_bytes()
    shown = json.loads(stdout_of("--db", str(copy), "show", "p", "--json"))
    assert shown["name"] == name
