"""Users screen and sessions: admins create, reset and deactivate users; sign-out and deactivation end every session."""
from __future__ import annotations

import re
import time

from admin_app.models import User
from admin_app.models.exports import Notice
from tests.conftest import PASSWORD, csrf_token, sign_in
from tests.risk.conftest import job_worker, wait_until  # noqa: F401  (fixture)
from tests.test_security import _with_authenticator

NEW_PASSWORD = "a-brand-new-passphrase"


def _save_user(admin, url, **fields):
    data = {"email": "", "name": "", "roles": [], "new_password": "", "csrf_token": csrf_token(admin, url), **fields}
    return admin.post(url, data=data)


def _user_form_values(user, **changes):
    values = {"email": user.email, "name": user.name or "", "roles": [str(r.pk) for r in user.roles]}
    if user.active:
        values["active"] = "y"
    values.update(changes)
    return values


def test_admin_creates_a_user_who_must_choose_their_own_password_at_first_sign_in(app, users, login):
    from admin_app.models import Role

    admin = login("admin")
    worker_role = Role.objects(name="worker").first()
    response = _save_user(admin, "/admin/user/new/", email="new.starter@test.e4e", name="New Starter",
                          active="y", roles=[str(worker_role.pk)], new_password=NEW_PASSWORD)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    user = User.objects(email="new.starter@test.e4e").first()
    assert user is not None and user.must_change_password and user.role_names == {"worker"}

    starter = app.test_client()
    assert sign_in(starter, "new.starter@test.e4e", NEW_PASSWORD).status_code == 302
    response = starter.get("/admin/client/")
    assert response.status_code == 302 and "/change" in response.location
    token = csrf_token(starter, "/change")
    response = starter.post("/change", data={"password": NEW_PASSWORD, "new_password": "my-own-choice-2026",
                                             "new_password_confirm": "my-own-choice-2026", "csrf_token": token})
    assert response.status_code == 302
    assert not User.objects.get(email="new.starter@test.e4e").must_change_password
    assert starter.get("/admin/client/").status_code == 200


def test_a_new_user_without_a_password_or_with_an_address_the_sign_in_form_refuses_is_not_saved(app, users, login):
    from admin_app.models import Role

    admin = login("admin")
    role = str(Role.objects(name="worker").first().pk)
    response = _save_user(admin, "/admin/user/new/", email="nopassword@test.e4e", active="y", roles=[role])
    assert response.status_code == 200 and "A new user needs a password" in response.get_data(as_text=True)
    response = _save_user(admin, "/admin/user/new/", email="someone@example.test", active="y", roles=[role],
                          new_password=NEW_PASSWORD)
    assert response.status_code == 200 and "sign-in form would refuse" in response.get_data(as_text=True)
    assert User.objects(email__in=["nopassword@test.e4e", "someone@example.test"]).count() == 0


def test_deactivated_user_is_signed_out_everywhere_at_once_and_cannot_sign_in_until_reactivated(app, users, login):
    worker_laptop, worker_phone = login("worker"), login("worker")
    assert worker_laptop.get("/admin/client/").status_code == 200
    admin = login("admin")
    leaver = users["worker"]
    url = f"/admin/user/edit/?id={leaver.pk}"
    values = _user_form_values(leaver)
    values.pop("active")
    assert _save_user(admin, url, **values).status_code == 302
    assert User.objects.get(pk=leaver.pk).active is False

    for session in (worker_laptop, worker_phone):
        response = session.get("/admin/client/")
        assert response.status_code == 302 and "/login" in response.location
    assert "/admin" not in (sign_in(app.test_client(), leaver.email).location or "")

    assert _save_user(admin, url, **_user_form_values(User.objects.get(pk=leaver.pk), active="y")).status_code == 302
    assert sign_in(app.test_client(), leaver.email).status_code == 302


def test_admin_cannot_deactivate_their_own_account(app, users, login):
    admin = login("admin")
    me = users["admin"]
    values = _user_form_values(me)
    values.pop("active")
    response = _save_user(admin, f"/admin/user/edit/?id={me.pk}", **values)
    assert "cannot deactivate your own account" in response.get_data(as_text=True)
    assert User.objects.get(pk=me.pk).active


