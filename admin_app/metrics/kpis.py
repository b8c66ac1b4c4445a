"""The IPS Grow KPIs for a period: pure functions over CaseRecords and StaffRecords, no Flask, no database."""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from typing import Any, Iterable, Mapping

from admin_app.metrics.attribution import within
from admin_app.metrics.periods import Period, add_months, month_key, months_in
from admin_app.metrics.records import CaseRecord, ContactRecord, OutcomeRecord, StaffRecord, StaffTimeRecord
from admin_app.vocabulary import STAFF_TIME_KINDS

Interval = tuple[date, date]  # inclusive

ACTIVE_CONTACT_DAYS = 28
SUSTAINED_13_WEEKS_DAYS = 91
SUSTAINED_26_WEEKS_DAYS = 182
NEVER_ENGAGED_DECISIONS = ("rejected", "withdrawn")
UNEMPLOYED_OR_INACTIVE = ("unemployed", "inactive")
EMPLOYED_AT_REFERRAL = "employed_needing_support"
ADMIN_MODE = "admin"
EMPLOYMENT_RATE_BENCHMARK = 0.40
SUSTAINED_RATE_BENCHMARK = 0.65
TIME_BANDS = ("under_6_months", "6_to_12_months", "over_12_months")
CONTACT_MODES = ("face_to_face", "phone", "video", "message", "admin")
STAFF_TIME_KINDS_KEYS = tuple(kind for kind, _ in STAFF_TIME_KINDS)

DEFAULT_TARGETS: dict[str, Any] = {
    # Per full-time worker per year of their time in post; the last entry holds for later years.
    "years": [{"accessing": 35, "paid_outcomes": 17}, {"accessing": 45, "paid_outcomes": 22}],
    "build_up_months": 3,      # a new worker's first months build the caseload: no target
    "programme_start": None,   # ISO date; time in post is counted from the later of this and the start date
    "amber_share": 0.8,        # actual >= 80% of the pro-rata target is amber, below is red
}


# --- engagement -----------------------------------------------------------------------

def counts_for_service(case: CaseRecord) -> bool:
    """A rejected or withdrawn referral is a referral and nothing more."""
    return case.referral_decision not in NEVER_ENGAGED_DECISIONS


def engagement_date(case: CaseRecord) -> date | None:
    """The day the person accessed the service: vocational profile started and agreed to take part."""
    if counts_for_service(case) and case.agreed_to_take_part and case.assessment_date:
        return case.assessment_date
    return None


def is_referral_in(case: CaseRecord, period: Period) -> bool:
    return case.referral_date in period


def is_referral_engaged_in(case: CaseRecord, period: Period) -> bool:
    """Referred in the period and engaged by its end."""
    engaged = engagement_date(case)
    return is_referral_in(case, period) and engaged is not None and engaged <= period.end


def is_accessing_in(case: CaseRecord, period: Period) -> bool:
    """Became actively engaged during the period (the 'people accessing the service' target)."""
    return engagement_date(case) in period


# --- active client --------------------------------------------------------------------

def _intersect(a: list[Interval], b: list[Interval]) -> list[Interval]:
    out: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def _plus(day: date, days: int) -> date:
    return day + timedelta(days=days) if day < date.max - timedelta(days=days) else date.max


def accepted_intervals(case: CaseRecord) -> list[Interval]:
    """Accepted from the decision date (the referral date when it was not recorded)."""
    if case.referral_decision != "accepted":
        return []
    return [(case.referral_decision_date or case.referral_date, date.max)]


def not_closed_intervals(case: CaseRecord) -> list[Interval]:
    """Days the case was not closed, replaying the status history (a case is 'referred' before its first change)."""
    if not case.status_history:
        return [] if case.status == "closed" else [(case.referral_date, date.max)]
    changes = sorted(case.status_history, key=lambda s: s.date)  # stable: same-day changes keep their order
    out: list[Interval] = []
    start: date | None = case.referral_date if changes[0].date > case.referral_date else None
    for change in changes:
        if change.status == "closed" and start is not None:
            if start < change.date:
                out.append((start, change.date - timedelta(days=1)))
            start = None
        elif change.status != "closed" and start is None:
            start = change.date
    if start is not None:
        out.append((start, date.max))
    return _merge(out)


