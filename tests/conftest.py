"""Shared fixtures: a fresh app on an in-memory database per test, users per role, signed-in clients."""
from __future__ import annotations

import re
import sys
import threading
from dataclasses import replace
from datetime import date, timedelta

import pytest
from flask_security import hash_password

from config import load_settings
from tests.database import empty_app_database

PASSWORD = "correct-horse-battery"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def make_settings(tmp_path, **changes):
    settings = load_settings({"SEED_DEMO": "false", "LOGIN_RATE_LIMITS": "1000 per minute", "ADDRESS_RATE_LIMITS": "1000 per minute",
                              "MAIL_FOLDER": str(tmp_path / "mail"), **empty_app_database()})
    return replace(settings, **changes)


def build_app(tmp_path, **changes):
    """A test app: settings from make_settings, and cheap hashing to keep the suite fast (production uses
    Flask-Security's argon2 defaults)."""
    from admin_app import create_app

    return create_app(make_settings(tmp_path, **changes), TESTING=True,
                      SECURITY_PASSWORD_HASH_PASSLIB_OPTIONS={"argon2__rounds": 1, "argon2__memory_cost": 64})


@pytest.fixture
def make_app(tmp_path):
    return lambda **changes: build_app(tmp_path, **changes)


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def users(app):
    """One user per role, plus a second worker."""
    from admin_app.security import datastore
    from admin_app.vocabulary import ROLES

    made = {}
    with app.app_context():
        for role, _ in ROLES:
            made[role] = datastore.create_user(email=f"{role}@test.e4e", name=role.title(),
                                               password=hash_password(PASSWORD), roles=[role])
        made["worker2"] = datastore.create_user(email="worker2@test.e4e", name="Second Worker",
                                                password=hash_password(PASSWORD), roles=["worker"])
    return made


def csrf_token(client, url="/admin/") -> str:
    page = client.get(url, follow_redirects=True).get_data(as_text=True)
    match = CSRF_RE.search(page)
    assert match, f"no CSRF token on {url}"
    return match.group(1) or match.group(2)


def sign_in(client, email, password=PASSWORD):
    token = csrf_token(client, "/login")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


@pytest.fixture
def login(app, users):
    """login("worker") -> a test client signed in as that user."""

    def make(who):
        client = app.test_client()
        response = sign_in(client, users[who].email)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return make


def new_client(reference="E4E-T0001", worker=None, **fields):
    """A minimal valid case file, saved."""
    from admin_app.models.case_file import Client, Referral

    today = date.today()
    values = dict(
        reference=reference, first_name="Test", last_name=reference.replace("-", ""),
        date_of_birth=today - timedelta(days=365 * 25), worker=worker, status="active",
        referral=Referral(date=today - timedelta(days=60), source="probation", cohort="convicted", decision="accepted"),
    )
    values.update(fields)
    return Client(**values).save()


@pytest.fixture
def inbox():
    """A real SMTP server in the test process; point settings at inbox.port."""
    from tests.smtp import MailServer

    server = MailServer().start()
    yield server
    server.stop()


@pytest.fixture
def atomic_single_documents(monkeypatch):
    """For tests that race threads: MongoDB writes each single document atomically (an update, or an insert
    that checks the unique _id), and a read never sees half of a write; mongomock gives none of that between
    threads (a read can even fail with "dictionary changed size during iteration").

    Only those guarantees are added: a whole insert or update is one step, and a read matches and copies each
    document between writes. The operations' reads, their checks and the order of their writes run exactly
    as they would against MongoDB.
    """
    from mongomock.collection import Collection

    lock = threading.RLock()
    insert, update = Collection._insert, Collection._update
    matching, copy = Collection._iter_documents, Collection._copy_only_fields

    def inserted_atomically(self, *args, **kwargs):
        with lock:
            return insert(self, *args, **kwargs)

    def updated_atomically(self, *args, **kwargs):
        with lock:
            return update(self, *args, **kwargs)

    def matched_between_writes(self, filter):
        with lock:
            return iter(list(matching(self, filter)))

    def copied_between_writes(self, *args, **kwargs):
        with lock:
            return copy(self, *args, **kwargs)

    monkeypatch.setattr(Collection, "_insert", inserted_atomically)
    monkeypatch.setattr(Collection, "_update", updated_atomically)
    monkeypatch.setattr(Collection, "_iter_documents", matched_between_writes)
    monkeypatch.setattr(Collection, "_copy_only_fields", copied_between_writes)
    # Switch threads as often as possible, so the racing operations really interleave.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)
