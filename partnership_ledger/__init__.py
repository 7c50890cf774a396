"""partnership-ledger: an event-sourced, tamper-evident ledger of partnerships.

The embedding API is :class:`PartnershipLedger`; every error a user can cause is a
:class:`LedgerError` with a one-sentence message.
"""

from .application import PartnershipLedger, RecordResult
from .domain.values import Money
from .errors import DomainError, JournalError, LedgerError, StorageError

__all__ = [
    "DomainError",
    "JournalError",
    "LedgerError",
    "Money",
    "PartnershipLedger",
    "RecordResult",
    "StorageError",
]
__version__ = "0.1.0"
