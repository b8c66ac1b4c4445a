"""The case file's task forms: defaults, atomic writes, follow-ups, pickers, stale saves, permissions and scope."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

import pytest
from bson import ObjectId
from werkzeug.datastructures import MultiDict

from admin_app.casework import writes
from admin_app.casework.parts import PARTS
from admin_app.alerts import PROBE_LIMIT
from admin_app.crypto import decrypt
from admin_app.models import AuditEvent, Client
from admin_app.models.case_file import Contact, Outcome, PlanGoal, Referral
from tests.conftest import csrf_token, new_client
from tests.forms import browser_submission
from tests.samples import sample_item

TODAY = date.today()


def raw(case) -> dict:
    return Client._get_collection().find_one({"_id": case.pk})


def page_url(case) -> str:
    return f"/admin/casefile/{case.pk}/"


def submit(client, url, data: dict | list, token_from: str | None = None):
    form = MultiDict(data)
    if "csrf_token" not in form:
        form["csrf_token"] = csrf_token(client, token_from or url)
    return client.post(url, data=form)


def contact_data(worker, **changes) -> dict:
    data = {"date": (TODAY - timedelta(days=1)).isoformat(), "minutes-hours": "1", "minutes-minutes": "15",
            "mode": "face_to_face", "place": "__None", "staff": str(worker.pk), "note": "Talked about the CSCS card"}
    data.update(changes)
    return data


def text(response) -> str:
    return response.get_data(as_text=True)


# --- recording ------------------------------------------------------------------------------------

def test_contact_form_starts_with_today_and_the_signed_in_worker(login, users):
    case = new_client("E4E-T0001", worker=users["worker"])
    page = text(login("worker").get(f"/admin/casefile/{case.pk}/add/contacts"))
    assert f'value="{TODAY.isoformat()}"' in page
    assert re.search(rf'<option selected value="{users["worker"].pk}">|<option value="{users["worker"].pk}" selected', page)
    assert 'name="minutes-hours"' in page and 'name="minutes-minutes"' in page
    # Nothing is chosen for the person: the mode starts blank.
    assert re.search(r'<option selected value="__None">Choose', page)


@pytest.mark.parametrize("part", PARTS, ids=lambda p: p.name)
def test_every_choice_on_a_task_form_offers_a_blank_and_nothing_is_chosen_for_the_person(login, users, part):
    case = new_client("E4E-T0001", worker=users["worker"])
    page = text(login("worker").get(f"/admin/casefile/{case.pk}/add/{part.name}"))
    selects = re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S)
    for name, options in selects:
        values = re.findall(r'<option[^>]*value="([^"]*)"', options)
        assert values[0] in ("", "__None"), (name, values[:3])
        chosen = re.findall(r'<option[^>]*selected[^>]*value="([^"]*)"|<option[^>]*value="([^"]*)"[^>]*selected', options)
        chosen = [a or b for a, b in chosen]
        # Chosen: the signed-in member of staff, or the default the record declares (a new goal is open).
        default = writes.item_class(part.name)._fields[name].default
        expected = [str(users["worker"].pk)] if name == part.staff_field else [default] if default else [values[0]]
        assert chosen in (expected, [] if name != part.staff_field and not default else expected), (name, chosen)
    if part.date_field:
        assert f'name="{part.date_field}" type="date" value="{TODAY.isoformat()}"' in page \
            or re.search(rf'name="{part.date_field}"[^>]*value="{TODAY.isoformat()}"', page)


def test_worker_records_a_contact_and_is_back_on_the_case_file(login, users):
    case = new_client("E4E-T0001", worker=users["worker"])
    worker = login("worker")
    response = submit(worker, f"/admin/casefile/{case.pk}/add/contacts", contact_data(users["worker"]))
    assert response.status_code == 302 and response.location.endswith(page_url(case))
    landing = text(worker.get(response.location))
    assert "Contact recorded for E4E-T0001" in landing and "1 h 15 min" in landing
    [stored] = raw(case)["contacts"]
    # Exactly what was entered: no place (left blank), minutes from hours and minutes.
    assert set(stored) == {"_id", "date", "minutes", "mode", "out_of_hours", "staff", "note"}
    assert stored["minutes"] == 75 and stored["staff"] == users["worker"].pk and stored["out_of_hours"] is False
    event = AuditEvent.objects(action="update", record_id=str(case.pk)).order_by("-at").first()
    fields = {c["field"]: c["new"] for c in event.changes}
    assert fields[f"contacts.{stored['_id']}.minutes"] == 75


def test_a_new_item_is_one_push_that_keeps_items_added_meanwhile(login, users):
    case = new_client("E4E-T0001", worker=users["worker"])
    worker, manager = login("worker"), login("manager")
    url = f"/admin/casefile/{case.pk}/add/contacts"
    # Both open the form, then both save: neither loses the other's contact.
    worker_token, manager_token = csrf_token(worker, url), csrf_token(manager, url)
    assert submit(worker, url, {**contact_data(users["worker"], note="worker's"), "csrf_token": worker_token}).status_code == 302
    assert submit(manager, url, {**contact_data(users["manager"], note="manager's"), "csrf_token": manager_token}).status_code == 302
    assert sorted(decrypt(c["note"]) for c in raw(case)["contacts"]) == ["manager's", "worker's"]


@pytest.mark.parametrize("changes, field, message", [
    ({"minutes-hours": "", "minutes-minutes": ""}, "minutes", "Enter how long it took, in hours and minutes"),
    ({"minutes-hours": "0", "minutes-minutes": "0"}, "minutes", "between 1 minute and 24 hours"),
    ({"minutes-hours": "25", "minutes-minutes": "0"}, "minutes", "between 1 minute and 24 hours"),
    ({"minutes-hours": "1", "minutes-minutes": "75"}, "minutes", "Minutes go from 0 to 59"),
    ({"minutes-hours": "an hour"}, "minutes", "whole numbers"),
    ({"date": (TODAY + timedelta(days=2)).isoformat()}, "date", "is in the future"),
    ({"mode": "__None"}, "mode", "Choose one of the options"),
    ({"mode": "carrier pigeon"}, "mode", "Not a valid choice"),
])
def test_a_bad_value_is_a_field_error_linked_from_the_summary_and_nothing_is_saved(login, users, changes, field, message):
    case = new_client("E4E-T0001", worker=users["worker"])
    response = submit(login("worker"), f"/admin/casefile/{case.pk}/add/contacts", contact_data(users["worker"], **changes))
    assert response.status_code == 200
    page = text(response)
    summary = page.split('class="alert alert-danger error-summary"')[1].split("</div>")[0]
    assert f'href="#{field}' in summary and message in summary
    assert "Talked about the CSCS card" in page  # what was typed stays
    assert raw(case).get("contacts", []) == []


def test_after_a_job_start_the_case_file_offers_in_work_and_the_check_dates(login, users):
    case = new_client("E4E-T0001", worker=users["worker"], status="active")
    worker = login("worker")
    start = TODAY - timedelta(days=3)
    response = submit(worker, f"/admin/casefile/{case.pk}/add/outcomes",
                      {"kind": "paid_employment", "start_date": start.isoformat(), "employer": "__None",
                       "job_type": "Warehouse operative", "hours_per_week": "30", "competitive": "y"})
    assert response.status_code == 302, text(response)[-2000:]
    page = text(worker.get(page_url(case)))
    assert "Change the status to In work" in page
    assert (start + timedelta(days=91)).strftime("%d/%m/%Y") in page and (start + timedelta(days=182)).strftime("%d/%m/%Y") in page
    [outcome] = raw(case)["outcomes"]
    assert "end_date" not in outcome and "reason_for_leaving" not in outcome


def test_overdue_plan_goals_are_flagged(login, users):
    case = new_client("E4E-T0001", worker=users["worker"], plan_goals=[
        PlanGoal(goal="Get a CSCS card", due_date=TODAY - timedelta(days=2)),
        PlanGoal(goal="Open a bank account", due_date=TODAY + timedelta(days=20))])
    plan = text(login("worker").get(page_url(case))).split('id="plan-heading"')[1].split("</section>")[0]
    overdue = [line for line in plan.split("<li") if "overdue</span>" in line]
    assert len(overdue) == 1 and "Get a CSCS card" in overdue[0]


# --- changing and removing ------------------------------------------------------------------------

def _case_with_items(users):
    return new_client("E4E-T0001", worker=users["worker"], contacts=[
        Contact(date=TODAY - timedelta(days=9), minutes=30, mode="phone", note="first"),
        Contact(date=TODAY - timedelta(days=3), minutes=45, mode="face_to_face", place="community", note="second")])


def test_changing_one_contact_writes_only_that_item(login, users):
    case = _case_with_items(users)
    first, second = raw(case)["contacts"]
    worker = login("worker")
    url = f"/admin/casefile/{case.pk}/edit/contacts/{second['_id']}"
    form = browser_submission(text(worker.get(url)), "task-form")
    form = [(k, "50" if k == "minutes-minutes" else v) for k, v in form]
    response = worker.post(url, data=MultiDict(form))
    assert response.status_code == 302
    assert "Contact changed for E4E-T0001: how long" in text(worker.get(response.location))
    now_first, now_second = raw(case)["contacts"]
    assert now_first == first
    assert now_second == {**second, "minutes": 50}
    event = AuditEvent.objects(action="update", record_id=str(case.pk)).order_by("-at").first()
    assert event.changes == [{"field": f"contacts.{second['_id']}.minutes", "old": 45, "new": 50}]


def test_two_people_changing_the_same_item_the_later_save_is_refused_with_its_input_kept(login, users):
    case = _case_with_items(users)
    second = raw(case)["contacts"][1]
    url = f"/admin/casefile/{case.pk}/edit/contacts/{second['_id']}"
    worker, manager = login("worker"), login("manager")
    worker_form = browser_submission(text(worker.get(url)), "task-form")
    manager_form = browser_submission(text(manager.get(url)), "task-form")
    manager_form = [(k, "Manager's note" if k == "note" else v) for k, v in manager_form]
    assert manager.post(url, data=MultiDict(manager_form)).status_code == 302
    worker_form = [(k, "Worker's note" if k == "note" else v) for k, v in worker_form]
    response = worker.post(url, data=MultiDict(worker_form))
    assert response.status_code == 200
    assert "someone else changed this contact after you opened it" in text(response)
    assert "Worker&#39;s note" in text(response) or "Worker's note" in text(response)
    assert decrypt(raw(case)["contacts"][1]["note"]) == "Manager's note"
    # Having seen the other change, the worker saves again on purpose.
    again = browser_submission(text(response), "task-form")
    assert worker.post(url, data=MultiDict(again)).status_code == 302
    assert decrypt(raw(case)["contacts"][1]["note"]) == "Worker's note"


def test_saving_or_removing_an_item_someone_removed_meanwhile_says_so_and_saves_nothing(login, users):
    case = _case_with_items(users)
    first, second = raw(case)["contacts"]
    worker, manager = login("worker"), login("manager")
    change = f"/admin/casefile/{case.pk}/edit/contacts/{first['_id']}"
    remove = f"/admin/casefile/{case.pk}/remove/contacts/{first['_id']}"
    worker_form = [(k, "Worker's note" if k == "note" else v)
                   for k, v in browser_submission(text(worker.get(change)), "task-form")]
    removal = browser_submission(text(manager.get(remove)), "task-form")
    assert manager.post(remove, data=MultiDict(removal)).status_code == 302
    response = worker.post(change, data=MultiDict(worker_form))
    assert response.status_code == 302 and response.location.endswith(page_url(case))
    assert "this contact is no longer in the case file of E4E-T0001" in text(worker.get(response.location))
    # Removing it a second time does nothing either.
    response = manager.post(remove, data=MultiDict(removal))
    assert response.status_code == 302
    assert "no longer in the case file" in text(manager.get(response.location))
    assert raw(case)["contacts"] == [second]
    # Audited, and not taken for probing: however often it happens, no administrator is alerted.
    for _ in range(PROBE_LIMIT):
        manager.post(remove, data=MultiDict(removal))
    assert AuditEvent.objects(action="item_gone", actor=users["manager"].email).count() == PROBE_LIMIT + 1
    assert not AuditEvent.objects(action="alert").count()


def test_removing_an_item_someone_changed_meanwhile_is_refused_until_seen(login, users):
    case = _case_with_items(users)
    first = raw(case)["contacts"][0]
    worker, manager = login("worker"), login("manager")
    change = f"/admin/casefile/{case.pk}/edit/contacts/{first['_id']}"
    remove = f"/admin/casefile/{case.pk}/remove/contacts/{first['_id']}"
    removal = browser_submission(text(manager.get(remove)), "task-form")
    worker_form = [(k, "Worker's note" if k == "note" else v)
                   for k, v in browser_submission(text(worker.get(change)), "task-form")]
    assert worker.post(change, data=MultiDict(worker_form)).status_code == 302
    response = manager.post(remove, data=MultiDict(removal))
    assert response.status_code == 200 and "changed by someone else after you opened it" in text(response)
    assert "Worker&#39;s note" in text(response) or "Worker's note" in text(response)
    assert len(raw(case)["contacts"]) == 2
    # Having seen the change, the manager removes it on purpose.
    assert manager.post(remove, data=MultiDict(browser_submission(text(response), "task-form"))).status_code == 302
    assert len(raw(case)["contacts"]) == 1


def test_removing_an_item_pulls_only_it_and_is_audited(login, users):
    case = _case_with_items(users)
    first, second = raw(case)["contacts"]
    manager = login("manager")
    url = f"/admin/casefile/{case.pk}/remove/contacts/{first['_id']}"
    page = text(manager.get(url))
    assert "first" in page
    response = manager.post(url, data=MultiDict(browser_submission(page, "task-form")))
    assert response.status_code == 302
    assert raw(case)["contacts"] == [second]
    event = AuditEvent.objects(action="update", record_id=str(case.pk)).order_by("-at").first()
    assert "removed contacts item" in event.summary and any(c["field"].endswith(".note") and c["old"] == "[encrypted]" for c in event.changes)


def test_an_end_reason_is_kept_only_with_an_end_date(login, users):
    case = new_client("E4E-T0001", worker=users["worker"],
                      outcomes=[Outcome(kind="paid_employment", start_date=TODAY - timedelta(days=100), job_type="Chef")])
    item = raw(case)["outcomes"][0]
    worker = login("worker")
    url = f"/admin/casefile/{case.pk}/edit/outcomes/{item['_id']}"
    form = dict(browser_submission(text(worker.get(url)), "task-form"))
    form["reason_for_leaving"] = "Moved away"
    assert worker.post(url, data=form).status_code == 302
    assert "reason_for_leaving" not in raw(case)["outcomes"][0]
    # The follow-up form records the end and its reason together.
    step = f"{url}?step=end"
    page = text(worker.get(step))
    assert 'name="end_date"' in page and 'name="job_type"' not in page
    form = dict(browser_submission(page, "task-form"), end_date=(TODAY - timedelta(days=1)).isoformat(),
                reason_for_leaving="Moved away")
    assert worker.post(step, data=form).status_code == 302
    stored = raw(case)["outcomes"][0]
    assert stored["reason_for_leaving"] == "Moved away" and stored["job_type"] == "Chef"


def test_a_disclosure_and_later_its_written_report(login, users):
    case = new_client("E4E-T0001", worker=users["worker"])
    manager = login("manager")
    response = submit(manager, f"/admin/casefile/{case.pk}/add/disclosures",
                      {"date": TODAY.isoformat(), "basis": "threat_to_life", "decided_by": "Service manager",
                       "authorised_by": "Head of service", "shared_with": "WMP control room",
                       "what_shared": "Named threat against a rival, tonight"})
    assert response.status_code == 302, text(response)[-1500:]
    stored = raw(case)["disclosures"][0]
    assert "Named threat" not in repr(stored)  # encrypted at rest
    page = text(manager.get(page_url(case)))
    assert "written report has not been recorded" in page and "Record the written report" in page
    url = f"/admin/casefile/{case.pk}/edit/disclosures/{stored['_id']}?step=report"
    form = dict(browser_submission(text(manager.get(url)), "task-form"), written_report_date=TODAY.isoformat())
    assert manager.post(url, data=form).status_code == 302
    assert "written report has not been recorded" not in text(manager.get(page_url(case)))


@pytest.mark.parametrize("part", [p.name for p in PARTS])
def test_an_unchanged_task_form_changes_nothing(app, login, users, part):
    """Every part's change form, saved untouched as a browser would, leaves the stored case file identical."""
    case = new_client("E4E-T0001", worker=users["worker"], **{part: [sample_item(part, users["worker"], TODAY)]})
    before = raw(case)
    item = before[part][0]
    manager = login("manager")
    url = f"/admin/casefile/{case.pk}/edit/{part}/{item['_id']}"
    response = manager.post(url, data=MultiDict(browser_submission(text(manager.get(url)), "task-form")))
    assert response.status_code == 302, text(response)[-2000:]
    assert "Nothing was changed" in text(manager.get(response.location))
    assert raw(case) == before


