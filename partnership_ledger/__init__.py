"""partnership-ledger: an event-sourced, tamper-evident ledger of partnerships.

The embedding API is :class:`PartnershipLedger`; every error a user can cause is a
:class:`LedgerError` with a one-sentence message.
"""

from .application import PartnershipLedger, RecordResult
from .domain.values import Money
from .errors import DomainError, JournalError, LedgerError, StorageError
from .storage.cipher import generate_cipher_key

__all__ = [
    "DomainError",
    "JournalError",
    "LedgerError",
    "Money",
    "PartnershipLedger",
    "RecordResult",
    "StorageError",
    "generate_cipher_key",
]
__version__ = "0.1.0"
