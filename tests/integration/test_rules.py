"""The rules that span aggregates, through the ledger: keys, membership, parents, concluded
partnerships, agreements' caps and currencies, and refusals recording nothing (one operation
or a whole batch). The rules of one aggregate are tested on the aggregates directly in
``tests/unit/test_rules_aggregates.py``.

Each refusal is checked for its error class, its stable ``kind``, its exact sentence, and
for having recorded nothing (same event count, same exported journal).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import journal_ops as ops
import pytest
from eventsourcing.application import AggregateNotFoundError
from journal_ops import jpy, usd

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.domain import Partnership, Party
from partnership_ledger.domain.values import OpMeta, Sector
from partnership_ledger.errors import (
    AgreementError,
    AlreadyAMember,
    AnnualCapExceeded,
    ContributionError,
    CurrencyMismatch,
    CycleError,
    DuplicateKey,
    EvaluationClosed,
    EvaluationError,
    JournalError,
    LedgerError,
    NotAMember,
    PartnershipConcluded,
    UnknownKey,
)
from partnership_ledger.journal import OPS, parse_operations
from partnership_ledger.service.handlers import propose_partnership
from partnership_ledger.service.unit_of_work import UnitOfWork

Raw = dict[str, Any]


def refused(ledger: PartnershipLedger, raw: Raw, error: type[LedgerError], kind: str, message: str) -> JournalError:
    """Recording ``raw`` is refused for ``error`` (with ``kind`` and ``message``), and nothing
    is recorded."""
    events = ledger.event_count()
    exported = list(ledger.export_operations())
    with pytest.raises(JournalError) as info:
        ledger.record(raw)
    err = info.value
    cause = err.__cause__
    assert type(cause) is error
    assert isinstance(cause, LedgerError)
    assert cause.kind == kind
    assert cause.message == message
    assert str(err) == f"operation 0 ({raw['op']}): {message}"
    [problem] = err.problems
    assert (problem.index, problem.op, problem.rule) == (0, raw["op"], kind)
    assert ledger.event_count() == events
    assert list(ledger.export_operations()) == exported
    return err


def over_the_cap(ledger: PartnershipLedger, raw: Raw, contribution: str, total: str, cap: str = "1000") -> None:
    """``raw`` is refused for taking b to ``total`` JPY in fiscal year 2020, past its annual cap
    of ``cap`` JPY under agreement g."""
    refused(
        ledger,
        raw,
        AnnualCapExceeded,
        "annual_cap_exceeded",
        f"contribution {contribution} would take b to {total} JPY in fiscal year 2020, past its annual cap "
        f"of {cap} JPY under agreement g",
    )


def invalid_field(ledger: PartnershipLedger, raw: Raw, field: str, message: str) -> None:
    """``raw`` is refused by the journal's validation of ``field``; nothing is recorded."""
    events = ledger.event_count()
    with pytest.raises(JournalError) as info:
        ledger.record(raw)
    [problem] = info.value.problems
    assert (problem.index, problem.op, problem.field, problem.rule) == (
        0,
        raw["op"],
        field,
        "invalid_field",
    )
    assert problem.message == message
    assert ledger.event_count() == events


@pytest.fixture
def world(ledger: PartnershipLedger) -> PartnershipLedger:
    """Parties a (npo), b (prefecture), c (business), d (resident group); partnership p of
    a, b and c, proposed by a on 2020-04-01 and active since 2020-05-01."""
    ledger.register_party("a", "NPO A", "npo", jpy(10_000_000))
    ledger.register_party("b", "Prefecture B", "prefecture")
    ledger.register_party("c", "Company C", "business")
    ledger.register_party("d", "Residents D", "resident_group")
    ledger.propose_partnership("p", "Tour", "children meet live theatre", "a", ["a", "b", "c"], "2020-04-01")
    ledger.activate_partnership("p", "2020-05-01")
    return ledger


def draft(key: str = "g", parties: list[str] | None = None, **terms: Any) -> Raw:
    """Agreement ``key`` between a and b (unless ``parties``) in p, 2020-04-01..2023-03-31."""
    return ops.draft(key, "p", parties or ["a", "b"], "2020-04-01", "2023-03-31", **terms)


