"""Fixtures for tests that run on both backends, SQLite and PostgreSQL (a pytest plugin).

``.ci/run`` starts a throwaway PostgreSQL server and sets ``PARTNERSHIP_LEDGER_TEST_PG`` to a
URL on it; each test that asks for PostgreSQL gets a database of its own, created for it and
dropped after it. Without the variable such tests are skipped on a developer's machine but
fail in CI (``CI`` set): a missing server must never pass silently.

To run them by hand, start a server and point the variable at it::

    PARTNERSHIP_LEDGER_TEST_PG=postgresql://user:password@127.0.0.1:5432/postgres pytest

Fixtures: ``pg_url`` (a fresh PostgreSQL ledger URL), ``pg_databases`` (makes more),
``backend`` (parametrized: ``sqlite``, then ``postgresql``), ``backend_url`` (a fresh SQLite path
or PostgreSQL URL on that backend), ``new_location`` (makes more of them), ``any_ledger`` (an open
ledger there).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from partnership_ledger.application import PartnershipLedger

PG_ENV = "PARTNERSHIP_LEDGER_TEST_PG"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres: needs the PostgreSQL test server")


def _admin_connect(url: str) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(url, autocommit=True, connect_timeout=10)


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The URL of the PostgreSQL test server (its database is used only to create others)."""
    url = os.environ.get(PG_ENV)
    if not url:
        message = f"{PG_ENV} is not set: no PostgreSQL server to test against"
        if os.environ.get("CI"):
            pytest.fail(message + " (in CI, .ci/run starts one)", pytrace=False)
        pytest.skip(message)
    try:
        conn = _admin_connect(url)
    except Exception as e:
        pytest.fail(f"cannot connect to the PostgreSQL test server: {e}", pytrace=False)
    conn.close()
    return url


def with_database(url: str, dbname: str) -> str:
    return urlsplit(url)._replace(path="/" + dbname).geturl()


class PgDatabases:
    """Creates fresh databases on the test server, and drops them all at the end."""

    def __init__(self, server: str) -> None:
        self.server = server
        self.created: list[str] = []

    def new_url(self) -> str:
        dbname = f"pl_test_{uuid.uuid4().hex[:16]}"
        with _admin_connect(self.server) as conn:
            conn.execute(f'CREATE DATABASE "{dbname}"')
        self.created.append(dbname)
        return with_database(self.server, dbname)

    def drop_all(self) -> None:
        with _admin_connect(self.server) as conn:
            for dbname in self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        self.created.clear()


@pytest.fixture
def pg_databases(pg_server: str) -> Iterator[PgDatabases]:
    """A maker of fresh PostgreSQL databases (``.new_url()``), all dropped after the test."""
    databases = PgDatabases(pg_server)
    try:
        yield databases
    finally:
        databases.drop_all()


@pytest.fixture
def pg_url(pg_databases: PgDatabases) -> str:
    """A fresh, empty PostgreSQL database for one test, as a ledger URL; dropped afterwards."""
    return pg_databases.new_url()


@pytest.fixture(params=[pytest.param("sqlite"), pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """The name of the backend a parametrized test is running on."""
    return str(request.param)


@pytest.fixture
def new_location(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Makes fresh ledger locations on the test's backend: SQLite paths or PostgreSQL URLs."""
    if backend == "postgresql":
        databases: PgDatabases = request.getfixturevalue("pg_databases")
        return databases.new_url
    counter = iter(range(1_000_000))
    return lambda: str(tmp_path / f"ledger-{next(counter)}.sqlite")


@pytest.fixture
def backend_url(new_location: Callable[[], str]) -> str:
    """Where a fresh ledger goes: an SQLite path, or a PostgreSQL URL of a fresh database."""
    return new_location()


@pytest.fixture
def any_ledger(backend_url: str) -> Iterator[PartnershipLedger]:
    """A fresh, empty, open ledger on each backend."""
    with PartnershipLedger.open(backend_url) as opened:
        yield opened
