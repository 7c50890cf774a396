"""A delivery's evidence marked private (issue 19): committed in the chain like a resident's
comment, sealed under its subject's key, read back by the ledger's keeper, withheld from public
outputs, and destroyed by ``erase_subject`` of its subject."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_privacy_erasure import found_in, scan_files  # the byte scans of the erasure tests

from partnership_ledger import integrity
from partnership_ledger.application import PartnershipLedger
from partnership_ledger.demo import demo_journal_bytes
from partnership_ledger.errors import JournalError
from partnership_ledger.privacy import ERASED_TEXT, is_commitment
from partnership_ledger.privacy.public import publish

EVIDENCE = "振込 2011-0715-06: 山田花子さんの口座 (account 0099-4471)"
STAFF_EVIDENCE = "勤務表: 佐藤一郎 (staff 8812), 42 hours"
STAFF = "s-8812"
RESIDENT = "r-8812"
RESIDENT_COMMENT = "the evening sessions were too late for me (8812)"


def journal() -> list[dict[str, Any]]:
    """The demo journal up to the prefecture's 2011 delivery, then that delivery with private
    evidence (its subject: the party), and a staff-time delivery whose evidence names a
    person (its subject: that person's opaque id)."""
    ops: list[dict[str, Any]] = json.loads(demo_journal_bytes())
    k = next(i for i, o in enumerate(ops) if o["op"] == "deliver" and o["contribution"] == "c-pref-2011")
    return [
        *ops[:k],
        {**ops[k], "evidence": EVIDENCE, "evidence_private": True},
        {"op": "deliver", "contribution": "c-npo-2011", "value": {"amount": "100000", "currency": "JPY"},
         "on": "2011-08-01", "evidence": STAFF_EVIDENCE, "evidence_private": True, "evidence_subject": STAFF},
    ]  # fmt: skip


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.sqlite"
    with PartnershipLedger.open(path) as ledger:
        ledger.import_journal(json.dumps(journal(), ensure_ascii=False))
    return path


def evidence_of(ledger: PartnershipLedger, contribution: str) -> list[Any]:
    return [d["evidence"] for d in ledger.show(contribution)["deliveries"]]


def test_private_evidence_is_committed_read_back_by_the_keeper_and_withheld_from_public_outputs(
    ledger_path: Path, tmp_path: Path
) -> None:
    with PartnershipLedger.open(ledger_path) as ledger:
        # The chain holds commitments; the events, as stored, hold neither text.
        chained = [d.evidence for d in ledger.aggregate("c-pref-2011").deliveries]
        assert len(chained) == 1
        assert is_commitment(chained[0])
        states = b"".join(bytes(n.state) for n in ledger.recorder.select_notifications(0, 100_000))
        assert found_in(states, EVIDENCE, STAFF_EVIDENCE) == []
        # The keeper's views read them back with the subject's key.
        assert evidence_of(ledger, "c-pref-2011") == [EVIDENCE]
        assert evidence_of(ledger, "c-npo-2011")[-1] == STAFF_EVIDENCE
        # The export gives them as recorded, so that it imports into the same ledger.
        delivered = [o for o in ledger.export_operations() if o["op"] == "deliver"]
        assert delivered[-1] | {"id": None} == journal()[-1] | {"id": None}
        assert delivered[-2]["evidence"] == EVIDENCE
        assert delivered[-2]["evidence_private"] is True
        assert delivered[-2]["evidence_subject"] == "pref-fukushima"  # the party, by default
        assert ledger.check_key_table() is None
        # Public outputs: the 360Giving export and the public ledger have none of it.
        giving = json.dumps(ledger.export_360giving(), ensure_ascii=False, default=str).encode()
        assert b"transfer 2010-0520-09" in giving  # public evidence is still there
        assert found_in(giving, EVIDENCE) == []
        publish(ledger, tmp_path / "public", site=False)
    published = b"".join(p.read_bytes() for p in (tmp_path / "public").rglob("*") if p.is_file())
    assert found_in(published, EVIDENCE, STAFF_EVIDENCE, STAFF) == []


def test_erasing_the_subject_destroys_the_evidence_and_keeps_chain_checkpoints_and_totals(
    ledger_path: Path, tmp_path: Path
) -> None:
    private, public = integrity.generate_keypair()
    with PartnershipLedger.open(ledger_path) as ledger:
        before = integrity.make_checkpoint(ledger.db, private)
        burden = ledger.burden_balance("puppet-tour")
        n = ledger.event_count()
        result = ledger.erase_subject(STAFF, "the staff member asked for it to be erased", "2012-01-10")
        assert result.events == 1  # one tombstone, on the contribution (no evaluation of theirs)
        assert ledger.event_count() == n + 1
        assert integrity.verify_chain(ledger.db).ok
        assert integrity.verify_checkpoint(ledger.db, before, public).ok
        assert ledger.check_key_table() is None
        assert ledger.burden_balance("puppet-tour") == burden  # the amounts stay counted
        assert evidence_of(ledger, "c-npo-2011")[-1] == ERASED_TEXT
        assert evidence_of(ledger, "c-pref-2011") == [EVIDENCE]  # another subject's: kept
        history = [h for h in ledger.history("c-npo-2011") if h["op"] == "erase_subject"]
        assert len(history) == 1
        assert STAFF not in json.dumps(history, default=str)
        ops = list(ledger.export_operations())
    exported = json.dumps(ops, ensure_ascii=False).encode()
    assert found_in(exported, STAFF_EVIDENCE, STAFF) == []
    assert found_in(exported, EVIDENCE) == [EVIDENCE]
    assert found_in(scan_files(ledger_path), STAFF_EVIDENCE, STAFF) == []
    # The export imports into a ledger that shows (and exports) the same.
    with PartnershipLedger.open(tmp_path / "copy.sqlite") as copy:
        copy.import_journal(exported)
        assert evidence_of(copy, "c-npo-2011")[-1] == ERASED_TEXT
        assert evidence_of(copy, "c-pref-2011") == [EVIDENCE]
        assert copy.check_key_table() is None
        again = list(copy.export_operations())
    assert [o for o in again if o["op"] != "deliver"] == [o for o in ops if o["op"] != "deliver"]

    # (An erased evidence is committed afresh in the copy: the same place, another salt.)
    def shown(o: dict[str, Any]) -> Any:
        return "erased" if is_commitment(o.get("evidence")) else o.get("evidence")

    assert [shown(o) for o in again] == [shown(o) for o in ops]
    assert [o.get("evidence_subject") for o in again] == [o.get("evidence_subject") for o in ops]


def test_one_erasure_destroys_a_persons_evidence_and_evaluations_together(ledger_path: Path) -> None:
    with PartnershipLedger.open(ledger_path) as ledger:
        ledger.open_evaluation("e-8812", "puppet-tour", "2011")
        ledger.submit_evaluation("e-8812", RESIDENT, "resident", {"overall": 4}, "2011-09-01", comment=RESIDENT_COMMENT)
        ledger.deliver("c-npo-2011", {"amount": "1000", "currency": "JPY"}, "2011-09-02", evidence=STAFF_EVIDENCE + "!")
        ledger.record(
            {"op": "deliver", "contribution": "c-npo-2011", "value": {"amount": "500", "currency": "JPY"},
             "on": "2011-09-03", "evidence": "receipt (8812)", "evidence_private": True,
             "evidence_subject": RESIDENT}
        )  # fmt: skip
        ledger.erase_subject(RESIDENT, "asked", "2012-01-10")
        assert [s["comment"] for s in ledger.show("e-8812")["submissions"]] == [ERASED_TEXT]
        assert evidence_of(ledger, "c-npo-2011")[-2:] == [STAFF_EVIDENCE + "!", ERASED_TEXT]
        assert evidence_of(ledger, "c-npo-2011")[-3] == STAFF_EVIDENCE  # another subject's
        assert ledger.check_key_table() is None
        assert integrity.verify_chain(ledger.db).ok
    assert found_in(scan_files(ledger_path), RESIDENT_COMMENT, "receipt (8812)") == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"evidence": "x", "evidence_subject": STAFF}, "names evidence_subject but its evidence is not private"),
        ({"evidence_private": True}, "is marked evidence_private but gives no evidence"),
        ({"evidence": "x", "evidence_private": "yes"}, "evidence_private"),
    ],
)
def test_inconsistent_private_evidence_is_refused_in_a_sentence(
    ledger_path: Path, fields: dict[str, Any], message: str
) -> None:
    op = {"op": "deliver", "contribution": "c-npo-2011", "value": {"amount": "10", "currency": "JPY"},
          "on": "2011-09-01", **fields}  # fmt: skip
    with PartnershipLedger.open(ledger_path) as ledger:
        n = ledger.event_count()
        with pytest.raises(JournalError, match=message):
            ledger.import_journal(json.dumps([op]))
        assert ledger.event_count() == n


def test_a_deleted_evidence_row_is_found_as_tampering(ledger_path: Path) -> None:
    with PartnershipLedger.open(ledger_path) as ledger:
        with ledger.db.transaction() as c:
            c.execute("DELETE FROM ledger_private WHERE field = 'evidence' AND aggregate = 'c-pref-2011'")
        problem = ledger.check_key_table()
    assert problem is not None
    assert "private evidence is missing from the key table" in problem
