"""Organisation identifiers and area codes: forms, check digits, and what the journal refuses.

The check digits are tested against independent implementations written from the sources'
other formulations (docs/standards.md cites them): the 法人番号 as "twice the digits in even
places from the left plus the ones in odd places" (国税庁's worked example), the
全国地方公共団体コード from the table of remainders to check digits.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import area_codes, houjin_bangou_bases, org_identifiers

from partnership_ledger.errors import IdentifierError, JournalError
from partnership_ledger.journal import parse_operations
from partnership_ledger.standards.identifiers import (
    check_area,
    check_identifier,
    check_identifiers,
    houjin_bangou_check_digit,
    local_government_check_digit,
)


def nta_check_digit(base: str) -> int:
    """9 − ((2 × the digits at even indexes from the left + the digits at odd indexes) mod 9):
    of the 12, index 0 (from the left) is the 12th from the right, an even place."""
    evens = sum(int(base[i]) for i in range(0, 12, 2))
    odds = sum(int(base[i]) for i in range(1, 12, 2))
    return 9 - (evens * 2 + odds) % 9


# remainder of the weighted sum (mod 11) -> check digit, as the table in the sources gives it
_LGC_TABLE = {0: 1, 1: 0, 2: 9, 3: 8, 4: 7, 5: 6, 6: 5, 7: 4, 8: 3, 9: 2, 10: 1}


def lgc_check_digit(base: str) -> int:
    a, b, c, d, e = (int(x) for x in base)
    return _LGC_TABLE[(a * 6 + b * 5 + c * 4 + d * 3 + e * 2) % 11]


# Real numbers, with where they are published (docs/standards.md):
# 神奈川県 1000020140007 (Wikipedia/Wikidata: 神奈川県, 法人番号); 株式会社FoundingBase
# 4011001098993 (qiita.com/mziyut, checked there); 2120901007402 (zeirishi-blog.info's worked
# example); 7123456789012 (the NTA formula's worked example, expydoc copy of the NTA PDF).
KNOWN_HOUJIN = ["1000020140007", "4011001098993", "2120901007402", "7123456789012", "7000020070009"]
# 福島県 07000-9, 神奈川県 14000-7 (Wikipedia); 福島市 072010, 会津若松市 072028, 郡山市 072036,
# いわき市 072044 (a municipal list on GitHub, Yut8853/fukushi-portal); 東京都 130001.
KNOWN_LGC = ["070009", "140007", "072010", "072028", "072036", "072044", "130001"]


@pytest.mark.parametrize("number", KNOWN_HOUJIN)
def test_known_houjin_bangou_are_accepted(number: str) -> None:
    check_identifier(f"JP-JCN-{number}")
    assert houjin_bangou_check_digit(number[1:]) == nta_check_digit(number[1:]) == int(number[0])


@pytest.mark.parametrize("code", KNOWN_LGC)
def test_known_local_government_codes_are_accepted(code: str) -> None:
    check_area(f"JP-LGC-{code}")
    assert local_government_check_digit(code[:5]) == lgc_check_digit(code[:5]) == int(code[5])


@pytest.mark.parametrize("number", KNOWN_HOUJIN)
def test_one_digit_changes_to_a_houjin_bangou_are_refused(number: str) -> None:
    for i in range(13):
        for d in "0123456789":
            if d == number[i]:
                continue
            changed = number[:i] + d + number[i + 1 :]
            # mod 9 cannot tell 0 from 9 in the base number (the sources say so)
            blind = i > 0 and {d, number[i]} == {"0", "9"}
            if blind:
                check_identifier(f"JP-JCN-{changed}")
                continue
            with pytest.raises(IdentifierError):
                check_identifier(f"JP-JCN-{changed}")


@pytest.mark.parametrize("code", KNOWN_LGC)
def test_one_digit_changes_to_a_local_government_code_are_refused(code: str) -> None:
    refused = 0
    for i in range(6):
        for d in "0123456789":
            if d == code[i]:
                continue
            changed = code[:i] + d + code[i + 1 :]
            if lgc_check_digit(changed[:5]) == int(changed[5]):
                check_area(f"JP-LGC-{changed}")  # remainders 0 and 10 share check digit 1
                continue
            refused += 1
            with pytest.raises(IdentifierError):
                check_area(f"JP-LGC-{changed}")
    assert refused >= 45  # of 54 changes


@given(houjin_bangou_bases)
def test_houjin_bangou_check_digit_agrees_with_the_nta_formulation(base: str) -> None:
    digit = houjin_bangou_check_digit(base)
    assert digit == nta_check_digit(base)
    assert 1 <= digit <= 9
    check_identifier(f"JP-JCN-{digit}{base}")
    for wrong in set(range(1, 10)) - {digit}:
        with pytest.raises(IdentifierError, match=f"should be {digit}"):
            check_identifier(f"JP-JCN-{wrong}{base}")


@given(st.text("0123456789", min_size=5, max_size=5))
def test_local_government_check_digit_agrees_with_the_table(base: str) -> None:
    digit = local_government_check_digit(base)
    assert digit == lgc_check_digit(base)
    check_area(f"JP-LGC-{base}{digit}")
    for wrong in set(range(10)) - {digit}:
        with pytest.raises(IdentifierError, match=f"should be {digit}"):
            check_area(f"JP-LGC-{base}{wrong}")


@given(org_identifiers)
def test_generated_identifiers_are_accepted(identifier: str) -> None:
    check_identifier(identifier)


@given(area_codes)
def test_generated_areas_are_accepted(area: str) -> None:
    check_area(area)


def test_the_sentence_names_the_identifier_and_the_digit() -> None:
    with pytest.raises(IdentifierError) as info:
        check_identifier("JP-JCN-7000020070008")
    assert str(info.value) == "JP-JCN-7000020070008: the check digit (the first digit) should be 8"
    assert info.value.kind == "identifier_invalid"


@pytest.mark.parametrize(
    ("identifier", "says"),
    [
        ("GB-CHC-12345", "GB-CHC identifier is a Charity Commission number"),
        ("GB-CHC-12345678", "GB-CHC identifier is"),
        ("GB-SC-SC12345", "SC and 6 digits"),
        ("GB-COH-1234567", "8 characters"),
        ("GB-LAE-tw", "3 or 4 capital letters"),
        ("GB-GOR-xyz", "Government Organisation Register"),
        ("GB-NHS-R", "NHS ODS code"),
        ("JP-JCN-0000020070009", "13 digits"),
        ("JP-JCN-７000020070009", "13 digits"),
        ("1234567", "not an organisation identifier"),
        ("GB-CHC 1234567", "not an organisation identifier"),
        ("gb-chc-1234567", "not an organisation identifier"),
    ],
)
def test_bad_identifiers_are_refused_with_a_sentence(identifier: str, says: str) -> None:
    with pytest.raises(IdentifierError, match=says):
        check_identifier(identifier)


@pytest.mark.parametrize(
    "identifier",
    [
        "GB-CHC-1234567",
        "GB-CHC-123456",
        "GB-CHC-1234567-1",
        "GB-SC-SC012345",
        "GB-COH-01234567",
        "GB-COH-SC123456",
        "GB-LAE-TWH",
        "GB-GOR-D1",
        "GB-GOR-EA45",
        "GB-NHS-RJ1",
        "XI-IATI-EXAMPLE",
        "US-EIN-12-3456789",
    ],
)
def test_good_identifiers_are_accepted(identifier: str) -> None:
    check_identifier(identifier)


@pytest.mark.parametrize(
    ("area", "says"),
    [
        ("JP-LGC-07000", "6 digits"),
        ("JP-LGC-070008", "should be 9"),
        ("GB-ONS-E0900003", "9-character ONS area code"),
        ("GB-ONS-X09000030", "9-character ONS area code"),
        ("E09000030", "is not an area code"),
        ("US-FIPS-06037", "is not an area code"),
    ],
)
def test_bad_areas_are_refused_with_a_sentence(area: str, says: str) -> None:
    with pytest.raises(IdentifierError, match=says):
        check_area(area)


def test_an_identifier_twice_is_refused() -> None:
    with pytest.raises(IdentifierError, match="more than once"):
        check_identifiers(["GB-LAE-TWH", "GB-LAE-TWH"])


def test_the_journal_names_the_operation_and_field() -> None:
    op = {"op": "register_party", "key": "p", "name": "P", "sector": "npo", "identifiers": ["JP-JCN-7000020070008"]}
    with pytest.raises(JournalError) as info:
        parse_operations([op])
    assert str(info.value) == (
        "operation 0 (register_party) field 'identifiers': JP-JCN-7000020070008: the check digit (the first digit) "
        "should be 8"
    )
    with pytest.raises(JournalError, match="field 'area'"):
        parse_operations([{**op, "identifiers": ["GB-LAE-TWH"], "area": "JP-LGC-070008"}])
    with pytest.raises(JournalError, match="must not be empty"):
        parse_operations([{**op, "identifiers": []}])
    with pytest.raises(JournalError, match="list of texts"):
        parse_operations([{**op, "identifiers": [7000020070009]}])
    [ok] = parse_operations([{**op, "identifiers": ["JP-JCN-7000020070009"], "area": "JP-LGC-070009"}])
    assert ok["identifiers"] == ["JP-JCN-7000020070009"]
    assert ok["area"] == "JP-LGC-070009"
