"""The read models keep their caches from one slice of an import to the next, within its one
transaction only: a sliced import gives the same read models as a replay; an import that
fails in a later slice leaves nothing cached that the next write could use; and what another
writer records between two transactions is seen. A rebuild drops the old read models without
writing their pages out again, on SQLite builds that zero what they free too, and leaves that
zeroing as it was.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import journal_ops as ops
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import chunked_journals, valid_journals
from test_import_slices import slices_of
from test_read_models import assert_materialized_equals_replay, every_op_journal, ledger_at, replayed
from test_read_models import every_indicator as indicators

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.errors import LedgerError
from partnership_ledger.projections import runner, tables
from partnership_ledger.projections.facts import ContributionFact
from partnership_ledger.projections.sqlstore import SqlFactStore


def as_bytes(ops: list[dict[str, Any]]) -> bytes:
    return json.dumps(ops).encode()


@contextmanager
def counting_resumes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Count the batches that resumed the caches of the previous slice."""
    seen = [0]
    real = SqlFactStore.resume

    def resume(self: SqlFactStore, c: Any) -> None:
        seen[0] += 1
        real(self, c)

    monkeypatch.setattr(SqlFactStore, "resume", resume)
    yield seen


def batched_model(ledger: PartnershipLedger) -> Any:
    """The facts' read model (the one that keeps caches from slice to slice)."""
    return next(m for m in ledger.projections.models if m is ledger.facts)


PARTIES = [
    {"op": "register_party", "key": "pa", "name": "A", "sector": "npo"},
    {"op": "register_party", "key": "pb", "name": "B", "sector": "business"},
    ops.propose("p", "pa", ["pa", "pb"], "2020-04-01", title="T", purpose="P"),
]


def pledge(key: str, amount: str, party: str = "pa", year: int = 2020) -> dict[str, Any]:
    return ops.pledge(key, "p", party, "money", amount, year)


def deliver(key: str, amount: str, on: str = "2020-06-01") -> dict[str, Any]:
    return ops.deliver(key, amount, on)


@settings(max_examples=25)
@given(
    st.one_of(chunked_journals(), chunked_journals(valid_journals(min_ops=4, max_ops=40))),
    st.integers(1, 3),
)
def test_an_import_in_small_slices_keeps_read_models_equal_to_a_replay(
    tmp_path_factory: pytest.TempPathFactory, chunks: list[list[dict[str, Any]]], n: int
) -> None:
    path = tmp_path_factory.mktemp("sliced") / "l.sqlite"
    done: list[dict[str, Any]] = []
    with slices_of(n):
        for chunk in chunks:
            with ledger_at(path) as ledger:
                ledger.import_journal(as_bytes(chunk))
                done += chunk
                assert ledger.info()["read_model_lag"] == 0
                assert_materialized_equals_replay(ledger, done)


def test_slices_of_one_transaction_resume_the_caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ops = [*PARTIES, pledge("c1", "100"), deliver("c1", "10"), deliver("c1", "20"), pledge("c2", "5", "pb")]
    with counting_resumes(monkeypatch) as resumes, slices_of(1), ledger_at(tmp_path / "l.sqlite") as ledger:
        ledger.import_journal(as_bytes(ops))
        # Every slice but the first resumed (each operation here records one event).
        assert resumes[0] == len(ops) - 1
        before = resumes[0]
        ledger.import_journal(as_bytes([deliver("c1", "1", "2020-07-01")]))
        assert resumes[0] == before  # a new transaction starts afresh
        assert indicators(ledger, ops) == replayed(ledger, ops)


def test_an_import_that_fails_in_a_later_slice_leaves_no_cache_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "l.sqlite"
    with ledger_at(path) as ledger:
        ledger.import_journal(as_bytes(PARTIES))
        # The first slices pledge and deliver (cached by the read models), a later one fails:
        # the whole import rolls back.
        failing = [pledge("c1", "100"), deliver("c1", "60"), pledge("c2", "7"), deliver("nope", "1")]
        with counting_resumes(monkeypatch) as resumes, slices_of(1), pytest.raises(LedgerError):
            ledger.import_journal(as_bytes(failing))
        assert resumes[0] >= 2
        assert ledger.show("p")  # still there
        # The same keys again, other amounts: what the failed import cached must not show.
        ops = [pledge("c1", "40", "pb", 2021), deliver("c1", "5", "2021-06-01"), pledge("c2", "3", "pb")]
        with slices_of(1):
            ledger.import_journal(as_bytes(ops))
        done = PARTIES + ops
        assert indicators(ledger, done) == replayed(ledger, done)
        assert ledger.facts.get(ContributionFact, "c1") == ledger.replay_facts().get(ContributionFact, "c1")
        assert ledger.facts.get(ContributionFact, "c2") == ledger.replay_facts().get(ContributionFact, "c2")
        assert ledger.info()["read_model_lag"] == 0


