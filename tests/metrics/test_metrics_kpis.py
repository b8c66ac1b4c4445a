"""IPS Grow KPIs on small hand-built case records, each answer worked out in the test."""
from __future__ import annotations

from datetime import date

from metrics_builders import case, contact, d, history, job, staff, weekly_contacts

from admin_app.metrics import kpis
from admin_app.metrics.periods import Period, financial_year, quarter
from admin_app.metrics.records import PlanGoalRecord

FY24 = financial_year(2024)


def test_referral_counts_on_the_day_received_with_inclusive_period_boundaries():
    cases = [case("a", referred="2024-04-01"), case("b", referred="2025-03-31"),
             case("c", referred="2024-03-31"), case("d", referred="2025-04-01")]
    assert kpis.referrals(cases, FY24) == 2


def test_rejected_referral_counts_as_referral_never_as_engaged():
    rejected = case(decision="rejected", assessed="2024-04-20", agreed=True, outcomes=[job("2024-06-01")])
    assert kpis.referrals([rejected], FY24) == 1
    assert kpis.referrals_engaged([rejected], FY24) == 0
    assert kpis.people_accessing([rejected], FY24) == 0
    assert kpis.people_into_work([rejected], FY24) == 0


def test_withdrawn_referral_is_never_engaged():
    assert kpis.referrals_engaged([case(decision="withdrawn")], FY24) == 0


def test_engaged_needs_assessment_and_agreement_to_take_part():
    cases = [case("a"), case("b", agreed=False), case("c", assessed=None)]
    assert kpis.referrals_engaged(cases, FY24) == 1


def test_referral_engaged_after_the_period_end_is_not_engaged_in_it():
    late = case(referred="2025-03-20", assessed="2025-04-02")
    assert kpis.referrals([late], FY24) == 1
    assert kpis.referrals_engaged([late], FY24) == 0
    assert kpis.people_accessing([late], financial_year(2025)) == 1


def test_active_needs_contact_in_the_28_days_before_the_reference_date():
    c = case(contacts=[contact("2024-05-01")])
    assert kpis.is_active_on(c, date(2024, 5, 28))       # 28th day counting the contact day
    assert not kpis.is_active_on(c, date(2024, 5, 29))
    assert not kpis.is_active_on(c, date(2024, 4, 30))


def test_admin_time_is_not_contact_with_the_client():
    assert not kpis.is_active_on(case(contacts=[contact("2024-05-01", mode="admin")]), date(2024, 5, 2))


def test_active_needs_an_open_plan_and_an_accepted_referral():
    no_plan = case(plan_goals=(), contacts=[contact("2024-05-01")])
    pending = case(decision="pending", contacts=[contact("2024-05-01")])
    achieved = case(plan_goals=[PlanGoalRecord("achieved", d("2024-05-10"))], contacts=[contact("2024-05-01")])
    assert not kpis.is_active_on(no_plan, date(2024, 5, 2))
    assert not kpis.is_active_on(pending, date(2024, 5, 2))
    assert kpis.is_active_on(achieved, date(2024, 5, 10))      # a finished goal counts until it was due
    assert not kpis.is_active_on(achieved, date(2024, 5, 11))


def test_reopened_case_is_active_again_after_reopening_and_not_while_closed():
    c = case(contacts=weekly_contacts("2024-04-22", 30),
             status_history=history(("2024-04-10", "referred"), ("2024-04-20", "active"),
                                    ("2024-06-01", "closed"), ("2024-08-01", "active")))
    assert kpis.is_active_on(c, date(2024, 5, 31))
    assert not kpis.is_active_on(c, date(2024, 6, 1))
    assert not kpis.is_active_on(c, date(2024, 7, 31))
    assert kpis.is_active_on(c, date(2024, 8, 1))


def test_case_carried_over_across_1_april_counts_in_the_new_year_only():
    c = case(referred="2023-11-01", assessed="2023-11-10", contacts=weekly_contacts("2024-03-01", 8))
    assert kpis.carried_over([c], FY24) == 1
    assert kpis.carried_over([c], quarter(2024, 3)) == 1         # always from the previous financial year
    assert kpis.carried_over([c], financial_year(2023)) == 0     # it was new in 2023/24
    assert kpis.referrals([c], FY24) == 0
    assert kpis.active_caseload([c], date(2024, 3, 31)) == 1


def test_caseload_at_period_end_and_its_peak():
    a = case("a", contacts=[contact("2024-05-01")])                      # active 1-28 May
    b = case("b", contacts=[contact("2024-05-20")])                      # active 20 May - 16 June
    c = case("c", contacts=[contact("2024-06-25")])                      # active 25 June - 22 July
    q1 = quarter(2024, 1)
    assert kpis.active_caseload([a, b, c], q1.end) == 1
    assert kpis.caseload_peak([a, b, c], q1) == (2, date(2024, 5, 20))


