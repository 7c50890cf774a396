"""What every aggregate of the ledger shares: identity from a human key, and metadata.

It also holds the ledger's quicker way to trigger events (:meth:`LedgerAggregate._trigger`,
:meth:`LedgerAggregate._new`): the same event classes, the same events and the same state as
eventsourcing's generic path, without its generic handling of arguments (see :class:`_Spec`).
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from datetime import date
from typing import Any, ClassVar, TypeVar

from eventsourcing import domain as _es
from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from ..errors import CorrectionRefused
from .keys import KINDS, NAMESPACE, aggregate_id

__all__ = ["KINDS", "NAMESPACE", "LedgerAggregate", "aggregate_id"]

L = TypeVar("L", bound="LedgerAggregate")

#: The fast path is on; the tests turn it off to compare it with eventsourcing's own path.
FAST = True

_BASE_FIELDS = ("originator_id", "originator_version", "timestamp")
_object_new = object.__new__


class _Spec:
    """What triggering one event class takes, worked out once from eventsourcing's classes.

    eventsourcing's path (``trigger_event`` or calling the class, then the event's
    ``mutate``/``apply``) matches each call's arguments against signatures, copies them a few
    times and builds the frozen event through its dataclass ``__init__``: most of the cost
    of a small event. Here the event's ``__dict__`` is filled in its dataclass field order
    (the order its state is stored in) and the decorated method is called with the fields,
    which is all that path does for our events. :func:`_spec` checks that an event class is
    such a plain one (no overridden ``mutate``/``apply``, no explicit topics, the method's
    parameters exactly the event's fields); for any other, it returns None and the generic
    path is taken.
    """

    __slots__ = ("event_cls", "func", "id_params", "name_set", "names", "topic")

    def __init__(
        self,
        event_cls: type[Any],
        names: tuple[str, ...],
        func: Callable[..., None],
        topic: str | None = None,
        id_params: tuple[str, ...] = (),
    ) -> None:
        self.event_cls = event_cls
        self.names = names  # the event's own fields, in dataclass order
        self.name_set = frozenset(names)
        self.func = func
        self.topic = topic
        self.id_params = id_params

    def fill(self, d: dict[str, Any], fields: dict[str, Any]) -> None:
        """Put ``fields`` into a new event's ``__dict__`` ``d`` in field order (or TypeError)."""
        if fields.keys() != self.name_set:
            missing = sorted(self.name_set - fields.keys())
            extra = sorted(fields.keys() - self.name_set)
            raise TypeError(f"Can't construct event {self.event_cls}: missing {missing}, unexpected {extra}")
        for name in self.names:
            d[name] = fields[name]


_SPECS: dict[tuple[type[Any], str], _Spec | None] = {}


def _params(func: Callable[..., Any]) -> list[str]:
    return list(inspect.signature(func).parameters)[1:]


def _field_names(event_cls: Any) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(event_cls))


def _plain_event(event_cls: type[Any], head: tuple[str, ...], mutate: Any, apply_owners: tuple[type, ...]) -> bool:
    names = _field_names(event_cls)
    return (
        names[: len(head)] == head
        and event_cls.mutate is mutate
        and tuple(k for k in event_cls.__mro__ if "apply" in k.__dict__) == apply_owners
        and event_cls.__post_init__ is _es.DomainEvent.__post_init__
        and event_cls.create_timestamp is _es.CanCreateTimestamp.create_timestamp
        and not getattr(event_cls, "TOPIC", None)
        # A class_version above 1 changes nothing in how an event is made: the mapper
        # records the version (eventsourcing's way) when it stores it.
    )


def _spec(cls: type[LedgerAggregate], event_name: str) -> _Spec | None:
    key = (cls, event_name)
    try:
        return _SPECS[key]
    except KeyError:
        pass
    spec: _Spec | None = None
    plain_cls = (
        not getattr(cls, "TOPIC", None)
        and type(cls).__call__ is _es.MetaAggregate.__call__
        and cls.trigger_event is _es.BaseAggregate.trigger_event
        and cls.__base_init__ is _es.BaseAggregate.__base_init__
    )
    if plain_cls and event_name == "":
        created = _es._created_event_classes.get(cls, [])
        init = cls.__init__
        if len(created) == 1 and cls not in _es._init_mentions_id:
            event_cls = created[0]
            head = (*_BASE_FIELDS, "originator_topic")
            if _plain_event(event_cls, head, _es.CanInitAggregate.mutate, (_es.CanMutateAggregate,)):
                names = _field_names(event_cls)[len(head) :]
                if sorted(_params(init)) == sorted(names):
                    id_params = tuple(_es._create_id_param_names[cls])
                    spec = _Spec(event_cls, names, init, get_topic(cls), id_params)
    elif plain_cls:
        found: Any = getattr(cls, event_name, None)
        func = _es.decorated_funcs.get(found) if isinstance(found, type) else None
        owners = (_es.DecoratedFuncCaller, _es.CanMutateAggregate)
        if func is not None and _plain_event(found, _BASE_FIELDS, _es.CanMutateAggregate.mutate, owners):
            names = _field_names(found)[len(_BASE_FIELDS) :]
            if sorted(_params(func)) == sorted(names):
                spec = _Spec(found, names, func)
    _SPECS[key] = spec
    return spec


