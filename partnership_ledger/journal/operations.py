"""Journal operations: the table of every op and its fields, and the check of one raw operation.

:data:`OPS` names each op's fields, their parsers (:mod:`.fields`) and whether each is
required; :func:`check` turns one raw operation into its typed fields, or the problems found.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import attrs

from ..domain.values import (
    ContributionKind,
    DecisionRule,
    Direction,
    EvaluatorRole,
    Instrument,
    OpMeta,
    Sector,
)
from ..errors import JournalProblem
from .fields import (
    DuplicateKeys,
    FieldError,
    a_date,
    area_code,
    boolean,
    caps,
    changes,
    decimal,
    describe,
    enum_of,
    key,
    keys,
    label,
    month,
    non_negative,
    non_negative_money,
    nonzero_money,
    op_ref,
    org_ids,
    period_value,
    period_values,
    positive_int,
    positive_money,
    scale,
    scores,
    shares,
    text,
    texts,
    votes,
    weight,
    year,
)

Spec = dict[str, tuple[Callable[[Any], Any], bool]]
REQ, OPT = True, False

OPS: dict[str, Spec] = {
    "register_party": {
        "key": (key, REQ),
        "name": (text, REQ),
        "sector": (enum_of(Sector), REQ),
        "capacity": (non_negative_money, OPT),
        "identifiers": (org_ids, OPT),
        "area": (area_code, OPT),
    },
    "amend_party": {
        "party": (key, REQ),
        "name": (text, OPT),
        "sector": (enum_of(Sector), OPT),
        "capacity": (non_negative_money, OPT),
        "identifiers": (org_ids, OPT),
        "area": (area_code, OPT),
        "reason": (text, REQ),
        "on": (a_date, REQ),
    },
    "propose_partnership": {
        "key": (key, REQ),
        "title": (text, REQ),
        "purpose": (text, REQ),
        "proposed_by": (key, REQ),
        "members": (keys, REQ),
        "parent": (key, OPT),
        "on": (a_date, REQ),
    },
    "join_partnership": {
        "partnership": (key, REQ),
        "party": (key, REQ),
        "role": (text, OPT),
        "on": (a_date, REQ),
    },
    "leave_partnership": {
        "partnership": (key, REQ),
        "party": (key, REQ),
        "reason": (text, OPT),
        "on": (a_date, REQ),
    },
    "activate_partnership": {"partnership": (key, REQ), "on": (a_date, REQ)},
    "conclude_partnership": {"partnership": (key, REQ), "on": (a_date, REQ)},
    "record_decision": {
        "partnership": (key, REQ),
        "key": (key, REQ),
        "subject": (text, REQ),
        "proposed_by": (key, REQ),
        "rule": (enum_of(DecisionRule), REQ),
        "votes": (votes, REQ),
        "on": (a_date, REQ),
    },
    "draft_agreement": {
        "key": (key, REQ),
        "partnership": (key, REQ),
        "title": (text, REQ),
        "parties": (keys, REQ),
        "start": (a_date, REQ),
        "end": (a_date, REQ),
        "shares": (shares, OPT),
        "annual_caps": (caps, OPT),
        "max_years": (positive_int, OPT),
        "fiscal_year_start": (month, OPT),
    },
    "sign_agreement": {"agreement": (key, REQ), "party": (key, REQ), "on": (a_date, REQ)},
    "amend_agreement": {
        "agreement": (key, REQ),
        "amendment": (key, REQ),
        "changes": (changes, REQ),
        "proposed_by": (key, REQ),
        "on": (a_date, REQ),
    },
    "consent_amendment": {
        "agreement": (key, REQ),
        "amendment": (key, REQ),
        "party": (key, REQ),
        "on": (a_date, REQ),
    },
    "terminate_agreement": {"agreement": (key, REQ), "reason": (text, REQ), "on": (a_date, REQ)},
    "pledge": {
        "key": (key, REQ),
        "partnership": (key, REQ),
        "party": (key, REQ),
        "agreement": (key, OPT),
        "kind": (enum_of(ContributionKind), REQ),
        "value": (positive_money, REQ),
        "quantity": (non_negative, OPT),
        "unit": (text, OPT),
        "valuation_basis": (text, OPT),
        "instrument": (enum_of(Instrument), OPT),
        "fiscal_year": (year, REQ),
        "on": (a_date, OPT),
        "description": (text, OPT),
        "recipient": (key, OPT),
    },
    "deliver": {
        "contribution": (key, REQ),
        "value": (positive_money, REQ),
        "on": (a_date, REQ),
        "evidence": (text, OPT),
        "evidence_private": (boolean, OPT),
        "evidence_subject": (key, OPT),
    },
    "correct_contribution": {
        "contribution": (key, REQ),
        "delta": (nonzero_money, OPT),
        "delivery": (op_ref, OPT),
        "delivered_on": (a_date, OPT),
        "reason": (text, REQ),
        "on": (a_date, REQ),
    },
    "withdraw_pledge": {"contribution": (key, REQ), "reason": (text, REQ), "on": (a_date, REQ)},
    "define_target": {
        "key": (key, REQ),
        "partnership": (key, REQ),
        "indicator": (text, REQ),
        "unit": (text, REQ),
        "direction": (enum_of(Direction), REQ),
        "baseline": (period_value, REQ),
        "targets": (period_values, REQ),
    },
    "record_measurement": {
        "target": (key, REQ),
        "period": (label, REQ),
        "value": (decimal, REQ),
        "source": (text, REQ),
        "on": (a_date, REQ),
    },
    "revise_target": {
        "target": (key, REQ),
        "targets": (period_values, REQ),
        "reason": (text, REQ),
        "on": (a_date, REQ),
    },
    "open_evaluation": {
        "key": (key, REQ),
        "partnership": (key, REQ),
        "period": (label, REQ),
        "criteria": (texts, OPT),
        "scale_max": (scale, OPT),
        "resident_weight": (weight, OPT),
    },
    "submit_evaluation": {
        "evaluation": (key, REQ),
        "evaluator": (key, REQ),
        "role": (enum_of(EvaluatorRole), REQ),
        "party": (key, OPT),
        "scores": (scores, REQ),
        "comment": (text, OPT),
        "comment_public": (boolean, OPT),
        "on": (a_date, REQ),
    },
    "close_evaluation": {"evaluation": (key, REQ), "on": (a_date, REQ)},
    "erase_subject": {"evaluator": (key, REQ), "reason": (text, REQ), "on": (a_date, REQ)},
    "void_operation": {"operation": (op_ref, REQ), "reason": (text, REQ), "on": (a_date, REQ)},
}

COMMON = {"op", "by", "note", "id"}


def _shape(parser: Callable[[Any], Any]) -> str | None:
    if parser is key:
        return "key"
    if parser is keys:
        return "keys"
    if parser in (shares, caps, votes):
        return "names"
    if parser is changes:
        return "changes"
    return None


#: For each op, the fields that name things of the ledger, and how: ``key`` (the value is a
#: key), ``keys`` (a list of keys), ``names`` (an object named by keys), ``changes`` (terms
#: whose shares and caps are named by keys).
KEY_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    name: tuple((f, shape) for f, (parser, _) in spec.items() if (shape := _shape(parser)) is not None)
    for name, spec in OPS.items()
}


def keys_named(op: Operation) -> Iterator[str]:
    """The keys of the ledger an operation names (its parties, partnership, agreement...)."""
    fields = op.fields
    for field_name, shape in KEY_FIELDS[op.op]:
        value = fields.get(field_name)
        if value is None:
            continue
        if shape == "key":
            yield value
        elif shape == "changes":
            for change in value.values():
                if isinstance(change, dict):
                    yield from change
        else:
            yield from value


@attrs.frozen
class Operation:
    """One validated journal operation: its name, typed fields and metadata."""

    op: str
    fields: dict[str, Any]
    meta: OpMeta
    index: int = 0

    def __getitem__(self, name: str) -> Any:
        return self.fields[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self.fields.get(name, default)


def check(raw: Any, index: int) -> tuple[str, dict[str, Any], dict[str, str | None], list[JournalProblem]]:
    """Check one raw operation: its op, typed fields, metadata (by, note, id) and problems."""
    problems: list[JournalProblem] = []
    if isinstance(raw, DuplicateKeys):
        name = raw.get("op") if isinstance(raw.get("op"), str) else None
        problems = [
            JournalProblem(f"names field {d!r} twice", index, name, d, "duplicate_field") for d in raw.duplicates
        ]
        return "", {}, {}, problems
    if not isinstance(raw, dict):
        return "", {}, {}, [JournalProblem(f"must be an object, not {describe(raw)}", index, rule="shape")]
    name = raw.get("op")
    if name not in OPS:
        if "op" not in raw:
            msg = 'has no "op" naming the operation'
        else:
            msg = f"unknown op {describe(name)} (known: {', '.join(OPS)})"
        return "", {}, {}, [JournalProblem(msg, index, None, "op", "unknown_op")]
    assert isinstance(name, str)
    spec = OPS[name]
    fields: dict[str, Any] = {}
    for field_name in raw:
        if field_name not in spec and field_name not in COMMON:
            problems.append(
                JournalProblem(
                    f"unknown field (the fields of {name} are {', '.join(spec)})",
                    index,
                    name,
                    field_name,
                    "unknown_field",
                )
            )
    for field_name, (parser, required) in spec.items():
        value = raw.get(field_name)
        if value is None and (not required or field_name not in raw):
            if required:
                problems.append(JournalProblem("is missing", index, name, field_name, "missing_field"))
            continue
        try:
            fields[field_name] = parser(value)
        except FieldError as e:
            problems.append(JournalProblem(str(e), index, name, field_name, "invalid_field"))
    meta_values: dict[str, str | None] = {"by": None, "note": None, "id": None}
    for field_name in ("by", "note", "id"):
        value = raw.get(field_name)
        if value is None:
            continue
        try:
            meta_values[field_name] = key(value) if field_name == "id" else text(value)
        except FieldError as e:
            problems.append(JournalProblem(str(e), index, name, field_name, "invalid_field"))
    return name, fields, meta_values, problems
