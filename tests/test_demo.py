"""The demo generator: deterministic, realistic, and within every save rule and caseload cap."""
from __future__ import annotations

import copy
import io
from datetime import date, timedelta

import mongoengine
import pytest

from tests.database import connect
from admin_app import crypto, rules
from admin_app.casefile_io import export_cases
from admin_app.demo import DemoDataError, generate_demo
from admin_app.models.case_file import Client
from admin_app.models.partners import Employer, Organisation
from admin_app.models.people import Role, StaffProfile, User
from admin_app.models.staff_time import StaffTime
from admin_app.vocabulary import PAID_OUTCOME_KINDS, REFERRAL_SOURCES

TODAY = date(2026, 3, 15)
SEEDED = (Organisation, Employer, StaffProfile, Client, StaffTime)


COLLECTIONS = ("roles", "users", "organisations", "employers", "staff_profiles", "clients", "staff_time")


def _connect():
    return connect("demo")


def _make_staff() -> tuple[list[User], list[User]]:
    worker, manager = Role(name="worker").save(), Role(name="manager").save()
    workers = [User(email=f"worker{i}@test.e4e", name=name, roles=[worker]).save()
               for i, name in enumerate(("Amara Okafor", "Jordan Hayes", "Priya Sandhu", "Marcus Bell"), start=1)]
    managers = [User(email="manager@test.e4e", name="Grace Mensah", roles=[manager]).save()]
    return workers, managers


@pytest.fixture(scope="module")
def demo_dump() -> tuple[dict, dict]:
    """Seed the default demo once per module and keep the raw documents; each test restores them."""
    db = _connect()
    workers, managers = _make_staff()
    counts = generate_demo(workers, managers, TODAY)
    dump = {name: list(db[name].find()) for name in COLLECTIONS}
    mongoengine.disconnect_all()
    return counts, dump


@pytest.fixture()
def db():
    yield _connect()
    mongoengine.disconnect_all()


@pytest.fixture()
def staff(db):
    return _make_staff()


@pytest.fixture()
def seeded(db, demo_dump):
    counts, dump = demo_dump
    for name, documents in dump.items():
        db[name].insert_many(copy.deepcopy(documents))
    workers = list(User.objects(email__startswith="worker").order_by("email"))
    return counts, workers, list(Client.objects)


def _snapshot(db) -> dict:
    """Everything the generator wrote, references by natural key and encrypted text decrypted."""
    buffer = io.StringIO()
    export_cases(buffer, Client.objects.order_by("reference"))
    return {
        "clients": buffer.getvalue(),
        "organisations": [{k: v for k, v in o.items() if k != "_id"} for o in db.organisations.find().sort("name")],
        "employers": [{k: v for k, v in e.items() if k != "_id"} for e in db.employers.find().sort("name")],
        "staff_profiles": [{k: v for k, v in p.items() if k != "_id"} for p in db.staff_profiles.find().sort("user")],
        "staff_time": [{k: v for k, v in t.items() if k != "_id"} for t in db.staff_time.find().sort([("staff", 1), ("date", 1), ("kind", 1)])],
    }


def _paid(client: Client) -> list:
    return [o for o in client.outcomes if o.kind in PAID_OUTCOME_KINDS]


def test_same_seed_gives_the_same_demo_data(db, staff):
    workers, managers = staff
    generate_demo(workers, managers, TODAY, seed=7, clients=60)
    first = _snapshot(db)
    for model in SEEDED:
        model.drop_collection()
    generate_demo(workers, managers, TODAY, seed=7, clients=60)
    assert _snapshot(db) == first
    for model in SEEDED:
        model.drop_collection()
    generate_demo(workers, managers, TODAY, seed=8, clients=60)
    assert _snapshot(db)["clients"] != first["clients"]


def test_counts_are_returned_per_collection(seeded):
    counts, _, clients = seeded
    assert counts == {"organisations": len(Organisation.objects), "employers": len(Employer.objects),
                      "staff_profiles": 4, "clients": 100, "staff_time": StaffTime.objects.count()}
    assert 10 <= counts["organisations"] <= 14 and 25 <= counts["employers"] <= 35
    assert [c.reference for c in clients] == [f"E4E-{n:05d}" for n in range(1, 101)]


def test_every_demo_case_file_passes_the_save_rules(seeded):
    _, _, clients = seeded
    for client in clients:
        client.validate()
        assert rules.case_file_errors(client, TODAY) == [], client.reference


def test_no_worker_holds_more_open_cases_than_their_cap(seeded):
    _, workers, clients = seeded
    for worker in workers:
        cap = StaffProfile.objects.get(user=worker).effective_cap
        open_cases = [c for c in clients if c.worker == worker and rules.counts_against_caseload(c.status, c.referral.decision)]
        assert 0 < len(open_cases) <= cap, worker.email


