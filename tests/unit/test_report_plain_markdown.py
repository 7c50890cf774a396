"""Markdown that is plain: rendered by markdown-it, every table cell and sentence reads
exactly as the report's view has it (amounts paste as numbers), with no directional
isolates unless a value holds right-to-left text and no escapes that are not needed; the
HTML <title> is clean; page file names are safe."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from markdown_it import MarkdownIt

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.demo import build_demo
from partnership_ledger.reports import build_report, render_report
from partnership_ledger.reports.present import Sentence, present
from partnership_ledger.reports.render import FSI, PDI, md_cell, md_escape, md_say
from partnership_ledger.reports.site import page_name


@pytest.fixture(scope="module")
def demo_models(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, Any]]]:
    with PartnershipLedger.open(build_demo(tmp_path_factory.mktemp("md") / "d"), create=False) as ledger:
        yield {k: build_report(ledger, k) for k in ("puppet-tour", "th-lsp", "kanagawa-med-interp")}


class Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []
        self._in = False
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("td", "th"):
            self._in, self._text = True, []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._in:
            self.cells.append("".join(self._text).strip())
            self._in = False

    def handle_data(self, data: str) -> None:
        if self._in:
            self._text.append(data)


def rendered_cells(markdown: str) -> list[str]:
    html = MarkdownIt("commonmark").enable("table").render(markdown)
    parser = Cells()
    parser.feed(html)
    return parser.cells


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_markdown_tables_read_as_the_view(demo_models: dict[str, dict[str, Any]], lang: Any) -> None:
    for model in demo_models.values():
        markdown = render_report(model, "md", lang)
        assert FSI not in markdown
        assert PDI not in markdown
        cells = set(rendered_cells(markdown))
        v = present(model, lang, with_charts=False)
        c = v["contributions"]
        for table in [v["parties"], c["by_year"], c["by_kind"], v["balance"]["table"]]:
            for row in table.rows:
                for cell in row:
                    assert cell in cells, cell
        # amounts are plain text: no backslash, no isolate, as they read
        for amount in re.findall(r"[\d,]+円|¥[\d,]+|£[\d,]+", markdown):
            assert "\\" not in amount


def test_markdown_escapes_only_what_is_syntax() -> None:
    assert md_escape("Phase: active") == "Phase: active"
    assert md_escape("A & B") == "A & B"
    assert md_escape("72,090,000円") == "72,090,000円"
    assert md_escape("snake_case") == "snake_case"
    assert md_escape("*bold*") == "\\*bold\\*"
    assert md_escape("<script>") == "\\<script\\>"
    assert md_escape("&amp;") == "\\&amp;"
    assert md_escape("# title") == "\\# title"
    assert md_escape("1. item") == "1\\. item"
    assert md_escape("1. item", line_start=False) == "1. item"
    assert md_escape("see www.example.org") == "see www\\.example.org"
    assert md_cell("a | b") == "a \\| b"
    assert md_cell("مرحبا") == FSI + "مرحبا" + PDI  # right-to-left text is isolated
    md = MarkdownIt("commonmark").enable("table")
    for text in ["*x* _y_ `z` [a](b) <i>", "# h", "1) x", "a|b", "&copy; www.x.org http://x.org a@b.cd"]:
        out = md.render(md_say(Sentence("%(v)s", {"v": text})))
        assert (
            re.sub(r"<[^>]+>", "", out)
            .strip()
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", '"')
            == text
        )


def test_the_title_carries_no_invisible_marks(demo_models: dict[str, dict[str, Any]]) -> None:
    for model in demo_models.values():
        for lang in ("ja", "en"):
            page = render_report(model, "html", lang)
            title = re.search(r"<title>(.*?)</title>", page, re.S)
            assert title is not None
            assert FSI not in title.group(1)
            assert PDI not in title.group(1)
            assert model["partnership"]["title"].replace("&", "&amp;") in title.group(1)


def test_page_names_are_safe_and_distinct() -> None:
    assert page_name("puppet-tour") == "puppet-tour"
    names = {page_name(k) for k in ("index", "Index", "INDEX", "check", "a:b", "a~b", "Puppet-Tour", "puppet-tour")}
    assert len(names) == 8
    assert "index" not in names
    assert "check" not in names
    lowered = [n.lower() for n in names]
    assert len(set(lowered)) == len(lowered), "distinct even on a file system that ignores case"
    for n in names:
        assert re.fullmatch(r"[a-z0-9][a-z0-9-]*", n), n
    assert page_name("人形劇") != page_name("人形")
