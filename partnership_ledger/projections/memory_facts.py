"""Facts in dictionaries: the fact store of ``as_of`` replays, and the model in tests."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from . import facts as F

T = TypeVar("T")


class MemoryFactStore:
    """A :class:`~.facts.FactStore` in dictionaries: facts by kind and key, items by
    kind and owner, amounts by bucket and day (a bucket's sum is the sum of its days)."""

    def __init__(self) -> None:
        self._facts: dict[type[Any], dict[str, Any]] = {}
        self._items: dict[tuple[type[Any], str], list[Any]] = {}
        self._amounts: dict[tuple[F.BucketKey, date], F.Bucket] = {}

    def put(self, fact: Any) -> None:
        self._facts.setdefault(type(fact), {})[fact.key] = fact

    def get(self, kind: type[T], key: str) -> T | None:
        found: T | None = self._facts.get(kind, {}).get(key)
        return None if found is None else F.with_items(self, found)

    def of(self, kind: type[T], partnership: str) -> list[T]:
        found = [f for f in self._facts.get(kind, {}).values() if f.partnership == partnership]
        return [F.with_items(self, f) for f in F.in_order(found)]

    def add(self, owner: str, item: Any) -> None:
        self._items.setdefault((type(item), owner), []).append(item)

    def items(self, kind: type[T], owner: str) -> list[T]:
        return list(self._items.get((kind, owner), []))

    def replace(self, kind: type[Any], owner: str, index: int, item: Any | None) -> None:
        items = self._items[(kind, owner)]
        if item is None:
            del items[index]
        else:
            items[index] = item

    def count_contributions(self, partnership: str) -> int:
        return len(self.of(F.ContributionFact, partnership))

    def in_kind_rows(self, partnership: str) -> list[F.InKindRow]:
        return [F.in_kind_row(c) for c in self.of(F.ContributionFact, partnership) if c.kind != "money"]

    def add_amounts(
        self, key: F.BucketKey, day: date, pledged: Decimal, withdrawn: Decimal, delivered: Decimal
    ) -> None:
        self._amounts[(key, day)] = self._amounts.get((key, day), F.Bucket()).plus(pledged, withdrawn, delivered)

    def buckets(self, partnership: str) -> list[tuple[F.BucketKey, F.Bucket]]:
        return sum_amounts((k, b) for (k, _), b in self._amounts.items() if k.partnership == partnership)

    def buckets_on(self, partnership: str, day: date) -> list[tuple[F.BucketKey, F.Bucket]]:
        return sum_amounts((k, b) for (k, d), b in self._amounts.items() if k.partnership == partnership and d <= day)


def sum_amounts(rows: Iterable[tuple[F.BucketKey, F.Bucket]]) -> list[tuple[F.BucketKey, F.Bucket]]:
    """Amounts by day summed into buckets (exact sums, in the order the buckets are first met)."""
    summed: dict[F.BucketKey, F.Bucket] = {}
    for key, b in rows:
        found = summed.get(key)
        summed[key] = b if found is None else found.plus(b.pledged, b.withdrawn, b.delivered)
    return list(summed.items())
