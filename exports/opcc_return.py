"""The quarterly return to the OPCC: KPIs against targets, each case's progress, hours, fidelity, challenges."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Callable, Iterable, Iterator, Mapping

from admin_app.metrics.kpis import (
    ACTIVE_CONTACT_DAYS,
    ADMIN_MODE,
    CONTACT_MODES,
    NEVER_ENGAGED_DECISIONS,
    Interval,
    active_intervals,
    engagement_date,
    is_accessing_in,
    is_active_on,
    is_referral_in,
    paid_starts_in,
)
from admin_app.metrics.fidelity import BAND_LABELS, ITEM_LABELS, RAPID_SEARCH_DAYS, first_employer_contact
from admin_app.metrics.periods import Period, financial_year_of, previous_quarter
from admin_app.metrics.records import CaseRecord
from admin_app.metrics.report import as_of_for, case_match, load_report, read_scope_staff, scoped_worker
from admin_app.vocabulary import CASE_STATUSES, COHORTS, CONTACT_MODES as MODE_LABELS, OUTCOME_KINDS, \
    REFERRAL_DECISIONS, REFERRAL_SOURCES, REJECTION_REASONS, label
from exports import casefiles
from exports.base import ExportContext
from exports.figures import ALL_HOURS, BENCHMARKED, BY_PATH, FIGURE_COLUMNS, HOURS, TARGETED, add_figures, \
    definitions, detail_text, figure, workers_table
from exports.styling import Book, Column, Table, text_block

TITLE = "OPCC quarterly return"
AUDIENCE = "Office of the West Midlands Police and Crime Commissioner"

# Targeted figures first, then benchmarked ones: the two charts draw those rows.
SUMMARY = (*TARGETED, *BENCHMARKED, *(BY_PATH[path] for path in (
    "referrals", "referrals_engaged", "carried_over", "active_caseload.at_end", "active_caseload.peak",
    "job_starts", "business_starts", "sustained_outcomes.jobs_started", "sustained_outcomes.sustained_13_weeks",
    "sustained_outcomes.ended_before_13_weeks", "sustained_outcomes.too_early_for_13_weeks",
    "time_to_first_paid_outcome.under_6_months", "time_to_first_paid_outcome.6_to_12_months",
    "time_to_first_paid_outcome.over_12_months")), *ALL_HOURS, BY_PATH["out_of_hours_contacts.contacts"])
WORKER_FIGURES = (BY_PATH["active_caseload.at_end"], BY_PATH["people_accessing"], BY_PATH["people_into_work"],
                  BY_PATH["job_starts"], *HOURS, BY_PATH["staff_time.total"], BY_PATH["all_hours"],
                  BY_PATH["out_of_hours_contacts.contacts"])
CASE_PROJECTION_EXTRA = ("reference", "plan_goals.goal", "date_of_birth", "consent.preferred_language",
                         "referral.rejection_reason", "status_history.reason", "progress_updates.date",
                         "progress_updates.progress", "progress_updates.challenges", "progress_updates.needs")
#: The groups of the breakdown sheet, each adding up to the service's figures.
AGE_BANDS = ((18, 21), (22, 25), (26, 30), (31, 35))
BREAKDOWN_COLUMNS = (Column("Breakdown", "text", 16), Column("Group", "text", 30),
                     Column("Referrals received", "int", 11), Column("People accessing the service", "int", 11),
                     Column("People starting paid work", "int", 11), Column("Active caseload at the end", "int", 11))
NOT_TAKEN_UP_COLUMNS = (Column("Case reference", "text"), Column("Referral source", "text"), Column("Cohort", "text"),
                        Column("Referral date", "date"), Column("Decision", "text", 11), Column("Decision date", "date"),
                        Column("Reason", "text", 26), Column("What was recorded", "wrap", 60))

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
    Column("Active at end", "text", 9),
    Column("Worker's account: progress this quarter", "wrap", 50), Column("Worker's account: challenges and needs", "wrap", 45),
    Column("What changed (from the records)", "wrap", 40),
    Column("Paid starts in period", "int", 10, total=True), Column("Outcomes", "wrap", 50),
    Column("Objectives achieved", "int", 11, total=True), Column("Objectives open", "int", 10, total=True),
    Column("Objectives achieved (list)", "wrap", 45),
    *(Column(f"{label(MODE_LABELS, mode)} hours", "hours", 10, total=True) for mode in CONTACT_MODES),
    Column("Total hours", "hours", 10, total=True),
    Column("Employer contacts", "int", 10, total=True), Column("Recommendations", "wrap", 50),
)


def build(db: Any, path: str, ctx: ExportContext, pot_figures: PotFigures | None = None) -> dict[str, int]:
    """Write the return; with `pot_figures` (the grant pots) it gains a "Grant pots" sheet.

    The case files are read once: each one's record feeds the report (this period, the quarter before, the
    year to date) and, when the period touches it, its row on the Cases sheet and its breakdown counts. The
    Summary and comparison sheets come first in the workbook, so they are made before that pass and filled
    after it (each sheet is still written top to bottom).
    """
    review = latest_review(db, ctx.period.end)
    as_of = as_of_for(ctx.period, ctx.generated_at.date())
    compare = comparison_periods(ctx.period)
    staff = read_scope_staff(db, ctx.match)
    book = Book(path, ctx, TITLE, AUDIENCE, notes=definitions(as_of.isoformat()))
    summary = book.table("Summary", FIGURE_COLUMNS,
                         "The period's KPIs for the whole service, against targets and benchmarks, with charts")
    comparison = comparison_table(book, compare)
    cases = CasesSheet(book, ctx, {s.user_id: s.name or s.email for s in staff})
    report = load_report(db, ctx.match, ctx.period, as_of=as_of, compare=compare, staff=staff,
                         manager_scores=review["scores"] if review else None,
                         cases=cases.records(db, case_match(ctx.match), scoped_worker(ctx.match)))
    add_figures(summary, report, SUMMARY)
    summary.close()
    book.column_chart(summary.sheet, "G2", "People against targets", summary, 1, len(TARGETED), (1, 2))
    book.column_chart(summary.sheet, "G18", "Rates against benchmarks", summary, len(TARGETED) + 1,
                      len(TARGETED) + len(BENCHMARKED), (1, 4), percent=True)
    add_comparison(comparison, report)
    cases.table.close()
    breakdown_table(book, cases.groups)
    not_taken_up_table(book, cases.groups.not_taken_up)
    workers_table(book, "Workers", report, WORKER_FIGURES,
                  "Caseload, targets, contact hours and staff time per worker (each contact counts for the "
                  "worker who held the case on its date; staff time for whoever logged it)")
    fidelity_total_table(book, report, review)
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


def comparison_periods(period: Period) -> dict[str, Period]:
    """The previous quarter and the financial year to the period's end, beside the period."""
    return {"previous_quarter": previous_quarter(period.start),
            "year_to_date": Period(financial_year_of(period.end).start, period.end)}


