"""The private fields, named in one place, and the salted commitments (issue 19)."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from partnership_ledger.domain.values import EvaluatorRole
from partnership_ledger.privacy import registry
from partnership_ledger.privacy.registry import PrivateField, commit, is_commitment, private_fields


def test_which_fields_of_a_submission_are_private() -> None:
    resident = {"evaluator": "r-1", "role": EvaluatorRole.RESIDENT, "comment": "c", "comment_public": False}
    assert [p.field for p in private_fields("submit_evaluation", resident)] == ["evaluator", "comment"]
    public = {**resident, "comment_public": True}
    assert [p.field for p in private_fields("submit_evaluation", public)] == ["evaluator"]
    party = {"evaluator": "npo", "role": EvaluatorRole.PARTY, "comment": "c"}
    assert [p.field for p in private_fields("submit_evaluation", party)] == ["comment"]
    assert private_fields("submit_evaluation", {**party, "comment": None}) == []
    assert private_fields("deliver", {"evidence": "receipt"}) == []


def test_a_deliverys_evidence_is_private_when_marked() -> None:
    marked = {"evidence": "timesheet of a volunteer", "evidence_private": True, "evidence_subject": "v-1"}
    [evidence] = private_fields("deliver", marked)
    assert (evidence.field, evidence.subject, evidence.per_subject) == ("evidence", "evidence_subject", False)
    assert private_fields("deliver", {**marked, "evidence_private": False}) == []
    assert private_fields("deliver", {**marked, "evidence_private": "yes"}) == []  # only true, as parsed
    assert private_fields("deliver", {**marked, "evidence": None}) == []
    assert private_fields("deliver", {**marked, "evidence": ""}) == []


def test_the_registry_is_extensible(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "PRIVATE_FIELDS", list(registry.PRIVATE_FIELDS))
    registry.register(PrivateField("record_measurement", "source", "target", lambda f: bool(f.get("secret")), "x"))
    assert [p.field for p in private_fields("record_measurement", {"source": "s", "secret": True})] == ["source"]
    assert private_fields("record_measurement", {"source": "s"}) == []


@given(st.text(max_size=40), st.binary(min_size=16, max_size=16), st.binary(min_size=16, max_size=16))
def test_a_commitment_hides_its_value_and_binds_it(value: str, salt: bytes, other: bytes) -> None:
    c = commit(value, salt)
    assert is_commitment(c)
    assert c == commit(value, salt)  # anyone with the salt can check it
    assert c != "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
    if other != salt:
        assert commit(value, other) != c  # salted: the same value commits differently
    assert commit(value + "x", salt) != c


def test_what_is_a_commitment() -> None:
    assert is_commitment("sha256:" + "0" * 64)
    for value in (None, 3, "r-7f3a", "sha256:" + "0" * 63, "sha256:" + "G" * 64, "SHA256:" + "0" * 64):
        assert not is_commitment(value)
