"""A ledger stored before corrections and effective dates still opens and answers the same.

``tests/data/ledger-before-corrections.sqlite`` is the demo as the code before this change
recorded it (pledges were events of version 1, without a day; the read models of layout
4), and ``ledger-before-corrections.json`` what that code answered. Opened now, the events
are upcast and the read models rebuilt: every answer is the same, but for what is new
(``on`` in the indicators, a party's amendments, history's op ids and links, and a pledge's
effective date: the first day of its fiscal year).
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from partnership_ledger import PartnershipLedger
from partnership_ledger.journal import to_json_value

DATA = Path(__file__).resolve().parents[1] / "data"
NEW_IN_INDICATORS = {"on"}
NEW_IN_PARTIES = {"amendments"}
NEW_IN_HISTORY = {"op_id", "corrects", "corrected_by", "amount", "currency"}


@pytest.fixture(scope="module")
def old(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("old")
    shutil.copy(DATA / "ledger-before-corrections.sqlite", folder / "l.sqlite")
    with PartnershipLedger.open(folder / "l.sqlite", create=False) as ledger:
        yield ledger


def expected() -> dict[str, Any]:
    found: dict[str, Any] = json.loads((DATA / "ledger-before-corrections.json").read_text(encoding="utf-8"))
    return found


def test_the_old_ledger_opens_with_current_read_models(old: PartnershipLedger) -> None:
    info = old.info()
    assert info["read_model_lag"] == 0
    assert info["read_model_error"] is None


def test_pledges_stored_without_a_day_are_upcast(old: PartnershipLedger) -> None:
    pledge = next(h for h in old.history() if h["op"] == "pledge")
    contribution = old.aggregate(pledge["key"])
    assert getattr(contribution, "pledged_on", "missing") is None


def test_every_indicator_and_view_answers_as_before(old: PartnershipLedger) -> None:
    want = expected()
    for name, answer in want.items():
        if name == "history":
            continue
        what, key, *rest = name.split(" ")
        if what == "balance":
            got = old.burden_balance(key, fiscal_year=None if rest[0] == "None" else int(rest[0]))
        elif what == "voice":
            got = old.voice(key, fiscal_year=None if rest[0] == "None" else int(rest[0]))
        elif what == "targets":
            got = old.target_progress(key)
        elif what == "evaluations":
            got = old.evaluation_summary(key)
        else:
            got = old.show(key)
            if got["kind"] == "party":
                got = {k: v for k, v in got.items() if k not in NEW_IN_PARTIES}
        got = {k: v for k, v in got.items() if k not in NEW_IN_INDICATORS}
        assert to_json_value(got) == answer, name


def test_the_history_is_the_same_with_each_pledge_on_the_first_day_of_its_fiscal_year(old: PartnershipLedger) -> None:
    before = expected()["history"]
    now = old.history()
    assert len(now) == len(before)
    for row, was in zip(now, before, strict=True):
        assert {k: v for k, v in row.items() if k not in NEW_IN_HISTORY | {"effective"}} == {
            k: v for k, v in was.items() if k != "effective"
        }
        if was["op"] == "pledge":
            assert was["effective"] is None
            day = date.fromisoformat(row["effective"])
            assert (day.month, day.day) == (4, 1)
        else:
            assert row["effective"] == was["effective"]
        assert row["op_id"]
