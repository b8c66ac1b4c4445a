"""Who held a case on which days: per-worker figures credit each day, contact and outcome to the holder on its date."""
from __future__ import annotations

from datetime import date, timedelta

from admin_app.metrics.records import CaseRecord

Interval = tuple[date, date]  # inclusive
ALWAYS: list[Interval] = [(date.min, date.max)]


def holdings(case: CaseRecord) -> list[tuple[str | None, list[Interval]]]:
    """(worker id, days held) for everyone who held the case, in the order they first held it.

    Each assignment holds from its date until the day before the next one; of several on one day the last
    recorded wins. The first holder also holds the days before the first assignment (a case file is assigned
    on its referral). A case file without a history was held by its current worker throughout.
    """
    entries = sorted(case.assignments, key=lambda a: a.start)  # stable: same-day entries keep their order
    if not entries:
        return [(case.worker_id, list(ALWAYS))]
    held: dict[str | None, list[Interval]] = {}
    for i, entry in enumerate(entries):
        lo = date.min if i == 0 else entry.start
        hi = entries[i + 1].start - timedelta(days=1) if i + 1 < len(entries) else date.max
        if lo <= hi:
            days = held.setdefault(entry.worker_id, [])
            if days and days[-1][1] + timedelta(days=1) == lo:
                days[-1] = (days[-1][0], hi)
            else:
                days.append((lo, hi))
    return list(held.items())


def holder_on(case: CaseRecord, day: date) -> str | None:
    """The worker who held the case on a day."""
    for worker, days in holdings(case):
        if within(day, days):
            return worker
    return None


def within(day: date | None, days: list[Interval] | None) -> bool:
    """Whether a day is among the held days (None: every day)."""
    if days is None:
        return True
    return day is not None and any(lo <= day <= hi for lo, hi in days)


def overlaps(days: list[Interval], lo: date, hi: date) -> bool:
    return any(a <= hi and b >= lo for a, b in days)
