"""The materialized read models against a full replay of the events.

The central property (issue "Read models and indicators"): for random valid journals,
imported in chunks with the ledger closed and reopened between them, every materialized
indicator equals the same indicator computed from a replay of the events, also after
``rebuild`` and against an independent fold into a ``MemoryFactStore``; ``as_of`` a time
between two imports gives what the ledger said after the first import. Then the
exactly-once tracking: a crash in the middle of a catch-up leaves the read models as they
were, and two ledger objects on one file see each other's writes.

Journals come from ``tests/strategies.py``: ``indicator_journals()`` (shaped for these
read models) and ``valid_journals()`` (the shared one, with long exact amounts), cut into
imports by ``chunked_journals()``.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import chunked_journals, valid_journals

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.errors import LedgerError
from partnership_ledger.projections import facts as F
from partnership_ledger.projections import queries
from partnership_ledger.projections.facts import FactStore
from partnership_ledger.projections.fold import apply_event
from partnership_ledger.projections.history import with_info
from partnership_ledger.projections.memory_facts import MemoryFactStore
from partnership_ledger.queries.indicators import IndicatorQueries, ReadModelReader

# --------------------------------------------------------------------- comparing helpers


def as_bytes(ops: list[dict[str, Any]]) -> bytes:
    return json.dumps(ops).encode()


def outcome(fn: Callable[[], dict[str, Any]]) -> Any:
    """A query's result without its ``as_of`` echo, or the kind of error it raised."""
    try:
        result = fn()
    except LedgerError as e:
        return ("error", e.kind)
    result.pop("as_of", None)
    result.pop("on", None)
    return result


def fiscal_years(ops: list[dict[str, Any]]) -> list[int | None]:
    years: set[int] = set()
    for op in ops:
        if "fiscal_year" in op:
            years.add(op["fiscal_year"])
        if "on" in op:
            y = date.fromisoformat(op["on"]).year
            years |= {y - 1, y}
    return [None, *sorted(years)]


def partnership_keys(ops: list[dict[str, Any]]) -> list[str]:
    return [op["key"] for op in ops if op["op"] == "propose_partnership"]


Query = tuple[str, str, int | None, str, bool]


