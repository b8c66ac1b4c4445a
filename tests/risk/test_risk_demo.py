"""The demo shows risk and safety on first sign-in: groups and rivalries, venues, visits (one overridden, one
not checked out), affiliations only on their own worker's caseload, and alerts on the home page."""
from __future__ import annotations

import pytest

from tests.conftest import build_app, sign_in


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    from admin_app.cli import seed_demo_data

    app = build_app(tmp_path_factory.mktemp("riskdemo"))
    with app.app_context():
        seed_demo_data(clients=30)
    return app


def signed_in(app, email):
    client = app.test_client()
    assert sign_in(client, email, app.config["DEMO_PASSWORD"]).status_code == 302
    return client


def test_the_demo_holds_groups_rivalries_venues_visits_and_one_overdue_check_out(demo_app):
    from admin_app.models.risk import Affiliation, Group, RiskAlert, Venue, Visit

    with demo_app.app_context():
        assert Group.objects.count() == 4 and Group.objects(rivals__0__exists=True).count() >= 2
        assert Venue.objects.count() == 5
        assert Affiliation.objects.count() >= 4
        assert Visit.objects(override_reason__ne=None).count() == 1
        overdue = RiskAlert.objects(kind="overdue_checkout")
        assert overdue.count() == 1 and overdue.first().visit.status == "checked_in"
        assert RiskAlert.objects(kind="risk_note").count() >= 1
        # The seed is idempotent.
        from admin_app.cli import seed_demo_data

        seed_demo_data(clients=30)
        assert Group.objects.count() == 4 and RiskAlert.objects(kind="overdue_checkout").count() == 1


def test_each_role_sees_what_it_should_on_first_sign_in(demo_app):
    from admin_app.models.risk import Affiliation

    manager_home = signed_in(demo_app, "manager@demo.e4e").get("/admin/").get_data(as_text=True)
    assert "not checked out of the visit" in manager_home and "risk-alert" in manager_home
    worker = signed_in(demo_app, "worker1@demo.e4e")
    assert "Check in" in worker.get("/admin/visit/checkin/").get_data(as_text=True)
    risk_view = worker.get("/admin/risk/").get_data(as_text=True)
    assert "Upcoming visits" in risk_view and "rival groups" in risk_view
    with demo_app.app_context():
        from admin_app.models.case_file import Client
        from admin_app.models.people import User

        own = Client.objects(worker=User.objects.get(email="worker1@demo.e4e")).scalar("pk")
        other = Affiliation.objects(client__nin=list(own)).first()
    assert other is not None
    assert worker.get(f"/admin/affiliation/details/?id={other.pk}").status_code == 404
    assert signed_in(demo_app, "admin_staff@demo.e4e").get("/admin/affiliation/").status_code == 403
