"""Transcodings that let eventsourcing's JSON transcoder store the ledger's value objects.

The events are stored by eventsourcing's own ``Mapper`` and ``JSONTranscoder`` with these
transcodings registered (``{"_type_": name, "_data_": ...}``): the stored bytes are what the
hash chain covers, so a transcoding's name and encoding never change for a stored type.
"""

from __future__ import annotations

import enum
from datetime import date
from typing import Any

import attrs
from eventsourcing.persistence import (
    JSONTranscoder,
    Transcoding,
)

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
