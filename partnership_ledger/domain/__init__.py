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

_CLASSES = {
    "LedgerAggregate": ".base",
    "Agreement": ".agreement",
    "Evaluation": ".evaluation",
    "NumericTarget": ".target",
    "Partnership": ".partnership",
    "Party": ".party",
    "ResourceContribution": ".contribution",
}


def _aggregate_classes() -> dict[str, type[LedgerAggregate]]:
    from .agreement import Agreement
    from .contribution import ResourceContribution
    from .evaluation import Evaluation
    from .partnership import Partnership
    from .party import Party
    from .target import NumericTarget

    return {
        "party": Party,
        "partnership": Partnership,
        "agreement": Agreement,
        "contribution": ResourceContribution,
        "target": NumericTarget,
        "evaluation": Evaluation,
    }


def __getattr__(name: str) -> Any:
    if name == "AGGREGATE_CLASSES":
        value: Any = _aggregate_classes()
    elif name in _CLASSES:
        value = getattr(import_module(_CLASSES[name], __name__), name)
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