def test_items_stored_without_ids_get_them_without_losing_anything(login, users):
    case = new_client("E4E-T0001", worker=users["worker"])
    Client._get_collection().update_one({"_id": case.pk}, {"$set": {"contacts": [
        {"date": datetime.combine(TODAY - timedelta(days=4), time()), "minutes": 20, "mode": "phone"}]}})
    worker = login("worker")
    assert worker.get(page_url(case)).status_code == 200
    [stored] = raw(case)["contacts"]
    assert isinstance(stored["_id"], ObjectId) and stored["minutes"] == 20
    assert worker.get(f"/admin/casefile/{case.pk}/edit/contacts/{stored['_id']}").status_code == 200


# --- pickers --------------------------------------------------------------------------------------

@pytest.mark.parametrize("part", [p for p in PARTS if p.staff_field], ids=lambda p: f"{p.name}.{p.staff_field}")
def test_who_offers_active_staff_only_and_refuses_anyone_else(login, users, part):
    """Contact "Who", assessor and author: active staff only, and a forged value is refused."""
    case = new_client("E4E-T0001", worker=users["worker"])
    users["worker2"].active = False
    users["worker2"].save()
    worker = login("worker")
    url = f"/admin/casefile/{case.pk}/add/{part.name}"
    page = text(worker.get(url))
    who = page.split(f'name="{part.staff_field}"')[1].split("</select>")[0]
    for role in ("worker", "manager", "admin_staff"):
        assert str(users[role].pk) in who
    for role in ("evaluator", "commissioner", "grant_panel", "worker2"):
        assert str(users[role].pk) not in who
    filled = dict(browser_submission(page, "task-form"))
    filled.update({**contact_data(users["worker"]), "kind": "individual", "level": "low", "text": "Calm today",
                   "progress": "Two interviews", "purpose": "job_development"})
    for forged in (str(users["evaluator"].pk), str(users["worker2"].pk), str(ObjectId()), "not-an-id", "{'$ne': 1}"):
        response = worker.post(url, data={**filled, part.staff_field: forged})
        assert response.status_code == 200 and "Choose one of the options in the list" in text(response), forged
    assert raw(case).get(part.name, []) == []
    # The same form with the signed-in worker saves.
    assert worker.post(url, data={**filled, part.staff_field: str(users["worker"].pk)}).status_code == 302
    assert raw(case)[part.name][0][writes.item_class(part.name)._fields[part.staff_field].db_field] == users["worker"].pk


