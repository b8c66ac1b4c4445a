"""records.py reads real Client, Employer and StaffProfile documents (saved through mongoengine on mongomock)."""
from __future__ import annotations

import json
from datetime import date

import mongoengine
import pytest

from tests.database import connect
from admin_app.metrics.periods import financial_year
from admin_app.metrics.records import (
    ContactRecord,
    EmployerContactRecord,
    OutcomeRecord,
    PlanGoalRecord,
    StatusChangeRecord,
    read_cases,
    read_general_employer_contacts,
    read_staff,
)
from admin_app.metrics.report import load_report
from admin_app.models import Client, Employer, Role, StaffProfile, User
from admin_app.models.case_file import (
    Assessment,
    Contact,
    EmployerContact,
    Outcome,
    PlanGoal,
    Referral,
    StatusChange,
)
from admin_app.models.partners import GeneralEmployerContact


@pytest.fixture()
def db():
    db = connect("metrics_records")
    yield db
    db.client.drop_database(db.name)
    mongoengine.disconnect_all()


def _worker(email: str) -> User:
    role = Role.objects(name="worker").first() or Role(name="worker").save()
    user = User(email=email, name=email.split("@")[0], roles=[role]).save()
    StaffProfile(user=user, fte=0.8, start_date=date(2023, 1, 9)).save()
    return user


def _client(reference: str, worker: User, employer: Employer) -> Client:
    return Client(
        reference=reference, first_name="Sam", last_name="Jones", date_of_birth=date(2000, 1, 1), worker=worker,
        status="in_work",
        referral=Referral(date=date(2024, 4, 10), source="probation", cohort="convicted", decision="accepted"),
        assessment=Assessment(date=date(2024, 4, 20), agreed_to_take_part=True, employment_status="unemployed",
                              conviction_details="encrypted text the metrics never read"),
        plan_goals=[PlanGoal(goal="Find warehouse work", due_date=date(2024, 9, 1))],
        contacts=[Contact(date=date(2024, 5, 1), minutes=45, mode="face_to_face", place="community",
                          out_of_hours=True, staff=worker, note="private note")],
        employer_contacts=[EmployerContact(date=date(2024, 5, 3), employer=employer, face_to_face=True, staff=worker)],
        outcomes=[Outcome(kind="paid_employment", start_date=date(2024, 6, 1), employer=employer,
                          job_type="Warehouse", competitive=True)],
        status_history=[StatusChange(date=date(2024, 4, 10), status="referred"),
                        StatusChange(date=date(2024, 6, 1), status="in_work")],
    ).save()


def test_saved_case_files_are_read_back_into_the_right_records(db):
    employer = Employer(name="Acme").save()
    worker = _worker("ann@e4e.test")
    saved = _client("E4E-1", worker, employer)
    [record] = list(read_cases(db, {}))
    w, e = str(worker.id), str(employer.id)
    assert record.id == str(saved.id) and record.worker_id == w
    assert (record.referral_date, record.referral_decision, record.cohort, record.source) == (
        date(2024, 4, 10), "accepted", "convicted", "probation")
    assert (record.assessment_date, record.agreed_to_take_part, record.employment_status) == (
        date(2024, 4, 20), True, "unemployed")
    assert record.status == "in_work"
    assert record.status_history == (StatusChangeRecord(date(2024, 4, 10), "referred"),
                                     StatusChangeRecord(date(2024, 6, 1), "in_work"))
    assert record.plan_goals == (PlanGoalRecord("open", date(2024, 9, 1)),)
    assert record.contacts == (ContactRecord(date(2024, 5, 1), 45, "face_to_face", "community", True),)
    assert record.employer_contacts == (EmployerContactRecord(date(2024, 5, 3), True, e),)
    assert record.outcomes == (OutcomeRecord("paid_employment", date(2024, 6, 1), None, e, "Warehouse", True),)