def agreement(ledger: PartnershipLedger, key: str = "g", **terms: Any) -> None:
    """The agreement of ``draft``, signed by both."""
    ledger.record(draft(key, **terms))
    for party in ("a", "b"):
        ledger.sign_agreement(key, party, "2020-04-10")


def pledge(key: str, party: str = "b", amount: int | str = 1000, fiscal_year: int = 2020, **more: Any) -> Raw:
    """Money pledged in p."""
    return ops.pledge(key, "p", party, "money", amount, fiscal_year, **more)


# -- keys ----------------------------------------------------------------------------------


def test_a_key_names_one_thing_of_one_kind(world: PartnershipLedger) -> None:
    refused(
        world,
        {"op": "register_party", "key": "a", "name": "Again", "sector": "npo"},
        DuplicateKey,
        "duplicate_key",
        "party a already exists",
    )
    refused(
        world,
        {"op": "register_party", "key": "p", "name": "P", "sector": "npo"},
        DuplicateKey,
        "duplicate_key",
        "key p is already used by a partnership",
    )
    refused(
        world,
        ops.propose("a", "a", ["a"], "2020-04-01", title="T", purpose="P"),
        DuplicateKey,
        "duplicate_key",
        "key a is already used by a party",
    )
    world.open_evaluation("e", "p", "2020")
    refused(
        world,
        ops.target("e", "p", ("2019", 0), {"2020": 1}),
        DuplicateKey,
        "duplicate_key",
        "key e is already used by an evaluation",
    )


def test_keys_are_unique_within_one_batch_too(ledger: PartnershipLedger) -> None:
    journal = (
        b'[{"op": "register_party", "key": "x", "name": "X", "sector": "npo"},'
        b' {"op": "register_party", "key": "x", "name": "X2", "sector": "npo"}]'
    )
    with pytest.raises(JournalError) as info:
        ledger.import_journal(journal)
    assert str(info.value) == "operation 1 (register_party): party x already exists"
    assert ledger.event_count() == 0


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"op": "join_partnership", "partnership": "nope", "party": "a", "on": "2020-06-01"},
            "there is no partnership nope",
        ),
        (
            {"op": "join_partnership", "partnership": "p", "party": "zz", "on": "2020-06-01"},
            "there is no party zz",
        ),
        (
            {"op": "join_partnership", "partnership": "a", "party": "d", "on": "2020-06-01"},
            "a is a party, not a partnership",
        ),
        (
            ops.deliver("p", 1, "2020-06-01"),
            "p is a partnership, not a contribution",
        ),
        (
            {"op": "sign_agreement", "agreement": "p", "party": "a", "on": "2020-06-01"},
            "p is a partnership, not an agreement",
        ),
        (
            {"op": "close_evaluation", "evaluation": "zz", "on": "2020-06-01"},
            "there is no evaluation zz",
        ),
        (
            ops.measurement("a", "2021", 1, "s", "2020-06-01"),
            "a is a party, not a target",
        ),
        (
            ops.decision("p", "d1", "a", "majority", {"zz": "for"}, "2020-06-01"),
            "there is no party zz",
        ),
    ],
)
def test_unknown_keys_are_named(world: PartnershipLedger, raw: Raw, message: str) -> None:
    refused(world, raw, UnknownKey, "unknown_key", message)


# -- partnerships: who proposes, parents ------------------------------------------------------


def propose(key: str, by: str, members: list[str], parent: str | None = None) -> Raw:
    return ops.propose(key, by, members, "2020-06-01", title="Sub", purpose="Purpose", parent=parent)


def test_only_a_member_proposes_a_partnership(world: PartnershipLedger) -> None:
    refused(
        world,
        propose("q", "c", ["a", "b"]),
        NotAMember,
        "not_a_member",
        "partnership q is proposed by c, who is not among its members",
    )
    refused(world, propose("q", "a", ["a", "zz"]), UnknownKey, "unknown_key", "there is no party zz")


