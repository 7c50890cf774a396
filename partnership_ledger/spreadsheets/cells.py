"""One cell to one journal value and back: what a clerk types, made into what the journal reads.

Reading is lenient where a spreadsheet or a clerk's habit changes the look of a value but not
its meaning (a date cell, ``1,000,000``, full-width ``１，０００，０００``, a trailing ``円``,
``▲`` for minus, ``2008/4/1``) and strict where the meaning may have changed: a number cell
that is not the exact decimal a person typed (``1234.5600000001``, the trace of arithmetic in
binary floating point) is refused, never rounded. The values made are the journal's own JSON
values (decimal strings, integers, ISO dates), so a row gives the same operation, and the
same operation id, as the equivalent line of a JSON journal.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from .columns import Kind

#: First characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection").
FORMULA_CHARS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER_RE = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_GROUPED_RE = re.compile(r"-?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?")
_DATE_RE = re.compile(r"([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})")
_JA_DATE_RE = re.compile(r"([0-9]{4})年([0-9]{1,2})月([0-9]{1,2})日")
_NOISE_RE = re.compile(r"\.[0-9]*(0{6,}|9{6,})[0-9]{1,3}\Z")  # 1234.5600000001, 0.29999999999
_EXCEL_MAX_SERIAL = 2_958_465  # 9999-12-31
_TRUE = {"true", "yes", "y", "1", "はい", "○", "◯", "有"}
_FALSE = {"false", "no", "n", "0", "いいえ", "×", "無"}


class CellError(Exception):
    """A cell's value cannot be read as its column's kind; the message says why."""


def needs_neutralising(text: str) -> bool:
    """Whether a text cell would be read as a formula by a spreadsheet (and is not a number)."""
    return text.lstrip("'")[:1] in FORMULA_CHARS and not _NUMBER_RE.fullmatch(text)


def neutralise(text: str) -> str:
    """``text`` with a leading ``'`` if a spreadsheet would read it as a formula (for CSV;
    :func:`unneutralise` takes it off again, so the text round-trips)."""
    return "'" + text if needs_neutralising(text) else text


def unneutralise(text: str) -> str:
    """The text a CSV cell written by :func:`neutralise` stands for."""
    if text[:1] == "'" and text[1:].lstrip("'")[:1] in FORMULA_CHARS:
        return text[1:]
    return text


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def number_text(value: Any, *, what: str = "amount") -> str:
    """A cell as decimal text ("1234.5"), normalised: separators, full-width digits, 円."""
    if isinstance(value, bool):
        raise CellError(f"{_shown(value).upper()} is not {'an' if what[0] in 'aeiou' else 'a'} {what}")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_text(value, what)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (datetime, date)):
        raise CellError(f"{value.isoformat()[:10]} is a date, not {_a(what)}: format the column as text")
    text = unicodedata.normalize("NFKC", str(value)).strip().lstrip("'").replace(" ", "")
    if text.endswith("円"):
        text = text[:-1]
    text = text.removeprefix("¥").removeprefix("$")
    if text[:1] in ("▲", "△"):  # the Japanese accountant's minus
        text = "-" + text[1:]
    if _GROUPED_RE.fullmatch(text):
        text = text.replace(",", "")
    if not _NUMBER_RE.fullmatch(text):
        raise CellError(f"{_shown(value)!r} is not {_a(what)}")
    return text


def _a(what: str) -> str:
    return f"an {what}" if what[0] in "aeiou" else f"a {what}"


def _float_text(value: float, what: str) -> str:
    if not math.isfinite(value):
        raise CellError(f"{value} is not {_a(what)}")
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    shortest = repr(value)
    try:
        exact = Decimal(shortest)
    except InvalidOperation:  # pragma: no cover - repr of a finite float is a decimal
        raise CellError(f"{shortest} is not {_a(what)}") from None
    digits = len(exact.as_tuple().digits)
    if digits > 15 or "e" in shortest or _NOISE_RE.search(format(exact, "f")):
        raise CellError(f"{format(exact, 'f')} is not an exact {what}: format the column as text")
    return format(exact, "f")


#: Japanese era names and the year before each era's first (平成21年度 is fiscal 2009).
_ERAS = {"令和": 2018, "平成": 1988, "昭和": 1925}
_ERA_RE = re.compile(r"(令和|平成|昭和)(元|[0-9]{1,2})年?度?")


def integer_value(value: Any) -> int:
    if isinstance(value, str):
        era = _ERA_RE.fullmatch(unicodedata.normalize("NFKC", value).strip())
        if era is not None:
            return _ERAS[era[1]] + (1 if era[2] == "元" else int(era[2]))
    text = number_text(value, what="whole number")
    if "." in text:
        whole, _, fraction = text.partition(".")
        if fraction.strip("0"):
            raise CellError(f"{text} is not a whole number")
        text = whole
    return int(text)


def date_value(value: Any) -> str:
    """A date cell, an Excel serial number or a text date, as ISO ``YYYY-MM-DD``."""
    if isinstance(value, datetime):
        if value.time() != time(0):
            raise CellError(f"{value.isoformat(sep=' ')} has a time of day: a date has none")
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not (isinstance(value, int) or value.is_integer()) or not 1 <= value <= _EXCEL_MAX_SERIAL:
            raise CellError(f"{_shown(value)} is not a date")
        from openpyxl.utils.datetime import from_excel

        found = from_excel(int(value))
        assert isinstance(found, datetime)
        return found.date().isoformat()
    text = unicodedata.normalize("NFKC", str(value)).strip()
    m = _DATE_RE.fullmatch(text) or _JA_DATE_RE.fullmatch(text)
    if m is None:
        return text  # the journal says what a date should look like
    try:
        return date(int(m[1]), int(m[2]), int(m[3])).isoformat()
    except ValueError:
        raise CellError(f"{text!r} is not a real date") from None


def text_value(value: Any, *, strip: bool = False) -> str:
    """A cell as text: numbers as a person would have typed them, dates ISO."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return number_text(value, what="number")
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return text.strip() if strip else text


