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

from . import facts as F


class OnDate:
    """A read-only :class:`~.facts.FactStore` showing ``store`` as it stood on ``day`` (what
    the queries read of it: a partnership's facts, and a party)."""

    def __init__(self, store: F.FactStore, day: date) -> None:
        self.store = store
        self.day = day
        self._buckets: dict[str, list[tuple[F.BucketKey, F.Bucket]]] = {}  # a query reads them twice

    def _by(self, day: date | None) -> date | None:
        """``day`` if it is no later than the view's, else None (not yet on the view's day)."""
        return day if day is not None and day <= self.day else None

    # -- parties and partnerships ---------------------------------------------------------
    def party(self, key: str) -> F.PartyFact | None:
        found = self.store.party(key)
        if found is None or not found.amendments:
            return found
        now = found.as_on(self.day)
        return attrs.evolve(now, amendments=[a for a in found.amendments if a["on"] <= self.day])

    def partnership(self, key: str) -> F.PartnershipFact | None:
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

    def spells(self, partnership: str) -> list[F.SpellFact]:
        out = []
        for s in self.store.spells(partnership):
            if s.joined > self.day:
                continue
            out.append(attrs.evolve(s, left=None) if s.left is not None and s.left > self.day else s)
        return out

    def decisions(self, partnership: str) -> list[F.DecisionFact]:
        return [d for d in self.store.decisions(partnership) if d.on <= self.day]

    # -- agreements ---------------------------------------------------------------------------
    def _agreement(self, a: F.AgreementFact) -> F.AgreementFact:
        day = self.day
        amendments = []
        for m in a.amendments:
            if m["on"] > day:
                continue
            consents = {k: v for k, v in m["consents"].items() if v <= day}
            amendments.append({**m, "consents": consents, "effective_on": self._by(m["effective_on"])})
        a = attrs.evolve(
            a,
            signatures={k: v for k, v in a.signatures.items() if v <= day},
            terminated_on=self._by(a.terminated_on),
            amendments=amendments,
        )
        if a.drafted is not None:
            # The terms as drafted, then the amendments in effect by the day, in the order
            # they took effect.
            terms = dict(a.drafted)
            effective = [m for m in amendments if m["effective_on"] is not None]
            for m in sorted(effective, key=lambda m: m.get("effective_seq") or 0):
                terms.update({k: v for k, v in m["changes"].items() if k in F.AGREEMENT_TERMS})
            a = attrs.evolve(a, **terms)
        return a

    def agreements(self, partnership: str) -> list[F.AgreementFact]:
        return [self._agreement(a) for a in self.store.agreements(partnership)]

    # -- contributions: their per contribution figures as recorded, their sums by day ---------
    def buckets(self, partnership: str) -> list[tuple[F.BucketKey, F.Bucket]]:
        found = self._buckets.get(partnership)
        if found is None:
            found = self._buckets[partnership] = self.store.buckets_on(partnership, self.day)
        return found

    # -- targets and evaluations ----------------------------------------------------------------
    def _target(self, t: F.TargetFact) -> F.TargetFact:
        day = self.day
        measurements: list[F.MeasurementFact] = [m for m in t.measurements if m.on <= day]
        revisions = [r for r in t.revisions if r["on"] <= day]
        targets = t.targets
        if len(revisions) < len(t.revisions):
            # The targets in force on the day: the last revision made by then, else the first.
            targets = revisions[-1]["targets"] if revisions else t.revisions[0].get("previous", t.targets)
        return attrs.evolve(t, measurements=measurements, revisions=revisions, targets=targets)

    def targets(self, partnership: str) -> list[F.TargetFact]:
        return [self._target(t) for t in self.store.targets(partnership)]

    def _evaluation(self, e: F.EvaluationFact) -> F.EvaluationFact:
        day = self.day
        submissions: list[F.SubmissionFact] = [s for s in e.submissions if s.on <= day]
        return attrs.evolve(e, submissions=submissions, closed_on=self._by(e.closed_on))

    def evaluations(self, partnership: str) -> list[F.EvaluationFact]:
        return [self._evaluation(e) for e in self.store.evaluations(partnership)]

    def __getattr__(self, name: str) -> Any:
        if name in ("contribution", "contributions", "count_contributions", "in_kind_rows"):
            return getattr(self.store, name)  # what has no date of its own, as recorded
        if name.startswith(("put_", "add_", "remove_", "reopen_", "end_", "close_")):
            raise TypeError(f"a view of a ledger on a date is read-only ({name})")
        raise AttributeError(name)
