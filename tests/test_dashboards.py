"""The dashboards: who may see them, whose figures they show, the period picker, the server-side charts."""
from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest

from admin_app.metrics.periods import financial_year_of, previous_financial_year, quarter
from admin_app.views.dashboards import dashboard_report, dashboard_scope, monthly_chart, pick_period
from tests.conftest import new_client

URL = "/admin/dashboard/"


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


# --- referrals and job starts per month; a running period; the CLI agreeing with the dashboard ------

@pytest.fixture
def casework(app, users):
    """Case files with assessments, contacts, plans and jobs in last financial year and this one; staff profiles."""
    from admin_app.models.case_file import Assessment, Contact, Outcome, PlanGoal, Referral
    from admin_app.models.people import StaffProfile

    today = date.today()
    last = previous_financial_year(today)
    with app.app_context():
        StaffProfile(user=users["worker"], fte=1.0, start_date=last.start - timedelta(days=400)).save()
        StaffProfile(user=users["worker2"], fte=0.5, start_date=last.start + timedelta(days=100)).save()
        for n, (worker, offset) in enumerate([("worker", 10), ("worker", 45), ("worker2", 70), ("worker2", 200)]):
            referred = last.start + timedelta(days=offset)
            new_client(
                f"E4E-M{n}", worker=users[worker],
                referral=Referral(date=referred, source="probation", cohort="convicted", decision="accepted"),
                assessment=Assessment(date=referred + timedelta(days=7), agreed_to_take_part=True,
                                      employment_status="unemployed"),
                plan_goals=[PlanGoal(goal="Find work")],
                contacts=[Contact(date=referred + timedelta(days=7), minutes=60, mode="face_to_face", place="community"),
                          Contact(date=today - timedelta(days=n + 2), minutes=30, mode="phone", place="online"),
                          Contact(date=today - timedelta(days=1), minutes=20, mode="admin", place="office")],
                outcomes=[Outcome(kind="paid_employment", start_date=referred + timedelta(days=60 + 10 * n),
                                  job_type=f"job {n}")] if n != 1 else [],
            )


def as_json(value) -> dict:
    return json.loads(json.dumps(value, default=str))


def cli_report(app, period, worker=None) -> dict:
    args = ["kpis", "--from", period.start.isoformat(), "--to", period.end.isoformat(), "--format", "json"]
    result = app.test_cli_runner().invoke(args=args + (["--worker", worker] if worker else []))
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def shown_months(page: str) -> list[dict]:
    months = {}
    for month, key, value in re.findall(r'data-month="([0-9-]+)" data-(referrals|job-starts)="(\d+)"', page):
        months.setdefault(month, {})[key.replace("-", "_")] = int(value)
    return [{"month": m, **v} for m, v in months.items()]


def page_for(client, period) -> str:
    response = client.get(URL, query_string={"kind": "custom", "start": period.start.isoformat(),
                                             "end": period.end.isoformat()})
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize("which", ["last financial year", "this financial year (still running)"])
@pytest.mark.parametrize("who", ["manager", "worker"])
def test_cli_json_equals_the_dashboard_figures_for_the_same_period_and_scope(app, users, login, casework, which, who):
    today = date.today()
    period = previous_financial_year(today) if which.startswith("last") else financial_year_of(today)
    cli = cli_report(app, period, users[who].email if who == "worker" else None)
    with app.app_context():
        mode, _, match = dashboard_scope(users[who])
        shown = dashboard_report(match, period, today)
    assert mode == ("service" if who == "manager" else "caseload")
    assert cli == as_json(shown)
    page = page_for(login(who), period)
    figures = cli["service"]
    assert re.search(rf'data-as-of="{cli["as_of"]}"', page)
    for key, value in (("referrals", figures["referrals"]), ("people_accessing", figures["people_accessing"]),
                       ("carried_over", figures["carried_over"]), ("job_starts", figures["job_starts"]),
                       ("people_into_work", figures["people_into_work"]),
                       ("active_caseload", figures["active_caseload"]["at_end"])):
        assert kpi(page, key) == str(value), key
    for item, values in figures["fidelity"].items():
        assert re.search(rf'data-score="{item}">{"–" if values["score"] is None else values["score"]}<', page), item
    assert shown_months(page) == [{k: m[k] for k in ("month", "referrals", "job_starts")} for m in figures["by_month"]]
    if which.startswith("last"):
        assert figures["referrals"] == (4 if who == "manager" else 2)   # the worker has two of the four


def test_a_running_period_is_judged_as_of_today_and_the_screen_says_so(app, login, casework):
    today = date.today()
    period = financial_year_of(today)
    page = page_for(login("manager"), period)
    assert f'data-as-of="{today.isoformat()}"' in page
    assert "still running" in page and today.strftime("%-d %B %Y") in page
    # Every client was in contact in the last week and has an open plan: all four are active today,
    # whatever the contacts will look like at the end of the year.
    assert kpi(page, "active_caseload") == "4"
    past = page_for(login("manager"), previous_financial_year(today))
    assert "still running" not in past and f'data-as-of="{previous_financial_year(today).end.isoformat()}"' in past


def test_the_monthly_chart_shows_each_month_of_the_period(app, login, casework):
    period = previous_financial_year(date.today())
    page = page_for(login("manager"), period)
    months = shown_months(page)
    assert len(months) == 12 and months[0]["month"] == f"{period.start.year}-04"
    # Four referrals, on days 10, 45, 70 and 200 of the year, and three job starts, all in last year.
    assert sum(m["referrals"] for m in months) == 4 and sum(m["job_starts"] for m in months) == 3
    chart = page.split('data-chart="monthly"')[1].split('data-chart="hours"')[0]
    assert "<svg" in chart and "<script" not in chart


def test_monthly_chart_marks_months_cut_by_the_period():
    svg = str(monthly_chart([{"month": "2025-05", "start": "2025-05-10", "end": "2025-05-31", "referrals": 2,
                              "job_starts": 1}]))
    assert "10 to 31 May only" in svg and 'data-referrals="2"' in svg and 'data-job-starts="1"' in svg


def test_kpis_command_refuses_a_period_that_ends_before_it_starts(app):
    result = app.test_cli_runner().invoke(args=["kpis", "--from", "2025-03-31", "--to", "2025-01-01"])
    assert result.exit_code != 0 and "--to must not be before --from" in result.output