COMPARED = ("people_accessing", "people_into_work", "referrals", "referrals_engaged", "active_caseload.at_end",
            "active_caseload.peak", "job_starts", "business_starts", "employment_rate.rate",
            "sustained_outcomes.sustained_13_weeks", "sustained_outcomes.ended_before_13_weeks",
            "sustained_outcomes.too_early_for_13_weeks", "sustained_outcomes.sustained_rate", "hours.face_to_face",
            "hours.admin", "hours.total", "staff_time.total", "all_hours", "out_of_hours_contacts.contacts")


def comparison_table(book: Book, compare: Mapping[str, Period]) -> Table:
    before, year = compare["previous_quarter"], compare["year_to_date"]
    return book.table("This quarter and before", (
        Column("Figure", "text"), Column("This period", "number", 12),
        Column(f"Previous quarter ({_span(before)})", "number", 16),
        Column(f"Financial year to date ({_span(year)})", "number", 16)),
        "The period beside the quarter before it and the financial year to the period's end")


def add_comparison(table: Table, report: Mapping[str, Any]) -> None:
    before, year = report["compare"]["previous_quarter"], report["compare"]["year_to_date"]
    for path in COMPARED:
        fig = BY_PATH[path]
        kind = "rate" if fig.kind == "rate" else ("hours" if fig.kind == "hours" else "int")
        table.add([fig.label, figure(report["service"], path), figure(before, path), figure(year, path)],
                  kinds={1: kind, 2: kind, 3: kind})
    table.close()


def _span(period: Period) -> str:
    return f"{period.start:%d/%m/%Y} to {period.end:%d/%m/%Y}"


