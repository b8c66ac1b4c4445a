"""Spreadsheet cells that hold text stay text: no formula injection (OWASP "CSV Injection")."""
from __future__ import annotations

# A spreadsheet reads a cell starting with one of these as a formula (or the start of one).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """Text a spreadsheet will show as typed: a leading quote keeps `=HYPERLINK(...)` from running."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text
