"""The 360Giving and OCDS exports validate against the official schemas and codelists, and
their totals reconcile with ``balance``.

The schemas are the standards bodies' own files, pinned: ``../shared/standards/`` beside the
project, or the same files copied with their licences into ``tests/data/standards/``
(``PARTNERSHIP_LEDGER_STANDARDS`` names another folder). Validation uses jsonschema
with a FormatChecker (date-time through rfc3339-validator) and the remote ``$ref``s mapped
to the local files.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from jsonschema import Draft4Validator, Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT202012
from strategies import standard_journals

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.demo import demo_journal_bytes
from partnership_ledger.errors import InvalidArgument
from partnership_ledger.standards.jsonout import dumps

ROOT = Path(__file__).resolve().parents[2]
G360_SCHEMA_URL = "https://raw.githubusercontent.com/ThreeSixtyGiving/standard/1.4.2/schema/360-giving-schema.json"
OCDS_SCHEMA_URL = "https://standard.open-contracting.org/schema/1__1__5/release-schema.json"
GRANT_INSTRUMENTS = {"grant", "subsidy", "contribution", "unspecified"}


def standards_folder() -> Path:
    """The official schemas: ``PARTNERSHIP_LEDGER_STANDARDS`` if set, else ``../shared/standards``
    beside the project, else the pinned copies in ``tests/data/standards`` (the same files,
    with their licences), so that a clone anywhere validates against them."""
    named = os.environ.get("PARTNERSHIP_LEDGER_STANDARDS")
    candidates = (
        [Path(named)] if named else [ROOT.parent / "shared" / "standards", ROOT / "tests" / "data" / "standards"]
    )
    for folder in candidates:
        if (folder / "360giving-1.4.3").is_dir() and (folder / "ocds-1.1.5").is_dir():
            return folder
    pytest.fail(f"the official schemas are missing from {candidates[0]}")


class Checkers:
    def __init__(self, folder: Path) -> None:
        g = folder / "360giving-1.4.3"
        o = folder / "ocds-1.1.5"
        grant = json.loads((g / "360-giving-schema.json").read_text(encoding="utf-8"))
        release = json.loads((o / "release-schema.json").read_text(encoding="utf-8"))
        registry: Registry[Any] = Registry().with_resources(
            [
                (G360_SCHEMA_URL, Resource.from_contents(grant, default_specification=DRAFT202012)),
                (G360_SCHEMA_URL.replace("1.4.2", "1.4.3"), DRAFT202012.create_resource(grant)),
                (OCDS_SCHEMA_URL, DRAFT4.create_resource(release)),
            ]
        )
        fmt = FormatChecker()
        assert "date-time" in fmt.checkers, "rfc3339-validator is needed for date-time checks"
        package = json.loads((g / "360-giving-package-schema.json").read_text(encoding="utf-8"))
        # Its $schema names draft 2020-12 over http: the validator class is chosen explicitly.
        self.g360 = Draft202012Validator(package, registry=registry, format_checker=fmt)
        self.releases = Draft4Validator(
            json.loads((o / "release-package-schema.json").read_text(encoding="utf-8")),
            registry=registry,
            format_checker=fmt,
        )
        self.records = Draft4Validator(
            json.loads((o / "record-package-schema.json").read_text(encoding="utf-8")),
            registry=registry,
            format_checker=fmt,
        )
        self.codes = {
            name: codes(o / "codelists" / f"{name}.csv")
            for name in ("releaseTag", "initiationType", "contractStatus", "awardStatus", "partyRole", "currency")
        }
        self.g360_currencies = codes(g / "codelists" / "currency.csv")

    def check_360(self, package: dict[str, Any]) -> None:
        data = as_written(package)
        errors = sorted(self.g360.iter_errors(data), key=lambda e: list(e.absolute_path))
        assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]
        for grant in data["grants"]:
            assert grant["currency"] in self.g360_currencies
            for t in grant.get("disbursementTransaction", []):
                assert t["currency"] in self.g360_currencies
            for org in grant["fundingOrganization"] + grant["recipientOrganization"]:
                prefix = org["id"].split("-")[0]
                assert prefix in ("360G",) or len(prefix) == 2, org  # an org-id or a 360G- local id

    def check_ocds(self, exported: dict[str, Any]) -> None:
        releases = as_written(exported["release_package"])
        records = as_written(exported["record_package"])
        for validator, data in ((self.releases, releases), (self.records, records)):
            errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
            assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]
        every = releases["releases"] + [r["compiledRelease"] for r in records["records"]]
        for r in every:
            assert set(r["tag"]) <= self.codes["releaseTag"]
            assert r["initiationType"] in self.codes["initiationType"]
            for party in r["parties"]:
                assert set(party["roles"]) <= self.codes["partyRole"]
            for award in r.get("awards", []):
                assert award["status"] in self.codes["awardStatus"]
            for contract in r.get("contracts", []):
                assert contract["status"] in self.codes["contractStatus"]
                for t in contract.get("implementation", {}).get("transactions", []):
                    assert t["value"]["currency"] in self.codes["currency"]
            amount = r["planning"]["budget"].get("amount")
            if amount is not None:
                assert amount["currency"] in self.codes["currency"]
        ids = [r["id"] for r in releases["releases"]]
        assert len(ids) == len(set(ids))
        for record in records["records"]:
            compiled, last = record["compiledRelease"], record["releases"][-1]
            assert compiled["tag"] == ["compiled"]
            assert {k: v for k, v in compiled.items() if k not in ("id", "tag")} == {
                k: v for k, v in last.items() if k not in ("id", "tag")
            }
            assert [r["date"] for r in record["releases"]] == sorted(r["date"] for r in record["releases"])


def codes(path: Path) -> set[str]:
    with path.open(encoding="utf-8", newline="") as f:
        return {row["Code"] for row in csv.DictReader(f)}


def as_written(data: Any) -> Any:
    """What a consumer reads: the file's text parsed back (Decimal numbers kept exact)."""
    return json.loads(dumps(data), parse_float=Decimal)


