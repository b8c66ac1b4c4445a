"""Exports that recover by themselves: leases and the sweeper, conditional writes, "Run now" once,
a mail server that is down and comes back, in embedded mode (tasks run in the web app's process)
against a real SMTP server (aiosmtpd).
"""
from __future__ import annotations

import re
import time
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from admin_app import export_runs
from admin_app.metrics.periods import london_today, previous_quarter
from tests.conftest import csrf_token, new_client

HEADERS = ("Date", "Message-ID", "From", "To", "Subject")


@pytest.fixture
def mail_app(app, inbox):
    """The embedded app mailing through the test SMTP server, with quick retries."""
    app.config["SETTINGS"] = replace(app.config["SETTINGS"], smtp_host="127.0.0.1", smtp_port=inbox.port,
                                     smtp_tls=False, mail_retries=3, mail_retry_seconds=1, sweep_seconds=1)
    return app


def make_schedule(**fields):
    from admin_app.models.exports import ExportSchedule

    values = dict(name="KPI quarterly", report="kpi_fidelity", period_rule="previous_quarter",
                  cron="0 7 5 1,4,7,10 *", recipients=["commissioner@test.e4e"], delivery="link", active=True,
                  next_due_at=datetime.utcnow() + timedelta(days=30))
    values.update(fields)
    return ExportSchedule(**values).save()


def queued_run(schedule):
    return export_runs.create_run(schedule.report, previous_quarter(london_today()), match={}, scope="Every case file",
                                  started_by="test", schedule=schedule)


def run_now(client, schedule, key=None):
    """Open the schedule's "Run now" page and confirm it; the form as the browser would post it."""
    page = client.get(f"/admin/exportschedule/run/?id={schedule.pk}").get_data(as_text=True)
    key = key or re.search(r'name="request_key" value="([^"]+)"', page).group(1)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    form = {"id": str(schedule.pk), "request_key": key, "csrf_token": token}
    return client.post(f"/admin/exportschedule/run/?id={schedule.pk}", data=form), form


def run_of(schedule):
    from admin_app.models.exports import ExportRun

    [run] = ExportRun.objects(schedule=schedule)
    return run


def assert_complete_headers(inbox):
    for _, message in inbox.messages:
        for header in HEADERS:
            assert message[header], f"{message['Subject']} has no {header}"


def test_the_mail_server_down_then_up_in_embedded_mode_sends_once_without_anyone_asking(mail_app, users, login, inbox):
    from jobs.inprocess import start_for

    inbox.stop()
    with mail_app.app_context():
        new_client("E4E-R0001", worker=users["worker"])
        schedule = make_schedule()
    manager = login("manager")
    response, _ = run_now(manager, schedule)
    assert response.status_code == 302  # not a server error
    page = manager.get(response.headers["Location"]).get_data(as_text=True)
    assert "did not take it; it will be tried again by itself" in page
    with mail_app.app_context():
        run = run_of(schedule)
        assert run.status == "built" and "Email not sent (attempt 1 of 3" in run.error
        assert run.next_attempt_at > datetime.utcnow() - timedelta(seconds=5)

    inbox.start()  # the mail server is back; nobody touches the app
    beat = start_for(mail_app)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not inbox.messages:
            time.sleep(0.1)
        time.sleep(2.5)  # further ticks send nothing more
    finally:
        beat.stop()
    with mail_app.app_context():
        run = run_of(schedule)
        assert run.status == "sent" and run.mail_attempts == 2 and not run.error
    assert len(inbox.messages) == 1
    [(recipients, message)] = inbox.messages
    assert recipients == ["commissioner@test.e4e"]
    assert f"/admin/exportrun/download/{run.pk}" in message.get_content()
    assert_complete_headers(inbox)


def test_schedules_fire_in_embedded_mode(mail_app, users, inbox):
    from jobs.inprocess import start_for

    with mail_app.app_context():
        new_client("E4E-R0002", worker=users["worker"])
        schedule = make_schedule(delivery="attachment", next_due_at=datetime.utcnow() - timedelta(minutes=1))
    beat = start_for(mail_app)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(inbox.messages) < 2:
            time.sleep(0.1)
        time.sleep(1.5)
    finally:
        beat.stop()
    with mail_app.app_context():
        run = run_of(schedule)
        assert run.status == "sent"
        assert schedule.reload().next_due_at > datetime.utcnow()
    subjects = [message["Subject"] for _, message in inbox.messages]
    assert len(subjects) == 2 and subjects[1].startswith("Password for")
    assert_complete_headers(inbox)


