"""The static site of every partnership's report, and the ``report`` command."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cli_invoke import invoke

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.reports import write_site


@pytest.fixture(scope="module")
def site(demo_db: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("site")
    with PartnershipLedger.open(demo_db, create=False) as ledger:
        index = write_site(ledger, folder, verify=True)
    assert index == folder / "index.html"
    return folder


def links(page: Path) -> list[str]:
    return re.findall(r'href="([^"#]+)"', page.read_text(encoding="utf-8"))


def test_the_site_has_every_report_in_both_languages(site: Path, demo_db: str) -> None:
    with PartnershipLedger.open(demo_db, create=False) as ledger:
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


def test_report_command_writes_each_format(demo_db: str, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = invoke(["report", "puppet-tour", "-o", str(out)], db=demo_db)
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith("<!doctype html>")
    result = invoke(["report", "th-lsp", "--format", "md", "--lang", "ja"], db=demo_db)
    assert result.exit_code == 0, result.output
    assert "## 共通の目的" in result.output
    result = invoke(["report", "th-lsp", "--format", "json"], db=demo_db)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["integrity"]["verified"] is False
    result = invoke(["report", "th-lsp", "--format", "json", "--verify"], db=demo_db)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["integrity"]["verified"] is True


def test_report_all_writes_the_site(demo_db: str, tmp_path: Path) -> None:
    result = invoke(["report", "--all", "-o", str(tmp_path / "site")], db=demo_db)
    assert result.exit_code == 0, result.output
    index = Path(result.output.strip())
    assert index == tmp_path / "site" / "index.html"
    assert index.is_file()


def test_report_command_refuses_bad_use(demo_db: str, tmp_path: Path) -> None:
    assert invoke(["report"], db=demo_db).exit_code == 2
    assert invoke(["report", "--all"], db=demo_db).exit_code == 2
    assert invoke(["report", "puppet-tour", "--all", "-o", "x"], db=demo_db).exit_code == 2
    result = invoke(["report", "nothing-here"], db=demo_db)
    assert result.exit_code == 1
    assert "nothing-here" in result.output
