"""Break-glass: a worker holding caseload.break_glass opens another worker's case file only after giving a
reason, read only and for a limited time; it is audited and every manager is told."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from admin_app.models import AuditEvent, Role
from admin_app.models.access import BreakGlassAccess
from admin_app.models.exports import Notice
from tests.conftest import csrf_token
from tests.test_field_classes import SECRETS, full_case


def grant(role_name: str, permission: str) -> None:
    role = Role.objects(name=role_name).first()
    role.permissions = sorted(set(role.permissions) | {permission})
    role.save()


@pytest.fixture
def theirs(app, users):
    return full_case(users["worker2"], reference="E4E-B0001")


def test_without_the_permission_another_workers_case_file_is_not_found(app, users, login, theirs):
    assert login("worker").get(f"/admin/casefile/{theirs.pk}/").status_code == 404
    assert login("worker").get(f"/admin/casefile/{theirs.pk}/break-glass").status_code == 403


def test_break_glass_needs_a_reason_then_opens_read_only_audits_and_tells_managers(app, users, login, theirs, inbox):
    app.config["SETTINGS"] = replace(app.config["SETTINGS"], smtp_host="127.0.0.1", smtp_port=inbox.port,
                                     smtp_tls=False, smtp_user=None)
    grant("worker", "caseload.break_glass")
    worker = login("worker")
    page = f"/admin/casefile/{theirs.pk}/"
    response = worker.get(page)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/admin/casefile/{theirs.pk}/break-glass")
    form = worker.get(response.headers["Location"]).get_data(as_text=True)
    assert "not on your caseload" in form and SECRETS["risk_notes.text"] not in form and "Jermaine" not in form
    url = f"/admin/casefile/{theirs.pk}/break-glass"
    response = worker.post(url, data={"reason": "", "csrf_token": csrf_token(worker, url)})
    assert response.status_code == 200 and "Give the reason" in response.get_data(as_text=True)
    assert worker.get(page).status_code == 302 and BreakGlassAccess.objects.count() == 0

    response = worker.post(url, data={"reason": "Client rang in crisis, Jo is off sick",
                                      "csrf_token": csrf_token(worker, url)})
    assert response.status_code == 302
    opened = worker.get(page).get_data(as_text=True)
    assert "break-glass" in opened and SECRETS["risk_notes.text"] in opened
    # Read only: no task links, and a task form stays out of reach.
    assert "/add/contacts" not in opened
    assert worker.get(f"/admin/casefile/{theirs.pk}/add/contacts").status_code == 404
    event = AuditEvent.objects(action="break_glass", record_id=str(theirs.pk)).first()
    assert event.actor == users["worker"].email and "Client rang in crisis" in event.summary
    assert Notice.objects(role="manager", text__contains="E4E-B0001").count() == 1
    assert any("manager@test.e4e" in to for to, _ in inbox.messages)
    assert "E4E-B0001" in login("manager").get("/admin/").get_data(as_text=True)


def test_a_break_glass_opening_expires(app, users, login, theirs):
    grant("worker", "caseload.break_glass")
    worker = login("worker")
    url = f"/admin/casefile/{theirs.pk}/break-glass"
    worker.post(url, data={"reason": "Covering the duty phone today", "csrf_token": csrf_token(worker, url)})
    assert worker.get(f"/admin/casefile/{theirs.pk}/").status_code == 200
    BreakGlassAccess.objects.update(set__expires_at=datetime.utcnow() - timedelta(minutes=1))
    assert worker.get(f"/admin/casefile/{theirs.pk}/").status_code == 302


def test_break_glass_for_a_record_that_does_not_exist_is_not_found(app, users, login):
    grant("worker", "caseload.break_glass")
    worker = login("worker")
    assert worker.get("/admin/casefile/6b0c8bada0ae7753b33cbc0e/").status_code == 404
    assert worker.get("/admin/casefile/6b0c8bada0ae7753b33cbc0e/break-glass").status_code == 404
    assert worker.get("/admin/casefile/not-an-id/break-glass").status_code == 404
