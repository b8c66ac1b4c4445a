"""The background jobs: the beat-driven export dispatcher, building and emailing runs, the daily digest.

Tasks are thin: the rules live in admin_app.export_runs, whose conditional updates make every task
safe to run twice.
"""
from __future__ import annotations

import logging
from datetime import datetime

from jobs.celery_app import celery, ensure_database


log = logging.getLogger(__name__)


def settings():
    """The Flask app's settings when a task runs inside a request (embedded mode), else the worker's."""
    from flask import current_app, has_app_context

    if has_app_context() and "SETTINGS" in current_app.config:
        return current_app.config["SETTINGS"]
    return celery.conf.e4e_settings


@celery.task(name="exports.dispatch")
def dispatch_exports() -> list[str]:
    """Create the runs of every schedule now due, and hand each to a build task."""
    from admin_app import export_runs
    from admin_app.views.export_scopes import resolve_scope

    ensure_database()
    run_ids = export_runs.dispatch_due(datetime.utcnow(), resolve_scope)
    for run_id in run_ids:
        build_export.delay(run_id)
    return run_ids


@celery.task(name="exports.sweep")
def sweep_exports() -> dict:
    """Hand out again the runs whose worker died (lease expired) and the sends whose retry is due."""
    from admin_app import export_runs

    ensure_database()
    found = export_runs.sweep(datetime.utcnow())
    for run_id in found.build:
        build_export.delay(run_id)
    for run_id in found.deliver:
        deliver_export.delay(run_id)
    return {"build": found.build, "deliver": found.deliver}


@celery.task(name="exports.build")
def build_export(run_id: str) -> str | None:
    from admin_app import export_runs

    ensure_database()
    config = settings()
    run = export_runs.build(run_id, config.pseudonym_key, settings=config)
    if run is not None and run.status == "built" and run.recipients:
        deliver_export.delay(run_id)
    return run.status if run is not None else None


@celery.task(name="exports.deliver", bind=True, max_retries=None)
def deliver_export(self, run_id: str) -> bool:
    """Email a built run once. A refused send is due again after a doubling wait: with a broker this
    task comes back for it then; in every mode the sweeper does too (whichever is first sends)."""
    from admin_app import export_runs

    ensure_database()
    delivery = export_runs.deliver(run_id, settings())
    if delivery.retry_at is not None and not self.request.is_eager:
        wait = max(1.0, (delivery.retry_at - datetime.utcnow()).total_seconds())
        raise self.retry(countdown=wait)
    return delivery.sent


@celery.task(name="exports.remove_old_files")
def remove_old_export_files() -> int:
    """Workbooks hold case data: each is deleted EXPORT_RETENTION_DAYS after it was built."""
    from admin_app import export_runs

    ensure_database()
    return export_runs.remove_old_files(datetime.utcnow(), settings().export_retention_days)


@celery.task(name="digest.daily")
def send_daily_digests() -> int:
    """Each worker's and manager's morning email of due items (counts and links only)."""
    from admin_app.digest import send_digests
    from admin_app.metrics.periods import london_today

    ensure_database()
    return send_digests(settings(), london_today())


@celery.task(name="grants.check_pots")
def check_grant_pots() -> int:
    """Each night: a pot whose figures no longer match its bids gets a notice to managers."""
    from admin_app import grants
    from admin_app.db import database

    ensure_database()
    return len(grants.notify_pot_drift(database()))


@celery.task(name="dashboards.refresh")
def refresh_dashboards() -> int:
    """Recompute the dashboards' snapshots that people are looking at, before they go stale."""
    from admin_app import snapshots
    from admin_app.db import database
    from admin_app.metrics.report import load_report

    ensure_database()
    return snapshots.refresh(datetime.utcnow(),
                             lambda match, period, as_of: load_report(database(), match, period, as_of=as_of))


