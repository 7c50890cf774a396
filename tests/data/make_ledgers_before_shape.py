"""Make the ledgers of ``tests/data/before-shape/`` and what the CLI answered on them.

Run once, with the code of main before issue 20's restructuring (commit 34170b7), by
``python tests/data/make_ledgers_before_shape.py``. The ledgers and ``answers.json`` are
committed; ``tests/integration/test_ledgers_before_shape.py`` opens copies of them with
today's code and asks every question again: every answer must be the same. Running this
script again with later code would only record that code's answers: don't, unless the
answers are meant to change (and then say why in the commit).

Three ledgers, all written by ``main`` before the change:
- ``every-op.sqlite``: ``tests/data/every-op.json`` (every operation, an erasure too);
- ``demo.sqlite``: the demo (its partnerships in Fukushima, Kanagawa and Tower Hamlets);
- ``encrypted.sqlite``: ``every-op.json`` with encryption at rest (the key is below).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

from click.testing import CliRunner

HERE = Path(__file__).resolve().parent
OUT = HERE / "before-shape"
#: The key of ``encrypted.sqlite`` (a test key: it protects nothing).
CIPHER_KEY = "ISKidgQ8qXOtN+YjvAkHPHhWSDynChQi6CU0JMtcGxA="


def run(db: Path, args: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    """The CLI's exit code and standard output for ``args`` on the ledger ``db``."""
    from partnership_ledger_cli.main import cli

    result = CliRunner().invoke(cli, ["--db", str(db), *args], env=env, catch_exceptions=False)
    return result.exit_code, result.stdout


def questions(db: Path, env: dict[str, str] | None = None) -> list[list[str]]:
    """Every question worth asking of the ledger: each partnership's indicators, each key."""
    code, out = run(db, ["history", "--json"], env)
    assert code == 0, out
    rows = json.loads(out)
    keys = sorted({r["key"] for r in rows if r.get("key")})
    code, out = run(db, ["partnerships", "--json"], env)
    partnerships = sorted(p["key"] for p in json.loads(out))
    asked: list[list[str]] = [
        ["verify"],
        ["parties", "--json"],
        ["partnerships", "--json"],
        ["history", "--json"],
        ["export", "--format", "jsonl"],
        ["contributions", "--json"],
        ["contributions", "--json", "--on", "2009-03-31"],
    ]
    for p in partnerships:
        asked += [
            ["balance", p, "--json"],
            ["balance", p, "--json", "--basis", "pledged"],
            ["balance", p, "--json", "--on", "2009-03-31"],
            ["voice", p, "--json"],
            ["targets", p, "--json"],
            ["evaluations", p, "--json"],
            ["history", p, "--json"],
            ["report", p, "--format", "json", "--lang", "en"],
            ["report", p, "--format", "md", "--lang", "ja"],
        ]
    asked += [["show", k, "--json"] for k in keys]
    return asked


def answers(db: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for args in questions(db, env):
        code, out = run(db, args, env)
        found[" ".join(args)] = {"exit": code, "stdout": out}
    return found


def main() -> None:
    sys.path.insert(0, str(HERE.parents[1] / "cli"))
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir()
    every_op = HERE / "every-op.json"
    for name, env in (("every-op", None), ("encrypted", {"PARTNERSHIP_LEDGER_CIPHER_KEY": CIPHER_KEY})):
        db = OUT / f"{name}.sqlite"
        assert run(db, ["init"], env)[0] == 0
        code, out = run(db, ["import", str(every_op)], env)
        assert code == 0, out
    demo_dir = OUT / "demo-build"
    code, out = run(demo_dir / "unused.sqlite", ["demo", "-o", str(demo_dir)])
    assert code == 0, out
    shutil.move(str(demo_dir / "partnership-ledger.sqlite"), OUT / "demo.sqlite")
    shutil.rmtree(demo_dir)
    for leftover in OUT.glob("*-wal"):
        leftover.unlink()
    everything = {
        "every-op": answers(OUT / "every-op.sqlite"),
        "demo": answers(OUT / "demo.sqlite"),
        "encrypted": answers(OUT / "encrypted.sqlite", {"PARTNERSHIP_LEDGER_CIPHER_KEY": CIPHER_KEY}),
    }
    (OUT / "answers.json").write_text(json.dumps(everything, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
