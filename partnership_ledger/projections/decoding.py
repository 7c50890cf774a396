"""Decoding stored events for the read models, faster than going through the mapper.

A rebuild decodes every stored event; most of a large ledger's are pledges and deliveries,
whose state our own transcoder writes in one fixed layout (the stored bytes are the
contract, see DESIGN.md). For those two, one regular expression over the stored bytes picks
out every field, and the values are made by the transcoder's own decoders: the same event
as the mapper makes (tests/test_read_model_decoding.py holds them equal). Any state the
expression does not match (a string with an escape in it, a layout written by another
version) goes the generic way: the transcoder's JSON decoding, then the event made as
eventsourcing's mapper makes it. Without a transcoder of ours (or with a cipher or
compressor) the mapper itself decodes everything.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

if TYPE_CHECKING:
    from eventsourcing.persistence import Mapper

# The expressions run only on states without a backslash (the callers check first): there,
# every string is one without escapes, and ``[^"]*`` (a quicker loop than a class of two
# characters) reads one to its end.
_S = rb'"([^"]*)"'  # a JSON string without escapes
_N = rb'(?:null|"([^"]*)")'  # null, or such a string
# A recorded time as ``datetime.isoformat`` writes an aware one (microseconds only when not
# zero, a zero offset as +00:00): the text is then the very one that isoformat makes of the
# time it decodes to, which the history rows keep (any other form goes the generic way).
_ISO_STAMP = rb'"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.(?!000000)[0-9]{6})?'
_ISO_STAMP += rb'(?:\+[0-9]{2}:[0-9]{2}|-(?!00:00)[0-9]{2}:[0-9]{2}))"'
_TIMESTAMP = rb'\{"timestamp":\{"_type_":"datetime_iso","_data_":' + _ISO_STAMP + rb"\}"
_MONEY = rb'\{"_type_":"money","_data_":\{"amount":\{"_type_":"decimal_str","_data_":' + _S + rb'\},"currency":' + _S
_MONEY += rb"\}\}"
_META_OBJECT = rb'"meta":\{"_type_":"op_meta","_data_":\{"op_id":' + _S + rb',"by":' + _N + rb',"note":' + _N + rb"\}\}"
_META = _META_OBJECT + rb"\}\Z"

#: timestamp, amount, currency, on, evidence, op_id, by, note
_DELIVERED = re.compile(
    _TIMESTAMP
    + rb',"value":'
    + _MONEY
    + rb',"on":\{"_type_":"date_iso","_data_":'
    + _S
    + rb'\},"evidence":'
    + _N
    + rb","
    + _META
)
#: timestamp, originator_topic, key, partnership, party, agreement, kind_of_resource, amount,
#: currency, quantity, unit, valuation_basis, instrument, fiscal_year, description, op_id, by, note,
#: recipient's field (absent from pledges stored before it), recipient
_PLEDGED = re.compile(
    _TIMESTAMP
    + rb',"originator_topic":'
    + _S
    + rb',"key":'
    + _S
    + rb',"partnership":'
    + _S
    + rb',"party":'
    + _S
    + rb',"agreement":'
    + _N
    + rb',"kind_of_resource":\{"_type_":"contributionkind","_data_":'
    + _S
    + rb'\},"value":'
    + _MONEY
    + rb',"quantity":(?:null|\{"_type_":"decimal_str","_data_":'
    + _S
    + rb'\}),"unit":'
    + _N
    + rb',"valuation_basis":'
    + _N
    + rb',"instrument":(?:null|\{"_type_":"instrument","_data_":'
    + _S
    + rb'\}),"fiscal_year":(-?[0-9]+),"description":'
    + _N
    + rb","
    + _META_OBJECT
    + rb'(,"recipient":'
    + _N
    + rb")?"
    + rb'(,"on":(?:null|\{"_type_":"date_iso","_data_":'
    + _S
    + rb"\}))?\}\Z"
)

#: timestamp, period, value, source, on, op_id, by, note
_MEASURED = re.compile(
    _TIMESTAMP
    + rb',"period":'
    + _S
    + rb',"value":\{"_type_":"decimal_str","_data_":'
    + _S
    + rb'\},"source":'
    + _S
    + rb',"on":\{"_type_":"date_iso","_data_":'
    + _S
    + rb"\},"
    + _META
)

# A JSON object of names to tagged enum members, or to integers: the whole object is taken
# and its entries are read by a second expression.
_VOTE = rb'"[^"]*":\{"_type_":"vote","_data_":"[^"]*"\}'
_VOTE_ENTRY = re.compile(rb'"([^"]*)":\{"_type_":"vote","_data_":"([^"]*)"\}')
_SCORE = rb'"[^"]*":-?[0-9]+'
_SCORE_ENTRY = re.compile(rb'"([^"]*)":(-?[0-9]+)')

#: timestamp, key, subject, proposed_by, rule, votes (the entries), on, op_id, by, note
_DECIDED = re.compile(
    _TIMESTAMP
    + rb',"key":'
    + _S
    + rb',"subject":'
    + _S
    + rb',"proposed_by":'
    + _S
    + rb',"rule":\{"_type_":"decisionrule","_data_":'
    + _S
    + rb'\},"votes":\{((?:'
    + _VOTE
    + rb"(?:,"
    + _VOTE
    + rb')*)?)\},"on":\{"_type_":"date_iso","_data_":'
    + _S
    + rb"\},"
    + _META
)
#: timestamp, evaluator, role, party, scores (the entries), comment, comment_public, on, op_id, by, note
_SUBMITTED = re.compile(
    _TIMESTAMP
    + rb',"evaluator":'
    + _S
    + rb',"role":\{"_type_":"evaluatorrole","_data_":'
    + _S
    + rb'\},"party":'
    + _N
    + rb',"scores":\{((?:'
    + _SCORE
    + rb"(?:,"
    + _SCORE
    + rb')*)?)\},"comment":'
    + _N
    + rb',"comment_public":(true|false),"on":\{"_type_":"date_iso","_data_":'
    + _S
    + rb"\},"
    + _META
)

#: A backslash: in a JSON state, only in an escape in a string. As an int, ``in`` looks for
#: one byte with memchr; as ``b"\\"`` it first tries the bytes as an int, formats that
#: TypeError and drops it: about 1,800 instructions an event, 1 % of a rebuild.
_ESCAPE = ord("\\")

_DELIVERED_TOPIC = "partnership_ledger.domain.contribution:ResourceContribution.Delivered"
_DECIDED_TOPIC = "partnership_ledger.domain.partnership:Partnership.DecisionRecorded"
_SUBMITTED_TOPIC = "partnership_ledger.domain.evaluation:Evaluation.Submitted"
_MEASURED_TOPIC = "partnership_ledger.domain.target:NumericTarget.Measured"
_PLEDGED_TOPIC = "partnership_ledger.domain.contribution:ResourceContribution.Pledged"

#: How many dates are kept decoded (by their text).
DATE_CACHE = 10_000
#: How many originator ids are kept decoded (an aggregate's events come close together).
UUID_CACHE = 100_000


def _positional(transcoding: Any, fields: tuple[str, ...]) -> Callable[..., Any] | None:
    """The attrs class a transcoding decodes to, if its fields are ``fields`` in that order."""
    import attrs

    cls = getattr(transcoding, "type", None)
    if type(transcoding).__name__ != "AttrsTranscoding" or cls is None or not attrs.has(cls):
        return None
    if tuple(f.name for f in attrs.fields(cls)) != fields:
        return None
    made: Callable[..., Any] = cls
    return made


def _text(b: bytes | None) -> str | None:
    return None if b is None else b.decode("utf-8")


def _members(decode: Any) -> dict[Any, Any]:
    """The members of an enum by value, when ``decode`` is the enum class itself (what its
    transcoding's quick decoder is): a dictionary lookup finds the member ``decode(value)``
    returns, without the enum's call machinery. Empty for any other decoder."""
    from enum import Enum

    if isinstance(decode, type) and issubclass(decode, Enum):
        return dict(decode._value2member_map_)
    return {}


class EventDecoder:
    """Makes domain events from stored rows, as ``mapper.to_domain_event`` does."""

    def __init__(self, mapper: Mapper[UUID]) -> None:
        self.mapper = mapper
        self._uuids: dict[Any, UUID] = {}
        #: The timestamp's text of the event being decoded, set by the layouts read from
        #: the bytes; given out only when ``_stamps`` (the time decoded by ``fromisoformat``).
        self.stamp: str | None = None
        self._stamps = False
        self._dates: dict[bytes, Any] = {}
        #: Per topic: the event class and the originator id convertor, or None if the mapper
        #: must decode events of that topic itself.
        self._classes: dict[str, tuple[type[Any], Callable[[Any], Any]] | None] = {}
        self._plans: dict[str, tuple[type[Any], Callable[[Any], Any] | None, Any] | None] = {}
        transcoder = mapper.transcoder
        quick: dict[str, Callable[[Any], Any]] = getattr(transcoder, "_quick_decoders", {})
        self._decode_state: Callable[[bytes], Any] | None = None
        self._fast: dict[str, Callable[[bytes], dict[str, Any] | None]] = {}
        if getattr(mapper, "cipher", None) or getattr(mapper, "compressor", None) or not quick:
            return
        self._decode_state = transcoder.decode
        names = ("datetime_iso", "date_iso", "decimal_str", "money", "op_meta", "contributionkind", "instrument")
        if all(n in quick for n in names):
            self._q = quick
            self._fast = {
                _DELIVERED_TOPIC: self._delivered,
                _PLEDGED_TOPIC: self._pledged,
                _MEASURED_TOPIC: self._measured,
            }
            if all(n in quick for n in ("decisionrule", "vote", "evaluatorrole")):
                self._fast[_DECIDED_TOPIC] = self._decided
                self._fast[_SUBMITTED_TOPIC] = self._submitted
            # Money and OpMeta made straight from their fields, when they are the attrs classes
            # with those fields in that order (what their transcoder's ``cls(**data)`` makes).
            registered = getattr(transcoder, "names", {})
            self._new_money = _positional(registered.get("money"), ("amount", "currency"))
            self._new_meta = _positional(registered.get("op_meta"), ("op_id", "by", "note"))
            from ..domain.transcodings import _datetime_from_iso

            # The transcoder's own decoders, called straight (the datetime one only checks
            # that it is given a string, which it always is here).
            datetime_iso = quick["datetime_iso"]
            self._datetime: Callable[[str], Any] = (
                datetime.fromisoformat if datetime_iso is _datetime_from_iso else datetime_iso
            )
            self._stamps = self._datetime == datetime.fromisoformat
            self._date: Callable[[str], Any] = quick["date_iso"]
            self._decimal: Callable[[str], Any] = quick["decimal_str"]
            self._kinds = _members(quick["contributionkind"])
            self._instruments = _members(quick["instrument"])

    # -- the layouts read straight from the bytes --------------------------------------------
    def _day(self, text: bytes) -> Any:
        """The date of an ISO text, remembered: deliveries repeat their days (a lookup costs
        a fifth of decoding the text again)."""
        dates = self._dates
        if len(dates) >= DATE_CACHE:
            dates.clear()
        made = dates[text] = self._date(text.decode("ascii"))
        return made

    def _meta(self, op_id: bytes, by: bytes | None, note: bytes | None) -> Any:
        if self._new_meta is not None:
            return self._new_meta(op_id.decode("utf-8"), _text(by), _text(note))
        return self._q["op_meta"]({"op_id": op_id.decode("utf-8"), "by": _text(by), "note": _text(note)})

    def _money(self, amount: bytes, currency: bytes) -> Any:
        q = self._q
        value = q["decimal_str"](amount.decode("ascii"))
        if self._new_money is not None:
            return self._new_money(value, currency.decode("utf-8"))
        return q["money"]({"amount": value, "currency": currency.decode("utf-8")})

    def _delivered(self, state: bytes) -> dict[str, Any] | None:
        m = None if _ESCAPE in state else _DELIVERED.match(state)
        if m is None:
            return None
        ts, amount, currency, on, evidence, op_id, by, note = m.groups()
        self.stamp = stamp = ts.decode("ascii")
        new_money, new_meta, dates = self._new_money, self._new_meta, self._dates
        value = self._decimal(amount.decode("ascii"))
        return {
            "timestamp": self._datetime(stamp),
            "value": (
                new_money(value, currency.decode("utf-8")) if new_money is not None else self._money(amount, currency)
            ),
            "on": dates[on] if on in dates else self._day(on),
            "evidence": None if evidence is None else evidence.decode("utf-8"),
            "meta": (
                new_meta(
                    op_id.decode("utf-8"),
                    None if by is None else by.decode("utf-8"),
                    None if note is None else note.decode("utf-8"),
                )
                if new_meta is not None
                else self._meta(op_id, by, note)
            ),
        }

    def _decided(self, state: bytes) -> dict[str, Any] | None:
        m = None if _ESCAPE in state else _DECIDED.match(state)
        if m is None:
            return None
        ts, key, subject, proposed_by, rule, votes, on, op_id, by, note = m.groups()
        self.stamp = stamp = ts.decode("ascii")
        q = self._q
        vote = q["vote"]
        return {
            "timestamp": self._datetime(stamp),
            "key": key.decode("utf-8"),
            "subject": subject.decode("utf-8"),
            "proposed_by": proposed_by.decode("utf-8"),
            "rule": q["decisionrule"](rule.decode("utf-8")),
            "votes": {k.decode("utf-8"): vote(v.decode("utf-8")) for k, v in _VOTE_ENTRY.findall(votes or b"")},
            "on": q["date_iso"](on.decode("ascii")),
            "meta": self._meta(op_id, by, note),
        }

    def _submitted(self, state: bytes) -> dict[str, Any] | None:
        m = None if _ESCAPE in state else _SUBMITTED.match(state)
        if m is None:
            return None
        ts, evaluator, role, party, scores, comment, public, on, op_id, by, note = m.groups()
        self.stamp = stamp = ts.decode("ascii")
        q = self._q
        return {
            "timestamp": self._datetime(stamp),
            "evaluator": evaluator.decode("utf-8"),
            "role": q["evaluatorrole"](role.decode("utf-8")),
            "party": _text(party),
            "scores": {k.decode("utf-8"): int(v) for k, v in _SCORE_ENTRY.findall(scores or b"")},
            "comment": _text(comment),
            "comment_public": public == b"true",
            "on": q["date_iso"](on.decode("ascii")),
            "meta": self._meta(op_id, by, note),
        }

    def _measured(self, state: bytes) -> dict[str, Any] | None:
        m = None if _ESCAPE in state else _MEASURED.match(state)
        if m is None:
            return None
        ts, period, value, source, on, op_id, by, note = m.groups()
        self.stamp = stamp = ts.decode("ascii")
        q = self._q
        return {
            "timestamp": self._datetime(stamp),
            "period": period.decode("utf-8"),
            "value": q["decimal_str"](value.decode("ascii")),
            "source": source.decode("utf-8"),
            "on": q["date_iso"](on.decode("ascii")),
            "meta": self._meta(op_id, by, note),
        }

    def _pledged(self, state: bytes) -> dict[str, Any] | None:
        m = None if _ESCAPE in state else _PLEDGED.match(state)
        if m is None:
            return None
        (
            ts,
            topic,
            key,
            partnership,
            party,
            agreement,
            kind,
            amount,
            currency,
            quantity,
            unit,
            basis,
            instrument,
            fiscal_year,
            description,
            op_id,
            by,
            note,
            recipient_field,
            recipient,
            on_field,
            on,
        ) = m.groups()
        self.stamp = stamp = ts.decode("ascii")
        q = self._q
        kind_text = kind.decode("utf-8")
        kind_of_resource = self._kinds.get(kind_text)
        if kind_of_resource is None:
            kind_of_resource = q["contributionkind"](kind_text)
        how = None
        if instrument is not None:
            how_text = instrument.decode("utf-8")
            how = self._instruments.get(how_text)
            if how is None:
                how = q["instrument"](how_text)
        d: dict[str, Any] = {
            "timestamp": self._datetime(stamp),
            "originator_topic": topic.decode("utf-8"),
            "key": key.decode("utf-8"),
            "partnership": partnership.decode("utf-8"),
            "party": party.decode("utf-8"),
            "agreement": None if agreement is None else agreement.decode("utf-8"),
            "kind_of_resource": kind_of_resource,
            "value": self._money(amount, currency),
            "quantity": None if quantity is None else self._decimal(quantity.decode("ascii")),
            "unit": None if unit is None else unit.decode("utf-8"),
            "valuation_basis": None if basis is None else basis.decode("utf-8"),
            "instrument": how,
            "fiscal_year": int(fiscal_year),
            "description": None if description is None else description.decode("utf-8"),
            "meta": self._meta(op_id, by, note),
        }
        if recipient_field is not None:
            d["recipient"] = None if recipient is None else recipient.decode("utf-8")
        if on_field is not None:  # (a pledge stored without one reads its class's default)
            d["on"] = None if on is None else q["date_iso"](on.decode("ascii"))
        return d

    # -- any event ----------------------------------------------------------------------------
    def _class_of(self, topic: str) -> tuple[type[Any], Callable[[Any], Any]] | None:
        if topic in self._classes:
            return self._classes[topic]
        from eventsourcing.persistence import find_id_convertor
        from eventsourcing.utils import resolve_topic

        found: tuple[type[Any], Callable[[Any], Any]] | None = None
        try:
            cls = resolve_topic(topic)
            found = (cls, find_id_convertor(cls, UUID))
        except Exception:  # an unknown topic: the mapper says what is wrong
            found = None
        self._classes[topic] = found
        return found

    def _plan_of(self, topic: str) -> tuple[type[Any], Callable[[Any], Any] | None, Any] | None:
        """How events of a topic are made: their class, the originator id's convertor (None
        when it passes the id through) and the layout read from the bytes (None: the
        transcoder's); None when the mapper makes them."""
        if topic not in self._plans:
            from eventsourcing.persistence import pass_through_convertor

            placed = self._class_of(topic) if self._decode_state is not None else None
            plan = None
            if placed is not None:
                cls, convert = placed
                plan = (cls, None if convert is pass_through_convertor else convert, self._fast.get(topic))
            self._plans[topic] = plan
        return self._plans[topic]

    def _uuid(self, oid: Any) -> UUID:
        found = self._uuids.get(oid)
        if found is None:
            if len(self._uuids) >= UUID_CACHE:
                self._uuids.clear()
            found = self._uuids[oid] = oid if isinstance(oid, UUID) else UUID(str(oid))
        return found

    def _by_mapper(self, originator_id: UUID, version: int, topic: str, state: bytes) -> Any:
        from eventsourcing.persistence import StoredEvent

        return self.mapper.to_domain_event(
            StoredEvent(originator_id=originator_id, originator_version=version, topic=topic, state=state)
        )

    def decode(self, oid: Any, version: int, topic: str, state: bytes) -> Any:
        """The domain event of a stored row: its originator id (text or UUID), version,
        topic and state."""
        return self.decode_stamped(oid, version, topic, state)[0]

    def decode_stamped(self, oid: Any, version: int, topic: str, state: bytes) -> tuple[Any, str | None]:
        """The domain event of a stored row (see :meth:`decode`) and its timestamp's stored
        text, when that is what ``event.timestamp.isoformat()`` makes (else None)."""
        self.stamp = None
        originator_id = self._uuids.get(oid)
        if originator_id is None:
            originator_id = self._uuid(oid)
        if type(state) is not bytes:  # a memoryview (PostgreSQL)
            state = bytes(state)
        plans = self._plans
        plan = plans[topic] if topic in plans else self._plan_of(topic)
        if plan is None:
            return self._by_mapper(originator_id, version, topic, state), None
        cls, convert, fast = plan
        d = fast(state) if fast is not None else None
        if d is None:
            assert self._decode_state is not None
            try:
                d = self._decode_state(state)
            except Exception:  # the mapper's error message names the event
                return self._by_mapper(originator_id, version, topic, state), None
            stored_version = d.pop("class_version", 1)
            class_version = getattr(cls, "class_version", 1)
            while stored_version < class_version:  # what the mapper does: the class's upcasters
                getattr(cls, f"upcast_v{stored_version}_v{stored_version + 1}")(d)
                stored_version += 1
        d["originator_id"] = originator_id if convert is None else convert(originator_id)
        d["originator_version"] = version
        # Built as eventsourcing's own Mapper.to_domain_event builds a domain event (9.5's
        # persistence.py: object.__new__, then the state as __dict__), not around a class of
        # ours; tests/test_read_model_decoding.py compares every event with the mapper's.
        event = object.__new__(cls)
        object.__setattr__(event, "__dict__", d)
        return event, self.stamp if self._stamps else None
