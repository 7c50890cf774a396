"""What a workbook hides from a reader of its values: hidden sheets and rows, merged cells,
formulas without a saved value.

openpyxl's read-only mode (the one that streams a big workbook in little memory) gives cell
values only. A hidden row or sheet would then be recorded unseen, the rows under a merged cell
would look empty, and a formula whose result was never saved (a file written by a program,
not by Excel or LibreOffice) would read as empty: each is refused, naming where it is. The
sheets' XML is searched for the markers first (a quick byte search); only a sheet that has
one is parsed to say where.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import attrs

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_MARKERS = re.compile(rb'hidden="(?:1|true)"|<(?:\w+:)?mergeCell |<(?:\w+:)?f[ >]| t="e"')
_CHUNK = 1 << 20
_CELL_REF = re.compile(r"([A-Z]+)([0-9]+)")


@attrs.frozen
class Finding:
    sheet: str
    row: int | None
    column: str | None
    message: str
    rule: str


def _sheet_paths(book: zipfile.ZipFile) -> Iterator[tuple[str, str, str]]:
    """(name, state, path in the archive) of each worksheet."""
    workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{_PKG_REL}Relationship")}
    for sheet in workbook.iter(f"{_MAIN}sheet"):
        target = targets.get(sheet.get(f"{_REL}id"), "")
        path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
        yield sheet.get("name", ""), sheet.get("state", "visible"), path


def _has_markers(book: zipfile.ZipFile, path: str) -> bool:
    tail = b""
    with book.open(path) as f:
        while chunk := f.read(_CHUNK):
            if _MARKERS.search(tail + chunk):
                return True
            tail = chunk[-64:]
    return False


def _column_number(letters: str) -> int:
    n = 0
    for c in letters:
        n = n * 26 + ord(c) - 64
    return n


def _findings(book: zipfile.ZipFile, name: str, path: str) -> Iterator[Finding]:
    hidden_columns: list[tuple[int, int]] = []  # (min, max) of each hidden <col> range
    reported: set[str] = set()
    with book.open(path) as f:
        for _event, element in ElementTree.iterparse(f):
            tag = element.tag
            if tag == f"{_MAIN}col" and element.get("hidden") in ("1", "true"):
                hidden_columns.append((int(element.get("min", "0")), int(element.get("max", "0"))))
            elif tag == f"{_MAIN}c" and hidden_columns and _has_value(element):
                m = _CELL_REF.fullmatch(element.get("r", ""))
                if m is not None and m[1] not in reported and m[2] != "1":  # a hidden header alone is fine
                    number = _column_number(m[1])
                    if any(low <= number <= high for low, high in hidden_columns):
                        reported.add(m[1])
                        yield Finding(
                            name,
                            None,
                            m[1],
                            "is a hidden column with data: unhide it (or delete it) so that what is "
                            "recorded is what you see",
                            "hidden_column",
                        )
            if tag == f"{_MAIN}row":
                if element.get("hidden") in ("1", "true") and any(_has_value(c) for c in element):
                    yield Finding(
                        name,
                        int(element.get("r", "0")) or None,
                        None,
                        "is a hidden row: unhide it (or delete it) so that what is recorded is what you see",
                        "hidden_row",
                    )
                element.clear()
            if tag == f"{_MAIN}c" and element.get("t") == "e":
                yield _at(
                    name,
                    _CELL_REF.fullmatch(element.get("r", "")),
                    f"holds the error {element.findtext(f'{_MAIN}v') or '(an error value)'}",
                    "cell",
                )
            elif tag == f"{_MAIN}c":
                formula = element.find(f"{_MAIN}f")
                value = element.find(f"{_MAIN}v")
                if formula is not None and (value is None or value.text is None):
                    yield _at(
                        name,
                        _CELL_REF.fullmatch(element.get("r", "")),
                        "holds a formula with no saved result: open and save the file in Excel or "
                        "LibreOffice, or type the value",
                        "formula",
                    )
            elif tag == f"{_MAIN}mergeCell":
                ref = element.get("ref", "")
                yield _at(
                    name,
                    _CELL_REF.match(ref),  # the range's first cell
                    f"is part of the merged cells {ref}: unmerge them and fill in every row",
                    "merged_cell",
                )


def _at(sheet: str, cell: re.Match[str] | None, message: str, rule: str) -> Finding:
    """A finding at ``cell`` (a match of a cell reference: column, row), or at no cell."""
    return Finding(sheet, int(cell[2]) if cell else None, cell[1] if cell else None, message, rule)


def _has_value(cell: ElementTree.Element) -> bool:
    value = cell.find(f"{_MAIN}v")
    inline = cell.find(f"{_MAIN}is")
    return (value is not None and value.text is not None) or inline is not None


def scan_sheets(path: Path, *, skip: frozenset[str] = frozenset()) -> list[Finding]:
    """Everything in the workbook at ``path`` that reading its values alone would miss."""
    out: list[Finding] = []
    with zipfile.ZipFile(path) as book:
        for name, state, sheet_path in _sheet_paths(book):
            if name.strip().lower() in skip:
                continue
            if state != "visible":
                out.append(Finding(name, None, None, "is a hidden sheet: unhide it, or delete it", "hidden_sheet"))
                continue
            if sheet_path in book.namelist() and _has_markers(book, sheet_path):
                out.extend(_findings(book, name, sheet_path))
    return out
