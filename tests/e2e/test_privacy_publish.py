"""`publish` and `verify --public` (issue 19): the public ledger a journalist can check with
nothing but the folder and the publisher's public key."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from cli_invoke import invoke
from click.testing import Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import indicator_journals

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.demo import demo_journal_bytes
from partnership_ledger.integrity import generate_keypair
from partnership_ledger.privacy import commit
from partnership_ledger.privacy.public import publish, verify_public

RESIDENT = "r-zq4417"
COMMENT = "バス停の横断歩道が危ない: the crossing at the bus stop 4417 is unsafe"
PUBLIC_COMMENT = "子ども食堂の場所が分かりやすくなった 4417"


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(the published folder, the publisher's public key, another key) made by the CLI."""
    root = tmp_path_factory.mktemp("published")
    db = root / "ledger.sqlite"
    with PartnershipLedger.open(db) as ledger:
        ledger.import_journal(demo_journal_bytes())
        ledger.open_evaluation("e-pub", "th-lsp", "2011")
        ledger.submit_evaluation("e-pub", RESIDENT, "resident", {"overall": 2}, "2011-09-01", comment=COMMENT)
        ledger.submit_evaluation(
            "e-pub", "r-pub1", "resident", {"overall": 4}, "2011-09-02", comment=PUBLIC_COMMENT, comment_public=True
        )
    assert invoke(["keygen", "-o", str(root / "office")]).exit_code == 0
    assert invoke(["keygen", "-o", str(root / "other")]).exit_code == 0
    folder = root / "public"
    result = invoke(["--db", str(db), "publish", "-o", str(folder), "--key", str(root / "office.key")])
    assert result.exit_code == 0, result.output
    return folder, root / "office.pub", root / "other.pub"


def copy_of(folder: Path, tmp_path: Path) -> Path:
    out = tmp_path / "copy"
    shutil.copytree(folder, out)
    return out


def check(folder: Path, key: Path) -> Result:
    return invoke(["verify", "--public", str(folder), "--public-key", str(key)])


def test_an_untouched_public_ledger_verifies(published: tuple[Path, Path, Path]) -> None:
    folder, key, _ = published
    result = check(folder, key)
    assert result.exit_code == 0, result.output
    assert "intact" in result.stdout
    assert (folder / "site" / "index.html").is_file()
    figures = json.loads((folder / "figures.json").read_text(encoding="utf-8"))
    assert "th-lsp" in figures
    assert figures["th-lsp"]["evaluations"]  # the evaluation means are among the figures
    as_json = invoke(["verify", "--public", str(folder), "--json"])
    assert json.loads(as_json.stdout)["ok"] is True


def _rewrite(folder: Path, change: str) -> None:
    path = folder / "events.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    n = len(lines) // 2
    if change == "edit":
        record = json.loads(lines[n])
        record["state"] = record["state"].replace('"', '"', 1) + " "
        lines[n] = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
    elif change == "edit_value":  # one letter of a party's name
        record = json.loads(lines[0])
        i = record["state"].index('"name":"') + 8
        record["state"] = record["state"][:i] + "X" + record["state"][i + 1 :]
        lines[0] = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
    elif change == "delete":
        del lines[n]
    elif change == "delete_last":
        del lines[-1]
    elif change == "insert":
        lines.insert(n, lines[n])
    elif change == "reorder":
        lines[n], lines[n + 1] = lines[n + 1], lines[n]
    path.write_text("".join(lines), encoding="utf-8")


@pytest.mark.parametrize("change", ["edit", "edit_value", "delete", "delete_last", "insert", "reorder"])
def test_any_change_to_a_published_event_fails(published: tuple[Path, Path, Path], tmp_path: Path, change: str) -> None:
    folder, key, _ = published
    copy = copy_of(folder, tmp_path)
    _rewrite(copy, change)
    result = check(copy, key)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: tampering found:")