def test_a_single_worker_is_kept_within_their_cap(staff):
    workers, managers = staff
    generate_demo(workers[:1], managers, TODAY, clients=100)
    clients = list(Client.objects)
    open_cases = [c for c in clients if rules.counts_against_caseload(c.status, c.referral.decision)]
    assert len([c for c in open_cases if c.worker]) <= StaffProfile.objects.get(user=workers[0]).effective_cap
    assert any(c.referral.rejection_reason == "caseload_at_capacity" for c in clients)


def test_status_is_the_last_entry_of_a_history_that_starts_with_the_referral(seeded):
    _, _, clients = seeded
    for client in clients:
        history = client.status_history
        assert history[0].status == "referred" and history[0].date == client.referral.date
        assert client.status == history[-1].status
        assert [s.date for s in history] == sorted(s.date for s in history)
        assert all(a.status != b.status for a, b in zip(history, history[1:])), client.reference


def test_referrals_come_from_every_source_over_eighteen_months(seeded):
    _, _, clients = seeded
    assert {c.referral.source for c in clients} == {value for value, _ in REFERRAL_SOURCES}
    dates = [c.referral.date for c in clients]
    assert min(dates) >= TODAY - timedelta(days=548) and (max(dates) - min(dates)).days > 450
    assert all(c.referral.organisation is None for c in clients if c.referral.source == "self")


def test_there_are_rejected_and_withdrawn_referrals_with_their_reasons(seeded):
    _, _, clients = seeded
    rejected = [c for c in clients if c.referral.decision == "rejected"]
    withdrawn = [c for c in clients if c.referral.decision == "withdrawn"]
    assert rejected and withdrawn
    assert all(c.referral.rejection_reason and c.referral.rationale and c.status == "closed" for c in rejected)
    assert all(not c.assessment.date for c in rejected + withdrawn)


def test_accepted_case_files_have_consent_assessment_and_an_open_plan_when_open(seeded):
    _, _, clients = seeded
    assessed = [c for c in clients if c.assessment.date]
    assert len(assessed) > 60
    assert all(c.consent.recorded and c.consent.date and c.referral.decision == "accepted" for c in assessed)
    employed = [c for c in assessed if c.assessment.employment_status == "employed_needing_support"]
    assert len(employed) <= 0.15 * len(assessed)
    assert any(c.assessment.previous_support_from for c in assessed)
    for client in assessed:
        if client.status != "closed":
            assert any(g.status == "open" for g in client.plan_goals), client.reference


def test_contacts_are_mostly_face_to_face_in_the_community_by_the_clients_worker(seeded):
    _, _, clients = seeded
    contacts = [(c, contact) for c in clients for contact in c.contacts]
    assert all(contact.staff == client.worker for client, contact in contacts)
    assert all(15 <= contact.minutes <= 120 for _, contact in contacts)
    face_to_face = [contact for _, contact in contacts if contact.mode == "face_to_face"]
    assert len(face_to_face) > len(contacts) / 2
    community = sum(c.minutes for c in face_to_face if c.place == "community")
    assert community > 0.65 * sum(c.minutes for c in face_to_face)
    assert any(contact.out_of_hours for _, contact in contacts)
    assert {contact.mode for _, contact in contacts} >= {"face_to_face", "phone", "admin"}


def test_first_face_to_face_employer_contact_is_often_within_thirty_days(seeded):
    _, _, clients = seeded
    days = []
    for client in clients:
        first = [e.date for e in client.employer_contacts if e.face_to_face]
        if client.assessment.date and first:
            days.append((min(first) - client.assessment.date).days)
    assert sum(d <= 30 for d in days) > len(days) / 2 and any(d > 30 for d in days)


def test_workers_make_general_employer_contacts_several_times_a_week(seeded):
    _, workers, _ = seeded
    for worker in workers:
        profile = StaffProfile.objects.get(user=worker)
        since = max(profile.start_date, TODAY - timedelta(days=548))
        visits = [c for e in Employer.objects for c in e.employer_contacts if c.staff == worker and c.face_to_face]
        assert len(visits) / ((TODAY - since).days / 7) >= 2 * profile.fte, worker.email


def test_every_case_has_an_assignment_history_and_some_came_over_from_another_worker(seeded):
    _, _, clients = seeded
    assert all(c.assignments and c.assignments[-1].worker == c.worker for c in clients)
    assert all(c.assignments[0].start == c.referral.date for c in clients)
    moved = [c for c in clients if len({a.worker for a in c.assignments}) > 1]
    assert moved and all(c.status != "closed" for c in moved)


