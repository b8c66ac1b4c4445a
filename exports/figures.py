"""Sheets that present metrics.report's figure set (the one the dashboards and the CLI show), declared once."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Mapping, Sequence

from admin_app.metrics.report import UNASSIGNED
from admin_app.vocabulary import STAFF_TIME_KINDS
from exports.styling import Book, Column, Table


@dataclass(frozen=True)
class Figure:
    path: str                    # dotted key in the report's FIGURES, e.g. "active_caseload.at_end"
    label: str
    kind: str = "int"            # int, hours, rate, date
    target: str | None = None    # key in FIGURES["targets"]
    benchmark: str | None = None  # dotted key of the benchmark the figure is held against
    additive: bool = True        # the service figure is the sum of the workers' figures


FIGURES: tuple[Figure, ...] = (
    Figure("people_accessing", "People accessing the service (engaged in the period)", target="accessing"),
    Figure("people_into_work", "People starting paid work or their own business", target="paid_outcomes"),
    Figure("employment_rate.rate", "Employment rate", "rate", benchmark="employment_rate.benchmark", additive=False),
    Figure("sustained_outcomes.sustained_rate", "Jobs sustained 13 weeks (rate)", "rate",
           benchmark="sustained_outcomes.benchmark", additive=False),
    Figure("referrals", "Referrals received"),
    Figure("referrals_engaged", "New referrals that became actively engaged"),
    Figure("carried_over", "Active cases carried over from the previous financial year"),
    Figure("active_caseload.at_end", "Active caseload at the end of the period"),
    Figure("active_caseload.peak", "Peak active caseload", additive=False),
    Figure("active_caseload.peak_date", "Day the peak was first reached", "date", additive=False),
    Figure("job_starts", "Jobs and businesses started"),
    Figure("business_starts", "of which businesses started"),
    Figure("employment_rate.people_into_work", "Employment rate: into paid work (numerator)"),
    Figure("employment_rate.people_unemployed_or_inactive", "Employment rate: unemployed or inactive at referral"),
    Figure("employment_rate.people_served", "People served in the period"),
    Figure("employment_rate.employed_at_referral", "Already employed at referral"),
    Figure("employment_rate.employed_at_referral_share", "Share already employed at referral (guideline ≤ 15%)",
           "rate", additive=False),
    Figure("employment_rate.employment_status_unknown", "Employment status at referral not recorded"),
    Figure("sustained_outcomes.jobs_started", "Jobs judged for sustainment"),
    Figure("sustained_outcomes.sustained_13_weeks", "Sustained 13 weeks"),
    Figure("sustained_outcomes.ended_before_13_weeks", "Ended before 13 weeks"),
    Figure("sustained_outcomes.too_early_for_13_weeks", "Too early to judge at 13 weeks"),
    Figure("sustained_outcomes.sustained_26_weeks", "Sustained 26 weeks"),
    Figure("sustained_outcomes.too_early_for_26_weeks", "Too early to judge at 26 weeks"),
    Figure("time_to_first_paid_outcome.under_6_months", "First paid outcome under 6 months from assessment"),
    Figure("time_to_first_paid_outcome.6_to_12_months", "First paid outcome 6 to 12 months from assessment"),
    Figure("time_to_first_paid_outcome.over_12_months", "First paid outcome over 12 months from assessment"),
    Figure("hours.face_to_face", "Face-to-face hours", "hours"),
    Figure("hours.phone", "Phone hours", "hours"),
    Figure("hours.video", "Video hours", "hours"),
    Figure("hours.message", "Message hours", "hours"),
    Figure("hours.admin", "Admin hours", "hours"),
    Figure("hours.total", "Client contact hours (all modes)", "hours"),
    *(Figure(f"staff_time.{kind}", f"Staff time: {text}", "hours") for kind, text in STAFF_TIME_KINDS),
    Figure("staff_time.total", "Staff time not tied to a client (total)", "hours"),
    Figure("all_hours", "All hours recorded (client contact and staff time)", "hours"),
    Figure("out_of_hours_contacts.contacts", "Out-of-hours contacts"),
    Figure("out_of_hours_contacts.hours", "Out-of-hours contact hours", "hours"),
)
BY_PATH = {f.path: f for f in FIGURES}


def definitions(as_of: str) -> tuple[str, ...]:
    """What the figures mean, for the cover of a workbook that presents them (its readers do not have our docs)."""
    judged = date.fromisoformat(as_of)
    return (
        "Referrals are counted on the date received, whatever the decision; a rejected or withdrawn referral counts "
        "for nothing else.",
        "People accessing the service: the initial assessment (start of the vocational profile) took place in the "
        "period and the person agreed to take part.",
        "Active caseload: accepted, not closed, a contact with the client in the 28 days before the day, and an open "
        "Vocational Action Plan. The peak is the largest caseload on any day of the period.",
        "People starting paid work counts each person once (their first start in the period); jobs and businesses "
        "started counts every start, second jobs included.",
        "Employment rate: people who moved into paid work out of those served who were unemployed or economically "
        "inactive at referral (benchmark 40%).",
        f"Sustained: a job still running 13 weeks (91 days) after its start, judged as of {judged:%d/%m/%Y}; too early "
        "to judge when 13 weeks had not passed by then (benchmark 65%).",
        "Hours: client contact time by mode; Staff time is time not tied to any client (partner meetings, travel, "
        "training, general job development), logged by each member of staff and counted apart.",
        "Out of hours: a contact that started before 09:00 or from 17:00, at a weekend or on a bank holiday of England "
        "and Wales (for contacts recorded without a time, as the worker marked it).",
        "Per worker, each referral, day on the caseload, contact and outcome counts for the worker who held the case "
        "on its date, so the workers add up to the whole service and a later reassignment changes no past figure.",
        "Targets are per full-time worker per year in post (year 1: 35 accessing, 17 into paid work; later years: "
        "45 and 22), pro rata by FTE and days in post; a new worker's first 3 months carry no target. RAG: green at "
        "or above the target, amber from 80% of it, red below.",
    )
HOURS = tuple(f for f in FIGURES if f.path.startswith("hours."))
STAFF_TIME = tuple(f for f in FIGURES if f.path.startswith("staff_time."))
ALL_HOURS = (*HOURS, *STAFF_TIME, BY_PATH["all_hours"])
TARGETED = tuple(f for f in FIGURES if f.target)
BENCHMARKED = tuple(f for f in FIGURES if f.benchmark)


def figure(figures: Mapping[str, Any], path: str) -> Any:
    """A value of the report by dotted path; None when absent."""
    value: Any = figures
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return date.fromisoformat(value) if isinstance(value, str) and _looks_like_date(value) else value


def target_of(figures: Mapping[str, Any], fig: Figure) -> Mapping[str, Any]:
    return ((figures.get("targets") or {}).get(fig.target) or {}) if fig.target else {}


def worker_label(key: str, figures: Mapping[str, Any]) -> str:
    return figures.get("name") or ("Unassigned" if key == UNASSIGNED else key)


# --- sheets ---------------------------------------------------------------------------------------

FIGURE_COLUMNS = (Column("Figure", "text"), Column("Actual", "number", 12), Column("Target", "number", 12),
                  Column("RAG", "text", 8), Column("Benchmark", "number", 12))


def figures_table(book: Book, name: str, report: Mapping[str, Any], figures: Sequence[Figure],
                  description: str) -> Table:
    """Figure | Actual | Target | RAG | Benchmark, one row per figure, for the whole service."""
    table = book.table(name, FIGURE_COLUMNS, description)
    add_figures(table, report, figures)
    table.close()
    return table


def add_figures(table: Table, report: Mapping[str, Any], figures: Sequence[Figure]) -> None:
    """The rows of a figures table (FIGURE_COLUMNS) made before the report was ready."""
    service = report["service"]
    for fig in figures:
        target = target_of(service, fig)
        benchmark = figure(service, fig.benchmark) if fig.benchmark else None
        table.add([fig.label, figure(service, fig.path), target.get("target"), target.get("rag"), benchmark],
                  kinds={1: fig.kind, 4: fig.kind})


ABOUT_WORKER = (Column("Worker", "text"), Column("Email or key", "text"), Column("FTE", "number", 8),
                Column("In post from", "date"), Column("In post to", "date"))


def workers_table(book: Book, name: str, report: Mapping[str, Any], shown: Sequence[Figure],
                  description: str) -> Table:
    """One row per worker (as the report keys them) and a last row for the whole service."""
    columns = list(ABOUT_WORKER)
    for fig in shown:
        columns.append(Column(fig.label, fig.kind, 14, total=fig.additive))
        if fig.target:
            columns += [Column(f"Target: {fig.label}", "number", 14, total=True), Column(f"RAG: {fig.label}", "text", 9)]
    table = book.table(name, columns, description, totals=True)
    for key, figures in report["workers"].items():
        about = [worker_label(key, figures), key, figures.get("fte"), figure(figures, "start_date"),
                 figure(figures, "end_date")]
        table.add(about + _figure_cells(figures, shown))
    service = _figure_cells(report["service"], shown)
    table.close("Whole service", {len(ABOUT_WORKER) + i: value for i, value in enumerate(service)})
    return table


def _figure_cells(figures: Mapping[str, Any], shown: Sequence[Figure]) -> list[Any]:
    cells = []
    for fig in shown:
        cells.append(figure(figures, fig.path))
        if fig.target:
            target = target_of(figures, fig)
            cells += [target.get("target"), target.get("rag")]
    return cells


def fidelity_items(report: Mapping[str, Any]) -> list[str]:
    return list(report["service"]["fidelity"])


def item_label(item: str) -> str:
    return item.replace("_", " ").capitalize()


def fidelity_table(book: Book, name: str, report: Mapping[str, Any], description: str) -> Table:
    """The data-scored IPS fidelity items for the whole service: value, unit, score 1-5, RAG and the counts behind them."""
    table = book.table(name, (Column("Fidelity item", "text"), Column("Value", "number", 10), Column("Unit", "text"),
                              Column("Score (1-5)", "int", 10), Column("RAG", "text", 8), Column("Counts", "wrap", 60)),
                       description)
    for item, value in report["service"]["fidelity"].items():
        table.add([item_label(item), value["value"], value["unit"], value["score"], value["rag"], detail_text(value["detail"])])
    table.close()
    return table


def fidelity_by_worker_table(book: Book, name: str, report: Mapping[str, Any], description: str) -> Table:
    items = fidelity_items(report)
    columns = [Column("Worker", "text"), Column("Email or key", "text")]
    for item in items:
        columns += [Column(f"{item_label(item)}: value", "number", 14), Column(f"{item_label(item)}: score", "int", 12)]
    table = book.table(name, columns, description, totals=True)

    def cells(figures: Mapping[str, Any]) -> list[Any]:
        return [value for item in items for value in (figures["fidelity"][item]["value"], figures["fidelity"][item]["score"])]

    for key, figures in report["workers"].items():
        table.add([worker_label(key, figures), key] + cells(figures))
    table.close("Whole service", {2 + i: value for i, value in enumerate(cells(report["service"]))})
    return table


def anchors_table(book: Book, name: str, report: Mapping[str, Any], description: str) -> Table:
    table = book.table(name, (Column("Fidelity item", "text"), Column("Better", "text", 9),
                              *(Column(f"Score {s} from", "number", 10) for s in (5, 4, 3, 2)), Column("Unit", "text")),
                       description)
    for item, anchor in report["anchors"].items():
        table.add([item_label(item), anchor["better"], *anchor["thresholds"], anchor.get("unit")])
    table.close()
    return table


def detail_text(detail: Mapping[str, Any], prefix: str = "") -> str:
    parts = []
    for key, value in detail.items():
        name = f"{prefix}{key.replace('_', ' ')}"
        parts.append(detail_text(value, f"{name} ") if isinstance(value, Mapping) else f"{name}: {value}")
    return "; ".join(parts)


def _looks_like_date(text: str) -> bool:
    return len(text) == 10 and text[4] == "-" and text[7] == "-" and text.replace("-", "").isdigit()
