"""Per-worker figures credit each day, contact and outcome to whoever held the case on that date (hand-computed)."""
from __future__ import annotations

from datetime import date

import pytest

from admin_app.metrics.attribution import holder_on, holdings
from admin_app.metrics.kpis import worker_target
from admin_app.metrics.periods import Period
from admin_app.metrics.records import AssignmentRecord, FteRecord, StaffTimeRecord
from admin_app.metrics.report import kpi_report
from tests.metrics.metrics_builders import case, contact, d, employer_contact, job, staff

Q1 = Period(date(2024, 4, 1), date(2024, 6, 30))
APRIL_MAY = Period(date(2024, 4, 1), date(2024, 5, 31))
W1, W2 = "w1", "w2"
STAFF = [staff(W1, "w1@e4e.test"), staff(W2, "w2@e4e.test")]
ADDITIVE = ("referrals", "referrals_engaged", "people_accessing", "carried_over", "people_into_work", "job_starts",
            "business_starts")


def moved(*assignments: tuple[str, str | None], **fields):
    """A case referred 10/04/2024, assessed 20/04, a job from 20/05, contacts 03/05 (1 h) and 10/06 (1.5 h)."""
    fields.setdefault("contacts", (contact("2024-05-03", 60), contact("2024-06-10", 90)))
    fields.setdefault("outcomes", (job("2024-05-20"),))
    fields.setdefault("employer_contacts", (employer_contact("2024-04-25"),))
    return case(worker=assignments[-1][1], **fields).__class__(
        **{**_fields(case(worker=assignments[-1][1], **fields)),
           "assignments": tuple(AssignmentRecord(d(day), who) for day, who in assignments)})


def _fields(record):
    return {name: getattr(record, name) for name in record.__slots__}


def worker(report, email):
    return report["workers"][email]


@pytest.mark.parametrize("assignments, on, expected", [
    ((("2024-04-10", W1),), date(2024, 1, 1), W1),            # before the first entry: the first holder
    ((("2024-04-10", W1), ("2024-06-01", W2)), date(2024, 5, 31), W1),
    ((("2024-04-10", W1), ("2024-06-01", W2)), date(2024, 6, 1), W2),   # the move's own day is the new holder's
    ((("2024-04-10", W1), ("2024-06-01", W2), ("2024-06-01", W1)), date(2024, 6, 1), W1),  # last of a day wins
    ((("2024-04-10", W1), ("2024-06-01", None)), date(2024, 7, 1), None),
])
def test_the_holder_on_a_day_follows_the_assignment_history(assignments, on, expected):
    assert holder_on(moved(*assignments), on) == expected


def test_a_case_without_history_was_held_by_its_worker_throughout():
    assert holdings(case(worker=W2)) == [(W2, [(date.min, date.max)])]


def test_reassignment_mid_quarter_splits_the_figures_by_who_held_the_case_on_each_date():
    report = kpi_report([moved(("2024-04-10", W1), ("2024-06-01", W2))], STAFF, [], Q1)
    one, two, service = worker(report, "w1@e4e.test"), worker(report, "w2@e4e.test"), report["service"]
    # W1 held it 10/04-31/05: the referral, the engagement (20/04), the job start (20/05), the 1 h contact of 03/05
    # and the employer contact of 25/04.
    assert (one["referrals"], one["people_accessing"], one["people_into_work"], one["job_starts"]) == (1, 1, 1, 1)
    assert one["hours"]["face_to_face"] == 1.0 and one["active_caseload"]["at_end"] == 0
    assert one["fidelity"]["rapid_job_search"]["detail"]["clients"] == 1
    # W2 holds it from 01/06: the 1.5 h contact of 10/06 and the case on the caseload on 30/06; nothing else.
    assert (two["referrals"], two["people_accessing"], two["people_into_work"], two["job_starts"]) == (0, 0, 0, 0)
    assert two["hours"]["face_to_face"] == 1.5 and two["active_caseload"]["at_end"] == 1
    # Active 03/05-30/05 (W1's) and 10/06-30/06 (W2's): each worker's peak is the one case.
    assert one["active_caseload"]["peak"] == 1 and two["active_caseload"]["peak"] == 1
    assert service["hours"]["face_to_face"] == 2.5 and service["active_caseload"]["at_end"] == 1
    for name in ADDITIVE:
        assert service[name] == one[name] + two[name], name


def test_a_workers_figures_for_a_past_period_do_not_change_after_a_later_reassignment():
    before = kpi_report([moved(("2024-04-10", W1))], STAFF, [], APRIL_MAY)
    after = kpi_report([moved(("2024-04-10", W1), ("2024-06-01", W2))], STAFF, [], APRIL_MAY)
    assert worker(after, "w1@e4e.test") == worker(before, "w1@e4e.test")
    assert worker(after, "w2@e4e.test")["referrals"] == 0 and after["service"] == before["service"]
    # Hand-computed: referral, engagement, job start 20/05, 1 h of contact; active 03/05-30/05 (28 days from the
    # contact), so on the caseload at its peak but not on 31/05.
    w1 = worker(after, "w1@e4e.test")
    assert (w1["referrals"], w1["job_starts"], w1["hours"]["total"]) == (1, 1, 1.0)
    assert (w1["active_caseload"]["at_end"], w1["active_caseload"]["peak"], w1["active_caseload"]["peak_date"]) == (
        0, 1, "2024-05-03")


