"""Alerts to administrators (a locked account, repeated probing): a notice on their home page and an email.

The email goes through a background job, like every other email the app sends; an alert about the same
thing is raised once per window, however often it recurs.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from pymongo.errors import DuplicateKeyError

from admin_app import audit
from admin_app.mail import MailNotSent, send_mail
from admin_app.models.audit import AuditEvent
from admin_app.models.exports import AlertWindow, Notice
from admin_app.models.people import Role, User
from admin_app.permissions import ADMIN_ROLE

log = logging.getLogger(__name__)


def alert_admins_once(subject: str, text: str, *, key: str, minutes: int, link: str | None = None) -> bool:
    """Tell every administrator, unless an alert about `key` was raised in the last `minutes`.

    A notice in the app now, an email through the job queue; True if this call raised the alert.
    """
    from jobs.celery_app import later

    key = key[:80]
    if not _claim_window(key, minutes):
        return False
    audit.record("alert", collection="users", record_id=key, summary=text)
    Notice(role=ADMIN_ROLE, text=text[:500], link=link).save()
    later("alerts.email_admins", subject, text)
    return True


def _claim_window(key: str, minutes: int) -> bool:
    """True for the one caller that starts `key`'s quiet period: an ended window is taken over by a conditional
    update, a new one by an insert that the unique _id lets only one caller make."""
    now = datetime.utcnow()
    windows = AlertWindow._get_collection()
    until = now + timedelta(minutes=minutes)
    if windows.update_one({"_id": key, "until": {"$lte": now}}, {"$set": {"until": until}}).matched_count:
        return True
    try:
        windows.insert_one({"_id": key, "until": until})
    except DuplicateKeyError:
        return False
    return True


def email_admins_now(settings, subject: str, text: str) -> int:
    """Email the active administrators; how many were sent to (0 when the mail server refuses)."""
    role = Role.objects(name=ADMIN_ROLE).first()
    emails = [user.email for user in User.objects(roles=role, active=True).only("email")] if role else []
    if not emails:
        return 0
    try:
        send_mail(settings, emails, subject, f"{text}\n\nSee the audit log: {settings.base_url.rstrip('/')}/admin/auditevent/\n")
    except MailNotSent as exc:
        log.warning("alert to administrators not sent (the notice in the app stands): %s", exc)
        return 0
    return len(emails)


#: Refused or not-found openings of records by one user within the window that alert the administrators.
PROBE_LIMIT = 5
PROBE_WINDOW_MINUTES = 10


def note_probe(action: str, collection: str, record_id, summary: str) -> None:
    """Audit a refused or not-found attempt on a record (who, what id, from where, by audit.record); the
    PROBE_LIMIT-th within the window alerts the administrators, once per window."""
    event = audit.record(action, collection=collection, record_id=record_id, summary=summary)
    since = datetime.utcnow() - timedelta(minutes=PROBE_WINDOW_MINUTES)
    attempts = AuditEvent.objects(actor=event.actor, action__in=["refused", "not_found"], at__gte=since).count()
    if attempts >= PROBE_LIMIT:
        alert_admins_once(f"Repeated refused or missing records: {event.actor}",
                          f"{event.actor} (from {event.ip}) asked for {attempts} records they may not open, or that do "
                          f"not exist, within {PROBE_WINDOW_MINUTES} minutes; the last was {collection} {record_id}.",
                          key=f"probing:{event.actor}", minutes=PROBE_WINDOW_MINUTES,
                          link="/admin/auditevent/")
