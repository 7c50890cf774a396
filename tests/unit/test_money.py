"""Money is exact: Decimal from the journal to every query, never rounded, never a float."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from decimal import Context, Decimal, localcontext
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import exact_amounts, money

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.errors import AnnualCapExceeded
from partnership_ledger.journal import parse_journal

NewLedger = Callable[[], AbstractContextManager[PartnershipLedger]]
KINDS = ("party", "partnership", "agreement", "contribution", "target", "evaluation")


def setup(ledger: PartnershipLedger) -> None:
    ledger.register_party("a", "A", "npo")
    ledger.register_party("b", "B", "prefecture")
    ledger.propose_partnership("p", "T", "P", "a", ["a", "b"], "2020-04-01")


def values(tree: Any) -> Iterator[Any]:
    """Every leaf of a tree of dicts and lists."""
    if isinstance(tree, dict):
        for v in tree.values():
            yield from values(v)
    elif isinstance(tree, (list, tuple)):
        for v in tree:
            yield from values(v)
    else:
        yield tree


def money_amounts(tree: Any) -> Iterator[Any]:
    """Every ``amount`` of every ``{"amount", "currency"}`` in a tree."""
    if isinstance(tree, dict):
        if set(tree) == {"amount", "currency"}:
            yield tree["amount"]
        for v in tree.values():
            yield from money_amounts(v)
    elif isinstance(tree, (list, tuple)):
        for v in tree:
            yield from money_amounts(v)


@st.composite
def deliveries_and_corrections(draw: st.DrawFn) -> list[tuple[str, Decimal]]:
    """Deliveries and signed corrections that never take the delivered total below zero."""
    steps: list[tuple[str, Decimal]] = []
    total = Fraction(0)
    for _ in range(draw(st.integers(1, 8))):
        amount = draw(exact_amounts())
        if draw(st.booleans()):
            steps.append(("deliver", amount))
            total += Fraction(amount)
        elif total >= Fraction(amount) and draw(st.booleans()):
            steps.append(("correct", -amount))
            total -= Fraction(amount)
        else:
            steps.append(("correct", amount))
            total += Fraction(amount)
    return steps


@given(pledged=exact_amounts(), steps=deliveries_and_corrections())
def test_delivered_is_the_exact_sum(new_ledger: NewLedger, pledged: Decimal, steps: list[tuple[str, Decimal]]) -> None:
    with new_ledger() as ledger:
        setup(ledger)
        ledger.pledge("c", "p", "a", "money", money(pledged), 2020)
        for i, (what, amount) in enumerate(steps):
            day = f"2020-05-{i + 1:02d}"
            if what == "deliver":
                ledger.deliver("c", money(amount), day)
            else:
                ledger.correct_contribution("c", money(amount), "restated", day)
        view = ledger.show("c")
        delivered = view["delivered"]["amount"]
        assert type(delivered) is Decimal
        # Fractions are exact whatever the digits; Decimal's default context is not.
        assert Fraction(delivered) == sum((Fraction(a) for _, a in steps), Fraction(0))
        assert Fraction(view["pledged"]["amount"]) == Fraction(pledged)
        assert delivered >= 0
        for amount in money_amounts(view):
            assert type(amount) is Decimal
        # The exported journal carries the amounts exactly, as the journal writes them.
        exported = list(ledger.export_operations())
        amounts = [Decimal(a) for op in exported for a in money_amounts(op)]
        assert amounts == [pledged, *(a for _, a in steps)]
        assert all(re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", a) for op in exported for a in money_amounts(op))
        ledger.withdraw_pledge("c", "done", "2020-06-30")
        withdrawn = ledger.show("c")["withdrawn"]["amount"]
        assert Fraction(withdrawn) == max(Fraction(pledged) - Fraction(delivered), Fraction(0))


@given(parts=st.lists(exact_amounts(max_digits=28), min_size=1, max_size=5))
def test_a_cap_made_of_many_exact_parts_is_reached_exactly(new_ledger: NewLedger, parts: list[Decimal]) -> None:
    with localcontext(Context(prec=100)):  # wide enough to be exact
        cap = sum(parts, Decimal(0))
    assert Fraction(cap) == sum((Fraction(p) for p in parts), Fraction(0))
    assume(len(cap.as_tuple().digits) <= 30)  # the most digits the journal takes
    with new_ledger() as ledger:
        setup(ledger)
        ledger.draft_agreement("g", "p", "Fund", ["a", "b"], "2020-04-01", "2021-03-31", annual_caps={"b": money(cap)})
        ledger.sign_agreement("g", "a", "2020-04-02")
        ledger.sign_agreement("g", "b", "2020-04-02")
        for i, part in enumerate(parts):
            ledger.pledge(f"c{i}", "p", "b", "money", money(part), 2020, agreement="g")
        events = ledger.event_count()
        with pytest.raises(AnnualCapExceeded):
            ledger.pledge("over", "p", "b", "money", money(Decimal("0.0000000001")), 2020, agreement="g")
        assert ledger.event_count() == events


def test_more_digits_than_decimals_default_context_keeps(ledger: PartnershipLedger) -> None:
    setup(ledger)
    big = "12345678901234567890.1234567890"
    ledger.pledge("c", "p", "a", "money", {"amount": big, "currency": "JPY"}, 2020)
    ledger.deliver("c", {"amount": big, "currency": "JPY"}, "2020-05-01")
    ledger.deliver("c", {"amount": "0.0000000001", "currency": "JPY"}, "2020-05-02")
    assert ledger.show("c")["delivered"]["amount"] == Decimal("12345678901234567890.1234567891")
    ledger.deliver("c", {"amount": big, "currency": "JPY"}, "2020-05-03")
    assert ledger.show("c")["delivered"]["amount"] == Decimal("24691357802469135780.2469135781")
    ledger.correct_contribution("c", {"amount": "-" + big, "currency": "JPY"}, "double entry", "2020-05-04")
    assert ledger.show("c")["delivered"]["amount"] == Decimal("12345678901234567890.1234567891")


def test_the_cap_is_compared_exactly_with_many_digits(ledger: PartnershipLedger) -> None:
    setup(ledger)
    cap = "99999999999999999999.9999999999"
    ledger.draft_agreement(
        "g", "p", "Fund", ["a", "b"], "2020-04-01", "2021-03-31", annual_caps={"b": {"amount": cap, "currency": "JPY"}}
    )
    ledger.sign_agreement("g", "a", "2020-04-02")
    ledger.sign_agreement("g", "b", "2020-04-02")
    ledger.pledge(
        "c1", "p", "b", "money", {"amount": "99999999999999999999.9999999998", "currency": "JPY"}, 2020, agreement="g"
    )
    with pytest.raises(AnnualCapExceeded) as info:
        ledger.pledge("c2", "p", "b", "money", {"amount": "0.0000000002", "currency": "JPY"}, 2020, agreement="g")
    assert str(info.value) == (
        "contribution c2 would take b to 100000000000000000000.0000000000 JPY in fiscal year 2020, past its annual "
        "cap of 99999999999999999999.9999999999 JPY under agreement g"
    )
    ledger.pledge("c2", "p", "b", "money", {"amount": "0.0000000001", "currency": "JPY"}, 2020, agreement="g")


def test_small_amounts_are_exported_as_the_journal_writes_them(ledger: PartnershipLedger) -> None:
    setup(ledger)
    ledger.pledge("c", "p", "a", "money", {"amount": "0.0000001", "currency": "JPY"}, 2020)
    ledger.define_target(
        "t", "p", "i", "u", "increase", {"period": "2019", "value": "0.00000001"}, [{"period": "2020", "value": "100"}]
    )
    exported = list(ledger.export_operations())
    assert exported[-2]["value"] == {"amount": "0.0000001", "currency": "JPY"}
    assert exported[-1]["baseline"] == {"period": "2019", "value": "0.00000001"}
    # ...so the export is a journal the ledger reads back.
    assert len(parse_journal(json.dumps(exported))) == len(exported)


@pytest.mark.parametrize("journal", ["every-op", "demo"])
def test_no_float_anywhere(ledger: PartnershipLedger, every_op_path: Path, demo_bytes: bytes, journal: str) -> None:
    ledger.import_journal(every_op_path.read_bytes() if journal == "every-op" else demo_bytes)
    shown = [ledger.show(key) for kind in KINDS for key in ledger.keys(kind)]
    leaves = [*values(shown), *values(ledger.history()), *values(list(ledger.export_operations()))]
    assert not [v for v in leaves if isinstance(v, float)]
    amounts = list(money_amounts(shown))
    assert amounts
    assert all(type(a) is Decimal for a in amounts)
    assert all(type(v) is Decimal for view in shown if view["kind"] == "target" for v in _target_values(view))


def _target_values(view: dict[str, Any]) -> Iterator[Any]:
    yield view["baseline"]["value"]
    for t in view["targets"]:
        yield t["value"]
    for m in view["measurements"]:
        yield m["value"]
