"""The ledger answers one question several ways; on random ledgers, the ways agree.

- ``show(key, on=D)`` of every partnership, agreement, contribution, party, target and
  evaluation against the lists and indicators on that day: phase and members, values per
  party (delivered, and pledged less withdrawn), the agreement whose shares apply and its
  terms, sectors and capacities, decisions, targets in force, measurements, submissions.
- The read models against an ``as_of`` replay (``as_of`` after everything was recorded),
  with ``on=D`` too, for every indicator and list; and the CLI's quick reader
  (``ReadModelReader``) against the full ledger opened to read only, with every option.
- A ledger's export imported into a fresh ledger gives every answer the same, on every day.

Journals are ``tests/strategies.py``'s, with random voids and party amendments recorded
after them (dated anywhere in the ledger's time), so that corrections land between the days.
"""

from __future__ import annotations

import itertools
import json
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import date, timedelta
from decimal import Context, Decimal, localcontext
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strategies import indicator_journals, valid_journals

from partnership_ledger import snapshots
from partnership_ledger.application import PartnershipLedger
from partnership_ledger.domain.values import EXACT, exact_sum
from partnership_ledger.errors import LedgerError
from partnership_ledger.indicators.exact import div
from partnership_ledger.projections.queries import q6
from partnership_ledger.queries.contributions import contributions
from partnership_ledger.queries.indicators import ReadModelReader

