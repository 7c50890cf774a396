"""Fuzzing the command line: no input ever gets a traceback, an odd exit code, or a half change.

Random argument lists are drawn from the real command and option names, the keys in a small
ledger, dates, numbers, file names, JSON operations and random text (also the undecodable
bytes a shell can pass). Each runs through CliRunner in a folder of its own, against a fresh
copy of the ledger. Whatever happens: no traceback reaches the output, the exit code is 0,
1 or 2, and a command that fails leaves the ledger as it was (same events, same export).
Random bytes imported as a journal exit 0 or 1, never 2 (a readable file is no usage error).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledger_files import fold_wal
from partnership_ledger_cli.main import cli
from partnership_ledger_cli.params import DecimalNumber, IsoDate, LedgerKey, Timestamp
from strategies import journal_bytes, json_values

from partnership_ledger import PartnershipLedger
from partnership_ledger.domain import KINDS

TESTS = Path(__file__).resolve().parents[1]
SHARED_EVERY_OP = TESTS.parents[1] / "shared" / "examples" / "every-op.json"
EVERY_OP = SHARED_EVERY_OP if SHARED_EVERY_OP.is_file() else TESTS / "data" / "every-op.json"

# Left out of the random command lists: `demo`, which builds the whole demo ledger and its
# reports (too slow to run hundreds of times; its own tests cover it). `follow` runs until
# stopped, so it is only ever drawn with --once.
SLOW = {"demo"}
LEDGER = "ledger.sqlite"
fuzz_settings = settings(suppress_health_check=[HealthCheck.too_slow])


class Ledger:
    """The base ledger (the every-op sample), the files beside it, and what it holds."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        db = folder / LEDGER
        ops = json.loads(EVERY_OP.read_text(encoding="utf-8"))
        # The base holds all but the last five operations; new.json carries those five.
        base_ops, new_ops = ops[:-5], ops[-5:]
        with PartnershipLedger.open(db) as ledger:
            ledger.import_journal(json.dumps(base_ops))
            self.keys = sorted(k for kind in KINDS for k in ledger.keys(kind))
        fold_wal(db)
        self.state = state_of(db)
        files = {
            "journal.json": json.dumps(base_ops),  # already in the ledger: importing it changes nothing
            "new.json": json.dumps(new_ops),
            "bad.json": json.dumps([*base_ops[:2], {"op": "deliver", "contribution": "nowhere"}]),
            "garbage.bin": "\x00\x01 not a journal \ufffd",
            "cp.json": '{"size": 1, "root": "00", "position": 1}',
            "office.pub": "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n",
        }
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
        # The one way a failed command may still have changed the ledger: `import a b` that
        # recorded a whole file before refusing a later one (documented; each file is atomic).
        with copied(self) as work:
            assert CliRunner().invoke(cli, ["--db", LEDGER, "import", "new.json"]).exit_code == 0
            self.state_with_new = state_of(work / LEDGER)


def state_of(db: Path) -> tuple[int, str]:
    """What a failed command must not change: the number of events and the exported journal."""
    with PartnershipLedger.open(db, create=False) as ledger:
        return ledger.event_count(), json.dumps(list(ledger.export_operations()))


@contextmanager
def copied(base: Ledger) -> Iterator[Path]:
    """A fresh folder holding a copy of the base ledger and its files; it is the current folder."""
    work = Path(shutil.copytree(base.folder, base.folder.parent / f"run-{os.getpid()}-{next_id()}", ignore=ignore_wal))
    old = Path.cwd()
    os.chdir(work)
    try:
        yield work
    finally:
        os.chdir(old)
        shutil.rmtree(work, ignore_errors=True)


def ignore_wal(folder: str, names: list[str]) -> list[str]:
    return [n for n in names if n.endswith(("-wal", "-shm"))]


_counter = iter(range(10**9))


def next_id() -> int:
    return next(_counter)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Ledger:
    root = tmp_path_factory.mktemp("fuzz")
    (root / "base").mkdir()
    return Ledger(root / "base")


# -- drawing argument lists --------------------------------------------------------------------


def options_of(command: click.Command) -> list[str]:
    return sorted({o for p in command.params for o in (*p.opts, *p.secondary_opts) if o.startswith("-")})


