"""partnership-ledger: an event-sourced, tamper-evident ledger of partnerships.

The embedding API is :class:`PartnershipLedger`; every error a user can cause is a
:class:`LedgerError` with a one-sentence message.

The names below are imported on first use (PEP 562), so that a program which needs only
part of the package (the CLI answering ``balance`` from the read models, say) does not pay
for importing the event store and the domain.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .errors import DomainError, JournalError, LedgerError, StorageError

if TYPE_CHECKING:
    from .application import PartnershipLedger, RecordResult
    from .domain.values import Money
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

_LAZY = {
    "PartnershipLedger": ".application",
    "RecordResult": ".application",
    "Money": ".domain.values",
    "generate_cipher_key": ".storage.cipher",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