def test_case_owner_is_a_worker_or_manager_and_a_forged_owner_is_refused(app, login, users):
    from admin_app.security import datastore

    with app.app_context():
        left = datastore.create_user(email="left@test.e4e", name="Left Worker", password="x" * 20, roles=["worker"],
                                     active=False)
    case = new_client("E4E-T0001", worker=users["worker"])
    manager = login("manager")
    url = f"/admin/client/edit/?id={case.pk}"
    page = text(manager.get(url))
    owners = page.split('name="worker"')[1].split("</select>")[0]
    assert str(users["worker2"].pk) in owners and str(users["manager"].pk) in owners
    assert str(users["evaluator"].pk) not in owners and str(users["admin_staff"].pk) not in owners
    assert str(left.pk) not in owners
    for forged in (users["evaluator"].pk, users["admin_staff"].pk, left.pk):
        form = [(k, str(forged) if k == "worker" else v) for k, v in browser_submission(page)]
        response = manager.post(url, data=MultiDict(form))
        assert response.status_code == 200 and "Choose one of the options in the list" in text(response), forged
    assert raw(case)["worker"] == users["worker"].pk


# --- permissions and scope ------------------------------------------------------------------------

def _role_may(role: str, permission: str) -> bool:
    from admin_app.models import Role

    return permission in Role.objects.get(name=role).permissions