def test_person_with_several_jobs_is_one_person_into_work_and_several_job_starts():
    c = case(outcomes=[job("2024-06-01", employer="e1"), job("2024-06-01", employer="e2"),
                       job("2024-11-01", kind="self_employment", employer=None), job("2024-07-01", kind="training")])
    assert kpis.people_into_work([c], FY24) == 1
    assert kpis.job_starts([c], FY24) == 3


def test_person_into_work_is_counted_in_the_period_of_a_start():
    c = case(outcomes=[job("2024-03-15"), job("2024-09-01")])
    assert kpis.people_into_work([c], quarter(2024, 1)) == 0
    assert kpis.people_into_work([c], quarter(2024, 2)) == 1


def test_employment_rate_leaves_people_already_in_work_apart():
    into_work = case("a", outcomes=[job("2024-06-01")], contacts=[contact("2024-05-01")])
    inactive = case("b", employment_status="inactive", contacts=[contact("2024-05-01")])
    employed = case("c", employment_status="employed_needing_support", outcomes=[job("2024-06-01")],
                    contacts=[contact("2024-05-01")])
    never_seen = case("d", contacts=[])          # engaged but never on the active caseload in the period
    rate = kpis.employment_rate([into_work, inactive, employed, never_seen], FY24)
    assert rate["people_into_work"] == 1
    assert rate["people_unemployed_or_inactive"] == 2
    assert rate["rate"] == 0.5
    assert rate["employed_at_referral"] == 1
    assert rate["employed_at_referral_share"] == round(1 / 3, 4)


def test_job_that_ended_before_13_weeks_is_not_sustained():
    c = case(outcomes=[job("2024-05-01", end="2024-07-30"),     # 90 days
                       job("2024-08-01", end="2024-10-31"),     # 91 days: sustained
                       job("2024-09-01"),                       # still running
                       job("2025-03-01")])                      # too early on 31 March
    s = kpis.sustained_outcomes([c], FY24)
    assert (s["ended_before_13_weeks"], s["sustained_13_weeks"], s["too_early_for_13_weeks"]) == (1, 2, 1)
    assert s["sustained_26_weeks"] == 1 and s["sustained_rate"] == round(2 / 3, 4)


def test_sustainment_is_judged_on_what_was_known_on_the_as_of_date():
    c = case(outcomes=[job("2025-03-01", end="2025-04-15")])
    assert kpis.sustained_outcomes([c], FY24)["too_early_for_13_weeks"] == 1
    assert kpis.sustained_outcomes([c], FY24, as_of=date(2025, 9, 1))["ended_before_13_weeks"] == 1


def test_time_from_assessment_to_first_paid_outcome_in_bands():
    cases = [case("a", assessed="2024-04-01", outcomes=[job("2024-09-30")]),           # < 6 months
             case("b", assessed="2024-04-01", outcomes=[job("2024-10-01")]),           # exactly 6 months
             case("c", assessed="2023-06-01", outcomes=[job("2024-06-01")]),           # exactly 12 months
             case("d", assessed="2023-06-01", outcomes=[job("2024-06-02")]),           # > 12 months
             case("e", assessed="2023-06-01", outcomes=[job("2023-07-01"), job("2024-07-01")])]  # first was last year
    assert kpis.time_to_first_paid_outcome(cases, FY24) == {"under_6_months": 1, "6_to_12_months": 2,
                                                            "over_12_months": 1}


def test_face_to_face_and_admin_hours_are_separate_and_out_of_hours_counted():
    c = case(contacts=[contact("2024-05-01", 90), contact("2024-05-02", 30, mode="admin", place=None),
                       contact("2024-05-03", 45, mode="phone", out_of_hours=True),
                       contact("2024-03-31", 600)])
    h = kpis.hours([c], FY24)
    assert (h["face_to_face"], h["admin"], h["phone"], h["total"]) == (1.5, 0.5, 0.75, 2.75)
    assert kpis.out_of_hours_contacts([c], FY24) == 1


def test_established_worker_target_is_the_year_two_figure_pro_rata_by_fte():
    t = kpis.worker_target(staff(start="2022-04-01", fte=0.5), FY24)
    assert (round(t["accessing"], 1), round(t["paid_outcomes"], 1)) == (22.5, 11.0)


def test_worker_starting_on_1_april_has_the_full_year_one_target():
    t = kpis.worker_target(staff(start="2024-04-01"), FY24)
    assert (round(t["accessing"], 1), round(t["paid_outcomes"], 1)) == (35.0, 17.0)


def test_worker_who_started_mid_year_has_a_pro_rata_target_after_building_the_caseload():
    # Starts 1 October: October-December build the caseload; January-March are 3 of the 9 counted months of year 1.
    t = kpis.worker_target(staff(start="2024-10-01"), FY24)
    counted = (date(2025, 9, 30) - date(2025, 1, 1)).days + 1
    assert round(t["accessing"], 3) == round(35 * 90 / counted, 3)
    assert kpis.worker_target(staff(start="2024-10-01"), quarter(2024, 3))["accessing"] == 0