def boolean_value(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = unicodedata.normalize("NFKC", str(value)).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CellError(f"{_shown(value)!r} is not true or false (TRUE/FALSE, yes/no, はい/いいえ)")


def _split(text: str, separators: str = ";；") -> list[str]:
    parts = re.split(f"[{separators}]", text)
    return [p.strip() for p in parts if p.strip()]


def _as_json(text: str, what: str) -> Any:
    try:
        return json.loads(text, parse_float=Decimal)
    except (ValueError, RecursionError):
        raise CellError(f"starts like JSON but is not valid JSON ({what})") from None


def _json_numbers(value: Any) -> Any:
    """JSON read with Decimal floats, back to the journal's values (decimal strings)."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, list):
        return [_json_numbers(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_numbers(v) for k, v in value.items()}
    return value


def _money_text(text: str) -> dict[str, str]:
    """ "10,000,000 JPY", "JPY 10000000" or "10000000円" as journal money."""
    parts = unicodedata.normalize("NFKC", text).split()
    currency = None
    if len(parts) == 2:
        if re.fullmatch("[A-Za-z]{3}", parts[1]):
            currency, parts = parts[1].upper(), [parts[0]]
        elif re.fullmatch("[A-Za-z]{3}", parts[0]):
            currency, parts = parts[0].upper(), [parts[1]]
    if len(parts) != 1:
        raise CellError(f"{text!r} is not an amount with its currency, such as 10000000 JPY")
    if currency is None:
        if parts[0].endswith("円") or parts[0].startswith("¥"):
            currency = "JPY"
        else:
            raise CellError(f"{text!r} has no currency: write it as 10000000 JPY")
    return {"amount": number_text(parts[0]), "currency": currency}


def _item(text: str, kind: Kind) -> Any:
    match kind.item:
        case "decimal":
            return number_text(text, what="number")
        case "integer":
            return integer_value(text)
        case "money":
            return _money_text(text)
    return text


_Shape = TypeVar("_Shape", dict[str, Any], list[Any])


def _json_of(text: str, shape: type[_Shape], example: str) -> _Shape:
    """A cell written as a JSON object or array (``shape``: dict or list), numbers kept exact."""
    found = _json_numbers(_as_json(text, example))
    if not isinstance(found, shape):  # pragma: no cover - the text starts with "{" or "["
        raise CellError("is not an object" if shape is dict else "is not a list")
    return found


def map_value(value: Any, kind: Kind) -> dict[str, Any]:
    """``key=value; key=value`` (or a JSON object) as a journal object."""
    text = text_value(value).strip()
    if text.startswith("{"):
        return _json_of(text, dict, 'such as {"a": "1"}')
    out: dict[str, Any] = {}
    for part in _split(text):
        name, eq, item = part.partition("=")
        if not eq:
            name, eq, item = part.partition("＝")
        if not eq or not name.strip():
            raise CellError(f"{part!r} is not name=value (write entries as name=value; name=value)")
        name = name.strip()
        if name in out:
            raise CellError(f"names {name!r} twice")
        out[name] = _item(item.strip(), kind)
    return out


def list_value(value: Any, kind: Kind) -> list[Any]:
    """``a; b; c`` (or a JSON array) as a journal list."""
    text = text_value(value).strip()
    if text.startswith("["):
        return _json_of(text, list, 'such as ["a", "b"]')
    if kind.name == "keys":
        return _split(text, ";；,、")
    return _split(text)


def period_values_value(value: Any) -> list[dict[str, Any]]:
    """``2008=3000; 2009=6000`` (or a JSON array) as ``[{"period", "value"}]``."""
    text = text_value(value).strip()
    if text.startswith("["):
        return _json_of(text, list, '[{"period": "2008", "value": "3000"}]')
    items = map_value(text, Kind("map", item="decimal"))
    return [{"period": p, "value": v} for p, v in items.items()]


def json_value(value: Any) -> Any:
    """A field this module has no rule for: JSON when it looks like it, numbers, else text."""
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in ("[", "{"):
            return _json_numbers(_as_json(stripped, "a list or an object"))
        return value
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        text = number_text(value, what="number")
        return int(text) if "." not in text else text
    return text_value(value)


def read_cell(value: Any, kind: Kind, *, csv: bool = False) -> Any:
    """The journal value of a non-empty cell in a column of ``kind``.

    ``csv``: the cell came from a CSV file, whose text may carry the ``'`` that keeps a
    spreadsheet from reading it as a formula (see :func:`neutralise`).
    """
    if csv and isinstance(value, str):
        value = unneutralise(value)
    match kind.name:
        case "key" | "enum" | "currency":
            text = text_value(value, strip=True)
            return text.upper() if kind.name == "currency" and len(text) == 3 else text
        case "text":
            return text_value(value)
        case "label":
            if isinstance(value, (datetime, date)):
                raise CellError(f"{value.isoformat()[:10]} is a date, not a period label: format the column as text")
            return text_value(value, strip=True)
        case "date":
            return date_value(value)
        case "decimal":
            return number_text(value)
        case "integer":
            return integer_value(value)
        case "boolean":
            return boolean_value(value)
        case "keys" | "texts":
            return list_value(value, kind)
        case "map":
            return map_value(value, kind)
        case "period_values":
            return period_values_value(value)
    return json_value(value)


# -- writing --------------------------------------------------------------------------------


def map_text(value: dict[str, Any], kind: Kind) -> str:
    """A journal object as ``key=value; key=value``, or JSON where that would be ambiguous."""
    parts = []
    for name, item in value.items():
        if isinstance(item, dict) and set(item) == {"amount", "currency"}:
            shown = f"{item['amount']} {item['currency']}"
        else:
            shown = str(item)
        if _ambiguous(name) or _ambiguous(shown) or name != name.strip() or not name:
            return json.dumps(value, ensure_ascii=False)
        parts.append(f"{name}={shown}")
    return "; ".join(parts)


def _ambiguous(text: str) -> bool:
    return any(c in text for c in ";；=＝") or text != text.strip() or text[:1] in ("[", "{")


def list_text(value: list[Any], kind: Kind) -> str:
    if kind.name == "period_values":
        plain = all(isinstance(v, dict) and set(v) == {"period", "value"} for v in value)
        if plain and len({v["period"] for v in value}) == len(value):
            return map_text({v["period"]: v["value"] for v in value}, Kind("map", item="decimal"))
        return json.dumps(value, ensure_ascii=False)
    items = [str(v) for v in value]
    if not items or any(_ambiguous(i) or not i for i in items):
        return json.dumps(value, ensure_ascii=False)
    return "; ".join(items)


def write_value(value: Any, kind: Kind) -> Any:
    """A journal JSON value as what a cell of ``kind`` holds (a date for a date column, text
    for an amount, an int for an integer...); the reader gives ``value`` back."""
    match kind.name:
        case "date":
            if isinstance(value, str):
                try:
                    return date.fromisoformat(value)
                except ValueError:
                    return value
            return value
        case "keys" | "texts" | "period_values":
            return list_text(value, kind) if isinstance(value, list) else value
        case "map":
            return map_text(value, kind) if isinstance(value, dict) else value
        case "json":
            if isinstance(value, (dict, list)):
                return json.dumps(value, ensure_ascii=False)
            return value
        case "decimal":
            return str(value)
    return value
