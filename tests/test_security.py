"""Sign-in, CSRF, throttling, idle timeout, two-factor, production config, the demo banner."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from admin_app.models import AuditEvent, Organisation
from config import ConfigError, load_settings
from tests.conftest import PASSWORD, csrf_token, sign_in

ROOT = Path(__file__).resolve().parents[1]


def test_post_without_csrf_token_is_refused_and_saves_nothing(login):
    manager = login("manager")
    response = manager.post("/admin/organisation/new/", data={"name": "Forged partner", "kind": "referral_partner"})
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    assert Organisation.objects(name="Forged partner").first() is None
    token = csrf_token(manager)
    response = manager.post("/admin/organisation/new/", data={"name": "Real partner", "kind": "referral_partner", "csrf_token": token})
    assert response.status_code == 302 and Organisation.objects(name="Real partner").first() is not None


def test_sign_in_without_csrf_token_is_refused(app, users):
    response = app.test_client().post("/login", data={"email": users["manager"].email, "password": PASSWORD})
    assert response.status_code == 400


def test_repeated_failed_sign_ins_are_throttled(make_app):
    from flask_security import hash_password

    from admin_app.security import datastore

    app = make_app(login_limits="3 per minute")
    with app.app_context():
        datastore.create_user(email="target@test.e4e", password=hash_password(PASSWORD), roles=["worker"])
    client = app.test_client()
    for _ in range(3):
        response = sign_in(client, "target@test.e4e", "wrong-password-123")
        assert response.status_code == 200 and "Email or password is not right" in response.get_data(as_text=True)
    response = sign_in(client, "target@test.e4e", PASSWORD)
    assert response.status_code == 429
    assert "Too many" in response.get_data(as_text=True)
    assert AuditEvent.objects(action="login_failed").count() == 4


def test_production_settings_without_secrets_refuse_with_one_line():
    with pytest.raises(ConfigError) as refused:
        load_settings({"APP_ENV": "production"})
    message = str(refused.value)
    assert "\n" not in message
    for name in ("SECRET_KEY", "MONGODB_URI", "FIELD_ENCRYPTION_KEYS", "CELERY_BROKER_URL"):
        assert name in message


def test_production_settings_left_at_demo_values_refuse():
    import config

    env = {"APP_ENV": "production", "SECRET_KEY": config.DEMO_SECRET_KEY, "MONGODB_URI": "mongodb://db/e4e",
           "FIELD_ENCRYPTION_KEYS": config.DEMO_FIELD_KEY, "CELERY_BROKER_URL": "redis://r", "SMTP_HOST": "mail",
           "SECURITY_PASSWORD_SALT": "a-real-salt-value", "PSEUDONYM_KEY": "a-real-pseudonym-key", "TOTP_SECRET": "a-real-totp"}
    with pytest.raises(ConfigError) as refused:
        load_settings(env)
    assert "SECRET_KEY" in str(refused.value) and "FIELD_ENCRYPTION_KEYS" in str(refused.value)
    assert "MONGODB_URI" not in str(refused.value)


def test_production_start_without_secrets_prints_one_clear_line_and_no_traceback():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECRET", "MONGODB", "FIELD", "CELERY"))}
    env["APP_ENV"] = "production"
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "admin_app", "routes"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "Refusing to start: Production mode needs" in result.stderr
    assert "Traceback" not in result.stderr


def test_complete_production_settings_are_accepted():
    from cryptography.fernet import Fernet

    env = {"APP_ENV": "production", "SECRET_KEY": "x" * 40, "MONGODB_URI": "mongodb://db/e4e",
           "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(), "CELERY_BROKER_URL": "redis://r:6379/0",
           "SMTP_HOST": "mail", "SECURITY_PASSWORD_SALT": "a-real-salt-value", "PSEUDONYM_KEY": "k" * 32, "TOTP_SECRET": "t" * 32}
    settings = load_settings(env)
    flask_config = settings.flask_config()
    assert flask_config["SESSION_COOKIE_SECURE"] and settings.two_factor_roles == ["admin", "manager"]


def test_demo_banner_shows_on_every_page_in_embedded_mode(login, app):
    assert "Demo mode" in app.test_client().get("/login").get_data(as_text=True)
    manager = login("manager")
    for url in ("/admin/", "/admin/client/", "/admin/organisation/new/"):
        assert "Demo mode" in manager.get(url).get_data(as_text=True), url


def test_no_demo_banner_outside_embedded_mode(make_app):
    app = make_app(embedded=False, app_env="production")
    page = app.test_client().get("/login").get_data(as_text=True)
    assert "Demo mode" not in page and "demo-password" not in page


def test_idle_session_is_signed_out(login):
    worker = login("worker")
    assert worker.get("/admin/client/").status_code == 200
    with worker.session_transaction() as session:
        session["last_seen"] -= 31 * 60
    response = worker.get("/admin/client/")
    assert response.status_code == 302 and "/login" in response.location
    assert worker.get("/admin/client/").status_code == 302
    assert AuditEvent.objects(action="logout", summary__contains="idle").count() == 1


def test_role_that_requires_two_factor_must_set_it_up_first(make_app):
    from flask_security import hash_password

    from admin_app.security import datastore

    app = make_app(two_factor_roles=["manager"])
    with app.app_context():
        datastore.create_user(email="boss@test.e4e", password=hash_password(PASSWORD), roles=["manager"])
        datastore.create_user(email="staff@test.e4e", password=hash_password(PASSWORD), roles=["worker"])
    manager, worker = app.test_client(), app.test_client()
    sign_in(manager, "boss@test.e4e")
    sign_in(worker, "staff@test.e4e")
    response = manager.get("/admin/client/")
    assert response.status_code == 302 and "tf-setup" in response.location
    assert worker.get("/admin/client/").status_code == 200


def test_security_headers_are_set(app):
    response = app.test_client().get("/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_account_pages_lead_back_to_the_app_once_signed_in(app, login):
    assert 'data-back="app"' not in app.test_client().get("/login").get_data(as_text=True)
    page = login("worker").get("/tf-setup").get_data(as_text=True)
    assert 'href="/admin/" data-back="app"' in page
