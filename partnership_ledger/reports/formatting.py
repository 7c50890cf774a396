"""Locale-aware formatting with Babel: money, numbers, shares, dates, fiscal years.

The renderers hold no arithmetic: every number of the report reaches a template as a string
made here. Money stays a ``Decimal`` to the last step (Babel formats Decimals exactly).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date as Date
from decimal import Decimal, localcontext

from babel.dates import format_date, format_skeleton
from babel.numbers import format_currency, format_decimal, format_percent

from .i18n import LOCALES, Language, translations

FULLWIDTH_YEN = "\uffe5"
YEN = "\u00a5"


@contextmanager
def _exact(value: Decimal) -> Iterator[None]:
    """Enough precision for Babel to round ``value`` (an amount may have more digits than the
    default context's 28)."""
    with localcontext() as context:
        _sign, digits, exponent = value.as_tuple()
        whole = len(digits) + (exponent if isinstance(exponent, int) and exponent > 0 else 0)
        context.prec = max(context.prec, whole + 12)
        yield


class Formatter:
    """Formats values for one language: ``Formatter("ja").money(Decimal(10_000_000), "JPY")``
    is ``'¥10,000,000'``; ``Formatter("en").month(date(2003, 3, 1))`` is ``'March 2003'``."""

    def __init__(self, language: Language) -> None:
        self.language: Language = language
        self.locale = LOCALES[language]
        self.gettext = translations(language).gettext

    def money(self, amount: Decimal | int | None, currency: str | None) -> str:
        """``¥10,000,000``, ``£920,000``, ``£1,234.50``; whole amounts without decimals."""
        if amount is None:
            return "–"
        if currency is None:
            return self.number(amount)
        value = Decimal(amount)
        with _exact(value):
            if value == value.to_integral_value():
                text = format_currency(value, currency, format="¤#,##0", locale=self.locale, currency_digits=False)
            else:
                text = format_currency(value, currency, locale=self.locale)
        # CLDR's Japanese yen sign is the full-width one; residents write the ordinary ¥.
        return text.replace(FULLWIDTH_YEN, YEN)

    def number(self, value: Decimal | int | None, *, places: int = 2) -> str:
        """A quantity, grouped by the locale, with at most ``places`` decimals."""
        if value is None:
            return "–"
        pattern = "#,##0" + ("." + "#" * places if places else "")
        with _exact(Decimal(value)):
            return format_decimal(Decimal(value), format=pattern, locale=self.locale)

    def percent(self, ratio: Decimal | None, *, places: int = 1) -> str:
        """A share in 0..1 as a percentage: ``Decimal("0.7")`` is ``70%``."""
        if ratio is None:
            return "–"
        pattern = "#,##0" + ("." + "#" * places if places else "") + "%"
        with _exact(Decimal(ratio)):
            return format_percent(Decimal(ratio), format=pattern, locale=self.locale)

    def points(self, ratio: Decimal | None) -> str:
        """A difference of two shares in percentage points, signed: ``+5.2 pt``."""
        if ratio is None:
            return "–"
        value = Decimal(ratio) * 100
        sign = "+" if value > 0 else "−" if value < 0 else "±"
        magnitude = format_decimal(abs(value), format="#,##0.#", locale=self.locale)
        return self.gettext("%(value)s pt") % {"value": sign + magnitude}

    def score(self, value: Decimal | None) -> str:
        """A mean score: two decimals at most."""
        return self.number(value, places=2)

    def signed_score(self, value: Decimal | None) -> str:
        if value is None:
            return "–"
        sign = "+" if value > 0 else "−" if value < 0 else "±"
        return sign + self.number(abs(value), places=2)

    def date(self, value: Date | str | None) -> str:
        """A day: ``2008年4月15日`` / ``April 15, 2008``."""
        if value is None:
            return "–"
        day = Date.fromisoformat(value) if isinstance(value, str) else value
        return format_date(day, format="long", locale=self.locale)

    def month(self, value: Date | str | None) -> str:
        """A month: ``2003年3月`` / ``March 2003``."""
        if value is None:
            return "–"
        day = Date.fromisoformat(value) if isinstance(value, str) else value
        return format_skeleton("yMMMM", day, locale=self.locale)

    def fiscal_year(self, year: int | None) -> str:
        """A fiscal year (the year it starts in): ``2008年度`` / ``FY 2008``."""
        if year is None:
            return "–"
        return self.gettext("FY %(year)s") % {"year": str(year)}

    def integer(self, value: int | None) -> str:
        return "–" if value is None else format_decimal(value, format="#,##0", locale=self.locale)
