"""Instant risk alerts: one per kind of new high-risk information, emailed once by a real worker through a real
SMTP server, never again after a retry or a redelivered task; the email names only the case reference."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from werkzeug.datastructures import MultiDict

from tests.conftest import csrf_token, new_client
from tests.risk.conftest import wait_until

TODAY = date.today()
SECRET = "seen carrying a blade near the Lozells youth club"


def post(client, url, data):
    form = MultiDict(data)
    form["csrf_token"] = csrf_token(client, url)
    return client.post(url, data=form)


ITEMS = {
    "risk_notes": lambda worker: {"date": TODAY.isoformat(), "level": "high", "text": SECRET, "author": str(worker.pk)},
    "risk_assessments": lambda worker: {"date": TODAY.isoformat(), "kind": "individual", "level": "high",
                                        "mitigations": SECRET, "review_date": (TODAY + timedelta(days=30)).isoformat(),
                                        "assessor": str(worker.pk)},
    "safeguarding_concerns": lambda worker: {"date": TODAY.isoformat(), "concern": SECRET, "referred_to": "MASH",
                                             "action": "Referred"},
    "disclosures": lambda worker: {"date": TODAY.isoformat(), "basis": "threat_to_life", "decided_by": "Manager",
                                   "authorised_by": "Head of service", "shared_with": "WMP", "what_shared": SECRET},
}


def _sent_messages(inbox, count):
    wait_until(lambda: len(inbox.messages) >= count, what=f"{count} emails")
    return inbox.messages


@pytest.mark.parametrize("part", sorted(ITEMS))
def test_new_high_risk_information_alerts_the_worker_and_managers_once(app, users, login, job_worker, inbox, part):
    from admin_app.models.risk import RiskAlert
    from jobs.tasks import send_risk_alert

    with app.app_context():
        case = new_client("E4E-R0001", worker=users["worker"])
    worker = login("worker")
    response = post(worker, f"/admin/casefile/{case.pk}/add/{part}", ITEMS[part](users["worker"]))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    (recipients, message), = _sent_messages(inbox, 1)
    assert recipients == ["manager@test.e4e", "worker@test.e4e"]
    assert message["Subject"] == "New high-risk information on case E4E-R0001"
    body = message.get_content()
    assert f"https://cases.e4e.example.org/admin/casefile/{case.pk}/" in body
    for sensitive in (SECRET, "Test", case.last_name, "blade", "safeguarding", "disclosure", "MASH"):
        assert sensitive.lower() not in body.lower() and sensitive.lower() not in message["Subject"].lower()
    with app.app_context():
        # The job records the send just after the server has the message.
        wait_until(lambda: RiskAlert.objects.get(client=case.pk).email_sent_at is not None)
        alert = RiskAlert.objects.get(client=case.pk)
        assert alert.email_attempts == 1
        # A redelivered task (a worker lost after sending, the broker handing it out again) sends nothing.
        for _ in range(2):
            send_risk_alert.delay(str(alert.pk))
        wait_until(lambda: RiskAlert.objects.get(pk=alert.pk).email_attempts == 1)
    import time

    time.sleep(1.0)
    assert len(inbox.messages) == 1


def test_a_refused_email_is_retried_and_arrives_once(app, users, login, job_worker, inbox):
    from admin_app.models.risk import RiskAlert

    with app.app_context():
        case = new_client("E4E-R0002", worker=users["worker"])
    inbox.refuse_next(2)
    worker = login("worker")
    post(worker, f"/admin/casefile/{case.pk}/add/risk_notes", ITEMS["risk_notes"](users["worker"]))
    _sent_messages(inbox, 1)
    with app.app_context():
        wait_until(lambda: RiskAlert.objects.get(client=case.pk).email_sent_at is not None)
        alert = RiskAlert.objects.get(client=case.pk)
    assert alert.email_attempts == 3
    import time

    time.sleep(1.0)
    assert len(inbox.messages) == 1


def test_the_sweep_resends_a_lost_email_once_and_never_a_sent_one(app, users, job_worker, inbox):
    from datetime import datetime

    from admin_app.models.risk import RiskAlert
    from jobs.tasks import risk_sweep

    with app.app_context():
        case = new_client("E4E-R0003", worker=users["worker"])
        # An alert whose task was lost (the broker restarted before the worker took it).
        lost = RiskAlert(kind="risk_note", event_key="lost", client=case, reference=case.reference,
                         worker=users["worker"], created_at=datetime.utcnow() - timedelta(minutes=30)).save()
        done = RiskAlert(kind="risk_note", event_key="done", client=case, reference=case.reference,
                         worker=users["worker"], created_at=datetime.utcnow() - timedelta(minutes=30),
                         email_sent_at=datetime.utcnow()).save()
        for _ in range(3):
            risk_sweep.delay()
        wait_until(lambda: RiskAlert.objects.get(pk=lost.pk).email_sent_at is not None)
        import time

        time.sleep(1.0)
        assert RiskAlert.objects.get(pk=done.pk).email_attempts == 0
    assert len(inbox.messages) == 1


def test_information_below_high_and_removals_raise_nothing_but_raising_a_note_to_high_does(app, users, login):
    from admin_app.models.risk import RiskAlert

    with app.app_context():
        case = new_client("E4E-R0004", worker=users["worker"])
    worker = login("worker")
    medium = {**ITEMS["risk_notes"](users["worker"]), "level": "medium"}
    assert post(worker, f"/admin/casefile/{case.pk}/add/risk_notes", medium).status_code == 302
    assert post(worker, f"/admin/casefile/{case.pk}/add/risk_assessments",
                {**ITEMS["risk_assessments"](users["worker"]), "level": "low"}).status_code == 302
    with app.app_context():
        assert RiskAlert.objects.count() == 0
        from admin_app.models.case_file import Client

        note_id = Client._get_collection().find_one({"_id": case.pk})["risk_notes"][0]["_id"]
    from tests.forms import browser_submission

    url = f"/admin/casefile/{case.pk}/edit/risk_notes/{note_id}"
    form = [(k, "high" if k == "level" else v) for k, v in browser_submission(worker.get(url).get_data(as_text=True), "task-form")]
    assert worker.post(url, data=MultiDict(form)).status_code == 302
    with app.app_context():
        alert = RiskAlert.objects.get()
        assert (alert.kind, alert.reference, alert.worker.pk) == ("risk_note", "E4E-R0004", users["worker"].pk)
