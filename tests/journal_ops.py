"""Builders of journal operations (the dicts a journal file holds), for the tests that record or
import them: each takes what a test varies and fills in the rest as the journal spells it
(docs/journal.md)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

Raw = dict[str, Any]


def money(amount: int | str | Decimal, currency: str = "JPY") -> dict[str, str]:
    return {"amount": str(amount), "currency": currency}


def jpy(amount: int | str | Decimal) -> dict[str, str]:
    return money(amount, "JPY")


def usd(amount: int | str | Decimal) -> dict[str, str]:
    return money(amount, "USD")


def party(key: str, sector: str, capacity: int | None = None, *, name: str | None = None) -> Raw:
    """``register_party``, named after its key unless ``name`` is given."""
    op: Raw = {"op": "register_party", "key": key, "name": key.title() if name is None else name, "sector": sector}
    if capacity is not None:
        op["capacity"] = jpy(capacity)
    return op


def propose(
    key: str,
    proposed_by: str,
    members: list[str],
    on: str,
    *,
    title: str = "P",
    purpose: str = "Q",
    parent: str | None = None,
) -> Raw:
    op: Raw = {
        "op": "propose_partnership",
        "key": key,
        "title": title,
        "purpose": purpose,
        "proposed_by": proposed_by,
        "members": members,
        "on": on,
    }
    if parent is not None:
        op["parent"] = parent
    return op


def pledge(
    key: str,
    partnership: str,
    party: str,
    kind: str,
    amount: int | str,
    fiscal_year: int,
    *,
    currency: str = "JPY",
    **more: Any,
) -> Raw:
    """``pledge``; ``more`` adds optional fields (agreement, instrument, on...)."""
    return {
        "op": "pledge",
        "key": key,
        "partnership": partnership,
        "party": party,
        "kind": kind,
        "value": money(amount, currency),
        "fiscal_year": fiscal_year,
        **more,
    }


def deliver(contribution: str, amount: int | str, on: str, *, currency: str = "JPY") -> Raw:
    return {"op": "deliver", "contribution": contribution, "value": money(amount, currency), "on": on}


def correct(contribution: str, delta: int | str, reason: str, on: str, *, currency: str = "JPY") -> Raw:
    return {
        "op": "correct_contribution",
        "contribution": contribution,
        "delta": money(delta, currency),
        "reason": reason,
        "on": on,
    }


def draft(
    key: str, partnership: str, parties: list[str], start: str, end: str, *, title: str = "Agreement", **terms: Any
) -> Raw:
    """``draft_agreement``; ``terms`` adds shares, annual caps, fiscal_year_start..."""
    return {
        "op": "draft_agreement",
        "key": key,
        "partnership": partnership,
        "title": title,
        "parties": parties,
        "start": start,
        "end": end,
        **terms,
    }


def amend(agreement: str, amendment: str, changes: dict[str, Any], proposed_by: str, on: str) -> Raw:
    return {
        "op": "amend_agreement",
        "agreement": agreement,
        "amendment": amendment,
        "changes": changes,
        "proposed_by": proposed_by,
        "on": on,
    }


def consent(agreement: str, amendment: str, party: str, on: str) -> Raw:
    return {"op": "consent_amendment", "agreement": agreement, "amendment": amendment, "party": party, "on": on}


def decision(
    partnership: str, key: str, proposed_by: str, rule: str, votes: dict[str, str], on: str, *, subject: str = "s"
) -> Raw:
    return {
        "op": "record_decision",
        "partnership": partnership,
        "key": key,
        "subject": subject,
        "proposed_by": proposed_by,
        "rule": rule,
        "votes": votes,
        "on": on,
    }


def periods(values: dict[str, int]) -> list[dict[str, Any]]:
    """Targets by period, as the journal lists them: ``{"2020": 1}`` is ``[{"period": "2020", "value": 1}]``."""
    return [{"period": period, "value": value} for period, value in values.items()]


def target(
    key: str,
    partnership: str,
    baseline: tuple[str, int],
    targets: dict[str, int],
    *,
    indicator: str = "i",
    unit: str = "u",
    direction: str = "increase",
) -> Raw:
    """``define_target`` from a baseline ``(period, value)`` and the targets by period."""
    return {
        "op": "define_target",
        "key": key,
        "partnership": partnership,
        "indicator": indicator,
        "unit": unit,
        "direction": direction,
        "baseline": {"period": baseline[0], "value": baseline[1]},
        "targets": periods(targets),
    }


def revise(target: str, targets: dict[str, int], reason: str, on: str) -> Raw:
    return {"op": "revise_target", "target": target, "targets": periods(targets), "reason": reason, "on": on}


def measurement(target: str, period: str, value: int, source: str, on: str) -> Raw:
    return {"op": "record_measurement", "target": target, "period": period, "value": value, "source": source, "on": on}


def submission(evaluation: str, evaluator: str, role: str, scores: dict[str, Any], on: str, **more: Any) -> Raw:
    """``submit_evaluation``; ``more`` adds party, comment, comment_public."""
    return {
        "op": "submit_evaluation",
        "evaluation": evaluation,
        "evaluator": evaluator,
        "role": role,
        "scores": scores,
        "on": on,
        **more,
    }
