"""The whole-file form: an untouched save changes nothing, and a save based on an older version is refused."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from werkzeug.datastructures import MultiDict

from admin_app.models import AuditEvent, Client
from tests.conftest import csrf_token, new_client, sign_in
from tests.forms import browser_submission

TODAY = date.today()


def raw(pk) -> dict:
    return Client._get_collection().find_one({"_id": pk})


def text(response):
    return response.get_data(as_text=True)


@pytest.fixture
def demo(app):
    from admin_app.cli import seed_demo_data

    with app.app_context():
        seed_demo_data()
    return app.config["DEMO_PASSWORD"]


@pytest.mark.parametrize("email", ["manager@demo.e4e", "worker1@demo.e4e"])
def test_saving_every_demo_case_file_untouched_changes_no_stored_value(app, demo, email):
    browser = app.test_client()
    assert sign_in(browser, email, demo).status_code == 302
    ids = [d["_id"] for d in Client._get_collection().find({}, {"_id": 1})]
    updates = AuditEvent.objects(action="update", collection="clients").count()
    opened = 0
    for pk in ids:
        url = f"/admin/client/edit/?id={pk}"
        page = browser.get(url)
        if page.status_code == 404:
            continue  # not in this worker's caseload
        opened += 1
        before = raw(pk)
        response = browser.post(url, data=MultiDict(browser_submission(text(page))))
        assert response.status_code == 302, (pk, text(response)[-1500:])
        assert raw(pk) == before, pk
    assert opened >= 10
    assert AuditEvent.objects(action="update", collection="clients").count() == updates


def test_a_save_based_on_an_older_version_is_refused_and_the_input_kept(login, users):
    case = new_client("E4E-V0001", worker=users["worker"], phone="0121 111 1111")
    url = f"/admin/client/edit/?id={case.pk}"
    manager, admin_staff = login("manager"), login("admin_staff")
    theirs = browser_submission(text(admin_staff.get(url)))
    mine = browser_submission(text(manager.get(url)))
    first = [(k, "B6 4AA" if k == "postcode" else v) for k, v in theirs]
    assert admin_staff.post(url, data=MultiDict(first)).status_code == 302
    second = [(k, "0121 999 9999" if k == "phone" else v) for k, v in mine]
    response = manager.post(url, data=MultiDict(second))
    assert response.status_code == 200
    page = text(response)
    assert f"changed by {users['admin_staff'].email}" in page and "Your input is still on the form" in page
    assert 'value="0121 999 9999"' in page
    stored = raw(case.pk)
    assert stored["postcode"] == "B6 4AA" and stored["phone"] == "0121 111 1111" and stored["version"] == 1
    # Saving again, having been told, applies the change onto the new version.
    assert manager.post(url, data=MultiDict(browser_submission(page))).status_code == 302
    stored = raw(case.pk)
    assert stored["phone"] == "0121 999 9999" and stored["version"] == 2


def test_a_task_form_and_a_whole_file_save_at_once_keep_both(login, users):
    case = new_client("E4E-V0001", worker=users["worker"])
    url = f"/admin/client/edit/?id={case.pk}"
    manager, worker = login("manager"), login("worker")
    form = browser_submission(text(manager.get(url)))
    add = f"/admin/casefile/{case.pk}/add/contacts"
    response = worker.post(add, data={"date": (TODAY - timedelta(days=1)).isoformat(), "minutes-hours": "0",
                                      "minutes-minutes": "40", "mode": "phone", "place": "__None",
                                      "staff": str(users["worker"].pk), "note": "", "csrf_token": csrf_token(worker, add)})
    assert response.status_code == 302
    form = [(k, "07700 900123" if k == "phone" else v) for k, v in form]
    assert manager.post(url, data=MultiDict(form)).status_code == 302
    stored = raw(case.pk)
    assert stored["phone"] == "07700 900123" and [c["minutes"] for c in stored["contacts"]] == [40]


def test_the_edit_form_does_not_grow_with_the_contacts(login, users):
    from admin_app.models.case_file import Contact

    small = new_client("E4E-V0001", worker=users["worker"])
    big = new_client("E4E-V0002", worker=users["worker"],
                     contacts=[Contact(date=TODAY - timedelta(days=i % 300 + 1), minutes=30, mode="phone", note="x" * 200)
                               for i in range(300)])
    manager = login("manager")
    sizes = [len(manager.get(f"/admin/client/edit/?id={c.pk}").data) for c in (small, big)]
    assert abs(sizes[0] - sizes[1]) < 200, sizes