@pytest.fixture(scope="module")
def checkers() -> Checkers:
    return Checkers(standards_folder())


@pytest.fixture(scope="module")
def demo_ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PartnershipLedger]:
    with PartnershipLedger.open(tmp_path_factory.mktemp("demo") / "l.sqlite") as ledger:
        ledger.import_journal(demo_journal_bytes())
        yield ledger


def reconcile(ledger: PartnershipLedger, g360: dict[str, Any] | None, ocds: dict[str, Any] | None) -> None:
    """For each partnership: the 360Giving grants and the OCDS budgets and transactions add
    up to ``balance``'s money (pledged and delivered), with what each left out."""
    for p in ledger.keys("partnership"):
        pledged = ledger.burden_balance(p, basis="pledged")["funding"]
        delivered = ledger.burden_balance(p, basis="delivered")["funding"]
        if g360 is not None:
            grants = [g for g in g360["package"]["grants"] if _grant_partnership(ledger, g) == p]
            want = sum(
                (r["value"] for r in pledged["by_instrument"] if r["instrument"] in GRANT_INSTRUMENTS), Decimal(0)
            )
            got = sum((Decimal(str(g["amountAwarded"])) for g in grants), Decimal(0))
            assert got == want, p
            want_d = sum(
                (r["value"] for r in delivered["by_instrument"] if r["instrument"] in GRANT_INSTRUMENTS), Decimal(0)
            )
            assert sum((g["amountDisbursed"] for g in grants), Decimal(0)) == want_d, p
            paid = [t["value"] for g in grants for t in g.get("disbursementTransaction", [])]
            assert sum(paid, Decimal(0)) == want_d, p
        if ocds is not None:
            records = ocds["record_package"]["records"]
            mine = [r["compiledRelease"] for r in records if ledger.show(_agreement(r["ocid"]))["partnership"] == p]
            outside = [
                i
                for i in ocds["left_out"]
                if i["kind"] == "contribution" and i.get("partnership") == p and i["kind_of_resource"] == "money"
            ]
            budgets = sum((_amount(r["planning"]["budget"]) for r in mine), Decimal(0))
            assert budgets + sum((i["amount"] for i in outside), Decimal(0)) == pledged["money_total"], p
            moved = sum(
                (
                    Decimal(str(t["value"]["amount"]))
                    for r in mine
                    for c in r.get("contracts", [])
                    for t in c.get("implementation", {}).get("transactions", [])
                ),
                Decimal(0),
            )
            assert moved + sum((i["delivered"] for i in outside), Decimal(0)) == delivered["money_total"], p


_PREFIX = "360G-partnership-ledger-"


def _grant_partnership(ledger: PartnershipLedger, grant: dict[str, Any]) -> str:
    return str(ledger.show(grant["id"].removeprefix(_PREFIX))["partnership"])


def _agreement(ocid: str) -> str:
    return ocid.removeprefix("ocds-xxxxxx-")


def _amount(budget: dict[str, Any]) -> Decimal:
    amount = budget.get("amount")
    return Decimal(str(amount["amount"])) if amount else Decimal(0)


