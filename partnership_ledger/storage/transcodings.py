"""How events are stored as bytes: eventsourcing's JSON transcoder, its transcodings for the
ledger's value objects, and the same bytes written and read with orjson.

The stored bytes are what the hash chain covers: a transcoding's name and encoding
(``{"_type_": name, "_data_": ...}``) never change for a stored type.
"""

from __future__ import annotations

import enum
from datetime import date
from typing import Any

import attrs
import orjson
from eventsourcing.persistence import JSONTranscoder, Transcoding

from ..domain.values import ENUMS, Money, OpMeta, PeriodValue, Terms


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
        self.fields = [f.name for f in attrs.fields(cls)]

    def encode(self, obj: Any) -> dict[str, Any]:
        return {name: getattr(obj, name) for name in self.fields}

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


#: The types orjson writes exactly as ``json`` does (these types, not their subclasses).
_SCALARS = frozenset((str, int, bool, type(None)))
#: What ``json`` writes as it is (and a subclass of any of them).
_JSON_TYPES = (str, int, float, list, tuple, dict)


class _NotPlain(Exception):
    """A value that orjson would not write or read as ``json`` does (a float, a subclass of a
    JSON type, an unregistered type): the whole object is left to ``JSONTranscoder``."""


class OrjsonTranscoder(JSONTranscoder):
    """``JSONTranscoder``, writing the very same bytes and reading the very same values with orjson.

    Writing, the object becomes plain JSON values (a registered type's value tagged as
    ``JSONTranscoder`` tags it) that orjson writes as ``json`` does with ``ensure_ascii=False``
    (``tests/unit/test_storage_transcoder.py``). Reading, orjson parses and each tagged object
    is decoded by its transcoding, innermost first, as ``JSONTranscoder``'s ``object_hook``
    does. What orjson would write or read otherwise (a float, a subclass of a JSON type, an
    integer beyond 64 bits, a key not text, ``NaN``, a lone surrogate, an unregistered name)
    is left to ``JSONTranscoder`` itself.
    """

    def __init__(self) -> None:
        super().__init__()
        #: The registered types ``json`` cannot write itself (a subclass of ``str``, ``int``...
        #: is written as what it is, never tagged).
        self.tagged: dict[type, Transcoding] = {}

    def register(self, transcoding: Transcoding) -> None:
        super().register(transcoding)
        if not issubclass(transcoding.type, _JSON_TYPES):
            self.tagged[transcoding.type] = transcoding

    def encode(self, obj: Any) -> bytes:
        try:
            return orjson.dumps(self._plain(obj))
        except (_NotPlain, orjson.JSONEncodeError):
            return super().encode(obj)

    def decode(self, data: bytes) -> Any:
        try:
            return self._typed(orjson.loads(data))
        except (_NotPlain, orjson.JSONDecodeError):
            return super().decode(data)

    def _typed(self, value: Any) -> Any:
        """``value`` as parsed by orjson, each tagged object decoded by its transcoding."""
        kind = type(value)
        if kind is dict:
            if len(value) == 2 and "_type_" in value and "_data_" in value:
                name, data = value["_type_"], value["_data_"]
                transcoding = self.names.get(name) if type(name) is str else None
                if transcoding is None:
                    raise _NotPlain  # JSONTranscoder says what is wrong
                return transcoding.decode(data if type(data) in _SCALARS else self._typed(data))
            for key, item in value.items():
                if type(item) not in _SCALARS:
                    value[key] = self._typed(item)  # (the same keys: the dict may change as it is read)
            return value
        if kind is list:
            return [item if type(item) in _SCALARS else self._typed(item) for item in value]
        if kind in _SCALARS:
            return value
        raise _NotPlain  # a float

    def _plain(self, value: Any) -> Any:
        """``value`` as plain JSON values: text, integers, booleans, None, dicts and lists."""
        kind = type(value)
        if kind in _SCALARS:
            return value
        transcoding = self.tagged.get(kind)
        if transcoding is not None:
            data = transcoding.encode(value)
            return {"_type_": transcoding.name, "_data_": data if type(data) in _SCALARS else self._plain(data)}
        if kind is dict:
            return {key: item if type(item) in _SCALARS else self._plain(item) for key, item in value.items()}
        if kind is list or kind is tuple:
            return [item if type(item) in _SCALARS else self._plain(item) for item in value]
        raise _NotPlain  # a float, a subclass of a JSON type, a type not registered