class Groups:
    """The breakdown counts, and the referrals not taken up, gathered while the Cases sheet is written."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], list[int]] = {}
        self.not_taken_up: list[list[Any]] = []

    def add(self, doc: Mapping[str, Any], case: CaseRecord, period: Period, end_day: date,
            active: list[Interval] | None = None) -> None:
        figures = [int(is_referral_in(case, period)), int(is_accessing_in(case, period)),
                   int(bool(paid_starts_in(case, period))), int(is_active_on(case, end_day, active))]
        for breakdown, group in (("Cohort", label(COHORTS, case.cohort) or "Not recorded"),
                                 ("Referral source", label(REFERRAL_SOURCES, case.source) or "Not recorded"),
                                 ("Age at referral", age_band(doc, case)),
                                 ("Preferred language", (doc.get("consent") or {}).get("preferred_language")
                                  or "Not recorded")):
            counts = self.counts.setdefault((breakdown, group), [0, 0, 0, 0])
            for i, value in enumerate(figures):
                counts[i] += value
        decided = case.referral_decision_date or case.referral_date
        if case.referral_decision in NEVER_ENGAGED_DECISIONS and decided in period:
            self.not_taken_up.append(not_taken_up_row(doc, case, decided))


def age_band(doc: Mapping[str, Any], case: CaseRecord) -> str:
    born = casefiles.day(doc.get("date_of_birth"))
    if born is None:
        return "Not recorded"
    age = case.referral_date.year - born.year - ((case.referral_date.month, case.referral_date.day) < (born.month, born.day))
    for low, high in AGE_BANDS:
        if low <= age <= high:
            return f"{low} to {high}"
    return "Outside 18 to 35"


def not_taken_up_row(doc: Mapping[str, Any], case: CaseRecord, decided: date) -> list[Any]:
    referral = doc.get("referral") or {}
    closing = [s for s in casefiles.items(doc, "status_history") if s.get("status") == "closed"
               and casefiles.day(s.get("date")) == decided]
    recorded = (closing[-1].get("reason") if closing else None) or ""
    reason = label(REJECTION_REASONS, referral.get("rejection_reason")) if case.referral_decision == "rejected" else \
        (recorded.split(":", 1)[1].strip() if ":" in recorded else recorded) or "Not recorded"
    return [doc.get("reference"), label(REFERRAL_SOURCES, case.source), label(COHORTS, case.cohort), case.referral_date,
            label(REFERRAL_DECISIONS, case.referral_decision), decided, reason or "Not recorded", recorded]


def breakdown_table(book: Book, groups: Groups) -> None:
    table = book.table("Breakdowns", BREAKDOWN_COLUMNS,
                       "The period's figures by cohort, referral source, age at referral and preferred language; "
                       "each breakdown adds up to the Summary")
    order = {name: i for i, name in enumerate(("Cohort", "Referral source", "Age at referral", "Preferred language"))}
    for (breakdown, group), counts in sorted(groups.counts.items(), key=lambda kv: (order[kv[0][0]], kv[0][1])):
        table.add([breakdown, group, *counts])
    table.close()


def not_taken_up_table(book: Book, rows: list[list[Any]]) -> None:
    table = book.table("Referrals not taken up", NOT_TAKEN_UP_COLUMNS,
                       "Referrals rejected or withdrawn in the period, with the reason recorded")
    for row in rows:
        table.add(row)
    table.close()


def latest_review(db: Any, by: date) -> dict[str, Any] | None:
    """The manager's latest IPS fidelity review made by `by`: its date and scores."""
    review = db["fidelity_reviews"].find_one({"review_date": {"$lte": datetime(by.year, by.month, by.day)}},
                                             projection={"review_date": 1, "manager_scores": 1},
                                             sort=[("review_date", -1)])
    if review is None:
        return None
    scores = {s["item"]: s["score"] for s in review.get("manager_scores") or [] if s.get("item") and s.get("score")}
    return {"date": casefiles.day(review["review_date"]), "scores": scores}


