"""Instant risk alerts: raised by the writes that bring new high-risk information, emailed once by a job.

An alert is one RiskAlert document, unique by its event key, so the same event never makes two. Its email
is sent by the `risk.send_alert` task, which claims the alert with a conditional update before sending and
marks it sent after, so a retried or redelivered task sends nothing twice; a sweep on the beat re-queues an
email whose task was lost (a broker restart). The email names only the case reference and a link behind
sign-in: no risk text, no names, no kind of information leaves by email.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bson import ObjectId
from mongoengine import NotUniqueError, Q

from admin_app import audit
from admin_app.mail import MailNotSent, send_mail
from admin_app.models.case_file import Client
from admin_app.models.people import Role, User
from admin_app.models.risk import Affiliation, RiskAlert, Visit
from admin_app.risk import rules

log = logging.getLogger(__name__)

MANAGER_ROLE = "manager"
#: A claim older than this is taken to belong to a task that died mid-send; the sweep may send again.
CLAIM_MINUTES = 10
#: An alert still unsent this long after it was raised has lost its task; the sweep queues it again.
SWEEP_AFTER_MINUTES = 5


def _enqueue(alert: RiskAlert) -> None:
    from jobs.celery_app import later

    try:
        later("risk.send_alert", str(alert.pk))
    except Exception as exc:  # the broker is down: the alert stands in the app, and the sweep sends it later
        log.warning("risk alert %s not queued (the sweep will send it): %s", alert.pk, exc)


def raise_alert(kind: str, event_key: str, *, summary: str, client_id=None, reference: str | None = None,
                worker=None, visit=None, email: bool = True) -> RiskAlert | None:
    """Store the alert (once per event key) and queue its email; None if this event already has its alert.

    `email=False` (demo data only) stores it as not to be emailed."""
    alert = RiskAlert(kind=kind, event_key=event_key[:200], summary=summary[:300], client=client_id,
                      reference=reference, worker=worker, visit=visit, raised_by=audit.current_actor()[:255])
    if not email:
        alert.email_sent_at, alert.emailed_to, alert.email_error = datetime.utcnow(), 0, "demo data: not emailed"
    try:
        alert.save()
    except NotUniqueError:
        return None
    audit.record("alert", collection="risk_alerts", record_id=alert.pk,
                 summary=f"{reference or 'visit'}: {summary}"[:500])
    if email:
        _enqueue(alert)
    return alert


def _client(client_id):
    return Client.objects(pk=client_id).only("reference", "worker").first()


def note_case_write(client_id, part: str, item_id, before, after) -> RiskAlert | None:
    """Called by every add or change of a case-file item: alert when it is new high-risk information."""
    values = lambda item: None if item is None else {name: getattr(item, name, None) for name in ("level",)}
    kind = rules.case_write_alert(part, values(before), values(after))
    if kind is None:
        return None
    client = _client(client_id)
    if client is None:
        return None
    event = f"{part}:{item_id}" if before is None else f"{part}:{item_id}:raised:{ObjectId()}"
    verb = "added" if before is None else "raised to high"
    return raise_alert(kind, event, summary=f"{dict(rules.ALERT_KINDS)[kind]} {verb}", client_id=client.pk,
                       reference=client.reference, worker=client.worker)


def note_affiliation(affiliation: Affiliation, before: dict | None) -> RiskAlert | None:
    """A new or changed affiliation is a new conflict marker on its client."""
    after = {"group": affiliation.group.pk if affiliation.group else None,
             "confidence": affiliation.confidence, "ended_on": affiliation.ended_on}
    if not rules.affiliation_alert(before, after):
        return None
    client = _client(affiliation.client.pk)
    if client is None:
        return None
    return raise_alert("conflict_marker", f"affiliation:{affiliation.pk}:{ObjectId()}",
                       summary="Conflict marker: an affiliation was " + ("recorded" if before is None else "changed"),
                       client_id=client.pk, reference=client.reference, worker=client.worker)


def note_rivalries(group, added_rivals) -> list[RiskAlert]:
    """A new rivalry touches every client currently affiliated to either group: each gets one alert."""
    raised = []
    for rival in added_rivals:
        pair = sorted([str(group.pk), str(rival.pk)])
        touched = Affiliation.objects(group__in=[group.pk, rival.pk], ended_on=None).only("client").distinct("client")
        for client in touched:
            alert = raise_alert("conflict_marker", f"rivalry:{pair[0]}:{pair[1]}:{client.pk}",
                                summary="Conflict marker: a new rivalry touches this client's group",
                                client_id=client.pk, reference=client.reference, worker=client.worker)
            if alert is not None:
                raised.append(alert)
    return raised


# --- the email, once -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Sent:
    sent: bool
    why: str = ""


def recipients(alert: RiskAlert) -> list[str]:
    """The client's worker and every active manager (managers only, for a missed check-out)."""
    role = Role.objects(name=MANAGER_ROLE).first()
    emails = {u.email for u in User.objects(roles=role, active=True).only("email")} if role else set()
    if alert.kind != "overdue_checkout" and alert.worker is not None and getattr(alert.worker, "active", False):
        emails.add(alert.worker.email)
    return sorted(emails)