def contact_intervals(case: CaseRecord) -> list[Interval]:
    """Days with a client contact (not admin time) on that day or in the 27 days before it."""
    days = sorted({c.date for c in case.contacts if c.mode != ADMIN_MODE})
    return _merge([(d, _plus(d, ACTIVE_CONTACT_DAYS - 1)) for d in days])


def open_plan_intervals(case: CaseRecord) -> list[Interval]:
    """Days with an open Vocational Action Plan: from the assessment while a goal is open or not yet due."""
    if not case.plan_goals:
        return []
    start = case.assessment_date or case.referral_date
    if any(g.status == "open" for g in case.plan_goals):
        return [(start, date.max)]
    due = [g.due_date for g in case.plan_goals if g.due_date is not None]
    return [(start, max(due))] if due and max(due) >= start else []


def active_intervals(case: CaseRecord) -> list[Interval]:
    """Days the case was active: accepted, not closed, a contact in the last 28 days, an open plan."""
    out = accepted_intervals(case)
    for part in (not_closed_intervals, open_plan_intervals, contact_intervals):
        if not out:
            return out
        out = _intersect(out, part(case))
    return out


def active_intervals_in(case: CaseRecord, period: Period) -> list[Interval]:
    return _intersect(active_intervals(case), [(period.start, period.end)])


def is_active_on(case: CaseRecord, day: date, active: list[Interval] | None = None) -> bool:
    """On the active caseload on a day; `active` are the case's active intervals, if already known."""
    return any(lo <= day <= hi for lo, hi in (active_intervals(case) if active is None else active))


