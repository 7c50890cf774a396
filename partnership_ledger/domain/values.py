"""Frozen value objects carried in event payloads.

Everything here is immutable and compares by value. Amounts are :class:`~decimal.Decimal`
from the journal to the report: no float is ever accepted or produced.
"""

from __future__ import annotations

import decimal
import enum
import functools
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

import attrs


class Sector(enum.Enum):
    """The kind of body a party is."""

    NPO = "npo"
    PREFECTURE = "prefecture"
    MUNICIPALITY = "municipality"
    NATIONAL_GOVERNMENT = "national_government"
    PUBLIC_AGENCY = "public_agency"
    BUSINESS = "business"
    CHAMBER_OF_COMMERCE = "chamber_of_commerce"
    INTERMEDIARY = "intermediary"
    RESIDENT_GROUP = "resident_group"
    OTHER = "other"


class Phase(enum.Enum):
    """A partnership's life: preparing → active → concluded."""

    PREPARING = "preparing"
    ACTIVE = "active"
    CONCLUDED = "concluded"


class DecisionRule(enum.Enum):
    """How a decision is adopted."""

    CONSENSUS = "consensus"
    MAJORITY = "majority"


class Vote(enum.Enum):
    FOR = "for"
    AGAINST = "against"
    ABSTAIN = "abstain"


class ContributionKind(enum.Enum):
    """What a party puts in: money or a valued in-kind resource."""

    MONEY = "money"
    STAFF_TIME = "staff_time"
    FACILITY = "facility"
    EQUIPMENT = "equipment"
    EXPERTISE = "expertise"
    VOLUNTEER_TIME = "volunteer_time"
    NETWORK = "network"
    INFORMATION = "information"
    OTHER = "other"


class Instrument(enum.Enum):
    """How money is given (Fukushima's rule 4: commissioning is not the model)."""

    CONTRIBUTION = "contribution"
    SUBSIDY = "subsidy"
    COMMISSION = "commission"
    GRANT = "grant"
    OTHER = "other"


class Direction(enum.Enum):
    """Whether a numeric target is met by going up or down."""

    INCREASE = "increase"
    DECREASE = "decrease"


class EvaluatorRole(enum.Enum):
    PARTY = "party"
    RESIDENT = "resident"
    EXTERNAL = "external"


ENUMS: tuple[type[enum.Enum], ...] = (
    Sector,
    Phase,
    DecisionRule,
    Vote,
    ContributionKind,
    Instrument,
    Direction,
    EvaluatorRole,
)


# Amounts are only added and subtracted in the ledger, in an unbounded context, so totals
# are exact however many digits they need: Decimal's default context rounds at 28 digits,
# and the journal accepts amounts of up to 30.
EXACT = decimal.Context(
    prec=decimal.MAX_PREC,
    Emax=decimal.MAX_EMAX,
    Emin=decimal.MIN_EMIN,
    traps=[decimal.InvalidOperation, decimal.Overflow],
)


def exact_sum(values: Iterable[Decimal]) -> Decimal:
    """The exact sum of ``values`` (never rounded)."""
    return functools.reduce(EXACT.add, values, Decimal(0))


def exact_sub(a: Decimal, b: Decimal) -> Decimal:
    """``a - b``, exactly."""
    return EXACT.subtract(a, b)


@attrs.frozen
class Money:
    """An exact amount in one currency (ISO 4217 code)."""

    amount: Decimal
    currency: str

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


@attrs.frozen
class OpMeta:
    """Who recorded an operation, why, and its ``op_id``, by which import skips what is recorded."""

    op_id: str
    by: str | None = None
    note: str | None = None


@attrs.frozen
class PeriodValue:
    """A value for a labelled period (``"2008"``, ``"2008/09"``)."""

    period: str
    value: Decimal


@attrs.frozen
class Terms:
    """The terms of an agreement.

    ``shares`` are the agreed shares of the burden (summing to 1); ``annual_caps`` the most
    a party may put in under the agreement in one fiscal year; ``max_years`` how many fiscal
    years, counted from the one the agreement starts in, contributions may fall in.
    """

    start: date
    end: date
    shares: dict[str, Decimal] | None = None
    annual_caps: dict[str, Money] | None = None
    max_years: int | None = None
    fiscal_year_start: int = 4


def fiscal_year_of(day: date, fiscal_year_start: int = 4) -> int:
    """The fiscal year (named by the calendar year it starts in) that contains ``day``."""
    return day.year if day.month >= fiscal_year_start else day.year - 1


def fiscal_year_bounds(fiscal_year: int, fiscal_year_start: int = 4) -> tuple[date, date]:
    """The first and last day of ``fiscal_year`` (named by the calendar year it starts in)."""
    first = date(fiscal_year, fiscal_year_start, 1)
    return first, date(fiscal_year + 1, fiscal_year_start, 1) - timedelta(days=1)
