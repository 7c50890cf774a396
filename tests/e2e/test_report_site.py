"""The static site of every partnership's report, and the ``report`` command."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from partnership_ledger_cli.main import cli

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.demo import build_demo
from partnership_ledger.reports import write_site


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo(tmp_path_factory.mktemp("site-demo") / "demo")


@pytest.fixture(scope="module")
def site(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("site")
    with PartnershipLedger.open(demo, create=False) as ledger:
        index = write_site(ledger, folder, verify=True)
    assert index == folder / "index.html"
    return folder


def links(page: Path) -> list[str]:
    return re.findall(r'href="([^"#]+)"', page.read_text(encoding="utf-8"))


def test_the_site_has_every_report_in_both_languages(site: Path, demo: Path) -> None:
    with PartnershipLedger.open(demo, create=False) as ledger:
        keys = [p["key"] for p in ledger.partnerships()]
        size = ledger.event_count()
    for lang in ("ja", "en"):
        index = (site / lang / "index.html").read_text(encoding="utf-8")
        assert f'<html lang="{lang}">' in index
        for key in keys:
            assert (site / lang / f"{key}.html").is_file()
            assert f'href="{key}.html"' in index
    for key in keys:
        data = json.loads((site / "data" / f"{key}.json").read_text(encoding="utf-8"))
        assert data["partnership"]["key"] == key
    checkpoint = json.loads((site / "checkpoint.json").read_text())
    assert checkpoint["size"] == size


def test_every_link_of_the_site_leads_to_a_file_in_it(site: Path) -> None:
    pages = list(site.rglob("*.html"))
    assert len(pages) > 20
    for page in pages:
        for href in links(page):
            assert not re.match(r"[a-z]+:", href), f"{page}: {href} leaves the site"
            target = (page.parent / href).resolve()
            assert target.is_file(), f"{page.relative_to(site)} links to missing {href}"
            assert site.resolve() in target.parents


def test_the_index_shows_purpose_parties_and_headline_indicators(site: Path) -> None:
    ja = (site / "ja" / "index.html").read_text(encoding="utf-8")
    assert "子どもたちが地域で生の舞台に出会えるように" in ja  # a purpose
    assert "NPO法人 人形劇の森" in ja  # a party
    assert "7,179万円" in ja  # what was delivered, as a Japanese sentence writes it
    assert "目標2件の内訳：達成2件" in re.sub(r"<[^>]+>", "", ja)  # target status
    en = (site / "en" / "index.html").read_text(encoding="utf-8")
    assert "Tower Hamlets Partnership" in en
    assert "£" in en


def test_report_command_writes_each_format(demo: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "r.html"
    result = runner.invoke(cli, ["--db", str(demo), "report", "puppet-tour", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith("<!doctype html>")
    result = runner.invoke(cli, ["--db", str(demo), "report", "th-lsp", "--format", "md", "--lang", "ja"])
    assert result.exit_code == 0, result.output
    assert "## 共通の目的" in result.output
    result = runner.invoke(cli, ["--db", str(demo), "report", "th-lsp", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["integrity"]["verified"] is False
    result = runner.invoke(cli, ["--db", str(demo), "report", "th-lsp", "--format", "json", "--verify"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["integrity"]["verified"] is True


def test_report_all_writes_the_site(demo: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--db", str(demo), "report", "--all", "-o", str(tmp_path / "site")])
    assert result.exit_code == 0, result.output
    index = Path(result.output.strip())
    assert index == tmp_path / "site" / "index.html"
    assert index.is_file()


def test_report_command_refuses_bad_use(demo: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", str(demo), "report"]).exit_code == 2
    assert runner.invoke(cli, ["--db", str(demo), "report", "--all"]).exit_code == 2
    assert runner.invoke(cli, ["--db", str(demo), "report", "puppet-tour", "--all", "-o", "x"]).exit_code == 2
    result = runner.invoke(cli, ["--db", str(demo), "report", "nothing-here"])
    assert result.exit_code == 1
    assert "nothing-here" in result.output