def sample_years(ops: list[dict[str, Any]]) -> list[int | None]:
    """None (the whole time), then the first, a middle and the last fiscal year used."""
    years = fiscal_years(ops)[1:]
    return [None, *sorted({years[0], years[len(years) // 2], years[-1]})] if years else [None]


def query_plan(ops: list[dict[str, Any]]) -> list[Query]:
    """The (indicator, partnership, fiscal year, basis, include_children) to compare: every
    partnership; the whole time and the first, a middle and the last fiscal year used; both
    bases; with and without children for a partnership that has them."""
    sample = sample_years(ops)
    parents = {op.get("parent") for op in ops if op["op"] == "propose_partnership"}
    plan: list[Query] = []
    for p in partnership_keys(ops):
        for children in (False, True) if p in parents else (False,):
            for fy in sample:
                plan.append(("burden_balance", p, fy, "delivered", children))
                plan.append(("burden_balance", p, fy, "pledged", children))
                plan.append(("voice", p, fy, "delivered", children))
            plan.append(("voice", p, None, "pledged", children))
            plan.append(("target_progress", p, None, "", children))
            plan.append(("evaluation_summary", p, None, "", children))
    return plan


def as_of_plan(ops: list[dict[str, Any]]) -> list[Query]:
    """A smaller plan for as_of queries (each one replays the events)."""
    middle = sample_years(ops)[len(sample_years(ops)) // 2]
    return [q for q in query_plan(ops) if q[3] != "pledged" and q[2] in (None, middle)]


def _kwargs(q: Query) -> dict[str, Any]:
    _, _, fy, basis, _ = q
    return {"fiscal_year": fy, "basis": basis} if q[0] in ("burden_balance", "voice") else {}


def from_ledger(ledger: IndicatorQueries, plan: list[Query], **extra: Any) -> dict[Query, Any]:
    """Every query in the plan through the ledger's own methods (materialized or as_of)."""
    out = {}
    for q in plan:
        name, p, _, _, children = q
        method = getattr(ledger, name)
        out[q] = outcome(lambda: method(p, include_children=children, **_kwargs(q), **extra))  # noqa: B023
    return out


def from_store(ledger: PartnershipLedger, store: FactStore, plan: list[Query]) -> dict[Query, Any]:
    """Every query in the plan computed by the query functions over ``store``."""
    out = {}
    for q in plan:
        name, p, _, _, children = q
        fn = getattr(queries, name)

        def run() -> dict[str, Any]:
            kids = ledger.children(p) if children else []  # noqa: B023 - called right away
            return dict(fn(store, p, children=kids, **_kwargs(q)))  # noqa: B023

        out[q] = outcome(run)
    return out


def independent_fold(ledger: PartnershipLedger) -> MemoryFactStore:
    """Our own fold of every stored event into a fresh memory store."""
    store = MemoryFactStore()
    for event, info in with_info(e for _, e in ledger.stored_events()):
        apply_event(store, event, info)
    return store


def facts_of(store: FactStore, partnerships: list[str]) -> dict[str, Any]:
    """The facts a store holds for some partnerships, comparable across store kinds."""
    out: dict[str, Any] = {}
    for p in partnerships:
        out[p] = {
            "partnership": store.get(F.PartnershipFact, p),
            "spells": store.items(F.SpellFact, p),
            "decisions": store.items(F.DecisionFact, p),
            "agreements": store.of(F.AgreementFact, p),
            "buckets": dict(store.buckets(p)),
            "contributions": store.of(F.ContributionFact, p),
            "targets": store.of(F.TargetFact, p),
            "evaluations": store.of(F.EvaluationFact, p),
        }
    return out


def assert_same(got: dict[Query, Any], want: dict[Query, Any], what: str) -> None:
    assert got.keys() == want.keys()
    for q in want:
        assert got[q] == want[q], f"{what}: {q}"


def assert_materialized_equals_replay(ledger: PartnershipLedger, ops: list[dict[str, Any]]) -> dict[Query, Any]:
    plan = query_plan(ops)
    materialized = from_ledger(ledger, plan)
    # Every partnership in the journal exists, so no query may fail (an error on both sides
    # would otherwise compare equal).
    assert not [q for q, got in materialized.items() if isinstance(got, tuple)]
    assert_same(materialized, from_store(ledger, ledger.replay_facts(), plan), "replay")
    # The CLI's quick reader of the read models alone answers exactly the same.
    if ledger.backend == "sqlite":
        reader = ReadModelReader.open_current(ledger.location)
        assert reader is not None, "the read models are current, so the reader must open"
        with reader:
            assert_same(from_ledger(reader, plan), materialized, "reader")
    own = independent_fold(ledger)
    assert_same(materialized, from_store(ledger, own, plan), "own fold")
    keys = partnership_keys(ops)
    assert facts_of(ledger.facts, keys) == facts_of(own, keys)
    # The as_of path of the ledger's own methods, far in the future, is the replay too.
    for q in plan[:: max(1, len(plan) // 12)]:
        name, p, _, _, children = q
        method, kwargs = getattr(ledger, name), _kwargs(q)
        got = outcome(lambda: method(p, include_children=children, as_of="2999-01-01", **kwargs))  # noqa: B023
        assert got == materialized[q], f"as_of 2999: {q}"
    return materialized


@contextmanager
def ledger_at(path: Path) -> Iterator[PartnershipLedger]:
    with PartnershipLedger.open(path) as ledger:
        yield ledger


# ---------------------------------------------------------------------- the central property


@given(
    st.one_of(
        chunked_journals(),
        chunked_journals(valid_journals(min_ops=4, max_ops=40)),
    )
)
def test_read_models_equal_replay_across_imports_reopen_and_rebuild(
    chunks: list[list[dict[str, Any]]],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "l.sqlite"
        done: list[dict[str, Any]] = []
        between: datetime | None = None
        for i, chunk in enumerate(chunks):
            # A fresh ledger object for every import: the read models are reopened from
            # the file and catch up from its tracking row.
            with ledger_at(path) as ledger:
                ledger.import_journal(as_bytes(chunk))
                done += chunk
                assert_materialized_equals_replay(ledger, done)
                if i == 0:
                    between = datetime.now(UTC)
                    time.sleep(0.003)
        assert between is not None
        with ledger_at(path) as ledger:
            ledger.rebuild()
            assert_materialized_equals_replay(ledger, done)
            # as_of a time between the first and the second import gives the values of a
            # ledger that holds only the first import (later partnerships do not exist).
            plan = as_of_plan(done)
            then = from_ledger(ledger, plan, as_of=between)
        with ledger_at(Path(folder) / "first.sqlite") as only_first:
            only_first.import_journal(as_bytes(chunks[0]))
            assert_same(then, from_ledger(only_first, plan), "as_of between imports")


def test_a_party_that_leaves_and_joins_again_in_one_batch_stays_a_member(tmp_path: Path) -> None:
    # Regression: the read model closed the new spell too when a party left and joined
    # again within one batch of events (an import, or a rebuild).
    ops = [
        *({"op": "register_party", "key": k, "name": k, "sector": "npo"} for k in "abc"),
        {
            "op": "propose_partnership",
            "key": "pa",
            "title": "t",
            "purpose": "p",
            "proposed_by": "a",
            "members": ["a", "b", "c"],
            "on": "2008-03-05",
        },
        {"op": "leave_partnership", "partnership": "pa", "party": "c", "on": "2008-03-24"},
        {"op": "join_partnership", "partnership": "pa", "party": "c", "on": "2008-07-30"},
    ]
    with ledger_at(tmp_path / "l.sqlite") as ledger:
        ledger.import_journal(as_bytes(ops))
        for _ in range(2):
            # FY2008 runs from April 2008: c is a member again from July.
            parties = [r["party"] for r in ledger.burden_balance("pa", fiscal_year=2008)["parties"]]
            assert sorted(parties) == ["a", "b", "c"]
            assert ledger.facts.items(F.SpellFact, "pa") == ledger.replay_facts().items(F.SpellFact, "pa")
            ledger.rebuild()


# ------------------------------------------------------------------- exactly-once tracking


def read_model_rows(ledger: PartnershipLedger) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every read-model table, and the tracking position."""
    out = {}
    with ledger.db.transaction(commit=False) as c:
        for model in ledger.projections.models:
            for table in model.table_names:
                c.execute(f"SELECT * FROM {table}")
                out[table] = sorted(c.fetchall(), key=repr)
        c.execute("SELECT * FROM ledger_tracking")
        out["ledger_tracking"] = c.fetchall()
    return out


def every_indicator(ledger: PartnershipLedger, ops: list[dict[str, Any]]) -> dict[Query, Any]:
    return from_ledger(ledger, query_plan(ops))


def replayed(ledger: PartnershipLedger, ops: list[dict[str, Any]]) -> dict[Query, Any]:
    return from_store(ledger, ledger.replay_facts(), query_plan(ops))


class Crash(Exception):
    pass


def crash_after(model: Any, n: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``model.apply_all`` raise on its (n+1)-th event, after applying those before it."""
    real = model.apply_all
    seen = [0]

    def apply_all(c: Any, items: Any) -> None:
        items = list(items)
        left = n - seen[0]
        seen[0] += len(items)
        real(c, items[: max(left, 0)])
        if left < len(items):
            raise Crash("power cut")

    monkeypatch.setattr(model, "apply_all", apply_all)


def every_op_journal(path: Path) -> list[dict[str, Any]]:
    ops: list[dict[str, Any]] = json.loads(path.read_bytes())
    return ops


@pytest.mark.parametrize("model_index", [1, 2])  # the history model, the facts model
@pytest.mark.parametrize("after", [0, 17])
def test_a_crash_mid_catch_up_changes_no_read_model_and_catch_up_recovers(
    tmp_path: Path,
    every_op_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    model_index: int,
    after: int,
) -> None:
    ops = every_op_journal(every_op_path)
    first, rest = ops[:15], ops[15:]
    with ledger_at(tmp_path / "l.sqlite") as ledger:
        ledger.import_journal(as_bytes(first))
        rows = read_model_rows(ledger)
        before = every_indicator(ledger, ops)
        model = ledger.projections.models[model_index]
        crash_after(model, after, monkeypatch)
        with pytest.raises(Crash):
            ledger.import_journal(as_bytes(rest))  # events stored, read models crash
        # The batch's transaction rolled back: not one row changed, tracking included,
        # and the same ledger object still answers from the committed read models.
        assert read_model_rows(ledger) == rows
        assert every_indicator(ledger, ops) == before
        assert ledger.info()["read_model_lag"] > 0
        monkeypatch.undo()
        assert ledger.catch_up() > 0
        assert ledger.info()["read_model_lag"] == 0
        assert every_indicator(ledger, ops) == replayed(ledger, ops)
        assert every_indicator(ledger, ops) != before
        caught_up = read_model_rows(ledger)
        ledger.rebuild()
        assert read_model_rows(ledger) == caught_up  # each event applied exactly once


def test_a_ledger_that_crashed_catches_up_when_reopened(
    tmp_path: Path, every_op_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ops = every_op_journal(every_op_path)
    path = tmp_path / "l.sqlite"
    with ledger_at(path) as ledger:
        crash_after(ledger.projections.models[2], 20, monkeypatch)
        with pytest.raises(Crash):
            ledger.import_journal(as_bytes(ops))
        assert ledger.projections.position() == 0
    monkeypatch.undo()
    with ledger_at(path) as ledger:
        assert ledger.info()["read_model_lag"] == 0
        assert every_indicator(ledger, ops) == replayed(ledger, ops)


def test_two_ledger_objects_on_one_file_see_each_others_writes(tmp_path: Path, every_op_path: Path) -> None:
    ops = every_op_journal(every_op_path)
    path = tmp_path / "l.sqlite"
    with ledger_at(path) as one, ledger_at(path) as two:
        writers = [one, two]
        done: list[dict[str, Any]] = []
        # Alternate writers, a few operations at a time.
        for i in range(0, len(ops), 6):
            writer = writers[(i // 6) % 2]
            writer.import_journal(as_bytes(ops[i : i + 6]))
            done += ops[i : i + 6]
            want = replayed(writer, done)
            # The writer's read models caught up with its write and every write before it;
            # the other object reads the same read-model tables and sees it at once.
            assert every_indicator(one, done) == want
            assert every_indicator(two, done) == want
        assert one.projections.position() == two.projections.position() == one.last_position()


def test_as_of_between_two_imports_is_the_ledger_of_the_first_import(tmp_path: Path, every_op_path: Path) -> None:
    ops = every_op_journal(every_op_path)
    first, rest = ops[:20], ops[20:]
    with ledger_at(tmp_path / "l.sqlite") as ledger:
        ledger.import_journal(as_bytes(first))
        between = datetime.now(UTC)
        time.sleep(0.003)
        ledger.import_journal(as_bytes(rest))
        plan = query_plan(ops)
        then = from_ledger(ledger, plan, as_of=between)
        now = from_ledger(ledger, plan)
    with ledger_at(tmp_path / "first.sqlite") as only_first:
        only_first.import_journal(as_bytes(first))
        assert_same(then, from_ledger(only_first, plan), "as_of between imports")
    assert then != now  # the second import changed the indicators


def test_rebuild_recomputes_every_read_model_and_reports_progress(tmp_path: Path, every_op_path: Path) -> None:
    ops = every_op_journal(every_op_path)
    with ledger_at(tmp_path / "l.sqlite") as ledger:
        ledger.import_journal(as_bytes(ops))
        rows = read_model_rows(ledger)
        before = every_indicator(ledger, ops)
        calls: list[int] = []
        assert ledger.rebuild(progress=calls.append) == ledger.event_count()
        assert sum(calls) == ledger.event_count()
        assert read_model_rows(ledger) == rows
        assert every_indicator(ledger, ops) == before
        assert ledger.catch_up() == 0  # nothing left to apply, nothing applied twice
