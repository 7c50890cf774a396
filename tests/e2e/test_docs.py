"""The documentation's examples are run, so that what the docs say stays true.

Conventions for README.md and docs/*.md (also described in docs/index.md):

- Every fenced ```python block runs; the blocks of one file run in order, in one namespace,
  in a fresh temporary working folder. An info string with ``no-run`` (```python no-run)
  skips a block of any language.
- Every ```json block holding a JSON array of operations, and every ```jsonl block, is a
  journal: it is imported into a fresh ledger and must be recorded without error.
- In docs/journal.md every ```json block holding one operation is validated, and the
  reference tables must match the operations the parser knows (``journal.OPS``).
- ```console blocks are not run. When the click CLI exists, the ``partnership-ledger``
  commands they show must be commands of it.
- Relative links, and their #anchors, must lead somewhere.
"""

from __future__ import annotations

import inspect
import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from partnership_ledger import PartnershipLedger, errors
from partnership_ledger.journal import COMMON, OPS, parse_operations

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def doc_files() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # line of the first line of code (1-based)
    lang: str
    flags: frozenset[str]
    text: str

    @property
    def where(self) -> str:
        return f"{rel(self.path)}:{self.line}"


FENCE = re.compile(r"^(```+|~~~+)\s*([^`]*)$")


def blocks(path: Path, text: str | None = None) -> list[Block]:
    """The fenced code blocks of a Markdown file (or of ``text``, a part of it)."""
    found: list[Block] = []
    lines = (path.read_text(encoding="utf-8") if text is None else text).splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, info = m.group(1), m.group(2).split()
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not lines[j].startswith(fence):
            body.append(lines[j])
            j += 1
        assert j < len(lines), f"{rel(path)}:{i + 1}: code block is never closed"
        lang = info[0] if info else ""
        found.append(Block(path, i + 2, lang, frozenset(info[1:]), "\n".join(body) + "\n"))
        i = j + 1
    return found


def section(path: Path, heading: str) -> str:
    """The text under a ``## heading`` of a Markdown file, up to the next ``## ``."""
    text = path.read_text(encoding="utf-8")
    assert f"\n{heading}\n" in text, f"{rel(path)} has no {heading!r}"
    return text.split(f"\n{heading}\n", 1)[1].split("\n## ", 1)[0]


def runnable(lang: str) -> list[Block]:
    return [b for p in doc_files() for b in blocks(p) if b.lang == lang and "no-run" not in b.flags]


def is_journal(block: Block) -> bool:
    if block.lang == "jsonl":
        return True
    if block.lang != "json":
        return False
    value = json.loads(block.text)
    return isinstance(value, list) and bool(value) and all(isinstance(o, dict) and "op" in o for o in value)


# -- python examples ----------------------------------------------------------------------


def files_with_python() -> list[Path]:
    return sorted({b.path for b in runnable("python")})


