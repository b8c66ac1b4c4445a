"""Properties that hold for any case records (hypothesis), and the report agreeing with the single KPIs."""
from __future__ import annotations

import json
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from metrics_builders import staff

from admin_app.metrics import kpis
from admin_app.metrics.periods import Period
from admin_app.metrics.records import (
    CaseRecord,
    ContactRecord,
    EmployerContactRecord,
    OutcomeRecord,
    PlanGoalRecord,
    StatusChangeRecord,
)
from admin_app.metrics.report import kpi_report

BASE = date(2024, 1, 1)
days = st.integers(0, 540).map(lambda n: BASE + timedelta(days=n))
contacts = st.builds(ContactRecord, days, st.integers(1, 240), st.sampled_from(kpis.CONTACT_MODES),
                     st.sampled_from(["community", "office", None]), st.booleans())
outcomes = st.builds(OutcomeRecord, st.sampled_from(["paid_employment", "self_employment", "training"]), days,
                     st.none() | days, st.sampled_from(["e1", "e2", None]), st.sampled_from(["chef", "retail", None]),
                     st.booleans())
cases = st.builds(
    CaseRecord, id=st.uuids().map(str), referral_date=days, worker_id=st.sampled_from(["w1", "w2", None]),
    referral_decision=st.sampled_from(["pending", "accepted", "rejected", "withdrawn"]),
    assessment_date=st.none() | days, agreed_to_take_part=st.booleans(),
    employment_status=st.sampled_from(["unemployed", "inactive", "employed_needing_support", None]),
    status_history=st.lists(st.builds(StatusChangeRecord, days, st.sampled_from(["active", "closed", "in_work"])),
                            max_size=4).map(tuple),
    plan_goals=st.lists(st.builds(PlanGoalRecord, st.sampled_from(["open", "achieved", "dropped"]), st.none() | days),
                        max_size=2).map(tuple),
    contacts=st.lists(contacts, max_size=6).map(tuple),
    employer_contacts=st.lists(st.builds(EmployerContactRecord, days, st.booleans(), st.just("e1")),
                               max_size=3).map(tuple),
    outcomes=st.lists(outcomes, max_size=3).map(tuple),
)
periods = st.tuples(days, days).map(lambda p: Period(min(p), max(p)))


@settings(max_examples=60, deadline=None)
@given(st.lists(cases, max_size=8), periods)
def test_engaged_never_exceeds_referrals_and_people_never_exceed_job_starts(records, period):
    assert kpis.referrals_engaged(records, period) <= kpis.referrals(records, period)
    assert kpis.people_into_work(records, period) <= kpis.job_starts(records, period)
    rate = kpis.employment_rate(records, period)
    assert rate["people_into_work"] <= rate["people_unemployed_or_inactive"]
    s = kpis.sustained_outcomes(records, period)
    assert s["sustained_26_weeks"] <= s["sustained_13_weeks"] + s["too_early_for_13_weeks"] <= s["jobs_started"]


@settings(max_examples=60, deadline=None)
@given(st.lists(cases, max_size=8), periods, st.integers(1, 200))
def test_moving_a_period_end_later_never_makes_a_count_smaller_or_negative(records, period, extra):
    longer = Period(period.start, period.end + timedelta(days=extra))
    for kpi in (kpis.referrals, kpis.referrals_engaged, kpis.people_accessing, kpis.people_into_work, kpis.job_starts):
        assert 0 <= kpi(records, period) <= kpi(records, longer)


@settings(max_examples=60, deadline=None)
@given(st.lists(cases, max_size=8), periods, periods)
def test_counts_over_two_touching_periods_add_up(records, first, second):
    start, middle, end = sorted([first.start, first.end, second.end])
    if middle >= end:
        return
    left, right, whole = Period(start, middle), Period(middle + timedelta(days=1), end), Period(start, end)
    for kpi in (kpis.referrals, kpis.job_starts):
        assert kpi(records, left) + kpi(records, right) == kpi(records, whole)


@settings(max_examples=40, deadline=None)
@given(st.lists(cases, max_size=6), st.integers(0, 400), st.integers(0, 60))
def test_caseload_peak_matches_counting_day_by_day(records, offset, length):
    period = Period(BASE + timedelta(days=offset), BASE + timedelta(days=offset + length))
    daily = [kpis.active_caseload(records, period.start + timedelta(days=n)) for n in range(period.days)]
    peak, _ = kpis.caseload_peak(records, period)
    assert peak == max(daily) and daily[-1] == kpis.active_caseload(records, period.end)