def _merge(intervals: list[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for lo, hi in sorted(intervals):
        if out and lo <= _plus(out[-1][1], 1):
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def carried_over_day(period: Period) -> date:
    """31 March before the financial year in which the period starts."""
    start = period.start
    return date(start.year if start.month >= 4 else start.year - 1, 3, 31)


# --- paid outcomes --------------------------------------------------------------------

def paid_outcomes(case: CaseRecord) -> list[OutcomeRecord]:
    """Paid jobs and business starts, in start order; none for a rejected or withdrawn referral."""
    if not counts_for_service(case):
        return []
    return sorted((o for o in case.outcomes if o.paid), key=lambda o: o.start)


def paid_starts_in(case: CaseRecord, period: Period) -> list[OutcomeRecord]:
    return [o for o in paid_outcomes(case) if o.start in period]


def first_paid_start_since_assessment(case: CaseRecord) -> date | None:
    if case.assessment_date is None:
        return None
    starts = [o.start for o in paid_outcomes(case) if o.start >= case.assessment_date]
    return min(starts) if starts else None


def time_band(assessment: date, first_start: date) -> str:
    """< 6 months, 6-12 months (12 months to the day included), > 12 months, by calendar months."""
    if first_start < add_months(assessment, 6):
        return TIME_BANDS[0]
    if first_start <= add_months(assessment, 12):
        return TIME_BANDS[1]
    return TIME_BANDS[2]


def sustainment(outcome: OutcomeRecord, as_of: date, days: int = SUSTAINED_13_WEEKS_DAYS) -> str:
    """'sustained', 'ended_before' or 'too_early', judged with what was known on `as_of`."""
    end = outcome.end if outcome.end is not None and outcome.end <= as_of else None
    if end is not None and (end - outcome.start).days < days:
        return "ended_before"
    if ((end or as_of) - outcome.start).days >= days:
        return "sustained"
    return "too_early"


def is_served_in(case: CaseRecord, period: Period, active: list[Interval] | None = None) -> bool:
    """Engaged by the period end and on the active caseload, or starting paid work, during it."""
    return served_day(case, period, active) is not None


def served_day(case: CaseRecord, period: Period, active: list[Interval] | None = None) -> date | None:
    """The day a served case counts on (for who held it): its first paid start in the period, else its last
    active day in the period; None when it was not served in the period."""
    engaged = engagement_date(case)
    if engaged is None or engaged > period.end:
        return None
    starts = paid_starts_in(case, period)
    if starts:
        return starts[0].start
    active = active_intervals(case) if active is None else active
    days = _intersect(active, [(period.start, period.end)])
    return days[-1][1] if days else None


# --- aggregate KPIs over many cases ---------------------------------------------------

def referrals(cases: Iterable[CaseRecord], period: Period) -> int:
    return sum(is_referral_in(c, period) for c in cases)


def referrals_engaged(cases: Iterable[CaseRecord], period: Period) -> int:
    return sum(is_referral_engaged_in(c, period) for c in cases)


def people_accessing(cases: Iterable[CaseRecord], period: Period) -> int:
    return sum(is_accessing_in(c, period) for c in cases)


def carried_over(cases: Iterable[CaseRecord], period: Period) -> int:
    day = carried_over_day(period)
    return sum(is_active_on(c, day) for c in cases)


def active_caseload(cases: Iterable[CaseRecord], day: date) -> int:
    return sum(is_active_on(c, day) for c in cases)


def caseload_peak(cases: Iterable[CaseRecord], period: Period) -> tuple[int, date | None]:
    """The largest active caseload on any day of the period, and the first day it was reached."""
    counter = DailyCount(period)
    for case in cases:
        counter.add(active_intervals_in(case, period))
    return counter.peak()


def people_into_work(cases: Iterable[CaseRecord], period: Period) -> int:
    return sum(bool(paid_starts_in(c, period)) for c in cases)


def job_starts(cases: Iterable[CaseRecord], period: Period) -> int:
    return sum(len(paid_starts_in(c, period)) for c in cases)


def employment_rate(cases: Iterable[CaseRecord], period: Period) -> dict[str, Any]:
    tally = KpiTally(period)
    for case in cases:
        tally.add_employment(case)
    return tally.employment_rate()


def sustained_outcomes(cases: Iterable[CaseRecord], period: Period, as_of: date | None = None) -> dict[str, Any]:
    tally = KpiTally(period, as_of)
    for case in cases:
        tally.add_sustainment(case)
    return tally.sustained()


def time_to_first_paid_outcome(cases: Iterable[CaseRecord], period: Period) -> dict[str, int]:
    tally = KpiTally(period)
    for case in cases:
        tally.add_time_to_first(case)
    return dict(tally.time_bands)


def hours(cases: Iterable[CaseRecord], period: Period) -> dict[str, float]:
    tally = KpiTally(period)
    for case in cases:
        for contact in case.contacts:
            tally.add_contact(contact)
    return tally.hours()


def out_of_hours_contacts(cases: Iterable[CaseRecord], period: Period) -> int:
    return sum(c.out_of_hours and c.date in period for case in cases for c in case.contacts)


def by_month(cases: Iterable[CaseRecord], period: Period) -> list[dict[str, Any]]:
    """Referrals and job starts in each calendar month of the period (months cut to the period's dates)."""
    tally = KpiTally(period)
    for case in cases:
        tally.add_monthly(case)
    return tally.by_month()


# --- one pass, many figures -----------------------------------------------------------

class DailyCount:
    """How many intervals cover each day of a period, by a difference array."""

    def __init__(self, period: Period) -> None:
        self.period = period
        self.delta = [0] * (period.days + 1)

    def add(self, intervals: Iterable[Interval]) -> None:
        for lo, hi in intervals:
            self.delta[(lo - self.period.start).days] += 1
            self.delta[(hi - self.period.start).days + 1] -= 1

    def peak(self) -> tuple[int, date | None]:
        best, best_day, running = 0, None, 0
        for offset, change in enumerate(self.delta[:-1]):
            running += change
            if running > best:
                best, best_day = running, self.period.start + timedelta(days=offset)
        return best, best_day


@dataclass
class KpiTally:
    """Running totals of every KPI for one period, for the whole service or for one worker.

    `as_of` is the day the figures are judged on (default: the period end). Sustainment and
    follow-along are judged on it; for a period still running (as_of before the end) the "at end"
    figures are taken on as_of and the peak looks only at the days up to it.
    """

    period: Period
    as_of: date | None = None
    referrals: int = 0
    referrals_engaged: int = 0
    people_accessing: int = 0
    carried_over: int = 0
    active_at_end: int = 0
    people_into_work: int = 0
    job_starts: int = 0
    business_starts: int = 0
    served: int = 0
    into_work_from_unemployed_or_inactive: int = 0
    unemployed_or_inactive: int = 0
    employed_at_referral: int = 0
    employment_status_unknown: int = 0
    sustain_13: dict[str, int] = field(default_factory=lambda: dict.fromkeys(("sustained", "ended_before", "too_early"), 0))
    sustain_26: dict[str, int] = field(default_factory=lambda: dict.fromkeys(("sustained", "ended_before", "too_early"), 0))
    time_bands: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TIME_BANDS, 0))
    minutes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CONTACT_MODES, 0))
    staff_minutes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STAFF_TIME_KINDS_KEYS, 0))
    out_of_hours: int = 0
    out_of_hours_minutes: int = 0
    monthly_referrals: dict[str, int] = field(default_factory=dict)
    monthly_job_starts: dict[str, int] = field(default_factory=dict)
    daily: DailyCount | None = None

    def __post_init__(self) -> None:
        self.as_of = self.as_of or self.period.end
        if self.as_of < self.period.start:
            raise ValueError("figures cannot be judged on a day before the period starts (as_of >= period start)")
        self.daily = DailyCount(self.period)

    @property
    def end_day(self) -> date:
        """The day the "at end" figures are taken on: the period end, or as_of while the period is running."""
        return min(self.period.end, self.as_of)

    def merge(self, other: "KpiTally") -> None:
        merge_counts(self, other)

    def add_case(self, case: CaseRecord, held: list[Interval] | None = None,
                 intervals: list[Interval] | None = None) -> bool:
        """Everything about the case that falls on a day in `held` (the days this tally's worker held it;
        None: every day). Contacts are added one by one. `intervals` are the case's active intervals, if known.

        Returns whether the case is active at the end (end_day) and held then.
        """
        referred = within(case.referral_date, held)
        self.referrals += referred and is_referral_in(case, self.period)
        self.referrals_engaged += referred and is_referral_engaged_in(case, self.period)
        self.people_accessing += within(engagement_date(case), held) and is_accessing_in(case, self.period)
        intervals = active_intervals(case) if intervals is None else intervals
        carried = carried_over_day(self.period)
        self.carried_over += within(carried, held) and any(lo <= carried <= hi for lo, hi in intervals)
        active_at_end = within(self.end_day, held) and any(lo <= self.end_day <= hi for lo, hi in intervals)
        self.active_at_end += active_at_end
        days = _intersect(intervals, [(self.period.start, self.end_day)])
        self.daily.add(days if held is None else _intersect(days, held))
        every_start = paid_starts_in(case, self.period)
        starts = [o for o in every_start if within(o.start, held)]
        self.people_into_work += bool(every_start) and within(every_start[0].start, held)
        self.job_starts += len(starts)
        self.business_starts += sum(o.kind == "self_employment" for o in starts)
        served = served_day(case, self.period, intervals)
        if served is not None and within(served, held):
            self._add_served(case, bool(every_start))
        self.add_sustainment(case, starts)
        first = first_paid_start_since_assessment(case)
        if within(first, held):
            self.add_time_to_first(case, first)
        self.add_monthly(case, starts, referred)
        return active_at_end

    def add_monthly(self, case: CaseRecord, starts: list[OutcomeRecord] | None = None, referral: bool = True) -> None:
        if referral and is_referral_in(case, self.period):
            key = month_key(case.referral_date)
            self.monthly_referrals[key] = self.monthly_referrals.get(key, 0) + 1
        for outcome in paid_starts_in(case, self.period) if starts is None else starts:
            key = month_key(outcome.start)
            self.monthly_job_starts[key] = self.monthly_job_starts.get(key, 0) + 1

    def add_employment(self, case: CaseRecord, active: list[Interval] | None = None) -> None:
        if is_served_in(case, self.period, active):
            self._add_served(case, bool(paid_starts_in(case, self.period)))

    def _add_served(self, case: CaseRecord, into_work: bool) -> None:
        """A case served in the period (is_served_in), by its employment status at referral."""
        self.served += 1
        status = case.employment_status
        if status in UNEMPLOYED_OR_INACTIVE:
            self.unemployed_or_inactive += 1
            self.into_work_from_unemployed_or_inactive += into_work
        elif status == EMPLOYED_AT_REFERRAL:
            self.employed_at_referral += 1
        else:
            self.employment_status_unknown += 1

    def add_sustainment(self, case: CaseRecord, starts: list[OutcomeRecord] | None = None) -> None:
        for outcome in paid_starts_in(case, self.period) if starts is None else starts:
            self.sustain_13[sustainment(outcome, self.as_of)] += 1
            self.sustain_26[sustainment(outcome, self.as_of, SUSTAINED_26_WEEKS_DAYS)] += 1

    def add_time_to_first(self, case: CaseRecord, first: date | None = None) -> None:
        """`first`: the case's first paid start since the assessment, if already known."""
        first = first_paid_start_since_assessment(case) if first is None else first
        if first is not None and first in self.period:
            self.time_bands[time_band(case.assessment_date, first)] += 1

    def add_contact(self, contact: ContactRecord) -> None:
        if contact.date not in self.period:
            return
        self.minutes[contact.mode] = self.minutes.get(contact.mode, 0) + contact.minutes
        if contact.out_of_hours:
            self.out_of_hours += 1
            self.out_of_hours_minutes += contact.minutes

    def add_staff_time(self, record: StaffTimeRecord) -> None:
        """Staff time that belongs to no client: counted apart from client contact time."""
        if record.date in self.period:
            self.staff_minutes[record.kind] = self.staff_minutes.get(record.kind, 0) + record.minutes

    def staff_time(self) -> dict[str, float]:
        out = {kind: round(minutes / 60, 2) for kind, minutes in self.staff_minutes.items()}
        out["total"] = round(sum(self.staff_minutes.values()) / 60, 2)
        return out

    def employment_rate(self) -> dict[str, Any]:
        return {
            "people_into_work": self.into_work_from_unemployed_or_inactive,
            "people_unemployed_or_inactive": self.unemployed_or_inactive,
            "rate": _ratio(self.into_work_from_unemployed_or_inactive, self.unemployed_or_inactive),
            "benchmark": EMPLOYMENT_RATE_BENCHMARK,
            "people_served": self.served,
            "employed_at_referral": self.employed_at_referral,
            "employed_at_referral_share": _ratio(self.employed_at_referral, self.served),
            "employment_status_unknown": self.employment_status_unknown,
        }

    def sustained(self) -> dict[str, Any]:
        s13, s26 = self.sustain_13, self.sustain_26
        return {
            "jobs_started": sum(s13.values()),
            "ended_before_13_weeks": s13["ended_before"],
            "sustained_13_weeks": s13["sustained"],
            "too_early_for_13_weeks": s13["too_early"],
            "sustained_26_weeks": s26["sustained"],
            "too_early_for_26_weeks": s26["too_early"],
            "sustained_rate": _ratio(s13["sustained"], s13["sustained"] + s13["ended_before"]),
            "benchmark": SUSTAINED_RATE_BENCHMARK,
            "as_of": self.as_of.isoformat(),
        }

    def by_month(self) -> list[dict[str, Any]]:
        return [{"month": month_key(m.start), "start": m.start.isoformat(), "end": m.end.isoformat(),
                 "referrals": self.monthly_referrals.get(month_key(m.start), 0),
                 "job_starts": self.monthly_job_starts.get(month_key(m.start), 0)}
                for m in months_in(self.period)]

    def hours(self) -> dict[str, float]:
        out = {mode: round(minutes / 60, 2) for mode, minutes in self.minutes.items()}
        out["total"] = round(sum(self.minutes.values()) / 60, 2)
        return out

    def figures(self) -> dict[str, Any]:
        peak, peak_day = self.daily.peak()
        return {
            "referrals": self.referrals,
            "referrals_engaged": self.referrals_engaged,
            "people_accessing": self.people_accessing,
            "carried_over": self.carried_over,
            "active_caseload": {"at_end": self.active_at_end, "peak": peak,
                                "peak_date": peak_day.isoformat() if peak_day else None},
            "people_into_work": self.people_into_work,
            "job_starts": self.job_starts,
            "business_starts": self.business_starts,
            "employment_rate": self.employment_rate(),
            "sustained_outcomes": self.sustained(),
            "time_to_first_paid_outcome": dict(self.time_bands),
            "hours": self.hours(),
            "staff_time": self.staff_time(),
            "all_hours": round((sum(self.minutes.values()) + sum(self.staff_minutes.values())) / 60, 2),
            "out_of_hours_contacts": {"contacts": self.out_of_hours,
                                      "hours": round(self.out_of_hours_minutes / 60, 2)},
            "by_month": self.by_month(),
        }