def email_subject(alert: RiskAlert) -> str:
    if alert.kind == "overdue_checkout":
        return "A visit has not been checked out"
    if alert.kind == "talk_now":
        return f"Client on case {alert.reference} needs to talk to someone now"
    return f"New high-risk information on case {alert.reference}"


def email_body(alert: RiskAlert, base_url: str) -> str:
    base = base_url.rstrip("/")
    if alert.kind == "overdue_checkout":
        return ("A visit has not been checked out by its end and the grace period. Contact the member of staff now.\n\n"
                f"Sign in to see the visit: {base}/admin/visit/details/?id={alert.visit.pk if alert.visit else ''}\n")
    if alert.kind == "talk_now":
        return (f"The client on case {alert.reference} pressed \"I need to talk to someone now\" in the client space "
                f"at {alert.created_at:%H:%M} UTC on {alert.created_at:%d/%m/%Y}. Contact them as soon as you can.\n\n"
                f"Sign in to see the case file: {base}/admin/casefile/{alert.client.pk if alert.client else ''}/\n"
                "Acknowledge the alert on your home page once someone has spoken to them.\n")
    return (f"There is new high-risk information on case {alert.reference}.\n\n"
            f"Sign in to see it: {base}/admin/casefile/{alert.client.pk if alert.client else ''}/\n"
            "Acknowledge it on your home page once you have read it.\n")


def _message_id(alert: RiskAlert, settings) -> str:
    domain = settings.mail_from.rpartition("@")[2] or "e4e.local"
    return f"<risk-alert-{alert.pk}@{domain}>"


def deliver(alert_id: str, settings, now: datetime | None = None) -> Sent:
    """Email the alert once. Raises MailNotSent (claim released) when the mail server refused it."""
    now = now or datetime.utcnow()
    stale = now - timedelta(minutes=CLAIM_MINUTES)
    claimed = RiskAlert.objects(Q(pk=alert_id) & Q(email_sent_at=None)
                                & (Q(email_claimed_at=None) | Q(email_claimed_at__lt=stale))) \
        .update_one(set__email_claimed_at=now, inc__email_attempts=1)
    if not claimed:
        return Sent(False, "already sent or being sent")
    alert = RiskAlert.objects(pk=alert_id).first()
    to = recipients(alert)
    if not to:
        RiskAlert.objects(pk=alert.pk, email_claimed_at=now).update_one(
            set__email_sent_at=datetime.utcnow(), set__emailed_to=0, set__email_error="nobody to email")
        return Sent(False, "nobody to email")
    try:
        message_id = send_mail(settings, to, email_subject(alert), email_body(alert, settings.base_url),
                               message_id=_message_id(alert, settings))
    except MailNotSent as exc:
        RiskAlert.objects(pk=alert.pk, email_claimed_at=now).update_one(unset__email_claimed_at=True,
                                                                       set__email_error=str(exc)[:1000])
        raise
    RiskAlert.objects(pk=alert.pk, email_claimed_at=now).update_one(
        set__email_sent_at=datetime.utcnow(), set__email_message_id=message_id, set__emailed_to=len(to),
        unset__email_error=True)
    return Sent(True)


def unsent(now: datetime) -> list[str]:
    """Alerts whose email has not gone out some minutes after they were raised (a lost task)."""
    before = now - timedelta(minutes=SWEEP_AFTER_MINUTES)
    stale = now - timedelta(minutes=CLAIM_MINUTES)
    return [str(pk) for pk in RiskAlert.objects(Q(email_sent_at=None) & Q(created_at__lt=before)
                                                & (Q(email_claimed_at=None) | Q(email_claimed_at__lt=stale)))
            .limit(200).scalar("pk")]


# --- lone working ------------------------------------------------------------------------------------

def london_now() -> datetime:
    """Now as a London wall-clock time (naive), the way visit times are stored."""
    from admin_app.metrics.periods import LONDON

    return datetime.now(LONDON).replace(tzinfo=None)


def overdue_checkouts(now_local: datetime, grace_minutes: int, email: bool = True) -> list[RiskAlert]:
    """Alert the managers once for each visit not checked out by its end plus the grace period."""
    cutoff = now_local - timedelta(minutes=grace_minutes)
    raised = []
    for visit in Visit.objects(status__in=list(rules.OPEN_VISIT_STATUSES), ends_at__lt=cutoff,
                               overdue_alerted_at=None).limit(200):
        if not rules.checkout_overdue(visit.status, visit.ends_at, now_local, grace_minutes):
            continue
        names = ", ".join(w.name or w.email for w in visit.workers if w is not None)
        where = visit.venue.name if visit.venue else "no venue"
        # The alert's event key is the visit: however many sweeps run at once, one alert is stored (the
        # unique index decides), and a sweep that died before marking the visit leaves it to the next one.
        with audit.acting_as("lone-working"):
            alert = raise_alert("overdue_checkout", f"overdue:{visit.pk}", visit=visit, email=email,
                                summary=f"{names} not checked out of the visit at {where}, "
                                        f"{visit.starts_at:%d/%m %H:%M}–{visit.ends_at:%H:%M}")
        Visit.objects(pk=visit.pk, overdue_alerted_at=None).update_one(set__overdue_alerted_at=datetime.utcnow())
        if alert is not None:
            raised.append(alert)
    return raised
