"""Export runs: from a schedule or a request to a workbook in GridFS and, for schedules, one email.

Every step is a conditional update on the run document, so a dispatcher that ticks twice, a task
delivered twice or a worker that restarts mid-way cannot make a second run for the same schedule
and period, build one run twice at once, or send its email twice:

    queued --build--> building --> built --deliver--> sending --> sent
                                      ^                  |
                                      +-- SMTP refused --+   (retried with back-off; after the
                                                              last try: failed, managers told)
"""
from __future__ import annotations

import hashlib
import io
import os
import secrets
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Mapping
from zoneinfo import ZoneInfo

import cron_descriptor
import gridfs
from bson import ObjectId, json_util
from croniter import CroniterBadDateError, croniter
from mongoengine import NotUniqueError

from admin_app.crypto import encrypt
from admin_app.db import database
from admin_app.mail import XLSX, Attachment, MailNotSent, send_mail
from admin_app.metrics import periods
from admin_app.metrics.periods import Period
from admin_app.models.exports import ExportRun, ExportSchedule, Notice

LOCAL = ZoneInfo("Europe/London")
FILES = "export_files"
#: A build or a send that has held its run this long is taken to have died with its worker.
LEASE = timedelta(minutes=30)
PERIOD_RULES = {
    "previous_quarter": periods.previous_quarter,
    "previous_month": periods.previous_month,
    "fy_to_date": periods.financial_year_to_date,
}


# --- pure rules -----------------------------------------------------------------------------------

def period_for(rule: str, day: date) -> Period:
    """The period a schedule's rule names, for a run due on `day` (UK date)."""
    return PERIOD_RULES[rule](day)


def cron_problem(expression: str | None) -> str | None:
    """None if the timing is a valid five-field cron expression, else what is wrong with it."""
    text = (expression or "").strip()
    if len(text.split()) != 5 or not croniter.is_valid(text):
        return ("Timing must be five cron fields: minute hour day-of-month month day-of-week, "
                "for example “0 7 5 1,4,7,10 *” (07:00 on the 5th of each quarter's first month).")
    try:
        croniter(text, datetime(2000, 1, 1)).get_next(datetime)
    except (CroniterBadDateError, ValueError):
        return "This timing never comes round (for example the 31st of February); choose a date that exists."
    return None


def cron_description(expression: str | None) -> str:
    """A valid timing in words, e.g. "At 07:00, on day 5 of the month, only in January, April, July, and October"."""
    if cron_problem(expression):
        return ""
    options = cron_descriptor.Options()
    options.use_24hour_time_format = True
    return cron_descriptor.get_description(expression.strip(), options)


def next_due(expression: str, after: datetime) -> datetime:
    """The first time the cron expression fires after `after`; both naive UTC, the cron read in UK time."""
    local = after.replace(tzinfo=ZoneInfo("UTC")).astimezone(LOCAL)
    fire = croniter(expression.strip(), local).get_next(datetime)
    return fire.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def local_date(moment: datetime) -> date:
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(LOCAL).date()


def run_key(schedule_id: Any, period: Period) -> str:
    return f"{schedule_id}:{period.start.isoformat()}:{period.end.isoformat()}"


def backoff_seconds(attempt: int, base: int) -> int:
    """The wait before send attempt number `attempt + 1`: base, 2×base, 4×base, … capped at an hour."""
    return min(3600, base * 2 ** max(0, attempt - 1))


# --- creating runs --------------------------------------------------------------------------------

def encode_match(match: Mapping[str, Any]) -> str:
    return json_util.dumps(dict(match))


def decode_match(text: str | None) -> dict[str, Any]:
    return json_util.loads(text) if text else {}


def create_run(report: str, period: Period, *, match: Mapping[str, Any], scope: str, started_by: str,
               started_by_user: Any = None, schedule: ExportSchedule | None = None, notes: str = "") -> ExportRun:
    """A queued run. For a schedule, the existing run for that schedule and period if there is one."""
    run = ExportRun(report=report, period_start=period.start, period_end=period.end, scope=scope,
                    match_json=encode_match(match), notes=notes or "", started_by=started_by,
                    started_by_user=started_by_user)
    if schedule is not None:
        run.schedule = schedule
        run.schedule_name = schedule.name
        run.dedupe_key = run_key(schedule.pk, period)
        run.delivery = schedule.delivery
        run.recipients = list(schedule.recipients)
    try:
        return run.save()
    except NotUniqueError:
        return ExportRun.objects.get(dedupe_key=run.dedupe_key)


