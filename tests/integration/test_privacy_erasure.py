"""Residents' private data in an immutable ledger (issue 19): committed in the chain, sealed
under a key per resident, and destroyed by ``erase_subject`` while the chain, earlier signed
checkpoints and the scores stay as they were."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from partnership_ledger import integrity
from partnership_ledger.application import PartnershipLedger
from partnership_ledger.demo import demo_journal_bytes
from partnership_ledger.errors import ErasureError, JournalError
from partnership_ledger.privacy import ERASED_TEXT, commit, is_commitment

RESIDENT = "r-zq4417"
COMMENT = "バス停の横断歩道が危ない: the crossing at the bus stop 4417 is unsafe"
OTHER = "r-kx0090"
OTHER_COMMENT = "楽しかったです (kept: 0090)"


def forms(text: str) -> list[bytes]:
    """The ways ``text`` could be stored: UTF-8, UTF-16 (both byte orders)."""
    return [text.encode("utf-8"), text.encode("utf-16-le"), text.encode("utf-16-be")]


def found_in(data: bytes, *texts: str) -> list[str]:
    return [t for t in texts if any(f in data for f in forms(t))]


def submissions(ledger: PartnershipLedger) -> None:
    ledger.open_evaluation("e-extra", "th-lsp", "2011")
    ledger.open_evaluation("e-extra2", "th-lsp", "2010")
    for evaluator, comment, scores in (
        (RESIDENT, COMMENT, {"overall": 2}),
        (OTHER, OTHER_COMMENT, {"overall": 5}),
    ):
        ledger.submit_evaluation("e-extra", evaluator, "resident", scores, "2011-09-01", comment=comment)
    # The same resident in another round: both are erased together.
    ledger.submit_evaluation(
        "e-extra2", RESIDENT, "resident", {"overall": 3}, "2011-05-09", comment=COMMENT + " (2010)"
    )


def scan_files(path: Path) -> bytes:
    """The ledger file and every file SQLite keeps beside it (WAL, shared memory)."""
    out = b""
    for p in sorted(path.parent.iterdir()):
        if p.name.startswith(path.name):
            out += p.read_bytes()
    return out


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.sqlite"
    with PartnershipLedger.open(path) as ledger:
        ledger.import_journal(demo_journal_bytes())
        submissions(ledger)
    return path


def test_a_new_ledger_commits_private_fields_and_shows_them_with_the_key(demo: Path) -> None:
    with PartnershipLedger.open(demo) as ledger:
        assert ledger.chain_format == "2"
        view = ledger.show("e-extra")
        by_evaluator = {s["evaluator"]: s for s in view["submissions"]}
        assert by_evaluator[RESIDENT]["comment"] == COMMENT
        # The chain holds commitments only: the events, as stored, never name the resident.
        states = b"".join(bytes(e.state) for e in ledger.recorder.select_notifications(0, 10_000))
        e = ledger.aggregate("e-extra")
        assert all(is_commitment(k) for k in e.submissions)
        assert all(is_commitment(s.comment) for s in e.submissions.values())
        assert found_in(states, RESIDENT, COMMENT, OTHER, OTHER_COMMENT) == []
        exported = json.dumps(list(ledger.export_operations()), ensure_ascii=False).encode()
        assert found_in(exported, RESIDENT, COMMENT) == [RESIDENT, COMMENT]  # the key reads them back


def test_erase_subject_leaves_no_copy_and_keeps_the_chain_checkpoints_and_scores(demo: Path, tmp_path: Path) -> None:
    private, public = integrity.generate_keypair()
    with PartnershipLedger.open(demo) as ledger:
        before = integrity.make_checkpoint(ledger.db, private)
        scores = {p: ledger.evaluation_summary(p) for p in ("th-lsp", "puppet-tour")}
        counts = ledger.aggregate("e-extra").submissions
        score_list = sorted(s.scores["overall"] for s in counts.values())
        subject = ledger.vault().find(RESIDENT)
        with ledger.db.transaction(commit=False) as c:
            c.execute("SELECT subject_key, identity FROM ledger_subjects WHERE lookup=?", (subject.lookup,))
            sealed = [str(v) for v in c.fetchone()]
            c.execute("SELECT sealed FROM ledger_private WHERE handle=? AND sealed <> ''", (subject.handle,))
            sealed += [str(r[0]) for r in c.fetchall()]
        assert len(sealed) == 4
        result = ledger.erase_subject(RESIDENT, "the resident asked the city to erase it", "2012-01-10")
        assert result.events == 1  # one tombstone, naming each evaluation the resident submitted to
        assert integrity.verify_chain(ledger.db).ok
        assert integrity.verify_checkpoint(ledger.db, before, public).ok  # signed before the erasure
        assert {p: ledger.evaluation_summary(p) for p in scores} == scores  # scores still counted
        after = ledger.aggregate("e-extra").submissions
        assert sorted(s.scores["overall"] for s in after.values()) == score_list
        view = ledger.show("e-extra")
        comments = sorted(str(s["comment"]) for s in view["submissions"])
        assert comments == sorted([ERASED_TEXT, OTHER_COMMENT])
        assert [s["evaluator"] for s in view["submissions"]].count(None) == 1
        assert any(s["comment"] == ERASED_TEXT for s in ledger.show("e-extra2")["submissions"])
        history = [h for h in ledger.history("e-extra") if h["op"] == "erase_subject"]
        assert len(history) == 1
        assert RESIDENT not in json.dumps(history, default=str)
        exported = json.dumps(list(ledger.export_operations()), ensure_ascii=False).encode()
        (tmp_path / "export.json").write_bytes(exported)
        # While the ledger is still open: its WAL holds no earlier copy of the erased rows.
        assert [x for x in sealed if x.encode() in scan_files(demo)] == []
        # A second erasure of the same resident has nothing left to erase.
        with pytest.raises(ErasureError, match="no private data"):
            ledger.erase_subject(RESIDENT, "again", "2012-01-11")
    data = scan_files(demo)
    assert found_in(data, RESIDENT, COMMENT) == []
    # Nor the resident's key or anything it sealed: overwritten (secure_delete), no WAL copy.
    assert [s for s in sealed if s.encode() in data] == []
    assert found_in(exported, RESIDENT, COMMENT) == []
    # The other resident's data are still there, readable with their key (not erased).
    with PartnershipLedger.open(demo) as ledger:
        assert OTHER_COMMENT in [s["comment"] for s in ledger.show("e-extra")["submissions"]]
        assert integrity.verify_checkpoint(ledger.db, before, public).ok


def test_the_export_of_an_erased_ledger_imports_into_the_same_ledger(demo: Path, tmp_path: Path) -> None:
    with PartnershipLedger.open(demo) as ledger:
        ledger.erase_subject(RESIDENT, "asked", "2012-01-10")
        ops = list(ledger.export_operations())
        summary = ledger.evaluation_summary("th-lsp")
    with PartnershipLedger.open(tmp_path / "copy.sqlite") as copy:
        copy.import_journal(json.dumps(ops, ensure_ascii=False))
        again = list(copy.export_operations())
        assert again == ops
        assert copy.evaluation_summary("th-lsp") == summary


def test_an_erasure_in_the_same_journal_as_the_submission(tmp_path: Path) -> None:
    ops: list[dict[str, Any]] = json.loads(demo_journal_bytes())
    ops += [
        {"op": "open_evaluation", "key": "e-j", "partnership": "th-lsp", "period": "2011", "criteria": ["x"]},
        {"op": "submit_evaluation", "evaluation": "e-j", "evaluator": RESIDENT, "role": "resident",
         "scores": {"x": 4}, "comment": COMMENT, "on": "2011-05-01"},
        {"op": "erase_subject", "evaluator": RESIDENT, "reason": "asked", "on": "2011-06-01"},
        # Erased, the resident is someone new to the ledger: they may submit again.
        {"op": "submit_evaluation", "evaluation": "e-j", "evaluator": RESIDENT, "role": "resident",
         "scores": {"x": 2}, "on": "2011-06-02"},
    ]  # fmt: skip
    path = tmp_path / "l.sqlite"
    with PartnershipLedger.open(path) as ledger:
        ledger.import_journal(json.dumps(ops, ensure_ascii=False))
        subs = ledger.show("e-j")["submissions"]
        assert [s["evaluator"] for s in subs] == [None, RESIDENT]
        assert [s["comment"] for s in subs] == [ERASED_TEXT, None]
        assert integrity.verify_chain(ledger.db).ok
    assert found_in(scan_files(path), COMMENT) == []


def test_unknown_and_non_private_evaluators_are_refused_in_a_sentence(demo: Path) -> None:
    with PartnershipLedger.open(demo) as ledger:
        with pytest.raises(ErasureError, match="no private data of evaluator r-nobody"):
            ledger.erase_subject("r-nobody", "asked", "2012-01-10")
        with pytest.raises(JournalError, match="reason"):
            ledger.record({"op": "erase_subject", "evaluator": RESIDENT, "on": "2012-01-10"})
        n = ledger.event_count()
        with pytest.raises(JournalError, match="operation 0 \\(erase_subject\\): the ledger holds no private data"):
            ledger.import_journal(
                json.dumps([{"op": "erase_subject", "evaluator": "r-nobody", "reason": "x", "on": "2012-01-10"}])
            )
        assert ledger.event_count() == n


def test_a_ledger_written_before_commitments_still_opens_verifies_and_refuses_erasure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from partnership_ledger.privacy import vault

    path = tmp_path / "old.sqlite"
    # A ledger of chain format 1, as every ledger made before: no format row, so events hold
    # residents' ids and comments as given.
    real = vault.init_tables
    monkeypatch.setattr(vault, "init_tables", lambda db, new_ledger: real(db, new_ledger=False))
    demo = [op for op in json.loads(demo_journal_bytes()) if op["op"] != "erase_subject"]
    with PartnershipLedger.open(path) as ledger:
        ledger.import_journal(json.dumps(demo, ensure_ascii=False))
        submissions(ledger)
    monkeypatch.undo()
    with PartnershipLedger.open(path) as ledger:
        assert ledger.chain_format == "1"
        assert ledger.show("e-extra")["submissions"][0]["evaluator"] == RESIDENT
        assert integrity.verify_chain(ledger.db).ok
        with pytest.raises(ErasureError, match="chain format 1"):
            ledger.erase_subject(RESIDENT, "asked", "2012-01-10")
    # The byte scan the erasure tests rely on finds what such a ledger holds in clear.
    assert found_in(scan_files(path), RESIDENT, COMMENT) == [RESIDENT, COMMENT]


def test_a_commitment_is_salted(demo: Path) -> None:
    """The commitment to a comment is not the hash of its text: it cannot be confirmed by
    guessing the text, and two equal comments commit differently."""
    import hashlib

    with PartnershipLedger.open(demo) as ledger:
        ledger.submit_evaluation("e-extra", "r-same", "resident", {"overall": 3}, "2011-09-02", comment=COMMENT)
        committed = [s.comment for s in ledger.aggregate("e-extra").submissions.values()]
    guesses = {
        "sha256:" + hashlib.sha256(COMMENT.encode()).hexdigest(),
        commit(COMMENT, b""),
        commit(COMMENT, bytes(16)),
    }
    assert not guesses & set(committed)
    assert len([c for c in committed if is_commitment(c)]) == 3  # three private comments, all different
    assert len(set(committed)) == 3


def test_voided_submissions_keep_their_sealed_values_until_an_erasure(demo: Path) -> None:
    """A submission voided as recorded in error (corrections) leaves every view; its sealed
    values stay (the key table still agrees with the chain), a resubmission is accepted, and
    an erasure destroys them all."""
    with PartnershipLedger.open(demo) as ledger:
        ledger.open_evaluation("e-v", "th-lsp", "2011")
        for i, (evaluator, role) in enumerate(((RESIDENT + "v", "resident"), ("th-cvs", "external"))):
            ledger.record(
                {"op": "submit_evaluation", "evaluation": "e-v", "evaluator": evaluator, "role": role,
                 "scores": {"overall": 3}, "comment": f"{COMMENT} {i}", "on": "2011-09-01", "id": f"sub-{i}"}
            )  # fmt: skip
            ledger.record({"op": "void_operation", "operation": f"sub-{i}", "reason": "twice", "on": "2011-09-02"})
        assert ledger.show("e-v")["submissions"] == []
        assert ledger.check_key_table() is None
        ledger.submit_evaluation("e-v", RESIDENT + "v", "resident", {"overall": 4}, "2011-09-03", comment="again")
        assert ledger.check_key_table() is None
        ledger.erase_subject(RESIDENT + "v", "asked", "2012-01-01")
        ledger.erase_subject("th-cvs", "asked", "2012-01-01")
        assert ledger.check_key_table() is None
        assert integrity.verify_chain(ledger.db).ok
        assert [s["comment"] for s in ledger.show("e-v")["submissions"]] == [ERASED_TEXT]
    assert found_in(scan_files(demo), COMMENT + " 0", COMMENT + " 1") == []
