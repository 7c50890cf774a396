"""Malformed journals are refused with an error naming the operation, and change nothing.

The corpus: the hand-written files in ``tests/data/bad_journals`` (``expected.json`` says
where each goes wrong), a systematic set made by breaking each operation of the every-op
sample in each way below, hypothesis-made ones, and two 100 MB files made at test time.
Every one is imported into a ledger that already holds the every-op sample: each must raise
a JournalError whose first problem is the broken operation (``operation N (op)``), and the
ledger must be left exactly as it was, which the next case then relies on.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.errors import JournalError
from partnership_ledger.journal import OPS, a_date

BAD = Path(__file__).resolve().parents[1] / "data" / "bad_journals"
EXPECTED: dict[str, dict[str, Any]] = json.loads((BAD / "expected.json").read_text(encoding="utf-8"))
EVERY_OP = Path(__file__).resolve().parents[1] / "data" / "every-op.json"
OPERATIONS: list[dict[str, Any]] = json.loads(EVERY_OP.read_text(encoding="utf-8"))


@attrs.frozen
class Expect:
    index: int | None
    op: str | None
    field: str | None
    contains: str | None = None


class Target:
    """A ledger holding the every-op sample, and what it held before any bad import."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.ledger = PartnershipLedger.open(path)
        self.ledger.import_journal(EVERY_OP.read_bytes())
        self.before = self.state()
        self.refused = 0

    def __repr__(self) -> str:
        return f"<ledger of {self.before[0]} events>"

    def state(self) -> tuple[int, int, int]:
        with self.ledger.db.transaction(commit=False) as c:
            c.execute("SELECT COUNT(*) FROM ledger_ops")
            ops = int((c.fetchone() or (0,))[0])
        return self.ledger.event_count(), ops, self.ledger.last_position()

    def refuse(self, data: bytes, expect: Expect) -> JournalError:
        """Import ``data``: it must fail where ``expect`` says, and change nothing."""
        with pytest.raises(JournalError) as raised:
            self.ledger.import_journal(data, source="bad.json")
        error = raised.value
        first = error.problems[0]
        assert (first.index, first.op, first.field) == (expect.index, expect.op, expect.field), error.message
        assert error.message.startswith("bad.json: ")
        assert "\n" not in error.message
        if expect.index is not None:
            assert f"operation {expect.index}" in error.message
        if expect.op is not None:
            assert f"({expect.op})" in error.message
        if expect.field is not None:
            assert repr(expect.field) in error.message
        if expect.contains is not None:
            assert expect.contains in error.message
        assert self.state() == self.before, "a refused journal changed the ledger"
        self.refused += 1
        return error


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    t = Target(tmp_path_factory.mktemp("bad") / "ledger.sqlite")
    yield t
    t.ledger.close()


# -- the hand-written files ---------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_hand_written_bad_journal_is_refused(target: Target, name: str) -> None:
    e = EXPECTED[name]
    target.refuse((BAD / name).read_bytes(), Expect(e["index"], e["op"], e["field"], e["contains"]))


def test_every_hand_written_file_has_an_expectation() -> None:
    files = {p.name for p in BAD.iterdir() if p.name != "expected.json"}
    assert files == set(EXPECTED)
    assert len(files) >= 60


# -- breaking the every-op sample, one operation at a time -------------------------------------------

DEEP: Any = 1
for _ in range(60):
    DEEP = [DEEP]
