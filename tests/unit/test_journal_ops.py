"""The journal's table of ops: each op's fields checked by one generic check."""

from __future__ import annotations

from typing import Any

import pytest

from partnership_ledger.journal import OPS, Validator


@pytest.mark.parametrize(("value", "shown"), [([], "a list"), ({"a": 1}, "an object"), (3, "3"), (None, "null")])
def test_an_op_named_by_something_not_text_is_an_unknown_op(value: Any, shown: str) -> None:
    validator = Validator()
    assert validator.add({"op": value, "key": "a"}) is None
    [problem] = validator.problems
    assert (problem.index, problem.field, problem.rule) == (0, "op", "unknown_op")
    assert problem.message == f"unknown op {shown} (known: {', '.join(OPS)})"


def test_a_field_is_read_as_its_name_says_but_where_an_op_says_otherwise() -> None:
    def problem(raw: dict[str, Any]) -> str:
        validator = Validator()
        validator.add(raw)
        return validator.problems[0].message

    on = "2024-04-01"
    # "value" is money in a pledge or a delivery, a plain number in a measurement.
    assert problem({"op": "deliver", "contribution": "c", "value": "5", "on": on}).startswith("must be money")
    measured = {"op": "record_measurement", "target": "t", "period": "2024", "source": "s", "on": on}
    assert problem({**measured, "value": {"amount": "5", "currency": "JPY"}}).startswith("must be a decimal string")
    # "role" is free text when joining, one of the evaluator roles when evaluating.
    assert Validator().add({"op": "join_partnership", "partnership": "p", "party": "a", "role": "host", "on": on})
    submitted = {"op": "submit_evaluation", "evaluation": "e", "evaluator": "r", "scores": {"x": 1}, "on": on}
    assert problem({**submitted, "role": "host"}).startswith("must be one of ")
