"""The case file through the real form POSTs: nested lists, rules, filters, encryption, the case-file page."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from admin_app.models import Client, StaffProfile
from admin_app.models.case_file import Contact
from tests.conftest import csrf_token, new_client

TODAY = date.today()


def d(days_ago: int) -> str:
    return (TODAY - timedelta(days=days_ago)).isoformat()


def client_form(**overrides) -> dict:
    """Form data for a valid new case file, as the browser posts it."""
    data = {
        "reference": "E4E-F0001", "first_name": "Dami", "last_name": "Adeyemi",
        "date_of_birth": d(365 * 24), "postcode": "B6 4AA", "phone": "", "worker": "__None",
        "caseload_override_reason": "",
        "referral-date": d(90), "referral-source": "yos", "referral-cohort": "at_risk", "referral-organisation": "__None",
        "consent-recorded": "y", "consent-date": d(80), "consent-isa_version": "v3", "consent-preferred_language": "English",
        "assessment-date": d(80), "assessment-readiness": "high", "assessment-goal": "employment",
        "assessment-employment_status": "unemployed", "assessment-agreed_to_take_part": "y",
        "assessment-previous_support_from": "", "assessment-conviction_details": "",
    }
    data.update(overrides)
    return data


def post(client, url, data):
    data = dict(data)
    data["csrf_token"] = csrf_token(client, "/admin/client/new/")
    return client.post(url, data=data)


def errors_in(response) -> str:
    return response.get_data(as_text=True)


def test_a_new_case_file_is_a_referral_awaiting_its_decision(login, users):
    manager = login("manager")
    data = client_form(worker=str(users["worker"].pk), **{"assessment-conviction_details": "Robbery 2021, served 18 months"})
    response = post(manager, "/admin/client/new/", data)
    assert response.status_code == 302, errors_in(response)[-2000:]
    saved = Client.objects(reference="E4E-F0001").first()
    assert saved.status == "referred" and saved.referral.decision == "pending"
    assert [(s.status, s.by) for s in saved.status_history] == [("referred", users["manager"].email)]
    assert saved.assessment.conviction_details == "Robbery 2021, served 18 months"


def test_the_whole_file_form_holds_the_top_level_parts_only(login, users):
    case = new_client("E4E-F0002", worker=users["worker"],
                      contacts=[Contact(date=TODAY - timedelta(days=i), minutes=30, mode="phone") for i in range(1, 51)])
    page = errors_in(login("manager").get(f"/admin/client/edit/?id={case.pk}"))
    assert 'name="first_name"' in page and 'name="consent-recorded"' in page and 'name="assessment-goal"' in page
    for absent in ("contacts-", "outcomes-", "status_history-", 'name="status"', "referral-decision", "grant_bids"):
        assert absent not in page, absent


@pytest.mark.parametrize("change, message", [
    ({"date_of_birth": d(365 * 40)}, "aged 18 to 35"),
    ({"date_of_birth": d(365 * 17)}, "aged 18 to 35"),
    ({"referral-date": (TODAY + timedelta(days=3)).isoformat()}, "in the future"),
    ({"consent-date": (TODAY + timedelta(days=3)).isoformat()}, "in the future"),
    ({"referral-source": "__None"}, "Choose one of the options"),
])
def test_each_rule_refuses_bad_input_with_a_message_and_saves_nothing(login, change, message):
    manager = login("manager")
    data = client_form(**change)
    response = post(manager, "/admin/client/new/", data)
    assert response.status_code == 200
    page = errors_in(response)
    assert message in page
    assert Client.objects(reference="E4E-F0001").first() is None
    # What the user typed is still in the form.
    assert 'value="Adeyemi"' in page


def test_a_refused_edit_changes_nothing(login, users):
    manager = login("manager")
    existing = new_client("E4E-F0001", worker=users["worker"], contacts=[Contact(date=TODAY - timedelta(days=2), minutes=30, mode="phone")])
    response = post(manager, f"/admin/client/edit/?id={existing.pk}",
                    client_form(first_name="Renamed", worker=str(users["worker"].pk), date_of_birth=d(365 * 50),
                                version_seen="0"))
    assert response.status_code == 200 and "aged 18 to 35" in errors_in(response)
    existing.reload()
    assert existing.first_name == "Test" and existing.contacts[0].minutes == 30


def test_worker_cannot_exceed_their_cap_unless_a_manager_records_a_reason(app, login, users):
    StaffProfile(user=users["worker"], fte=0.2, start_date=TODAY - timedelta(days=400)).save()  # cap 5
    for i in range(5):
        new_client(f"E4E-C{i:04d}", worker=users["worker"])
    admin_staff = login("admin_staff")
    response = post(admin_staff, "/admin/client/new/", client_form(worker=str(users["worker"].pk)))
    assert "over their cap of 5" in errors_in(response) and "Only a manager" in errors_in(response)
    manager = login("manager")
    response = post(manager, "/admin/client/new/", client_form(worker=str(users["worker"].pk)))
    assert "Record a reason" in errors_in(response)
    assert Client.objects(reference="E4E-F0001").first() is None
    response = post(manager, "/admin/client/new/", client_form(worker=str(users["worker"].pk),
                                                               caseload_override_reason="Continuity: sibling already on caseload"))
    assert response.status_code == 302
    assert Client.objects(reference="E4E-F0001").first().caseload_override_reason.startswith("Continuity")


def test_encrypted_fields_are_ciphertext_in_storage_and_plain_on_screen(login, users):
    from admin_app.models.case_file import RiskNote, SafeguardingConcern

    case = new_client("E4E-ENC01", worker=users["worker"],
                      risk_notes=[RiskNote(date=TODAY, level="high", text="Known to carry a knife")],
                      safeguarding_concerns=[SafeguardingConcern(date=TODAY, concern="Younger brother being groomed")])
    case.assessment.conviction_details = "Section 18 wounding"
    case.save()
    raw = Client._get_collection().find_one({"_id": case.pk})
    stored = repr(raw)
    for secret in ("knife", "groomed", "wounding"):
        assert secret not in stored
    assert raw["risk_notes"][0]["text"].startswith("gAAAAA")
    page = login("worker").get(f"/admin/casefile/{case.pk}/").get_data(as_text=True)
    assert "Known to carry a knife" in page and "Younger brother being groomed" in page


@pytest.mark.parametrize("flt, value, expected", [
    ("Outcome kind", "self_employment", {"E4E-N0002"}),
    ("Contact mode", "video", {"E4E-N0001"}),
    ("Risk level", "high", {"E4E-N0002"}),
    ("Referral source", "prison", {"E4E-N0001"}),
    ("Cohort", "at_risk", {"E4E-N0002"}),
])
def test_nested_filters_return_the_right_clients(login, users, flt, value, expected):
    from admin_app.models.case_file import Outcome, Referral, RiskAssessment

    new_client("E4E-N0001", worker=users["worker"], contacts=[Contact(date=TODAY, minutes=20, mode="video")],
               referral=Referral(date=TODAY - timedelta(days=30), source="prison", cohort="convicted", decision="accepted"),
               outcomes=[Outcome(kind="paid_employment", start_date=TODAY)])
    new_client("E4E-N0002", worker=users["worker2"], contacts=[Contact(date=TODAY, minutes=20, mode="phone")],
               referral=Referral(date=TODAY - timedelta(days=30), source="yos", cohort="at_risk", decision="accepted"),
               outcomes=[Outcome(kind="self_employment", start_date=TODAY)],
               risk_assessments=[RiskAssessment(date=TODAY, kind="venue", level="high")])
    manager = login("manager")
    page = manager.get("/admin/client/").get_data(as_text=True)
    # Find the filter's index from the list page's own filter definitions.
    index = _filter_index(page, flt)
    listed = manager.get(f"/admin/client/?flt0_{index}={value}").get_data(as_text=True)
    found = set(re.findall(r"E4E-N\d{4}", listed))
    assert found == expected


def test_worker_filter_by_another_worker_shows_nothing_to_a_worker(login, users):
    new_client("E4E-N0001", worker=users["worker"])
    new_client("E4E-N0002", worker=users["worker2"])
    worker = login("worker")
    index = _filter_index(worker.get("/admin/client/").get_data(as_text=True), "Worker")
    listed = worker.get(f"/admin/client/?flt0_{index}={users['worker2'].pk}").get_data(as_text=True)
    assert "E4E-N0002" not in listed and "E4E-N0001" not in listed


def _filter_index(page: str, name: str) -> int:
    import json

    match = re.search(r"var filterGroups = (\{.*?\});", page, re.S) or re.search(r'data-filter-groups=\'([^\']+)\'', page)
    if match:
        groups = json.loads(match.group(1))
    else:
        groups = json.loads(re.search(r'id="filter-groups-data"[^>]*>(.*?)</', page, re.S).group(1))
    for label, entries in groups.items():
        if label == name:
            return entries[0]["index"]
    raise AssertionError(f"no filter {name}: {list(groups)}")


def test_case_file_page_shows_timeline_newest_first_hours_and_plan(login, users):
    from admin_app.models.case_file import Disclosure, PlanGoal

    case = new_client("E4E-P0001", worker=users["worker"],
                      contacts=[Contact(date=TODAY - timedelta(days=20), minutes=90, mode="face_to_face"),
                                Contact(date=TODAY - timedelta(days=2), minutes=30, mode="admin")],
                      plan_goals=[PlanGoal(goal="Get CSCS card", status="open"), PlanGoal(goal="CV written", status="achieved")],
                      disclosures=[Disclosure(date=TODAY - timedelta(days=1), basis="threat_to_life", authorised_by="Service manager")])
    page = login("worker").get(f"/admin/casefile/{case.pk}/").get_data(as_text=True)
    assert page.index("Admin contact, 30 min") < page.index("Face-to-face contact, 1 h 30 min")
    assert re.search(r'hours-face-to-face">1\.5<', page) and re.search(r'hours-admin">0\.5<', page)
    assert "Get CSCS card" in page and "CV written" not in page.split("Vocational Action Plan")[1].split("Timeline")[0]
    assert "written report has not been recorded" in page


def test_manager_bulk_reassigns_within_cap_with_an_audit_entry(login, users):
    from admin_app.models import AuditEvent

    a = new_client("E4E-R0001", worker=users["worker"])
    b = new_client("E4E-R0002", worker=users["worker"])
    manager = login("manager")
    token = csrf_token(manager)
    response = manager.post("/admin/client/action/", data={"action": "reassign", "rowid": [str(a.pk), str(b.pk)], "csrf_token": token})
    assert response.status_code == 302 and "reassign" in response.location
    response = manager.post("/admin/client/reassign/", data={"ids": f"{a.pk},{b.pk}", "worker": str(users["worker2"].pk), "csrf_token": token})
    assert response.status_code == 302
    assert {c.worker for c in Client.objects(pk__in=[a.pk, b.pk])} == {users["worker2"]}
    event = AuditEvent.objects(action="reassign").first()
    assert event.actor == users["manager"].email and "worker2@test.e4e" in event.summary


def test_bulk_reassign_beyond_cap_is_refused_without_a_reason(login, users):
    StaffProfile(user=users["worker2"], caseload_cap=1, start_date=TODAY - timedelta(days=10)).save()
    a = new_client("E4E-R0001", worker=users["worker"])
    b = new_client("E4E-R0002", worker=users["worker"])
    manager = login("manager")
    token = csrf_token(manager)
    response = manager.post("/admin/client/reassign/", data={"ids": f"{a.pk},{b.pk}", "worker": str(users["worker2"].pk), "csrf_token": token})
    assert response.status_code == 200 and "over their cap of 1" in response.get_data(as_text=True)
    assert {c.worker for c in Client.objects(pk__in=[a.pk, b.pk])} == {users["worker"]}


def test_reopening_a_closed_case_needs_a_reason_and_keeps_its_history(login, users):
    case = new_client("E4E-O0001", worker=users["worker"], status="closed")
    manager = login("manager")
    url = f"/admin/casefile/{case.pk}/add/status_history"
    response = post(manager, url, {"status": "active", "reason": ""})
    assert response.status_code == 200 and "Say why the case is re-opened" in errors_in(response)
    response = post(manager, url, {"status": "active", "reason": "Back in touch after moving house"})
    assert response.status_code == 302, errors_in(response)[-1500:]
    case.reload()
    assert case.status == "active"
    assert (case.status_history[-1].status, case.status_history[-1].reason, case.status_history[-1].by) == \
        ("active", "Back in touch after moving house", users["manager"].email)


def test_two_saves_at_once_cannot_both_take_a_workers_last_place(login, users, monkeypatch):
    """The second save arrives while the first is between counting the caseload and writing the case file."""
    import threading

    from admin_app.views import clients as client_views

    StaffProfile(user=users["worker"], fte=0.2, start_date=TODAY - timedelta(days=400)).save()  # cap 5
    for i in range(4):
        new_client(f"E4E-L{i:04d}", worker=users["worker"])
    first, second = login("admin_staff"), login("admin_staff")
    first_data = post_ready(first, client_form(worker=str(users["worker"].pk)))
    second_data = post_ready(second, client_form(reference="E4E-F0002", worker=str(users["worker"].pk)))
    answers = {}
    count = client_views.open_case_count

    def count_while_another_save_arrives(*args, **kwargs):
        if "second" not in answers:
            answers["second"] = None
            other = threading.Thread(target=lambda: answers.update(
                second=second.post("/admin/client/new/", data=second_data)))
            other.start()
            other.join(timeout=0.5)  # the other save runs as far as it can meanwhile
            answers["other"] = other
        return count(*args, **kwargs)

    monkeypatch.setattr(client_views, "open_case_count", count_while_another_save_arrives)
    answers["first"] = first.post("/admin/client/new/", data=first_data)
    answers["other"].join(timeout=10)

    assert answers["first"].status_code == 302
    assert answers["second"].status_code == 200 and "over their cap of 5" in errors_in(answers["second"])
    assert Client.objects(worker=users["worker"]).count() == 5
    assert Client.objects(reference="E4E-F0002").first() is None


def post_ready(client, data):
    return {**data, "csrf_token": csrf_token(client, "/admin/client/new/")}


def test_a_caseload_hold_makes_a_second_save_wait_and_a_lapsed_hold_is_taken_over(app, users):
    from datetime import datetime

    from admin_app import caseload
    from admin_app.db import database

    with caseload.counting(users["worker"]):
        with pytest.raises(caseload.CaseloadBusy, match="being saved at this moment"):
            with caseload.counting(users["worker"], wait_seconds=0.1):
                pass
        with caseload.counting(users["worker2"], wait_seconds=0.1):  # another worker's caseload is free
            pass
    with caseload.counting(users["worker"], wait_seconds=0.1):  # released once the first save finished
        pass
    # A process that stopped while holding: its hold lapses.
    database()[caseload.HOLDS].update_one({"_id": users["worker"].pk},
                                          {"$set": {"by": "stopped", "until": datetime.utcnow() - timedelta(seconds=1)}})
    with caseload.counting(users["worker"], wait_seconds=0.1):
        pass
