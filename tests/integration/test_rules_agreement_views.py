"""An agreement's status, unsigned parties and amendments read the same from the read models
(the facts fold) as from the aggregate (``show``): both use the domain's functions
(``domain/agreement.py``: ``agreement_status``, ``unsigned_parties``, ``takes_effect``)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from strategies import valid_journals

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.domain.agreement import agreement_status
from partnership_ledger.projections.facts import AgreementFact


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_journals(min_ops=8, max_ops=40))
def test_agreement_facts_read_as_the_aggregate(journal: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as folder, PartnershipLedger.open(str(Path(folder) / "l.sqlite")) as ledger:
        ledger.import_journal(json.dumps(journal, default=str))
        keys = [op["key"] for op in journal if op["op"] == "draft_agreement"]
        for key in keys:
            fact = ledger.facts.get(AgreementFact, key)
            assert fact is not None
            shown = ledger.show(key)
            status = agreement_status(fact.parties, fact.signatures, fact.terminated_on)
            assert (status, fact.fully_signed) == (shown["status"], not shown["unsigned"])
            assert fact.signatures == shown["signatures"]
            assert [(m["key"], m["consents"], m["effective_on"]) for m in fact.amendments] == [
                (m["key"], m["consents"], m["effective_on"]) for m in shown["amendments"]
            ]
            assert (fact.title, fact.start, fact.end, fact.fiscal_year_start) == (
                shown["title"],
                shown["terms"]["start"],
                shown["terms"]["end"],
                shown["terms"]["fiscal_year_start"],
            )
            assert fact.shares == shown["terms"]["shares"]
