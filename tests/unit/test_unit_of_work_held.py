"""What a unit of work holds, by key and by id: a void finds its operation's aggregate as the
batch holds it (with the changes not written yet), and the same object that an operation
naming its key gets, before and after a written slice lets it go."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from partnership_ledger.domain import Party, aggregate_id
from partnership_ledger.domain.values import OpMeta, Sector
from partnership_ledger.service.unit_of_work import UnitOfWork


def party(key: str, op_id: str) -> Party:
    return Party(
        key=key, name=key.upper(), sector=Sector.NPO, capacity=None, identifiers=[], area=None, meta=OpMeta(op_id)
    )


class Store:
    """The ledger as stored: each ``get`` reconstructs a new object, as a repository does."""

    def __init__(self, *keys: str) -> None:
        self.keys = {aggregate_id("party", key): key for key in keys}
        self.gets = 0

    def get(self, agg_id: UUID) -> Any:
        if agg_id not in self.keys:
            raise AggregateNotFoundError(agg_id)
        self.gets += 1
        return party(self.keys[agg_id], f"register-{self.keys[agg_id]}")


def unit_of_work(store: Store) -> UnitOfWork:
    kinds = dict.fromkeys(store.keys.values(), "party")
    ops = {f"register-{key}": agg_id for agg_id, key in store.keys.items()}
    return UnitOfWork(store, kinds.get, find_op=ops.get)


def test_a_void_finds_the_aggregate_the_batch_created() -> None:
    uow = unit_of_work(Store())
    uow.begin_operation("register-n")
    new = party("n", "register-n")
    uow.add(new)
    uow.collect(new)
    assert uow.aggregate_of_op("register-n") is new
    assert uow.aggregate_of_op("register-x") is None


def test_a_void_finds_the_aggregate_the_batch_holds_not_a_stored_copy() -> None:
    store = Store("a")
    uow = unit_of_work(store)
    held = uow.get(Party, "a")
    assert uow.aggregate_of_op("register-a") is held
    assert store.gets == 1


def test_what_a_void_reads_back_after_a_slice_is_held_again() -> None:
    store = Store("a")
    uow = unit_of_work(store)
    first = uow.get(Party, "a")
    uow.keep = 0
    uow.release(pledges_stored=True)  # lets "a" go: read back when named again
    found = uow.aggregate_of_op("register-a")
    assert found is not None
    assert found is not first
    assert uow.get(Party, "a") is found  # held by key as well as by id
    assert uow.aggregate_of_op("register-a") is found
    assert store.gets == 2
    assert uow.aggregates() == [found]