def test_password_set_by_an_admin_ends_the_users_sessions_and_must_be_changed(app, users, login):
    worker = login("worker")
    admin = login("admin")
    target = users["worker"]
    response = _save_user(admin, f"/admin/user/edit/?id={target.pk}", **_user_form_values(target, new_password=NEW_PASSWORD))
    assert response.status_code == 302
    assert worker.get("/admin/client/").status_code == 302
    assert "/admin" not in (sign_in(app.test_client(), target.email, PASSWORD).location or "")
    fresh = app.test_client()
    sign_in(fresh, target.email, NEW_PASSWORD)
    response = fresh.get("/admin/client/")
    assert response.status_code == 302 and "/change" in response.location


def test_session_cookie_replayed_after_sign_out_is_refused(app, users, login):
    worker = login("worker")
    assert worker.get("/admin/client/").status_code == 200
    saved = worker.get_cookie("session").value
    response = worker.post("/logout", data={"csrf_token": csrf_token(worker, "/admin/")})
    assert response.status_code == 302

    replay = app.test_client()
    replay.set_cookie("session", saved)
    response = replay.get("/admin/client/")
    assert response.status_code == 302 and "/login" in response.location


def test_signing_out_in_one_browser_ends_the_users_other_sessions(app, users, login):
    laptop, phone = login("worker"), login("worker")
    laptop.post("/logout", data={"csrf_token": csrf_token(laptop, "/admin/")})
    response = phone.get("/admin/client/")
    assert response.status_code == 302 and "/login" in response.location
    assert login("worker").get("/admin/client/").status_code == 200


