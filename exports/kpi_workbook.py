"""The IPS KPI and fidelity workbook: every figure of the report, for the service and each worker."""
from __future__ import annotations

from typing import Any

from admin_app.metrics.report import as_of_for, load_report
from exports.base import ExportContext
from exports.figures import FIGURES, anchors_table, definitions, fidelity_by_worker_table, fidelity_table, figures_table, \
    workers_table
from exports.styling import Book

TITLE = "IPS KPIs and fidelity"
AUDIENCE = "Service manager, OPCC and the evaluator (aggregate figures only)"


def build(db: Any, path: str, ctx: ExportContext) -> dict[str, int]:
    report = load_report(db, ctx.match, ctx.period, as_of=as_of_for(ctx.period, ctx.generated_at.date()))
    book = Book(path, ctx, TITLE, AUDIENCE, notes=definitions(report["as_of"]))
    figures_table(book, "KPIs", report, FIGURES, "Every KPI for the whole service, against targets and benchmarks")
    workers_table(book, "Workers", report, FIGURES,
                  "Every KPI per worker; the last row is the whole service (a sum where the figure adds up)")
    fidelity_table(book, "Fidelity", report, "IPS fidelity items scored from the data (1-5) and what they rest on")
    fidelity_by_worker_table(book, "Fidelity by worker", report, "Each data-scored fidelity item per worker")
    anchors_table(book, "Anchors", report, "The scoring anchors used: the value that earns each score")
    return book.close()
