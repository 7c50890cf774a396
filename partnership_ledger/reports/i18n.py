"""Languages of the resident report: message catalogs (gettext, compiled with Babel).

Every label and sentence of the report is an English ``msgid`` marked with ``_``/``N_`` in
Python or ``_()`` in the templates; ``locales/ja/LC_MESSAGES/messages.po`` holds the
Japanese translations and ``messages.mo`` their compiled form (regenerate it with
``python -m partnership_ledger.reports.catalog compile``, which a test keeps current).
"""

from __future__ import annotations

import gettext
from functools import cache
from importlib.resources import files
from typing import Literal

from babel.support import NullTranslations, Translations

Language = Literal["ja", "en"]
LANGUAGES: tuple[Language, ...] = ("ja", "en")
DOMAIN = "messages"
#: The Babel locale used for numbers, currency and dates in each language (English: see
#: :func:`locale_for`, British for a partnership in pounds, otherwise American).
LOCALES: dict[Language, str] = {"ja": "ja_JP", "en": "en_US"}
#: The locales ``--locale`` accepts, by language.
KNOWN_LOCALES: dict[str, Language] = {"ja-JP": "ja", "en-GB": "en", "en-US": "en"}


def N_(message: str) -> str:
    """Mark ``message`` for translation without translating it (it is translated later)."""
    return message


def locales_dir() -> str:
    return str(files(__package__).joinpath("locales"))


@cache
def translations(language: Language) -> gettext.NullTranslations:
    """The compiled catalog of ``language`` (English is the source language: no catalog)."""
    if language == "en":
        return NullTranslations()
    found = Translations.load(locales_dir(), [language], DOMAIN)
    if not isinstance(found, Translations):
        raise FileNotFoundError(
            f"the {language} message catalog is missing: run 'python -m partnership_ledger.reports.catalog compile'"
        )
    return found


def default_language(currency: str | None) -> Language:
    """Japanese when the ledger keeps its accounts in yen, otherwise English."""
    return "ja" if currency == "JPY" else "en"


def locale_for(language: Language, currency: str | None = None, locale: str | None = None) -> str:
    """The Babel locale of a report: ``locale`` when given (``en-GB``, ``en-US``, ``ja-JP``),
    else Japanese for ``ja``, British English for a partnership in pounds, American otherwise."""
    if locale is not None:
        found = KNOWN_LOCALES.get(locale.replace("_", "-"))
        if found is None or found != language:
            from ..errors import InvalidArgument

            known = ", ".join(k for k, v in KNOWN_LOCALES.items() if v == language)
            raise InvalidArgument(f"the locale of a report in {language} must be one of {known}, not {locale!r}")
        return locale.replace("-", "_")
    if language == "en" and currency == "GBP":
        return "en_GB"
    return LOCALES[language]


def check_language(language: str) -> Language:
    if language == "ja":
        return "ja"
    if language == "en":
        return "en"
    from ..errors import InvalidArgument

    raise InvalidArgument(f"the report language must be ja or en, not {language!r}")
