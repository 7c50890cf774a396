"""Organisations as the standards name them: an org-id where the ledger has one, else a
publisher-local identifier, and what each export leaves out, said once."""

from __future__ import annotations

from typing import Any

import attrs

from ..domain import Party, ResourceContribution
from .history import LedgerState


@attrs.define
class LeftOut:
    """What an export could not say in the standard's terms, as sentences for stderr and a
    machine-readable list (``kind``, ``key``, ``reason``) for the caller."""

    items: list[dict[str, Any]] = attrs.Factory(list)
    _seen: set[tuple[str, str, str]] = attrs.Factory(set)

    def add(self, kind: str, key: str, reason: str, **details: Any) -> None:
        if (kind, key, reason) in self._seen:
            return
        self._seen.add((kind, key, reason))
        self.items.append({"kind": kind, "key": key, "reason": reason, **details})

    def contribution(self, c: ResourceContribution, reason: str) -> None:
        """A contribution left out, with what a reader needs to find it and weigh it."""
        self.add(
            "contribution",
            c.key,
            reason,
            amount=c.pledged_net,
            delivered=c.delivered,
            currency=c.currency,
            kind_of_resource=c.kind_of_resource.value,
            partnership=c.partnership,
        )

    def sentences(self) -> list[str]:
        return [f"{i['kind']} {i['key']}: {i['reason']}" for i in self.items]


def org_id(party: Party, local_prefix: str) -> str:
    """The party's first organisation identifier, or ``<local_prefix>-<key>`` without one."""
    return party.identifiers[0] if party.identifiers else f"{local_prefix}-{party.key}"


def partnership_org(state: LedgerState, key: str, local_prefix: str) -> dict[str, Any]:
    """A partnership as an organisation (the holder of a pooled budget): a local identifier."""
    p = state.partnerships[key]
    return {"id": f"{local_prefix}-partnership-{key}", "name": p.title}


def note_local_ids(state: LedgerState, keys: list[str], left: LeftOut, local_prefix: str) -> None:
    for key in keys:
        if not state.parties[key].identifiers:
            left.add(
                "party",
                key,
                f"has no organisation identifier: named by the publisher-local {local_prefix}-{key} "
                "(record its identifiers to join it with other publishers' data)",
            )
