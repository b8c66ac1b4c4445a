"""Every workbook prints as its recipient would print it, and the OPCC return's totals survive a recalculation."""
from __future__ import annotations

import re
import shutil
import subprocess

import openpyxl
import pytest

import exports
from exports.styling import LINE_HEIGHT, lines
from tests.exports.exports_helpers import QUARTER, by_heading, context, table

REPORTS = ("opcc_return", "kpi_fidelity", "evaluator_extract", "grant_ledger")


def width_of(sheet, column: int) -> float:
    """A column's width as stored (openpyxl groups neighbouring columns of one width under the first's letter)."""
    for dimension in sheet.column_dimensions.values():
        if dimension.min and dimension.max and dimension.min <= column <= dimension.max and dimension.width:
            return dimension.width
    return 8.43


@pytest.fixture(scope="module")
def books(demo_db, tmp_path_factory):
    folder = tmp_path_factory.mktemp("printing")
    paths = {}
    for key in REPORTS:
        path = folder / f"{key}.xlsx"
        exports.REPORTS[key].build(demo_db, str(path), context(QUARTER, notes="Staff sickness in November.\n"
                                                                                "Recruitment under way."))
        paths[key] = path
    return paths


@pytest.mark.parametrize("key", REPORTS)
def test_every_sheet_prints_landscape_one_page_wide_with_its_header_row_repeated(books, key):
    workbook = openpyxl.load_workbook(books[key])
    for sheet in workbook.worksheets:
        assert sheet.page_setup.orientation == "landscape", sheet.title
        assert sheet.page_setup.paperSize == 9, sheet.title  # A4
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
        assert sheet.page_setup.fitToWidth in (None, 1) and sheet.page_setup.fitToHeight == 0, sheet.title
        assert "Page &P of &N" in (sheet.oddFooter.right.text or ""), sheet.title
        if sheet.title not in ("About", "Challenges and obstacles"):
            assert sheet.print_title_rows == "$1:$1", sheet.title
            headings = [c.value for c in sheet[1] if c.value]
            # The header row is as tall as its longest wrapped heading needs, so it never covers the first row.
            assert sheet.row_dimensions[1].height >= LINE_HEIGHT * max(
                lines(h, width_of(sheet, c.column), bold=True)
                for h, c in zip(headings, sheet[1])), sheet.title


@pytest.mark.parametrize("key", REPORTS)
def test_true_and_false_read_yes_and_no_and_wrapped_cells_have_room(books, key):
    workbook = openpyxl.load_workbook(books[key])
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert not isinstance(cell.value, bool), (sheet.title, cell.coordinate)
                if isinstance(cell.value, str) and cell.alignment.wrap_text and cell.row > 1 and "\n" not in cell.value:
                    width = width_of(sheet, cell.column)
                    needed = lines(cell.value, width)
                    if needed > 1:
                        assert (sheet.row_dimensions[cell.row].height or LINE_HEIGHT) >= LINE_HEIGHT * needed, (
                            sheet.title, cell.coordinate)


@pytest.mark.parametrize("key", REPORTS)
def test_the_cover_explains_itself_without_the_projects_documents(books, key):
    cover = openpyxl.load_workbook(books[key])["About"]
    text = " ".join(str(c.value) for row in cover.iter_rows() for c in row if c.value)
    assert "docs/" not in text and ".md" not in text
    assert "Reading this workbook" in text and "decimal hours" in text
    sheets = [name for name in openpyxl.load_workbook(books[key]).sheetnames if name != "About"]
    assert all(name in text for name in sheets)


def test_the_opcc_return_and_kpi_workbook_define_their_figures_on_the_cover(books):
    for key in ("opcc_return", "kpi_fidelity"):
        cover = openpyxl.load_workbook(books[key])["About"]
        text = " ".join(str(c.value) for row in cover.iter_rows() for c in row if c.value)
        for term in ("Active caseload", "Sustained", "Employment rate", "Out of hours", "Staff time",
                     "held the case"):
            assert term in text, (key, term)


def _soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def _recalculated(path, folder):
    """The workbook as LibreOffice saves it after opening it (xlsxwriter asks for a full calculation on load)."""
    folder.mkdir(exist_ok=True)
    subprocess.run([_soffice(), f"-env:UserInstallation=file://{folder}/profile", "--headless", "--convert-to", "xlsx",
                    "--outdir", str(folder), str(path)], check=True, capture_output=True, timeout=240)
    return openpyxl.load_workbook(folder / path.name, data_only=True)


@pytest.mark.skipif(_soffice() is None, reason="LibreOffice (soffice) is not installed: the recalculation and "
                                              "print checks need it")
def test_the_opcc_returns_totals_equal_the_summary_after_libreoffice_recalculates(books, tmp_path):
    book = _recalculated(books["opcc_return"], tmp_path / "recalculated")
    summary = {row[0]: row[1] for row in table(book["Summary"])[1]}
    headings, workers = table(book["Workers"])
    service = by_heading(headings, next(r for r in workers if r[0] == "Whole service"))
    for heading in ("Active caseload at the end of the period", "People starting paid work or their own business",
                    "Face-to-face hours", "Staff time not tied to a client (total)"):
        assert service[heading] == pytest.approx(summary[heading]), heading
    target = next(h for h in headings if h.startswith("Target: People accessing"))
    summary_book = book["Summary"]
    summary_target = next(row[2] for row in summary_book.iter_rows(values_only=True)
                          if row[0] == "People accessing the service (engaged in the period)")
    assert service[target] == pytest.approx(summary_target)
    case_headings, cases = table(book["Cases"])
    total = by_heading(case_headings, next(r for r in cases if r[0] == "Total"))
    # A formula over the cases' unrounded hours: the same figure as the Summary's at the two decimals both show.
    assert round(total["Face-to-face hours"], 2) == summary["Face-to-face hours"]
    assert total["Paid starts in period"] == summary["Jobs and businesses started"]


@pytest.mark.skipif(_soffice() is None, reason="LibreOffice (soffice) is not installed: the print check needs it")
def test_libreoffice_prints_the_opcc_return_on_landscape_pages(books, tmp_path):
    out = tmp_path / "pdf"
    subprocess.run([_soffice(), f"-env:UserInstallation=file://{tmp_path}/profile", "--headless", "--convert-to", "pdf",
                    "--outdir", str(out), str(books["opcc_return"])], check=True, capture_output=True, timeout=240)
    pdf = (out / "opcc_return.pdf").read_bytes()
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert boxes and all(float(w) > float(h) for w, h in boxes)  # every page landscape
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    # Seven sheets, one page wide: the 100 demo case files fit on a few pages, not dozens.
    assert 7 <= pages <= 12
