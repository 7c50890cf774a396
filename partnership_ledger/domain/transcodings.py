"""Transcodings that let eventsourcing's JSON transcoder store the value objects."""

from __future__ import annotations

import enum
import json
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import attrs
from eventsourcing.persistence import JSONTranscoder, Transcoding, TranscodingNotRegisteredError

from .values import ENUMS, Money, OpMeta, PeriodValue, Terms


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class AttrsTranscoding(Transcoding):
    """Stores an attrs value object as a dict of its fields (each encoded in turn)."""

    def __init__(self, cls: type[Any], name: str) -> None:
        self.type = cls
        self.name = name

    def encode(self, obj: Any) -> dict[str, Any]:
        return {f.name: getattr(obj, f.name) for f in attrs.fields(self.type)}

    def decode(self, data: dict[str, Any]) -> Any:
        return self.type(**data)


class EnumTranscoding(Transcoding):
    """Stores an enum member as its value."""

    def __init__(self, cls: type[enum.Enum]) -> None:
        self.type = cls
        self.name = cls.__name__.lower()

    def encode(self, obj: enum.Enum) -> Any:
        return obj.value

    def decode(self, data: Any) -> enum.Enum:
        member: enum.Enum = self.type(data)
        return member


def register_transcodings(transcoder: JSONTranscoder) -> None:
    """Register every value type that appears in the ledger's event payloads."""
    transcoder.register(DateAsISO())
    transcoder.register(AttrsTranscoding(Money, "money"))
    transcoder.register(AttrsTranscoding(OpMeta, "op_meta"))
    transcoder.register(AttrsTranscoding(PeriodValue, "period_value"))
    transcoder.register(AttrsTranscoding(Terms, "terms"))
    for cls in ENUMS:
        transcoder.register(EnumTranscoding(cls))


class LedgerTranscoder(JSONTranscoder):
    """eventsourcing's JSON transcoder, with quicker paths for the ledger's own value types.

    It writes exactly the bytes :class:`~eventsourcing.persistence.JSONTranscoder` writes with
    the transcodings above (``{"_type_": name, "_data_": ...}``, nested the same way) and reads
    what it reads: only the work per object is less. The generic path has the JSON encoder
    call back for every value it does not know (a ``Money`` twice: the money, then its
    Decimal), and walks the attrs fields each time; here the text of an event's state is put
    together directly. Types without a quick path, and names that are not registered, go
    the generic way.
    """

    def __init__(self) -> None:
        super().__init__()
        # Events hold no cycles: the encoder need not track every container it enters.
        self.encoder = json.JSONEncoder(
            default=self._encode_obj,
            separators=(",", ":"),
            ensure_ascii=False,
            check_circular=False,
        )
        self._quick_encoders: dict[type, Callable[[Any], dict[str, Any]]] = {}
        self._quick_decoders: dict[str, Callable[[Any], Any]] = {}
        self._quick_texts: dict[type, Callable[[Any], str]] = {}

    def register(self, transcoding: Transcoding) -> None:
        super().register(transcoding)
        self._quick_encoders.pop(transcoding.type, None)
        self._quick_decoders.pop(transcoding.name, None)
        self._quick_texts.pop(transcoding.type, None)
        quick = _quick_paths(transcoding)
        if quick is not None:
            self._quick_encoders[transcoding.type] = quick[0]
            self._quick_decoders[transcoding.name] = quick[1]
            self._quick_texts[transcoding.type] = self._text_of(transcoding)

    def _text_of(self, t: Transcoding) -> Callable[[Any], str]:
        """A function giving the JSON text of a value of ``t.type`` (see :func:`_quick_paths`)."""
        head = '{"_type_":' + _json_str(t.name) + ',"_data_":'
        text = self._text
        if isinstance(t, AttrsTranscoding) and t.type is Money:
            return lambda o: head + '{"amount":' + text(o.amount) + ',"currency":' + text(o.currency) + "}}"
        if isinstance(t, AttrsTranscoding):
            names = [(n, _json_str(n) + ":") for n in (f.name for f in attrs.fields(t.type))]
            return lambda o: head + "{" + ",".join([k + text(getattr(o, n)) for n, k in names]) + "}}"
        if isinstance(t, EnumTranscoding):
            return lambda o: head + text(o.value) + "}"
        if t.type is Decimal:
            return lambda o: head + _json_str(str(o)) + "}"
        if t.type is UUID:
            return lambda o: head + _json_str(o.hex) + "}"
        return lambda o: head + _json_str(o.isoformat()) + "}"  # datetime, date

    def encode(self, obj: Any) -> bytes:
        # The JSON text is put together here for the usual values (an event's state holds
        # strings, numbers, dates, money, metadata) instead of by the JSON encoder calling
        # back for every value it does not know; the text is the same as the encoder's.
        return self._text(obj).encode("utf8")

    def _text(self, v: Any) -> str:
        t = type(v)
        if t is str:
            return _json_str(v)
        if v is None:
            return "null"
        if t is int:
            return int.__repr__(v)
        if t is bool:
            return "true" if v else "false"
        if t is dict:
            try:
                return "{" + ",".join([_json_str(k) + ":" + self._text(x) for k, x in v.items()]) + "}"
            except TypeError:
                pass  # a name that is not a string (the generic way turns some into strings)
        elif t is list:
            return "[" + ",".join([self._text(x) for x in v]) + "]"
        else:
            quick = self._quick_texts.get(t)
            if quick is not None:
                return quick(v)
        return self.encoder.encode(v)  # anything else, the generic way

    def _encode_obj(self, o: Any) -> dict[str, Any]:
        quick = self._quick_encoders.get(type(o))
        if quick is not None:
            return quick(o)
        return super()._encode_obj(o)

    def _decode_obj(self, d: dict[str, Any]) -> Any:
        if len(d) != 2:
            return d
        name = d.get("_type_", _MISSING)
        if name is _MISSING or "_data_" not in d:
            return d
        quick = self._quick_decoders.get(name) if isinstance(name, str) else None
        if quick is not None:
            return quick(d["_data_"])
        transcoding = self.names.get(name) if isinstance(name, str) else None
        if transcoding is None:
            msg = (
                f"Data serialized with name '{name}' is not deserializable. "
                "Please register a custom transcoding for this type."
            )
            raise TranscodingNotRegisteredError(msg)
        return transcoding.decode(d["_data_"])


