"""Assignment history and FTE history, written by the screens people use, and the figures that rest on them."""
from __future__ import annotations

from datetime import date, timedelta

from admin_app.db import database
from admin_app.metrics.periods import Period
from admin_app.metrics.report import load_report
from admin_app.models import Client, StaffProfile
from admin_app.models.case_file import Contact, Outcome, PlanGoal
from tests.conftest import csrf_token, new_client
from tests.test_case_file import client_form, post

TODAY = date.today()


def _history(case):
    case.reload()
    return [(a.worker.email if a.worker else None, a.start, a.by) for a in case.assignments]


def _reassign(manager, cases, to):
    token = csrf_token(manager)
    return manager.post("/admin/client/reassign/", data={"ids": ",".join(str(c.pk) for c in cases),
                                                          "worker": str(to.pk), "csrf_token": token})


def test_bulk_reassignment_records_who_held_each_case_from_when(login, users):
    # Stored before the history was kept: it starts from the worker on record at the referral date.
    legacy = new_client("E4E-H0001", worker=users["worker"])
    manager = login("manager")
    response = _reassign(manager, [legacy], users["worker2"])
    assert response.status_code == 302
    referral = TODAY - timedelta(days=60)
    assert _history(legacy) == [("worker@test.e4e", referral, None), ("worker2@test.e4e", TODAY, "manager@test.e4e")]
    assert legacy.worker == users["worker2"]
    # Moving it again adds one entry; the earlier ones stay as they were.
    _reassign(manager, [legacy], users["worker"])
    assert [who for who, _, _ in _history(legacy)] == ["worker@test.e4e", "worker2@test.e4e", "worker@test.e4e"]


def test_a_case_created_and_moved_on_the_case_file_form_keeps_its_history(login, users):
    manager = login("manager")
    response = post(manager, "/admin/client/new/", client_form(worker=str(users["worker"].pk)))
    assert response.status_code == 302
    case = Client.objects(reference="E4E-F0001").first()
    assert _history(case) == [("worker@test.e4e", TODAY, "manager@test.e4e")]
    response = post(manager, f"/admin/client/edit/?id={case.pk}",
                    client_form(worker=str(users["worker2"].pk), version_seen=str(case.version or 0)))
    assert response.status_code == 302
    assert _history(case) == [("worker@test.e4e", TODAY, "manager@test.e4e"),
                              ("worker2@test.e4e", TODAY, "manager@test.e4e")]
    # A save that does not move the case adds nothing.
    post(manager, f"/admin/client/edit/?id={case.pk}",
         client_form(worker=str(users["worker2"].pk), first_name="Renamed", version_seen=str(case.version or 0)))
    assert len(_history(case)) == 2 and case.first_name == "Renamed"


def test_a_workers_figures_for_last_month_are_the_same_after_their_case_moves_on(app, login, users):
    w1, w2 = users["worker"], users["worker2"]
    last_month = Period(TODAY - timedelta(days=45), TODAY - timedelta(days=20))
    case = new_client("E4E-H0002", worker=w1, plan_goals=[PlanGoal(goal="CV")],
                      contacts=[Contact(date=TODAY - timedelta(days=40), minutes=60, mode="face_to_face", staff=w1),
                                Contact(date=TODAY - timedelta(days=2), minutes=90, mode="face_to_face", staff=w2)],
                      outcomes=[Outcome(kind="paid_employment", start_date=TODAY - timedelta(days=30))])
    with app.app_context():
        before = load_report(database(), {"worker": w1.pk}, last_month)
    assert before["service"]["hours"]["total"] == 1.0 and before["service"]["job_starts"] == 1
    _reassign(login("manager"), [case], w2)
    with app.app_context():
        after = load_report(database(), {"worker": w1.pk}, last_month)
        theirs = load_report(database(), {"worker": w2.pk}, last_month)
        this_week = Period(TODAY - timedelta(days=6), TODAY)
        w1_now = load_report(database(), {"worker": w1.pk}, this_week)
        w2_now = load_report(database(), {"worker": w2.pk}, this_week)
        service_now = load_report(database(), {}, this_week)
    assert after["service"] == before["service"]
    assert theirs["service"]["job_starts"] == 0 and theirs["service"]["hours"]["total"] == 0
    # This week the case is W2's: the 1.5 h contact (made before the move, by W2 covering) counts for the holder on
    # its date, W1, since the move is today; the caseload at the end is W2's.
    assert w1_now["service"]["hours"]["total"] == 1.5 and w1_now["service"]["active_caseload"]["at_end"] == 0
    assert w2_now["service"]["active_caseload"]["at_end"] == 1 and w2_now["service"]["hours"]["total"] == 0
    assert service_now["service"]["hours"]["total"] == w1_now["service"]["hours"]["total"] + \
        w2_now["service"]["hours"]["total"]


def test_the_backfill_command_starts_each_history_once(app, users):
    legacy = new_client("E4E-H0003", worker=users["worker"])
    runner = app.test_cli_runner()
    assert "of 1 case files" in runner.invoke(args=["backfill-assignments"]).output
    assert "of 0 case files" in runner.invoke(args=["backfill-assignments"]).output
    assert [(who, start) for who, start, _ in _history(legacy)] == [("worker@test.e4e", TODAY - timedelta(days=60))]


def test_a_change_of_fte_is_kept_from_the_day_it_is_made(login, users):
    profile = StaffProfile(user=users["worker"], fte=1.0, start_date=date(2024, 4, 1)).save()
    manager = login("manager")
    token = csrf_token(manager, f"/admin/staffprofile/edit/?id={profile.pk}")
    response = manager.post(f"/admin/staffprofile/edit/?id={profile.pk}", data={
        "user": str(users["worker"].pk), "fte": "0.5", "start_date": "2024-04-01", "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    profile.reload()
    assert [(c.start, c.fte) for c in profile.fte_history] == [(date(2024, 4, 1), 1.0), (TODAY, 0.5)]


def test_a_worker_cannot_change_fte_history(login, users):
    profile = StaffProfile(user=users["worker"], fte=1.0, start_date=date(2024, 4, 1)).save()
    worker = login("worker")
    assert worker.get(f"/admin/staffprofile/edit/?id={profile.pk}").status_code == 403


def test_the_case_file_page_shows_each_assignment(login, users):
    case = new_client("E4E-H0004", worker=users["worker"])
    _reassign(login("manager"), [case], users["worker2"])
    page = login("manager").get(f"/admin/casefile/{case.pk}/").get_data(as_text=True)
    assert page.count('class="event-assignment"') == 2
    assert "Assigned to Second Worker" in page and "Assigned to Worker<" in page