COMMANDS = sorted(n for n in cli.all_commands() if n not in SLOW)
ALL_OPTIONS = sorted({o for c in cli.all_commands().values() for o in options_of(c)})
GLOBAL_OPTIONS = ["-q", "-v", "--quiet", "--verbose", "-h", "--help", "--version"]
FILES = ["journal.json", "new.json", "bad.json", "garbage.bin", "cp.json", "office.pub", "missing.json", "-", "."]
CHOICES = ["json", "jsonl", "csv", "delivered", "pledged", "html", "md", "ja", "en"]

# Text a shell could pass: no NUL (argv cannot hold one), no "/" (so that no option writes
# outside the example's folder); undecodable bytes arrive as lone surrogates (surrogateescape).
argv_text = st.one_of(
    st.text(st.characters(blacklist_characters="\x00/", blacklist_categories=("Cs",)), max_size=16),
    st.binary(max_size=8).map(lambda b: b.decode("utf-8", "surrogateescape").replace("\x00", "").replace("/", "")),
    st.sampled_from(["\udcff", "npo-\udcfe", "\udcfd.json", "-\udcff"]),
)
dates = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat()),
    st.sampled_from(["2009-13-01", "2010-02-30", "yesterday", "2009-04-01T25:00", "0000-01-01", "9999-12-31"]),
)
numbers = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=4).map(str),
    st.sampled_from(["NaN", "-0", "1e999", "0x10", "2009", "1900", "2200", "0.05"]),
)


def op_texts(base_keys: list[str]) -> st.SearchStrategy[str]:
    """One journal operation as JSON text: plausible ones on the ledger's keys, or anything."""
    fields = st.dictionaries(
        st.sampled_from(["key", "partnership", "party", "contribution", "name", "sector", "on", "value", "id"]),
        st.one_of(st.sampled_from(base_keys), json_values(4)),
        max_size=5,
    )
    ops = st.sampled_from(["register_party", "deliver", "activate_partnership", "join_partnership", "nope"])
    return st.one_of(
        st.builds(lambda op, f: json.dumps({"op": op, **f}), ops, fields),
        json_values(6).map(json.dumps),
        argv_text,
    )


def mostly(usual: st.SearchStrategy[str], rare: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """``usual`` nine times in ten, else ``rare`` (one_of would weigh them alike)."""
    return st.integers(0, 9).flatmap(lambda n: rare if n == 0 else usual)


def values_for(param: click.Parameter, keys: list[str]) -> st.SearchStrategy[str]:
    """Values of the kind a parameter takes (a date for a date, a key for a key, ...), or not."""
    kind = param.type
    if isinstance(kind, click.Choice):
        fitting: st.SearchStrategy[str] = st.sampled_from([str(c) for c in kind.choices])
    elif isinstance(kind, (IsoDate, Timestamp)):
        fitting = dates
    elif isinstance(kind, (DecimalNumber, click.types.IntParamType, click.types.FloatParamType)):
        fitting = numbers
    elif isinstance(kind, LedgerKey):
        fitting = st.one_of(st.sampled_from(keys), st.just("no-such-key"))
    elif isinstance(kind, click.Path):
        fitting = st.sampled_from([*FILES, "out.json", "office", "site"])
    elif param.name == "operation":
        fitting = op_texts(keys)
    else:
        fitting = st.one_of(st.sampled_from(keys), argv_text)
    return mostly(fitting, argv_text)


@st.composite
def plausible_arguments(draw: st.DrawFn, command: click.Command, keys: list[str]) -> list[str]:
    """The command's arguments and some of its options, each with a value of its kind."""
    args: list[str] = []
    for param in command.params:
        if isinstance(param, click.Argument):
            if param.nargs == -1:
                args += draw(st.lists(values_for(param, keys), min_size=1, max_size=3))
            elif param.required or draw(st.booleans()):
                args.append(draw(values_for(param, keys)))
    options = [p for p in command.params if isinstance(p, click.Option) and p.name not in ("help",)]
    for param in draw(st.lists(st.sampled_from(options), max_size=3, unique_by=lambda p: p.name)) if options else []:
        args.append(draw(st.sampled_from(param.opts)))
        if not param.is_flag:
            args.append(draw(values_for(param, keys)))
    return args


@st.composite
def argument_lists(draw: st.DrawFn, keys: list[str]) -> list[str]:
    """A command line: mostly a real command with arguments of the right kinds, now and then
    with a token too many, too few or out of place; sometimes pure noise."""
    command = draw(mostly(st.sampled_from(COMMANDS), argv_text))
    known = cli.all_commands().get(command)
    own = options_of(known) if known is not None else []
    token = st.one_of(
        st.sampled_from(own or ALL_OPTIONS),
        st.sampled_from(ALL_OPTIONS),
        st.sampled_from(keys),
        st.just("no-such-key"),
        st.sampled_from(FILES),
        st.sampled_from(CHOICES),
        dates,
        numbers,
        op_texts(keys),
        argv_text,
    )
    global_options = draw(
        st.one_of(
            st.lists(st.sampled_from(["-q", "-v"]), max_size=1), st.lists(st.sampled_from(GLOBAL_OPTIONS), max_size=2)
        )
    )
    if known is not None and draw(st.integers(0, 3)) > 0:
        rest = draw(plausible_arguments(known, keys))
        for _ in range(draw(st.integers(0, 2))):  # a little noise
            if rest and draw(st.booleans()):
                del rest[draw(st.integers(0, len(rest) - 1))]
            else:
                rest.insert(draw(st.integers(0, len(rest))), draw(token))
    else:
        rest = draw(st.lists(token, max_size=7))
    args = [*global_options, command, *rest]
    if command == "follow":
        args.append("--once")
    return args


# -- the properties ----------------------------------------------------------------------------


def run(args: list[str], stdin: bytes) -> Result:
    env = {"PARTNERSHIP_LEDGER_DB": None, "PARTNERSHIP_LEDGER_DEBUG": None, "PARTNERSHIP_LEDGER_LOCK_TIMEOUT": "2"}
    return CliRunner().invoke(cli, ["--db", LEDGER, *args], input=stdin, env=env)


def assert_clean(result: Result, codes: set[int]) -> None:
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"unhandled {type(result.exception).__name__}: {result.exception}") from result.exception
    assert "Traceback" not in result.output
    # An "internal error" is a bug caught at the last moment: every refusal names its reason.
    assert "internal error" not in result.stderr, result.stderr
    assert result.exit_code in codes, result.output


