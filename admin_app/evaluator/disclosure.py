"""Consent and disclosure control, the same on every evaluator channel: dashboard, API and extract.

A client without recorded consent and a signed Information Sharing Agreement version is absent from all of
them: `CONSENTED` is the one MongoDB match that says so and `consented` the same rule over a stored document.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from admin_app import rules
from admin_app.metrics.records import both

#: Recorded consent and an ISA version holding something other than spaces (a valid query on real MongoDB).
CONSENTED: dict[str, Any] = {"consent.recorded": True, "consent.isa_version": {"$regex": r"\S"}}
AGE_BANDS = ((18, 21), (22, 25), (26, 30), (31, 35))
AGE_BAND_NAMES = tuple(f"{lo}-{hi}" for lo, hi in AGE_BANDS)
OTHER = "other"


def consented(doc: Mapping[str, Any]) -> bool:
    """Recorded consent and a signed Information Sharing Agreement version: without both nothing leaves."""
    consent = doc.get("consent") or {}
    return consent.get("recorded") is True and bool(str(consent.get("isa_version") or "").strip())


def consented_match(match: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """`match` narrowed to the clients whose data may go to the evaluator."""
    return both(match, CONSENTED)


def age_band(born: date | None, referred: date | None) -> str | None:
    """The age at referral as a band ("22-25"); neither the date of birth nor the age itself leaves."""
    if born is None or referred is None:
        return None
    age = rules.age_on(born, referred)
    return next((f"{lo}-{hi}" for lo, hi in AGE_BANDS if lo <= age <= hi), "under 18" if age < 18 else "over 35")


def generalise(value: Any, precision: str) -> str | None:
    """A date as its month ("2026-03"), quarter ("2026-Q1", calendar quarters) or year ("2026")."""
    day = value.date() if isinstance(value, datetime) else value
    if not isinstance(day, date):
        return None
    if precision == "year":
        return f"{day.year}"
    if precision == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return f"{day.year}-{day.month:02d}"


def small_groups(people: dict[Any, set], min_group: int) -> set:
    """The values to show as "other": each held by fewer than `min_group` people, and then the smallest of the
    rest until "other" itself holds at least `min_group` people (or nothing else is left)."""
    ordered = sorted(people, key=lambda value: (len(people[value]), str(value)))
    merged = {value for value in ordered if len(people[value]) < min_group}
    together = set().union(*(people[value] for value in merged)) if merged else set()
    for value in ordered:
        if not merged or len(together) >= min_group:
            break
        if value not in merged:
            merged.add(value)
            together |= people[value]
    return merged


def suppressed(count: int | None, min_group: int) -> bool:
    """A count of people from 1 to min_group - 1 is not shown (a zero is: it identifies nobody)."""
    return count is not None and 0 < count < min_group


def no_remainder(rows: list[dict[str, Any]], keys: Iterable[str]) -> list[dict[str, Any]]:
    """The rows of one table whose counts add up to a total shown elsewhere, with more withheld where needed so
    that no withheld count can be worked out as the total less the rest: where a count is withheld in one row
    only, the smallest count shown in another row is withheld too. A row's `withheld` list, where it has one,
    names what is withheld; otherwise a withheld count is None."""
    rows = [dict(row, **({"withheld": list(row["withheld"])} if "withheld" in row else {})) for row in rows]

    def hidden(row: dict[str, Any], key: str) -> bool:
        return key in row["withheld"] if "withheld" in row else row.get(key) is None

    for key in keys:
        shown = [row for row in rows if not hidden(row, key) and row.get(key)]  # a zero gives nothing away
        if sum(hidden(row, key) for row in rows) == 1 and shown:
            smallest = min(shown, key=lambda row: row[key])
            smallest[key] = None
            if "withheld" in smallest:
                smallest["withheld"].append(key)
    return rows
