"""Streaming the case files an export covers: projected documents beside their metrics records."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any, Iterable, Iterator

from admin_app.metrics.kpis import not_closed_intervals, paid_starts_in
from admin_app.metrics.periods import Period
from admin_app.metrics.records import BATCH_SIZE, CASE_PROJECTION, CLIENTS, CaseRecord, case_from_document, referred_by


def projection(*extra: str) -> dict[str, int]:
    """The metrics projection plus the extra fields an export shows (never a parent and its child together)."""
    fields = set(CASE_PROJECTION) | set(extra)
    return {f: 1 for f in sorted(fields) if not any(f.startswith(p + ".") for p in fields)}


def stream(db: Any, match: Mapping[str, Any], period: Period, fields: Mapping[str, int],
           sort: str | None = None) -> Iterator[tuple[Mapping[str, Any], CaseRecord]]:
    """(document, record) for each case file in scope that the period touches (see `touches`)."""
    for doc, record in read(db, match, period, fields, sort):
        if touches(record, period):
            yield doc, record


def read(db: Any, match: Mapping[str, Any], period: Period, fields: Mapping[str, int],
         sort: str | None = None) -> Iterator[tuple[Mapping[str, Any], CaseRecord]]:
    """(document as at the period end, record) for each case file in scope referred by the period end, in one
    read: what a report needs for the period and for the periods before it that it compares with."""
    cursor = db[CLIENTS].find(referred_by(match, period.end), projection=dict(fields), batch_size=BATCH_SIZE)
    if sort:
        cursor = cursor.sort(sort, 1)
    try:
        for stored in cursor:
            doc = as_at(stored, period.end)
            record = case_from_document(doc)
            if record is not None:
                yield doc, record
    finally:
        cursor.close()


#: Dates on a list's items that say when the item came to be; an item dated after the period end is left out.
ITEM_DATES = {"outcomes": "start_date", "assignments": "start", "grant_bids": "submitted_date"}
#: Dates on an item that a later step fills in (a job's end, a disclosure's written report): cleared when after.
LATER_STEPS = {"outcomes": ("end_date", "reason_for_leaving"), "disclosures": ("written_report_date",)}


def as_at(doc: Mapping[str, Any], end: date) -> dict[str, Any]:
    """The case file as it stood at the end of a day: a past period's workbook shows what was true then, so
    re-running it later gives the same figures. Later assessments, consents and decisions, later items of every
    list and later end dates are left out."""
    limit = datetime(end.year, end.month, end.day)
    out = dict(doc)

    def later(value: Any) -> bool:
        return isinstance(value, datetime) and value > limit

    assessment = doc.get("assessment")
    if isinstance(assessment, Mapping) and later(assessment.get("date")):
        # Not assessed yet: no vocational profile, so no Vocational Action Plan either (its goals carry no dates).
        out["assessment"] = {}
        out["plan_goals"] = []
    consent = doc.get("consent")
    if isinstance(consent, Mapping) and later(consent.get("date")):
        # Only the date goes: whether the client consents is decided as things stand now, since consent given
        # since lets their past be shared and a withdrawal must take effect at once (the one way a re-run differs).
        out["consent"] = {k: v for k, v in consent.items() if k != "date"}
    referral = doc.get("referral")
    if isinstance(referral, Mapping) and later(referral.get("decision_date")):
        out["referral"] = {**{k: v for k, v in referral.items()
                              if k not in ("decision_date", "rejection_reason", "rationale", "decided_by")},
                           "decision": "pending"}
    for name, value in list(out.items()):
        if not isinstance(value, list) or not value or not isinstance(value[0], Mapping):
            continue
        key = ITEM_DATES.get(name, "date")
        kept = []
        for item in value:
            if later(item.get(key)):
                continue
            cleared = [field for field in LATER_STEPS.get(name, ()) if later(item.get(LATER_STEPS[name][0]))]
            kept.append({k: v for k, v in item.items() if k not in cleared} if cleared else item)
        out[name] = kept
    return out


def touches(case: CaseRecord, period: Period) -> bool:
    """Referred in the period, open (not closed) on a day of it, or with a contact, employer contact or outcome in it.

    Every figure of the period comes from such case files, so a per-case sheet adds up to the report.
    """
    if case.referral_date > period.end:
        return False
    if case.referral_date in period:
        return True
    if any(lo <= period.end and hi >= period.start for lo, hi in not_closed_intervals(case)):
        return True
    return (any(c.date in period for c in case.contacts) or any(e.date in period for e in case.employer_contacts)
            or any(o.start in period for o in case.outcomes))


def status_on(case: CaseRecord, day: date) -> str | None:
    """The case status on a day, replaying the status history (None before the referral)."""
    if day < case.referral_date:
        return None
    if not case.status_history:
        return case.status
    status = "referred"
    for change in sorted(case.status_history, key=lambda s: s.date):  # stable: same-day changes keep their order
        if change.date > day:
            break
        status = change.status
    return status


def status_before(case: CaseRecord, period: Period) -> str | None:
    return status_on(case, period.start - timedelta(days=1))


def paid_starts(case: CaseRecord, period: Period) -> int:
    return len(paid_starts_in(case, period))


def day(value: Any) -> date | None:
    """A stored date (a datetime in MongoDB) as a date."""
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def items(doc: Mapping[str, Any], name: str) -> Iterable[Mapping[str, Any]]:
    return [item for item in doc.get(name) or () if isinstance(item, Mapping)]
