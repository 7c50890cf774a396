"""Agreement (協定書): terms that bind the parties who signed them, and only those."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import attrs
from eventsourcing.domain import Snapshot as _Snapshot
from eventsourcing.domain import event

from ..errors import (
    AgreementError,
    AgreementTerminated,
    AnnualCapExceeded,
    CorrectionRefused,
    DateOrderError,
    MaxYearsExceeded,
    NotInForce,
)
from .base import LedgerAggregate
from .values import Money, OpMeta, Terms, exact_sub, exact_sum, fiscal_year_of

AMENDABLE = ("title", "start", "end", "shares", "annual_caps", "max_years", "fiscal_year_start")


@attrs.frozen
class Amendment:
    key: str
    changes: dict[str, Any]
    proposed_by: str
    on: date
    consents: dict[str, date]
    effective_on: date | None = None


def check_terms(terms: Terms, parties: list[str], where: str) -> None:
    """The rules every version of an agreement's terms obeys."""
    if terms.end < terms.start:
        raise AgreementError(f"{where} ends ({terms.end}) before it starts ({terms.start})")
    if not 1 <= terms.fiscal_year_start <= 12:
        raise AgreementError(f"{where} has fiscal_year_start {terms.fiscal_year_start}: a month 1..12")
    if terms.max_years is not None and terms.max_years < 1:
        raise AgreementError(f"{where} has max_years {terms.max_years}: at least 1 is needed")
    if terms.shares is not None:
        strangers = sorted(set(terms.shares) - set(parties))
        if strangers:
            raise AgreementError(f"{where} gives shares to {', '.join(strangers)}, not parties to it")
        if any(v < 0 for v in terms.shares.values()):
            raise AgreementError(f"{where} has a negative share")
        total = exact_sum(terms.shares.values())
        if total != 1:
            raise AgreementError(f"{where} has shares summing to {total}, not 1")
    if terms.annual_caps is not None:
        strangers = sorted(set(terms.annual_caps) - set(parties))
        if strangers:
            raise AgreementError(f"{where} sets annual caps for {', '.join(strangers)}, not parties to it")
        if len({c.currency for c in terms.annual_caps.values()}) > 1:
            raise AgreementError(f"{where} sets annual caps in more than one currency")
        if any(c.amount < 0 for c in terms.annual_caps.values()):
            raise AgreementError(f"{where} sets a negative annual cap")


def unsigned_parties(parties: Iterable[str], signatures: Mapping[str, date]) -> list[str]:
    """The parties who have not signed (yet)."""
    return [p for p in parties if p not in signatures]


def agreement_status(parties: Iterable[str], signatures: Mapping[str, date], terminated_on: date | None) -> str:
    """``terminated`` (final), else ``in_force`` once every party has signed, else
    ``awaiting_signatures``."""
    if terminated_on is not None:
        return "terminated"
    return "awaiting_signatures" if unsigned_parties(parties, signatures) else "in_force"


def takes_effect(parties: Iterable[str], consents: Mapping[str, date]) -> bool:
    """Whether an amendment with these ``consents`` takes effect: every party consented."""
    return all(p in consents for p in parties)


def amend(title: str, terms: Terms, changes: Mapping[str, Any]) -> tuple[str, Terms]:
    """The title and terms after an amendment's ``changes`` took effect."""
    term_changes = {k: v for k, v in changes.items() if k != "title"}
    return changes.get("title", title), attrs.evolve(terms, **term_changes) if term_changes else terms


