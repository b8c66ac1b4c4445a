"""Deciding referrals and changing status through the case-file page: who may, what is recorded, what is refused."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from admin_app.casework import status as machine
from admin_app.models import AuditEvent, Client
from admin_app.models.case_file import Referral
from admin_app.vocabulary import CASE_STATUSES
from tests.conftest import csrf_token, new_client

TODAY = date.today()


def pending_case(users, **fields):
    return new_client("E4E-D0001", worker=users["worker"], status="referred",
                      referral=Referral(date=TODAY - timedelta(days=10), source="probation", cohort="convicted"), **fields)


def post(client, url, data):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, url)})


def text(response):
    return response.get_data(as_text=True)


def test_a_worker_cannot_decide_their_own_clients_referral(login, users):
    case = pending_case(users)
    worker = login("worker")
    url = f"/admin/casefile/{case.pk}/referral"
    assert worker.get(url).status_code == 403
    assert worker.post(url, data={"decision": "rejected", "csrf_token": csrf_token(worker, "/admin/")}).status_code == 403
    assert "Decide the referral" not in text(worker.get(f"/admin/casefile/{case.pk}/"))
    case.reload()
    assert case.referral.decision == "pending" and case.status == "referred"


def test_a_manager_accepts_a_referral_and_the_decider_is_recorded(login, users):
    case = pending_case(users)
    manager = login("manager")
    response = post(manager, f"/admin/casefile/{case.pk}/referral", {"decision": "accepted", "decision_date": TODAY.isoformat(),
                                                                   "rejection_reason": "ineligible", "rationale": "stray"})
    assert response.status_code == 302, text(response)[-1500:]
    assert "the case is now Assessed" in text(manager.get(response.location))
    raw = Client._get_collection().find_one({"_id": case.pk})
    assert raw["referral"]["decision"] == "accepted" and raw["referral"]["decided_by"] == users["manager"].email
    # A rejection reason or rationale does not outlive the decision it belongs to.
    assert "rejection_reason" not in raw["referral"] and "rationale" not in raw["referral"]
    assert raw["status"] == "assessed" and raw["status_history"][-1]["status"] == "assessed"
    assert raw["status_history"][-1]["by"] == users["manager"].email
    event = AuditEvent.objects(action="update", record_id=str(case.pk)).order_by("-at").first()
    assert event.actor == users["manager"].email and "referral accepted" in event.summary
    assert {"field": "status", "old": "referred", "new": "assessed"} in event.changes


def test_a_rejection_needs_its_reason_and_closes_the_case(login, users):
    case = pending_case(users)
    manager = login("manager")
    url = f"/admin/casefile/{case.pk}/referral"
    response = post(manager, url, {"decision": "rejected", "decision_date": TODAY.isoformat(),
                                   "rejection_reason": "__None", "rationale": ""})
    assert response.status_code == 200
    assert "Choose the reason the referral was rejected" in text(response) and "needs a rationale" in text(response)
    case.reload()
    assert case.referral.decision == "pending"
    response = post(manager, url, {"decision": "rejected", "decision_date": TODAY.isoformat(),
                                   "rejection_reason": "risk_unacceptable", "rationale": "Live conflict with a current client"})
    assert response.status_code == 302
    case.reload()
    assert (case.referral.decision, case.referral.rejection_reason, case.status) == ("rejected", "risk_unacceptable", "closed")
    # Rejected is final: the case cannot be re-opened or re-decided.
    assert "cannot be decided again" in text(manager.get(url, follow_redirects=True))
    response = post(manager, f"/admin/casefile/{case.pk}/add/status_history", {"status": "active", "reason": "x"})
    assert response.status_code == 200 and case.reload().status == "closed"


def test_a_case_with_an_undecided_referral_cannot_be_put_in_work(login, users):
    case = pending_case(users)
    manager = login("manager")
    url = f"/admin/casefile/{case.pk}/add/status_history"
    assert "has not been decided yet" in text(manager.get(url, follow_redirects=True))
    for status in ("in_work", "active", "assessed", "closed"):
        response = post(manager, url, {"status": status, "reason": "got a job", "correction": "y"})
        assert response.status_code == 200 and "has not been decided yet" in text(response), status
    case.reload()
    assert case.status == "referred" and len(case.status_history) == 0


@pytest.mark.parametrize("current", [s for s, _ in CASE_STATUSES if s != "referred"])
def test_every_status_change_through_the_form_is_made_or_refused_as_the_status_machine_says(login, users, current):
    """For an accepted referral: each move the machine allows is recorded; every other is refused, saying why."""
    case = new_client("E4E-S0001", worker=users["worker"], status=current)
    worker = login("worker")
    url = f"/admin/casefile/{case.pk}/add/status_history"
    offered = machine.next_statuses(current, "accepted")
    page = text(worker.get(url)).split('name="status"')[1].split("</select>")[0]
    for new in [s for s, _ in CASE_STATUSES] + ["nonsense"]:
        Client.objects(pk=case.pk).update(set__status=current, set__status_history=[])
        response = post(worker, url, {"status": new, "reason": "Back in touch"})
        stored = Client._get_collection().find_one({"_id": case.pk})
        if new in offered:
            assert response.status_code == 302 and f'value="{new}"' in page, new
            assert stored["status"] == new and [h["status"] for h in stored["status_history"]] == [new]
        else:
            assert response.status_code == 200, new
            assert re.search(r"cannot go straight|already has this status|Choose one of the statuses|"
                             r"has not been decided", text(response)), new
            assert stored["status"] == current and stored.get("status_history", []) == [], new


def test_a_worker_moves_their_case_on_and_the_history_records_who_when_why(login, users):
    case = new_client("E4E-S0001", worker=users["worker"], status="assessed")
    worker = login("worker")
    url = f"/admin/casefile/{case.pk}/add/status_history"
    page = text(worker.get(url))
    assert 'value="active"' in page and "Only as a correction" in page
    response = post(worker, url, {"status": "active", "reason": "Vocational profile started"})
    assert response.status_code == 302
    response = post(worker, url, {"status": "assessed", "reason": ""})
    assert response.status_code == 200 and "tick “correction”" in text(response)
    response = post(worker, url, {"status": "closed", "reason": ""})
    assert response.status_code == 200 and "Say why the case is closed" in text(response)
    response = post(worker, url, {"status": "assessed", "reason": "Profile not started yet", "correction": "y"})
    assert response.status_code == 302
    case.reload()
    assert [(h.status, h.by, h.reason, bool(h.correction)) for h in case.status_history] == [
        ("active", users["worker"].email, "Vocational profile started", False),
        ("assessed", users["worker"].email, "Profile not started yet", True)]
    assert all(h.date == TODAY for h in case.status_history)
    event = AuditEvent.objects(action="update", record_id=str(case.pk)).order_by("-at").first()
    assert {"field": "status", "old": "active", "new": "assessed"} in event.changes


def test_a_status_change_made_meanwhile_makes_the_later_one_miss(login, users):
    case = new_client("E4E-S0001", worker=users["worker"], status="active")
    worker, manager = login("worker"), login("manager")
    url = f"/admin/casefile/{case.pk}/add/status_history"
    worker_token = csrf_token(worker, url)
    assert post(manager, url, {"status": "closed", "reason": "Moved away"}).status_code == 302
    response = worker.post(url, data={"status": "in_work", "reason": "", "csrf_token": worker_token})
    assert case.reload().status == "closed" and len(case.status_history) == 1
    assert response.status_code == 200 and "cannot go straight from closed to in work" in text(response)


def test_reopening_respects_the_workers_cap(login, users):
    from admin_app.models import StaffProfile

    StaffProfile(user=users["worker"], caseload_cap=1, start_date=TODAY - timedelta(days=100)).save()
    new_client("E4E-S0002", worker=users["worker"], status="active")
    case = new_client("E4E-S0001", worker=users["worker"], status="closed")
    worker = login("worker")
    response = post(worker, f"/admin/casefile/{case.pk}/add/status_history", {"status": "active", "reason": "Back"})
    assert response.status_code == 200 and "over their cap of 1" in text(response)
    assert case.reload().status == "closed"
    manager = login("manager")
    assert post(manager, f"/admin/casefile/{case.pk}/add/status_history",
                {"status": "active", "reason": "Continuity: knows the worker"}).status_code == 302


def test_the_whole_file_form_cannot_set_the_status_or_history(login, users):
    from tests.forms import browser_submission
    from werkzeug.datastructures import MultiDict

    case = new_client("E4E-S0001", worker=users["worker"], status="active")
    manager = login("manager")
    url = f"/admin/client/edit/?id={case.pk}"
    form = browser_submission(text(manager.get(url))) + [
        ("status", "in_work"), ("status_history-0-status", "closed"), ("referral-decision", "rejected"), ("phone", "0121 000")]
    form = [(k, v) for k, v in form if k != "phone"] + [("phone", "0121 000")]
    assert manager.post(url, data=MultiDict(form)).status_code == 302
    case.reload()
    assert case.phone == "0121 000" and case.status == "active" and case.status_history == []
    assert case.referral.decision == "accepted"
