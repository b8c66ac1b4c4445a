"""Export runs: from a schedule or a request to a workbook in GridFS and, for schedules, one email.

Every step is a conditional update on the run document, so a dispatcher that ticks twice, a task
delivered twice or a worker that restarts mid-way cannot make a second run for the same schedule
and period, build one run twice at once, or send its email twice:

    queued --build--> building --> built --deliver--> sending --> sent
                                      ^                  |
                                      +-- SMTP refused --+   (retried with back-off; after the
                                                              last try: failed, managers told)

Each step claims the run with a fresh token and a lease, and every later write of that step is
conditional on the token: a worker that died is replaced by the sweeper once its lease runs out,
and if it was only slow, its late writes change nothing.
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

from admin_app import formats
from admin_app.crypto import encrypt
from admin_app.db import database
from admin_app.mail import XLSX, Attachment, MailNotSent, send_mail
from admin_app.metrics import periods
from admin_app.metrics.periods import Period
from admin_app.models.exports import ExportRun, ExportSchedule, Notice

LOCAL = ZoneInfo("Europe/London")
FILES = "export_files"
#: A step that has held its run this long is taken to have died with its worker, and the sweeper
#: hands the run out again: a queued run whose build task was lost, a build, a send.
QUEUE_LEASE = timedelta(minutes=5)
BUILD_LEASE = timedelta(minutes=30)
SEND_LEASE = timedelta(minutes=10)
#: A build resumed this many times (its worker lost each time) fails and managers are told.
MAX_BUILDS = 3
UNFINISHED = ("queued", "building", "built", "sending")
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
               started_by_user: Any = None, schedule: ExportSchedule | None = None, notes: str = "",
               dedupe_key: str | None = None, now: datetime | None = None) -> ExportRun:
    """A queued run. For a schedule, the existing run for that schedule and period (or for that
    `dedupe_key`, one "Run now" form) if there is one."""
    now = now or datetime.utcnow()
    run = ExportRun(report=report, period_start=period.start, period_end=period.end, scope=scope,
                    match_json=encode_match(match), notes=notes or "", started_by=started_by,
                    started_by_user=started_by_user, queued_at=now, lease_until=now + QUEUE_LEASE)
    if schedule is not None:
        run.schedule = schedule
        run.schedule_name = schedule.name
        run.dedupe_key = dedupe_key or run_key(schedule.pk, period)
        run.delivery = schedule.delivery
        run.recipients = list(schedule.recipients)
    elif dedupe_key:
        run.dedupe_key = dedupe_key
    try:
        return run.save()
    except NotUniqueError:
        return ExportRun.objects.get(dedupe_key=run.dedupe_key)


def unfinished_run(schedule: ExportSchedule, period: Period) -> ExportRun | None:
    """This schedule's run for this period that is still being built or sent, if any."""
    return ExportRun.objects(schedule=schedule, status__in=UNFINISHED, period_start=period.start,
                             period_end=period.end).first()


def dispatch_due(now: datetime, resolve_scope) -> list[str]:
    """Create the run of each active schedule that is due, then move the schedule on; the runs to build.

    The run comes first, under its unique key `<schedule>:<period>`, so a crash between the two
    writes loses nothing: the next tick finds the schedule still due and the run already there.
    Moving next_due_at on is a conditional update on the value read, so two dispatchers (or a
    retried tick) move it once.
    """
    to_build: list[str] = []
    for schedule in ExportSchedule.objects(active=True, next_due_at__lte=now):
        due = schedule.next_due_at
        period = period_for(schedule.period_rule, local_date(due))
        try:
            match, scope = resolve_scope(schedule.scope, None)
            problem = None
        except ValueError as exc:
            match, scope, problem = {"_id": {"$in": []}}, schedule.scope or "", exc
        run = create_run(schedule.report, period, match=match, scope=scope, started_by=f"schedule “{schedule.name}”",
                         schedule=schedule, notes=schedule.notes or "", now=now)
        if problem is not None:
            _fail(run.pk, {"status": "queued"}, f"The schedule's scope could not be used: {problem}")
        elif run.status == "queued":
            to_build.append(str(run.pk))
        ExportSchedule.objects(pk=schedule.pk, next_due_at=due).update_one(
            set__next_due_at=next_due(schedule.cron, max(now, due)), set__last_dispatched_at=now)
    return sorted(set(to_build))


# --- the sweeper ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Sweep:
    build: list[str]
    deliver: list[str]


