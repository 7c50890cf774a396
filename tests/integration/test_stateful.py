"""A stateful test: random valid and invalid commands against a plain-Python model.

The model below knows the rules independently of the library (members, signatures, caps,
delivered totals, ...). For each command it works out which rules, if any, the command
breaks; the ledger must then refuse it for one of those rules and change nothing, or
accept it and end in the state the model predicts. Now and then the SQLite ledger is
closed and opened again, and everything is compared.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.errors import DomainError, JournalError

PARTIES = ("pa", "pb", "pc", "pd")
PARTNERSHIPS = ("s1", "s2", "s3")
AGREEMENTS = ("g1", "g2", "g3")
CONTRIBUTIONS = ("c1", "c2", "c3", "c4", "c5", "c6")
TARGETS = ("t1", "t2")
EVALUATIONS = ("e1", "e2")
ALL_KEYS = PARTIES + PARTNERSHIPS + AGREEMENTS + CONTRIBUTIONS + TARGETS + EVALUATIONS + ("zz",)


POOLS = {
    "party": PARTIES,
    "partnership": PARTNERSHIPS,
    "agreement": AGREEMENTS,
    "contribution": CONTRIBUTIONS,
    "target": TARGETS,
    "evaluation": EVALUATIONS,
}


def keys_of(kind: str) -> st.SearchStrategy[str]:
    """Mostly the key of an existing thing of ``kind``, sometimes any key at all."""
    return st.runner().flatmap(lambda machine: machine.keys_strategy(kind, new=False))


def new_keys_of(kind: str) -> st.SearchStrategy[str]:
    """Mostly a key of ``kind`` not used yet, sometimes any key at all."""
    return st.runner().flatmap(lambda machine: machine.keys_strategy(kind, new=True))


amounts = st.integers(1, 30).map(lambda n: Decimal(n * 100))
currencies = st.sampled_from(("JPY",) * 9 + ("USD",))
# (start, end) of an agreement; with fiscal years starting in January, April or October.
TERMS = (("2020-04-01", "2023-03-31"), ("2020-01-15", "2021-12-31"), ("2021-10-01", "2022-09-30"))


def fiscal_year_of(day: date, start_month: int) -> int:
    return day.year if day.month >= start_month else day.year - 1


# -- the model -----------------------------------------------------------------------------


@dataclass
class MPartnership:
    spells: list[list[Any]]  # [party, still a member]
    parent: str | None
    phase: str = "preparing"
    currency: str | None = None
    decisions: dict[str, bool] = field(default_factory=dict)

    @property
    def members(self) -> list[str]:
        return [party for party, current in self.spells if current]


@dataclass
class MAgreement:
    partnership: str
    parties: list[str]
    first_year: int
    last_year: int
    caps: dict[str, tuple[Decimal, str]]
    max_years: int | None
    title: str = "Agreement"
    signed: set[str] = field(default_factory=set)
    terminated: bool = False
    amendments: dict[str, dict[str, Any]] = field(default_factory=dict)
    caps_amended: bool = False


@dataclass
class MContribution:
    partnership: str
    party: str
    agreement: str | None
    fiscal_year: int
    pledged: Decimal
    currency: str
    delivered: Decimal = Decimal(0)
    withdrawn: bool = False
    withdrawn_amount: Decimal = Decimal(0)
    deliveries: dict[str, Decimal] = field(default_factory=dict)  # op id -> amount (not voided)
    voided: set[str] = field(default_factory=set)

    @property
    def counted(self) -> Decimal:
        return max(self.pledged - self.withdrawn_amount, self.delivered)


@dataclass
class MTarget:
    partnership: str
    baseline: str
    targets: list[tuple[str, Decimal]]
    measurements: int = 0


@dataclass
class MEvaluation:
    partnership: str
    criteria: list[str]
    scale_max: int
    evaluators: list[str] = field(default_factory=list)
    parties: set[str] = field(default_factory=set)
    closed: bool = False


@dataclass
class Model:
    kinds: dict[str, str] = field(default_factory=dict)  # key -> kind
    parties: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (name, sector)
    partnerships: dict[str, MPartnership] = field(default_factory=dict)
    agreements: dict[str, MAgreement] = field(default_factory=dict)
    contributions: dict[str, MContribution] = field(default_factory=dict)
    targets: dict[str, MTarget] = field(default_factory=dict)
    evaluations: dict[str, MEvaluation] = field(default_factory=dict)

    def is_(self, key: str | None, kind: str, broken: set[str]) -> bool:
        if key is None or self.kinds.get(key) != kind:
            broken.add("unknown_key")
            return False
        return True

    def new(self, key: str, broken: set[str]) -> None:
        if key in self.kinds:
            broken.add("duplicate_key")

    def open_partnership(self, key: str, broken: set[str]) -> MPartnership | None:
        if not self.is_(key, "partnership", broken):
            return None
        p = self.partnerships[key]
        if p.phase == "concluded":
            broken.add("partnership_concluded")
        return p

    def counted(self, agreement: str, party: str, fiscal_year: int, excluding: str = "") -> Decimal:
        return sum(
            (
                c.counted
                for k, c in self.contributions.items()
                if c.agreement == agreement and c.party == party and c.fiscal_year == fiscal_year and k != excluding
            ),
            Decimal(0),
        )

    def check_cap(self, a: MAgreement, key: str, party: str, fy: int, amount: Decimal, currency: str) -> set[str]:
        cap = a.caps.get(party)
        if cap is None:
            return set()
        if cap[1] != currency:
            return {"agreement_invalid"}
        if self.counted_key(a, key, party, fy) + amount > cap[0]:
            return {"annual_cap_exceeded"}
        return set()

    def counted_key(self, a: MAgreement, key: str, party: str, fy: int) -> Decimal:
        name = next(k for k, v in self.agreements.items() if v is a)
        return self.counted(name, party, fy, excluding=key)


# Now and then a key of another kind, or of nothing ("zz", last: hypothesis likes the ends
# of a list, and an unknown key is the simplest mistake).
ANYTHING = ("pa", "s1", "g1", "c1", "t1", "e1", "zz")

# -- the machine ---------------------------------------------------------------------------


def _scratch() -> str | None:
    # As in conftest.py: on a tmpfs when there is one, since every commit is synced.
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = tempfile.mkdtemp(prefix="stateful-", dir=_scratch())
        self.path = Path(self.folder) / "l.sqlite"
        self.ledger = PartnershipLedger.open(self.path)
        self.model = Model()
        self.day = date(2020, 4, 1)
        self.touched: set[str] = set()
        self.deliveries_made = 0

    @initialize()
    def parties_and_a_partnership(self) -> None:
        """Four parties and an active partnership of three of them, to start from."""
        for key in PARTIES:
            self.register_party(key, "npo")
        self.propose_partnership("s1", ["pa", "pb", "pc"], "pa", None, 0)
        self.change_phase("s1", False, 1)
        # A signed agreement with a cap for pb (2,000 JPY a year, two fiscal years).
        self.draft("g1", "s1", ["pa", "pb"], {1: (20, "JPY")}, None, TERMS[0], 4, 2)
        self.sign("g1", "pa", 0)
        self.sign("g1", "pb", 0)
        # Something to deliver on, measure and evaluate from the first step.
        self.pledge("c1", "s1", "pb", "g1", True, None, Decimal(1000), "JPY", 2020)
        self.pledge("c2", "s1", "pa", None, False, None, Decimal(500), "JPY", 2020)
        self.define_target("t1", "s1", ["2020", "2021"])
        self.open_evaluation("e1", "s1", ["overall", "trust"], 5)
        # Every step of the setup was recorded (the model agreed that it breaks no rule).
        assert set(self.model.kinds) == {"pa", "pb", "pc", "pd", "s1", "g1", "c1", "c2", "t1", "e1"}
        assert self.model.agreements["g1"].signed == {"pa", "pb"}

    def teardown(self) -> None:
        self.ledger.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    # -- helpers -------------------------------------------------------------------------

    def keys_strategy(self, kind: str, *, new: bool) -> st.SearchStrategy[str]:
        existing = sorted(k for k, v in self.model.kinds.items() if v == kind)
        preferred = [k for k in POOLS[kind] if k not in self.model.kinds] if new else existing
        if not preferred:
            return st.sampled_from(ANYTHING)
        return st.sampled_from((*preferred * 20, *ANYTHING))

    def tick(self, days: int) -> str:
        self.day += timedelta(days=days)
        return self.day.isoformat()

    def ops_recorded(self) -> int:
        with sqlite3.connect(self.path) as con:
            return int(con.execute("SELECT COUNT(*) FROM ledger_ops").fetchone()[0])

    def views(self, keys: set[str]) -> dict[str, Any]:
        return {k: self.ledger.show(k) for k in sorted(keys) if k in self.model.kinds}

    def run(self, raw: dict[str, Any], broken: set[str], named: set[str]) -> bool:
        """Record ``raw``. If the model says it breaks rules (``broken``), it must be refused
        for one of them and change nothing; else it must be recorded. Returns whether it was."""
        events = self.ledger.event_count()
        ops = self.ops_recorded()
        before = self.views(named)
        refusal: JournalError | None = None
        try:
            self.ledger.record(raw)
        except JournalError as e:
            refusal = e
        if refusal is not None:
            cause = refusal.__cause__
            kind = cause.kind if isinstance(cause, DomainError) else refusal.problems[0].rule
            assert broken, f"refused, but the model sees no broken rule: {refusal} ({raw})"
            assert kind in broken, f"refused for {kind} ({refusal}), the model expected one of {broken}: {raw}"
            assert self.ledger.event_count() == events
            assert self.ops_recorded() == ops
            assert self.views(named) == before
            return False
        assert not broken, f"recorded, but the model expected it refused for {broken}: {raw}"
        assert self.ops_recorded() == ops + 1
        self.touched |= named
        return True

    def among(self, data: st.DataObject, preferred: list[str], kind: str) -> str:
        """Mostly one of ``preferred`` (when there are any), else a key as ``keys_of``."""
        if preferred:
            return data.draw(st.sampled_from((*preferred * 20, *ANYTHING)), label=kind)
        return data.draw(self.keys_strategy(kind, new=False), label=kind)

    def typical(self, data: st.DataObject) -> bool:
        """Whether to draw the next arguments from what fits (most of the time) or anyhow."""
        return data.draw(st.integers(0, 5), label="typical") != 0

    def members_of(self, partnership: str) -> list[str]:
        found = self.model.partnerships.get(partnership)
        return found.members if found else []

    # -- rules that draw arguments fitting the state -------------------------------------

    @rule(data=st.data(), partnership=keys_of("partnership"), join=st.booleans(), days=st.integers(0, 3))
    def change_membership(self, data: st.DataObject, partnership: str, join: bool, days: int) -> None:
        members = self.members_of(partnership)
        others = [k for k, v in self.model.kinds.items() if v == "party" and k not in members]
        self.membership(partnership, self.among(data, others if join else members, "party"), join, days)

    @rule(
        data=st.data(),
        partnership=keys_of("partnership"),
        key=st.sampled_from(("d1", "d2", "d3", "d4", "d5", "d6")),
        consensus=st.booleans(),
        days=st.integers(0, 3),
    )
    def decide_rule(self, data: st.DataObject, partnership: str, key: str, consensus: bool, days: int) -> None:
        members = self.members_of(partnership)
        proposer = self.among(data, members, "party")
        if members and self.typical(data):
            voters = members if consensus else data.draw(st.lists(st.sampled_from(members), min_size=1, unique=True))
        else:
            voters = data.draw(st.lists(self.keys_strategy("party", new=False), max_size=4, unique=True))
        votes = {v: data.draw(st.sampled_from(("for", "against", "abstain")), label=v) for v in voters}
        self.decide(partnership, key, proposer, consensus, votes, days)

    @rule(
        data=st.data(),
        key=new_keys_of("agreement"),
        partnership=keys_of("partnership"),
        # Caps by position in ``parties`` (3: party pd, who may be a stranger to it).
        caps=st.dictionaries(st.integers(0, 3), st.tuples(st.integers(0, 30), currencies), max_size=2),
        shares_ok=st.one_of(st.none(), st.booleans()),
        terms=st.sampled_from(TERMS),
        fiscal_year_start=st.sampled_from((1, 4, 10)),
        max_years=st.one_of(st.none(), st.integers(1, 3)),
    )
    def draft_rule(
        self,
        data: st.DataObject,
        key: str,
        partnership: str,
        caps: dict[int, tuple[int, str]],
        shares_ok: bool | None,
        terms: tuple[str, str],
        fiscal_year_start: int,
        max_years: int | None,
    ) -> None:
        members = self.members_of(partnership)
        if members and self.typical(data):
            parties = data.draw(st.lists(st.sampled_from(members), min_size=1, max_size=3, unique=True))
        else:
            parties = data.draw(st.lists(self.keys_strategy("party", new=False), min_size=1, max_size=3, unique=True))
        self.draft(key, partnership, parties, caps, shares_ok, terms, fiscal_year_start, max_years)

    @rule(
        data=st.data(),
        key=new_keys_of("contribution"),
        partnership=keys_of("partnership"),
        under_agreement=st.booleans(),
        money=st.booleans(),
        instrument=st.sampled_from((None, None, None, "subsidy")),
        amount=amounts,
        currency=currencies,
        fiscal_year=st.integers(2019, 2023),
    )
    def pledge_rule(
        self,
        data: st.DataObject,
        key: str,
        partnership: str,
        under_agreement: bool,
        money: bool,
        instrument: str | None,
        amount: Decimal,
        currency: str,
        fiscal_year: int,
    ) -> None:
        party = self.among(data, self.members_of(partnership), "party")
        agreement = None
        if under_agreement:
            mine = [k for k, a in self.model.agreements.items() if a.partnership == partnership]
            agreement = self.among(data, mine, "agreement")
        self.pledge(key, partnership, party, agreement, money, instrument, amount, currency, fiscal_year)

    @rule(
        data=st.data(),
        evaluation=keys_of("evaluation"),
        role=st.sampled_from(("party", "resident", "external")),
        scores=st.dictionaries(st.sampled_from(("overall", "trust", "speed")), st.integers(0, 6), max_size=2),
        days=st.integers(0, 3),
    )
    def submit_rule(self, data: st.DataObject, evaluation: str, role: str, scores: dict[str, int], days: int) -> None:
        found = self.model.evaluations.get(evaluation)
        members = self.members_of(found.partnership) if found else []
        party: str | None = None
        if role == "party":
            party = self.among(data, members, "party") if self.typical(data) or not members else None
            evaluator = party or "pa"
        else:
            evaluator = data.draw(st.sampled_from(("r-1", "r-2", "x-1", "x-2", *PARTIES)), label="evaluator")
            if not self.typical(data):
                party = self.among(data, members, "party")
        self.submit(evaluation, evaluator, role, party, scores, days)

    # -- parties and partnerships --------------------------------------------------------

    @rule(key=new_keys_of("party"), sector=st.sampled_from(("npo", "prefecture", "business")))
    def register_party(self, key: str, sector: str) -> None:
        broken: set[str] = set()
        self.model.new(key, broken)
        raw = {"op": "register_party", "key": key, "name": f"Party {key}", "sector": sector}
        if self.run(raw, broken, {key}):
            self.model.kinds[key] = "party"
            self.model.parties[key] = (f"Party {key}", sector)

    @rule(
        key=new_keys_of("partnership"),
        members=st.lists(keys_of("party"), min_size=1, max_size=3, unique=True),
        proposer=keys_of("party"),
        parent=st.one_of(st.none(), keys_of("partnership")),
        days=st.integers(0, 3),
    )
    def propose_partnership(self, key: str, members: list[str], proposer: str, parent: str | None, days: int) -> None:
        m = self.model
        broken: set[str] = set()
        m.new(key, broken)
        for party in {*members, proposer}:
            m.is_(party, "party", broken)
        if proposer not in members:
            broken.add("not_a_member")
        if parent is not None:
            if parent == key:
                broken.add("partnership_cycle")
            else:
                m.open_partnership(parent, broken)
        raw: dict[str, Any] = {
            "op": "propose_partnership",
            "key": key,
            "title": "T",
            "purpose": "P",
            "proposed_by": proposer,
            "members": members,
            "on": self.tick(days),
        }
        if parent is not None:
            raw["parent"] = parent
        if self.run(raw, broken, {key, *members}):
            m.kinds[key] = "partnership"
            m.partnerships[key] = MPartnership([[x, True] for x in members], parent)

    def membership(self, partnership: str, party: str, join: bool, days: int) -> None:
        if join:
            self.join(partnership, party, days)
        else:
            self.leave(partnership, party, days)

    def join(self, partnership: str, party: str, days: int) -> None:
        broken: set[str] = set()
        p = self.model.open_partnership(partnership, broken)
        known = self.model.is_(party, "party", broken)
        if p is not None and known and party in p.members:
            broken.add("already_a_member")
        raw = {"op": "join_partnership", "partnership": partnership, "party": party, "on": self.tick(days)}
        if self.run(raw, broken, {partnership, party}):
            assert p is not None
            p.spells.append([party, True])

    def leave(self, partnership: str, party: str, days: int) -> None:
        broken: set[str] = set()
        p = self.model.open_partnership(partnership, broken)
        known = self.model.is_(party, "party", broken)
        if p is not None and known and (party not in p.members or len(p.members) == 1):
            broken.add("not_a_member")
        raw = {"op": "leave_partnership", "partnership": partnership, "party": party, "on": self.tick(days)}
        if self.run(raw, broken, {partnership, party}):
            assert p is not None
            for spell in p.spells:
                if spell[0] == party and spell[1]:
                    spell[1] = False

    @rule(partnership=keys_of("partnership"), conclude=st.booleans(), days=st.integers(0, 3))
    def change_phase(self, partnership: str, conclude: bool, days: int) -> None:
        broken: set[str] = set()
        p = None
        if self.model.is_(partnership, "partnership", broken):
            p = self.model.partnerships[partnership]
            if p.phase == "concluded":
                broken.add("partnership_concluded")
            elif p.phase != ("active" if conclude else "preparing"):
                broken.add("invalid_phase")
        op = "conclude_partnership" if conclude else "activate_partnership"
        if self.run({"op": op, "partnership": partnership, "on": self.tick(days)}, broken, {partnership}):
            assert p is not None
            p.phase = "concluded" if conclude else "active"

    def decide(
        self, partnership: str, key: str, proposer: str, consensus: bool, votes: dict[str, str], days: int
    ) -> None:
        m = self.model
        broken: set[str] = set()
        p = m.open_partnership(partnership, broken)
        known = all(m.is_(x, "party", broken) for x in {proposer, *votes})
        if p is not None and known:
            if key in p.decisions:
                broken.add("decision_invalid")
            if any(x not in p.members for x in {proposer, *votes}):
                broken.add("not_a_member")
            if not votes or (consensus and any(x not in votes for x in p.members)):
                broken.add("decision_invalid")
        raw = {
            "op": "record_decision",
            "partnership": partnership,
            "key": key,
            "subject": "S",
            "proposed_by": proposer,
            "rule": "consensus" if consensus else "majority",
            "votes": votes,
            "on": self.tick(days),
        }
        if self.run(raw, broken, {partnership}):
            assert p is not None
            n_for = sum(v == "for" for v in votes.values())
            n_against = sum(v == "against" for v in votes.values())
            p.decisions[key] = n_against == 0 and n_for > 0 if consensus else n_for > n_against

    # -- agreements ----------------------------------------------------------------------

    def draft(
        self,
        key: str,
        partnership: str,
        parties: list[str],
        caps: dict[int, tuple[int, str]],
        shares_ok: bool | None,
        terms: tuple[str, str],
        fiscal_year_start: int,
        max_years: int | None,
    ) -> None:
        m = self.model
        broken: set[str] = set()
        m.new(key, broken)
        p = m.open_partnership(partnership, broken)
        known = all(m.is_(x, "party", broken) for x in parties)
        cap_money = {parties[i] if i < len(parties) else "pd": (Decimal(n * 100), cur) for i, (n, cur) in caps.items()}
        if p is not None and known:
            if any(x not in p.members for x in parties):
                broken.add("not_a_member")
            if shares_ok is False or any(x not in parties for x in cap_money):
                broken.add("agreement_invalid")
            if len({cur for _, cur in cap_money.values()}) > 1:
                broken.add("agreement_invalid")
            elif cap_money and p.currency not in (None, next(iter(cap_money.values()))[1]):
                broken.add("currency_mismatch")
        raw: dict[str, Any] = {
            "op": "draft_agreement",
            "key": key,
            "partnership": partnership,
            "title": "Agreement",
            "parties": parties,
            "start": terms[0],
            "end": terms[1],
            "fiscal_year_start": fiscal_year_start,
        }
        if shares_ok is not None:
            # Exactly 1 split among the parties, or 1/100 short of it.
            shares = {x: Decimal(0) for x in parties}
            shares[parties[0]] = Decimal(1) if shares_ok else Decimal("0.99")
            raw["shares"] = {x: str(v) for x, v in shares.items()}
        if cap_money:
            raw["annual_caps"] = {x: {"amount": str(a), "currency": cur} for x, (a, cur) in cap_money.items()}
        if max_years is not None:
            raw["max_years"] = max_years
        if self.run(raw, broken, {key, partnership}):
            assert p is not None
            m.kinds[key] = "agreement"
            m.agreements[key] = MAgreement(
                partnership,
                list(parties),
                fiscal_year_of(date.fromisoformat(terms[0]), fiscal_year_start),
                fiscal_year_of(date.fromisoformat(terms[1]), fiscal_year_start),
                cap_money,
                max_years,
            )
            if cap_money and p.currency is None:
                p.currency = next(iter(cap_money.values()))[1]

    def agreement_of_open_partnership(self, key: str, broken: set[str]) -> MAgreement | None:
        if not self.model.is_(key, "agreement", broken):
            return None
        a = self.model.agreements[key]
        self.model.open_partnership(a.partnership, broken)
        return a

    @rule(agreement=keys_of("agreement"), party=keys_of("party"), days=st.integers(0, 3))
    def sign(self, agreement: str, party: str, days: int) -> None:
        broken: set[str] = set()
        a = self.agreement_of_open_partnership(agreement, broken)
        known = self.model.is_(party, "party", broken)
        if a is not None and known:
            if a.terminated:
                broken.add("agreement_terminated")
            elif party not in a.parties or party in a.signed:
                broken.add("agreement_invalid")
        raw = {"op": "sign_agreement", "agreement": agreement, "party": party, "on": self.tick(days)}
        if self.run(raw, broken, {agreement, party}):
            assert a is not None
            a.signed.add(party)

    @rule(
        agreement=keys_of("agreement"),
        amendment=st.sampled_from(("m1", "m2")),
        proposer=keys_of("party"),
        change=st.one_of(
            st.tuples(st.just("annual_caps"), st.dictionaries(keys_of("party"), st.integers(0, 40), max_size=2)),
            st.tuples(st.just("max_years"), st.integers(1, 3)),
            st.tuples(st.just("title"), st.sampled_from(("Amended", "New title"))),
        ),
        days=st.integers(0, 3),
    )
    def amend(self, agreement: str, amendment: str, proposer: str, change: tuple[str, Any], days: int) -> None:
        broken: set[str] = set()
        a = self.agreement_of_open_partnership(agreement, broken)
        name, value = change
        if name == "annual_caps":
            value = {x: (Decimal(n * 100), "JPY") for x, n in value.items()}
        if a is not None and "unknown_key" not in broken:
            p = self.model.partnerships[a.partnership]
            if name == "annual_caps" and value and p.currency not in (None, "JPY"):
                broken.add("currency_mismatch")
            if a.terminated:
                broken.add("agreement_terminated")
            elif (
                proposer not in a.parties
                or amendment in a.amendments
                or (name == "annual_caps" and any(x not in a.parties for x in value))
            ):
                broken.add("agreement_invalid")
        json_value = (
            {x: {"amount": str(v[0]), "currency": v[1]} for x, v in value.items()} if name == "annual_caps" else value
        )
        raw = {
            "op": "amend_agreement",
            "agreement": agreement,
            "amendment": amendment,
            "changes": {name: json_value},
            "proposed_by": proposer,
            "on": self.tick(days),
        }
        if self.run(raw, broken, {agreement}):
            assert a is not None
            a.amendments[amendment] = {"change": (name, value), "consents": set(), "effective": False}
            p = self.model.partnerships[a.partnership]
            if name == "annual_caps" and value and p.currency is None:
                p.currency = "JPY"

    @rule(
        agreement=keys_of("agreement"),
        amendment=st.sampled_from(("m1", "m2")),
        party=keys_of("party"),
        days=st.integers(0, 3),
    )
    def consent(self, agreement: str, amendment: str, party: str, days: int) -> None:
        broken: set[str] = set()
        a = self.agreement_of_open_partnership(agreement, broken)
        if a is not None and "unknown_key" not in broken:
            found = a.amendments.get(amendment)
            if a.terminated:
                broken.add("agreement_terminated")
            elif party not in a.parties or found is None or found["effective"] or party in found["consents"]:
                broken.add("agreement_invalid")
        raw = {
            "op": "consent_amendment",
            "agreement": agreement,
            "amendment": amendment,
            "party": party,
            "on": self.tick(days),
        }
        if self.run(raw, broken, {agreement}):
            assert a is not None
            found = a.amendments[amendment]
            found["consents"].add(party)
            if found["consents"] == set(a.parties):
                # Every party consented: only now do the new terms bind.
                found["effective"] = True
                name, value = found["change"]
                if name == "annual_caps":
                    a.caps = dict(value)
                    a.caps_amended = True
                elif name == "max_years":
                    a.max_years = value
                else:
                    a.title = value

    @rule(agreement=keys_of("agreement"), days=st.integers(0, 3))
    def terminate(self, agreement: str, days: int) -> None:
        broken: set[str] = set()
        a = self.agreement_of_open_partnership(agreement, broken)
        if a is not None and a.terminated:
            broken.add("agreement_terminated")
        raw = {"op": "terminate_agreement", "agreement": agreement, "reason": "R", "on": self.tick(days)}
        if self.run(raw, broken, {agreement}):
            assert a is not None
            a.terminated = True

    # -- contributions -------------------------------------------------------------------

    def pledge(
        self,
        key: str,
        partnership: str,
        party: str,
        agreement: str | None,
        money: bool,
        instrument: str | None,
        amount: Decimal,
        currency: str,
        fiscal_year: int,
    ) -> None:
        m = self.model
        broken: set[str] = set()
        m.new(key, broken)
        p = m.open_partnership(partnership, broken)
        known = m.is_(party, "party", broken)
        if p is not None and known:
            if party not in p.members:
                broken.add("not_a_member")
            if instrument is not None and not money:
                broken.add("contribution_invalid")
            if agreement is not None and m.is_(agreement, "agreement", broken):
                a = m.agreements[agreement]
                if a.partnership != partnership:
                    broken.add("contribution_invalid")
                elif a.terminated:
                    broken.add("agreement_terminated")
                elif a.signed != set(a.parties):
                    broken.add("agreement_not_in_force")
                elif party not in a.parties or not a.first_year <= fiscal_year <= a.last_year:
                    broken.add("agreement_invalid")
                elif a.max_years is not None and fiscal_year - a.first_year >= a.max_years:
                    broken.add("max_years_exceeded")
                else:
                    broken |= m.check_cap(a, key, party, fiscal_year, amount, currency)
            if p.currency not in (None, currency):
                broken.add("currency_mismatch")
        raw: dict[str, Any] = {
            "op": "pledge",
            "key": key,
            "partnership": partnership,
            "party": party,
            "kind": "money" if money else "staff_time",
            "value": {"amount": str(amount), "currency": currency},
            "fiscal_year": fiscal_year,
        }
        if agreement is not None:
            raw["agreement"] = agreement
        if instrument is not None:
            raw["instrument"] = instrument
        if self.run(raw, broken, {key, partnership, *([agreement] if agreement else [])}):
            assert p is not None
            m.kinds[key] = "contribution"
            m.contributions[key] = MContribution(partnership, party, agreement, fiscal_year, amount, currency)
            if p.currency is None:
                p.currency = currency

    def contribution(self, key: str, broken: set[str], *, correction: bool = False) -> MContribution | None:
        if not self.model.is_(key, "contribution", broken):
            return None
        c = self.model.contributions[key]
        if not correction:  # a correction is accepted after conclusion
            self.model.open_partnership(c.partnership, broken)
        return c

    def cap_after(self, key: str, c: MContribution, counted_after: Decimal) -> set[str]:
        """The cap rule for ``c`` counting ``counted_after`` (checked only when it grows)."""
        if c.agreement is None or counted_after <= c.counted:
            return set()
        a = self.model.agreements[c.agreement]
        return self.model.check_cap(a, key, c.party, c.fiscal_year, counted_after, c.currency)

    @rule(contribution=keys_of("contribution"), amount=amounts, currency=currencies, days=st.integers(0, 3))
    def deliver(self, contribution: str, amount: Decimal, currency: str, days: int) -> None:
        broken: set[str] = set()
        c = self.contribution(contribution, broken)
        if c is not None and "unknown_key" not in broken:
            if currency != c.currency:
                broken.add("currency_mismatch")
            elif c.withdrawn:
                broken.add("contribution_invalid")
            else:
                broken |= self.cap_after(contribution, c, max(c.pledged - c.withdrawn_amount, c.delivered + amount))
        self.deliveries_made += 1
        op_id = f"delivery-{self.deliveries_made}"
        raw = {
            "op": "deliver",
            "contribution": contribution,
            "value": {"amount": str(amount), "currency": currency},
            "on": self.tick(days),
            "id": op_id,
        }
        named = {contribution, *([c.agreement] if c and c.agreement else [])}
        if self.run(raw, broken, named):
            assert c is not None
            c.delivered += amount
            c.deliveries[op_id] = amount

    @rule(data=st.data(), days=st.integers(0, 3))
    def void_delivery(self, data: st.DataObject, days: int) -> None:
        """Void a delivery (or something else, or nothing): as if it had never been recorded."""
        made = [(k, op) for k, c in self.model.contributions.items() for op in (*c.deliveries, *c.voided)]
        choices = [*(op for _, op in made), "no-such-operation"]
        op_id = data.draw(st.sampled_from(choices), label="operation")
        broken: set[str] = set()
        found = next(((k, self.model.contributions[k]) for k, op in made if op == op_id), None)
        named: set[str] = set()
        if found is None or op_id in found[1].voided:
            broken.add("correction_refused")  # no such operation, or voided already
        else:
            key, c = found
            named = {key, *([c.agreement] if c.agreement else [])}
            if c.withdrawn:
                broken.add("correction_refused")
            elif c.delivered - c.deliveries[op_id] < 0:
                broken.add("delivered_below_zero")
        raw = {"op": "void_operation", "operation": op_id, "reason": "R", "on": self.tick(days)}
        if self.run(raw, broken, named):
            assert found is not None
            c = found[1]
            c.delivered -= c.deliveries.pop(op_id)
            c.voided.add(op_id)

    @rule(
        contribution=keys_of("contribution"),
        amount=amounts,
        negative=st.booleans(),
        currency=currencies,
        days=st.integers(0, 3),
    )
    def correct(self, contribution: str, amount: Decimal, negative: bool, currency: str, days: int) -> None:
        delta = -amount if negative else amount
        broken: set[str] = set()
        c = self.contribution(contribution, broken, correction=True)
        if c is not None and "unknown_key" not in broken:
            if currency != c.currency:
                broken.add("currency_mismatch")
            else:
                broken |= self.cap_after(contribution, c, max(c.pledged - c.withdrawn_amount, c.delivered + delta))
                if c.delivered + delta < 0:
                    broken.add("delivered_below_zero")
        raw = {
            "op": "correct_contribution",
            "contribution": contribution,
            "delta": {"amount": str(delta), "currency": currency},
            "reason": "R",
            "on": self.tick(days),
        }
        named = {contribution, *([c.agreement] if c and c.agreement else [])}
        if self.run(raw, broken, named):
            assert c is not None
            c.delivered += delta

    @rule(contribution=keys_of("contribution"), days=st.integers(0, 3))
    def withdraw(self, contribution: str, days: int) -> None:
        broken: set[str] = set()
        c = self.contribution(contribution, broken)
        if c is not None and c.withdrawn:
            broken.add("contribution_invalid")
        raw = {"op": "withdraw_pledge", "contribution": contribution, "reason": "R", "on": self.tick(days)}
        named = {contribution, *([c.agreement] if c and c.agreement else [])}
        if self.run(raw, broken, named):
            assert c is not None
            c.withdrawn = True
            c.withdrawn_amount = max(c.pledged - c.delivered, Decimal(0))

    # -- targets and evaluations ---------------------------------------------------------

    @rule(
        key=new_keys_of("target"),
        partnership=keys_of("partnership"),
        periods=st.lists(st.sampled_from(("2019", "2020", "2021", "2022")), min_size=1, max_size=3),
    )
    def define_target(self, key: str, partnership: str, periods: list[str]) -> None:
        m = self.model
        broken: set[str] = set()
        m.new(key, broken)
        m.open_partnership(partnership, broken)
        if any(x <= "2019" for x in periods) or len(set(periods)) < len(periods):
            broken.add("target_invalid")
        raw = {
            "op": "define_target",
            "key": key,
            "partnership": partnership,
            "indicator": "I",
            "unit": "U",
            "direction": "increase",
            "baseline": {"period": "2019", "value": 0},
            "targets": [{"period": x, "value": i + 1} for i, x in enumerate(periods)],
        }
        if self.run(raw, broken, {key, partnership}):
            m.kinds[key] = "target"
            m.targets[key] = MTarget(partnership, "2019", sorted((x, Decimal(i + 1)) for i, x in enumerate(periods)))

    @rule(
        target_key=keys_of("target"),
        periods=st.lists(st.sampled_from(("2019", "2020", "2021", "2022")), min_size=1, max_size=3),
        measure=st.booleans(),
        days=st.integers(0, 3),
    )
    def measure_or_revise(self, target_key: str, periods: list[str], measure: bool, days: int) -> None:
        broken: set[str] = set()
        t = None
        if self.model.is_(target_key, "target", broken):
            t = self.model.targets[target_key]
            if measure:  # a revision is a correction: accepted after conclusion
                self.model.open_partnership(t.partnership, broken)
            if measure:
                if periods[0] <= t.baseline:
                    broken.add("target_invalid")
            elif any(x <= t.baseline for x in periods) or len(set(periods)) < len(periods):
                broken.add("target_invalid")
        raw: dict[str, Any]
        if measure:
            raw = {
                "op": "record_measurement",
                "target": target_key,
                "period": periods[0],
                "value": 7,
                "source": "S",
                "on": self.tick(days),
            }
        else:
            raw = {
                "op": "revise_target",
                "target": target_key,
                "targets": [{"period": x, "value": 10 + i} for i, x in enumerate(periods)],
                "reason": "R",
                "on": self.tick(days),
            }
        if self.run(raw, broken, {target_key}):
            assert t is not None
            if measure:
                t.measurements += 1
            else:
                t.targets = sorted((x, Decimal(10 + i)) for i, x in enumerate(periods))

    @rule(
        key=new_keys_of("evaluation"),
        partnership=keys_of("partnership"),
        criteria=st.lists(st.sampled_from(("overall", "trust")), min_size=1, unique=True),
        scale_max=st.integers(2, 5),
    )
    def open_evaluation(self, key: str, partnership: str, criteria: list[str], scale_max: int) -> None:
        broken: set[str] = set()
        self.model.new(key, broken)
        self.model.open_partnership(partnership, broken)
        raw = {
            "op": "open_evaluation",
            "key": key,
            "partnership": partnership,
            "period": "2020",
            "criteria": criteria,
            "scale_max": scale_max,
        }
        if self.run(raw, broken, {key, partnership}):
            self.model.kinds[key] = "evaluation"
            self.model.evaluations[key] = MEvaluation(partnership, criteria, scale_max)

    def submit(
        self,
        evaluation: str,
        evaluator: str,
        role: str,
        party: str | None,
        scores: dict[str, int],
        days: int,
    ) -> None:
        m = self.model
        broken: set[str] = set()
        e = None
        if m.is_(evaluation, "evaluation", broken):
            e = m.evaluations[evaluation]
            p = m.open_partnership(e.partnership, broken)
            assert p is not None
            if role == "party":
                if party is None or party in e.parties:  # no party named, or it spoke already
                    broken.add("evaluation_invalid")
                if party is not None and party not in p.members:
                    broken.add("not_a_member")
            elif role == "resident":
                if party is not None or evaluator in m.kinds:
                    broken.add("evaluation_invalid")
            elif party is not None:
                m.is_(party, "party", broken)
            if e.closed:
                broken.add("evaluation_closed")
            if (
                evaluator in e.evaluators
                or not scores
                or any(c not in e.criteria or not 1 <= s <= e.scale_max for c, s in scores.items())
            ):
                broken.add("evaluation_invalid")
        raw: dict[str, Any] = {
            "op": "submit_evaluation",
            "evaluation": evaluation,
            "evaluator": evaluator,
            "role": role,
            "scores": scores,
            "on": self.tick(days),
        }
        if party is not None:
            raw["party"] = party
        if self.run(raw, broken, {evaluation}):
            assert e is not None
            e.evaluators.append(evaluator)
            if role == "party" and party is not None:
                e.parties.add(party)

    @rule(evaluation=keys_of("evaluation"), days=st.integers(0, 3))
    def close_evaluation(self, evaluation: str, days: int) -> None:
        broken: set[str] = set()
        e = None
        if self.model.is_(evaluation, "evaluation", broken):
            e = self.model.evaluations[evaluation]
            self.model.open_partnership(e.partnership, broken)
            if e.closed:
                broken.add("evaluation_closed")
        raw = {"op": "close_evaluation", "evaluation": evaluation, "on": self.tick(days)}
        if self.run(raw, broken, {evaluation}):
            assert e is not None
            e.closed = True

    # -- malformed operations, reopening, comparing ----------------------------------------

    @rule(
        raw=st.sampled_from(
            (
                {
                    "op": "deliver",
                    "contribution": "c1",
                    "value": {"amount": 1.5, "currency": "JPY"},
                    "on": "2020-05-01",
                },
                {"op": "join_partnership", "partnership": "s1", "party": "pa", "on": "2020-02-30"},
                {"op": "register_party", "key": "pa", "name": "A", "sector": "guild"},
                {"op": "pledge", "key": "c1", "partnership": "s1", "party": "pa"},
            )
        )
    )
    def malformed(self, raw: dict[str, Any]) -> None:
        self.run(raw, {"invalid_field", "missing_field"}, set())

    @rule()
    def reopen(self) -> None:
        self.ledger.close()
        self.ledger = PartnershipLedger.open(self.path, create=False)
        self.touched = set(self.model.kinds)

    @precondition(lambda self: len(self.model.kinds) > 0)
    @rule()
    def compare_everything(self) -> None:
        self.touched = set(self.model.kinds)

    # -- invariants ----------------------------------------------------------------------

    @invariant()
    def the_ledger_holds_what_the_model_expects(self) -> None:
        """What the last step touched (everything, after a reopen) is as the model says; no
        delivered total is negative; no party's contributions under an agreement count past
        its annual cap (unless an amendment changed the caps after they were counted)."""
        views: dict[str, dict[str, Any]] = {}
        for key in sorted(self.touched):
            kind = self.model.kinds.get(key)
            if kind is None:
                assert self.ledger.kind_of(key) is None
                continue
            views[key] = view = self.ledger.show(key)
            assert view["kind"] == kind
            getattr(self, f"compare_{kind}")(key, view)
        agreements = {
            c.agreement for k, c in self.model.contributions.items() if k in self.touched and c.agreement is not None
        }
        self.touched = set()
        counted: dict[tuple[str, str, int], Decimal] = {}
        for key, c in self.model.contributions.items():
            if c.agreement not in agreements:
                continue
            view = views.get(key) or self.ledger.show(key)
            delivered = view["delivered"]["amount"]
            assert delivered >= 0
            net = view["pledged"]["amount"] - view["withdrawn"]["amount"]
            slot = (c.agreement, c.party, c.fiscal_year)
            counted[slot] = counted.get(slot, Decimal(0)) + max(net, delivered)
        for (agreement, party, _), total in counted.items():
            caps = (views.get(agreement) or self.ledger.show(agreement))["terms"]["annual_caps"] or {}
            if party in caps and not self.model.agreements[agreement].caps_amended:
                assert total <= caps[party]["amount"]

    def compare_party(self, key: str, view: dict[str, Any]) -> None:
        assert (view["name"], view["sector"]) == self.model.parties[key]

    def compare_partnership(self, key: str, view: dict[str, Any]) -> None:
        p = self.model.partnerships[key]
        assert view["current_members"] == p.members
        assert [m["party"] for m in view["members"]] == [s[0] for s in p.spells]
        assert (view["phase"], view["parent"], view["currency"]) == (p.phase, p.parent, p.currency)
        assert {d["key"]: d["adopted"] for d in view["decisions"]} == p.decisions

    def compare_agreement(self, key: str, view: dict[str, Any]) -> None:
        a = self.model.agreements[key]
        status = "terminated" if a.terminated else "in_force" if a.signed == set(a.parties) else "awaiting_signatures"
        assert view["status"] == status
        assert (view["parties"], set(view["signatures"]), view["title"]) == (a.parties, a.signed, a.title)
        caps = {k: (v["amount"], v["currency"]) for k, v in (view["terms"]["annual_caps"] or {}).items()}
        assert caps == a.caps
        assert view["terms"]["max_years"] == a.max_years
        assert {x["key"]: x["effective_on"] is not None for x in view["amendments"]} == {
            k: v["effective"] for k, v in a.amendments.items()
        }

    def compare_contribution(self, key: str, view: dict[str, Any]) -> None:
        c = self.model.contributions[key]
        assert (view["party"], view["partnership"], view["agreement"], view["fiscal_year"]) == (
            c.party,
            c.partnership,
            c.agreement,
            c.fiscal_year,
        )
        assert view["pledged"] == {"amount": c.pledged, "currency": c.currency}
        assert view["delivered"] == {"amount": c.delivered, "currency": c.currency}
        assert view["delivered"]["amount"] >= 0
        assert view["withdrawn"]["amount"] == c.withdrawn_amount
        assert (view["withdrawn_on"] is not None) == c.withdrawn
        for amount in (view["pledged"]["amount"], view["delivered"]["amount"], view["withdrawn"]["amount"]):
            assert type(amount) is Decimal

    def compare_target(self, key: str, view: dict[str, Any]) -> None:
        t = self.model.targets[key]
        assert [(x["period"], x["value"]) for x in view["targets"]] == t.targets
        assert len(view["measurements"]) == t.measurements

    def compare_evaluation(self, key: str, view: dict[str, Any]) -> None:
        e = self.model.evaluations[key]
        assert [s["evaluator"] for s in view["submissions"]] == e.evaluators
        assert view["status"] == ("closed" if e.closed else "open")


LedgerMachine.TestCase.settings = settings(stateful_step_count=40)
TestLedgerMachine = LedgerMachine.TestCase
