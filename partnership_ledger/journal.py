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
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

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
from .errors import JournalError, JournalProblem

KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}\Z")  # \Z: "$" would allow a final "\n"
DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
CURRENCY_RE = re.compile(r"^[A-Z]{3}\Z")
# Searched with a regex rather than character by character: a journal has a lot of text.
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f]")  # control characters but \t and \n
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
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
    if isinstance(value, str) and not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", value.strip()):
        raise FieldError(f'must be a decimal number such as "1200.50", not {_describe(value)}')
    try:
        d = Decimal(value.strip() if isinstance(value, str) else value)
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


def enum_of(cls: type[Any]) -> Callable[[Any], Any]:
    choices = [m.value for m in cls]

    def parse(value: Any) -> Any:
        if isinstance(value, str) and value in choices:
            return cls(value)
        raise FieldError(f"must be one of {', '.join(choices)}, not {_describe(value)}")

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


# -- the operations -----------------------------------------------------------------------

Spec = dict[str, tuple[Callable[[Any], Any], bool]]
REQ, OPT = True, False

OPS: dict[str, Spec] = {
    "register_party": {
        "key": (key, REQ),
        "name": (text, REQ),
        "sector": (enum_of(Sector), REQ),
        "capacity": (non_negative_money, OPT),
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
        "description": (text, OPT),
    },
    "deliver": {
        "contribution": (key, REQ),
        "value": (positive_money, REQ),
        "on": (a_date, REQ),
        "evidence": (text, OPT),
    },
    "correct_contribution": {
        "contribution": (key, REQ),
        "delta": (nonzero_money, REQ),
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
}

COMMON = {"op", "by", "note", "id"}


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


def op_fingerprint(raw: Mapping[str, Any]) -> str:
    """A stable id for an operation that has none: the hash of its canonical JSON."""
    canonical = json.dumps(
        {k: v for k, v in raw.items() if k != "id"},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def validate_operation(raw: Any, index: int) -> tuple[Operation | None, list[JournalProblem]]:
    """Check one raw operation; return it typed, or the problems found in it."""
    problems: list[JournalProblem] = []
    if isinstance(raw, _DuplicateKeys):
        name = raw.get("op") if isinstance(raw.get("op"), str) else None
        return None, [
            JournalProblem(f"names field {d!r} twice", index, name, d, "duplicate_field") for d in raw.duplicates
        ]
    if not isinstance(raw, dict):
        return None, [JournalProblem(f"must be an object, not {_describe(raw)}", index, rule="shape")]
    name = raw.get("op")
    if name not in OPS:
        if "op" not in raw:
            msg = 'has no "op" naming the operation'
        else:
            msg = f"unknown op {_describe(name)} (known: {', '.join(OPS)})"
        return None, [JournalProblem(msg, index, None, "op", "unknown_op")]
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
        if field_name not in raw or (raw[field_name] is None and not required):
            if required:
                problems.append(JournalProblem("is missing", index, name, field_name, "missing_field"))
            continue
        try:
            fields[field_name] = parser(raw[field_name])
        except FieldError as e:
            problems.append(JournalProblem(str(e), index, name, field_name, "invalid_field"))
    meta_values: dict[str, str | None] = {}
    for field_name in ("by", "note", "id"):
        value = raw.get(field_name)
        if value is None:
            meta_values[field_name] = None
            continue
        try:
            meta_values[field_name] = key(value) if field_name == "id" else text(value)
        except FieldError as e:
            problems.append(JournalProblem(str(e), index, name, field_name, "invalid_field"))
    if problems:
        return None, problems
    op_id = meta_values["id"] or op_fingerprint(raw)
    return Operation(name, fields, OpMeta(op_id, meta_values["by"], meta_values["note"]), index), []


# -- reading files ------------------------------------------------------------------------


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
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
                    [JournalProblem(f"is not valid JSON at {_where(text_, e.pos)}: {e.msg}", rule="json")],
                    source,
                ) from None
            if not isinstance(value, list):  # pragma: no cover - starts with "["
                raise JournalError([JournalProblem("must be a JSON array", rule="shape")], source)
            return value
        out = []
        for lineno, line in enumerate(text_.splitlines(), 1):
            if not line.strip():
                continue
            try:
                out.append(_loads(line))
            except json.JSONDecodeError as e:
                raise JournalError(
                    [
                        JournalProblem(
                            f"line {lineno} is not valid JSON at column {e.pos + 1}: {e.msg}",
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
        raise JournalError([JournalProblem(f"has a number that cannot be read: {e}", rule="json")], source) from None


def parse_operations(raws: Iterable[Any], source: str | None = None) -> list[Operation]:
    """Validate raw operations; raise :class:`JournalError` listing every problem."""
    ops: list[Operation] = []
    problems: list[JournalProblem] = []
    occurrences: dict[str, int] = {}
    for index, raw in enumerate(raws):
        op, found = validate_operation(raw, index)
        if found:
            problems.extend(found)
            continue
        assert op is not None
        if not isinstance(raw, dict) or raw.get("id") is None:
            # Two identical operations in one file are two operations: number them.
            n = occurrences.get(op.meta.op_id, 0)
            occurrences[op.meta.op_id] = n + 1
            # (built directly: attrs.evolve took a tenth of the parsing time)
            meta = OpMeta(f"{op.meta.op_id}-{n}", op.meta.by, op.meta.note)
            op = Operation(op.op, op.fields, meta, op.index)
        ops.append(op)
    ids = [o.meta.op_id for o in ops]
    if len(set(ids)) != len(ids):
        seen: set[str] = set()
        for o in ops:
            if o.meta.op_id in seen:
                problems.append(JournalProblem(f"repeats id {o.meta.op_id!r}", o.index, o.op, "id", "duplicate_id"))
            seen.add(o.meta.op_id)
    if problems:
        problems.sort(key=lambda p: p.index if p.index is not None else -1)
        raise JournalError(problems, source)
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


def dump_operation(op: Mapping[str, Any]) -> str:
    """One operation as a line of JSON."""
    return json.dumps(to_json_value(dict(op)), ensure_ascii=False, separators=(", ", ": "))
