"""How things stood on a date, by the dates things happened (``--on DATE``).

:class:`OnDate` reads a fact store as it stood on a day: what took effect after that day is
left out (a member who joined later, a decision, a signature, a measurement, a submission, a
delivery), with everything recorded so far (corrections included: a voided operation is not
there, whenever the void was recorded). It wraps any store, the read models (the amounts by
day come from ``rm_amounts``, a range of its primary key, not a replay) or an ``as_of``
replay, so the two times compose: ``OnDate(replay_facts(as_of), on)``.

An agreement's terms are those drafted, changed by the amendments in effect by the day.
What has no date of its own is kept as recorded: an agreement's drafting, an evaluation
round's opening, a target's definition, and the per contribution figures of the in-kind
breakdown (its rows by fiscal year do follow the day).
"""

from __future__ import annotations

from datetime import date
from typing import Any, TypeVar

import attrs

from . import facts as F

T = TypeVar("T")


class OnDate:
    """A read-only :class:`~.facts.FactStore` showing ``store`` as it stood on ``day``
    (what the queries read of it)."""

    def __init__(self, store: F.FactStore, day: date) -> None:
        self.store = store
        self.day = day
        self._buckets: dict[str, list[tuple[F.BucketKey, F.Bucket]]] = {}  # a query reads them twice
        self._views: dict[type[Any], Any] = {
            F.PartyFact: self._party,
            F.PartnershipFact: self._partnership,
            F.AgreementFact: self._agreement,
            F.TargetFact: self._target,
            F.EvaluationFact: self._evaluation,
        }

    def _by(self, day: date | None) -> date | None:
        """``day`` if it is no later than the view's, else None (not yet on the view's day)."""
        return day if day is not None and day <= self.day else None

    def _view(self, fact: Any) -> Any:
        """``fact`` as it stood on the day (None: not there yet)."""
        view = self._views.get(type(fact))
        return fact if fact is None or view is None else view(fact)

    def get(self, kind: type[T], key: str) -> T | None:
        found: T | None = self._view(self.store.get(kind, key))
        return found

    def of(self, kind: type[T], partnership: str) -> list[T]:
        return [v for f in self.store.of(kind, partnership) if (v := self._view(f)) is not None]

    def items(self, kind: type[T], owner: str) -> list[T]:
        found: list[Any] = self.store.items(kind, owner)
        if kind is not F.SpellFact:
            return [x for x in found if x.on <= self.day]
        spells = [s for s in found if s.joined <= self.day]
        return [attrs.evolve(s, left=None) if s.left is not None and s.left > self.day else s for s in spells]

    def count_contributions(self, partnership: str) -> int:
        return self.store.count_contributions(partnership)  # what has no date of its own, as recorded

    def in_kind_rows(self, partnership: str) -> list[F.InKindRow]:
        return self.store.in_kind_rows(partnership)

    def buckets(self, partnership: str) -> list[tuple[F.BucketKey, F.Bucket]]:
        found = self._buckets.get(partnership)
        if found is None:
            found = self._buckets[partnership] = self.store.buckets_on(partnership, self.day)
        return found

    # -- each kind of document on the day ----------------------------------------------------
    def _party(self, p: F.PartyFact) -> F.PartyFact:
        if not p.amendments:
            return p
        return attrs.evolve(p.as_on(self.day), amendments=[a for a in p.amendments if a["on"] <= self.day])

    def _partnership(self, p: F.PartnershipFact) -> F.PartnershipFact | None:
        if p.proposed_on > self.day:
            return None
        if p.concluded_on is not None and p.concluded_on > self.day:
            p = attrs.evolve(p, phase="active", concluded_on=None)
        if p.activated_on is not None and p.activated_on > self.day:
            p = attrs.evolve(p, phase="preparing", activated_on=None)
        return p

    def _agreement(self, a: F.AgreementFact) -> F.AgreementFact:
        day = self.day
        amendments = []
        for m in a.amendments:
            if m["on"] > day:
                continue
            consents = {k: v for k, v in m["consents"].items() if v <= day}
            amendments.append({**m, "consents": consents, "effective_on": self._by(m["effective_on"])})
        signatures = {k: v for k, v in a.signatures.items() if v <= day}
        return attrs.evolve(
            a, signatures=signatures, terminated_on=self._by(a.terminated_on), amendments=amendments
        ).with_terms()

    def _target(self, t: F.TargetFact) -> F.TargetFact:
        revisions = [r for r in t.revisions if r["on"] <= self.day]
        targets = t.targets
        if len(revisions) < len(t.revisions):
            # The targets in force on the day: the last revision made by then, else the first.
            targets = revisions[-1]["targets"] if revisions else t.revisions[0].get("previous", t.targets)
        measurements = [m for m in t.measurements if m.on <= self.day]
        return attrs.evolve(t, measurements=measurements, revisions=revisions, targets=targets)

    def _evaluation(self, e: F.EvaluationFact) -> F.EvaluationFact:
        submissions = [s for s in e.submissions if s.on <= self.day]
        return attrs.evolve(e, submissions=submissions, closed_on=self._by(e.closed_on))
