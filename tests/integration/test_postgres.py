"""The same ledger on SQLite and on PostgreSQL, many writers, and the ``follow`` process.

Tests taking ``backend_url``/``any_ledger``/``new_location`` run once on each backend (see
``conftest_pg.py``: a fresh SQLite file, or a fresh database on the PostgreSQL server that
``.ci/run`` starts). The ``pg_url`` tests are about PostgreSQL alone: opening errors, eight
processes writing at once, and ``partnership-ledger follow`` (LISTEN/NOTIFY with polling).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pg
import psycopg
import pytest
from click.testing import CliRunner
from partnership_ledger_cli.follow_cmds import Listener, follow_ledger
from partnership_ledger_cli.main import cli

from partnership_ledger.application import ENV_READ_MODELS, PartnershipLedger
from partnership_ledger.demo import demo_journal_bytes
from partnership_ledger.errors import JournalError, StorageError
from partnership_ledger.integrity import verify_chain

DEMO = json.loads(demo_journal_bytes())
SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"


def assert_matches_schema(name: str, value: Any) -> None:
    """``value`` is valid against ``docs/schemas/<name>.json`` (the CLI's JSON contract)."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    schemas = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in SCHEMAS.glob("*.json")}
    registry: Registry[Any] = Registry().with_resources(
        (n, Resource.from_contents(s, default_specification=DRAFT202012)) for n, s in schemas.items()
    )
    Draft202012Validator(schemas[f"{name}.json"], registry=registry).validate(value)


def demo_ledger(location: str) -> PartnershipLedger:
    ledger = PartnershipLedger.open(location)
    ledger.import_journal(demo_journal_bytes(), source="demo")
    return ledger


def tamper(ledger: PartnershipLedger, sql: str, params: tuple[Any, ...]) -> None:
    """Change the events table behind the ledger's back (what an attacker with SQL could do)."""
    db = ledger.db
    sql = sql.format(events=db.events_table, pos=db.position_col)
    with db.transaction() as c:
        c.execute(sql, params)


def read_state(ledger: PartnershipLedger, position: int) -> bytes:
    db = ledger.db
    with db.transaction(commit=False) as c:
        c.execute(f"SELECT state FROM {db.events_table} WHERE {db.position_col} = ?", (position,))
        row = c.fetchone()
    assert row is not None
    return bytes(row[0])


# -- the same behaviour on both backends --------------------------------------------------


def test_info_names_the_backend(any_ledger: PartnershipLedger, backend: str) -> None:
    info = any_ledger.info()
    assert info["backend"] == backend
    assert info["events"] == 0
    if backend == "sqlite":
        assert (info["journal_mode"], info["synchronous"]) == ("wal", "FULL")
    else:
        assert info["location"].startswith("postgresql://")
        assert "journal_mode" not in info
        assert info["server_version"].startswith("15")


def test_demo_imports_with_show_and_history(any_ledger: PartnershipLedger) -> None:
    result = any_ledger.import_journal(demo_journal_bytes())
    assert result.applied == len(DEMO)
    assert any_ledger.event_count() == result.events
    assert any_ledger.last_position() == result.last_position
    registered = sorted(o["key"] for o in DEMO if o["op"] == "register_party")
    proposed = sorted(o["key"] for o in DEMO if o["op"] == "propose_partnership")
    assert [p["key"] for p in any_ledger.parties()] == registered
    assert [p["key"] for p in any_ledger.partnerships()] == proposed

    history = any_ledger.history()
    assert [h["op"] for h in history] == [o["op"] for o in DEMO]
    positions = [h["position"] for h in history]
    assert positions == sorted(set(positions))
    first = DEMO[0]
    assert any_ledger.show(first["key"])["name"] == first["name"]
    partnership = proposed[0]
    own = any_ledger.history(partnership)
    expected = [o for o in DEMO if o.get("partnership") == partnership or o.get("key") == partnership]
    assert len(own) >= len(expected) > 0


def test_export_round_trip(any_ledger: PartnershipLedger, new_location: Callable[[], str]) -> None:
    any_ledger.import_journal(demo_journal_bytes())
    exported = list(any_ledger.export_operations())
    assert len(exported) == len(DEMO)
    with PartnershipLedger.open(new_location()) as copy:
        copy.import_journal(json.dumps(exported))
        assert list(copy.export_operations()) == exported
        for key in [p["key"] for p in any_ledger.partnerships()]:
            assert copy.show(key) == any_ledger.show(key)


def test_reimport_records_nothing_new(any_ledger: PartnershipLedger) -> None:
    first = any_ledger.import_journal(demo_journal_bytes())
    chain = verify_chain(any_ledger.db)
    again = any_ledger.import_journal(demo_journal_bytes())
    assert (again.applied, again.skipped, again.events) == (0, len(DEMO), 0)
    assert any_ledger.event_count() == first.events
    assert verify_chain(any_ledger.db) == chain


def test_a_bad_journal_records_nothing(any_ledger: PartnershipLedger) -> None:
    any_ledger.register_party("npo-a", "NPO A", "npo")
    before = (any_ledger.event_count(), verify_chain(any_ledger.db).root)
    journal = [
        {"op": "register_party", "key": "npo-b", "name": "NPO B", "sector": "npo"},
        {
            "op": "propose_partnership",
            "key": "p",
            "title": "T",
            "purpose": "P",
            "proposed_by": "npo-a",
            "members": ["npo-a", "npo-b"],
            "on": "2020-04-01",
        },
        {"op": "join_partnership", "partnership": "p", "party": "nobody", "on": "2020-05-01"},
    ]
    with pytest.raises(JournalError, match="operation 2 \\(join_partnership\\)"):
        any_ledger.import_journal(json.dumps(journal))
    assert (any_ledger.event_count(), verify_chain(any_ledger.db).root) == before
    assert any_ledger.kind_of("npo-b") is None
    assert any_ledger.kind_of("p") is None
    assert [h["key"] for h in any_ledger.history()] == ["npo-a"]


def test_read_models_equal_a_replay(any_ledger: PartnershipLedger) -> None:
    any_ledger.import_journal(demo_journal_bytes())
    history = any_ledger.history()
    keys = [p["key"] for p in any_ledger.partnerships()]

    def indicators(**as_of: str) -> list[Any]:
        found: list[Any] = []
        for key in keys:
            for query in (
                any_ledger.burden_balance,
                any_ledger.voice,
                any_ledger.target_progress,
                any_ledger.evaluation_summary,
            ):
                value = query(key, **as_of)
                found.append({k: v for k, v in value.items() if k != "as_of"})
        return found

    materialized = indicators()
    assert materialized == indicators(as_of="9999-12-31")  # replayed from the events
    assert any_ledger.rebuild() == any_ledger.event_count()
    assert any_ledger.history() == history
    assert indicators() == materialized


def test_verify_finds_a_changed_byte(any_ledger: PartnershipLedger) -> None:
    any_ledger.import_journal(demo_journal_bytes())
    result = verify_chain(any_ledger.db)
    assert result.ok
    assert result.size == any_ledger.event_count()
    position = any_ledger.last_position() // 2
    state = bytearray(read_state(any_ledger, position))
    state[len(state) // 2] ^= 0x01
    tamper(any_ledger, "UPDATE {events} SET state = ? WHERE {pos} = ?", (bytes(state), position))
    broken = verify_chain(any_ledger.db)
    assert not broken.ok
    assert (broken.bad_position, broken.problem) == (position, "changed")


def test_verify_finds_a_deleted_event(any_ledger: PartnershipLedger) -> None:
    any_ledger.import_journal(demo_journal_bytes())
    position = any_ledger.last_position() - 3
    tamper(any_ledger, "DELETE FROM {events} WHERE {pos} = ?", (position,))
    broken = verify_chain(any_ledger.db)
    assert (broken.ok, broken.bad_position, broken.problem) == (False, position, "missing")


def test_a_repeated_operation_id_rolls_back_the_whole_insert(any_ledger: PartnershipLedger) -> None:
    # The index rows are the recorder's last line of defence: an operation id recorded twice
    # (two writers past their checks at once) fails the insert, events and links included.
    import uuid

    from eventsourcing.persistence import IntegrityError, StoredEvent

    any_ledger.register_party("npo-a", "A", "npo", op_id="op-1")
    before = (any_ledger.event_count(), verify_chain(any_ledger.db).root)
    stray = StoredEvent(uuid.uuid4(), 1, "partnership_ledger.domain.party:Party.Registered", b"{}")
    with pytest.raises(IntegrityError):
        any_ledger.recorder.insert_events([stray], ledger_ops=[("op-1", 0)])
    with pytest.raises(IntegrityError):
        any_ledger.recorder.insert_events([stray], ledger_keys=[("npo-a", "party", stray.originator_id.hex)])
    assert (any_ledger.event_count(), verify_chain(any_ledger.db).root) == before
    any_ledger.recorder.insert_events([stray], ledger_ops=[("op-2", 0)])
    assert any_ledger.event_count() == before[0] + 1
    assert verify_chain(any_ledger.db).ok


def test_parts_by_size_keeps_order_and_caps_each_part() -> None:
    import uuid

    from eventsourcing.persistence import StoredEvent

    from partnership_ledger.storage.postgres import parts_by_size

    events = [StoredEvent(uuid.uuid4(), 1, "t", b"x" * n) for n in (5, 5, 1, 20, 3, 3, 4)]
    parts = list(parts_by_size(events, 10))
    assert [[len(e.state) for e in part] for part in parts] == [[5, 5], [1], [20], [3, 3, 4]]
    assert [e for part in parts for e in part] == events
    assert list(parts_by_size([], 10)) == []


@pytest.mark.postgres
def test_a_slice_of_large_events_is_sent_in_parts(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # psycopg in pipeline mode hangs on a parameter of about 10 MB: the recorder sends a slice
    # whose states pass PARAM_BYTES in several inserts. Made small here, so the demo's slices
    # go in many parts; the ledger must come out as if each went in one.
    from eventsourcing.persistence import StoredEvent

    from partnership_ledger.storage import postgres

    monkeypatch.setattr(postgres, "PARAM_BYTES", 2048)
    calls: list[int] = []  # the events of each part sent
    split = postgres.parts_by_size

    def counted(stored_events: Sequence[StoredEvent], limit: int) -> Iterator[Sequence[StoredEvent]]:
        for part in split(stored_events, limit):
            calls.append(len(part))
            yield part

    monkeypatch.setattr(postgres, "parts_by_size", counted)
    with demo_ledger(pg_url) as ledger:
        assert len(calls) > 1
        assert sum(calls) == ledger.event_count()
        assert verify_chain(ledger.db).ok
        assert ledger.info()["read_model_lag"] == 0
        with ledger.db.transaction(commit=False) as c:
            c.execute(
                "SELECT COUNT(*) FROM ledger_ops o JOIN partnershipledger_events e ON e.notification_id = o.position"
            )
            row = c.fetchone()
        assert row is not None
        assert row[0] == len(DEMO)
        assert ledger.import_journal(demo_journal_bytes()).applied == 0  # every operation found again


def test_sql_with_placeholders_and_percent_signs(any_ledger: PartnershipLedger) -> None:
    with any_ledger.db.transaction(commit=False) as c:
        c.execute("SELECT ?, 'a%?''b', 7 % ?, ? || '%'", ("x", 4, "y"))
        assert c.fetchone() == ("x", "a%?'b", 3, "y%")


def test_the_cli_works_on_both(backend_url: str, tmp_path: Path) -> None:
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(cli, ["--db", backend_url, *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    journal = tmp_path / "demo.json"
    journal.write_bytes(demo_journal_bytes())
    run("init")
    run("import", str(journal))
    info = json.loads(run("info", "--json"))
    assert info["events"] > 0
    assert_matches_schema("info", info)
    partnership = next(o["key"] for o in DEMO if o["op"] == "propose_partnership")
    assert json.loads(run("show", partnership, "--json"))["key"] == partnership
    assert len(json.loads(run("history", "--json"))) == len(DEMO)
    assert json.loads(run("balance", partnership, "--json"))["partnership"] == partnership
    run("export", "-o", str(tmp_path / "copy.json"))
    assert len(json.loads((tmp_path / "copy.json").read_text(encoding="utf-8"))) == len(DEMO)
    run("verify")
    run("rebuild")
    assert json.loads(run("info", "--json"))["read_model_lag"] == 0


# -- PostgreSQL: opening -------------------------------------------------------------------


def test_open_errors_are_one_clear_sentence(pg_url: str, pg_server: str) -> None:
    from urllib.parse import urlsplit

    parts = urlsplit(pg_url)
    wrong_password = parts._replace(netloc=f"{parts.username}:wrong@{parts.hostname}:{parts.port}")
    with pytest.raises(StorageError, match="refused user"):
        PartnershipLedger.open(wrong_password.geturl())
    with pytest.raises(StorageError, match="the database does not exist"):
        PartnershipLedger.open(parts._replace(path="/no_such_database").geturl())
    with pytest.raises(StorageError, match="there is no ledger in the PostgreSQL database"):
        PartnershipLedger.open(pg_url, create=False)
    with pytest.raises(StorageError, match="names no database"):
        PartnershipLedger.open(parts._replace(path="").geturl())
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free_port = s.getsockname()[1]
    closed = parts._replace(netloc=f"{parts.username}:x@127.0.0.1:{free_port}")
    with pytest.raises(StorageError, match="cannot reach the PostgreSQL server"):
        PartnershipLedger.open(closed.geturl())
    # And the password never appears in what the ledger says about itself.
    with PartnershipLedger.open(pg_url) as ledger:
        assert parts.password not in json.dumps(ledger.info())


def test_without_psycopg_the_error_says_to_install_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import partnership_ledger.storage

    for name in list(sys.modules):
        if name.startswith(("psycopg", "eventsourcing.postgres", "partnership_ledger.storage.p")):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.delattr(partnership_ledger.storage, "postgres", raising=False)
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(StorageError, match="install the postgres extra"):
        PartnershipLedger.open("postgresql://u:p@127.0.0.1:1/db")


# -- PostgreSQL: many writers ----------------------------------------------------------------

WRITERS = 8


def test_eight_writers_lose_and_duplicate_nothing(backend: str, backend_url: str) -> None:
    # Eight processes open the ledger, import one journal and record their own operations,
    # all at once. On PostgreSQL they create it too; a new SQLite file is created first (its
    # switch to WAL mode does not wait for other processes opening it at the same moment).
    if backend == "sqlite":
        PartnershipLedger.open(backend_url).close()
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(WRITERS)
    processes = [ctx.Process(target=pg.writer, args=(backend_url, n, barrier)) for n in range(WRITERS)]
    for p in processes:
        p.start()
    for p in processes:
        p.join(timeout=300)
    assert [p.exitcode for p in processes] == [0] * WRITERS

    with PartnershipLedger.open(backend_url) as ledger:
        keys = {f"w{n}-{j}" for n in range(WRITERS) for j in range(pg.PARTIES_EACH)}
        # One event per registration, one per join (the partnership's), once each.
        expected = len(pg.shared_journal()) + 2 * len(keys)
        assert ledger.event_count() == expected
        members = set(ledger.show("hub")["current_members"])
        assert members == keys | {"founder"}
        registered = {o["key"] for o in pg.shared_journal() if o["op"] == "register_party"}
        assert {p["key"] for p in ledger.parties()} == keys | registered
        history = ledger.history()
        op_ids = list(_op_ids(ledger))
        assert len(op_ids) == len(set(op_ids)) == len(history)
        result = verify_chain(ledger.db)
        assert result.ok, result.message
        assert result.size == expected
        assert result.last_position == ledger.last_position()
        assert ledger.info()["read_model_lag"] == 0
        # The read models applied every event once: they equal a rebuild.
        ledger.rebuild()
        assert ledger.history() == history


def _op_ids(ledger: PartnershipLedger) -> Iterator[str]:
    with ledger.db.transaction(commit=False) as c:
        c.execute("SELECT op_id FROM ledger_ops ORDER BY position")
        for (op_id,) in c.fetchall():
            yield str(op_id)


# -- follow ------------------------------------------------------------------------------------


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "partnership_ledger_cli", *args]


def follow_env() -> dict[str, str]:
    return {**os.environ, ENV_READ_MODELS: "follow", "NO_COLOR": "1"}


@contextmanager
def follow_process(url: str, *args: str) -> Iterator[subprocess.Popen[str]]:
    """``partnership-ledger follow`` running, ready (it has said so on stderr)."""
    proc = subprocess.Popen(
        cli_command("--db", url, "follow", *args),
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=follow_env(),
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert line.startswith("following "), line
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def seen_within(ledger: PartnershipLedger, key: str, limit: float) -> float | None:
    """Seconds until ``key`` shows in ``ledger``'s history (a read model), or None."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if any(h["key"] == key for h in ledger.history()):
            return time.monotonic() - started
        time.sleep(0.02)
    return None


@pytest.fixture
def follow_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Writers and readers of this test leave the read models to a follow process."""
    monkeypatch.setenv(ENV_READ_MODELS, "follow")


@pytest.mark.usefixtures("follow_mode")
def test_without_follow_the_read_models_wait(pg_url: str) -> None:
    with PartnershipLedger.open(pg_url) as writer, PartnershipLedger.open(pg_url) as reader:
        writer.register_party("npo-a", "A", "npo")
        assert seen_within(reader, "npo-a", 0.5) is None
        assert reader.info()["read_model_lag"] == 1


@pytest.mark.usefixtures("follow_mode")
@pytest.mark.parametrize("poll_only", [False, True], ids=["notify", "poll-only"])
def test_follow_shows_writes_to_other_processes_within_a_second(pg_url: str, poll_only: bool) -> None:
    PartnershipLedger.open(pg_url).close()  # creates the ledger
    args = ["--poll-only"] if poll_only else []
    with (
        follow_process(pg_url, *args) as follower,
        PartnershipLedger.open(pg_url) as writer,
        PartnershipLedger.open(pg_url) as reader,
    ):
        for n in range(3):
            writer.register_party(f"npo-{n}", f"NPO {n}", "npo")
            elapsed = seen_within(reader, f"npo-{n}", 1.0)
            assert elapsed is not None, f"write {n} not in the read models after 1 s"
        # A CLI query from another process sees it too, without catching up itself.
        writer.register_party("npo-last", "Last", "npo")
        # Once the follower applied it (within its polling interval, 0.5 s, when polling only),
        # a CLI query from another process shows it.
        assert seen_within(reader, "npo-last", 1.0) is not None, "the last write not in the read models after 1 s"
        shown = subprocess.run(
            cli_command("--db", pg_url, "parties", "--json"),
            capture_output=True,
            text=True,
            env=follow_env(),
            check=True,
            timeout=60,
        )
        assert "npo-last" in {p["key"] for p in json.loads(shown.stdout)}
        follower.send_signal(signal.SIGTERM)
        _, err = follower.communicate(timeout=10)
        assert follower.returncode == 0, err
        assert "stopped following: applied 4 events" in err


@pytest.mark.usefixtures("follow_mode")
def test_follow_stops_cleanly_on_sigint(pg_url: str) -> None:
    PartnershipLedger.open(pg_url).close()
    with follow_process(pg_url) as follower:
        follower.send_signal(signal.SIGINT)
        _, err = follower.communicate(timeout=10)
    assert follower.returncode == 0, err
    assert "stopped following" in err


@pytest.mark.usefixtures("follow_mode")
def test_a_lost_notification_cannot_stall_follow(pg_url: str, pg_server: str) -> None:
    with PartnershipLedger.open(pg_url) as follower_ledger:
        stop = threading.Event()
        listeners: list[Listener] = []
        thread = threading.Thread(
            target=follow_ledger,
            args=(follower_ledger, stop),
            kwargs={"interval": 0.3, "on_ready": listeners.append},
        )
        thread.start()
        try:
            deadline = time.monotonic() + 10
            while not listeners and time.monotonic() < deadline:
                time.sleep(0.01)
            (listener,) = listeners
            assert listener.conn is not None
            # The server drops the listening connection: notifications from now on are lost.
            with psycopg.connect(pg_server, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (listener.conn.info.backend_pid,))
            with PartnershipLedger.open(pg_url) as writer, PartnershipLedger.open(pg_url) as reader:
                for n in range(3):
                    writer.register_party(f"npo-{n}", f"NPO {n}", "npo")
                    assert seen_within(reader, f"npo-{n}", 1.0) is not None
            assert listener.lost >= 1
        finally:
            stop.set()
            thread.join(timeout=10)
        assert not thread.is_alive()


@pytest.mark.usefixtures("follow_mode")
def test_follow_once_catches_up_on_both(backend_url: str) -> None:
    with PartnershipLedger.open(backend_url) as ledger:
        ledger.import_journal(demo_journal_bytes())
        events = ledger.event_count()
        assert ledger.info()["read_model_lag"] == events
    result = CliRunner().invoke(cli, ["--db", backend_url, "follow", "--once", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["applied"], report["read_model_lag"]) == (events, 0)
    assert_matches_schema("follow", report)
    with PartnershipLedger.open(backend_url) as ledger:
        assert len(ledger.history()) == len(DEMO)
