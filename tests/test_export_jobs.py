"""Scheduled exports end to end: a real Celery worker in this process, a real SMTP server (aiosmtpd).

The broker is the in-memory one, or Redis when REDIS_URL is set (CI sets it).
"""
from __future__ import annotations

import io
import time
from datetime import date, datetime, timedelta

import msoffcrypto
import openpyxl
import pytest

from admin_app import export_runs
from admin_app.metrics.periods import previous_quarter
from tests.conftest import csrf_token, new_client
from tests.job_worker import running_worker

TERMINAL = {"sent", "failed"}


@pytest.fixture
def worker(app, inbox):
    """A real Celery worker thread running our tasks, mailing through the test SMTP server."""
    with running_worker(app, inbox) as celery:
        yield celery


def wait_for_run(run_id, statuses=TERMINAL, seconds=120):
    from admin_app.models.exports import ExportRun

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run = ExportRun.objects(pk=run_id).first()
        if run is not None and run.status in statuses:
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} did not reach {statuses}: {ExportRun.objects(pk=run_id).first().status}")


def settle(seconds=1.0):
    """Give duplicate tasks still in the queue time to run (and do nothing)."""
    time.sleep(seconds)


def seed_case_files(users):
    from admin_app.models.case_file import Contact, Outcome

    started = previous_quarter(date.today()).start
    new_client("E4E-J0001", worker=users["worker"],
               contacts=[Contact(date=started + timedelta(days=3), mode="face_to_face", minutes=60)],
               outcomes=[Outcome(kind="paid_employment", start_date=started + timedelta(days=10), job_type="Warehouse operative",
                                 hours_per_week=30)])
    new_client("E4E-J0002", worker=users["worker2"])


def allow(report, *addresses):
    """Put outside addresses on a report's allow-list, as an administrator does."""
    from admin_app.models.sharing import AllowedRecipient

    for address in addresses:
        AllowedRecipient(report=report, email=address, reason="OPCC data sharing agreement", added_by="admin@test.e4e").save()


def make_schedule(**fields):
    from admin_app.models.exports import ExportSchedule

    values = dict(name="OPCC quarterly", report="opcc_return", period_rule="previous_quarter",
                  cron="0 7 5 1,4,7,10 *", recipients=["opcc@example.org", "lead@example.org"], delivery="attachment",
                  active=True, next_due_at=datetime.utcnow() - timedelta(minutes=1))
    values.update(fields)
    return ExportSchedule(**values).save()


def test_a_due_schedule_is_built_and_emailed_once_however_often_dispatch_runs(app, users, worker, inbox):
    from admin_app.models.exports import ExportRun
    from jobs.tasks import dispatch_exports

    with app.app_context():
        seed_case_files(users)
        allow("opcc_return", "opcc@example.org", "lead@example.org")
        schedule = make_schedule()
        for _ in range(3):  # a retried beat tick, a second beat, a restart
            dispatch_exports.delay()
        settle()
        runs = list(ExportRun.objects(schedule=schedule))
        assert len(runs) == 1
        run = wait_for_run(runs[0].pk)
        dispatch_exports.delay()
        settle()
        assert run.status == "sent", run.error
        assert ExportRun.objects(schedule=schedule).count() == 1

    period = previous_quarter(date.today())
    assert (run.period_start, run.period_end) == (period.start, period.end)
    assert len(inbox.messages) == 2, [m["Subject"] for _, m in inbox.messages]
    (to_1, workbook_mail), (to_2, password_mail) = inbox.messages
    assert to_1 == to_2 == ["lead@example.org", "opcc@example.org"]
    assert password_mail["Subject"].startswith("Password for")
    attachments = list(workbook_mail.iter_attachments())
    assert len(attachments) == 1 and attachments[0].get_filename().endswith(".xlsx")
    protected = io.BytesIO(attachments[0].get_content())
    office = msoffcrypto.OfficeFile(protected)
    assert office.is_encrypted()
    password = password_mail.get_content().split("is:")[1].split()[0]
    assert password not in workbook_mail.get_body(("plain",)).get_content()
    plain = io.BytesIO()
    office.load_key(password=password)
    office.decrypt(plain)
    book = openpyxl.load_workbook(plain, read_only=True)
    assert len(book.sheetnames) > 1
    with app.app_context():
        stored = export_runs.open_file(ExportRun.objects.get(pk=run.pk)).read()
    import hashlib

    assert hashlib.sha256(stored).hexdigest() == run.checksum
    assert run.row_counts and all(count >= 0 for count in run.row_counts.values())