# Values no field of any operation accepts (checked against every field's parser below).
UNIVERSAL_BAD: list[Any] = [
    1.5,
    float("nan"),
    float("inf"),
    float("-inf"),
    -0.0,
    1e300,
    10**400,
    "\ud800",
    DEEP,
    {"$": {"$": []}},
    "",
    "   ",
    [],
]
BAD_DATES = [
    "2021-02-29",
    "2021-13-01",
    "1899-12-31",
    "2201-01-01",
    "21-01-01",
    "2021-1-1",
    "2021-01-01T00:00",
    20210101,
]
BAD_META: list[tuple[str, Any]] = [
    ("id", 5),
    ("id", "has space"),
    ("id", ""),
    ("id", "x" * 200),
    ("by", 1.5),
    ("by", ["a"]),
    ("note", {"t": 1}),
    ("note", ""),
]
BAD_OPS = ["", "Register_Party", "register-party", "delete_everything", "register_party ", "\u0440egister_party"]
NOT_OBJECTS: list[Any] = [1, "register_party", [{"op": "register_party"}], None, True, 1.5]
BAD_BYTES = [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80", b"\xf8\x88\x80\x80\x80", b"\xc0\xaf"]
KINDS = [
    "missing field",
    "bad value",
    "null required",
    "unknown field",
    "unknown op",
    "no op",
    "not an object",
    "duplicate key",
    "invalid UTF-8",
    "bad date",
    "bad meta",
]


def _text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=True)


def _journal(texts: list[str], lines: bool) -> bytes:
    joined = "\n".join(texts) + "\n" if lines else "[\n" + ",\n".join(texts) + "\n]"
    return joined.encode("utf-8")


def broken(k: int, kind: str, choice: int, lines: bool = False) -> tuple[bytes, Expect]:
    """The every-op sample with operation ``k`` broken in the way ``kind`` names.

    ``choice`` picks which field, value or byte, so that the same arguments always give the
    same journal. A kind that does not apply to the operation falls back to a bad value.
    """
    op = dict(OPERATIONS[k])
    name = op["op"]
    spec = OPS[name]
    fields = list(spec)
    required = [f for f, (_, req) in spec.items() if req]
    strings = [f for f in fields if isinstance(op.get(f), str)]
    dates = [f for f, (parser, _) in spec.items() if parser is a_date]
    texts = [_text(o) for o in OPERATIONS]
    expect = Expect(k, name, None)
    if kind == "bad date" and not dates:
        kind = "bad value"
    if kind == "missing field":
        f = required[choice % len(required)]
        del op[f]
        expect = Expect(k, name, f, "is missing")
    elif kind == "null required":
        f = required[choice % len(required)]
        op[f] = None
        expect = Expect(k, name, f)
    elif kind == "bad value":
        f = fields[choice % len(fields)]
        op[f] = UNIVERSAL_BAD[choice % len(UNIVERSAL_BAD)]
        expect = Expect(k, name, f)
    elif kind == "bad date":
        f = dates[choice % len(dates)]
        op[f] = BAD_DATES[choice % len(BAD_DATES)]
        expect = Expect(k, name, f)
    elif kind == "bad meta":
        f, op[f] = BAD_META[choice % len(BAD_META)]
        expect = Expect(k, name, f)
    elif kind == "unknown field":
        f = ["colour", "Key", "amount", "value2", "op2", "\u00e9"][choice % 6]
        op[f] = "x"
        expect = Expect(k, name, f, "unknown field")
    elif kind == "unknown op":
        op["op"] = BAD_OPS[choice % len(BAD_OPS)]
        expect = Expect(k, None, "op", "unknown op")
    elif kind == "no op":
        del op["op"]
        expect = Expect(k, None, "op")
    elif kind == "not an object":
        value = NOT_OBJECTS[choice % len(NOT_OBJECTS)]
        if lines and k == 0 and isinstance(value, list):
            value = NOT_OBJECTS[0]  # a first line "[" would make the file a JSON array
        texts[k] = _text(value)
        return _journal(texts, lines), Expect(k, None, None, "must be an object")
    elif kind == "duplicate key":
        f = fields[choice % len(fields)] if choice % 2 else "op"
        if f not in op:
            f = "op"
        texts[k] = _text(op)[:-1] + f", {_text(f)}: {_text(op[f])}}}"
        return _journal(texts, lines), Expect(k, name, f, "twice")
    elif kind == "invalid UTF-8":
        f = strings[choice % len(strings)]
        op[f] = "MARK-HERE"
        bad = BAD_BYTES[choice % len(BAD_BYTES)]
        texts[k] = _text(op)
        data = _journal(texts, lines).replace(b"MARK-HERE", b"MARK" + bad + b"HERE")
        return data, Expect(k, name, f, "is not valid UTF-8")
    texts[k] = _text(op)
    return _journal(texts, lines), expect


