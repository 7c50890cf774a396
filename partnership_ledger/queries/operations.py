"""From stored events back to journal operations, and to one-line summaries.

Every event that is not *derived* is the record of exactly one journal operation, so the
notification log can be read back as a journal (``export``) and as a history.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from ..domain.values import Money, OpMeta, Terms

#: Every event class (by qualname) that records a journal operation -> (op, the field naming
#: its aggregate's key, or None for a creation). Derived bookkeeping (an agreement counting a
#: contribution, a partnership adopting its currency) records none and is not in it.
EVENT_OPS: dict[str, tuple[str, str | None]] = {
    "Party.Registered": ("register_party", None),
    "Partnership.Proposed": ("propose_partnership", None),
    "Partnership.Joined": ("join_partnership", "partnership"),
    "Partnership.Left": ("leave_partnership", "partnership"),
    "Partnership.Activated": ("activate_partnership", "partnership"),
    "Partnership.Concluded": ("conclude_partnership", "partnership"),
    "Partnership.DecisionRecorded": ("record_decision", "partnership"),
    "Agreement.Drafted": ("draft_agreement", None),
    "Agreement.Signed": ("sign_agreement", "agreement"),
    "Agreement.AmendmentProposed": ("amend_agreement", "agreement"),
    "Agreement.AmendmentConsented": ("consent_amendment", "agreement"),
    "Agreement.Terminated": ("terminate_agreement", "agreement"),
    "ResourceContribution.Pledged": ("pledge", None),
    "ResourceContribution.Delivered": ("deliver", "contribution"),
    "ResourceContribution.Corrected": ("correct_contribution", "contribution"),
    "ResourceContribution.Withdrawn": ("withdraw_pledge", "contribution"),
    "NumericTarget.Defined": ("define_target", None),
    "NumericTarget.Measured": ("record_measurement", "target"),
    "NumericTarget.Revised": ("revise_target", "target"),
    "Evaluation.Opened": ("open_evaluation", None),
    "Evaluation.Submitted": ("submit_evaluation", "evaluation"),
    "Evaluation.Closed": ("close_evaluation", "evaluation"),
    "Evaluation.SubjectErased": ("erase_subject", "evaluation"),
    "ResourceContribution.SubjectErased": ("erase_subject", "contribution"),
    # Corrections (DESIGN.md "Corrections and the two times").
    "Party.Amended": ("amend_party", "party"),
    "ResourceContribution.DeliveryRedated": ("correct_contribution", "contribution"),
    "Partnership.DecisionVoided": ("void_operation", "partnership"),
    "Partnership.JoinVoided": ("void_operation", "partnership"),
    "Partnership.LeaveVoided": ("void_operation", "partnership"),
    "Agreement.SignatureVoided": ("void_operation", "agreement"),
    "Agreement.ConsentVoided": ("void_operation", "agreement"),
    "ResourceContribution.DeliveryVoided": ("void_operation", "contribution"),
    "NumericTarget.MeasurementVoided": ("void_operation", "target"),
    "Evaluation.SubmissionVoided": ("void_operation", "evaluation"),
}

#: The operations that correct the record rather than record new activity.
CORRECTION_OPS = frozenset(("amend_party", "correct_contribution", "revise_target", "void_operation"))

_BASE_FIELDS = {"originator_id", "originator_version", "timestamp", "meta", "originator_topic"}


def event_name(event: Any) -> str:
    return type(event).__qualname__


def event_meta(event: Any) -> OpMeta | None:
    meta = getattr(event, "meta", None)
    return meta if isinstance(meta, OpMeta) else None


def corrects_by_pointer(op_name: str, fields: dict[str, Any]) -> bool:
    """Whether the operation names only what it corrects (a void, a delivery's re-dating):
    the rest of its event (party, amount, index...) is what the read models need to undo
    or move, not part of the operation. ``fields``: the event's (``vars(event)``)."""
    return op_name == "void_operation" or (op_name == "correct_contribution" and "delivered_on" in fields)


def event_to_operation(event: Any, key: str) -> dict[str, Any] | None:
    """The journal operation an event records (typed values), or None for derived events.

    ``key`` is the key of the aggregate the event belongs to.
    """
    found = EVENT_OPS.get(event_name(event))
    if found is None:
        return None
    op_name, key_field = found
    fields: dict[str, Any] = {k: v for k, v in vars(event).items() if k not in _BASE_FIELDS and v is not None}
    op: dict[str, Any] = {"op": op_name}
    if op_name == "void_operation":
        fields = {k: fields[k] for k in ("operation", "reason", "on")}
    elif corrects_by_pointer(op_name, fields):
        fields = {"delivery": fields["operation"], "delivered_on": fields["delivered_on"]} | {
            k: fields[k] for k in ("reason", "on")
        }
    elif key_field is not None:
        op[key_field] = key
    if op_name == "correct_contribution":
        op["contribution"] = key
    if "kind_of_resource" in fields:
        fields["kind"] = fields.pop("kind_of_resource")
    terms = fields.pop("terms", None)
    if isinstance(terms, Terms):
        for name in ("start", "end", "shares", "annual_caps", "max_years"):
            value = getattr(terms, name)
            if value is not None:
                fields[name] = value
        if terms.fiscal_year_start != 4:
            fields["fiscal_year_start"] = terms.fiscal_year_start
    if op_name == "submit_evaluation" and fields.get("comment_public") is False:
        fields.pop("comment_public")
    if op_name == "register_party" and not fields.get("identifiers", True):
        fields.pop("identifiers")  # none: the journal leaves the field out
    op.update(fields)
    meta = event_meta(event)
    if meta is not None:
        if meta.by:
            op["by"] = meta.by
        if meta.note:
            op["note"] = meta.note
        op["id"] = meta.op_id
    return op


def _money(m: Any) -> str:
    # !s: the Decimal's str (what formatting it would give), without its slower __format__.
    return f"{m.amount!s} {m.currency}" if isinstance(m, Money) else str(m)


def effective_date(op_name: str, fields: dict[str, Any]) -> date | None:
    """The date an operation took effect in the world (not when it was recorded), from its
    event's ``fields`` (``vars(event)``)."""
    on = fields.get("on")
    if isinstance(on, date):
        return on
    terms = fields.get("terms")
    if isinstance(terms, Terms):
        return terms.start
    if op_name == "pledge" and isinstance(fields.get("fiscal_year"), int):
        # Recorded before pledges had a day: the first day of its fiscal year (April's).
        return date(fields["fiscal_year"], 4, 1)
    return None


def summarize(op_name: str, fields: dict[str, Any], key: str, owner: str | None = None) -> str:
    """A one-line, plain-words summary of the operation an event records, from the event's
    ``fields`` (``vars(event)``). ``key`` is its aggregate's key, ``owner`` a contribution's party."""
    g: Callable[[str], Any] = fields.get
    match op_name:
        # (the most frequent first: a match tries its cases in order)
        case "deliver":
            who = f"{owner} " if owner else ""
            return f"{who}delivered {_money(g('value'))} on contribution {key}"
        case "pledge":
            under = f" under {g('agreement')}" if g("agreement") else ""
            how = f" as {g('instrument').value}" if g("instrument") else ""
            return (
                f"{g('party')} pledged {_money(g('value'))} of {g('kind_of_resource').value}{how} to "
                f"{g('partnership')} for fiscal year {g('fiscal_year')}{under} ({key})"
            )
        case "register_party":
            return f"registered {key} ({g('name')}, {g('sector').value})"
        case "propose_partnership":
            parent = f" under {g('parent')}" if g("parent") else ""
            return f"{g('proposed_by')} proposed partnership {key}{parent} with {', '.join(g('members'))}: {g('title')}"
        case "join_partnership":
            role = f" as {g('role')}" if g("role") else ""
            return f"{g('party')} joined {key}{role}"
        case "leave_partnership":
            reason = f" ({g('reason')})" if g("reason") else ""
            return f"{g('party')} left {key}{reason}"
        case "activate_partnership":
            return f"partnership {key} became active"
        case "conclude_partnership":
            return f"partnership {key} was concluded"
        case "record_decision":
            votes = g("votes")
            tally = {v: sum(1 for x in votes.values() if x.value == v) for v in ("for", "against", "abstain")}
            return (
                f"decision {g('key')} on {g('subject')!r} ({g('rule').value}; proposed by "
                f"{g('proposed_by')}; {tally['for']} for, {tally['against']} against, "
                f"{tally['abstain']} abstaining)"
            )
        case "draft_agreement":
            return f"agreement {key} drafted for {', '.join(g('parties'))}: {g('title')}"
        case "sign_agreement":
            return f"{g('party')} signed agreement {key}"
        case "amend_agreement":
            return (
                f"{g('proposed_by')} proposed amendment {g('amendment')} of agreement "
                f"{key} (changing {', '.join(g('changes'))})"
            )
        case "consent_amendment":
            return f"{g('party')} consented to amendment {g('amendment')} of agreement {key}"
        case "terminate_agreement":
            return f"agreement {key} terminated: {g('reason')}"
        case "correct_contribution":
            if g("delivered_on"):
                return f"delivery {g('operation')} to contribution {key} re-dated to {g('delivered_on')}: {g('reason')}"
            return f"contribution {key} corrected by {_money(g('delta'))}: {g('reason')}"
        case "amend_party":
            changed = ", ".join(f for f in ("name", "sector", "capacity", "identifiers", "area") if g(f) is not None)
            return f"party {key} amended ({changed}) from {g('on')}: {g('reason')}"
        case "void_operation":
            return f"operation {g('operation')} voided: {g('reason')}"
        case "withdraw_pledge":
            return f"contribution {key} withdrawn: {g('reason')}"
        case "define_target":
            return (
                f"target {key} defined for {g('partnership')}: {g('indicator')} "
                f"({g('direction').value}, baseline {g('baseline').value} in {g('baseline').period})"
            )
        case "record_measurement":
            return f"target {key} measured {g('value')} for {g('period')} ({g('source')})"
        case "revise_target":
            return f"target {key} revised: {g('reason')}"
        case "open_evaluation":
            return f"evaluation {key} opened for {g('partnership')}, period {g('period')}"
        case "submit_evaluation":
            who = g("party") if g("role").value == "party" else f"a {g('role').value} evaluator"
            return f"{who} submitted to evaluation {key}"
        case "close_evaluation":
            return f"evaluation {key} closed"
        case "erase_subject":
            if "contributions" in fields:
                return f"private evidence of contribution {key} erased at its subject's request: {g('reason')}"
            return f"an evaluator's private data in evaluation {key} erased at their request: {g('reason')}"
    return str(op_name)  # pragma: no cover - every op is covered above


def parties_named(key_field: str | None, key: str, fields: dict[str, Any]) -> tuple[str | None, list[str]]:
    """The party that acted, where the operation names one, and every party it names, from
    its event's ``fields`` (``vars(event)``); ``key`` is its aggregate's (see
    :func:`corrects_by_pointer` for the operations that name none)."""
    get = fields.get
    actor = None
    found: dict[str, None] = {}
    for value in (key if key_field == "party" else get("party"), get("proposed_by")):
        if isinstance(value, str):
            actor = actor or value
            found[value] = None
    # (only a partnership's proposal, an agreement's draft and a decision name more)
    for many in (get("members"), get("parties"), get("votes")):
        if many:
            found.update(dict.fromkeys(many))
    return actor, list(found)