def test_the_demo_exports_validate_and_reconcile(checkers: Checkers, demo_ledger: PartnershipLedger) -> None:
    g360 = demo_ledger.export_360giving()
    ocds = demo_ledger.export_ocds()
    checkers.check_360(g360["package"])
    checkers.check_ocds(ocds)
    reconcile(demo_ledger, g360, ocds)
    grants = {g["id"]: g for g in g360["package"]["grants"]}
    pref = grants[_PREFIX + "c-pref-2008"]
    assert pref["fundingOrganization"] == [{"id": "JP-JCN-7000020070009", "name": "福島県"}]
    assert pref["recipientOrganization"][0]["name"] == "NPO法人 人形劇の森"  # the proposer
    assert pref["awardDate"] == "2008-06-26"  # the agreement came into force
    nrf = grants[_PREFIX + "th-nrf-2007"]
    assert nrf["fundingOrganization"][0]["id"] == "GB-LAE-TWH"
    # the council proposed the partnership it funds: the pooled budget receives it
    assert nrf["recipientOrganization"][0]["id"] == _PREFIX + "org-partnership-th-lsp"
    left = {(i["kind"], i["key"]) for i in g360["left_out"]}
    assert ("contribution", "c-npo-2008") in left  # in kind
    assert ("party", "npo-puppets") in left  # no identifier
    # per partnership and fiscal year
    one = demo_ledger.export_360giving(partnership="puppet-tour", fiscal_year=2009)
    checkers.check_360(one["package"])
    assert sorted(g["id"] for g in one["package"]["grants"]) == [
        _PREFIX + "c-pref-2009",
        _PREFIX + "c-pref-2009-supp",
    ]
    # each partnership's grants of each fiscal year add up to balance --fiscal-year --basis pledged
    for p in demo_ledger.keys("partnership"):
        for year in range(2006, 2014):
            funding = demo_ledger.burden_balance(p, basis="pledged", fiscal_year=year)["funding"]
            want = sum(
                (r["value"] for r in funding["by_instrument"] if r["instrument"] in GRANT_INSTRUMENTS), Decimal(0)
            )
            try:
                found = demo_ledger.export_360giving(partnership=p, fiscal_year=year)["package"]["grants"]
            except InvalidArgument:
                found = []
            assert sum((Decimal(str(g["amountAwarded"])) for g in found), Decimal(0)) == want, (p, year)
    records = {r["ocid"]: r for r in ocds["record_package"]["records"]}
    puppet = records["ocds-xxxxxx-puppet-agreement"]
    compiled = puppet["compiledRelease"]
    assert compiled["contracts"][0]["dateSigned"] == "2008-06-26T00:00:00Z"
    assert compiled["buyer"]["id"] == "JP-JCN-7000020070009"
    roles = {p["name"]: p["roles"] for p in compiled["parties"]}
    assert roles["福島県"] == ["buyer", "payer"]
    assert roles["NPO法人 人形劇の森"][:1] == ["supplier"]
    tags = [r["tag"] for r in puppet["releases"]]
    assert tags[0] == ["planning"]
    assert ["award", "contract"] in tags
    assert any("implementation" in t for t in tags)


def test_the_export_files_from_the_cli(checkers: Checkers, tmp_path: Path) -> None:
    from click.testing import CliRunner
    from partnership_ledger_cli.main import cli

    runner = CliRunner()
    path = tmp_path / "d.sqlite"
    with PartnershipLedger.open(path) as ledger:
        ledger.import_journal(demo_journal_bytes())
    out = tmp_path / "grants.json"
    result = runner.invoke(cli, ["--db", str(path), "export", "--format", "360giving", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "left out of 360giving: contribution c-npo-2008: in kind" in result.stderr
    package = json.loads(out.read_text(encoding="utf-8"), parse_float=Decimal)
    checkers.check_360(package)
    result = runner.invoke(cli, ["--db", str(path), "export", "--format", "ocds", "--ocid-prefix", "ocds-213czf"])
    assert result.exit_code == 0, result.stderr
    releases = json.loads(result.stdout)
    assert releases["releases"][0]["ocid"].startswith("ocds-213czf-")
    result = runner.invoke(cli, ["--db", str(path), "export", "--format", "ocds", "--record-package"])
    assert result.exit_code == 0
    assert "placeholder prefix ocds-xxxxxx" in result.stderr
    assert all("compiledRelease" in r for r in json.loads(result.stdout)["records"])
    result = runner.invoke(cli, ["--db", str(path), "export", "--fiscal-year", "2009"])
    assert result.exit_code == 2
    assert "--fiscal-year applies to --format 360giving" in result.stderr
    result = runner.invoke(cli, ["--db", str(path), "export", "--format", "360giving", "--partnership", "nope"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: there is no partnership nope in the ledger"


@settings(max_examples=30, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(ops=standard_journals())
def test_generated_ledgers_export_valid_files_that_reconcile(
    checkers: Checkers, tmp_path_factory: pytest.TempPathFactory, ops: list[dict[str, Any]]
) -> None:
    with PartnershipLedger.open(tmp_path_factory.mktemp("gen") / "l.sqlite") as ledger:
        ledger.import_journal(json.dumps(ops).encode())
        try:
            g360: dict[str, Any] | None = ledger.export_360giving()
        except InvalidArgument:
            g360 = None
            grantable = (None, "grant", "subsidy", "contribution")
            assert not any(
                o["op"] == "pledge" and o["kind"] == "money" and o.get("instrument") in grantable for o in ops
            )
        try:
            ocds: dict[str, Any] | None = ledger.export_ocds()
        except InvalidArgument:
            ocds = None
            assert not any(o["op"] == "draft_agreement" for o in ops)
        if g360 is not None:
            checkers.check_360(g360["package"])
        if ocds is not None:
            checkers.check_ocds(ocds)
        reconcile(ledger, g360, ocds)
