"""Sign-in, CSRF, throttling, idle timeout, two-factor, production config, the demo banner."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import re

import pytest

from admin_app.models import AuditEvent, Organisation
from admin_app.vocabulary import ROLES
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
    assert flask_config["SESSION_COOKIE_SECURE"]
    # Every staff role needs a second factor in production; a role added later is covered or this fails.
    assert settings.two_factor_roles == [name for name, _ in ROLES]


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


def test_the_sign_in_pages_speak_the_services_words(app, login):
    labels = re.compile(r"<label[^>]*>([^<]*)</label>")
    buttons = re.compile(r'type="submit"[^>]*value="([^"]*)"')
    page = app.test_client().get("/login").get_data(as_text=True)
    assert labels.findall(page) == ["Email address", "Password"] and buttons.findall(page) == ["Sign in"]
    worker = login("worker")
    page = worker.get("/change").get_data(as_text=True)
    assert labels.findall(page) == ["Password", "New password", "New password again"]
    assert buttons.findall(page) == ["Change password"] and "<h1>Change your password</h1>" in page
    page = worker.post("/tf-setup", data={"setup": "authenticator", "csrf_token": csrf_token(worker, "/tf-setup")}).get_data(as_text=True)
    assert "Add this account to your app" in page and 'id="qrcode"' in page
    assert labels.findall(page) == ["Code from your app"] and buttons.findall(page) == ["Finish setting up"]
    for theirs in ("Submit", "QRcode", "Currently setup", "Authentication Code", "Email Address"):
        assert theirs not in page


# --- throttling: per account whatever the address, per address whatever the account, the second factor ---

def _sign_in_from(client, address, email, password):
    token = csrf_token(client, "/login")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address})


def _throttled_app(make_app, inbox=None, **limits):
    from flask_security import hash_password

    from admin_app.security import datastore

    mail = dict(smtp_host="127.0.0.1", smtp_port=inbox.port, smtp_tls=False) if inbox else {}
    app = make_app(**limits, **mail)
    with app.app_context():
        datastore.create_user(email="target@test.e4e", password=hash_password(PASSWORD), roles=["worker"])
        datastore.create_user(email="other@test.e4e", password=hash_password(PASSWORD), roles=["worker"])
        datastore.create_user(email="sysadmin@test.e4e", password=hash_password(PASSWORD), roles=["admin"])
    return app


class FakeClock:
    """The rate limiter's clock, moved on by a test instead of waiting."""

    def __init__(self):
        import time

        self.now = time.time()

    def time(self):
        return self.now


def test_one_account_is_locked_whatever_addresses_the_attempts_come_from(make_app, inbox):
    app = _throttled_app(make_app, inbox, login_limits="5 per minute")
    client = app.test_client()
    for attempt in range(5):
        response = _sign_in_from(client, f"10.0.0.{attempt % 6 + 1}", "target@test.e4e", "wrong-password-123")
        assert response.status_code == 200
    response = _sign_in_from(client, "10.0.0.6", "target@test.e4e", PASSWORD)
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "locked" in page and "tell an administrator" in page and "Wait 1 minute" in page
    # Another account from the same addresses is not locked.
    assert _sign_in_from(app.test_client(), "10.0.0.1", "other@test.e4e", PASSWORD).status_code == 302


def test_a_locked_account_notifies_the_administrators_once(make_app, inbox):
    from admin_app.models.exports import Notice

    app = _throttled_app(make_app, inbox, login_limits="3 per minute")
    client = app.test_client()
    for attempt in range(6):
        _sign_in_from(client, f"10.0.1.{attempt}", "target@test.e4e", "wrong-password-123")
    notices = list(Notice.objects(role="admin"))
    assert len(notices) == 1 and "target@test.e4e" in notices[0].text
    assert [recipients for recipients, _ in inbox.messages] == [["sysadmin@test.e4e"]]
    assert "target@test.e4e" in inbox.messages[0][1]["Subject"]


def test_the_right_password_works_again_once_the_window_has_passed(make_app, monkeypatch):
    import limits.storage.memory

    clock = FakeClock()
    monkeypatch.setattr(limits.storage.memory, "time", clock)
    app = _throttled_app(make_app, login_limits="3 per minute")
    client = app.test_client()
    for _ in range(3):
        _sign_in_from(client, "10.0.2.1", "target@test.e4e", "wrong-password-123")
    assert _sign_in_from(client, "10.0.2.1", "target@test.e4e", PASSWORD).status_code == 429
    clock.now += 61
    assert _sign_in_from(client, "10.0.2.1", "target@test.e4e", PASSWORD).status_code == 302


