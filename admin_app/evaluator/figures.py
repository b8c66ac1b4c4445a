"""The evaluator dashboard's figures: the manager's report functions over consented clients, with disclosure control.

Every figure comes from `load_report` (the service dashboard's and the `kpis` command's function), run over the
case files with recorded consent only (`disclosure.CONSENTED`), service-wide and for each cohort, referral source
and age band. A count of people below `min_group` is withheld, a rate whose people are fewer is withheld, and a
group with fewer people than that is withheld whole. No member of staff appears.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Iterable, Mapping

from admin_app.evaluator.disclosure import (AGE_BAND_NAMES, age_band, consented_match, generalise, no_remainder,
                                            suppressed)
from admin_app.metrics.fidelity import ITEM_LABELS
from admin_app.metrics.periods import Period
from admin_app.metrics.records import CLIENTS, CaseRecord, read_cases, referred_by
from admin_app.metrics.report import as_of_for, load_report, read_scope_staff
from admin_app.vocabulary import COHORTS, REFERRAL_SOURCES, label

WITHHELD = None  # a withheld figure is None, with its key in the figure's `withheld` set


@dataclass(frozen=True)
class Figure:
    key: str          # a dotted path in the report's service figures
    label: str
    kind: str         # people: a count of people; count: a count of events; hours; rate
    #: a rate, hours or a count: the count of people it rests on (withheld when they are too few; a count of
    #: events is withheld when it is small itself too)
    people: str = ""


#: What the evaluator sees of the report, in order; the API's and the dashboard's single list.
FIGURES: tuple[Figure, ...] = (
    Figure("referrals", "Referrals", "people"),
    Figure("referrals_engaged", "Referrals engaged", "people"),
    Figure("people_accessing", "People accessing the service", "people"),
    Figure("carried_over", "Carried over from the year before", "people"),
    Figure("active_caseload.at_end", "Active caseload at period end", "people"),
    Figure("people_into_work", "People into work or business", "people"),
    Figure("job_starts", "Job starts (paid employment)", "count", "people_into_work"),
    Figure("business_starts", "Business starts", "count", "people_into_work"),
    Figure("employment_rate.rate", "Employment rate", "rate", "employment_rate.people_unemployed_or_inactive"),
    Figure("sustained_outcomes.sustained_13_weeks", "Jobs sustained 13 weeks", "count", "people_into_work"),
    Figure("sustained_outcomes.ended_before_13_weeks", "Jobs ended before 13 weeks", "count", "people_into_work"),
    Figure("sustained_outcomes.sustained_rate", "Sustained rate (13 weeks)", "rate", "people_into_work"),
    Figure("hours.face_to_face", "Face-to-face contact hours", "hours", "people_accessing"),
    Figure("hours.total", "All client contact hours", "hours", "people_accessing"),
)
#: The figures that add up over the groups of a breakdown (and over the periods of the figures over time).
ADDITIVE = tuple(figure.key for figure in FIGURES if figure.kind in ("people", "count", "hours"))
BREAKDOWNS = {"cohort": "Cohort", "source": "Referral source", "age_band": "Age band"}
#: The steps of a cohort's journey, from the referral date.
JOURNEY_STEPS = {"assessment": "Referral to initial assessment",
                 "employer_contact": "Referral to first face-to-face employer contact",
                 "paid_outcome": "Referral to first paid outcome"}


def value_at(figures: Mapping[str, Any], path: str) -> Any:
    value: Any = figures
    for key in path.split("."):
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def controlled(service: Mapping[str, Any], min_group: int) -> dict[str, Any]:
    """The evaluator's figures of one report's service figures: {key: value}, withheld values as None, and
    "withheld": the keys withheld."""
    out: dict[str, Any] = {}
    withheld: list[str] = []
    for figure in FIGURES:
        value = value_at(service, figure.key)
        base = value if figure.kind == "people" else value_at(service, figure.people)
        if (suppressed(base, min_group) or (figure.kind == "count" and suppressed(value, min_group))
                or (figure.kind == "rate" and (base or 0) < min_group and value is not None)):
            value = WITHHELD
            withheld.append(figure.key)
        out[figure.key] = value
    out["withheld"] = withheld
    return out


def fidelity(service: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The data-scored fidelity items, service-wide (no worker is named)."""
    return [{"key": key, "label": ITEM_LABELS.get(key, key.replace("_", " ").capitalize()), "value": item.get("value"),
             "unit": item.get("unit"), "score": item.get("score")}
            for key, item in (service.get("fidelity") or {}).items()]


def over_time(service: Mapping[str, Any], precision: str, min_group: int) -> list[dict[str, Any]]:
    """Referrals and job starts per month, quarter or year (EVALUATOR_DATE_PRECISION), small counts withheld."""
    periods: dict[str, dict[str, Any]] = {}
    for month in service.get("by_month") or ():
        key = generalise(date.fromisoformat(month["start"]), precision)
        row = periods.setdefault(key, {"period": key, "referrals": 0, "job_starts": 0})
        row["referrals"] += month["referrals"]
        row["job_starts"] += month["job_starts"]
    for row in periods.values():
        for name in ("referrals", "job_starts"):
            if suppressed(row[name], min_group):
                row[name] = WITHHELD
    return no_remainder(list(periods.values()), ("referrals", "job_starts"))


def _days(start: date, end: date | None) -> int | None:
    return (end - start).days if end is not None and end >= start else None


