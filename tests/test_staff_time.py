"""Staff time not tied to a client, and contacts' start times: recorded on the screens, counted in the hours."""
from __future__ import annotations

import re

from datetime import date, timedelta

from admin_app.models import Client
from admin_app.models.staff_time import StaffTime
from tests.conftest import csrf_token, new_client
from tests.test_task_forms import contact_data, raw, submit, text

TODAY = date.today()


def _last_weekday(weekday: int) -> date:
    """The latest past day (before today) falling on that weekday (0 Monday)."""
    day = TODAY - timedelta(days=1)
    while day.weekday() != weekday:
        day -= timedelta(days=1)
    return day


def log(client, **values):
    data = {"date": TODAY.isoformat(), "kind": "partner_meeting", "minutes": "90", "note": "Probation team meeting"}
    data.update(values)
    data["csrf_token"] = csrf_token(client, "/admin/stafftime/new/")
    return client.post("/admin/stafftime/new/", data=data)


def test_a_worker_logs_their_own_staff_time_and_sees_it_in_their_hours(login, users):
    worker = login("worker")
    response = log(worker, staff=str(users["worker2"].pk))  # a forged member of staff is ignored
    assert response.status_code == 302, text(response)[-1500:]
    [logged] = StaffTime.objects
    assert (logged.staff, logged.kind, logged.minutes, logged.date) == (users["worker"], "partner_meeting", 90, TODAY)
    page = text(worker.get("/admin/dashboard/"))
    assert 'data-hours="staff_time">1.5<' in page and 'data-hours="contact">0<' in page.replace("0.0", "0")
    assert "Partner meeting" in page


def test_staff_time_counts_apart_from_contact_time_on_the_service_dashboard(login, users):
    case = new_client("E4E-S0001", worker=users["worker"])
    worker = login("worker")
    submit(worker, f"/admin/casefile/{case.pk}/add/contacts", contact_data(users["worker"]))  # 1 h 15 min yesterday
    log(worker, kind="travel", minutes="45")
    page = text(login("manager").get("/admin/dashboard/"))
    assert 'data-hours="contact">1.25<' in page and 'data-hours="staff_time">0.75<' in page
    assert 'data-hours="all">2.0<' in page


def test_staff_time_cannot_be_in_the_future_or_empty(login, users):
    worker = login("worker")
    response = log(worker, date=(TODAY + timedelta(days=1)).isoformat())
    assert response.status_code == 200 and "cannot be in the future" in text(response)
    response = log(worker, minutes="0")
    assert response.status_code == 200 and StaffTime.objects.count() == 0


def test_a_worker_cannot_open_another_workers_staff_time_by_url(login, users):
    theirs = StaffTime(staff=users["worker2"], date=TODAY, kind="training", minutes=60).save()
    worker = login("worker")
    assert worker.get(f"/admin/stafftime/edit/?id={theirs.pk}").status_code == 404
    assert worker.get(f"/admin/stafftime/details/?id={theirs.pk}").status_code == 404
    rows = re.search(r'(?s)<table class="table[^"]*model-list".*?</table>', text(worker.get("/admin/stafftime/"))).group(0)
    assert "Training" not in rows  # the filter offers the label; no row of theirs shows it
    assert login("manager").get(f"/admin/stafftime/edit/?id={theirs.pk}").status_code == 200


def test_roles_without_staff_time_are_refused(login, users):
    for role in ("evaluator", "commissioner", "grant_panel"):
        assert login(role).get("/admin/stafftime/").status_code == 403, role


def test_a_contact_with_a_start_time_is_out_of_hours_by_the_clock_not_the_tick(app, login, users):
    case = new_client("E4E-S0002", worker=users["worker"])
    worker = login("worker")
    monday = _last_weekday(0)
    url = f"/admin/casefile/{case.pk}/add/contacts"
    response = submit(worker, url, contact_data(users["worker"], date=monday.isoformat(), start_time="17:30"))
    assert response.status_code == 302, text(response)[-2000:]
    response = submit(worker, url, contact_data(users["worker"], date=monday.isoformat(), start_time="10:00",
                                                out_of_hours="y"))
    assert response.status_code == 302
    stored = raw(case)["contacts"]
    assert [c["start_time"] for c in stored] == ["17:30", "10:00"]
    assert not any(c.get("out_of_hours") for c in stored)  # the tick is not kept beside a start time
    from admin_app.db import database
    from admin_app.metrics.periods import Period
    from admin_app.metrics.report import load_report
    with app.app_context():
        report = load_report(database(), {}, Period(monday, monday))
    assert report["service"]["out_of_hours_contacts"] == {"contacts": 1, "hours": 1.25}
    page = text(worker.get(f"/admin/casefile/{case.pk}/"))
    assert "from 17:30" in page and page.count("out of hours") >= 1


def test_a_start_time_that_is_not_a_time_is_refused_with_the_input_kept(login, users):
    case = new_client("E4E-S0003", worker=users["worker"])
    response = submit(login("worker"), f"/admin/casefile/{case.pk}/add/contacts",
                      contact_data(users["worker"], start_time="25:10"))
    assert response.status_code == 200
    assert "24-hour clock" in text(response) and "Talked about the CSCS card" in text(response)
    assert not raw(case).get("contacts")