@pytest.mark.parametrize("role", ["worker", "admin_staff", "manager", "evaluator", "commissioner", "grant_panel"])
def test_each_task_is_refused_to_a_role_without_its_permission(login, users, role):
    case = new_client("E4E-T0001", worker=users["worker"], contacts=[Contact(date=TODAY, minutes=30, mode="phone")],
                      **{p.name: [] for p in PARTS if p.name != "contacts"})
    for part in PARTS:
        if part.name != "contacts":
            Client._get_collection().update_one({"_id": case.pk}, {"$push": {part.name: sample_item(part.name, users["worker"], TODAY).to_mongo().to_dict()}})
    who = login(role)
    stored = raw(case)
    refused = 0
    for part in PARTS:
        item_id = stored[part.name][0]["_id"]
        for action, url in (("add", f"/admin/casefile/{case.pk}/add/{part.name}"),
                            ("edit", f"/admin/casefile/{case.pk}/edit/{part.name}/{item_id}"),
                            ("remove", f"/admin/casefile/{case.pk}/remove/{part.name}/{item_id}")):
            allowed = _role_may(role, part.permission(action)) and _role_may(role, "client.casefile")
            status = who.get(url).status_code
            assert status == (200 if allowed else 403), (role, url, status)
            if not allowed:
                posted = who.post(url, data={"csrf_token": csrf_token(who, "/admin/")})
                assert posted.status_code == 403, (role, url)
                refused += 1
    for url, permission in ((f"/admin/casefile/{case.pk}/add/status_history", "casefile.status_history.add"),
                            (f"/admin/casefile/{case.pk}/referral", "casefile.referral.decide")):
        allowed = _role_may(role, permission) and _role_may(role, "client.casefile")
        assert who.get(url).status_code == (200 if allowed else 403), (role, url)
    assert raw(case) == stored
    if refused:
        assert AuditEvent.objects(action="refused", actor=users[role].email).count() >= refused


