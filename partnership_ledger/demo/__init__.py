"""The bundled demo journal: the Fukushima puppet-theatre partnership, a Kanagawa Fund 21
project and a Tower Hamlets-style LSP with its Local Area Agreement (see docs/concepts.md)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def demo_journal_bytes() -> bytes:
    """The demo journal (a JSON array of operations), as bytes."""
    return files(__package__).joinpath("journal.json").read_bytes()


def build_demo(folder: Path) -> Path:
    """Create ``folder`` and a ledger in it holding the demo journal; return the ledger's path.

    Refuses to touch an existing ledger: the demo always gets a folder of its own.
    """
    from ..application import PartnershipLedger
    from ..errors import StorageError

    ledger_path = folder / "partnership-ledger.sqlite"
    if ledger_path.exists():
        raise StorageError(
            f"{ledger_path} already exists: the demo is built only into a new folder "
            "(remove it or choose another with -o)"
        )
    folder.mkdir(parents=True, exist_ok=True)
    with PartnershipLedger.open(ledger_path) as ledger:
        ledger.import_journal(demo_journal_bytes(), source="demo journal")
    return ledger_path
