"""Organisation identifiers (org-id.guide) and area codes: their forms and check digits.

An organisation identifier is ``<list prefix>-<identifier>`` as org-id.guide registers them:
the prefix is a country (or ``XI``/``XM``) and a list code (``JP-JCN``, ``GB-CHC``...). The
lists below are checked for their form, and the 法人番号 for its check digit; any other
well-formed ``XX-LIST-…`` identifier is accepted as it is, *not checked* against its list.

Area codes are this project's own prefixes: ``JP-LGC-`` + a 全国地方公共団体コード (6 digits,
the last a check digit) and ``GB-ONS-`` + a 9-character ONS (GSS) area code.

Sources (docs/standards.md cites them in full):

* 法人番号: 13 digits, the *first* the check digit, computed from the 12-digit base number
  by 「法人番号の指定等に関する省令」(平成二十六年財務省令第七十号) 第二条:
  ``9 − ((Σ_{n=1..12} P_n × Q_n) mod 9)``, ``P_n`` the n-th digit of the base counted
  from its least significant digit, ``Q_n`` 1 for odd n and 2 for even n (国税庁,
  https://www.houjin-bangou.nta.go.jp/documents/checkdigit.pdf).
* 全国地方公共団体コード (JIS X 0402): 5 digits and a check digit: the digits weighted 6, 5, 4,
  3, 2 from the left, summed; the check digit is the last digit of ``11 − (sum mod 11)``
  (so a remainder of 0 gives 1 and a remainder of 1 gives 0).

This module has no dependency beyond the standard library and the ledger's errors, so the
journal, the domain and other programs can import it cheaply.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..errors import IdentifierError

__all__ = [
    "AREA_SCHEMES",
    "CHECKED_SCHEMES",
    "check_area",
    "check_identifier",
    "check_identifiers",
    "houjin_bangou_check_digit",
    "local_government_check_digit",
    "scheme_of",
]

#: The general form of an org-id.guide identifier: list prefix, then the identifier.
_ORG_ID = re.compile(r"([A-Z]{2}-[A-Z0-9]{2,})-(\S+)\Z")
_MAX_LENGTH = 200

#: The lists whose identifiers are checked (form; check digit where the list has one), with
#: the form each takes as a sentence.
CHECKED_SCHEMES: dict[str, tuple[re.Pattern[str], str]] = {
    "JP-JCN": (re.compile(r"[1-9][0-9]{12}\Z"), "13 digits (法人番号)"),
    "GB-CHC": (re.compile(r"[0-9]{6,7}(-[0-9]{1,3})?\Z"), "a Charity Commission number: 6 or 7 digits, optionally -N"),
    "GB-SC": (re.compile(r"SC[0-9]{6}\Z"), "an OSCR number: SC and 6 digits"),
    "GB-COH": (
        re.compile(r"[A-Z0-9]{2}[0-9]{6}\Z"),
        "a Companies House number: 8 characters (e.g. 01234567, SC123456)",
    ),
    "GB-LAE": (re.compile(r"[A-Z]{3,4}\Z"), "a Local Authorities for England code: 3 or 4 capital letters (e.g. TWH)"),
    "GB-GOR": (re.compile(r"[A-Z]{1,2}[0-9]{1,4}\Z"), "a Government Organisation Register code (e.g. D1, EA45)"),
    "GB-NHS": (re.compile(r"[A-Z0-9]{3,6}\Z"), "an NHS ODS code: 3 to 6 letters or digits (e.g. RJ1)"),
}

#: The area prefixes accepted, with the form each takes as a sentence.
AREA_SCHEMES: dict[str, tuple[re.Pattern[str], str]] = {
    "JP-LGC": (re.compile(r"[0-9]{6}\Z"), "6 digits (全国地方公共団体コード with its check digit)"),
    "GB-ONS": (re.compile(r"[EKLMNSW][0-9]{8}\Z"), "a 9-character ONS area code (e.g. E09000030)"),
}


def houjin_bangou_check_digit(base: str) -> int:
    """The check digit of a 法人番号 whose 12-digit base number is ``base``.

    ``9 − ((Σ P_n × Q_n) mod 9)`` with ``P_n`` the n-th digit from the right and ``Q_n`` 1
    for odd n, 2 for even n (財務省令第七十号 第二条); always 1 to 9.
    """
    if len(base) != 12 or not base.isascii() or not base.isdigit():
        raise ValueError(f"a 法人番号's base number is 12 digits, not {base!r}")
    total = sum(int(d) * (1 if n % 2 else 2) for n, d in enumerate(reversed(base), start=1))
    return 9 - total % 9


def local_government_check_digit(base: str) -> int:
    """The check digit of a 全国地方公共団体コード whose first 5 digits are ``base``.

    The digits weighted 6, 5, 4, 3, 2 from the left and summed; the last digit of
    ``11 − (sum mod 11)``.
    """
    if len(base) != 5 or not base.isascii() or not base.isdigit():
        raise ValueError(f"a 全国地方公共団体コード's base is 5 digits, not {base!r}")
    total = sum(int(d) * w for d, w in zip(base, (6, 5, 4, 3, 2), strict=True))
    return (11 - total % 11) % 10


def scheme_of(identifier: str) -> str:
    """The org-id list prefix of a well-formed identifier (``JP-JCN-…`` → ``JP-JCN``)."""
    m = _ORG_ID.match(identifier)
    if m is None:
        raise IdentifierError(_not_org_id(identifier))
    return m.group(1)


def _not_org_id(identifier: str) -> str:
    return (
        f"{identifier!r} is not an organisation identifier: org-id.guide's form is a list prefix "
        "and the identifier, e.g. JP-JCN-7000020070009 or GB-CHC-1234567"
    )


def check_identifier(identifier: str) -> None:
    """Refuse (:class:`IdentifierError`, one sentence) an identifier in a form we know is wrong.

    The lists of :data:`CHECKED_SCHEMES` are checked for their form (and ``JP-JCN`` for its
    check digit); other lists' identifiers are accepted in the general ``XX-LIST-…`` form.
    """
    if not isinstance(identifier, str) or len(identifier) > _MAX_LENGTH:
        raise IdentifierError(f"an organisation identifier is a text of at most {_MAX_LENGTH} characters")
    m = _ORG_ID.match(identifier)
    if m is None:
        raise IdentifierError(_not_org_id(identifier))
    scheme, local = m.groups()
    checked = CHECKED_SCHEMES.get(scheme)
    if checked is None:
        return  # a list we do not check: its form is the general one
    form, what = checked
    if not form.match(local):
        raise IdentifierError(f"{identifier}: a {scheme} identifier is {what}")
    if scheme == "JP-JCN":
        expected = houjin_bangou_check_digit(local[1:])
        if int(local[0]) != expected:
            raise IdentifierError(f"{identifier}: the check digit (the first digit) should be {expected}")


def check_identifiers(identifiers: Iterable[str]) -> None:
    """:func:`check_identifier` for each, and no identifier twice."""
    seen: set[str] = set()
    for identifier in identifiers:
        check_identifier(identifier)
        if identifier in seen:
            raise IdentifierError(f"{identifier} is given more than once")
        seen.add(identifier)


def check_area(area: str) -> None:
    """Refuse (:class:`IdentifierError`, one sentence) an area code that is not ``JP-LGC-``
    with a good check digit or ``GB-ONS-`` with a 9-character code."""
    if not isinstance(area, str) or len(area) > _MAX_LENGTH:
        raise IdentifierError(f"an area code is a text of at most {_MAX_LENGTH} characters")
    prefix, _, code = area.rpartition("-")
    checked = AREA_SCHEMES.get(prefix)
    if checked is None:
        known = " or ".join(f"{p}-" for p in AREA_SCHEMES)
        raise IdentifierError(
            f"{area!r} is not an area code: it starts with {known} (e.g. JP-LGC-072010, GB-ONS-E09000030)"
        )
    form, what = checked
    if not form.match(code):
        raise IdentifierError(f"{area}: a {prefix} area code is {what}")
    if prefix == "JP-LGC":
        expected = local_government_check_digit(code[:5])
        if int(code[5]) != expected:
            raise IdentifierError(f"{area}: the check digit (the last digit) should be {expected}")
