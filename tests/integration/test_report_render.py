"""Rendering the report: escaping, self-contained safe HTML, Markdown, formats and languages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.demo import build_demo
from partnership_ledger.reports import build_report, render_report
from partnership_ledger.reports.catalog import extract
from partnership_ledger.reports.formatting import Formatter

NASTY = (
    '<script>alert("x")</script>',
    "<img src=x onerror=alert(1)>",
    'javascript:alert(1) "><a href="javascript:alert(2)">x</a>',
    "[click me](javascript:alert(3)) ![img](https://example.com/t.png)",
    "**bold** _em_ `code` # not a heading | pipe ~~gone~~ <b>b</b> &amp; \\ $x^2$",
    "https://example.com/track www.example.com",
    "{{ 7*7 }} {% raw %}",
    "مؤسسة الأمل للتنمية",  # Arabic, right to left
    "\u202eevil override\u202c שלום",  # a right-to-left override inside Hebrew
    "1. looks like a list\n- and another\n\n# and a heading",
)
#: HTML elements the report itself uses; anything else would have come from the data.
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "a", "header", "nav", "ul", "ol", "li", "main",
    "h1", "h2", "h3", "h4", "p", "span", "bdi", "strong", "div", "table", "caption", "thead", "tbody",
    "tfoot", "tr", "th", "td", "figure", "figcaption", "dl", "dt", "dd", "blockquote", "pre", "br",
    "footer", "section", "code", "em", "details", "summary",
    # inline SVG charts
    "svg", "g", "path", "text", "defs", "use", "clippath", "rect", "line", "polyline",
}  # fmt: skip


class Page(HTMLParser):
    """Every element, attribute and text node of an HTML document."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.texts: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.texts.append(data)

    @property
    def text(self) -> str:
        return "".join(self.texts)


def nasty_journal() -> list[dict[str, Any]]:
    ops: list[dict[str, Any]] = []
    keys = [f"p{i}" for i in range(len(NASTY))]
    for key, name in zip(keys, NASTY, strict=True):
        ops.append({"op": "register_party", "key": key, "name": name, "sector": "npo"})
    ops.append(
        {
            "op": "propose_partnership",
            "key": "nasty",
            "title": NASTY[0] + " " + NASTY[3],
            "purpose": " / ".join(NASTY),
            "proposed_by": keys[0],
            "members": keys,
            "on": "2020-04-01",
        }
    )
    ops.append({"op": "activate_partnership", "partnership": "nasty", "on": "2020-04-02"})
    for i, key in enumerate(keys):
        ops.append(
            {
                "op": "pledge",
                "key": f"c{i}",
                "partnership": "nasty",
                "party": key,
                "kind": "money" if i % 2 else "staff_time",
                "value": {"amount": str(1000 * (i + 1)), "currency": "JPY"},
                "fiscal_year": 2020 + i % 2,
                **({} if i % 2 else {"quantity": "3", "unit": NASTY[i], "valuation_basis": NASTY[-1 - i]}),
            }
        )
        ops.append(
            {
                "op": "deliver",
                "contribution": f"c{i}",
                "value": {"amount": str(1000 * (i + 1)), "currency": "JPY"},
                "on": "2020-06-01" if i % 2 == 0 else "2021-06-01",
            }
        )
    ops.append(
        {
            "op": "record_decision",
            "partnership": "nasty",
            "key": "d1",
            "subject": NASTY[1],
            "proposed_by": keys[0],
            "rule": "majority",
            "votes": dict.fromkeys(keys[:5], "for"),
            "on": "2020-05-01",
        }
    )
    ops.append(
        {
            "op": "define_target",
            "key": "t1",
            "partnership": "nasty",
            "indicator": NASTY[4],
            "unit": NASTY[2],
            "direction": "increase",
            "baseline": {"period": "2019", "value": 1},
            "targets": [{"period": "2020", "value": 5}],
        }
    )
    ops.append(
        {
            "op": "record_measurement",
            "target": "t1",
            "period": "2020",
            "value": 3,
            "source": NASTY[5],
            "on": "2021-01-01",
        }
    )
    ops.append(
        {
            "op": "open_evaluation",
            "key": "e1",
            "partnership": "nasty",
            "period": "2020",
            "criteria": [NASTY[6], NASTY[7]],
        }
    )
    for n, text in enumerate(NASTY):
        ops.append(
            {
                "op": "submit_evaluation",
                "evaluation": "e1",
                "evaluator": f"r{n}",
                "role": "resident",
                "scores": {NASTY[6]: 3, NASTY[7]: 4},
                "comment": text,
                "comment_public": True,
                "on": "2021-02-01",
            }
        )
    return ops


