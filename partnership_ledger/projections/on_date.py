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
from typing import Any

import attrs

from .facts import (
    AGREEMENT_TERMS,
    AgreementFact,
    Bucket,
    BucketKey,
    ContributionFact,
    DecisionFact,
    EvaluationFact,
    FactStore,
    InKindRow,
    MeasurementFact,
    PartnershipFact,
    PartyFact,
    SpellFact,
    SubmissionFact,
    TargetFact,
)


class OnDate:
    """A read-only :class:`~.facts.FactStore` showing ``store`` as it stood on ``day``."""

    def __init__(self, store: FactStore, day: date) -> None:
        self.store = store
        self.day = day
        self._buckets: dict[str, list[tuple[BucketKey, Bucket]]] = {}  # a query reads them twice

    # -- parties and partnerships ---------------------------------------------------------
    def party(self, key: str) -> PartyFact | None:
        found = self.store.party(key)
        if found is None or not found.amendments:
            return found
        now = found.as_on(self.day)
        return attrs.evolve(now, amendments=[a for a in found.amendments if a["on"] <= self.day])

    def partnership(self, key: str) -> PartnershipFact | None:
        p = self.store.partnership(key)
        if p is None or p.proposed_on > self.day:
            return None
        if p.concluded_on is not None and p.concluded_on > self.day:
            p = attrs.evolve(p, phase="active", concluded_on=None)
        if p.activated_on is not None and p.activated_on > self.day:
            p = attrs.evolve(p, phase="preparing", activated_on=None)
        return p

    def partnership_keys(self) -> list[str]:
        return [k for k in self.store.partnership_keys() if self.partnership(k) is not None]

    def spells(self, partnership: str) -> list[SpellFact]:
        out = []
        for s in self.store.spells(partnership):
            if s.joined > self.day:
                continue
            out.append(attrs.evolve(s, left=None) if s.left is not None and s.left > self.day else s)
        return out

    def decisions(self, partnership: str) -> list[DecisionFact]:
        return [d for d in self.store.decisions(partnership) if d.on <= self.day]

    # -- agreements ---------------------------------------------------------------------------
    def _agreement(self, a: AgreementFact) -> AgreementFact:
        day = self.day
        amendments = []
        for m in a.amendments:
            if m["on"] > day:
                continue
            consents = {k: v for k, v in m["consents"].items() if v <= day}
            effective = m["effective_on"] if m["effective_on"] is not None and m["effective_on"] <= day else None
            amendments.append({**m, "consents": consents, "effective_on": effective})
        a = attrs.evolve(
            a,
            signatures={k: v for k, v in a.signatures.items() if v <= day},
            terminated_on=a.terminated_on if a.terminated_on is not None and a.terminated_on <= day else None,
            amendments=amendments,
        )
        if a.drafted is not None:
            # The terms as drafted, then the amendments in effect by the day, in the order
            # they took effect.
            terms = dict(a.drafted)
            effective = [m for m in amendments if m["effective_on"] is not None]
            for m in sorted(effective, key=lambda m: m.get("effective_seq") or 0):
                terms.update({k: v for k, v in m["changes"].items() if k in AGREEMENT_TERMS})
            a = attrs.evolve(a, **terms)
        return a

    def agreement(self, key: str) -> AgreementFact | None:
        found = self.store.agreement(key)
        return None if found is None else self._agreement(found)

    def agreements(self, partnership: str) -> list[AgreementFact]:
        return [self._agreement(a) for a in self.store.agreements(partnership)]

    # -- contributions --------------------------------------------------------------------------
    def contribution(self, key: str) -> ContributionFact | None:
        return self.store.contribution(key)

    def contributions(self, partnership: str) -> list[ContributionFact]:
        return self.store.contributions(partnership)

    def count_contributions(self, partnership: str) -> int:
        return self.store.count_contributions(partnership)

    def in_kind_rows(self, partnership: str) -> list[InKindRow]:
        return self.store.in_kind_rows(partnership)

    def buckets(self, partnership: str) -> list[tuple[BucketKey, Bucket]]:
        found = self._buckets.get(partnership)
        if found is None:
            found = self._buckets[partnership] = self.store.buckets_on(partnership, self.day)
        return found

    def buckets_on(self, partnership: str, day: date) -> list[tuple[BucketKey, Bucket]]:
        return self.store.buckets_on(partnership, min(day, self.day))

    # -- targets and evaluations ----------------------------------------------------------------
    def _target(self, t: TargetFact) -> TargetFact:
        day = self.day
        measurements: list[MeasurementFact] = [m for m in t.measurements if m.on <= day]
        revisions = [r for r in t.revisions if r["on"] <= day]
        targets = t.targets
        if len(revisions) < len(t.revisions):
            # The targets in force on the day: the last revision made by then, else the first.
            targets = revisions[-1]["targets"] if revisions else t.revisions[0].get("previous", t.targets)
        return attrs.evolve(t, measurements=measurements, revisions=revisions, targets=targets)

    def target(self, key: str) -> TargetFact | None:
        found = self.store.target(key)
        return None if found is None else self._target(found)

    def targets(self, partnership: str) -> list[TargetFact]:
        return [self._target(t) for t in self.store.targets(partnership)]

    def _evaluation(self, e: EvaluationFact) -> EvaluationFact:
        day = self.day
        submissions: list[SubmissionFact] = [s for s in e.submissions if s.on <= day]
        closed = e.closed_on if e.closed_on is not None and e.closed_on <= day else None
        return attrs.evolve(e, submissions=submissions, closed_on=closed)

    def evaluation(self, key: str) -> EvaluationFact | None:
        found = self.store.evaluation(key)
        return None if found is None else self._evaluation(found)

    def evaluations(self, partnership: str) -> list[EvaluationFact]:
        return [self._evaluation(e) for e in self.store.evaluations(partnership)]

    # -- writing: a view is read-only ------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name.startswith(("put_", "add_", "remove_", "reopen_", "end_", "close_")):
            raise TypeError(f"a view of a ledger on a date is read-only ({name})")
        raise AttributeError(name)