def test_parent_partnership_must_exist_be_open_and_not_be_itself(
    world: PartnershipLedger,
) -> None:
    refused(
        world,
        propose("q", "a", ["a"], parent="q"),
        CycleError,
        "partnership_cycle",
        "partnership q cannot be its own parent",
    )
    refused(
        world,
        propose("q", "a", ["a"], parent="nope"),
        UnknownKey,
        "unknown_key",
        "there is no partnership nope",
    )
    refused(
        world,
        propose("q", "a", ["a"], parent="b"),
        UnknownKey,
        "unknown_key",
        "b is a party, not a partnership",
    )
    world.record(propose("q", "a", ["a", "d"], parent="p"))
    world.record(propose("r", "d", ["d"], parent="q"))
    assert world.show("q")["parent"] == "p"
    assert world.children("p") == ["q", "r"]
    world.conclude_partnership("p", "2021-03-31")
    refused(
        world,
        propose("s", "a", ["a"], parent="p"),
        PartnershipConcluded,
        "partnership_concluded",
        "partnership p was concluded on 2021-03-31: nothing more can be recorded on it",
    )


def test_a_parent_chain_that_loops_is_refused_as_a_cycle() -> None:
    """Keys are new when proposed, so the API cannot build a loop; a hand-edited ledger
    could. The handler walks the parent chain and refuses to hang a partnership on it."""

    def loop_member(key: str, parent: str) -> Partnership:
        return Partnership(
            key=key,
            title="T",
            purpose="P",
            proposed_by="a",
            members=["a"],
            parent=parent,
            on=date(2020, 1, 1),
            meta=OpMeta("x"),
        )

    stored = {p.id: p for p in (loop_member("x", "y"), loop_member("y", "x"))}

    class Repository:
        def get(self, agg_id: Any) -> Any:
            if agg_id in stored:
                return stored[agg_id]
            if agg_id == party_a.id:
                return party_a
            raise AggregateNotFoundError(agg_id)

    party_a = Party(key="a", name="A", sector=Sector.NPO, capacity=None, identifiers=[], area=None, meta=OpMeta("a"))
    kinds = {"x": "partnership", "y": "partnership", "a": "party"}
    uow = UnitOfWork(Repository(), kinds.get)  # type: ignore[arg-type]
    [op] = parse_operations([propose("z", "a", ["a"], parent="x")])
    with pytest.raises(CycleError) as info:
        propose_partnership(uow, op)
    assert info.value.message == "partnership z under x would make a cycle"
    assert info.value.kind == "partnership_cycle"
    assert uow.events == []


# -- nothing is recorded on a concluded partnership -----------------------------------------

AFTER_CONCLUSION: list[Raw] = [
    {"op": "join_partnership", "partnership": "p", "party": "d", "on": "2021-04-01"},
    {"op": "leave_partnership", "partnership": "p", "party": "c", "on": "2021-04-01"},
    {"op": "activate_partnership", "partnership": "p", "on": "2021-04-01"},
    {"op": "conclude_partnership", "partnership": "p", "on": "2021-04-01"},
    ops.decision("p", "late", "a", "majority", {"a": "for"}, "2021-04-01"),
    ops.draft("g2", "p", ["a"], "2021-04-01", "2022-03-31", title="T"),
    {"op": "sign_agreement", "agreement": "g", "party": "b", "on": "2021-04-01"},
    ops.amend("g", "m2", {"title": "New"}, "a", "2021-04-01"),
    ops.consent("g", "m1", "a", "2021-04-01"),
    {"op": "terminate_agreement", "agreement": "g", "reason": "r", "on": "2021-04-01"},
    pledge("c9", party="a"),
    ops.deliver("c1", 1, "2021-04-01"),
    ops.correct("c1", -1, "r", "2021-04-01"),
    {"op": "withdraw_pledge", "contribution": "c1", "reason": "r", "on": "2021-04-01"},
    ops.target("t2", "p", ("2019", 0), {"2020": 1}),
    ops.measurement("t", "2021", 3, "s", "2021-04-01"),
    ops.revise("t", {"2021": 9}, "r", "2021-04-01"),
    {"op": "open_evaluation", "key": "e2", "partnership": "p", "period": "2021"},
    ops.submission("e", "r-1", "resident", {"overall": 3}, "2021-04-01"),
    {"op": "close_evaluation", "evaluation": "e", "on": "2021-04-01"},
]


