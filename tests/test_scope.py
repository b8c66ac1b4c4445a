"""Row-level scope: a worker reaches only their own caseload, whatever URL they try."""
from __future__ import annotations

import json

import pytest
from mongoengine import Document, ReferenceField, StringField

from admin_app.models import Client, Role
from admin_app.views.base import SecuredModelView
from tests.conftest import csrf_token, new_client


def grant_worker(*permissions):
    """Give the worker role more permissions, to prove the scope holds even then."""
    role = Role.objects(name="worker").first()
    role.permissions = role.permissions + list(permissions)
    role.save()


@pytest.fixture
def cases(app, users):
    with app.app_context():
        mine = new_client("E4E-MINE1", worker=users["worker"])
        theirs = new_client("E4E-THEIRS", worker=users["worker2"])
    return mine, theirs


def test_worker_list_shows_only_their_own_caseload(login, cases):
    page = login("worker").get("/admin/client/").get_data(as_text=True)
    assert "E4E-MINE1" in page and "E4E-THEIRS" not in page


def test_manager_sees_every_caseload(login, cases):
    page = login("manager").get("/admin/client/").get_data(as_text=True)
    assert "E4E-MINE1" in page and "E4E-THEIRS" in page


def test_worker_cannot_open_another_workers_case_file_by_url(login, cases):
    worker = login("worker")
    mine, theirs = cases
    for url in (f"/admin/client/details/?id={theirs.pk}", f"/admin/client/edit/?id={theirs.pk}",
                f"/admin/client/casefile/?id={theirs.pk}", f"/admin/casefile/{theirs.pk}/"):
        response = worker.get(url, follow_redirects=True)
        assert response.status_code == 404, url
        assert "THEIRS" not in response.get_data(as_text=True)
    assert worker.get(f"/admin/client/details/?id={mine.pk}", follow_redirects=True).status_code == 200
    assert worker.get(f"/admin/casefile/{mine.pk}/").status_code == 200


def test_worker_cannot_edit_another_workers_case_file_by_post(login, cases):
    worker = login("worker")
    _, theirs = cases
    token = csrf_token(worker)
    response = worker.post(f"/admin/client/edit/?id={theirs.pk}",
                           data={"first_name": "Changed", "last_name": "X", "reference": "E4E-THEIRS", "csrf_token": token})
    assert response.status_code == 404
    assert Client.objects(pk=theirs.pk).first().first_name == "Test"


def test_worker_cannot_delete_another_workers_case_file_even_with_delete_permission(app, login, cases):
    grant_worker("client.delete")
    worker = login("worker")
    mine, theirs = cases
    token = csrf_token(worker)
    assert worker.post("/admin/client/delete/", data={"id": str(theirs.pk), "csrf_token": token}).status_code == 404
    assert Client.objects(pk=theirs.pk).first() is not None
    # The bulk delete action goes through the same scope.
    worker.post("/admin/client/action/", data={"action": "delete", "rowid": [str(theirs.pk), str(mine.pk)], "csrf_token": token})
    assert Client.objects(pk=theirs.pk).first() is not None
    assert Client.objects(pk=mine.pk).first() is None


def test_worker_export_contains_only_their_own_caseload(app, login, cases):
    grant_worker("client.export")
    csv = login("worker").get("/admin/client/export/csv/").get_data(as_text=True)
    assert "E4E-MINE1" in csv and "E4E-THEIRS" not in csv


def test_worker_cannot_reassign_another_workers_client_by_url(app, login, users, cases):
    grant_worker("client.action.reassign")
    worker = login("worker")
    _, theirs = cases
    token = csrf_token(worker)
    worker.post("/admin/client/reassign/", data={"ids": str(theirs.pk), "worker": str(users["worker"].pk), "csrf_token": token})
    assert Client.objects(pk=theirs.pk).first().worker == users["worker2"]


