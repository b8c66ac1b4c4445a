"""The daily digest of due items, sent through a real SMTP server running in the test process."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from flask_security import hash_password

from admin_app.digest import send_digests
from admin_app.saved_filters import BUILTINS
from tests.conftest import PASSWORD, new_client


@pytest.fixture
def settings(app, inbox):
    return replace(app.config["SETTINGS"], smtp_host="127.0.0.1", smtp_port=inbox.port, smtp_tls=False,
                   smtp_user=None, base_url="https://cases.e4e.example.org")


def _staff(app, email, role, active=True):
    from admin_app.security import datastore

    with app.app_context():
        return datastore.create_user(email=email, name=email.split("@")[0], password=hash_password(PASSWORD),
                                     roles=[role], active=active)


def test_digest_goes_to_workers_and_managers_with_due_items_and_names_no_client(app, users, inbox, settings):
    from admin_app.models.case_file import Contact, Disclosure, Referral

    today = date.today()
    stale = dict(contacts=[Contact(date=today - timedelta(days=40), minutes=30, mode="phone")])
    with app.app_context():
        mine = [new_client("E4E-G0001", worker=users["worker"], first_name="Zebedee", last_name="Quartermain", **stale),
                new_client("E4E-G0002", worker=users["worker"], first_name="Ottoline", last_name="Featherstone", **stale,
                           disclosures=[Disclosure(date=today - timedelta(days=2), basis="threat_to_life")])]
        theirs = new_client("E4E-G0003", worker=users["worker2"], first_name="Peregrine", last_name="Ashdown", **stale)
        waiting = new_client("E4E-G0004", worker=users["worker2"], first_name="Hyacinth", last_name="Bucket",
                             status="referred", contacts=[Contact(date=today, minutes=10, mode="phone")],
                             referral=Referral(date=today - timedelta(days=2), source="self", cohort="at_risk"))
        _staff(app, "idle.worker@test.e4e", "worker")
        _staff(app, "left.worker@test.e4e", "worker", active=False)
        new_client("E4E-G0005", worker=users["worker"], status="closed", **stale)
        sent = send_digests(settings, today)

    received = inbox.by_recipient()
    # Nothing due, not a worker or manager, or no longer active: no email.
    assert set(received) == {"worker@test.e4e", "worker2@test.e4e", "manager@test.e4e"}
    assert sent == 3

    def body(email):
        return received[email].get_body(("plain",)).get_content()

    no_contact, disclosure = BUILTINS["no_contact_28_days"].name, BUILTINS["disclosures_without_report"].name
    referrals = BUILTINS["referrals_awaiting_decision"].name
    assert f"{no_contact}: 2" in body("worker@test.e4e") and f"{disclosure}: 1" in body("worker@test.e4e")
    assert f"{no_contact}: 1" in body("worker2@test.e4e") and disclosure not in body("worker2@test.e4e")
    # Deciding referrals is a manager's job: it is not in a worker's digest.
    assert referrals not in body("worker2@test.e4e")
    assert f"{no_contact}: 3" in body("manager@test.e4e") and f"{referrals}: 1" in body("manager@test.e4e")
    assert "https://cases.e4e.example.org/admin/client/?builtin=no_contact_28_days" in body("manager@test.e4e")

    for message in received.values():
        text = message.as_string()
        for case in mine + [theirs, waiting]:
            assert case.first_name not in text and case.last_name not in text and case.reference not in text


def test_digest_carries_on_when_one_address_is_refused(app, users, settings, inbox):
    from admin_app.models.case_file import Contact

    inbox.refuse_address("worker@test.e4e")
    stale = dict(contacts=[Contact(date=date.today() - timedelta(days=40), minutes=30, mode="phone")])
    with app.app_context():
        new_client("E4E-G0001", worker=users["worker"], **stale)
        new_client("E4E-G0002", worker=users["worker2"], **stale)
        sent = send_digests(settings, date.today())
    assert sent == 2
    assert set(inbox.by_recipient()) == {"worker2@test.e4e", "manager@test.e4e"}


def _due(page: str, key: str) -> str:
    import re

    match = re.search(rf'data-count="{key}">(?:<strong>)?([^<]*)<', page)
    return match.group(1) if match else "absent"


def test_the_home_page_shows_the_same_due_items_each_in_its_own_scope(app, users, login):
    from admin_app.models.case_file import Contact

    stale = dict(contacts=[Contact(date=date.today() - timedelta(days=40), minutes=30, mode="phone")])
    with app.app_context():
        new_client("E4E-H0001", worker=users["worker"], **stale)
        new_client("E4E-H0002", worker=users["worker"], **stale)
        new_client("E4E-H0003", worker=users["worker2"], **stale)
    worker_home = login("worker").get("/admin/").get_data(as_text=True)
    manager_home = login("manager").get("/admin/").get_data(as_text=True)
    assert _due(worker_home, "no_contact_28_days") == "2" and "On your caseload" in worker_home
    assert _due(manager_home, "no_contact_28_days") == "3" and "Across the service" in manager_home
    # Deciding referrals is the manager's; a worker's home does not list it.
    assert _due(worker_home, "referrals_awaiting_decision") == "absent"
    assert _due(manager_home, "referrals_awaiting_decision") == "none"
    # The link runs the built-in filter on the list, where the worker still sees only their own.
    listed = login("worker").get("/admin/client/?builtin=no_contact_28_days").get_data(as_text=True)
    assert "E4E-H0001" in listed and "E4E-H0002" in listed and "E4E-H0003" not in listed


@pytest.mark.parametrize("role", ["evaluator", "commissioner", "grant_panel", "admin_staff"])
def test_roles_without_due_items_see_none_on_the_home_page(app, users, login, role):
    with app.app_context():
        new_client("E4E-H0004", worker=users["worker"],
                   contacts=[])
    page = login(role).get("/admin/").get_data(as_text=True)
    assert "Due now" not in page
