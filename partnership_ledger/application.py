"""PartnershipLedger: the embedding API, an eventsourcing Application.

This module sets a ledger up (storage, read models, key table) and is its facade. Recording
is :mod:`partnership_ledger.service` (:class:`~.service.commands.Commands`); reading is
:mod:`partnership_ledger.queries` (:class:`~.queries.aggregates.AggregateQueries`,
:class:`~.queries.records.RecordQueries` and the indicators they build on)::

    with PartnershipLedger.open("ledger.sqlite") as ledger:
        ledger.register_party("npo-puppets", "NPO法人 人形劇の森", "npo")
        ledger.show("npo-puppets")["sector"]   # 'npo'
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import Callable
from typing import Any, ClassVar

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, PersistenceError

from .config import default_location
from .errors import IntegrityError, StorageError
from .projections import Projections, ReadModel
from .projections.history import AggregateIndex, HistoryModel
from .projections.sqlstore import SqlFactStore
from .queries.aggregates import AggregateQueries
from .queries.records import RecordQueries
from .service.commands import Commands
from .service.recorder import Recorder, RecordResult
from .snapshots import INTERVALS, drop_snapshots, open_snapshots, register_snapshot_transcodings
from .storage import setup
from .storage.cipher import check_cipher, cipher_key
from .storage.db import Db
from .storage.setup import ENV_PATH, ENV_READONLY, ENV_URL, sqlite_env
from .storage.transcodings import register_transcodings

__all__ = ["ENV_PATH", "ENV_READONLY", "ENV_READ_MODELS", "PartnershipLedger", "RecordResult", "sqlite_env"]

#: ``inline`` (default): every write and every open brings the read models up to date;
#: ``follow``: a ``partnership-ledger follow`` process does (many writers, PostgreSQL).
ENV_READ_MODELS = "PARTNERSHIP_LEDGER_READ_MODELS"


class PartnershipLedger(Commands, AggregateQueries, RecordQueries, Application[uuid.UUID]):
    """An event-sourced ledger of partnerships, their resources, voice, targets and views.

    Use :meth:`open` rather than the constructor. Every command validates its input exactly
    as the journal does, applies the domain rules, and records all its events atomically, or
    raises a :class:`~partnership_ledger.errors.LedgerError` and records nothing.
    """

    name = "PartnershipLedger"
    env: ClassVar[dict[str, str]] = {}
    #: Opened to read only while its read models lagged (or were of an older layout): how many
    #: events they were behind; the answers come from a private up-to-date copy (see :meth:`open`).
    private_copy_lag: int | None = None
    _private_folder: str | None = None
    _memory_keeper: sqlite3.Connection | None = None  # keeps read models in memory alive (a cipher key)
    snapshotting_intervals = INTERVALS  # taken after each batch (snapshots.py)
    _format_2 = False  # chain format 2, once read (see chain_format)
    _secrets: tuple[str | None, tuple[bytes | None, bytes]] | None = None  # (cipher key, vault secrets)

    def __init__(self, env: dict[str, str] | None = None) -> None:
        try:
            super().__init__(env)
            datastore = self.factory.datastore  # type: ignore[attr-defined]
            events_table = getattr(self.recorder, "events_table_name", "stored_events")
            self.location: str
            if type(datastore).__module__ == "eventsourcing.postgres":
                from .storage.postgres import PgDb

                self.db: Db = PgDb(datastore, events_table)
                self.location = self.env.get(ENV_URL) or ""
            else:
                self.db = Db(datastore, events_table)
                self.location = self.env.get(ENV_PATH) or self.env.get("SQLITE_DBNAME") or ""
                self._keep_memory_read_models()
            self.backend = self.db.backend
            open_snapshots(self)
            #: Where each aggregate belongs (the first read model: it places the events).
            self.aggregate_index = AggregateIndex()
            self.facts = SqlFactStore(self.db)
            self.projections = Projections(
                self.db, self.mapper, _read_models(self.aggregate_index, self.facts), self.aggregate_index.info_of
            )
            #: Records operations (:class:`~partnership_ledger.service.recorder.Recorder`).
            self.recording = Recorder(self)
            #: Opened to read only (``open(readonly=True)``): nothing is created or changed.
            self.readonly = self.env.get(ENV_READONLY) == "1"
            if not self.readonly:
                from .privacy.vault import init_tables

                setup.init_meta(self.db)
                self.projections.create_tables()
                # The key tables; a ledger with no events yet commits private fields (chain format 2).
                init_tables(self.db, new_ledger=setup.has_no_events(self.db))
                setup.refuse_rows_outside_the_chain(self.db)
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
                if setup.reason(e) != "the disk is full":
                    raise
                # The events are all there: a full disk must not keep the ledger from opening.
                self.read_model_error = setup.reason(e)
            except Exception as e:
                self.read_model_error = f"{type(e).__name__}: {e}"
        except PersistenceError as e:
            raise StorageError(f"cannot open the ledger: {e}") from None

    def _keep_memory_read_models(self) -> None:
        """Read models in memory (a cipher key is set): a connection that keeps the shared
        in-memory database alive as long as the ledger is open, and no read model left in
        the file (an encrypted ledger made before kept them there: they are dropped)."""
        from .storage.sqlite import ENV_MEMORY_READ_MODELS, MEMORY_SCHEMA

        uri = self.env.get(ENV_MEMORY_READ_MODELS)
        if not uri:
            return
        self._memory_keeper = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self.db.memory_schema = MEMORY_SCHEMA
        if self.env.get(ENV_READONLY) != "1" and setup.drop_file_read_models(self.db):
            setup.leave_no_copy(self.db, self.env.get(ENV_PATH))

    def close(self) -> None:
        super().close()
        if self._memory_keeper is not None:
            self._memory_keeper.close()
            self._memory_keeper = None
        if self._private_folder is not None:
            shutil.rmtree(self._private_folder, ignore_errors=True)
            self._private_folder = None

    @property
    def chain_format(self) -> str:
        """``2``: private fields enter the chain as salted commitments (docs/privacy.md);
        ``1``: a ledger written before, whose events hold every value as given. Format 2 is
        read once: its row is written when the ledger is made, and never changed."""
        from .privacy.vault import CHAIN_FORMAT, chain_format

        if self._format_2:
            return CHAIN_FORMAT
        found = chain_format(self.db)
        self._format_2 = found == CHAIN_FORMAT
        return found

    def vault(self, *, recording: bool = False) -> Any:
        """The ledger's key table (privacy.vault.Vault). To record (``recording``): None for
        a chain format 1 ledger, whose events hold private fields as given. To read: always
        (a value is read back because it is a commitment, whatever the format row says).
        Its secrets are read once for a cipher key (the lookup secret is written with the
        ledger, as its format): a command reads nothing more than its own keys and operations."""
        from .privacy.vault import Vault, vault_secrets

        if recording and self.chain_format != "2":
            return None
        key = cipher_key()
        if self._secrets is None or self._secrets[0] != key:
            secrets = vault_secrets(self.db, key)
            if not secrets[1]:  # no lookup secret stored (a ledger written before): not kept
                return Vault(self.db, *secrets, self.mapper)
            self._secrets = (key, secrets)
        master, pepper = self._secrets[1]
        return Vault(self.db, master, pepper, self.mapper)

    def check_key_table(self) -> str | None:
        """None if the key table (private values, outside the chain) agrees with the chain;
        else the first disagreement in a sentence (tampering). See privacy.key_check."""
        from .privacy.key_check import check_key_table
        from .privacy.vault import vault_secrets

        try:
            master, pepper = vault_secrets(self.db, cipher_key())
        except IntegrityError as e:
            return str(e)
        return check_key_table(self.db, master, pepper, self.mapper)

    def read_models_for(self, db: Db) -> Projections:
        """The ledger's read models over another database ``db``, fresh and empty: what
        verification recomputes them into (see projections.verification)."""
        index = AggregateIndex()
        return Projections(db, self.mapper, _read_models(index, SqlFactStore(db)), index.info_of)

    @classmethod
    def open(
        cls,
        location: str | os.PathLike[str] | None = None,
        *,
        create: bool = True,
        readonly: bool = False,
        as_stored: bool = False,
    ) -> PartnershipLedger:
        """Open (and by default create) the ledger at a SQLite path (never an SQLite URI) or
        PostgreSQL URL; ``location`` defaults to ``$PARTNERSHIP_LEDGER_DB`` or
        ``partnership-ledger.sqlite``. ``create=False``: a missing ledger is an error.

        ``readonly=True`` (implied for an SQLite file that cannot be written) creates and changes
        nothing. When an SQLite ledger's read models lag behind its events or are of an older
        version, it then reads a private up-to-date copy (:attr:`private_copy_lag`; removed by
        :meth:`close`), unless ``as_stored=True`` (what ``verify`` and ``info`` look at; a
        PostgreSQL ledger always answers from its read models as stored).
        """
        loc = os.fspath(location) if location is not None else default_location()
        if setup.is_postgres(loc):
            from .storage import postgres  # StorageError without psycopg (the postgres extra)

            postgres.check_database(loc, create=create)
            ledger = cls(postgres.postgres_env(loc, readonly=readonly))
        else:
            setup.check_sqlite_location(loc, create and not readonly)
            check_cipher(loc, cipher_key())
            from .storage.sqlite import is_writable

            readonly = readonly or (os.path.exists(loc) and not is_writable(loc))
            ledger = cls(sqlite_env(loc, readonly=readonly))
        return ledger._with_current_read_models(loc) if readonly and not as_stored else ledger

    def _with_current_read_models(self, location: str) -> PartnershipLedger:
        """This ledger (open to read only) if its read models are current, else one that reads
        a private copy of it whose read models are brought up to date; the ledger itself is
        not written. Rows outside the chain are refused, as opening to write refuses them."""
        try:
            setup.refuse_rows_outside_the_chain(self.db)
            lag = None if self.backend != "sqlite" else self._lag()  # (PostgreSQL: as stored)
        except BaseException:
            self.close()
            raise
        if lag is None:
            return self
        self.close()
        folder, copy = setup.private_copy(location)
        try:
            writer = type(self)(sqlite_env(copy))  # brings the copy's read models up to date
            error = writer.read_model_error
            writer.close()
            ledger = type(self)(sqlite_env(copy, readonly=True))
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        ledger.location, ledger.private_copy_lag, ledger._private_folder = location, lag, folder
        ledger.read_model_error = ledger.read_model_error or error
        return ledger

    def _lag(self) -> int | None:
        """How many events the read models are behind (every event when there is no tracking
        table at all); None when they are current."""
        try:
            return None if self.projections.is_current() else self.last_position() - self.projections.position()
        except PersistenceError:  # no tracking table
            return self.last_position()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_transcodings(transcoder)
        register_snapshot_transcodings(transcoder)

    def catch_up(self, progress: Callable[[int], None] | None = None) -> int:
        """Bring the read models up to date with every stored event."""
        return self.projections.catch_up(progress)

    def rebuild(self, progress: Callable[[int], None] | None = None) -> int:
        """Recompute every read model from the first event.

        Refused, with the read models left as they are, when the events hold a row the chain
        does not vouch for (tampering: see ``integrity.foreign_row``), since recomputing from
        it would either fail half way or show what the chain does not.
        """
        from .integrity import foreign_row

        found = foreign_row(self.db)
        if found is not None:
            raise IntegrityError(
                f"tampering found: the event row at position {found[0]} {found[1]}; the read models "
                "are left as they are (see 'partnership-ledger verify')"
            )
        self.aggregate_index.clear()
        drop_snapshots(self)  # derived data too (snapshots.py)
        return self.projections.rebuild(progress)


def _read_models(index: AggregateIndex, facts: SqlFactStore) -> list[ReadModel]:
    """Every read model, in the order they are applied (the index first: it places events)."""
    return [index, HistoryModel(), facts]
