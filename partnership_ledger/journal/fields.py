"""Journal fields: the parser of each kind of field value, and what it says when one is wrong.

Each parser takes a raw JSON value (as :mod:`.readers` decoded it) and returns it typed
(``Decimal``, ``date``, :class:`~partnership_ledger.domain.values.Money`...), or raises
:class:`FieldError` with the end of a sentence: "must be a date YYYY-MM-DD, not 2024-13-01".
:data:`FIELDS` names the parser of each field: a field of one name is read alike in every op.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from ..domain.values import (
    ContributionKind,
    DecisionRule,
    Direction,
    Instrument,
    Money,
    PeriodValue,
    Sector,
    Vote,
)
from ..errors import IdentifierError

KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}\Z")  # \Z: "$" would allow a final "\n"
DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
CURRENCY_RE = re.compile(r"^[A-Z]{3}\Z")
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # control characters (C0, DEL, C1) but \t and \n
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_DECIMAL_RE = re.compile(r"-?[0-9]+(\.[0-9]+)?")
MAX_TEXT = 20_000
MAX_DIGITS = 30  # digits in a number: enough for any public budget, exactly
MAX_PLACES = 10  # decimal places
MAX_ITEMS = 10_000  # items in one list or object inside an operation
T = TypeVar("T")


class FieldError(Exception):
    """A field's value is wrong; the message says what it should be."""


class JsonNumber:
    """Marks a JSON number the journal refuses, as written: a float (``1.5``, ``1e5``), or
    NaN / Infinity, which are not JSON and never amounts."""

    def __init__(self, text: str) -> None:
        self.text = text


class DuplicateKeys(dict[str, Any]):
    """An object in which some name appeared twice."""

    duplicates: list[str]


# -- field parsers ------------------------------------------------------------------------


def describe(value: Any) -> str:
    """A raw value as a message names it ("the float 1.5", "null", "a list")."""
    if isinstance(value, JsonNumber):
        return value.text if value.text.lstrip("-") in ("NaN", "Infinity") else f"the float {value.text}"
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
        raise FieldError(f"must be a key (letters, digits, '-', '_', '.', ':', at most 128), not {describe(value)}")
    return value


def text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise FieldError(f"must be non-empty text, not {describe(value)}")
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
        raise FieldError(f'must be a period label such as "2024" or "2008/09", not {describe(value)}')
    _check_unicode(value)
    return value


def decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise FieldError(f"must be a decimal string or an integer, not {describe(value)}")
    if isinstance(value, str) and not _DECIMAL_RE.fullmatch(value):  # " 1000" is not a decimal string
        raise FieldError(f'must be a decimal number such as "1200.50", not {describe(value)}')
    d = Decimal(value)
    _sign, digits, exponent = d.as_tuple()
    assert isinstance(exponent, int)
    if len(digits) > MAX_DIGITS or -exponent > MAX_PLACES:
        raise FieldError(f"has too many digits (at most {MAX_DIGITS}, and {MAX_PLACES} after the point)")
    return d


def integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError(f"must be an integer, not {describe(value)}")
    if abs(value) > 10**9:
        raise FieldError(f"is out of range: {describe(value)}")
    return value


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise FieldError(f"must be true or false, not {describe(value)}")
    return value


def a_date(value: Any) -> date:
    if not isinstance(value, str) or not DATE_RE.match(value):
        raise FieldError(f"must be a date YYYY-MM-DD, not {describe(value)}")
    try:
        d = date.fromisoformat(value)
    except ValueError:
        raise FieldError(f"is not a real date: {value}") from None
    if not 1900 <= d.year <= 2200:
        raise FieldError(f"must be a date between 1900 and 2200, not {value}")
    return d


def _inside(parse: Callable[[Any], T], value: Any, where: str, *names: object) -> T:
    """``parse(value)``; a problem in it is named by ``where`` formatted with ``names`` ("item 2")."""
    try:
        return parse(value)
    except FieldError as e:
        raise FieldError(f"{where.format(*names)} {e}") from None