@settings(max_examples=40, deadline=None)
@given(st.lists(cases, max_size=8), periods)
def test_report_service_figures_agree_with_the_single_kpis_and_workers_add_up(records, period):
    report = kpi_report(records, [staff("w1", "w1@e4e.test"), staff("w2", "w2@e4e.test", fte=0.5)], [], period)
    json.dumps(report)
    service = report["service"]
    assert service["referrals"] == kpis.referrals(records, period)
    assert service["referrals_engaged"] == kpis.referrals_engaged(records, period)
    assert service["carried_over"] == kpis.carried_over(records, period)
    assert service["active_caseload"]["at_end"] == kpis.active_caseload(records, period.end)
    assert service["active_caseload"]["peak"] == kpis.caseload_peak(records, period)[0]
    assert service["people_into_work"] == kpis.people_into_work(records, period)
    assert service["job_starts"] == kpis.job_starts(records, period)
    assert service["hours"] == kpis.hours(records, period)
    for figure in ("referrals", "job_starts", "people_into_work"):
        assert sum(w[figure] for w in report["workers"].values()) == service[figure]
    for item in service["fidelity"].values():
        assert item["score"] is None or 1 <= item["score"] <= 5


def _counts(value, path=""):
    """Every whole-number count in a report part, with where it is."""
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        yield path, value
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield from _counts(inner, f"{path}.{key}")
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _counts(inner, f"{path}[{index}]")


def _moved(period: Period, start_shift: int, end_shift: int) -> Period:
    start, end = period.start + timedelta(days=start_shift), period.end + timedelta(days=end_shift)
    return Period(min(start, end), max(start, end))


@settings(max_examples=50, deadline=None)
@given(st.lists(cases, max_size=8), periods, st.integers(-200, 200), st.integers(-200, 200), st.integers(0, 400))
def test_moving_either_period_boundary_never_makes_a_count_negative(records, period, start_shift, end_shift, today):
    moved = _moved(period, start_shift, end_shift)
    as_of = max(moved.start, min(moved.end, BASE + timedelta(days=today)))
    report = kpi_report(records, [staff("w1", "w1@e4e.test"), staff("w2", "w2@e4e.test", fte=0.5)], [], moved,
                        as_of=as_of)
    for part in [report["service"], *report["workers"].values()]:
        negative = [(where, n) for where, n in _counts(part) if n < 0]
        assert not negative
        assert part["referrals_engaged"] <= part["referrals"]
        assert part["active_caseload"]["at_end"] <= part["active_caseload"]["peak"]


@settings(max_examples=50, deadline=None)
@given(st.lists(cases, max_size=8), periods, st.integers(1, 200))
def test_moving_the_period_start_earlier_never_makes_an_event_count_smaller(records, period, extra):
    longer = Period(period.start - timedelta(days=extra), period.end)
    for kpi in (kpis.referrals, kpis.referrals_engaged, kpis.people_accessing, kpis.people_into_work, kpis.job_starts):
        assert 0 <= kpi(records, period) <= kpi(records, longer)


@settings(max_examples=50, deadline=None)
@given(st.lists(cases, max_size=8), periods, st.integers(0, 600))
def test_monthly_figures_add_up_and_the_running_caseload_is_counted_on_the_day_judged(records, period, offset):
    as_of = max(period.start, min(period.end + timedelta(days=60), BASE + timedelta(days=offset)))
    service = kpi_report(records, [staff("w1", "w1@e4e.test")], [], period, as_of=as_of)["service"]
    months = service["by_month"]
    assert months[0]["start"] == period.start.isoformat() and months[-1]["end"] == period.end.isoformat()
    assert sum(m["referrals"] for m in months) == service["referrals"]
    assert sum(m["job_starts"] for m in months) == service["job_starts"]
    day = min(period.end, as_of)
    assert service["active_caseload"]["at_end"] == kpis.active_caseload(records, day)
    assert service["active_caseload"]["peak"] == kpis.caseload_peak(records, Period(period.start, day))[0]
