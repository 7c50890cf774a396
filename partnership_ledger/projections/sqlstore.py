"""The fact store materialized in the ledger's database (the indicators' read models).

Facts are kept as JSON documents in ``rm_facts``; what only grows is kept a row per item,
appended and never rewritten: decisions (``rm_decisions``), a target's measurements
(``rm_measurements``) and an evaluation's submissions (``rm_submissions``), numbered by the
position of the event that made them, so recording one more reads nothing back however long
the list. Contributions are rows of ``rm_contributions``; their amounts are summed by bucket
and by day (:mod:`.sums`), so a balance reads a handful of rows however many contributions
a partnership has. The tables and rows are in :mod:`.fact_rows`. Within one batch of events
the store caches what it reads and writes everything back at the end, in the batch's
transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

import attrs

from ..storage.db import Cursor, Db
from . import sums
from .fact_records import (
    AgreementFact,
    Bucket,
    BucketKey,
    ContributionFact,
    DecisionFact,
    EvaluationFact,
    InKindRow,
    MeasurementFact,
    PartnershipFact,
    PartyFact,
    SpellFact,
    SubmissionFact,
    TargetFact,
    in_kind_row,
)
from .fact_rows import (
    KIND_OF_FACT,
    contribution_from_row,
    contribution_row,
    decision_from_row,
    decision_row,
    dumps,
    loads,
    measurement_from_row,
    measurement_row,
    submission_from_row,
    submission_row,
)
from .fact_rows import FactsModel as FactsModel  # (imported from here by the ledger's set-up)
from .runner import trim
from .sums import BUCKET_KEY, DAY_KEY, Sums

#: How many contributions one ``SELECT ... WHERE key IN (...)`` reads (SQLite's oldest limit
#: on a statement's parameters is 999).
PREFETCH_CHUNK = 500


class SqlFactStore:
    """A :class:`~.facts.FactStore` over the read-model tables.

    Outside a batch it reads straight from the database; inside :meth:`begin` ...
    :meth:`flush` (the projection's transaction) it caches and writes back on :meth:`flush`.
    Targets and evaluations are stored as a document without their measurements or
    submissions (a ``put`` keeps only that part), which are rows appended by
    :meth:`add_measurement` and :meth:`add_submission`; reads put the two together.
    """

    #: How many entries each cache keeps from one slice of a transaction to the next.
    CACHE_SIZE = 10_000

    def __init__(self, db: Db) -> None:
        self.db = db
        #: The position of the event being folded (set by :class:`FactsModel`): numbers the
        #: rows appended for it.
        self.position = 0
        self._c: Cursor | None = None
        self._buckets = Sums("rm_buckets", BUCKET_KEY)
        self._days = Sums("rm_amounts", DAY_KEY, whole_pairs=False)  # a row per day: read one at a time
        self._clear()
        #: The caches of the last batch, kept by :meth:`flush` for :meth:`resume` (the next
        #: slice of the same transaction, or the next batch of a catch-up that nothing came
        #: between); ``None`` once they may be stale.
        self._kept: tuple[Any, ...] | None = None

    def _clear(self) -> None:
        """Start the batch's caches and lists afresh."""
        self._facts: dict[tuple[str, str], Any] = {}
        self._dirty: set[tuple[str, str]] = set()
        # Contributions apart, by key: the fold reads and writes one for most events.
        self._contributions: dict[str, ContributionFact | None] = {}
        self._changed_contributions: set[str] = set()
        self._new_contributions: set[str] = set()
        self._new_spells: list[SpellFact] = []
        self._ended: list[tuple[str, str, date]] = []
        self._new_decisions: list[tuple[int, DecisionFact]] = []
        self._new_measurements: list[tuple[str, int, MeasurementFact]] = []
        self._new_submissions: list[tuple[str, int, SubmissionFact]] = []
        self._buckets.clear()
        self._days.clear()

    # -- batch lifecycle (driven by the projection runner) --------------------------------
    def begin(self, c: Cursor) -> None:
        self._kept = None
        self._clear()
        self._c = c

    def resume(self, c: Cursor) -> None:
        """Begin a batch after the last one, which ended with :meth:`flush`, in the same
        transaction or in the next when nothing was written between (the runner knows):
        what it cached (read or written) is still what the tables hold."""
        kept, self._kept = self._kept, None
        self._clear()
        if kept is not None:
            self._facts, self._contributions = kept[:2]
            trim(self._facts, self.CACHE_SIZE)
            trim(self._contributions, self.CACHE_SIZE)
            self._buckets.restore(kept[2], self.CACHE_SIZE)
            self._days.restore(kept[3], self.CACHE_SIZE)
        self._c = c

    def release(self) -> None:
        """Drop the caches kept for a following slice (none will come in this transaction)."""
        self._kept = None

    def abort(self) -> None:
        """Forget the batch (its transaction rolled back): nothing of it was written."""
        self._kept = None
        self._clear()
        self._c = None

    def flush(self) -> None:
        c = self._c
        assert c is not None
        documents = []
        cache, new = self._contributions, self._new_contributions
        changed = sorted(self._changed_contributions)  # in key order: each page visited once
        contributions = [contribution_row(f) for k in changed if k in new for f in (cache[k],) if f is not None]
        # Those stored before this batch: only their amounts change.
        amounts = [(str(f[10]), str(f[11]), k) for k in changed if k not in new for f in (cache[k],) if f is not None]
        for kind_key in sorted(self._dirty):
            fact = self._facts[kind_key]
            partnership = getattr(fact, "partnership", None)
            documents.append((kind_key[0], kind_key[1], partnership, getattr(fact, "seq", 0), dumps(fact)))
        if documents:
            c.executemany(
                "INSERT INTO rm_facts VALUES (?,?,?,?,?) ON CONFLICT (kind, key) DO UPDATE SET body = excluded.body",
                documents,
            )
        if contributions:
            c.executemany("INSERT INTO rm_contributions VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", contributions)
        if amounts:
            c.executemany("UPDATE rm_contributions SET delivered=?, withdrawn=? WHERE key=?", amounts)
        self._settle(c)
        self._buckets.flush(c)
        self._days.flush(c)
        # Outside a batch the store reads straight from the database, which other processes
        # may change: nothing cached may outlive the batch's transaction. The caches are put
        # aside (now equal to the tables) for the next slice of this same transaction, which
        # only the projection runner can tell (it calls :meth:`resume` rather than begin).
        kept = (self._facts, self._contributions, self._buckets.kept(), self._days.kept())
        self._clear()
        self._kept = kept
        self._c = None

    def _settle(self, c: Cursor) -> None:
        """Write the rows appended in this batch so far (spells and their ends, decisions,
        measurements, submissions): at the end of a batch, and before a void removes one."""
        # Ends first, and only of the spells stored before this batch: the batch's own new
        # spells already carry their ends, and a party that left and joined again within
        # the batch has an open new spell that must stay open.
        for partnership, party, left in self._ended:
            c.execute("SELECT seq, body FROM rm_spells WHERE partnership = ? ORDER BY seq", (partnership,))
            for seq, body in c.fetchall():
                s = loads(body)
                if s.party == party and s.left is None:
                    c.execute(
                        "UPDATE rm_spells SET body = ? WHERE partnership = ? AND seq = ?",
                        (dumps(attrs.evolve(s, left=left)), partnership, seq),
                    )
        # A partnership has a few spells (one per membership): numbering them by counting
        # is cheap. Decisions, measurements and submissions are numbered by their event's
        # position instead, and only ever appended.
        for spell in self._new_spells:
            c.execute(
                "INSERT INTO rm_spells VALUES (?, (SELECT COALESCE(MAX(seq) + 1, 0) FROM rm_spells "
                "WHERE partnership = ?), ?)",
                (spell.partnership, spell.partnership, dumps(spell)),
            )
        if self._new_decisions:
            c.executemany(
                "INSERT INTO rm_decisions VALUES (?,?,?,?,?,?,?,?,?)",
                [decision_row(d, seq) for seq, d in self._new_decisions],
            )
        if self._new_measurements:
            c.executemany(
                "INSERT INTO rm_measurements VALUES (?,?,?,?,?,?)",
                [measurement_row(t, seq, m) for t, seq, m in self._new_measurements],
            )
        if self._new_submissions:
            c.executemany(
                "INSERT INTO rm_submissions VALUES (?,?,?,?,?,?,?,?,?)",
                [submission_row(e, seq, s) for e, seq, s in self._new_submissions],
            )
        self._new_spells, self._ended, self._new_decisions = [], [], []
        self._new_measurements, self._new_submissions = [], []

    def _read(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        if self._c is not None:
            self._c.execute(sql, params)
            return self._c.fetchall()
        with self.db.transaction(commit=False) as c:
            c.execute(sql, params)
            return c.fetchall()

    # -- documents ------------------------------------------------------------------------
    def _get(self, kind: str, key: str) -> Any:
        ident = (kind, key)
        if ident in self._facts:
            return self._facts[ident]
        rows = self._read("SELECT body FROM rm_facts WHERE kind=? AND key=?", ident)
        fact = loads(rows[0][0]) if rows else None
        if self._c is not None:
            self._facts[ident] = fact
        return fact

    def _put(self, fact: Any) -> None:
        ident = (KIND_OF_FACT[type(fact)], fact.key)
        self._facts[ident] = fact
        self._dirty.add(ident)

    def _list(self, kind: str, partnership: str) -> list[Any]:
        rows = self._read(
            "SELECT key, body FROM rm_facts WHERE kind=? AND partnership=? ORDER BY key",
            (kind, partnership),
        )
        found = {key: loads(body) for key, body in rows}
        for (k, key), fact in self._facts.items():
            if k == kind and fact is not None and getattr(fact, "partnership", None) == partnership:
                found[key] = fact
        return [found[k] for k in sorted(found)]

    def put_party(self, fact: PartyFact) -> None:
        self._put(fact)

    def party(self, key: str) -> PartyFact | None:
        found: PartyFact | None = self._get("party", key)
        return found

    def put_partnership(self, fact: PartnershipFact) -> None:
        self._put(fact)

    def partnership(self, key: str) -> PartnershipFact | None:
        found: PartnershipFact | None = self._get("partnership", key)
        return found

    def partnership_keys(self) -> list[str]:
        rows = self._read("SELECT key FROM rm_facts WHERE kind='partnership' ORDER BY key", ())
        keys = {r[0] for r in rows} | {k for (kind, k) in self._facts if kind == "partnership"}
        return sorted(keys)

    def put_agreement(self, fact: AgreementFact) -> None:
        self._put(fact)

    def agreement(self, key: str) -> AgreementFact | None:
        found: AgreementFact | None = self._get("agreement", key)
        return found

    def agreements(self, partnership: str) -> list[AgreementFact]:
        return sorted(self._list("agreement", partnership), key=lambda a: a.seq)

    def put_contribution(self, fact: ContributionFact) -> None:
        key = fact.key
        if self._contributions.get(key) is None:  # not in the table (nor read from it): a new pledge
            self._new_contributions.add(key)
        self._contributions[key] = fact
        self._changed_contributions.add(key)

    def contribution(self, key: str) -> ContributionFact | None:
        if key in self._contributions:
            return self._contributions[key]
        rows = self._read("SELECT * FROM rm_contributions WHERE key=?", (key,))
        fact = contribution_from_row(rows[0]) if rows else None
        if self._c is not None:
            self._contributions[key] = fact
        return fact

    def prefetch_contributions(self, keys: Iterable[str]) -> None:
        """Read the contributions of ``keys`` not cached yet, a few hundred a statement
        (inside a batch only): the fold then finds them in the cache."""
        if self._c is None:
            return
        cache = self._contributions
        missing = list(dict.fromkeys(k for k in keys if k not in cache))
        for i in range(0, len(missing), PREFETCH_CHUNK):
            chunk = missing[i : i + PREFETCH_CHUNK]
            for key in chunk:
                cache[key] = None  # not stored (yet): pledged in this batch, if at all
            marks = ",".join("?" * len(chunk))
            for row in self._read(f"SELECT * FROM rm_contributions WHERE key IN ({marks})", tuple(chunk)):
                cache[row[0]] = contribution_from_row(row)

    def contributions(self, partnership: str) -> list[ContributionFact]:
        rows = self._read("SELECT * FROM rm_contributions WHERE partnership=? ORDER BY key", (partnership,))
        found = {r[0]: contribution_from_row(r) for r in rows}
        for key, fact in self._contributions.items():
            if fact is not None and fact.partnership == partnership:
                found[key] = fact
        return [found[k] for k in sorted(found)]

    def _pending_contributions(self, partnership: str) -> bool:
        # Only those changed in this batch may differ from the table.
        found = self._contributions
        return any(
            (f := found[key]) is not None and f.partnership == partnership for key in self._changed_contributions
        )

    def count_contributions(self, partnership: str) -> int:
        if self._pending_contributions(partnership):
            return len(self.contributions(partnership))
        rows = self._read("SELECT COUNT(*) FROM rm_contributions WHERE partnership=?", (partnership,))
        return int(rows[0][0])

    def in_kind_rows(self, partnership: str) -> list[InKindRow]:
        # Grouped in SQL (a partnership may hold hundreds of thousands of contributions); the
        # amounts come back as stored, decimal strings, for exact sums by the caller.
        if self._pending_contributions(partnership):
            return [in_kind_row(c) for c in self.contributions(partnership) if c.kind != "money"]
        concat = "string_agg" if getattr(self.db, "backend", "sqlite") == "postgresql" else "group_concat"
        rows = self._read(
            f"SELECT party, kind, unit, valuation_basis, COUNT(*), {concat}(quantity, ' '), "
            f"{concat}(pledged, ' '), {concat}(withdrawn, ' '), {concat}(delivered, ' ') "
            "FROM rm_contributions WHERE partnership=? AND kind <> 'money' "
            "GROUP BY party, kind, unit, valuation_basis",
            (partnership,),
        )
        return [
            (party, kind, unit, basis, int(n), *((text or "").split() for text in amounts))
            for party, kind, unit, basis, n, *amounts in rows
        ]

    # -- targets and evaluations: a document, and rows appended to it ----------------------
    def put_target(self, fact: TargetFact) -> None:
        self._put(attrs.evolve(fact, measurements=[]) if fact.measurements else fact)

    def add_measurement(self, target: str, fact: MeasurementFact) -> None:
        self._new_measurements.append((target, self.position, fact))

    def _measurements(self, target: str) -> list[MeasurementFact]:
        rows = self._read(
            "SELECT period, value, source, day FROM rm_measurements WHERE target=? ORDER BY seq", (target,)
        )
        return [measurement_from_row(r) for r in rows] + [m for t, _, m in self._new_measurements if t == target]

    def target(self, key: str) -> TargetFact | None:
        header: TargetFact | None = self._get("target", key)
        return None if header is None else attrs.evolve(header, measurements=self._measurements(key))

    def targets(self, partnership: str) -> list[TargetFact]:
        return [attrs.evolve(t, measurements=self._measurements(t.key)) for t in self._list("target", partnership)]

    def put_evaluation(self, fact: EvaluationFact) -> None:
        self._put(attrs.evolve(fact, submissions=[]) if fact.submissions else fact)

    def add_submission(self, evaluation: str, fact: SubmissionFact) -> None:
        self._new_submissions.append((evaluation, self.position, fact))

    def close_evaluation(self, evaluation: str, on: date) -> None:
        header: EvaluationFact | None = self._get("evaluation", evaluation)
        if header is None:  # pragma: no cover - events always follow their aggregate's creation
            raise LookupError(evaluation)
        self._put(attrs.evolve(header, closed_on=on))

    def _submissions(self, evaluation: str) -> list[SubmissionFact]:
        rows = self._read(
            "SELECT evaluator, role, party, scores, comment, comment_public, day FROM rm_submissions "
            "WHERE evaluation=? ORDER BY seq",
            (evaluation,),
        )
        return [submission_from_row(r) for r in rows] + [s for e, _, s in self._new_submissions if e == evaluation]

    def evaluation(self, key: str) -> EvaluationFact | None:
        header: EvaluationFact | None = self._get("evaluation", key)
        return None if header is None else attrs.evolve(header, submissions=self._submissions(key))

    def evaluations(self, partnership: str) -> list[EvaluationFact]:
        return [attrs.evolve(e, submissions=self._submissions(e.key)) for e in self._list("evaluation", partnership)]

    # -- spells and decisions (append-only lists) -------------------------------------------
    def add_spell(self, fact: SpellFact) -> None:
        self._new_spells.append(fact)

    def end_spell(self, partnership: str, party: str, left: date) -> None:
        self._new_spells = [
            attrs.evolve(s, left=left) if s.partnership == partnership and s.party == party and s.left is None else s
            for s in self._new_spells
        ]
        self._ended.append((partnership, party, left))

    def spells(self, partnership: str) -> list[SpellFact]:
        rows = self._read("SELECT body FROM rm_spells WHERE partnership=? ORDER BY seq", (partnership,))
        return [loads(r[0]) for r in rows] + [s for s in self._new_spells if s.partnership == partnership]

    def add_decision(self, fact: DecisionFact) -> None:
        self._new_decisions.append((self.position, fact))

    def decisions(self, partnership: str) -> list[DecisionFact]:
        rows = self._read(
            "SELECT key, subject, day, proposed_by, rule, votes, adopted FROM rm_decisions "
            "WHERE partnership=? ORDER BY seq",
            (partnership,),
        )
        return [decision_from_row(partnership, r) for r in rows] + [
            d for _, d in self._new_decisions if d.partnership == partnership
        ]

    # -- sums: by bucket, and by bucket and effective day -----------------------------------
    def add_to_bucket(self, key: BucketKey, pledged: Decimal, withdrawn: Decimal, delivered: Decimal) -> None:
        self._buckets.add(self._read, self._c is not None, key, pledged, withdrawn, delivered)

    def buckets(self, partnership: str) -> list[tuple[BucketKey, Bucket]]:
        return sums.buckets(self._read, self._buckets, partnership)

    def add_amount(self, key: BucketKey, day: date, pledged: Decimal, withdrawn: Decimal, delivered: Decimal) -> None:
        self._days.add(self._read, self._c is not None, (*key, day.isoformat()), pledged, withdrawn, delivered)

    def buckets_on(self, partnership: str, day: date) -> list[tuple[BucketKey, Bucket]]:
        """The buckets of ``partnership`` counting only what took effect up to ``day``."""
        return sums.buckets_on(self._read, self.db, self._c is not None, self._days, partnership, day.isoformat())

    # -- voids: rare, so written straight to the tables (after what the batch appended) ------
    def _now(self) -> Cursor:
        c = self._c
        assert c is not None, "a void is folded inside a batch"
        self._settle(c)
        return c

    def remove_decision(self, partnership: str, key: str) -> None:
        self._now().execute("DELETE FROM rm_decisions WHERE partnership=? AND key=?", (partnership, key))

    def _spell_rows(self, c: Cursor, partnership: str) -> list[tuple[Any, ...]]:
        c.execute("SELECT seq, body FROM rm_spells WHERE partnership=? ORDER BY seq", (partnership,))
        return c.fetchall()

    def remove_spell(self, partnership: str, index: int) -> None:
        c = self._now()
        seq, _ = self._spell_rows(c, partnership)[index]
        c.execute("DELETE FROM rm_spells WHERE partnership=? AND seq=?", (partnership, seq))

    def reopen_spell(self, partnership: str, index: int) -> None:
        c = self._now()
        seq, body = self._spell_rows(c, partnership)[index]
        spell = attrs.evolve(loads(body), left=None)
        c.execute("UPDATE rm_spells SET body=? WHERE partnership=? AND seq=?", (dumps(spell), partnership, seq))

    def remove_measurement(self, target: str, index: int) -> None:
        c = self._now()
        c.execute("SELECT seq FROM rm_measurements WHERE target=? ORDER BY seq", (target,))
        seq = c.fetchall()[index][0]
        c.execute("DELETE FROM rm_measurements WHERE target=? AND seq=?", (target, seq))

    def remove_submission(self, evaluation: str, evaluator: str) -> None:
        c = self._now()
        c.execute("DELETE FROM rm_submissions WHERE evaluation=? AND evaluator=?", (evaluation, evaluator))