@fuzz_settings
@given(data=st.data(), stdin=st.one_of(st.binary(max_size=64), st.just(b"[]")))
def test_random_arguments_never_crash(base: Ledger, data: st.DataObject, stdin: bytes) -> None:
    args = data.draw(argument_lists(base.keys), label="args")
    with copied(base) as work:
        result = run(args, stdin)
        assert_clean(result, {0, 1, 2})
        if result.exit_code != 0:
            allowed = {base.state}
            if "import" in args and "new.json" in args:
                allowed.add(base.state_with_new)
            assert state_of(work / LEDGER) in allowed, "a failed command changed the ledger"


@fuzz_settings
@given(data=journal_bytes(), options=st.lists(st.sampled_from(["--dry-run", "--json", "-v", "-q"]), unique=True))
def test_random_bytes_as_a_journal(base: Ledger, data: bytes, options: list[str]) -> None:
    global_options = [o for o in options if o in ("-v", "-q")][:1]
    command_options = [o for o in options if o.startswith("--")]
    with copied(base) as work:
        Path("random.json").write_bytes(data)
        result = run([*global_options, "import", *command_options, "random.json"], b"")
        assert_clean(result, {0, 1})
        if result.exit_code == 1:
            assert result.stderr.strip(), "a refusal says why"
            assert state_of(work / LEDGER) == base.state
        if "--dry-run" in command_options:
            assert state_of(work / LEDGER) == base.state


@fuzz_settings
@given(data=journal_bytes())
def test_random_bytes_on_stdin(base: Ledger, data: bytes) -> None:
    with copied(base) as work:
        for args in (["record", "-"], ["import", "-"]):
            before = state_of(work / LEDGER)
            result = run(args, data)
            assert_clean(result, {0, 1})
            if result.exit_code == 1:
                assert state_of(work / LEDGER) == before


def test_the_fuzzer_reaches_every_command(base: Ledger) -> None:
    """A guard on the fuzzer itself: its commands are the CLI's, and each runs cleanly."""
    assert set(COMMANDS) | SLOW == set(cli.all_commands())
    with copied(base):
        for name in COMMANDS:
            result = run([name, *(["--once"] if name == "follow" else [])], b"")
            assert_clean(result, {0, 1, 2})


def test_a_refused_record_or_import_changes_nothing(base: Ledger) -> None:
    """The property's own check can fail: a recorded operation does change the state."""
    with copied(base) as work:
        result = run(["import", "new.json"], b"")
        assert result.exit_code == 0
        assert state_of(work / LEDGER) == base.state_with_new != base.state
        refused = run(["import", "bad.json"], b"")
        assert refused.exit_code == 1
        assert state_of(work / LEDGER) == base.state_with_new