def test_default_roles_hold_the_tasks_their_work_needs(app, users):
    assert _role_may("worker", "casefile.contacts.add") and _role_may("worker", "casefile.risk_notes.edit")
    assert not _role_may("worker", "casefile.contacts.remove") and not _role_may("worker", "casefile.referral.decide")
    assert _role_may("manager", "casefile.referral.decide") and _role_may("manager", "casefile.contacts.remove")
    assert _role_may("admin_staff", "casefile.contacts.add") and not _role_may("admin_staff", "casefile.risk_notes.add")
    assert not any(_role_may("evaluator", p.permission(a)) for p in PARTS for a in ("add", "edit", "remove"))


def test_an_admin_takes_a_task_away_in_the_roles_screen(login, users):
    from admin_app.models import Role

    case = new_client("E4E-T0001", worker=users["worker"])
    worker = login("worker")
    assert worker.get(f"/admin/casefile/{case.pk}/add/contacts").status_code == 200
    role = Role.objects.get(name="worker")
    admin = login("admin")
    url = f"/admin/role/edit/?id={role.pk}"
    form = [(k, v) for k, v in browser_submission(text(admin.get(url))) if not (k == "permissions" and v == "casefile.contacts.add")]
    assert admin.post(url, data=MultiDict(form)).status_code == 302
    assert worker.get(f"/admin/casefile/{case.pk}/add/contacts").status_code == 403