#: Corrections are audit entries, not new activity: accepted after conclusion (see
#: tests/unit/test_corrections_rules.py).
CORRECTIONS = {"correct_contribution", "revise_target"}


@pytest.mark.parametrize("raw", [r for r in AFTER_CONCLUSION if r["op"] not in CORRECTIONS], ids=lambda raw: raw["op"])
def test_nothing_is_recorded_on_a_concluded_partnership(world: PartnershipLedger, raw: Raw) -> None:
    world.record(ops.draft("g", "p", ["a", "b"], "2020-04-01", "2022-03-31", title="T"))
    world.sign_agreement("g", "a", "2020-05-01")
    world.amend_agreement("g", "m1", {"title": "T2"}, "a", "2020-05-02")
    world.record(pledge("c1", amount=100))
    world.deliver("c1", jpy(50), "2020-06-01")
    world.define_target(
        "t",
        "p",
        "children",
        "children",
        "increase",
        {"period": "2020", "value": 0},
        [{"period": "2021", "value": 5}],
    )
    world.open_evaluation("e", "p", "2020")
    world.conclude_partnership("p", "2021-03-31")
    assert world.show("p")["phase"] == "concluded"
    refused(
        world,
        raw,
        PartnershipConcluded,
        "partnership_concluded",
        "partnership p was concluded on 2021-03-31: nothing more can be recorded on it",
    )


def test_the_concluded_list_covers_every_op_that_names_a_partnership_thing() -> None:
    covered = {raw["op"] for raw in AFTER_CONCLUSION}
    # register_party and propose_partnership name no existing partnership (a child under a
    # concluded parent is tested on its own).
    # amend_party and void_operation are corrections (accepted after conclusion: see
    # tests/unit/test_corrections_rules.py); erase_subject is a resident's right, also after the
    # partnership ended (tests/integration/test_privacy_erasure.py).
    assert covered == set(OPS) - {
        "register_party",
        "propose_partnership",
        "amend_party",
        "void_operation",
        "erase_subject",
    }


# -- agreements ----------------------------------------------------------------------------


def test_agreement_parties_must_be_members(world: PartnershipLedger) -> None:
    refused(
        world,
        draft(parties=["a", "d"]),
        NotAMember,
        "not_a_member",
        "d is not a member of partnership p, so it cannot be a party to agreement g",
    )
    refused(world, draft(parties=["a", "zz"]), UnknownKey, "unknown_key", "there is no party zz")


def test_shares_summing_exactly_to_one_are_accepted(world: PartnershipLedger) -> None:
    world.record(
        draft(
            parties=["a", "b", "c"],
            shares={"a": "0.3333333333", "b": "0.3333333333", "c": "0.3333333334"},
        )
    )
    shares = world.show("g")["terms"]["shares"]
    assert shares == {
        "a": Decimal("0.3333333333"),
        "b": Decimal("0.3333333333"),
        "c": Decimal("0.3333333334"),
    }
    assert all(type(v) is Decimal for v in shares.values())


def amend(amendment: str, changes: dict[str, Any], by: str = "a", on: str = "2020-07-01") -> Raw:
    return ops.amend("g", amendment, changes, by, on)


def consent(amendment: str, party: str, on: str = "2020-07-02") -> Raw:
    return ops.consent("g", amendment, party, on)


def test_an_amendment_takes_effect_only_when_every_party_consents(
    world: PartnershipLedger,
) -> None:
    agreement(world, annual_caps={"b": jpy(1000)})
    world.record(amend("m1", {"annual_caps": {"b": jpy(2000)}, "title": "Bigger"}))
    world.record(consent("m1", "a"))
    view = world.show("g")
    assert view["terms"]["annual_caps"] == {"b": {"amount": Decimal(1000), "currency": "JPY"}}
    assert view["title"] == "Agreement"
    assert view["amendments"][0]["effective_on"] is None
    # The old cap still binds b until b consents too.
    over_the_cap(world, pledge("c1", amount=1500, agreement="g"), "c1", "1500")
    world.record(consent("m1", "b", on="2020-07-03"))
    view = world.show("g")
    assert view["terms"]["annual_caps"] == {"b": {"amount": Decimal(2000), "currency": "JPY"}}
    assert view["title"] == "Bigger"
    assert str(view["amendments"][0]["effective_on"]) == "2020-07-03"
    world.record(pledge("c1", amount=1500, agreement="g"))
    refused(
        world,
        consent("m1", "a", on="2020-07-04"),
        AgreementError,
        "agreement_invalid",
        "amendment m1 of agreement g already took effect on 2020-07-03",
    )