def _obj(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FieldError(f"must be {what}, not {describe(value)}")
    if isinstance(value, DuplicateKeys):
        raise FieldError(f"names {value.duplicates[0]!r} twice")
    if len(value) > MAX_ITEMS:
        raise FieldError(f"has more than {MAX_ITEMS} entries")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise FieldError(f"must be {what}, not {describe(value)}")
    if len(value) > MAX_ITEMS:
        raise FieldError(f"has more than {MAX_ITEMS} items")
    return value


def _exactly(value: Any, what: str, names: frozenset[str], unknown: str, missing: str) -> dict[str, Any]:
    """An object with exactly the fields ``names``; ``unknown`` ends the message naming another
    field, ``missing`` is the message when one of them is not there."""
    obj = _obj(value, what)
    if obj.keys() != names:
        extra = sorted(obj.keys() - names)
        raise FieldError(f"has unknown field {extra[0]!r}{unknown}" if extra else missing)
    return obj


_MONEY_FIELDS = frozenset(("amount", "currency"))
_PERIOD_FIELDS = frozenset(("period", "value"))


def money(value: Any) -> Money:
    obj = _exactly(
        value,
        'money, {"amount": "1000", "currency": "JPY"}',
        _MONEY_FIELDS,
        " (money has amount and currency)",
        'must have both "amount" and "currency"',
    )
    amount = _inside(decimal, obj["amount"], "amount")
    currency = obj["currency"]
    if not isinstance(currency, str) or not CURRENCY_RE.match(currency):
        raise FieldError(f"currency must be a three-letter code such as JPY, not {describe(currency)}")
    return Money(amount, currency)


def _within(parse: Callable[[Any], T], ok: Callable[[T], bool], says: str) -> Callable[[Any], T]:
    """``parse``, then refuse a value that is not ``ok``: ``says`` is the message, formatted with the value."""

    def parse_within(value: Any) -> T:
        parsed = parse(value)
        if not ok(parsed):
            raise FieldError(says.format(parsed))
        return parsed

    return parse_within


non_negative = _within(decimal, lambda d: d >= 0, "must not be negative, not {}")
weight = _within(decimal, lambda d: 0 <= d <= 1, "must be between 0 and 1, not {}")
year = _within(integer, lambda n: 1900 <= n <= 2200, "must be a year between 1900 and 2200, not {}")
scale = _within(integer, lambda n: 2 <= n <= 100, "must be between 2 and 100, not {}")
month = _within(integer, lambda n: 1 <= n <= 12, "must be a month 1..12, not {}")
positive_int = _within(integer, lambda n: n >= 1, "must be at least 1, not {}")
positive_money = _within(money, lambda m: m.amount > 0, "amount must be more than zero, not {.amount}")
non_negative_money = _within(money, lambda m: m.amount >= 0, "amount must not be negative, not {.amount}")
nonzero_money = _within(money, lambda m: m.amount != 0, "amount must not be zero")


#: The values each :func:`enum_of` parser accepts (a spreadsheet template's drop-down lists).
ENUM_CHOICES: dict[Callable[[Any], Any], tuple[str, ...]] = {}


def enum_of(cls: type[Any]) -> Callable[[Any], Any]:
    """A parser of the values of the enum ``cls`` (``enum_of(Vote)("for")`` is ``Vote.FOR``)."""
    choices = [m.value for m in cls]

    def parse(value: Any) -> Any:
        if isinstance(value, str) and value in choices:
            return cls(value)
        raise FieldError(f"must be one of {', '.join(choices)}, not {describe(value)}")

    ENUM_CHOICES[parse] = tuple(choices)
    return parse


def _items(value: Any, what: str, parse: Callable[[Any], T]) -> list[T]:
    """A non-empty list, each item parsed (a problem names the item by its index)."""
    items = _list(value, what)
    if not items:
        raise FieldError("must not be empty")
    return [_inside(parse, item, "item {}", i) for i, item in enumerate(items)]


def keys(value: Any) -> list[str]:
    out = _items(value, "a list of keys", key)
    dupes = sorted({k for k in out if out.count(k) > 1})
    if dupes:
        raise FieldError(f"names {dupes[0]} more than once")
    return out


def texts(value: Any) -> list[str]:
    out = _items(value, "a list of texts", text)
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
            _inside(key_parser, k, "name {!r}", k)
            out[k] = _inside(value_parser, v, "entry {!r}", k)
        return out

    return parse


def period_value(value: Any) -> PeriodValue:
    obj = _exactly(value, '{"period": "2008", "value": 100}', _PERIOD_FIELDS, "", 'must have "period" and "value"')
    return PeriodValue(_inside(label, obj["period"], "period"), _inside(decimal, obj["value"], "value"))


def period_values(value: Any) -> list[PeriodValue]:
    return _items(value, 'a list of {"period", "value"}', period_value)


shares = mapping_of('an object of shares, {"party": "0.5"}', non_negative)
caps = mapping_of('an object of annual caps, {"party": {"amount": ..., "currency": ...}}', non_negative_money)
votes = mapping_of('an object of votes, {"party": "for"}', enum_of(Vote))
scores = mapping_of('an object of scores, {"criterion": 4}', integer, key_parser=text)


def changes(value: Any) -> dict[str, Any]:
    obj = _obj(value, "an object of changes to the terms")
    if not obj:
        raise FieldError("must change something")
    out = {}
    for name, v in obj.items():
        if name not in CHANGES:
            raise FieldError(f"cannot change {name!r} (changeable: {', '.join(CHANGES)})")
        out[name] = _inside(CHANGES[name], v, "{}", name)
    return out


def org_ids(value: Any) -> list[str]:
    """A list of organisation identifiers (org-id.guide), each checked
    (:func:`~partnership_ledger.standards.identifiers.check_identifier`)."""
    from ..standards.identifiers import check_identifiers  # the standards package is small

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
    from ..standards.identifiers import check_area

    if not isinstance(value, str):
        raise FieldError(f"must be an area code such as JP-LGC-072010, not {describe(value)}")
    try:
        check_area(value)
    except IdentifierError as e:
        raise FieldError(str(e)) from None
    return value


def op_ref(value: Any) -> str:
    """An operation's id, as ``history`` shows it (not a key of the ledger: it is not looked up as one)."""
    return key(value)


#: The parser of each journal field, by the field's name: a name means the same in every op
#: (the ops that read a field otherwise say so: :data:`~.operations.OPS`).
FIELDS: dict[str, Callable[[Any], Any]] = {
    **dict.fromkeys(
        ("key", "party", "partnership", "agreement", "amendment", "contribution", "target", "evaluation"), key
    ),
    **dict.fromkeys(("evaluator", "proposed_by", "parent", "recipient", "evidence_subject"), key),
    **dict.fromkeys(("name", "title", "purpose", "subject", "reason", "role", "description", "comment"), text),
    **dict.fromkeys(("unit", "valuation_basis", "evidence", "indicator", "source"), text),
    **dict.fromkeys(("on", "start", "end", "delivered_on"), a_date),
    **dict.fromkeys(("members", "parties"), keys),
    **dict.fromkeys(("evidence_private", "comment_public"), boolean),
    **dict.fromkeys(("delivery", "operation"), op_ref),
    "period": label,
    "sector": enum_of(Sector),
    "capacity": non_negative_money,
    "identifiers": org_ids,
    "area": area_code,
    "rule": enum_of(DecisionRule),
    "votes": votes,
    "shares": shares,
    "annual_caps": caps,
    "max_years": positive_int,
    "fiscal_year_start": month,
    "changes": changes,
    "kind": enum_of(ContributionKind),
    "value": positive_money,
    "quantity": non_negative,
    "instrument": enum_of(Instrument),
    "fiscal_year": year,
    "delta": nonzero_money,
    "direction": enum_of(Direction),
    "baseline": period_value,
    "targets": period_values,
    "criteria": texts,
    "scale_max": scale,
    "resident_weight": weight,
    "scores": scores,
}

#: What ``amend_agreement`` may change: the terms of ``draft_agreement``.
CHANGES = {
    name: FIELDS[name] for name in ("title", "start", "end", "shares", "annual_caps", "max_years", "fiscal_year_start")
}
