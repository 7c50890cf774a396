"""Encryption at rest: AES-256-GCM over every stored event's state.

Set ``PARTNERSHIP_LEDGER_CIPHER_KEY`` to a key from :func:`generate_cipher_key` and every
event the ledger stores is encrypted; keep the key, or the events cannot be read again.
docs/privacy.md says exactly what is and is not encrypted (the read models are then kept in
memory; positions, ids, topics, the chain and the indexes stay in the clear: the chain hashes
the ciphertext, so ``verify --chain-only`` works without the key).
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from eventsourcing.persistence import Cipher

from ..errors import StorageError

ENV_CIPHER_KEY = "PARTNERSHIP_LEDGER_CIPHER_KEY"
CIPHER_TOPIC = "partnership_ledger.storage.cipher:LedgerAESCipher"
KEY_BYTES = 32


class LedgerAESCipher(Cipher):
    """AES-GCM (``cryptography``'s) with a 96-bit random nonce, stored as nonce (12 bytes), tag
    (16) and ciphertext: exactly what eventsourcing's ``AESCipher`` (pycryptodome) writes and
    reads, some fifty times quicker for events this small."""

    CIPHER_KEY = "CIPHER_KEY"
    KEY_SIZES = (16, 24, 32)

    def __init__(self, environment: Any) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        try:
            key = base64.b64decode(environment.get(self.CIPHER_KEY, "").encode("utf8"), validate=True)
        except (ValueError, UnicodeError):
            raise ValueError("the cipher key is not base64") from None
        if len(key) not in self.KEY_SIZES:
            raise ValueError(f"Invalid key size: {len(key)} not in {self.KEY_SIZES}")
        self._aead = AESGCM(key)

    def encrypt(self, plaintext: bytes) -> bytes:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext, None)  # ciphertext, then the tag
        return nonce + sealed[-16:] + sealed[:-16]

    def decrypt(self, ciphertext: bytes) -> bytes:
        from cryptography.exceptions import InvalidTag

        if len(ciphertext) < 28:
            raise ValueError("Damaged cipher text: too short")
        nonce, tag, encrypted = ciphertext[:12], ciphertext[12:28], ciphertext[28:]
        try:
            plaintext: bytes = self._aead.decrypt(nonce, encrypted + tag, None)
        except InvalidTag:
            raise ValueError("Cipher text is damaged: MAC check failed") from None
        return plaintext


def generate_cipher_key() -> str:
    """A new random AES-256 key (base64 text) for ``PARTNERSHIP_LEDGER_CIPHER_KEY``."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii")


def cipher_key() -> str | None:
    """The key in the environment, if encryption at rest is wanted."""
    return os.environ.get(ENV_CIPHER_KEY) or None


def cipher_env() -> dict[str, str]:
    """eventsourcing's environment for the cipher (empty when no key is set)."""
    key = cipher_key()
    if key is None:
        return {}
    _cipher(key)  # a clear error now rather than eventsourcing's later
    return {"CIPHER_TOPIC": CIPHER_TOPIC, "CIPHER_KEY": key}


def _cipher(key: str) -> LedgerAESCipher:
    try:
        return LedgerAESCipher({"CIPHER_KEY": key})
    except ValueError:
        raise StorageError(
            f"{ENV_CIPHER_KEY} is not a key made by generate_cipher_key() (32 bytes in base64)"
        ) from None


def is_plain(state: bytes) -> bool:
    """Whether a stored event's state is plain JSON (not encrypted)."""
    try:
        return isinstance(json.loads(state), dict)
    except (ValueError, UnicodeDecodeError):
        return False


def check_cipher(path: str | os.PathLike[str], key: str | None = None) -> None:
    """Refuse, in one sentence, to open a ledger whose first stored event the key (or no key)
    cannot decode: encrypted and no key set, a key that does not decrypt it, or a key set for a
    ledger that is not encrypted."""
    p = Path(path)
    if not p.is_file() or p.stat().st_size == 0:
        return
    from .sqlite import read_only_uri

    try:
        with closing(sqlite3.connect(read_only_uri(p), uri=True)) as con:
            # The first chained event (positions start at 1; a row before it is tampering).
            row = con.execute("SELECT state FROM stored_events WHERE rowid > 0 ORDER BY rowid LIMIT 1").fetchone()
    except sqlite3.Error:
        return  # no events table yet, or a damaged file that opening will report
    if row is None or row[0] is None:
        return
    state = bytes(row[0]) if not isinstance(row[0], str) else row[0].encode("utf-8")
    plain = is_plain(state)
    if key is None:
        if not plain:
            raise StorageError(f"the ledger is encrypted: set {ENV_CIPHER_KEY} to its key")
        return
    try:
        _cipher(key).decrypt(state)  # GCM's tag: what decrypts is what was encrypted
    except ValueError:
        if plain:
            raise StorageError(
                f"the ledger is not encrypted, but {ENV_CIPHER_KEY} is set: unset it to open this ledger"
            ) from None
        raise StorageError(
            f"the ledger is encrypted and {ENV_CIPHER_KEY} is set, but the key does not decrypt it"
        ) from None
