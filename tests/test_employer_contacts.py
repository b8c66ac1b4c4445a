"""General employer contacts count in each worker's fidelity figures: only their worker or a manager touches them."""
from __future__ import annotations

from datetime import date

from admin_app.models import Employer
from admin_app.models.partners import GeneralEmployerContact
from tests.conftest import csrf_token


def _employer(users):
    return Employer(name="Brindley Place Hotel", employer_contacts=[
        GeneralEmployerContact(date=date(2026, 1, 5), staff=users["worker2"], note="worker2's visit"),
        GeneralEmployerContact(date=date(2026, 1, 6), staff=users["worker"], note="worker's visit"),
    ]).save()


def _form(employer, notes=None, extra=None):
    data = {"name": employer.name}
    items = [(c.date, c.staff, c.note) for c in employer.employer_contacts] + list(extra or [])
    for index, (day, staff, note) in enumerate(items):
        if notes and index in notes:
            note = notes[index]
        if note is None:
            continue
        data.update({f"employer_contacts-{index}-date": day.isoformat(), f"employer_contacts-{index}-face_to_face": "y",
                     f"employer_contacts-{index}-purpose": "job_development", f"employer_contacts-{index}-note": note,
                     f"employer_contacts-{index}-staff": str(staff.pk) if staff else "__None"})
    return data


def _save(client, employer, data):
    url = f"/admin/employer/edit/?id={employer.pk}"
    return client.post(url, data={**data, "csrf_token": csrf_token(client, url)})


def test_worker_cannot_change_another_workers_general_employer_contact(app, users, login):
    employer = _employer(users)
    response = _save(login("worker"), employer, _form(employer, notes={0: "rewritten"}))
    assert "another worker" in response.get_data(as_text=True)
    assert Employer.objects.get(pk=employer.pk).employer_contacts[0].note == "worker2's visit"


def test_worker_cannot_remove_another_workers_general_employer_contact(app, users, login):
    employer = _employer(users)
    response = _save(login("worker"), employer, _form(employer, notes={0: None}))
    assert "another worker" in response.get_data(as_text=True)
    assert len(Employer.objects.get(pk=employer.pk).employer_contacts) == 2


def test_worker_changes_their_own_and_adds_new_ones_as_theirs(app, users, login):
    employer = _employer(users)
    response = _save(login("worker"), employer, _form(employer, notes={1: "follow-up booked"},
                                                      extra=[(date(2026, 1, 7), None, "new visit")]))
    assert response.status_code == 302
    contacts = Employer.objects.get(pk=employer.pk).employer_contacts
    assert [c.note for c in contacts] == ["worker2's visit", "follow-up booked", "new visit"]
    assert contacts[2].staff == users["worker"]


def test_worker_cannot_record_a_new_contact_as_another_workers(app, users, login):
    employer = _employer(users)
    response = _save(login("worker"), employer, _form(employer, extra=[(date(2026, 1, 7), users["worker2"], "faked")]))
    assert "choose yourself" in response.get_data(as_text=True)
    assert len(Employer.objects.get(pk=employer.pk).employer_contacts) == 2


def test_manager_corrects_any_workers_general_employer_contact(app, users, login):
    employer = _employer(users)
    response = _save(login("manager"), employer, _form(employer, notes={0: "corrected by manager"}))
    assert response.status_code == 302
    assert Employer.objects.get(pk=employer.pk).employer_contacts[0].note == "corrected by manager"


def test_admin_staff_without_the_permission_cannot_change_a_workers_contact(app, users, login):
    employer = _employer(users)
    response = _save(login("admin_staff"), employer, _form(employer, notes={1: "changed"}))
    assert "another worker" in response.get_data(as_text=True)
    assert Employer.objects.get(pk=employer.pk).employer_contacts[1].note == "worker's visit"


def test_worker_edits_the_employers_details_around_contacts_saved_without_notes(app, users, login):
    employer = Employer(name="Bullring Retail", employer_contacts=[
        GeneralEmployerContact(date=date(2026, 1, 5), staff=users["worker2"])]).save()
    data = _form(employer, notes={0: ""})
    data["phone"] = "0121 000 0000"
    assert _save(login("worker"), employer, data).status_code == 302
    assert Employer.objects.get(pk=employer.pk).phone == "0121 000 0000"
