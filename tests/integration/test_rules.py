"""Every rule of DESIGN.md's "Aggregates and their rules", and of the handlers.

Each refusal is checked for its error class, its stable ``kind``, its exact sentence, and
for having recorded nothing (same event count, same exported journal).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from eventsourcing.application import AggregateNotFoundError

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.domain import Partnership, Party
from partnership_ledger.domain.values import OpMeta, Sector
from partnership_ledger.errors import (
    AgreementError,
    AgreementTerminated,
    AlreadyAMember,
    AnnualCapExceeded,
    ContributionError,
    CurrencyMismatch,
    CycleError,
    DateOrderError,
    DecisionError,
    DuplicateKey,
    EvaluationClosed,
    EvaluationError,
    InvalidPhase,
    JournalError,
    LedgerError,
    MaxYearsExceeded,
    NegativeDelivered,
    NotAMember,
    NotInForce,
    PartnershipConcluded,
    TargetError,
    UnknownKey,
)
from partnership_ledger.journal import OPS, parse_operations
from partnership_ledger.service.handlers import propose_partnership
from partnership_ledger.service.unit_of_work import UnitOfWork

Raw = dict[str, Any]


def jpy(amount: int | str) -> dict[str, str]:
    return {"amount": str(amount), "currency": "JPY"}


def usd(amount: int | str) -> dict[str, str]:
    return {"amount": str(amount), "currency": "USD"}


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


def agreement(ledger: PartnershipLedger, key: str = "g", **terms: Any) -> None:
    """Agreement ``key`` between a and b in p, 2020-04-01..2023-03-31, signed by both."""
    fields: Raw = {
        "op": "draft_agreement",
        "key": key,
        "partnership": "p",
        "title": "Agreement",
        "parties": ["a", "b"],
        "start": "2020-04-01",
        "end": "2023-03-31",
        **terms,
    }
    ledger.record(fields)
    for party in fields["parties"]:
        ledger.sign_agreement(key, party, "2020-04-10")


def pledge(key: str, party: str = "b", amount: int | str = 1000, **more: Any) -> Raw:
    return {
        "op": "pledge",
        "key": key,
        "partnership": "p",
        "party": party,
        "kind": "money",
        "value": jpy(amount),
        "fiscal_year": 2020,
        **more,
    }


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
        {
            "op": "propose_partnership",
            "key": "a",
            "title": "T",
            "purpose": "P",
            "proposed_by": "a",
            "members": ["a"],
            "on": "2020-04-01",
        },
        DuplicateKey,
        "duplicate_key",
        "key a is already used by a party",
    )
    world.open_evaluation("e", "p", "2020")
    refused(
        world,
        {
            "op": "define_target",
            "key": "e",
            "partnership": "p",
            "indicator": "i",
            "unit": "u",
            "direction": "increase",
            "baseline": {"period": "2019", "value": 0},
            "targets": [{"period": "2020", "value": 1}],
        },
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
            {"op": "deliver", "contribution": "p", "value": jpy(1), "on": "2020-06-01"},
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
            {
                "op": "record_measurement",
                "target": "a",
                "period": "2021",
                "value": 1,
                "source": "s",
                "on": "2020-06-01",
            },
            "a is a party, not a target",
        ),
        (
            {
                "op": "record_decision",
                "partnership": "p",
                "key": "d1",
                "subject": "s",
                "proposed_by": "a",
                "rule": "majority",
                "votes": {"zz": "for"},
                "on": "2020-06-01",
            },
            "there is no party zz",
        ),
    ],
)
def test_unknown_keys_are_named(world: PartnershipLedger, raw: Raw, message: str) -> None:
    refused(world, raw, UnknownKey, "unknown_key", message)


# -- partnerships: members, parents, phases --------------------------------------------------


def propose(key: str, by: str, members: list[str], parent: str | None = None) -> Raw:
    raw: Raw = {
        "op": "propose_partnership",
        "key": key,
        "title": "Sub",
        "purpose": "Purpose",
        "proposed_by": by,
        "members": members,
        "on": "2020-06-01",
    }
    if parent is not None:
        raw["parent"] = parent
    return raw


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


def test_join_twice_and_leave_as_a_non_member_are_refused(world: PartnershipLedger) -> None:
    join: Raw = {"op": "join_partnership", "partnership": "p", "party": "a", "on": "2020-06-01"}
    refused(world, join, AlreadyAMember, "already_a_member", "a is already a member of partnership p")
    leave: Raw = {"op": "leave_partnership", "partnership": "p", "party": "d", "on": "2020-06-01"}
    refused(
        world,
        leave,
        NotAMember,
        "not_a_member",
        "d is not a member of partnership p, so it cannot leave it",
    )
    refused(
        world,
        {**join, "party": "d", "on": "2020-03-01"},
        DateOrderError,
        "date_out_of_order",
        "d joining on 2020-03-01 is before partnership p was proposed (2020-04-01)",
    )
    refused(
        world,
        {**leave, "party": "c", "on": "2020-03-31"},
        DateOrderError,
        "date_out_of_order",
        "c cannot leave partnership p on 2020-03-31, before it joined (2020-04-01)",
    )


def test_a_party_leaves_and_joins_again(world: PartnershipLedger) -> None:
    world.leave_partnership("p", "c", "2020-07-01", reason="busy")
    assert world.show("p")["current_members"] == ["a", "b"]
    refused(
        world,
        {"op": "leave_partnership", "partnership": "p", "party": "c", "on": "2020-08-01"},
        NotAMember,
        "not_a_member",
        "c is not a member of partnership p, so it cannot leave it",
    )
    world.join_partnership("p", "c", "2020-09-01", role="sponsor")
    view = world.show("p")
    assert view["current_members"] == ["a", "b", "c"]
    assert [(m["party"], m["role"], str(m["left"])) for m in view["members"]] == [
        ("a", None, "None"),
        ("b", None, "None"),
        ("c", None, "2020-07-01"),
        ("c", "sponsor", "None"),
    ]


def test_the_last_member_cannot_leave(world: PartnershipLedger) -> None:
    world.record(propose("q", "d", ["d"]))
    refused(
        world,
        {"op": "leave_partnership", "partnership": "q", "party": "d", "on": "2020-07-01"},
        NotAMember,
        "not_a_member",
        "d is the last member of partnership q: conclude it instead",
    )


def test_phases_go_preparing_active_concluded(world: PartnershipLedger) -> None:
    world.record(propose("q", "a", ["a", "b"]))
    assert world.show("q")["phase"] == "preparing"
    conclude: Raw = {"op": "conclude_partnership", "partnership": "q", "on": "2020-07-01"}
    refused(
        world,
        conclude,
        InvalidPhase,
        "invalid_phase",
        "partnership q cannot be concluded while preparing: activate it first",
    )
    activate: Raw = {"op": "activate_partnership", "partnership": "q", "on": "2020-05-01"}
    refused(
        world,
        activate,
        DateOrderError,
        "date_out_of_order",
        "activation on 2020-05-01 is before partnership q was proposed (2020-06-01)",
    )
    world.activate_partnership("q", "2020-06-15")
    assert world.show("q")["phase"] == "active"
    refused(
        world,
        {**activate, "on": "2020-07-01"},
        InvalidPhase,
        "invalid_phase",
        "partnership q is already active since 2020-06-15",
    )
    refused(
        world,
        {**conclude, "on": "2020-06-14"},
        DateOrderError,
        "date_out_of_order",
        "partnership q cannot be concluded on 2020-06-14, before it was activated (2020-06-15)",
    )
    world.conclude_partnership("q", "2020-06-15")
    assert world.show("q")["phase"] == "concluded"
    assert str(world.show("q")["concluded_on"]) == "2020-06-15"


# -- nothing is recorded on a concluded partnership -----------------------------------------

AFTER_CONCLUSION: list[Raw] = [
    {"op": "join_partnership", "partnership": "p", "party": "d", "on": "2021-04-01"},
    {"op": "leave_partnership", "partnership": "p", "party": "c", "on": "2021-04-01"},
    {"op": "activate_partnership", "partnership": "p", "on": "2021-04-01"},
    {"op": "conclude_partnership", "partnership": "p", "on": "2021-04-01"},
    {
        "op": "record_decision",
        "partnership": "p",
        "key": "late",
        "subject": "s",
        "proposed_by": "a",
        "rule": "majority",
        "votes": {"a": "for"},
        "on": "2021-04-01",
    },
    {
        "op": "draft_agreement",
        "key": "g2",
        "partnership": "p",
        "title": "T",
        "parties": ["a"],
        "start": "2021-04-01",
        "end": "2022-03-31",
    },
    {"op": "sign_agreement", "agreement": "g", "party": "b", "on": "2021-04-01"},
    {
        "op": "amend_agreement",
        "agreement": "g",
        "amendment": "m2",
        "changes": {"title": "New"},
        "proposed_by": "a",
        "on": "2021-04-01",
    },
    {
        "op": "consent_amendment",
        "agreement": "g",
        "amendment": "m1",
        "party": "a",
        "on": "2021-04-01",
    },
    {"op": "terminate_agreement", "agreement": "g", "reason": "r", "on": "2021-04-01"},
    pledge("c9", party="a"),
    {"op": "deliver", "contribution": "c1", "value": jpy(1), "on": "2021-04-01"},
    {
        "op": "correct_contribution",
        "contribution": "c1",
        "delta": jpy(-1),
        "reason": "r",
        "on": "2021-04-01",
    },
    {"op": "withdraw_pledge", "contribution": "c1", "reason": "r", "on": "2021-04-01"},
    {
        "op": "define_target",
        "key": "t2",
        "partnership": "p",
        "indicator": "i",
        "unit": "u",
        "direction": "increase",
        "baseline": {"period": "2019", "value": 0},
        "targets": [{"period": "2020", "value": 1}],
    },
    {
        "op": "record_measurement",
        "target": "t",
        "period": "2021",
        "value": 3,
        "source": "s",
        "on": "2021-04-01",
    },
    {
        "op": "revise_target",
        "target": "t",
        "targets": [{"period": "2021", "value": 9}],
        "reason": "r",
        "on": "2021-04-01",
    },
    {"op": "open_evaluation", "key": "e2", "partnership": "p", "period": "2021"},
    {
        "op": "submit_evaluation",
        "evaluation": "e",
        "evaluator": "r-1",
        "role": "resident",
        "scores": {"overall": 3},
        "on": "2021-04-01",
    },
    {"op": "close_evaluation", "evaluation": "e", "on": "2021-04-01"},
]


#: Corrections are audit entries, not new activity: accepted after conclusion (see
#: tests/unit/test_corrections_rules.py).
CORRECTIONS = {"correct_contribution", "revise_target"}


@pytest.mark.parametrize("raw", [r for r in AFTER_CONCLUSION if r["op"] not in CORRECTIONS], ids=lambda raw: raw["op"])
def test_nothing_is_recorded_on_a_concluded_partnership(world: PartnershipLedger, raw: Raw) -> None:
    world.record(
        {
            "op": "draft_agreement",
            "key": "g",
            "partnership": "p",
            "title": "T",
            "parties": ["a", "b"],
            "start": "2020-04-01",
            "end": "2022-03-31",
        }
    )
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


# -- decisions -----------------------------------------------------------------------------


def decision(key: str, rule: str, votes: dict[str, str], by: str = "a", **more: Any) -> Raw:
    return {
        "op": "record_decision",
        "partnership": "p",
        "key": key,
        "subject": f"subject of {key}",
        "proposed_by": by,
        "rule": rule,
        "votes": votes,
        "on": "2020-06-01",
        **more,
    }


def adopted(ledger: PartnershipLedger, key: str) -> bool:
    [found] = [d for d in ledger.show("p")["decisions"] if d["key"] == key]
    return bool(found["adopted"])


def test_only_members_propose_and_vote(world: PartnershipLedger) -> None:
    refused(
        world,
        decision("d1", "majority", {"a": "for"}, by="d"),
        NotAMember,
        "not_a_member",
        "d is not a member of partnership p, so it cannot propose decision d1",
    )
    refused(
        world,
        decision("d1", "majority", {"a": "for", "d": "for"}),
        NotAMember,
        "not_a_member",
        "d is not a member of partnership p, so it cannot vote on decision d1",
    )
    world.leave_partnership("p", "c", "2020-05-15")
    refused(
        world,
        decision("d1", "majority", {"c": "for"}),
        NotAMember,
        "not_a_member",
        "c is not a member of partnership p, so it cannot vote on decision d1",
    )


def test_consensus_needs_every_current_member(world: PartnershipLedger) -> None:
    refused(
        world,
        decision("d1", "consensus", {"a": "for", "b": "for"}),
        DecisionError,
        "decision_invalid",
        "decision d1 of partnership p is by consensus, so every member must vote: c did not",
    )
    refused(
        world,
        decision("d1", "consensus", {"a": "for"}),
        DecisionError,
        "decision_invalid",
        "decision d1 of partnership p is by consensus, so every member must vote: b, c did not",
    )
    world.record(decision("d1", "consensus", {"a": "for", "b": "for", "c": "for"}))
    assert adopted(world, "d1")
    # One against rejects: the decision is recorded, as not adopted.
    world.record(decision("d2", "consensus", {"a": "for", "b": "for", "c": "against"}))
    assert not adopted(world, "d2")
    world.record(decision("d3", "consensus", {"a": "for", "b": "abstain", "c": "abstain"}))
    assert adopted(world, "d3")
    world.record(decision("d4", "consensus", {"a": "abstain", "b": "abstain", "c": "abstain"}))
    assert not adopted(world, "d4")
    # After c leaves, consensus is among a and b.
    world.leave_partnership("p", "c", "2020-06-02")
    world.record(decision("d5", "consensus", {"a": "for", "b": "for"}, on="2020-06-03"))
    assert adopted(world, "d5")
    votes = {d["key"]: d["votes"] for d in world.show("p")["decisions"]}
    assert votes["d2"] == {"a": "for", "b": "for", "c": "against"}


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
def test_majority_adopts_with_more_for_than_against(
    world: PartnershipLedger, votes: dict[str, str], expected: bool
) -> None:
    world.record(decision("d1", "majority", votes))
    assert adopted(world, "d1") is expected


def test_decision_keys_votes_and_dates(world: PartnershipLedger) -> None:
    refused(
        world,
        decision("d1", "majority", {}),
        DecisionError,
        "decision_invalid",
        "decision d1 of partnership p has no votes",
    )
    refused(
        world,
        decision("d1", "majority", {"a": "for"}, on="2020-03-01"),
        DateOrderError,
        "date_out_of_order",
        "decision d1 on 2020-03-01 is before partnership p was proposed (2020-04-01)",
    )
    world.record(decision("d1", "majority", {"a": "for"}))
    refused(
        world,
        decision("d1", "majority", {"b": "for"}),
        DecisionError,
        "decision_invalid",
        "partnership p already has a decision d1",
    )


# -- agreements ----------------------------------------------------------------------------


def draft(key: str = "g", parties: list[str] | None = None, **terms: Any) -> Raw:
    return {
        "op": "draft_agreement",
        "key": key,
        "partnership": "p",
        "title": "Agreement",
        "parties": parties or ["a", "b"],
        "start": "2020-04-01",
        "end": "2023-03-31",
        **terms,
    }


def test_agreement_parties_must_be_members(world: PartnershipLedger) -> None:
    refused(
        world,
        draft(parties=["a", "d"]),
        NotAMember,
        "not_a_member",
        "d is not a member of partnership p, so it cannot be a party to agreement g",
    )
    refused(world, draft(parties=["a", "zz"]), UnknownKey, "unknown_key", "there is no party zz")


@pytest.mark.parametrize(
    ("terms", "message"),
    [
        ({"shares": {"a": "0.5", "b": "0.4"}}, "agreement g has shares summing to 0.9, not 1"),
        (
            {"shares": {"a": "0.5", "b": "0.5000000001"}},
            "agreement g has shares summing to 1.0000000001, not 1",
        ),
        ({"shares": {"a": "0.5", "c": "0.5"}}, "agreement g gives shares to c, not parties to it"),
        (
            {"annual_caps": {"c": jpy(5)}},
            "agreement g sets annual caps for c, not parties to it",
        ),
        (
            {"annual_caps": {"a": jpy(5), "b": usd(5)}},
            "agreement g sets annual caps in more than one currency",
        ),
        ({"end": "2020-03-31"}, "agreement g ends (2020-03-31) before it starts (2020-04-01)"),
    ],
)
def test_agreement_terms_are_checked(world: PartnershipLedger, terms: dict[str, Any], message: str) -> None:
    refused(world, draft(**terms), AgreementError, "agreement_invalid", message)


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


def test_in_force_only_when_every_party_has_signed(world: PartnershipLedger) -> None:
    world.record(draft(parties=["a", "b", "c"]))
    assert world.show("g")["status"] == "awaiting_signatures"
    refused(
        world,
        pledge("c1", agreement="g"),
        NotInForce,
        "agreement_not_in_force",
        "agreement g is not in force: a, b, c have not signed",
    )
    world.sign_agreement("g", "a", "2020-04-10")
    world.sign_agreement("g", "c", "2020-04-11")
    refused(
        world,
        pledge("c1", agreement="g"),
        NotInForce,
        "agreement_not_in_force",
        "agreement g is not in force: b has not signed",
    )
    assert world.show("g")["unsigned"] == ["b"]
    world.sign_agreement("g", "b", "2020-04-12")
    view = world.show("g")
    assert view["status"] == "in_force"
    assert view["unsigned"] == []
    assert sorted(view["signatures"]) == ["a", "b", "c"]
    world.record(pledge("c1", agreement="g"))
    assert world.show("c1")["agreement"] == "g"


def test_signing_is_for_parties_and_only_once(world: PartnershipLedger) -> None:
    world.record(draft())
    sign: Raw = {"op": "sign_agreement", "agreement": "g", "party": "c", "on": "2020-04-10"}
    refused(
        world,
        sign,
        AgreementError,
        "agreement_invalid",
        "c is not a party to agreement g, so it cannot sign it",
    )
    world.sign_agreement("g", "a", "2020-04-10")
    refused(
        world,
        {**sign, "party": "a", "on": "2020-04-11"},
        AgreementError,
        "agreement_invalid",
        "a already signed agreement g on 2020-04-10",
    )


def amend(amendment: str, changes: dict[str, Any], by: str = "a", on: str = "2020-07-01") -> Raw:
    return {
        "op": "amend_agreement",
        "agreement": "g",
        "amendment": amendment,
        "changes": changes,
        "proposed_by": by,
        "on": on,
    }


def consent(amendment: str, party: str, on: str = "2020-07-02") -> Raw:
    return {
        "op": "consent_amendment",
        "agreement": "g",
        "amendment": amendment,
        "party": party,
        "on": on,
    }


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
    refused(
        world,
        pledge("c1", amount=1500, agreement="g"),
        AnnualCapExceeded,
        "annual_cap_exceeded",
        "contribution c1 would take b to 1500 JPY in fiscal year 2020, past its annual cap of "
        "1000 JPY under agreement g",
    )
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


def test_amendment_rules(world: PartnershipLedger) -> None:
    agreement(world)
    refused(
        world,
        amend("m1", {"title": "X"}, by="c"),
        AgreementError,
        "agreement_invalid",
        "c is not a party to agreement g, so it cannot propose amendment m1",
    )
    refused(
        world,
        amend("m1", {"shares": {"a": "0.5"}}),
        AgreementError,
        "agreement_invalid",
        "agreement g as amended by m1 has shares summing to 0.5, not 1",
    )
    world.record(amend("m1", {"max_years": 1}))
    refused(
        world,
        amend("m1", {"title": "X"}),
        AgreementError,
        "agreement_invalid",
        "agreement g already has an amendment m1",
    )
    refused(
        world,
        consent("m9", "a"),
        AgreementError,
        "agreement_invalid",
        "agreement g has no amendment m9",
    )
    refused(
        world,
        consent("m1", "c"),
        AgreementError,
        "agreement_invalid",
        "c is not a party to agreement g, so it cannot consent to amendment m1",
    )
    refused(
        world,
        consent("m1", "a", on="2020-06-30"),
        DateOrderError,
        "date_out_of_order",
        "a cannot consent to amendment m1 on 2020-06-30, before it was proposed (2020-07-01)",
    )
    world.record(consent("m1", "a"))
    refused(
        world,
        consent("m1", "a"),
        AgreementError,
        "agreement_invalid",
        "a already consented to amendment m1 of agreement g",
    )
    assert world.show("g")["terms"]["max_years"] is None


def test_amendment_caps_in_another_currency_than_the_partnership(
    world: PartnershipLedger,
) -> None:
    agreement(world, annual_caps={"b": jpy(1000)})
    refused(
        world,
        amend("m1", {"annual_caps": {"b": usd(5)}}),
        CurrencyMismatch,
        "currency_mismatch",
        "an annual cap of amendment m1 is in USD, but partnership p keeps its accounts in JPY",
    )


def test_terminated_is_final(world: PartnershipLedger) -> None:
    world.record(draft(parties=["a", "b", "c"]))
    world.sign_agreement("g", "a", "2020-04-10")
    world.record(amend("m1", {"title": "X"}))
    world.terminate_agreement("g", "ended early", "2020-08-01")
    view = world.show("g")
    assert view["status"] == "terminated"
    assert (str(view["terminated_on"]), view["termination_reason"]) == ("2020-08-01", "ended early")
    message = "agreement g was terminated on 2020-08-01: it cannot change"
    for raw in [
        {"op": "sign_agreement", "agreement": "g", "party": "b", "on": "2020-08-02"},
        amend("m2", {"title": "Y"}, on="2020-08-02"),
        consent("m1", "a", on="2020-08-02"),
        {"op": "terminate_agreement", "agreement": "g", "reason": "again", "on": "2020-08-03"},
        pledge("c1", agreement="g"),
    ]:
        refused(world, raw, AgreementTerminated, "agreement_terminated", message)


def test_a_terminated_agreement_takes_no_pledges_even_when_signed(
    world: PartnershipLedger,
) -> None:
    agreement(world)
    world.terminate_agreement("g", "done", "2021-03-31")
    refused(
        world,
        pledge("c1", agreement="g"),
        AgreementTerminated,
        "agreement_terminated",
        "agreement g was terminated on 2021-03-31: it cannot change",
    )


# -- contributions under an agreement: caps, years, fiscal years -----------------------------


def test_annual_cap_exactly_reached_is_fine_one_yen_over_is_not(
    world: PartnershipLedger,
) -> None:
    agreement(world, annual_caps={"b": jpy(1_000_000)})
    world.record(pledge("c1", amount=600_000, agreement="g"))
    refused(
        world,
        pledge("c2", amount=400_001, agreement="g"),
        AnnualCapExceeded,
        "annual_cap_exceeded",
        "contribution c2 would take b to 1000001 JPY in fiscal year 2020, past its annual cap "
        "of 1000000 JPY under agreement g",
    )
    world.record(pledge("c2", amount=400_000, agreement="g"))
    # The cap is per fiscal year: the next year starts from zero.
    world.record(pledge("c3", amount=1_000_000, agreement="g", fiscal_year=2021))
    # Other parties have no cap; contributions outside the agreement do not count.
    world.record(pledge("c4", party="a", amount=5_000_000, agreement="g"))
    world.record(pledge("c5", amount=5_000_000))
    refused(
        world,
        pledge("c6", amount="0.01", agreement="g"),
        AnnualCapExceeded,
        "annual_cap_exceeded",
        "contribution c6 would take b to 1000000.01 JPY in fiscal year 2020, past its annual "
        "cap of 1000000 JPY under agreement g",
    )


def test_deliveries_and_corrections_cannot_push_past_the_cap(world: PartnershipLedger) -> None:
    agreement(world, annual_caps={"b": jpy(1000)})
    world.record(pledge("c1", amount=800, agreement="g"))
    world.record(pledge("c2", amount=100, agreement="g"))
    deliver: Raw = {"op": "deliver", "contribution": "c1", "value": jpy(901), "on": "2020-06-01"}
    refused(
        world,
        deliver,
        AnnualCapExceeded,
        "annual_cap_exceeded",
        "contribution c1 would take b to 1001 JPY in fiscal year 2020, past its annual cap of "
        "1000 JPY under agreement g",
    )
    world.record({**deliver, "value": jpy(900)})  # delivered 900 > pledged 800: counts 900
    assert world.show("c1")["delivered"]["amount"] == 900
    correct: Raw = {
        "op": "correct_contribution",
        "contribution": "c1",
        "delta": jpy(1),
        "reason": "typo",
        "on": "2020-06-02",
    }
    refused(
        world,
        correct,
        AnnualCapExceeded,
        "annual_cap_exceeded",
        "contribution c1 would take b to 1001 JPY in fiscal year 2020, past its annual cap of "
        "1000 JPY under agreement g",
    )
    world.record({**correct, "delta": jpy(-300)})  # delivered 600 < pledged 800: counts 800
    refused(
        world,
        pledge("c3", amount=101, agreement="g"),
        AnnualCapExceeded,
        "annual_cap_exceeded",
        "contribution c3 would take b to 1001 JPY in fiscal year 2020, past its annual cap of "
        "1000 JPY under agreement g",
    )


def test_withdrawing_a_pledge_frees_its_room_under_the_cap(world: PartnershipLedger) -> None:
    agreement(world, annual_caps={"b": jpy(1000)})
    world.record(pledge("c1", amount=1000, agreement="g"))
    world.deliver("c1", jpy(300), "2020-06-01")
    world.withdraw_pledge("c1", "budget cut", "2020-07-01")
    view = world.show("c1")
    assert view["withdrawn"]["amount"] == 700
    assert view["delivered"]["amount"] == 300
    world.record(pledge("c2", amount=700, agreement="g"))
    refused(
        world,
        pledge("c3", amount=1, agreement="g"),
        AnnualCapExceeded,
        "annual_cap_exceeded",
        "contribution c3 would take b to 1001 JPY in fiscal year 2020, past its annual cap of "
        "1000 JPY under agreement g",
    )


def test_max_years_counts_fiscal_years_from_the_first(world: PartnershipLedger) -> None:
    agreement(world, max_years=2)
    world.record(pledge("c1", agreement="g", fiscal_year=2020))
    world.record(pledge("c2", agreement="g", fiscal_year=2021))
    refused(
        world,
        pledge("c3", agreement="g", fiscal_year=2022),
        MaxYearsExceeded,
        "max_years_exceeded",
        "contribution c3 is for fiscal year 2022, beyond agreement g's limit of 2 years from fiscal year 2020",
    )
    agreement(world, "g1", max_years=1)
    refused(
        world,
        pledge("c3", agreement="g1", fiscal_year=2021),
        MaxYearsExceeded,
        "max_years_exceeded",
        "contribution c3 is for fiscal year 2021, beyond agreement g1's limit of 1 year from fiscal year 2020",
    )


def test_fiscal_year_outside_the_term_is_refused(world: PartnershipLedger) -> None:
    agreement(world)  # 2020-04-01 .. 2023-03-31: fiscal years 2020, 2021, 2022
    for year in (2020, 2022):
        world.record(pledge(f"c{year}", agreement="g", fiscal_year=year))
    for year in (2019, 2023):
        refused(
            world,
            pledge("cx", agreement="g", fiscal_year=year),
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
    world: PartnershipLedger, fiscal_year_start: int, allowed: list[int], outside: list[int]
) -> None:
    agreement(world, start="2020-02-01", end="2021-01-31", fiscal_year_start=fiscal_year_start)
    assert world.show("g")["terms"]["fiscal_year_start"] == fiscal_year_start
    for year in allowed:
        world.record(pledge(f"ok{year}", agreement="g", fiscal_year=year))
    for year in outside:
        refused(
            world,
            pledge("no", agreement="g", fiscal_year=year),
            AgreementError,
            "agreement_invalid",
            f"contribution no is for fiscal year {year}, outside agreement g's term (2020-02-01 to 2021-01-31)",
        )


def test_max_years_follows_the_fiscal_year_start(world: PartnershipLedger) -> None:
    # Starting in January with April years, the first fiscal year is the previous one.
    agreement(world, start="2021-01-15", end="2023-12-31", max_years=2)
    world.record(pledge("c1", agreement="g", fiscal_year=2020))
    world.record(pledge("c2", agreement="g", fiscal_year=2021))
    refused(
        world,
        pledge("c3", agreement="g", fiscal_year=2022),
        MaxYearsExceeded,
        "max_years_exceeded",
        "contribution c3 is for fiscal year 2022, beyond agreement g's limit of 2 years from fiscal year 2020",
    )


def test_only_a_party_of_the_agreement_contributes_under_it(world: PartnershipLedger) -> None:
    agreement(world)
    refused(
        world,
        pledge("c1", party="c", agreement="g"),
        AgreementError,
        "agreement_invalid",
        "c is not a party to agreement g, so it cannot contribute under it (c1)",
    )
    refused(
        world,
        pledge("c1", party="d", agreement="g"),
        NotAMember,
        "not_a_member",
        "d is not a member of partnership p, so it cannot pledge contribution c1",
    )


def test_the_agreement_must_belong_to_the_partnership(world: PartnershipLedger) -> None:
    agreement(world)
    world.record(propose("q", "a", ["a", "b"]))
    refused(
        world,
        {**pledge("c1", agreement="g"), "partnership": "q"},
        ContributionError,
        "contribution_invalid",
        "agreement g belongs to partnership p, not q",
    )


def test_a_pledge_in_another_currency_than_the_cap(world: PartnershipLedger) -> None:
    agreement(world, annual_caps={"b": jpy(1000)})
    refused(
        world,
        {**pledge("c1", agreement="g"), "value": usd(5)},
        AgreementError,
        "agreement_invalid",
        "contribution c1 is in USD, but agreement g caps b in JPY",
    )


# -- contributions -------------------------------------------------------------------------


def test_delivered_never_goes_below_zero(world: PartnershipLedger) -> None:
    world.record(pledge("c1", amount=1000))
    world.deliver("c1", jpy(500), "2020-06-01")
    correct: Raw = {
        "op": "correct_contribution",
        "contribution": "c1",
        "delta": jpy(-501),
        "reason": "overstated",
        "on": "2020-06-02",
    }
    refused(
        world,
        correct,
        NegativeDelivered,
        "delivered_below_zero",
        "correction of contribution c1 by -501 JPY would take its delivered total below zero (-1)",
    )
    world.record({**correct, "delta": jpy(-500)})
    assert world.show("c1")["delivered"] == {"amount": Decimal(0), "currency": "JPY"}
    refused(
        world,
        {**correct, "delta": jpy("-0.01")},
        NegativeDelivered,
        "delivered_below_zero",
        "correction of contribution c1 by -0.01 JPY would take its delivered total below zero (-0.01)",
    )


def test_a_withdrawn_pledge_takes_no_deliveries(world: PartnershipLedger) -> None:
    world.record(pledge("c1", amount=1000))
    world.withdraw_pledge("c1", "cancelled", "2020-09-01")
    deliver: Raw = {"op": "deliver", "contribution": "c1", "value": jpy(1), "on": "2020-09-02"}
    refused(
        world,
        deliver,
        ContributionError,
        "contribution_invalid",
        "contribution c1 was withdrawn on 2020-09-01: it takes no deliveries",
    )
    withdraw: Raw = {
        "op": "withdraw_pledge",
        "contribution": "c1",
        "reason": "again",
        "on": "2020-09-03",
    }
    refused(
        world,
        withdraw,
        ContributionError,
        "contribution_invalid",
        "contribution c1 was already withdrawn on 2020-09-01",
    )
    view = world.show("c1")
    assert (view["withdrawn"]["amount"], view["delivered"]["amount"]) == (1000, 0)


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
        {"op": "deliver", "contribution": "c1", "value": jpy(1), "on": "2020-09-02"},
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
        {"op": "deliver", "contribution": "c1", "value": usd(1), "on": "2020-06-01"},
        CurrencyMismatch,
        "currency_mismatch",
        "delivery to contribution c1 is in USD, but contribution c1 is in JPY",
    )
    refused(
        world,
        {
            "op": "correct_contribution",
            "contribution": "c1",
            "delta": usd(1),
            "reason": "r",
            "on": "2020-06-01",
        },
        CurrencyMismatch,
        "currency_mismatch",
        "correction of contribution c1 is in USD, but contribution c1 is in JPY",
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


def test_an_instrument_is_for_money_only(world: PartnershipLedger) -> None:
    raw = {**pledge("c1", instrument="subsidy"), "kind": "staff_time"}
    refused(
        world,
        raw,
        ContributionError,
        "contribution_invalid",
        "contribution c1 is staff_time: a funding instrument applies to money only",
    )
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
        {"op": "deliver", "contribution": "c1", "value": jpy(-5), "on": "2020-06-01"},
        "value",
        "amount must be more than zero, not -5",
    )
    invalid_field(
        world,
        {
            "op": "correct_contribution",
            "contribution": "c1",
            "delta": jpy(0),
            "reason": "r",
            "on": "2020-06-01",
        },
        "delta",
        "amount must not be zero",
    )


# -- evaluations ---------------------------------------------------------------------------


def submission(evaluator: str, role: str, scores: dict[str, Any], **more: Any) -> Raw:
    return {
        "op": "submit_evaluation",
        "evaluation": "e",
        "evaluator": evaluator,
        "role": role,
        "scores": scores,
        "on": "2020-12-01",
        **more,
    }


def test_evaluation_submissions(world: PartnershipLedger) -> None:
    world.open_evaluation("e", "p", "2020", criteria=["overall", "trust"], scale_max=5)
    world.record(submission("a", "party", {"overall": 5}, party="a"))
    # One submission per evaluator, and one per party whoever submits for it.
    refused(
        world,
        submission("a", "party", {"overall": 4}, party="a"),
        EvaluationError,
        "evaluation_invalid",
        "party a has already submitted to evaluation e",
    )
    refused(
        world,
        submission("a-staff", "party", {"overall": 4}, party="a"),
        EvaluationError,
        "evaluation_invalid",
        "party a has already submitted to evaluation e",
    )
    world.record(submission("x-9", "external", {"overall": 2}))
    refused(
        world,
        submission("x-9", "external", {"overall": 4}),
        EvaluationError,
        "evaluation_invalid",
        "x-9 has already submitted to evaluation e",
    )
    refused(
        world,
        submission("r-1", "resident", {"overall": 6}),
        EvaluationError,
        "evaluation_invalid",
        "score 6 for 'overall' in evaluation e is outside 1..5",
    )
    refused(
        world,
        submission("r-1", "resident", {"trust": 0}),
        EvaluationError,
        "evaluation_invalid",
        "score 0 for 'trust' in evaluation e is outside 1..5",
    )
    refused(
        world,
        submission("r-1", "resident", {"speed": 3}),
        EvaluationError,
        "evaluation_invalid",
        "evaluation e has no criterion 'speed' (its criteria: overall, trust)",
    )
    refused(
        world,
        submission("r-1", "resident", {}),
        EvaluationError,
        "evaluation_invalid",
        "the submission of r-1 to evaluation e has no scores",
    )
    world.record(submission("r-1", "resident", {"overall": 1, "trust": 5}))
    world.record(submission("x-1", "external", {"trust": 3}))
    world.close_evaluation("e", "2020-12-31")
    refused(
        world,
        submission("r-2", "resident", {"overall": 3}),
        EvaluationClosed,
        "evaluation_closed",
        "evaluation e was closed on 2020-12-31",
    )
    refused(
        world,
        {"op": "close_evaluation", "evaluation": "e", "on": "2021-01-01"},
        EvaluationClosed,
        "evaluation_closed",
        "evaluation e was closed on 2020-12-31",
    )
    view = world.show("e")
    assert view["status"] == "closed"
    assert [s["evaluator"] for s in view["submissions"]] == ["a", "x-9", "r-1", "x-1"]


def test_evaluator_roles(world: PartnershipLedger) -> None:
    world.open_evaluation("e", "p", "2020")
    assert world.show("e")["criteria"] == ["overall"]
    assert world.show("e")["resident_weight"] == Decimal("0.5")
    refused(
        world,
        submission("a", "party", {"overall": 3}),
        EvaluationError,
        "evaluation_invalid",
        "a submits to evaluation e as a party, so it must name the party",
    )
    refused(
        world,
        submission("d", "party", {"overall": 3}, party="d"),
        NotAMember,
        "not_a_member",
        "d is not a member of partnership p, so it cannot evaluate as a party in evaluation e",
    )
    refused(
        world,
        submission("r-1", "resident", {"overall": 3}, party="a"),
        EvaluationError,
        "evaluation_invalid",
        "resident r-1 in evaluation e cannot name a party: residents speak for themselves",
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


def test_an_evaluation_closes_after_its_last_submission(world: PartnershipLedger) -> None:
    world.open_evaluation("e", "p", "2020")
    world.record(submission("r-1", "resident", {"overall": 3}, on="2020-12-15"))
    refused(
        world,
        {"op": "close_evaluation", "evaluation": "e", "on": "2020-12-14"},
        DateOrderError,
        "date_out_of_order",
        "evaluation e cannot close on 2020-12-14, before its last submission (2020-12-15)",
    )
    world.close_evaluation("e", "2020-12-15")


# -- targets -------------------------------------------------------------------------------


def target(targets: list[tuple[str, int]], baseline: str = "2020") -> Raw:
    return {
        "op": "define_target",
        "key": "t",
        "partnership": "p",
        "indicator": "performances",
        "unit": "shows",
        "direction": "increase",
        "baseline": {"period": baseline, "value": 10},
        "targets": [{"period": p, "value": v} for p, v in targets],
    }


def test_target_periods_come_after_the_baseline_and_once_each(world: PartnershipLedger) -> None:
    refused(
        world,
        target([("2019", 1), ("2020", 2), ("2021", 3)]),
        TargetError,
        "target_invalid",
        "target t sets a target for 2019, 2020, not after its baseline 2020",
    )
    refused(
        world,
        target([("2021", 1), ("2022", 2), ("2022", 3)]),
        TargetError,
        "target_invalid",
        "target t names period 2022 more than once",
    )
    world.record(target([("2022", 30), ("2021", 20)]))
    assert [t["period"] for t in world.show("t")["targets"]] == ["2021", "2022"]


def test_measurements_and_revisions(world: PartnershipLedger) -> None:
    world.record(target([("2021", 20), ("2022", 30)]))
    measure: Raw = {
        "op": "record_measurement",
        "target": "t",
        "period": "2020",
        "value": 12,
        "source": "count",
        "on": "2021-04-01",
    }
    refused(
        world,
        measure,
        TargetError,
        "target_invalid",
        "target t measures periods after its baseline 2020, not 2020",
    )
    world.record({**measure, "period": "2021"})
    world.record({**measure, "period": "2021", "value": "14.5", "source": "recount"})
    revise: Raw = {
        "op": "revise_target",
        "target": "t",
        "targets": [{"period": "2019", "value": 1}],
        "reason": "merger",
        "on": "2021-05-01",
    }
    refused(
        world,
        revise,
        TargetError,
        "target_invalid",
        "the revision of target t sets a target for 2019, not after its baseline 2020",
    )
    refused(
        world,
        {**revise, "targets": [{"period": "2023", "value": 1}] * 2},
        TargetError,
        "target_invalid",
        "the revision of target t names period 2023 more than once",
    )
    world.record({**revise, "targets": [{"period": "2022", "value": 25}]})
    view = world.show("t")
    assert view["targets"] == [{"period": "2022", "value": Decimal(25)}]
    assert [r["reason"] for r in view["revisions"]] == ["merger"]
    assert [(m["period"], m["value"]) for m in view["measurements"]] == [
        ("2021", Decimal(12)),
        ("2021", Decimal("14.5")),
    ]


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