def fidelity_total_table(book: Book, report: Mapping[str, Any], review: Mapping[str, Any] | None) -> None:
    """The data-scored items, then the 25-item total and band with the manager's latest review."""
    table = book.table("Fidelity", (Column("Fidelity item", "text"), Column("Value", "number", 10),
                                    Column("Unit", "text"), Column("Score (1-5)", "int", 10), Column("RAG", "text", 8),
                                    Column("Counts", "wrap", 60)),
                       "IPS fidelity: the items scored from the data, and the total and band of the full 25-item "
                       "review with the manager's latest scores")
    for item, value in report["service"]["fidelity"].items():
        table.add([ITEM_LABELS.get(item, item), value["value"], value["unit"], value["score"], value["rag"],
                   detail_text(value["detail"])])
    full = report.get("fidelity_review")
    if full is None:
        table.add(["Full review total (out of 125)", None, None, None, None,
                   "No fidelity review by the manager yet: the 17 items the data cannot score are unscored."])
    else:
        band = BAND_LABELS.get(full["band"]) if full["band"] else "Incomplete: " + ", ".join(
            ITEM_LABELS.get(i, i) for i in full["missing"])
        table.add([f"Full review total (out of {full['maximum']})", full["total"], "points", None, None,
                   f"Band: {band}. The data-scored items of this period with the manager's review of "
                   f"{review['date']:%d/%m/%Y}; bands: 115-125 exemplary, 100-114 good, 74-99 fair, 73 or less not IPS."],
                  kinds={1: "int"})
    table.close()


class CasesSheet:
    """The Cases sheet and the breakdown counts, written from the one pass over the case files."""

    def __init__(self, book: Book, ctx: ExportContext, names: Mapping[str, str]) -> None:
        self.table = book.table("Cases", CASE_COLUMNS, "One row per case file referred in, open in, or with "
                                                       "activity in the period; totals at the foot")
        self.ctx, self.names, self.groups = ctx, names, Groups()

    def records(self, db: Any, match: Mapping[str, Any], worker: Any = None) -> Iterator[CaseRecord]:
        """Every case record the report needs (`match`: the report's read), writing on the way the rows of those
        the period touches; in a worker's scope only their current caseload gets rows (the report also reads the
        case files they held before)."""
        period = self.ctx.period
        end_day = min(period.end, as_of_for(period, self.ctx.generated_at.date()))
        fields = casefiles.projection(*CASE_PROJECTION_EXTRA)
        for doc, case in casefiles.read(db, match, period, fields, sort="reference"):
            if casefiles.touches(case, period) and (worker is None or str(doc.get("worker")) == str(worker)):
                active = active_intervals(case)  # worked out once for the row and the breakdowns
                self.table.add(case_row(doc, case, period, self.names, active))
                self.groups.add(doc, case, period, end_day, active)
            yield case


def worker_account(doc: Mapping[str, Any], period: Period) -> tuple[str, str]:
    """The worker's own account from their latest quarterly update dated in the period: progress; challenges and needs."""
    updates = [u for u in casefiles.items(doc, "progress_updates") if casefiles.day(u.get("date")) in period]
    if not updates:
        return "No quarterly update written for this period", ""
    latest = max(updates, key=lambda u: casefiles.day(u.get("date")))
    needs = "; ".join(part for part in (latest.get("challenges"), latest.get("needs")) if part)
    return latest.get("progress") or "", needs


def case_row(doc: Mapping[str, Any], case: CaseRecord, period: Period, names: Mapping[str, str],
             active: list[Interval] | None = None) -> list[Any]:
    goals = list(casefiles.items(doc, "plan_goals"))
    achieved = [g.get("goal") or "" for g in goals if g.get("status") == "achieved"]
    minutes = dict.fromkeys(CONTACT_MODES, 0)
    for contact in case.contacts:
        if contact.date in period:
            minutes[contact.mode] = minutes.get(contact.mode, 0) + contact.minutes
    start, end = casefiles.status_before(case, period), casefiles.status_on(case, period.end)
    return [
        doc.get("reference"),
        names.get(case.worker_id, f"user:{case.worker_id}") if case.worker_id else "Unassigned",
        label(COHORTS, case.cohort), label(REFERRAL_SOURCES, case.source), case.referral_date,
        label(REFERRAL_DECISIONS, case.referral_decision), engagement_date(case),
        label(CASE_STATUSES, start) if start else "Not referred", label(CASE_STATUSES, end),
        "Yes" if is_active_on(case, period.end, active) else "No",
        *worker_account(doc, period), progress(case, period), casefiles.paid_starts(case, period), outcomes_text(case, period),
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
