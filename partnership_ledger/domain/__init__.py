"""The domain: aggregates and value objects. Pure: no I/O."""

from .agreement import Agreement
from .base import KINDS, NAMESPACE, LedgerAggregate, aggregate_id
from .contribution import ResourceContribution
from .evaluation import Evaluation
from .partnership import Partnership
from .party import Party
from .target import NumericTarget

AGGREGATE_CLASSES: dict[str, type[LedgerAggregate]] = {
    "party": Party,
    "partnership": Partnership,
    "agreement": Agreement,
    "contribution": ResourceContribution,
    "target": NumericTarget,
    "evaluation": Evaluation,
}

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