def sweep(now: datetime) -> Sweep:
    """The runs to hand out again: queued ones whose build task was lost, builds and sends whose
    worker died (lease expired), and sends whose retry is due. Taking a run over is decided by each
    step's own conditional claim, so handing one out twice is harmless."""
    collection = ExportRun._get_collection()
    expired = {"$or": [{"lease_until": {"$lte": now}}, {"lease_until": None}]}
    build: list[str] = []
    for found in collection.find({"status": "queued", **expired}, {"_id": 1}):
        # Handed out once per lease, however many sweepers run.
        if collection.update_one({"_id": found["_id"], "status": "queued", **expired},
                                 {"$set": {"lease_until": now + QUEUE_LEASE}}).modified_count:
            build.append(str(found["_id"]))
    build += [str(found["_id"]) for found in collection.find({"status": "building", **expired}, {"_id": 1})]
    deliver = [str(found["_id"]) for found in collection.find({"status": "built", "next_attempt_at": {"$lte": now}}, {"_id": 1})]
    deliver += [str(found["_id"]) for found in collection.find({"status": "sending", **expired}, {"_id": 1})]
    return Sweep(sorted(build), sorted(deliver))


# --- claims ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Claim:
    """A step's hold on a run: its token, and the run as it was when claimed."""
    token: str
    run: ExportRun

    @property
    def match(self) -> dict:
        return {"_id": self.run.pk, "claim": self.token}


def _claim(run_id: str, from_status: str, to_status: str, stamp: str, lease: timedelta, now: datetime,
           ready: Mapping[str, Any] | None = None, count: str | None = None) -> Claim | None:
    """Move the run to `to_status` under a new claim if it is in `from_status` (and `ready`), or held
    in `to_status` by a claim whose lease has run out; else None."""
    token = secrets.token_hex(16)
    update: dict[str, Any] = {"$set": {"status": to_status, "claim": token, "lease_until": now + lease,
                                       ExportRun._fields[stamp].db_field: now}}
    if count:
        update["$inc"] = {count: 1}
    found = ExportRun._get_collection().find_one_and_update(
        {"_id": ObjectId(run_id), "$or": [{"status": from_status, **(ready or {})},
                                          {"status": to_status, "$or": [{"lease_until": {"$lte": now}},
                                                                        {"lease_until": None}]}]},
        update)
    if not found:
        return None
    return Claim(token, ExportRun.objects.get(pk=run_id))


def _write(claim: Claim, status: str, set_: Mapping[str, Any], unset: tuple[str, ...] = ()) -> bool:
    """Change the run if this claim still holds it in `status`; False if another worker took it over."""
    update: dict[str, Any] = {"$set": dict(set_)}
    if unset:
        update["$unset"] = {name: "" for name in unset}
    return bool(ExportRun._get_collection().update_one({**claim.match, "status": status}, update).modified_count)


# --- building -------------------------------------------------------------------------------------

def build(run_id: str, pseudonym_key: str, now: datetime | None = None, settings=None, *, min_group: int | None = None,
          date_precision: str | None = None) -> ExportRun | None:
    """Build the run's workbook into GridFS once. Returns the run, or None if another build holds it.

    `min_group` and `date_precision` are the evaluator extract's disclosure control (from `settings` when
    not given)."""
    from exports import REPORTS, ExportContext

    now = now or datetime.utcnow()
    claim = _claim(run_id, "queued", "building", "started_at", BUILD_LEASE, now, count="build_attempts")
    if claim is None:
        return None
    run = claim.run
    if run.build_attempts > MAX_BUILDS:
        return _fail(run.pk, claim.match, f"The workbook build stopped {MAX_BUILDS} times without finishing "
                                          "(its worker was lost each time, perhaps for lack of memory).", settings)
    report = REPORTS.get(run.report)
    if report is None:
        return _fail(run.pk, claim.match, f"There is no report called “{run.report}”.", settings)
    period = Period(run.period_start, run.period_end)
    context = ExportContext(period=period, match=decode_match(run.match_json), generated_at=now,
                            generated_by=run.started_by, schedule=run.schedule_name, pseudonym_key=pseudonym_key,
                            notes=run.notes or "",
                            min_group=min_group or getattr(settings, "evaluator_min_group", 5),
                            date_precision=date_precision or getattr(settings, "evaluator_date_precision", "month"))
    files = gridfs.GridFS(database(), collection=FILES)
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
            file_id = files.put(workbook, filename=filename, contentType=XLSX, metadata={"run": run.pk})
        size = os.path.getsize(path)
    except Exception as exc:  # the run records why; the worker goes on
        return _fail(run.pk, claim.match, f"The workbook could not be built: {type(exc).__name__}: {exc}", settings)
    finally:
        os.unlink(path)
    done = datetime.utcnow()
    values = {"status": "built", "built_at": done, "row_counts": {k: int(v) for k, v in row_counts.items()},
              "file_id": file_id, "filename": filename, "size": size, "checksum": digest.hexdigest()}
    # With recipients the run waits for its send (due now); without, it ends here, ready to download.
    values.update({"next_attempt_at": now} if run.recipients else {"finished_at": done})
    if not _write(claim, "building", values, unset=("error", "lease_until")):
        files.delete(file_id)  # another worker resumed this run after our lease ran out; its file stands
        return None
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
    #: When the next attempt is due, if the mail server refused this one and tries remain.
    retry_at: datetime | None = None


