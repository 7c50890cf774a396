"""Erasure on PostgreSQL (issue 19): after ``erase_subject`` (which ends with the documented
``VACUUM (FULL)`` of the key tables) no page of the database's table data holds the resident's
id, their comment or their key; the chain and an older signed checkpoint verify."""

from __future__ import annotations

import psycopg
import pytest

from partnership_ledger import integrity
from partnership_ledger.application import PartnershipLedger
from partnership_ledger.demo import demo_journal_bytes

pytestmark = pytest.mark.postgres

RESIDENT = "r-pg4417"
COMMENT = "公園のベンチが壊れたまま 4417"


def table_pages(url: str) -> bytes:
    """Every page of every table, index and TOAST table of the database (pageinspect)."""
    out = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
        rels = conn.execute(
            "SELECT c.oid::regclass::text, pg_relation_size(c.oid) / current_setting('block_size')::int "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname IN ('public', 'pg_toast') AND c.relkind IN ('r', 't', 'i') "
            "AND c.relpersistence = 'p'"
        ).fetchall()
        for name, blocks in rels:
            for block in range(int(blocks)):
                (page,) = conn.execute("SELECT get_raw_page(%s, %s)", (name, block)).fetchone()
                out.append(bytes(page))
    return b"".join(out)


def forms(*texts: str) -> list[bytes]:
    return [f for t in texts for f in (t.encode(), t.encode("utf-16-le"), t.encode("utf-16-be"))]


def test_erasure_leaves_nothing_in_the_table_data(pg_url: str) -> None:
    private, public = integrity.generate_keypair()
    with PartnershipLedger.open(pg_url) as ledger:
        ledger.import_journal(demo_journal_bytes())
        ledger.open_evaluation("e-pg", "th-lsp", "2011")
        ledger.submit_evaluation("e-pg", RESIDENT, "resident", {"overall": 2}, "2011-09-01", comment=COMMENT)
        before = integrity.make_checkpoint(ledger.db, private)
        summary = ledger.evaluation_summary("th-lsp")
        with ledger.db.transaction(commit=False) as c:
            c.execute("SELECT subject_key, identity FROM ledger_subjects")
            sealed = [str(v) for row in c.fetchall() for v in row]
        pages = table_pages(pg_url)
        assert any(s.encode() in pages for s in sealed)  # the scan sees the key table
        ledger.erase_subject(RESIDENT, "asked", "2012-01-10")
        assert integrity.verify_chain(ledger.db).ok
        assert integrity.verify_checkpoint(ledger.db, before, public).ok
        assert ledger.evaluation_summary("th-lsp") == summary
        assert ledger.check_key_table() is None
        assert ledger.show("e-pg")["submissions"][0]["comment"] == "erased at the resident's request"
    pages = table_pages(pg_url)
    assert not [f for f in forms(RESIDENT, COMMENT) if f in pages]
    # The resident's key, and everything it sealed, is gone from the table data too.
    with PartnershipLedger.open(pg_url) as ledger, ledger.db.transaction(commit=False) as c:
        c.execute("SELECT subject_key, identity FROM ledger_subjects")
        left = {str(v) for row in c.fetchall() for v in row}
    assert not [s for s in sealed if s not in left and s.encode() in pages]
