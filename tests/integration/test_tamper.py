"""Tampering with a ledger's SQLite file is always found, at the first bad position.

One base ledger (the demo journal) is built per module and copied for every case; each case
edits the copy's rows directly with sqlite3, as someone with the file would, then walks the
chain (``verify_chain``) or checks it against a checkpoint taken before (``verify_checkpoint``).
Every case must be detected: one miss fails the test. The ``ci`` profile runs at least 1,000
cases over this module.
"""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledger_files import fold_wal

from partnership_ledger import integrity
from partnership_ledger.application import PartnershipLedger
from partnership_ledger.demo import demo_journal_bytes
from partnership_ledger.integrity import VerifyResult, link_hash, verify_chain, verify_checkpoint
from partnership_ledger.integrity import verify as walk
from partnership_ledger.storage.sqlite import file_db

CI = os.environ.get("HYPOTHESIS_PROFILE") == "ci"
# At least 1,000 cases in all under the ci profile (11 tests here); the default stays quick.
CASES = 100 if CI else settings().max_examples
tamper_settings = settings(
    max_examples=CASES,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
# Small batches make the walk cross batch boundaries next to the damage.
batches = st.sampled_from([1, 2, 3, 7, 64, walk.BATCH])


class Base:
    """The base ledger: its file's bytes (WAL checkpointed into it), size and checkpoint."""

    def __init__(self, data: bytes, size: int, checkpoint: dict[str, Any], folder: Path) -> None:
        self.data = data
        self.size = size  # events, at positions 1..size
        self.checkpoint = checkpoint
        self.folder = folder
        self.counter = itertools.count()

    def __repr__(self) -> str:  # short, for hypothesis's reports
        return f"<base ledger of {self.size} events>"

    def copy(self) -> Path:
        path = self.folder / f"case-{next(self.counter)}.sqlite"
        path.write_bytes(self.data)
        return path


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Base:
    folder = tmp_path_factory.mktemp("tamper")
    path = folder / "base.sqlite"
    with PartnershipLedger.open(path) as ledger:
        ledger.import_journal(demo_journal_bytes())
        checkpoint = integrity.make_checkpoint(ledger.db)
        size = ledger.event_count()
    fold_wal(path)
    assert size == checkpoint["size"] == checkpoint["position"] > 100
    return Base(path.read_bytes(), size, checkpoint, folder)


@contextmanager
def edited(base: Base) -> Iterator[tuple[Path, sqlite3.Connection]]:
    """A fresh copy of the base ledger and a connection to edit it in one transaction."""
    path = base.copy()
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA synchronous=OFF")  # a throwaway copy: no need to wait for the disk
    try:
        con.execute("BEGIN")
        yield path, con
        con.execute("COMMIT")
    finally:
        con.close()


def remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


@contextmanager
def batch_size(n: int) -> Iterator[None]:
    old = walk.BATCH
    walk.BATCH = n
    try:
        yield
    finally:
        walk.BATCH = old


def verify(path: Path, batch: int, checkpoint: dict[str, Any] | None = None) -> VerifyResult:
    with batch_size(batch), file_db(path) as db:
        result = verify_chain(db) if checkpoint is None else verify_checkpoint(db, checkpoint)
    remove(path)
    return result


def assert_found(result: VerifyResult, position: int | None, *problems: str) -> None:
    assert not result.ok, "tampering went undetected"
    assert result.problem in problems, result
    if position is not None:
        assert result.bad_position == position, result
    assert result.message


# -- reading and writing rows ----------------------------------------------------------------

COLUMNS = "originator_id, originator_version, topic, state"


def row(con: sqlite3.Connection, position: int) -> tuple[Any, ...]:
    found = con.execute(f"SELECT {COLUMNS} FROM stored_events WHERE rowid=?", (position,)).fetchone()
    assert found is not None
    return tuple(found)


def link(con: sqlite3.Connection, position: int) -> tuple[int, bytes]:
    found = con.execute("SELECT prev_position, hash FROM ledger_chain WHERE position=?", (position,)).fetchone()
    assert found is not None
    return int(found[0]), bytes(found[1])


def flip(data: bytes, index: int, delta: int) -> bytes:
    """``data`` with one byte changed (``delta`` in 1..255, so it always differs)."""
    i = index % len(data)
    return data[:i] + bytes([(data[i] + delta) % 256]) + data[i + 1 :]


def shift_up(con: sqlite3.Connection, table: str, column: str, start: int) -> None:
    # Two steps, so that no intermediate value collides with an existing primary key.
    con.execute(f"UPDATE {table} SET {column} = {column} + 1000000000 WHERE {column} >= ?", (start,))
    con.execute(f"UPDATE {table} SET {column} = {column} - 1000000000 + 1 WHERE {column} >= 1000000000")


def positions(base: Base) -> st.SearchStrategy[int]:
    return st.integers(1, base.size)


# -- edits of one row -----------------------------------------------------------------------------


@tamper_settings
@given(data=st.data(), index=st.integers(0, 10_000), delta=st.integers(1, 255), batch=batches)
def test_a_changed_byte_of_an_event_payload_is_found(
    base: Base, data: st.DataObject, index: int, delta: int, batch: int
) -> None:
    p = data.draw(positions(base))
    with edited(base) as (path, con):
        state = bytes(row(con, p)[3])
        con.execute("UPDATE stored_events SET state=? WHERE rowid=?", (flip(state, index, delta), p))
    assert_found(verify(path, batch), p, "changed")


@tamper_settings
@given(data=st.data(), index=st.integers(0, 200), delta=st.integers(1, 255), batch=batches)
def test_a_changed_byte_of_an_event_topic_is_found(
    base: Base, data: st.DataObject, index: int, delta: int, batch: int
) -> None:
    p = data.draw(positions(base))
    with edited(base) as (path, con):
        (topic,) = con.execute("SELECT CAST(topic AS BLOB) FROM stored_events WHERE rowid=?", (p,)).fetchone()
        # Stored as text even when the edit leaves invalid UTF-8, as a hex editor would.
        con.execute(
            "UPDATE stored_events SET topic=CAST(? AS TEXT) WHERE rowid=?",
            (flip(bytes(topic), index, delta), p),
        )
    assert_found(verify(path, batch), p, "changed")


@tamper_settings
@given(data=st.data(), index=st.integers(0, 31), delta=st.integers(1, 255), batch=batches)
def test_a_changed_byte_of_an_aggregate_id_is_found(
    base: Base, data: st.DataObject, index: int, delta: int, batch: int
) -> None:
    p = data.draw(positions(base))
    with edited(base) as (path, con):
        (oid,) = con.execute("SELECT CAST(originator_id AS BLOB) FROM stored_events WHERE rowid=?", (p,)).fetchone()
        con.execute(
            "UPDATE stored_events SET originator_id=CAST(? AS TEXT) WHERE rowid=?",
            (flip(bytes(oid), index, delta), p),
        )
    assert_found(verify(path, batch), p, "changed")


@tamper_settings
@given(data=st.data(), batch=batches)
def test_a_changed_originator_version_is_found(base: Base, data: st.DataObject, batch: int) -> None:
    p = data.draw(positions(base))
    with edited(base) as (path, con):
        oid, version, _, _ = row(con, p)
        taken = {
            v for (v,) in con.execute("SELECT originator_version FROM stored_events WHERE originator_id=?", (oid,))
        }
        new = data.draw(
            st.one_of(st.integers(-3, version + 5), st.integers(-(2**63), 2**63 - 1)).filter(lambda v: v not in taken)
        )
        con.execute("UPDATE stored_events SET originator_version=? WHERE rowid=?", (new, p))
    assert_found(verify(path, batch), p, "changed")


# -- deletions, insertions, reordering ------------------------------------------------------------


@tamper_settings
@given(data=st.data(), what=st.sampled_from(["event", "event and link", "link"]), batch=batches)
def test_a_deleted_row_is_found(base: Base, data: st.DataObject, what: str, batch: int) -> None:
    p = data.draw(positions(base))
    with edited(base) as (path, con):
        if what != "link":
            con.execute("DELETE FROM stored_events WHERE rowid=?", (p,))
        if what != "event":
            con.execute("DELETE FROM ledger_chain WHERE position=?", (p,))
    if what == "event and link" and p == base.size:
        # The last event and its link gone leave a shorter, consistent chain: only a
        # checkpoint taken before can tell (see the truncation test).
        assert_found(verify(path, batch, base.checkpoint), p, "truncated")
    else:
        assert_found(verify(path, batch), p, "inserted" if what == "link" else "missing")


@tamper_settings
@given(
    data=st.data(),
    where=st.sampled_from(["end, no link", "end, forged link", "middle, no link", "middle, good link"]),
    gap=st.integers(1, 5),
    version_bump=st.integers(1, 100),
    payload=st.binary(min_size=0, max_size=300),
    batch=batches,
)
def test_an_inserted_forged_row_is_found(
    base: Base, data: st.DataObject, where: str, gap: int, version_bump: int, payload: bytes, batch: int
) -> None:
    model = data.draw(positions(base))
    with edited(base) as (path, con):
        oid, _, topic, state = row(con, model)
        (top,) = con.execute(
            "SELECT MAX(originator_version) FROM stored_events WHERE originator_id=?", (oid,)
        ).fetchone()
        forged = (oid, top + version_bump, topic, payload or state)
        if where.startswith("end"):
            p = base.size + (gap if where == "end, no link" else 1)
        else:
            p = data.draw(positions(base))
            shift_up(con, "stored_events", "rowid", p)
            shift_up(con, "ledger_chain", "position", p)
            shift_up(con, "ledger_chain", "prev_position", p)
        con.execute(f"INSERT INTO stored_events (rowid, {COLUMNS}) VALUES (?,?,?,?,?)", (p, *forged))
        if where == "end, forged link":
            con.execute("INSERT INTO ledger_chain VALUES (?,?,?)", (p, base.size, os.urandom(32)))
        if where == "middle, good link":
            # Whoever can write the file can compute a link for the forged row too: the
            # chain then breaks at the next position, whose link no longer fits.
            prev_hash = link(con, p - 1)[1] if p > 1 else integrity.GENESIS
            con.execute("INSERT INTO ledger_chain VALUES (?,?,?)", (p, p - 1, link_hash(prev_hash, p, *forged)))
            con.execute("UPDATE ledger_chain SET prev_position=? WHERE position=?", (p, p + 1))
    expected = {
        "end, no link": (p, "inserted"),
        "end, forged link": (p, "changed"),
        "middle, no link": (p, "inserted"),
        "middle, good link": (p + 1, "changed"),
    }[where]
    assert_found(verify(path, batch), *expected)


@tamper_settings
@given(data=st.data(), with_links=st.booleans(), batch=batches)
def test_two_swapped_rows_are_found(base: Base, data: st.DataObject, with_links: bool, batch: int) -> None:
    i = data.draw(st.integers(1, base.size - 1))
    j = data.draw(st.integers(i + 1, base.size))
    with edited(base) as (path, con):
        a, b = row(con, i), row(con, j)
        con.execute("UPDATE stored_events SET originator_id='swapping' WHERE rowid=?", (i,))
        for position, values in ((j, a), (i, b)):
            con.execute(
                "UPDATE stored_events SET originator_id=?, originator_version=?, topic=?, state=? WHERE rowid=?",
                (*values, position),
            )
        if with_links:
            la, lb = link(con, i), link(con, j)
            con.execute("UPDATE ledger_chain SET prev_position=?, hash=? WHERE position=?", (*lb, i))
            con.execute("UPDATE ledger_chain SET prev_position=?, hash=? WHERE position=?", (*la, j))
    result = verify(path, batch)
    assert_found(result, i, "out_of_order")
    if not with_links:
        assert f"recorded at position {j}" in result.message


# -- the tail: only a checkpoint can tell -------------------------------------------------------


@tamper_settings
@given(data=st.data(), batch=batches)
def test_a_truncated_tail_is_found_by_the_checkpoint(base: Base, data: st.DataObject, batch: int) -> None:
    k = data.draw(st.integers(1, base.size))
    keep = base.size - k
    with edited(base) as (path, con):
        con.execute("DELETE FROM stored_events WHERE rowid > ?", (keep,))
        con.execute("DELETE FROM ledger_chain WHERE position > ?", (keep,))
    alone = verify(duplicate(base, path), batch)
    assert alone.ok  # a shorter chain is still one unbroken line
    assert alone.size == keep
    assert_found(verify(path, batch, base.checkpoint), keep + 1, "truncated")


@tamper_settings
@given(k=st.integers(1, 40), new=st.integers(1, 50), batch=batches)
def test_a_replaced_tail_is_found_by_the_checkpoint(base: Base, k: int, new: int, batch: int) -> None:
    """Delete the last k events and their links, then record others through the API: the new
    events reuse the same positions and chain on cleanly from the cut."""
    keep = base.size - k
    with edited(base) as (path, con):
        con.execute("DELETE FROM stored_events WHERE rowid > ?", (keep,))
        con.execute("DELETE FROM ledger_chain WHERE position > ?", (keep,))
    forged = [
        {"op": "register_party", "key": f"forged-{n}", "name": f"Forged {n}", "sector": "other"} for n in range(new)
    ]
    with PartnershipLedger.open(path, create=False) as ledger:
        recorded = ledger.import_journal(json.dumps(forged))
    assert recorded.first_position == keep + 1  # the positions were reused
    end = recorded.last_position
    assert end is not None
    assert verify(duplicate(base, path), batch).ok
    result = verify(path, batch, base.checkpoint)
    if end >= base.size:
        assert_found(result, None, "replaced")
        assert keep + 1 <= (result.bad_position or 0) <= base.size
    else:
        assert_found(result, end + 1, "truncated")


def duplicate(base: Base, path: Path) -> Path:
    """Another copy of an edited ledger (its WAL checkpointed into the file first)."""
    copy = base.copy()
    copy.write_bytes(fold_wal(path).read_bytes())
    return copy


@tamper_settings
@given(data=st.data(), index=st.integers(0, 10_000), delta=st.integers(1, 255), batch=batches)
def test_an_edit_with_the_whole_chain_recomputed_is_found_by_the_checkpoint(
    base: Base, data: st.DataObject, index: int, delta: int, batch: int
) -> None:
    """The chain has no secret: an editor can recompute every later link. Only a checkpoint
    kept elsewhere shows that the history no longer extends what it recorded."""
    p = data.draw(positions(base))
    with edited(base) as (path, con):
        state = bytes(row(con, p)[3])
        con.execute("UPDATE stored_events SET state=? WHERE rowid=?", (flip(state, index, delta), p))
        prev = link(con, p - 1)[1] if p > 1 else integrity.GENESIS
        for q in range(p, base.size + 1):
            prev = link_hash(prev, q, *row(con, q))
            con.execute("UPDATE ledger_chain SET hash=? WHERE position=?", (prev, q))
    assert verify(duplicate(base, path), batch).ok
    result = verify(path, batch, base.checkpoint)
    assert_found(result, base.size, "replaced")


@tamper_settings
@given(batch=batches)
def test_an_unmodified_ledger_always_verifies(base: Base, batch: int) -> None:
    path = base.copy()
    again = base.copy()
    result = verify(path, batch)
    assert result.ok, result.message
    assert (result.size, result.root, result.last_position) == (
        base.checkpoint["size"],
        base.checkpoint["root"],
        base.checkpoint["position"],
    )
    assert verify(again, batch, base.checkpoint).ok


def test_the_ci_profile_runs_a_thousand_tamper_cases() -> None:
    tests = [v for k, v in globals().items() if k.startswith("test_") and getattr(v, "is_hypothesis_test", False)]
    total = sum(t._hypothesis_internal_use_settings.max_examples for t in tests)
    assert len(tests) == 11
    assert total >= (1000 if CI else len(tests))
