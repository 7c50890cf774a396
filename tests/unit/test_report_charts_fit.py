"""Charts that fit: names cut by display width (a CJK character counts two columns), no
legend inside the contributions chart (the report writes it in HTML), text large enough
for a phone."""

from __future__ import annotations

import html
import re
from decimal import Decimal

from partnership_ledger.reports import charts


def unit_label(unit: str) -> str:
    """The label of a target chart's axis, drawn for ``unit`` (cut to 20 columns)."""
    svg = charts.target_chart(["2008", "2009"], [Decimal(0), None], [None, Decimal(5)], [None, Decimal(3)], unit, "t")
    [label] = [t for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg) if t[:2] == unit[:2]]
    return html.unescape(label)


def test_names_are_cut_by_display_width() -> None:
    assert charts.text_width("abc") == 3
    assert charts.text_width("福島県") == 6
    assert unit_label("福島県") == "福島県"
    cut = unit_label("保護者の会（人形劇を観る会）")  # 28 columns
    assert cut.endswith("…")
    assert charts.text_width(cut) <= 20
    assert cut.startswith("保護者の会")  # the start of the name is kept, not its end
    latin = unit_label("Tower Hamlets Community Empowerment Network")
    assert latin.endswith("…")
    assert charts.text_width(latin) <= 20
    assert latin.startswith("Tower Hamlets")


def test_chart_text_is_at_least_12_px_on_a_360_px_phone() -> None:
    # The page's content is 328 px wide at 360 px; the chart's viewBox is WIDTH * 72 units
    # (before "tight" cropping adds at most a few tenths of an inch).
    assert charts.FONT_SIZE * 328 / ((charts.WIDTH + 0.4) * 72) >= 12


def test_the_contributions_chart_has_no_legend_of_its_own() -> None:
    parties = ["Tower Hamlets Community Empowerment Network", "保護者の会（人形劇を観る会）"]
    svg = charts.contributions_chart(
        parties,
        [2007, 2008],
        [[Decimal(100), Decimal(200)], [Decimal(50), Decimal(0)]],
        lambda d: f"£{d:,}",
        "title",
    )
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert texts, "the axes are labelled"
    assert not any("Tower" in t or "保護者" in t for t in texts)
    width = float(re.search(r'viewBox="0 0 ([\d.]+) ', svg).group(1))  # type: ignore[union-attr]
    assert width <= (charts.WIDTH + 0.4) * 72