@pytest.fixture(scope="module")
def nasty_model(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    import json

    with PartnershipLedger.open(tmp_path_factory.mktemp("nasty") / "l.sqlite") as ledger:
        ledger.import_journal(json.dumps(nasty_journal()))
        return build_report(ledger, "nasty")


def one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def assert_safe_page(page: Page) -> None:
    for tag, attrs in page.tags:
        assert tag in ALLOWED_TAGS, f"<{tag}> came from the data"
        for name, value in attrs:
            assert not name.startswith("on"), f"event handler {name} on <{tag}>"
            if name in ("href", "src", "xlink:href"):
                assert value is not None
                assert not re.match(r"\s*(javascript|data|https?|//)", value, re.I), f"{name}={value}"


@pytest.mark.parametrize("language", ["ja", "en"])
def test_ledger_text_renders_as_text_in_html(nasty_model: dict[str, Any], language: str) -> None:
    html = render_report(nasty_model, "html", language)
    page = Page(html)
    assert_safe_page(page)
    text = one_line(page.text)
    for value in NASTY:
        assert one_line(value) in text, f"{value!r} is not shown as text"
    # Right-to-left values are isolated: the override cannot reach past the party's name.
    assert "<bdi>" in html


@pytest.mark.parametrize("language", ["ja", "en"])
def test_ledger_text_renders_as_text_in_markdown(nasty_model: dict[str, Any], language: str) -> None:
    markdown = render_report(nasty_model, "md", language)
    html = MarkdownIt("commonmark").enable("table").enable("strikethrough").render(markdown)
    page = Page(html)
    tags = {tag for tag, _ in page.tags}
    # Only what the template writes: headings, paragraphs, lists, tables, quotes, strong, code.
    assert tags <= {"h1", "h2", "h3", "h4", "p", "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td",
                    "blockquote", "strong", "pre", "code"}, tags  # fmt: skip
    assert_safe_page(page)
    text = one_line(page.text)
    for value in NASTY:
        assert one_line(value) in text, f"{value!r} is not shown as text"


def test_html_is_self_contained_with_a_restrictive_policy(nasty_model: dict[str, Any]) -> None:
    html = render_report(nasty_model)
    page = Page(html)
    csp = [dict(a) for t, a in page.tags if t == "meta" and dict(a).get("http-equiv") == "Content-Security-Policy"]
    assert len(csp) == 1
    policy = csp[0]["content"] or ""
    assert "default-src 'none'" in policy
    assert "script-src" not in policy
    assert not [t for t, _ in page.tags if t in ("script", "link", "img", "iframe", "object", "embed", "base")]
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.I)
    assert '<html lang="ja">' in html  # the ledger is in yen


def test_charts_keep_their_text_as_text(nasty_model: dict[str, Any]) -> None:
    html = render_report(nasty_model, "html", "en")
    svgs = re.findall(r"<svg.*?</svg>", html, re.S)
    assert len(svgs) >= 3  # contributions, voice and burden, the target
    for svg in svgs:
        assert 'role="img"' in svg
        assert "<title" in svg
        assert "<text" in svg
        assert "<path" in svg
        ids = re.findall(r'\bid="([^"]+)"', svg)
        assert len(ids) == len(set(ids))
    all_ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(all_ids) == len(set(all_ids)), "ids are unique across the page"
    # Party names are in the legend as text (escaped), not drawn as paths.
    assert "&lt;script&gt;" in "".join(svgs)


