"""Encryption at rest that means it (issue 19): with a cipher key set, the file holds no party
name, title, amount or private comment in clear text: events are encrypted, the read models
are kept in memory, private values are sealed; the chain still verifies without the key."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from partnership_ledger_cli.main import cli

from partnership_ledger import integrity
from partnership_ledger.application import PartnershipLedger
from partnership_ledger.storage.cipher import ENV_CIPHER_KEY, generate_cipher_key

NAMES = ["特定非営利活動法人 みどりの風 7731", "Riverside Tenants Cooperative 7731"]
TITLE = "河川敷の清掃と見守りの協働 7731"
AMOUNTS = ["98765432101", "12345678907"]
COMMENT = "夜道が暗くて怖い、街灯を増やしてほしい 7731"


def journal() -> list[dict[str, Any]]:
    return [
        {"op": "register_party", "key": "p-a", "name": NAMES[0], "sector": "npo"},
        {"op": "register_party", "key": "p-b", "name": NAMES[1], "sector": "resident_group"},
        {"op": "propose_partnership", "key": "pp", "title": TITLE, "purpose": "x", "proposed_by": "p-a",
         "members": ["p-a", "p-b"], "on": "2020-04-01"},
        {"op": "activate_partnership", "partnership": "pp", "on": "2020-05-01"},
        {"op": "pledge", "key": "c-1", "partnership": "pp", "party": "p-a", "kind": "money",
         "value": {"amount": AMOUNTS[0], "currency": "JPY"}, "fiscal_year": 2020},
        {"op": "deliver", "contribution": "c-1", "value": {"amount": AMOUNTS[1], "currency": "JPY"},
         "on": "2020-06-01"},
        {"op": "open_evaluation", "key": "ev", "partnership": "pp", "period": "2020"},
        {"op": "submit_evaluation", "evaluation": "ev", "evaluator": "r-1", "role": "resident",
         "scores": {"overall": 4}, "comment": COMMENT, "on": "2021-03-01"},
    ]  # fmt: skip


SECRETS = [*NAMES, TITLE, *AMOUNTS, COMMENT]


def in_clear(folder: Path) -> list[str]:
    data = b"".join(p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file())
    return [s for s in SECRETS if any(f in data for f in (s.encode(), s.encode("utf-16-le"), s.encode("utf-16-be")))]


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> str:
    value = generate_cipher_key()
    monkeypatch.setenv(ENV_CIPHER_KEY, value)
    return value


def test_the_cipher_reads_and_writes_what_eventsourcing_s_aes_cipher_does() -> None:
    """Ledgers encrypted before (eventsourcing's AESCipher, pycryptodome) open as they are."""
    from partnership_ledger.storage.cipher import LedgerAESCipher

    aes = pytest.importorskip("eventsourcing.cipher", reason="the crypto extra (pycryptodome)").AESCipher
    key = generate_cipher_key()
    old, new = aes({"CIPHER_KEY": key}), LedgerAESCipher({"CIPHER_KEY": key})
    for text in (b"", b"{}", "協働".encode() * 100):
        assert new.decrypt(old.encrypt(text)) == text
        assert old.decrypt(new.encrypt(text)) == text
    damaged = bytearray(new.encrypt(b"payload"))
    damaged[-1] ^= 1
    with pytest.raises(ValueError, match="damaged"):
        new.decrypt(bytes(damaged))


def test_without_a_key_the_scan_finds_everything(tmp_path: Path) -> None:
    with PartnershipLedger.open(tmp_path / "l.sqlite") as ledger:
        ledger.import_journal(json.dumps(journal(), ensure_ascii=False))
    assert sorted(in_clear(tmp_path)) == sorted(s for s in SECRETS if s != COMMENT)  # the comment is sealed


def test_with_a_key_nothing_sensitive_is_in_clear_text(
    tmp_path: Path, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "l.sqlite"
    with PartnershipLedger.open(path) as ledger:
        ledger.import_journal(json.dumps(journal(), ensure_ascii=False))
        balance = ledger.burden_balance("pp")
        assert ledger.show("ev")["submissions"][0]["comment"] == COMMENT
        assert in_clear(tmp_path) == []  # the WAL too, while the ledger is open
    assert in_clear(tmp_path) == []
    names = {r[0] for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert not {n for n in names if n.startswith("rm_")}
    # Opened again (to read only, too), the read models are rebuilt in memory: same answers.
    with PartnershipLedger.open(path) as ledger:
        assert ledger.burden_balance("pp") == balance
        assert [p["name"] for p in ledger.parties()] == NAMES
    with PartnershipLedger.open(path, readonly=True) as ledger:
        assert ledger.burden_balance("pp") == balance
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", str(path), "verify"]).exit_code == 0
    # Without the key: the chain verifies (it hashes the ciphertext); nothing else opens.
    monkeypatch.delenv(ENV_CIPHER_KEY)
    result = runner.invoke(cli, ["--db", str(path), "verify", "--chain-only"])
    assert result.exit_code == 0, result.output
    assert "intact" in result.stdout
    refused = runner.invoke(cli, ["--db", str(path), "parties"])
    assert refused.exit_code == 1
    assert "encrypted" in refused.stderr
    assert in_clear(tmp_path) == []


def test_an_encrypted_ledger_made_before_loses_its_read_models_from_the_file(
    tmp_path: Path, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from partnership_ledger.storage import setup

    path = tmp_path / "l.sqlite"
    with monkeypatch.context() as m:
        m.setattr(setup, "memory_read_models", dict)  # as before: read models in the file
        with PartnershipLedger.open(path) as ledger:
            ledger.import_journal(json.dumps(journal(), ensure_ascii=False))
        assert in_clear(tmp_path)  # names and amounts in its read models
    with PartnershipLedger.open(path) as ledger:
        assert [p["name"] for p in ledger.parties()] == NAMES
        assert integrity.verify_chain(ledger.db).ok
    assert in_clear(tmp_path) == []


def test_an_encrypted_ledger_publishes_a_public_ledger_anyone_can_check(
    tmp_path: Path, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from partnership_ledger.privacy.public import publish, verify_public

    private, public = integrity.generate_keypair()
    with PartnershipLedger.open(tmp_path / "l.sqlite") as ledger:
        ledger.import_journal(json.dumps(journal(), ensure_ascii=False))
        manifest = publish(ledger, tmp_path / "public", private, site=False)
    assert manifest["chain"] == "public"  # the ledger's own chain hashes ciphertext
    monkeypatch.delenv(ENV_CIPHER_KEY)
    result = verify_public(tmp_path / "public", public)
    assert result.ok, result.message
    data = b"".join(p.read_bytes() for p in (tmp_path / "public").iterdir())
    assert NAMES[0].encode() in data  # public: the parties' names
    assert COMMENT.encode() not in data  # private: never published
