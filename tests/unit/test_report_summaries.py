"""Golden texts of the report's summaries ("At a glance", the contributions' summary, the
decisions' summary, what the figures include) for every demo partnership in Japanese and
English, and the honest-counting rules behind them.

The golden file is ``tests/data/report-summaries.json``; after a deliberate change of
wording, rewrite it with ``UPDATE_GOLDEN=1 pytest tests/unit/test_report_summaries.py``
and read the diff.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.demo import build_demo
from partnership_ledger.reports import build_report
from partnership_ledger.reports.formatting import largest_remainder
from partnership_ledger.reports.present import present

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "report-summaries.json"
MADE_AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo_models(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, Any]]]:
    with PartnershipLedger.open(build_demo(tmp_path_factory.mktemp("golden") / "d"), create=False) as ledger:
        yield {p["key"]: build_report(ledger, p["key"], made_at=MADE_AT) for p in ledger.partnerships()}


def summaries(model: dict[str, Any], language: Any) -> dict[str, Any]:
    v = present(model, language, with_charts=False)
    return {
        "made": v["made"].plain(),
        "glance": [s.plain() for s in v["glance"]],
        "contributions": [s.plain() for s in v["contributions"]["summary"]],
        "decisions": v["decisions"]["summary"].plain(),
        "scope": v["scope"].plain() if v["scope"] else None,
        "targets": [t["sentence"].plain() for t in v["targets"]],
        "evaluations": [e["counts"].plain() for e in v["evaluations"]],
    }


def test_the_summaries_read_as_written(demo_models: dict[str, dict[str, Any]]) -> None:
    got = {f"{key}/{lang}": summaries(m, lang) for key, m in sorted(demo_models.items()) for lang in ("ja", "en")}
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(got, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert got.keys() == expected.keys()
    for name in got:
        assert got[name] == expected[name], name


def test_japanese_prose_has_no_space_after_a_full_stop_nor_western_commas(
    demo_models: dict[str, dict[str, Any]],
) -> None:
    for m in demo_models.values():
        s = summaries(m, "ja")
        for text in [s["made"], *s["glance"], *s["contributions"], s["decisions"], *s["evaluations"]]:
            assert "。 " not in text
            assert ", " not in text.replace("1, ", ""), text


def test_every_target_is_counted(demo_models: dict[str, dict[str, Any]]) -> None:
    for m in demo_models.values():
        targets = m["targets"]
        if not targets:
            continue
        glance = " ".join(s.plain() for s in present(m, "en", with_charts=False)["glance"])
        numbers = {
            "achieved": "achieved",
            "on_track": "on track",
            "off_track": "off track",
            "no_data": "not yet measured",
        }
        for status, words in numbers.items():
            n = sum(1 for t in targets if t["status"] == status)
            if n:
                assert f"{n} {words}" in glance


def test_the_money_mix_names_every_instrument_and_adds_up_to_100(demo_models: dict[str, dict[str, Any]]) -> None:
    for m in demo_models.values():
        rows = m["contributions"]["funding"]["by_instrument"]
        if not rows:
            continue
        shares = largest_remainder(r["share"] for r in rows)
        assert sum(s for s in shares if s is not None) == Decimal(1)
        table = present(m, "en", with_charts=False)["contributions"]["funding"]
        assert len(table.rows) == len(rows)
        total = sum(Decimal(r[2].rstrip("%")) for r in table.rows)
        assert total == 100


def test_largest_remainder_rounding() -> None:
    shares = [Decimal(1) / 3] * 3
    assert sum(largest_remainder(shares)) == 1  # type: ignore[arg-type]
    assert largest_remainder([Decimal("0.831"), Decimal("0.119"), Decimal("0.05")]) == [
        Decimal("0.831"),
        Decimal("0.119"),
        Decimal("0.050"),
    ]
    assert largest_remainder([None, Decimal(1)]) == [None, Decimal("1.000")]


def test_zero_cases_read_naturally(demo_models: dict[str, dict[str, Any]]) -> None:
    m = copy.deepcopy(next(iter(demo_models.values())))
    m["decisions"] |= {"total": 0, "adopted": 0, "items": [], "omitted": 0}
    m["targets"] = []
    for lang, words in (("en", "No decision has been recorded yet."), ("ja", "意思決定はまだ記録されていません。")):
        glance = [s.plain() for s in present(m, lang, with_charts=False)["glance"]]
        assert words in glance
        assert not any("0件" in s or " 0 " in s for s in glance)
