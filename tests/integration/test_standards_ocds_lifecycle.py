"""An agreement's life as OCDS releases: which release each change makes, and its tags."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from journal_ops import amend, consent, correct, deliver, draft, pledge, propose

from partnership_ledger.application import PartnershipLedger

JOURNAL: list[dict[str, Any]] = [
    {
        "op": "register_party",
        "key": "council",
        "name": "Council",
        "sector": "municipality",
        "identifiers": ["GB-LAE-TWH", "GB-GOR-D1"],
    },
    {"op": "register_party", "key": "charity", "name": "Charity", "sector": "npo", "identifiers": ["GB-CHC-1234567"]},
    {"op": "register_party", "key": "firm", "name": "Firm", "sector": "business"},
    propose("p", "charity", ["council", "charity", "firm"], "2020-04-01", purpose="Better streets"),
    draft("a", "p", ["council", "charity"], "2020-04-01", "2022-03-31", title="A"),
    {"op": "sign_agreement", "agreement": "a", "party": "council", "on": "2020-04-10"},
    {"op": "sign_agreement", "agreement": "a", "party": "charity", "on": "2020-04-20"},
    pledge("m1", "p", "council", "money", "1000.50", 2020, currency="GBP", agreement="a", instrument="grant"),
    pledge("k1", "p", "charity", "staff_time", "300", 2020, currency="GBP", agreement="a"),
    deliver("m1", "400", "2020-06-01", currency="GBP"),
    correct("m1", "-0.50", "fee", "2020-06-02", currency="GBP"),
    {"op": "withdraw_pledge", "contribution": "m1", "reason": "underspend", "on": "2021-03-01"},
    amend("a", "x", {"end": "2023-03-31"}, "charity", "2021-04-01"),
    consent("a", "x", "charity", "2021-04-01"),
    consent("a", "x", "council", "2021-04-05"),
    {"op": "terminate_agreement", "agreement": "a", "reason": "done", "on": "2022-01-31"},
    draft("b", "p", ["council", "firm"], "2020-04-01", "2021-03-31", title="B"),
    {"op": "sign_agreement", "agreement": "b", "party": "firm", "on": "2020-05-01"},
    {"op": "terminate_agreement", "agreement": "b", "reason": "never agreed", "on": "2020-06-01"},
    pledge("m2", "p", "firm", "money", "50", 2020, currency="GBP", recipient="charity"),
]


def test_each_change_makes_the_release_it_should(tmp_path: Path) -> None:
    with PartnershipLedger.open(tmp_path / "l.sqlite") as ledger:
        ledger.import_journal(json.dumps(JOURNAL).encode())
        out = ledger.export_ocds(ocid_prefix="ocds-abc123")
    records = {r["ocid"]: r for r in out["record_package"]["records"]}
    a = records["ocds-abc123-a"]["releases"]
    assert [r["tag"] for r in a] == [
        ["planning"],  # drafted (the council's signature changes nothing OCDS shows)
        ["award", "contract"],  # the charity signed: in force
        ["planningUpdate", "awardUpdate", "contractUpdate"],  # the grant pledged: budget and value
        ["implementation"],  # a payment
        ["implementation"],  # its correction, a signed transaction
        ["planningUpdate", "awardUpdate", "contractUpdate"],  # withdrawn: the budget falls to 399.50
        ["awardUpdate", "contractAmendment", "contractUpdate"],  # consented: the term runs to 2023
        ["contractTermination"],
    ]
    final = records["ocds-abc123-a"]["compiledRelease"]
    contract = final["contracts"][0]
    assert contract["status"] == "terminated"
    assert contract["period"]["endDate"] == "2023-03-31T00:00:00Z"
    assert contract["dateSigned"] == "2020-04-20T00:00:00Z"
    assert contract["amendments"] == [
        {"id": "x", "date": "2021-04-05T00:00:00Z", "description": "changes end, proposed by charity"}
    ]
    assert str(contract["value"]["amount"]) == "399.50"  # withdrawn: all but what was delivered
    assert [str(t["value"]["amount"]) for t in contract["implementation"]["transactions"]] == ["400", "-0.50"]
    council = {"id": "GB-LAE-TWH", "name": "Council"}
    assert contract["implementation"]["transactions"][0]["payer"] == council
    assert contract["implementation"]["transactions"][0]["payee"] == {"id": "GB-CHC-1234567", "name": "Charity"}
    parties = {p["id"]: p for p in final["parties"]}
    assert parties["GB-LAE-TWH"]["roles"] == ["buyer", "payer"]
    assert parties["GB-LAE-TWH"]["identifier"] == {"scheme": "GB-LAE", "id": "TWH", "legalName": "Council"}
    assert parties["GB-LAE-TWH"]["additionalIdentifiers"] == [{"scheme": "GB-GOR", "id": "D1"}]
    assert parties["GB-CHC-1234567"]["roles"] == ["supplier", "payee"]
    assert final["buyer"] == council

    b = records["ocds-abc123-b"]["releases"]
    assert [r["tag"] for r in b] == [["planning"], ["awardCancellation"]]
    assert records["ocds-abc123-b"]["compiledRelease"]["contracts"][0]["status"] == "cancelled"
    assert records["ocds-abc123-b"]["compiledRelease"]["awards"][0]["status"] == "cancelled"
    left = {(i["key"], i["reason"].split(":")[0]) for i in out["left_out"]}
    assert ("m2", "made outside any agreement") in left
    assert ("k1", "in kind (staff_time)") in left
    assert ("firm", "has no organisation identifier") in left


def test_the_360giving_grant_of_the_same_ledger(tmp_path: Path) -> None:
    with PartnershipLedger.open(tmp_path / "l.sqlite") as ledger:
        ledger.import_journal(json.dumps(JOURNAL).encode())
        out = ledger.export_360giving(id_prefix="360G-test", data_source="https://example.org/g.json")
    grants = {g["id"]: g for g in out["package"]["grants"]}
    m1 = grants["360G-test-m1"]
    assert str(m1["amountAwarded"]) == "399.50"  # net of the withdrawal
    assert str(m1["amountDisbursed"]) == "399.50"
    assert m1["recipientOrganization"] == [{"id": "GB-CHC-1234567", "name": "Charity", "charityNumber": "1234567"}]
    assert m1["plannedDates"] == [{"startDate": "2020-04-01", "endDate": "2021-03-31"}]
    assert m1["awardDate"] == "2020-04-20"
    assert m1["dataSource"] == "https://example.org/g.json"
    m2 = grants["360G-test-m2"]  # no instrument: a contribution; named recipient
    assert m2["recipientOrganization"][0]["id"] == "GB-CHC-1234567"
    assert m2["fundingOrganization"] == [{"id": "360G-test-org-firm", "name": "Firm"}]
    assert m2["grantProgramme"] == [{"code": "p", "title": "P"}]
    assert "disbursementTransaction" not in m2
