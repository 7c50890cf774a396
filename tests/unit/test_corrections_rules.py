"""The rules of corrections, on the aggregates directly: each refusal and its sentence."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from partnership_ledger.domain import Agreement, Evaluation, NumericTarget, Partnership, Party, ResourceContribution
from partnership_ledger.domain.values import (
    ContributionKind,
    DecisionRule,
    Direction,
    EvaluatorRole,
    Money,
    OpMeta,
    PeriodValue,
    Sector,
    Terms,
    Vote,
)
from partnership_ledger.errors import CorrectionRefused, NegativeDelivered

D = date(2020, 5, 1)


def meta(op: str) -> OpMeta:
    return OpMeta(op)


def jpy(n: int) -> Money:
    return Money(Decimal(n), "JPY")


def partnership() -> Partnership:
    p = Partnership(
        key="p", title="T", purpose="P", proposed_by="a", members=["a", "b"], parent=None, on=D, meta=meta("propose")
    )
    p.activate(D, meta("activate"))
    return p


def contribution(agreement: str | None = None) -> ResourceContribution:
    return ResourceContribution(
        key="c",
        partnership="p",
        party="a",
        agreement=agreement,
        kind_of_resource=ContributionKind.MONEY,
        value=jpy(100),
        quantity=None,
        unit=None,
        valuation_basis=None,
        instrument=None,
        fiscal_year=2020,
        description=None,
        meta=meta("pledge"),
        recipient=None,
        on=D,
    )


# -- amend_party ----------------------------------------------------------------------------


def test_amend_party_changes_the_particulars_from_its_date() -> None:
    party = Party(
        key="a", name="Old", sector=Sector.NPO, capacity=jpy(1000), identifiers=[], area=None, meta=meta("reg")
    )
    party.amend(
        "New", None, jpy(2000), ["JP-JCN-7000020070009"], "JP-LGC-072010", "renamed", date(2021, 4, 1), meta("am")
    )
    assert (party.name, party.capacity, party.identifiers, party.area) == (
        "New",
        jpy(2000),
        ["JP-JCN-7000020070009"],
        "JP-LGC-072010",
    )
    assert party.as_on(date(2021, 3, 31))["name"] == "Old"
    assert party.as_on(date(2021, 3, 31))["capacity"] == jpy(1000)
    assert party.as_on(date(2021, 4, 1))["name"] == "New"
    assert [a.op for a in party.amendments] == ["am"]


def test_an_amendment_that_changes_nothing_is_refused() -> None:
    party = Party(key="a", name="Old", sector=Sector.NPO, capacity=None, identifiers=[], area=None, meta=meta("reg"))
    with pytest.raises(CorrectionRefused, match="the amendment of party a changes nothing"):
        party.amend(None, None, None, None, None, "r", D, meta("am"))


def test_amendments_apply_in_the_order_of_their_dates() -> None:
    party = Party(key="a", name="A0", sector=Sector.NPO, capacity=None, identifiers=[], area=None, meta=meta("reg"))
    party.amend("A2", None, None, None, None, "later", date(2022, 1, 1), meta("m2"))
    party.amend("A1", None, None, None, None, "earlier, recorded late", date(2021, 1, 1), meta("m1"))
    assert party.name == "A2"
    assert party.as_on(date(2021, 6, 1))["name"] == "A1"


# -- partnerships: decisions, joins, leaves ---------------------------------------------------


def test_a_voided_decision_is_gone_and_cannot_be_voided_twice() -> None:
    p = partnership()
    p.record_decision("d", "s", "a", DecisionRule.MAJORITY, {"a": Vote.FOR}, D, meta("dec"))
    p.void("dec", "entered twice", D, meta("v1"))
    assert "d" not in p.decisions
    assert p.voided == {"dec": "v1"}
    with pytest.raises(CorrectionRefused, match=r"operation dec was already voided \(by v1\)"):
        p.void("dec", "again", D, meta("v2"))
    with pytest.raises(CorrectionRefused, match="operation v1 is itself a void: it cannot be voided"):
        p.void("v1", "undo the void", D, meta("v3"))


def test_the_creation_of_an_aggregate_cannot_be_voided() -> None:
    with pytest.raises(CorrectionRefused, match="operation propose created partnership p: it cannot be voided"):
        partnership().void("propose", "r", D, meta("v"))


def test_an_activation_cannot_be_voided() -> None:
    with pytest.raises(CorrectionRefused, match="only decisions, joins and leaves can"):
        partnership().void("activate", "r", D, meta("v"))


def test_a_join_is_voided_unless_the_party_took_part_in_a_decision() -> None:
    p = partnership()
    p.join("c", None, D, meta("join"))
    p.record_decision("d", "s", "a", DecisionRule.MAJORITY, {"a": Vote.FOR, "c": Vote.FOR}, D, meta("dec"))
    with pytest.raises(
        CorrectionRefused, match="c's joining partnership p cannot be voided: it took part in decision d; void it first"
    ):
        p.void("join", "r", D, meta("v"))
    p.void("dec", "r", D, meta("v0"))
    p.void("join", "r", D, meta("v1"))
    assert p.current_members == ["a", "b"]


def test_a_join_is_not_voided_when_the_party_pledged_as_a_member() -> None:
    p = partnership()
    p.join("c", None, D, meta("join"))
    with pytest.raises(
        CorrectionRefused, match="c's joining partnership p cannot be voided: it pledged contribution c1 as a member"
    ):
        p.check_join_voidable_with("join", ["c1"])
    p.check_join_voidable_with("join", [])
    p.check_join_voidable_with("not-a-join", ["c1"])


def test_a_founding_membership_cannot_be_voided() -> None:
    p = partnership()
    with pytest.raises(CorrectionRefused, match="created partnership p"):
        p.void("propose", "r", D, meta("v"))


def test_a_join_after_which_the_party_left_needs_the_leave_voided_first() -> None:
    p = partnership()
    p.join("c", None, D, meta("join"))
    p.leave("c", None, date(2020, 6, 1), meta("leave"))
    with pytest.raises(CorrectionRefused, match="it left on 2020-06-01; void that leave first"):
        p.void("join", "r", D, meta("v"))
    p.void("leave", "r", D, meta("v1"))
    assert "c" in p.current_members
    p.void("join", "r", D, meta("v2"))
    assert "c" not in {s.party for s in p.spells}


def test_a_leave_followed_by_a_new_join_cannot_be_voided() -> None:
    p = partnership()
    p.join("c", None, D, meta("join"))
    p.leave("c", None, date(2020, 6, 1), meta("leave"))
    p.join("c", None, date(2020, 7, 1), meta("join2"))
    with pytest.raises(CorrectionRefused, match="it joined again on 2020-07-01; void that join first"):
        p.void("leave", "r", D, meta("v"))


def test_corrections_are_accepted_on_a_concluded_partnership() -> None:
    p = partnership()
    p.record_decision("d", "s", "a", DecisionRule.MAJORITY, {"a": Vote.FOR}, D, meta("dec"))
    p.conclude(date(2021, 1, 1), meta("end"))
    p.void("dec", "r", date(2022, 1, 1), meta("v"))
    assert p.decisions == {}


# -- agreements ---------------------------------------------------------------------------------


def agreement() -> Agreement:
    return Agreement(
        key="g",
        partnership="p",
        title="T",
        parties=["a", "b"],
        terms=Terms(start=D, end=date(2022, 3, 31)),
        meta=meta("draft"),
    )


def test_a_signature_is_voided_while_nothing_rests_on_it() -> None:
    g = agreement()
    g.sign("a", D, meta("sa"))
    g.sign("b", D, meta("sb"))
    g.void("sb", "signed the wrong copy", D, meta("v"))
    assert g.unsigned == ["b"]
    g.sign("b", D, meta("sb2"))
    assert g.in_force


def test_a_signature_that_put_the_agreement_in_force_with_pledges_under_it_stands() -> None:
    g = agreement()
    g.sign("a", D, meta("sa"))
    g.sign("b", D, meta("sb"))
    g.count_contribution("c1", "a", 2020, None, Decimal(100), meta("pledge"))
    with pytest.raises(
        CorrectionRefused,
        match="b's signature of agreement g cannot be voided: it put the agreement in force, "
        "and 1 contribution is pledged under it",
    ):
        g.void("sb", "r", D, meta("v"))


def test_a_consent_is_voided_until_the_amendment_takes_effect() -> None:
    g = agreement()
    g.sign("a", D, meta("sa"))
    g.sign("b", D, meta("sb"))
    g.propose_amendment("m", {"title": "T2"}, "a", D, meta("am"))
    g.consent_amendment("m", "a", D, meta("ca"))
    g.void("ca", "r", D, meta("v"))
    assert g.amendments["m"].consents == {}
    g.consent_amendment("m", "a", D, meta("ca2"))
    g.consent_amendment("m", "b", D, meta("cb"))
    with pytest.raises(
        CorrectionRefused,
        match="b's consent to amendment m of agreement g cannot be voided: the amendment took effect "
        "with it on 2020-05-01; propose another amendment instead",
    ):
        g.void("cb", "r", D, meta("v2"))


def test_a_termination_cannot_be_voided() -> None:
    g = agreement()
    g.terminate("r", D, meta("end"))
    with pytest.raises(CorrectionRefused, match="only signatures and consents can"):
        g.void("end", "r", D, meta("v"))


# -- contributions --------------------------------------------------------------------------------


def test_a_voided_delivery_no_longer_counts() -> None:
    c = contribution()
    c.deliver(jpy(60), D, None, meta("d1"))
    c.deliver(jpy(30), D, None, meta("d2"))
    c.void("d1", "entered twice", D, meta("v"))
    assert c.delivered == 30
    assert [d.op for d in c.deliveries] == ["d2"]


def test_a_delivery_whose_void_would_take_the_total_below_zero_stands() -> None:
    c = contribution()
    c.deliver(jpy(60), D, None, meta("d1"))
    c.correct(jpy(-50), "r", D, meta("x"))
    with pytest.raises(NegativeDelivered, match=r"would take its delivered total below zero \(-50\)"):
        c.void("d1", "r", D, meta("v"))


def test_a_delivery_to_a_withdrawn_contribution_cannot_be_voided() -> None:
    c = contribution()
    c.deliver(jpy(60), D, None, meta("d1"))
    c.withdraw("r", D, meta("w"))
    with pytest.raises(CorrectionRefused, match="was withdrawn on 2020-05-01"):
        c.void("d1", "r", D, meta("v"))


def test_a_correction_cannot_be_voided() -> None:
    c = contribution()
    c.deliver(jpy(60), D, None, meta("d1"))
    c.correct(jpy(5), "r", D, meta("x"))
    with pytest.raises(CorrectionRefused, match="only deliveries can"):
        c.void("x", "r", D, meta("v"))


def test_a_delivery_is_redated() -> None:
    c = contribution()
    c.deliver(jpy(60), date(2021, 3, 30), None, meta("d1"))
    c.redate_delivery("d1", date(2021, 4, 2), "the receipt is dated April", D, meta("r"))
    assert c.deliveries[0].on == date(2021, 4, 2)
    with pytest.raises(CorrectionRefused, match="is already dated 2021-04-02"):
        c.redate_delivery("d1", date(2021, 4, 2), "again", D, meta("r2"))
    with pytest.raises(CorrectionRefused, match="operation x is not a delivery to contribution c"):
        c.redate_delivery("x", date(2021, 4, 2), "r", D, meta("r3"))


# -- targets and evaluations ----------------------------------------------------------------------


def test_a_voided_measurement_is_gone() -> None:
    t = NumericTarget(
        key="t",
        partnership="p",
        indicator="i",
        unit="u",
        direction=Direction.INCREASE,
        baseline=PeriodValue("2019", Decimal(0)),
        targets=[PeriodValue("2020", Decimal(5))],
        meta=meta("def"),
    )
    t.record_measurement("2020", Decimal(3), "s", D, meta("m1"))
    t.record_measurement("2020", Decimal(30), "typo", D, meta("m2"))
    t.void("m2", "typed wrong", D, meta("v"))
    assert t.latest_measurements == {"2020": Decimal(3)}
    t.revise([PeriodValue("2020", Decimal(6))], "r", D, meta("rev"))
    with pytest.raises(CorrectionRefused, match="only measurements can"):
        t.void("rev", "r", D, meta("v2"))


def test_a_submission_is_voided_even_after_closing() -> None:
    e = Evaluation(
        key="e",
        partnership="p",
        period="2020",
        criteria=["overall"],
        scale_max=5,
        resident_weight=Decimal("0.5"),
        meta=meta("open"),
    )
    e.submit("r-1", EvaluatorRole.RESIDENT, None, {"overall": 4}, None, False, D, meta("s1"))
    e.close(D, meta("close"))
    e.void("s1", "entered twice", D, meta("v"))
    assert e.submissions == {}
    with pytest.raises(CorrectionRefused, match="only submissions can"):
        e.void("close", "r", D, meta("v2"))
