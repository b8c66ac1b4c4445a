"""Break-glass: a user holding `caseload.break_glass` may open (read only) a case file outside their caseload
after giving a reason; the opening is audited, lasts BREAK_GLASS_MINUTES, and every manager is told at once
(a notice in the app and an email through the job queue)."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from admin_app import audit
from admin_app.mail import MailNotSent, send_mail
from admin_app.models.access import BreakGlassAccess
from admin_app.models.exports import Notice
from admin_app.models.people import Role, User

log = logging.getLogger(__name__)

PERMISSION = "caseload.break_glass"
BREAK_GLASS_MINUTES = 60
MIN_REASON = 10


class ReasonNeeded(ValueError):
    pass


def open_for(user, client, reason: str, now: datetime | None = None) -> BreakGlassAccess:
    """Record the opening, audit it and tell the managers; ReasonNeeded when the reason says too little."""
    reason = " ".join((reason or "").split())
    if len(reason) < MIN_REASON:
        raise ReasonNeeded(f"Give the reason in a few words (at least {MIN_REASON} characters): "
                           "who asked, what is urgent.")
    now = now or datetime.utcnow()
    access = BreakGlassAccess(user=user.pk, email=user.email, client=client.pk, reference=client.reference,
                              reason=reason[:1000], opened_at=now,
                              expires_at=now + timedelta(minutes=BREAK_GLASS_MINUTES)).save()
    audit.record("break_glass", collection="clients", record_id=client.pk, actor=user.email,
                 summary=f"{client.reference}: opened outside their caseload (break-glass): {reason[:300]}")
    text = (f"{user.name or user.email} opened case file {client.reference} outside their caseload (break-glass) "
            f"for {BREAK_GLASS_MINUTES} minutes. Reason: {reason}")[:500]
    Notice(role="manager", text=text, link=f"/admin/casefile/{client.pk}/access").save()
    from jobs.celery_app import later

    later("privacy.email_managers", f"Break-glass opening of {client.reference}", text)
    return access


def current(user, client_id, now: datetime | None = None) -> BreakGlassAccess | None:
    """The user's break-glass opening of this case file that has not expired, if any."""
    if not getattr(user, "is_authenticated", False):
        return None
    return BreakGlassAccess.objects(user=user.pk, client=client_id,
                                    expires_at__gt=now or datetime.utcnow()).order_by("-expires_at").first()


def email_managers_now(settings, subject: str, text: str) -> int:
    """Email the active managers; how many were sent to (0 when the mail server refuses: the notice stands)."""
    role = Role.objects(name="manager").first()
    emails = [u.email for u in User.objects(roles=role, active=True).only("email")] if role else []
    if not emails:
        return 0
    try:
        send_mail(settings, emails, subject, f"{text}\n\nAccess report: {settings.base_url.rstrip('/')}/admin/\n")
    except MailNotSent as exc:
        log.warning("break-glass email to managers not sent (the notice in the app stands): %s", exc)
        return 0
    return len(emails)