NewLedger = Callable[[], AbstractContextManager[PartnershipLedger]]
Op = dict[str, Any]
# A few seconds each by default; the ci profile (200 examples) gives each 40.
SETTINGS = settings(
    max_examples=max(12, settings.default.max_examples // 5),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
VOIDABLE = ("record_decision", "record_measurement", "submit_evaluation", "deliver", "join_partnership")
FAR = "2999-01-01"  # an as_of after everything: a replay of every event
KINDS = ("party", "partnership", "agreement", "contribution", "target", "evaluation")


# ----------------------------------------------------------------------------- journals


def long_amounts() -> st.SearchStrategy[Decimal]:
    """Amounts of 29 or 30 digits, up to 10 after the point (more than Python's default
    decimal context keeps: a sum in it would be rounded)."""
    wide = Context(prec=50)
    return st.builds(
        lambda digits, places: Decimal(digits).scaleb(-places, context=wide),
        st.integers(10**28, 10**30 - 1),
        st.integers(0, 10),
    )


@st.composite
def corrected(draw: st.DrawFn) -> tuple[list[Op], list[Op]]:
    """A valid journal (with an id on every operation) and corrections to record after it,
    one by one: voids of some operations and amendments of some parties, each dated on a
    random day of the journal's time (a correction refused by a rule is left out)."""
    ops = draw(
        st.one_of(
            indicator_journals(max_actions=40),
            valid_journals(min_ops=10, max_ops=35),
            valid_journals(min_ops=10, max_ops=35, amounts=long_amounts()),
        )
    )
    ops = [{**op, "id": f"op-{i}"} for i, op in enumerate(ops)]
    days = sorted({op["on"] for op in ops if isinstance(op.get("on"), str)}) or ["2009-01-01"]
    # Some deliveries and corrections dated out of order (any day of the ledger's time): the
    # days they count on are then not the order they were recorded in.
    for op in ops:
        if op["op"] in ("deliver", "correct_contribution") and draw(st.integers(0, 3)) == 0:
            op["on"] = draw(st.sampled_from(days))
    voidable = [op["id"] for op in ops if op["op"] in VOIDABLE]
    fixes: list[Op] = []
    for op_id in draw(st.lists(st.sampled_from(voidable), unique=True, max_size=4)) if voidable else []:
        fixes.append(
            {"op": "void_operation", "operation": op_id, "reason": "in error", "on": draw(st.sampled_from(days))}
        )
    parties = [op["key"] for op in ops if op["op"] == "register_party"]
    for party in draw(st.lists(st.sampled_from(parties), unique=True, max_size=3)) if parties else []:
        change: Op = {"name": f"Renamed {party}"}
        if draw(st.booleans()):
            change["capacity"] = {"amount": str(draw(st.integers(1, 10**9))), "currency": "JPY"}
        if draw(st.booleans()):
            change["sector"] = draw(st.sampled_from(["npo", "business", "municipality"]))
        fixes.append({"op": "amend_party", "party": party, **change, "reason": "r", "on": draw(st.sampled_from(days))})
    draw(st.randoms()).shuffle(fixes)
    return ops, [{**fix, "id": f"fix-{i}"} for i, fix in enumerate(fixes)]


def build(ledger: PartnershipLedger, ops: list[Op], fixes: list[Op]) -> None:
    try:
        ledger.import_journal(json.dumps(ops))
    except LedgerError:
        assume(False)  # a delivery re-dated where a rule refuses it (say, past its cap's year)
    for fix in fixes:
        try:
            ledger.record(fix)
        except LedgerError:
            continue  # refused (something rests on what it voids): left out


def sample_days(ledger: PartnershipLedger, limit: int = 5) -> list[date]:
    """A day before everything, and days on and just before some effective dates."""
    found = sorted({date.fromisoformat(h["effective"]) for h in ledger.history() if h["effective"]})
    if not found:
        return [date(2009, 1, 1)]
    step = max(1, len(found) // limit)
    picked = [*found[::step][:limit], found[-1]]
    return sorted({found[0] - timedelta(days=1), *picked, *(d - timedelta(days=1) for d in picked[1::2])})


def outcome(fn: Callable[[], Any]) -> Any:
    """An answer without its ``as_of``/``on`` echo, or the kind of error raised."""
    try:
        result = fn()
    except LedgerError as e:
        return ("error", e.kind, str(e))
    if isinstance(result, dict):
        result = {k: v for k, v in result.items() if k not in ("as_of", "on")}
    return result


def differing(got: dict[Any, Any], want: dict[Any, Any]) -> dict[Any, Any]:
    """The entries where two answer maps differ (empty when they agree): a short message."""
    assert got.keys() == want.keys()
    return {k: (got[k], want[k]) for k in want if got[k] != want[k]}


def indicator_plan(ledger: PartnershipLedger) -> list[tuple[str, str, dict[str, Any]]]:
    """(query, partnership, options): every partnership, each indicator, both bases, the
    whole time and one fiscal year, with and without sub-partnerships."""
    plan: list[tuple[str, str, dict[str, Any]]] = []
    years = sorted({c["fiscal_year"] for c in contributions(ledger)})
    for p in ledger.keys("partnership"):
        kids = (False, True) if ledger.children(p) else (False,)
        for children in kids:
            for fy in (None, *years[len(years) // 2 :][:1]):
                for basis in ("delivered", "pledged"):
                    for q in ("burden_balance", "voice"):
                        plan.append((q, p, {"fiscal_year": fy, "basis": basis, "include_children": children}))
            plan.append(("target_progress", p, {"include_children": children}))
            plan.append(("evaluation_summary", p, {"include_children": children}))
    return plan


def indicators(reader: Any, plan: list[tuple[str, str, dict[str, Any]]], **when: Any) -> dict[Any, Any]:
    return {
        (q, p, json.dumps(o)): outcome(lambda: getattr(reader, q)(p, **o, **when))  # noqa: B023
        for q, p, o in plan
    }


def lists(ledger: PartnershipLedger, **when: Any) -> dict[str, Any]:
    return {
        "parties": outcome(lambda: ledger.parties(**when)),
        "partnerships": outcome(lambda: ledger.partnerships(**when)),
        "contributions": outcome(lambda: contributions(ledger, **when)),
    }


@contextmanager
def ledger_of(new_ledger: NewLedger, ops: list[Op], fixes: list[Op]) -> Iterator[PartnershipLedger]:
    with new_ledger() as ledger:
        build(ledger, ops, fixes)
        yield ledger


# ----------------------------------------------- 1. show(key, on=D) against the lists and indicators


def pledge_days(ops: list[Op]) -> dict[str, date]:
    """The day each pledge counts from: its own ``on``, else the first day of its fiscal year
    (the month its agreement's fiscal year starts in, else April)."""
    fys = {op["key"]: op.get("fiscal_year_start", 4) for op in ops if op["op"] == "draft_agreement"}
    return {
        op["key"]: date.fromisoformat(op["on"])
        if op.get("on")
        else date(op["fiscal_year"], fys.get(op.get("agreement"), 4), 1)
        for op in ops
        if op["op"] == "pledge"
    }


def check_show_against_indicators(ledger: PartnershipLedger, ops: list[Op], day: date) -> None:
    shown = {k: ledger.show(k, on=day) for kind in ("contribution", "agreement") for k in ledger.keys(kind)}
    listed = {p["key"]: p for p in ledger.partnerships(on=day)}
    parties = {p["key"]: p for p in ledger.parties(on=day)}
    pledged_on = pledge_days(ops)
    drafted = [op["key"] for op in ops if op["op"] == "draft_agreement"]
    for p in ledger.keys("partnership"):
        view = ledger.show(p, on=day)
        where = (p, day.isoformat())
        if view["proposed_on"] > day:
            assert p not in listed, where
            assert outcome(lambda: ledger.burden_balance(p, on=day))[:2] == ("error", "unknown_key"), where  # noqa: B023
            continue
        # partnerships(on=) is what show(on=) says of each partnership
        row = listed[p]
        assert (row["phase"], row["members"]) == (view["phase"], view["current_members"]), where
        assert view["current_members"] == list(
            dict.fromkeys(m["party"] for m in view["members"] if m["left"] is None)
        ), where
        mine = {k: v for k, v in shown.items() if v["kind"] == "contribution" and v["partnership"] == p}
        for basis in ("delivered", "pledged"):
            balance = ledger.burden_balance(p, on=day, basis=basis)
            values = {r["party"]: r["value"] for r in balance["parties"]}
            # every member who was in the partnership by the day counts, zero included
            assert {m["party"] for m in view["members"]} <= set(values), (where, basis)
            want: dict[str, Decimal] = {}
            for k, c in mine.items():
                if basis == "delivered":
                    amount = c["delivered"]["amount"]
                    assert amount == exact_sum(
                        [d["value"]["amount"] for d in c["deliveries"]]
                        + [x["delta"]["amount"] for x in c["corrections"]]
                    ), (where, k)
                else:
                    counted = pledged_on[k] <= day
                    amount = EXACT.subtract(c["pledged"]["amount"] if counted else Decimal(0), c["withdrawn"]["amount"])
                want[c["party"]] = EXACT.add(want.get(c["party"], Decimal(0)), amount)
            assert {q: v for q, v in values.items() if v} == {q: v for q, v in want.items() if v}, (where, basis)
            assert balance["total"] == exact_sum(values.values()), (where, basis)
            for r in balance["parties"]:
                # sector and capacity as the party's particulars stood on the day
                party = parties[r["party"]]
                assert r["sector"] == party["sector"], (where, r["party"])
                cap = party["capacity"]
                if cap is None or cap["currency"] != balance["currency"] or cap["amount"] <= 0:
                    assert r["capacity_burden"] is None, (where, r["party"])
                else:
                    assert r["capacity_burden"] == q6(div(r["value"], cap["amount"])), (where, r["party"])
        # the agreement whose shares apply: the latest drafted in force on the day with shares
        applying = [
            a
            for a in drafted
            if shown[a]["partnership"] == p
            and shown[a]["status"] == "in_force"
            and shown[a]["terms"]["shares"] is not None
        ]
        balance = ledger.burden_balance(p, on=day)
        assert balance["agreement"] == (applying[-1] if applying else None), where
        if applying:
            shares = shown[applying[-1]]["terms"]["shares"]
            for r in balance["parties"]:
                assert r["agreed_share"] == (q6(Decimal(shares[r["party"]])) if r["party"] in shares else None), (
                    where,
                    r["party"],
                )
        # decisions by the day
        voice = ledger.voice(p, on=day)
        assert (voice["decisions"], voice["adopted"]) == (
            len(view["decisions"]),
            sum(1 for d in view["decisions"] if d["adopted"]),
        ), where
        # targets in force, measurements and revisions by the day
        for t in ledger.target_progress(p, on=day)["targets"]:
            tv = ledger.show(t["key"], on=day)
            assert t["targets"] == tv["targets"], (where, t["key"])
            assert t["revisions"] == len(tv["revisions"]), (where, t["key"])
            latest = {m["period"]: m["value"] for m in tv["measurements"]}
            assert {m["period"]: m["value"] for m in t["measurements"]} == latest, (where, t["key"])
        assert {t["key"] for t in ledger.target_progress(p, on=day)["targets"]} == {
            k for k in ledger.keys("target") if ledger.show(k)["partnership"] == p
        }, where
        # submissions and closing by the day
        for e in ledger.evaluation_summary(p, on=day)["evaluations"]:
            ev = ledger.show(e["key"], on=day)
            assert (e["status"], e["closed_on"]) == (ev["status"], ev["closed_on"]), (where, e["key"])
            roles = {r: sum(1 for s in ev["submissions"] if s["role"] == r) for r in ("resident", "party", "external")}
            assert e["submissions"] == roles, (where, e["key"])
    # contributions(on=) is what show(on=) says of each contribution
    for c in contributions(ledger, on=day):
        v = shown[c["contribution"]]
        assert c["withdrawn"] == v["withdrawn"]["amount"], (c["contribution"], day)
        assert EXACT.add(c["delivered"], c["corrections"]) == v["delivered"]["amount"], (c["contribution"], day)


def dated_after(view: Any, day: date, path: str = "") -> list[str]:
    """Where a view holds an entry dated (``on``, ``joined``, ``left``...) after ``day``."""
    found: list[str] = []
    if isinstance(view, dict):
        for k, v in view.items():
            if isinstance(v, date) and k not in ("start", "end", "proposed_on") and v > day:
                found.append(f"{path}.{k}")
            found += dated_after(v, day, f"{path}.{k}")
    elif isinstance(view, list):
        for i, v in enumerate(view):
            found += dated_after(v, day, f"{path}[{i}]")
    return found


@SETTINGS
@given(corrected())
def test_show_on_a_day_agrees_with_the_lists_and_indicators_on_that_day(
    new_ledger: NewLedger, case: tuple[list[Op], list[Op]]
) -> None:
    ops, fixes = case
    with ledger_of(new_ledger, ops, fixes) as ledger:
        for day in sample_days(ledger):
            check_show_against_indicators(ledger, ops, day)
            # show(on=) leaves out whatever took effect after the day, for every kind
            for key in (k for kind in KINDS for k in ledger.keys(kind)):
                assert not dated_after(ledger.show(key, on=day), day), (key, day)


# ----------------------------------------- 2. read models against a replay, with and without on=


@SETTINGS
@given(corrected())
def test_read_models_and_a_replay_agree_on_every_day(new_ledger: NewLedger, case: tuple[list[Op], list[Op]]) -> None:
    ops, fixes = case
    with ledger_of(new_ledger, ops, fixes) as ledger:
        plan = indicator_plan(ledger)
        small = [x for x in plan if x[2].get("basis", "delivered") == "delivered" and not x[2].get("fiscal_year")]
        assert not differing(lists(ledger, as_of=FAR), lists(ledger))
        for day in [None, *sample_days(ledger, limit=3)]:
            assert not differing(indicators(ledger, small, as_of=FAR, on=day), indicators(ledger, small, on=day)), day
            assert not differing(lists(ledger, as_of=FAR, on=day), lists(ledger, on=day)), day
            keys = [k for kind in KINDS for k in ledger.keys(kind)]
            assert {k: ledger.show(k, on=day, as_of=FAR) for k in keys} == {k: ledger.show(k, on=day) for k in keys}


@SETTINGS
@given(corrected(), st.data())
def test_aggregates_loaded_from_snapshots_show_and_decide_as_a_replay_does(
    scratch: Path, case: tuple[list[Op], list[Op]], data: st.DataObject
) -> None:
    """With a snapshot every 2 events, a ledger closed and reopened between two imports (so
    that the second loads its aggregates from snapshots) records the same and shows every
    thing, on every day, as a replay of its events and as a ledger that took no snapshot."""
    ops, fixes = case
    cut = data.draw(st.integers(1, len(ops)), label="cut")
    with tempfile.TemporaryDirectory(dir=scratch) as folder:
        plain, snapped = Path(folder) / "plain.sqlite", Path(folder) / "snapped.sqlite"
        with PartnershipLedger.open(plain) as ledger:
            build(ledger, ops, fixes)
        with patch.object(snapshots, "INTERVAL", 2):
            with PartnershipLedger.open(snapped) as ledger:
                build(ledger, ops[:cut], [])
            with PartnershipLedger.open(snapped) as ledger:
                build(ledger, ops, fixes)
        with PartnershipLedger.open(plain) as want, PartnershipLedger.open(snapped) as got:
            keys = [k for kind in KINDS for k in want.keys(kind)]
            assert [k for kind in KINDS for k in got.keys(kind)] == keys
            for day in [None, *sample_days(want, limit=3)]:
                shown = {k: got.show(k, on=day) for k in keys}
                assert shown == {k: want.show(k, on=day) for k in keys}, day
                assert shown == {k: got.show(k, on=day, as_of=FAR) for k in keys}, day
            assert not differing(lists(got), lists(want))


@SETTINGS
@given(corrected())
def test_diff_gives_the_indicators_and_history_of_its_two_days(
    new_ledger: NewLedger, case: tuple[list[Op], list[Op]]
) -> None:
    """``diff --by effective`` between two days: each side is every indicator ``on`` that day
    and the operations are those ``history`` dates after the first, up to the second;
    ``diff`` by recorded time from before anything to after everything, ``on`` a day, is the
    indicators on that day."""
    ops, fixes = case
    with ledger_of(new_ledger, ops, fixes) as ledger:
        days = sample_days(ledger, limit=3)
        p = ledger.keys("partnership")[0]

        def side(day: date) -> dict[str, Any]:
            if ledger.show(p)["proposed_on"] > day:
                return {"exists": False}
            answers = {
                name: outcome(lambda: getattr(ledger, q)(p, on=day))  # noqa: B023
                for name, q in (
                    ("balance", "burden_balance"),
                    ("voice", "voice"),
                    ("targets", "target_progress"),
                    ("evaluations", "evaluation_summary"),
                )
            }
            return {"exists": True, **answers}

        for first, last in itertools.pairwise(days):
            d = ledger.diff(p, first, last, by="effective")
            assert (d["before"], d["after"]) == (side(first), side(last)), (first, last)
            between = ledger.history(p, since=first + timedelta(days=1), until=last)
            assert [h["op_id"] for h in d["operations"]] == [h["op_id"] for h in between], (first, last)
        for day in days:
            d = ledger.diff(p, "2000-01-01", FAR, on=day)
            assert d["after"] == side(day), day


# ------------------------------------------ 3. the CLI's quick reader against the full ledger


@SETTINGS
@given(corrected())
def test_the_quick_reader_answers_what_the_ledger_answers_with_every_option(
    scratch: Path, case: tuple[list[Op], list[Op]]
) -> None:
    ops, fixes = case
    with tempfile.TemporaryDirectory(dir=scratch) as folder:
        location = Path(folder) / "l.sqlite"
        with PartnershipLedger.open(location) as ledger:
            build(ledger, ops, fixes)
            days = [None, *sample_days(ledger, limit=3)]
        with PartnershipLedger.open(location, readonly=True) as full:
            plan = indicator_plan(full)
            want = {day: indicators(full, plan, on=day) for day in days}
        reader = ReadModelReader.open_current(location)
        assert reader is not None
        with reader:
            assert reader.keys("partnership") == sorted({x[1] for x in plan})
            for day in days:
                assert not differing(indicators(reader, plan, on=day), want[day]), day


# ----------------------------------------------- 4. an export imported into a fresh ledger


@SETTINGS
@given(corrected())
def test_an_export_imports_into_a_ledger_that_answers_everything_alike(
    new_ledger: NewLedger, case: tuple[list[Op], list[Op]]
) -> None:
    ops, fixes = case
    with ledger_of(new_ledger, ops, fixes) as first, new_ledger() as second:
        second.import_journal(json.dumps(list(first.export_operations()), ensure_ascii=False))
        plan = indicator_plan(first)
        assert indicator_plan(second) == plan
        for day in [None, *sample_days(first, limit=3)]:
            assert not differing(indicators(second, plan, on=day), indicators(first, plan, on=day)), day
            assert not differing(lists(second, on=day), lists(first, on=day)), day
            keys = [k for kind in KINDS for k in first.keys(kind)]
            assert {k: second.show(k, on=day) for k in keys} == {k: first.show(k, on=day) for k in keys}, day


def test_show_on_a_day_between_revisions_lists_the_targets_in_force_by_period(ledger: PartnershipLedger) -> None:
    """Found by the first property: a revision given out of period order was shown so on the
    days it was in force (not yet replaced), while ``targets --on`` sorts by period."""
    ledger.register_party("a", "A", "npo")
    ledger.propose_partnership("p", "P", "pooling", "a", ["a"], "2024-04-01")
    baseline = {"period": "2019", "value": "1"}
    ledger.define_target("t", "p", "visits", "people", "increase", baseline, [{"period": "2030", "value": "5"}])
    unsorted = [{"period": "2028", "value": "8"}, {"period": "2020", "value": "2"}]
    ledger.revise_target("t", unsorted, "rethought", "2024-06-01")
    ledger.revise_target("t", [{"period": "2025", "value": "3"}], "again", "2024-09-01")
    for day in ("2024-05-31", "2024-06-01", "2024-08-31", "2024-09-01", None):
        shown = [x["period"] for x in ledger.show("t", on=day)["targets"]]
        assert shown == [x["period"] for x in ledger.target_progress("p", on=day)["targets"][0]["targets"]], day
        assert shown == sorted(shown), day
    assert [x["period"] for x in ledger.show("t", on="2024-07-01")["targets"]] == ["2020", "2028"]


def test_show_party_on_a_day_leaves_out_later_amendments(ledger: PartnershipLedger) -> None:
    """Found by the snapshot property: ``show PARTY --on`` listed amendments dated after the
    day (its particulars were those of the day), where every other kind leaves later entries out."""
    ledger.register_party("a", "A", "npo")
    ledger.record({"op": "amend_party", "party": "a", "name": "A2", "reason": "renamed", "on": "2021-04-01"})
    assert ledger.show("a", on="2021-03-31")["name"] == "A"
    assert ledger.show("a", on="2021-03-31")["amendments"] == []
    assert [m["changes"] for m in ledger.show("a", on="2021-04-01")["amendments"]] == [{"name": "A2"}]
    assert len(ledger.show("a")["amendments"]) == 1


def test_amounts_on_a_day_and_funding_shares_are_exact_whatever_the_callers_decimal_context(
    ledger: PartnershipLedger,
) -> None:
    """Found by the first property: ``show CONTRIBUTION --on`` and ``contributions --on`` summed
    deliveries in Python's default decimal context (28 digits), rounding 30-digit amounts;
    the funding shares divided in the caller's context."""
    big = "12345678901234567890.1234567891"  # 30 digits: the journal takes them
    ledger.register_party("a", "A", "npo")
    ledger.register_party("b", "B", "npo")
    ledger.propose_partnership("p", "P", "pooling", "a", ["a", "b"], "2020-01-01")
    for key, party, instrument in (("c", "a", "contribution"), ("d", "b", "subsidy"), ("e", "b", "grant")):
        op = {"op": "pledge", "key": key, "partnership": "p", "party": party, "kind": "money"}
        value = {"amount": big if key == "c" else "1", "currency": "JPY"}
        ledger.record(op | {"value": value, "instrument": instrument, "fiscal_year": 2020, "on": "2020-05-01"})
        ledger.record({"op": "deliver", "contribution": key, "value": value, "on": "2020-06-01"})
    day = date(2020, 7, 1)
    assert ledger.show("c", on=day)["delivered"]["amount"] == Decimal(big)
    assert {r["contribution"]: r["delivered"] for r in contributions(ledger, on=day)}["c"] == Decimal(big)
    funding = ledger.burden_balance("p", on=day)["funding"]
    with localcontext(Context(prec=3)):
        assert ledger.burden_balance("p", on=day)["funding"] == funding
    assert funding["subsidy_or_commission_share"] == q6(div(Decimal(1), EXACT.add(Decimal(big), Decimal(2))))


@pytest.mark.xfail(
    strict=True,
    reason="balance --on from the read models takes today's sums less the later rows when fewer rows "
    "come after the day: 1.5 + 2.25 - 2.25 is 1.50, where a replay and show --on say 1.5 (equal as "
    "numbers, not as the JSON text); the fix needs that side to keep the exponent the rows up to the day give",
)
def test_balance_on_a_day_writes_an_amount_as_a_replay_does(ledger: PartnershipLedger) -> None:
    ledger.register_party("a", "A", "npo")
    ledger.propose_partnership("p", "P", "pooling", "a", ["a"], "2020-01-01")
    pledge = {"op": "pledge", "key": "c", "partnership": "p", "party": "a", "kind": "money", "fiscal_year": 2020}
    ledger.record(pledge | {"value": {"amount": "100", "currency": "JPY"}, "on": "2020-04-01"})
    for amount, on in (("1.5", "2020-06-01"), ("2.25", "2020-08-01")):
        ledger.record({"op": "deliver", "contribution": "c", "value": {"amount": amount, "currency": "JPY"}, "on": on})
    assert str(ledger.show("c", on="2020-07-01")["delivered"]["amount"]) == "1.5"
    assert str(ledger.burden_balance("p", on="2020-07-01", as_of=FAR)["total"]) == "1.5"
    assert str(ledger.burden_balance("p", on="2020-07-01")["total"]) == "1.5"