def test_worker_creating_a_client_for_another_worker_gets_it_in_their_own_caseload(login, users):
    from tests.test_case_file import client_form

    worker = login("worker")
    data = client_form(reference="E4E-NEW01", worker=str(users["worker2"].pk))
    data["csrf_token"] = csrf_token(worker, "/admin/client/new/")
    response = worker.post("/admin/client/new/", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    assert Client.objects(reference="E4E-NEW01").first().worker == users["worker"]


class Note(Document):
    """A document that refers to a case file, to prove ajax look-ups are scoped."""

    client = ReferenceField(Client)
    text = StringField()
    meta = {"collection": "test_notes"}


class NoteView(SecuredModelView):
    form_ajax_refs = {"client": {"fields": ["reference"]}}


def test_ajax_lookup_offers_a_worker_only_their_own_clients(app, users, cases):
    app.extensions["e4e_admin"].add_view(NoteView(Note, name="Notes", endpoint="note"))
    grant_worker("note.list", "note.create", "note.edit")
    from tests.conftest import sign_in

    worker = app.test_client()
    sign_in(worker, users["worker"].email)
    found = json.loads(worker.get("/admin/note/ajax/lookup/?name=client&query=E4E").get_data(as_text=True))
    labels = [label for _, label in found]
    assert any("MINE1" in label for label in labels)
    assert not any("THEIRS" in label for label in labels)
    # Asking for the other worker's client by id gets nothing either.
    with app.test_request_context():
        from flask_login import login_user

        login_user(users["worker"])
        loader = app.extensions["e4e_admin"]._views[-1]._form_ajax_refs["client"]
        assert loader.get_one(str(cases[1].pk)) is None
        assert loader.get_one(str(cases[0].pk)) is not None


# --- client pickers over every case file are look-ups within the caseload ---------------------------------

def _lookup(client, endpoint, name, term):
    response = client.get(f"/admin/{endpoint}/ajax/lookup/?name={name}&query={term}")
    assert response.status_code == 200
    return [label.split()[0] for _, label in json.loads(response.get_data(as_text=True))]  # the references


@pytest.mark.parametrize("endpoint,name", [("affiliation", "client"), ("visit", "clients")])
def test_a_worker_cannot_look_up_another_caseloads_clients_by_url(login, users, cases, endpoint, name):
    worker = login("worker")
    assert _lookup(worker, endpoint, name, "E4E-MINE") == ["E4E-MINE1"]
    assert _lookup(worker, endpoint, name, "E4E-THEIRS") == []
    assert _lookup(worker, endpoint, name, "Test") == ["E4E-MINE1"]  # by name: still only their own
    manager = login("manager")
    assert _lookup(manager, endpoint, name, "E4E") == ["E4E-MINE1", "E4E-THEIRS"]
    # The form carries a look-up, not a list of case files.
    page = worker.get(f"/admin/{endpoint}/new/").get_data(as_text=True)
    assert "E4E-THEIRS" not in page and "E4E-MINE1" not in page and "ajax/lookup" in page


def test_a_client_lookup_matches_the_start_of_a_reference_or_name_only(login, users, cases):
    new_client("E4E-X0001", worker=users["worker"], first_name="Ola", last_name="Smith-Jones")
    new_client("E4E-X0002", worker=users["worker"], status="closed", first_name="Ola", last_name="Jonas")
    manager = login("manager")
    assert _lookup(manager, "affiliation", "client", "jones") == ["E4E-X0001"]
    assert _lookup(manager, "affiliation", "client", "ones") == []  # a prefix, not anywhere in the name
    assert _lookup(manager, "affiliation", "client", "ola") == ["E4E-X0001", "E4E-X0002"]
    assert _lookup(manager, "visit", "clients", "ola") == ["E4E-X0001"]  # visits: open cases only


def test_an_affiliation_for_another_caseloads_client_posted_by_hand_is_refused(login, users, cases):
    from admin_app.models.risk import Affiliation, Group

    group = Group(name="Test group").save()
    worker = login("worker")
    data = {"client": str(cases[1].pk), "group": str(group.pk), "confidence": "confirmed", "source": "police",
            "source_detail": "", "date": "2026-01-05", "ended_on": "",
            "csrf_token": csrf_token(worker, "/admin/affiliation/new/")}
    page = worker.post("/admin/affiliation/new/", data=data).get_data(as_text=True)
    assert "Choose one of the options the search offers" in page
    assert Affiliation.objects.count() == 0
