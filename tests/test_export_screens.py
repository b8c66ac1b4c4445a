"""Export Schedules and Export Runs screens: who may do what, which runs each user sees, bad input."""
from __future__ import annotations

import hashlib
from datetime import date, datetime

import pytest

from admin_app import export_runs
from admin_app.metrics.periods import previous_quarter
from tests.conftest import csrf_token, new_client

SCHEDULE_FORM = {"name": "Evaluator monthly", "report": "evaluator_extract", "period_rule": "previous_month",
                 "cron": "0 6 2 * *", "recipients-0": "evaluator@test.e4e", "delivery": "link", "scope": "",
                 "notes": "", "active": "y"}


def post_form(client, url, data):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, url)})


def a_run(started_by="manager@test.e4e", recipients=(), user=None, **fields):
    run = export_runs.create_run("kpi_fidelity", previous_quarter(date.today()), match={}, scope="Every case file",
                                 started_by=started_by, started_by_user=user.pk if user else None)
    run.update(set__recipients=list(recipients), **{f"set__{k}": v for k, v in fields.items()})
    return run.reload()


@pytest.mark.parametrize("role", ["worker", "admin_staff", "grant_panel", "evaluator", "commissioner"])
def test_only_managers_and_admins_see_schedules(login, role):
    assert login(role).get("/admin/exportschedule/").status_code == 403


@pytest.mark.parametrize("role", ["worker", "admin_staff", "grant_panel", "evaluator", "commissioner"])
def test_roles_without_run_cannot_start_a_report(app, login, role):
    client = login(role)
    assert client.get("/admin/exportrun/run/").status_code == 403
    token = csrf_token(client, "/admin/")
    response = client.post("/admin/exportrun/run/", data={"report": "kpi_fidelity", "kind": "fy", "csrf_token": token})
    assert response.status_code == 403
    with app.app_context():
        from admin_app.models.exports import ExportRun

        assert ExportRun.objects.count() == 0


def test_manager_creates_a_schedule_and_its_next_time_is_set(app, login):
    manager = login("manager")
    response = post_form(manager, "/admin/exportschedule/new/", SCHEDULE_FORM)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        from admin_app.models.exports import ExportSchedule

        schedule = ExportSchedule.objects.get(name="Evaluator monthly")
        assert schedule.recipients == ["evaluator@test.e4e"] and schedule.created_by == "manager@test.e4e"
        assert schedule.next_due_at > datetime.utcnow()
        assert export_runs.local_date(schedule.next_due_at).day == 2
    listed = manager.get("/admin/exportschedule/").get_data(as_text=True)
    assert "At 06:00, on day 2 of the month (UK time)" in listed
    assert "Previous month" in listed and "previous_month" not in listed and "Every case file" in listed


@pytest.mark.parametrize("change, message", [
    ({"cron": "at seven"}, "five cron fields"),
    ({"report": "everything"}, "Not a valid choice"),
    ({"recipients-0": "not-an-address"}, "email"),
])
def test_a_bad_schedule_is_refused_with_a_clear_message(app, login, change, message):
    manager = login("manager")
    response = post_form(manager, "/admin/exportschedule/new/", {**SCHEDULE_FORM, **change})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and message.lower() in page.lower()
    with app.app_context():
        from admin_app.models.exports import ExportSchedule

        assert ExportSchedule.objects.count() == 0


def test_manager_runs_a_report_now_and_downloads_it(app, users, login):
    with app.app_context():
        new_client("E4E-S0001", worker=users["worker"])
    manager = login("manager")
    response = post_form(manager, "/admin/exportrun/run/", {"report": "kpi_fidelity", "kind": "fy", "fy": "2026",
                                                           "scope": ""})
    assert response.status_code == 302
    with app.app_context():
        from admin_app.models.exports import ExportRun

        run = ExportRun.objects.get()
        assert run.status == "built", run.error
        assert (run.period_start, run.period_end) == (date(2026, 4, 1), date(2027, 3, 31))
        assert run.started_by == "manager@test.e4e" and not run.recipients
    listing = manager.get("/admin/exportrun/").get_data(as_text=True)
    assert f"/admin/exportrun/download/{run.pk}" in listing and run.filename in listing
    download = manager.get(f"/admin/exportrun/download/{run.pk}")
    assert download.status_code == 200
    assert hashlib.sha256(download.data).hexdigest() == run.checksum
    assert "attachment" in download.headers["Content-Disposition"]


