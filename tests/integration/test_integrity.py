"""Checkpoints, encryption at rest, durability settings and a full disk."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import sqlite3
import struct
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ledger_files import fold_wal, ledger_file

from partnership_ledger import generate_cipher_key
from partnership_ledger.application import PartnershipLedger
from partnership_ledger.demo import demo_journal_bytes
from partnership_ledger.errors import IntegrityError, InvalidArgument, StorageError
from partnership_ledger.integrity import (
    GENESIS,
    canonical_record,
    chain_links,
    generate_keypair,
    link_hash,
    make_checkpoint,
    read_checkpoint,
    verify_chain,
    verify_checkpoint,
)
from partnership_ledger.storage.cipher import ENV_CIPHER_KEY
from partnership_ledger.storage.sqlite import file_db

PARTY_NAME = "NPO法人 人形劇の森"  # registered by the demo journal


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ledger holding the demo journal, WAL checkpointed into the file (copy, don't edit)."""
    return ledger_file(tmp_path_factory.mktemp("demo") / "demo.sqlite", demo_journal_bytes())


@pytest.fixture
def demo(demo_file: Path, tmp_path: Path) -> Path:
    path = tmp_path / "demo.sqlite"
    shutil.copy(demo_file, path)
    return path


@pytest.fixture(scope="module")
def keys() -> tuple[bytes, bytes]:
    return generate_keypair()


def _edit(path: Path, sql: str, params: tuple[Any, ...] = ()) -> None:
    con = sqlite3.connect(path)
    con.execute(sql, params)
    con.commit()
    con.close()


# -- the chain ------------------------------------------------------------------------------------


def test_an_empty_ledger_verifies_with_the_genesis_root(ledger: PartnershipLedger) -> None:
    result = verify_chain(ledger.db)
    assert result.ok
    assert (result.size, result.root, result.last_position) == (0, GENESIS.hex(), 0)


def test_verification_reports_progress_over_every_event(demo: Path) -> None:
    seen: list[int] = []
    with PartnershipLedger.open(demo) as ledger:
        result = verify_chain(ledger.db, seen.append)
        assert result.ok
        assert sum(seen) == result.size == ledger.event_count()


def test_the_chain_hashes_the_aggregate_id_as_stored() -> None:
    oid = UUID("3704026b-fbd2-520c-ab5b-e133e1854064")
    args = (1, "t:Party.Registered", b"{}")
    plain = link_hash(GENESIS, 1, oid, *args)
    # The recorder passes a UUID, verification the stored text: both hash the same bytes.
    assert plain == link_hash(GENESIS, 1, oid.hex, *args) == link_hash(GENESIS, 1, oid.hex.encode(), *args)
    # The same UUID written another way is an edit of the stored row.
    assert link_hash(GENESIS, 1, str(oid), *args) != plain
    assert link_hash(GENESIS, 1, oid.hex.upper(), *args) != plain


@given(
    st.lists(
        st.tuples(st.uuids(), st.integers(1, 2**62), st.text(min_size=1), st.binary()),
        max_size=8,
    ),
    st.binary(min_size=32, max_size=32),
)
def test_the_recorders_links_are_link_hash_chained(records: list[tuple[UUID, int, str, bytes]], head: bytes) -> None:
    numbered = [(position, *record) for position, record in enumerate(records, start=7)]
    links = chain_links(6, head, numbered)
    prev_position, prev = 6, head
    for (position, oid, version, topic, state), link in zip(numbered, links, strict=True):
        prev_hash = link_hash(prev, position, oid.hex, version, topic.encode("utf-8", "surrogatepass"), state)
        assert link == (position, prev_position, prev_hash)
        prev_position, prev = position, prev_hash


