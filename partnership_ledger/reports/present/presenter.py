"""The :class:`Presenter`: one report model in one language, and the sentences several sections share.

It holds the model, the :class:`.formatting.Formatter` and the translations; each section of
the view (:mod:`.resources`, :mod:`.governance`, :mod:`.results`, the package's own) is a
function of it. It adds nothing up: the model did the arithmetic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from .. import labels as L
from ..formatting import Formatter
from ..i18n import N_, Language, translations
from .sentence import Sentence


class Presenter:
    """Formats one report model in one language."""

    def __init__(
        self, model: Mapping[str, Any], language: Language, *, with_charts: bool, locale: str | None = None
    ) -> None:
        self.m = model
        self.currency: str | None = model["partnership"]["currency"]
        self.f = Formatter(language, self.currency, locale)
        self.t = translations(language)
        self.language = language
        self.with_charts = with_charts
        self.names = model["party_names"]

    # -- small helpers ----------------------------------------------------------------------
    def _(self, message: str) -> str:
        return self.t.gettext(message)

    def n_(self, singular: str, plural: str, n: int) -> str:
        return self.t.ngettext(singular, plural, n)

    def s(self, message: str, **args: Any) -> Sentence:
        return Sentence(self._(message), {k: str(v) for k, v in args.items()})

    def label(self, table: Mapping[str, str], code: str | None) -> str:
        if code is None:
            return "–"
        return self._(table[code]) if code in table else code

    def name(self, party: str | None) -> str:
        if party is None:
            return "–"
        found = self.names.get(party)
        return str(found["name"]) if found else party

    def money(self, amount: Decimal | None) -> str:
        """An amount in a table: ``72,090,000円``."""
        return self.f.money(amount, self.currency)

    def prose_money(self, amount: Decimal | None) -> str:
        """An amount in a sentence: ``7,209万円``."""
        return self.f.money_prose(amount, self.currency)

    def join(self, items: Sequence[str]) -> str:
        return self.f.join(items)

    def pct(self, ratio: Decimal | None) -> str:
        return self.f.percent(ratio)

    # -- sentences the report and the site's cards share ---------------------------------------
    def decisions_sentence(self, total: int, adopted: int) -> Sentence:
        if total == 0:
            return self.s(N_("No decision has been recorded yet."))
        if total == 1:
            return self.s(
                N_("One decision was recorded, and it was adopted.")
                if adopted
                else N_("One decision was recorded; it was not adopted.")
            )
        if adopted == total:
            return self.s(N_("%(count)s decisions were recorded, all of them adopted."), count=self.f.integer(total))
        if adopted == 0:
            return self.s(N_("%(count)s decisions were recorded, none of them adopted."), count=self.f.integer(total))
        return self.s(
            N_("%(count)s decisions were recorded, %(adopted)s of them adopted."),
            count=self.f.integer(total),
            adopted=self.f.integer(adopted),
        )

    def targets_sentence(self, targets: Sequence[Mapping[str, Any]]) -> Sentence | None:
        """Every target counted, those with no measurement too."""
        if not targets:
            return None
        statuses: dict[str, int] = {}
        for t in targets:
            statuses[t["status"]] = statuses.get(t["status"], 0) + 1
        words = {
            "achieved": N_("%(n)s achieved"),
            "on_track": N_("%(n)s on track"),
            "off_track": N_("%(n)s off track"),
            "no_data": N_("%(n)s not yet measured"),
        }
        order = [*words, *sorted(set(statuses) - set(words))]
        parts = [
            (self._(words[k]) if k in words else "%(n)s " + self.label(L.TARGET_STATUSES, k))
            % {"n": self.f.integer(statuses[k])}
            for k in order
            if statuses.get(k)
        ]
        if len(targets) == 1:
            return self.s(N_("One target: %(list)s."), list=self.join(parts))
        return self.s(
            N_("Of %(count)s targets: %(list)s."), count=self.f.integer(len(targets)), list=self.f.join_and(parts)
        )

    def burden_sentence(self, r: Mapping[str, Any]) -> Sentence:
        if r["decisions"]:
            return self.s(
                N_("%(party)s gave %(share)s of the resources and took part in %(part)s of decisions."),
                party=self.name(r["party"]),
                share=self.pct(r["share"]),
                part=self.pct(r["participation"]),
            )
        return self.s(
            N_("%(party)s gave %(share)s of the resources."),
            party=self.name(r["party"]),
            share=self.pct(r["share"]),
        )
