"""Dashboards: the service dashboard and "My caseload", both drawn from metrics.report.load_report.

Charts are inline SVG built here on the server: no JavaScript library, nothing from a CDN.
"""
from __future__ import annotations

import re

from datetime import date, datetime
from typing import Any, Mapping, NamedTuple
from zoneinfo import ZoneInfo

from bson import ObjectId
from flask import abort, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_login import current_user
from markupsafe import Markup, escape

from admin_app import formats, snapshots
from admin_app.db import database
from admin_app.metrics.fidelity import BAND_LABELS, ITEM_LABELS
from admin_app.metrics.periods import (
    Period,
    financial_year,
    financial_year_of,
    fy_label,
    fy_start_year,
    london_today,
    month_of,
    quarter,
    quarter_number,
)
from admin_app.metrics.report import UNASSIGNED, as_of_for, load_report
from admin_app.security import has_permission, scope_match
from admin_app.vocabulary import STAFF_TIME_KINDS, label

SERVICE = "dashboard.service"
CASELOAD = "dashboard.caseload"
#: The caseload band a full-time worker should sit in (IPS caseload_size anchors 20 and 25).
BAND_LOW, BAND_HIGH = 20, 25
RAG_CLASSES = {"green": "success", "amber": "warning", "red": "danger"}
REFERRALS_COLOUR, JOB_STARTS_COLOUR = "#007bff", "#28a745"


# --- period picker --------------------------------------------------------------------------------

def pick_period(args: Mapping[str, str], today: date) -> tuple[Period, dict[str, Any], list[str]]:
    """The period asked for in the GET form, the form's values, and any messages about bad input.

    Bad input never raises: it is reported and the current financial year is used instead.
    """
    kind = (args.get("kind") or "fy").strip()
    current_fy = fy_start_year(today)
    form = {"kind": kind, "fy": str(current_fy), "q": str(quarter_number(today)),
            "start": (args.get("start") or "").strip(), "end": (args.get("end") or "").strip()}
    messages: list[str] = []
    fallback = financial_year_of(today)

    def year_arg() -> int:
        raw = (args.get("fy") or str(current_fy)).strip()
        if not raw.isdigit() or not 2000 <= int(raw) <= 2100:
            raise ValueError(f"“{raw}” is not a financial year; choose one from the list.")
        form["fy"] = raw
        return int(raw)

    try:
        if kind == "fy":
            return financial_year(year_arg()), form, messages
        if kind == "quarter":
            year = year_arg()
            raw_q = (args.get("q") or "").strip()
            if raw_q not in ("1", "2", "3", "4"):
                raise ValueError(f"“{raw_q}” is not a quarter; choose Q1, Q2, Q3 or Q4.")
            form["q"] = raw_q
            return quarter(year, int(raw_q)), form, messages
        if kind == "custom":
            start = _date_arg(form["start"], "From")
            end = _date_arg(form["end"], "To")
            if start > end:
                raise ValueError(f"The “To” date ({end.isoformat()}) is before the “From” date ({start.isoformat()}).")
            if (end - start).days > MAX_PERIOD_DAYS:
                raise ValueError(f"A period can be at most {MAX_PERIOD_DAYS // 365} years long.")
            return Period(start, end), form, messages
        raise ValueError(f"“{kind}” is not a kind of period; choose financial year, quarter or custom dates.")
    except ValueError as exc:
        messages.append(f"{exc} Showing the current financial year ({fy_label(current_fy)}) instead.")
        form.update(kind="fy", fy=str(current_fy))
        return fallback, form, messages


#: The service's figures start in 2000 at the earliest; a period longer than this is not a question anyone asks.
EARLIEST_PERIOD_DATE, LATEST_PERIOD_DATE = date(2000, 1, 1), date(2100, 12, 31)
MAX_PERIOD_DAYS = 10 * 365 + 2