_SETTINGS = frozenset({"period", "as_of", "anchors"})


def merge_counts(target: Any, source: Any) -> None:
    """Add one tally's counts into another of the same kind (ints, count dicts, sets, daily counts)."""
    for f in fields(target):
        if f.name in _SETTINGS:
            continue
        mine, theirs = getattr(target, f.name), getattr(source, f.name)
        if isinstance(mine, bool) or not isinstance(mine, (int, dict, set, DailyCount)):
            continue
        if isinstance(mine, int):
            setattr(target, f.name, mine + theirs)
        elif isinstance(mine, set):
            mine |= theirs
        elif isinstance(mine, DailyCount):
            mine.delta = [a + b for a, b in zip(mine.delta, theirs.delta)]
        else:
            for key, value in theirs.items():
                if isinstance(value, list):
                    mine[key] = [a + b for a, b in zip(mine.get(key, [0] * len(value)), value)]
                else:
                    mine[key] = mine.get(key, 0) + value


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


# --- per-worker targets ---------------------------------------------------------------

def worker_target(staff: StaffRecord, period: Period, targets: Mapping[str, Any] = DEFAULT_TARGETS) -> dict[str, float]:
    """The worker's targets for the period: yearly figures by time in post, pro rata by days, FTE and build-up."""
    years = targets["years"]
    totals = dict.fromkeys(years[0], 0.0)
    programme_start = _as_date(targets.get("programme_start"))
    tenure_start = max(d for d in (staff.start_date, programme_start, date.min) if d is not None)
    if tenure_start == date.min:  # no start date known: in post for years, so the last year's figures
        tenure_start = add_months(period.start, -12 * len(years))
    build_up = int(targets.get("build_up_months", 0))
    year = 1
    while (year_start := add_months(tenure_start, 12 * (year - 1))) <= period.end:
        year_end = add_months(tenure_start, 12 * year) - timedelta(days=1)
        counted_from = add_months(tenure_start, build_up) if year == 1 else year_start
        counted_days = (year_end - counted_from).days + 1
        # Each day counted at the FTE worked that day (the staff profile's FTE history).
        share = _fte_overlap(period, counted_from, year_end, staff) / counted_days if counted_days > 0 else 0.0
        for name, figure in years[min(year, len(years)) - 1].items():
            totals[name] += figure * share
        year += 1
    return totals


def _fte_overlap(period: Period, lo: date, hi: date, staff: StaffRecord) -> float:
    lo, hi = max(lo, period.start), min(hi, period.end)
    return staff.fte_days(lo, hi) if lo <= hi else 0.0


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def target_rag(actual: float, target: float, amber_share: float) -> str | None:
    """green at or above the target, amber from amber_share of it, red below; None before any target applies."""
    if target <= 0:
        return None
    if actual >= target:
        return "green"
    return "amber" if actual >= amber_share * target else "red"
