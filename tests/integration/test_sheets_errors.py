"""Every way a workbook or CSV can be wrong is refused with a sentence naming the cell
(``sheet!A1``) and the journal field, and nothing is recorded; good ones import once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.errors import JournalError
from partnership_ledger.spreadsheets import locate_error, read_operations, read_operations_located

DATA = Path(__file__).parents[1] / "data" / "sheets"
PARTY_HEADER = ["key", "name", "sector", "capacity/amount", "capacity/currency"]
PLEDGE_HEADER = [
    "key",
    "partnership",
    "party",
    "kind",
    "value/amount",
    "value/currency",
    "fiscal_year",
]


def workbook(tmp_path: Path, sheets: dict[str, list[list[Any]]], name: str = "book.xlsx", **options: Any) -> Path:
    book = Workbook()
    assert book.active is not None
    book.remove(book.active)
    for title, rows in sheets.items():
        ws = book.create_sheet(title)
        for row in rows:
            ws.append(row)
    path = tmp_path / name
    book.save(path)
    return path


def refused(path: Path) -> str:
    with pytest.raises(JournalError) as caught:
        read_operations(path)
    return "\n".join(str(p) for p in caught.value.problems)


def test_a_sheet_not_named_by_an_op_is_refused(tmp_path: Path) -> None:
    path = workbook(tmp_path, {"parties": [PARTY_HEADER, ["npo-a", "NPO A", "npo"]]})
    assert "parties: is not an operation (name each sheet by its op: register_party" in refused(path)


def test_an_unknown_column_is_named_by_its_cell(tmp_path: Path) -> None:
    path = workbook(tmp_path, {"register_party": [["key", "nmae", "sector"], ["npo-a", "NPO A", "npo"]]})
    message = refused(path)
    assert "register_party!B1 (nmae): unknown column 'nmae' (the columns of register_party are key, name" in message


def test_a_missing_required_column_is_named(tmp_path: Path) -> None:
    path = workbook(tmp_path, {"register_party": [["key", "name"], ["npo-a", "NPO A"]]})
    assert "register_party!1 (sector): has no column 'sector', which register_party needs" in refused(path)


def test_a_column_named_twice_is_refused(tmp_path: Path) -> None:
    path = workbook(tmp_path, {"register_party": [["key", "name", "sector", "name"], ["npo-a", "A", "npo", "B"]]})
    assert "register_party!D1: names column 'name' a second time" in refused(path)


PARTIES = [PARTY_HEADER, ["npo-a", "NPO A", "npo"], ["pref-b", "B県", "prefecture"]]
PARTNERSHIP = [
    ["key", "title", "purpose", "proposed_by", "members", "on"],
    ["ps", "協働", "目的", "npo-a", "npo-a; pref-b", "2008-04-01"],
]


@pytest.mark.parametrize(
    ("sheet", "header", "row", "expected"),
    [
        ("register_party", PARTY_HEADER, ["npo a", "A", "npo"], "register_party!A2 (key): must be a key"),
        ("register_party", PARTY_HEADER, ["npo-c", "C", "company"], "register_party!C2 (sector): must be one of npo"),
        (
            "register_party",
            PARTY_HEADER,
            ["npo-c", "C", "npo", 1234.5600000001, "JPY"],
            "register_party!D2 (capacity/amount): 1234.5600000001 is not an exact amount: format the column as text",
        ),
        (
            "register_party",
            PARTY_HEADER,
            ["npo-c", "C", "npo", "12万", "JPY"],
            "register_party!D2 (capacity/amount): '12万' is not an amount",
        ),
        (
            "register_party",
            PARTY_HEADER,
            ["npo-c", "C", "npo", "1000", "JP"],
            "register_party!E2 (capacity/currency): currency must be a three-letter code",
        ),
        (
            "register_party",
            PARTY_HEADER,
            ["npo-c", "C", "npo", "1000"],
            "register_party!D2 (capacity/amount): must have both",
        ),
        (
            "activate_partnership",
            ["partnership", "on"],
            ["ps", "2008-13-01"],
            "activate_partnership!B2 (on): '2008-13-01' is not a real date",
        ),
        (
            "activate_partnership",
            ["partnership", "on"],
            ["ps", "next week"],
            "activate_partnership!B2 (on): must be a date YYYY-MM-DD",
        ),
        (
            "register_party",
            PARTY_HEADER,
            ["npo-c", "C", "npo", "#DIV/0!", "JPY"],
            "register_party!D2: holds the error #DIV/0!",
        ),
        (
            "pledge",
            PLEDGE_HEADER,
            ["c1", "ps", "npo-a", "money", "1000", "JPY", "2008.5"],
            "pledge!G2 (fiscal_year): 2008.5 is not a whole number",
        ),
        (
            "propose_partnership",
            PARTNERSHIP[0],
            ["ps2", "t", "p", "npo-a", "npo-a; pref b", "2008-04-01"],
            "propose_partnership!E2 (members): item 1 must be a key",
        ),
        (
            "record_decision",
            ["partnership", "key", "subject", "proposed_by", "rule", "votes", "on"],
            ["ps", "d1", "s", "npo-a", "consensus", "npo-a=yes", "2008-05-01"],
            "record_decision!F2 (votes): entry 'npo-a' must be one of for, against, abstain",
        ),
        (
            "record_decision",
            ["partnership", "key", "subject", "proposed_by", "rule", "votes", "on"],
            ["ps", "d1", "s", "npo-a", "consensus", "npo-a for", "2008-05-01"],
            "record_decision!F2 (votes): 'npo-a for' is not name=value",
        ),
        (
            "submit_evaluation",
            ["evaluation", "evaluator", "role", "scores", "comment_public", "on"],
            ["e1", "r-1", "resident", "overall=4", "maybe", "2009-01-01"],
            "submit_evaluation!E2 (comment_public): 'maybe' is not true or false",
        ),
        (
            "define_target",
            ["key", "partnership", "indicator", "unit", "direction", "baseline/period", "baseline/value", "targets"],
            ["t1", "ps", "children", "children", "increase", "2007", "0", "2008:3000"],
            "define_target!H2 (targets): '2008:3000' is not name=value",
        ),
        (
            "open_evaluation",
            ["key", "partnership", "period", "scale_max"],
            ["e1", "ps", "2008", "five"],
            "open_evaluation!D2 (scale_max): 'five' is not a whole number",
        ),
    ],
)
def test_a_bad_cell_is_named_with_its_field(
    tmp_path: Path, sheet: str, header: list[str], row: list[Any], expected: str
) -> None:
    path = workbook(tmp_path, {"register_party": PARTIES, "propose_partnership": PARTNERSHIP, sheet: [header, row]})
    assert expected in refused(path)


def test_a_number_excel_saved_with_17_digits_is_not_exact(tmp_path: Path) -> None:
    # Excel saves =0.1+0.2 as 0.30000000000000004 (openpyxl and LibreOffice round to 15 digits).
    path = workbook(tmp_path, {"register_party": [PARTY_HEADER, ["npo-c", "C", "npo", 0.3, "JPY"]]})
    _patch(path, "xl/worksheets/sheet1.xml", b"<v>0.3</v>", b"<v>0.30000000000000004</v>")
    assert (
        "register_party!D2 (capacity/amount): 0.30000000000000004 is not an exact amount: format the column as text"
        in refused(path)
    )


def _patch(path: Path, member: str, old: bytes, new: bytes) -> None:
    import zipfile

    with zipfile.ZipFile(path) as z:
        items = [(i, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in items:
            z.writestr(info, data.replace(old, new) if info.filename == member else data)


def test_a_merged_cell_is_refused(tmp_path: Path) -> None:
    path = workbook(tmp_path, {"register_party": [PARTY_HEADER, ["npo-a", "A", "npo"], [None, "B", "npo"]]})
    book = _load(path)
    book["register_party"].merge_cells("A2:A3")
    book.save(path)
    assert "register_party!A2: is part of the merged cells A2:A3: unmerge them and fill in every row" in refused(path)


def test_a_hidden_row_is_refused(tmp_path: Path) -> None:
    path = workbook(tmp_path, {"register_party": PARTIES})
    book = _load(path)
    book["register_party"].row_dimensions[3].hidden = True
    book.save(path)
    assert "register_party!3: is a hidden row: unhide it (or delete it)" in refused(path)


def test_a_hidden_column_with_data_is_refused(tmp_path: Path) -> None:
    path = workbook(tmp_path, {"register_party": [[*PARTY_HEADER, "note"], ["npo-a", "A", "npo", None, None, "x"]]})
    book = _load(path)
    book["register_party"].column_dimensions["F"].hidden = True
    book.save(path)
    assert "register_party!F: is a hidden column with data: unhide it" in refused(path)
    path = workbook(tmp_path, {"register_party": [[*PARTY_HEADER, "note"], ["npo-a", "A", "npo"]]})
    book = _load(path)
    book["register_party"].column_dimensions["F"].hidden = True  # its header alone: fine
    book.save(path)
    assert len(read_operations(path)) == 1


def test_a_hidden_sheet_is_refused(tmp_path: Path) -> None:
    path = workbook(tmp_path, {"register_party": PARTIES, "join_partnership": [["partnership", "party", "on"]]})
    book = _load(path)
    book["join_partnership"].sheet_state = "hidden"
    book.save(path)
    assert "join_partnership: is a hidden sheet" in refused(path)


def test_a_formula_without_a_saved_result_is_refused(tmp_path: Path) -> None:
    path = workbook(tmp_path, {"register_party": [PARTY_HEADER, ["npo-a", "A", "npo", "=1000*3", "JPY"]]})
    assert "register_party!D2: holds a formula with no saved result" in refused(path)


def test_a_formula_saved_by_libreoffice_counts_by_its_result() -> None:
    # formula.lo.xlsx: ="NPO法人 "&"あ", =1200*3 and =0.1+0.2, whose results LibreOffice saved
    # (rounded to 15 digits, as it shows them: 0.3).
    ops = read_operations(DATA / "formula.lo.xlsx")
    assert [(op.fields["name"], str(op.fields["capacity"].amount)) for op in ops] == [
        ("NPO法人 あ", "3600"),
        ("NPO B", "0.3"),
    ]


def test_the_last_row_of_a_sheet_is_read_streaming(tmp_path: Path) -> None:
    path = workbook(tmp_path, {"register_party": [PARTY_HEADER]})
    book = _load(path)
    ws = book["register_party"]
    for column, value in enumerate(["npo-last", "Row 1,048,576", "npo"], 1):
        ws.cell(row=1_048_576, column=column, value=value)
    book.save(path)
    ops, rows = read_operations_located(path)
    assert [op.fields["key"] for op in ops] == ["npo-last"]
    assert rows.places == [("register_party", 1_048_576)]


def test_empty_rows_and_sheets_are_skipped_and_the_readme_ignored(tmp_path: Path) -> None:
    path = workbook(
        tmp_path,
        {
            "README": [["anything at all"]],
            "register_party": [
                PARTY_HEADER,
                [],
                ["npo-a", "A", "npo"],
                [None, "  ", None],
                ["pref-b", "B", "prefecture"],
            ],
            "join_partnership": [],
            "pledge": [PLEDGE_HEADER],
        },
    )
    assert [op.fields["key"] for op in read_operations(path)] == ["npo-a", "pref-b"]


def test_one_sheet_with_an_op_column(tmp_path: Path) -> None:
    rows = [
        ["op", "key", "name", "sector", "title", "purpose", "proposed_by", "members", "on"],
        ["register_party", "npo-a", "A", "npo"],
        ["register_party", "pref-b", "B", "prefecture"],
        ["propose_partnership", "ps", None, None, "T", "P", "npo-a", "npo-a; pref-b", "2008-04-01"],
    ]
    path = workbook(tmp_path, {"records": rows})
    assert [op.op for op in read_operations(path)] == ["register_party", "register_party", "propose_partnership"]
    rows.append(["regster_party", "x"])
    path = workbook(tmp_path, {"records": rows})
    assert "records!A5 (op): unknown op 'regster_party'" in refused(path)
    rows[-1] = ["register_party", "npo-c", "C", "npo", "a title"]
    path = workbook(tmp_path, {"records": rows})
    assert "records!E5 (title): is not a column of register_party" in refused(path)


def test_a_domain_error_names_the_row_and_nothing_is_recorded(tmp_path: Path, ledger: PartnershipLedger) -> None:
    path = workbook(
        tmp_path,
        {
            "register_party": PARTIES,
            "propose_partnership": PARTNERSHIP,
            "pledge": [PLEDGE_HEADER, ["c1", "ps", "npo-zzz", "money", "1,000", "JPY", 2008]],
        },
    )
    ops, rows = read_operations_located(path)

    def record() -> None:
        try:
            ledger.execute(ops, source="book.xlsx")
        except JournalError as e:
            raise locate_error(e, rows) from e

    with pytest.raises(JournalError) as caught:
        record()
    # the rule's error names the row, and the cell that holds the unknown key
    assert str(caught.value.problems[0]) == "pledge!C2 (party): there is no party npo-zzz"
    assert ledger.event_count() == 0


def test_reimporting_records_nothing_and_added_rows_alone(tmp_path: Path, ledger: PartnershipLedger) -> None:
    sheets = {"register_party": [*PARTIES], "propose_partnership": PARTNERSHIP}
    path = workbook(tmp_path, sheets)
    assert ledger.execute(read_operations(path)).applied == 3
    assert ledger.execute(read_operations(path)).applied == 0
    sheets["register_party"] = [*PARTIES, ["npo-c", "NPO C", "npo", "１，０００，０００円"]]
    path = workbook(tmp_path, sheets)
    assert ledger.execute(read_operations(path)).applied == 1
    assert ledger.show("npo-c")["capacity"] == {"amount": 1000000, "currency": "JPY"}


def test_seq_orders_rows_across_sheets_and_must_not_repeat(tmp_path: Path) -> None:
    header = [*PARTY_HEADER, "seq"]
    path = workbook(
        tmp_path,
        {
            "register_party": [
                header,
                ["npo-a", "A", "npo", None, None, 2],
                ["npo-b", "B", "npo", None, None, 1],
                ["npo-c", "C", "npo"],
            ]
        },
    )
    assert [op.fields["key"] for op in read_operations(path)] == ["npo-b", "npo-a", "npo-c"]
    path = workbook(
        tmp_path,
        {"register_party": [header, ["npo-a", "A", "npo", None, None, 1], ["npo-b", "B", "npo", None, None, 1]]},
    )
    assert "repeats seq 1" in refused(path)


def test_problems_come_in_sheet_row_and_column_order(tmp_path: Path) -> None:
    rows = [
        PLEDGE_HEADER,
        ["c1", "ps", "npo-a", "staff time", "1000", "JPY", 2008],  # found by the journal's check
        ["c2", "ps", "npo-a", "money", 1234.5600000001, "JPY", "平成二十一"],  # by reading the cells
    ]
    path = workbook(tmp_path, {"register_party": PARTIES, "propose_partnership": PARTNERSHIP, "pledge": rows})
    with pytest.raises(JournalError) as caught:
        read_operations(path)
    assert [p.to_dict()["cell"] for p in caught.value.problems] == ["pledge!D2", "pledge!E3", "pledge!G3"]


def test_a_row_with_a_bad_cell_still_has_its_other_cells_checked(tmp_path: Path) -> None:
    rows = [PLEDGE_HEADER, ["c1", "ps", "npo-a", "staff time", 1234.5600000001, "JPY", 2008]]
    path = workbook(tmp_path, {"register_party": PARTIES, "propose_partnership": PARTNERSHIP, "pledge": rows})
    with pytest.raises(JournalError) as caught:
        read_operations(path)
    assert [str(p) for p in caught.value.problems] == [
        "pledge!D2 (kind): must be one of money, staff_time, facility, equipment, expertise, volunteer_time, "
        'network, information, other, not "staff time"',
        "pledge!E2 (value/amount): 1234.5600000001 is not an exact amount: format the column as text",
    ]


def test_every_problem_is_listed_not_only_the_first(tmp_path: Path) -> None:
    path = workbook(tmp_path, {"register_party": [PARTY_HEADER, ["npo a", "A", "npo"], ["npo-b", "B", "company"]]})
    with pytest.raises(JournalError) as caught:
        read_operations(path)
    assert [p.to_dict()["cell"] for p in caught.value.problems] == ["register_party!A2", "register_party!C3"]
    assert caught.value.problems[1].to_dict()["field"] == "sector"


def test_not_a_workbook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "fake.xlsx"
    path.write_text("hello")
    assert "is not an .xlsx workbook" in str(_raises(path))


# -- CSV ----------------------------------------------------------------------------------------


def _csv(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


GOOD_CSV = 'key,name,sector,capacity/amount,capacity/currency\r\nnpo-a,NPO法人 あ,npo,"1,000円",\r\n'


@pytest.mark.parametrize(
    "encoded",
    [GOOD_CSV.encode("utf-8"), b"\xef\xbb\xbf" + GOOD_CSV.encode("utf-8"), GOOD_CSV.encode("cp932")],
    ids=["utf-8", "utf-8-bom", "cp932"],
)
def test_csv_encodings_are_detected(tmp_path: Path, encoded: bytes) -> None:
    (op,) = read_operations(_csv(tmp_path, "01-register_party.csv", encoded))
    assert op.fields["name"] == "NPO法人 あ"
    assert str(op.fields["capacity"].amount) == "1000"
    assert op.fields["capacity"].currency == "JPY"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (GOOD_CSV.encode("utf-16"), "parties.csv: is UTF-16 text"),
        (b"key,name\r\n\x81\x20x,y\r\n", "parties.csv: is neither UTF-8 nor CP932 (Shift_JIS) text"),
    ],
)
def test_other_csv_encodings_are_refused_naming_the_file(tmp_path: Path, data: bytes, expected: str) -> None:
    assert expected in str(_raises(_csv(tmp_path, "parties.csv", data)))


def test_a_csv_named_by_no_op_needs_an_op_column(tmp_path: Path) -> None:
    assert "parties.csv: is not an operation" in str(_raises(_csv(tmp_path, "parties.csv", GOOD_CSV.encode())))


def test_a_csv_cell_neutralised_against_formulas_reads_back(tmp_path: Path) -> None:
    data = b"key,name,sector\r\nnpo-a,'=HYPERLINK(1),npo\r\nnpo-b,'abc,npo\r\n"
    ops = read_operations(_csv(tmp_path, "register_party.csv", data))
    assert [op.fields["name"] for op in ops] == ["=HYPERLINK(1)", "'abc"]


def _raises(path: Path) -> JournalError:
    with pytest.raises(JournalError) as caught:
        read_operations(path)
    return caught.value


def _load(path: Path) -> Any:
    from openpyxl import load_workbook

    return load_workbook(path)