@dataclasses.dataclass(eq=False, repr=False)
class Agreement(LedgerAggregate, created_event_name="Drafted"):
    """Terms between some members of a partnership.

    In force only once every party has signed, until terminated (final). An amendment takes
    effect only when every party has consented to it. The agreement also keeps, per party and
    fiscal year, the total its contributions count against the party's annual cap (changed by
    a ``ContributionCounted`` event on the agreement whenever one of those amounts changes), so
    caps hold even under concurrent writes: two writers counting against one agreement race
    for its next version, and the loser retries on fresh state.
    """

    kind = "agreement"

    key: str
    partnership: str
    title: str
    parties: list[str]
    terms: Terms
    meta: OpMeta

    def __post_init__(self) -> None:
        self.signatures: dict[str, date] = {}
        self.amendments: dict[str, Amendment] = {}
        self.terminated_on: date | None = None
        self.termination_reason: str | None = None
        # "party|fiscal year" -> the total counted against the party's cap that year
        self.counted: dict[str, Decimal] = {}
        # how many contributions count a non-zero amount under it
        self.pledged_under = 0

    # -- queries -----------------------------------------------------------------------
    @property
    def unsigned(self) -> list[str]:
        return unsigned_parties(self.parties, self.signatures)

    @property
    def status(self) -> str:
        return agreement_status(self.parties, self.signatures, self.terminated_on)

    @property
    def in_force(self) -> bool:
        return self.status == "in_force"

    def counted_total(self, party: str, fiscal_year: int) -> Decimal:
        """What ``party``'s contributions for ``fiscal_year`` count against its annual cap."""
        return self.counted.get(f"{party}|{fiscal_year}", Decimal(0))

    # -- guards ------------------------------------------------------------------------
    def check_not_terminated(self) -> None:
        if self.terminated_on is not None:
            raise AgreementTerminated(f"agreement {self.key} was terminated on {self.terminated_on}: it cannot change")

    def check_party(self, party: str, doing: str) -> None:
        if party not in self.parties:
            raise AgreementError(f"{party} is not a party to agreement {self.key}, so it cannot {doing}")

    def check_in_force(self) -> None:
        self.check_not_terminated()
        if self.unsigned:
            raise NotInForce(
                f"agreement {self.key} is not in force: {', '.join(self.unsigned)} "
                f"{'has' if len(self.unsigned) == 1 else 'have'} not signed"
            )

    def check_contribution(self, party: str, fiscal_year: int, contribution: str, amount: Money) -> None:
        """A new contribution (counting ``amount``) may not take ``party`` past its annual cap
        nor beyond ``max_years``."""
        self.check_in_force()
        self.check_party(party, f"contribute under it ({contribution})")
        terms = self.terms
        first_year = fiscal_year_of(terms.start, terms.fiscal_year_start)
        last_year = fiscal_year_of(terms.end, terms.fiscal_year_start)
        if not first_year <= fiscal_year <= last_year:
            raise AgreementError(
                f"contribution {contribution} is for fiscal year {fiscal_year}, outside agreement "
                f"{self.key}'s term ({terms.start} to {terms.end})"
            )
        if terms.max_years is not None and fiscal_year - first_year >= terms.max_years:
            raise MaxYearsExceeded(
                f"contribution {contribution} is for fiscal year {fiscal_year}, beyond agreement "
                f"{self.key}'s limit of {terms.max_years} year{'s' if terms.max_years > 1 else ''} "
                f"from fiscal year {first_year}"
            )
        self.check_cap(party, fiscal_year, contribution, Decimal(0), amount)

    def check_cap(self, party: str, fiscal_year: int, contribution: str, previous: Decimal, amount: Money) -> None:
        """Counting ``amount`` for ``contribution`` instead of the ``previous`` amount it counted
        (0 for a new one) keeps ``party`` within its annual cap."""
        cap = (self.terms.annual_caps or {}).get(party)
        if cap is not None:
            if cap.currency != amount.currency:
                raise AgreementError(
                    f"contribution {contribution} is in {amount.currency}, but agreement {self.key} "
                    f"caps {party} in {cap.currency}"
                )
            total = exact_sub(exact_sum((self.counted_total(party, fiscal_year), amount.amount)), previous)
            if total > cap.amount:
                raise AnnualCapExceeded(
                    f"contribution {contribution} would take {party} to {total} {cap.currency} in "
                    f"fiscal year {fiscal_year}, past its annual cap of {cap.amount} {cap.currency} "
                    f"under agreement {self.key}"
                )

    # -- commands ----------------------------------------------------------------------
    def sign(self, party: str, on: date, meta: OpMeta) -> None:
        self.check_not_terminated()
        self.check_party(party, "sign it")
        if party in self.signatures:
            raise AgreementError(f"{party} already signed agreement {self.key} on {self.signatures[party]}")
        self._signed(party, on, meta)

    @event("Signed")
    def _signed(self, party: str, on: date, meta: OpMeta) -> None:
        self.signatures[party] = on
        self.recorded_ops[meta.op_id] = ("signature", party, None)

    @property
    def recorded_ops(self) -> dict[str, tuple[str, str, str | None]]:
        """Signatures and consents by their operation: (what, party, amendment)."""
        found: dict[str, tuple[str, str, str | None]] = self.__dict__.setdefault("_recorded_ops", {})
        return found

    def terms_on(self, day: date) -> tuple[str, Terms]:
        """The title and terms as they stood on ``day``: as drafted, changed by the amendments
        that took effect by then, in the order they took effect."""
        drafted: tuple[str, Terms] | None = self.__dict__.get("_drafted")
        if drafted is None:
            return self.title, self.terms
        title, terms = drafted
        for key in self.__dict__.get("_took_effect", []):
            m = self.amendments[key]
            if m.effective_on is not None and m.effective_on <= day:
                title, terms = amend(title, terms, m.changes)
        return title, terms

    def propose_amendment(
        self, amendment: str, changes: dict[str, Any], proposed_by: str, on: date, meta: OpMeta
    ) -> None:
        self.check_not_terminated()
        self.check_party(proposed_by, f"propose amendment {amendment}")
        if amendment in self.amendments:
            raise AgreementError(f"agreement {self.key} already has an amendment {amendment}")
        if not changes:
            raise AgreementError(f"amendment {amendment} of agreement {self.key} changes nothing")
        unknown = sorted(set(changes) - set(AMENDABLE))
        if unknown:
            raise AgreementError(f"amendment {amendment} of agreement {self.key} cannot change {', '.join(unknown)}")
        _, terms = amend(self.title, self.terms, changes)
        check_terms(terms, self.parties, f"agreement {self.key} as amended by {amendment}")
        self._amendment_proposed(amendment, dict(changes), proposed_by, on, meta)

    @event("AmendmentProposed")
    def _amendment_proposed(
        self, amendment: str, changes: dict[str, Any], proposed_by: str, on: date, meta: OpMeta
    ) -> None:
        self.amendments[amendment] = Amendment(amendment, dict(changes), proposed_by, on, {})

    def consent_amendment(self, amendment: str, party: str, on: date, meta: OpMeta) -> bool:
        """Record ``party``'s consent; returns whether the amendment took effect with it."""
        self.check_not_terminated()
        self.check_party(party, f"consent to amendment {amendment}")
        found = self.amendments.get(amendment)
        if found is None:
            raise AgreementError(f"agreement {self.key} has no amendment {amendment}")
        if found.effective_on is not None:
            raise AgreementError(
                f"amendment {amendment} of agreement {self.key} already took effect on {found.effective_on}"
            )
        if party in found.consents:
            raise AgreementError(f"{party} already consented to amendment {amendment} of agreement {self.key}")
        if on < found.on:
            raise DateOrderError(
                f"{party} cannot consent to amendment {amendment} on {on}, before it was proposed ({found.on})"
            )
        self._amendment_consented(amendment, party, on, meta)
        return self.amendments[amendment].effective_on is not None

    @event("AmendmentConsented")
    def _amendment_consented(self, amendment: str, party: str, on: date, meta: OpMeta) -> None:
        found = self.amendments[amendment]
        self.recorded_ops[meta.op_id] = ("consent", party, amendment)
        consents = {**found.consents, party: on}
        effective = on if takes_effect(self.parties, consents) else None
        self.amendments[amendment] = attrs.evolve(found, consents=consents, effective_on=effective)
        if effective is not None:
            # Every party consented: only now are they bound by the new terms.
            if "_drafted" not in self.__dict__:  # (kept to read the terms as they stood on a day)
                self.__dict__["_drafted"] = (self.title, self.terms)
            self.__dict__.setdefault("_took_effect", []).append(amendment)
            self.title, self.terms = amend(self.title, self.terms, found.changes)

    def terminate(self, reason: str, on: date, meta: OpMeta) -> None:
        self.check_not_terminated()
        self._terminated(reason, on, meta)

    @event("Terminated")
    def _terminated(self, reason: str, on: date, meta: OpMeta) -> None:
        self.terminated_on = on
        self.termination_reason = reason

    # -- corrections -------------------------------------------------------------------------
    def void(self, operation: str, reason: str, on: date, meta: OpMeta) -> None:
        """Void a signature or a consent recorded in error.

        Refused when something rests on it: a signature that put the agreement in force
        while contributions are pledged under it, or a consent to an amendment that took
        effect (propose another amendment instead).
        """
        self.check_voidable(operation)
        found = self.recorded_ops.get(operation)
        if found is None:
            raise self.cannot_void(operation, "signatures and consents can (an amendment or a termination stands)")
        what, party, amendment = found
        if what == "signature":
            pledged = self.pledged_under
            if not self.unsigned and pledged:
                raise CorrectionRefused(
                    f"{party}'s signature of agreement {self.key} cannot be voided: it put the agreement in force, "
                    f"and {pledged} contribution{'s are' if pledged > 1 else ' is'} pledged under it"
                )
            self._signature_voided(operation, party, reason, on, meta)
            return
        assert amendment is not None
        took = self.amendments[amendment].effective_on
        if took is not None:
            raise CorrectionRefused(
                f"{party}'s consent to amendment {amendment} of agreement {self.key} cannot be voided: the amendment "
                f"took effect with it on {took}; propose another amendment instead"
            )
        self._consent_voided(operation, amendment, party, reason, on, meta)

    @event("SignatureVoided")
    def _signature_voided(self, operation: str, party: str, reason: str, on: date, meta: OpMeta) -> None:
        del self.signatures[party]
        del self.recorded_ops[operation]
        self._note_voided(operation, meta)

    @event("ConsentVoided")
    def _consent_voided(self, operation: str, amendment: str, party: str, reason: str, on: date, meta: OpMeta) -> None:
        found = self.amendments[amendment]
        consents = {k: v for k, v in found.consents.items() if k != party}
        self.amendments[amendment] = attrs.evolve(found, consents=consents)
        del self.recorded_ops[operation]
        self._note_voided(operation, meta)

    class Snapshot(_Snapshot):
        """eventsourcing's snapshot of the agreement, without what only the replay of version 1
        ``ContributionCounted`` events needs (none is recorded after a snapshot)."""

        @classmethod
        def take(cls, aggregate: Any) -> Any:
            snapshot = super().take(aggregate)
            snapshot.state.pop(V1_COUNTED, None)
            return snapshot

    class ContributionCounted(LedgerAggregate.Event):
        """The amount a contribution counts against its party's annual cap changed.

        Version 2 also carries the ``previous`` amount (0 for a new pledge), so the agreement
        keeps one total per party and fiscal year rather than every contribution's amount.
        Version 1 events (stored before) carry only the new amount: they are read with
        ``previous`` None, and the agreement works the previous amount out from the version 1
        events before it (see ``_counted``).
        """

        class_version = 2
        derived = True
        contribution: str
        party: str
        fiscal_year: int
        amount: Decimal
        meta: OpMeta
        previous: Decimal | None = None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["previous"] = None

    def count_contribution(
        self,
        contribution: str,
        party: str,
        fiscal_year: int,
        previous: Decimal | None,
        amount: Decimal,
        meta: OpMeta,
    ) -> None:
        """Count ``amount`` for ``contribution`` against its party's cap, instead of the
        ``previous`` amount it counted (None: a new pledge, which counts from 0)."""
        if previous != amount:
            self._counted(contribution, party, fiscal_year, amount, meta, Decimal(0) if previous is None else previous)

    @event(ContributionCounted)
    def _counted(
        self, contribution: str, party: str, fiscal_year: int, amount: Decimal, meta: OpMeta, previous: Decimal | None
    ) -> None:
        if previous is None:
            # A version 1 event: the previous amount is what the last version 1 event of this
            # contribution counted. Only the replay of those events needs them; a snapshot
            # leaves them out (see snapshots.py: no version 1 event follows a snapshot).
            before: dict[str, Decimal] = self.__dict__.setdefault(V1_COUNTED, {})
            previous = before.get(contribution, Decimal(0))
            before[contribution] = amount
        bucket = f"{party}|{fiscal_year}"
        self.counted[bucket] = exact_sub(exact_sum((self.counted.get(bucket, Decimal(0)), amount)), previous)
        self.pledged_under += (amount != 0) - (previous != 0)


#: Where an agreement replaying version 1 ``ContributionCounted`` events keeps what each counted.
V1_COUNTED = "_counted_v1"
