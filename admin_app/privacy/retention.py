"""Retention: a closed case file is anonymised CASE_FILE_RETENTION_YEARS after it closed, unless under a legal
hold; audit entries are deleted AUDIT_RETENTION_YEARS after they were written (export workbooks have their own
rule, EXPORT_RETENTION_DAYS). The nightly sweep and `flask retention` run the same plan; --dry-run only lists it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from admin_app import audit
from admin_app.models.audit import AuditEvent
from admin_app.models.case_file import Client
from admin_app.privacy.anonymise import CannotAnonymise, anonymise

ACTOR = "retention"


def years_after(day: date, years: int) -> date:
    """The same day `years` later (28 February for 29 February in a year without it)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def closed_on(status_history: list[dict], decision_date=None) -> date | None:
    """When the case last closed: the newest "closed" entry of its status history (the decision date of a
    rejected or withdrawn referral stored without one)."""
    days = [_day(entry.get("date")) for entry in status_history or [] if entry.get("status") == "closed"]
    days = [d for d in days if d is not None]
    if days:
        return max(days)
    return _day(decision_date)


def _day(value):
    return value.date() if isinstance(value, datetime) else value


@dataclass(frozen=True)
class Due:
    reference: str
    closed_on: date | None
    due_on: date | None
    legal_hold: str | None = None


@dataclass
class Plan:
    today: date
    case_file_years: int
    audit_years: int
    due: list[Due] = field(default_factory=list)
    held: list[Due] = field(default_factory=list)
    unknown: list[Due] = field(default_factory=list)
    upcoming: list[Due] = field(default_factory=list)
    #: Every legal hold in force, whether or not its case file is due.
    holds: list[Due] = field(default_factory=list)
    audit_before: datetime | None = None
    audit_due: int = 0


def plan(today: date, case_file_years: int, audit_years: int, horizon_days: int = 365) -> Plan:
    """What is due today, what a legal hold keeps, and what falls due within `horizon_days`."""
    result = Plan(today, case_file_years, audit_years)
    fields = {"reference": 1, "status_history.status": 1, "status_history.date": 1, "legal_hold": 1,
              "referral.decision_date": 1}
    for doc in Client._get_collection().find({"status": "closed", "anonymised_on": None}, fields).sort("reference", 1):
        closed = closed_on(doc.get("status_history"), (doc.get("referral") or {}).get("decision_date"))
        due_on = years_after(closed, case_file_years) if closed else None
        item = Due(doc["reference"], closed, due_on, doc.get("legal_hold") or None)
        if due_on is None:
            result.unknown.append(item)
        elif due_on <= today:
            (result.held if item.legal_hold else result.due).append(item)
        elif (due_on - today).days <= horizon_days:
            result.upcoming.append(item)
    for doc in Client._get_collection().find({"legal_hold": {"$type": "string"}}, fields).sort("reference", 1):
        closed = closed_on(doc.get("status_history"), (doc.get("referral") or {}).get("decision_date"))
        result.holds.append(Due(doc["reference"], closed, years_after(closed, case_file_years) if closed else None,
                                doc["legal_hold"]))
    result.audit_before = datetime.combine(years_after(today, -audit_years), datetime.min.time())
    result.audit_due = AuditEvent.objects(at__lt=result.audit_before).count()
    return result


@dataclass
class SweepResult:
    anonymised: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    audit_deleted: int = 0


def sweep(today: date, case_file_years: int, audit_years: int) -> SweepResult:
    """Carry out today's plan: anonymise each due case file not under hold, delete old audit entries."""
    due = plan(today, case_file_years, audit_years)
    result = SweepResult()
    for item in due.due:
        reason = f"retention: closed on {item.closed_on:%d/%m/%Y}, {case_file_years} years"
        try:
            anonymise(item.reference, reason, ACTOR, today)
        except CannotAnonymise as exc:  # re-opened, put on hold or changed since the plan was read
            result.skipped.append((item.reference, str(exc)))
        else:
            result.anonymised.append(item.reference)
    if due.audit_due:
        # The log is append-only for the application; its retention rule is the one deletion it allows.
        result.audit_deleted = AuditEvent._get_collection().delete_many({"at": {"$lt": due.audit_before}}).deleted_count
    audit.record("retention", actor=ACTOR, summary=(
        f"retention sweep: {len(result.anonymised)} case files anonymised, {len(due.held)} under legal hold, "
        f"{len(result.skipped)} skipped, {result.audit_deleted} audit entries older than {audit_years} years deleted"),
        changes=[{"field": "anonymised", "old": None, "new": ", ".join(result.anonymised)[:2000] or None}])
    return result


def set_legal_hold(reference: str, reason: str | None, actor: str) -> str | None:
    """Place (with a reason) or lift (reason None) a legal hold; audited. Returns the hold it replaced."""
    client = Client.objects(reference=reference).only("legal_hold", "anonymised_on").first()
    if client is None:
        raise CannotAnonymise(f"There is no case file {reference}.")
    if client.anonymised_on is not None and reason:
        raise CannotAnonymise(f"{reference} was anonymised on {client.anonymised_on:%d/%m/%Y}; there is nothing to hold.")
    before = client.legal_hold
    update = {"$set": {"legal_hold": reason, "updated_at": datetime.utcnow()}} if reason else \
        {"$unset": {"legal_hold": ""}, "$set": {"updated_at": datetime.utcnow()}}
    Client._get_collection().update_one({"_id": client.pk}, update)
    audit.record("update", collection="clients", record_id=client.pk, actor=actor,
                 summary=f"{reference}: legal hold " + (f"placed ({reason})" if reason else f"lifted (was: {before})"),
                 changes=[{"field": "legal_hold", "old": before, "new": reason}])
    return before
