"""The evaluator dashboard and the evaluator's own extracts: who may open them, what they show, what they hold back."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from admin_app.db import database
from admin_app.evaluator.disclosure import CONSENTED, consented, no_remainder
from admin_app.evaluator.figures import ADDITIVE, FIGURES, controlled, evaluator_report
from admin_app.metrics.periods import financial_year_of, london_today
from admin_app.metrics.report import as_of_for, load_report
from admin_app.views.evaluator import shown
from tests.conftest import csrf_token, new_client

URL = "/admin/evaluator/"
EXTRACT = "/admin/evaluator/extract/"
OTHER_ROLES = ("admin", "manager", "worker", "admin_staff", "grant_panel", "commissioner")


@pytest.fixture
def demo(app, users):
    from admin_app.cli import seed_demo_data

    with app.app_context():
        seed_demo_data()


def figure_cells(page: str, panel: str) -> dict[str, str]:
    table = re.search(rf'data-panel="{panel}".*?</table>', page, re.S).group(0)
    return {key: value.strip() for key, value in re.findall(r'data-figure="([^"]+)"[^>]*>([^<]*)<', table)}


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_every_role_but_the_evaluator_is_refused_the_dashboard_and_the_extract_by_url(login, role):
    client = login(role)
    assert client.get(URL).status_code == 403
    assert client.get(EXTRACT).status_code == 403
    assert client.post(EXTRACT, data={"kind": "fy", "csrf_token": csrf_token(client)}).status_code == 403


def test_signed_out_is_sent_to_sign_in(app):
    assert "/login" in app.test_client().get(URL).headers["Location"]


def test_the_dashboards_figures_equal_the_report_functions_over_consented_clients(app, login, demo):
    page = login("evaluator").get(URL).get_data(as_text=True)
    with app.app_context():
        settings = app.config["SETTINGS"]
        period = financial_year_of(london_today())
        report = load_report(database(), CONSENTED, period, as_of=as_of_for(period, london_today()))
        expected = controlled(report["service"], settings.evaluator_min_group)
    cells = figure_cells(page, "figures")
    assert cells == {f.key: shown(expected[f.key], f.kind, settings.evaluator_min_group) for f in FIGURES}
    assert int(cells["referrals"]) > 0


def test_a_client_without_consent_is_absent(app, login, demo):
    client = login("evaluator")
    before = figure_cells(client.get(URL).get_data(as_text=True), "figures")["referrals"]
    with app.app_context():
        referral_day = london_today() - timedelta(days=1)
        for n in range(3):
            case = new_client(f"E4E-NC{n}")
            case.referral.date = referral_day
            case.consent.recorded = n == 0        # consent but no ISA version, or neither
            case.consent.isa_version = "   " if n == 1 else None
            case.save()
        consenting = new_client("E4E-YC0")
        consenting.referral.date = referral_day
        consenting.consent.recorded, consenting.consent.isa_version = True, "ISA v2"
        consenting.save()
        from admin_app import snapshots

        snapshots.expire_all()  # as a minute later
    assert figure_cells(client.get(URL).get_data(as_text=True), "figures")["referrals"] == str(int(before) + 1)


def test_small_groups_are_withheld_and_the_breakdowns_add_up(app, demo):
    with app.app_context():
        today = london_today()
        period = financial_year_of(today)
        report = evaluator_report(database(), period, today, 5, "month")
        whole = report["service"]["referrals"]
        for breakdown, rows in report["breakdowns"].items():
            people = [f.key for f in FIGURES if f.kind == "people"]
            for row in rows:
                assert all(row[key] is None or row[key] == 0 or row[key] >= 5 for key in people), (breakdown, row)
            if all(row["referrals"] is not None for row in rows):
                assert sum(row["referrals"] for row in rows) == whole
        high = evaluator_report(database(), period, today, 1000, "month")
        assert all(high["service"][f.key] is None for f in FIGURES if f.kind == "people" and report["service"][f.key])
        assert all(row["withheld"] for row in high["journeys"])


@pytest.mark.parametrize("counts, expected", [
    ([12, None, 7, 0], [12, None, None, 0]),     # one withheld: the smallest shown goes too, a zero stays
    ([12, None, None, 7], [12, None, None, 7]),  # two withheld: the total less the rest is only their sum
    ([None, 0, 0], [None, 0, 0]),                # nothing shown to withhold (the total is then small itself)
    ([9, 8, 7], [9, 8, 7]),
])
def test_a_withheld_count_cannot_be_worked_out_from_the_total(counts, expected):
    rows = [{"group": str(n), "referrals": count, "withheld": [] if count is not None else ["referrals"]}
            for n, count in enumerate(counts)]
    protected = no_remainder(rows, ["referrals"])
    assert [row["referrals"] for row in protected] == expected
    assert all((row["referrals"] is None) == ("referrals" in row["withheld"]) for row in protected)
    assert [row["referrals"] for row in rows] == counts  # the rows given are left as they were


def test_no_breakdown_or_period_row_gives_away_a_withheld_count(app, demo):
    with app.app_context():
        today = london_today()
        report = evaluator_report(database(), financial_year_of(today), today, 5, "month")
    tables = [(rows, ADDITIVE) for rows in report["breakdowns"].values()]
    tables.append((report["over_time"], ("referrals", "job_starts")))
    withheld_somewhere = False
    for rows, keys in tables:
        for key in keys:
            hidden = sum(row[key] is None for row in rows)
            withheld_somewhere |= hidden > 0
            assert hidden != 1 or not any(row[key] for row in rows), (key, rows)
    assert withheld_somewhere  # the demo has small groups, so the rule was put to work


def test_the_page_holds_no_name_or_date_of_birth(app, login, demo):
    page = login("evaluator").get(URL).get_data(as_text=True)
    from admin_app.models.case_file import Client

    with app.app_context():
        for case in Client.objects.only("first_name", "last_name", "date_of_birth", "reference"):
            assert f">{case.last_name}<" not in page and case.reference not in page
            assert case.date_of_birth.isoformat() not in page
    assert "<svg" in page and 'data-panel="journeys"' in page


def test_the_evaluator_starts_an_extract_and_sees_only_their_own_runs(app, login, users, demo):
    from admin_app.models.exports import ExportRun
    from admin_app.security import datastore
    from tests.conftest import PASSWORD, sign_in
    from flask_security import hash_password

    client = login("evaluator")
    response = client.post(EXTRACT, data={"kind": "fy", "fy": str(financial_year_of(london_today()).start.year),
                                          "csrf_token": csrf_token(client, EXTRACT)})
    assert response.status_code == 302
    with app.app_context():
        run = ExportRun.objects(started_by_user=users["evaluator"].pk).get()
        assert run.report == "evaluator_extract" and run.status in ("built", "sent")
        datastore.create_user(email="evaluator2@test.e4e", name="Other", password=hash_password(PASSWORD),
                              roles=["evaluator"])
    listing = client.get("/admin/exportrun/").get_data(as_text=True)
    assert run.filename in listing
    assert client.get(f"/admin/exportrun/download/{run.pk}").status_code == 200
    other = app.test_client()
    assert sign_in(other, "evaluator2@test.e4e").status_code == 302
    assert run.filename not in other.get("/admin/exportrun/").get_data(as_text=True)
    assert other.get(f"/admin/exportrun/details/?id={run.pk}").status_code in (302, 404)
    assert other.get(f"/admin/exportrun/download/{run.pk}").status_code == 404


def test_a_bad_period_is_a_message_and_starts_nothing(app, login, users):
    from admin_app.models.exports import ExportRun

    client = login("evaluator")
    page = client.post(EXTRACT, data={"kind": "custom", "start": "2026-05-01", "end": "2026-04-01",
                                      "csrf_token": csrf_token(client, EXTRACT)}, follow_redirects=True)
    assert "before the" in page.get_data(as_text=True)
    with app.app_context():
        assert ExportRun.objects.count() == 0


def test_consent_rule_and_match_agree_over_the_demo_data(app, demo):
    with app.app_context():
        db = database()
        matched = {d["_id"] for d in db.clients.find(CONSENTED, {"_id": 1})}
        by_rule = {d["_id"] for d in db.clients.find({}, {"consent": 1}) if consented(d)}
        assert matched == by_rule and 0 < len(matched) < db.clients.count_documents({})


def test_the_evaluators_home_page_leads_to_their_dashboard_and_extracts(login):
    home = login("evaluator").get("/admin/").get_data(as_text=True)
    assert 'data-panel="evaluator-home"' in home and URL in home and EXTRACT in home
    assert 'data-panel="evaluator-home"' not in login("manager").get("/admin/").get_data(as_text=True)


def test_no_other_role_without_every_run_opens_the_evaluators_extract_by_url(app, login, users):
    from admin_app.models.exports import ExportRun

    client = login("evaluator")
    client.post(EXTRACT, data={"kind": "fy", "csrf_token": csrf_token(client, EXTRACT)})
    with app.app_context():
        run = ExportRun.objects(started_by_user=users["evaluator"].pk).get()
    assert run.file_id and client.get(f"/admin/exportrun/download/{run.pk}").status_code == 200
    for role in ("worker", "admin_staff", "grant_panel", "commissioner"):
        other = login(role)
        assert other.get(f"/admin/exportrun/download/{run.pk}").status_code in (403, 404), role
        assert other.get(f"/admin/exportrun/details/?id={run.pk}").status_code in (302, 403, 404), role
        assert run.filename not in other.get("/admin/exportrun/").get_data(as_text=True), role


def test_the_charts_say_their_figures_in_words(login, demo):
    page = login("evaluator").get(URL).get_data(as_text=True)
    descriptions = re.findall(r'<desc id="chart-[^"]+-desc">(.*?)</desc>', page, re.S)
    assert len(descriptions) == 2
    over_time, journeys = descriptions
    assert re.search(r"\d{4}-\d{2}: (\d+|fewer than \d+) referrals, (\d+|fewer than \d+) job starts", over_time)
    assert "referral to initial assessment: " in journeys
