"""From stored events back to journal operations, and to one-line summaries.

Every event that is not *derived* is the record of exactly one journal operation, so the
notification log can be read back as a journal (``export``) and as a history.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ..domain.values import Money, OpMeta, Terms

# event class qualname -> (op, field naming the aggregate's key, or None for creation)
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


def is_derived(event: Any) -> bool:
    return bool(getattr(event, "derived", False))


def event_meta(event: Any) -> OpMeta | None:
    meta = getattr(event, "meta", None)
    return meta if isinstance(meta, OpMeta) else None


def event_to_operation(event: Any, key: str) -> dict[str, Any] | None:
    """The journal operation an event records (typed values), or None for derived events.

    ``key`` is the key of the aggregate the event belongs to.
    """
    found = EVENT_OPS.get(event_name(event))
    if found is None or is_derived(event):
        return None
    op_name, key_field = found
    fields: dict[str, Any] = {k: v for k, v in vars(event).items() if k not in _BASE_FIELDS and v is not None}
    op: dict[str, Any] = {"op": op_name}
    if op_name == "void_operation":
        # The event also carries what the read models need to undo (party, index...): the
        # operation names only what it voids.
        fields = {k: fields[k] for k in ("operation", "reason", "on")}
    elif "delivered_on" in fields and op_name == "correct_contribution":
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
    return f"{m.amount} {m.currency}" if isinstance(m, Money) else str(m)


def effective_date(op: dict[str, Any]) -> date | None:
    """The date an operation took effect in the world (not when it was recorded)."""
    for name in ("on", "start"):
        value = op.get(name)
        if isinstance(value, date):
            return value
    if op.get("op") == "pledge" and isinstance(op.get("fiscal_year"), int):
        # Recorded before pledges had a day: the first day of its fiscal year (April's).
        return date(op["fiscal_year"], 4, 1)
    return None


def summarize(op: dict[str, Any], owner: str | None = None) -> str:
    """A one-line, plain-words summary of an operation. ``owner`` is a contribution's party."""
    name = op["op"]
    g = op.get
    match name:
        case "register_party":
            return f"registered {g('key')} ({g('name')}, {g('sector').value})"
        case "propose_partnership":
            parent = f" under {g('parent')}" if g("parent") else ""
            return (
                f"{g('proposed_by')} proposed partnership {g('key')}{parent} with "
                f"{', '.join(g('members'))}: {g('title')}"
            )
        case "join_partnership":
            role = f" as {g('role')}" if g("role") else ""
            return f"{g('party')} joined {g('partnership')}{role}"
        case "leave_partnership":
            reason = f" ({g('reason')})" if g("reason") else ""
            return f"{g('party')} left {g('partnership')}{reason}"
        case "activate_partnership":
            return f"partnership {g('partnership')} became active"
        case "conclude_partnership":
            return f"partnership {g('partnership')} was concluded"
        case "record_decision":
            votes = g("votes")
            tally = {v: sum(1 for x in votes.values() if x.value == v) for v in ("for", "against", "abstain")}
            return (
                f"decision {g('key')} on {g('subject')!r} ({g('rule').value}; proposed by "
                f"{g('proposed_by')}; {tally['for']} for, {tally['against']} against, "
                f"{tally['abstain']} abstaining)"
            )
        case "draft_agreement":
            return f"agreement {g('key')} drafted for {', '.join(g('parties'))}: {g('title')}"
        case "sign_agreement":
            return f"{g('party')} signed agreement {g('agreement')}"
        case "amend_agreement":
            return (
                f"{g('proposed_by')} proposed amendment {g('amendment')} of agreement "
                f"{g('agreement')} (changing {', '.join(g('changes'))})"
            )
        case "consent_amendment":
            return f"{g('party')} consented to amendment {g('amendment')} of agreement {g('agreement')}"
        case "terminate_agreement":
            return f"agreement {g('agreement')} terminated: {g('reason')}"
        case "pledge":
            under = f" under {g('agreement')}" if g("agreement") else ""
            how = f" as {g('instrument').value}" if g("instrument") else ""
            return (
                f"{g('party')} pledged {_money(g('value'))} of {g('kind').value}{how} to "
                f"{g('partnership')} for fiscal year {g('fiscal_year')}{under} ({g('key')})"
            )
        case "deliver":
            who = f"{owner} " if owner else ""
            return f"{who}delivered {_money(g('value'))} on contribution {g('contribution')}"
        case "correct_contribution":
            if g("delivery"):
                return (
                    f"delivery {g('delivery')} to contribution {g('contribution')} re-dated to "
                    f"{g('delivered_on')}: {g('reason')}"
                )
            return f"contribution {g('contribution')} corrected by {_money(g('delta'))}: {g('reason')}"
        case "amend_party":
            changed = ", ".join(f for f in ("name", "sector", "capacity", "identifiers", "area") if g(f) is not None)
            return f"party {g('party')} amended ({changed}) from {g('on')}: {g('reason')}"
        case "void_operation":
            return f"operation {g('operation')} voided: {g('reason')}"
        case "withdraw_pledge":
            return f"contribution {g('contribution')} withdrawn: {g('reason')}"
        case "define_target":
            return (
                f"target {g('key')} defined for {g('partnership')}: {g('indicator')} "
                f"({g('direction').value}, baseline {g('baseline').value} in {g('baseline').period})"
            )
        case "record_measurement":
            return f"target {g('target')} measured {g('value')} for {g('period')} ({g('source')})"
        case "revise_target":
            return f"target {g('target')} revised: {g('reason')}"
        case "open_evaluation":
            return f"evaluation {g('key')} opened for {g('partnership')}, period {g('period')}"
        case "submit_evaluation":
            who = g("party") if g("role").value == "party" else f"a {g('role').value} evaluator"
            return f"{who} submitted to evaluation {g('evaluation')}"
        case "close_evaluation":
            return f"evaluation {g('evaluation')} closed"
        case "erase_subject":
            if g("contribution"):
                what = f"private evidence of contribution {g('contribution')}"
                return f"{what} erased at its subject's request: {g('reason')}"
            return f"an evaluator's private data in evaluation {g('evaluation')} erased at their request: {g('reason')}"
    return str(name)  # pragma: no cover - every op is covered above


def acting_party(op: dict[str, Any], owner: str | None = None) -> str | None:
    """The party that acted, where the operation names one."""
    for name in ("party", "proposed_by"):
        value = op.get(name)
        if isinstance(value, str):
            return value
    return owner


def parties_involved(op: dict[str, Any], owner: str | None = None) -> list[str]:
    """Every party an operation names (for filtering history by party)."""
    found: dict[str, None] = {}
    for name in ("party", "proposed_by"):
        if isinstance(op.get(name), str):
            found[op[name]] = None
    for name in ("members", "parties"):
        for p in op.get(name) or ():
            found[p] = None
    for p in op.get("votes") or {}:
        found[p] = None
    if owner:
        found[owner] = None
    return list(found)
