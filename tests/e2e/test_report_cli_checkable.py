"""The ``report`` command: PDF output and the file names it refuses, locales, a signed site
checkpoint that ``verify --public-key`` accepts, the how-to-check page, the rolled-up view,
and page names that never collide (a partnership keyed ``index``, keys differing in case)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from cli_invoke import invoke

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.reports import write_site
from partnership_ledger.reports.site import page_name


def run(*args: str) -> tuple[int, str]:
    result = invoke(args)
    return result.exit_code, result.output


def test_report_refuses_a_file_named_for_another_format(demo_db: str, tmp_path: Path) -> None:
    code, out = run("--db", demo_db, "report", "puppet-tour", "-o", str(tmp_path / "p.pdf"))
    assert code == 1
    assert "p.pdf is named like a pdf file but the report format is html" in out
    assert not (tmp_path / "p.pdf").exists()
    code, out = run("--db", demo_db, "report", "puppet-tour", "--format", "pdf", "-o", str(tmp_path / "p.html"))
    assert code == 1
    assert "named like a html file" in out
    code, out = run("--db", demo_db, "report", "puppet-tour", "--format", "pdf")
    assert code == 2
    assert "-o FILE.pdf" in out
    assert "Traceback" not in out


def test_report_writes_a_pdf(demo_db: str, tmp_path: Path) -> None:
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        if os.environ.get("CI"):
            pytest.fail("WeasyPrint is missing: .ci/run installs the pdf extra and Pango")
        pytest.skip("WeasyPrint is missing (pip install 'partnership-ledger[pdf]')")
    out = tmp_path / "p.pdf"
    code, text = run("--db", demo_db, "report", "puppet-tour", "--format", "pdf", "-o", str(out))
    assert code == 0, text
    assert out.read_bytes().startswith(b"%PDF-")


def test_locales(demo_db: str) -> None:
    code, gb = run("--db", demo_db, "report", "th-lsp", "--format", "md")
    assert code == 0, gb
    assert re.search(
        r"\b\d{1,2} (January|February|March|April|May|June|July|August|September|October|November|"
        r"December) \d{4}\b",
        gb,
    ), "British dates for a partnership in pounds"
    assert "2007/08" in gb
    assert "FY 2007" not in gb
    code, us = run("--db", demo_db, "report", "th-lsp", "--format", "md", "--locale", "en-US")
    assert code == 0, us
    assert re.search(
        r"\b(January|February|March|April|May|June|July|August|September|October|November|"
        r"December) \d{1,2}, \d{4}\b",
        us,
    )
    code, ja = run("--db", demo_db, "report", "puppet-tour", "--format", "md")
    assert code == 0
    assert "2008年4月15日" in ja
    assert "71,790,000円" in ja
    assert "7,179万円" in ja
    assert "2008年度（平成20年度）" in ja
    assert "。 " not in ja
    code, out = run("--db", demo_db, "report", "puppet-tour", "--lang", "ja", "--locale", "en-GB")
    assert code == 1
    assert "locale" in out


def test_a_signed_site_checks_with_its_public_key(demo_db: str, tmp_path: Path) -> None:
    code, out = run("keygen", "-o", str(tmp_path / "office"))
    if code != 0:  # keygen's options: see 'partnership-ledger keygen --help'
        pytest.fail(out)
    keys = sorted(p.name for p in tmp_path.iterdir())
    private = next(tmp_path / k for k in keys if not k.endswith(".pub"))
    public = next(tmp_path / k for k in keys if k.endswith(".pub"))
    site = tmp_path / "site"
    code, out = run("--db", demo_db, "report", "--all", "-o", str(site), "--key", str(private))
    assert code == 0, out
    checkpoint = json.loads((site / "checkpoint.json").read_text(encoding="utf-8"))
    assert checkpoint["signature"]
    assert checkpoint["public_key"]
    code, out = run(
        "--db", demo_db, "verify", "--checkpoint", str(site / "checkpoint.json"), "--public-key", str(public)
    )
    assert code == 0, out
    for lang, heading in (("ja", "この報告書の確かめ方"), ("en", "How to check this report")):
        check = (site / lang / "check.html").read_text(encoding="utf-8")
        assert heading in check
        assert "--public-key" in check
        assert "publish" in check
        report = (site / lang / "puppet-tour.html").read_text(encoding="utf-8")
        assert 'href="check.html"' in report
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "Ask the partnership for a copy of its ledger file" not in text
        assert "台帳ファイルの写しを" not in text


def test_the_site_offers_the_rolled_up_view(demo_db: str, tmp_path: Path) -> None:
    with PartnershipLedger.open(demo_db, create=False) as ledger:
        write_site(ledger, tmp_path)
    own = (tmp_path / "en" / "th-lsp.html").read_text(encoding="utf-8")
    rolled = (tmp_path / "en" / "th-lsp.all.html").read_text(encoding="utf-8")
    assert 'href="th-lsp.all.html"' in own
    assert "this partnership&#39;s own" in own or "this partnership's own" in own
    assert "include the" in rolled
    assert not (tmp_path / "en" / "puppet-tour.all.html").exists()  # no sub-partnerships


def test_a_partnership_keyed_index_keeps_the_site_index(tmp_path: Path) -> None:
    ops = [{"op": "register_party", "key": "p1", "name": "Party", "sector": "npo"}]
    for key in ("index", "Index", "check"):
        ops.append(
            {
                "op": "propose_partnership",
                "key": key,
                "title": f"Partnership {key}",
                "purpose": "test",
                "proposed_by": "p1",
                "members": ["p1"],
                "on": "2020-01-01",
            }
        )
    with PartnershipLedger.open(tmp_path / "l.sqlite") as ledger:
        ledger.import_journal(json.dumps(ops))
        write_site(ledger, tmp_path / "site")
    for lang in ("ja", "en"):
        index = (tmp_path / "site" / lang / "index.html").read_text(encoding="utf-8")
        assert "<h1>" in index
        assert "Partnership reports" in index or "報告書" in index
        for key in ("index", "Index", "check"):
            page = tmp_path / "site" / lang / f"{page_name(key)}.html"
            assert f"Partnership {key}" in page.read_text(encoding="utf-8")
    assert len({page_name(k).lower() for k in ("index", "Index", "check")}) == 3


def test_a_signing_key_that_cannot_be_read_is_one_sentence_and_writes_nothing(demo_db: str, tmp_path: Path) -> None:
    site = tmp_path / "site"
    code, out = run("--db", demo_db, "report", "--all", "-o", str(site), "--key", str(tmp_path / "no.key"))
    assert code == 1
    assert "cannot read the signing key" in out
    assert "Traceback" not in out
    assert not site.exists()