def test_reading_respects_the_row_level_scope(db):
    employer = Employer(name="Acme").save()
    ann, bob = _worker("ann@e4e.test"), _worker("bob@e4e.test")
    _client("E4E-1", ann, employer)
    _client("E4E-2", bob, employer)
    _client("E4E-3", bob, employer)
    assert [c.worker_id for c in read_cases(db, {"worker": ann.id})] == [str(ann.id)]
    assert len(list(read_cases(db, {"worker": bob.id}))) == 2
    assert len(list(read_cases(db, {}))) == 3


def test_staff_and_general_employer_contacts_are_read_and_scoped(db):
    ann, bob = _worker("ann@e4e.test"), _worker("bob@e4e.test")
    Employer(name="Acme", employer_contacts=[
        GeneralEmployerContact(date=date(2024, 5, 1), staff=ann, face_to_face=True),
        GeneralEmployerContact(date=date(2024, 5, 2), staff=bob, face_to_face=False),
        GeneralEmployerContact(date=date(2023, 5, 2), staff=ann)]).save()
    staff = {s.email: s for s in read_staff(db)}
    assert staff["ann@e4e.test"].fte == 0.8 and staff["ann@e4e.test"].start_date == date(2023, 1, 9)
    assert staff["ann@e4e.test"].is_worker
    assert len(list(read_general_employer_contacts(db))) == 3
    scoped = list(read_general_employer_contacts(db, staff=ann.id, start=date(2024, 4, 1), end=date(2025, 3, 31)))
    assert [(c.date, c.staff_id) for c in scoped] == [(date(2024, 5, 1), str(ann.id))]


def test_load_report_for_one_worker_shows_only_their_figures_and_is_json(db):
    employer = Employer(name="Acme").save()
    ann, bob = _worker("ann@e4e.test"), _worker("bob@e4e.test")
    _client("E4E-1", ann, employer)
    _client("E4E-2", bob, employer)
    report = load_report(db, {"worker": ann.id}, financial_year(2024))
    assert set(report["workers"]) == {"ann@e4e.test"}
    assert report["service"]["referrals"] == 1 and report["service"]["job_starts"] == 1
    assert report["service"]["out_of_hours_contacts"]["contacts"] == 1
    json.dumps(report)
    everyone = load_report(db, {}, financial_year(2024))
    assert set(everyone["workers"]) == {"ann@e4e.test", "bob@e4e.test"}
    assert everyone["service"]["referrals"] == 2


def test_load_report_scores_with_the_anchors_stored_in_mongodb(db):
    from admin_app.metrics.fidelity import DEFAULT_ANCHORS, score
    from admin_app.metrics.records import FIDELITY_ANCHORS, read_anchor_overrides

    employer = Employer(name="Acme").save()
    _client("E4E-1", _worker("ann@e4e.test"), employer)
    assert read_anchor_overrides(db) == {}
    before = load_report(db, {}, financial_year(2024))["service"]["fidelity"]["rapid_job_search"]
    # Assessed 20 April, first face-to-face employer contact 3 May: 13 days, a 5 against the default 30 days.
    assert before["value"] == 13 and before["score"] == score(13, DEFAULT_ANCHORS["rapid_job_search"]) == 5
    db[FIDELITY_ANCHORS].insert_one({"item": "rapid_job_search", "better": "lower", "limit_5": 10.0,
                                     "limit_4": 12.0, "limit_3": 14.0, "limit_2": 16.5})
    assert read_anchor_overrides(db)["rapid_job_search"]["thresholds"] == [10, 12, 14, 16.5]
    report = load_report(db, {}, financial_year(2024))
    after = report["service"]["fidelity"]["rapid_job_search"]
    # 13 days is over the stored limits for 5 (10) and 4 (12), within the one for 3 (14).
    assert (after["value"], after["score"]) == (13, 3)
    assert report["anchors"]["rapid_job_search"]["unit"] == DEFAULT_ANCHORS["rapid_job_search"]["unit"]
    given = load_report(db, {}, financial_year(2024), anchors={})
    assert given["service"]["fidelity"]["rapid_job_search"]["score"] == 5
