"""What the case file prompts a worker about: overdue plan goals, and after a job or business start the
status to set and the 13- and 26-week check dates (pure functions over the case file's items)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from admin_app.casework import nudges
from admin_app.models.case_file import Outcome, PlanGoal

TODAY = date(2026, 11, 30)


def test_only_open_goals_whose_due_date_has_passed_are_overdue():
    late = PlanGoal(goal="Get a CSCS card", due_date=TODAY - timedelta(days=1))
    goals = [late,
             PlanGoal(goal="Due today", due_date=TODAY),
             PlanGoal(goal="Achieved late", due_date=TODAY - timedelta(days=9), status="achieved"),
             PlanGoal(goal="Dropped", due_date=TODAY - timedelta(days=9), status="dropped"),
             PlanGoal(goal="No due date")]
    assert nudges.overdue_goals(goals, TODAY) == [late]
    assert nudges.overdue_goals(None, TODAY) == []


@pytest.mark.parametrize("kind, status, suggested", [
    ("paid_employment", "active", "in_work"),
    ("paid_employment", "assessed", "in_work"),
    ("paid_employment", "in_work", None),
    ("self_employment", "active", "in_business"),
    ("self_employment", "in_business", None),
])
def test_a_running_job_offers_the_status_and_the_check_dates(kind, status, suggested):
    start = TODAY - timedelta(days=10)
    [job] = nudges.running_jobs([Outcome(kind=kind, start_date=start)], status, TODAY)
    assert job.suggest_status == suggested
    assert (job.week_13, job.week_26) == (start + timedelta(weeks=13), start + timedelta(weeks=26))


def test_ended_future_and_unpaid_outcomes_are_not_running_jobs():
    outcomes = [Outcome(kind="paid_employment", start_date=TODAY - timedelta(days=100), end_date=TODAY - timedelta(days=5)),
                Outcome(kind="paid_employment", start_date=TODAY + timedelta(days=3)),
                Outcome(kind="training", start_date=TODAY - timedelta(days=3)),
                Outcome(kind="volunteering", start_date=TODAY - timedelta(days=3))]
    assert nudges.running_jobs(outcomes, "active", TODAY) == []


def test_running_jobs_come_oldest_first():
    later = Outcome(kind="paid_employment", start_date=TODAY - timedelta(days=2))
    earlier = Outcome(kind="self_employment", start_date=TODAY - timedelta(days=40))
    assert [j.outcome for j in nudges.running_jobs([later, earlier], "in_work", TODAY)] == [earlier, later]
