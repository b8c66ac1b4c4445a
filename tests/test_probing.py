"""Refused and not-found attempts on case files are audited; repeated ones alert the administrators once."""
from __future__ import annotations

from bson import ObjectId

from admin_app.models import AuditEvent
from admin_app.models.exports import Notice
from tests.conftest import new_client


def test_opening_another_workers_case_file_is_audited_with_who_what_and_where(app, users, login):
    theirs = new_client("E4E-P0001", worker=users["worker2"])
    worker = login("worker")
    response = worker.get(f"/admin/casefile/{theirs.pk}/", environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert response.status_code == 404
    event = AuditEvent.objects(action="not_found").first()
    assert (event.actor, event.record_id, event.collection, event.ip) == ("worker@test.e4e", str(theirs.pk), "clients", "10.9.9.9")


def test_a_refused_action_on_a_case_file_is_audited_with_the_id(app, users, login):
    case = new_client("E4E-P0002", worker=users["worker"])
    evaluator = login("evaluator")
    assert evaluator.get(f"/admin/client/details/?id={case.pk}").status_code == 403
    event = AuditEvent.objects(action="refused").first()
    assert (event.actor, event.record_id) == ("evaluator@test.e4e", str(case.pk))


def test_repeated_probing_alerts_the_administrators_once(app, users, login, inbox, make_app):
    from dataclasses import replace

    app.config["SETTINGS"] = replace(app.config["SETTINGS"], smtp_host="127.0.0.1", smtp_port=inbox.port, smtp_tls=False)
    theirs = new_client("E4E-P0003", worker=users["worker2"])
    worker = login("worker")
    for _ in range(4):
        worker.get(f"/admin/client/details/?id={ObjectId()}", follow_redirects=True)
    assert Notice.objects(role="admin").count() == 0
    for _ in range(3):
        worker.get(f"/admin/client/edit/?id={theirs.pk}")
    notices = list(Notice.objects(role="admin"))
    assert len(notices) == 1 and "worker@test.e4e" in notices[0].text
    assert [recipients for recipients, _ in inbox.messages] == [["admin@test.e4e"]]
    assert AuditEvent.objects(action="not_found", actor="worker@test.e4e").count() == 7


def test_a_hostile_id_is_audited_cut_to_size_and_answered_with_not_found(app, users, login):
    worker = login("worker")
    assert worker.get("/admin/client/details/?id=" + "A" * 5000, follow_redirects=True).status_code == 404
    assert len(AuditEvent.objects(action="not_found").first().record_id) == 80


def test_a_grant_bid_for_or_on_another_workers_case_file_is_audited(app, users, login):
    theirs = new_client("E4E-P0004", worker=users["worker2"])
    worker = login("worker")
    assert worker.get(f"/admin/grantbid/new/?client={theirs.pk}", environ_base={"REMOTE_ADDR": "10.9.9.8"}).status_code == 404
    event = AuditEvent.objects(action="not_found").first()
    assert (event.actor, event.record_id, event.ip) == ("worker@test.e4e", str(theirs.pk), "10.9.9.8")
    assert worker.get("/admin/grantbid/details/?bid=GB-NOT-THEIRS").status_code == 404
    assert AuditEvent.objects(action="not_found", record_id="GB-NOT-THEIRS", actor="worker@test.e4e").count() == 1


def test_alerts_about_one_thing_arriving_together_are_raised_once_and_again_after_the_window(app, users, atomic_single_documents):
    import threading
    from datetime import datetime, timedelta

    from admin_app.alerts import alert_admins_once
    from admin_app.models.exports import AlertWindow

    raised, start = [], threading.Barrier(8)

    def alert():
        with app.app_context():
            start.wait()
            raised.append(alert_admins_once("Locked", "Account locked: someone@test.e4e", key="locked:someone", minutes=10))

    threads = [threading.Thread(target=alert) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(raised) == [False] * 7 + [True]
    assert Notice.objects(role="admin").count() == 1
    AlertWindow.objects(key="locked:someone").update_one(set__until=datetime.utcnow() - timedelta(seconds=1))
    with app.app_context():
        assert alert_admins_once("Locked", "Account locked again", key="locked:someone", minutes=10)
        assert not alert_admins_once("Locked", "Account locked again", key="locked:someone", minutes=10)
    assert Notice.objects(role="admin").count() == 2
