"""Every role x screen x action: allowed where the role holds the permission, refused where not."""
from __future__ import annotations

import pytest

from admin_app.models import AuditEvent, Client, Employer, Organisation, Role, StaffProfile, User
from admin_app.vocabulary import ROLES
from tests.conftest import csrf_token, new_client

SCREENS = ("client", "organisation", "employer", "staffprofile", "user", "role", "auditevent")
ACTIONS = ("list", "details", "create", "edit", "delete", "export")


def _record(endpoint, users, role):
    """A record of the screen's model the role could reach if it had the permission."""
    worker = users[role] if role == "worker" else users["worker"]
    if endpoint == "client":
        return new_client(f"E4E-M{Client.objects.count():04d}", worker=worker)
    if endpoint == "organisation":
        return Organisation(name=f"Partner {Organisation.objects.count()}").save()
    if endpoint == "employer":
        return Employer(name=f"Employer {Employer.objects.count()}").save()
    if endpoint == "staffprofile":
        from datetime import date

        user = User(email=f"staff{User.objects.count()}@test.e4e").save()
        return StaffProfile(user=user, start_date=date(2025, 4, 1)).save()
    if endpoint == "user":
        return User(email=f"someone{User.objects.count()}@test.e4e").save()
    if endpoint == "role":
        return Role(name=f"extra{Role.objects.count()}").save()
    return AuditEvent.objects.first()


def _request(client, endpoint, action, record):
    base = f"/admin/{endpoint}/"
    if action == "list":
        return client.get(base)
    if action == "details":
        return client.get(f"{base}details/?id={record.pk}")
    if action == "create":
        return client.get(f"{base}new/")
    if action == "edit":
        return client.get(f"{base}edit/?id={record.pk}")
    if action == "export":
        return client.get(f"{base}export/csv/")
    token = csrf_token(client, "/admin/")
    return client.post(f"{base}delete/", data={"id": str(record.pk), "csrf_token": token})


@pytest.mark.parametrize("role", [r for r, _ in ROLES])
def test_role_screen_action_matrix(app, users, login, role):
    client = login(role)
    with app.app_context():
        granted = set(Role.objects(name=role).first().permissions)
        screens = app.extensions["e4e_admin"]._views
        offered = {v.endpoint: set(v.screen_actions) for v in screens if hasattr(v, "screen_actions")}
        for endpoint in SCREENS:
            for action in ACTIONS:
                record = _record(endpoint, users, role)
                response = _request(client, endpoint, action, record)
                allowed = f"{endpoint}.{action}" in granted and action in offered[endpoint]
                where = f"{role} {action} {endpoint}"
                if allowed:
                    assert response.status_code in (200, 302), f"{where} should be allowed, got {response.status_code}"
                    if action == "delete":
                        assert type(record).objects(pk=record.pk).first() is None, f"{where} did not delete"
                else:
                    assert response.status_code == 403, f"{where} should be refused, got {response.status_code}"
                    if action == "delete" and record is not None:
                        assert type(record).objects(pk=record.pk).first() is not None, f"{where} deleted anyway"


def test_signed_out_visitor_is_sent_to_sign_in_from_every_screen(app, users):
    client = app.test_client()
    for endpoint in SCREENS:
        response = client.get(f"/admin/{endpoint}/")
        assert response.status_code == 302 and "/login" in response.location
    assert "/login" in client.get("/admin/").location
    assert client.get("/").location.endswith("/admin/")


def test_nobody_can_change_or_delete_the_audit_log_even_an_admin(app, users, login):
    client = login("admin")
    with app.app_context():
        event = AuditEvent.objects.first()
        assert client.get(f"/admin/auditevent/edit/?id={event.pk}").status_code == 403
        assert client.get("/admin/auditevent/new/").status_code == 403
        token = csrf_token(client)
        assert client.post("/admin/auditevent/delete/", data={"id": str(event.pk), "csrf_token": token}).status_code == 403
        assert AuditEvent.objects(pk=event.pk).first() is not None


def test_permission_removed_in_roles_screen_applies_at_once(app, users, login):
    admin, manager = login("admin"), login("manager")
    assert manager.get("/admin/client/export/csv/").status_code == 200
    with app.app_context():
        role = Role.objects(name="manager").first()
        kept = [p for p in role.permissions if p != "client.export"]
    token = csrf_token(admin, f"/admin/role/edit/?id={role.pk}")
    response = admin.post(f"/admin/role/edit/?id={role.pk}",
                          data={"name": "manager", "description": role.description, "permissions": kept, "csrf_token": token})
    assert response.status_code == 302
    assert manager.get("/admin/client/export/csv/").status_code == 403
    assert manager.get("/admin/client/").status_code == 200


def test_roles_screen_lists_every_screen_permission_for_the_admin(app, users, login):
    page = login("admin").get(f"/admin/role/edit/?id={Role.objects(name='worker').first().pk}").get_data(as_text=True)
    for permission in ("client.list", "client.delete", "client.action.reassign", "auditevent.export", "caseload.all"):
        assert f'value="{permission}"' in page


def test_admin_role_cannot_lose_the_right_to_edit_roles(app, users, login):
    admin = login("admin")
    role = Role.objects(name="admin").first()
    token = csrf_token(admin, f"/admin/role/edit/?id={role.pk}")
    response = admin.post(f"/admin/role/edit/?id={role.pk}",
                          data={"name": "admin", "permissions": ["client.list"], "csrf_token": token})
    assert response.status_code == 200
    assert "must keep the right to edit roles" in response.get_data(as_text=True)
    assert "role.edit" in Role.objects(name="admin").first().permissions
