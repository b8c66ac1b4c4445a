"""Demo case files in an in-memory MongoDB, and a way to build any export and open it again with openpyxl."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Mapping

import mongoengine
from mongoengine import fields as mf
import openpyxl

from tests.database import connect
import exports
from admin_app.demo import generate_demo
from admin_app.metrics.periods import Period, financial_year, quarter
from admin_app.models.people import Role, User

TODAY = date(2026, 3, 15)
QUARTER = quarter(2025, 3)        # October to December 2025
YEAR = financial_year(2024)       # April 2024 to March 2025
DB_NAME = "exports_test"


def seed_demo_db():
    """100 demo case files (with staff, employers and general employer contacts), in a fresh in-memory database."""
    db = connect(DB_NAME)
    worker, manager = Role(name="worker").save(), Role(name="manager").save()
    workers = [User(email=f"worker{i}@test.e4e", name=name, roles=[worker]).save()
               for i, name in enumerate(("Amara Okafor", "Jordan Hayes", "Priya Sandhu", "Marcus Bell"), start=1)]
    managers = [User(email="manager@test.e4e", name="Grace Mensah", roles=[manager]).save()]
    generate_demo(workers, managers, TODAY)
    return db


def drop_demo_db(db) -> None:
    db.client.drop_database(db.name)
    mongoengine.disconnect_all()


def context(period: Period, match: Mapping[str, Any] | None = None, key: str = "evaluation-key-1",
            notes: str = "", schedule: str | None = None) -> exports.ExportContext:
    return exports.ExportContext(period=period, match=match or {}, generated_at=datetime(2026, 3, 15, 7, 0),
                                 generated_by="manager@test.e4e", schedule=schedule, pseudonym_key=key, notes=notes)


def build(db, report: str, ctx: exports.ExportContext, folder) -> tuple[openpyxl.Workbook, dict[str, int]]:
    """Build a registered report to a file and open it as a reader would (cached formula values)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / exports.REPORTS[report].filename(ctx.period)
    rows = exports.REPORTS[report].build(db, str(path), ctx)
    return openpyxl.load_workbook(path, data_only=True), rows


def table(sheet) -> tuple[list[str], list[tuple]]:
    """A table sheet's headings and rows."""
    values = list(sheet.iter_rows(values_only=True))
    return list(values[0]), values[1:]


def by_heading(headings: list[str], row: tuple) -> dict[str, Any]:
    return dict(zip(headings, row))


def day(value: Any) -> Any:
    return value.date() if isinstance(value, datetime) else value


def free_text(document) -> list[str]:
    """Every value of a free-text field (a string field without a choice list) in a document, nested ones too."""
    found: list[str] = []
    for name, field in document._fields.items():
        value = getattr(document, name, None)
        if name == "start_time":
            continue  # a contact's time of day ("09:00"), not text anyone wrote
        if isinstance(field, mf.ListField):
            inner = field.field
            for item in value or ():
                if isinstance(inner, mf.EmbeddedDocumentField):
                    found += free_text(item)
                elif isinstance(inner, mf.StringField) and not inner.choices and item:
                    found.append(item)
        elif isinstance(field, mf.EmbeddedDocumentField) and value is not None:
            found += free_text(value)
        elif isinstance(field, mf.StringField) and not field.choices and value:
            found.append(value)
    return found
