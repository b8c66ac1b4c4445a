"""Workbooks: one module per report, one look (styling.py), and the registry the export jobs read."""
from __future__ import annotations

from functools import partial
from typing import Sequence

from exports import evaluator_extract, grant_ledger, kpi_workbook, opcc_return
from exports.base import Build, ExportContext, Report

__all__ = ["REPORTS", "ExportContext", "Report", "enable_grants", "register"]

REPORTS: dict[str, Report] = {}


def register(report: Report) -> Report:
    """Add a report, or replace the one with the same key."""
    REPORTS[report.key] = report
    return report


# Who may receive each report: the KPI workbook and the OPCC return name workers, so never the evaluator.
OPCC_ROLES = ("commissioner", "manager", "admin")
register(Report("opcc_return", opcc_return.TITLE, "OPCC (quarterly)", opcc_return.build, OPCC_ROLES))
register(Report("evaluator_extract", evaluator_extract.TITLE, "Evaluator (pseudonymised)", evaluator_extract.build,
                ("evaluator", "manager", "admin")))
register(Report("kpi_fidelity", kpi_workbook.TITLE, "Manager, OPCC (aggregate, per worker)", kpi_workbook.build,
                OPCC_ROLES))


def enable_grants(ledger_rows: grant_ledger.LedgerRows, ledger_columns: Sequence[tuple[str, str]],
                  pot_figures: opcc_return.PotFigures, payment_rows: grant_ledger.LedgerRows | None = None,
                  payment_columns: Sequence[tuple[str, str]] = ()) -> None:
    """Register the grant ledger and give the OPCC return its "Grant pots" sheet.

    Called once the grant pot exists: enable_grants(grants.ledger_rows, grants.LEDGER_COLUMNS, grants.pot_figures,
    grants.payment_rows, grants.PAYMENT_COLUMNS).
    """
    opcc: Build = partial(opcc_return.build, pot_figures=pot_figures)
    register(Report("opcc_return", opcc_return.TITLE, "OPCC (quarterly)", opcc, OPCC_ROLES))
    ledger: Build = partial(grant_ledger.build, ledger_rows=ledger_rows, ledger_columns=ledger_columns,
                            pot_figures=pot_figures, payment_rows=payment_rows, payment_columns=payment_columns)
    register(Report("grant_ledger", grant_ledger.TITLE, "Manager, grant panel, OPCC", ledger,
                    ("manager", "grant_panel", "commissioner", "admin")))


def _enable_the_grant_pot() -> None:
    from admin_app import grants

    enable_grants(grants.ledger_rows, grants.LEDGER_COLUMNS, grants.pot_figures, grants.payment_rows,
                  grants.PAYMENT_COLUMNS)


_enable_the_grant_pot()