def test_changing_your_own_password_ends_your_other_sessions(app, users, login):
    laptop, phone = login("worker"), login("worker")
    token = csrf_token(laptop, "/change")
    response = laptop.post("/change", data={"password": PASSWORD, "new_password": NEW_PASSWORD,
                                            "new_password_confirm": NEW_PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert laptop.get("/admin/client/").status_code == 200
    response = phone.get("/admin/client/")
    assert response.status_code == 302 and "/login" in response.location


def test_role_without_the_users_screen_cannot_deactivate_anyone(app, users, login):
    manager = login("manager")
    target = users["worker"]
    values = _user_form_values(target)
    values.pop("active")
    response = manager.post(f"/admin/user/edit/?id={target.pk}", data={**values, "csrf_token": csrf_token(manager)})
    assert response.status_code == 403
    assert User.objects.get(pk=target.pk).active
    assert Notice.objects.count() == 0


def test_an_admin_cannot_set_their_own_password_in_the_users_screen_without_the_current_one(app, users, login):
    admin = login("admin")
    me = users["admin"]
    response = _save_user(admin, f"/admin/user/edit/?id={me.pk}", **_user_form_values(me, new_password=NEW_PASSWORD))
    assert response.status_code == 200 and "Password page" in response.get_data(as_text=True)
    assert "/admin" not in (sign_in(app.test_client(), me.email, NEW_PASSWORD).location or "")
    assert sign_in(app.test_client(), me.email, PASSWORD).status_code == 302


def test_a_common_or_guessable_password_is_refused_wherever_a_password_is_set(app, users, login):
    from admin_app.models import Role

    admin = login("admin")
    role = str(Role.objects(name="worker").first().pk)
    for weak in ("password1234", "aaaaaaaaaaaa", "qwertyuiop12"):
        response = _save_user(admin, "/admin/user/new/", email="weak@test.e4e", active="y", roles=[role], new_password=weak)
        assert response.status_code == 200 and "Nothing was saved" in response.get_data(as_text=True), weak
    assert User.objects(email="weak@test.e4e").count() == 0
    target = users["worker"]
    response = _save_user(admin, f"/admin/user/edit/?id={target.pk}", **_user_form_values(target, new_password="password1234"))
    assert response.status_code == 200
    assert sign_in(app.test_client(), target.email, PASSWORD).status_code == 302

    worker = login("worker")
    token = csrf_token(worker, "/change")
    response = worker.post("/change", data={"password": PASSWORD, "new_password": "password1234",
                                            "new_password_confirm": "password1234", "csrf_token": token})
    assert response.status_code == 200
    assert sign_in(app.test_client(), target.email, PASSWORD).status_code == 302

    # The account's own email address is refused too, though as a string it would pass.
    token = csrf_token(worker, "/change")
    response = worker.post("/change", data={"password": PASSWORD, "new_password": target.email,
                                            "new_password_confirm": target.email, "csrf_token": token})
    assert response.status_code == 200
    assert sign_in(app.test_client(), target.email, PASSWORD).status_code == 302

    result = app.test_cli_runner().invoke(args=["create-user", "weak@test.e4e", "--role", "worker", "--password", "password1234"])
    assert result.exit_code != 0 and "cannot be used" in result.output and "Traceback" not in result.output
    assert User.objects(email="weak@test.e4e").count() == 0


def test_changing_your_password_needs_the_current_one(app, users, login):
    worker = login("worker")
    token = csrf_token(worker, "/change")
    response = worker.post("/change", data={"password": "not-my-password-at-all", "new_password": NEW_PASSWORD,
                                            "new_password_confirm": NEW_PASSWORD, "csrf_token": token})
    assert response.status_code == 200
    assert sign_in(app.test_client(), users["worker"].email, PASSWORD).status_code == 302


def test_a_deactivated_users_sign_in_gets_the_same_answer_as_a_wrong_password(app, users):
    from admin_app.models import User as Account

    Account.objects(pk=users["worker"].pk).update_one(set__active=False)
    deactivated = sign_in(app.test_client(), users["worker"].email)
    wrong = sign_in(app.test_client(), users["worker2"].email, "not-the-password-at-all")
    nobody = sign_in(app.test_client(), "nobody@test.e4e")
    messages = [response.get_data(as_text=True) for response in (deactivated, wrong, nobody)]
    assert all(response.status_code == 200 for response in (deactivated, wrong, nobody))
    assert all("Email or password is not right" in page for page in messages)
    assert not any("disabled" in page.lower() or "deactivated" in page.lower() for page in messages)


def _mail_to(app, inbox):
    from dataclasses import replace

    app.config["SETTINGS"] = replace(app.config["SETTINGS"], smtp_host="127.0.0.1", smtp_port=inbox.port, smtp_tls=False)


def test_the_user_is_told_by_email_when_their_password_or_two_factor_changes(app, users, login, inbox):
    _mail_to(app, inbox)
    worker = login("worker")
    token = csrf_token(worker, "/change")
    worker.post("/change", data={"password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD,
                                 "csrf_token": token}, environ_base={"REMOTE_ADDR": "10.7.7.7"})
    admin = login("admin")
    target = users["worker2"]
    _save_user(admin, f"/admin/user/edit/?id={target.pk}", **_user_form_values(target, new_password=NEW_PASSWORD))
    _save_user(admin, f"/admin/user/edit/?id={target.pk}", **_user_form_values(target, new_password="password1234"))
    sent = [(recipients, message["Subject"], message.get_payload(decode=True).decode()) for recipients, message in inbox.messages]
    assert [(recipients, subject) for recipients, subject, _ in sent] == [
        (["worker@test.e4e"], "Your password was changed"),
        (["worker2@test.e4e"], "An administrator set a new password for your account")]
    assert "10.7.7.7" in sent[0][2] and "tell an administrator" in sent[0][2]
    assert re.search(r"on \d\d/\d\d/\d{4} \d\d:\d\d \(London time\), from network address", sent[0][2])
    assert NEW_PASSWORD not in sent[0][2] + sent[1][2]


def test_a_password_change_while_the_mail_server_is_down_is_made_and_told_once_the_server_is_back(
        app, users, login, job_worker, inbox):  # noqa: F811
    """There is nothing in the app that tells someone their password changed, so the email is tried again."""
    inbox.stop()
    worker = login("worker")
    response = worker.post("/change", data={"password": PASSWORD, "new_password": NEW_PASSWORD,
                                            "new_password_confirm": NEW_PASSWORD, "csrf_token": csrf_token(worker, "/change")})
    assert response.status_code == 302  # the change is made whatever the mail server does
    assert sign_in(app.test_client(), "worker@test.e4e", NEW_PASSWORD).status_code == 302
    time.sleep(2)  # the first attempt has been refused
    assert inbox.messages == []
    inbox.start()
    (to, message), = wait_until(lambda: inbox.messages, what="the email, sent again")
    assert to == ["worker@test.e4e"] and message["Subject"] == "Your password was changed"


def test_a_password_change_in_embedded_mode_with_the_mail_server_down_is_made_at_once(app, users, login, inbox):
    """Embedded mode sends inside the request: a refused email is given up at once, not waited for."""
    _mail_to(app, inbox)
    inbox.stop()
    worker = login("worker")
    response = worker.post("/change", data={"password": PASSWORD, "new_password": NEW_PASSWORD,
                                            "new_password_confirm": NEW_PASSWORD, "csrf_token": csrf_token(worker, "/change")})
    assert response.status_code == 302
    assert sign_in(app.test_client(), "worker@test.e4e", NEW_PASSWORD).status_code == 302


def test_the_user_is_told_by_email_when_two_factor_sign_in_is_set_up(app, users, login, inbox):
    from passlib.totp import TOTP

    _mail_to(app, inbox)
    worker = login("worker")
    page = worker.post("/tf-setup", data={"setup": "authenticator", "csrf_token": csrf_token(worker, "/tf-setup")})
    key = re.search(r"\b((?:[A-Z2-7]{4}-){3,}[A-Z2-7]{2,4})\b", page.get_data(as_text=True)).group(1).replace("-", "")
    code = TOTP(key=key, format="base32").generate().token
    response = worker.post("/tf-validate", data={"code": code, "csrf_token": csrf_token(worker, "/tf-setup")})
    assert response.status_code == 302 and User.objects.get(email="worker@test.e4e").tf_primary_method == "authenticator"
    assert [(recipients, message["Subject"]) for recipients, message in inbox.messages] == [
        (["worker@test.e4e"], "Your two-factor sign-in was set up or changed")]


# --- a lost second factor: the person asks, an administrator resets it ------------------------------------------

def test_someone_who_cannot_use_their_app_asks_and_the_administrators_are_told_once(app, users, inbox):
    _mail_to(app, inbox)
    _with_authenticator(app, "worker@test.e4e")
    browser = app.test_client()
    assert "/tf-validate" in sign_in(browser, "worker@test.e4e").location
    page = browser.get("/tf-validate").get_data(as_text=True)
    assert "Code from your app" in page and "Ask an administrator" in page
    for _ in range(2):
        response = browser.post("/tf-rescue", data={"help_setup": "help", "csrf_token": csrf_token(browser, "/tf-validate")},
                                environ_base={"REMOTE_ADDR": "10.8.8.8"})
        assert response.status_code == 200
        assert "The administrators have been told" in response.get_data(as_text=True)
    notices = list(Notice.objects(role="admin"))
    assert len(notices) == 1 and "worker@test.e4e" in notices[0].text and "really them" in notices[0].text
    (to, message), = inbox.messages  # asked twice, told once
    assert to == ["admin@test.e4e"] and message["Subject"] == "Two-factor sign-in reset asked for: worker@test.e4e"
    assert "10.8.8.8" in message.get_content()
    assert browser.get("/admin/client/").status_code == 302  # asking signs nobody in


def test_an_administrator_resets_a_lost_second_factor_which_ends_the_users_sessions(app, users, login, inbox):
    from admin_app.models import AuditEvent

    _mail_to(app, inbox)
    worker = login("worker")
    _, secret = _with_authenticator(app, "worker@test.e4e")
    target = User.objects.get(email="worker@test.e4e")
    admin = login("admin")
    url = f"/admin/user/edit/?id={target.pk}"
    assert "Reset two-factor sign-in" in admin.get(url).get_data(as_text=True)
    assert _save_user(admin, url, **_user_form_values(target, reset_two_factor="y")).status_code == 302
    target.reload()
    assert (target.tf_primary_method, target.tf_totp_secret) == (None, None)
    assert worker.get("/admin/client/").status_code == 302  # the session that may be on the lost phone has ended
    assert "/tf-validate" not in (sign_in(app.test_client(), "worker@test.e4e").location or "")
    (to, message), = inbox.messages
    assert to == ["worker@test.e4e"] and message["Subject"] == "An administrator reset your two-factor sign-in"
    event = AuditEvent.objects(collection="users", action="update", record_id=str(target.pk)).order_by("-at").first()
    assert any(change["field"] == "tf_primary_method" for change in event.changes)
    assert secret not in str(event.changes)  # no secret in the log


def test_a_second_factor_is_not_reset_for_oneself_here_nor_when_there_is_none(app, users, login):
    admin = login("admin")
    me = User.objects.get(email="admin@test.e4e")
    _with_authenticator(app, "admin@test.e4e")
    page = _save_user(admin, f"/admin/user/edit/?id={me.pk}", **_user_form_values(me, reset_two_factor="y")).get_data(as_text=True)
    assert "Change your own two-factor sign-in on the Two-factor page" in page
    assert User.objects.get(pk=me.pk).tf_primary_method == "authenticator"
    other = User.objects.get(email="worker2@test.e4e")
    page = _save_user(admin, f"/admin/user/edit/?id={other.pk}", **_user_form_values(other, reset_two_factor="y")).get_data(as_text=True)
    assert "has not set up two-factor sign-in" in page
    assert "Reset two-factor sign-in" not in admin.get("/admin/user/new/").get_data(as_text=True)
