"""IPS fidelity: the items the data can score (1-5 against anchors kept as data) and the 25-item review total."""
from __future__ import annotations

import copy
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Iterable, Mapping

from admin_app.metrics.attribution import within
from admin_app.metrics.kpis import ADMIN_MODE, engagement_date, merge_counts, paid_starts_in
from admin_app.metrics.periods import Period
from admin_app.metrics.records import CaseRecord, ContactRecord, OutcomeRecord

# Scoring anchors, as data a manager can correct: for 'lower' the value earns 5 when <= thresholds[0],
# 4 when <= thresholds[1], ... and 1 above thresholds[3]; for 'higher', 5 when >= thresholds[0], and so on.
DEFAULT_ANCHORS: dict[str, dict[str, Any]] = {
    "caseload_size": {"better": "lower", "thresholds": [20, 25, 30, 40],
                      "unit": "active clients per full-time worker"},
    "rapid_job_search": {"better": "lower", "thresholds": [30, 60, 150, 270],
                         "unit": "days from assessment to first face-to-face employer contact (average)"},
    "job_development_frequency": {"better": "higher", "thresholds": [6, 5, 4, 2],
                                  "unit": "face-to-face employer contacts per full-time worker per week"},
    "diversity_of_job_types": {"better": "higher", "thresholds": [85, 70, 60, 50], "unit": "% of jobs of different types"},
    "diversity_of_employers": {"better": "higher", "thresholds": [85, 70, 60, 50], "unit": "% of jobs with different employers"},
    "competitive_jobs": {"better": "higher", "thresholds": [95, 85, 75, 65], "unit": "% of jobs competitive"},
    "time_unlimited_follow_along": {"better": "higher", "thresholds": [85, 70, 60, 50],
                                    "unit": "% of job starts with follow-along on schedule",
                                    "contact_modes": ["face_to_face", "phone", "video", "message"], "months": 12},
    "community_based_services": {"better": "higher", "thresholds": [65, 50, 40, 30],
                                 "unit": "% of client contact time in the community"},
}
DATA_ITEMS = tuple(DEFAULT_ANCHORS)

# The 25 items of the UK IPS fidelity review form, by section (staffing 3, organisation 8, services 14).
REVIEW_ITEMS: dict[str, tuple[str, ...]] = {
    "staffing": ("caseload_size", "employment_services_staff", "vocational_generalists"),
    "organisation": ("integration_team_assignment", "integration_team_contact",
                     "collaboration_with_employment_agencies", "vocational_unit", "role_of_employment_supervisor",
                     "zero_exclusion", "agency_focus_on_competitive_employment", "executive_team_support"),
    "services": ("work_incentives_planning", "disclosure", "ongoing_work_based_assessment", "rapid_job_search",
                 "individualised_job_search", "job_development_frequency", "job_development_quality",
                 "diversity_of_job_types", "diversity_of_employers", "competitive_jobs",
                 "individualised_follow_along", "time_unlimited_follow_along", "community_based_services",
                 "assertive_engagement_and_outreach"),
}
ALL_ITEMS = tuple(item for items in REVIEW_ITEMS.values() for item in items)
# What each item is called on screens and in reviews; principles a (integration with a clinical team) and d
# (the person decides when to return to work) are scored against their meaning adapted for this service.
ITEM_LABELS: dict[str, str] = {
    "caseload_size": "Caseload size",
    "employment_services_staff": "Employment services staff",
    "vocational_generalists": "Vocational generalists",
    "integration_team_assignment": "Integration with partner teams: assignment to referring teams",
    "integration_team_contact": "Integration with partner teams: frequent contact",
    "collaboration_with_employment_agencies": "Collaboration with Jobcentre Plus / DWP",
    "vocational_unit": "Vocational unit",
    "role_of_employment_supervisor": "Role of the employment supervisor",
    "zero_exclusion": "Zero exclusion criteria",
    "agency_focus_on_competitive_employment": "Agency focus on competitive employment",
    "executive_team_support": "Executive team support for IPS",
    "work_incentives_planning": "Work incentives (benefits) planning",
    "disclosure": "Disclosure (of convictions and circumstances to employers)",
    "ongoing_work_based_assessment": "Ongoing, work-based vocational assessment",
    "rapid_job_search": "Rapid job search",
    "individualised_job_search": "Individualised job search",
    "job_development_frequency": "Job development: frequency of employer contact",
    "job_development_quality": "Job development: quality of employer contact",
    "diversity_of_job_types": "Diversity of job types",
    "diversity_of_employers": "Diversity of employers",
    "competitive_jobs": "Competitive jobs",
    "individualised_follow_along": "Individualised follow-along supports",
    "time_unlimited_follow_along": "Time-unlimited follow-along supports",
    "community_based_services": "Community-based services",
    "assertive_engagement_and_outreach": "Assertive engagement and outreach",
}
SECTION_LABELS = {"staffing": "Staffing", "organisation": "Organisation", "services": "Services"}
MANAGER_ITEMS = tuple(item for item in ALL_ITEMS if item not in DEFAULT_ANCHORS)
BANDS = ((115, "exemplary"), (100, "good"), (74, "fair"), (0, "not_ips"))
BAND_LABELS = {"exemplary": "Exemplary", "good": "Good", "fair": "Fair", "not_ips": "Not IPS"}
RAG_BY_SCORE = {5: "green", 4: "green", 3: "amber", 2: "red", 1: "red"}
RAPID_SEARCH_DAYS = 30


