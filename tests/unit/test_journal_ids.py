"""Operation ids never change: re-importing a journal recorded before must record nothing.

An operation without an ``id`` gets ``<fingerprint>-<n>``: the fingerprint is the SHA-256
(first 32 hex digits) of the operation's canonical JSON (sorted keys, non-ASCII characters
as they are, compact separators, without ``id``), and ``n`` numbers identical operations in
one file. The ids below were recorded by the code of commit e20c628; they are the contract.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import invalid_operations, json_values, operation_like, valid_journals

from partnership_ledger.journal import Validator, op_fingerprint

RAWS: list[dict[str, Any]] = [
    {"op": "deliver", "contribution": "c-1", "value": {"currency": "JPY", "amount": "5"}, "on": "2010-06-01"},
    {"op": "register_party", "key": "p-1", "name": "NPO法人 みなと", "sector": "npo"},
    {"op": "register_party", "key": "p-2", "name": 'Café "Ü" \\ tab\tline\nsep\u2028end 😀', "sector": "business"},
    {"op": "register_party", "key": "p-3", "name": "P", "sector": "npo", "by": "担当者", "note": None},
    {
        "op": "draft_agreement",
        "key": "a-1",
        "partnership": "ps-1",
        "title": "協定",
        "parties": ["p-2", "p-1"],
        "start": "2024-04-01",
        "end": "2027-03-31",
        "shares": {"p-2": "0.5", "p-1": "0.5"},
        "annual_caps": {"p-1": {"amount": "1000000", "currency": "JPY"}},
        "max_years": 3,
    },
    {
        "op": "record_decision",
        "partnership": "ps-1",
        "key": "d-1",
        "subject": "予算",
        "proposed_by": "p-1",
        "rule": "majority",
        "votes": {"p-1": "for", "p-2": "against"},
        "on": "2024-05-01",
    },
    {
        "op": "pledge",
        "key": "c-2",
        "partnership": "ps-1",
        "party": "p-1",
        "kind": "money",
        "value": {"amount": "123456789012345678901234.5", "currency": "EUR"},
        "quantity": 12,
        "fiscal_year": 2024,
    },
]
FINGERPRINTS = [
    "3cbad9a6e930a60c25739b86c3993356",
    "df0614faa5ac7196871a345aad5cfd52",
    "d4efa620d78ce05e62b94e7ba13130d2",
    "730cfe8fa957ea6b8c38f1933de9fbfd",
    "e1bd85f2cab307e04e4f43706ad545ec",
    "d84a9ab8a5f59307e8cef6227085467a",
    "850de0340e43531ccf4f657cb925e104",
]


def test_the_fingerprints_of_operations_are_what_they_always_were() -> None:
    assert [op_fingerprint(raw) for raw in RAWS] == FINGERPRINTS
    assert [op_fingerprint(dict(reversed(raw.items()))) for raw in RAWS] == FINGERPRINTS  # order of names
    assert [op_fingerprint({**raw, "id": "x"}) for raw in RAWS] == FINGERPRINTS  # an id is not hashed


def test_a_journal_gets_the_ids_it_always_got() -> None:
    validator = Validator()
    ops = [validator.add(raw) for raw in [*RAWS, RAWS[0], {**RAWS[1], "id": "x-1"}, RAWS[1]]]
    assert validator.error("j") is None
    assert [op.meta.op_id for op in ops if op is not None] == [
        *(f"{f}-0" for f in FINGERPRINTS),
        f"{FINGERPRINTS[0]}-1",  # the same operation again: numbered
        "x-1",  # given
        f"{FINGERPRINTS[1]}-1",
    ]


def test_a_given_id_that_a_made_one_already_took_or_takes_later_is_refused() -> None:
    made = FINGERPRINTS[0]
    validator = Validator()
    raws = [RAWS[0], {**RAWS[1], "id": f"{made}-0"}, {**RAWS[2], "id": f"{made}-1"}, RAWS[0]]
    ids = [op.meta.op_id for op in map(validator.add, raws) if op is not None]
    assert ids == [f"{made}-0", f"{made}-0", f"{made}-1", f"{made}-1"]
    error = validator.error("j")
    assert error is not None
    assert [(p.index, p.field, p.rule) for p in error.problems] == [
        (1, "id", "duplicate_id"),
        (3, "id", "duplicate_id"),
    ]


@given(
    st.one_of(
        operation_like(),
        invalid_operations(),
        valid_journals(max_ops=4).flatmap(lambda ops: st.sampled_from(ops)),
        st.dictionaries(st.text(max_size=4) | st.sampled_from(["amount", "currency", "id", "op"]), json_values(3)),
    )
)
@settings(max_examples=200, deadline=None)
def test_a_fingerprint_hashes_the_canonical_json(raw: Any) -> None:
    if not isinstance(raw, dict):
        return
    obj = {k: v for k, v in raw.items() if k != "id"}
    try:
        text = json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except (TypeError, ValueError):
        return  # not JSON the journal reads (a lone surrogate, say): never validated
    assert op_fingerprint(raw) == hashlib.sha256(text).hexdigest()[:32]


def test_a_fingerprint_is_json_s_whatever_the_values() -> None:
    """The canonical JSON is ``json``'s bytes both when orjson writes it and when a value
    orjson would write otherwise sends it to ``json`` (floats, huge integers, subclasses...)."""
    raws: list[dict[str, Any]] = [
        {"op": "x", "a": 1.5, "b": [1e16, -0.0, 1e-7]},
        {"op": "x", "nested": {"deep": [{"f": 2.0}]}},
        {"op": "x", "big": 2**64, "small": -(2**63), "edge": 2**63 - 1},
        {"op": "x", "t": (1, "two"), "b": True, "n": None},
        {"op": "x", "m": {2: "int keys", 1: "k"}},
        {"op": "x", "ctl": '\x00\x1f\x7f\u2028\\"', "é": "みなと 😀", "E": "z"},
        {"op": "x", "sub": type("S", (str,), {})("text"), "i": type("I", (int,), {})(3)},
    ]
    for raw in raws:
        text = json.dumps(raw, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        assert op_fingerprint(raw) == hashlib.sha256(text).hexdigest()[:32], raw


@given(st.sampled_from(["party", "partnership", "agreement", "contribution", "target", "evaluation"]), st.text())
@settings(max_examples=200, deadline=None)
def test_an_aggregate_id_is_uuid5_of_its_kind_and_key(kind: str, key: str) -> None:
    import uuid

    from partnership_ledger.domain import NAMESPACE, aggregate_id

    try:
        expected = uuid.uuid5(NAMESPACE, f"{kind}:{key}")
    except UnicodeEncodeError:
        return  # a lone surrogate is no key
    assert aggregate_id(kind, key) == expected
    assert aggregate_id(kind, key).version == 5
    assert aggregate_id("party", "p-1") == uuid.UUID("8e47acc1-88e6-5f96-9954-af80f90cc1bd")  # pinned
