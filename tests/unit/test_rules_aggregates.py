"""The rules of one aggregate, on the aggregates directly (no ledger, no database).

Each refusal is checked for its error class, its stable ``kind``, its exact sentence (what a
clerk reads), and for having changed nothing: no new pending event on the aggregate. Rules
that span aggregates (keys, membership of a pledger, caps, currencies of a partnership,
concluded partnerships) are in ``tests/integration/test_rules.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from partnership_ledger.domain import Agreement, Evaluation, NumericTarget, Partnership, ResourceContribution
from partnership_ledger.domain.agreement import agreement_status, check_terms, takes_effect, unsigned_parties
from partnership_ledger.domain.base import LedgerAggregate
from partnership_ledger.domain.target import check_targets
from partnership_ledger.domain.values import (
    ContributionKind,
    DecisionRule,
    Direction,
    EvaluatorRole,
    Instrument,
    Money,
    OpMeta,
    PeriodValue,
    Terms,
    Vote,
)
from partnership_ledger.errors import (
    AgreementError,
    AgreementTerminated,
    AlreadyAMember,
    ContributionError,
    CurrencyMismatch,
    CycleError,
    DateOrderError,
    DecisionError,
    DomainError,
    EvaluationClosed,
    EvaluationError,
    InvalidPhase,
    MaxYearsExceeded,
    NegativeDelivered,
    NotAMember,
    NotInForce,
    PartnershipConcluded,
    TargetError,
)

M = OpMeta("op")


def day(text: str) -> date:
    return date.fromisoformat(text)


def jpy(amount: int | str) -> Money:
    return Money(Decimal(amount), "JPY")


def usd(amount: int | str) -> Money:
    return Money(Decimal(amount), "USD")


def refuses(
    aggregate: LedgerAggregate | None, call: Callable[[], object], error: type[DomainError], kind: str, message: str
) -> None:
    """``call`` raises ``error`` (with ``kind`` and ``message``) and ``aggregate`` is unchanged."""
    before = len(aggregate.pending_events) if aggregate is not None else 0
    with pytest.raises(DomainError) as info:
        call()
    assert type(info.value) is error
    assert info.value.kind == kind
    assert info.value.message == message
    if aggregate is not None:
        assert len(aggregate.pending_events) == before


# -- partnerships ------------------------------------------------------------------------------


def proposed(key: str = "p", by: str = "a", members: list[str] | None = None, parent: str | None = None) -> Partnership:
    """Partnership ``key`` of a, b and c by default, proposed on 2020-04-01 (checked as the
    handler checks it before making it)."""
    members = members or ["a", "b", "c"]
    Partnership.check_proposal(key, by, members, parent)
    return Partnership(
        key=key, title="Tour", purpose="theatre", proposed_by=by, members=members, parent=parent,
        on=day("2020-04-01"), meta=M,
    )  # fmt: skip


def active() -> Partnership:
    p = proposed()
    p.activate(day("2020-05-01"), M)
    return p


def test_only_a_member_proposes_a_partnership_and_it_is_not_its_own_parent() -> None:
    refuses(
        None,
        lambda: proposed("q", by="c", members=["a", "b"]),
        NotAMember,
        "not_a_member",
        "partnership q is proposed by c, who is not among its members",
    )
    refuses(
        None,
        lambda: proposed("q", parent="q"),
        CycleError,
        "partnership_cycle",
        "partnership q cannot be its own parent",
    )
    assert proposed("q", parent="p").parent == "p"


def test_join_twice_and_leave_as_a_non_member_are_refused() -> None:
    p = active()
    refuses(
        p,
        lambda: p.join("a", None, day("2020-06-01"), M),
        AlreadyAMember,
        "already_a_member",
        "a is already a member of partnership p",
    )
    refuses(
        p,
        lambda: p.leave("d", None, day("2020-06-01"), M),
        NotAMember,
        "not_a_member",
        "d is not a member of partnership p, so it cannot leave it",
    )
    refuses(
        p,
        lambda: p.join("d", None, day("2020-03-01"), M),
        DateOrderError,
        "date_out_of_order",
        "d joining on 2020-03-01 is before partnership p was proposed (2020-04-01)",
    )
    refuses(
        p,
        lambda: p.leave("c", None, day("2020-03-31"), M),
        DateOrderError,
        "date_out_of_order",
        "c cannot leave partnership p on 2020-03-31, before it joined (2020-04-01)",
    )


def test_a_party_leaves_and_joins_again() -> None:
    p = active()
    p.leave("c", "busy", day("2020-07-01"), M)
    assert p.current_members == ["a", "b"]
    refuses(
        p,
        lambda: p.leave("c", None, day("2020-08-01"), M),
        NotAMember,
        "not_a_member",
        "c is not a member of partnership p, so it cannot leave it",
    )
    p.join("c", "sponsor", day("2020-09-01"), M)
    assert p.current_members == ["a", "b", "c"]
    assert [(s.party, s.role, s.left) for s in p.spells] == [
        ("a", None, None),
        ("b", None, None),
        ("c", None, day("2020-07-01")),
        ("c", "sponsor", None),
    ]


def test_the_last_member_cannot_leave() -> None:
    q = proposed("q", by="d", members=["d"])
    refuses(
        q,
        lambda: q.leave("d", None, day("2020-07-01"), M),
        NotAMember,
        "not_a_member",
        "d is the last member of partnership q: conclude it instead",
    )


def test_phases_go_preparing_active_concluded() -> None:
    q = Partnership(
        key="q", title="T", purpose="P", proposed_by="a", members=["a", "b"], parent=None, on=day("2020-06-01"), meta=M
    )
    assert q.phase.value == "preparing"
    refuses(
        q,
        lambda: q.conclude(day("2020-07-01"), M),
        InvalidPhase,
        "invalid_phase",
        "partnership q cannot be concluded while preparing: activate it first",
    )
    refuses(
        q,
        lambda: q.activate(day("2020-05-01"), M),
        DateOrderError,
        "date_out_of_order",
        "activation on 2020-05-01 is before partnership q was proposed (2020-06-01)",
    )
    q.activate(day("2020-06-15"), M)
    assert q.phase.value == "active"
    refuses(
        q,
        lambda: q.activate(day("2020-07-01"), M),
        InvalidPhase,
        "invalid_phase",
        "partnership q is already active since 2020-06-15",
    )
    refuses(
        q,
        lambda: q.conclude(day("2020-06-14"), M),
        DateOrderError,
        "date_out_of_order",
        "partnership q cannot be concluded on 2020-06-14, before it was activated (2020-06-15)",
    )
    q.conclude(day("2020-06-15"), M)
    assert (q.phase.value, q.concluded_on) == ("concluded", day("2020-06-15"))
    refuses(
        q,
        lambda: q.join("d", None, day("2020-07-01"), M),
        PartnershipConcluded,
        "partnership_concluded",
        "partnership q was concluded on 2020-06-15: nothing more can be recorded on it",
    )


def decide(p: Partnership, key: str, rule: str, votes: dict[str, str], by: str = "a", on: str = "2020-06-01") -> Any:
    return p.record_decision(
        key, f"subject of {key}", by, DecisionRule(rule), {k: Vote(v) for k, v in votes.items()}, day(on), M
    )


def test_only_members_propose_and_vote() -> None:
    p = active()
    refuses(
        p,
        lambda: decide(p, "d1", "majority", {"a": "for"}, by="d"),
        NotAMember,
        "not_a_member",
        "d is not a member of partnership p, so it cannot propose decision d1",
    )
    refuses(
        p,
        lambda: decide(p, "d1", "majority", {"a": "for", "d": "for"}),
        NotAMember,
        "not_a_member",
        "d is not a member of partnership p, so it cannot vote on decision d1",
    )
    p.leave("c", None, day("2020-05-15"), M)
    refuses(
        p,
        lambda: decide(p, "d1", "majority", {"c": "for"}),
        NotAMember,
        "not_a_member",
        "c is not a member of partnership p, so it cannot vote on decision d1",
    )


def test_consensus_needs_every_current_member() -> None:
    p = active()
    refuses(
        p,
        lambda: decide(p, "d1", "consensus", {"a": "for", "b": "for"}),
        DecisionError,
        "decision_invalid",
        "decision d1 of partnership p is by consensus, so every member must vote: c did not",
    )
    refuses(
        p,
        lambda: decide(p, "d1", "consensus", {"a": "for"}),
        DecisionError,
        "decision_invalid",
        "decision d1 of partnership p is by consensus, so every member must vote: b, c did not",
    )
    assert decide(p, "d1", "consensus", {"a": "for", "b": "for", "c": "for"}).adopted
    # One against rejects: the decision is recorded, as not adopted.
    assert not decide(p, "d2", "consensus", {"a": "for", "b": "for", "c": "against"}).adopted
    assert decide(p, "d3", "consensus", {"a": "for", "b": "abstain", "c": "abstain"}).adopted
    assert not decide(p, "d4", "consensus", {"a": "abstain", "b": "abstain", "c": "abstain"}).adopted
    # After c leaves, consensus is among a and b.
    p.leave("c", None, day("2020-06-02"), M)
    assert decide(p, "d5", "consensus", {"a": "for", "b": "for"}, on="2020-06-03").adopted
    assert {k: v.value for k, v in p.decisions["d2"].votes.items()} == {"a": "for", "b": "for", "c": "against"}


@pytest.mark.parametrize(
    ("votes", "expected"),
    [
        ({"a": "for", "b": "for", "c": "against"}, True),
        ({"a": "for", "b": "against"}, False),
        ({"a": "for", "b": "abstain", "c": "abstain"}, True),
        ({"a": "against", "b": "abstain"}, False),
        ({"a": "abstain"}, False),
        ({"b": "for"}, True),
    ],
)
def test_majority_adopts_with_more_for_than_against(votes: dict[str, str], expected: bool) -> None:
    assert decide(active(), "d1", "majority", votes).adopted is expected


def test_decision_keys_votes_and_dates() -> None:
    p = active()
    refuses(
        p,
        lambda: decide(p, "d1", "majority", {}),
        DecisionError,
        "decision_invalid",
        "decision d1 of partnership p has no votes",
    )
    refuses(
        p,
        lambda: decide(p, "d1", "majority", {"a": "for"}, on="2020-03-01"),
        DateOrderError,
        "date_out_of_order",
        "decision d1 on 2020-03-01 is before partnership p was proposed (2020-04-01)",
    )
    decide(p, "d1", "majority", {"a": "for"})
    refuses(
        p,
        lambda: decide(p, "d1", "majority", {"b": "for"}),
        DecisionError,
        "decision_invalid",
        "partnership p already has a decision d1",
    )


# -- agreements --------------------------------------------------------------------------------


def terms(**more: Any) -> Terms:
    fields: dict[str, Any] = {"start": day("2020-04-01"), "end": day("2023-03-31"), **more}
    return Terms(**fields)


def drafted(key: str = "g", parties: list[str] | None = None, **more: Any) -> Agreement:
    parties = parties or ["a", "b"]
    checked = terms(**more)
    check_terms(checked, parties, f"agreement {key}")
    return Agreement(key=key, partnership="p", title="Agreement", parties=parties, terms=checked, meta=M)


def signed(key: str = "g", **more: Any) -> Agreement:
    g = drafted(key, **more)
    for party in g.parties:
        g.sign(party, day("2020-04-10"), M)
    return g


@pytest.mark.parametrize(
    ("more", "message"),
    [
        ({"shares": {"a": Decimal("0.5"), "b": Decimal("0.4")}}, "agreement g has shares summing to 0.9, not 1"),
        (
            {"shares": {"a": Decimal("0.5"), "b": Decimal("0.5000000001")}},
            "agreement g has shares summing to 1.0000000001, not 1",
        ),
        ({"shares": {"a": Decimal("0.5"), "c": Decimal("0.5")}}, "agreement g gives shares to c, not parties to it"),
        ({"annual_caps": {"c": jpy(5)}}, "agreement g sets annual caps for c, not parties to it"),
        ({"annual_caps": {"a": jpy(5), "b": usd(5)}}, "agreement g sets annual caps in more than one currency"),
        ({"end": day("2020-03-31")}, "agreement g ends (2020-03-31) before it starts (2020-04-01)"),
        ({"fiscal_year_start": 13}, "agreement g has fiscal_year_start 13: a month 1..12"),
        ({"max_years": 0}, "agreement g has max_years 0: at least 1 is needed"),
    ],
)
def test_agreement_terms_are_checked(more: dict[str, Any], message: str) -> None:
    refuses(None, lambda: drafted(**more), AgreementError, "agreement_invalid", message)


def test_shares_summing_exactly_to_one_are_accepted() -> None:
    shares = {"a": Decimal("0.3333333333"), "b": Decimal("0.3333333333"), "c": Decimal("0.3333333334")}
    assert drafted(parties=["a", "b", "c"], shares=shares).terms.shares == shares


def test_in_force_only_when_every_party_has_signed() -> None:
    g = drafted(parties=["a", "b", "c"])
    assert (g.status, g.unsigned) == ("awaiting_signatures", ["a", "b", "c"])
    refuses(
        g,
        lambda: g.check_contribution("b", 2020, "c1", jpy(1000)),
        NotInForce,
        "agreement_not_in_force",
        "agreement g is not in force: a, b, c have not signed",
    )
    g.sign("a", day("2020-04-10"), M)
    g.sign("c", day("2020-04-11"), M)
    refuses(
        g,
        lambda: g.check_contribution("b", 2020, "c1", jpy(1000)),
        NotInForce,
        "agreement_not_in_force",
        "agreement g is not in force: b has not signed",
    )
    assert g.unsigned == ["b"]
    g.sign("b", day("2020-04-12"), M)
    assert (g.status, g.unsigned, sorted(g.signatures)) == ("in_force", [], ["a", "b", "c"])
    g.check_contribution("b", 2020, "c1", jpy(1000))


def test_status_is_one_function_of_parties_signatures_and_termination() -> None:
    signatures = {"a": day("2020-04-10")}
    assert unsigned_parties(["a", "b"], signatures) == ["b"]
    assert agreement_status(["a", "b"], signatures, None) == "awaiting_signatures"
    assert agreement_status(["a"], signatures, None) == "in_force"
    assert agreement_status(["a", "b"], signatures, day("2020-05-01")) == "terminated"
    assert takes_effect(["a", "b"], {"a": day("2020-07-01"), "b": day("2020-07-02")})
    assert not takes_effect(["a", "b"], {"a": day("2020-07-01")})


def test_signing_is_for_parties_and_only_once() -> None:
    g = drafted()
    refuses(
        g,
        lambda: g.sign("c", day("2020-04-10"), M),
        AgreementError,
        "agreement_invalid",
        "c is not a party to agreement g, so it cannot sign it",
    )
    g.sign("a", day("2020-04-10"), M)
    refuses(
        g,
        lambda: g.sign("a", day("2020-04-11"), M),
        AgreementError,
        "agreement_invalid",
        "a already signed agreement g on 2020-04-10",
    )


def test_an_amendment_takes_effect_only_when_every_party_consents() -> None:
    g = signed(annual_caps={"b": jpy(1000)})
    g.propose_amendment("m1", {"annual_caps": {"b": jpy(2000)}, "title": "Bigger"}, "a", day("2020-07-01"), M)
    assert not g.consent_amendment("m1", "a", day("2020-07-02"), M)
    assert (g.terms.annual_caps, g.title, g.amendments["m1"].effective_on) == ({"b": jpy(1000)}, "Agreement", None)
    assert g.consent_amendment("m1", "b", day("2020-07-03"), M)
    assert (g.terms.annual_caps, g.title) == ({"b": jpy(2000)}, "Bigger")
    assert g.amendments["m1"].effective_on == day("2020-07-03")
    assert g.terms_on(day("2020-07-02")) == ("Agreement", terms(annual_caps={"b": jpy(1000)}))
    refuses(
        g,
        lambda: g.consent_amendment("m1", "a", day("2020-07-04"), M),
        AgreementError,
        "agreement_invalid",
        "amendment m1 of agreement g already took effect on 2020-07-03",
    )


def test_amendment_rules() -> None:
    g = signed()
    refuses(
        g,
        lambda: g.propose_amendment("m1", {"title": "X"}, "c", day("2020-07-01"), M),
        AgreementError,
        "agreement_invalid",
        "c is not a party to agreement g, so it cannot propose amendment m1",
    )
    refuses(
        g,
        lambda: g.propose_amendment("m1", {"shares": {"a": Decimal("0.5")}}, "a", day("2020-07-01"), M),
        AgreementError,
        "agreement_invalid",
        "agreement g as amended by m1 has shares summing to 0.5, not 1",
    )
    refuses(
        g,
        lambda: g.propose_amendment("m1", {}, "a", day("2020-07-01"), M),
        AgreementError,
        "agreement_invalid",
        "amendment m1 of agreement g changes nothing",
    )
    refuses(
        g,
        lambda: g.propose_amendment("m1", {"parties": ["a"]}, "a", day("2020-07-01"), M),
        AgreementError,
        "agreement_invalid",
        "amendment m1 of agreement g cannot change parties",
    )
    g.propose_amendment("m1", {"max_years": 1}, "a", day("2020-07-01"), M)
    refuses(
        g,
        lambda: g.propose_amendment("m1", {"title": "X"}, "a", day("2020-07-01"), M),
        AgreementError,
        "agreement_invalid",
        "agreement g already has an amendment m1",
    )
    for call, message in [
        (lambda: g.consent_amendment("m9", "a", day("2020-07-02"), M), "agreement g has no amendment m9"),
        (
            lambda: g.consent_amendment("m1", "c", day("2020-07-02"), M),
            "c is not a party to agreement g, so it cannot consent to amendment m1",
        ),
    ]:
        refuses(g, call, AgreementError, "agreement_invalid", message)
    refuses(
        g,
        lambda: g.consent_amendment("m1", "a", day("2020-06-30"), M),
        DateOrderError,
        "date_out_of_order",
        "a cannot consent to amendment m1 on 2020-06-30, before it was proposed (2020-07-01)",
    )
    g.consent_amendment("m1", "a", day("2020-07-02"), M)
    refuses(
        g,
        lambda: g.consent_amendment("m1", "a", day("2020-07-02"), M),
        AgreementError,
        "agreement_invalid",
        "a already consented to amendment m1 of agreement g",
    )
    assert g.terms.max_years is None


def test_terminated_is_final() -> None:
    g = drafted(parties=["a", "b", "c"])
    g.sign("a", day("2020-04-10"), M)
    g.propose_amendment("m1", {"title": "X"}, "a", day("2020-07-01"), M)
    g.terminate("ended early", day("2020-08-01"), M)
    assert (g.status, g.terminated_on, g.termination_reason) == ("terminated", day("2020-08-01"), "ended early")
    on = day("2020-08-02")
    for call in [
        lambda: g.sign("b", on, M),
        lambda: g.propose_amendment("m2", {"title": "Y"}, "a", on, M),
        lambda: g.consent_amendment("m1", "a", on, M),
        lambda: g.terminate("again", on, M),
        lambda: g.check_contribution("a", 2020, "c1", jpy(1)),
    ]:
        refuses(
            g,
            call,
            AgreementTerminated,
            "agreement_terminated",
            "agreement g was terminated on 2020-08-01: it cannot change",
        )


def test_a_terminated_agreement_takes_no_contributions_even_when_signed() -> None:
    g = signed()
    g.terminate("done", day("2021-03-31"), M)
    refuses(
        g,
        lambda: g.check_contribution("b", 2020, "c1", jpy(1000)),
        AgreementTerminated,
        "agreement_terminated",
        "agreement g was terminated on 2021-03-31: it cannot change",
    )


def test_max_years_counts_fiscal_years_from_the_first() -> None:
    g = signed(max_years=2)
    g.check_contribution("b", 2020, "c1", jpy(1))
    g.check_contribution("b", 2021, "c2", jpy(1))
    refuses(
        g,
        lambda: g.check_contribution("b", 2022, "c3", jpy(1)),
        MaxYearsExceeded,
        "max_years_exceeded",
        "contribution c3 is for fiscal year 2022, beyond agreement g's limit of 2 years from fiscal year 2020",
    )
    g1 = signed("g1", max_years=1)
    refuses(
        g1,
        lambda: g1.check_contribution("b", 2021, "c3", jpy(1)),
        MaxYearsExceeded,
        "max_years_exceeded",
        "contribution c3 is for fiscal year 2021, beyond agreement g1's limit of 1 year from fiscal year 2020",
    )


def test_fiscal_year_outside_the_term_is_refused() -> None:
    g = signed()  # 2020-04-01 .. 2023-03-31: fiscal years 2020, 2021, 2022
    for year in (2020, 2022):
        g.check_contribution("b", year, f"c{year}", jpy(1))
    for year in (2019, 2023):
        refuses(
            g,
            lambda: g.check_contribution("b", year, "cx", jpy(1)),  # noqa: B023 - called at once
            AgreementError,
            "agreement_invalid",
            f"contribution cx is for fiscal year {year}, outside agreement g's term (2020-04-01 to 2023-03-31)",
        )


@pytest.mark.parametrize(
    ("fiscal_year_start", "allowed", "outside"),
    [
        # 2020-02-01 .. 2021-01-31. April years: Feb 2020 is in FY2019, Jan 2021 in FY2020.
        (4, [2019, 2020], [2018, 2021]),
        # Calendar years.
        (1, [2020, 2021], [2019, 2022]),
        # February years: both ends fall in FY2020.
        (2, [2020], [2019, 2021]),
        # March years: Feb 2020 is in FY2019, Jan 2021 in FY2020.
        (3, [2019, 2020], [2018, 2021]),
    ],
)
def test_fiscal_year_start_month_decides_the_years(
    fiscal_year_start: int, allowed: list[int], outside: list[int]
) -> None:
    g = signed(start=day("2020-02-01"), end=day("2021-01-31"), fiscal_year_start=fiscal_year_start)
    for year in allowed:
        g.check_contribution("b", year, f"ok{year}", jpy(1))
    for year in outside:
        refuses(
            g,
            lambda: g.check_contribution("b", year, "no", jpy(1)),  # noqa: B023 - called at once
            AgreementError,
            "agreement_invalid",
            f"contribution no is for fiscal year {year}, outside agreement g's term (2020-02-01 to 2021-01-31)",
        )


def test_max_years_follows_the_fiscal_year_start() -> None:
    # Starting in January with April years, the first fiscal year is the previous one.
    g = signed(start=day("2021-01-15"), end=day("2023-12-31"), max_years=2)
    g.check_contribution("b", 2020, "c1", jpy(1))
    g.check_contribution("b", 2021, "c2", jpy(1))
    refuses(
        g,
        lambda: g.check_contribution("b", 2022, "c3", jpy(1)),
        MaxYearsExceeded,
        "max_years_exceeded",
        "contribution c3 is for fiscal year 2022, beyond agreement g's limit of 2 years from fiscal year 2020",
    )


def test_only_a_party_of_the_agreement_contributes_under_it() -> None:
    g = signed()
    refuses(
        g,
        lambda: g.check_contribution("c", 2020, "c1", jpy(1)),
        AgreementError,
        "agreement_invalid",
        "c is not a party to agreement g, so it cannot contribute under it (c1)",
    )


# -- contributions -----------------------------------------------------------------------------


def pledged(
    key: str = "c1",
    amount: int = 1000,
    kind: ContributionKind = ContributionKind.MONEY,
    instrument: Instrument | None = None,
    recipient: str | None = None,
) -> ResourceContribution:
    ResourceContribution.check_pledge(key, "b", kind, instrument, recipient)
    return ResourceContribution(
        key=key, partnership="p", party="b", agreement=None, kind_of_resource=kind, value=jpy(amount),
        quantity=None, unit=None, valuation_basis=None, instrument=instrument, fiscal_year=2020,
        description=None, meta=M, recipient=recipient, on=day("2020-04-01"),
    )  # fmt: skip


def test_an_instrument_and_a_recipient_are_for_money_only() -> None:
    refuses(
        None,
        lambda: pledged(kind=ContributionKind.STAFF_TIME, instrument=Instrument.SUBSIDY),
        ContributionError,
        "contribution_invalid",
        "contribution c1 is staff_time: a funding instrument applies to money only",
    )
    refuses(
        None,
        lambda: pledged(kind=ContributionKind.FACILITY, recipient="a"),
        ContributionError,
        "contribution_invalid",
        "contribution c1 is facility: a recipient applies to money only",
    )
    refuses(
        None,
        lambda: pledged(recipient="b"),
        ContributionError,
        "contribution_invalid",
        "contribution c1 names its own party b as its recipient",
    )
    c = pledged(instrument=Instrument.SUBSIDY, recipient="a")
    assert (c.instrument, c.recipient) == (Instrument.SUBSIDY, "a")


def test_delivered_never_goes_below_zero() -> None:
    c = pledged()
    c.deliver(jpy(500), day("2020-06-01"), None, M)
    refuses(
        c,
        lambda: c.correct(jpy(-501), "overstated", day("2020-06-02"), M),
        NegativeDelivered,
        "delivered_below_zero",
        "correction of contribution c1 by -501 JPY would take its delivered total below zero (-1)",
    )
    c.correct(jpy(-500), "overstated", day("2020-06-02"), M)
    assert c.delivered == 0
    refuses(
        c,
        lambda: c.correct(jpy("-0.01"), "overstated", day("2020-06-02"), M),
        NegativeDelivered,
        "delivered_below_zero",
        "correction of contribution c1 by -0.01 JPY would take its delivered total below zero (-0.01)",
    )
    refuses(
        c,
        lambda: c.deliver(jpy(0), day("2020-06-03"), None, M),
        ContributionError,
        "contribution_invalid",
        "a delivery to contribution c1 must be more than zero, not 0",
    )


def test_a_withdrawn_pledge_takes_no_deliveries() -> None:
    c = pledged()
    c.withdraw("cancelled", day("2020-09-01"), M)
    refuses(
        c,
        lambda: c.deliver(jpy(1), day("2020-09-02"), None, M),
        ContributionError,
        "contribution_invalid",
        "contribution c1 was withdrawn on 2020-09-01: it takes no deliveries",
    )
    refuses(
        c,
        lambda: c.withdraw("again", day("2020-09-03"), M),
        ContributionError,
        "contribution_invalid",
        "contribution c1 was already withdrawn on 2020-09-01",
    )
    assert (c.withdrawn_amount, c.delivered) == (Decimal(1000), Decimal(0))


def test_a_withdrawal_keeps_what_was_delivered() -> None:
    c = pledged()
    c.deliver(jpy(300), day("2020-06-01"), None, M)
    c.withdraw("budget cut", day("2020-07-01"), M)
    assert (c.withdrawn_amount, c.delivered, c.pledged_net, c.counted_against_cap) == tuple(
        map(Decimal, (700, 300, 300, 300))
    )


def test_deliveries_and_corrections_keep_the_contribution_currency() -> None:
    c = pledged()
    refuses(
        c,
        lambda: c.deliver(usd(1), day("2020-06-01"), None, M),
        CurrencyMismatch,
        "currency_mismatch",
        "delivery to contribution c1 is in USD, but contribution c1 is in JPY",
    )
    refuses(
        c,
        lambda: c.correct(usd(1), "r", day("2020-06-01"), M),
        CurrencyMismatch,
        "currency_mismatch",
        "correction of contribution c1 is in USD, but contribution c1 is in JPY",
    )


BOTH = "a correction of contribution c1 gives either a delta or a delivery to re-date, not both"
REDATE = "re-dating a delivery to contribution c1 needs both delivery (its operation) and delivered_on"
NEITHER = "a correction of contribution c1 needs a delta, or a delivery and delivered_on to re-date it"


@pytest.mark.parametrize(
    ("delta", "delivery", "delivered_on", "message"),
    [
        (jpy(1), "op-1", None, BOTH),
        (None, "op-1", None, REDATE),
        (None, None, day("2020-06-01"), REDATE),
        (None, None, None, NEITHER),
    ],
)
def test_a_correction_changes_the_amount_or_re_dates_a_delivery(
    delta: Money | None, delivery: str | None, delivered_on: date | None, message: str
) -> None:
    c = pledged()
    refuses(c, lambda: c.redates(delta, delivery, delivered_on), ContributionError, "contribution_invalid", message)
    assert c.redates(None, "op-1", day("2020-06-01"))
    assert not c.redates(jpy(1), None, None)


# -- evaluations -------------------------------------------------------------------------------


def opened(criteria: list[str] | None = None) -> Evaluation:
    return Evaluation(
        key="e", partnership="p", period="2020", criteria=criteria or ["overall"], scale_max=5,
        resident_weight=Decimal("0.5"), meta=M,
    )  # fmt: skip


def submit(
    e: Evaluation, evaluator: str, role: str, scores: dict[str, int], party: str | None = None, on: str = "2020-12-01"
) -> None:
    e.submit(evaluator, EvaluatorRole(role), party, scores, None, False, day(on), M)


def test_evaluation_submissions() -> None:
    e = opened(["overall", "trust"])
    submit(e, "a", "party", {"overall": 5}, party="a")
    # One submission per evaluator, and one per party whoever submits for it.
    for call, message in [
        (lambda: submit(e, "a", "party", {"overall": 4}, party="a"), "party a has already submitted to evaluation e"),
        (
            lambda: submit(e, "a-staff", "party", {"overall": 4}, party="a"),
            "party a has already submitted to evaluation e",
        ),
        (lambda: submit(e, "r-1", "resident", {"overall": 6}), "score 6 for 'overall' in evaluation e is outside 1..5"),
        (lambda: submit(e, "r-1", "resident", {"trust": 0}), "score 0 for 'trust' in evaluation e is outside 1..5"),
        (
            lambda: submit(e, "r-1", "resident", {"speed": 3}),
            "evaluation e has no criterion 'speed' (its criteria: overall, trust)",
        ),
        (lambda: submit(e, "r-1", "resident", {}), "the submission of r-1 to evaluation e has no scores"),
    ]:
        refuses(e, call, EvaluationError, "evaluation_invalid", message)
    submit(e, "x-9", "external", {"overall": 2})
    refuses(
        e,
        lambda: submit(e, "x-9", "external", {"overall": 4}),
        EvaluationError,
        "evaluation_invalid",
        "x-9 has already submitted to evaluation e",
    )
    submit(e, "r-1", "resident", {"overall": 1, "trust": 5})
    e.close(day("2020-12-31"), M)
    for call in [lambda: submit(e, "r-2", "resident", {"overall": 3}), lambda: e.close(day("2021-01-01"), M)]:
        refuses(e, call, EvaluationClosed, "evaluation_closed", "evaluation e was closed on 2020-12-31")
    assert list(e.submissions) == ["a", "x-9", "r-1"]


def test_evaluator_roles() -> None:
    e = opened()
    refuses(
        e,
        lambda: submit(e, "a", "party", {"overall": 3}),
        EvaluationError,
        "evaluation_invalid",
        "a submits to evaluation e as a party, so it must name the party",
    )
    refuses(
        e,
        lambda: submit(e, "r-1", "resident", {"overall": 3}, party="a"),
        EvaluationError,
        "evaluation_invalid",
        "resident r-1 in evaluation e cannot name a party: residents speak for themselves",
    )
    submit(e, "x-1", "external", {"overall": 3}, party="d")
    assert e.submissions["x-1"].party == "d"


def test_a_closed_evaluation_refuses_as_closed_whatever_else_is_wrong() -> None:
    e = opened()
    submit(e, "a", "party", {"overall": 4}, party="a", on="2020-12-15")
    e.close(day("2020-12-20"), M)
    for call in [
        lambda: submit(e, "a", "party", {"overall": 4}, party="a"),
        lambda: submit(e, "r-1", "resident", {"overall": 4}, party="a"),
        lambda: submit(e, "d", "party", {"overall": 9}),
        lambda: e.close(day("2020-12-01"), M),
    ]:
        refuses(e, call, EvaluationClosed, "evaluation_closed", "evaluation e was closed on 2020-12-20")


def test_an_evaluation_closes_after_its_last_submission() -> None:
    e = opened()
    submit(e, "r-1", "resident", {"overall": 3}, on="2020-12-15")
    refuses(
        e,
        lambda: e.close(day("2020-12-14"), M),
        DateOrderError,
        "date_out_of_order",
        "evaluation e cannot close on 2020-12-14, before its last submission (2020-12-15)",
    )
    e.close(day("2020-12-15"), M)
    assert e.closed_on == day("2020-12-15")


# -- targets -----------------------------------------------------------------------------------


def periods(*pairs: tuple[str, int]) -> list[PeriodValue]:
    return [PeriodValue(p, Decimal(v)) for p, v in pairs]


def defined(*pairs: tuple[str, int]) -> NumericTarget:
    baseline, targets = PeriodValue("2020", Decimal(10)), periods(*pairs)
    check_targets(targets, baseline, "target t")
    return NumericTarget(
        key="t", partnership="p", indicator="performances", unit="shows", direction=Direction.INCREASE,
        baseline=baseline, targets=targets, meta=M,
    )  # fmt: skip


def test_target_periods_come_after_the_baseline_and_once_each() -> None:
    refuses(
        None,
        lambda: defined(("2019", 1), ("2020", 2), ("2021", 3)),
        TargetError,
        "target_invalid",
        "target t sets a target for 2019, 2020, not after its baseline 2020",
    )
    refuses(
        None,
        lambda: defined(("2021", 1), ("2022", 2), ("2022", 3)),
        TargetError,
        "target_invalid",
        "target t names period 2022 more than once",
    )
    refuses(None, lambda: defined(), TargetError, "target_invalid", "target t has no targets")
    assert [t.period for t in defined(("2022", 30), ("2021", 20)).targets] == ["2021", "2022"]


def test_measurements_and_revisions() -> None:
    t = defined(("2021", 20), ("2022", 30))
    on = day("2021-04-01")
    refuses(
        t,
        lambda: t.record_measurement("2020", Decimal(12), "count", on, M),
        TargetError,
        "target_invalid",
        "target t measures periods after its baseline 2020, not 2020",
    )
    t.record_measurement("2021", Decimal(12), "count", on, M)
    t.record_measurement("2021", Decimal("14.5"), "recount", on, M)
    refuses(
        t,
        lambda: t.revise(periods(("2019", 1)), "merger", on, M),
        TargetError,
        "target_invalid",
        "the revision of target t sets a target for 2019, not after its baseline 2020",
    )
    refuses(
        t,
        lambda: t.revise(periods(("2023", 1), ("2023", 1)), "merger", on, M),
        TargetError,
        "target_invalid",
        "the revision of target t names period 2023 more than once",
    )
    t.revise(periods(("2022", 25)), "merger", day("2021-05-01"), M)
    assert t.targets == periods(("2022", 25))
    assert [r.reason for r in t.revisions] == ["merger"]
    assert [(m.period, m.value) for m in t.measurements] == [("2021", Decimal(12)), ("2021", Decimal("14.5"))]
    assert t.latest_measurements == {"2021": Decimal("14.5")}