@given(st.uuids(), st.integers(-(2**63), 2**63 - 1), st.text(), st.binary())
def test_a_link_hashes_the_documented_layout(oid: UUID, version: int, topic: str, state: bytes) -> None:
    # The layout every ledger was chained with (docs/privacy.md: chain formats 1 and 2 alike):
    # position and version as 8-byte signed big-endian, the id's hex digits, the topic and
    # the state each after its 8-byte length.
    hex_id, name = oid.hex.encode(), topic.encode("utf-8", "surrogatepass")
    layout = (
        struct.pack(">qQ", 5, 32)
        + hex_id
        + struct.pack(">qQ", version, len(name))
        + name
        + struct.pack(">Q", len(state))
        + state
    )
    assert canonical_record((5, oid, version, topic, state)) == layout
    assert link_hash(GENESIS, 5, oid, version, topic, state) == hashlib.sha256(GENESIS + layout).digest()


def test_a_tampered_ledger_still_opens_and_verify_names_the_position(demo: Path) -> None:
    _edit(demo, "UPDATE stored_events SET state = CAST('{}' AS BLOB) WHERE rowid = 7")
    with PartnershipLedger.open(demo) as ledger:
        result = verify_chain(ledger.db)
    assert not result.ok
    assert (result.bad_position, result.problem, result.size) == (7, "changed", 6)
    assert "position 7" in result.message


def test_recording_with_the_chain_off_leaves_events_unchained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Only the benchmark turns the chain off; verify then refuses such a ledger.
    monkeypatch.setenv("PARTNERSHIP_LEDGER_CHAIN", "off")
    with PartnershipLedger.open(tmp_path / "l.sqlite") as ledger:
        ledger.register_party("npo-a", "A", "npo")
        result = verify_chain(ledger.db)
    assert (result.ok, result.bad_position, result.problem) == (False, 1, "inserted")


# -- checkpoints --------------------------------------------------------------------------------


def test_a_signed_checkpoint_verifies_with_its_key(demo: Path, keys: tuple[bytes, bytes]) -> None:
    private, public = keys
    with file_db(demo) as db:
        cp = make_checkpoint(db, private)
        assert cp["signature"]
        assert cp["public_key"] == public.decode("ascii")
        trusted = verify_checkpoint(db, cp, public)
        carried = verify_checkpoint(db, cp)
    assert trusted.ok
    assert carried.ok
    assert trusted.root == cp["root"]
    assert trusted.size == cp["size"]


def test_a_checkpoint_is_extended_by_later_events(demo: Path, keys: tuple[bytes, bytes]) -> None:
    private, public = keys
    with PartnershipLedger.open(demo) as ledger:
        cp = make_checkpoint(ledger.db, private)
        ledger.register_party("npo-later", "Later", "npo")
        result = verify_checkpoint(ledger.db, cp, public)
    assert result.ok
    assert result.size == cp["size"] + 1
    assert f"extends the checkpoint of {cp['size']} events" in result.message


def test_the_wrong_public_key_fails(demo: Path, keys: tuple[bytes, bytes]) -> None:
    private, _ = keys
    _, other_public = generate_keypair()
    with file_db(demo) as db:
        cp = make_checkpoint(db, private)
        with pytest.raises(IntegrityError, match="signature does not match"):
            verify_checkpoint(db, cp, other_public)


@pytest.mark.parametrize(
    ("field", "edit"),
    [
        ("size", lambda v: v - 1),
        ("size", lambda v: v + 1),
        ("position", lambda v: v - 1),
        ("root", lambda v: ("0" if v[0] != "0" else "1") + v[1:]),
        ("signature", lambda v: v[:10] + ("A" if v[10] != "A" else "B") + v[11:]),
        ("signature", lambda v: "not base64!"),
    ],
)
@pytest.mark.parametrize("trusted", [True, False])
def test_a_modified_signed_checkpoint_fails(
    demo: Path, keys: tuple[bytes, bytes], field: str, edit: Any, trusted: bool
) -> None:
    private, public = keys
    with file_db(demo) as db:
        cp = make_checkpoint(db, private)
        cp[field] = edit(cp[field])
        with pytest.raises(IntegrityError, match="signature does not match"):
            verify_checkpoint(db, cp, public if trusted else None)


def test_a_checkpoint_resigned_with_another_key_fails_against_the_trusted_key(
    demo: Path, keys: tuple[bytes, bytes]
) -> None:
    _, public = keys
    forger_private, _ = generate_keypair()
    with file_db(demo) as db:
        forged = make_checkpoint(db, forger_private)
        assert verify_checkpoint(db, forged).ok  # its own carried key agrees with it ...
        with pytest.raises(IntegrityError):  # ... but not the auditor's trusted key
            verify_checkpoint(db, forged, public)


