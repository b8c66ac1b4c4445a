"""The quarterly return to the OPCC: KPIs against targets, each case's progress, hours, fidelity, challenges."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Callable, Iterable, Mapping

from admin_app.metrics.kpis import (
    ACTIVE_CONTACT_DAYS,
    ADMIN_MODE,
    CONTACT_MODES,
    NEVER_ENGAGED_DECISIONS,
    engagement_date,
    is_active_on,
    paid_starts_in,
)
from admin_app.metrics.fidelity import RAPID_SEARCH_DAYS, first_employer_contact
from admin_app.metrics.periods import Period
from admin_app.metrics.records import CaseRecord
from admin_app.metrics.report import as_of_for, load_report
from admin_app.vocabulary import CASE_STATUSES, COHORTS, CONTACT_MODES as MODE_LABELS, OUTCOME_KINDS, \
    REFERRAL_DECISIONS, REFERRAL_SOURCES, label
from exports import casefiles
from exports.base import ExportContext
from exports.figures import ALL_HOURS, BENCHMARKED, BY_PATH, HOURS, TARGETED, fidelity_table, figures_table, staff_names, \
    workers_table
from exports.styling import Book, Column, text_block

TITLE = "OPCC quarterly return"
AUDIENCE = "Office of the West Midlands Police and Crime Commissioner"

# Targeted figures first, then benchmarked ones: the two charts draw those rows.
SUMMARY = (*TARGETED, *BENCHMARKED, *(BY_PATH[path] for path in (
    "referrals", "referrals_engaged", "carried_over", "active_caseload.at_end", "active_caseload.peak",
    "job_starts", "business_starts", "sustained_outcomes.sustained_13_weeks", "sustained_outcomes.ended_before_13_weeks",
    "time_to_first_paid_outcome.under_6_months", "time_to_first_paid_outcome.6_to_12_months",
    "time_to_first_paid_outcome.over_12_months")), *ALL_HOURS, BY_PATH["out_of_hours_contacts.contacts"])
WORKER_FIGURES = (BY_PATH["active_caseload.at_end"], BY_PATH["people_accessing"], BY_PATH["people_into_work"],
                  BY_PATH["job_starts"], *HOURS, BY_PATH["staff_time.total"], BY_PATH["all_hours"],
                  BY_PATH["out_of_hours_contacts.contacts"])
CASE_PROJECTION_EXTRA = ("reference", "plan_goals.goal")

#: (pymongo db, as_of day) -> rows with pot, period_start, period_end, total, committed, paid, remaining
PotFigures = Callable[[Any, date], Iterable[Mapping[str, Any]]]
POT_COLUMNS = (("pot", Column("Pot", "text")), ("period_start", Column("Funding from", "date")),
               ("period_end", Column("Funding to", "date")), ("total", Column("Total (£)", "money")),
               ("committed", Column("Committed (£)", "money")), ("paid", Column("Paid (£)", "money")),
               ("remaining", Column("Remaining (£)", "money")))

CASE_COLUMNS = (
    Column("Case reference", "text"), Column("Worker", "text"), Column("Cohort", "text"),
    Column("Referral source", "text"), Column("Referral date", "date"), Column("Decision", "text"),
    Column("Engaged on", "date"), Column("Status at start", "text", 12), Column("Status at end", "text", 12),
    Column("Active at end", "text", 9), Column("Progress since last quarter", "wrap", 45),
    Column("Paid starts in period", "int", 10, total=True), Column("Outcomes", "wrap", 50),
    Column("Objectives achieved", "int", 11, total=True), Column("Objectives open", "int", 10, total=True),
    Column("Objectives achieved (list)", "wrap", 45),
    *(Column(f"{label(MODE_LABELS, mode)} hours", "hours", 10, total=True) for mode in CONTACT_MODES),
    Column("Total hours", "hours", 10, total=True),
    Column("Employer contacts", "int", 10, total=True), Column("Recommendations", "wrap", 50),
)


def build(db: Any, path: str, ctx: ExportContext, pot_figures: PotFigures | None = None) -> dict[str, int]:
    """Write the return; with `pot_figures` (the grant pots) it gains a "Grant pots" sheet."""
    report = load_report(db, ctx.match, ctx.period, as_of=as_of_for(ctx.period, ctx.generated_at.date()))
    book = Book(path, ctx, TITLE, AUDIENCE)
    summary = figures_table(book, "Summary", report, SUMMARY,
                            "The period's KPIs for the whole service, against targets and benchmarks, with charts")
    book.column_chart(summary.sheet, "G2", "People against targets", summary, 1, len(TARGETED), (1, 2))
    book.column_chart(summary.sheet, "G18", "Rates against benchmarks", summary, len(TARGETED) + 1,
                      len(TARGETED) + len(BENCHMARKED), (1, 4), percent=True)
    cases_table(book, db, ctx, staff_names(report))
    workers_table(book, "Workers", report, WORKER_FIGURES,
                  "Caseload, targets, contact hours and staff time per worker (each contact counts for the "
                  "worker who held the case on its date; staff time for whoever logged it)")
    fidelity_table(book, "Fidelity", report, "IPS fidelity items scored from the data (1-5) and what they rest on")
    if pot_figures is not None:
        pots = book.table("Grant pots", [c for _, c in POT_COLUMNS],
                          f"The business start-up grant pots as they stood on {ctx.period.end:%d/%m/%Y}")
        for row in pot_figures(db, ctx.period.end):
            pots.add([row.get(key) for key, _ in POT_COLUMNS])
        pots.close()
    text_block(book, "Challenges and obstacles", "Written by the service manager before the return is sent",
               "Challenges and obstacles this period", ctx.notes,
               "The service manager writes the challenges and obstacles of the period here before sending the return.")
    return book.close()


def cases_table(book: Book, db: Any, ctx: ExportContext, names: Mapping[str, str]) -> None:
    table = book.table("Cases", CASE_COLUMNS,
                       "One row per case file referred in, open in, or with activity in the period; totals at the foot")
    fields = casefiles.projection(*CASE_PROJECTION_EXTRA)
    for doc, case in casefiles.stream(db, ctx.match, ctx.period, fields, sort="reference"):
        table.add(case_row(doc, case, ctx.period, names))
    table.close()


def case_row(doc: Mapping[str, Any], case: CaseRecord, period: Period, names: Mapping[str, str]) -> list[Any]:
    goals = list(casefiles.items(doc, "plan_goals"))
    achieved = [g.get("goal") or "" for g in goals if g.get("status") == "achieved"]
    minutes = dict.fromkeys(CONTACT_MODES, 0)
    for contact in case.contacts:
        if contact.date in period:
            minutes[contact.mode] = minutes.get(contact.mode, 0) + contact.minutes
    start, end = casefiles.status_before(case, period), casefiles.status_on(case, period.end)
    return [
        doc.get("reference"), names.get(case.worker_id or "", case.worker_id or "Unassigned"),
        label(COHORTS, case.cohort), label(REFERRAL_SOURCES, case.source), case.referral_date,
        label(REFERRAL_DECISIONS, case.referral_decision), engagement_date(case),
        label(CASE_STATUSES, start) if start else "Not referred", label(CASE_STATUSES, end),
        "Yes" if is_active_on(case, period.end) else "No",
        progress(case, period), casefiles.paid_starts(case, period), outcomes_text(case, period),
        len(achieved), sum(g.get("status", "open") == "open" for g in goals), "; ".join(a for a in achieved if a),
        *(minutes[mode] / 60 for mode in CONTACT_MODES), sum(minutes.values()) / 60,
        sum(e.date in period for e in case.employer_contacts), "; ".join(recommendations(case, period)),
    ]


def progress(case: CaseRecord, period: Period) -> str:
    """What changed on the case during the period, in a line."""
    parts = []
    if case.referral_date in period:
        parts.append(f"Referred {case.referral_date:%d/%m/%Y}")
    engaged = engagement_date(case)
    if engaged in period:
        parts.append(f"engaged {engaged:%d/%m/%Y}")
    start, end = casefiles.status_before(case, period), casefiles.status_on(case, period.end)
    if start and start != end:
        parts.append(f"{label(CASE_STATUSES, start)} → {label(CASE_STATUSES, end)}")
    elif start is None and end != "referred":
        parts.append(f"now {label(CASE_STATUSES, end)}")
    starts = paid_starts_in(case, period)
    if starts:
        parts.append(f"{len(starts)} paid start{'s' if len(starts) > 1 else ''}")
    others = [o for o in case.outcomes if not o.paid and o.start in period]
    if others:
        parts.append(", ".join(label(OUTCOME_KINDS, o.kind) for o in others) + " started")
    ended = [o for o in case.outcomes if o.paid and o.end in period]
    if ended:
        parts.append(f"{len(ended)} job{'s' if len(ended) > 1 else ''} ended")
    if not parts:
        return f"No change: {label(CASE_STATUSES, end)}"
    text = "; ".join(parts)
    return text[0].upper() + text[1:]


def outcomes_text(case: CaseRecord, period: Period) -> str:
    """Outcomes running at some time in the period: kind, job type and dates."""
    shown = []
    for o in sorted(case.outcomes, key=lambda o: o.start):
        if o.start <= period.end and (o.end is None or o.end >= period.start):
            what = label(OUTCOME_KINDS, o.kind) + (f" ({o.job_type})" if o.job_type else "")
            until = f" to {o.end:%d/%m/%Y}" if o.end else ", continuing"
            shown.append(f"{what} from {o.start:%d/%m/%Y}{until}")
    return "; ".join(shown)


def recommendations(case: CaseRecord, period: Period) -> list[str]:
    """Next steps the data points to on the period's last day (IPS: engagement, rapid job search, follow-along)."""
    end = period.end
    if case.referral_decision in NEVER_ENGAGED_DECISIONS or casefiles.status_on(case, end) == "closed":
        return []
    if case.referral_decision == "pending":
        return ["Decide on the referral"]
    engaged = engagement_date(case)
    if engaged is None or engaged > end:
        return ["Complete the initial assessment and agree the Vocational Action Plan"]
    out = []
    recent = end - timedelta(days=ACTIVE_CONTACT_DAYS - 1)
    if not any(c.mode != ADMIN_MODE and recent <= c.date <= end for c in case.contacts):
        out.append(f"Re-engage: no contact in the last {ACTIVE_CONTACT_DAYS} days")
    first = first_employer_contact(case)
    if (first is None or first > end) and (end - engaged).days > RAPID_SEARCH_DAYS:
        out.append("Start job development: no face-to-face employer contact yet")
    if not any(g.status == "open" for g in case.plan_goals):
        out.append("Review the Vocational Action Plan: no open goal")
    new_jobs = [o for o in paid_starts_in(case, Period(end - timedelta(days=27), end))
                if o.end is None or o.end > end]
    if new_jobs:
        out.append("Keep weekly follow-along contact in the first month of the new job")
    return out