def _date_arg(raw: str, label: str) -> date:
    if not raw:
        raise ValueError(f"The “{label}” date is missing; enter it as YYYY-MM-DD.")
    try:
        day = date.fromisoformat(raw[:40])
    except ValueError:
        raise ValueError(f"The “{label}” date “{raw[:40]}” is not a valid date; enter it as YYYY-MM-DD.") from None
    if not EARLIEST_PERIOD_DATE <= day <= LATEST_PERIOD_DATE:
        raise ValueError(f"The “{label}” date must be between {EARLIEST_PERIOD_DATE:%d/%m/%Y} and "
                         f"{LATEST_PERIOD_DATE:%d/%m/%Y}.")
    return day


# --- inline SVG charts ------------------------------------------------------------------------------

def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


# Job starts are hatched as well as coloured, so a month's two bars differ without colour (WCAG 1.4.1).
JOB_STARTS_PATTERN = (
    f'<defs><pattern id="job-starts-hatch" width="5" height="5" patternUnits="userSpaceOnUse" '
    f'patternTransform="rotate(45)"><rect width="5" height="5" fill="{JOB_STARTS_COLOUR}"/>'
    f'<line x1="0" y1="0" x2="0" y2="5" stroke="#fff" stroke-width="2"/></pattern></defs>')
JOB_STARTS_FILL = "url(#job-starts-hatch)"


def svg_chart(width: int, height: int, title: str, body: list[str], facts: list[str]) -> Markup:
    """An inline chart whose text alternative is its title and every figure it draws (`facts`), so that
    nothing in it is told by colour or position alone (WCAG 1.1.1, 1.4.1)."""
    key = "chart-" + re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="e4e-chart" width="100%" '
        f'viewBox="0 0 {width} {height}" preserveAspectRatio="xMinYMin meet" style="max-width:{width}px" '
        f'aria-labelledby="{key}-title" aria-describedby="{key}-desc">'
        f'<title id="{key}-title">{escape(title)}</title><desc id="{key}-desc">{escape("; ".join(facts))}.</desc>'
        f"{''.join(body)}</svg>"
    )


def caseload_chart(rows: list[dict[str, Any]]) -> Markup | None:
    """Horizontal bars of active caseload per worker, the 20-25 band (pro rata FTE) shaded, the cap as a red line.

    rows: {"name", "caseload", "fte", "cap"} per worker.
    """
    if not rows:
        return None
    label_w, bar_w, row_h, top = 170, 380, 30, 24
    scale_max = max([r["caseload"] for r in rows] + [(r["cap"] or 0) for r in rows]
                    + [BAND_HIGH * (r["fte"] or 1.0) for r in rows]) or 1
    scale_max = scale_max * 1.1
    x = lambda v: label_w + bar_w * v / scale_max  # noqa: E731
    height = top + row_h * len(rows) + 30
    body = [
        f'<rect x="{label_w}" y="4" width="12" height="10" fill="#d4edda" stroke="#28a745"/>'
        f'<text x="{label_w + 16}" y="13" font-size="11">{BAND_LOW}–{BAND_HIGH} band (pro rata FTE)</text>'
        f'<line x1="{label_w + 190}" y1="4" x2="{label_w + 190}" y2="15" stroke="#dc3545" stroke-width="3"/>'
        f'<text x="{label_w + 196}" y="13" font-size="11">caseload cap</text>'
    ]
    facts = []
    for i, row in enumerate(rows):
        y = top + i * row_h
        fte = row["fte"] if row["fte"] is not None else 1.0
        low, high = BAND_LOW * fte, BAND_HIGH * fte
        body.append(f'<text x="{label_w - 6}" y="{y + 18}" font-size="12" text-anchor="end">{escape(row["name"])}</text>')
        body.append(f'<rect x="{x(low):.1f}" y="{y + 2}" width="{x(high) - x(low):.1f}" height="{row_h - 6}" '
                    f'fill="#d4edda" stroke="#28a745" stroke-dasharray="3,2"/>')
        over = row["cap"] is not None and row["caseload"] > row["cap"]
        colour = "#dc3545" if over else "#007bff"
        body.append(f'<rect x="{label_w}" y="{y + 7}" width="{x(row["caseload"]) - label_w:.1f}" height="{row_h - 16}" '
                    f'fill="{colour}" data-caseload="{row["caseload"]}"><title>{escape(row["name"])}: '
                    f'{row["caseload"]} active</title></rect>')
        body.append(f'<text x="{x(row["caseload"]) + 4:.1f}" y="{y + 18}" font-size="11">{row["caseload"]}'
                    f'{" over the cap" if over else ""}</text>')
        facts.append(f'{row["name"]}: {row["caseload"]} active'
                     + (f', band {_num(low)} to {_num(high)}' if row["fte"] is not None else "")
                     + (f', cap {row["cap"]}' if row["cap"] is not None else "") + (", over the cap" if over else ""))
        if row["cap"] is not None:
            body.append(f'<line x1="{x(row["cap"]):.1f}" y1="{y}" x2="{x(row["cap"]):.1f}" y2="{y + row_h - 2}" '
                        f'stroke="#dc3545" stroke-width="3" data-cap="{row["cap"]}"><title>cap {row["cap"]}</title></line>')
    axis_y = top + row_h * len(rows) + 4
    body.append(f'<line x1="{label_w}" y1="{axis_y}" x2="{label_w + bar_w}" y2="{axis_y}" stroke="#6c757d"/>')
    step = 5 if scale_max <= 60 else 10
    for tick in range(0, int(scale_max) + 1, step):
        body.append(f'<text x="{x(tick):.1f}" y="{axis_y + 14}" font-size="10" text-anchor="middle">{tick}</text>')
    return svg_chart(label_w + bar_w + 30, height + 6, "Active caseload per worker", body, facts)


