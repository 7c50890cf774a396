"""Locale-aware formatting with Babel: money, numbers, shares, dates, fiscal years.

The renderers hold no arithmetic: every number of the report reaches a template as a string
made here. Money stays a ``Decimal`` to the last step (Babel formats Decimals exactly).

Japanese follows the usage of public documents: yen as ``72,090,000円`` in tables and
``7,209万円`` in sentences, fiscal years with the era (``2008年度（平成20年度）``), dates
``2008年4月15日``. English dates follow the locale (``15 April 2008`` in en-GB, the default
for a partnership in pounds; ``April 15, 2008`` in en-US) and fiscal years are written like
the targets' periods, ``2008/09``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date as Date
from decimal import ROUND_HALF_UP, Decimal, localcontext

from babel.dates import format_date, format_skeleton
from babel.numbers import format_currency, format_decimal, format_percent

from .i18n import Language, locale_for, translations

FULLWIDTH_YEN = "\uffe5"
YEN = "\u00a5"


#: Japanese eras by the first fiscal year named after them (a fiscal year takes the era in
#: which it mostly falls: FY 2019, April 2019 to March 2020, is 令和元年度).
ERAS = ((2019, "令和"), (1989, "平成"), (1926, "昭和"))


def japanese_era(year: int) -> str | None:
    """The era name of a fiscal year: ``平成20`` for 2008, ``令和元`` for 2019 (None before 1926)."""
    for first, name in ERAS:
        if year >= first:
            n = year - first + 1
            return f"{name}{'元' if n == 1 else n}"
    return None


def largest_remainder(shares: Iterable[Decimal | None], places: int = 1) -> list[Decimal | None]:
    """Shares (0..1) rounded to ``places`` decimals of a percent so that, when they sum to 1,
    the rounded ones sum to exactly 100% (the largest remainders are rounded up)."""
    values = list(shares)
    unit = Decimal(1).scaleb(-(places + 2))
    known = [(i, v / unit) for i, v in enumerate(values) if v is not None]
    floors = {i: int(x) for i, x in known}
    total = sum((v for v in values if v is not None), Decimal(0))
    target = int((total / unit).to_integral_value(rounding=ROUND_HALF_UP))
    missing = target - sum(floors.values())
    for i, _x in sorted(known, key=lambda ix: (-(ix[1] - int(ix[1])), ix[0]))[: max(missing, 0)]:
        floors[i] += 1
    return [Decimal(floors[i]) * unit if v is not None else None for i, v in enumerate(values)]


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
    is ``'10,000,000円'``; ``Formatter("en").month(date(2003, 3, 1))`` is ``'March 2003'``.

    ``currency`` (the partnership's) and ``locale`` (``en-GB``, ``en-US``, ``ja-JP``) choose
    the locale (see :func:`.i18n.locale_for`).
    """

    def __init__(self, language: Language, currency: str | None = None, locale: str | None = None) -> None:
        self.language: Language = language
        self.locale = locale_for(language, currency, locale)
        self.gettext = translations(language).gettext
        #: What separates the items of a list: "、" in Japanese, ", " in English.
        self.comma = "、" if language == "ja" else ", "
        #: What separates two sentences: nothing after "。", a space after ".".
        self.space = "" if language == "ja" else " "

    def join(self, items: Iterable[str]) -> str:
        return self.comma.join(items)

    def join_and(self, items: Iterable[str]) -> str:
        """A list in a sentence: ``a, b and c`` / ``a、b、c``."""
        found = list(items)
        if self.language == "ja" or len(found) < 2:
            return self.join(found)
        return self.join(found[:-1]) + " " + self.gettext("and") + " " + found[-1]

    def money(self, amount: Decimal | int | None, currency: str | None) -> str:
        """``¥10,000,000``, ``£920,000``, ``£1,234.50``; whole amounts without decimals."""
        if amount is None:
            return "–"
        if currency is None:
            return self.number(amount)
        value = Decimal(amount)
        if currency == "JPY" and self.language == "ja":
            return self.number(value, places=0 if value == value.to_integral_value() else 2) + "円"
        with _exact(value):
            if value == value.to_integral_value():
                text = format_currency(value, currency, format="¤#,##0", locale=self.locale, currency_digits=False)
            else:
                text = format_currency(value, currency, locale=self.locale)
        # CLDR's Japanese yen sign is the full-width one; residents write the ordinary ¥.
        return text.replace(FULLWIDTH_YEN, YEN)

    def money_prose(self, amount: Decimal | int | None, currency: str | None) -> str:
        """Money in a sentence: in Japanese, yen of 100,000 or more in 万円 (``7,209万円``;
        ``約7,210万円`` when not a whole number of 万); otherwise as :meth:`money`."""
        if amount is None or currency != "JPY" or self.language != "ja":
            return self.money(amount, currency)
        value = Decimal(amount)
        if abs(value) < 100_000:
            return self.money(value, currency)
        with _exact(value):
            man = value.scaleb(-4)
            if man == man.to_integral_value():
                return self.number(man, places=0) + "万円"
            rounded = man.quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return "約" + self.number(rounded, places=0) + "万円"

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
        """A day: ``2008年4月15日`` / ``15 April 2008`` (en-GB) / ``April 15, 2008`` (en-US)."""
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
        """A fiscal year (given by the year it starts in): ``2008年度（平成20年度）`` / ``2008/09``."""
        if year is None:
            return "–"
        if self.language == "ja":
            era = japanese_era(year)
            return f"{year}年度" + (f"（{era}年度）" if era else "")
        return f"{year}/{(year + 1) % 100:02d}"

    def integer(self, value: int | None) -> str:
        return "–" if value is None else format_decimal(value, format="#,##0", locale=self.locale)
