"""The unit of work's key look-ups: a new ledger is known to hold no key, so importing into it
asks the store about none, and gives the same answers and errors as looking every key up."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.errors import JournalError
from partnership_ledger.service.unit_of_work import UnitOfWork
from partnership_ledger.storage import reads


class _NoStore:
    def get(self, aggregate_id: uuid.UUID) -> Any:
        raise AssertionError("nothing is stored")


def test_a_store_without_keys_is_not_asked_about_any() -> None:
    asked: list[str] = []

    def kind_of_key(key: str) -> str | None:
        asked.append(key)
        return "party" if key == "p" else None

    uow = UnitOfWork(_NoStore(), kind_of_key)
    uow.prefetch(None)  # the store holds no key
    assert uow.kind_of("p") is None
    assert uow.kind_of("q") is None
    assert asked == []
    assert not uow.knows("p")  # (not looked up: a later read may still look it up)
    uow.prefetch({"q": None})  # the store has keys now: ask about the others
    assert uow.kind_of("q") is None
    assert uow.kind_of("p") == "party"
    assert asked == ["p"]


def _journal(*ops: dict[str, Any]) -> bytes:
    return json.dumps(list(ops)).encode()


PARTY = {"op": "register_party", "key": "p-1", "name": "P", "sector": "npo"}
PROPOSE = {
    "op": "propose_partnership",
    "key": "ps-1",
    "title": "T",
    "purpose": "U",
    "proposed_by": "p-1",
    "members": ["p-1"],
    "on": "2020-04-01",
}


def test_importing_into_a_new_ledger_looks_no_key_up(ledger: PartnershipLedger, monkeypatch: Any) -> None:
    def no_look_up(db: Any, key: str, c: Any = None) -> str | None:
        raise AssertionError(f"{key} looked up")

    with monkeypatch.context() as m:
        m.setattr(reads, "kind_of_key", no_look_up)
        with pytest.raises(JournalError, match="there is no party p-2"):
            ledger.import_journal(_journal(PARTY, {**PROPOSE, "members": ["p-1", "p-2"]}))
        assert ledger.event_count() == 0
        assert ledger.import_journal(_journal(PARTY)).applied == 1
    # The ledger has keys now: they are looked up, and found.
    with pytest.raises(JournalError, match="party p-1 already exists"):
        ledger.import_journal(_journal({**PARTY, "name": "Other"}))
    assert ledger.import_journal(_journal(PROPOSE)).applied == 1
    assert ledger.show("ps-1")["current_members"] == ["p-1"]