def test_an_unsigned_checkpoint_works_without_a_key(demo: Path) -> None:
    with file_db(demo) as db:
        cp = make_checkpoint(db)
        assert cp["signature"] is None
        assert verify_checkpoint(db, cp).ok
        with pytest.raises(IntegrityError, match="not signed"):
            verify_checkpoint(db, cp, generate_keypair()[1])


@pytest.mark.parametrize(
    ("field", "edit", "problem"),
    [
        ("size", lambda v: v + 1, "truncated"),
        ("size", lambda v: v - 1, "replaced"),
        ("position", lambda v: v - 1, "replaced"),
        ("root", lambda v: v[::-1], "replaced"),
    ],
)
def test_a_modified_unsigned_checkpoint_does_not_match_the_ledger(
    demo: Path, field: str, edit: Any, problem: str
) -> None:
    with file_db(demo) as db:
        cp = make_checkpoint(db)
        cp[field] = edit(cp[field])
        result = verify_checkpoint(db, cp)
    assert not result.ok
    assert result.problem == problem


def test_a_checkpoint_file_round_trips_and_bad_ones_are_refused(demo: Path, keys: tuple[bytes, bytes]) -> None:
    with file_db(demo) as db:
        cp = make_checkpoint(db, keys[0])
        assert verify_checkpoint(db, read_checkpoint(json.dumps(cp)), keys[1]).ok
    for bad in [
        b"not json",
        b"[]",
        json.dumps({"root": "ab"}),
        json.dumps({"size": True, "root": "ab"}),
        json.dumps({"size": -1, "root": "ab"}),
        json.dumps({"size": 1, "root": "ab", "position": "1"}),
        json.dumps({"size": 1, "root": "ab", "signature": 5}),
        json.dumps({"size": 1, "root": "ab", "public_key": ["x"]}),
    ]:
        with pytest.raises(InvalidArgument):
            read_checkpoint(bad)


def test_signing_needs_an_ed25519_private_key(demo: Path, keys: tuple[bytes, bytes]) -> None:
    with file_db(demo) as db:
        for bad in (b"garbage", keys[1]):
            with pytest.raises(InvalidArgument, match="signing key"):
                make_checkpoint(db, bad)
        cp = make_checkpoint(db, keys[0])
        with pytest.raises(InvalidArgument, match="public key"):
            verify_checkpoint(db, cp, b"garbage")


def test_no_checkpoint_of_a_broken_chain(demo: Path) -> None:
    _edit(demo, "DELETE FROM ledger_chain WHERE position = 3")
    with file_db(demo) as db, pytest.raises(IntegrityError, match="position 3"):
        make_checkpoint(db)


# -- durability ---------------------------------------------------------------------------------


def test_the_ledger_uses_a_write_ahead_log_synced_in_full(ledger: PartnershipLedger) -> None:
    ledger.register_party("npo-a", "A", "npo")
    info = ledger.info()
    assert info["journal_mode"] == "wal"
    assert info["synchronous"] == "FULL"
    # Every pooled connection, the writer's included, has the setting (not just the first).
    with ledger.db.transaction() as c:
        c.execute("PRAGMA synchronous")
        assert c.fetchone() == (2,)


# -- encryption at rest ---------------------------------------------------------------------------


@pytest.fixture
def cipher_key(monkeypatch: pytest.MonkeyPatch) -> str:
    key = generate_cipher_key()  # needs pycryptodome: the crypto extra, part of dev
    monkeypatch.setenv(ENV_CIPHER_KEY, key)
    return key


def _stored_states(path: Path) -> list[bytes]:
    con = sqlite3.connect(path)
    try:
        return [bytes(r[0]) for r in con.execute("SELECT state FROM stored_events")]
    finally:
        con.close()


def test_without_a_key_events_are_stored_in_the_clear(demo: Path) -> None:
    # The control for the next test: the name is there to be found.
    assert any(PARTY_NAME.encode() in s for s in _stored_states(demo))