# -- contributions under an agreement: caps ------------------------------------------------


def test_annual_cap_exactly_reached_is_fine_one_yen_over_is_not(
    world: PartnershipLedger,
) -> None:
    agreement(world, annual_caps={"b": jpy(1_000_000)})
    world.record(pledge("c1", amount=600_000, agreement="g"))
    over_the_cap(world, pledge("c2", amount=400_001, agreement="g"), "c2", "1000001", cap="1000000")
    world.record(pledge("c2", amount=400_000, agreement="g"))
    # The cap is per fiscal year: the next year starts from zero.
    world.record(pledge("c3", amount=1_000_000, agreement="g", fiscal_year=2021))
    # Other parties have no cap; contributions outside the agreement do not count.
    world.record(pledge("c4", party="a", amount=5_000_000, agreement="g"))
    world.record(pledge("c5", amount=5_000_000))
    over_the_cap(world, pledge("c6", amount="0.01", agreement="g"), "c6", "1000000.01", cap="1000000")


def test_deliveries_and_corrections_cannot_push_past_the_cap(world: PartnershipLedger) -> None:
    agreement(world, annual_caps={"b": jpy(1000)})
    world.record(pledge("c1", amount=800, agreement="g"))
    world.record(pledge("c2", amount=100, agreement="g"))
    deliver: Raw = ops.deliver("c1", 901, "2020-06-01")
    over_the_cap(world, deliver, "c1", "1001")
    world.record({**deliver, "value": jpy(900)})  # delivered 900 > pledged 800: counts 900
    assert world.show("c1")["delivered"]["amount"] == 900
    correct: Raw = ops.correct("c1", 1, "typo", "2020-06-02")
    over_the_cap(world, correct, "c1", "1001")
    world.record({**correct, "delta": jpy(-300)})  # delivered 600 < pledged 800: counts 800
    over_the_cap(world, pledge("c3", amount=101, agreement="g"), "c3", "1001")


def test_withdrawing_a_pledge_frees_its_room_under_the_cap(world: PartnershipLedger) -> None:
    agreement(world, annual_caps={"b": jpy(1000)})
    world.record(pledge("c1", amount=1000, agreement="g"))
    world.deliver("c1", jpy(300), "2020-06-01")
    world.withdraw_pledge("c1", "budget cut", "2020-07-01")
    view = world.show("c1")
    assert view["withdrawn"]["amount"] == 700
    assert view["delivered"]["amount"] == 300
    world.record(pledge("c2", amount=700, agreement="g"))
    over_the_cap(world, pledge("c3", amount=1, agreement="g"), "c3", "1001")


@pytest.mark.parametrize(
    ("terms", "before", "raw", "error", "kind", "message"),
    [
        pytest.param(
            {"annual_caps": {"b": jpy(1000)}},
            [],
            amend("m1", {"annual_caps": {"b": usd(5)}}),
            CurrencyMismatch,
            "currency_mismatch",
            "an annual cap of amendment m1 is in USD, but partnership p keeps its accounts in JPY",
            id="an-amended-cap-in-another-currency-than-the-partnership",
        ),
        pytest.param(
            {},
            [],
            pledge("c1", party="d", agreement="g"),
            NotAMember,
            "not_a_member",
            "d is not a member of partnership p, so it cannot pledge contribution c1",
            id="only-a-member-contributes-under-an-agreement",
        ),
        pytest.param(
            {},
            [propose("q", "a", ["a", "b"])],
            {**pledge("c1", agreement="g"), "partnership": "q"},
            ContributionError,
            "contribution_invalid",
            "agreement g belongs to partnership p, not q",
            id="the-agreement-must-belong-to-the-partnership",
        ),
        pytest.param(
            {"annual_caps": {"b": jpy(1000)}},
            [],
            {**pledge("c1", agreement="g"), "value": usd(5)},
            AgreementError,
            "agreement_invalid",
            "contribution c1 is in USD, but agreement g caps b in JPY",
            id="a-pledge-in-another-currency-than-the-cap",
        ),
    ],
)
def test_an_agreement_refuses(
    world: PartnershipLedger,
    terms: Raw,
    before: list[Raw],
    raw: Raw,
    error: type[LedgerError],
    kind: str,
    message: str,
) -> None:
    """Agreement g (with ``terms``), then the operations ``before``: ``raw`` is refused."""
    agreement(world, **terms)
    for op in before:
        world.record(op)
    refused(world, raw, error, kind, message)