def test_worker_who_left_has_no_target_after_leaving():
    t = kpis.worker_target(staff(start="2022-04-01", end="2024-09-30"), FY24)
    assert round(t["accessing"], 1) == round(45 * 183 / 365, 1)


def test_target_rag():
    assert kpis.target_rag(10, 10, 0.8) == "green"
    assert kpis.target_rag(8, 10, 0.8) == "amber"
    assert kpis.target_rag(7, 10, 0.8) == "red"
    assert kpis.target_rag(0, 0, 0.8) is None


def test_periods_one_day_long_count_that_day():
    c = case(referred="2024-06-30")
    assert kpis.referrals([c], Period(date(2024, 6, 30), date(2024, 6, 30))) == 1


# --- monthly figures ------------------------------------------------------------------------------

def test_referrals_and_job_starts_per_month_with_months_cut_to_the_period():
    period = Period(date(2024, 4, 15), date(2024, 6, 10))
    cases = [
        case("before", referred="2024-04-14"),
        case("april", referred="2024-04-15", outcomes=[job("2024-04-20"), job("2024-06-10", kind="self_employment")]),
        case("may-1", referred="2024-05-01", outcomes=[job("2024-05-05", kind="training")]),   # not paid work
        case("may-31", referred="2024-05-31"),
        case("rejected", referred="2024-05-02", decision="rejected", outcomes=[job("2024-05-20")]),  # a referral only
        case("after", referred="2024-06-11", outcomes=[job("2024-06-11")]),
    ]
    # April (from the 15th): one referral and one job start; May: three referrals (the rejected one too), no paid
    # start; June (to the 10th): the business start on the 10th. The referral on the 14th and the start on
    # 11 June fall outside the period.
    assert kpis.by_month(cases, period) == [
        {"month": "2024-04", "start": "2024-04-15", "end": "2024-04-30", "referrals": 1, "job_starts": 1},
        {"month": "2024-05", "start": "2024-05-01", "end": "2024-05-31", "referrals": 3, "job_starts": 0},
        {"month": "2024-06", "start": "2024-06-01", "end": "2024-06-10", "referrals": 0, "job_starts": 1},
    ]


def test_monthly_figures_in_the_report_add_up_to_the_period_figures():
    from admin_app.metrics.report import kpi_report

    cases = [case("a", referred="2024-04-10", outcomes=[job("2024-09-01"), job("2025-01-15")]),
             case("b", referred="2024-11-30", worker="w2"), case("c", referred="2025-03-31")]
    service = kpi_report(cases, [staff()], [], FY24)["service"]
    assert [m["month"] for m in service["by_month"]][:2] == ["2024-04", "2024-05"]
    assert len(service["by_month"]) == 12
    assert sum(m["referrals"] for m in service["by_month"]) == service["referrals"] == 3
    assert sum(m["job_starts"] for m in service["by_month"]) == service["job_starts"] == 2


# --- a period still running: judged as of today ---------------------------------------------------

def test_a_running_period_is_judged_on_the_as_of_day_not_its_future_end():
    from admin_app.metrics.report import kpi_report

    today = date(2024, 10, 1)
    # In contact on 20 September: active on 1 October, no longer in contact by 31 March.
    c = case("a", assessed="2024-05-01", contacts=[contact("2024-09-20")], outcomes=[job("2024-08-01")])
    running = kpi_report([c], [staff()], [], FY24, as_of=today)
    at_year_end = kpi_report([c], [staff()], [], FY24)
    assert running["period"]["running"] and not at_year_end["period"]["running"]
    assert running["service"]["active_caseload"]["at_end"] == 1
    assert at_year_end["service"]["active_caseload"]["at_end"] == 0
    # The job began 61 days before 1 October: too early to call sustained today, although by the
    # year end (with no end date recorded) it would be.
    assert running["service"]["sustained_outcomes"]["too_early_for_13_weeks"] == 1
    assert at_year_end["service"]["sustained_outcomes"]["sustained_13_weeks"] == 1
    # Targets are pro rata to the day judged, the whole period's target beside them.
    target = running["service"]["targets"]["accessing"]
    assert target["target"] < target["period_target"]
    assert target["period_target"] == at_year_end["service"]["targets"]["accessing"]["target"]


def test_figures_cannot_be_judged_before_the_period_starts():
    import pytest

    with pytest.raises(ValueError):
        kpis.KpiTally(FY24, as_of=date(2024, 3, 31))


def test_the_day_a_period_is_judged_on():
    from admin_app.metrics.report import as_of_for

    assert as_of_for(FY24, date(2025, 6, 1)) == FY24.end          # over: its last day
    assert as_of_for(FY24, date(2024, 10, 1)) == date(2024, 10, 1)  # running: today
    assert as_of_for(FY24, date(2024, 1, 1)) == FY24.start         # not started: its first day