_MISSING = object()
_json_str: Callable[[str], str] = json.encoder.encode_basestring


def _decimal_str(value: Decimal) -> dict[str, Any]:
    return {"_type_": "decimal_str", "_data_": str(value)}


def _quick_paths(t: Transcoding) -> tuple[Callable[[Any], dict[str, Any]], Callable[[Any], Any]] | None:
    """Quick encode and decode functions equivalent to ``t``, for the transcodings we know."""
    name = t.name
    cls: type[Any] = t.type
    kind = type(t).__name__
    if cls is Decimal and name == "decimal_str" and kind == "DecimalAsStr":
        return _decimal_str, Decimal
    if cls is datetime and name == "datetime_iso" and kind == "DatetimeAsISO":
        return (lambda o: {"_type_": name, "_data_": o.isoformat()}), _datetime_from_iso
    if cls is UUID and name == "uuid_hex" and kind == "UUIDAsHex":
        return (lambda o: {"_type_": name, "_data_": o.hex}), _uuid_from_hex
    if isinstance(t, DateAsISO):
        return (lambda o: {"_type_": name, "_data_": o.isoformat()}), date.fromisoformat
    if isinstance(t, EnumTranscoding):
        return (lambda o: {"_type_": name, "_data_": o.value}), cls
    if isinstance(t, AttrsTranscoding) and cls is Money:
        return (
            lambda o: {
                "_type_": name,
                "_data_": {"amount": _amount(o.amount), "currency": o.currency},
            }
        ), lambda data: Money(**data)
    if isinstance(t, AttrsTranscoding):
        names = tuple(f.name for f in attrs.fields(cls))
        return (lambda o: {"_type_": name, "_data_": {n: getattr(o, n) for n in names}}), lambda data: cls(**data)
    return None


def _amount(value: Any) -> Any:
    # A Money's amount is a Decimal (the journal and the domain make sure of it); anything
    # else is left to the encoder, as the generic path would.
    return _decimal_str(value) if type(value) is Decimal else value


def _datetime_from_iso(data: str) -> datetime:
    assert isinstance(data, str)
    return datetime.fromisoformat(data)


def _uuid_from_hex(data: str) -> UUID:
    assert isinstance(data, str)
    return UUID(data)
