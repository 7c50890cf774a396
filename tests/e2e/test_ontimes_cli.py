"""parties, partnerships and contributions take --on DATE and --as-of TIME, which compose."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest
from cli_invoke import invoke
from small_ledgers import build

from partnership_ledger import PartnershipLedger


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A small ledger (its path) and a time recorded halfway through it."""
    path = tmp_path_factory.mktemp("ontimes") / "l.sqlite"
    with PartnershipLedger.open(path) as ledger:
        between = build(ledger).isoformat()
    return str(path), between


def rows(args: Sequence[str], db: str) -> dict[str, dict[str, Any]]:
    result = invoke([*args, "--json"], db=db)
    assert result.exit_code == 0, result.output
    return {r.get("key") or r["contribution"]: r for r in json.loads(result.stdout)}


def test_parties_on_and_as_of(small: tuple[str, str]) -> None:
    db, between = small
    assert rows(["parties"], db)["a"]["name"] == "A2"
    assert rows(["parties", "--on", "2021-03-31"], db)["a"]["name"] == "A"
    assert rows(["parties", "--on", "2021-04-01"], db)["a"]["name"] == "A2"
    recorded = rows(["parties", "--as-of", between], db)
    assert sorted(recorded) == ["a", "b", "c"]
    assert recorded["a"]["name"] == "A"
    assert rows(["parties", "--on", "2022-01-01", "--as-of", between], db)["a"]["name"] == "A"
    table = invoke(["parties", "--on", "2021-03-31"], db=db)
    assert table.exit_code == 0
    assert "A2" not in table.output
    empty = invoke(["parties", "--as-of", "2000-01-01"], db=db)
    assert empty.exit_code == 0
    assert "no parties recorded by then" in empty.output


def test_partnerships_on_and_as_of(small: tuple[str, str]) -> None:
    db, between = small
    now = rows(["partnerships"], db)
    assert sorted(now) == ["p", "q"]
    assert now["p"]["phase"] == "concluded"
    mid = rows(["partnerships", "--on", "2021-05-15"], db)
    assert sorted(mid) == ["p"]
    assert (mid["p"]["phase"], sorted(mid["p"]["members"])) == ("active", ["a", "b", "c"])
    recorded = rows(["partnerships", "--as-of", between], db)
    assert sorted(recorded) == ["p"]
    assert (recorded["p"]["phase"], sorted(recorded["p"]["members"])) == ("active", ["a", "b"])
    both = rows(["partnerships", "--on", "2020-04-15", "--as-of", between], db)
    assert both["p"]["phase"] == "preparing"
    csv = invoke(["partnerships", "--on", "2020-04-15", "--csv"], db=db)
    assert csv.exit_code == 0
    assert "preparing" in csv.output
    assert "concluded" not in csv.output


def test_contributions_on_and_as_of(small: tuple[str, str]) -> None:
    db, between = small
    now = rows(["contributions"], db)
    assert (now["c1"]["delivered"], now["c2"]["delivered"]) == ("130", "50")
    recorded = rows(["contributions", "--as-of", between], db)
    assert sorted(recorded) == ["c1"]
    assert recorded["c1"]["delivered"] == "100"
    on = rows(["contributions", "--on", "2021-08-31"], db)
    assert (on["c1"]["delivered"], on["c2"]["delivered"]) == ("100", "50")
    both = rows(["contributions", "p", "--on", "2020-05-31", "--as-of", between], db)
    assert both["c1"]["delivered"] == "0"


def test_bad_times_are_one_sentence(small: tuple[str, str]) -> None:
    db, _ = small
    for command in ("parties", "partnerships", "contributions"):
        for option in ("--on", "--as-of"):
            result = invoke([command, option, "yesterday"], db=db)
            assert result.exit_code != 0
            assert "Traceback" not in result.output
            assert option in result.output


def test_the_library_and_the_cli_agree(small: tuple[str, str]) -> None:
    db, between = small
    with PartnershipLedger.open(db) as ledger:
        expected = json.loads(json.dumps(ledger.partnerships(on="2021-05-15", as_of=between), default=str))
    result = invoke(["partnerships", "--on", "2021-05-15", "--as-of", between, "--json"], db=db)
    assert json.loads(result.stdout) == expected


def test_no_partnerships_by_then(small: tuple[str, str]) -> None:
    db, _ = small
    for option, value in (("--on", "2020-03-31"), ("--as-of", "2000-01-01")):
        result = invoke(["partnerships", option, value], db=db)
        assert result.exit_code == 0
        assert "no partnerships by then" in result.output
