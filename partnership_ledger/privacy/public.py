"""The public ledger: ``publish`` writes it, ``verify --public`` checks it.

See docs/privacy.md.
"""

from __future__ import annotations

from typing import Any

from .registry import is_commitment


def reveal_operation(op: dict[str, Any], vault: Any) -> dict[str, Any] | None:
    """A journal operation read back from the chain (export), with its private values as
    given where the key table still has them. An erased value stays a commitment (an id) or
    is left out (a comment); a tombstone becomes the ``erase_subject`` of that handle (so
    that the export imports into a ledger that holds what this one does)."""
    if op["op"] == "erase_subject":
        out = {k: v for k, v in op.items() if k not in ("evaluation", "subject")}
        return {"op": "erase_subject", "evaluator": op["subject"], **{k: v for k, v in out.items() if k != "op"}}
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