def test_a_worker_cannot_reach_another_workers_case_file_by_url(login, users):
    theirs = new_client("E4E-T0002", worker=users["worker2"], contacts=[Contact(date=TODAY, minutes=30, mode="phone")])
    mine = new_client("E4E-T0001", worker=users["worker"], contacts=[Contact(date=TODAY, minutes=30, mode="phone")])
    their_item = raw(theirs)["contacts"][0]["_id"]
    before = raw(theirs)
    worker = login("worker")
    token = csrf_token(worker, "/admin/")
    urls = [f"/admin/casefile/{theirs.pk}/", f"/admin/casefile/{theirs.pk}/add/contacts",
            f"/admin/casefile/{theirs.pk}/edit/contacts/{their_item}",
            f"/admin/casefile/{theirs.pk}/add/status_history",
            # Their item through my case file's address finds nothing either.
            f"/admin/casefile/{mine.pk}/edit/contacts/{their_item}",
            "/admin/casefile/not-an-id/", f"/admin/casefile/{ObjectId()}/add/contacts"]
    for url in urls:
        assert worker.get(url).status_code == 404, url
        if url.endswith("/"):
            continue  # the page itself takes no POST
        response = worker.post(url, data={**contact_data(users["worker"]), "csrf_token": token, "status": "closed",
                                          "reason": "x"})
        if url.startswith(f"/admin/casefile/{mine.pk}/"):
            # On my own case file a save of an item that is not there says so and changes nothing.
            assert response.status_code == 302 and response.location.endswith(page_url(mine)), url
        else:
            assert response.status_code == 404, url
    assert raw(theirs) == before
    assert worker.get(f"/admin/casefile/{theirs.pk}/add/no_such_part").status_code == 404
    # Each attempt is on record: who asked for which case file.
    probes = AuditEvent.objects(action="not_found", actor=users["worker"].email, collection="clients")
    assert probes.filter(record_id=str(theirs.pk)).count() >= 3


