"""Journal operations: the table of every op and its fields, and the check of one raw operation.

:data:`OPS` names each op's fields, their parsers (:mod:`.fields`) and whether each is
required; :func:`check` turns one raw operation into its typed fields, or the problems found.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import attrs

from ..domain.values import EvaluatorRole, OpMeta
from ..errors import JournalProblem
from .fields import (
    FIELDS,
    DuplicateKeys,
    FieldError,
    caps,
    changes,
    decimal,
    describe,
    enum_of,
    key,
    keys,
    shares,
    text,
    votes,
)

Spec = dict[str, tuple[Callable[[Any], Any], bool]]
REQ, OPT = True, False


def _op(fields: str, **parsers: Callable[[Any], Any]) -> Spec:
    """An op's fields, in order, as DESIGN.md lists them (``"party name? on"``: ``?`` marks an
    optional field), each read by the parser its name has in :data:`~.fields.FIELDS`, or by
    the one given here for this op."""
    spec: Spec = {}
    for field in fields.split():
        name = field.removesuffix("?")
        spec[name] = (parsers.get(name, FIELDS[name]), OPT if field.endswith("?") else REQ)
    return spec


#: Every op and its fields: their parsers (:mod:`.fields`) and whether each is required.
OPS: dict[str, Spec] = {
    "register_party": _op("key name sector capacity? identifiers? area?"),
    "amend_party": _op("party name? sector? capacity? identifiers? area? reason on"),
    "propose_partnership": _op("key title purpose proposed_by members parent? on"),
    "join_partnership": _op("partnership party role? on"),
    "leave_partnership": _op("partnership party reason? on"),
    "activate_partnership": _op("partnership on"),
    "conclude_partnership": _op("partnership on"),
    "record_decision": _op("partnership key subject proposed_by rule votes on"),
    "draft_agreement": _op(
        "key partnership title parties start end shares? annual_caps? max_years? fiscal_year_start?"
    ),
    "sign_agreement": _op("agreement party on"),
    "amend_agreement": _op("agreement amendment changes proposed_by on"),
    "consent_amendment": _op("agreement amendment party on"),
    "terminate_agreement": _op("agreement reason on"),
    "pledge": _op(
        "key partnership party agreement? kind value quantity? unit? valuation_basis? instrument? fiscal_year on?"
        " description? recipient?"
    ),
    "deliver": _op("contribution value on evidence? evidence_private? evidence_subject?"),
    "correct_contribution": _op("contribution delta? delivery? delivered_on? reason on"),
    "withdraw_pledge": _op("contribution reason on"),
    "define_target": _op("key partnership indicator unit direction baseline targets"),
    "record_measurement": _op("target period value source on", value=decimal),
    "revise_target": _op("target targets reason on"),
    "open_evaluation": _op("key partnership period criteria? scale_max? resident_weight?"),
    "submit_evaluation": _op(
        "evaluation evaluator role party? scores comment? comment_public? on", role=enum_of(EvaluatorRole)
    ),
    "close_evaluation": _op("evaluation on"),
    "erase_subject": _op("evaluator reason on"),
    "void_operation": _op("operation reason on"),
}

#: The metadata every op may carry besides ``op``: who records it, a note, its id.
_META: Spec = {"by": (text, OPT), "note": (text, OPT), "id": (key, OPT)}
#: The names every op may have besides its fields.
COMMON = {"op", *_META}


#: How a field read by each parser names things of the ledger: ``key`` (the value is a key),
#: ``keys`` (a list of keys), ``names`` (an object named by keys), ``changes`` (terms whose
#: shares and caps are named by keys).
_SHAPES = {key: "key", keys: "keys", shares: "names", caps: "names", votes: "names", changes: "changes"}

#: For each op, the fields that name things of the ledger, and how (:data:`_SHAPES`).
KEY_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    name: tuple((f, _SHAPES[parser]) for f, (parser, _) in spec.items() if parser in _SHAPES)
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


def check(raw: Any, index: int) -> tuple[str, dict[str, Any], dict[str, str], list[JournalProblem]]:
    """Check one raw operation: its op, typed fields, metadata (by, note, id) and problems."""
    if isinstance(raw, DuplicateKeys):
        name = raw.get("op") if isinstance(raw.get("op"), str) else None
        twice = [JournalProblem(f"names field {d!r} twice", index, name, d, "duplicate_field") for d in raw.duplicates]
        return "", {}, {}, twice
    if not isinstance(raw, dict):
        return "", {}, {}, [JournalProblem(f"must be an object, not {describe(raw)}", index, rule="shape")]
    name = raw.get("op")
    if not isinstance(name, str) or name not in OPS:  # "op": [] is no op either
        msg = 'has no "op" naming the operation'
        if "op" in raw:
            msg = f"unknown op {describe(name)} (known: {', '.join(OPS)})"
        return "", {}, {}, [JournalProblem(msg, index, None, "op", "unknown_op")]
    spec = OPS[name]
    problems = [
        JournalProblem(
            f"unknown field (the fields of {name} are {', '.join(spec)})", index, name, field, "unknown_field"
        )
        for field in raw
        if field not in spec and field not in COMMON
    ]
    fields = _typed(raw, spec, index, name, problems)
    meta = _typed(raw, _META, index, name, problems)
    return name, fields, meta, problems


def _typed(raw: dict[str, Any], spec: Spec, index: int, name: str, problems: list[JournalProblem]) -> dict[str, Any]:
    """The fields of ``spec`` that ``raw`` gives, typed; a problem added for each one wrong or missing."""
    typed: dict[str, Any] = {}
    for field, (parser, required) in spec.items():
        value = raw.get(field)
        if value is None and (not required or field not in raw):  # a required null is refused as null
            if required:
                problems.append(JournalProblem("is missing", index, name, field, "missing_field"))
            continue
        try:
            typed[field] = parser(value)
        except FieldError as e:
            problems.append(JournalProblem(str(e), index, name, field, "invalid_field"))
    return typed