def test_a_recomputed_chain_with_a_changed_event_fails_against_the_checkpoint(
    published: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """Someone who edits an event and recomputes every later link still cannot match the
    signed checkpoint."""
    from partnership_ledger.integrity import GENESIS, link_hash

    folder, key, _ = published
    copy = copy_of(folder, tmp_path)
    path = copy / "events.jsonl"
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    records[10]["state"] = records[10]["state"].replace("JPY", "USD")
    prev = GENESIS
    for r in records:
        h = link_hash(prev, r["position"], r["originator_id"], r["originator_version"], r["topic"], r["state"].encode())
        r["hash"], prev = h.hex(), h
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    result = check(copy, key)
    assert result.exit_code == 1
    assert "checkpoint" in result.stderr


def test_a_changed_figure_fails(published: tuple[Path, Path, Path], tmp_path: Path) -> None:
    folder, key, _ = published
    copy = copy_of(folder, tmp_path)
    figures = json.loads((copy / "figures.json").read_text(encoding="utf-8"))
    evaluations = figures["th-lsp"]["evaluations"]
    text = json.dumps(evaluations)
    changed = text.replace('"3', '"4', 1) if '"3' in text else text.replace('"2', '"5', 1)
    assert changed != text
    figures["th-lsp"]["evaluations"] = json.loads(changed)
    (copy / "figures.json").write_text(json.dumps(figures, ensure_ascii=False), encoding="utf-8")
    result = check(copy, key)
    assert result.exit_code == 1
    assert "figures.json:/th-lsp/evaluations" in result.stderr


def test_a_changed_figure_in_the_site_data_fails(published: tuple[Path, Path, Path], tmp_path: Path) -> None:
    folder, key, _ = published
    copy = copy_of(folder, tmp_path)
    page = copy / "site" / "data" / "puppet-tour.json"
    text = page.read_text(encoding="utf-8")
    data = json.loads(text)
    data["balance"] = json.loads(json.dumps(data["balance"]).replace('"0.', '"0.9', 1))
    assert data != json.loads(text)
    page.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    result = check(copy, key)
    assert result.exit_code == 1
    assert "site/data/puppet-tour.json:/balance" in result.stderr
    page.unlink()  # a page left out is found too
    assert "site/data/puppet-tour.json" in check(copy, key).stderr


def test_a_changed_figure_on_an_html_page_fails(published: tuple[Path, Path, Path], tmp_path: Path) -> None:
    """The pages are checked too, not only their data files: a figure changed on a page (in
    either language), a page added or a page removed is found."""
    import re

    folder, key, _ = published
    assert "each of its" in check(folder, key).stdout  # the pages are vouched for
    copy = copy_of(folder, tmp_path)
    page = copy / "site" / "ja" / "puppet-tour.html"
    text = page.read_text(encoding="utf-8")
    figure = re.search(r">\s*([0-9][0-9,]*[0-9])\s*<", text)
    assert figure is not None
    changed = text[: figure.start(1)] + "9" + text[figure.start(1) :]
    page.write_text(changed, encoding="utf-8")
    result = check(copy, key)
    assert result.exit_code == 1
    assert "site/ja/puppet-tour.html" in result.stderr
    page.write_text(text, encoding="utf-8")
    assert check(copy, key).exit_code == 0
    (copy / "site" / "en" / "extra.html").write_text("<p>1,000,000 yen</p>", encoding="utf-8")
    assert "site/en/extra.html is added or missing" in check(copy, key).stderr


def test_a_checkpoint_signed_by_another_key_fails(published: tuple[Path, Path, Path], tmp_path: Path) -> None:
    folder, _, other = published
    assert check(folder, other).exit_code == 1
    # Re-signed with a key of the forger's own: it carries that key, but the trusted one refuses it.
    copy = copy_of(folder, tmp_path)
    private, _ = generate_keypair()
    key = tmp_path / "forger.key"
    key.write_bytes(private)
    cp = json.loads((copy / "checkpoint.json").read_text())
    from partnership_ledger.integrity.checkpoint import checkpoint_of, load_signing_key

    cp = checkpoint_of(cp["size"], cp["position"], cp["root"], load_signing_key(private))
    (copy / "checkpoint.json").write_text(json.dumps(cp))
    assert invoke(["verify", "--public", str(copy)]).exit_code == 0  # only its own key vouches for it
    assert check(copy, published[1]).exit_code == 1


def _all_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def test_the_published_folder_holds_no_private_value(published: tuple[Path, Path, Path]) -> None:
    folder, _, _ = published
    data = _all_bytes(folder)
    demo = json.loads(demo_journal_bytes())
    private = {RESIDENT, COMMENT, "r-pub1"} | {
        op["evaluator"] for op in demo if op["op"] == "submit_evaluation" and op["role"] == "resident"
    }
    private |= {
        op["comment"]
        for op in demo
        if op["op"] == "submit_evaluation" and op.get("comment") and not op.get("comment_public")
    }
    found = [t for t in private if any(f in data for f in (t.encode(), t.encode("utf-16-le"), t.encode("utf-16-be")))]
    assert found == []
    # What the resident made public is published (the scan finds what is there).
    assert PUBLIC_COMMENT.encode() in data


def test_a_private_comment_cannot_be_confirmed_by_guessing_it(published: tuple[Path, Path, Path]) -> None:
    folder, _, _ = published
    data = _all_bytes(folder).decode("utf-8", "replace")
    for guess in (COMMENT, COMMENT.strip(), COMMENT + "\n"):
        raw = guess.encode()
        for digest in (
            hashlib.sha256(raw).hexdigest(),
            hashlib.sha512(raw).hexdigest(),
            hashlib.md5(raw).hexdigest(),
            commit(guess, b"")[len("sha256:") :],
            commit(guess, bytes(16))[len("sha256:") :],
        ):
            assert digest not in data


def test_verify_public_json_follows_the_verify_schema(published: tuple[Path, Path, Path], tmp_path: Path) -> None:
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    schemas = Path(__file__).resolve().parents[2] / "docs" / "schemas"
    loaded = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in schemas.glob("*.json")}
    registry: Registry[object] = Registry().with_resources(
        (n, Resource.from_contents(s, default_specification=DRAFT202012)) for n, s in loaded.items()
    )
    validator = Draft202012Validator(loaded["verify.json"], registry=registry)
    folder, key, _ = published
    good = invoke(["verify", "--public", str(folder), "--public-key", str(key), "--json"])
    copy = copy_of(folder, tmp_path)
    _rewrite(copy, "delete")
    bad = invoke(["verify", "--public", str(copy), "--public-key", str(key), "--json"])
    assert (good.exit_code, bad.exit_code) == (0, 1)
    for result in (good, bad):
        data = json.loads(result.stdout)
        assert list(validator.iter_errors(data)) == []
    assert json.loads(bad.stdout)["problem"] in ("missing", "changed")


