"""The append-only audit log: each kind of event is written, with who, what and from where."""
from __future__ import annotations

import pytest

from admin_app.models import AuditEvent, Client, Organisation
from admin_app.models.audit import AppendOnlyError
from tests.conftest import csrf_token, new_client, sign_in


def test_sign_in_sign_out_and_failed_sign_in_are_audited(app, users):
    client = app.test_client()
    sign_in(client, users["worker"].email, "not-the-password-1")
    assert AuditEvent.objects(action="login_failed", summary__contains=users["worker"].email).count() == 1
    sign_in(client, "nobody@nowhere.org", "not-the-password-1")
    assert AuditEvent.objects(action="login_failed", summary__contains="nobody@nowhere.org").count() == 1
    sign_in(client, users["worker"].email)
    login = AuditEvent.objects(action="login").first()
    assert login.actor == users["worker"].email and login.ip == "127.0.0.1"
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert AuditEvent.objects(action="logout", actor=users["worker"].email).count() == 1


def test_create_change_and_delete_through_screens_are_audited_with_old_and_new_values(login, users):
    manager = login("manager")
    token = csrf_token(manager)
    manager.post("/admin/organisation/new/", data={"name": "Aston Youth Hub", "kind": "referral_partner", "csrf_token": token})
    org = Organisation.objects(name="Aston Youth Hub").first()
    created = AuditEvent.objects(action="create", collection="organisations").first()
    assert created.actor == users["manager"].email and created.record_id == str(org.pk)

    manager.post(f"/admin/organisation/edit/?id={org.pk}",
                 data={"name": "Aston Youth Hub", "kind": "both", "phone": "0121 000 0000", "csrf_token": token})
    change = AuditEvent.objects(action="update", collection="organisations").first()
    fields = {c["field"]: (c["old"], c["new"]) for c in change.changes}
    assert fields["kind"] == ("referral_partner", "both")
    assert fields["phone"] == (None, "0121 000 0000")
    assert "name" not in fields

    manager.post("/admin/organisation/delete/", data={"id": str(org.pk), "csrf_token": token})
    assert AuditEvent.objects(action="delete", record_id=str(org.pk)).count() == 1


def test_change_to_an_encrypted_field_is_audited_without_its_values(app, users):
    from admin_app.models.case_file import RiskNote
    from datetime import date

    case = new_client("E4E-A0001", worker=users["worker"])
    case = Client.objects(pk=case.pk).first()
    case.risk_notes.append(RiskNote(date=date.today(), level="high", text="Threatened a rival group"))
    case.save()
    event = AuditEvent.objects(action="update", record_id=str(case.pk)).first()
    assert any(c["field"] == "risk_notes.0.text" and c["new"] == "[encrypted]" for c in event.changes)
    assert "rival" not in repr(event.to_mongo())


def test_opening_details_edit_and_case_file_pages_is_audited(login, users):
    case = new_client("E4E-A0002", worker=users["worker"])
    worker = login("worker")
    for url in (f"/admin/client/edit/?id={case.pk}", f"/admin/casefile/{case.pk}/"):
        assert worker.get(url).status_code == 200
    # The list's eye icon (details) opens the case-file page.
    assert worker.get(f"/admin/client/details/?id={case.pk}", follow_redirects=True).status_code == 200
    views = AuditEvent.objects(action="view", record_id=str(case.pk), actor=users["worker"].email)
    assert views.count() == 3


def test_refused_requests_are_audited(login):
    login("worker").get("/admin/role/")
    assert AuditEvent.objects(action="refused", summary__contains="/admin/role/").count() == 1


def test_audit_events_cannot_be_changed_or_deleted_even_in_code(app, users):
    event = AuditEvent.objects.first()
    event.summary = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()


def test_managers_can_filter_the_audit_log_by_actor(login, users):
    login("worker")
    page = login("manager").get(f"/admin/auditevent/?search={users['worker'].email}").get_data(as_text=True)
    assert users["worker"].email in page
