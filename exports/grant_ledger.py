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


def column_for(key: str, heading: str) -> Column:
    if "£" in heading:
        return Column(heading, "money")
    if key == "date" or key.endswith("_date"):
        return Column(heading, "date")
    return Column(heading, "text")


def build(db: Any, path: str, ctx: ExportContext, *, ledger_rows: LedgerRows,
          ledger_columns: Sequence[tuple[str, str]], pot_figures: PotFigures) -> dict[str, int]:
    book = Book(path, ctx, TITLE, AUDIENCE)
    ledger = book.table("Ledger", [column_for(key, heading) for key, heading in ledger_columns],
                        "One row per bid submitted in the period and one per payment made in it")
    for row in ledger_rows(db, ctx.period.start, ctx.period.end, dict(ctx.match)):
        ledger.add([row.get(key) for key, _ in ledger_columns])
    ledger.close()
    pots = book.table("Pots", [c for _, c in POT_COLUMNS],
                      f"Each pot as it stood on {ctx.period.end:%d/%m/%Y}: total, committed, paid, remaining")
    for row in pot_figures(db, ctx.period.end):
        pots.add([row.get(key) for key, _ in POT_COLUMNS])
    pots.close()
    return book.close()
