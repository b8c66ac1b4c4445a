"""The client space's emails, sent by a real Celery worker through a real SMTP server: "I need to talk to someone
now" alerts the worker and the managers once, and an invitation reaches the client."""
from __future__ import annotations

from tests.conftest import csrf_token
from tests.risk.conftest import job_worker, wait_until  # noqa: F401  (fixture)
from tests.test_client_space import accept, files, invite  # noqa: F401  (fixture and helpers)


def test_i_need_to_talk_alerts_the_worker_and_managers_once(app, users, login, files, job_worker, inbox):  # noqa: F811
    from admin_app.models.risk import RiskAlert

    link = invite(app, login, files["mine"], "jay@example.org")
    (to, invitation), = [m for m in wait_until(lambda: inbox.messages, what="the invitation")]
    assert to == ["jay@example.org"] and link in invitation.get_content()
    assert invitation["Subject"].startswith("Twoje zaproszenie")  # in Polish, the case file's preferred language
    me = accept(app, link)
    token = csrf_token(me, "/my/talk-now")
    first = me.post("/my/talk-now", data={"csrf_token": token}).get_data(as_text=True)
    assert "Daliśmy znać" in first  # Jay reads Polish, the preferred language on the case file
    again = me.post("/my/talk-now", data={"csrf_token": token}).get_data(as_text=True)
    assert "już wiedzą" in again
    wait_until(lambda: len(inbox.messages) >= 2, what="the alert email")
    with app.app_context():
        wait_until(lambda: RiskAlert.objects.get(client=files["mine"].pk).email_sent_at is not None)
        assert RiskAlert.objects(client=files["mine"].pk).count() == 1
    recipients, message = inbox.messages[1]
    assert recipients == ["manager@test.e4e", "worker@test.e4e"]
    assert message["Subject"] == "Client on case E4E-C0001 needs to talk to someone now"
    assert "Jay" not in message.get_content()
    # The worker sees it on their home page; once acknowledged, a new press raises a new alert.
    worker = login("worker")
    assert "E4E-C0001" in worker.get("/admin/").get_data(as_text=True)
    with app.app_context():
        RiskAlert.objects(client=files["mine"].pk).update(set__open=False)
    me.post("/my/talk-now", data={"csrf_token": token})
    wait_until(lambda: len(inbox.messages) >= 3, what="the second alert email")
    assert len(inbox.messages) == 3


def test_an_invitation_refused_while_the_mail_server_is_down_reaches_the_client_once_it_is_back(
        app, login, files, job_worker, inbox):  # noqa: F811
    import time

    inbox.stop()
    link = invite(app, login, files["mine"], "jay@example.org")  # the worker still sees the link
    time.sleep(2)  # the first attempt has been refused
    assert inbox.messages == []
    inbox.start()
    (to, invitation), = wait_until(lambda: inbox.messages, what="the invitation, sent again")
    assert to == ["jay@example.org"] and link in invitation.get_content()
    time.sleep(2)
    assert len(inbox.messages) == 1  # sent once, not again