# -- contributions -------------------------------------------------------------------------


def test_a_withdrawn_pledge_under_a_capped_agreement_takes_no_deliveries(
    world: PartnershipLedger,
) -> None:
    agreement(world, annual_caps={"b": jpy(1000)})
    world.record(pledge("c1", amount=1000, agreement="g"))
    world.withdraw_pledge("c1", "cancelled", "2020-09-01")
    world.record(pledge("c3", amount=1000, agreement="g"))
    # The withdrawal is the rule that refuses, not the cap that c3 has taken up since.
    refused(
        world,
        ops.deliver("c1", 1, "2020-09-02"),
        ContributionError,
        "contribution_invalid",
        "contribution c1 was withdrawn on 2020-09-01: it takes no deliveries",
    )


def test_one_currency_per_partnership(world: PartnershipLedger) -> None:
    assert world.show("p")["currency"] is None
    world.record(pledge("c1", amount=1000))
    assert world.show("p")["currency"] == "JPY"
    refused(
        world,
        {**pledge("c2"), "value": usd(10)},
        CurrencyMismatch,
        "currency_mismatch",
        "contribution c2 is in USD, but partnership p keeps its accounts in JPY",
    )
    refused(
        world,
        draft(annual_caps={"b": usd(5)}),
        CurrencyMismatch,
        "currency_mismatch",
        "an annual cap of agreement g is in USD, but partnership p keeps its accounts in JPY",
    )


def test_annual_caps_fix_the_partnership_currency(world: PartnershipLedger) -> None:
    agreement(world, annual_caps={"b": usd(100)})
    assert world.show("p")["currency"] == "USD"
    refused(
        world,
        pledge("c1", party="a"),
        CurrencyMismatch,
        "currency_mismatch",
        "contribution c1 is in JPY, but partnership p keeps its accounts in USD",
    )


def test_in_kind_pledges_keep_their_quantity_and_money_its_instrument(world: PartnershipLedger) -> None:
    world.record({**pledge("c1", instrument="subsidy")})
    world.record(
        {
            **pledge("c2"),
            "kind": "staff_time",
            "quantity": "12.5",
            "unit": "hours",
            "valuation_basis": "2,000 JPY an hour",
        }
    )
    view = world.show("c2")
    assert (view["kind"], view["resource_kind"], view["quantity"], view["unit"]) == (
        "contribution",
        "staff_time",
        Decimal("12.5"),
        "hours",
    )
    assert world.show("c1")["instrument"] == "subsidy"


def test_a_pledge_without_a_date_counts_from_the_first_day_of_its_fiscal_year(world: PartnershipLedger) -> None:
    """April without an agreement; the agreement's fiscal_year_start month under one."""
    agreement(world, fiscal_year_start=1)
    world.record(pledge("c1"))
    world.record(pledge("c2", agreement="g"))
    world.record(pledge("c3", on="2020-06-15"))
    on = {e["key"]: e.get("on") for e in world.export_operations() if e["op"] == "pledge"}
    assert on == {"c1": "2020-04-01", "c2": "2020-01-01", "c3": "2020-06-15"}


def test_only_members_pledge(world: PartnershipLedger) -> None:
    refused(
        world,
        pledge("c1", party="d"),
        NotAMember,
        "not_a_member",
        "d is not a member of partnership p, so it cannot pledge contribution c1",
    )
    refused(world, pledge("c1", party="zz"), UnknownKey, "unknown_key", "there is no party zz")