def test_with_a_key_stored_events_are_encrypted_and_still_verify(tmp_path: Path, cipher_key: str) -> None:
    path = tmp_path / "secret.sqlite"
    with PartnershipLedger.open(path) as ledger:
        ledger.import_journal(demo_journal_bytes())
        assert verify_chain(ledger.db).ok
    states = _stored_states(path)
    assert len(states) > 100
    assert not any(PARTY_NAME.encode() in s or b"npo-puppets" in s for s in states)
    # Reopened with the key, everything reads back.
    with PartnershipLedger.open(path, create=False) as ledger:
        assert ledger.show("npo-puppets")["name"] == PARTY_NAME
        assert ledger.read_model_error is None
        assert len(list(ledger.export_operations())) == len(json.loads(demo_journal_bytes()))
    # The chain covers the ciphertext: verifiable without the key, and edits are found.
    with file_db(path) as db:
        assert verify_chain(db).ok
    _edit(path, "UPDATE stored_events SET state = substr(state, 1, 40) || x'00' WHERE rowid = 12")
    with file_db(path) as db:
        assert verify_chain(db).bad_position == 12


def test_an_encrypted_ledger_without_its_key_is_refused(
    tmp_path: Path, cipher_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "secret.sqlite"
    with PartnershipLedger.open(path) as ledger:
        ledger.register_party("npo-a", "A", "npo")
    monkeypatch.delenv(ENV_CIPHER_KEY)
    with pytest.raises(StorageError) as no_key:
        PartnershipLedger.open(path)
    assert no_key.value.message == f"the ledger is encrypted: set {ENV_CIPHER_KEY} to its key"
    monkeypatch.setenv(ENV_CIPHER_KEY, generate_cipher_key())
    with pytest.raises(StorageError) as wrong_key:
        PartnershipLedger.open(path)
    assert wrong_key.value.message.endswith("the key does not decrypt it")
    monkeypatch.setenv(ENV_CIPHER_KEY, "not a key")
    with pytest.raises(StorageError, match="not a key made by generate_cipher_key"):
        PartnershipLedger.open(path)
    monkeypatch.setenv(ENV_CIPHER_KEY, cipher_key)
    with PartnershipLedger.open(path) as ledger:
        assert ledger.show("npo-a")["name"] == "A"


def test_a_key_set_for_a_ledger_in_the_clear_is_refused(demo: Path, cipher_key: str) -> None:
    with pytest.raises(StorageError, match="not encrypted"):
        PartnershipLedger.open(demo)


def test_cipher_keys_are_fresh_aes_256_keys() -> None:
    a, b = generate_cipher_key(), generate_cipher_key()
    assert a != b
    assert len(base64.b64decode(a)) == 32


# -- a full disk ---------------------------------------------------------------------------------


def _counts(path: Path) -> tuple[int, int]:
    con = sqlite3.connect(path)
    try:
        events = con.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0]
        ops = con.execute("SELECT COUNT(*) FROM ledger_ops").fetchone()[0]
        return int(events), int(ops)
    finally:
        con.close()