def test_successful_sign_ins_do_not_count_towards_the_lock(make_app):
    app = _throttled_app(make_app, login_limits="3 per minute")
    for _ in range(5):
        assert _sign_in_from(app.test_client(), "10.0.3.1", "target@test.e4e", PASSWORD).status_code == 302


def test_one_address_is_throttled_whatever_accounts_it_tries(make_app):
    app = _throttled_app(make_app, login_limits="100 per minute", address_limits="4 per minute")
    client = app.test_client()
    for attempt in range(4):
        response = _sign_in_from(client, "10.0.4.1", f"guess{attempt}@test.e4e", "wrong-password-123")
        assert response.status_code == 200
    response = _sign_in_from(client, "10.0.4.1", "target@test.e4e", PASSWORD)
    assert response.status_code == 429 and "network address" in response.get_data(as_text=True)
    assert _sign_in_from(app.test_client(), "10.0.4.2", "target@test.e4e", PASSWORD).status_code == 302


def test_addresses_in_one_ipv6_network_share_the_per_address_limit(make_app):
    """One device given a /64 cannot step round the limit by taking a fresh address for every try."""
    app = _throttled_app(make_app, login_limits="100 per minute", address_limits="4 per minute")
    for attempt in range(4):
        response = _sign_in_from(app.test_client(), f"2001:db8:5:7::{attempt + 1:x}", f"guess{attempt}@test.e4e",
                                 "wrong-password-123")
        assert response.status_code == 200
    response = _sign_in_from(app.test_client(), "2001:db8:5:7:ffff:1:2:3", "target@test.e4e", PASSWORD)
    assert response.status_code == 429 and "network address" in response.get_data(as_text=True)
    # The next /64 along, and an IPv4 address, are counted on their own.
    assert _sign_in_from(app.test_client(), "2001:db8:5:8::1", "target@test.e4e", PASSWORD).status_code == 302
    assert _sign_in_from(app.test_client(), "10.0.4.3", "other@test.e4e", PASSWORD).status_code == 302


@pytest.mark.parametrize("address, network", [
    ("192.0.2.7", "192.0.2.7"),
    ("2001:db8:5:7:abcd::1", "2001:db8:5:7::/64"),
    ("::ffff:192.0.2.7", "192.0.2.7"),  # IPv4 reached through an IPv6 socket is the IPv4 address
    ("", "unknown"),
    (None, "unknown"),
    ("not an address", "not an address"),
])
def test_where_attempts_come_from_is_counted_by_address_or_ipv6_network(address, network):
    from admin_app.security import network_of

    assert network_of(address) == network


def _with_authenticator(app, email):
    from admin_app.models import User

    with app.app_context():
        factory = app.extensions["security"]._totp_factory
        secret = factory.generate_totp_secret()
        User.objects(email=email).update_one(set__tf_primary_method="authenticator", set__tf_totp_secret=secret)
        return factory, secret


def _wrong_code(factory, secret):
    right = factory.generate_totp_password(secret)
    return f"{(int(right) + 1) % 1_000_000:06d}"


def test_second_factor_codes_are_throttled_per_account_across_addresses(make_app):
    app = _throttled_app(make_app, login_limits="5 per minute")
    factory, secret = _with_authenticator(app, "target@test.e4e")
    client = app.test_client()
    response = _sign_in_from(client, "10.0.5.1", "target@test.e4e", PASSWORD)
    assert response.status_code == 302 and "tf-validate" in response.location
    statuses = []
    for attempt in range(8):
        token = csrf_token(client, "/tf-validate")
        response = client.post("/tf-validate", data={"code": _wrong_code(factory, secret), "csrf_token": token},
                               environ_base={"REMOTE_ADDR": f"10.0.5.{attempt + 1}"})
        statuses.append(response.status_code)
    assert statuses[:5] == [200] * 5 and set(statuses[5:]) == {429}
    token = csrf_token(client, "/tf-validate")
    with app.app_context():
        right = factory.generate_totp_password(secret)
    response = client.post("/tf-validate", data={"code": right, "csrf_token": token},
                           environ_base={"REMOTE_ADDR": "10.0.5.9"})
    assert response.status_code == 429
    assert client.get("/admin/client/").status_code == 302
    assert AuditEvent.objects(action="login_failed", actor="target@test.e4e").count() >= 5


