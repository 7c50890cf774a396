"""The journal format: read, validate and normalise operations; write them back out.

A journal is a JSON array, or JSON Lines, of operations applied in order (see
``docs/journal.md``). :func:`parse_journal` reads the bytes of a file and returns typed
:class:`Operation` objects, or raises :class:`~partnership_ledger.errors.JournalError`
listing *every* problem found, each with the operation's index, op and field.
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, cast

import attrs

from .domain.values import (
    ContributionKind,
    DecisionRule,
    Direction,
    EvaluatorRole,
    Instrument,
    Money,
    OpMeta,
    PeriodValue,
    Sector,
    Vote,
)
from .errors import IdentifierError, JournalError, JournalProblem

KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}\Z")  # \Z: "$" would allow a final "\n"
DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
CURRENCY_RE = re.compile(r"^[A-Z]{3}\Z")
# Searched with a regex rather than character by character: a journal has a lot of text.
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # control characters (C0, DEL, C1) but \t and \n
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_DECIMAL_RE = re.compile(r"-?[0-9]+(\.[0-9]+)?")
MAX_TEXT = 20_000
MAX_DIGITS = 30  # digits in a number: enough for any public budget, exactly
MAX_PLACES = 10  # decimal places
MAX_ITEMS = 10_000  # items in one list or object inside an operation


class FieldError(Exception):
    """A field's value is wrong; the message says what it should be."""


class _Float:
    """Marks a JSON number with a fraction or exponent: the journal refuses floats."""

    def __init__(self, text: str) -> None:
        self.text = text


class _Constant:
    """Marks NaN / Infinity, which are not JSON and never amounts."""

    def __init__(self, text: str) -> None:
        self.text = text


class _DuplicateKeys(dict[str, Any]):
    """An object in which some name appeared twice."""

    duplicates: list[str]


# -- field parsers ------------------------------------------------------------------------


def _describe(value: Any) -> str:
    if isinstance(value, _Float):
        return f"the float {value.text}"
    if isinstance(value, _Constant):
        return value.text
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        # A lone surrogate ("\ud800" in the JSON) cannot be printed: show it escaped.
        return json.dumps(shown, ensure_ascii=False).encode("utf-8", "backslashreplace").decode()
    if isinstance(value, int):
        return str(value) if len(str(value)) <= 40 else "a huge integer"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def key(value: Any) -> str:
    if not isinstance(value, str) or not KEY_RE.match(value):
        raise FieldError(f"must be a key (letters, digits, '-', '_', '.', ':', at most 128), not {_describe(value)}")
    return value


def text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise FieldError(f"must be non-empty text, not {_describe(value)}")
    if len(value) > MAX_TEXT:
        raise FieldError(f"is longer than {MAX_TEXT} characters")
    if _CONTROL_RE.search(value):
        raise FieldError("contains control characters")
    _check_unicode(value)
    return value


def _check_unicode(value: str) -> None:
    # JSON lets "\ud800" through, but a lone surrogate is not text: it cannot be stored,
    # hashed or printed.
    if _SURROGATE_RE.search(value):
        raise FieldError("contains a lone surrogate, which is not Unicode text")


