"""Residents' privacy in an immutable ledger, and the public ledger anyone can verify.

* :mod:`.registry`: which fields are private, and the salted commitments the chain holds.
* :mod:`.vault`: the per-subject keys and sealed values (crypto-shredding by ``erase_subject``).
* :mod:`.public`: ``publish`` (the public ledger) and ``verify --public``.

See docs/privacy.md.
"""

from .registry import ERASED_TEXT, PRIVATE_FIELDS, WITHHELD_TEXT, PrivateField, commit, is_commitment, register

__all__ = ["ERASED_TEXT", "PRIVATE_FIELDS", "WITHHELD_TEXT", "PrivateField", "commit", "is_commitment", "register"]
