"""What the case file should prompt a worker about: overdue plan goals, and after a job start the
"in work" status and the follow-along check dates. Pure functions over the case file's items."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from admin_app.vocabulary import PAID_OUTCOME_KINDS

SUSTAINED_DAYS = 91   # 13 weeks
LONGER_DAYS = 182     # 26 weeks
STATUS_FOR_KIND = {"paid_employment": "in_work", "self_employment": "in_business"}


@dataclass(frozen=True)
class RunningJob:
    outcome: object
    started: date
    week_13: date
    week_26: date
    #: The status the case should hold, if it does not already (None when it does).
    suggest_status: str | None


def overdue_goals(goals, today: date) -> list:
    """Open plan goals whose due date has passed."""
    return [g for g in goals or [] if g.status == "open" and g.due_date and g.due_date < today]


def running_jobs(outcomes, status: str, today: date) -> list[RunningJob]:
    """Paid outcomes that have started and not ended, with their 13- and 26-week check dates."""
    jobs = []
    for outcome in outcomes or []:
        if outcome.kind not in PAID_OUTCOME_KINDS or outcome.start_date is None or outcome.end_date is not None:
            continue
        if outcome.start_date > today:
            continue
        wanted = STATUS_FOR_KIND[outcome.kind]
        suggest = wanted if status in ("assessed", "active") else None
        jobs.append(RunningJob(outcome, outcome.start_date, outcome.start_date + timedelta(days=SUSTAINED_DAYS),
                               outcome.start_date + timedelta(days=LONGER_DAYS), suggest))
    return sorted(jobs, key=lambda j: j.started)