SYSTEMATIC = [(k, kind, k + i) for k in range(len(OPERATIONS)) for i, kind in enumerate(KINDS)]


def test_the_universal_bad_values_fit_no_field() -> None:
    from partnership_ledger.journal import FieldError
    from partnership_ledger.journal.readers import loads as _loads

    for value in UNIVERSAL_BAD:
        read = _loads(json.dumps(value))  # as the journal reader sees it (NaN, floats)
        for spec in OPS.values():
            for parser, _ in spec.values():
                with pytest.raises(FieldError):
                    parser(read)


@pytest.mark.parametrize(("k", "kind", "choice"), SYSTEMATIC, ids=[f"{k}-{kind}" for k, kind, _ in SYSTEMATIC])
def test_a_broken_operation_of_the_sample_is_refused(target: Target, k: int, kind: str, choice: int) -> None:
    data, expect = broken(k, kind, choice, lines=bool(choice % 3 == 0))
    target.refuse(data, expect)


def test_the_corpus_has_at_least_two_hundred_journals() -> None:
    assert len(EXPECTED) + len(SYSTEMATIC) >= 200


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    k=st.integers(0, len(OPERATIONS) - 1),
    kind=st.sampled_from(KINDS),
    choice=st.integers(0, 10_000),
    lines=st.booleans(),
)
def test_any_broken_operation_is_refused(target: Target, k: int, kind: str, choice: int, lines: bool) -> None:
    data, expect = broken(k, kind, choice, lines)
    target.refuse(data, expect)


# -- 100 MB ------------------------------------------------------------------------------------------

HUNDRED_MB = 100 * 1024 * 1024


def test_a_hundred_megabytes_of_garbage_is_refused(target: Target, tmp_path: Path) -> None:
    path = tmp_path / "garbage.json"
    with open(path, "wb") as f:
        for _ in range(100):
            f.write(os.urandom(1024 * 1024))
    assert path.stat().st_size == HUNDRED_MB
    target.refuse(path.read_bytes(), Expect(None, None, None, "is not valid UTF-8"))


def test_a_hundred_megabyte_operation_is_refused_by_name(target: Target, tmp_path: Path) -> None:
    path = tmp_path / "huge-note.json"
    head = (
        _text(OPERATIONS[:3])[:-1]
        + ', {"op": "register_party", "key": "huge", "name": "Huge", "sector": "npo", "note": "'
    )
    with open(path, "w", encoding="ascii") as f:
        f.write(head)
        f.write("x" * (HUNDRED_MB - len(head) - 3))
        f.write('"}]')
    assert path.stat().st_size == HUNDRED_MB
    target.refuse(path.read_bytes(), Expect(3, "register_party", "note", "longer than"))


# -- the command line --------------------------------------------------------------------------


def test_the_cli_exits_1_on_bad_journals(target: Target, tmp_path: Path) -> None:
    from partnership_ledger_cli.main import cli

    db = tmp_path / "cli.sqlite"
    with PartnershipLedger.open(db) as ledger:
        ledger.import_journal(EVERY_OP.read_bytes())
    con = sqlite3.connect(db)
    before = con.execute("SELECT COUNT(*) FROM stored_events").fetchone()
    con.close()
    sample = sorted(EXPECTED)[::4]
    for k, kind, choice in SYSTEMATIC[::29]:
        path = tmp_path / f"broken-{k}-{kind}.json"
        path.write_bytes(broken(k, kind, choice)[0])
        sample.append(str(path))
    runner = CliRunner()
    for name in sample:
        path = BAD / name if not os.path.isabs(name) else Path(name)
        result = runner.invoke(cli, ["--db", str(db), "import", str(path)])
        assert result.exit_code == 1, (name, result.output)
        assert "Traceback" not in result.output
        assert result.stderr.startswith("error:"), (name, result.stderr)
    con = sqlite3.connect(db)
    assert con.execute("SELECT COUNT(*) FROM stored_events").fetchone() == before
    con.close()
