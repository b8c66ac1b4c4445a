"""The client space (/my/): a client sees and does only their own things; messages reach the case file."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from tests.conftest import PASSWORD, csrf_token, new_client

CLIENT_PASSWORD = "a long client password"


@pytest.fixture
def files(app, users):
    """Two clients of two workers, each with an open goal of two steps and a visit."""
    from admin_app.models.case_file import Consent, PlanGoal
    from admin_app.models.risk import Venue, Visit

    with app.app_context():
        mine = new_client("E4E-C0001", worker=users["worker"], first_name="Jay",
                          consent=Consent(preferred_language="Polish"),
                          plan_goals=[PlanGoal(goal="Get a forklift licence", steps="Book the course\nGo to the course")])
        theirs = new_client("E4E-C0002", worker=users["worker2"], first_name="Sam",
                            plan_goals=[PlanGoal(goal="Other person's goal", steps="Their secret step")])
        venue = Venue(name="Lozells Community Centre", kind="community_centre", postcode_district="B19").save()
        soon = datetime.now() + timedelta(days=2)
        Visit(starts_at=soon, ends_at=soon + timedelta(hours=1), venue=venue, workers=[users["worker"]],
              clients=[mine], purpose="Private staff purpose text").save()
        return {"mine": mine, "theirs": theirs}


def invite(app, login, client_doc, email):
    worker = login("worker" if client_doc.reference == "E4E-C0001" else "worker2")
    token = csrf_token(worker, f"/admin/client-space/{client_doc.pk}/")
    page = worker.post(f"/admin/client-space/{client_doc.pk}/invite", data={"email": email, "csrf_token": token})
    assert page.status_code == 200, page.get_data(as_text=True)[:400]
    return re.search(r'class="invitation-link"[^>]*>([^<]+)<', page.get_data(as_text=True)).group(1)


def accept(app, link):
    browser = app.test_client()
    path = link.split("localhost", 1)[1]
    token = csrf_token(browser, path)
    answer = browser.post(path, data={"password": CLIENT_PASSWORD, "password_again": CLIENT_PASSWORD, "csrf_token": token})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/my/"), answer.get_data(as_text=True)[:300]
    return browser


@pytest.fixture
def me(app, login, files):
    return accept(app, invite(app, login, files["mine"], "jay@example.org"))


@pytest.fixture
def other(app, login, files):
    return accept(app, invite(app, login, files["theirs"], "sam@example.org"))


def test_client_sees_their_own_plan_appointment_and_language(me, files):
    page = me.get("/my/", follow_redirects=True).get_data(as_text=True)
    assert 'lang="pl"' in page  # the case file's preferred language
    assert "Lozells Community Centre" in page and "Private staff purpose text" not in page
    plan = me.get("/my/plan").get_data(as_text=True)
    assert "Book the course" in plan and "Their secret step" not in plan


def test_client_marks_a_step_done_and_the_worker_sees_it(app, me, files, login):
    goal = files["mine"].plan_goals[0]
    token = csrf_token(me, "/my/plan")
    assert me.post(f"/my/plan/{goal.id}/step/0", data={"done": "yes", "csrf_token": token}).status_code == 302
    assert me.post(f"/my/plan/{goal.id}/note", data={"note": "Booked for Monday", "step": "0",
                                                      "csrf_token": token}).status_code == 302
    plan = me.get("/my/plan").get_data(as_text=True)
    assert "Booked for Monday" in plan
    worker_page = login("worker").get(f"/admin/casefile/{files['mine'].pk}/").get_data(as_text=True)
    assert "The client marked done: Book the course" in worker_page and "Booked for Monday" in worker_page


def test_client_cannot_touch_another_clients_goal_by_url(app, me, files):
    from admin_app.models.case_file import Client

    theirs = files["theirs"].plan_goals[0]
    token = csrf_token(me, "/my/plan")
    refused = me.post(f"/my/plan/{theirs.id}/step/0", data={"done": "yes", "csrf_token": token})
    assert refused.status_code == 404 and "Nie znaleziono" in refused.get_data(as_text=True)  # in Jay's Polish
    assert me.post(f"/my/plan/{theirs.id}/note", data={"note": "x", "csrf_token": token}).status_code == 404
    assert me.post(f"/my/plan/{files['mine'].plan_goals[0].id}/step/9", data={"done": "yes", "csrf_token": token}).status_code == 404
    with app.app_context():
        assert not Client.objects(pk=files["theirs"].pk).first().plan_goals[0].client_updates


def test_a_message_reaches_the_worker_timeline_and_hours(app, me, files, login, users):
    from admin_app.models.case_file import Client
    from admin_app.timeline import hours_totals

    token = csrf_token(me, "/my/messages")
    assert me.post("/my/messages", data={"text": "Can we meet on Friday?", "csrf_token": token}).status_code == 302
    with app.app_context():
        stored = Client.objects(pk=files["mine"].pk).first()
        assert [m.language for m in stored.messages] == ["pl"]
        contact = stored.contacts[0]
        assert contact.mode == "message" and contact.minutes == 5 and stored.messages[0].contact_id == contact.id
        assert hours_totals(stored)["other"] == round(5 / 60, 1)
    worker = login("worker")
    home = worker.get("/admin/").get_data(as_text=True)
    assert "New message from your client E4E-C0001" in home and "written in Polish" in home
    assert "E4E-C0001" not in login("worker2").get("/admin/").get_data(as_text=True)
    page = worker.get(f"/admin/casefile/{files['mine'].pk}/").get_data(as_text=True)
    assert "Message from the client, in Polish" in page and "Can we meet on Friday?" in page
    # The worker replies from the case file, with the minutes it took.
    thread = worker.get(f"/admin/client-space/{files['mine'].pk}/").get_data(as_text=True)
    assert "written in Polish" in thread
    token = csrf_token(worker, f"/admin/client-space/{files['mine'].pk}/")
    bad = worker.post(f"/admin/client-space/{files['mine'].pk}/reply", data={"text": "Yes", "minutes": "lots", "csrf_token": token})
    assert bad.status_code == 400 and "whole number from 1 to 240" in bad.get_data(as_text=True)
    assert 'value="lots"' in bad.get_data(as_text=True) and ">Yes</textarea>" in bad.get_data(as_text=True)
    worker.post(f"/admin/client-space/{files['mine'].pk}/reply", data={"text": "Yes, 2pm at the centre", "minutes": "10", "csrf_token": token})
    assert "Yes, 2pm at the centre" in me.get("/my/messages").get_data(as_text=True)
    with app.app_context():
        assert sorted(c.minutes for c in Client.objects(pk=files["mine"].pk).first().contacts) == [5, 10]


def test_client_never_sees_another_clients_messages(app, me, other, files):
    token = csrf_token(other, "/my/messages")
    other.post("/my/messages", data={"text": "Sam's private words", "csrf_token": token})
    assert "Sam's private words" not in me.get("/my/messages").get_data(as_text=True)


def test_worker_cannot_read_or_reply_outside_their_caseload(app, login, files):
    other_worker = login("worker2")
    assert other_worker.get(f"/admin/client-space/{files['mine'].pk}/").status_code == 404
    token = csrf_token(other_worker, "/admin/")
    assert other_worker.post(f"/admin/client-space/{files['mine'].pk}/reply",
                             data={"text": "hi", "minutes": "5", "csrf_token": token}).status_code == 404
    assert other_worker.post(f"/admin/client-space/{files['mine'].pk}/invite",
                             data={"email": "x@example.org", "csrf_token": token}).status_code == 404
    for role in ("admin_staff", "evaluator", "commissioner", "grant_panel"):
        assert login(role).get(f"/admin/client-space/{files['mine'].pk}/").status_code == 403


def test_every_admin_url_is_refused_for_a_client(app, me):
    refused = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin") or "GET" not in rule.methods:
            continue
        url = re.sub(r"<[^>]+>", "000000000000000000000000", rule.rule)
        status = me.get(url).status_code
        if url in ("/admin/", "/admin"):
            assert status in (302, 308) and "/my/" in me.get("/admin/").headers["Location"]
        elif status != 403:
            refused.append((url, status))
    assert not refused
    token = csrf_token(me, "/my/")
    assert me.post("/admin/notices/dismiss/", data={"id": "x", "csrf_token": token}).status_code == 403


def test_staff_cannot_use_the_client_space(login):
    worker = login("worker")
    assert worker.get("/my/").status_code == 403
    assert worker.get("/my/messages").status_code == 403


def test_invitation_works_once(app, login, files):
    link = invite(app, login, files["mine"], "jay@example.org")
    accept(app, link)
    again = app.test_client().get(link.split("localhost", 1)[1])
    assert again.status_code == 404 and "already been used" in again.get_data(as_text=True)


def test_a_new_invitation_ends_the_earlier_one(app, login, files):
    first = invite(app, login, files["mine"], "jay@example.org")
    invite(app, login, files["mine"], "jay@example.org")
    assert app.test_client().get(first.split("localhost", 1)[1]).status_code == 404


def test_invitation_expires(app, login, files, monkeypatch):
    from admin_app.client_space import service

    link = invite(app, login, files["mine"], "jay@example.org")
    monkeypatch.setattr(service, "INVITATION_HOURS", 0)
    import time

    time.sleep(1.1)
    answer = app.test_client().get(link.split("localhost", 1)[1])
    assert answer.status_code == 410 and "run out of time" in answer.get_data(as_text=True)


def sign_in_here(browser, email, password):
    token = csrf_token(browser, "/my/sign-in")
    return browser.post("/my/sign-in", data={"email": email, "password": password, "csrf_token": token})


def test_client_signs_in_on_their_own_page_in_their_language(app, me, users):
    from admin_app.models.audit import AuditEvent

    browser = app.test_client()
    wrong = sign_in_here(browser, "jay@example.org", "not the password")
    assert wrong.status_code == 400 and "The email address or the password is not right" in wrong.get_data(as_text=True)
    signed = sign_in_here(browser, "jay@example.org", CLIENT_PASSWORD)
    assert signed.status_code == 302 and signed.headers["Location"].endswith("/my/")
    assert browser.get("/my/").status_code == 200
    with app.app_context():
        assert AuditEvent.objects(action="login_failed", summary="failed sign-in for jay@example.org").count() == 1
        assert AuditEvent.objects(action="login", actor="jay@example.org").count() >= 1


def test_staff_cannot_sign_in_on_the_client_page(app, users):
    """Staff sign in at /login, where their second factor is asked for; here they fail like a wrong password."""
    browser = app.test_client()
    answer = sign_in_here(browser, users["worker"].email, PASSWORD)
    assert answer.status_code == 400
    assert browser.get("/admin/").status_code == 302 and "/login" in browser.get("/admin/").headers["Location"]


def test_client_sign_in_is_throttled(make_app, tmp_path):
    from admin_app.models.case_file import Client
    from admin_app.client_space import service

    app = make_app(login_limits="3 per minute")
    with app.app_context():
        client = new_client("E4E-C0009", first_name="Lee")
        account, _token = service.invite(Client.objects.get(pk=client.pk), "lee@example.org", by="worker@test.e4e")
        service.accept(account, CLIENT_PASSWORD)
    browser = app.test_client()
    for _ in range(3):
        assert sign_in_here(browser, "lee@example.org", "wrong password").status_code == 400
    held = sign_in_here(browser, "lee@example.org", CLIENT_PASSWORD)
    assert held.status_code == 429 and "Too many tries in a short time" in held.get_data(as_text=True)


def test_every_client_page_is_audited(app, me, files):
    from admin_app.models.audit import AuditEvent

    for page in ("/my/", "/my/plan", "/my/appointments", "/my/opportunities", "/my/messages", "/my/talk-now"):
        assert me.get(page).status_code == 200
    with app.app_context():
        seen = AuditEvent.objects(actor="jay@example.org", action="view", record_id=str(files["mine"].pk)).count()
    assert seen == 6


def test_language_switch_and_urdu_is_right_to_left(app, me):
    token = csrf_token(me, "/my/")
    me.post("/my/language", data={"language": "ur", "back": "/my/plan", "csrf_token": token})
    page = me.get("/my/plan").get_data(as_text=True)
    assert 'lang="ur" dir="rtl"' in page
    assert me.post("/my/language", data={"language": "xx", "csrf_token": token}).status_code == 400
    away = me.post("/my/language", data={"language": "en", "back": "https://evil.example/", "csrf_token": token})
    assert away.headers["Location"].endswith("/my/")


def test_client_sessions_are_short(app, me):
    with me.session_transaction() as session:
        session["last_seen"] -= 16 * 60
    assert me.get("/my/").headers["Location"].endswith("/my/sign-in")


def test_shared_opportunity_shows_with_a_safe_link(app, login, files, me):
    worker = login("worker")
    url = f"/admin/casefile/{files['mine'].pk}/add/shared_opportunities"
    token = csrf_token(worker, url)
    base = {"date": datetime.now().strftime("%Y-%m-%d"), "kind": "job", "title": "Warehouse operative",
            "organisation": "Acme", "csrf_token": token}
    bad = worker.post(url, data={**base, "link": "javascript:alert(1)"})
    assert bad.status_code in (200, 400) and "starts with https://" in bad.get_data(as_text=True)
    worker.post(url, data={**base, "link": "https://example.org/jobs/1"})
    page = me.get("/my/opportunities").get_data(as_text=True)
    assert "Warehouse operative" in page and 'href="https://example.org/jobs/1"' in page
    assert "Shared with the client: Warehouse operative (Acme)" in worker.get(f"/admin/casefile/{files['mine'].pk}/").get_data(as_text=True)


def test_anonymising_the_case_file_ends_the_client_account_and_clears_messages(app, me, files):
    from datetime import date

    from admin_app.models.case_file import Client
    from admin_app.models.client_space import ClientAccount
    from admin_app.models.people import User
    from admin_app.privacy.anonymise import anonymise

    token = csrf_token(me, "/my/messages")
    me.post("/my/messages", data={"text": "My name is Jay Smith", "csrf_token": token})
    with app.app_context():
        Client.objects(pk=files["mine"].pk).update_one(set__status="closed")
        anonymise("E4E-C0001", "erasure request", "manager@test.e4e", date.today())
        stored = Client.objects(pk=files["mine"].pk).first()
        assert all(not m.text or m.text == "[anonymised]" for m in stored.messages)
        assert ClientAccount.objects(client=files["mine"].pk).first() is None
        assert User.objects(email="jay@example.org").first() is None
    assert me.get("/my/").status_code == 302


def test_client_pages_never_show_risk_safeguarding_disclosures_or_staff_notes(app, me, files, users):
    from datetime import date

    from admin_app.models.case_file import Client, Contact, Disclosure, RiskNote, SafeguardingConcern

    secrets = ("RISKTEXT-1", "SAFEGUARD-2", "DISCLOSED-3", "STAFFNOTE-4")
    with app.app_context():
        Client.objects(pk=files["mine"].pk).update_one(
            push__risk_notes=RiskNote(date=date.today(), level="high", text=secrets[0]),
            push__safeguarding_concerns=SafeguardingConcern(date=date.today(), concern=secrets[1]),
            push__disclosures=Disclosure(date=date.today(), what_shared=secrets[2]),
            push__contacts=Contact(date=date.today(), minutes=30, mode="face_to_face", note=secrets[3]))
    for page in ("/my/", "/my/plan", "/my/appointments", "/my/opportunities", "/my/messages", "/my/talk-now"):
        html = me.get(page).get_data(as_text=True)
        assert not [s for s in secrets if s in html], page
        assert "<script" not in html  # the client space works without JavaScript


def test_client_cannot_open_their_own_case_file_in_the_staff_app(me, files):
    for url in (f"/admin/casefile/{files['mine'].pk}/", f"/admin/client-space/{files['mine'].pk}/",
                f"/admin/client/details/?id={files['mine'].pk}", "/admin/riskalert/", "/admin/visit/"):
        assert me.get(url).status_code == 403, url