def test_contacts_another_worker_records_count_for_whoever_held_the_case():
    # W2 holds the case; W1 covers two contacts on it (1.5 h in all). Who recorded a contact is not read at all:
    # it counts for whoever held the case on its date.
    held_by_w2 = case(worker=W2, contacts=(contact("2024-05-03", 60), contact("2024-05-10", 30)),
                      outcomes=())
    everyone = kpi_report([held_by_w2], STAFF, [], Q1)
    assert not [key for key in everyone["workers"] if key.startswith("user:")]
    assert worker(everyone, "w2@e4e.test")["hours"]["total"] == 1.5
    assert worker(everyone, "w1@e4e.test")["hours"]["total"] == 0
    assert everyone["service"]["hours"]["total"] == 1.5
    own = kpi_report([held_by_w2], STAFF, [], Q1, only_worker=W1)
    assert set(own["workers"]) == {"w1@e4e.test"} and own["service"]["hours"]["total"] == 0
    theirs = kpi_report([held_by_w2], STAFF, [], Q1, only_worker=W2)
    assert set(theirs["workers"]) == {"w2@e4e.test"} and theirs["service"]["hours"]["total"] == 1.5


def test_the_workers_add_up_to_the_service_over_many_moves():
    cases = [
        moved(("2024-04-10", W1), ("2024-05-01", W2), ("2024-06-15", W1)),
        moved(("2024-04-10", W2), ("2024-05-25", None)),
        moved(("2024-04-10", W1)),
        case(id="c4", worker=W2, referred="2023-12-01", assessed="2024-01-05", contacts=(contact("2024-03-20"),
             contact("2024-04-15")), outcomes=(job("2024-06-02", kind="self_employment"),)),
    ]
    report = kpi_report(cases, STAFF, [], Q1)
    parts = report["workers"].values()
    for name in ADDITIVE:
        assert report["service"][name] == sum(p[name] for p in parts), name
    assert report["service"]["active_caseload"]["at_end"] == sum(p["active_caseload"]["at_end"] for p in parts)
    assert report["service"]["hours"]["total"] == pytest.approx(sum(p["hours"]["total"] for p in parts))
    assert report["service"]["employment_rate"]["people_served"] == sum(
        p["employment_rate"]["people_served"] for p in parts)


def test_staff_time_counts_for_whoever_logged_it_apart_from_contact_time():
    logged = [StaffTimeRecord(date(2024, 5, 2), 90, "partner_meeting", W1), StaffTimeRecord(date(2024, 5, 3), 30, "travel", W1),
              StaffTimeRecord(date(2024, 5, 4), 60, "training", W2), StaffTimeRecord(date(2024, 7, 1), 600, "travel", W1)]
    report = kpi_report([moved(("2024-04-10", W1))], STAFF, [], Q1, staff_time=logged)
    one = worker(report, "w1@e4e.test")
    assert one["staff_time"]["partner_meeting"] == 1.5 and one["staff_time"]["travel"] == 0.5
    assert one["staff_time"]["total"] == 2.0 and one["hours"]["total"] == 2.5 and one["all_hours"] == 4.5
    assert worker(report, "w2@e4e.test")["staff_time"]["total"] == 1.0
    assert report["service"]["staff_time"]["total"] == 3.0 and report["service"]["all_hours"] == 5.5


def test_targets_and_caseload_per_fte_use_the_fte_worked_on_each_day():
    # Full time until 30/09/2024, half time from 01/10: the year's 45 accessing (second year in post) is
    # 45 x (183 days x 1.0 + 182 days x 0.5) / 365 = 33.78.
    member = staff(W1, start="2021-04-01", fte=0.5)  # years in post run April to March
    changed = member.__class__(**{**_fields(member), "fte_history": (FteRecord(d("2021-04-01"), 1.0),
                                                                      FteRecord(d("2024-10-01"), 0.5))})
    year = Period(date(2024, 4, 1), date(2025, 3, 31))
    assert worker_target(changed, year)["accessing"] == pytest.approx(45 * (183 + 182 * 0.5) / 365)
    # Q1 is wholly before the change: the target is the full-time one, whatever the FTE is now.
    assert worker_target(changed, Q1)["accessing"] == pytest.approx(45 * 91 / 365)
    report = kpi_report([], [changed], [], Q1)
    assert report["service"]["fidelity"]["caseload_size"]["detail"]["fte"] == 1.0
    assert report["service"]["fidelity"]["job_development_frequency"]["detail"]["fte_weeks"] == 13.0