def test_no_task_reaches_another_workers_case_file_by_url_even_with_every_task_permission(login, users):
    """Every part's add, change, follow-up and remove address, and the status and referral forms: another
    caseload's case file is "not found" however the address is put together, and nothing changes."""
    from admin_app.casework.parts import DECIDE_PERMISSION, STATUS_PERMISSION, permission_labels
    from admin_app.models import Role

    Role.objects(name="worker").update_one(add_to_set__permissions=list(permission_labels()))
    theirs = new_client("E4E-T0002", worker=users["worker2"], status="referred",
                        referral=Referral(date=TODAY - timedelta(days=10), source="probation", cohort="convicted"),
                        **{p.name: [sample_item(p.name, users["worker2"], TODAY)] for p in PARTS})
    mine = new_client("E4E-T0001", worker=users["worker"])
    before = raw(theirs)
    worker = login("worker")
    token = csrf_token(worker, "/admin/")
    urls = [f"/admin/casefile/{theirs.pk}/add/status_history", f"/admin/casefile/{theirs.pk}/referral"]
    for part in PARTS:
        item_id = before[part.name][0]["_id"]
        urls += [f"/admin/casefile/{theirs.pk}/add/{part.name}",
                 f"/admin/casefile/{theirs.pk}/edit/{part.name}/{item_id}",
                 f"/admin/casefile/{theirs.pk}/remove/{part.name}/{item_id}",
                 # Their item through my own case file's address.
                 f"/admin/casefile/{mine.pk}/edit/{part.name}/{item_id}",
                 f"/admin/casefile/{mine.pk}/remove/{part.name}/{item_id}"]
        urls += [f"/admin/casefile/{theirs.pk}/edit/{part.name}/{item_id}?step={step.name}" for step in part.follow_ups]
    posted = {**contact_data(users["worker"]), "csrf_token": token, "status": "closed", "reason": "x",
              "decision": "rejected", "decision_date": TODAY.isoformat(), "rejection_reason": "other", "rationale": "x",
              "seen": "", "written_report_date": TODAY.isoformat(), "end_date": TODAY.isoformat()}
    for url in urls:
        assert worker.get(url).status_code == 404, url
        response = worker.post(url, data=posted)
        if url.startswith(f"/admin/casefile/{mine.pk}/"):
            assert response.status_code == 302 and response.location.endswith(page_url(mine)), url
        else:
            assert response.status_code == 404, url
    assert raw(theirs) == before
    assert raw(mine).get("contacts", []) == []
    assert AuditEvent.objects(action="not_found", actor=users["worker"].email).count() >= len(urls)
    # The same permissions do reach the worker's own case file.
    assert worker.get(f"/admin/casefile/{mine.pk}/add/contacts").status_code == 200
    assert {STATUS_PERMISSION, DECIDE_PERMISSION} <= set(Role.objects.get(name="worker").permissions)


