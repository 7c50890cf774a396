"""The ``--key`` and ``--public-key`` options of the commands that sign or check a checkpoint.

``checkpoint`` and ``publish`` sign with ``--key``; ``verify`` checks with ``--public-key``.
Each option gives its command a path; :func:`read_key` reads it when the command needs it
(after its usage checks), refusing an unreadable file with one sentence.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from partnership_ledger.errors import InvalidArgument

F = TypeVar("F", bound=Callable[..., Any])

_KEY_FILE = click.Path(path_type=Path, dir_okay=False)


def signing_key_option(help: str) -> Callable[[F], F]:
    """``--key FILE``: an Ed25519 private key (PEM, from 'keygen'), as ``key_file``."""
    return click.option("--key", "key_file", type=_KEY_FILE, help=help)


def public_key_option(help: str) -> Callable[[F], F]:
    """``--public-key FILE``: a trusted Ed25519 public key (PEM), as ``public_key``."""
    return click.option("--public-key", "public_key", type=_KEY_FILE, help=help)


def read_key(path: Path | None, what: str = "signing key") -> bytes | None:
    """The bytes of the key file at ``path`` (None without one)."""
    if path is None:
        return None
    return read_file(path, what)


def read_file(path: Path, what: str) -> bytes:
    """The bytes of the file at ``path``; ``what`` names it in the sentence if it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as e:
        raise InvalidArgument(f"cannot read the {what} {path}: {e.strerror}") from None