@celery.task(name="alerts.email_admins")
def email_admins(subject: str, text: str) -> int:
    """An alert (a locked account, repeated probing) emailed to every active administrator."""
    from admin_app.alerts import email_admins_now

    ensure_database()
    return email_admins_now(settings(), subject, text)


def _send_or_retry(task, to: str, subject: str, body: str) -> bool:
    """Send one message to one person. While the mail server refuses it, the task tries again with doubling waits,
    MAIL_RETRIES times (in embedded mode, where the task runs inside the request, it does not wait)."""
    from admin_app.export_runs import backoff_seconds
    from admin_app.mail import MailNotSent, send_mail

    config = settings()
    try:
        send_mail(config, [to], subject, body)
    except MailNotSent as exc:
        tried = task.request.retries + 1
        if task.request.is_eager or tried > config.mail_retries:
            log.warning("%s: email to %s not sent after %d attempt(s): %s", task.name, to, tried, exc)
            return False
        raise task.retry(exc=exc, countdown=backoff_seconds(tried, config.mail_retry_seconds), max_retries=None)
    return True


@celery.task(name="alerts.email_account_holder", bind=True)
def email_account_holder(self, to: str, subject: str, text: str) -> bool:
    """A change to someone's sign-in (password, two-factor) told to them, so a change they did not make is noticed;
    there is nothing in the app to see it by instead, so a refused send is tried again."""
    return _send_or_retry(self, to, subject, text)


@celery.task(name="risk.send_alert", bind=True, max_retries=None)
def send_risk_alert(self, alert_id: str) -> bool:
    """Email one risk alert once; a refusal retries with doubling waits, a repeat of the task sends nothing."""
    from admin_app import export_runs
    from admin_app.mail import MailNotSent
    from admin_app.models.risk import RiskAlert
    from admin_app.risk import alerts

    ensure_database()
    config = settings()
    try:
        return alerts.deliver(alert_id, config).sent
    except MailNotSent as exc:
        found = RiskAlert.objects(pk=alert_id).only("email_attempts").first()
        attempts = found.email_attempts if found else config.mail_retries
        if attempts >= config.mail_retries:
            return False  # the alert stands in the app; the sweep tries again later
        raise self.retry(exc=exc, countdown=export_runs.backoff_seconds(attempts, config.mail_retry_seconds))


@celery.task(name="risk.sweep")
def risk_sweep() -> dict:
    """Every minute: alert managers about visits not checked out in time; re-queue alert emails that were lost."""
    from admin_app.risk import alerts

    ensure_database()
    overdue = alerts.overdue_checkouts(alerts.london_now(), settings().lone_working_grace_minutes)
    requeued = alerts.unsent(datetime.utcnow())
    for alert_id in requeued:
        send_risk_alert.delay(alert_id)
    return {"overdue": len(overdue), "requeued": len(requeued)}


@celery.task(name="privacy.retention")
def retention_sweep() -> int:
    """Each night: anonymise closed case files past their retention period (not under hold), delete old audit entries."""
    from admin_app.metrics.periods import london_today
    from admin_app.privacy import retention

    ensure_database()
    config = settings()
    return len(retention.sweep(london_today(), config.case_file_retention_years, config.audit_retention_years).anonymised)


@celery.task(name="privacy.email_managers")
def email_managers(subject: str, text: str) -> int:
    """A break-glass opening emailed to every active manager."""
    from admin_app.privacy.break_glass import email_managers_now

    ensure_database()
    return email_managers_now(settings(), subject, text)


@celery.task(name="clientspace.send_invitation", bind=True)
def send_client_invitation(self, to: str, link: str, language: str | None = None) -> bool:
    """The client's one-time invitation to the client space, in their language as the page it opens. A refused
    send is tried again (the worker also sees the link, to pass on by hand)."""
    from admin_app.client_space.service import invitation_email

    subject, body = invitation_email(link, language)
    return _send_or_retry(self, to, subject, body)