def label(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 32 or "\n" in value:
        raise FieldError(f'must be a period label such as "2024" or "2008/09", not {_describe(value)}')
    _check_unicode(value)
    return value


def decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise FieldError(f"must be a decimal string or an integer, not {_describe(value)}")
    number: str | int = value
    if isinstance(value, str):
        number = value  # as given: " 1000" or "1000\n" is not a decimal string
        if not _DECIMAL_RE.fullmatch(number):
            raise FieldError(f'must be a decimal number such as "1200.50", not {_describe(value)}')
    try:
        d = Decimal(number)
    except (InvalidOperation, ValueError):
        raise FieldError(f"must be a decimal number, not {_describe(value)}") from None
    _sign, digits, exponent = d.as_tuple()
    assert isinstance(exponent, int)
    if len(digits) > MAX_DIGITS or -exponent > MAX_PLACES:
        raise FieldError(f"has too many digits (at most {MAX_DIGITS}, and {MAX_PLACES} after the point)")
    return d


def non_negative(value: Any) -> Decimal:
    d = decimal(value)
    if d < 0:
        raise FieldError(f"must not be negative, not {d}")
    return d


def integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError(f"must be an integer, not {_describe(value)}")
    if abs(value) > 10**9:
        raise FieldError(f"is out of range: {_describe(value)}")
    return value


def year(value: Any) -> int:
    y = integer(value)
    if not 1900 <= y <= 2200:
        raise FieldError(f"must be a year between 1900 and 2200, not {y}")
    return y


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise FieldError(f"must be true or false, not {_describe(value)}")
    return value


def a_date(value: Any) -> date:
    if not isinstance(value, str) or not DATE_RE.match(value):
        raise FieldError(f"must be a date YYYY-MM-DD, not {_describe(value)}")
    try:
        d = date.fromisoformat(value)
    except ValueError:
        raise FieldError(f"is not a real date: {value}") from None
    if not 1900 <= d.year <= 2200:
        raise FieldError(f"must be a date between 1900 and 2200, not {value}")
    return d


def _obj(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FieldError(f"must be {what}, not {_describe(value)}")
    if isinstance(value, _DuplicateKeys):
        raise FieldError(f"names {value.duplicates[0]!r} twice")
    if len(value) > MAX_ITEMS:
        raise FieldError(f"has more than {MAX_ITEMS} entries")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise FieldError(f"must be {what}, not {_describe(value)}")
    if len(value) > MAX_ITEMS:
        raise FieldError(f"has more than {MAX_ITEMS} items")
    return value


def money(value: Any) -> Money:
    obj = _obj(value, 'money, {"amount": "1000", "currency": "JPY"}')
    if len(obj) != 2 or "amount" not in obj or "currency" not in obj:
        extra = sorted(set(obj) - {"amount", "currency"})
        if extra:
            raise FieldError(f"has unknown field {extra[0]!r} (money has amount and currency)")
        if "amount" not in obj or "currency" not in obj:
            raise FieldError('must have both "amount" and "currency"')
    try:
        amount = decimal(obj["amount"])
    except FieldError as e:
        raise FieldError(f"amount {e}") from None
    currency = obj["currency"]
    if not isinstance(currency, str) or not CURRENCY_RE.match(currency):
        raise FieldError(f"currency must be a three-letter code such as JPY, not {_describe(currency)}")
    return Money(amount, currency)


def positive_money(value: Any) -> Money:
    m = money(value)
    if m.amount <= 0:
        raise FieldError(f"amount must be more than zero, not {m.amount}")
    return m


def non_negative_money(value: Any) -> Money:
    m = money(value)
    if m.amount < 0:
        raise FieldError(f"amount must not be negative, not {m.amount}")
    return m


def nonzero_money(value: Any) -> Money:
    m = money(value)
    if m.amount == 0:
        raise FieldError("amount must not be zero")
    return m


#: The values each :func:`enum_of` parser accepts (a spreadsheet template's drop-down lists).
ENUM_CHOICES: dict[Callable[[Any], Any], tuple[str, ...]] = {}


def enum_of(cls: type[Any]) -> Callable[[Any], Any]:
    choices = [m.value for m in cls]
    members = {m.value: m for m in cls}  # cls(value), looked up directly

    def parse(value: Any) -> Any:
        if isinstance(value, str) and value in members:
            return members[value]
        raise FieldError(f"must be one of {', '.join(choices)}, not {_describe(value)}")

    ENUM_CHOICES[parse] = tuple(choices)
    return parse


def keys(value: Any) -> list[str]:
    items = _list(value, "a list of keys")
    if not items:
        raise FieldError("must not be empty")
    out = []
    for i, item in enumerate(items):
        try:
            out.append(key(item))
        except FieldError as e:
            raise FieldError(f"item {i} {e}") from None
    dupes = sorted({k for k in out if out.count(k) > 1})
    if dupes:
        raise FieldError(f"names {dupes[0]} more than once")
    return out


def texts(value: Any) -> list[str]:
    items = _list(value, "a list of texts")
    if not items:
        raise FieldError("must not be empty")
    out = []
    for i, item in enumerate(items):
        try:
            out.append(text(item))
        except FieldError as e:
            raise FieldError(f"item {i} {e}") from None
    if len(set(out)) != len(out):
        raise FieldError("names the same item more than once")
    return out


def mapping_of(
    what: str, value_parser: Callable[[Any], Any], key_parser: Callable[[Any], str] = key
) -> Callable[[Any], dict[str, Any]]:
    def parse(value: Any) -> dict[str, Any]:
        obj = _obj(value, what)
        out = {}
        for k, v in obj.items():
            try:
                key_parser(k)
            except FieldError as e:
                raise FieldError(f"name {k!r} {e}") from None
            try:
                out[k] = value_parser(v)
            except FieldError as e:
                raise FieldError(f"entry {k!r} {e}") from None
        return out

    return parse


def period_value(value: Any) -> PeriodValue:
    obj = _obj(value, '{"period": "2008", "value": 100}')
    extra = sorted(set(obj) - {"period", "value"})
    if extra:
        raise FieldError(f"has unknown field {extra[0]!r}")
    if "period" not in obj or "value" not in obj:
        raise FieldError('must have "period" and "value"')
    try:
        return PeriodValue(label(obj["period"]), decimal(obj["value"]))
    except FieldError as e:
        raise FieldError(f"{'period' if not isinstance(obj['period'], str) else 'value'} {e}") from None


def period_values(value: Any) -> list[PeriodValue]:
    items = _list(value, 'a list of {"period", "value"}')
    if not items:
        raise FieldError("must not be empty")
    out = []
    for i, item in enumerate(items):
        try:
            out.append(period_value(item))
        except FieldError as e:
            raise FieldError(f"item {i} {e}") from None
    return out


def scale(value: Any) -> int:
    n = integer(value)
    if not 2 <= n <= 100:
        raise FieldError(f"must be between 2 and 100, not {n}")
    return n


def weight(value: Any) -> Decimal:
    d = decimal(value)
    if not 0 <= d <= 1:
        raise FieldError(f"must be between 0 and 1, not {d}")
    return d


def month(value: Any) -> int:
    n = integer(value)
    if not 1 <= n <= 12:
        raise FieldError(f"must be a month 1..12, not {n}")
    return n


def positive_int(value: Any) -> int:
    n = integer(value)
    if n < 1:
        raise FieldError(f"must be at least 1, not {n}")
    return n


def score(value: Any) -> int:
    return integer(value)


shares = mapping_of('an object of shares, {"party": "0.5"}', non_negative)
caps = mapping_of('an object of annual caps, {"party": {"amount": ..., "currency": ...}}', non_negative_money)
votes = mapping_of('an object of votes, {"party": "for"}', enum_of(Vote))
scores = mapping_of('an object of scores, {"criterion": 4}', score, key_parser=text)

CHANGES: dict[str, Callable[[Any], Any]] = {
    "title": text,
    "start": a_date,
    "end": a_date,
    "shares": shares,
    "annual_caps": caps,
    "max_years": positive_int,
    "fiscal_year_start": month,
}


def changes(value: Any) -> dict[str, Any]:
    obj = _obj(value, "an object of changes to the terms")
    if not obj:
        raise FieldError("must change something")
    out = {}
    for name, v in obj.items():
        parser = CHANGES.get(name)
        if parser is None:
            raise FieldError(f"cannot change {name!r} (changeable: {', '.join(CHANGES)})")
        try:
            out[name] = parser(v)
        except FieldError as e:
            raise FieldError(f"{name} {e}") from None
    return out


def org_ids(value: Any) -> list[str]:
    """A list of organisation identifiers (org-id.guide), each checked
    (:func:`~partnership_ledger.standards.identifiers.check_identifier`)."""
    from .standards.identifiers import check_identifiers  # the standards package is small

    items = _list(value, "a list of organisation identifiers")
    if not items:
        raise FieldError("must not be empty (leave the field out when there are none)")
    if not all(isinstance(item, str) for item in items):
        raise FieldError('must be a list of texts such as ["JP-JCN-7000020070009"]')
    try:
        check_identifiers(items)
    except IdentifierError as e:
        raise FieldError(str(e)) from None
    return list(items)


def area_code(value: Any) -> str:
    """An area code (``JP-LGC-…`` or ``GB-ONS-…``), checked
    (:func:`~partnership_ledger.standards.identifiers.check_area`)."""
    from .standards.identifiers import check_area

    if not isinstance(value, str):
        raise FieldError(f"must be an area code such as JP-LGC-072010, not {_describe(value)}")
    try:
        check_area(value)
    except IdentifierError as e:
        raise FieldError(str(e)) from None
    return value


def op_ref(value: Any) -> str:
    """An operation's id, as ``history`` shows it (not a key of the ledger: it is not looked up as one)."""
    return key(value)


# -- the operations -----------------------------------------------------------------------

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


# Canonical JSON of an operation (its fingerprint, the id of an operation without one):
# sorted keys, non-ASCII characters as they are, no spaces. These bytes are hashed into the
# ids of recorded operations: they must never change (tests/unit/test_journal_ids.py).
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def op_fingerprint(raw: Mapping[str, Any]) -> str:
    """A stable id for an operation that has none: the hash of its canonical JSON."""
    obj = {k: v for k, v in raw.items() if k != "id"} if "id" in raw else raw
    return hashlib.sha256(_CANONICAL.encode(obj).encode("utf-8")).hexdigest()[:32]


def _check(raw: Any, index: int) -> tuple[str, dict[str, Any], dict[str, str | None], list[JournalProblem]]:
    """Check one raw operation: its op, typed fields, metadata (by, note, id) and problems."""
    problems: list[JournalProblem] = []
    if isinstance(raw, _DuplicateKeys):
        name = raw.get("op") if isinstance(raw.get("op"), str) else None
        problems = [
            JournalProblem(f"names field {d!r} twice", index, name, d, "duplicate_field") for d in raw.duplicates
        ]
        return "", {}, {}, problems
    if not isinstance(raw, dict):
        return "", {}, {}, [JournalProblem(f"must be an object, not {_describe(raw)}", index, rule="shape")]
    name = raw.get("op")
    if name not in OPS:
        if "op" not in raw:
            msg = 'has no "op" naming the operation'
        else:
            msg = f"unknown op {_describe(name)} (known: {', '.join(OPS)})"
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


def validate_operation(raw: Any, index: int) -> tuple[Operation | None, list[JournalProblem]]:
    """Check one raw operation; return it typed, or the problems found in it."""
    name, fields, meta, problems = _check(raw, index)
    if problems:
        return None, problems
    op_id = meta["id"] or op_fingerprint(raw)
    return Operation(name, fields, OpMeta(op_id, meta["by"], meta["note"]), index), []


# An id made from a fingerprint: "<32 hex digits>-<n>" (n without leading zeros).
_MADE_ID = re.compile(r"([0-9a-f]{32})-(0|[1-9][0-9]*)\Z")


class Validator:
    """Validates a journal's raw operations one at a time, in order.

    Keeps every problem found (:meth:`error` lists them all, as :func:`parse_operations`
    does), numbers identical operations that have no id, and refuses an id used twice; so a
    journal can be checked while it is read, without holding all of it.
    """

    def __init__(self) -> None:
        self.problems: list[JournalProblem] = []
        self.count = 0  # operations read so far
        # How many operations without an id had each fingerprint (their ids are
        # "<fingerprint>-<n>", so never the same), and the ids operations gave themselves.
        self._occurrences: dict[str, int] = {}
        self._given_ids: set[str] = set()

    def add(self, raw: Any) -> Operation | None:
        """The next raw operation, typed; None if it has problems (kept in ``problems``)."""
        index = self.count
        self.count = index + 1
        name, fields, meta, found = _check(raw, index)
        if found:
            self.problems.extend(found)
            return None
        given = meta["id"]
        if given is None:
            # Two identical operations in one file are two operations: number them.
            fingerprint = op_fingerprint(raw)
            n = self._occurrences.get(fingerprint, 0)
            self._occurrences[fingerprint] = n + 1
            op_id = f"{fingerprint}-{n}"
            repeated = op_id in self._given_ids
        else:
            # A given id may repeat another given one, or one made for an earlier operation.
            op_id = given
            made = _MADE_ID.match(op_id)
            repeated = op_id in self._given_ids or (
                made is not None and self._occurrences.get(made[1], 0) > int(made[2])
            )
            self._given_ids.add(op_id)
        if repeated:
            self.problems.append(JournalProblem(f"repeats id {op_id!r}", index, name, "id", "duplicate_id"))
        return Operation(name, fields, OpMeta(op_id, meta["by"], meta["note"]), index)

    def error(self, source: str | None = None) -> JournalError | None:
        """Every problem found so far, in the order of the operations; None if there is none."""
        if not self.problems:
            return None
        problems = sorted(self.problems, key=lambda p: p.index if p.index is not None else -1)
        return JournalError(problems, source)


# -- reading files ------------------------------------------------------------------------


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    made = dict(pairs)
    if len(made) == len(pairs):
        return made  # no name twice: the usual case, without a loop in Python
    seen: dict[str, Any] = {}
    dupes: list[str] = []
    for k, v in pairs:
        if k in seen:
            dupes.append(k)
        seen[k] = v
    if dupes:
        marked = _DuplicateKeys(seen)
        marked.duplicates = dupes
        return marked
    return seen


def _loads(text_: str) -> Any:
    return json.loads(
        text_,
        object_pairs_hook=_pairs,
        parse_float=_Float,
        parse_constant=_Constant,
    )


def _where(text_: str, pos: int) -> str:
    line = text_.count("\n", 0, pos) + 1
    col = pos - (text_.rfind("\n", 0, pos) + 1) + 1
    return f"line {line}, column {col}"


def _undecodable(value: Any) -> bool:
    """Whether a value read with ``surrogateescape`` holds bytes that were not UTF-8."""
    if isinstance(value, str):
        return any("\udc80" <= c <= "\udcff" for c in value)
    if isinstance(value, dict):
        return any(_undecodable(k) or _undecodable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_undecodable(v) for v in value)
    return False


def _utf8_problem(data: bytes, start: int) -> JournalProblem:
    """Invalid UTF-8, placed in its operation (and field) when the rest of the file is JSON."""
    problem = JournalProblem(f"is not valid UTF-8 (byte {start})", rule="encoding")
    if len(data) > 64_000_000 or data.lstrip()[:1] not in (b"[", b"{"):
        return problem  # not worth reading twice: it is not a journal with one bad string
    try:
        raws = read_raw(data.decode("utf-8", "surrogateescape"))
    except JournalError:
        return problem
    for index, raw in enumerate(raws):
        if not _undecodable(raw):
            continue
        if not isinstance(raw, dict):
            return JournalProblem(problem.message, index, rule="encoding")
        op = raw.get("op")
        name = op if isinstance(op, str) and not _undecodable(op) else None
        field = next((k for k, v in raw.items() if _undecodable(k) or _undecodable(v)), None)
        if field is not None and _undecodable(field):
            field = None
        return JournalProblem(problem.message, index, name, field, "encoding")
    return problem


def read_raw(data: bytes | str, source: str | None = None) -> list[Any]:
    """Decode a JSON array or JSON Lines journal into raw operation values."""
    if isinstance(data, bytes):
        try:
            text_ = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise JournalError([_utf8_problem(data, e.start)], source) from None
    else:
        text_ = data
    text_ = text_.removeprefix("\ufeff")
    stripped = text_.lstrip()
    if not stripped:
        raise JournalError(
            [JournalProblem("is empty: a journal is a JSON array or JSON Lines", rule="shape")],
            source,
        )
    try:
        if stripped.startswith("["):
            try:
                value = _loads(text_)
            except json.JSONDecodeError as e:
                raise JournalError(
                    [JournalProblem(f"is not valid JSON at {_where(text_, e.pos)}: {json_message(e)}", rule="json")],
                    source,
                ) from None
            if not isinstance(value, list):  # pragma: no cover - starts with "["
                raise JournalError([JournalProblem("must be a JSON array", rule="shape")], source)
            return value
        out = []
        for lineno, line in enumerate(_lines(text_), 1):
            if not line.strip():
                continue
            try:
                out.append(_loads(line))
            except json.JSONDecodeError as e:
                raise JournalError(
                    [
                        JournalProblem(
                            f"line {lineno} is not valid JSON at column {e.pos + 1}: {json_message(e)}",
                            index=len(out),
                            rule="json",
                        )
                    ],
                    source,
                ) from None
        return out
    except RecursionError:
        raise JournalError([JournalProblem("is nested too deeply to be a journal", rule="json")], source) from None
    except ValueError as e:  # e.g. an integer with more digits than Python will convert
        raise JournalError([JournalProblem(number_problem(e), rule="json")], source) from None


# JSON's own whitespace (json.loads skips only these).
_JSON_WS = re.compile(r"[ \t\n\r]*")
_JSON_COMMA = re.compile(r"[ \t\n\r]*,[ \t\n\r]*")  # between two values of an array
_WS_CHARS = frozenset(" \t\n\r")
#: JSON Lines are separated by ``\n`` only (a ``\r`` before it is JSON whitespace): U+2028, NEL
#: and the like are text inside a string, never a line break (str.splitlines would split there).
_LINE_BREAK = re.compile("\n")
_DECODER = json.JSONDecoder(object_pairs_hook=_pairs, parse_float=_Float, parse_constant=_Constant)


def json_message(e: json.JSONDecodeError) -> str:
    """``json``'s message as a whole sentence: some end with "at", the position being apart
    ("Unterminated string starting at"); the caller names the position."""
    msg = e.msg
    return msg[: -len(" at")] + " there" if msg.endswith(" at") else msg


def number_problem(e: ValueError) -> str:
    """What is wrong with a number ``json`` could not convert, without Python's own advice
    (``sys.set_int_max_str_digits()``), which is no help to whoever wrote the journal."""
    if "digits" in str(e):
        return f"has a number with far more digits than a journal allows (at most {MAX_DIGITS})"
    return f"has a number that cannot be read: {e}"


def journal_text(data: bytes | str, source: str | None = None) -> str:
    """The text of a journal (UTF-8, without a byte order mark), checked not to be empty."""
    if isinstance(data, bytes):
        try:
            text_ = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise JournalError([_utf8_problem(data, e.start)], source) from None
    else:
        text_ = data
    text_ = text_.removeprefix("\ufeff")
    if not text_ or text_.isspace():
        raise JournalError(
            [JournalProblem("is empty: a journal is a JSON array or JSON Lines", rule="shape")],
            source,
        )
    return text_


def iter_raw(text_: str, source: str | None = None) -> Iterator[Any]:
    """The raw operations of a journal's text (see :func:`journal_text`), one at a time.

    The same values as :func:`read_raw`, and the same :class:`JournalError` for a text that is
    not JSON (raised when reading reaches the fault), without holding them all at once.
    """
    start = 0
    while text_[start].isspace():  # journal_text made sure there is something else
        start += 1
    if text_[start] == "[":
        return _iter_array(text_, source)
    return _iter_lines(text_, source)


def _iter_array(text_: str, source: str | None) -> Iterator[Any]:
    # The elements of the array, decoded one by one. Anything out of the ordinary (a syntax
    # error, a number Python will not convert, deep nesting) is left to read_raw, which decodes
    # the whole text at once and says what is wrong in json.loads's own words.
    n = 0
    scan = _DECODER.scan_once  # type: ignore[attr-defined]  # raw_decode's scanner, without its wrapper
    comma = _JSON_COMMA.match
    end = len(text_)

    def ws(pos: int) -> int:  # the first position from ``pos`` on that is not JSON whitespace
        if text_[pos : pos + 1] not in _WS_CHARS:  # mostly so: skip the regular expression
            return pos
        return cast(re.Match[str], _JSON_WS.match(text_, pos)).end()

    try:
        pos = ws(0)
        if text_[pos : pos + 1] != "[":
            raise ValueError("not an array")
        pos = ws(pos + 1)
        if text_[pos : pos + 1] != "]":
            while True:
                try:
                    value, pos = scan(text_, pos)
                except StopIteration:  # no value there (raw_decode: "Expecting value")
                    raise ValueError("not a value") from None
                yield value
                n += 1
                separator = comma(text_, pos)
                if separator is not None:
                    pos = separator.end()
                    continue
                pos = ws(pos)
                if text_[pos : pos + 1] != "]":
                    raise ValueError("not a separator")
                break
        if ws(pos + 1) != end:
            raise ValueError("extra data")
        return
    except (ValueError, RecursionError):
        pass
    yield from read_raw(text_, source)[n:]  # raises the JournalError that says what is wrong


def _lines(text_: str) -> Iterator[str]:
    """The lines of a JSON Lines text (split at ``\n`` only), one at a time."""
    start = 0
    for m in _LINE_BREAK.finditer(text_):
        yield text_[start : m.start()]
        start = m.end()
    if start < len(text_):
        yield text_[start:]


def _iter_lines(text_: str, source: str | None) -> Iterator[Any]:
    n = 0
    for lineno, line in enumerate(_lines(text_), 1):
        if not line.strip():
            continue
        try:
            value = _loads(line)
        except json.JSONDecodeError as e:
            raise JournalError(
                [
                    JournalProblem(
                        f"line {lineno} is not valid JSON at column {e.pos + 1}: {json_message(e)}",
                        index=n,
                        rule="json",
                    )
                ],
                source,
            ) from None
        except RecursionError:
            raise JournalError([JournalProblem("is nested too deeply to be a journal", rule="json")], source) from None
        except ValueError as e:
            raise JournalError([JournalProblem(number_problem(e), rule="json")], source) from None
        yield value
        n += 1


def parse_operations(raws: Iterable[Any], source: str | None = None) -> list[Operation]:
    """Validate raw operations; raise :class:`JournalError` listing every problem."""
    validator = Validator()
    ops = [op for op in map(validator.add, raws) if op is not None]
    error = validator.error(source)
    if error is not None:
        raise error
    return ops


def parse_journal(data: bytes | str, source: str | None = None) -> list[Operation]:
    """Read and validate a whole journal (JSON array or JSON Lines)."""
    return parse_operations(read_raw(data, source), source)


# -- writing ------------------------------------------------------------------------------


def to_json_value(value: Any) -> Any:
    """Turn typed field values back into journal JSON values (Decimal as strings)."""
    if isinstance(value, Decimal):
        # Positional, never str()'s "1E-7", which the journal (rightly) does not accept.
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Money):
        return {"amount": format(value.amount, "f"), "currency": value.currency}
    if isinstance(value, PeriodValue):
        return {"period": value.period, "value": format(value.value, "f")}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {k: to_json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json_value(v) for v in value]
    return value


#: Characters that some readers take for line breaks (Python's ``str.splitlines``, JavaScript
#: before ES2019): written as JSON escapes, so that one operation is always one line.
_LINE_SEPARATORS = str.maketrans({"\u0085": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def dump_operation(op: Mapping[str, Any]) -> str:
    """One operation as a line of JSON (no character in it that any reader splits lines on:
    NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR are escaped; JSON escapes the others)."""
    return json.dumps(to_json_value(dict(op)), ensure_ascii=False, separators=(", ", ": ")).translate(_LINE_SEPARATORS)
