"""One filled-in item for each part of the case file, as a worker would record it."""
from __future__ import annotations

from datetime import date, timedelta

from admin_app.models.case_file import (
    BenefitsSession, Contact, Disclosure, EmployerContact, OnwardReferral, Outcome, PlanGoal, ProgressUpdate,
    RiskAssessment, RiskNote, SafeguardingConcern, SharedOpportunity,
)


def sample_item(part: str, worker, today: date):
    """An item of `part` with most of its fields filled, some optional ones left blank."""
    earlier = today - timedelta(days=10)
    return {
        "contacts": lambda: Contact(date=earlier, minutes=50, mode="face_to_face", place="community", staff=worker,
                                    note="Went over the CV.\nNext: two applications."),
        "employer_contacts": lambda: EmployerContact(date=earlier, face_to_face=True, purpose="job_development",
                                                     staff=worker, note="Met the site manager"),
        "outcomes": lambda: Outcome(kind="paid_employment", start_date=earlier, job_type="Warehouse operative",
                                    hours_per_week=30, competitive=True),
        "plan_goals": lambda: PlanGoal(goal="Get a CSCS card", steps="Book the test", due_date=today + timedelta(days=20)),
        "risk_assessments": lambda: RiskAssessment(date=earlier, kind="individual", level="medium",
                                                   mitigations="Meet in the office", assessor=worker),
        "risk_notes": lambda: RiskNote(date=earlier, level="high", text="Threatened on the bus", author=worker),
        "safeguarding_concerns": lambda: SafeguardingConcern(date=earlier, concern="Younger brother groomed",
                                                             referred_to="Children's services"),
        "disclosures": lambda: Disclosure(date=earlier, basis="threat_to_life", decided_by="Service manager",
                                          authorised_by="Head of service", what_shared="Named threat"),
        "onward_referrals": lambda: OnwardReferral(date=earlier, purpose="Start-up business advice"),
        "benefits_sessions": lambda: BenefitsSession(date=earlier, minutes=40, topic="Better-off calculation"),
        "shared_opportunities": lambda: SharedOpportunity(date=earlier, kind="job", title="Warehouse operative",
                                                          organisation="Acme", link="https://example.org/jobs/1"),
        "progress_updates": lambda: ProgressUpdate(date=earlier, progress="Two interviews this quarter",
                                                   needs="Work boots", author=worker),
    }[part]()
