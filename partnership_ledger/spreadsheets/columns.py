"""The columns of each operation's sheet, derived from the journal's own operation table.

Every op of :data:`partnership_ledger.journal.OPS` gets a sheet; every field a column (or two,
for a nested object: ``value/amount`` and ``value/currency``, flattentool's convention). What
a cell holds, and how it is read and written, follows from the field's parser in the journal
(:func:`kind_of`), so an op or field added to the journal appears in the template, the reader
and the writer without being named here. A parser this module does not know is read as
text (or JSON, when the cell starts with ``[`` or ``{``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from .. import journal
from ..domain.values import Vote
from ..journal import fields as journal_fields

#: The sheets' order: the ops others depend on first, the ones that end things last (a
#: pledge before the partnership is concluded, a submission before its evaluation closes).
#: Ops the journal adds later and that are not named here come at the end, in the journal's
#: order.
SHEET_ORDER: tuple[str, ...] = (
    "register_party",
    "amend_party",
    "propose_partnership",
    "join_partnership",
    "activate_partnership",
    "record_decision",
    "draft_agreement",
    "sign_agreement",
    "amend_agreement",
    "consent_amendment",
    "pledge",
    "deliver",
    "correct_contribution",
    "withdraw_pledge",
    "define_target",
    "record_measurement",
    "revise_target",
    "open_evaluation",
    "submit_evaluation",
    "close_evaluation",
    "terminate_agreement",
    "leave_partnership",
    "conclude_partnership",
    "void_operation",
    "erase_subject",
)

#: Columns every sheet ends with: the journal's metadata, and the recorded order (``seq``).
META_COLUMNS: tuple[str, ...] = ("by", "note", "id", "seq")


@attrs.frozen
class Kind:
    """What a cell holds: ``name`` (key, text, label, enum, date, decimal, integer, boolean,
    keys, texts, map, period_values, json), the choices of an enum, and for a map the kind
    of its values (``decimal``, ``money``, ``enum``, ``integer``) and their choices."""

    name: str
    choices: tuple[str, ...] = ()
    item: str | None = None


@attrs.frozen
class SheetColumn:
    """One column of an op's sheet: its header, the journal field (and sub-field) it fills."""

    header: str
    field: str
    sub: str | None
    kind: Kind
    required: bool

    @property
    def is_amount(self) -> bool:
        """A decimal number kept exact: written as text, so that no spreadsheet rounds it."""
        return self.kind.name == "decimal"


def _enum_choices(parser: Callable[[Any], Any]) -> tuple[str, ...] | None:
    return journal.ENUM_CHOICES.get(parser)


_DECIMALS = {"decimal", "non_negative", "weight"}
_INTEGERS = {"integer", "year", "month", "scale", "positive_int", "score"}
_MONEYS = {"money", "positive_money", "non_negative_money", "nonzero_money"}
#: Parsers of the journal known by name (some are newer than others): lists of codes in one
#: cell separated by ";", a single code kept as typed (trimmed).
_NAMED: dict[str, Kind] = {"org_ids": Kind("texts"), "area_code": Kind("key")}
_MAPS: dict[str, Kind] = {
    "shares": Kind("map", item="decimal"),
    "caps": Kind("map", item="money"),
    "scores": Kind("map", item="integer"),
}


#: Journal field parsers read from one cell of their own kind (parser name -> kind).
_SIMPLE = {
    "key": "key",
    "text": "text",
    "label": "label",
    "a_date": "date",
    "boolean": "boolean",
    "keys": "keys",
    "texts": "texts",
    "period_values": "period_values",
}


def kind_of(parser: Callable[[Any], Any]) -> Kind | None:
    """The kind of cell a journal field parser reads; None for money, period values and
    changes (which take several columns: see :func:`columns_of`)."""
    choices = _enum_choices(parser)
    if choices is not None:
        return Kind("enum", choices)
    named = {id(getattr(journal_fields, n, None)): n for n in (*_DECIMALS, *_INTEGERS, *_MONEYS, *_MAPS, *_NAMED)}
    name = named.get(id(parser))
    simple = {getattr(journal_fields, n): kind for n, kind in _SIMPLE.items()}.get(parser)
    if simple is not None:
        return Kind(simple)
    if parser is journal.votes:
        return Kind("map", item="enum", choices=tuple(v.value for v in Vote))
    if name in _DECIMALS:
        return Kind("decimal")
    if name in _INTEGERS:
        return Kind("integer")
    if name in _MAPS:
        return _MAPS[name]
    if name in _NAMED:
        return _NAMED[name]
    if name in _MONEYS or parser in (journal.period_value, journal.changes):
        return None
    return Kind("json")


_AMOUNT = Kind("decimal")
_CURRENCY = Kind("currency")


def _field_columns(field: str, parser: Callable[[Any], Any], required: bool) -> list[SheetColumn]:
    named = {id(getattr(journal_fields, n, None)) for n in _MONEYS}
    if id(parser) in named:
        return [
            SheetColumn(f"{field}/amount", field, "amount", _AMOUNT, required),
            SheetColumn(f"{field}/currency", field, "currency", _CURRENCY, required),
        ]
    if parser is journal.period_value:
        return [
            SheetColumn(f"{field}/period", field, "period", Kind("label"), required),
            SheetColumn(f"{field}/value", field, "value", _AMOUNT, required),
        ]
    if parser is journal.changes:
        out = []
        for name, sub_parser in journal.CHANGES.items():
            sub_kind = kind_of(sub_parser) or Kind("json")
            out.append(SheetColumn(f"{field}/{name}", field, name, sub_kind, False))
        return out
    kind = kind_of(parser)
    assert kind is not None
    return [SheetColumn(field, field, None, kind, required)]


def sheet_ops() -> list[str]:
    """Every op of the journal, in the sheets' order."""
    known = [op for op in SHEET_ORDER if op in journal.OPS]
    return known + [op for op in journal.OPS if op not in SHEET_ORDER]


def columns_of(op: str) -> list[SheetColumn]:
    """The columns of ``op``'s sheet: its fields in the journal's order, then the metadata."""
    out: list[SheetColumn] = []
    for field, (parser, required) in journal.OPS[op].items():
        out.extend(_field_columns(field, parser, required))
    out += [
        SheetColumn("by", "by", None, Kind("text"), False),
        SheetColumn("note", "note", None, Kind("text"), False),
        SheetColumn("id", "id", None, Kind("key"), False),
        SheetColumn("seq", "seq", None, Kind("integer"), False),
    ]
    return out


def all_columns() -> dict[str, list[SheetColumn]]:
    """Every op's columns, in the sheets' order."""
    return {op: columns_of(op) for op in sheet_ops()}
