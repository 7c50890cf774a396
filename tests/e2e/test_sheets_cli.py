"""The clerk's commands end to end: template, import of workbooks and CSV, export --format
xlsx, contributions, and every query's --xlsx / --csv --bom with formulas neutralised."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path
from typing import Any

from cli_invoke import invoke
from openpyxl import load_workbook

from partnership_ledger.journal import OPS


def test_template_writes_a_sheet_per_op_with_notes_lists_and_formats(tmp_path: Path) -> None:
    path = tmp_path / "ledger-template.xlsx"
    started = time.perf_counter()
    result = invoke(["template", "-o", str(path)])
    assert time.perf_counter() - started < 2
    assert result.exit_code == 0, result.output
    book = load_workbook(path)
    assert book.sheetnames[0] == "README"
    assert set(book.sheetnames[1:]) == set(OPS)
    assert (
        book.sheetnames.index("register_party")
        < book.sheetnames.index("pledge")
        < book.sheetnames.index("conclude_partnership")
    )
    pledge = book["pledge"]
    headers = [c.value for c in pledge[1]]
    assert headers[:7] == ["key", "partnership", "party", "agreement", "kind", "value/amount", "value/currency"]
    notes = {c.value: c.comment.text for c in pledge[1] if c.comment}
    assert "金額" in notes["value/amount"]
    assert "amount" in notes["value/amount"]
    assert pledge.freeze_panes == "A2"
    lists = {str(dv.sqref).split(":")[0][:1]: dv.formula1 for dv in pledge.data_validations.dataValidation}
    assert '"money,staff_time' in lists["E"]
    assert pledge.column_dimensions["F"].number_format == "@"  # amounts as text
    assert book["deliver"].column_dimensions["D"].number_format == "yyyy-mm-dd"
    readme = [str(c.value) for c in book["README"]["A"] if c.value]
    assert all(any(line.startswith(f"{op}: ") for line in readme) for op in OPS)  # every sheet explained
    assert "README" in book.sheetnames
    assert "1 行が 1 件" in str(book["README"]["A3"].value)


def test_the_demo_template_imports_and_reimports_nothing(tmp_path: Path) -> None:
    path = tmp_path / "demo.xlsx"
    assert invoke(["template", "--with-demo", "-o", str(path)]).exit_code == 0
    db = tmp_path / "l.sqlite"
    first = invoke(["import", str(path)], db=db)
    assert first.exit_code == 0
    assert "recorded" in first.output
    again = invoke(["import", str(path)], db=db)
    assert "nothing new" in again.output


def test_csv_template_is_one_file_per_op_with_a_bom_in_order(tmp_path: Path) -> None:
    folder = tmp_path / "records"
    assert invoke(["template", "--format", "csv", "-o", str(folder)]).exit_code == 0
    files = sorted(p.name for p in folder.iterdir())
    assert files[0] == "01-register_party.csv"
    assert len(files) == len(OPS)
    data = (folder / files[0]).read_bytes()
    assert data.startswith(b"\xef\xbb\xbfkey,name,sector,capacity/amount")
    # a clerk fills two files and imports the folder
    (folder / files[0]).write_bytes(data + 'npo-a,NPO法人 あ,npo,"1,000,000円",\r\n'.encode())
    result = invoke(["import", str(folder)], db=tmp_path / "l.sqlite")
    assert result.exit_code == 0, result.output
    assert "recorded 1 operation" in result.output


def test_import_errors_name_the_cell_and_exit_1(tmp_path: Path) -> None:
    path = tmp_path / "parties.csv"
    path.write_text("op,key,name,sector\nregister_party,npo a,A,npo\n", encoding="utf-8")
    result = invoke(["import", str(path)], db=tmp_path / "l.sqlite")
    assert result.exit_code == 1
    assert "parties.csv: parties.csv!B2 (key): must be a key" in result.output
    assert "Traceback" not in result.output
    as_json = invoke(["import", str(path), "--json"], db=tmp_path / "l.sqlite")
    error = json.loads(as_json.output)["error"]
    assert error["problems"][0]["cell"] == "parties.csv!B2"
    assert error["problems"][0]["field"] == "key"


def test_export_xlsx_round_trips(demo_db: str, tmp_path: Path) -> None:
    path = tmp_path / "ledger.xlsx"
    assert invoke(["export", "--format", "xlsx", "-o", str(path)], db=demo_db).exit_code == 0
    copy = tmp_path / "copy.sqlite"
    assert invoke(["import", str(path)], db=copy).exit_code == 0
    assert invoke(["export"], db=copy).output == invoke(["export"], db=demo_db).output


def test_contributions_rows_and_formats(demo_db: str, tmp_path: Path) -> None:
    result = invoke(
        ["contributions", "puppet-tour", "--party", "pref-fukushima", "--fiscal-year", "2008", "--json"], db=demo_db
    )
    rows = json.loads(result.output)
    assert {r["contribution"] for r in rows} == {"c-pref-2008", "c-pref-extra"}
    extra = next(r for r in rows if r["contribution"] == "c-pref-extra")
    assert extra["withdrawn"] == "300000"
    assert extra["delivered"] == "0"
    text = invoke(["contributions", "puppet-tour", "--kind", "money"], db=demo_db).output
    assert "8,000,000" in text
    assert "CONTRIBUTION" in text
    path = tmp_path / "c.xlsx"
    assert invoke(["contributions", "--xlsx", "-o", str(path)], db=demo_db).exit_code == 0
    ws = load_workbook(path).active
    assert ws is not None
    headers = [c.value for c in ws[1]]
    pledged = ws.cell(row=2, column=headers.index("pledged") + 1)
    assert isinstance(pledged.value, int | float)
    assert "¥" in pledged.number_format
    assert ws.freeze_panes == "A2"
    unknown = invoke(["contributions", "no-such"], db=demo_db)
    assert unknown.exit_code == 1


def test_query_xlsx_has_typed_cells_percentages_and_fitted_widths(demo_db: str, tmp_path: Path) -> None:
    path = tmp_path / "balance.xlsx"
    result = invoke(["balance", "puppet-tour", "--xlsx", "-o", str(path)], db=demo_db)
    assert result.exit_code == 0
    assert result.stdout == ""  # all of it in the workbook
    for command in ("voice", "evaluations", "targets"):
        other = invoke([command, "puppet-tour", "--xlsx", "-o", str(tmp_path / f"{command}.xlsx")], db=demo_db)
        assert other.exit_code == 0
        assert other.stdout == ""
        assert (tmp_path / f"{command}.xlsx").stat().st_size > 0
    ws = load_workbook(path).active
    assert ws is not None
    headers = [c.value for c in ws[1]]
    share = ws.cell(row=2, column=headers.index("share") + 1)
    assert share.number_format.endswith("%")
    assert isinstance(share.value, float)
    parties = tmp_path / "parties.xlsx"
    invoke(["parties", "--xlsx", "-o", str(parties)], db=demo_db)
    pws = load_workbook(parties).active
    assert pws is not None
    name_col = [c.value for c in pws[1]].index("name") + 1
    from openpyxl.utils import get_column_letter

    assert pws.column_dimensions[get_column_letter(name_col)].width >= 20  # CJK names count double


def test_a_file_in_a_missing_folder_is_refused_in_one_sentence(demo_db: str, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder"
    for args in (
        ["template", "-o", str(missing / "t.xlsx")],
        ["parties", "--xlsx", "-o", str(missing / "p.xlsx")],
        ["parties", "--csv", "-o", str(missing / "p.csv")],
        ["export", "--format", "xlsx", "-o", str(missing / "e.xlsx")],
    ):
        result = invoke(args, db=demo_db)
        assert result.exit_code == 1, args
        assert (
            result.stderr
            == f"error: cannot write {missing / args[-1].rsplit('/', 1)[-1]}: there is no folder {missing}\n"
        )


def test_xlsx_needs_a_file_and_formats_exclude_each_other(demo_db: str) -> None:
    assert invoke(["parties", "--xlsx"], db=demo_db).exit_code == 2
    assert invoke(["parties", "--csv", "--xlsx", "-o", "x.xlsx"], db=demo_db).exit_code == 2
    assert invoke(["parties", "-o", "x.txt"], db=demo_db).exit_code == 2


def test_csv_bom_by_default_in_a_file_and_on_request_on_stdout(demo_db: str, tmp_path: Path) -> None:
    path = tmp_path / "parties.csv"
    assert invoke(["parties", "--csv", "-o", str(path)], db=demo_db).exit_code == 0
    assert path.read_bytes().startswith(b"\xef\xbb\xbfkey,")
    assert invoke(["parties", "--csv", "--no-bom", "-o", str(path)], db=demo_db).exit_code == 0
    assert path.read_bytes().startswith(b"key,")
    assert invoke(["parties", "--csv", "--bom"], db=demo_db).output.startswith("\ufeffkey,")
    assert invoke(["parties", "--csv"], db=demo_db).output.startswith("key,")


def _formula_ledger(tmp_path: Path) -> Path:
    db = tmp_path / "f.sqlite"
    ops: list[dict[str, Any]] = [
        {"op": "register_party", "key": "npo-x", "name": '=HYPERLINK("http://x","click")', "sector": "npo"},
        {"op": "register_party", "key": "npo-y", "name": "@SUM(1)", "sector": "npo"},
        {"op": "register_party", "key": "npo-z", "name": "+81 3", "sector": "npo"},
        {
            "op": "propose_partnership",
            "key": "ps",
            "title": "-2+3",
            "purpose": "p",
            "proposed_by": "npo-x",
            "members": ["npo-x", "npo-y"],
            "on": "2008-04-01",
        },
        {
            "op": "pledge",
            "key": "c1",
            "partnership": "ps",
            "party": "npo-x",
            "kind": "money",
            "value": {"amount": "1000", "currency": "JPY"},
            "fiscal_year": 2008,
        },
        {"op": "deliver", "contribution": "c1", "value": {"amount": "1000", "currency": "JPY"}, "on": "2008-05-01"},
        {
            "op": "correct_contribution",
            "contribution": "c1",
            "delta": {"amount": "-250", "currency": "JPY"},
            "reason": "=1+1",
            "on": "2008-06-01",
        },
    ]
    journal = tmp_path / "f.json"
    journal.write_text(json.dumps(ops), encoding="utf-8")
    assert invoke(["import", str(journal)], db=db).exit_code == 0
    return db


def test_csv_and_xlsx_outputs_neutralise_formulas_but_keep_negative_numbers(tmp_path: Path) -> None:
    db = _formula_ledger(tmp_path)
    rows = list(csv.DictReader(io.StringIO(invoke(["parties", "--csv"], db=db).output)))
    assert [r["name"] for r in rows] == ['\'=HYPERLINK("http://x","click")', "'@SUM(1)", "'+81 3"]
    contributions = list(csv.DictReader(io.StringIO(invoke(["contributions", "--csv"], db=db).output)))
    assert contributions[0]["corrections"] == "-250"
    path = tmp_path / "p.xlsx"
    invoke(["parties", "--xlsx", "-o", str(path)], db=db)
    ws = load_workbook(path).active
    assert ws is not None
    cells = [ws.cell(row=r, column=2) for r in (2, 3, 4)]
    assert [c.data_type for c in cells] == ["s", "s", "s"]
    assert cells[0].value == '=HYPERLINK("http://x","click")'
    assert cells[0].quotePrefix
    c_path = tmp_path / "c.xlsx"
    invoke(["contributions", "--xlsx", "-o", str(c_path)], db=db)
    cws = load_workbook(c_path).active
    assert cws is not None
    headers = [c.value for c in cws[1]]
    assert cws.cell(row=2, column=headers.index("corrections") + 1).value == -250
    export = tmp_path / "e.xlsx"
    invoke(["export", "--format", "xlsx", "-o", str(export)], db=db)
    book = load_workbook(export)
    sheet = book["correct_contribution"]
    reason = sheet.cell(row=2, column=[c.value for c in sheet[1]].index("reason") + 1)
    assert reason.value == "=1+1"
    assert reason.data_type == "s"