def test_workers_log_staff_time_that_belongs_to_no_client(seeded):
    _, workers, _ = seeded
    logged = list(StaffTime.objects)
    assert {t.staff for t in logged} == set(workers)
    assert {t.kind for t in logged} >= {"partner_meeting", "travel", "training", "job_development"}
    assert all(t.date < TODAY for t in logged)


def test_contacts_carry_start_times_and_out_of_hours_follows_them(seeded):
    _, _, clients = seeded
    timed = [contact for c in clients for contact in c.contacts if contact.start_time]
    assert timed
    assert all(contact.out_of_hours for contact in timed if contact.date.weekday() >= 5 or contact.start_time == "17:30")
    assert any(not contact.out_of_hours for contact in timed if contact.start_time == "10:00")


def test_a_part_time_worker_has_an_fte_history(seeded):
    part_time = [p for p in StaffProfile.objects if p.fte < 1]
    assert any(len(p.fte_history) == 2 and p.fte_history[-1].fte == p.fte for p in part_time)


def test_staff_profiles_include_part_time_mid_year_and_lived_experience(seeded):
    profiles = list(StaffProfile.objects)
    assert any(p.fte < 1 for p in profiles)
    assert any(TODAY - timedelta(days=365) < p.start_date < TODAY - timedelta(days=60) for p in profiles)
    assert any(p.lived_experience for p in profiles)
    assert any(len(p.languages) > 1 for p in profiles)


def test_there_are_sustained_and_unsustained_jobs_and_people_with_two_jobs(seeded):
    _, _, clients = seeded
    jobs = [job for c in clients for job in _paid(c)]
    sustained = [j for j in jobs if j.start_date <= TODAY - timedelta(days=91)
                 and (j.end_date is None or (j.end_date - j.start_date).days >= 91)]
    beyond_26_weeks = [j for j in sustained if (((j.end_date or TODAY) - j.start_date).days >= 182)]
    ended_early = [j for j in jobs if j.end_date and (j.end_date - j.start_date).days < 91]
    assert sustained and beyond_26_weeks and ended_early
    assert all(j.reason_for_leaving for j in ended_early)
    assert any(len(_paid(c)) >= 2 for c in clients)
    assert any(j.kind == "self_employment" for j in jobs)
    assert any(not j.competitive for j in jobs) and sum(j.competitive for j in jobs) > 0.85 * len(jobs)
    assert len({j.employer.name for j in jobs if j.employer}) > 10
    assert {o.kind for c in clients for o in c.outcomes} >= {"education", "training", "volunteering"}


def test_closed_and_re_opened_cases_keep_their_history(seeded):
    _, _, clients = seeded
    reopened = [c for c in clients
                if any(a.status == "closed" and b.status == "active" for a, b in zip(c.status_history, c.status_history[1:]))]
    assert reopened
    assert any(c.status == "closed" and c.assessment.date for c in clients)


def test_there_are_grant_bids_risk_records_and_disclosures_awaiting_their_report(seeded):
    _, _, clients = seeded
    bids = [b for c in clients for b in c.grant_bids]
    assert bids and any(b.amount_awarded for b in bids) and {b.status for b in bids} & {"draft", "submitted"}
    assessments = [a for c in clients for a in c.risk_assessments]
    assert any(a.level == "high" for a in assessments)
    open_clients = [c for c in clients if c.status != "closed"]
    assert any(c.risk_assessments and max(c.risk_assessments, key=lambda a: a.date).review_date < TODAY
               for c in open_clients), "some risk reviews should be overdue"
    assert any(c.risk_notes for c in clients) and any(c.safeguarding_concerns for c in clients)
    disclosures = [d for c in clients for d in c.disclosures]
    assert disclosures and all(d.basis and d.authorised_by for d in disclosures)
    assert rules.disclosures_awaiting_report(disclosures)
    assert any(c.onward_referrals for c in clients) and any(c.benefits_sessions for c in clients)


def test_risk_notes_are_ciphertext_in_the_database(seeded, db):
    raw = db.clients.find_one({"risk_notes.0": {"$exists": True}})
    stored = raw["risk_notes"][0]["text"]
    assert crypto.is_token(stored) and "demo" not in stored
    client = Client.objects.get(pk=raw["_id"])
    assert client.risk_notes[0].text.startswith("[demo] ")


def test_demo_case_files_go_only_into_an_empty_database(seeded):
    _, workers, _ = seeded
    with pytest.raises(DemoDataError):
        generate_demo(workers, [], TODAY)


