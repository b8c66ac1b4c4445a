"""A page makes the same number of database calls whatever the number of rows it shows.

Calls are counted at the mongomock Collection level (each method that would be a round trip to
MongoDB), as bench/bench_pages.py does; on a real server (MONGODB_URI) these tests are skipped.
"""
from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from datetime import date, timedelta

import pytest

from tests.conftest import new_client
from tests.database import REAL_SERVER

pytestmark = pytest.mark.skipif(bool(REAL_SERVER), reason="counts mongomock's calls")

ROUND_TRIPS = ("find", "find_one", "find_one_and_update", "insert_one", "insert_many", "update_one", "update_many",
               "delete_one", "delete_many", "count_documents", "aggregate", "distinct", "bulk_write")


@contextmanager
def counted_calls(monkeypatch):
    from mongomock.collection import Collection

    calls: Counter = Counter()
    depth = [0]

    def wrap(name, original):
        def counting(collection, *args, **kwargs):
            if depth[0] == 0:
                calls[collection.name] += 1
            depth[0] += 1
            try:
                return original(collection, *args, **kwargs)
            finally:
                depth[0] -= 1
        return counting

    with monkeypatch.context() as patch:
        for name in ROUND_TRIPS:
            patch.setattr(Collection, name, wrap(name, getattr(Collection, name)))
        yield calls


def case_files(users, count, start=0):
    from admin_app.models.case_file import Contact, EmployerContact, Outcome
    from admin_app.models.partners import Employer

    employer = Employer(name=f"Employer {start}").save()
    today = date.today()
    for n in range(start, start + count):
        worker = users["worker"] if n % 2 else users["worker2"]
        new_client(f"E4E-Q{n:04d}", worker=worker,
                   contacts=[Contact(date=today - timedelta(days=d), mode="phone", minutes=20, staff=worker)
                             for d in range(1, 6)],
                   employer_contacts=[EmployerContact(date=today - timedelta(days=3), employer=employer, staff=worker,
                                                      face_to_face=True)],
                   outcomes=[Outcome(kind="paid_employment", start_date=today - timedelta(days=30), employer=employer,
                                     job_type="Chef", hours_per_week=30)])


def calls_for(client, url, monkeypatch):
    client.get(url)  # warm: caches of roles and filters
    with counted_calls(monkeypatch) as calls:
        response = client.get(url)
    assert response.status_code == 200
    return sum(calls.values()), calls


def test_the_client_list_makes_as_many_calls_for_20_rows_as_for_2(app, users, login, monkeypatch):
    manager = login("manager")
    with app.app_context():
        case_files(users, 2)
    few, _ = calls_for(manager, "/admin/client/", monkeypatch)
    with app.app_context():
        case_files(users, 30, start=2)
    many, calls = calls_for(manager, "/admin/client/", monkeypatch)
    page = manager.get("/admin/client/").get_data(as_text=True)
    assert page.count("E4E-Q") >= 20 and "Second Worker" in page and "Worker" in page
    assert many == few, calls
    assert calls["employers"] == 0  # the list never loads the employers its rows refer to


def test_the_audit_list_and_the_service_dashboard_do_not_grow_with_rows(app, users, login, monkeypatch):
    manager = login("manager")
    with app.app_context():
        case_files(users, 2)
    audit_few, _ = calls_for(manager, "/admin/auditevent/", monkeypatch)
    with app.app_context():
        case_files(users, 25, start=2)
    audit_many, calls = calls_for(manager, "/admin/auditevent/", monkeypatch)
    # The readable log loads the records and staff a page names: one query per kind, never one per entry.
    assert audit_many <= audit_few and max(calls.values()) <= 2, calls


@pytest.mark.parametrize("part", ["contacts", "employer_contacts", "outcomes", "risk_notes"])
def test_a_task_form_makes_as_many_calls_whatever_the_staff_employers_and_items(app, users, login, monkeypatch, part):
    """The "Who" select is one query for the whole list of staff, the signed-in user's own staff check
    none; employers are looked up as the user types, so the form never reads them."""
    from admin_app.models.partners import Employer
    from admin_app.security import datastore

    worker = login("worker")
    with app.app_context():
        case_files(users, 1)
        case = new_client("E4E-TASK1", worker=users["worker"])
    url = f"/admin/casefile/{case.pk}/add/{part}"
    few, _ = calls_for(worker, url, monkeypatch)
    with app.app_context():
        for n in range(30):
            datastore.create_user(email=f"staff{n}@test.e4e", name=f"Staff {n}", password="x" * 20,
                                  roles=["worker" if n % 2 else "admin_staff"])
            Employer(name=f"Employer {n:02d}").save()
        case_files(users, 5, start=1)
    many, calls = calls_for(worker, url, monkeypatch)
    page = worker.get(url).get_data(as_text=True)
    assert many == few, calls
    assert calls["employers"] == 0 and "Employer 07" not in page
    if part != "outcomes":
        assert "Staff 7" in page  # the Who select lists every member of staff, from its one query