def test_money_numbers_and_dates_follow_the_language() -> None:
    from datetime import date

    ja, en = Formatter("ja"), Formatter("en")
    assert ja.money(Decimal(10_000_000), "JPY") == "10,000,000円"  # as Japanese public documents write it
    assert ja.money_prose(Decimal(72_090_000), "JPY") == "7,209万円"  # in a sentence
    assert ja.money_prose(Decimal(72_095_000), "JPY") == "約7,210万円"
    assert ja.money_prose(Decimal(90_000), "JPY") == "90,000円"
    assert ja.money_prose(Decimal("9" * 30 + "5"), "JPY").endswith("万円")  # exact past 28 digits
    assert en.money(Decimal(10_000_000), "JPY") == "¥10,000,000"
    assert en.money(Decimal(920_000), "GBP") == "£920,000"
    assert en.money(Decimal("1234.5"), "GBP") == "£1,234.50"
    assert ja.month(date(2003, 3, 1)) == "2003年3月"
    assert en.month(date(2003, 3, 1)) == "March 2003"
    assert ja.fiscal_year(2008) == "2008年度（平成20年度）"
    assert ja.fiscal_year(2019) == "2019年度（令和元年度）"
    assert ja.fiscal_year(1988) == "1988年度（昭和63年度）"
    assert en.fiscal_year(2007) == "2007/08"
    assert en.fiscal_year(1999) == "1999/00"
    assert ja.date(date(2008, 4, 15)) == "2008年4月15日"
    assert Formatter("en", "GBP").date(date(2006, 9, 5)) == "5 September 2006"
    assert Formatter("en", "JPY").date(date(2006, 9, 5)) == "September 5, 2006"
    assert Formatter("en", "GBP", "en-US").date(date(2006, 9, 5)) == "September 5, 2006"
    assert Formatter("en", "JPY", "en-GB").date(date(2006, 9, 5)) == "5 September 2006"
    assert ja.join(["a", "b"]) == "a、b"
    assert en.percent(Decimal("0.7")) == "70%"
    assert ja.points(Decimal("0.052")) == "+5.2ポイント"


@pytest.fixture(scope="module")
def demo_models(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, Any]]]:
    with PartnershipLedger.open(build_demo(tmp_path_factory.mktemp("render-demo") / "d"), create=False) as ledger:
        yield {p["key"]: build_report(ledger, p["key"]) for p in ledger.partnerships()}


def english_messages() -> list[str]:
    """The report's English messages, without placeholders, long enough to be telling."""
    out = []
    for message in extract():
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        for text in ids:
            for part in re.split(r"%\(\w+\)s", text):
                part = part.strip(" .,:;()")
                if len(part) >= 12:
                    out.append(part)
    return out


def test_no_english_is_left_in_the_japanese_report(demo_models: dict[str, dict[str, Any]]) -> None:
    messages = english_messages()
    assert len(messages) > 50
    for key in ("puppet-tour", "th-lsp"):
        for text in (
            Page(render_report(demo_models[key], "html", "ja")).text,
            render_report(demo_models[key], "md", "ja").replace("\\", ""),
        ):
            left = [m for m in messages if m in text]
            assert left == [], f"English left in the Japanese report of {key}: {left[:5]}"


def test_every_format_and_language(demo_models: dict[str, dict[str, Any]]) -> None:
    model = demo_models["kanagawa-med-interp"]
    html_ja = render_report(model, "html")
    html_en = render_report(model, "html", "en")
    assert '<html lang="ja">' in html_ja
    assert '<html lang="en">' in html_en
    assert "共通の目的" in html_ja
    assert "The shared purpose" in html_en
    assert render_report(model, "md").startswith("# ")
    from partnership_ledger.errors import LedgerError

    with pytest.raises(LedgerError):
        render_report(model, "pdf")
    with pytest.raises(LedgerError):
        render_report(model, "html", "fr")


def test_rendering_is_repeatable(demo_models: dict[str, dict[str, Any]]) -> None:
    model = demo_models["puppet-tour"]
    first = re.sub(r"chart\d+-", "chart-", render_report(model, "html"))
    second = re.sub(r"chart\d+-", "chart-", render_report(model, "html"))
    assert first == second


def test_json_is_the_model(demo_models: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    import json

    model = demo_models["th-lsp"]
    data = json.loads(render_report(model, "json"))
    assert data["format"] == "partnership-ledger report v1"
    assert data["partnership"]["key"] == "th-lsp"
    assert data["balance"]["total"] == format(model["balance"]["total"], "f")
    assert isinstance(data["balance"]["total"], str)  # Decimal as a string, never a float
