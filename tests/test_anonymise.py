"""Anonymisation instead of deletion: the person's names and contact details are nowhere in the database
afterwards, coded data stays, and every KPI gives the same figures."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from mongoengine import get_db

from admin_app import crypto, rules
from admin_app.db import database
from admin_app.metrics.periods import Period
from admin_app.metrics.report import load_report
from admin_app.models import AuditEvent, Client
from admin_app.models.case_file import (
    Assessment, Contact, Disclosure, EmployerContact, Outcome, PlanGoal, ProgressUpdate, Referral, RiskNote,
    SafeguardingConcern, StatusChange, VocationalProfile,
)
from admin_app.models.exports import Notice
from admin_app.models.saved_filters import SavedFilter
from tests.conftest import csrf_token

TODAY = date.today()
FIRST, LAST, PHONE, POSTCODE = "Zephaniah", "Quillfeather", "0113 496 0456", "B19 3XY"
IDENTIFIERS = (FIRST, LAST, PHONE, POSTCODE)


def closed_case(worker, reference="E4E-Z0001", **extra):
    start = TODAY - timedelta(days=300)
    values = dict(
        reference=reference, first_name=FIRST, last_name=LAST, phone=PHONE, postcode=POSTCODE, worker=worker,
        date_of_birth=date(2001, 11, 23), status="closed",
        referral=Referral(date=start, source="probation", cohort="convicted", decision="accepted", decision_date=start,
                          decided_by="manager@test.e4e"),
        assessment=Assessment(date=start + timedelta(days=5), readiness="high", goal="employment",
                              employment_status="unemployed", agreed_to_take_part=True,
                              conviction_details=f"{FIRST} convicted of robbery"),
        vocational_profile=VocationalProfile(work_history=f"{FIRST} worked at a car wash", barriers="Anxiety"),
        plan_goals=[PlanGoal(goal=f"Get {FIRST} a CSCS card", steps="Book the test", status="achieved")],
        contacts=[Contact(date=start + timedelta(days=d), minutes=45, mode="face_to_face", place="community",
                          staff=worker, note=f"Met {FIRST} at {POSTCODE}") for d in (5, 20, 40)],
        employer_contacts=[EmployerContact(date=start + timedelta(days=15), face_to_face=True, staff=worker,
                                           with_client=True, note=f"Introduced {LAST}")],
        outcomes=[Outcome(kind="paid_employment", start_date=start + timedelta(days=60), job_type="Warehouse operative",
                          hours_per_week=30, competitive=True, end_date=start + timedelta(days=200),
                          reason_for_leaving=f"{FIRST} moved away")],
        risk_notes=[RiskNote(date=start + timedelta(days=30), level="high", text=f"Call {PHONE} first")],
        safeguarding_concerns=[SafeguardingConcern(date=start + timedelta(days=31), concern="Brother groomed",
                                                   referred_to="MASH", action=f"Told {LAST}'s mother")],
        disclosures=[Disclosure(date=start + timedelta(days=32), basis="threat_to_life", authorised_by="Head",
                                what_shared=f"{FIRST} {LAST} named a target", written_report_date=start + timedelta(days=33))],
        progress_updates=[ProgressUpdate(date=start + timedelta(days=90), progress=f"{FIRST} started work", author=worker)],
        status_history=[StatusChange(date=start, status="referred", by="admin_staff@test.e4e"),
                        StatusChange(date=start + timedelta(days=5), status="active", by="worker@test.e4e"),
                        StatusChange(date=start + timedelta(days=60), status="in_work", by="worker@test.e4e"),
                        StatusChange(date=start + timedelta(days=250), status="closed", by="worker@test.e4e",
                                     reason=f"{FIRST} moved to Leeds")],
    )
    values.update(extra)
    return Client(**values).save()


def texts(value):
    """Every string in a stored document, with encrypted values decrypted."""
    if isinstance(value, dict):
        for inner in value.values():
            yield from texts(inner)
    elif isinstance(value, (list, tuple)):
        for inner in value:
            yield from texts(inner)
    elif isinstance(value, str):
        yield crypto.decrypt(value) if crypto.is_token(value) else value


def mentions() -> list[tuple[str, str]]:
    """(collection, text) of every stored string, in every collection, that holds one of the identifiers."""
    db = get_db()
    found = []
    for name in db.list_collection_names():
        for doc in db[name].find():
            for text in texts(doc):
                if any(i.lower() in text.lower() for i in IDENTIFIERS):
                    found.append((name, text))
    return found


def kpis():
    year_start = date(TODAY.year - (1 if TODAY.month < 4 else 0), 4, 1)
    report = load_report(database(), {}, Period(year_start - timedelta(days=365), TODAY), as_of=TODAY)
    return report


@pytest.fixture
def demo(app):
    from admin_app.cli import seed_demo_data

    with app.app_context():
        seed_demo_data()


def test_anonymise_command_removes_the_person_everywhere_and_keeps_every_figure(app, users, login, demo):
    case = closed_case(users["worker"])
    # What the log and other records held before names were kept out of them, as an old deployment has it.
    AuditEvent(action="view", collection="clients", record_id=str(case.pk), summary=f"E4E-Z0001 {FIRST} {LAST}",
               changes=[{"field": "phone", "old": None, "new": PHONE}]).save()
    AuditEvent(action="reassign", collection="clients", summary=f"moved {FIRST} {LAST} to another worker").save()
    Notice(role="admin", text=f"Check the file of {FIRST} {LAST}").save()
    SavedFilter(name="Find him", owner=users["manager"], screen="client", search=LAST).save()
    from admin_app.models.access import BreakGlassAccess
    BreakGlassAccess(user=users["worker2"].pk, email=users["worker2"].email, client=case.pk, reference="E4E-Z0001",
                     reason=f"{FIRST} rang the duty phone", expires_at=datetime.utcnow()).save()
    login("manager").get(f"/admin/casefile/{case.pk}/")
    assert mentions(), "the test data should mention the person before anonymisation"
    before = kpis()

    result = app.test_cli_runner().invoke(args=["anonymise", "E4E-Z0001", "--reason", "erasure request of 01/11"])
    assert result.exit_code == 0, result.output
    assert "anonymised E4E-Z0001" in result.output

    assert mentions() == []
    assert kpis() == before
    anonymised = Client.objects(reference="E4E-Z0001").first()
    assert anonymised.anonymised_on == TODAY
    # Coded data stays: dates, codes, numbers, who did what, job types; the age at referral is unchanged.
    assert anonymised.referral.cohort == "convicted" and len(anonymised.contacts) == 3
    assert anonymised.contacts[0].minutes == 45 and anonymised.contacts[0].note is None
    assert anonymised.outcomes[0].job_type == "Warehouse operative" and anonymised.outcomes[0].reason_for_leaving is None
    assert anonymised.date_of_birth != date(2001, 11, 23)
    from admin_app.rules import age_on
    assert age_on(anonymised.date_of_birth, anonymised.referral.date) == age_on(date(2001, 11, 23), anonymised.referral.date)
    assert anonymised.risk_notes[0].text == "[anonymised]" and anonymised.assessment.conviction_details is None
    assert anonymised.status_history[-1].by == "worker@test.e4e" and anonymised.status_history[-1].reason is None
    event = AuditEvent.objects(action="anonymise", record_id=str(case.pk)).first()
    assert event.summary == "E4E-Z0001: anonymised (erasure request of 01/11)" and event.actor == "cli:anonymise"
    # The anonymised case file still opens, and saves untouched.
    assert login("manager").get(f"/admin/casefile/{case.pk}/").status_code == 200


@pytest.mark.parametrize("change, message", [
    ({"status": "active"}, "is not closed"),
    ({"legal_hold": "Court order 2026/114"}, "legal hold"),
])
def test_anonymise_refuses_an_open_case_or_one_under_legal_hold_and_changes_nothing(app, users, change, message):
    case = closed_case(users["worker"], **change)
    result = app.test_cli_runner().invoke(args=["anonymise", "E4E-Z0001", "--reason", "retention"])
    assert result.exit_code != 0 and message in result.output and "Traceback" not in result.output
    assert Client.objects(pk=case.pk).first().first_name == FIRST


def test_anonymise_refuses_an_unknown_reference_and_a_second_run(app, users):
    closed_case(users["worker"])
    runner = app.test_cli_runner()
    assert "no case file E4E-NOPE" in runner.invoke(args=["anonymise", "E4E-NOPE", "--reason", "x"]).output
    assert runner.invoke(args=["anonymise", "E4E-Z0001", "--reason", "x"]).exit_code == 0
    again = runner.invoke(args=["anonymise", "E4E-Z0001", "--reason", "x"])
    assert again.exit_code != 0 and "already anonymised" in again.output


def test_an_anonymised_rejected_referral_can_still_be_saved(app, users):
    case = closed_case(users["worker"], referral=Referral(date=TODAY - timedelta(days=30), source="probation",
                                                          cohort="convicted", decision="rejected", rejection_reason="ineligible",
                                                          rationale=f"{FIRST} lives outside the area",
                                                          decision_date=TODAY - timedelta(days=29)))
    assert app.test_cli_runner().invoke(args=["anonymise", "E4E-Z0001", "--reason", "x"]).exit_code == 0
    referral = Client.objects.get(pk=case.pk).referral
    assert FIRST not in referral.rationale
    assert rules.referral_errors(referral) == []  # the rule that a rejection has a rationale still holds


def test_a_manager_anonymises_from_the_case_file_page_with_a_reason_and_the_reference(app, users, login):
    case = closed_case(users["worker"])
    manager = login("manager")
    page = manager.get(f"/admin/casefile/{case.pk}/").get_data(as_text=True)
    url = f"/admin/casefile/{case.pk}/anonymise"
    assert url in page
    token = csrf_token(manager, url)
    response = manager.post(url, data={"reason": "", "confirm": "E4E-Z0001", "csrf_token": token})
    assert response.status_code == 200 and "Give the reason" in response.get_data(as_text=True)
    response = manager.post(url, data={"reason": "Erasure request", "confirm": "E4E-Z9999", "csrf_token": token})
    assert "Type the case reference" in response.get_data(as_text=True)
    assert Client.objects(pk=case.pk).first().first_name == FIRST
    response = manager.post(url, data={"reason": "Erasure request", "confirm": "E4E-Z0001", "csrf_token": token})
    assert response.status_code == 302
    assert Client.objects(pk=case.pk).first().first_name == "[anonymised]"
    assert AuditEvent.objects(action="anonymise", actor=users["manager"].email).count() == 1


@pytest.mark.parametrize("role", ["worker", "admin_staff"])
def test_roles_without_the_permission_cannot_anonymise(app, users, login, role):
    case = closed_case(users["worker"])
    browser = login(role)
    assert f"/admin/casefile/{case.pk}/anonymise" not in browser.get(f"/admin/casefile/{case.pk}/").get_data(as_text=True)
    assert browser.get(f"/admin/casefile/{case.pk}/anonymise").status_code == 403
    token = csrf_token(browser, "/admin/client/")
    response = browser.post(f"/admin/casefile/{case.pk}/anonymise",
                            data={"reason": "x", "confirm": "E4E-Z0001", "csrf_token": token})
    assert response.status_code == 403
    assert Client.objects(pk=case.pk).first().first_name == FIRST