def dispatch_due(now: datetime, resolve_scope) -> list[str]:
    """Claim each active schedule that is due and create its run; the ids of runs to build.

    Claiming moves the schedule's next_due_at on with a conditional update, so two dispatchers (or
    a retried tick) claim it once; the run's unique key stops a second run for the same period even
    if a claim is repeated after a crash. A run still queued from an earlier tick is handed out again.
    """
    to_build: list[str] = []
    for schedule in ExportSchedule.objects(active=True, next_due_at__lte=now):
        due = schedule.next_due_at
        claimed = ExportSchedule.objects(pk=schedule.pk, next_due_at=due).update_one(
            set__next_due_at=next_due(schedule.cron, max(now, due)), set__last_dispatched_at=now)
        if not claimed:
            continue
        period = period_for(schedule.period_rule, local_date(due))
        try:
            match, scope = resolve_scope(schedule.scope, None)
        except ValueError as exc:
            run = create_run(schedule.report, period, match={"_id": {"$in": []}}, scope=schedule.scope or "",
                             started_by=f"schedule “{schedule.name}”", schedule=schedule)
            fail(run, f"The schedule's scope could not be used: {exc}")
            continue
        run = create_run(schedule.report, period, match=match, scope=scope, started_by=f"schedule “{schedule.name}”",
                         schedule=schedule, notes=schedule.notes or "")
        to_build.append(str(run.pk))
    # Runs whose build task was lost (queued long ago, never started) are handed out again.
    for run in ExportRun.objects(status="queued", queued_at__lte=now - LEASE).only("id"):
        to_build.append(str(run.pk))
    return sorted(set(to_build))


# --- building -------------------------------------------------------------------------------------

def _claim(run_id: str, from_status: str, to_status: str, stamp: str, now: datetime) -> ExportRun | None:
    """Move the run on if it is in `from_status`, or stuck in `to_status` past the lease; else None."""
    collection = ExportRun._get_collection()
    field = ExportRun._fields[stamp].db_field
    found = collection.find_one_and_update(
        {"_id": ObjectId(run_id), "$or": [{"status": from_status},
                                          {"status": to_status, field: {"$lte": now - LEASE}}]},
        {"$set": {"status": to_status, field: now}})
    return ExportRun.objects(pk=run_id).first() if found else None


def build(run_id: str, pseudonym_key: str, now: datetime | None = None, *, min_group: int = 5,
          date_precision: str = "month") -> ExportRun | None:
    """Build the run's workbook into GridFS once. Returns the run, or None if another build holds it.

    `min_group` and `date_precision` are the evaluator extract's disclosure control (settings)."""
    from exports import REPORTS, ExportContext

    now = now or datetime.utcnow()
    run = _claim(run_id, "queued", "building", "started_at", now)
    if run is None:
        return None
    report = REPORTS.get(run.report)
    if report is None:
        return fail(run, f"There is no report called “{run.report}”.")
    period = Period(run.period_start, run.period_end)
    context = ExportContext(period=period, match=decode_match(run.match_json), generated_at=now,
                            generated_by=run.started_by, schedule=run.schedule_name, pseudonym_key=pseudonym_key,
                            notes=run.notes or "", min_group=min_group, date_precision=date_precision)
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        row_counts = report.build(database(), path, context)
        digest = hashlib.sha256()
        with open(path, "rb") as workbook:
            for chunk in iter(lambda: workbook.read(1 << 20), b""):
                digest.update(chunk)
            workbook.seek(0)
            filename = report.filename(period)
            file_id = gridfs.GridFS(database(), collection=FILES).put(
                workbook, filename=filename, contentType=XLSX, metadata={"run": run.pk})
        size = os.path.getsize(path)
    except Exception as exc:  # the run records why; the worker goes on
        return fail(run, f"The workbook could not be built: {type(exc).__name__}: {exc}")
    finally:
        os.unlink(path)
    ExportRun.objects(pk=run.pk).update_one(
        set__status="built", set__built_at=datetime.utcnow(), set__row_counts={k: int(v) for k, v in row_counts.items()},
        set__file_id=file_id, set__filename=filename, set__size=size, set__checksum=digest.hexdigest(),
        unset__error=True)
    if not run.recipients:
        # Nothing to send: the run ends here, ready to download.
        ExportRun.objects(pk=run.pk).update_one(set__finished_at=datetime.utcnow())
    return ExportRun.objects.get(pk=run.pk)


def remove_old_files(now: datetime, keep_days: int) -> int:
    """Delete the workbooks of runs built more than `keep_days` ago; the runs stay, saying when the file went."""
    removed = 0
    files = gridfs.GridFS(database(), collection=FILES)
    for run in ExportRun.objects(file_id__exists=True, built_at__lte=now - timedelta(days=keep_days)).only("id", "file_id"):
        files.delete(run.file_id)
        removed += ExportRun.objects(pk=run.pk, file_id=run.file_id).update_one(unset__file_id=True,
                                                                              set__file_removed_at=now)
    return removed


def open_file(run: ExportRun):
    """The stored workbook, a file-like GridOut."""
    return gridfs.GridFS(database(), collection=FILES).get(run.file_id)


# --- delivering -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Delivery:
    sent: bool
    reason: str = ""


