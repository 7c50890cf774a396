"""PartnershipLedger: the embedding API, an eventsourcing Application.

Open a ledger, record operations (one method per journal op, or whole journals), and ask
questions that return plain data::

    with PartnershipLedger.open("ledger.sqlite") as ledger:
        ledger.register_party("npo-puppets", "NPO法人 人形劇の森", "npo")
        ledger.show("npo-puppets")["sector"]   # 'npo'
"""

from __future__ import annotations

import copy
import os
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, ClassVar

import attrs
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError as StoreIntegrityError
from eventsourcing.persistence import JSONTranscoder, PersistenceError, StoredEvent

from .collector import collector_paused
from .config import default_location
from .domain import AGGREGATE_CLASSES, LedgerAggregate, aggregate_id
from .errors import (
    ConcurrencyError,
    DomainError,
    JournalError,
    JournalProblem,
    StorageError,
    UnknownKey,
)
from .errors import (
    InvalidArgument as LedgerValueError,
)
from .handlers import apply_operation
from .indicator_queries import IndicatorQueries, parse_as_of, parse_on
from .journal import (
    Operation,
    Validator,
    iter_raw,
    journal_text,
    keys_named,
    parse_operations,
    to_json_value,
)
from .operations import event_to_operation
from .projections import Projections, queries
from .projections.facts import FactStore, MemoryFactStore, fold
from .projections.history import AggregateIndex, HistoryModel, history_where, with_info
from .projections.runner import TRACKING_NAME
from .projections.sqlstore import FactsModel, SqlFactStore
from .storage.cipher import check_cipher, cipher_env, cipher_key
from .storage.db import FORMAT_VERSION, Db
from .storage.transcodings import register_transcodings
from .unit_of_work import AggregateCache, UnitOfWork
from .views import aggregate_view, view_on

#: ``inline`` (default): every write and every open brings the read models up to date;
#: ``follow``: a ``partnership-ledger follow`` process does (many writers, PostgreSQL).
ENV_READ_MODELS = "PARTNERSHIP_LEDGER_READ_MODELS"
#: Set by :meth:`PartnershipLedger.open` (``readonly=True``): open without writing anything.
ENV_READONLY = "PARTNERSHIP_LEDGER_READONLY"
ENV_PATH = "PARTNERSHIP_LEDGER_PATH"
MAX_ATTEMPTS = 20
#: Operations applied, then written, at a time within a batch's one transaction: a big journal
#: is never all in memory (its operations, events and encoded records), only a slice of it.
SLICE = 2000
#: Committed aggregates kept in memory between writes (see :class:`AggregateCache`).
CACHE_SIZE = 2000


@attrs.frozen
class RecordResult:
    """What recording a batch of operations did."""

    operations: int  # operations in the batch
    applied: int  # operations recorded now
    skipped: int  # operations already in the ledger (idempotent re-import)
    events: int  # events stored
    first_position: int | None = None
    last_position: int | None = None
    dry_run: bool = False


def _is_postgres(location: str) -> bool:
    return location.startswith(("postgresql://", "postgres://"))


def sqlite_env(path: str, *, readonly: bool = False) -> dict[str, str]:
    from .config import lock_timeout
    from .storage.sqlite import read_only_uri, sqlite_uri

    return {
        "PERSISTENCE_MODULE": "partnership_ledger.storage.sqlite:LedgerSQLiteFactory",
        # A URI that names exactly this file ('#' or '?' in its name are part of it).
        "SQLITE_DBNAME": read_only_uri(path) if readonly else sqlite_uri(path),
        ENV_PATH: path,
        **({ENV_READONLY: "1", "CREATE_TABLE": "false"} if readonly else {}),
        "SQLITE_LOCK_TIMEOUT": f"{lock_timeout():g}",
        **cipher_env(),  # encryption at rest when PARTNERSHIP_LEDGER_CIPHER_KEY is set
        **_memory_read_models(),
    }


def _memory_read_models() -> dict[str, str]:
    """With a cipher key the read models (names, titles, amounts...) are kept in memory, out
    of the file: rebuilt from the events at each open (docs/privacy.md)."""
    if cipher_key() is None:
        return {}
    from .storage.sqlite import ENV_MEMORY_READ_MODELS, memory_read_models_uri

    return {ENV_MEMORY_READ_MODELS: memory_read_models_uri()}


def _check_sqlite_location(path: str, create: bool) -> None:
    p = Path(path)
    if p.is_dir():
        raise StorageError(f"{path} is a folder, not a ledger file")
    if not p.exists():
        if not create:
            raise StorageError(
                f"there is no ledger at {path}: create one with 'partnership-ledger init' or name another with --db"
            )
        if not p.parent.exists():
            raise StorageError(f"cannot create a ledger at {path}: folder {p.parent} does not exist")
        return
    try:
        with open(p, "rb") as f:
            head = f.read(16)
    except OSError as e:
        raise StorageError(f"cannot read the ledger at {path}: {e.strerror}") from None
    if not head and not create:
        raise StorageError(f"{path} is an empty file, not a ledger: create one with 'partnership-ledger init'")
    if head and head != b"SQLite format 3\x00":
        raise StorageError(f"{path} is not a partnership ledger (it is not an SQLite database)")
    if head:
        try:
            from .storage.sqlite import read_only_uri

            con = sqlite3.connect(read_only_uri(p), uri=True)
            try:
                names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            finally:
                con.close()
        except sqlite3.DatabaseError as e:
            raise StorageError(f"cannot read the ledger at {path}: {e}") from None
        if names and "ledger_meta" not in names:
            raise StorageError(f"{path} is an SQLite database but not a partnership ledger")


