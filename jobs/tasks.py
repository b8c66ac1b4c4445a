"""The background jobs: the beat-driven export dispatcher, building and emailing runs, the daily digest.

Tasks are thin: the rules live in admin_app.export_runs, whose conditional updates make every task
safe to run twice.
"""
from __future__ import annotations

from datetime import date, datetime

from jobs.celery_app import celery, ensure_database


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
    from admin_app.export_scopes import resolve_scope

    ensure_database()
    run_ids = export_runs.dispatch_due(datetime.utcnow(), resolve_scope)
    for run_id in run_ids:
        build_export.delay(run_id)
    return run_ids


@celery.task(name="exports.build")
def build_export(run_id: str) -> str | None:
    from admin_app import export_runs

    ensure_database()
    config = settings()
    run = export_runs.build(run_id, config.pseudonym_key, min_group=config.evaluator_min_group,
                            date_precision=config.evaluator_date_precision)
    if run is not None and run.status == "built" and run.recipients:
        deliver_export.delay(run_id)
    return run.status if run is not None else None


@celery.task(name="exports.deliver", bind=True, max_retries=None)
def deliver_export(self, run_id: str) -> bool:
    """Email a built run once; SMTP refusals retry with doubling waits, then fail the run and tell managers."""
    from admin_app import export_runs
    from admin_app.mail import MailNotSent
    from admin_app.models.exports import ExportRun

    ensure_database()
    config = settings()
    try:
        return export_runs.deliver(run_id, config).sent
    except MailNotSent as exc:
        attempts = ExportRun.objects(pk=run_id).only("mail_attempts").first().mail_attempts
        if attempts >= config.mail_retries:
            export_runs.give_up(run_id, str(exc), config)
            return False
        raise self.retry(exc=exc, countdown=export_runs.backoff_seconds(attempts, config.mail_retry_seconds))


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

    ensure_database()
    return send_digests(settings(), date.today())


@celery.task(name="grants.check_pots")
def check_grant_pots() -> int:
    """Each night: a pot whose figures no longer match its bids gets a notice to managers."""
    from admin_app import grants
    from admin_app.db import database

    ensure_database()
    return len(grants.notify_pot_drift(database()))


@celery.task(name="alerts.email_admins")
def email_admins(subject: str, text: str) -> int:
    """An alert (a locked account, repeated probing) emailed to every active administrator."""
    from admin_app.alerts import email_admins_now

    ensure_database()
    return email_admins_now(settings(), subject, text)


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
