"""Recipient-checked sharing: a schedule's recipients hold a role the report declares, or are on that report's
allow-list; a link goes only to users who can open it; checked on the form and again at send time."""
from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from admin_app import export_runs
from admin_app.metrics.periods import previous_quarter
from admin_app.models import AuditEvent, User
from admin_app.models.exports import ExportRun, ExportSchedule, Notice
from admin_app.models.sharing import AllowedRecipient
from admin_app.privacy.sharing import recipient_problems
from tests.conftest import csrf_token

FORM = {"name": "OPCC quarterly", "report": "opcc_return", "period_rule": "previous_quarter",
        "cron": "0 7 5 1,4,7,10 *", "delivery": "attachment", "scope": "", "notes": "", "active": "y"}


def save_schedule(browser, **changes):
    url = "/admin/exportschedule/new/"
    return browser.post(url, data={**FORM, **changes, "csrf_token": csrf_token(browser, url)})


@pytest.mark.parametrize("recipient, delivery, refused", [
    ("commissioner@test.e4e", "attachment", False),
    ("commissioner@test.e4e", "link", False),
    ("manager@test.e4e", "link", False),
    ("someone@outside.example.org", "attachment", True),   # not a user, not allow-listed
    ("evaluator@test.e4e", "attachment", True),            # the OPCC return names workers: not for the evaluator
    ("worker@test.e4e", "link", True),                     # a user, but not of a role the report goes to
])
def test_a_schedules_recipients_are_checked_on_the_form(app, users, login, recipient, delivery, refused):
    response = save_schedule(login("manager"), **{"recipients-0": recipient, "delivery": delivery})
    saved = ExportSchedule.objects(name="OPCC quarterly").first()
    if refused:
        assert response.status_code == 200 and recipient in response.get_data(as_text=True)
        assert "may not receive" in response.get_data(as_text=True) or "cannot be sent" in response.get_data(as_text=True)
        assert saved is None
    else:
        assert response.status_code == 302 and saved.recipients == [recipient]


def test_an_allow_listed_outside_address_may_receive_an_attachment_but_never_a_link(app, users, login):
    AllowedRecipient(report="opcc_return", email="returns@opcc.example.gov.uk", reason="OPCC grant agreement").save()
    manager = login("manager")
    response = save_schedule(manager, **{"recipients-0": "returns@opcc.example.gov.uk", "delivery": "link"})
    assert response.status_code == 200 and "cannot be sent a link" in response.get_data(as_text=True)
    response = save_schedule(manager, **{"recipients-0": "returns@opcc.example.gov.uk"})
    assert response.status_code == 302
    # The allow-list is per report: the same address may not receive the evaluator extract.
    assert recipient_problems("evaluator_extract", ["returns@opcc.example.gov.uk"], "attachment")


def test_only_an_administrator_keeps_the_allow_list(app, users, login):
    assert login("manager").get("/admin/allowedrecipient/").status_code == 403
    assert login("manager").get("/admin/allowedrecipient/new/").status_code == 403
    admin = login("admin")
    url = "/admin/allowedrecipient/new/"
    response = admin.post(url, data={"report": "opcc_return", "email": "Returns@OPCC.example.gov.uk",
                                     "reason": "OPCC grant agreement, schedule 3", "csrf_token": csrf_token(admin, url)})
    assert response.status_code == 302
    entry = AllowedRecipient.objects.get()
    assert entry.email == "returns@opcc.example.gov.uk" and entry.added_by == users["admin"].email
    assert AuditEvent.objects(collection="allowed_recipients", action="create").count() == 1


def test_recipients_are_checked_again_at_send_time_and_nothing_is_sent(app, users, inbox):
    settings = replace(app.config["SETTINGS"], smtp_host="127.0.0.1", smtp_port=inbox.port, smtp_tls=False,
                       smtp_user=None)
    with app.app_context():
        schedule = ExportSchedule(name="OPCC quarterly", report="opcc_return", period_rule="previous_quarter",
                                  cron="0 7 5 1,4,7,10 *", recipients=["commissioner@test.e4e", "manager@test.e4e"],
                                  delivery="link").save()
        run = export_runs.create_run("opcc_return", previous_quarter(date.today()), match={}, scope="Every case file",
                                     started_by="test", schedule=schedule)
        run.update(set__delivery="link", set__recipients=list(schedule.recipients))
        export_runs.build(str(run.pk), "key")
        # The commissioner's account is deactivated after the schedule was saved.
        User.objects(email="commissioner@test.e4e").update_one(set__active=False)
        delivery = export_runs.deliver(str(run.pk), settings)
        run.reload()
    assert not delivery.sent and run.status == "failed"
    assert "commissioner@test.e4e" in run.error and "manager@test.e4e" not in run.error.split("Not sent to anyone:")[1]
    # Nothing went to anyone, and the managers are told why.
    assert [m for m in inbox.messages if "ready" in m[1].get("Subject", "") or "Quarterly" in m[1].get("Subject", "")] == []
    assert all(m[1]["Subject"] == "Export run failed" for m in inbox.messages)
    assert Notice.objects(role="manager").first() is not None
    assert ExportRun.objects.get(pk=run.pk).workbook_mail_id is None