def test_amounts_must_be_positive_where_the_journal_says_so(world: PartnershipLedger) -> None:
    invalid_field(world, pledge("c1", amount=0), "value", "amount must be more than zero, not 0")
    world.record(pledge("c1"))
    invalid_field(
        world,
        ops.deliver("c1", -5, "2020-06-01"),
        "value",
        "amount must be more than zero, not -5",
    )
    invalid_field(
        world,
        ops.correct("c1", 0, "r", "2020-06-01"),
        "delta",
        "amount must not be zero",
    )


# -- evaluations ---------------------------------------------------------------------------


def submission(evaluator: str, role: str, scores: dict[str, Any], on: str = "2020-12-01", **more: Any) -> Raw:
    return ops.submission("e", evaluator, role, scores, on, **more)


def test_evaluators_named_by_the_ledger(world: PartnershipLedger) -> None:
    """A party evaluates as a member; a resident is an opaque id, no key of the ledger; an
    external evaluator may name a registered party."""
    world.open_evaluation("e", "p", "2020")
    refused(
        world,
        submission("d", "party", {"overall": 3}, party="d"),
        NotAMember,
        "not_a_member",
        "d is not a member of partnership p, so it cannot evaluate as a party in evaluation e",
    )
    refused(
        world,
        submission("a", "resident", {"overall": 3}),
        EvaluationError,
        "evaluation_invalid",
        "resident evaluator a in evaluation e must be an opaque id, not a key of the ledger",
    )
    refused(
        world,
        submission("x-1", "external", {"overall": 3}, party="zz"),
        UnknownKey,
        "unknown_key",
        "there is no party zz",
    )
    world.record(submission("x-1", "external", {"overall": 3}, party="d"))


def test_a_closed_evaluation_refuses_as_closed_whatever_else_is_wrong(world: PartnershipLedger) -> None:
    world.open_evaluation("e", "p", "2020")
    world.record(submission("a", "party", {"overall": 4}, party="a", on="2020-12-15"))
    world.close_evaluation("e", "2020-12-20")
    closed = "evaluation e was closed on 2020-12-20"
    for raw in [
        submission("a", "party", {"overall": 4}, party="a"),
        submission("r-1", "resident", {"overall": 4}, party="a"),
        submission("d", "party", {"overall": 4}, party="d"),
        {"op": "close_evaluation", "evaluation": "e", "on": "2020-12-01"},
    ]:
        refused(world, raw, EvaluationClosed, "evaluation_closed", closed)


# -- the command methods are the journal's operations ---------------------------------------


def test_command_methods_raise_the_rule_they_break(world: PartnershipLedger) -> None:
    calls: list[tuple[Callable[[], object], type[LedgerError], str]] = [
        (
            lambda: world.join_partnership("p", "a", "2020-06-01"),
            AlreadyAMember,
            "a is already a member of partnership p",
        ),
        (
            lambda: world.leave_partnership("p", "d", "2020-06-01"),
            NotAMember,
            "d is not a member of partnership p, so it cannot leave it",
        ),
        (lambda: world.register_party("a", "A", "npo"), DuplicateKey, "party a already exists"),
        (lambda: world.deliver("nope", jpy(1), "2020-06-01"), UnknownKey, "there is no contribution nope"),
    ]
    for call, error, message in calls:
        events = world.event_count()
        with pytest.raises(error) as info:
            call()
        assert str(info.value) == message
        assert world.event_count() == events
    # A malformed field is still a problem of the operation, named as such.
    with pytest.raises(JournalError) as bad:
        world.register_party("e", "E", "guild")
    assert bad.value.problems[0].field == "sector"


def test_a_refused_operation_in_a_batch_records_none_of_the_batch(
    world: PartnershipLedger,
) -> None:
    events = world.event_count()
    batch = [
        {"op": "register_party", "key": "e1", "name": "E", "sector": "npo"},
        {"op": "join_partnership", "partnership": "p", "party": "e1", "on": "2020-06-01"},
        {"op": "join_partnership", "partnership": "p", "party": "e1", "on": "2020-06-02"},
    ]
    with pytest.raises(JournalError) as info:
        world.import_journal(json.dumps(batch))
    assert str(info.value) == ("operation 2 (join_partnership): e1 is already a member of partnership p")
    assert world.event_count() == events
    assert world.kind_of("e1") is None