# --- anchors --------------------------------------------------------------------------

def resolve_anchors(overrides: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """The default anchors with a manager's corrections laid over them, checked."""
    anchors = copy.deepcopy(DEFAULT_ANCHORS)
    for item, change in (overrides or {}).items():
        if item not in anchors:
            raise ValueError(f"{item!r} is not a data-scored fidelity item; known: {', '.join(DATA_ITEMS)}")
        anchors[item].update(copy.deepcopy(dict(change)))
    for item, anchor in anchors.items():
        check_anchor(item, anchor)
    return anchors


def check_anchor(item: str, anchor: Mapping[str, Any]) -> None:
    """Refuse (ValueError, with a message for the person who typed it) an anchor that cannot score."""
    better, limits = anchor.get("better"), anchor.get("thresholds")
    if better not in ("lower", "higher"):
        raise ValueError(f"{item}: 'better' must be 'lower' or 'higher'")
    if not isinstance(limits, (list, tuple)) or len(limits) != 4 or not all(isinstance(x, (int, float)) for x in limits):
        raise ValueError(f"{item}: 'thresholds' must be four numbers, the limits for scores 5, 4, 3 and 2")
    ordered = sorted(limits) if better == "lower" else sorted(limits, reverse=True)
    if list(limits) != ordered:
        order = "rising" if better == "lower" else "falling"
        raise ValueError(f"{item}: thresholds must run from the score-5 limit to the score-2 limit, {order} "
                         f"({better} values are better)")


def score(value: float | None, anchor: Mapping[str, Any]) -> int | None:
    """1-5 for a value against an item's anchor; None when there is nothing to score."""
    if value is None:
        return None
    for points, limit in zip((5, 4, 3, 2), anchor["thresholds"]):
        if (value <= limit) if anchor["better"] == "lower" else (value >= limit):
            return points
    return 1


def rag(points: int | None) -> str | None:
    return RAG_BY_SCORE.get(points) if points is not None else None


# --- per case -------------------------------------------------------------------------

def first_employer_contact(case: CaseRecord) -> date | None:
    """The first face-to-face employer contact for or by the client."""
    days = [e.date for e in case.employer_contacts if e.face_to_face]
    return min(days) if days else None


def days_to_first_employer_contact(case: CaseRecord) -> int | None:
    """From the initial assessment to the first face-to-face employer contact (0 if it came first)."""
    engaged, first = engagement_date(case), first_employer_contact(case)
    if engaged is None or first is None:
        return None
    return max(0, (first - engaged).days)


def follow_along_checks(case: CaseRecord, job: OutcomeRecord, as_of: date,
                        modes: Iterable[str], months: int = 12) -> dict[str, bool | None]:
    """Each follow-along check that has fallen due by as_of: met (True), missed (False), not yet due (None)."""
    allowed = set(modes)
    days = sorted({c.date for c in case.contacts if c.mode in allowed})
    start = job.start

    def met(lo: date, hi: date) -> bool:
        i = bisect_left(days, lo)
        return i < len(days) and days[i] <= hi

    def windows(first: date, length: int, count: int) -> bool | None:
        due = [first + timedelta(days=length * k) for k in range(count)]
        due = [lo for lo in due if lo + timedelta(days=length - 1) <= as_of]
        return all(met(lo, lo + timedelta(days=length - 1)) for lo in due) if due else None

    after = met(start, start + timedelta(days=3))
    return {
        "week_before": met(start - timedelta(days=7), start - timedelta(days=1)),
        "within_3_days_after": after if after or as_of >= start + timedelta(days=3) else None,
        "weekly_first_month": windows(start, 7, 4),
        "monthly_after": windows(start + timedelta(days=28), 30, max(0, months - 1)),
    }


# --- tally ----------------------------------------------------------------------------

@dataclass
class FidelityTally:
    """Running totals for the data-scored items, for the whole service or one worker."""

    period: Period
    as_of: date
    anchors: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: DEFAULT_ANCHORS)
    first_contact_days: int = 0
    first_contacts: int = 0
    awaiting_over_30_days: int = 0
    employer_contacts: int = 0
    jobs: int = 0
    competitive: int = 0
    typed_jobs: int = 0
    job_types: set[str] = field(default_factory=set)
    jobs_with_employer: int = 0
    employers: set[str] = field(default_factory=set)
    follow_along_jobs: int = 0
    follow_along_on_schedule: int = 0
    follow_along_checks: dict[str, list[int]] = field(default_factory=dict)  # check -> [met, due]
    client_minutes: int = 0
    community_minutes: int = 0

    def merge(self, other: "FidelityTally") -> None:
        merge_counts(self, other)

    def add_case(self, case: CaseRecord, active_at_end: bool, held: list[tuple[date, date]] | None = None) -> None:
        """Rapid job search, jobs and follow-along: these belong to whoever held the case on the day
        (`held`: the days this tally's worker held it; None: every day). active_at_end is for this holder."""
        first = first_employer_contact(case)
        days = days_to_first_employer_contact(case)
        if days is not None and first in self.period and within(first, held):
            self.first_contact_days += days
            self.first_contacts += 1
        engaged = engagement_date(case)
        end_day = min(self.period.end, self.as_of)
        if (active_at_end and engaged is not None and (first is None or first > end_day)
                and (end_day - engaged).days > RAPID_SEARCH_DAYS):
            self.awaiting_over_30_days += 1
        for job in paid_starts_in(case, self.period):
            if within(job.start, held):
                self.add_job(case, job)

    def add_job(self, case: CaseRecord, job: OutcomeRecord) -> None:
        self.jobs += 1
        self.competitive += job.competitive
        if job.job_type and job.job_type.strip():
            self.typed_jobs += 1
            self.job_types.add(" ".join(job.job_type.split()).casefold())
        if job.employer_id:
            self.jobs_with_employer += 1
            self.employers.add(job.employer_id)
        anchor = self.anchors["time_unlimited_follow_along"]
        checks = follow_along_checks(case, job, self.as_of, anchor["contact_modes"], anchor["months"])
        self.follow_along_jobs += 1
        self.follow_along_on_schedule += all(v is not False for v in checks.values())
        for name, value in checks.items():
            counts = self.follow_along_checks.setdefault(name, [0, 0])
            if value is not None:
                counts[0] += value
                counts[1] += 1

    def add_client_contact(self, contact: ContactRecord) -> None:
        """Contact time with the client (admin time is not), for the community-based item."""
        if contact.date in self.period and contact.mode != ADMIN_MODE:
            self.client_minutes += contact.minutes
            self.community_minutes += contact.minutes if contact.place == "community" else 0

    def add_employer_contact(self, day: date, face_to_face: bool) -> None:
        self.employer_contacts += bool(face_to_face and day in self.period)

    def items(self, caseload: int, fte_at_end: float, fte_weeks: float) -> dict[str, dict[str, Any]]:
        """Every data-scored item: value, score 1-5, RAG and the counts behind it."""
        values: dict[str, tuple[float | None, dict[str, Any]]] = {
            "caseload_size": (_per(caseload, fte_at_end), {"active_clients": caseload, "fte": round(fte_at_end, 2)}),
            "rapid_job_search": (_per(self.first_contact_days, self.first_contacts),
                                 {"clients": self.first_contacts, "awaiting_over_30_days": self.awaiting_over_30_days}),
            "job_development_frequency": (_per(self.employer_contacts, fte_weeks),
                                          {"face_to_face_employer_contacts": self.employer_contacts,
                                           "fte_weeks": round(fte_weeks, 2)}),
            "diversity_of_job_types": (_pct(len(self.job_types), self.typed_jobs),
                                       {"job_types": len(self.job_types), "jobs": self.typed_jobs}),
            "diversity_of_employers": (_pct(len(self.employers), self.jobs_with_employer),
                                       {"employers": len(self.employers), "jobs": self.jobs_with_employer}),
            "competitive_jobs": (_pct(self.competitive, self.jobs), {"competitive": self.competitive, "jobs": self.jobs}),
            "time_unlimited_follow_along": (_pct(self.follow_along_on_schedule, self.follow_along_jobs),
                                            {"on_schedule": self.follow_along_on_schedule,
                                             "jobs": self.follow_along_jobs,
                                             "checks": {k: {"met": v[0], "due": v[1]}
                                                        for k, v in self.follow_along_checks.items()}}),
            "community_based_services": (_pct(self.community_minutes, self.client_minutes),
                                         {"community_hours": round(self.community_minutes / 60, 2),
                                          "contact_hours": round(self.client_minutes / 60, 2)}),
        }
        out = {}
        for item, (value, detail) in values.items():
            points = score(value, self.anchors[item])
            out[item] = {"value": value, "score": points, "rag": rag(points), "unit": self.anchors[item]["unit"],
                         "detail": detail}
        return out


