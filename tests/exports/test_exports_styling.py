"""The shared look: frozen header, filter, formats, totals, text kept as text, and sheets that never overflow."""
from __future__ import annotations

from datetime import date, datetime

import openpyxl
from exports_helpers import QUARTER, context

import exports
from exports.styling import Book, Column


def test_every_report_is_registered_with_a_dated_file_name():
    assert {"opcc_return", "evaluator_extract", "kpi_fidelity"} <= set(exports.REPORTS)
    assert exports.REPORTS["opcc_return"].filename(QUARTER) == "opcc-return-2025-10-01-to-2025-12-31.xlsx"


def test_a_table_has_a_frozen_filtered_header_formats_and_a_total_row(tmp_path):
    path = tmp_path / "t.xlsx"
    book = Book(str(path), context(QUARTER), "Test", "Tests")
    table = book.table("Hours", (Column("Who", "text"), Column("On", "date"), Column("Hours", "hours", total=True),
                                 Column("Rate", "rate")), "Hours by person")
    table.add(["Ann", date(2025, 10, 2), 1.5, 0.25])
    table.add(["Bo", date(2025, 10, 3), 2.25, None])
    table.close()
    assert book.close() == {"Hours": 2}
    sheet = openpyxl.load_workbook(path, data_only=True)["Hours"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:D3"
    assert [c.value for c in sheet[4]] == ["Total", None, 3.75, None]
    assert sheet["C4"].number_format == "#,##0.00" and sheet["D2"].number_format == "0.0%"
    assert sheet["B2"].value == datetime(2025, 10, 2) and sheet["B2"].number_format == "dd/mm/yyyy"
    formulas = openpyxl.load_workbook(path)["Hours"]
    assert formulas["C4"].value == "=SUBTOTAL(109,C2:C3)"


def test_a_table_longer_than_a_sheet_goes_on_in_a_second_sheet(tmp_path):
    path = tmp_path / "t.xlsx"
    book = Book(str(path), context(QUARTER), "Test", "Tests")
    table = book.table("Contacts", (Column("N", "int"),), "Numbered rows", max_rows=4)
    for n in range(5):
        table.add([n])
    table.close()
    assert book.close() == {"Contacts": 3, "Contacts (2)": 2}
    workbook = openpyxl.load_workbook(path)
    assert [c.value for c in workbook["Contacts (2)"]["A"]] == ["N", 3, 4]


def test_text_that_looks_like_a_formula_a_link_or_a_number_stays_text(tmp_path):
    path = tmp_path / "t.xlsx"
    book = Book(str(path), context(QUARTER), "Test", "Tests")
    table = book.table("Notes", (Column("Note", "text"),), "Notes")
    for text in ("=1+1", "https://example.org", "007"):
        table.add([text])
    table.close()
    book.close()
    sheet = openpyxl.load_workbook(path)["Notes"]
    assert [(c.value, c.data_type) for c in sheet["A"][1:]] == [("'=1+1", "s"), ("https://example.org", "s"), ("007", "s")]
    assert not sheet["A3"].hyperlink