def column_chart(title: str, bars: list[tuple[str, float, str]], unit: str = "") -> Markup:
    """Simple vertical bars: (label, value, colour)."""
    width, height, base, left = 420, 220, 180, 20
    top_value = max([v for _, v, _ in bars] + [0]) or 1
    slot = (width - left * 2) / max(len(bars), 1)
    bar_w = min(80, slot * 0.6)
    body = [f'<line x1="{left}" y1="{base}" x2="{width - left}" y2="{base}" stroke="#6c757d"/>']
    for i, (name, value, colour) in enumerate(bars):
        h = (base - 30) * value / top_value
        cx = left + slot * i + slot / 2
        body.append(f'<rect x="{cx - bar_w / 2:.1f}" y="{base - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                    f'fill="{colour}"><title>{escape(name)}: {_num(value)}{escape(unit)}</title></rect>')
        body.append(f'<text x="{cx:.1f}" y="{base - h - 5:.1f}" font-size="12" text-anchor="middle">'
                    f'{_num(value)}{escape(unit)}</text>')
        body.append(f'<text x="{cx:.1f}" y="{base + 16}" font-size="12" text-anchor="middle">{escape(name)}</text>')
    return svg_chart(width, height, title, body, [f"{name}: {_num(value)}{unit}" for name, value, _ in bars])


def hours_chart(hours: Mapping[str, float], staff_time: Mapping[str, float] | None = None) -> Markup:
    return column_chart("Hours: client contact by mode, and staff time not tied to a client", [
        ("Face-to-face", hours.get("face_to_face", 0) or 0, "#28a745"),
        ("Phone/video/message", sum(hours.get(k, 0) or 0 for k in ("phone", "video", "message")), "#17a2b8"),
        ("Admin", hours.get("admin", 0) or 0, "#6c757d"),
        ("Staff time", (staff_time or {}).get("total", 0) or 0, "#6f42c1"),
    ], " h")


def staff_time_rows(staff_time: Mapping[str, float]) -> list[tuple[str, float]]:
    """(kind label, hours) of each kind of staff time logged in the period."""
    return [(label(STAFF_TIME_KINDS, kind), value) for kind, value in staff_time.items() if kind != "total" and value]


class BarPair(NamedTuple):
    """One column of a referrals-and-job-starts chart; a count of None is withheld: marked, not drawn."""
    attribute: str  # the data attribute naming the column ("month", "period")
    key: str
    name: str  # in the tooltips and the text alternative
    tick: str  # under the bars
    referrals: int | None
    job_starts: int | None
    second_tick: str = ""


def referrals_and_job_starts_chart(title: str, columns: list[BarPair], legend: str = "Job starts (hatched)",
                                   withheld: str = "<5", withheld_words: str = "fewer than 5") -> Markup | None:
    """Referrals and job starts side by side for each column, every figure also told in words."""
    if not columns:
        return None
    left, group, bar_w, base, top = 34, max(46, 10 + 6 * max(len(c.tick) for c in columns)), 17, 190, 34
    width, height = max(left + group * len(columns) + 16, left + 110 + 6 * len(legend)), base + 40
    top_value = max([c.referrals or 0 for c in columns] + [c.job_starts or 0 for c in columns] + [1])
    y = lambda v: base - (base - top) * v / top_value  # noqa: E731
    body = [
        JOB_STARTS_PATTERN +
        f'<rect x="{left}" y="4" width="12" height="10" fill="{REFERRALS_COLOUR}"/>'
        f'<text x="{left + 16}" y="13" font-size="11">Referrals</text>'
        f'<rect x="{left + 90}" y="4" width="12" height="10" fill="{JOB_STARTS_FILL}" stroke="{JOB_STARTS_COLOUR}"/>'
        f'<text x="{left + 106}" y="13" font-size="11">{escape(legend)}</text>',
        f'<line x1="{left}" y1="{base}" x2="{width - 10}" y2="{base}" stroke="#6c757d"/>',
        f'<text x="{left - 4}" y="{y(top_value) + 4:.1f}" font-size="10" text-anchor="end">{top_value}</text>'
        f'<text x="{left - 4}" y="{base + 4}" font-size="10" text-anchor="end">0</text>',
    ]
    def count(value):
        return withheld_words if value is None else value

    facts = []
    for i, column in enumerate(columns):
        facts.append(f"{column.name}: {count(column.referrals)} referrals, {count(column.job_starts)} job starts")
        x0 = left + group * i + (group - 2 * bar_w - 2) / 2
        for j, (key, value, colour) in enumerate((("referrals", column.referrals, REFERRALS_COLOUR),
                                                  ("job_starts", column.job_starts, JOB_STARTS_FILL))):
            x = x0 + j * (bar_w + 2)
            if value is None:
                body.append(f'<text x="{x + bar_w / 2:.1f}" y="{base - 4}" font-size="9" text-anchor="middle">'
                            f'{escape(withheld)}</text>')
                continue
            body.append(f'<rect x="{x:.1f}" y="{y(value):.1f}" width="{bar_w}" height="{base - y(value):.1f}" '
                        f'fill="{colour}" data-{column.attribute}="{escape(column.key)}" '
                        f'data-{key.replace("_", "-")}="{value}">'
                        f'<title>{escape(column.name)}: {value} {key.replace("_", " ")}</title></rect>')
            if value:
                body.append(f'<text x="{x + bar_w / 2:.1f}" y="{y(value) - 3:.1f}" font-size="10" '
                            f'text-anchor="middle">{value}</text>')
        middle = left + group * i + group / 2
        body.append(f'<text x="{middle:.1f}" y="{base + 14}" font-size="11" text-anchor="middle">'
                    f'{escape(column.tick)}</text>')
        if column.second_tick:
            body.append(f'<text x="{middle:.1f}" y="{base + 27}" font-size="10" text-anchor="middle" '
                        f'fill="#6c757d">{escape(column.second_tick)}</text>')
    return svg_chart(width, height, title, body, facts)


def monthly_chart(months: list[Mapping[str, Any]]) -> Markup | None:
    """Referrals and job starts side by side for each month of the period (a month cut by the period says so)."""
    columns = []
    for i, month in enumerate(months):
        first, last = date.fromisoformat(month["start"]), date.fromisoformat(month["end"])
        span = "" if Period(first, last) == month_of(first) else f" ({first:%-d} to {last:%-d %B} only)"
        columns.append(BarPair("month", month["month"], f"{first:%B %Y}{span}", f"{first:%b}", month["referrals"],
                               month["job_starts"], f"{first:%Y}" if i == 0 or first.month == 1 else ""))
    return referrals_and_job_starts_chart("Referrals and job starts per month", columns)


def outcome_bands_chart(bands: Mapping[str, int]) -> Markup:
    return column_chart("Time to first paid outcome", [
        ("< 6 months", bands.get("under_6_months", 0) or 0, "#28a745"),
        ("6–12 months", bands.get("6_to_12_months", 0) or 0, "#ffc107"),
        ("> 12 months", bands.get("over_12_months", 0) or 0, "#dc3545"),
    ])


# --- the view -------------------------------------------------------------------------------------

def _caps_by_user(user_ids: list[str]) -> dict[str, int]:
    from admin_app.models.people import StaffProfile

    ids = [ObjectId(u) for u in user_ids if u and ObjectId.is_valid(u)]
    # The profiles' user ids as stored (no_dereference): one query, not one more per staff member.
    return {str(getattr(p.user, "id", p.user)): p.effective_cap
            for p in StaffProfile.objects(user__in=ids).no_dereference() if p.user}


def caseload_rows(workers: Mapping[str, Mapping[str, Any]], measure: str = "at_end") -> list[dict[str, Any]]:
    from admin_app.models.people import default_caseload_cap

    caps = _caps_by_user([w.get("user_id") for w in workers.values()])
    rows = []
    for key, figures in workers.items():
        if key == UNASSIGNED and not figures["active_caseload"][measure]:
            continue
        user_id = figures.get("user_id")
        cap = None if key == UNASSIGNED else caps.get(user_id, default_caseload_cap(figures.get("fte")))
        rows.append({"name": "Unassigned" if key == UNASSIGNED else (figures.get("name") or key),
                     "caseload": figures["active_caseload"][measure] or 0, "fte": figures.get("fte"), "cap": cap})
    return rows


def kpi_tiles(figures: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The headline figures, each with its target and RAG where the report has one."""
    targets = figures.get("targets") or {}
    rate = figures["employment_rate"]
    sustained = figures["sustained_outcomes"]

    def pct(value):
        return None if value is None else f"{value * 100:.1f}%"

    tiles = [
        {"key": "referrals", "label": "Referrals", "value": figures["referrals"],
         "note": f"{figures['referrals_engaged']} engaged"},
        {"key": "people_accessing", "label": "People accessing the service", "value": figures["people_accessing"],
         "target": targets.get("accessing")},
        {"key": "carried_over", "label": "Carried over", "value": figures["carried_over"]},
        {"key": "active_caseload", "label": "Active caseload at end", "value": figures["active_caseload"]["at_end"],
         "note": f"peak {figures['active_caseload']['peak']}"
                 + (f" on {formats.uk_date(date.fromisoformat(figures['active_caseload']['peak_date']))}" if figures["active_caseload"].get("peak_date") else "")},
        {"key": "people_into_work", "label": "People into work", "value": figures["people_into_work"],
         "target": targets.get("paid_outcomes")},
        {"key": "job_starts", "label": "Job starts", "value": figures["job_starts"],
         "note": f"{figures['business_starts']} business starts"},
        {"key": "employment_rate", "label": "Employment rate", "value": pct(rate.get("rate")) or "–",
         "benchmark": pct(rate.get("benchmark")),
         "rag": _benchmark_rag(rate.get("rate"), rate.get("benchmark"))},
        {"key": "sustained_rate", "label": "Sustained 13 weeks", "value": pct(sustained.get("sustained_rate")) or "–",
         "benchmark": pct(sustained.get("benchmark")),
         "rag": _benchmark_rag(sustained.get("sustained_rate"), sustained.get("benchmark"))},
    ]
    for tile in tiles:
        target = tile.get("target")
        if target:
            tile["rag"] = target.get("rag")
    return tiles


def _benchmark_rag(value, benchmark):
    if value is None or benchmark is None:
        return None
    return "green" if value >= benchmark else "red"


def fidelity_rows(items: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{"key": key, "label": ITEM_LABELS.get(key, key.replace("_", " ").capitalize()),
             "value": item.get("value"), "unit": item.get("unit"), "score": item.get("score"),
             "rag": item.get("rag"), "badge": RAG_CLASSES.get(item.get("rag"), "secondary")}
            for key, item in items.items()]


def dashboard_scope(user) -> tuple[str, str, dict]:
    """Which dashboard the user gets ("service" or "caseload"), its title, and the case files it covers."""
    from admin_app.models.case_file import Client

    if has_permission(SERVICE, user):
        # The service dashboard shows aggregates only, so it covers every case file.
        return "service", "Service dashboard", {}
    return "caseload", "My caseload", scope_match(Client, user)


def dashboard_report(match: Mapping[str, Any], period: Period, today: date) -> dict[str, Any]:
    """The figures a dashboard shows: the report for the period, judged as of min(period end, today)."""
    return load_report(database(), match, period, as_of=as_of_for(period, today))


def uk_time(moment: datetime) -> datetime:
    """A stored UTC time as the UK clock shows it."""
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo("Europe/London"))


def dashboard_figures(match: Mapping[str, Any], period: Period, today: date) -> tuple[dict[str, Any], datetime | None]:
    """The report and when it was computed, from its snapshot (admin_app/snapshots.py, never more than a
    minute old): the service's, or a worker's own caseload's (keyed by the worker, read only by them)."""
    as_of = as_of_for(period, today)
    if not match:
        key = snapshots.service_key(period, as_of)
    elif set(match) == {"worker"}:
        key = snapshots.caseload_key(match["worker"], period, as_of)
    else:  # a scope the snapshots do not know: computed as asked
        return dashboard_report(match, period, today), None
    found = snapshots.figures(key, lambda: dashboard_report(match, period, today))
    return found.report, found.computed_at


def latest_review() -> dict[str, Any] | None:
    """The most recent fidelity review, for users who may open reviews."""
    if not has_permission("fidelityreview.list"):
        return None
    from admin_app.models.fidelity import FidelityReview

    review = FidelityReview.objects.order_by("-review_date").only(
        "review_date", "period_start", "period_end", "total", "maximum", "complete", "band").first()
    if review is None:
        return None
    return {"review": review, "band": BAND_LABELS.get(review.band) if review.complete else None,
            "url": url_for("fidelityreview.details_view", id=review.pk)
            if has_permission("fidelityreview.details") else None}


class DashboardView(BaseView):
    """/admin/dashboard/: the service dashboard, or "My caseload" for a worker."""

    def __init__(self, name="Dashboard", endpoint="dashboard", **kwargs):
        super().__init__(name=name, endpoint=endpoint, **kwargs)

    @staticmethod
    def allowed() -> bool:
        return has_permission(SERVICE) or has_permission(CASELOAD)

    def is_accessible(self):
        return current_user.is_authenticated and self.allowed()

    def _handle_view(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("security.login", next=request.full_path))
        if not self.allowed():
            abort(403)
        return None

    @staticmethod
    def today() -> date:
        return london_today()

    @expose("/")
    def index(self):
        today = self.today()
        period, form, messages = pick_period(request.args, today)
        mode, title, match = dashboard_scope(current_user)
        report, computed_at = dashboard_figures(match, period, today)
        figures = report["service"]
        rows = caseload_rows(report["workers"] if mode == "service" else
                             {k: v for k, v in report["workers"].items() if k != UNASSIGNED})
        first_fy = min(fy_start_year(today) - 5, period.start.year - 1)
        return self.render(
            "admin/dashboard.html",
            mode=mode, title=title, period=period, form=form, messages=messages, report=report,
            figures=figures, tiles=kpi_tiles(figures), fidelity=fidelity_rows(figures.get("fidelity") or {}),
            caseload_svg=caseload_chart(rows), hours_svg=hours_chart(figures["hours"], figures.get("staff_time")),
            staff_time_rows=staff_time_rows(figures.get("staff_time") or {}),
            outcomes_svg=outcome_bands_chart(figures["time_to_first_paid_outcome"]),
            monthly_svg=monthly_chart(figures["by_month"]), latest_review=latest_review(),
            rag_classes=RAG_CLASSES, as_of=date.fromisoformat(report["as_of"]),
            computed_at=uk_time(computed_at) if computed_at else None,
            running=report["period"]["running"], not_started=today < period.start,
            fy_choices=[(str(y), fy_label(y)) for y in range(fy_start_year(today) + 1, first_fy - 1, -1)],
        )

