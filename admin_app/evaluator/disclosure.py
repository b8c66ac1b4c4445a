"""Consent and disclosure control, the same on every evaluator channel: dashboard, API and extract.

A client without recorded consent and a signed Information Sharing Agreement version is absent from all of
them: `CONSENTED` is the one MongoDB match that says so and `consented` the same rule over a stored document.
"""
from __future__ import annotations

from collections.abc import Mapping
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