def test_a_bad_period_is_explained_and_nothing_runs(app, login):
    manager = login("manager")
    response = post_form(manager, "/admin/exportrun/run/", {"report": "kpi_fidelity", "kind": "custom",
                                                           "start": "2026-06-31", "end": "2026-07-01"})
    assert response.status_code == 200 and "Not run" in response.get_data(as_text=True)
    with app.app_context():
        from admin_app.models.exports import ExportRun

        assert ExportRun.objects.count() == 0


def test_a_run_started_by_a_worker_covers_only_their_caseload(app, users, login):
    with app.app_context():
        from admin_app.models import Role

        role = Role.objects.get(name="worker")
        role.permissions = sorted(set(role.permissions) | {"exportrun.list", "exportrun.details", "exportrun.run",
                                                            "exportrun.download"})
        role.save()
    worker = login("worker")
    response = post_form(worker, "/admin/exportrun/run/", {"report": "kpi_fidelity", "kind": "fy", "fy": "2026"})
    assert response.status_code == 302
    with app.app_context():
        from admin_app.models.exports import ExportRun

        run = ExportRun.objects.get()
        assert export_runs.decode_match(run.match_json) == {"worker": users["worker"].pk}
        assert run.scope == "Own caseload"


def test_recipients_see_only_their_own_runs_even_by_url(app, users, login):
    with app.app_context():
        mine = a_run(recipients=["evaluator@test.e4e"], status="sent", filename="mine.xlsx")
        theirs = a_run(recipients=["opcc@example.org"], status="sent", filename="theirs.xlsx")
    evaluator = login("evaluator")
    listing = evaluator.get("/admin/exportrun/").get_data(as_text=True)
    assert str(mine.pk) in listing and str(theirs.pk) not in listing
    assert evaluator.get(f"/admin/exportrun/details/?id={mine.pk}").status_code == 200
    assert evaluator.get(f"/admin/exportrun/details/?id={theirs.pk}").status_code == 404
    assert evaluator.get(f"/admin/exportrun/download/{theirs.pk}").status_code == 404
    manager = login("manager")
    assert manager.get(f"/admin/exportrun/details/?id={theirs.pk}").status_code == 200


