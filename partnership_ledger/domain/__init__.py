"""The domain: aggregates and value objects. Pure: no I/O.

The aggregate classes are imported on first use (PEP 562): the value objects
(:mod:`.values`) and keys (:mod:`.base`) are needed by the read side, which should not pay
for defining every aggregate's event classes.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .keys import KINDS, NAMESPACE, aggregate_id

if TYPE_CHECKING:
    from .agreement import Agreement
    from .base import LedgerAggregate
    from .contribution import ResourceContribution
    from .evaluation import Evaluation
    from .partnership import Partnership
    from .party import Party
    from .target import NumericTarget

    AGGREGATE_CLASSES: dict[str, type[LedgerAggregate]]

#: The module of each aggregate class, in the order of ``KINDS``.
_AGGREGATES = {
    "Party": ".party",
    "Partnership": ".partnership",
    "Agreement": ".agreement",
    "ResourceContribution": ".contribution",
    "NumericTarget": ".target",
    "Evaluation": ".evaluation",
}


def __getattr__(name: str) -> Any:
    if name == "AGGREGATE_CLASSES":  # kind -> class
        value: Any = {cls.kind: cls for cls in map(__getattr__, _AGGREGATES)}
    elif name == "LedgerAggregate" or name in _AGGREGATES:
        value = getattr(import_module(_AGGREGATES.get(name, ".base"), __name__), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


__all__ = [
    "AGGREGATE_CLASSES",
    "KINDS",
    "NAMESPACE",
    "Agreement",
    "Evaluation",
    "LedgerAggregate",
    "NumericTarget",
    "Partnership",
    "Party",
    "ResourceContribution",
    "aggregate_id",
]
