"""The grant pot ledger: bids and payments of the period, and the pots as they stood at its end.

The grant functions come in as arguments (see exports.enable_grants), so this module needs no grants code.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, Sequence

from exports.base import ExportContext
from exports.opcc_return import POT_COLUMNS, PotFigures
from exports.styling import Book, Column

TITLE = "Grant pot ledger"
AUDIENCE = "Service manager, grant panel and the OPCC"

#: (pymongo db, start, end, match) -> ledger rows (dicts keyed as the ledger's columns)
LedgerRows = Callable[..., Iterable[Mapping[str, Any]]]


def _money_total(column: Column) -> Column:
    """Money columns (apart from the amount asked, which is no sum of anything paid) get a total."""
    if column.kind == "money" and not column.heading.startswith("Asked"):
        return Column(column.heading, column.kind, column.width, total=True)
    return column


def column_for(key: str, heading: str) -> Column:
    if "£" in heading:
        return Column(heading, "money")
    if key == "date" or key.endswith("_date"):
        return Column(heading, "date")
    return Column(heading, "text")


def build(db: Any, path: str, ctx: ExportContext, *, ledger_rows: LedgerRows,
          ledger_columns: Sequence[tuple[str, str]], pot_figures: PotFigures,
          payment_rows: LedgerRows | None = None, payment_columns: Sequence[tuple[str, str]] = ()) -> dict[str, int]:
    end = f"{ctx.period.end:%d/%m/%Y}"
    book = Book(path, ctx, TITLE, AUDIENCE, notes=(
        f"Every figure is as it stood at the end of the period ({end}): what happened later does not show, so the "
        "ledger of a past period stays the same.",
        "Ledger: one row per grant bid submitted, decided, moved or paid in the period. Awarded is the award "
        "standing at the period end; Paid in the period is what was paid on the bid during the period; Paid to date "
        "is everything paid on it by the period end. Each money column adds up on its own.",
        "Payments: each instalment paid in the period; they add up to the Ledger's Paid in the period.",
        "Pots: each business start-up grant pot at the period end. Committed is awarded and not released; "
        "Remaining is the total less committed (a pot can never be over-committed).",
    ))
    ledger = book.table("Ledger", [_money_total(column_for(key, heading)) for key, heading in ledger_columns],
                        f"One row per bid submitted, decided, moved or paid in the period, as it stood on {end}")
    for row in ledger_rows(db, ctx.period.start, ctx.period.end, dict(ctx.match)):
        ledger.add([row.get(key) for key, _ in ledger_columns])
    ledger.close()
    if payment_rows is not None:
        payments = book.table("Payments", [_money_total(column_for(key, heading)) for key, heading in payment_columns],
                              "One row per instalment paid in the period")
        for row in payment_rows(db, ctx.period.start, ctx.period.end, dict(ctx.match)):
            payments.add([row.get(key) for key, _ in payment_columns])
        payments.close()
    pots = book.table("Pots", [c for _, c in POT_COLUMNS],
                      f"Each pot as it stood on {ctx.period.end:%d/%m/%Y}: total, committed, paid, remaining")
    for row in pot_figures(db, ctx.period.end):
        pots.add([row.get(key) for key, _ in POT_COLUMNS])
    pots.close()
    return book.close()
