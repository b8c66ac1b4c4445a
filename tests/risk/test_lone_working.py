"""Lone working: a visit not checked out by its end plus the grace period alerts the managers once, by the
beat's sweep task run by a real worker, emailed through a real SMTP server; a checked-out visit never does."""
from __future__ import annotations

import time
from datetime import timedelta

from tests.risk.conftest import wait_until


def test_a_missed_check_out_alerts_the_managers_once_and_a_checked_out_visit_never(app, users, login, job_worker, inbox):
    from admin_app.models.risk import RiskAlert, Venue, Visit
    from admin_app.risk.alerts import london_now
    from jobs.tasks import risk_sweep

    grace = app.config["SETTINGS"].lone_working_grace_minutes
    now = london_now()
    with app.app_context():
        venue = Venue(name="Aston Youth Centre", area="Aston", postcode_district="B6", kind="community_centre").save()
        overdue = Visit(starts_at=now - timedelta(minutes=grace + 90), ends_at=now - timedelta(minutes=grace + 1),
                        venue=venue, workers=[users["worker"]], status="checked_in").save()
        done = Visit(starts_at=now - timedelta(hours=3), ends_at=now - timedelta(hours=2), venue=venue,
                     workers=[users["worker2"]], status="checked_out").save()
        within_grace = Visit(starts_at=now - timedelta(hours=1), ends_at=now - timedelta(minutes=grace - 5),
                             venue=venue, workers=[users["worker2"]], status="checked_in").save()
        for _ in range(3):  # beat ticks, a retried tick, a restarted beat
            risk_sweep.delay()
        wait_until(lambda: len(inbox.messages) >= 1, what="the missed check-out email")
        time.sleep(1.5)
        risk_sweep.delay()
        time.sleep(1.5)
        alerts = list(RiskAlert.objects(kind="overdue_checkout"))
        assert [a.visit.pk for a in alerts] == [overdue.pk]
        assert Visit.objects.get(pk=done.pk).overdue_alerted_at is None
        assert Visit.objects.get(pk=within_grace.pk).overdue_alerted_at is None
    assert len(inbox.messages) == 1
    recipients, message = inbox.messages[0]
    assert recipients == ["manager@test.e4e"]
    assert message["Subject"] == "A visit has not been checked out"
    assert f"https://cases.e4e.example.org/admin/visit/details/?id={overdue.pk}" in message.get_content()
    page = login("manager").get("/admin/").get_data(as_text=True)
    assert "not checked out of the visit at Aston Youth Centre" in page
    assert "Aston Youth Centre" not in login("worker2").get("/admin/").get_data(as_text=True)
