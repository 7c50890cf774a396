"""The journal format: reading, validating, and where each problem is reported."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.errors import JournalError, StorageError
from partnership_ledger.journal import OPS, parse_journal

PARTY = '{"op": "register_party", "key": "a", "name": "A", "sector": "npo"}'


def problems(data: bytes | str) -> list[tuple[int | None, str | None, str | None, str | None]]:
    """(index, op, field, rule) of every problem parsing ``data`` finds."""
    with pytest.raises(JournalError) as info:
        parse_journal(data, "j.json")
    return [(p.index, p.op, p.field, p.rule) for p in info.value.problems]


def message(data: bytes | str) -> str:
    with pytest.raises(JournalError) as info:
        parse_journal(data, "j.json")
    return str(info.value)


def pledge(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "op": "pledge",
        "key": "c1",
        "partnership": "p",
        "party": "a",
        "kind": "money",
        "value": {"amount": "1000", "currency": "JPY"},
        "fiscal_year": 2020,
    }
    raw.update(changes)
    return {k: v for k, v in raw.items() if v is not None}


def journal(*ops: dict[str, Any]) -> str:
    return json.dumps(list(ops))


# -- every problem, with where it is -------------------------------------------------------


def test_every_problem_is_listed_with_index_op_and_field() -> None:
    data = journal(
        {"op": "register_party", "key": "a", "name": "A", "sector": "npo"},
        {"op": "register_party", "key": "b", "name": "", "sector": "charity"},
        {"op": "no_such_op"},
        pledge(fiscal_year="2020", colour="red", party=None),
        {
            "op": "deliver",
            "contribution": "c1",
            "value": {"amount": "5", "currency": "JPY"},
            "on": "2008-02-30",
        },
    )
    assert problems(data) == [
        (1, "register_party", "name", "invalid_field"),
        (1, "register_party", "sector", "invalid_field"),
        (2, None, "op", "unknown_op"),
        (3, "pledge", "colour", "unknown_field"),
        (3, "pledge", "party", "missing_field"),
        (3, "pledge", "fiscal_year", "invalid_field"),
        (4, "deliver", "on", "invalid_field"),
    ]
    text = message(data)
    assert text == (
        "j.json: operation 1 (register_party) field 'name': must be non-empty text, not \"\" (and 6 more problems)"
    )


def test_problem_messages_say_what_is_expected() -> None:
    with pytest.raises(JournalError) as info:
        parse_journal(
            journal(
                {"op": "register_party", "key": "b", "name": "B", "sector": "charity"},
                {"op": "nope"},
                {"key": "x"},
                pledge(colour="red"),
                pledge(party=None),
            )
        )
    got = [p.to_dict() for p in info.value.problems]
    assert got[0] == {
        "index": 0,
        "op": "register_party",
        "field": "sector",
        "rule": "invalid_field",
        "message": "must be one of npo, prefecture, municipality, national_government, "
        "public_agency, business, chamber_of_commerce, intermediary, resident_group, other, "
        'not "charity"',
    }
    assert got[1]["message"] == f'unknown op "nope" (known: {", ".join(OPS)})'
    assert got[2]["message"] == 'has no "op" naming the operation'
    assert got[3]["message"] == (
        "unknown field (the fields of pledge are key, partnership, party, agreement, kind, "
        "value, quantity, unit, valuation_basis, instrument, fiscal_year, on, description, recipient)"
    )
    assert got[4]["message"] == "is missing"
    assert info.value.to_dict()["kind"] == "invalid_journal"
    assert len(info.value.to_dict()["problems"]) == 5


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1.5", "amount must be a decimal string or an integer, not the float 1.5"),
        ("1e5", "amount must be a decimal string or an integer, not the float 1e5"),
        ("1000.0", "amount must be a decimal string or an integer, not the float 1000.0"),
        ("NaN", "amount must be a decimal string or an integer, not NaN"),
        ("Infinity", "amount must be a decimal string or an integer, not Infinity"),
        ("-Infinity", "amount must be a decimal string or an integer, not -Infinity"),
        ("true", "amount must be a decimal string or an integer, not true"),
        ("null", "amount must be a decimal string or an integer, not null"),
        ('"NaN"', 'amount must be a decimal number such as "1200.50", not "NaN"'),
        ('"1e5"', 'amount must be a decimal number such as "1200.50", not "1e5"'),
        ('"1,000"', 'amount must be a decimal number such as "1200.50", not "1,000"'),
        ('"１０００"', 'amount must be a decimal number such as "1200.50", not "１０００"'),
        ('"1.00000000001"', "amount has too many digits (at most 30, and 10 after the point)"),
        ("1" * 31, "amount has too many digits (at most 30, and 10 after the point)"),
        ("0", "amount must be more than zero, not 0"),
    ],
)
def test_amounts_are_decimal_strings_or_integers(value: str, expected: str) -> None:
    data = (
        '[{"op": "pledge", "key": "c1", "partnership": "p", "party": "a", "kind": "money", '
        f'"value": {{"amount": {value}, "currency": "JPY"}}, "fiscal_year": 2020}}]'
    )
    with pytest.raises(JournalError) as info:
        parse_journal(data)
    [problem] = info.value.problems
    assert (problem.index, problem.op, problem.field) == (0, "pledge", "value")
    assert problem.message == expected


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("fiscal_year", "true", "must be an integer, not true"),
        ("fiscal_year", "2020.0", "must be an integer, not the float 2020.0"),
        ("fiscal_year", '"2020"', 'must be an integer, not "2020"'),
        ("fiscal_year", "1" * 50, "is out of range: a huge integer"),
        ("fiscal_year", "1800", "must be a year between 1900 and 2200, not 1800"),
        ("quantity", "false", "must be a decimal string or an integer, not false"),
        ("quantity", "2.5", "must be a decimal string or an integer, not the float 2.5"),
        ("quantity", '"-1"', "must not be negative, not -1"),
    ],
)
def test_other_numbers_follow_the_same_rule(field: str, value: str, expected: str) -> None:
    numbers = {"fiscal_year": "2020", field: value}
    raw = (
        '[{"op": "pledge", "key": "c1", "partnership": "p", "party": "a", "kind": "staff_time", '
        '"value": {"amount": "1000", "currency": "JPY"}, '
        + ", ".join(f'"{name}": {number}' for name, number in numbers.items())
        + "}]"
    )
    with pytest.raises(JournalError) as info:
        parse_journal(raw)
    [problem] = info.value.problems
    assert (problem.index, problem.op, problem.field, problem.message) == (
        0,
        "pledge",
        field,
        expected,
    )


def test_scores_and_booleans_are_strict() -> None:
    base = {
        "op": "submit_evaluation",
        "evaluation": "e",
        "evaluator": "r-1",
        "role": "resident",
        "scores": {"overall": 4},
        "on": "2020-01-01",
    }
    assert problems(journal({**base, "scores": {"overall": True}})) == [
        (0, "submit_evaluation", "scores", "invalid_field")
    ]
    assert message(journal({**base, "comment_public": "yes"})).endswith(
        "field 'comment_public': must be true or false, not \"yes\""
    )
    assert message(journal({**base, "scores": {"overall": 4.0}})).endswith(
        "field 'scores': entry 'overall' must be an integer, not the float 4.0"
    )


@pytest.mark.parametrize(
    ("baseline", "expected"),
    [
        ({"period": "", "value": 1}, 'period must be a period label such as "2024" or "2008/09", not ""'),
        ({"period": 2008, "value": 1}, 'period must be a period label such as "2024" or "2008/09", not 2008'),
        ({"period": "2008", "value": 1.5}, "value must be a decimal string or an integer, not the float 1.5"),
    ],
)
def test_a_period_value_names_the_part_that_is_wrong(baseline: dict[str, Any], expected: str) -> None:
    target = {
        "op": "define_target",
        "key": "t",
        "partnership": "p",
        "indicator": "visitors",
        "unit": "people",
        "direction": "increase",
        "baseline": baseline,
        "targets": [{"period": "2009", "value": 2}],
    }
    assert message(journal(target)) == f"j.json: operation 0 (define_target) field 'baseline': {expected}"


def test_duplicate_names_are_refused_wherever_they_are() -> None:
    top = '[{"op": "register_party", "key": "a", "key": "b", "name": "A", "sector": "npo"}]'
    assert problems(top) == [(0, "register_party", "key", "duplicate_field")]
    assert message(top) == "j.json: operation 0 (register_party) field 'key': names field 'key' twice"
    nested = (
        '[{"op": "register_party", "key": "a", "name": "A", "sector": "npo", '
        '"capacity": {"amount": "1", "amount": "2", "currency": "JPY"}}]'
    )
    assert message(nested) == ("j.json: operation 0 (register_party) field 'capacity': names 'amount' twice")
    votes = (
        '[{"op": "record_decision", "partnership": "p", "key": "d", "subject": "s", '
        '"proposed_by": "a", "rule": "majority", "votes": {"a": "for", "a": "against"}, '
        '"on": "2020-01-01"}]'
    )
    assert message(votes) == "j.json: operation 0 (record_decision) field 'votes': names 'a' twice"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2008-02-30", "is not a real date: 2008-02-30"),
        ("20080101", 'must be a date YYYY-MM-DD, not "20080101"'),
        ("2008-1-01", 'must be a date YYYY-MM-DD, not "2008-1-01"'),
        ("2008-01-01T00:00", 'must be a date YYYY-MM-DD, not "2008-01-01T00:00"'),
        ("2008-01-01\n", 'must be a date YYYY-MM-DD, not "2008-01-01\\n"'),
        ("２００８-01-01", 'must be a date YYYY-MM-DD, not "２００８-01-01"'),
        ("1899-12-31", "must be a date between 1900 and 2200, not 1899-12-31"),
    ],
)
def test_dates_are_real_iso_dates(value: str, expected: str) -> None:
    data = journal({"op": "activate_partnership", "partnership": "p", "on": value})
    with pytest.raises(JournalError) as info:
        parse_journal(data)
    [problem] = info.value.problems
    assert (problem.index, problem.op, problem.field, problem.message) == (
        0,
        "activate_partnership",
        "on",
        expected,
    )


@pytest.mark.parametrize("value", ["a b", "-a", "", "a\n", "a" * 129, "ä", "a/b"])
def test_keys_are_plain_identifiers(value: str) -> None:
    data = journal({"op": "register_party", "key": value, "name": "A", "sector": "npo"})
    assert problems(data) == [(0, "register_party", "key", "invalid_field")]


def test_currency_is_a_three_letter_code() -> None:
    for currency in ["jpy", "JPYY", "JPY\n", "", 392]:
        data = journal(
            {
                "op": "register_party",
                "key": "a",
                "name": "A",
                "sector": "npo",
                "capacity": {"amount": "1", "currency": currency},
            }
        )
        assert problems(data) == [(0, "register_party", "capacity", "invalid_field")]


def test_text_must_be_real_text() -> None:
    for name in ["", "   ", "a\x00b", "a\x7fb", "\ud800"]:
        data = journal({"op": "register_party", "key": "a", "name": name, "sector": "npo"})
        assert problems(data) == [(0, "register_party", "name", "invalid_field")]
    lone = '[{"op": "register_party", "key": "a", "name": "A\\ud800", "sector": "npo"}]'
    assert message(lone) == (
        "j.json: operation 0 (register_party) field 'name': contains a lone surrogate, which is not Unicode text"
    )
    # The message itself can be printed and encoded.
    message(lone).encode("utf-8")
    odd_key = '[{"op": "register_party", "key": "\\udfff", "name": "A", "sector": "npo"}]'
    message(odd_key).encode("utf-8")


# -- whole files ---------------------------------------------------------------------------


def test_invalid_utf8() -> None:
    data = b'[{"op": "register_party", "key": "a", "name": "\xff\xfe", "sector": "npo"}]'
    with pytest.raises(JournalError) as info:
        parse_journal(data, "bad.json")
    bad_byte = data.index(b"\xff")
    # Named in its operation and field, when the rest of the file is JSON.
    assert str(info.value) == (
        f"bad.json: operation 0 (register_party) field 'name': is not valid UTF-8 (byte {bad_byte})"
    )
    assert info.value.problems[0].rule == "encoding"
    lines = b'{"op": "register_party", "key": "a", "name": "A", "sector": "npo"}\n{"op": "x", "name": "\xc3"}'
    with pytest.raises(JournalError) as info:
        parse_journal(lines, "bad.jsonl")
    at = lines.index(b"\xc3")
    assert str(info.value) == f"bad.jsonl: operation 1 (x) field 'name': is not valid UTF-8 (byte {at})"
    with pytest.raises(JournalError) as info:
        parse_journal(b"\xff[]", "bad.json")
    assert str(info.value) == "bad.json: is not valid UTF-8 (byte 0)"


@pytest.mark.parametrize("data", [b"", b"   \n\t\n", b"\xef\xbb\xbf", b"\xef\xbb\xbf  \n"])
def test_empty_file(data: bytes) -> None:
    with pytest.raises(JournalError) as info:
        parse_journal(data, "empty.json")
    assert str(info.value) == "empty.json: is empty: a journal is a JSON array or JSON Lines"


def test_an_empty_array_is_an_empty_journal() -> None:
    assert parse_journal(b"[]") == []


def test_bom_is_ignored() -> None:
    ops = parse_journal(b"\xef\xbb\xbf[" + PARTY.encode() + b"]")
    assert [o.op for o in ops] == ["register_party"]
    ops = parse_journal(b"\xef\xbb\xbf" + PARTY.encode() + b"\n")
    assert [o.op for o in ops] == ["register_party"]


def test_json_lines() -> None:
    data = PARTY + "\n\n" + PARTY.replace('"a"', '"b"') + "\r\n"
    assert [o["key"] for o in parse_journal(data)] == ["a", "b"]
    bad = PARTY + "\n" + '{"op": "register_party", "key": \n'
    assert problems(bad) == [(1, None, None, "json")]
    assert message(bad) == ("j.json: operation 1: line 2 is not valid JSON at column 33: Expecting value")
    not_objects = PARTY + "\n[1, 2]\n42\n"
    assert problems(not_objects) == [(1, None, None, "shape"), (2, None, None, "shape")]


def test_broken_json_array() -> None:
    assert message("[" + PARTY + ",\n]") == ("j.json: is not valid JSON at line 2, column 1: Expecting value")
    assert problems("[" + PARTY + "] extra") == [(None, None, None, "json")]
    assert problems("[1, null]") == [(0, None, None, "shape"), (1, None, None, "shape")]


def test_deeply_nested_json() -> None:
    for data in ["[" * 100_000 + "]" * 100_000, "[" + "{" + '"a":[' * 50_000]:
        with pytest.raises(JournalError) as info:
            parse_journal(data, "deep.json")
        assert info.value.problems[0].rule == "json"
    with pytest.raises(JournalError) as info:
        parse_journal("[" * 100_000 + "]" * 100_000, "deep.json")
    assert str(info.value) == "deep.json: is nested too deeply to be a journal"


def test_huge_integers() -> None:
    huge = "9" * 5000
    data = (
        '[{"op": "pledge", "key": "c1", "partnership": "p", "party": "a", "kind": "money", '
        f'"value": {{"amount": {huge}, "currency": "JPY"}}, "fiscal_year": 2020}}]'
    )
    with pytest.raises(JournalError) as info:
        parse_journal(data, "huge.json")
    assert info.value.problems[0].rule == "json"
    # One sentence for whoever wrote the journal, not Python's advice on its own limits.
    assert str(info.value) == "huge.json: has a number with far more digits than a journal allows (at most 30)"
    assert "sys.set_int_max_str_digits" not in str(info.value)
    big = data.replace(huge, "9" * 200)
    with pytest.raises(JournalError) as info:
        parse_journal(big)
    [problem] = info.value.problems
    assert (problem.field, problem.message) == (
        "value",
        "amount has too many digits (at most 30, and 10 after the point)",
    )


def test_operation_ids() -> None:
    ops = parse_journal(journal({**json.loads(PARTY), "id": "op-1"}, json.loads(PARTY)))
    assert ops[0].meta.op_id == "op-1"
    # Without an id: a fingerprint of the content, numbered by occurrence.
    fingerprint = ops[1].meta.op_id.rsplit("-", 1)[0]
    twice = parse_journal(journal(json.loads(PARTY), json.loads(PARTY)))
    assert [o.meta.op_id for o in twice] == [f"{fingerprint}-0", f"{fingerprint}-1"]
    assert problems(journal({**json.loads(PARTY), "id": "x"}, {**json.loads(PARTY), "id": "x"})) == [
        (1, "register_party", "id", "duplicate_id")
    ]
    assert problems(journal({**json.loads(PARTY), "id": "not a key"})) == [(0, "register_party", "id", "invalid_field")]


def test_by_and_note_are_kept() -> None:
    [op] = parse_journal(journal({**json.loads(PARTY), "by": "clerk", "note": "from paper"}))
    assert (op.meta.by, op.meta.note) == ("clerk", "from paper")
    assert problems(journal({**json.loads(PARTY), "by": 3})) == [(0, "register_party", "by", "invalid_field")]


def test_optional_fields_may_be_null_required_ones_may_not() -> None:
    [op] = parse_journal(journal({**json.loads(PARTY), "capacity": None}))
    assert op.get("capacity") is None
    assert message(journal({**json.loads(PARTY), "name": None})) == (
        "j.json: operation 0 (register_party) field 'name': must be non-empty text, not null"
    )
    assert message(journal({"op": "register_party", "key": "a", "sector": "npo"})) == (
        "j.json: operation 0 (register_party) field 'name': is missing"
    )


# -- import --------------------------------------------------------------------------------


def test_an_invalid_journal_records_nothing(ledger: PartnershipLedger) -> None:
    data = journal(json.loads(PARTY), pledge(value={"amount": 1.5, "currency": "JPY"}))
    with pytest.raises(JournalError) as info:
        ledger.import_journal(data, source="in.json")
    assert str(info.value).startswith("in.json: operation 1 (pledge) field 'value'")
    assert ledger.event_count() == 0
    assert ledger.kind_of("a") is None


def test_import_reads_a_path(ledger: PartnershipLedger, every_op_path: Path) -> None:
    result = ledger.import_journal(every_op_path)
    assert result.applied == result.operations == len(json.loads(every_op_path.read_bytes()))
    missing = every_op_path.parent / "no-such-file.json"
    with pytest.raises(StorageError) as failed:
        ledger.import_journal(missing)
    assert str(failed.value) == f"cannot read {missing}: there is no such file"


def ledger_state(ledger: PartnershipLedger) -> dict[str, Any]:
    kinds = ("party", "partnership", "agreement", "contribution", "target", "evaluation")
    keys = [k for kind in kinds for k in ledger.keys(kind)]
    return {k: ledger.show(k) for k in keys}


def _same_handles(ops: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    from partnership_ledger.privacy import is_commitment

    return [{k: ("<handle>" if is_commitment(v) else v) for k, v in op.items()} for op in ops]


def test_json_array_and_json_lines_give_the_same_ledger(tmp_path: Path, every_op_path: Path) -> None:
    ops = json.loads(every_op_path.read_bytes())
    lines = "\n".join(json.dumps(op, ensure_ascii=False) for op in ops) + "\n"
    with (
        PartnershipLedger.open(tmp_path / "array.sqlite") as from_array,
        PartnershipLedger.open(tmp_path / "lines.sqlite") as from_lines,
    ):
        from_array.import_journal(every_op_path.read_bytes())
        from_lines.import_journal(lines.encode("utf-8"))
        assert ledger_state(from_array) == ledger_state(from_lines)
        # An erased resident's id is exported as their handle: a salted commitment, whose salt
        # differs between the two ledgers.
        assert _same_handles(from_array.export_operations()) == _same_handles(from_lines.export_operations())
        # Same operation ids: importing one form into the other's ledger records nothing.
        assert from_lines.import_journal(every_op_path.read_bytes()).applied == 0


def test_the_sample_journal_uses_every_op(every_op_path: Path) -> None:
    ops = parse_journal(every_op_path.read_bytes())
    assert {o.op for o in ops} == set(OPS)


def test_the_sample_copy_is_current(every_op_path: Path) -> None:
    copy = Path(__file__).resolve().parents[1] / "data" / "every-op.json"
    if every_op_path == copy:
        pytest.skip("../shared is not beside the repository")
    assert copy.read_bytes() == every_op_path.read_bytes()


def test_the_demo_imports_into_a_fresh_ledger_and_uses_every_op(ledger: PartnershipLedger, demo_bytes: bytes) -> None:
    ops = parse_journal(demo_bytes)
    assert {o.op for o in ops} == set(OPS)
    result = ledger.import_journal(demo_bytes, source="demo")
    assert (result.applied, result.skipped) == (len(ops), 0)
    assert {h["op"] for h in ledger.history()} == set(OPS)
    assert ledger.import_journal(demo_bytes).applied == 0