def deliver(run_id: str, settings, now: datetime | None = None) -> Delivery:
    """Send a built run's email(s) once. Raises MailNotSent (run back to built) if SMTP refused."""
    now = now or datetime.utcnow()
    run = _claim(run_id, "built", "sending", "sending_at", now)
    if run is None:
        current = ExportRun.objects(pk=run_id).only("status").first()
        return Delivery(False, f"run is {current.status if current else 'gone'}")
    # Checked again at send time: a user may have left or changed role, an allow-list entry gone, since it was set.
    from admin_app.privacy.sharing import recipient_problems

    problems = recipient_problems(run.report, run.recipients, run.delivery or "link")
    if problems:
        fail(run, "Not sent to anyone: " + " ".join(problems), settings)
        return Delivery(False, "recipients refused")
    ExportRun.objects(pk=run.pk).update_one(inc__mail_attempts=1)
    try:
        if not run.workbook_mail_id:
            message_id = _send_workbook(run, settings)
            ExportRun.objects(pk=run.pk).update_one(set__workbook_mail_id=message_id)
        if run.delivery == "attachment" and not run.password_mail_id:
            message_id = send_mail(settings, run.recipients, f"Password for {_subject(run)}",
                                   _password_body(run), message_id=_message_id(run, "password", settings))
            ExportRun.objects(pk=run.pk).update_one(set__password_mail_id=message_id)
    except MailNotSent as exc:
        ExportRun.objects(pk=run.pk, status="sending").update_one(set__status="built", set__error=f"Email not sent: {exc}")
        raise
    ExportRun.objects(pk=run.pk, status="sending").update_one(
        set__status="sent", set__finished_at=datetime.utcnow(), unset__error=True)
    return Delivery(True)


def give_up(run_id: str, reason: str, settings) -> None:
    """Sending failed for good: the run is failed and every manager is told, in the app and by email if it works."""
    run = ExportRun.objects(pk=run_id).first()
    if run is not None:
        fail(run, f"Email not sent after {run.mail_attempts} attempts: {reason}", settings)


def fail(run: ExportRun, error: str, settings=None) -> ExportRun:
    ExportRun.objects(pk=run.pk).update_one(set__status="failed", set__error=error[:2000],
                                            set__finished_at=datetime.utcnow())
    text = f"Export run failed: {run.schedule_name or run.report}, {run.period_start} to {run.period_end}. {error}"[:500]
    Notice(role="manager", text=text, link=f"/admin/exportrun/details/?id={run.pk}").save()
    if settings is not None:
        _tell_managers(settings, text, run)
    return ExportRun.objects.get(pk=run.pk)


def _tell_managers(settings, text: str, run: ExportRun) -> None:
    from admin_app.models import Role, User

    role = Role.objects(name="manager").first()
    emails = [user.email for user in User.objects(roles=role, active=True).only("email")] if role else []
    if not emails:
        return
    try:
        send_mail(settings, emails, "Export run failed", f"{text}\n\nDetails: {settings.base_url}/admin/exportrun/details/?id={run.pk}\n")
    except MailNotSent:
        pass  # the in-app notice stands; the mail server is the thing that is down


def _subject(run: ExportRun) -> str:
    from exports import REPORTS

    report = REPORTS.get(run.report)
    title = report.title if report else run.report
    return f"{title}, {run.period_start:%d/%m/%Y} to {run.period_end:%d/%m/%Y}"


def _message_id(run: ExportRun, part: str, settings) -> str:
    domain = settings.mail_from.rpartition("@")[2] or "e4e.local"
    return f"<export-run-{run.pk}-{part}@{domain}>"


def _send_workbook(run: ExportRun, settings) -> str:
    link = f"{settings.base_url}/admin/exportrun/download/{run.pk}"
    if run.delivery == "attachment":
        password = _attachment_password(run)
        body = (f"{_subject(run)} is attached, protected with a password that follows in a separate email.\n\n"
                f"Rows: {_rows(run)}\nSHA-256 of the unprotected workbook: {run.checksum}\n")
        attachment = Attachment(run.filename, protect(open_file(run).read(), password), XLSX)
        return send_mail(settings, run.recipients, _subject(run), body, [attachment], _message_id(run, "workbook", settings))
    body = (f"{_subject(run)} is ready. Sign in to download it:\n{link}\n\n"
            f"Rows: {_rows(run)}\nSHA-256: {run.checksum}\n")
    return send_mail(settings, run.recipients, _subject(run), body, message_id=_message_id(run, "workbook", settings))


def _attachment_password(run: ExportRun) -> str:
    """The run's one password, made on first use and kept encrypted so a retry sends the same one."""
    if not run.attachment_password:
        ExportRun._get_collection().update_one(
            {"_id": run.pk, "attachment_password": {"$exists": False}},
            {"$set": {"attachment_password": encrypt(secrets.token_urlsafe(12))}})
    return ExportRun.objects.get(pk=run.pk).attachment_password


def _password_body(run: ExportRun) -> str:
    fresh = ExportRun.objects.get(pk=run.pk)
    return (f"The password to open {fresh.filename}, sent to you in a separate email, is:\n\n"
            f"    {fresh.attachment_password}\n\nDo not forward this email with the workbook.\n")


def _rows(run: ExportRun) -> str:
    fresh = ExportRun.objects.get(pk=run.pk)
    return ", ".join(f"{sheet} {count}" for sheet, count in (fresh.row_counts or {}).items()) or "none"


def protect(workbook: bytes, password: str) -> bytes:
    """The workbook encrypted with the password (Office standard encryption, opens in Excel)."""
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(workbook)).encrypt(password, out)
    return out.getvalue()
