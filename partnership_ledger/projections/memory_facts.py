"""Facts in dictionaries: the fact store of ``as_of`` replays, and the model in tests."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

import attrs

from . import fact_records as F


class MemoryFactStore:
    """Facts in dictionaries: for replays (``as_of``) and as the model in tests."""

    def __init__(self) -> None:
        self._parties: dict[str, F.PartyFact] = {}
        self._partnerships: dict[str, F.PartnershipFact] = {}
        self._spells: dict[str, list[F.SpellFact]] = {}
        self._decisions: dict[str, list[F.DecisionFact]] = {}
        self._agreements: dict[str, F.AgreementFact] = {}
        self._contributions: dict[str, F.ContributionFact] = {}
        self._buckets: dict[F.BucketKey, F.Bucket] = {}
        self._amounts: dict[tuple[F.BucketKey, date], F.Bucket] = {}
        self._targets: dict[str, F.TargetFact] = {}
        self._evaluations: dict[str, F.EvaluationFact] = {}

    def put_party(self, fact: F.PartyFact) -> None:
        self._parties[fact.key] = fact

    def party(self, key: str) -> F.PartyFact | None:
        return self._parties.get(key)

    def put_partnership(self, fact: F.PartnershipFact) -> None:
        self._partnerships[fact.key] = fact

    def partnership(self, key: str) -> F.PartnershipFact | None:
        return self._partnerships.get(key)

    def partnership_keys(self) -> list[str]:
        return sorted(self._partnerships)

    def add_spell(self, fact: F.SpellFact) -> None:
        self._spells.setdefault(fact.partnership, []).append(fact)

    def end_spell(self, partnership: str, party: str, left: date) -> None:
        self._spells[partnership] = [
            attrs.evolve(s, left=left) if s.party == party and s.left is None else s
            for s in self._spells.get(partnership, [])
        ]

    def spells(self, partnership: str) -> list[F.SpellFact]:
        return list(self._spells.get(partnership, []))

    def add_decision(self, fact: F.DecisionFact) -> None:
        self._decisions.setdefault(fact.partnership, []).append(fact)

    def decisions(self, partnership: str) -> list[F.DecisionFact]:
        return list(self._decisions.get(partnership, []))

    def put_agreement(self, fact: F.AgreementFact) -> None:
        self._agreements[fact.key] = fact

    def agreement(self, key: str) -> F.AgreementFact | None:
        return self._agreements.get(key)

    def agreements(self, partnership: str) -> list[F.AgreementFact]:
        return sorted(_of(self._agreements, partnership), key=lambda a: a.seq)

    def put_contribution(self, fact: F.ContributionFact) -> None:
        self._contributions[fact.key] = fact

    def contribution(self, key: str) -> F.ContributionFact | None:
        return self._contributions.get(key)

    def contributions(self, partnership: str) -> list[F.ContributionFact]:
        return sorted(_of(self._contributions, partnership), key=lambda c: c.key)

    def count_contributions(self, partnership: str) -> int:
        return len(_of(self._contributions, partnership))

    def in_kind_rows(self, partnership: str) -> list[F.InKindRow]:
        return [F.in_kind_row(c) for c in self.contributions(partnership) if c.kind != "money"]

    def add_to_bucket(self, key: F.BucketKey, pledged: Decimal, withdrawn: Decimal, delivered: Decimal) -> None:
        self._buckets[key] = self._buckets.get(key, F.Bucket()).plus(pledged, withdrawn, delivered)

    def buckets(self, partnership: str) -> list[tuple[F.BucketKey, F.Bucket]]:
        return [(k, b) for k, b in self._buckets.items() if k.partnership == partnership]

    def add_amount(self, key: F.BucketKey, day: date, pledged: Decimal, withdrawn: Decimal, delivered: Decimal) -> None:
        self._amounts[(key, day)] = self._amounts.get((key, day), F.Bucket()).plus(pledged, withdrawn, delivered)

    def buckets_on(self, partnership: str, day: date) -> list[tuple[F.BucketKey, F.Bucket]]:
        return sum_amounts((k, b) for (k, d), b in self._amounts.items() if k.partnership == partnership and d <= day)

    def remove_decision(self, partnership: str, key: str) -> None:
        self._decisions[partnership] = [d for d in self._decisions.get(partnership, []) if d.key != key]

    def remove_spell(self, partnership: str, index: int) -> None:
        del self._spells[partnership][index]

    def reopen_spell(self, partnership: str, index: int) -> None:
        spells = self._spells[partnership]
        spells[index] = attrs.evolve(spells[index], left=None)

    def remove_measurement(self, target: str, index: int) -> None:
        t = F.must(self._targets.get(target), target)
        self._targets[target] = attrs.evolve(t, measurements=[m for i, m in enumerate(t.measurements) if i != index])

    def remove_submission(self, evaluation: str, evaluator: str) -> None:
        ev = F.must(self._evaluations.get(evaluation), evaluation)
        kept = [s for s in ev.submissions if s.evaluator != evaluator]
        self._evaluations[evaluation] = attrs.evolve(ev, submissions=kept)

    def put_target(self, fact: F.TargetFact) -> None:
        self._targets[fact.key] = fact

    def add_measurement(self, target: str, fact: F.MeasurementFact) -> None:
        t = F.must(self._targets.get(target), target)
        self._targets[target] = attrs.evolve(t, measurements=[*t.measurements, fact])

    def target(self, key: str) -> F.TargetFact | None:
        return self._targets.get(key)

    def targets(self, partnership: str) -> list[F.TargetFact]:
        return sorted(_of(self._targets, partnership), key=lambda t: t.key)

    def put_evaluation(self, fact: F.EvaluationFact) -> None:
        self._evaluations[fact.key] = fact

    def add_submission(self, evaluation: str, fact: F.SubmissionFact) -> None:
        ev = F.must(self._evaluations.get(evaluation), evaluation)
        self._evaluations[evaluation] = attrs.evolve(ev, submissions=[*ev.submissions, fact])

    def close_evaluation(self, evaluation: str, on: date) -> None:
        ev = F.must(self._evaluations.get(evaluation), evaluation)
        self._evaluations[evaluation] = attrs.evolve(ev, closed_on=on)

    def evaluation(self, key: str) -> F.EvaluationFact | None:
        return self._evaluations.get(key)

    def evaluations(self, partnership: str) -> list[F.EvaluationFact]:
        return sorted(_of(self._evaluations, partnership), key=lambda e: e.key)


def _of(facts: dict[str, Any], partnership: str) -> list[Any]:
    """The facts of one partnership."""
    return [f for f in facts.values() if f.partnership == partnership]


def sum_amounts(rows: Iterable[tuple[F.BucketKey, F.Bucket]]) -> list[tuple[F.BucketKey, F.Bucket]]:
    """Amounts by day summed into buckets (exact sums, in the order the buckets are first met)."""
    summed: dict[F.BucketKey, F.Bucket] = {}
    for key, b in rows:
        found = summed.get(key)
        summed[key] = b if found is None else found.plus(b.pledged, b.withdrawn, b.delivered)
    return list(summed.items())