class LedgerAggregate(Aggregate):
    """Base class of the ledger's aggregates.

    Subclasses set ``kind``; their creation event carries ``key``, so the id is derived from
    the key and commands and journals address aggregates by key.
    """

    kind: ClassVar[str] = ""
    key: str

    class Event(Aggregate.Event):
        # Derived events keep cross-aggregate rules consistent (for example the running total
        # an agreement counts against a cap); they are not journal operations of their own.
        derived: ClassVar[bool] = False

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"

    # -- corrections (void_operation) ---------------------------------------------------
    @property
    def voided(self) -> dict[str, str]:
        """The operations of this aggregate voided so far: voided op id -> the voiding op id."""
        found: dict[str, str] | None = self.__dict__.get("_voided")
        if found is None:
            found = self.__dict__["_voided"] = {}
        return found

    def check_voidable(self, operation: str) -> None:
        """The rules every void obeys, whatever it voids: not the creation, not twice."""
        meta = getattr(self, "meta", None)
        if meta is not None and getattr(meta, "op_id", None) == operation:
            raise CorrectionRefused(
                f"operation {operation} created {self}: it cannot be voided (only what was recorded on it can)"
            )
        if operation in self.voided:
            raise CorrectionRefused(f"operation {operation} was already voided (by {self.voided[operation]})")

    def void(self, operation: str, reason: str, on: date, meta: Any) -> None:
        """Void one operation recorded on this aggregate in error (see DESIGN.md "Corrections")."""
        self.check_voidable(operation)
        raise CorrectionRefused(f"operation {operation} on {self} is not one that can be voided")

    def _note_voided(self, operation: str, meta: Any) -> None:
        self.voided[operation] = getattr(meta, "op_id", "?")

    @classmethod
    def _new(cls: type[L], **fields: Any) -> L:
        """Create the aggregate, given every field of its creation event by name.

        The same aggregate and pending creation event as calling the class (``cls(**fields)``,
        eventsourcing's ``MetaAggregate.__call__`` and ``_create``), made directly.
        """
        spec = _SPECS.get((cls, "")) or _spec(cls, "")
        if spec is None or not FAST:
            return cls(**fields)
        originator_id = cls.create_id(**{k: fields[k] for k in spec.id_params})
        timestamp = _es.datetime_now_with_tzinfo()  # the event class's create_timestamp()
        created = _object_new(spec.event_cls)
        d = created.__dict__
        d["originator_id"] = originator_id
        d["originator_version"] = cls.INITIAL_VERSION
        d["timestamp"] = timestamp
        d["originator_topic"] = spec.topic
        if tuple(fields) == spec.names:
            d.update(fields)
        else:
            spec.fill(d, fields)
        agg = cls.__new__(cls)
        # What BaseAggregate.__base_init__ sets, in its order.
        agg._id = originator_id
        agg._version = cls.INITIAL_VERSION
        agg._created_on = timestamp
        agg._modified_on = timestamp
        agg._pending_events = []
        spec.func(agg, **fields)
        agg._pending_events.append(created)
        return agg

    def _trigger(self, event_name: str, **fields: Any) -> None:
        """Trigger this aggregate's event class ``event_name``, given every field by name.

        The same event, applied the same way (the ``@event`` method's body), as calling its
        ``@event`` method or eventsourcing's ``trigger_event``, made directly.
        """
        spec = _SPECS.get((type(self), event_name)) or _spec(type(self), event_name)
        if spec is None or not FAST:
            event_cls = getattr(type(self), event_name)
            func = _es.decorated_funcs.get(event_cls)
            if func is not None:
                getattr(self, func.__name__)(**fields)  # its @event method
            else:
                self.trigger_event(event_cls, **fields)
            return
        version = self._version + 1
        timestamp = _es.datetime_now_with_tzinfo()  # the event class's create_timestamp()
        new_event = _object_new(spec.event_cls)
        d = new_event.__dict__
        d["originator_id"] = self._id
        d["originator_version"] = version
        d["timestamp"] = timestamp
        if tuple(fields) == spec.names:
            d.update(fields)
        else:
            spec.fill(d, fields)
        # CanMutateAggregate.mutate: apply, then the version and time of the change.
        spec.func(self, **fields)
        self._version = version
        self._modified_on = timestamp
        self._pending_events.append(new_event)