def test_an_active_session_still_ends_twelve_hours_after_its_sign_in(login):
    worker = login("worker")
    assert worker.get("/admin/client/").status_code == 200
    with worker.session_transaction() as session:
        session["signed_in_at"] -= 12 * 3600 + 60
    response = worker.get("/admin/client/")
    assert response.status_code == 302 and "/login" in response.location
    assert "at most 12 hours" in worker.get(response.location).get_data(as_text=True)
    assert worker.get("/admin/client/").status_code == 302
    assert AuditEvent.objects(action="logout", summary__contains="12 hours since sign-in").count() == 1


def test_each_sign_in_gets_a_new_session_and_the_cookie_from_before_it_is_not_signed_in(app, users):
    browser = app.test_client()
    token = csrf_token(browser, "/login")
    before = browser.get_cookie("session").value
    response = browser.post("/login", data={"email": users["worker"].email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert browser.get_cookie("session").value != before
    planted = app.test_client()
    planted.set_cookie("session", before)
    assert planted.get("/admin/client/").status_code == 302


def test_session_cookies_are_http_only_same_site_and_secure_in_production(app, make_app, users):
    browser = app.test_client()
    cookie = browser.get("/login").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    config = load_settings({"APP_ENV": "production", "SECRET_KEY": "x" * 40, "MONGODB_URI": "mongodb://db/e4e",
                            "FIELD_ENCRYPTION_KEYS": "ZmFrZS1rZXktZm9yLWEtdGVzdC1vbmx5LTMyLWJ5dGU=", "CELERY_BROKER_URL": "redis://r",
                            "SMTP_HOST": "mail", "SECURITY_PASSWORD_SALT": "a-real-salt", "PSEUDONYM_KEY": "k" * 32,
                            "TOTP_SECRET": "t" * 32}).flask_config()
    assert config["SESSION_COOKIE_SECURE"] and config["REMEMBER_COOKIE_SECURE"]
    assert config["SESSION_COOKIE_HTTPONLY"] and config["REMEMBER_COOKIE_HTTPONLY"]
    assert config["SESSION_COOKIE_SAMESITE"] == config["REMEMBER_COOKIE_SAMESITE"] == "Lax"
    assert config["SESSION_COOKIE_NAME"].startswith("__Host-") and config["REMEMBER_COOKIE_NAME"].startswith("__Host-")
    assert not config.get("SESSION_COOKIE_DOMAIN") and config.get("SESSION_COOKIE_PATH", "/") == "/"


def test_a_production_session_cookie_is_secure_and_bound_to_the_host(make_app, users):
    app = make_app(embedded=False, app_env="production")
    response = app.test_client().get("/login", base_url="https://e4e.example.org")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-session=") and "Secure" in cookie and "HttpOnly" in cookie
    assert "Path=/" in cookie and "Domain" not in cookie and "SameSite=Lax" in cookie


def test_no_page_may_be_stored_by_a_browser_or_proxy(app, login):
    assert app.test_client().get("/login").headers["Cache-Control"] == "no-store"
    assert login("worker").get("/admin/client/").headers["Cache-Control"] == "no-store"


def test_the_sign_in_form_offers_no_remember_me(app):
    assert 'name="remember"' not in app.test_client().get("/login").get_data(as_text=True)


def test_a_second_factor_code_works_only_once(make_app):
    app = _throttled_app(make_app)
    factory, secret = _with_authenticator(app, "target@test.e4e")
    with app.app_context():
        code = factory.generate_totp_password(secret)
    first, second = app.test_client(), app.test_client()
    for browser in (first, second):
        assert _sign_in_from(browser, "10.0.6.1", "target@test.e4e", PASSWORD).location.startswith("/tf-validate")
    response = first.post("/tf-validate", data={"code": code, "csrf_token": csrf_token(first, "/tf-validate")})
    assert response.status_code == 302 and first.get("/admin/client/").status_code == 200
    response = second.post("/tf-validate", data={"code": code, "csrf_token": csrf_token(second, "/tf-validate")})
    assert response.status_code == 200 and second.get("/admin/client/").status_code == 302