def deliver(run_id: str, settings, now: datetime | None = None) -> Delivery:
    """Send a built run's email(s) once.

    A refused send puts the run back to "Ready" with its next attempt due after a doubling wait
    (the sweeper, or the task's own retry, comes back for it); after `settings.mail_retries`
    attempts the run fails and every manager is told.
    """
    now = now or datetime.utcnow()
    claim = _claim(run_id, "built", "sending", "sending_at", SEND_LEASE, now,
                   ready={"next_attempt_at": {"$lte": now}}, count="mail_attempts")
    if claim is None:
        current = ExportRun.objects(pk=run_id).only("status").first()
        return Delivery(False, f"run is {current.status if current else 'gone'}")
    # Checked again at send time: a user may have left or changed role, an allow-list entry gone, since it was set.
    from admin_app.privacy.sharing import recipient_problems

    problems = recipient_problems(claim.run.report, claim.run.recipients, claim.run.delivery or "link")
    if problems:
        _fail(claim.run.pk, claim.match, "Not sent to anyone: " + " ".join(problems), settings)
        return Delivery(False, "recipients refused")
    try:
        send_run(claim, settings)
    except MailNotSent as exc:
        attempts = claim.run.mail_attempts
        if attempts >= settings.mail_retries:
            _fail(claim.run.pk, claim.match, f"Email not sent after {attempts} attempts: {exc}", settings)
            return Delivery(False, str(exc))
        retry_at = now + timedelta(seconds=backoff_seconds(attempts, settings.mail_retry_seconds))
        _write(claim, "sending", {"status": "built", "next_attempt_at": retry_at,
                                  "error": f"Email not sent (attempt {attempts} of {settings.mail_retries}, "
                                           f"next at {formats.uk_datetime(retry_at)}): {exc}"[:2000]},
               unset=("lease_until",))
        return Delivery(False, str(exc), retry_at=retry_at)
    _write(claim, "sending", {"status": "sent", "finished_at": datetime.utcnow()},
           unset=("error", "lease_until", "next_attempt_at"))
    return Delivery(True)


def send_run(claim: Claim, settings) -> None:
    """The one path by which a run's email leaves: the workbook mail, then (attachment delivery) the
    password mail. Each records its Message-ID once accepted, so a retry sends only what is missing.
    Raises MailNotSent if the mail server refused."""
    run = claim.run
    if not run.workbook_mail_id:
        message_id = _send_workbook(run, settings)
        ExportRun._get_collection().update_one(claim.match, {"$set": {"workbook_mail_id": message_id}})
    if run.delivery == "attachment" and not run.password_mail_id:
        message_id = send_mail(settings, run.recipients, f"Password for {_subject(run)}",
                               _password_body(run), message_id=_message_id(run, "password", settings))
        ExportRun._get_collection().update_one(claim.match, {"$set": {"password_mail_id": message_id}})


def send_again(run_id: Any, now: datetime | None = None) -> bool:
    """A failed run with a workbook and recipients goes back to "Ready", due now, with fresh attempts."""
    now = now or datetime.utcnow()
    return bool(ExportRun.objects(pk=run_id, status="failed", file_id__exists=True, recipients__not__size=0).update_one(
        set__status="built", set__mail_attempts=0, set__next_attempt_at=now, unset__error=True,
        unset__finished_at=True))


def _fail(run_id: Any, condition: Mapping[str, Any], error: str, settings=None) -> ExportRun | None:
    """Mark the run failed if `condition` still holds (the claim, or its status); managers are told
    in the app, and by email when `settings` are given and the mail server takes it."""
    changed = ExportRun._get_collection().update_one(
        {"_id": run_id, **condition},
        {"$set": {"status": "failed", "error": error[:2000], "finished_at": datetime.utcnow()},
         "$unset": {"lease_until": "", "next_attempt_at": ""}}).modified_count
    run = ExportRun.objects(pk=run_id).first()
    if not changed or run is None:
        return None
    what = run.schedule_name or _subject(run).rsplit(", ", 1)[0]
    text = (f"Export run failed: {what}, {formats.uk_date(run.period_start)} to {formats.uk_date(run.period_end)}. "
            f"{error}")[:500]
    Notice(role="manager", text=text, link=f"/admin/exportrun/details/?id={run.pk}").save()
    if settings is not None:
        _tell_managers(settings, text, run)
    return run


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
