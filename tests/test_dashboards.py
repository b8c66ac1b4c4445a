"""The dashboards: who may see them, whose figures they show, the period picker, the server-side charts."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from admin_app.metrics.periods import financial_year_of, quarter
from admin_app.views.dashboards import DashboardView, pick_period
from tests.conftest import new_client

URL = "/admin/dashboard/"


@pytest.fixture
def app(make_app):
    """The app with the dashboard registered (added here until create_app registers it itself)."""
    app = make_app()
    if "dashboard" not in app.blueprints:
        app.extensions["e4e_admin"].add_view(DashboardView(name="Dashboard", endpoint="dashboard"))
    return app


@pytest.fixture
def cases(app, users):
    """Two clients for the first worker, three for the second, all referred 60 days ago."""
    with app.app_context():
        for n in range(2):
            new_client(f"E4E-W1-{n}", worker=users["worker"])
        for n in range(3):
            new_client(f"E4E-W2-{n}", worker=users["worker2"])


def kpi(page: str, key: str) -> str:
    match = re.search(rf'data-kpi="{key}"[^>]*>([^<]*)<', page)
    assert match, f"no data-kpi={key} on the page"
    return match.group(1).strip()


def test_worker_sees_only_their_own_figures(login, cases):
    page = login("worker").get(URL).get_data(as_text=True)
    assert "My caseload" in page
    assert kpi(page, "referrals") == "2"
    page2 = login("worker2").get(URL).get_data(as_text=True)
    assert kpi(page2, "referrals") == "3"
    assert "Second Worker" not in page


def test_manager_figures_equal_the_report(app, login, cases):
    from admin_app.db import database
    from admin_app.metrics.report import load_report

    response = login("manager").get(URL)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Service dashboard" in page
    today = date.today()
    period = financial_year_of(today)
    with app.app_context():
        report = load_report(database(), {}, period)["service"]
    assert report["referrals"] == 5
    assert kpi(page, "referrals") == str(report["referrals"])
    assert kpi(page, "people_accessing") == str(report["people_accessing"])
    assert kpi(page, "active_caseload") == str(report["active_caseload"]["at_end"])
    assert kpi(page, "job_starts") == str(report["job_starts"])
    # Every data-scored fidelity item is listed with its score.
    for item, values in report["fidelity"].items():
        shown = "–" if values["score"] is None else values["score"]
        assert re.search(rf'data-score="{item}">{shown}<', page), item
    # Charts are inline SVG: no script, nothing fetched from elsewhere.
    assert page.count("<svg") >= 3
    charts = page.split('data-chart="caseload"')[1].split("Referrals and job starts per month")[0]
    assert "<script" not in charts and "http" not in charts.replace("http://www.w3.org/2000/svg", "")


def test_admin_and_commissioner_may_see_the_service_dashboard(login):
    assert login("admin").get(URL).status_code == 200
    assert "Service dashboard" in login("commissioner").get(URL).get_data(as_text=True)


def test_evaluator_is_refused(login):
    assert login("evaluator").get(URL).status_code == 403


def test_signed_out_is_sent_to_login(app):
    response = app.test_client().get(URL)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_bad_custom_date_shows_a_message_and_falls_back(login):
    response = login("manager").get(URL, query_string={"kind": "custom", "start": "2025-02-30", "end": "2025-03-31"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'data-message="period"' in page
    assert "2025-02-30" in page and "not a valid date" in page
    fy = financial_year_of(date.today())
    assert fy.start.strftime("%-d %B %Y") in page


def test_custom_range_end_before_start_is_refused(login):
    page = login("manager").get(URL, query_string={"kind": "custom", "start": "2025-03-31",
                                                   "end": "2025-01-01"}).get_data(as_text=True)
    assert "before the" in page


def test_period_picker():
    today = date(2026, 11, 25)
    assert pick_period({}, today)[0] == financial_year_of(today)
    assert pick_period({"kind": "quarter", "fy": "2025", "q": "3"}, today)[0] == quarter(2025, 3)
    period, _, messages = pick_period({"kind": "custom", "start": "2025-05-01", "end": "2025-05-31"}, today)
    assert (period.start, period.end, messages) == (date(2025, 5, 1), date(2025, 5, 31), [])
    for bad in ({"kind": "quarter", "fy": "2025", "q": "7"}, {"kind": "fy", "fy": "abc"},
                {"kind": "custom", "start": "", "end": "2025-01-01"}, {"kind": "nonsense"}):
        period, form, messages = pick_period(bad, today)
        assert period == financial_year_of(today) and messages and form["kind"] == "fy", bad


def test_quarter_excludes_referrals_outside_it(app, login, users):
    with app.app_context():
        from admin_app.models.case_file import Referral
        new_client("E4E-OLD", worker=users["worker"],
                   referral=Referral(date=date(2025, 5, 1), source="probation", cohort="convicted", decision="accepted"),
                   date_of_birth=date.today() - timedelta(days=365 * 30))
    page = login("worker").get(URL, query_string={"kind": "quarter", "fy": "2025", "q": "1"}).get_data(as_text=True)
    assert kpi(page, "referrals") == "1"
    page = login("worker").get(URL, query_string={"kind": "quarter", "fy": "2025", "q": "2"}).get_data(as_text=True)
    assert kpi(page, "referrals") == "0"


def test_commissioner_sees_service_wide_aggregates(login, cases):
    page = login("commissioner").get(URL).get_data(as_text=True)
    assert "Service dashboard" in page and kpi(page, "referrals") == "5"
    assert "E4E-W1-0" not in page
