"""The service dashboard reads its figures from a snapshot never more than a minute old."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

from admin_app import snapshots
from admin_app.metrics.periods import financial_year_of, london_today
from tests.conftest import new_client


def referrals(page: str) -> int:
    return int(re.search(r'data-kpi="referrals"[^>]*>\s*([\d,]+)', page).group(1).replace(",", ""))


def computed_at(page: str) -> str:
    return re.search(r'data-computed-at="([^"]+)"', page).group(1)


def a_referral_today(users, reference):
    from admin_app.models.case_file import Referral

    return new_client(reference, worker=users["worker"],
                      referral=Referral(date=london_today(), source="probation", cohort="convicted", decision="accepted"))


def test_the_service_dashboard_shows_its_snapshot_then_a_fresh_one_after_a_minute(app, users, login):
    from admin_app.models.snapshots import FigureSnapshot

    with app.app_context():
        a_referral_today(users, "E4E-D0001")
    manager = login("manager")
    first = manager.get("/admin/dashboard/").get_data(as_text=True)
    assert "Figures computed at" in first and "never more than a minute old" in first
    with app.app_context():
        a_referral_today(users, "E4E-D0002")
    within_the_minute = manager.get("/admin/dashboard/").get_data(as_text=True)
    assert computed_at(within_the_minute) == computed_at(first)
    assert referrals(within_the_minute) == referrals(first)
    with app.app_context():  # a minute and a second later
        FigureSnapshot.objects.update(set__computed_at=datetime.utcnow() - timedelta(seconds=61))
    later = manager.get("/admin/dashboard/").get_data(as_text=True)
    assert computed_at(later) != computed_at(first)
    assert referrals(later) == referrals(first) + 1


def test_a_workers_own_dashboard_is_kept_for_them_alone_and_says_when_it_was_computed(app, users, login):
    from admin_app.models.snapshots import FigureSnapshot

    worker, other = login("worker"), login("worker2")
    with app.app_context():
        a_referral_today(users, "E4E-D0003")
    first = worker.get("/admin/dashboard/").get_data(as_text=True)
    assert "Figures computed at" in first
    theirs = other.get("/admin/dashboard/").get_data(as_text=True)
    assert referrals(theirs) == referrals(first) - 1  # the other worker's own figures, not the first's
    with app.app_context():
        a_referral_today(users, "E4E-D0004")
        keys = sorted(s.key.split(":")[0] for s in FigureSnapshot.objects.only("key"))
        assert keys == sorted(f"caseload-{users[w].pk}" for w in ("worker", "worker2"))
    within_the_minute = worker.get("/admin/dashboard/").get_data(as_text=True)
    assert (computed_at(within_the_minute), referrals(within_the_minute)) == (computed_at(first), referrals(first))
    with app.app_context():  # a minute and a second later
        FigureSnapshot.objects.update(set__computed_at=datetime.utcnow() - timedelta(seconds=61))
    later = worker.get("/admin/dashboard/").get_data(as_text=True)
    assert computed_at(later) != computed_at(first) and referrals(later) == referrals(first) + 1


def test_the_refresh_job_recomputes_a_workers_snapshot_with_their_caseload_only(app, users, login):
    from admin_app.models.snapshots import FigureSnapshot
    from jobs.tasks import refresh_dashboards

    worker = login("worker")
    with app.app_context():
        a_referral_today(users, "E4E-D0005")
    before = referrals(worker.get("/admin/dashboard/").get_data(as_text=True))
    with app.app_context():
        a_referral_today(users, "E4E-D0006")
        new_client("E4E-D0007", worker=users["worker2"])
        FigureSnapshot.objects.update(set__computed_at=datetime.utcnow() - timedelta(seconds=45))
        assert refresh_dashboards.apply().get() == 1
        [snapshot] = FigureSnapshot.objects()
        assert json.loads(snapshot.report_json)["service"]["referrals"] == before + 1


def test_the_refresh_job_recomputes_what_people_look_at_and_forgets_the_rest(app, users, login):
    from admin_app.models.snapshots import FigureSnapshot
    from jobs.tasks import refresh_dashboards

    manager = login("manager")
    manager.get("/admin/dashboard/")
    with app.app_context():
        [viewed] = FigureSnapshot.objects()
        old = datetime.utcnow() - timedelta(seconds=45)
        FigureSnapshot.objects(pk=viewed.pk).update_one(set__computed_at=old)
        period = financial_year_of(london_today())
        forgotten = snapshots.store(snapshots.service_key(period, period.start), {"x": 1},
                                    datetime.utcnow() - timedelta(days=2))
        a_referral_today(users, "E4E-D0005")
        assert refresh_dashboards.apply().get() == 1
        fresh = FigureSnapshot.objects.get(pk=viewed.pk)
        assert fresh.computed_at > old + timedelta(seconds=30)
        assert json.loads(fresh.report_json)["service"]["referrals"] >= 1
        assert FigureSnapshot.objects(key=snapshots.service_key(period, period.start)).count() == 0
        assert forgotten.report == {"x": 1}
    # The page now reads the refreshed snapshot, new referral included, without computing again.
    page = manager.get("/admin/dashboard/").get_data(as_text=True)
    with app.app_context():
        stored = FigureSnapshot.objects.get(pk=viewed.pk)
        assert referrals(page) == json.loads(stored.report_json)["service"]["referrals"]
        assert stored.computed_at == fresh.computed_at
