"""Retention: closed case files are anonymised six years after closing unless under legal hold; old audit
entries go after seven years; a dry run changes nothing; the report and the hold are on screens."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from admin_app.metrics.periods import london_today
from admin_app.models import AuditEvent, Client
from admin_app.models.case_file import Referral, StatusChange
from admin_app.privacy.retention import closed_on, plan, sweep, years_after
from tests.conftest import csrf_token

TODAY = london_today()


def closed(reference, closed_day, first="Ottoline", **extra):
    referred = closed_day - timedelta(days=400)
    return Client(reference=reference, first_name=first, last_name="Retentiontest", date_of_birth=date(1995, 5, 5),
                  phone="07700 900321", status="closed",
                  referral=Referral(date=referred, source="self", cohort="at_risk", decision="accepted",
                                    decision_date=referred),
                  status_history=[StatusChange(date=referred, status="referred", by="a@test.e4e"),
                                  StatusChange(date=closed_day, status="closed", by="a@test.e4e", reason="moved away")],
                  **extra).save()


@pytest.fixture
def files(app):
    six_years = years_after(TODAY, -6)
    return {
        "due": closed("E4E-R0001", six_years - timedelta(days=1), first="Duefirst"),
        "due_today": closed("E4E-R0002", six_years, first="Todayfirst"),
        "held": closed("E4E-R0003", six_years - timedelta(days=30), first="Heldfirst",
                       legal_hold="Claim against the service, ref 2026/77"),
        "recent": closed("E4E-R0004", six_years + timedelta(days=10), first="Recentfirst"),
        "open": Client(reference="E4E-R0005", first_name="Openfirst", last_name="Active", date_of_birth=date(1999, 1, 1),
                       status="active", referral=Referral(date=date(2015, 1, 1), source="self", cohort="at_risk",
                                                          decision="accepted")).save(),
    }


def old_audit_entries():
    old = datetime.utcnow() - timedelta(days=365 * 7 + 5)
    for index in range(3):
        AuditEvent(at=old, actor="manager@test.e4e", action="view", summary=f"old view {index}").save()
    AuditEvent(at=datetime.utcnow() - timedelta(days=365 * 6), actor="manager@test.e4e", action="view",
               summary="six-year-old view").save()


@pytest.mark.parametrize("history, decision_date, expected", [
    ([{"status": "closed", "date": datetime(2020, 3, 1)}], None, date(2020, 3, 1)),
    ([{"status": "closed", "date": datetime(2019, 1, 1)}, {"status": "active", "date": datetime(2019, 6, 1)},
      {"status": "closed", "date": datetime(2020, 2, 1)}], None, date(2020, 2, 1)),
    ([], datetime(2018, 5, 5), date(2018, 5, 5)),
    ([], None, None),
])
def test_closed_on(history, decision_date, expected):
    assert closed_on(history, decision_date) == expected


def test_years_after_keeps_the_day_and_handles_29_february():
    assert years_after(date(2020, 2, 29), 6) == date(2026, 2, 28)
    assert years_after(date(2020, 3, 1), -7) == date(2013, 3, 1)


def test_the_dry_run_lists_what_is_due_and_changes_nothing(app, files):
    old_audit_entries()
    result = app.test_cli_runner().invoke(args=["retention", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "due: E4E-R0001" in result.output and "due: E4E-R0002" in result.output
    assert "held: E4E-R0003" in result.output and "Claim against the service" in result.output
    assert "E4E-R0004" not in result.output and "E4E-R0005" not in result.output
    assert "3 audit entries older than 7 years" in result.output and "dry run: nothing changed" in result.output
    assert Client.objects(anonymised_on__ne=None).count() == 0
    assert AuditEvent.objects(summary__startswith="old view").count() == 3


def test_the_sweep_anonymises_due_files_but_not_held_recent_or_open_ones_and_deletes_old_audit(app, files):
    old_audit_entries()
    result = app.test_cli_runner().invoke(args=["retention"])
    assert result.exit_code == 0, result.output
    assert "anonymised 2 case files; deleted 3 audit entries" in result.output
    states = {ref: Client.objects(reference=ref).first() for ref in ("E4E-R0001", "E4E-R0002", "E4E-R0003",
                                                                      "E4E-R0004", "E4E-R0005")}
    assert states["E4E-R0001"].anonymised_on == TODAY and states["E4E-R0001"].first_name == "[anonymised]"
    assert states["E4E-R0002"].anonymised_on == TODAY
    assert states["E4E-R0003"].anonymised_on is None and states["E4E-R0003"].first_name == "Heldfirst"
    assert states["E4E-R0004"].anonymised_on is None and states["E4E-R0005"].anonymised_on is None
    assert AuditEvent.objects(summary__startswith="old view").count() == 0
    assert AuditEvent.objects(summary="six-year-old view").count() == 1
    sweep_event = AuditEvent.objects(action="retention").first()
    assert "2 case files anonymised, 1 under legal hold" in sweep_event.summary
    assert AuditEvent.objects(action="anonymise", actor="retention").count() == 2
    # A second sweep finds nothing more to do.
    again = sweep(TODAY, 6, 7)
    assert again.anonymised == [] and again.audit_deleted == 0


def test_lifting_the_hold_lets_the_next_sweep_anonymise(app, files):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["legal-hold", "E4E-R0003", "--lift"]).exit_code == 0
    assert "E4E-R0003" in [d.reference for d in plan(TODAY, 6, 7).due]
    sweep(TODAY, 6, 7)
    assert Client.objects(reference="E4E-R0003").first().anonymised_on == TODAY
    result = runner.invoke(args=["legal-hold", "E4E-R0004"])
    assert result.exit_code != 0 and "--reason" in result.output


def test_the_nightly_task_runs_the_sweep(app, files):
    from jobs.tasks import retention_sweep

    with app.app_context():
        assert retention_sweep.delay().get() == 2


def test_a_manager_places_and_lifts_a_legal_hold_on_the_case_file_page(app, users, login, files):
    manager = login("manager")
    case = files["recent"]
    url = f"/admin/casefile/{case.pk}/legal-hold"
    assert url in manager.get(f"/admin/casefile/{case.pk}/").get_data(as_text=True)
    response = manager.post(url, data={"reason": "", "csrf_token": csrf_token(manager, url)})
    assert response.status_code == 200 and "Give the reason for the hold" in response.get_data(as_text=True)
    response = manager.post(url, data={"reason": "Subject access dispute", "csrf_token": csrf_token(manager, url)})
    assert response.status_code == 302
    assert Client.objects(pk=case.pk).first().legal_hold == "Subject access dispute"
    assert "Legal hold: Subject access dispute" in manager.get(f"/admin/casefile/{case.pk}/").get_data(as_text=True)
    event = AuditEvent.objects(record_id=str(case.pk), action="update").first()
    assert "legal hold placed" in event.summary and event.actor == users["manager"].email
    response = manager.post(url, data={"csrf_token": csrf_token(manager, url)})
    assert response.status_code == 302 and Client.objects(pk=case.pk).first().legal_hold is None


@pytest.mark.parametrize("role", ["worker", "admin_staff"])
def test_roles_without_the_permission_cannot_hold_or_see_the_report(app, users, login, files, role):
    browser = login(role)
    case = files["recent"]
    url = f"/admin/casefile/{case.pk}/legal-hold"
    assert browser.get(url).status_code == 403
    response = browser.post(url, data={"reason": "x", "csrf_token": csrf_token(browser, "/admin/")})
    assert response.status_code == 403 and Client.objects(pk=case.pk).first().legal_hold is None
    assert browser.get("/admin/retention/").status_code == 403


def test_the_retention_report_shows_due_held_and_the_last_sweep(app, users, login, files):
    sweep(TODAY, 6, 7)
    closed("E4E-R0009", years_after(TODAY, -6) - timedelta(days=2), first="Laterfirst")
    closed("E4E-R0010", TODAY - timedelta(days=30), legal_hold="Police investigation, op 41")
    assert [h.reference for h in plan(TODAY, 6, 7).holds] == ["E4E-R0003", "E4E-R0010"]
    page = login("manager").get("/admin/retention/").get_data(as_text=True)
    assert "Police investigation, op 41" in page
    assert "E4E-R0009" in page and "E4E-R0003" in page and "Claim against the service" in page
    assert "2 case files anonymised" in page
    assert "Laterfirst" not in page and "Heldfirst" not in page