def test_retries_back_off_then_the_run_fails_managers_are_told_and_it_can_be_sent_again(mail_app, users, login, inbox):
    from admin_app.models.exports import Notice

    settings = mail_app.config["SETTINGS"]
    inbox.stop()
    with mail_app.app_context():
        schedule = make_schedule()
        run = queued_run(schedule)
        start = datetime.utcnow()
        run = export_runs.build(str(run.pk), settings.pseudonym_key, now=start)
        first = export_runs.deliver(str(run.pk), settings, now=start)
        assert not first.sent and first.retry_at == start + timedelta(seconds=1)
        # Not due yet: the sweeper leaves it, and a send asked for early does nothing.
        assert str(run.pk) not in export_runs.sweep(start).deliver
        assert export_runs.deliver(str(run.pk), settings, now=start).reason == "run is built"
        second = export_runs.deliver(str(run.pk), settings, now=first.retry_at)
        assert second.retry_at == first.retry_at + timedelta(seconds=2)  # the wait doubles
        assert str(run.pk) in export_runs.sweep(second.retry_at).deliver
        third = export_runs.deliver(str(run.pk), settings, now=second.retry_at)
        assert not third.sent and third.retry_at is None
        run.reload()
        assert run.status == "failed" and "after 3 attempts" in run.error and run.file_id
        assert "KPI quarterly" in Notice.objects.get(role="manager").text
        assert str(run.pk) not in export_runs.sweep(datetime.utcnow() + timedelta(days=1)).deliver

    inbox.start()
    manager = login("manager")
    token = csrf_token(manager, f"/admin/exportrun/details/?id={run.pk}")
    response = manager.post("/admin/exportrun/retry/", data={"id": str(run.pk), "csrf_token": token})
    assert response.status_code == 302
    assert "emailed to its recipients" in manager.get(response.headers["Location"]).get_data(as_text=True)
    with mail_app.app_context():
        assert run.reload().status == "sent"
    assert len(inbox.messages) == 1
    assert_complete_headers(inbox)


def test_run_now_posted_twice_makes_one_run_and_one_email(mail_app, users, login, inbox):
    from admin_app.models.exports import ExportRun

    with mail_app.app_context():
        schedule = make_schedule()
    manager = login("manager")
    first, form = run_now(manager, schedule)
    again = manager.post(f"/admin/exportschedule/run/?id={schedule.pk}", data=form)  # a double click
    assert first.status_code == again.status_code == 302
    assert "was already started from this form" in manager.get(again.headers["Location"]).get_data(as_text=True)
    with mail_app.app_context():
        assert ExportRun.objects.count() == 1
    assert len(inbox.messages) == 1


def test_run_now_while_the_same_period_is_still_on_its_way_starts_nothing(mail_app, users, login, inbox):
    from admin_app.models.exports import ExportRun

    with mail_app.app_context():
        schedule = make_schedule()
        waiting = queued_run(schedule)
    response, _ = run_now(login("manager"), schedule)
    assert response.headers["Location"].endswith(f"id={waiting.pk}")
    with mail_app.app_context():
        assert ExportRun.objects.count() == 1 and waiting.reload().status == "queued"
    assert inbox.messages == []


def test_a_build_whose_worker_died_is_resumed_by_the_sweeper_and_sent(mail_app, users, inbox):
    from admin_app.models.exports import ExportRun
    from jobs.tasks import sweep_exports

    settings = mail_app.config["SETTINGS"]
    with mail_app.app_context():
        schedule = make_schedule()
        run = queued_run(schedule)
        # A worker claimed the build an hour ago and died with it.
        claim = export_runs._claim(str(run.pk), "queued", "building", "started_at", export_runs.BUILD_LEASE,
                                   datetime.utcnow() - timedelta(hours=1), count="build_attempts")
        assert claim is not None
        # Within its lease nobody else may take it.
        assert export_runs.build(str(run.pk), settings.pseudonym_key,
                                 now=datetime.utcnow() - timedelta(minutes=45)) is None
        found = sweep_exports.apply().get()
        assert found["build"] == [str(run.pk)]
        run.reload()
        assert run.status == "sent" and run.build_attempts == 2
        # The dead worker's late write, were it to wake, changes nothing.
        assert not export_runs._write(claim, "building", {"status": "built"})
        assert ExportRun.objects.get(pk=run.pk).status == "sent"
    assert len(inbox.messages) == 1


