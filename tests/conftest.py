"""Shared fixtures and the hypothesis profiles.

Profiles: ``default`` (fast, for every run) and ``ci`` (deeper), chosen by the environment
variable ``HYPOTHESIS_PROFILE``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.demo import build_demo, demo_journal_bytes

pytest_plugins = ["conftest_pg"]  # backend_url / any_ledger / pg_url: SQLite and PostgreSQL

settings.register_profile("default", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

TESTS = Path(__file__).parent
SHARED_EVERY_OP = Path(__file__).parents[2] / "shared" / "examples" / "every-op.json"
# A copy kept in the repository, so that a fresh clone tests without ../shared beside it, and
# extended with the operations added since the shared sample was written.
EVERY_OP_COPY = TESTS / "data" / "every-op.json"


# A ledger syncs every commit to disk (synchronous=FULL), which makes a test that records a
# few dozen operations wait on the disk for most of its time. Where the machine has a tmpfs
# (Linux's /dev/shm) the tests' ledgers live there; elsewhere in pytest's tmp_path.
TMPFS = Path("/dev/shm")


@pytest.fixture(scope="session")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder for the tests' ledgers, on a tmpfs when there is one."""
    if TMPFS.is_dir() and os.access(TMPFS, os.W_OK):
        folder = Path(tempfile.mkdtemp(prefix="partnership-ledger-tests-", dir=TMPFS))
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    else:
        yield tmp_path_factory.mktemp("ledgers")


@pytest.fixture(scope="session")
def new_ledger(scratch: Path) -> Callable[[], AbstractContextManager[PartnershipLedger]]:
    """A factory of fresh ledgers, for tests that need several (or one per hypothesis
    example): ``with new_ledger() as ledger: ...``; the ledger is closed and removed after."""

    @contextmanager
    def make() -> Iterator[PartnershipLedger]:
        folder = Path(tempfile.mkdtemp(dir=scratch))
        try:
            with PartnershipLedger.open(folder / "l.sqlite") as opened:
                yield opened
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    return make


@pytest.fixture
def ledger(new_ledger: Callable[[], AbstractContextManager[PartnershipLedger]]) -> Iterator[PartnershipLedger]:
    """A fresh, empty ledger in a temporary SQLite file, closed after the test."""
    with new_ledger() as opened:
        yield opened


@pytest.fixture
def every_op_path() -> Path:
    """The sample journal that uses every operation: the repository's copy, which is
    ../shared/examples/every-op.json with the operations added since appended
    (tests/integration/test_shared_sample.py checks that it still is)."""
    return EVERY_OP_COPY


@pytest.fixture
def demo_bytes() -> bytes:
    """The bundled demo journal."""
    return demo_journal_bytes()


#: Set by .ci/run or a developer for the tests themselves: not settings of the ledger.
TEST_SETTINGS = ("PARTNERSHIP_LEDGER_TEST_PG", "PARTNERSHIP_LEDGER_STANDARDS")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts without the ledger's settings from the shell (every
    ``PARTNERSHIP_LEDGER_*`` but the tests' own, and ``NO_COLOR``): a test that needs one sets it."""
    for name in list(os.environ):
        if (name.startswith("PARTNERSHIP_LEDGER_") and name not in TEST_SETTINGS) or name == "NO_COLOR":
            monkeypatch.delenv(name)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The demo ledger's file, built once a module: only for tests that do not change it."""
    return str(build_demo(tmp_path_factory.mktemp("demo") / "demo"))