def test_a_full_disk_fails_cleanly_and_the_ledger_stays_readable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cap the file's size (SQLite's max_page_count, set on each of the ledger's connections)
    a little more each time, until the demo journal fits: every failure is one clear
    StorageError and leaves nothing recorded (events and read models share one transaction)."""
    empty = tmp_path / "empty.sqlite"
    with PartnershipLedger.open(empty) as ledger:
        ledger.register_party("npo-first", "First", "npo")
    con = sqlite3.connect(fold_wal(empty))
    pages = int(con.execute("PRAGMA page_count").fetchone()[0])
    con.close()
    before = _counts(empty)
    journal = demo_journal_bytes()
    outcomes: list[str] = []
    extra = 0
    while not outcomes or outcomes[-1] != "recorded":
        assert extra < 2000, "the demo journal never fit"
        path = tmp_path / f"capped-{extra}.sqlite"
        shutil.copy(empty, path)
        monkeypatch.setenv("PARTNERSHIP_LEDGER_MAX_PAGE_COUNT", str(pages + extra))
        with PartnershipLedger.open(path) as ledger:
            error: StorageError | None = None
            try:
                result = ledger.import_journal(journal)
            except StorageError as e:
                error = e
            if error is None:
                outcomes.append("recorded")
                assert result.events == _counts(path)[0] - before[0]
            else:
                assert "the disk is full" in error.message
                assert "\n" not in error.message
                if error.message.startswith("the operations were recorded"):
                    outcomes.append("read models behind")
                    assert ledger.info()["read_model_lag"] > 0
                else:
                    outcomes.append("refused")
                    assert _counts(path) == before  # nothing half-written
            assert verify_chain(ledger.db).ok
            assert ledger.show("npo-first")["name"] == "First"  # still readable, even capped
        # Reopened while still capped: it opens; then with room, the read models catch up.
        with PartnershipLedger.open(path) as ledger:
            assert verify_chain(ledger.db).ok
        monkeypatch.delenv("PARTNERSHIP_LEDGER_MAX_PAGE_COUNT")
        with PartnershipLedger.open(path) as ledger:
            assert ledger.info()["read_model_lag"] == 0
            if outcomes[-1] != "refused":
                assert ledger.show("npo-puppets")["name"] == PARTY_NAME
            else:
                assert ledger.kind_of("npo-puppets") is None
        os.remove(path)
        extra += 11  # every few pages: both kinds of failure, at many cut points
    assert outcomes[0] == "refused"
    # The read models are written in the events' own transaction: a full disk refuses the
    # whole import, never leaves events recorded with their read models behind.
    assert "read models behind" not in outcomes


# -- both backends --------------------------------------------------------------------------------


def _sql(ledger: PartnershipLedger, sql: str, params: tuple[Any, ...] = (), *, rows: bool = False) -> list[Any]:
    """Run SQL on the ledger's own database behind its back (``{events}``, ``{pos}`` filled in)."""
    db = ledger.db
    with db.transaction() as c:
        c.execute(sql.format(events=db.events_table, pos=db.position_col), params)
        return c.fetchall() if rows else []


def test_each_kind_of_tampering_is_named_on_either_backend(any_ledger: PartnershipLedger) -> None:
    any_ledger.import_journal(demo_journal_bytes())
    checkpoint = make_checkpoint(any_ledger.db)
    n = any_ledger.last_position()
    i, j = n // 3, n // 2
    get_row = "SELECT originator_id, originator_version, topic, state FROM {events} WHERE {pos} = ?"
    set_row = "UPDATE {events} SET originator_id=?, originator_version=?, topic=?, state=? WHERE {pos} = ?"
    a, b = _sql(any_ledger, get_row, (i,), rows=True)[0], _sql(any_ledger, get_row, (j,), rows=True)[0]

    def put(first: tuple[Any, ...], second: tuple[Any, ...]) -> None:
        # Through a spare version, so that no step repeats an (aggregate, version) key.
        _sql(any_ledger, "UPDATE {events} SET originator_version = -1 WHERE {pos} = ?", (i,))
        _sql(any_ledger, set_row, (*second, j))
        _sql(any_ledger, set_row, (*first, i))

    put(b, a)  # swapped: position i holds the event recorded at j
    swapped = verify_chain(any_ledger.db)
    assert (swapped.bad_position, swapped.problem) == (i, "out_of_order")
    assert f"recorded at position {j}" in swapped.message
    put(a, b)  # back in place: intact again
    assert verify_chain(any_ledger.db).ok
    # An event whose link is gone looks inserted.
    _sql(any_ledger, "DELETE FROM ledger_chain WHERE position = ?", (j,))
    assert (verify_chain(any_ledger.db).bad_position, verify_chain(any_ledger.db).problem) == (j, "inserted")
    # Cut the tail (with its links): the chain is whole, the checkpoint says what is gone.
    _sql(any_ledger, "DELETE FROM {events} WHERE {pos} >= ?", (j,))
    _sql(any_ledger, "DELETE FROM ledger_chain WHERE position >= ?", (j,))
    assert verify_chain(any_ledger.db).ok
    cut = verify_checkpoint(any_ledger.db, checkpoint)
    assert (cut.ok, cut.problem, cut.bad_position) == (False, "truncated", j)