def _per(part: float, whole: float) -> float | None:
    return round(part / whole, 2) if whole else None


def _pct(part: float, whole: float) -> float | None:
    return round(100 * part / whole, 1) if whole else None


# --- the full review ------------------------------------------------------------------

def fidelity_review(data_scores: Mapping[str, int | None], manager_scores: Mapping[str, int]) -> dict[str, Any]:
    """Total and band of a 25-item review: data scores, with the manager's scores (which may correct them) on top."""
    for item, points in manager_scores.items():
        if item not in ALL_ITEMS:
            raise ValueError(f"{item!r} is not an IPS fidelity item")
        if not isinstance(points, int) or isinstance(points, bool) or not 1 <= points <= 5:
            raise ValueError(f"{item}: a fidelity score is a whole number from 1 to 5, not {points!r}")
    scores = {item: data_scores.get(item) for item in DATA_ITEMS}
    scores.update(manager_scores)
    missing = [item for item in ALL_ITEMS if scores.get(item) is None]
    total = sum(points for points in scores.values() if points is not None)
    return {
        "items": {section: {item: scores.get(item) for item in items} for section, items in REVIEW_ITEMS.items()},
        "total": total,
        "maximum": 5 * len(ALL_ITEMS),
        "complete": not missing,
        "missing": missing,
        "band": band(total) if not missing else None,
    }


def review_problems(manager_scores: Mapping[str, Any]) -> dict[str, str]:
    """What is wrong with a manager's scores, by item: every organisational item needs a whole number 1-5;
    a data-scored item may be left to the data (None) or corrected with a 1-5 score."""
    problems = {}
    for item in ALL_ITEMS:
        points = manager_scores.get(item)
        if points is None and item in DATA_ITEMS:
            continue
        if points is None:
            problems[item] = "Score this item: a whole number from 1 to 5."
        elif not isinstance(points, int) or isinstance(points, bool) or not 1 <= points <= 5:
            problems[item] = f"A score is a whole number from 1 to 5, not {points!r}."
    for item in manager_scores:
        if item not in ALL_ITEMS:
            problems[item] = "This is not an IPS fidelity item."
    return problems


def band(total: int) -> str:
    """115-125 exemplary, 100-114 good, 74-99 fair, 73 or less not IPS."""
    return next(name for floor, name in BANDS if total >= floor)