def test_verify_public_needs_a_published_folder(tmp_path: Path) -> None:
    result = invoke(["verify", "--public", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stderr.startswith("error:")
    assert "not a published ledger" in result.stderr


RESIDENTS = st.lists(st.integers(0, 30), max_size=6, unique=True)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(journal=indicator_journals(max_actions=40), picks=RESIDENTS)
def test_erasures_change_no_public_figure(tmp_path: Path, journal: list[dict[str, object]], picks: list[int]) -> None:
    """For random ledgers and random erasures: every public figure is the same before and
    after, and verify --public recomputes them exactly."""
    folder = Path(tmp_path) / f"x{abs(hash((len(journal), tuple(picks))))}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    residents = sorted(
        {str(op["evaluator"]) for op in journal if op["op"] == "submit_evaluation" and op["role"] == "resident"}
    )
    with PartnershipLedger.open(folder / "l.sqlite") as ledger:
        ledger.import_journal(json.dumps(journal, ensure_ascii=False))
        before = publish(ledger, folder / "before", site=False)
        for i in picks:
            if residents and i < len(residents):
                ledger.erase_subject(residents[i], "asked", "2030-01-01")
        publish(ledger, folder / "after", site=False)
    assert (folder / "before" / "figures.json").read_bytes() == (folder / "after" / "figures.json").read_bytes()
    for name in ("before", "after"):
        result = verify_public(folder / name)
        assert result.ok, result.message
    assert before["events"] <= json.loads((folder / "after" / "manifest.json").read_text())["events"]
    shutil.rmtree(folder, ignore_errors=True)