class PartnershipLedger(IndicatorQueries, Application[uuid.UUID]):
    """An event-sourced ledger of partnerships, their resources, voice, targets and views.

    Use :meth:`open` rather than the constructor. Every command validates its input exactly
    as the journal does, applies the domain rules, and records all its events atomically, or
    raises a :class:`~partnership_ledger.errors.LedgerError` and records nothing.
    """

    name = "PartnershipLedger"
    env: ClassVar[dict[str, str]] = {}

    def __init__(self, env: dict[str, str] | None = None) -> None:
        # Recently used aggregates, kept between writes so that a command does not replay a
        # long-lived partnership or agreement every time (eventsourcing's own cache would
        # deep-copy each one on every use).
        self._cache = AggregateCache(CACHE_SIZE)
        try:
            super().__init__(env)
            self._loader = _Loader(self.repository)
            datastore = self.factory.datastore  # type: ignore[attr-defined]
            events_table = getattr(self.recorder, "events_table_name", "stored_events")
            self.location: str
            if type(datastore).__module__ == "eventsourcing.postgres":
                from .storage.postgres import PgDb

                self.db: Db = PgDb(datastore, events_table)
                self.location = self.env.get("PARTNERSHIP_LEDGER_URL") or ""
            else:
                self.db = Db(datastore, events_table)
                self.location = self.env.get(ENV_PATH) or self.env.get("SQLITE_DBNAME") or ""
                self._keep_memory_read_models()
            self.backend = self.db.backend
            self._index = AggregateIndex()
            self.facts = SqlFactStore(self.db)
            self.projections = Projections(
                self.db, self.mapper, self._read_models(self._index, self.facts), self._index.info_of
            )
            #: Opened to read only (``open(readonly=True)``): nothing is created or changed.
            self.readonly = self.env.get(ENV_READONLY) == "1"
            #: (tracking, last position) at which the operation index last matched the history.
            self._op_index_checked_at: tuple[int, int] | None = None
            if not self.readonly:
                self.db.script(["CREATE TABLE IF NOT EXISTS ledger_meta (name TEXT PRIMARY KEY, value TEXT)"])
                with self.db.transaction() as c:
                    c.execute("SELECT value FROM ledger_meta WHERE name='format'")
                    if c.fetchone() is None:
                        c.execute(
                            "INSERT INTO ledger_meta VALUES ('format', ?) ON CONFLICT (name) DO NOTHING",
                            (FORMAT_VERSION,),
                        )
                self.projections.create_tables()
                self._init_privacy()
                self._refuse_rows_outside_the_chain()
            if self.readonly and self.db.memory_schema is not None:
                self.projections.create_tables()  # in memory: opening to read writes nothing to the file
            self.read_model_error: str | None = None
            mode = self.env.get(ENV_READ_MODELS) or "inline"
            if mode not in ("inline", "follow"):
                raise StorageError(f"{ENV_READ_MODELS} must be inline or follow, not {mode!r}")
            # "follow": a `partnership-ledger follow` process keeps the read models up to date,
            # so neither opening nor recording waits for them.
            # Read models in memory (an encrypted ledger) are this process's own: always inline.
            self.read_models_inline = mode == "inline" or self.db.memory_schema is not None
            try:
                if self.read_models_inline and (not self.readonly or self.db.memory_schema is not None):
                    self.catch_up()
            except PersistenceError as e:
                if _reason(e) != "the disk is full":
                    raise
                # The events are all there: a full disk must not keep the ledger from opening.
                self.read_model_error = _reason(e)
            except Exception as e:
                self.read_model_error = f"{type(e).__name__}: {e}"
        except PersistenceError as e:
            raise StorageError(f"cannot open the ledger: {e}") from None

    def _refuse_rows_outside_the_chain(self) -> None:
        """Never load an event the chain does not cover (a row at a position up to 0, which
        loading an aggregate by its id would read): a quick look at the start of the table."""
        col, table = self.db.position_col, self.db.events_table
        with self.db.transaction(commit=False) as c:
            c.execute(f"SELECT {col} FROM {table} WHERE {col} <= 0 ORDER BY {col} LIMIT 1")
            row = c.fetchone()
        if row is not None:
            from .errors import IntegrityError

            raise IntegrityError(
                f"tampering found: the ledger holds an event row at position {row[0]}, outside the hash "
                "chain; it is not read (see 'partnership-ledger verify')"
            )

    def _keep_memory_read_models(self) -> None:
        """Read models in memory (a cipher key is set): a connection that keeps the shared
        in-memory database alive as long as the ledger is open, and no read model left in
        the file (an encrypted ledger made before kept them there: they are dropped, their
        pages overwritten with zeros)."""
        from .storage.sqlite import ENV_MEMORY_READ_MODELS, MEMORY_SCHEMA

        uri = self.env.get(ENV_MEMORY_READ_MODELS)
        if not uri:
            return
        self._memory_keeper: sqlite3.Connection | None = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self.db.memory_schema = MEMORY_SCHEMA
        if self.env.get(ENV_READONLY) == "1":
            return
        with self.db.transaction() as c:
            c.execute(
                "SELECT name FROM main.sqlite_master WHERE type='table' "
                "AND (name LIKE 'rm\\_%' ESCAPE '\\' OR name = 'ledger_tracking')"
            )
            left = [str(r[0]) for r in c.fetchall()]
            if left:
                c.execute("PRAGMA secure_delete=ON")
                for name in left:
                    c.execute(f'DROP TABLE main."{name}"')
        if left:
            self._after_erasure()

    def close(self) -> None:
        super().close()
        keeper = getattr(self, "_memory_keeper", None)
        if keeper is not None:
            keeper.close()
            self._memory_keeper = None

    def _init_privacy(self) -> None:
        """The key tables; a ledger with no events yet commits private fields (chain format 2)."""
        from .privacy.vault import init_tables

        col, table = self.db.position_col, self.db.events_table
        with self.db.transaction(commit=False) as c:
            c.execute(f"SELECT {col} FROM {table} LIMIT 1")
            empty = c.fetchone() is None
        init_tables(self.db, new_ledger=empty)

    @property
    def chain_format(self) -> str:
        """``2``: private fields enter the chain as salted commitments (docs/privacy.md);
        ``1``: a ledger written before, whose events hold every value as given."""
        from .privacy.vault import chain_format

        return chain_format(self.db)

    def vault(self, *, recording: bool = False) -> Any:
        """The ledger's key table (privacy.vault.Vault). To record (``recording``): None for
        a chain format 1 ledger, whose events hold private fields as given. To read: always
        (a value is read back because it is a commitment, whatever the format row says)."""
        from .privacy.vault import Vault, vault_secrets

        if recording and self.chain_format != "2":
            return None
        master, pepper = vault_secrets(self.db, cipher_key())
        return Vault(self.db, master, pepper)

    def check_key_table(self) -> str | None:
        """None if the key table (private values, outside the chain) agrees with the chain;
        else the first disagreement in a sentence (tampering). See privacy.vault."""
        from .errors import IntegrityError
        from .privacy.vault import check_key_table, vault_secrets

        try:
            master, pepper = vault_secrets(self.db, cipher_key())
        except IntegrityError as e:
            return str(e)
        return check_key_table(self.db, master, pepper, self.mapper)

    def reveal_view(self, view: dict[str, Any]) -> dict[str, Any]:
        """``view`` (of show) with private values read from the key table, or marked erased."""
        from .privacy.registry import ERASED_TEXT, is_commitment

        vault = self.vault() if view.get("kind") == "evaluation" else None
        if vault is None:
            return view
        for s in view.get("submissions", []):
            for name in ("evaluator", "comment"):
                value = s.get(name)
                if is_commitment(value):
                    s[name] = vault.reveal(value) or (ERASED_TEXT if name == "comment" else None)
        return view

    def erase_subject(
        self,
        evaluator: str,
        reason: str,
        on: date | str,
        *,
        by: str | None = None,
        note: str | None = None,
        op_id: str | None = None,
    ) -> RecordResult:
        """Erase what the ledger holds of a resident (crypto-shredding; docs/privacy.md)."""
        return self._command("erase_subject", op_id, evaluator=evaluator, reason=reason, on=on, by=by, note=note)

    def _after_erasure(self) -> None:
        """Leave no copy of erased rows in the file: the write-ahead log copied into the
        database (whose freed cells ``secure_delete`` zeroed) and truncated to nothing; on
        PostgreSQL the key tables rewritten without them."""
        if self.db.backend != "sqlite":
            # PostgreSQL keeps deleted rows in the table's pages until they are rewritten:
            # VACUUM (FULL) writes the two key tables afresh, without them (docs/privacy.md).
            from .storage.postgres import connect_directly

            conn = connect_directly(self.db.datastore)
            try:
                conn.execute("VACUUM (FULL) ledger_subjects, ledger_private")
            finally:
                conn.close()
            return
        path = self.env.get(ENV_PATH)
        if not path:
            return
        from .storage.sqlite import sqlite_uri

        con = sqlite3.connect(sqlite_uri(path), uri=True, isolation_level=None)
        try:
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            con.close()

    @staticmethod
    def _read_models(index: AggregateIndex, facts: SqlFactStore) -> list[Any]:
        """Every read model, in the order they are applied (the index first: it places events)."""
        return [index, HistoryModel(), FactsModel(facts)]

    def read_models_for(self, db: Db) -> Projections:
        """The ledger's read models over another database ``db``, fresh and empty: what
        verification recomputes them into (see projections.verification)."""
        index = AggregateIndex()
        return Projections(db, self.mapper, self._read_models(index, SqlFactStore(db)), index.info_of)

    @classmethod
    def open(
        cls, location: str | os.PathLike[str] | None = None, *, create: bool = True, readonly: bool = False
    ) -> PartnershipLedger:
        """Open (and by default create) the ledger at a SQLite path or PostgreSQL URL.

        ``location`` defaults to ``$PARTNERSHIP_LEDGER_DB`` or ``partnership-ledger.sqlite``.
        With ``create=False`` a missing ledger is an error rather than a new empty one.
        With ``readonly=True`` (implied for an SQLite file that cannot be written where it
        lies) nothing is created or changed: the read models are not caught up, and
        recording fails. A path is always a file's path, never an SQLite URI.
        """
        loc = os.fspath(location) if location is not None else default_location()
        if _is_postgres(loc):
            try:
                from .storage import postgres
            except ImportError:
                raise StorageError(
                    "PostgreSQL ledgers need psycopg: install the postgres extra "
                    "(pip install 'partnership-ledger[postgres]')"
                ) from None
            postgres.check_database(loc, create=create)
            readonly_env = {ENV_READONLY: "1", "CREATE_TABLE": "false"} if readonly else {}
            return cls({**postgres.postgres_env(loc), "PARTNERSHIP_LEDGER_URL": postgres.redact(loc), **readonly_env})
        _check_sqlite_location(loc, create and not readonly)
        check_cipher(loc, cipher_key())
        from .storage.sqlite import is_writable

        return cls(sqlite_env(loc, readonly=readonly or (os.path.exists(loc) and not is_writable(loc))))

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_transcodings(transcoder)

    # -- recording -------------------------------------------------------------------------

    def _kind_of_key(self, key: str) -> str | None:
        with self.db.transaction(commit=False) as c:
            c.execute("SELECT kind FROM ledger_keys WHERE key=?", (key,))
            row = c.fetchone()
            return str(row[0]) if row else None

    def _lookup(
        self, operations: Sequence[Operation], known: Callable[[str], bool] = lambda key: False
    ) -> tuple[int, set[str], dict[str, str | None] | None]:
        """In one read: the last position, which of ``operations`` are already recorded, and
        the kinds of the keys the others name but are not ``known`` (None: not in the ledger).
        Kinds None: the ledger has no keys at all (nor operations), so none was looked up."""
        op_ids = [o.meta.op_id for o in operations]
        done: set[str] = set()
        with self.db.transaction(commit=False) as c:
            c.execute(f"SELECT MAX({self.db.position_col}) FROM {self.db.events_table}")
            row = c.fetchone()
            position = int(row[0]) if row and row[0] is not None else 0
            if position == 0:
                # A new ledger (say, the first import): nothing to look up, key by key.
                c.execute("SELECT EXISTS (SELECT 1 FROM ledger_ops), EXISTS (SELECT 1 FROM ledger_keys)")
                row = c.fetchone()
                if row is not None and not row[0] and not row[1]:
                    return position, done, None
            found: list[tuple[str, int]] = []
            for i in range(0, len(op_ids), 500):
                chunk = op_ids[i : i + 500]
                c.execute(
                    f"SELECT op_id, position FROM ledger_ops WHERE op_id IN ({','.join('?' * len(chunk))})", chunk
                )
                found.extend((r[0], r[1]) for r in c.fetchall())
            done.update(op_id for op_id, _ in found)
            self._check_op_index(c, found)
            keys = [k for k in _keys_named([o for o in operations if o.meta.op_id not in done]) if not known(k)]
            kinds: dict[str, str | None] = dict.fromkeys(keys)
            for i in range(0, len(keys), 500):
                chunk = keys[i : i + 500]
                c.execute(f"SELECT key, kind FROM ledger_keys WHERE key IN ({','.join('?' * len(chunk))})", chunk)
                kinds.update((r[0], r[1]) for r in c.fetchall())
        return position, done, kinds

    def _check_op_index(self, c: Any, found: Sequence[tuple[str, int]]) -> None:
        """Refuse to trust an operation index that disagrees with the chained events.

        The index (``ledger_ops``) is written beside the events, outside the chain; what it
        says decides what an import skips as already recorded. So an index row is only
        believed when the event at its position carries its operation id (a forged row would
        make a real operation be skipped), and, when some operations of the batch are found
        and the read models are current, the index must have as many rows as the history has
        operations (a deleted row would make a re-import record an operation twice; a batch
        whose operations are all new, found nowhere, is not checked). Either mismatch refuses the import; ``verify``
        names the difference and ``rebuild`` repairs the index from the events.
        """
        from .errors import IntegrityError

        def refuse(why: str) -> None:
            raise IntegrityError(
                f"tampering found: the operation index {why}; nothing was recorded "
                "(run 'partnership-ledger verify', then 'partnership-ledger rebuild')"
            )

        col, table = self.db.position_col, self.db.events_table
        for i in range(0, len(found), 500):
            chunk = dict(found[i : i + 500])
            by_position = {p: op for op, p in chunk.items()}
            marks = ",".join("?" * len(by_position))
            c.execute(
                f"SELECT {col}, originator_id, originator_version, topic, state FROM {table} WHERE {col} IN ({marks})",
                list(by_position),
            )
            rows = {int(r[0]): r for r in c.fetchall()}
            for position_, op_id in by_position.items():
                row = rows.get(position_)
                if row is None or position_ <= 0:
                    refuse(f"names operation {op_id} at position {position_}, where there is no event")
                assert row is not None
                event = self.mapper.to_domain_event(StoredEvent(uuid.UUID(str(row[1])), row[2], row[3], bytes(row[4])))
                if getattr(getattr(event, "meta", None), "op_id", None) != op_id:
                    refuse(f"names operation {op_id} at position {position_}, whose event is another operation's")
        if not found:
            return  # nothing of this batch is in the index: nothing it says is believed
        # Counting is a scan of two tables: done once for a ledger that has not changed since
        # (a big re-import looks up slice after slice of operations with nothing recorded).
        c.execute(
            f"SELECT (SELECT position FROM ledger_tracking WHERE name=?), (SELECT MAX({col}) FROM {table})",
            (TRACKING_NAME,),
        )
        head = c.fetchone()
        if head is None or head[0] is None or head[0] != head[1] or tuple(head) == self._op_index_checked_at:
            return
        # One statement, so one snapshot on PostgreSQL too (other writers commit meanwhile).
        c.execute(
            "SELECT (SELECT position FROM ledger_tracking WHERE name=?), "
            f"(SELECT MAX({col}) FROM {table}), (SELECT COUNT(*) FROM ledger_ops), (SELECT COUNT(*) FROM rm_history)",
            (TRACKING_NAME,),
        )
        row = c.fetchone()
        if row is not None and row[0] is not None and row[0] == row[1]:
            if row[2] != row[3]:
                refuse(f"has {row[2]} operations but the history {row[3]}")
            self._op_index_checked_at = (row[0], row[1])

    def _origin_of_op(self, op_id: str) -> uuid.UUID | None:
        """The originator id of an operation's first event (the aggregate it was recorded on)."""
        col, table = self.db.position_col, self.db.events_table
        with self.db.transaction(commit=False) as c:
            c.execute(
                f"SELECT e.originator_id FROM ledger_ops o JOIN {table} e ON e.{col} = o.position WHERE o.op_id = ?",
                (op_id,),
            )
            row = c.fetchone()
        return uuid.UUID(str(row[0])) if row else None

    def _pledges_of(self, partnership: str, party: str) -> list[str]:
        """The contributions a party pledged to a partnership, from the read models."""
        with self.db.transaction(commit=False) as c:
            c.execute("SELECT key FROM rm_contributions WHERE partnership=? AND party=?", (partnership, party))
            return [str(r[0]) for r in c.fetchall()]

    def _sync_cache(self, position: int) -> None:
        """Drop the kept aggregates that events recorded since the cache's position changed
        (another process's, or a write that did not leave the cache current)."""
        cache = self._cache
        if cache.position == position:
            return
        if cache.position is None or position < cache.position or position - cache.position > 4 * cache.maxsize:
            cache.clear()
        elif len(cache):
            col, table = self.db.position_col, self.db.events_table
            with self.db.transaction(commit=False) as c:
                c.execute(
                    f"SELECT DISTINCT originator_id FROM {table} WHERE {col} > ? AND {col} <= ?",
                    (cache.position, position),
                )
                cache.discard(uuid.UUID(str(r[0])) for r in c.fetchall())
        cache.position = position

    def _load(self, agg_id: uuid.UUID) -> LedgerAggregate | None:
        """An aggregate reconstructed from its stored events, or None if it has none."""
        try:
            return self._loader.get(agg_id)
        except AggregateNotFoundError:
            return None

    @contextmanager
    def _write_session(self) -> Iterator[Callable[..., Sequence[int]]]:
        """One write transaction for a whole batch, written a slice at a time.

        Yields ``insert(stored_events, **kwargs)``, the recorder's insert (events, chain
        links, operation and key indexes, read models) returning the events' positions;
        nothing is committed until the block ends, and an error in it rolls everything back.
        """
        with self.recorder.write_session() as insert:  # type: ignore[attr-defined]
            yield insert

    def execute(
        self,
        operations: Sequence[Operation],
        *,
        dry_run: bool = False,
        source: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> RecordResult:
        """Apply validated operations atomically: all are recorded, or none.

        Operations already in the ledger (same id) are skipped, so importing a journal twice
        records nothing new. A write that loses a race with another writer is retried on
        fresh state; a domain error names the operation's index and op. ``progress``, if
        given, is called with 1 after each operation is applied (for a progress bar).
        """
        ops = list(operations)
        return self._record_batch(lambda: (iter(ops), None), dry_run=dry_run, source=source, progress=progress)

    def import_journal(
        self,
        data: bytes | str | Path,
        *,
        dry_run: bool = False,
        source: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> RecordResult:
        """Validate and record a whole journal (JSON array or JSON Lines) atomically.

        The journal is read, checked and recorded a slice at a time, in one transaction: if
        any operation is invalid (every problem is listed, as :func:`parse_journal` would) or
        refused by the rules, nothing is recorded. ``progress``, if given, is called with 1
        after each operation is applied.
        """
        if isinstance(data, Path):
            source = source or str(data)
            try:
                data = data.read_bytes()
            except OSError as e:
                raise StorageError(f"cannot read journal {source}: {e.strerror}") from None
        text = journal_text(data, source)
        del data  # the text is all that is needed from here on

        def operations() -> tuple[Iterator[Operation], Validator]:
            validator = Validator()
            valid = (op for op in map(validator.add, iter_raw(text, source)) if op is not None)
            return valid, validator

        with collector_paused():
            return self._record_batch(operations, dry_run=dry_run, source=source, progress=progress)

    def _record_batch(
        self,
        operations: Callable[[], tuple[Iterator[Operation], Validator | None]],
        *,
        dry_run: bool,
        source: str | None,
        progress: Callable[[int], None] | None,
    ) -> RecordResult:
        for attempt in range(MAX_ATTEMPTS):
            ops, validator = operations()
            try:
                return self._attempt(ops, validator, dry_run=dry_run, source=source, progress=progress)
            except (_LostRace, StoreIntegrityError):
                # Another writer got there first (same aggregate version, key or operation, or
                # it changed what a rule read): start again from what is now stored.
                _back_off(attempt)
            except PersistenceError as e:
                raise StorageError(f"the ledger could not record the operations: {_reason(e)}") from None
        raise ConcurrencyError(
            f"the operations kept losing races with other writers ({MAX_ATTEMPTS} attempts); "
            "nothing was recorded, try again"
        )

    def _attempt(
        self,
        operations: Iterator[Operation],
        validator: Validator | None,
        *,
        dry_run: bool,
        source: str | None,
        progress: Callable[[int], None] | None,
    ) -> RecordResult:
        """One try at recording ``operations``: all of them in one transaction, or none.

        The operations are applied and written a slice at a time (:data:`SLICE`), so a big
        journal is never all in memory. ``validator`` (reading a journal) has the problems of
        the operations read so far: after the first, nothing more is applied, but the rest is
        still read so that the error lists every problem; the transaction then rolls back.
        """
        uow = UnitOfWork(self._loader, self._kind_of_key, self._cache.take, self._origin_of_op, self._pledges_of)
        uow.vault = self.vault(recording=True)
        count = applied = 0
        seen: int | None = None
        refused: tuple[DomainError, Operation] | None = None
        writer = _SliceWriter(self, dry_run)
        with writer:
            for chunk in _slices(operations, SLICE):
                count += len(chunk)
                if refused is not None or (validator is not None and validator.problems):
                    continue  # read on only to find every problem of the journal
                position, done, kinds = self._lookup(chunk, uow.knows)
                if seen is None:
                    seen = position
                    self._sync_cache(seen)
                uow.prefetch(kinds)
                if uow.vault is not None:
                    uow.vault.prefetch(chunk)
                for op in chunk:
                    if op.meta.op_id in done:
                        continue
                    try:
                        apply_operation(uow, op)
                    except DomainError as e:
                        if self.last_position() != seen:
                            # Another writer recorded while we read (say, the same journal): the
                            # rule saw a mix of old and new state. Start again from what is stored.
                            raise _LostRace from None
                        refused = (e, op)
                        break
                    applied += 1
                    if progress is not None:
                        progress(1)
                if refused is None:
                    writer.write(uow)
            error = validator.error(source) if validator is not None else None
            if error is not None:
                raise error
            if refused is not None:
                cause, op = refused
                raise JournalError(
                    [JournalProblem(cause.message, op.index, op.op, None, cause.kind)], source
                ) from cause
        if validator is not None:
            count = validator.count
        result = RecordResult(
            operations=count,
            applied=applied,
            skipped=count - applied,
            events=writer.events,
            first_position=writer.first_position,
            last_position=writer.last_position,
            dry_run=dry_run,
        )
        if dry_run:
            return result
        if uow.vault is not None and uow.vault.erased_any:
            self._after_erasure()
        # Committed: what the batch loaded and changed is now the stored state. If nothing else
        # was recorded between our first read and our write, every aggregate kept is current.
        current = writer.first_position is None or writer.first_position == (seen or 0) + 1
        self._cache.put(uow.aggregates())
        if writer.last_position is not None and current:
            self._cache.position = writer.last_position
        if writer.events and self.read_models_inline and not writer.projected:
            try:
                self.catch_up()
            except PersistenceError as e:
                # The events are recorded (and chained); only the read models lag, and
                # they catch up at the next write or open that has room to write.
                self.read_model_error = _reason(e)
                raise StorageError(
                    f"the operations were recorded, but the read models could not be brought up to date: {_reason(e)}"
                ) from None
        return result

    def record(self, raw: dict[str, Any], *, dry_run: bool = False) -> RecordResult:
        """Record one operation given as a journal object (``{"op": ..., ...}``).

        Without an ``"id"`` the operation gets a fresh one, so recording the same
        operation twice through this method records it twice.
        """
        if isinstance(raw, dict) and raw.get("id") is None:
            raw = {**raw, "id": uuid.uuid4().hex}
        return self.execute(parse_operations([raw]), dry_run=dry_run)

    def _command(self, op: str, op_id: str | None, **fields: Any) -> RecordResult:
        raw = {"op": op, **{k: to_json_value(v) for k, v in fields.items() if v is not None}}
        if op_id is not None:
            raw["id"] = op_id
        try:
            return self.record(raw)
        except JournalError as e:
            # A single command reports the rule it broke as its own error class (for
            # example AnnualCapExceeded), not as a problem of a journal.
            if isinstance(e.__cause__, DomainError):
                raise e.__cause__ from None
            raise

    def catch_up(self, progress: Callable[[int], None] | None = None) -> int:
        """Bring the read models up to date with every stored event."""
        return self.projections.catch_up(progress)

    def rebuild(self, progress: Callable[[int], None] | None = None) -> int:
        """Recompute every read model from the first event.

        Refused, with the read models left as they are, when the events hold a row the chain
        does not vouch for (tampering: see ``integrity.foreign_row``), since recomputing from
        it would either fail half way or show what the chain does not.
        """
        from .errors import IntegrityError
        from .integrity import foreign_row

        found = foreign_row(self.db)
        if found is not None:
            raise IntegrityError(
                f"tampering found: the event row at position {found[0]} {found[1]}; the read models "
                "are left as they are (see 'partnership-ledger verify')"
            )
        self._index.clear()
        return self.projections.rebuild(progress)

    # -- one command per journal operation -------------------------------------------------
    # Each takes the journal op's fields (Python values or their journal JSON forms) plus
    # ``by`` and ``note`` (kept in the history) and ``op_id`` (for idempotent retries).

    def register_party(
        self,
        key: str,
        name: str,
        sector: Any,
        capacity: Any = None,
        identifiers: list[str] | None = None,
        area: str | None = None,
        *,
        by: str | None = None,
        note: str | None = None,
        op_id: str | None = None,
    ) -> RecordResult:
        return self._command(
            "register_party",
            op_id,
            key=key,
            name=name,
            sector=sector,
            capacity=capacity,
            identifiers=identifiers,
            area=area,
            by=by,
            note=note,
        )

    def propose_partnership(
        self,
        key: str,
        title: str,
        purpose: str,
        proposed_by: str,
        members: Sequence[str],
        on: date | str,
        parent: str | None = None,
        *,
        by: str | None = None,
        note: str | None = None,
        op_id: str | None = None,
    ) -> RecordResult:
        return self._command(
            "propose_partnership",
            op_id,
            key=key,
            title=title,
            purpose=purpose,
            proposed_by=proposed_by,
            members=list(members),
            parent=parent,
            on=on,
            by=by,
            note=note,
        )

    def join_partnership(
        self,
        partnership: str,
        party: str,
        on: date | str,
        role: str | None = None,
        *,
        by: str | None = None,
        note: str | None = None,
        op_id: str | None = None,
    ) -> RecordResult:
        return self._command(
            "join_partnership",
            op_id,
            partnership=partnership,
            party=party,
            role=role,
            on=on,
            by=by,
            note=note,
        )

    def leave_partnership(
        self,
        partnership: str,
        party: str,
        on: date | str,
        reason: str | None = None,
        *,
        by: str | None = None,
        note: str | None = None,
        op_id: str | None = None,
    ) -> RecordResult:
        return self._command(
            "leave_partnership",
            op_id,
            partnership=partnership,
            party=party,
            reason=reason,
            on=on,
            by=by,
            note=note,
        )

    def activate_partnership(
        self,
        partnership: str,
        on: date | str,
        *,
        by: str | None = None,
        note: str | None = None,
        op_id: str | None = None,
    ) -> RecordResult:
        return self._command("activate_partnership", op_id, partnership=partnership, on=on, by=by, note=note)

    def conclude_partnership(
        self,
        partnership: str,
        on: date | str,
        *,
        by: str | None = None,
        note: str | None = None,
        op_id: str | None = None,
    ) -> RecordResult:
        return self._command("conclude_partnership", op_id, partnership=partnership, on=on, by=by, note=note)

    def record_decision(
        self,
        partnership: str,
        key: str,
        subject: str,
        proposed_by: str,
        rule: Any,
        votes: dict[str, Any],
        on: date | str,
        *,
        by: str | None = None,
        note: str | None = None,
        op_id: str | None = None,
    ) -> RecordResult:
        return self._command(
            "record_decision",
            op_id,
            partnership=partnership,
            key=key,
            subject=subject,
            proposed_by=proposed_by,
            rule=rule,
            votes=votes,
            on=on,
            by=by,
            note=note,
        )

    def draft_agreement(
        self,
        key: str,
        partnership: str,
        title: str,
        parties: Sequence[str],
        start: date | str,
        end: date | str,
        shares: dict[str, Any] | None = None,
        annual_caps: dict[str, Any] | None = None,
        max_years: int | None = None,
        fiscal_year_start: int | None = None,
        *,
        by: str | None = None,
        note: str | None = None,
        op_id: str | None = None,
    ) -> RecordResult:
        return self._command(
            "draft_agreement",
            op_id,
            key=key,
            partnership=partnership,
            title=title,
            parties=list(parties),
            start=start,
            end=end,
            shares=shares,
            annual_caps=annual_caps,
            max_years=max_years,
            fiscal_year_start=fiscal_year_start,
            by=by,
            note=note,
        )

    def sign_agreement(
        self,
        agreement: str,
        party: str,
        on: date | str,
        *,
        by: str | None = None,
        note: str | None = None,
        op_id: str | None = None,
    ) -> RecordResult:
        return self._command("sign_agreement", op_id, agreement=agreement, party=party, on=on, by=by, note=note)

    def amend_agreement(
        self,
        agreement: str,
        amendment: str,
        changes: dict[str, Any],
        proposed_by: str,
        on: date | str,
        *,
        by: str | None = None,
        note: str | None = None,
        op_id: str | None = None,
    ) -> RecordResult:
        return self._command(
            "amend_agreement",
            op_id,
            agreement=agreement,
            amendment=amendment,
            changes=changes,
            proposed_by=proposed_by,
            on=on,
            by=by,
            note=note,
        )

    def consent_amendment(
        self,
        agreement: str,
        amendment: str,
        party: str,
        on: date | str,
        *,
        by: str | None = None,
        note: str | None = None,
        op_id: str | None = None,
    ) -> RecordResult:
        return self._command(
            "consent_amendment",
            op_id,
            agreement=agreement,
            amendment=amendment,
            party=party,
            on=on,
            by=by,
            note=note,
        )

    def terminate_agreement(
        self,
        agreement: str,
        reason: str,
        on: date | str,
        *,
        by: str | None = None,
        note: str | None = None,
        op_id: str | None = None,
    ) -> RecordResult:
        return self._command(
            "terminate_agreement",
            op_id,
            agreement=agreement,
            reason=reason,
            on=on,
            by=by,
            note=note,
        )

    def pledge(
        self,
        key: str,
        partnership: str,
        party: str,
        kind: Any,
        value: Any,
        fiscal_year: int,
        agreement: str | None = None,
        quantity: Any = None,
        unit: str | None = None,
        valuation_basis: str | None = None,
        instrument: Any = None,
        description: str | None = None,
        recipient: str | None = None,
        *,
        by: str | None = None,
        note: str | None = None,
        op_id: str | None = None,
    ) -> RecordResult:
        return self._command(
            "pledge",
            op_id,
            key=key,
            partnership=partnership,
            party=party,
            agreement=agreement,
            kind=kind,
            value=value,
            quantity=quantity,
            unit=unit,
            valuation_basis=valuation_basis,
            instrument=instrument,
            fiscal_year=fiscal_year,
            description=description,
            recipient=recipient,
            by=by,
            note=note,
        )

    def deliver(
        self,
        contribution: str,
        value: Any,
        on: date | str,
        evidence: str | None = None,
        *,
        by: str | None = None,
        note: str | None = None,
        op_id: str | None = None,
    ) -> RecordResult:
        return self._command(
            "deliver",
            op_id,
            contribution=contribution,
            value=value,
            on=on,
            evidence=evidence,
            by=by,
            note=note,
        )

    def correct_contribution(
        self,
        contribution: str,
        delta: Any,
        reason: str,
        on: date | str,
        *,
        by: str | None = None,
        note: str | None = None,
        op_id: str | None = None,
    ) -> RecordResult:
        return self._command(
            "correct_contribution",
            op_id,
            contribution=contribution,
            delta=delta,
            reason=reason,
            on=on,
            by=by,
            note=note,
        )

    def withdraw_pledge(
        self,
        contribution: str,
        reason: str,
        on: date | str,
        *,
        by: str | None = None,
        note: str | None = None,
        op_id: str | None = None,
    ) -> RecordResult:
        return self._command(
            "withdraw_pledge",
            op_id,
            contribution=contribution,
            reason=reason,
            on=on,
            by=by,
            note=note,
        )

    def define_target(
        self,
        key: str,
        partnership: str,
        indicator: str,
        unit: str,
        direction: Any,
        baseline: Any,
        targets: Sequence[Any],
        *,
        by: str | None = None,
        note: str | None = None,
        op_id: str | None = None,
    ) -> RecordResult:
        return self._command(
            "define_target",
            op_id,
            key=key,
            partnership=partnership,
            indicator=indicator,
            unit=unit,
            direction=direction,
            baseline=baseline,
            targets=list(targets),
            by=by,
            note=note,
        )

    def record_measurement(
        self,
        target: str,
        period: str,
        value: Any,
        source: str,
        on: date | str,
        *,
        by: str | None = None,
        note: str | None = None,
        op_id: str | None = None,
    ) -> RecordResult:
        return self._command(
            "record_measurement",
            op_id,
            target=target,
            period=period,
            value=value,
            source=source,
            on=on,
            by=by,
            note=note,
        )

    def revise_target(
        self,
        target: str,
        targets: Sequence[Any],
        reason: str,
        on: date | str,
        *,
        by: str | None = None,
        note: str | None = None,
        op_id: str | None = None,
    ) -> RecordResult:
        return self._command(
            "revise_target",
            op_id,
            target=target,
            targets=list(targets),
            reason=reason,
            on=on,
            by=by,
            note=note,
        )

    def open_evaluation(
        self,
        key: str,
        partnership: str,
        period: str,
        criteria: Sequence[str] | None = None,
        scale_max: int | None = None,
        resident_weight: Any = None,
        *,
        by: str | None = None,
        note: str | None = None,
        op_id: str | None = None,
    ) -> RecordResult:
        return self._command(
            "open_evaluation",
            op_id,
            key=key,
            partnership=partnership,
            period=period,
            criteria=list(criteria) if criteria is not None else None,
            scale_max=scale_max,
            resident_weight=resident_weight,
            by=by,
            note=note,
        )

    def submit_evaluation(
        self,
        evaluation: str,
        evaluator: str,
        role: Any,
        scores: dict[str, int],
        on: date | str,
        party: str | None = None,
        comment: str | None = None,
        comment_public: bool | None = None,
        *,
        by: str | None = None,
        note: str | None = None,
        op_id: str | None = None,
    ) -> RecordResult:
        return self._command(
            "submit_evaluation",
            op_id,
            evaluation=evaluation,
            evaluator=evaluator,
            role=role,
            party=party,
            scores=scores,
            comment=comment,
            comment_public=comment_public,
            on=on,
            by=by,
            note=note,
        )

    def close_evaluation(
        self,
        evaluation: str,
        on: date | str,
        *,
        by: str | None = None,
        note: str | None = None,
        op_id: str | None = None,
    ) -> RecordResult:
        return self._command("close_evaluation", op_id, evaluation=evaluation, on=on, by=by, note=note)

    # -- queries -----------------------------------------------------------------------------

    def aggregate(self, key: str) -> LedgerAggregate:
        """The aggregate named ``key`` (any kind); :class:`UnknownKey` if there is none."""
        kind = self._kind_of_key(key)
        if kind is None:
            raise UnknownKey(f"there is nothing named {key} in the ledger")
        agg_id = aggregate_id(kind, key)
        self._sync_cache(self.last_position())
        kept = self._cache.peek(agg_id)
        # A copy of a kept one (the caller may change what it gets), or a fresh replay.
        agg: Any = copy.deepcopy(kept) if kept is not None else self._load(agg_id)
        if agg is None:
            raise UnknownKey(f"there is nothing named {key} in the ledger")
        assert isinstance(agg, AGGREGATE_CLASSES[kind])
        found: LedgerAggregate = agg
        return found

    def show(
        self, key: str, *, on: date | str | None = None, as_of: datetime | date | str | None = None
    ) -> dict[str, Any]:
        """Everything the ledger holds about ``key`` (any kind), as plain data.

        ``as_of``: what the ledger said at that recorded time (its events recorded by then);
        ``on``: as things stood on that date, by the dates things happened. Both compose.
        """
        aggregate = self.aggregate(key) if as_of is None else self._aggregate_as_of(key, as_of)
        view = self.reveal_view(aggregate_view(aggregate))
        return view if on is None else view_on(view, aggregate, parse_on(on))

    def _aggregate_as_of(self, key: str, as_of: datetime | date | str) -> LedgerAggregate:
        until = parse_as_of(as_of)
        kind = self._kind_of_key(key)
        if kind is None:
            raise UnknownKey(f"there is nothing named {key} in the ledger")
        events = [e for e in self.events.get(aggregate_id(kind, key)) if getattr(e, "timestamp", until) <= until]
        if not events:
            raise UnknownKey(f"there was nothing named {key} in the ledger at {until.isoformat()}")
        found: LedgerAggregate = _project(None, events)
        return found

    def _shown(
        self, kind: str, on: date | str | None, as_of: datetime | date | str | None
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """(key, view) of each ``kind`` as :meth:`show` gives it ``on``/``as_of``; with
        ``as_of``, only those recorded by then."""
        for key in self.keys(kind):
            try:
                yield key, self.show(key, on=on, as_of=as_of)
            except UnknownKey:
                if as_of is None:
                    raise
                continue  # not recorded yet at that time

    def parties(
        self, *, on: date | str | None = None, as_of: datetime | date | str | None = None
    ) -> list[dict[str, Any]]:
        """Every registered party: key, name, sector, capacity, identifiers, area.

        ``on``: the particulars as amended by that date (amendments take effect from their
        date); ``as_of``: only the parties recorded by that time, as the ledger then said.
        Both compose.
        """
        out = []
        for key, v in self._shown("party", on, as_of):
            out.append(
                {
                    "key": key,
                    "name": v["name"],
                    "sector": v["sector"],
                    "capacity": v["capacity"],
                    "identifiers": v["identifiers"],
                    "area": v["area"],
                }
            )
        return out

    def partnerships(
        self, *, on: date | str | None = None, as_of: datetime | date | str | None = None
    ) -> list[dict[str, Any]]:
        """Every partnership: key, title, phase, parent, current members.

        ``on``: the phase and members as they stood on that date (a partnership proposed
        after it is left out); ``as_of``: only those recorded by that time, as the ledger
        then said. Both compose.
        """
        day = parse_on(on) if on is not None else None
        out = []
        for key, v in self._shown("partnership", day, as_of):
            if day is not None and v["proposed_on"] > day:
                continue
            out.append(
                {
                    "key": key,
                    "title": v["title"],
                    "phase": v["phase"],
                    "parent": v["parent"],
                    "members": v["current_members"],
                    "currency": v["currency"],
                }
            )
        return out

    def history(
        self,
        key: str | None = None,
        party: str | None = None,
        since: date | str | None = None,
        until: date | str | None = None,
        *,
        ops: Iterable[str] | None = None,
        include_children: bool = False,
        recorded_since: datetime | str | None = None,
        recorded_until: datetime | str | None = None,
        on: date | str | None = None,
        as_of: datetime | date | str | None = None,
    ) -> list[dict[str, Any]]:
        """Every recorded operation, oldest first, optionally filtered.

        ``key``: the thing itself, and for a partnership everything recorded on it (its
        agreements, contributions, targets, evaluations; with ``include_children`` its
        sub-partnerships' too); for a party everything that names it. ``party``: operations
        naming that party. ``since``/``until``: effective dates, inclusive (pledges count on
        their day: the first day of their fiscal year unless they gave one). ``on``: as things
        stood on that date (effective on or before it); ``as_of``: what was recorded by then.
        Each entry: position, recorded_at, effective, op, kind, key, partnership, actor,
        recorded_by, note, summary, op_id, corrects (what a void or re-dating corrects) and
        corrected_by (the operations that corrected it).
        """
        if on is not None:
            day = parse_on(on)
            until = day if until is None else min(parse_on(until), day)
        if as_of is not None:
            stamp = parse_as_of(as_of)
            recorded_until = stamp if recorded_until is None else min(parse_as_of(recorded_until), stamp)
        kind: str | None = None
        keys: list[str] = []
        if key is not None:
            kind = self._kind_of_key(key)
            if kind is None:
                raise UnknownKey(f"there is nothing named {key} in the ledger")
            keys = [key, *(self.children(key) if kind == "partnership" and include_children else [])]
        where, params = history_where(self.db, kind, keys, party)
        if since is not None:
            where.append("h.effective >= ?")
            params.append(str(since))
        if until is not None:
            where.append("h.effective <= ?")
            params.append(str(until))
        if recorded_since is not None:
            where.append("h.recorded_at >= ?")
            params.append(recorded_since.isoformat() if isinstance(recorded_since, datetime) else recorded_since)
        if recorded_until is not None:
            where.append("h.recorded_at <= ?")
            params.append(recorded_until.isoformat() if isinstance(recorded_until, datetime) else recorded_until)
        if ops is not None:
            op_list = list(ops)
            where.append(f"h.op IN ({','.join('?' * len(op_list))})")
            params += op_list
        sql = (
            "SELECT h.position, h.recorded_at, h.effective, h.op, h.kind, h.key, h.partnership, h.actor, "
            "h.recorded_by, h.note, h.summary, h.op_id, k.corrects FROM rm_history h "
            "LEFT JOIN rm_corrections k ON k.position = h.position"
        )
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY h.position"
        names = (
            "position",
            "recorded_at",
            "effective",
            "op",
            "kind",
            "key",
            "partnership",
            "actor",
            "recorded_by",
            "note",
            "summary",
            "op_id",
            "corrects",
        )
        until_text = recorded_until.isoformat() if isinstance(recorded_until, datetime) else recorded_until
        with self.db.transaction(commit=False) as c:
            c.execute(sql, params)
            rows = [dict(zip(names, row, strict=True)) for row in c.fetchall()]
            # What corrected each (a void, a re-dating), from the small table of corrections.
            corrected_by: dict[str, list[str]] = {}
            c.execute(
                "SELECT corrects, op_id, recorded_at FROM rm_corrections WHERE corrects IS NOT NULL ORDER BY position"
            )
            for corrects, by_op, recorded in c.fetchall():
                if until_text is not None and str(recorded) > until_text:
                    continue  # recorded after the time asked for (--as-of)
                corrected_by.setdefault(corrects, []).append(by_op)
        for row in rows:
            row["corrected_by"] = corrected_by.get(row["op_id"], [])
        return rows

    def stored_events(self, *, start: int = 0, batch: int = 2000) -> Iterator[tuple[int, Any]]:
        """Every stored event in notification order, as (position, domain event)."""
        position = start
        while True:
            with self.db.transaction(commit=False) as c:
                col, table = self.db.position_col, self.db.events_table
                c.execute(
                    f"SELECT {col}, originator_id, originator_version, topic, state FROM {table} "
                    f"WHERE {col} > ? ORDER BY {col} LIMIT ?",
                    (position, batch),
                )
                rows = c.fetchall()
            for pos, oid, version, topic, state in rows:
                yield (
                    pos,
                    self.mapper.to_domain_event(StoredEvent(uuid.UUID(str(oid)), version, topic, bytes(state))),
                )
                position = pos
            if len(rows) < batch:
                return

    def export_operations(self, progress: Callable[[int], None] | None = None) -> Iterator[dict[str, Any]]:
        """The ledger as journal operations (JSON-ready), in the order they were recorded.

        ``progress``, if given, is called with 1 for each stored event read.
        """
        keys: dict[uuid.UUID, str] = {}
        vault = self.vault()
        for _, event in self.stored_events():
            if progress is not None:
                progress(1)
            key = getattr(event, "key", None)
            if event.originator_version == 1 and isinstance(key, str):
                keys[event.originator_id] = key
            op = event_to_operation(event, keys.get(event.originator_id, ""))
            if op is not None and vault is not None:
                from .privacy.public import reveal_operation

                op = reveal_operation(op, vault)
            if op is not None:
                yield to_json_value(op)

    # -- standard exports (docs/standards.md) ---------------------------------------------------

    def export_360giving(
        self,
        *,
        partnership: str | None = None,
        fiscal_year: int | None = None,
        id_prefix: str | None = None,
        data_source: str | None = None,
        publisher: str | None = None,
    ) -> dict[str, Any]:
        """The ledger's money pledges as a 360Giving 1.4.3 package.

        Returns ``{"package": {...}, "left_out": [{"kind", "key", "reason", ...}]}``: the
        package (amounts as Decimal: write them with
        :func:`partnership_ledger.standards.jsonout.dumps`) and what it could not carry.
        """
        from .standards.giving360 import DEFAULT_ID_PREFIX, grants_package

        return grants_package(
            self.stored_events(),
            partnership=partnership,
            fiscal_year=fiscal_year,
            id_prefix=id_prefix or DEFAULT_ID_PREFIX,
            data_source=data_source,
            publisher=publisher,
        )

    def export_ocds(
        self,
        *,
        ocid_prefix: str | None = None,
        publisher: str | None = None,
        uri: str | None = None,
    ) -> dict[str, Any]:
        """The ledger's agreements as OCDS 1.1.5 contracting processes.

        Returns ``{"release_package": {...}, "record_package": {...}, "left_out": [...]}``:
        one release per change of each agreement, and a record per agreement with its
        releases and compiled release.
        """
        from .standards.ocds import DEFAULT_OCID_PREFIX, ocds_export

        return ocds_export(
            self.stored_events(),
            ocid_prefix=ocid_prefix or DEFAULT_OCID_PREFIX,
            publisher=publisher or "partnership-ledger",
            uri=uri,
        )

    # -- indicators ----------------------------------------------------------------------------

    def replay_facts(self, as_of: datetime | date | str | None = None) -> FactStore:
        """Facts computed by replaying every event recorded up to ``as_of`` (all if None)."""
        until = parse_as_of(as_of) if as_of is not None else None
        events = (e for _, e in self.stored_events() if until is None or e.timestamp <= until)
        store = MemoryFactStore()
        fold(with_info(events), store)
        return store

    def diff(
        self,
        partnership: str,
        from_time: datetime | date | str,
        to_time: datetime | date | str,
        *,
        include_children: bool = False,
        by: str = "recorded",
        on: date | str | None = None,
    ) -> dict[str, Any]:
        """What changed in a partnership between two times.

        ``by="recorded"`` (the default): the operations recorded in ``(from_time, to_time]``,
        and each indicator (balance, voice, targets, evaluations) as the ledger stated it at
        each of the two recorded times (``on``, if given, views both on that date).
        ``by="effective"``: the two are dates: the operations that took effect in
        ``(from_time, to_time]``, and each indicator as things stood on each date, by
        everything recorded so far.
        """
        if by not in ("recorded", "effective"):
            raise LedgerValueError(f"by must be recorded or effective, not {by!r}")
        if by == "effective":
            first, last = parse_on(from_time), parse_on(to_time)
            if last < first:
                raise LedgerValueError(f"--to ({last.isoformat()}) is before --from ({first.isoformat()})")
            before, after = self._facts_for(None, first), self._facts_for(None, last)
            start_text, end_text = first.isoformat(), last.isoformat()

            def in_window(h: dict[str, Any]) -> bool:
                return h["effective"] is not None and start_text < str(h["effective"]) <= end_text

        else:
            start, end = parse_as_of(from_time), parse_as_of(to_time)
            if end < start:
                raise LedgerValueError(f"--to ({end.isoformat()}) is before --from ({start.isoformat()})")
            before, after = self._facts_for(start, on), self._facts_for(end, on)
            start_text, end_text = start.isoformat(), end.isoformat()

            def in_window(h: dict[str, Any]) -> bool:
                return start_text < str(h["recorded_at"]) <= end_text

        children = self._children_for(partnership, include_children)

        def indicators(store: FactStore) -> dict[str, Any]:
            if store.partnership(partnership) is None:
                return {"exists": False}
            return {
                "exists": True,
                "balance": queries.burden_balance(store, partnership, children=children),
                "voice": queries.voice(store, partnership, children=children),
                "targets": queries.target_progress(store, partnership, children=children),
                "evaluations": queries.evaluation_summary(store, partnership, children=children),
            }

        events = [h for h in self.history(partnership, include_children=include_children) if in_window(h)]
        return {
            "partnership": partnership,
            "by": by,
            "from": start_text,
            "to": end_text,
            "on": None if on is None or by == "effective" else parse_on(on).isoformat(),
            "operations": events,
            "before": indicators(before),
            "after": indicators(after),
        }

    def event_count(self) -> int:
        with self.db.transaction(commit=False) as c:
            c.execute(f"SELECT COUNT(*) FROM {self.db.events_table}")
            row = c.fetchone()
            return int(row[0]) if row else 0

    def last_position(self) -> int:
        with self.db.transaction(commit=False) as c:
            c.execute(f"SELECT MAX({self.db.position_col}) FROM {self.db.events_table}")
            row = c.fetchone()
            return int(row[0]) if row and row[0] is not None else 0

    def info(self) -> dict[str, Any]:
        """Where the ledger is, what it holds, and how it is stored."""
        storage: dict[str, Any]
        with self.db.transaction(commit=False) as c:
            if self.backend == "postgresql":
                c.execute("SHOW server_version")
                storage = {"server_version": (c.fetchone() or ("?",))[0]}
            else:
                c.execute("PRAGMA journal_mode")
                journal_mode = (c.fetchone() or ("?",))[0]
                c.execute("PRAGMA synchronous")
                sync = (c.fetchone() or (None,))[0]
                storage = {
                    "journal_mode": journal_mode,
                    "synchronous": {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(sync, str(sync)),
                }
        last = self.last_position()
        tracked = self.projections.position()
        return {
            "location": (self.location if self.backend == "postgresql" else os.path.abspath(self.location)),
            "backend": self.backend,
            "events": self.event_count(),
            "last_position": last,
            "read_model_position": tracked,
            "read_model_lag": last - tracked,
            "read_model_error": self.read_model_error,
            **storage,
            "parties": len(self.keys("party")),
            "partnerships": len(self.keys("partnership")),
        }


def _keys_named(operations: Sequence[Operation]) -> list[str]:
    """Every key the operations name (to look their kinds up at once)."""
    keys: set[str] = set()
    for op in operations:
        keys.update(keys_named(op))
    return sorted(keys)


class _LostRace(Exception):
    """Another writer recorded something the batch read: it must start again."""


def _slices(operations: Iterable[Operation], size: int) -> Iterator[list[Operation]]:
    chunk: list[Operation] = []
    for op in operations:
        chunk.append(op)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _project(aggregate: Any, events: Iterable[Any]) -> Any:
    """eventsourcing's ``project_aggregate`` without its ``assert`` that every event is an
    instance of a runtime-checkable Protocol (what ``python -O`` runs): the events come
    from our own store and classes, and that check was some 40 % of a replay."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


class _Loader:
    """Reconstructs aggregates from the store with :func:`_project`."""

    def __init__(self, repository: Any) -> None:
        self._repository = repository

    def get(self, agg_id: uuid.UUID) -> LedgerAggregate:
        from eventsourcing.domain import OriginatorVersionError

        try:
            found: LedgerAggregate = self._repository.get(agg_id, projector_func=_project)
        except OriginatorVersionError:
            # Stored events of one aggregate that do not follow one another: one was hidden
            # or removed behind the application's back.
            from .errors import IntegrityError

            raise IntegrityError(
                f"tampering found: the stored events of aggregate {agg_id.hex} do not follow one another "
                "(see 'partnership-ledger verify')"
            ) from None
        return found


class _SliceWriter:
    """Writes a batch's events a slice at a time within one write transaction.

    The transaction is opened when the first slice has events, and ends with the ``with``
    block: committed if the block ends normally, rolled back if it raises. The events of a
    slice are encoded and handed to the recorder (which adds chain links, index rows and, if
    the read models are current, applies them) and then dropped.
    """

    def __init__(self, ledger: PartnershipLedger, dry_run: bool) -> None:
        self._ledger = ledger
        self._dry_run = dry_run
        self._stack = ExitStack()
        self._insert: Callable[..., Sequence[int]] | None = None
        self.events = 0
        self.first_position: int | None = None
        self.last_position: int | None = None
        self.projected = True  # every slice's read models applied in the transaction

    def __enter__(self) -> _SliceWriter:
        self._stack.__enter__()
        return self

    def __exit__(self, *exc: Any) -> bool:
        try:
            suppressed = bool(self._stack.__exit__(*exc))
        except BaseException:
            self._rolled_back()
            raise
        if exc[0] is not None:
            self._rolled_back()
        return suppressed

    def _rolled_back(self) -> None:
        if self._insert is not None:
            # Slices written before the failure had their read models applied, and the
            # read models remember what they learnt of aggregates that are not there now.
            self._ledger._index.clear()

    def write(self, uow: UnitOfWork) -> None:
        events, marks, created = uow.take_events()
        if not events:
            return
        self.events += len(events)
        if self._dry_run:
            return
        ledger = self._ledger
        if self._insert is None:
            self._insert = self._stack.enter_context(ledger._write_session())
        to_stored = ledger.mapper.to_stored_event
        stored = [to_stored(e) for e in events]
        applied: list[bool] = []
        project = None
        if ledger.read_models_inline:

            def project(c: Any, positions: Sequence[int]) -> None:
                applied.append(ledger.projections.apply_recorded(c, list(zip(positions, events, strict=True))))

        private = uow.vault.writer() if uow.vault is not None else None
        positions = self._insert(stored, ledger_ops=marks, ledger_keys=created, project=project, private=private)
        self.projected = self.projected and applied == [True]
        if self.first_position is None:
            self.first_position = positions[0]
        self.last_position = positions[-1]


def _back_off(attempt: int) -> None:
    """Wait a random while, longer after each lost race, so that many writers racing for one
    aggregate don't keep colliding (none of them starves)."""
    import random
    from time import sleep

    sleep(random.uniform(0, min(0.25, 0.002 * 2**attempt)))


def _reason(e: BaseException) -> str:
    text = str(e) or type(e).__name__
    if "database or disk is full" in text:
        return "the disk is full"
    if "database is locked" in text:
        return "the database is locked by another process"
    return text
