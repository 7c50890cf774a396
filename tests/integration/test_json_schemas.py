"""Every command's ``--json`` output matches its JSON Schema in ``docs/schemas/``.

The schemas (draft 2020-12) are the documented contract of the CLI's JSON: each query is run
on the demo ledger and on the every-op sample, for every key and partnership they hold, and
what it prints is validated. Decimal values must be strings (the schemas' ``decimal`` pattern),
and no number anywhere may be a float.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from cli_invoke import invoke
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from ledger_files import fold_wal
from partnership_ledger_cli.main import cli
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from partnership_ledger import PartnershipLedger
from partnership_ledger.domain import KINDS
from partnership_ledger.domain.values import (
    ContributionKind,
    DecisionRule,
    Direction,
    EvaluatorRole,
    Instrument,
    Phase,
    Sector,
    Vote,
)
from partnership_ledger.journal import COMMON, OPS

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"


def load_schemas() -> dict[str, dict[str, Any]]:
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(SCHEMAS.glob("*.json"))}


ALL_SCHEMAS = load_schemas()
# Each file is a resource named by its file name, so that "defs.json#/$defs/money" resolves
# here exactly as it does for anyone validating beside the files.
REGISTRY: Registry[Any] = Registry().with_resources(
    (name, Resource.from_contents(schema, default_specification=DRAFT202012)) for name, schema in ALL_SCHEMAS.items()
)


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(ALL_SCHEMAS[f"{name}.json"], registry=REGISTRY)


def no_floats(text: str) -> Any:
    def reject(number: str) -> Any:
        raise AssertionError(f"a JSON number with a fraction or exponent: {number} (amounts must be strings)")

    return json.loads(text, parse_float=reject)


def check(schema: str, text: str) -> Any:
    """``text`` parsed, with no float in it, and valid against ``docs/schemas/<schema>.json``."""
    value = no_floats(text)
    errors = sorted(validator(schema).iter_errors(value), key=lambda e: list(e.absolute_path))
    assert not errors, f"{schema}.json: " + "; ".join(
        f"at {'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message[:300]}" for e in errors[:5]
    )
    return value


def ok(db: str | Path, *args: str) -> str:
    result = invoke(args, db=db)
    assert result.exit_code == 0, (args, result.output)
    return result.stdout


# -- the ledgers ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def every_op_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    here = Path(__file__).resolve().parents[1]
    shared = here.parents[1] / "shared" / "examples" / "every-op.json"
    journal = shared if shared.is_file() else here / "data" / "every-op.json"
    db = tmp_path_factory.mktemp("schemas") / "every-op.sqlite"
    with PartnershipLedger.open(db) as ledger:
        ledger.import_journal(journal)
    return db


@pytest.fixture(params=["demo", "every-op"])
def ledger_db(request: pytest.FixtureRequest, demo_db: str, every_op_db: Path) -> Path:
    return Path(demo_db) if request.param == "demo" else every_op_db


def keys_of(db: Path, kind: str) -> list[str]:
    with PartnershipLedger.open(db, create=False) as ledger:
        return ledger.keys(kind)


def recorded_span(db: Path) -> tuple[str, str, str]:
    """The first, a middle and the last recorded time in the ledger."""
    rows = json.loads(ok(db, "history", "--json"))
    times = [r["recorded_at"] for r in rows]
    return times[0], times[len(times) // 2], times[-1]


def fiscal_years(db: Path) -> list[str]:
    ops = json.loads(ok(db, "export"))
    return sorted({str(op["fiscal_year"]) for op in ops if op["op"] == "pledge"})


# -- the schemas themselves -------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ALL_SCHEMAS))
def test_every_schema_is_a_valid_draft_2020_12_schema(name: str) -> None:
    schema = ALL_SCHEMAS[name]
    assert schema.get("$schema") == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    assert schema.get("title")
    assert schema.get("description")


def test_every_command_with_json_output_has_a_schema() -> None:
    with_json = {name for name, c in cli.all_commands().items() if any(p.name == "json_output" for p in c.params)}
    without_schema = sorted(n for n in with_json if f"{n}.json" not in ALL_SCHEMAS)
    assert not without_schema, f"commands whose --json output has no schema in docs/schemas: {without_schema}"


def test_the_schemas_enums_are_the_librarys() -> None:
    defs = ALL_SCHEMAS["defs.json"]["$defs"]
    for name, cls in [
        ("sector", Sector),
        ("phase", Phase),
        ("rule", DecisionRule),
        ("vote", Vote),
        ("resource_kind", ContributionKind),
        ("instrument", Instrument),
        ("direction", Direction),
        ("role", EvaluatorRole),
    ]:
        assert defs[name]["enum"] == [m.value for m in cls], name
    assert defs["op"]["enum"] == sorted(OPS)
    assert set(defs["kind"]["enum"]) == set(KINDS)


def test_the_operation_schema_follows_the_journal_spec() -> None:
    ops = ALL_SCHEMAS["operation.json"]["$defs"]
    for name, spec in OPS.items():
        schema = ops[name]
        assert schema["properties"]["op"] == {"const": name}
        assert set(schema["properties"]) == {"op", *spec, *COMMON}, name
        assert set(schema["required"]) == {"op", *(f for f, (_, required) in spec.items() if required)}, name
        assert schema["additionalProperties"] is False


@pytest.mark.parametrize(
    ("schema", "value"),
    [
        ("parties", [{"key": "a", "name": "A", "sector": "npo", "capacity": {"amount": 100, "currency": "JPY"}}]),
        ("parties", [{"key": "a", "name": "A", "sector": "npo", "capacity": {"amount": "1e3", "currency": "JPY"}}]),
        ("parties", [{"key": "a", "name": "A", "sector": "guild", "capacity": None}]),
        ("parties", [{"key": "a", "name": "A", "sector": "npo"}]),
        ("rebuild", {"events": "3"}),
        ("error", {"error": {"message": "no kind"}}),
        ("verify", {"ok": True, "size": 1, "root": "00", "last_position": 1, "bad_position": None}),
    ],
)
def test_the_schemas_refuse_what_they_should(schema: str, value: Any) -> None:
    with pytest.raises(ValidationError):
        validator(schema).validate(value)


# -- queries --------------------------------------------------------------------------------


def test_lists_and_info(ledger_db: Path) -> None:
    parties = check("parties", ok(ledger_db, "parties", "--json"))
    assert parties
    check("partnerships", ok(ledger_db, "partnerships", "--json"))
    info = check("info", ok(ledger_db, "info", "--json"))
    assert info["backend"] == "sqlite"
    check("verify", ok(ledger_db, "verify", "--json"))
    check("export", ok(ledger_db, "export"))
    check("checkpoint", ok(ledger_db, "checkpoint"))


def test_history_with_every_filter(ledger_db: Path) -> None:
    rows = check("history", ok(ledger_db, "history", "--json"))
    assert rows
    first, middle, _ = recorded_span(ledger_db)
    party = keys_of(ledger_db, "party")[0]
    partnership = keys_of(ledger_db, "partnership")[0]
    for args in (
        ["--party", party],
        [partnership, "--include-children"],
        ["--since", "2009-04-01", "--until", "2010-03-31"],
        ["--op", "deliver", "--op", "record_decision"],
        ["--recorded-since", middle, "--recorded-until", first[:10]],
    ):
        check("history", ok(ledger_db, "history", "--json", *args))


def test_show_every_key(ledger_db: Path) -> None:
    seen = set()
    for kind in KINDS:
        for key in keys_of(ledger_db, kind):
            shown = check("show", ok(ledger_db, "show", key, "--json"))
            assert (shown["kind"], shown["key"]) == (kind, key)
            seen.add(kind)
    assert seen == set(KINDS)


def test_indicators_of_every_partnership(ledger_db: Path) -> None:
    for p in keys_of(ledger_db, "partnership"):
        for name in ("balance", "voice", "targets", "evaluations"):
            check(name, ok(ledger_db, name, p, "--json"))
            check(name, ok(ledger_db, name, p, "--json", "--include-children"))


def test_indicators_with_every_option(ledger_db: Path) -> None:
    _, middle, _ = recorded_span(ledger_db)
    partnership = keys_of(ledger_db, "partnership")[0]
    years = fiscal_years(ledger_db)
    for args in (
        ["--basis", "pledged"],
        ["--fiscal-year", years[0]],
        ["--fiscal-year", years[-1], "--basis", "pledged"],
        ["--as-of", middle],
        ["--as-of", "2000-01-01"],
    ):
        for name in ("balance", "voice"):
            result = invoke([name, partnership, "--json", *args], db=ledger_db)
            if result.exit_code == 1:  # asked before the partnership was recorded
                check("error", result.stderr)
            else:
                data = check(name, result.stdout)
                assert data["as_of"] is not None or "--as-of" not in args
    for name in ("targets", "evaluations"):
        check(name, ok(ledger_db, name, partnership, "--json", "--as-of", middle))
    check(
        "balance",
        ok(ledger_db, "balance", partnership, "--json", "--deviation-threshold", "0", "--capacity-threshold", "0.5"),
    )


def test_diff(ledger_db: Path) -> None:
    first, middle, last = recorded_span(ledger_db)
    for p in keys_of(ledger_db, "partnership"):
        whole = check("diff", ok(ledger_db, "diff", p, "--json", "--from", "2000-01-01", "--to", last))
        assert whole["before"] == {"exists": False}
        assert whole["after"]["exists"] is True
        check("diff", ok(ledger_db, "diff", p, "--json", "--from", middle, "--to", last, "--include-children"))
    check("diff", ok(ledger_db, "diff", p, "--json", "--from", first, "--to", first))


# -- commands that change things ---------------------------------------------------------------


def test_commands_that_record(tmp_path: Path, every_op_db: Path) -> None:
    db = tmp_path / "l.sqlite"
    check("init", ok(db, "init", "--json"))
    journal = tmp_path / "j.json"
    journal.write_text(ok(every_op_db, "export"), encoding="utf-8")
    check("import", ok(db, "import", "--dry-run", "--json", str(journal)))
    check("import", ok(db, "import", "--json", str(journal)))
    check("import", ok(db, "import", "--json", str(journal)))  # nothing new
    op = {"op": "register_party", "key": "npo-new", "name": "NPO New", "sector": "npo"}
    check("record", ok(db, "record", "--json", json.dumps(op)))
    check("record", ok(db, "record", "--json", "--dry-run", json.dumps({**op, "key": "npo-other"})))
    check("rebuild", ok(db, "rebuild", "--json"))
    check("demo", ok(db, "demo", "--json", "-o", str(tmp_path / "demo")))


@pytest.mark.skipif("report" not in cli.list_commands(None), reason="no report command")
def test_the_reports_data_carries_the_same_indicators(every_op_db: Path) -> None:
    """``report --format json`` (the residents' report's data) embeds balance and voice as the
    queries print them; no number in it is a float either."""
    partnership = keys_of(every_op_db, "partnership")[0]
    data = no_floats(ok(every_op_db, "report", partnership, "--format", "json"))
    for name in ("balance", "voice"):
        embedded = Draft202012Validator({"$ref": f"{name}.json#/$defs/{name}"}, registry=REGISTRY)
        embedded.validate(data[name])


def test_follow_once(demo_db: str) -> None:
    # "seconds" is an elapsed time, not an amount: the one JSON number with a fraction.
    caught_up = json.loads(ok(demo_db, "follow", "--once", "--json"))
    validator("follow").validate(caught_up)
    assert caught_up["read_model_lag"] == 0


# -- errors ----------------------------------------------------------------------------------


def tampered_copy(db: Path, folder: Path) -> Path:
    copy = folder / "tampered.sqlite"
    shutil.copyfile(fold_wal(db), copy)
    con = sqlite3.connect(copy, isolation_level=None)
    con.execute("UPDATE stored_events SET state = CAST(? AS BLOB) WHERE rowid = 5", (b'{"x": 1}',))
    con.close()
    return copy


def failing(demo_db: str, tmp_path: Path) -> Iterator[Sequence[str]]:
    bad = tmp_path / "bad.json"
    bad.write_text('[{"op": "deliver", "contribution": "nowhere"}]', encoding="utf-8")
    yield ["--db", demo_db, "show", "no-such-key", "--json"]
    yield ["--db", demo_db, "history", "--party", "puppet-tour", "--json"]
    yield ["--db", demo_db, "balance", "npo-puppets", "--json"]
    yield ["--db", demo_db, "diff", "puppet-tour", "--from", "2030-01-01", "--to", "2020-01-01", "--json"]
    yield ["--db", str(tmp_path / "l.sqlite"), "import", "--json", str(bad)]
    yield ["--db", str(tmp_path / "l.sqlite"), "record", "--json", '{"op": "activate_partnership"}']
    yield ["--db", str(tmp_path / "missing.sqlite"), "parties", "--json"]
    yield ["--db", "foo://bar", "info", "--json"]
    yield ["--db", str(tmp_path), "info", "--json"]
    yield ["--db", demo_db, "verify", "--json", "--checkpoint", str(bad)]
    yield ["--db", str(tampered_copy(Path(demo_db), tmp_path)), "verify", "--json"]


def test_errors_match_the_error_schema(demo_db: str, tmp_path: Path) -> None:
    for args in failing(demo_db, tmp_path):
        result = invoke(args)
        assert result.exit_code == 1, (args, result.output)
        error = check("error", result.stderr)["error"]
        assert error["message"] in result.stderr
        if "verify" in args and "--checkpoint" not in args:
            report = check("verify", result.stdout)  # the walk's result is still the data
            assert report["ok"] is False
            assert error["position"] == report["bad_position"] == 5