def test_a_download_needs_a_sign_in(app, users):
    with app.app_context():
        run = a_run(recipients=["evaluator@test.e4e"])
    response = app.test_client().get(f"/admin/exportrun/download/{run.pk}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ["evaluator", "commissioner"])
def test_recipients_cannot_send_a_run_again(app, login, role):
    with app.app_context():
        run = a_run(recipients=[f"{role}@test.e4e"], status="failed")
    client = login(role)
    token = csrf_token(client, "/admin/")
    assert client.post("/admin/exportrun/retry/", data={"id": str(run.pk), "csrf_token": token}).status_code == 403


def test_run_now_on_a_schedule_asks_first_then_runs_for_its_period(app, users, login):
    from admin_app.models.exports import ExportRun, ExportSchedule

    with app.app_context():
        schedule = ExportSchedule(name="KPI quarterly", report="kpi_fidelity", period_rule="previous_quarter",
                                  cron="0 7 5 1,4,7,10 *", recipients=["lead@example.org"], delivery="link").save()
    manager = login("manager")
    page = manager.get(f"/admin/exportschedule/run/?id={schedule.pk}").get_data(as_text=True)
    assert "Run and send now" in page and "lead@example.org" in page
    with app.app_context():
        assert ExportRun.objects.count() == 0
    response = post_form(manager, f"/admin/exportschedule/run/?id={schedule.pk}", {"id": str(schedule.pk)})
    assert response.status_code == 302
    with app.app_context():
        run = ExportRun.objects.get()
        period = previous_quarter(date.today())
        assert (run.period_start, run.period_end) == (period.start, period.end)
        assert run.recipients == ["lead@example.org"] and run.schedule_name == "KPI quarterly"


def test_notices_reach_their_role_only_and_are_dismissed_per_person(app, login):
    from admin_app.models.exports import Notice

    with app.app_context():
        notice = Notice(role="manager", text="Export run failed: OPCC quarterly").save()
    worker = login("worker")
    assert "OPCC quarterly" not in worker.get("/admin/").get_data(as_text=True)
    token = csrf_token(worker, "/admin/")
    refused = worker.post("/admin/notices/dismiss/", data={"id": str(notice.pk), "csrf_token": token},
                          follow_redirects=True)
    assert "not yours to dismiss" in refused.get_data(as_text=True)
    manager = login("manager")
    assert "OPCC quarterly" in manager.get("/admin/").get_data(as_text=True)
    token = csrf_token(manager, "/admin/")
    manager.post("/admin/notices/dismiss/", data={"id": str(notice.pk), "csrf_token": token})
    assert "OPCC quarterly" not in manager.get("/admin/").get_data(as_text=True)
    with app.app_context():
        assert Notice.objects.get(pk=notice.pk).dismissed_by == ["manager@test.e4e"]


def _grant(role_name, *permissions):
    from admin_app.models import Role

    role = Role.objects.get(name=role_name)
    role.permissions = list(permissions)
    role.save()


def test_each_schedule_action_needs_its_own_permission(app, login):
    from admin_app.models.exports import ExportSchedule

    with app.app_context():
        schedule = ExportSchedule(name="KPI quarterly", report="kpi_fidelity", period_rule="previous_quarter",
                                  cron="0 7 5 1,4,7,10 *", recipients=["lead@example.org"]).save()
        _grant("admin_staff", "exportschedule.list", "exportschedule.details")
    client = login("admin_staff")
    assert client.get("/admin/exportschedule/").status_code == 200
    assert client.get(f"/admin/exportschedule/details/?id={schedule.pk}").status_code == 200
    for url in ("/admin/exportschedule/new/", f"/admin/exportschedule/edit/?id={schedule.pk}",
                f"/admin/exportschedule/run/?id={schedule.pk}"):
        assert client.get(url).status_code == 403, url
    token = csrf_token(client, "/admin/exportschedule/")
    assert client.post("/admin/exportschedule/delete/", data={"id": str(schedule.pk), "csrf_token": token}).status_code == 403
    assert client.post(f"/admin/exportschedule/run/?id={schedule.pk}", data={"csrf_token": token}).status_code == 403
    with app.app_context():
        from admin_app.models.exports import ExportRun

        assert ExportSchedule.objects.count() == 1 and ExportRun.objects.count() == 0


def test_download_needs_its_own_permission(app, login):
    with app.app_context():
        run = a_run(recipients=["admin_staff@test.e4e"], status="sent", filename="x.xlsx")
        _grant("admin_staff", "exportrun.list", "exportrun.details")
    client = login("admin_staff")
    assert client.get(f"/admin/exportrun/details/?id={run.pk}").status_code == 200
    assert client.get(f"/admin/exportrun/download/{run.pk}").status_code == 403


def test_a_schedule_scoped_by_a_built_in_filter_covers_just_those_case_files(app, users):
    from admin_app.db import database
    from admin_app.views.export_scopes import resolve_scope
    from admin_app.models.case_file import Referral
    from admin_app.models.exports import ExportRun, ExportSchedule

    with app.app_context():
        new_client("E4E-P0001", worker=users["worker"])
        waiting = new_client("E4E-P0002", worker=users["worker2"], status="referred",
                             referral=Referral(date=date.today(), source="police", cohort="at_risk", decision="pending"))
        ExportSchedule(name="Waiting list", report="kpi_fidelity", period_rule="previous_month", cron="0 7 * * 1",
                       recipients=["lead@example.org"], scope="builtin:referrals_awaiting_decision",
                       next_due_at=datetime(2026, 1, 1)).save()
        [run_id] = export_runs.dispatch_due(datetime.utcnow(), resolve_scope)
        run = ExportRun.objects.get(pk=run_id)
        match = export_runs.decode_match(run.match_json)
        assert [c["reference"] for c in database().clients.find(match, {"reference": 1})] == [waiting.reference]
        assert run.scope.endswith("Referrals awaiting a decision")


def test_a_schedule_whose_saved_filter_was_deleted_fails_with_a_notice(app, users):
    from admin_app.views.export_scopes import resolve_scope
    from admin_app.models.exports import ExportRun, ExportSchedule, Notice
    from admin_app.models.saved_filters import SavedFilter

    with app.app_context():
        saved = SavedFilter(name="My convicted", owner=users["manager"], screen="client", screen_name="Clients").save()
        schedule = ExportSchedule(name="Convicted cohort", report="kpi_fidelity", period_rule="previous_month",
                                  cron="0 7 * * 1", recipients=["lead@example.org"], scope=f"saved:{saved.pk}",
                                  next_due_at=datetime(2026, 1, 1)).save()
        saved.delete()
        assert export_runs.dispatch_due(datetime.utcnow(), resolve_scope) == []
        run = ExportRun.objects.get(schedule=schedule)
        assert run.status == "failed" and "no longer exists" in run.error
        assert "Convicted cohort" in Notice.objects.get(role="manager").text
        # The schedule moved on: the next tick does not fail it again.
        assert export_runs.dispatch_due(datetime.utcnow(), resolve_scope) == []
        assert ExportRun.objects.count() == 1


def test_the_grant_ledger_and_the_opcc_pot_sheet_come_from_the_real_pot(app, users, login):
    import openpyxl

    from admin_app import grants
    from admin_app.db import database
    from admin_app.metrics.periods import financial_year

    year = financial_year(2026)
    on = date(2026, 5, 1)
    with app.app_context():
        db = database()
        client = new_client("E4E-G0001", worker=users["worker"])
        grants.create_pot(db, "2026/27", year.start, year.end, 30_000_00, by="manager@test.e4e", on=on)
        bid = grants.create_draft(db, client.pk, by="worker@test.e4e", on=on, amount_asked_pence=2_000_00,
                                  purpose="Van deposit", plan_summary="Mobile valeting")
        step = lambda name, **values: grants.OPERATIONS[name](db, grants.find_bid(db, bid), **values)  # noqa: E731
        step("submit", by="worker@test.e4e", on=on)
        step("review", by="panel@test.e4e", on=on)
        step("recommend", by="panel@test.e4e", on=on, recommendation="approve_reduced", amount_pence=1_500_00)
        step("approve", by="manager@test.e4e", on=date(2026, 5, 8), amount_pence=1_500_00)
        step("pay", by="admin_staff@test.e4e", on=date(2026, 5, 20), amount_pence=1_000_00,
             paid_on=date(2026, 5, 20), reference="BACS 1")
    manager = login("manager")
    books = {}
    for report in ("grant_ledger", "opcc_return"):
        response = post_form(manager, "/admin/exportrun/run/", {"report": report, "kind": "fy", "fy": "2026"})
        assert response.status_code == 302
        with app.app_context():
            from admin_app.models.exports import ExportRun

            run = ExportRun.objects(report=report).get()
            assert run.status == "built", run.error
        download = manager.get(f"/admin/exportrun/download/{run.pk}")
        import io

        books[report] = openpyxl.load_workbook(io.BytesIO(download.data), read_only=True)
    ledger = [row for row in books["grant_ledger"]["Ledger"].iter_rows(values_only=True)]
    bid = dict(zip(ledger[0], ledger[1]))
    assert (bid["Awarded (£)"], bid["Paid in the period (£)"], bid["Paid to date (£)"]) == (1500, 1000, 1000)
    payments = list(books["grant_ledger"]["Payments"].iter_rows(values_only=True))
    assert dict(zip(payments[0], payments[1]))["Payment reference"] == "BACS 1"
    pots = list(books["opcc_return"]["Grant pots"].iter_rows(values_only=True))
    headings, pot = pots[0], dict(zip(pots[0], pots[1]))
    assert "Remaining (£)" in headings
    assert pot["Remaining (£)"] == 28_500 and pot["Paid (£)"] == 1_000


def test_workbooks_past_their_retention_are_deleted_and_the_run_says_so(app, users, login):
    from datetime import timedelta

    from admin_app.db import database

    with app.app_context():
        new_client("E4E-R0001", worker=users["worker"])
        old, recent = (export_runs.create_run("kpi_fidelity", previous_quarter(date.today()), match={}, scope="all",
                                              started_by="manager@test.e4e") for _ in range(2))
        for run in (old, recent):
            assert export_runs.build(str(run.pk), "key").status == "built"
        old.update(set__built_at=datetime.utcnow() - timedelta(days=91))
        assert export_runs.remove_old_files(datetime.utcnow(), keep_days=90) == 1
        assert export_runs.remove_old_files(datetime.utcnow(), keep_days=90) == 0
        old, recent = old.reload(), recent.reload()
        assert old.file_id is None and old.file_removed_at is not None and old.checksum
        assert recent.file_id is not None
        assert database()["export_files.files"].count_documents({}) == 1
    manager = login("manager")
    assert manager.get(f"/admin/exportrun/download/{old.pk}").status_code == 404
    assert manager.get(f"/admin/exportrun/download/{recent.pk}").status_code == 200
    assert "past its retention" in manager.get("/admin/exportrun/").get_data(as_text=True)
