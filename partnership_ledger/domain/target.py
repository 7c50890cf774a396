"""NumericTarget: an LAA-style target for a public-service output."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import attrs
from eventsourcing.domain import event

from ..errors import TargetError
from .base import LedgerAggregate
from .values import Direction, OpMeta, PeriodValue


@attrs.frozen
class Measurement:
    period: str
    value: Decimal
    source: str
    on: date
    op: str | None = None


@attrs.frozen
class Revision:
    targets: list[PeriodValue]
    reason: str
    on: date
    #: The targets it replaced (None in a snapshot taken before they were kept).
    previous: list[PeriodValue] | None = None


def check_targets(targets: list[PeriodValue], baseline: PeriodValue, where: str) -> None:
    """Targets are for distinct periods after the baseline period."""
    if not targets:
        raise TargetError(f"{where} has no targets")
    early = sorted(t.period for t in targets if t.period <= baseline.period)
    if early:
        raise TargetError(f"{where} sets a target for {', '.join(early)}, not after its baseline {baseline.period}")
    periods = [t.period for t in targets]
    dupes = sorted({p for p in periods if periods.count(p) > 1})
    if dupes:
        raise TargetError(f"{where} names period {', '.join(dupes)} more than once")


@dataclasses.dataclass(eq=False, repr=False)
class NumericTarget(LedgerAggregate, created_event_name="Defined"):
    """A numeric target: baseline, targets by period, measurements by period, revisions.

    Periods are labels (``"2024"``, ``"2008/09"``) kept in label order. A later measurement
    of the same period restates it; revisions replace the targets and keep the reason.
    """

    kind = "target"

    key: str
    partnership: str
    indicator: str
    unit: str
    direction: Direction
    baseline: PeriodValue
    targets: list[PeriodValue]
    meta: OpMeta

    def __post_init__(self) -> None:
        self.targets = sorted(self.targets, key=lambda t: t.period)
        self.measurements: list[Measurement] = []
        self.revisions: list[Revision] = []

    @property
    def latest_measurements(self) -> dict[str, Decimal]:
        """The value that stands for each measured period (the latest restatement)."""
        return {m.period: m.value for m in self.measurements}

    def record_measurement(self, period: str, value: Decimal, source: str, on: date, meta: OpMeta) -> None:
        if period <= self.baseline.period:
            raise TargetError(
                f"target {self.key} measures periods after its baseline {self.baseline.period}, not {period}"
            )
        self._measured(period, value, source, on, meta)

    @event("Measured")
    def _measured(self, period: str, value: Decimal, source: str, on: date, meta: OpMeta) -> None:
        self.measurements.append(Measurement(period, value, source, on, meta.op_id))

    def revise(self, targets: list[PeriodValue], reason: str, on: date, meta: OpMeta) -> None:
        check_targets(targets, self.baseline, f"the revision of target {self.key}")
        self._revised(list(targets), reason, on, meta)

    @event("Revised")
    def _revised(self, targets: list[PeriodValue], reason: str, on: date, meta: OpMeta) -> None:
        self.revisions.append(Revision(list(targets), reason, on, self.targets))
        self.targets = sorted(targets, key=lambda t: t.period)

    def void(self, operation: str, reason: str, on: date, meta: OpMeta) -> None:
        """Void a measurement recorded in error (a revision stands: revise again instead)."""
        self.check_voidable(operation)
        for index, m in enumerate(self.measurements):
            if m.op == operation:
                self._measurement_voided(operation, m.period, index, reason, on, meta)
                return
        raise self.cannot_void(operation, "measurements can (a revision is undone by another revision)")

    @event("MeasurementVoided")
    def _measurement_voided(self, operation: str, period: str, index: int, reason: str, on: date, meta: OpMeta) -> None:
        del self.measurements[index]
        self._note_voided(operation, meta)