def test_demo_bids_go_through_the_grant_workflow_and_the_pots_add_up(seeded, db):
    from admin_app.demo import replay_grant_bids

    db.grant_pots.drop()
    replay_grant_bids(db, TODAY, worker_by="worker1@test.e4e", panel_by="panel@test.e4e",
                      manager_by="manager@test.e4e", payments_by="admin_staff@test.e4e")
    bids = [(bid, client) for client in Client.objects for bid in client.grant_bids]
    assert any(bid.status == "paid" for bid, _ in bids) and any(bid.status == "approved" for bid, _ in bids)
    for bid, client in bids:
        if bid.status != "draft":
            actions = [t.action for t in bid.transitions]
            assert actions[0] == "submit" and bid.pot, (client.reference, actions)
    for pot in db.grant_pots.find():
        mine = [bid for bid, _ in bids if bid.pot == pot["name"]]
        awarded = sum(bid.amount_awarded_pence or 0 for bid in mine if bid.status in ("approved", "paid"))
        assert pot["committed_pence"] == awarded
        assert pot["paid_pence"] == sum(bid.paid_pence or 0 for bid in mine)
        assert pot["remaining_pence"] == pot["total_pence"] - awarded >= 0
    from admin_app.grants import pot_drift

    assert pot_drift(db) == []
    paid = [bid for bid, _ in bids if bid.status == "paid"]
    assert all(sum(p.amount_pence for p in bid.payments) == bid.amount_awarded_pence for bid in paid)
    assert any(len(bid.payments) == 2 for bid in paid), "no award paid in instalments"


# --- every role has something to do on first sign-in (the embedded demo, as `make run` seeds it) ---------

@pytest.fixture(scope="module")
def demo_service(tmp_path_factory):
    from admin_app.cli import seed_demo_data
    from tests.conftest import build_app

    app = build_app(tmp_path_factory.mktemp("service"))
    with app.app_context():
        counts = seed_demo_data(clients=30)
    yield app, counts
    mongoengine.disconnect_all()


def _home(app, email) -> str:
    from tests.conftest import sign_in

    client = app.test_client()
    assert sign_in(client, email, app.config["DEMO_PASSWORD"]).status_code == 302
    return client, client.get("/admin/").get_data(as_text=True)


def test_grant_panel_finds_bids_awaiting_it(demo_service):
    app, _ = demo_service
    client, home = _home(app, "grant_panel@demo.e4e")
    assert "2 grant bids wait for the panel" in home
    queue = client.get("/admin/grantbid/queue/").get_data(as_text=True)
    assert "Submitted" in queue and "Panel review" in queue


def test_evaluator_and_commissioner_find_reports_sent_to_them(demo_service):
    from admin_app.models.exports import ExportRun

    app, counts = demo_service
    assert counts["export_runs_sent"] >= 4 and counts["export_runs_failed"] == 1
    for email, report, expected in (("evaluator@demo.e4e", "evaluator_extract", 2),
                                    ("commissioner@demo.e4e", "opcc_return", 1)):
        with app.app_context():
            sent = ExportRun.objects(recipients=email, report=report, status="sent")
            assert sent.count() == expected and all(run.file_id and run.workbook_mail_id for run in sent)
        client, home = _home(app, email)
        assert "Reports sent to you" in home
        with app.app_context():
            titles = [str(run) for run in sent]
        listed = client.get("/admin/exportrun/").get_data(as_text=True)
        assert all(f">{run.filename}<" in listed for run in sent), titles
    # The real send: each sent run's email is in the demo's mail folder, addressed to its recipients.
    mails = "\n".join(path.read_text(errors="replace") for path in app.config["SETTINGS"].mail_folder.rglob("*")
                      if path.is_file())
    assert "evaluator@demo.e4e" in mails and "commissioner@demo.e4e" in mails


def test_manager_is_told_of_the_failed_run_and_has_decisions_and_a_review(demo_service):
    from admin_app.models.case_file import Client
    from admin_app.models.exports import ExportRun
    from admin_app.models.fidelity import FidelityReview

    app, _ = demo_service
    with app.app_context():
        failed = ExportRun.objects.get(status="failed")
        assert "former.analyst@opcc.example.gov.uk" in failed.error
        assert Client.objects(referral__decision="pending", status__ne="closed").count() >= 1
        review = FidelityReview.objects.get()
        assert review.total and review.band and review.data_scores
    client, home = _home(app, "manager@demo.e4e")
    assert "Export run failed: OPCC quarterly return" in home
    assert "Referrals awaiting a decision" in home
    reviews = client.get("/admin/fidelityreview/").get_data(as_text=True)
    from admin_app.views.fidelity import band_label

    assert band_label(review.band) in reviews


def test_home_shows_each_role_only_its_own_work(demo_service):
    app, _ = demo_service
    _, evaluator = _home(app, "evaluator@demo.e4e")
    assert "Evaluator monthly extract" in evaluator
    assert "OPCC quarterly return" not in evaluator and "Grant ledger" not in evaluator  # sent to others
    assert "wait for the panel" not in evaluator
    _, worker = _home(app, "worker1@demo.e4e")
    assert "Reports sent to you" not in worker and "wait for the panel" not in worker