def journey(case: CaseRecord, as_of: date) -> dict[str, int | None]:
    """Days from the referral to each step of the journey reached by `as_of` (None: not reached)."""
    def first(days: Iterable[date]) -> int | None:
        reached = [d for d in days if case.referral_date <= d <= as_of]
        return (min(reached) - case.referral_date).days if reached else None

    return {"assessment": first([case.assessment_date] if case.assessment_date else []),
            "employer_contact": first(c.date for c in case.employer_contacts if c.face_to_face),
            "paid_outcome": first(o.start for o in case.outcomes if o.paid)}


def journeys(cases: Iterable[CaseRecord], period: Period, as_of: date, min_group: int,
             group_of: Mapping[str, str]) -> list[dict[str, Any]]:
    """For the clients referred in the period (a cohort), all and by group: how many reached each step by
    `as_of` and the median days to it. A group of fewer than min_group people is withheld whole; a step
    reached by fewer shows neither its count nor its median."""
    groups: dict[str, list[dict[str, int | None]]] = {"All": []}
    for case in cases:
        if case.referral_date in period:
            steps = journey(case, as_of)
            groups["All"].append(steps)
            groups.setdefault(group_of.get(case.id) or "Not recorded", []).append(steps)
    rows = []
    for name, members in groups.items():
        whole = suppressed(len(members), min_group)
        row: dict[str, Any] = {"group": name, "people": None if whole else len(members), "withheld": whole,
                               "steps": {}}
        for step in JOURNEY_STEPS:
            days = sorted(m[step] for m in members if m[step] is not None)
            hidden = whole or suppressed(len(days), min_group)
            row["steps"][step] = {"reached": None if hidden else len(days),
                                  "median_days": statistics.median(days) if days and not hidden else None}
        rows.append(row)
    return rows


GROUP_FIELDS = {"_id": 1, "referral.cohort": 1, "referral.source": 1, "referral.date": 1, "date_of_birth": 1}


def read_groups(db: Any, period: Period) -> dict[str, dict[str, str]]:
    """{case id: {breakdown: group}} for the consented case files referred by the period end (a projection of
    the few fields the groups need; the date of birth goes no further than the age band)."""
    out = {}
    for doc in db[CLIENTS].find(referred_by(consented_match(), period.end), projection=GROUP_FIELDS):
        referral = doc.get("referral") or {}
        out[str(doc["_id"])] = {"cohort": label(COHORTS, referral.get("cohort")) if referral.get("cohort") else None,
                                "source": label(REFERRAL_SOURCES, referral.get("source")) if referral.get("source") else None,
                                "age_band": age_band(_as_date(doc.get("date_of_birth")), _as_date(referral.get("date")))}
    return out


def _as_date(value: Any) -> date | None:
    return value.date() if isinstance(value, datetime) else value


def evaluator_report(db: Any, period: Period, today: date, min_group: int, precision: str) -> dict[str, Any]:
    """Everything the evaluator dashboard shows for a period, disclosure control applied."""
    as_of = as_of_for(period, today)
    match = consented_match()
    report = load_report(db, match, period, as_of=as_of)
    service = report["service"]
    cases = list(read_cases(db, match, until=period.end))
    groups = read_groups(db, period)
    staff = read_scope_staff(db, match)
    breakdowns = {}
    for breakdown in BREAKDOWNS:
        members: dict[str, list[CaseRecord]] = {}
        for case in cases:
            members.setdefault((groups.get(case.id) or {}).get(breakdown) or "Not recorded", []).append(case)
        rows = []
        for name in _ordered(breakdown, members):
            part = load_report(db, match, period, cases=members[name], staff=staff, as_of=as_of)["service"]
            row = controlled(part, min_group)
            if suppressed(group_size(part), min_group):  # a small group is withheld whole
                row = {figure.key: WITHHELD for figure in FIGURES} | {"withheld": [f.key for f in FIGURES]}
            rows.append({"group": name, **row})
        breakdowns[breakdown] = no_remainder(rows, ADDITIVE)
    by_cohort = {case_id: g.get("cohort") for case_id, g in groups.items()}
    return {"period": report["period"], "as_of": report["as_of"], "min_group": min_group, "date_precision": precision,
            "service": controlled(service, min_group), "fidelity": fidelity(service),
            "over_time": over_time(service, precision, min_group), "breakdowns": breakdowns,
            "journeys": journeys(cases, period, as_of, min_group, by_cohort)}


def group_size(service: Mapping[str, Any]) -> int:
    """The people a group's figures rest on: the most of its people counts."""
    return max(value_at(service, f.key) or 0 for f in FIGURES if f.kind == "people")


def kept_report(db: Any, period: Period, today: date, min_group: int, precision: str) -> tuple[dict[str, Any], Any]:
    """evaluator_report as a snapshot (admin_app/snapshots.py: never more than a minute old), and when it was
    computed: the dashboard and the API's /figures share it."""
    from admin_app import snapshots

    as_of = as_of_for(period, today)
    key = f"evaluator-{min_group}-{precision}:{period.start.isoformat()}:{period.end.isoformat()}:{as_of.isoformat()}"
    found = snapshots.figures(key, lambda: evaluator_report(db, period, today, min_group, precision))
    return found.report, found.computed_at


def _ordered(breakdown: str, members: Mapping[str, Any]) -> list[str]:
    if breakdown == "age_band":
        known = [b for b in AGE_BAND_NAMES if b in members]
        return known + sorted(k for k in members if k not in known)
    return sorted(members)
