"""Workbooks and CSV files saved by LibreOffice (tests/data/sheets/README.md says how each
was made) import into the same ledger as the equivalent JSON journal: the same export,
operation ids included."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.spreadsheets import read_operations

DATA = Path(__file__).parents[1] / "data" / "sheets"
NewLedger = Callable[[], AbstractContextManager[PartnershipLedger]]


def exported(new_ledger: NewLedger, load: Callable[[PartnershipLedger], Any]) -> list[dict[str, Any]]:
    with new_ledger() as ledger:
        load(ledger)
        assert load(ledger).applied == 0  # a second import records nothing new
        return list(ledger.export_operations())


@pytest.fixture(scope="module")
def journal_export(scratch: Path) -> list[dict[str, Any]]:
    with PartnershipLedger.open(scratch / "fixtures-journal.sqlite") as ledger:
        ledger.import_journal(DATA / "every-op.json")
        return list(ledger.export_operations())


@pytest.mark.parametrize("name", ["every-op.xlsx", "every-op.csv", "every-op.lo-cp932.csv", "every-op.iconv-cp932.csv"])
def test_a_file_libreoffice_saved_imports_as_the_journal_does(
    name: str, new_ledger: NewLedger, journal_export: list[dict[str, Any]]
) -> None:
    got = exported(new_ledger, lambda ledger: ledger.execute(read_operations(DATA / name)))
    assert got == journal_export


def test_the_cp932_files_are_cp932() -> None:
    for name in ("every-op.lo-cp932.csv", "every-op.iconv-cp932.csv"):
        data = (DATA / name).read_bytes()
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
        assert "人形劇の森" in data.decode("cp932")


def test_the_template_shaped_workbook_libreoffice_saved_holds_the_same_operations(
    new_ledger: NewLedger, journal_export: list[dict[str, Any]]
) -> None:
    # Sheets apply in the template's order, not the journal's: the same operations (same
    # ids), recorded in another order.
    got = exported(new_ledger, lambda ledger: ledger.execute(read_operations(DATA / "every-op.sheets.xlsx")))

    def canonical(ops: list[dict[str, Any]]) -> list[str]:
        return sorted(json.dumps(op, sort_keys=True) for op in ops)

    assert canonical(got) == canonical(journal_export)
    assert [op["op"] for op in got] != [op["op"] for op in journal_export]