def test_two_people_changing_different_items_at_once_keep_both_changes(login, users):
    case = _case_with_items(users)
    first, second = raw(case)["contacts"]
    worker, manager = login("worker"), login("manager")
    first_url = f"/admin/casefile/{case.pk}/edit/contacts/{first['_id']}"
    second_url = f"/admin/casefile/{case.pk}/edit/contacts/{second['_id']}"
    worker_form = browser_submission(text(worker.get(first_url)), "task-form")
    manager_form = browser_submission(text(manager.get(second_url)), "task-form")
    worker_form = [(k, "Worker's note" if k == "note" else v) for k, v in worker_form]
    manager_form = [(k, "Manager's note" if k == "note" else v) for k, v in manager_form]
    assert worker.post(first_url, data=MultiDict(worker_form)).status_code == 302
    assert manager.post(second_url, data=MultiDict(manager_form)).status_code == 302
    assert [decrypt(c["note"]) for c in raw(case)["contacts"]] == ["Worker's note", "Manager's note"]


def test_status_history_has_no_change_or_remove_form(login, users):
    case = new_client("E4E-T0001", worker=users["worker"])
    manager = login("manager")
    assert submit(manager, f"/admin/casefile/{case.pk}/add/status_history", {"status": "in_work", "reason": ""}).status_code == 302
    entry = raw(case)["status_history"][-1]["_id"]
    for url in (f"/admin/casefile/{case.pk}/edit/status_history/{entry}", f"/admin/casefile/{case.pk}/remove/status_history/{entry}"):
        assert manager.get(url).status_code == 404
        assert manager.post(url, data={"csrf_token": csrf_token(manager, "/admin/")}).status_code == 404


def test_every_problem_is_reported_in_the_same_round(login, users):
    case = new_client("E4E-T0001", worker=users["worker"])
    response = submit(login("worker"), f"/admin/casefile/{case.pk}/add/contacts",
                      contact_data(users["worker"], **{"minutes-hours": "", "minutes-minutes": "",
                                                       "date": (TODAY + timedelta(days=2)).isoformat()}))
    summary = text(response).split('error-summary"')[1].split("</div>")[0]
    assert "Enter how long it took" in summary and "is in the future" in summary
    assert raw(case).get("contacts", []) == []


# --- employers are typed and looked up, never a drop-down of every employer -----------------------------

def test_an_employer_is_looked_up_by_the_start_of_its_name(login, users):
    import json

    from admin_app.models.partners import Employer

    for name in ("Brindley Bakery", "Bull Ring Barbers", "Digbeth Dining", "The Bakehouse"):
        Employer(name=name).save()
    case = new_client("E4E-LOOK1", worker=users["worker"])
    worker = login("worker")
    page = text(worker.get(f"{page_url(case)}add/outcomes"))
    assert "Brindley Bakery" not in page and "casefile/ajax/lookup/?name=employer" in page.replace("&amp;", "&")

    def lookup(client, term):
        response = client.get(f"/admin/casefile/ajax/lookup/?name=employer&query={term}")
        return response.status_code, [label for _, label in json.loads(response.get_data(as_text=True))] \
            if response.status_code == 200 else None

    assert lookup(worker, "b") == (200, ["Brindley Bakery", "Bull Ring Barbers"])
    assert lookup(worker, "BAKE") == (200, [])  # the start of the name, not anywhere in it
    assert lookup(worker, "the bake") == (200, ["The Bakehouse"])
    assert lookup(login("grant_panel"), "b")[0] == 403  # records no outcomes or employer contacts
    assert worker.get("/admin/casefile/ajax/lookup/?name=client&query=E4E").status_code == 404


def test_an_outcome_is_recorded_with_a_looked_up_employer_and_a_made_up_one_is_refused(login, users):
    from admin_app.models.partners import Employer

    employer = Employer(name="Brindley Bakery").save()
    case = new_client("E4E-LOOK2", worker=users["worker"])
    worker = login("worker")
    url = f"{page_url(case)}add/outcomes"
    data = {"kind": "paid_employment", "start_date": (date.today() - timedelta(days=3)).isoformat(),
            "job_type": "Baker", "hours_per_week": "20", "competitive": "y"}
    response = submit(worker, url, {**data, "employer": str(ObjectId())})
    assert response.status_code == 200 and "Choose one of the options the search offers" in text(response)
    assert not Client.objects.get(pk=case.pk).outcomes
    response = submit(worker, url, {**data, "employer": str(employer.pk)})
    assert response.status_code == 302, text(response)[-1500:]
    assert Client.objects.get(pk=case.pk).outcomes[0].employer == employer
