"""Ledgers written by main before issue 20's restructuring open, verify and answer the same.

``tests/data/before-shape/`` holds three ledgers recorded by the code of commit 34170b7
(made by ``tests/data/make_ledgers_before_shape.py``: every operation with an erasure, the
demo, and the same operations encrypted at rest) and ``answers.json``: what its CLI
printed for every question (verify, each list, each indicator of each partnership, each
report in JSON (but for when it was made) and Markdown, ``show`` of every key, the exported journal). Opened with
today's code, every question gets the same exit code and the same bytes on stdout.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).resolve().parents[1] / "data"
sys.path.insert(0, str(DATA))

from make_ledgers_before_shape import CIPHER_KEY, OUT, run  # noqa: E402

ANSWERS: dict[str, dict[str, Any]] = json.loads((OUT / "answers.json").read_text(encoding="utf-8"))
ENVS: dict[str, dict[str, str] | None] = {
    "every-op": None,
    "demo": None,
    "encrypted": {"PARTNERSHIP_LEDGER_CIPHER_KEY": CIPHER_KEY},
}


#: The one answer that is of the moment it is asked: when a report was made (in JSON, and the
#: day in the Markdown report's opening sentence, "…時点の台帳").
MADE_AT = re.compile(r'"made_at": "[^"]*"')
MADE_ON = re.compile(r"[0-9]{4}年[0-9]{1,2}月[0-9]{1,2}日時点の台帳")


def steady(out: str) -> str:
    return MADE_ON.sub("…時点の台帳", MADE_AT.sub('"made_at": "…"', out))


@pytest.fixture(scope="module", params=sorted(ANSWERS))
def ledger(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    name: str = request.param
    copy = tmp_path_factory.mktemp(name) / f"{name}.sqlite"
    shutil.copy(OUT / f"{name}.sqlite", copy)
    return name, copy


def test_every_answer_is_the_same(ledger: tuple[str, Path]) -> None:
    name, db = ledger
    differ = []
    for question, want in ANSWERS[name].items():
        code, out = run(db, question.split(" "), ENVS[name])
        if question == "verify":
            # The chain's line is the same; the read models' line may say that they are of
            # the older layout (which no query uses) rather than comparing them.
            # (An encrypted ledger's read models live in memory, made anew at each opening.)
            chain, read_models = out.splitlines()
            was_chain, was_read_models = want["stdout"].splitlines()
            if (code, chain) != (want["exit"], was_chain) or (
                read_models != was_read_models and "older version" not in read_models
            ):
                differ.append(question)
        elif (code, steady(out)) != (want["exit"], steady(want["stdout"])):
            differ.append(question)
    assert not differ, f"{name}: {len(differ)} answers changed, e.g. {differ[:5]}"


def test_the_questions_cover_every_key_and_partnership(ledger: tuple[str, Path]) -> None:
    name, _ = ledger
    asked = ANSWERS[name]
    history = json.loads(asked["history --json"]["stdout"])
    keys = {row["key"] for row in history if row.get("key")}
    assert keys
    assert all(f"show {k} --json" in asked for k in keys)
    partnerships = [p["key"] for p in json.loads(asked["partnerships --json"]["stdout"])]
    assert partnerships
    assert all(f"balance {p} --json" in asked for p in partnerships)
    assert asked["verify"]["stdout"].startswith("ok: the chain of ")


def test_a_changed_event_is_caught(ledger: tuple[str, Path], tmp_path: Path) -> None:
    """The comparison can fail: a ledger whose stored events were altered answers otherwise."""
    import sqlite3

    name, db = ledger
    copy = tmp_path / db.name
    shutil.copy(db, copy)
    with sqlite3.connect(copy) as c:
        c.execute(
            "UPDATE stored_events SET state = state || X'20' WHERE rowid = (SELECT max(rowid) FROM stored_events)"
        )
    code, out = run(copy, ["verify"], ENVS[name])
    assert (code, out) != (ANSWERS[name]["verify"]["exit"], ANSWERS[name]["verify"]["stdout"])
