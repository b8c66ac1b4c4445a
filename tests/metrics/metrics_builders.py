"""Small hand-built records for the metrics tests."""
from __future__ import annotations

from datetime import date, timedelta

from admin_app.metrics.records import (
    CaseRecord,
    ContactRecord,
    EmployerContactRecord,
    OutcomeRecord,
    PlanGoalRecord,
    StaffRecord,
    StatusChangeRecord,
)

WORKER = "w1"


def d(text: str) -> date:
    return date.fromisoformat(text)


def contact(day: str, minutes: int = 60, mode: str = "face_to_face", place: str | None = "community",
            out_of_hours: bool = False) -> ContactRecord:
    return ContactRecord(d(day), minutes, mode, place, out_of_hours)


def job(start: str, end: str | None = None, kind: str = "paid_employment", employer: str | None = "e1",
        job_type: str | None = "warehouse", competitive: bool = True) -> OutcomeRecord:
    return OutcomeRecord(kind, d(start), d(end) if end else None, employer, job_type, competitive)


def history(*pairs: tuple[str, str]) -> tuple[StatusChangeRecord, ...]:
    return tuple(StatusChangeRecord(d(day), status) for day, status in pairs)


def case(id: str = "c1", referred: str = "2024-04-10", decision: str = "accepted", assessed: str | None = "2024-04-20",
         agreed: bool = True, employment_status: str | None = "unemployed", worker: str | None = WORKER,
         contacts=(), outcomes=(), employer_contacts=(), status_history=(), plan_goals=(PlanGoalRecord(),),
         status: str = "active") -> CaseRecord:
    return CaseRecord(
        id=id, referral_date=d(referred), worker_id=worker, referral_decision=decision,
        assessment_date=d(assessed) if assessed else None, agreed_to_take_part=agreed,
        employment_status=employment_status, status=status, status_history=tuple(status_history),
        plan_goals=tuple(plan_goals), contacts=tuple(contacts), employer_contacts=tuple(employer_contacts),
        outcomes=tuple(outcomes),
    )


def employer_contact(day: str, face_to_face: bool = True, employer: str = "e1"):
    return EmployerContactRecord(d(day), face_to_face, employer)


def weekly_contacts(first: str, weeks: int) -> list[ContactRecord]:
    return [ContactRecord(d(first) + timedelta(days=7 * k), 60, "face_to_face", "community") for k in range(weeks)]


def staff(user_id: str = WORKER, email: str = "w1@e4e.test", fte: float = 1.0, start: str | None = "2020-01-01",
          end: str | None = None, roles=("worker",)) -> StaffRecord:
    return StaffRecord(user_id, email, None, fte, d(start) if start else None, d(end) if end else None, tuple(roles))
