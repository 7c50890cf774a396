"""Private values read back for the ledger's keeper: in ``show`` and in ``export``.

Views and exports made with the ledger (its key table) show private values as given while
their subject's key exists, and as erased afterwards; public outputs never call these.
"""

from __future__ import annotations

from typing import Any

from .registry import ERASED_TEXT, is_commitment


def reveal_view(view: dict[str, Any], vault: Any) -> dict[str, Any]:
    """``view`` (of ``show``) with private values read from the key table, or marked erased:
    an evaluation's residents and comments, a contribution's private evidence."""
    for s in view.get("submissions", []):
        for name in ("evaluator", "comment"):
            value = s.get(name)
            if is_commitment(value):
                s[name] = vault.reveal(value) or (ERASED_TEXT if name == "comment" else None)
    for d in view.get("deliveries", []):
        if is_commitment(d.get("evidence")):
            d["evidence"] = vault.reveal(d["evidence"]) or ERASED_TEXT
    return view


def reveal_operation(op: dict[str, Any], vault: Any) -> dict[str, Any] | None:
    """A journal operation read back from the chain (export), with its private values as
    given where the key table still has them. An erased value stays a commitment (an id) or
    is left out (a comment); a tombstone becomes the ``erase_subject`` of that handle (so
    that the export imports into a ledger that holds what this one does)."""
    if op["op"] == "erase_subject":
        dropped = ("evaluation", "contribution", "subject", "evaluations", "contributions", "values")
        out = {k: v for k, v in op.items() if k not in dropped}
        return {"op": "erase_subject", "evaluator": op["subject"], **{k: v for k, v in out.items() if k != "op"}}
    if op["op"] == "deliver":
        return _reveal_evidence(op, vault)
    if op["op"] != "submit_evaluation":
        return op
    out = dict(op)
    for name in ("evaluator", "comment"):
        value = out.get(name)
        if is_commitment(value):
            found = vault.reveal(value)
            if found is not None:
                out[name] = found
            elif name == "comment":
                del out[name]
    return out


def _reveal_evidence(op: dict[str, Any], vault: Any) -> dict[str, Any]:
    """A delivery with private evidence: the evidence and its subject as given; once erased,
    the commitment in place of the evidence and the subject's handle (so that the export's
    ``erase_subject`` of that handle finds it again when imported)."""
    ref = op.get("evidence")
    if not is_commitment(ref):
        return op
    out = dict(op)
    value, subject = vault.reveal(ref), vault.subject_of(ref)
    if value is not None and subject is not None:
        out.update(evidence=value, evidence_private=True, evidence_subject=subject)
        return out
    handle = vault.erased_handle_of(ref)
    if handle is None:  # no tombstone names it (a key table made by hand): nothing to restore
        del out["evidence"]
        return out
    out.update(evidence_private=True, evidence_subject=handle)
    return out
