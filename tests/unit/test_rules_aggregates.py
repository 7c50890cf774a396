"""The rules of one aggregate, on the aggregates directly (no ledger, no database).

Each refusal in ``REFUSALS`` is checked for its error class, its exact sentence (what a clerk
reads), and for having changed nothing: no new pending event on the aggregate; each error
class is checked for its stable ``kind``. Rules that span aggregates (keys, membership of a
pledger, caps, currencies of a partnership, concluded partnerships) are in
``tests/integration/test_rules.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from partnership_ledger.domain import Agreement, Evaluation, NumericTarget, Partnership, ResourceContribution
from partnership_ledger.domain.agreement import agreement_status, check_terms, takes_effect, unsigned_parties
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

Make = Callable[[], Any]
Step = Callable[[Any], object]


def day(text: str) -> date:
    return date.fromisoformat(text)


def jpy(amount: int | str) -> Money:
    return Money(Decimal(amount), "JPY")


def usd(amount: int | str) -> Money:
    return Money(Decimal(amount), "USD")


def after(make: Make, *steps: Step) -> Make:
    """``make``, then each of ``steps`` done on what it made."""

    def made() -> Any:
        aggregate = make()
        for step in steps:
            step(aggregate)
        return aggregate

    return made


def nothing() -> None:
    """For a refusal to make an aggregate: there is none before."""
    return None


# -- partnerships ------------------------------------------------------------------------------


def proposed(key: str = "p", by: str = "a", members: list[str] | None = None, parent: str | None = None) -> Partnership:
    """Partnership ``key`` of a, b and c by default, proposed on 2020-04-01 (checked as the
    handler checks it before making it)."""
    members = members or ["a", "b", "c"]
    Partnership.check_proposal(key, by, members, parent)
    return Partnership(key, "Tour", "theatre", by, members, parent, day("2020-04-01"), M)


def active() -> Partnership:
    p = proposed()
    p.activate(day("2020-05-01"), M)
    return p


def preparing() -> Partnership:
    """Partnership q of a and b, proposed on 2020-06-01."""
    return Partnership("q", "T", "P", "a", ["a", "b"], None, day("2020-06-01"), M)


def decide(p: Partnership, key: str, rule: str, votes: dict[str, str], by: str = "a", on: str = "2020-06-01") -> Any:
    return p.record_decision(
        key, f"subject of {key}", by, DecisionRule(rule), {k: Vote(v) for k, v in votes.items()}, day(on), M
    )


def leaves(party: str, on: str) -> Step:
    return lambda p: p.leave(party, None, day(on), M)


ACTIVATED = after(preparing, lambda q: q.activate(day("2020-06-15"), M))
NOT_A_MEMBER = "{} is not a member of partnership p, so it cannot {}"
CONSENSUS = "decision d1 of partnership p is by consensus, so every member must vote: {} did not"

PARTNERSHIP_REFUSALS = [
    (nothing, lambda _: proposed("q", by="c", members=["a", "b"]), NotAMember,
     "partnership q is proposed by c, who is not among its members"),
    (nothing, lambda _: proposed("q", parent="q"), CycleError, "partnership q cannot be its own parent"),
    (active, lambda p: p.join("a", None, day("2020-06-01"), M), AlreadyAMember,
     "a is already a member of partnership p"),
    (active, leaves("d", "2020-06-01"), NotAMember, NOT_A_MEMBER.format("d", "leave it")),
    (active, lambda p: p.join("d", None, day("2020-03-01"), M), DateOrderError,
     "d joining on 2020-03-01 is before partnership p was proposed (2020-04-01)"),
    (active, leaves("c", "2020-03-31"), DateOrderError,
     "c cannot leave partnership p on 2020-03-31, before it joined (2020-04-01)"),
    (after(active, leaves("c", "2020-07-01")), leaves("c", "2020-08-01"), NotAMember,
     NOT_A_MEMBER.format("c", "leave it")),
    (lambda: proposed("q", by="d", members=["d"]), leaves("d", "2020-07-01"), NotAMember,
     "d is the last member of partnership q: conclude it instead"),
    (preparing, lambda q: q.conclude(day("2020-07-01"), M), InvalidPhase,
     "partnership q cannot be concluded while preparing: activate it first"),
    (preparing, lambda q: q.activate(day("2020-05-01"), M), DateOrderError,
     "activation on 2020-05-01 is before partnership q was proposed (2020-06-01)"),
    (ACTIVATED, lambda q: q.activate(day("2020-07-01"), M), InvalidPhase,
     "partnership q is already active since 2020-06-15"),
    (ACTIVATED, lambda q: q.conclude(day("2020-06-14"), M), DateOrderError,
     "partnership q cannot be concluded on 2020-06-14, before it was activated (2020-06-15)"),
    (after(ACTIVATED, lambda q: q.conclude(day("2020-06-15"), M)), lambda q: q.join("d", None, day("2020-07-01"), M),
     PartnershipConcluded, "partnership q was concluded on 2020-06-15: nothing more can be recorded on it"),
    # decisions: only current members propose and vote; consensus needs every one of them
    (active, lambda p: decide(p, "d1", "majority", {"a": "for"}, by="d"), NotAMember,
     NOT_A_MEMBER.format("d", "propose decision d1")),
    (active, lambda p: decide(p, "d1", "majority", {"a": "for", "d": "for"}), NotAMember,
     NOT_A_MEMBER.format("d", "vote on decision d1")),
    (after(active, leaves("c", "2020-05-15")), lambda p: decide(p, "d1", "majority", {"c": "for"}), NotAMember,
     NOT_A_MEMBER.format("c", "vote on decision d1")),
    (active, lambda p: decide(p, "d1", "consensus", {"a": "for", "b": "for"}), DecisionError, CONSENSUS.format("c")),
    (active, lambda p: decide(p, "d1", "consensus", {"a": "for"}), DecisionError, CONSENSUS.format("b, c")),
    (active, lambda p: decide(p, "d1", "majority", {}), DecisionError, "decision d1 of partnership p has no votes"),
    (active, lambda p: decide(p, "d1", "majority", {"a": "for"}, on="2020-03-01"), DateOrderError,
     "decision d1 on 2020-03-01 is before partnership p was proposed (2020-04-01)"),
    (after(active, lambda p: decide(p, "d1", "majority", {"a": "for"})),
     lambda p: decide(p, "d1", "majority", {"b": "for"}), DecisionError, "partnership p already has a decision d1"),
]  # fmt: skip


def test_a_party_leaves_and_joins_again() -> None:
    p = active()
    p.leave("c", "busy", day("2020-07-01"), M)
    assert p.current_members == ["a", "b"]
    p.join("c", "sponsor", day("2020-09-01"), M)
    assert p.current_members == ["a", "b", "c"]
    assert [(s.party, s.role, s.left) for s in p.spells] == [
        ("a", None, None),
        ("b", None, None),
        ("c", None, day("2020-07-01")),
        ("c", "sponsor", None),
    ]
    assert proposed("q", parent="p").parent == "p"


def test_phases_go_preparing_active_concluded() -> None:
    q = preparing()
    assert q.phase.value == "preparing"
    q.activate(day("2020-06-15"), M)
    assert q.phase.value == "active"
    q.conclude(day("2020-06-15"), M)
    assert (q.phase.value, q.concluded_on) == ("concluded", day("2020-06-15"))


def test_consensus_is_among_the_current_members_and_one_against_rejects() -> None:
    p = active()
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


# -- agreements --------------------------------------------------------------------------------


def terms(**more: Any) -> Terms:
    fields: dict[str, Any] = {"start": day("2020-04-01"), "end": day("2023-03-31"), **more}
    return Terms(**fields)


def drafted(key: str = "g", parties: list[str] | None = None, **more: Any) -> Agreement:
    parties = parties or ["a", "b"]
    checked = terms(**more)
    check_terms(checked, parties, f"agreement {key}")
    return Agreement(key, "p", "Agreement", parties, checked, M)


def signed(key: str = "g", **more: Any) -> Agreement:
    g = drafted(key, **more)
    for party in g.parties:
        g.sign(party, day("2020-04-10"), M)
    return g


def signing(*parties: str) -> Step:
    """The ``parties`` sign, one a day from 2020-04-10."""

    def sign(g: Agreement) -> None:
        for i, party in enumerate(parties):
            g.sign(party, day(f"2020-04-1{i}"), M)

    return sign


def contributes(party: str, year: int, key: str = "c1", amount: int = 1) -> Step:
    return lambda g: g.check_contribution(party, year, key, jpy(amount))


def proposes(amendment: str, changes: dict[str, Any], by: str = "a", on: str = "2020-07-01") -> Step:
    return lambda g: g.propose_amendment(amendment, changes, by, day(on), M)


def consents(amendment: str, party: str, on: str) -> Step:
    return lambda g: g.consent_amendment(amendment, party, day(on), M)


def terms_refused(message: str, **more: Any) -> tuple[Make, Step, type[DomainError], str]:
    return nothing, lambda _: drafted(**more), AgreementError, message


def outside(year: int, key: str = "cx", term: str = "2020-04-01 to 2023-03-31", **more: Any) -> tuple[Any, ...]:
    message = f"contribution {key} is for fiscal year {year}, outside agreement g's term ({term})"
    return lambda: signed(**more), contributes("b", year, key), AgreementError, message


def beyond(key: str, limit: int, year: int, **more: Any) -> tuple[Any, ...]:
    years = f"{limit} year{'s' if limit > 1 else ''}"
    message = (
        f"contribution c3 is for fiscal year {year}, beyond agreement {key}'s limit of {years} from fiscal year 2020"
    )
    return lambda: signed(key, **more), contributes("b", year, "c3"), MaxYearsExceeded, message


WITH_M1 = after(signed, proposes("m1", {"max_years": 1}))
WITH_TITLE = after(signed, proposes("m1", {"title": "X"}))
TERMINATED = after(
    lambda: drafted(parties=["a", "b", "c"]),
    signing("a"),
    proposes("m1", {"title": "X"}),
    lambda g: g.terminate("ended early", day("2020-08-01"), M),
)
FINAL = "agreement g was terminated on 2020-08-01: it cannot change"
LATER = "2020-08-02"
# 2020-02-01 .. 2021-01-31, fiscal years starting in month 1, 2, 3 or 4
SHORT = {"start": day("2020-02-01"), "end": day("2021-01-31")}
SHORT_TERM = "2020-02-01 to 2021-01-31"

AGREEMENT_REFUSALS = [
    terms_refused("agreement g has shares summing to 0.9, not 1", shares={"a": Decimal("0.5"), "b": Decimal("0.4")}),
    terms_refused("agreement g has shares summing to 1.0000000001, not 1",
                  shares={"a": Decimal("0.5"), "b": Decimal("0.5000000001")}),
    terms_refused("agreement g gives shares to c, not parties to it",
                  shares={"a": Decimal("0.5"), "c": Decimal("0.5")}),
    terms_refused("agreement g sets annual caps for c, not parties to it", annual_caps={"c": jpy(5)}),
    terms_refused("agreement g sets annual caps in more than one currency", annual_caps={"a": jpy(5), "b": usd(5)}),
    terms_refused("agreement g ends (2020-03-31) before it starts (2020-04-01)", end=day("2020-03-31")),
    terms_refused("agreement g has fiscal_year_start 13: a month 1..12", fiscal_year_start=13),
    terms_refused("agreement g has max_years 0: at least 1 is needed", max_years=0),
    # in force only once every party has signed
    (lambda: drafted(parties=["a", "b", "c"]), contributes("b", 2020, amount=1000), NotInForce,
     "agreement g is not in force: a, b, c have not signed"),
    (after(lambda: drafted(parties=["a", "b", "c"]), signing("a", "c")), contributes("b", 2020, amount=1000),
     NotInForce, "agreement g is not in force: b has not signed"),
    (drafted, lambda g: g.sign("c", day("2020-04-10"), M), AgreementError,
     "c is not a party to agreement g, so it cannot sign it"),
    (after(drafted, signing("a")), lambda g: g.sign("a", day("2020-04-11"), M), AgreementError,
     "a already signed agreement g on 2020-04-10"),
    # amendments
    (after(WITH_TITLE, consents("m1", "a", "2020-07-02"), consents("m1", "b", "2020-07-03")),
     consents("m1", "a", "2020-07-04"), AgreementError,
     "amendment m1 of agreement g already took effect on 2020-07-03"),
    (signed, proposes("m1", {"title": "X"}, by="c"), AgreementError,
     "c is not a party to agreement g, so it cannot propose amendment m1"),
    (signed, proposes("m1", {"shares": {"a": Decimal("0.5")}}), AgreementError,
     "agreement g as amended by m1 has shares summing to 0.5, not 1"),
    (signed, proposes("m1", {}), AgreementError, "amendment m1 of agreement g changes nothing"),
    (signed, proposes("m1", {"parties": ["a"]}), AgreementError, "amendment m1 of agreement g cannot change parties"),
    (WITH_M1, proposes("m1", {"title": "X"}), AgreementError, "agreement g already has an amendment m1"),
    (WITH_M1, consents("m9", "a", "2020-07-02"), AgreementError, "agreement g has no amendment m9"),
    (WITH_M1, consents("m1", "c", "2020-07-02"), AgreementError,
     "c is not a party to agreement g, so it cannot consent to amendment m1"),
    (WITH_M1, consents("m1", "a", "2020-06-30"), DateOrderError,
     "a cannot consent to amendment m1 on 2020-06-30, before it was proposed (2020-07-01)"),
    (after(WITH_M1, consents("m1", "a", "2020-07-02")), consents("m1", "a", "2020-07-02"), AgreementError,
     "a already consented to amendment m1 of agreement g"),
    # terminated is final
    (TERMINATED, lambda g: g.sign("b", day(LATER), M), AgreementTerminated, FINAL),
    (TERMINATED, proposes("m2", {"title": "Y"}, on=LATER), AgreementTerminated, FINAL),
    (TERMINATED, consents("m1", "a", LATER), AgreementTerminated, FINAL),
    (TERMINATED, lambda g: g.terminate("again", day(LATER), M), AgreementTerminated, FINAL),
    (TERMINATED, contributes("a", 2020), AgreementTerminated, FINAL),
    (after(signed, lambda g: g.terminate("done", day("2021-03-31"), M)), contributes("b", 2020, amount=1000),
     AgreementTerminated, "agreement g was terminated on 2021-03-31: it cannot change"),
    # contributions under it: its parties, its term, its years
    (signed, contributes("c", 2020), AgreementError,
     "c is not a party to agreement g, so it cannot contribute under it (c1)"),
    outside(2019),
    outside(2023),
    outside(2018, "no", SHORT_TERM, **SHORT),  # April years: Feb 2020 is in FY2019, Jan 2021 in FY2020
    outside(2021, "no", SHORT_TERM, **SHORT),
    outside(2019, "no", SHORT_TERM, fiscal_year_start=1, **SHORT),  # calendar years
    outside(2022, "no", SHORT_TERM, fiscal_year_start=1, **SHORT),
    outside(2019, "no", SHORT_TERM, fiscal_year_start=2, **SHORT),  # February years: both ends in FY2020
    outside(2021, "no", SHORT_TERM, fiscal_year_start=2, **SHORT),
    outside(2018, "no", SHORT_TERM, fiscal_year_start=3, **SHORT),  # March years, as April's here
    outside(2021, "no", SHORT_TERM, fiscal_year_start=3, **SHORT),
    beyond("g", 2, 2022, max_years=2),
    beyond("g1", 1, 2021, max_years=1),
    # starting in January with April years, the first fiscal year is the previous one
    beyond("g", 2, 2022, start=day("2021-01-15"), end=day("2023-12-31"), max_years=2),
]  # fmt: skip


def test_shares_summing_exactly_to_one_are_accepted() -> None:
    shares = {"a": Decimal("0.3333333333"), "b": Decimal("0.3333333333"), "c": Decimal("0.3333333334")}
    assert drafted(parties=["a", "b", "c"], shares=shares).terms.shares == shares


def test_in_force_once_every_party_has_signed() -> None:
    g = drafted(parties=["a", "b", "c"])
    assert (g.status, g.unsigned) == ("awaiting_signatures", ["a", "b", "c"])
    g.sign("a", day("2020-04-10"), M)
    g.sign("c", day("2020-04-11"), M)
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


def test_an_amendment_takes_effect_only_when_every_party_consents() -> None:
    g = signed(annual_caps={"b": jpy(1000)})
    g.propose_amendment("m1", {"annual_caps": {"b": jpy(2000)}, "title": "Bigger"}, "a", day("2020-07-01"), M)
    assert not g.consent_amendment("m1", "a", day("2020-07-02"), M)
    assert (g.terms.annual_caps, g.title, g.amendments["m1"].effective_on) == ({"b": jpy(1000)}, "Agreement", None)
    assert g.consent_amendment("m1", "b", day("2020-07-03"), M)
    assert (g.terms.annual_caps, g.title) == ({"b": jpy(2000)}, "Bigger")
    assert g.amendments["m1"].effective_on == day("2020-07-03")
    assert g.terms_on(day("2020-07-02")) == ("Agreement", terms(annual_caps={"b": jpy(1000)}))


def test_an_amendment_waiting_for_consents_changes_nothing_yet_and_termination_is_recorded() -> None:
    g = WITH_M1()
    g.consent_amendment("m1", "a", day("2020-07-02"), M)
    assert g.terms.max_years is None
    g = TERMINATED()
    assert (g.status, g.terminated_on, g.termination_reason) == ("terminated", day("2020-08-01"), "ended early")


@pytest.mark.parametrize(
    ("more", "years"),
    [
        ({"max_years": 2}, [2020, 2021]),
        ({}, [2020, 2022]),  # 2020-04-01 .. 2023-03-31: fiscal years 2020, 2021, 2022
        ({**SHORT, "fiscal_year_start": 4}, [2019, 2020]),
        ({**SHORT, "fiscal_year_start": 1}, [2020, 2021]),
        ({**SHORT, "fiscal_year_start": 2}, [2020]),
        ({**SHORT, "fiscal_year_start": 3}, [2019, 2020]),
        ({"start": day("2021-01-15"), "end": day("2023-12-31"), "max_years": 2}, [2020, 2021]),
    ],
)
def test_contributions_within_the_term_and_years_are_accepted(more: dict[str, Any], years: list[int]) -> None:
    g = signed(**more)
    for year in years:
        g.check_contribution("b", year, f"c{year}", jpy(1))


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


def delivering(amount: int | str, on: str = "2020-06-01") -> Step:
    return lambda c: c.deliver(jpy(amount), day(on), None, M)


def correcting(delta: Money, on: str = "2020-06-02") -> Step:
    return lambda c: c.correct(delta, "overstated", day(on), M)


def redating(delta: Money | None, delivery: str | None, delivered_on: date | None) -> Step:
    return lambda c: c.redates(delta, delivery, delivered_on)


WITHDRAWN = after(pledged, lambda c: c.withdraw("cancelled", day("2020-09-01"), M))
BOTH = "a correction of contribution c1 gives either a delta or a delivery to re-date, not both"
REDATE = "re-dating a delivery to contribution c1 needs both delivery (its operation) and delivered_on"
NEITHER = "a correction of contribution c1 needs a delta, or a delivery and delivered_on to re-date it"

CONTRIBUTION_REFUSALS = [
    # an instrument and a recipient are for money only
    (nothing, lambda _: pledged(kind=ContributionKind.STAFF_TIME, instrument=Instrument.SUBSIDY), ContributionError,
     "contribution c1 is staff_time: a funding instrument applies to money only"),
    (nothing, lambda _: pledged(kind=ContributionKind.FACILITY, recipient="a"), ContributionError,
     "contribution c1 is facility: a recipient applies to money only"),
    (nothing, lambda _: pledged(recipient="b"), ContributionError,
     "contribution c1 names its own party b as its recipient"),
    # the delivered total never goes below zero
    (after(pledged, delivering(500)), correcting(jpy(-501)), NegativeDelivered,
     "correction of contribution c1 by -501 JPY would take its delivered total below zero (-1)"),
    (after(pledged, delivering(500), correcting(jpy(-500))), correcting(jpy("-0.01")), NegativeDelivered,
     "correction of contribution c1 by -0.01 JPY would take its delivered total below zero (-0.01)"),
    (pledged, delivering(0, "2020-06-03"), ContributionError,
     "a delivery to contribution c1 must be more than zero, not 0"),
    (WITHDRAWN, delivering(1, "2020-09-02"), ContributionError,
     "contribution c1 was withdrawn on 2020-09-01: it takes no deliveries"),
    (WITHDRAWN, lambda c: c.withdraw("again", day("2020-09-03"), M), ContributionError,
     "contribution c1 was already withdrawn on 2020-09-01"),
    (pledged, lambda c: c.deliver(usd(1), day("2020-06-01"), None, M), CurrencyMismatch,
     "delivery to contribution c1 is in USD, but contribution c1 is in JPY"),
    (pledged, lambda c: c.correct(usd(1), "r", day("2020-06-01"), M), CurrencyMismatch,
     "correction of contribution c1 is in USD, but contribution c1 is in JPY"),
    # a correction changes the amount or re-dates a delivery
    (pledged, redating(jpy(1), "op-1", None), ContributionError, BOTH),
    (pledged, redating(None, "op-1", None), ContributionError, REDATE),
    (pledged, redating(None, None, day("2020-06-01")), ContributionError, REDATE),
    (pledged, redating(None, None, None), ContributionError, NEITHER),
]  # fmt: skip


def test_a_pledge_of_money_names_an_instrument_and_a_recipient() -> None:
    c = pledged(instrument=Instrument.SUBSIDY, recipient="a")
    assert (c.instrument, c.recipient) == (Instrument.SUBSIDY, "a")


def test_corrections_and_withdrawals_keep_what_was_delivered() -> None:
    c = after(pledged, delivering(500), correcting(jpy(-500)))()
    assert c.delivered == 0
    c = WITHDRAWN()
    assert (c.withdrawn_amount, c.delivered) == (Decimal(1000), Decimal(0))
    c = after(pledged, delivering(300), lambda c: c.withdraw("budget cut", day("2020-07-01"), M))()
    assert (c.withdrawn_amount, c.delivered, c.pledged_net, c.counted_against_cap) == tuple(
        map(Decimal, (700, 300, 300, 300))
    )


def test_a_correction_re_dates_with_a_delivery_and_its_day_or_changes_by_a_delta() -> None:
    c = pledged()
    assert c.redates(None, "op-1", day("2020-06-01"))
    assert not c.redates(jpy(1), None, None)


# -- evaluations -------------------------------------------------------------------------------


def opened(criteria: list[str] | None = None) -> Evaluation:
    return Evaluation("e", "p", "2020", criteria or ["overall"], 5, Decimal("0.5"), M)


def submit(
    e: Evaluation, evaluator: str, role: str, scores: dict[str, int], party: str | None = None, on: str = "2020-12-01"
) -> None:
    e.submit(evaluator, EvaluatorRole(role), party, scores, None, False, day(on), M)


def submits(
    evaluator: str, role: str, scores: dict[str, int], party: str | None = None, on: str = "2020-12-01"
) -> Step:
    return lambda e: submit(e, evaluator, role, scores, party, on)


def closing(on: str) -> Step:
    return lambda e: e.close(day(on), M)


TWO_CRITERIA = after(lambda: opened(["overall", "trust"]), submits("a", "party", {"overall": 5}, party="a"))
CLOSED = after(opened, submits("a", "party", {"overall": 4}, party="a", on="2020-12-15"), closing("2020-12-20"))
WAS_CLOSED = "evaluation e was closed on 2020-12-20"

EVALUATION_REFUSALS = [
    # one submission per evaluator, and one per party whoever submits for it
    (TWO_CRITERIA, submits("a", "party", {"overall": 4}, party="a"), EvaluationError,
     "party a has already submitted to evaluation e"),
    (TWO_CRITERIA, submits("a-staff", "party", {"overall": 4}, party="a"), EvaluationError,
     "party a has already submitted to evaluation e"),
    (after(opened, submits("x-9", "external", {"overall": 2})), submits("x-9", "external", {"overall": 4}),
     EvaluationError, "x-9 has already submitted to evaluation e"),
    # scores for the round's criteria, within its scale
    (TWO_CRITERIA, submits("r-1", "resident", {"overall": 6}), EvaluationError,
     "score 6 for 'overall' in evaluation e is outside 1..5"),
    (TWO_CRITERIA, submits("r-1", "resident", {"trust": 0}), EvaluationError,
     "score 0 for 'trust' in evaluation e is outside 1..5"),
    (TWO_CRITERIA, submits("r-1", "resident", {"speed": 3}), EvaluationError,
     "evaluation e has no criterion 'speed' (its criteria: overall, trust)"),
    (TWO_CRITERIA, submits("r-1", "resident", {}), EvaluationError,
     "the submission of r-1 to evaluation e has no scores"),
    # evaluator roles
    (opened, submits("a", "party", {"overall": 3}), EvaluationError,
     "a submits to evaluation e as a party, so it must name the party"),
    (opened, submits("r-1", "resident", {"overall": 3}, party="a"), EvaluationError,
     "resident r-1 in evaluation e cannot name a party: residents speak for themselves"),
    # a closed evaluation refuses as closed, whatever else is wrong
    (CLOSED, submits("r-2", "resident", {"overall": 3}), EvaluationClosed, WAS_CLOSED),
    (CLOSED, submits("a", "party", {"overall": 4}, party="a"), EvaluationClosed, WAS_CLOSED),
    (CLOSED, submits("r-1", "resident", {"overall": 4}, party="a"), EvaluationClosed, WAS_CLOSED),
    (CLOSED, submits("d", "party", {"overall": 9}), EvaluationClosed, WAS_CLOSED),
    (CLOSED, closing("2020-12-01"), EvaluationClosed, WAS_CLOSED),
    (CLOSED, closing("2021-01-01"), EvaluationClosed, WAS_CLOSED),
    # it closes after its last submission
    (after(opened, submits("r-1", "resident", {"overall": 3}, on="2020-12-15")), closing("2020-12-14"),
     DateOrderError, "evaluation e cannot close on 2020-12-14, before its last submission (2020-12-15)"),
]  # fmt: skip


def test_evaluation_submissions_and_closing() -> None:
    e = TWO_CRITERIA()
    submit(e, "x-9", "external", {"overall": 2}, party="d")
    submit(e, "r-1", "resident", {"overall": 1, "trust": 5}, on="2020-12-15")
    e.close(day("2020-12-15"), M)
    assert list(e.submissions) == ["a", "x-9", "r-1"]
    assert (e.submissions["x-9"].party, e.closed_on) == ("d", day("2020-12-15"))


# -- targets -----------------------------------------------------------------------------------


def periods(*pairs: tuple[str, int]) -> list[PeriodValue]:
    return [PeriodValue(p, Decimal(v)) for p, v in pairs]


def defined(*pairs: tuple[str, int]) -> NumericTarget:
    baseline, targets = PeriodValue("2020", Decimal(10)), periods(*pairs)
    check_targets(targets, baseline, "target t")
    return NumericTarget("t", "p", "performances", "shows", Direction.INCREASE, baseline, targets, M)


def two_targets() -> NumericTarget:
    return defined(("2021", 20), ("2022", 30))


def revising(*pairs: tuple[str, int]) -> Step:
    return lambda t: t.revise(periods(*pairs), "merger", day("2021-04-01"), M)


TARGET_REFUSALS = [
    (nothing, lambda _: defined(("2019", 1), ("2020", 2), ("2021", 3)), TargetError,
     "target t sets a target for 2019, 2020, not after its baseline 2020"),
    (nothing, lambda _: defined(("2021", 1), ("2022", 2), ("2022", 3)), TargetError,
     "target t names period 2022 more than once"),
    (nothing, lambda _: defined(), TargetError, "target t has no targets"),
    (two_targets, lambda t: t.record_measurement("2020", Decimal(12), "count", day("2021-04-01"), M), TargetError,
     "target t measures periods after its baseline 2020, not 2020"),
    (two_targets, revising(("2019", 1)), TargetError,
     "the revision of target t sets a target for 2019, not after its baseline 2020"),
    (two_targets, revising(("2023", 1), ("2023", 1)), TargetError,
     "the revision of target t names period 2023 more than once"),
]  # fmt: skip


def test_measurements_and_revisions() -> None:
    assert [t.period for t in defined(("2022", 30), ("2021", 20)).targets] == ["2021", "2022"]
    t = two_targets()
    on = day("2021-04-01")
    t.record_measurement("2021", Decimal(12), "count", on, M)
    t.record_measurement("2021", Decimal("14.5"), "recount", on, M)
    t.revise(periods(("2022", 25)), "merger", day("2021-05-01"), M)
    assert t.targets == periods(("2022", 25))
    assert [r.reason for r in t.revisions] == ["merger"]
    assert [(m.period, m.value) for m in t.measurements] == [("2021", Decimal(12)), ("2021", Decimal("14.5"))]
    assert t.latest_measurements == {"2021": Decimal("14.5")}


# -- every refusal -----------------------------------------------------------------------------

REFUSALS = [*PARTNERSHIP_REFUSALS, *AGREEMENT_REFUSALS, *CONTRIBUTION_REFUSALS, *EVALUATION_REFUSALS, *TARGET_REFUSALS]


@pytest.mark.parametrize(("make", "call", "error", "message"), [pytest.param(*r, id=r[3]) for r in REFUSALS])
def test_a_rule_refuses_with_its_sentence_and_changes_nothing(
    make: Make, call: Step, error: type[DomainError], message: str
) -> None:
    aggregate = make()
    before = len(aggregate.pending_events) if aggregate is not None else 0
    with pytest.raises(DomainError) as info:
        call(aggregate)
    assert type(info.value) is error
    assert info.value.message == message
    if aggregate is not None:
        assert len(aggregate.pending_events) == before


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (AgreementError, "agreement_invalid"),
        (AgreementTerminated, "agreement_terminated"),
        (AlreadyAMember, "already_a_member"),
        (ContributionError, "contribution_invalid"),
        (CurrencyMismatch, "currency_mismatch"),
        (CycleError, "partnership_cycle"),
        (DateOrderError, "date_out_of_order"),
        (DecisionError, "decision_invalid"),
        (EvaluationClosed, "evaluation_closed"),
        (EvaluationError, "evaluation_invalid"),
        (InvalidPhase, "invalid_phase"),
        (MaxYearsExceeded, "max_years_exceeded"),
        (NegativeDelivered, "delivered_below_zero"),
        (NotAMember, "not_a_member"),
        (NotInForce, "agreement_not_in_force"),
        (PartnershipConcluded, "partnership_concluded"),
        (TargetError, "target_invalid"),
    ],
)
def test_each_refusal_has_its_stable_kind(error: type[DomainError], kind: str) -> None:
    assert error.kind == kind
    assert error.kind in {e.kind for _, _, e, _ in REFUSALS}