@pytest.mark.parametrize("path", files_with_python(), ids=rel)
def test_python_examples_run(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PARTNERSHIP_LEDGER_DB", raising=False)
    namespace: dict[str, Any] = {"__name__": "__doc_example__"}
    for block in (b for b in runnable("python") if b.path == path):
        # Padding with newlines makes tracebacks point at the line in the Markdown file.
        code = compile("\n" * (block.line - 1) + block.text, str(block.path), "exec")
        exec(code, namespace)


def test_the_docs_have_python_examples() -> None:
    # README, concepts and the embedding guide are meant to be executable.
    paths = {rel(p) for p in files_with_python()}
    assert {"README.md", "docs/concepts.md", "docs/embedding.md", "docs/journal.md"} <= paths


# -- journal examples ---------------------------------------------------------------------


def journal_blocks() -> list[Block]:
    return [b for lang in ("json", "jsonl") for b in runnable(lang) if is_journal(b)]


@pytest.mark.parametrize("block", journal_blocks(), ids=lambda b: b.where)
def test_journal_examples_import(block: Block, tmp_path: Path) -> None:
    with PartnershipLedger.open(tmp_path / "ledger.sqlite") as ledger:
        result = ledger.import_journal(block.text, source=block.where)
        assert result.applied == result.operations > 0
        # Idempotent: importing the example again records nothing new.
        assert ledger.import_journal(block.text).applied == 0


def test_every_json_block_is_json() -> None:
    for block in runnable("json"):
        try:
            json.loads(block.text)
        except json.JSONDecodeError as e:  # pragma: no cover - the failure message
            pytest.fail(f"{block.where}: not valid JSON: {e}")


# -- the journal reference ----------------------------------------------------------------

JOURNAL_MD = DOCS / "journal.md"
OP_HEADING = re.compile(r"^#+ `([a-z_]+)`\s*$")
ROW = re.compile(r"^\|\s*`([a-z_]+)`\s*\|[^|]*\|\s*(yes|no)\s*\|")


def documented_ops() -> dict[str, dict[str, bool]]:
    """op -> {field: required} as the tables of docs/journal.md give them."""
    ops: dict[str, dict[str, bool]] = {}
    current: str | None = None
    for line in JOURNAL_MD.read_text(encoding="utf-8").splitlines():
        heading = OP_HEADING.match(line)
        if heading:
            current = heading.group(1)
            assert current not in ops, f"{current} is documented twice"
            ops[current] = {}
        elif line.startswith("#"):
            current = None
        elif current is not None:
            row = ROW.match(line)
            if row:
                ops[current][row.group(1)] = row.group(2) == "yes"
    return ops


def test_journal_reference_documents_every_operation_and_field() -> None:
    documented = documented_ops()
    assert list(documented) == list(OPS), "the reference should follow journal.OPS's order"
    for op, spec in OPS.items():
        expected = {name: required for name, (_, required) in spec.items()}
        assert documented[op] == expected, f"fields of {op} in docs/journal.md"


def test_journal_reference_documents_the_common_fields() -> None:
    common = section(JOURNAL_MD, "## Common fields")
    rows = set(re.findall(r"^\|\s*`([a-z_]+)`\s*\|", common, flags=re.M))
    assert rows == COMMON


def reference_examples() -> list[Block]:
    return [
        b
        for b in blocks(JOURNAL_MD)
        if b.lang == "json" and "no-run" not in b.flags and isinstance(json.loads(b.text), dict)
    ]


def test_each_operation_has_a_valid_example() -> None:
    examples = reference_examples()
    ops = parse_operations([json.loads(b.text) for b in examples], source="docs/journal.md")
    assert sorted(o.op for o in ops) == sorted(OPS)


def test_the_complete_example_uses_every_operation() -> None:
    journals = [b for b in journal_blocks() if b.path == JOURNAL_MD and b.lang == "json"]
    used = {o["op"] for b in journals for o in json.loads(b.text)}
    assert used == set(OPS)


# -- errors in the embedding guide ---------------------------------------------------------


def test_every_error_kind_is_documented() -> None:
    text = (DOCS / "embedding.md").read_text(encoding="utf-8")
    kinds = {cls.kind for _, cls in inspect.getmembers(errors, inspect.isclass) if issubclass(cls, errors.LedgerError)}
    missing = sorted(k for k in kinds if f"`{k}`" not in text)
    assert not missing, f"error kinds missing from docs/embedding.md: {missing}"


# -- README quick start ----------------------------------------------------------------------


def quick_start_commands() -> list[str]:
    readme = ROOT / "README.md"
    return [
        line
        for block in blocks(readme, section(readme, "## Quick start"))
        if block.lang == "console"
        for line in block.text.splitlines()
        if line.strip()
    ]


def test_readme_quick_start_is_two_command_lines() -> None:
    setup, tests = quick_start_commands()
    assert setup.startswith("python3 -m venv .venv")
    assert "pip install -e '.[dev]'" in setup
    assert setup.endswith("partnership-ledger demo")
    assert tests == ". .venv/bin/activate && python -m pytest"


def test_ci_runs_the_readme_test_command() -> None:
    ci = ROOT / ".ci" / "run"
    if not ci.exists():
        pytest.skip(".ci/run does not exist yet")
    assert "python -m pytest" in ci.read_text(encoding="utf-8")


# -- console examples and the CLI -------------------------------------------------------------


def cli_command_names() -> set[str] | None:
    """The commands of the click CLI, or None while there is no click group yet."""
    click = pytest.importorskip("click")
    try:
        from partnership_ledger_cli import main as cli_main
    except ImportError:
        return None
    groups = [v for v in vars(cli_main).values() if isinstance(v, click.Group)]
    if not groups:
        return None
    return set(groups[0].list_commands(click.Context(groups[0])))


def documented_cli_commands() -> list[tuple[str, str]]:
    found = []
    for path in doc_files():
        for block in blocks(path):
            if block.lang not in ("console", "sh", "shell", "bash"):
                continue
            for line in block.text.splitlines():
                for part in re.split(r"&&|\|\||;|\|", line.lstrip("$ ")):
                    words = shlex.split(part, comments=True)
                    if len(words) >= 2 and words[0] == "partnership-ledger":
                        command = first_command(words[1:])
                        if command is not None:
                            found.append((f"{rel(path)}:{block.line}", command))
    return found


def first_command(words: list[str]) -> str | None:
    """The command among ``partnership-ledger``'s arguments, past the global options."""
    rest = iter(words)
    for word in rest:
        if word == "--db":
            next(rest, None)  # the option's value
        elif not word.startswith("-"):
            return word
    return None


def test_console_examples_name_real_commands() -> None:
    names = cli_command_names()
    if names is None:
        pytest.skip("the click CLI does not exist yet")
    unknown = [(w, c) for w, c in documented_cli_commands() if c not in names]
    assert not unknown, f"commands that the CLI does not have: {unknown}"


# -- links ---------------------------------------------------------------------------------

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
    return {slug(m) for m in re.findall(r"^#+\s+(.*)$", text, flags=re.M)}


def test_relative_links_lead_somewhere() -> None:
    broken = []
    for path in doc_files():
        text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.M | re.S)
        for target in LINK.findall(text):
            if re.match(r"^[a-z]+:", target):
                continue  # an external link
            file_part, _, anchor = target.partition("#")
            dest = (path.parent / file_part).resolve() if file_part else path
            if not dest.exists():
                broken.append(f"{rel(path)}: {target} (no such file)")
            elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
                broken.append(f"{rel(path)}: {target} (no such heading)")
    assert not broken, "\n".join(broken)


def test_the_code_tour_names_code_that_exists() -> None:
    """docs/code.md follows an operation through named modules and functions: each name it
    gives in backticks (``Recorder.record_batch``, ``canonical_record``, ``ledger_ops``…) must
    still be defined or used in the library or the CLI, so that the tour cannot go stale."""
    text = re.sub(r"^```.*?^```", "", (DOCS / "code.md").read_text(encoding="utf-8"), flags=re.M | re.S)
    names = {m for m in re.findall(r"`([A-Za-z_][\w.]*)`", text) if not m.endswith(".py")}
    source = "\n".join(
        p.read_text(encoding="utf-8")
        for folder in (ROOT / "partnership_ledger", ROOT / "cli" / "partnership_ledger_cli")
        for p in folder.rglob("*.py")
    )
    missing = sorted(n for n in names if not all(re.search(rf"\b{re.escape(part)}\b", source) for part in n.split(".")))
    assert len(names) > 20
    assert not missing, f"docs/code.md names what the code no longer has: {missing}"
