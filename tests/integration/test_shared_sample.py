"""The shared sample journal (../shared/examples/every-op.json) still imports, and the
repository's copy holds every one of its operations, in order, plus the newer ones."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from conftest import EVERY_OP_COPY, SHARED_EVERY_OP

from partnership_ledger.application import PartnershipLedger


def _shared() -> list[dict[str, object]]:
    if not SHARED_EVERY_OP.is_file():
        pytest.skip(f"{SHARED_EVERY_OP} is absent (a clone without ../shared beside it)")
    return list(json.loads(SHARED_EVERY_OP.read_text(encoding="utf-8")))


def test_the_repository_sample_extends_the_shared_one() -> None:
    shared = _shared()
    ours = json.loads(EVERY_OP_COPY.read_text(encoding="utf-8"))
    it = iter(ours)
    missing = [op for op in shared if not any(op == mine for mine in it)]
    assert missing == [], f"operations of the shared sample missing from {EVERY_OP_COPY.name}: {missing[:3]}"


def test_the_shared_sample_still_imports(new_ledger: Callable[[], AbstractContextManager[PartnershipLedger]]) -> None:
    shared = _shared()
    with new_ledger() as ledger:
        first = ledger.import_journal(json.dumps(shared).encode("utf-8"))
        again = ledger.import_journal(json.dumps(shared).encode("utf-8"))
    assert first.applied == len(shared)
    assert (again.applied, again.skipped) == (0, len(shared))