def test_a_read_model_that_fails_in_a_later_slice_leaves_no_cache_behind(
    tmp_path: Path, every_op_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ops = every_op_journal(every_op_path)
    with ledger_at(tmp_path / "l.sqlite") as ledger:
        model = batched_model(ledger)
        real = model.apply_all
        calls = [0]

        def flaky(c: Any, items: Any) -> None:
            calls[0] += 1
            real(c, items)  # the slice's facts are in the caches, then the model fails
            if calls[0] == 3:
                raise RuntimeError("a read model bug")

        monkeypatch.setattr(model, "apply_all", flaky)
        with slices_of(2):
            ledger.import_journal(as_bytes(ops))  # recorded; the read models catch up after
        assert calls[0] > 3  # it failed in a later slice, and the catch-up went on
        monkeypatch.undo()
        ledger.catch_up()
        assert ledger.info()["read_model_lag"] == 0
        assert indicators(ledger, ops) == replayed(ledger, ops)


def test_a_writer_between_two_transactions_is_seen(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    with ledger_at(path) as one, ledger_at(path) as two:
        done = [*PARTIES, pledge("c1", "100"), deliver("c1", "10"), pledge("c2", "50", "pb")]
        with slices_of(1):
            one.import_journal(as_bytes(done))  # one's caches hold c1, c2 and their buckets
            for writer, op in [
                (two, deliver("c1", "20")),
                (one, deliver("c1", "30")),
                (two, deliver("c2", "5")),
                (one, deliver("c2", "6")),
                (one, deliver("c1", "1")),
            ]:
                writer.import_journal(as_bytes([op]))
                done.append(op)
                want = replayed(writer, done)
                assert indicators(one, done) == want
                assert indicators(two, done) == want
        assert one.facts.get(ContributionFact, "c1") == two.replay_facts().get(ContributionFact, "c1")
        assert one.facts.get(ContributionFact, "c1").delivered == 61  # type: ignore[union-attr]


def test_a_ledger_object_that_kept_caches_sees_another_process(tmp_path: Path) -> None:
    # The other writer is a fresh ledger object opened after the first wrote (as another
    # process would), and writes to contributions the first has just cached.
    path = tmp_path / "l.sqlite"
    with ledger_at(path) as one:
        with slices_of(1):
            one.import_journal(as_bytes([*PARTIES, pledge("c1", "100"), deliver("c1", "10")]))
        with PartnershipLedger.open(path) as other:
            other.import_journal(as_bytes([deliver("c1", "20"), pledge("c3", "9")]))
        with slices_of(1):
            one.import_journal(as_bytes([deliver("c1", "30"), deliver("c3", "4")]))
        assert one.facts.get(ContributionFact, "c1").delivered == 60  # type: ignore[union-attr]
        assert one.facts.get(ContributionFact, "c3").delivered == 4  # type: ignore[union-attr]
        assert sorted(one.facts.buckets("p")) == sorted(one.replay_facts().buckets("p"))


def test_a_rebuild_that_fails_half_way_leaves_the_read_models_as_they_were(
    tmp_path: Path, every_op_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebuild is one transaction: a read model failing on its second batch rolls all of
    it back (the read models, their indexes and the tracking row), and the connection's
    settings are as they were."""
    from test_read_models import read_model_rows

    with ledger_at(tmp_path / "l.sqlite") as ledger:
        ledger.import_journal(every_op_path.read_bytes())
        rows, tracked = read_model_rows(ledger), ledger.projections.position()
        model = batched_model(ledger)
        real = model.apply_all
        calls = [0]

        def apply_all(c: Any, items: Any) -> None:
            calls[0] += 1
            if calls[0] == 2:
                raise RuntimeError("a read model bug")
            real(c, items)

        monkeypatch.setattr(model, "apply_all", apply_all)
        monkeypatch.setattr(runner, "REBUILD_BATCH", 5)
        with pytest.raises(RuntimeError):
            ledger.rebuild()
        assert calls[0] == 2
        assert read_model_rows(ledger) == rows
        assert ledger.projections.position() == tracked == ledger.last_position()
        assert ledger.info()["synchronous"] == "FULL"  # what an accepted operation needs
        monkeypatch.undo()
        ops = every_op_journal(every_op_path)
        assert indicators(ledger, ops) == replayed(ledger, ops)
        ledger.import_journal(as_bytes([{**PARTIES[0], "key": "late"}]))
        assert ledger.projections.is_current()


class Stopped(Exception):
    """Raised by ``stop``."""


def stop(applied: int) -> None:
    """A catch-up's progress that stops it after its first batch (committed)."""
    raise Stopped(applied)


def test_catch_up_batches_resume_the_caches_unless_another_writer_came_between(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from partnership_ledger.projections import runner

    path = tmp_path / "l.sqlite"
    ops = [*PARTIES, pledge("c1", "100"), pledge("c2", "50", "pb")]
    ops += [deliver("c1", str(n)) for n in range(1, 7)] + [deliver("c2", str(n)) for n in range(1, 5)]
    with ledger_at(path) as one:
        one.import_journal(as_bytes(PARTIES))  # applied: what follows is a catch-up, not a fill
    monkeypatch.setenv("PARTNERSHIP_LEDGER_READ_MODELS", "follow")  # recording leaves them behind
    monkeypatch.setattr(runner, "BATCH", 2)
    with ledger_at(path) as one, ledger_at(path) as two:
        one.import_journal(as_bytes(ops[len(PARTIES) :]))
        batches: list[int] = []

        def between(n: int) -> None:
            batches.append(n)
            if len(batches) == 4:  # one has c1 and c2 cached: another writer applies two events
                with pytest.raises(Stopped) as stopped:
                    two.catch_up(progress=stop)  # stopped after its first batch
                assert stopped.value.args == (2,)

        with counting_resumes(monkeypatch) as resumes:
            one.catch_up(progress=between)
        # Every batch resumed the one before, but the one after the other writer's.
        assert len(batches) >= 6
        assert resumes[0] == len(batches) - 2
        assert one.info()["read_model_lag"] == 0
        assert indicators(one, ops) == replayed(one, ops)
        assert one.facts.get(ContributionFact, "c1") == one.replay_facts().get(ContributionFact, "c1")
        assert one.facts.get(ContributionFact, "c2") == one.replay_facts().get(ContributionFact, "c2")
        assert sorted(one.facts.buckets("p")) == sorted(one.replay_facts().buckets("p"))


def bytes_written() -> int | None:
    """The bytes this process has written so far (Linux's ``/proc/self/io``), None elsewhere."""
    try:
        with open("/proc/self/io") as io:
            return next(int(line.split()[1]) for line in io if line.startswith("wchar:"))
    except (OSError, StopIteration):
        return None


def test_a_rebuild_writes_no_more_where_sqlite_zeroes_what_it_frees(tmp_path: Path) -> None:
    """Some builds of SQLite (Debian's) overwrite every page they free with zeros
    (``secure_delete``). A rebuild drops the old read models: zeroed, their pages would all be
    written out again before the new ones (docs/embedding.md). On such a build a rebuild
    writes as much as on one that frees pages as they are."""
    if bytes_written() is None:
        pytest.skip("counts the bytes written through Linux's /proc/self/io")
    path = tmp_path / "l.sqlite"
    ops = PARTIES + [pledge(f"c{i}", str(1000 + i)) for i in range(200)]
    ops += [{**deliver(f"c{i}", "7"), "note": "n" * 200} for i in range(200)]
    with ledger_at(path) as ledger:
        ledger.import_journal(as_bytes(ops))
        ledger.rebuild()  # once first: what it loads the first time is loaded
        want = indicators(ledger, ops)
    written: dict[bool, int] = {}
    for zeroing in (False, True):
        with ledger_at(path) as ledger:  # opened afresh each time: the same file, no write-ahead log
            with ledger.db.transaction() as c:
                c.execute(f"PRAGMA secure_delete={int(zeroing)}")  # as the build would have it
            before = bytes_written() or 0
            ledger.rebuild()
            written[zeroing] = (bytes_written() or 0) - before
            assert indicators(ledger, ops) == want
    assert written[True] <= written[False] * 1.1, written


SECRET = "a note the embedding program deleted"


def own_table_with_a_secret(ledger: PartnershipLedger) -> None:
    """A table of the embedding program's own in the ledger's file, with one row to delete."""
    with ledger.db.transaction() as c:
        c.execute("CREATE TABLE program_notes (note TEXT)")
        c.execute("INSERT INTO program_notes VALUES (?)", (SECRET,))


def holds_the_secret(path: Path) -> bool:
    """Whether the ledger's file or its write-ahead log (if one is left) holds ``SECRET``."""
    wal = Path(f"{path}-wal")
    return SECRET.encode() in path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def test_after_a_rebuild_what_the_ledger_deletes_is_still_zeroed(tmp_path: Path) -> None:
    """A rebuild frees the old read models' pages as they are, and only those: a program
    whose SQLite zeroes what it deletes (its build's default, or its own setting) still has
    that after a rebuild, and what it then deletes is gone from the file."""
    path = tmp_path / "l.sqlite"
    with ledger_at(path) as ledger:
        ledger.import_journal(as_bytes([*PARTIES, pledge("c1", "100"), deliver("c1", "10")]))
        own_table_with_a_secret(ledger)
    assert holds_the_secret(path)
    with ledger_at(path) as ledger:
        with ledger.db.transaction() as c:
            c.execute("PRAGMA secure_delete=1")
        ledger.rebuild()
        with ledger.db.transaction() as c:
            c.execute("DELETE FROM program_notes")
    assert not holds_the_secret(path)


def test_zeroing_is_back_after_a_drop_of_read_models_that_failed(tmp_path: Path) -> None:
    """The same when the drop fails half way (it frees pages as they are only until it ends)."""
    path = tmp_path / "l.sqlite"
    with ledger_at(path) as ledger:
        ledger.import_journal(as_bytes(PARTIES))
        own_table_with_a_secret(ledger)
        with ledger.db.transaction() as c:
            c.execute("PRAGMA secure_delete=1")
            with pytest.raises(RuntimeError), tables.secure_delete_off(c, "sqlite"):
                raise RuntimeError("a drop that failed")
            c.execute("DELETE FROM program_notes")
    assert not holds_the_secret(path)


@pytest.mark.parametrize("n", [1, 3, 2000])
def test_partnerships_pledged_and_delivered_in_the_batch_that_proposes_them(tmp_path: Path, n: int) -> None:
    """The shape of a flat journal: a new partnership per few pledges, each delivered at once.
    A batch reads no sums of a partnership it proposes and no stored row of a contribution it
    pledges (none is stored yet); sliced or not, and rebuilt, the read models are the replay's."""
    done = PARTIES[:2]
    for b in range(3):
        done.append(ops.propose(f"f{b}", "pa", ["pa", "pb"], "2020-04-01", title="T", purpose="P"))
        for i in range(3):
            c = f"f{b}-c{i}"
            done += [
                ops.pledge(c, f"f{b}", ("pa", "pb")[i % 2], "money", "100", 2020 + i % 2),
                ops.deliver(c, "40", f"202{1 + i % 2}-03-01"),
            ]
        done.append(ops.deliver(f"f{b}-c0", "10", "2021-03-01"))  # a later delivery, in a later slice
    path = tmp_path / "l.sqlite"
    with slices_of(n), ledger_at(path) as ledger:
        ledger.import_journal(as_bytes(done[:12]))  # f1 is proposed and its first pledge made here
        ledger.import_journal(as_bytes(done[12:]))
        assert_materialized_equals_replay(ledger, done)
        before = {k: ledger.show(k) for k in ("f0", "f1", "f2")}
        ledger.rebuild()
        assert_materialized_equals_replay(ledger, done)
        assert {k: ledger.show(k) for k in ("f0", "f1", "f2")} == before