def test_a_slow_build_overtaken_after_its_lease_leaves_one_workbook_and_one_email(mail_app, users, inbox, monkeypatch):
    """The first worker is still building when its lease runs out and a second one resumes the run;
    the first one's result is thrown away, and a build task delivered again later does nothing."""
    from admin_app.db import database
    from exports import REPORTS

    settings = mail_app.config["SETTINGS"]
    real = REPORTS["kpi_fidelity"]

    class Slow:
        title, filename, recipient_roles = real.title, real.filename, real.recipient_roles

        def __init__(self):
            self.overtaken = False

        def build(self, db, path, context):
            if not self.overtaken:  # while this worker is busy, its lease runs out and another takes over
                self.overtaken = True
                later = datetime.utcnow() + export_runs.BUILD_LEASE + timedelta(minutes=1)
                assert export_runs.build(run_id, settings.pseudonym_key, now=later).status == "built"
            return real.build(db, path, context)

    monkeypatch.setitem(REPORTS, "kpi_fidelity", Slow())
    with mail_app.app_context():
        run_id = str(queued_run(make_schedule()).pk)
        assert export_runs.build(run_id, settings.pseudonym_key) is None
        later = datetime.utcnow() + export_runs.BUILD_LEASE + timedelta(minutes=2)
        assert export_runs.deliver(run_id, settings, now=later).sent
        assert export_runs.build(run_id, settings.pseudonym_key) is None  # redelivered: the sent run stays sent
        assert export_runs.deliver(run_id, settings).reason == "run is sent"
        files = database()["export_files.files"]
        assert files.count_documents({}) == 1
        from admin_app.models.exports import ExportRun

        run = ExportRun.objects.get(pk=run_id)
        assert run.status == "sent" and files.find_one()["_id"] == run.file_id
    assert len(inbox.messages) == 1


def test_a_dispatcher_that_dies_after_making_the_run_loses_nothing(mail_app, users, monkeypatch):
    from admin_app.views.export_scopes import resolve_scope
    from admin_app.models.exports import ExportRun

    with mail_app.app_context():
        schedule = make_schedule(next_due_at=datetime(2026, 1, 5, 7, 0))
        real_next_due = export_runs.next_due

        def crash(*args):
            raise SystemExit("the dispatcher's process is killed")

        monkeypatch.setattr(export_runs, "next_due", crash)
        with pytest.raises(SystemExit):
            export_runs.dispatch_due(datetime.utcnow(), resolve_scope)
        monkeypatch.setattr(export_runs, "next_due", real_next_due)
        [made] = ExportRun.objects(schedule=schedule)
        assert schedule.reload().next_due_at == datetime(2026, 1, 5, 7, 0)  # still due
        assert export_runs.dispatch_due(datetime.utcnow(), resolve_scope) == [str(made.pk)]
        assert ExportRun.objects(schedule=schedule).count() == 1
        assert schedule.reload().next_due_at > datetime.utcnow()
        period = previous_quarter(datetime(2026, 1, 5).date())
        assert (made.period_start, made.period_end) == (period.start, period.end)


def test_a_build_that_keeps_losing_its_worker_fails_and_managers_are_told(mail_app, users):
    from admin_app.models.exports import Notice

    settings = mail_app.config["SETTINGS"]
    with mail_app.app_context():
        run = queued_run(make_schedule())
        moment = datetime.utcnow() - timedelta(days=1)
        for _ in range(export_runs.MAX_BUILDS):  # each worker dies holding the build
            assert export_runs._claim(str(run.pk), "queued", "building", "started_at", export_runs.BUILD_LEASE,
                                      moment, count="build_attempts")
            moment += export_runs.BUILD_LEASE + timedelta(minutes=1)
        export_runs.build(str(run.pk), settings.pseudonym_key)
        run.reload()
        assert run.status == "failed" and "stopped 3 times" in run.error
        assert "KPI quarterly" in Notice.objects.get(role="manager").text


def test_no_code_judges_today_by_the_machines_clock():
    """Every date of the service is judged in Europe/London (periods.london_today), not in the
    container's zone: date.today() on a UTC machine is a day behind in the first hour of BST."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    found = []
    for folder in ("admin_app", "exports", "jobs"):
        for path in (root / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if (isinstance(node, ast.Attribute) and node.attr == "today" and isinstance(node.value, ast.Name)
                        and node.value.id in {"date", "datetime"}):
                    found.append(f"{path.relative_to(root)}:{node.lineno}")
    assert found == [], "use london_today(): " + ", ".join(found)