def test_duplicate_build_and_send_tasks_make_one_file_and_one_email(app, users, worker, inbox):
    from admin_app.models.exports import ExportRun
    from jobs.tasks import build_export, deliver_export

    with app.app_context():
        seed_case_files(users)
        schedule = make_schedule(delivery="link", recipients=["commissioner@test.e4e"])
        run = export_runs.create_run("opcc_return", previous_quarter(date.today()), match={}, scope="Every case file",
                                     started_by="test", schedule=schedule)
        for _ in range(3):
            build_export.delay(str(run.pk))
        run = wait_for_run(run.pk)
        for _ in range(2):
            deliver_export.delay(str(run.pk))
        settle()
        run = ExportRun.objects.get(pk=run.pk)
        from admin_app.db import database

        assert database()["export_files.files"].count_documents({"metadata.run": run.pk}) == 1
    assert run.status == "sent" and run.mail_attempts == 1
    assert len(inbox.messages) == 1
    recipients, message = inbox.messages[0]
    assert recipients == ["commissioner@test.e4e"]
    assert not list(message.iter_attachments())
    assert f"/admin/exportrun/download/{run.pk}" in message.get_content()


def test_a_refused_send_is_retried_with_back_off_and_sent_once(app, users, worker, inbox):
    with app.app_context():
        seed_case_files(users)
        schedule = make_schedule(delivery="link", recipients=["commissioner@test.e4e"])
        inbox.refuse_next(2)
        run = export_runs.create_run("opcc_return", previous_quarter(date.today()), match={}, scope="all",
                                     started_by="test", schedule=schedule)
        from jobs.tasks import build_export

        build_export.delay(str(run.pk))
        run = wait_for_run(run.pk)
    assert run.status == "sent"
    assert run.mail_attempts == 3
    assert len(inbox.messages) == 1


def test_an_smtp_outage_fails_the_run_tells_managers_and_loses_nothing(app, users, worker, inbox, login):
    from admin_app.models.exports import ExportRun, Notice
    from jobs.tasks import build_export

    inbox.stop()  # the mail server is down
    with app.app_context():
        seed_case_files(users)
        schedule = make_schedule(delivery="link", recipients=["commissioner@test.e4e"])
        run = export_runs.create_run("opcc_return", previous_quarter(date.today()), match={}, scope="all",
                                     started_by="test", schedule=schedule)
        build_export.delay(str(run.pk))
        run = wait_for_run(run.pk, seconds=180)
        assert run.status == "failed"
        assert run.mail_attempts == 3 and "Email not sent" in run.error
        assert run.file_id is not None  # the workbook is kept
        notice = Notice.objects(role="manager").first()
        assert notice is not None and "OPCC quarterly" in notice.text
    manager = login("manager")
    assert "OPCC quarterly" in manager.get("/admin/").get_data(as_text=True)

    inbox.start()  # back up: a manager sends it again
    token = csrf_token(manager, f"/admin/exportrun/details/?id={run.pk}")
    response = manager.post("/admin/exportrun/retry/", data={"id": str(run.pk), "csrf_token": token})
    assert response.status_code == 302
    with app.app_context():
        run = wait_for_run(run.pk)
        assert run.status == "sent"
        assert ExportRun.objects.count() == 1
    assert len(inbox.messages) == 1
