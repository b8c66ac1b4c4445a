"""The evaluator's screens: the pseudonymised dashboard and starting the evaluator extract for a period."""
from __future__ import annotations

from datetime import timedelta
from typing import Any, Mapping

from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_login import current_user
from markupsafe import Markup, escape

from admin_app import audit
from admin_app.db import database
from admin_app.evaluator import tokens
from admin_app.evaluator.figures import BREAKDOWNS, FIGURES, JOURNEY_STEPS, kept_report
from admin_app.metrics.periods import fy_label, fy_start_year, london_today
from admin_app.models.api_tokens import API_SCOPES
from admin_app.security import has_permission
from admin_app.views.base import SecuredModelView
from admin_app.views.dashboards import BarPair, pick_period, referrals_and_job_starts_chart, svg_chart, uk_time

DASHBOARD = "evaluator.dashboard"
EXTRACT = "evaluator.extract"
STEP_LEGEND = {"assessment": "Initial assessment", "employer_contact": "First employer contact",
               "paid_outcome": "First paid outcome"}
STEP_COLOURS = {"assessment": "#17a2b8", "employer_contact": "#6f42c1", "paid_outcome": "#28a745"}


def shown(value: Any, kind: str, min_group: int) -> str:
    """A figure as the evaluator reads it: withheld ones say so."""
    if value is None:
        return f"fewer than {min_group}" if kind != "rate" else "withheld"
    if kind == "rate":
        return f"{value * 100:.1f}%"
    if kind == "hours":
        return f"{value:,.1f}"
    return f"{value:,}"


def over_time_chart(rows: list[Mapping[str, Any]], min_group: int) -> Markup | None:
    """Referrals and job starts per month (or quarter, or year); a withheld count is marked, not drawn."""
    return referrals_and_job_starts_chart(
        "Referrals and job starts over time",
        [BarPair("period", row["period"], row["period"], row["period"], row["referrals"], row["job_starts"])
         for row in rows],
        legend=f"Job starts, hatched (“<{min_group}”: fewer than {min_group}, withheld)",
        withheld=f"<{min_group}", withheld_words=f"fewer than {min_group}")


def journey_chart(rows: list[Mapping[str, Any]]) -> Markup | None:
    """Median days from referral to each step, one group of bars per cohort; withheld groups are named so."""
    if not rows:
        return None
    label_w, bar_w, bar_h, top = 110, 380, 12, 24
    row_h = bar_h * len(JOURNEY_STEPS) + 14
    longest = max([s["median_days"] or 0 for r in rows for s in r["steps"].values()] + [1]) * 1.15
    x = lambda v: label_w + bar_w * v / longest  # noqa: E731
    body, facts = [], []
    for j, (step, text) in enumerate(STEP_LEGEND.items()):
        body.append(f'<rect x="{label_w + j * 140}" y="4" width="12" height="10" fill="{STEP_COLOURS[step]}"/>'
                    f'<text x="{label_w + j * 140 + 16}" y="13" font-size="10">{escape(text)}</text>')
    for i, row in enumerate(rows):
        y0 = top + i * row_h
        body.append(f'<text x="{label_w - 6}" y="{y0 + row_h / 2:.1f}" font-size="12" text-anchor="end">'
                    f'{escape(row["group"])}</text>')
        for j, step in enumerate(JOURNEY_STEPS):
            median = row["steps"][step]["median_days"]
            facts.append(f'{row["group"]}, {JOURNEY_STEPS[step].lower()}: '
                         + ("withheld or not reached" if median is None else f"median {median:g} days"))
            y = y0 + j * bar_h
            if median is None:
                body.append(f'<text x="{label_w + 4}" y="{y + bar_h - 2}" font-size="9">withheld or not reached</text>')
                continue
            body.append(f'<rect x="{label_w}" y="{y}" width="{x(median) - label_w:.1f}" height="{bar_h - 2}" '
                        f'fill="{STEP_COLOURS[step]}" data-group="{escape(row["group"])}" data-step="{step}" '
                        f'data-median="{median}"><title>{escape(row["group"])}: {escape(JOURNEY_STEPS[step])}, '
                        f'median {median} days</title></rect>')
            body.append(f'<text x="{x(median) + 4:.1f}" y="{y + bar_h - 2}" font-size="9">{median:g} d</text>')
    return svg_chart(label_w + bar_w + 60, top + row_h * len(rows) + 6, "Cohort journeys: median days from referral",
                     body, facts)


class EvaluatorView(BaseView):
    """/admin/evaluator/: the evaluator's dashboard, and the form that starts their own extract."""

    def __init__(self, name="Evaluator dashboard", endpoint="evaluator", **kwargs):
        super().__init__(name=name, endpoint=endpoint, **kwargs)

    def is_accessible(self):
        return current_user.is_authenticated and has_permission(DASHBOARD)

    def _handle_view(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("security.login", next=request.full_path))
        needed = EXTRACT if name == "extract" else DASHBOARD
        if not has_permission(needed):
            abort(403)
        return None

    @expose("/")
    def index(self):
        settings = current_app.config["SETTINGS"]
        today = london_today()
        period, form, messages = pick_period(request.args, today)
        report, computed_at = kept_report(database(), period, today, settings.evaluator_min_group,
                                          settings.evaluator_date_precision)
        audit.record("view", collection="evaluator", summary=f"opened the evaluator dashboard for {period.label}")
        k = report["min_group"]
        first_fy = min(fy_start_year(today) - 5, period.start.year - 1)
        return self.render(
            "admin/evaluator/dashboard.html", period=period, form=form, messages=messages, report=report,
            figures=FIGURES, breakdown_names=BREAKDOWNS, steps=JOURNEY_STEPS, k=k,
            shown=lambda value, kind: shown(value, kind, k),
            over_time_svg=over_time_chart(report["over_time"], k), journey_svg=journey_chart(report["journeys"]),
            fy_choices=[(str(y), fy_label(y)) for y in range(fy_start_year(today) + 1, first_fy - 1, -1)],
            may_extract=has_permission(EXTRACT), computed_at=uk_time(computed_at),
        )

    @expose("/extract/", methods=("GET", "POST"))
    def extract(self):
        """Start the evaluator extract for a period: every consented case file, the run the evaluator's own."""
        from admin_app import export_runs
        from admin_app.views.exports import _enqueue_build, _started_message

        today = london_today()
        values = request.form if request.method == "POST" else request.args
        period, form, messages = pick_period(values, today)
        if request.method == "POST":
            if messages:
                for message in messages:
                    flash(f"Not started: {message}", "error")
            else:
                run = export_runs.create_run("evaluator_extract", period, match={}, scope="Every case file",
                                             started_by=current_user.email, started_by_user=current_user.pk)
                audit.record("export", collection="export_runs", record_id=run.pk,
                             summary=f"started the evaluator extract for {period.label}")
                _enqueue_build(str(run.pk))
                flash(*_started_message(run.pk, f"The evaluator extract is being built for {period.label}; "
                                                "it will be listed under your extracts when ready."))
                return redirect(url_for("exportrun.details_view", id=run.pk))
        first_fy = min(fy_start_year(today) - 5, period.start.year - 1)
        return self.render("admin/evaluator/extract.html", period=period, form=form, messages=messages,
                           fy_choices=[(str(y), fy_label(y)) for y in range(fy_start_year(today) + 1, first_fy - 1, -1)])


# --- API tokens (administrators) ------------------------------------------------------------------

def _token_state(view, context, model, name):
    if model.revoked_at:
        return Markup('<span class="badge badge-secondary">Revoked</span> {:%d/%m/%Y %H:%M} by {}').format(
            model.revoked_at, model.revoked_by or "")
    if model.expires_on and model.expires_on < london_today():
        return Markup('<span class="badge badge-warning">Expired</span>')
    return Markup('<span class="badge badge-success">Works</span>')


class ApiTokenView(SecuredModelView):
    """Evaluator API tokens: an administrator issues one for a user and scopes, sees it once, and revokes it."""

    screen_actions = ("list", "details", "create", "revoke")
    extra_endpoints = {"revoke_view": "revoke"}
    column_list = ("name", "user", "scopes", "expires_on", "hint", "created_by", "created_at", "last_used_at",
                   "revoked_at")
    column_details_list = column_list + ("revoked_by",)
    column_formatters = {"scopes": lambda v, c, m, n: ", ".join(m.scopes or []), "revoked_at": _token_state,
                         "user": lambda v, c, m, n: getattr(m.user, "email", "")}
    column_formatters_detail = column_formatters
    column_labels = {"revoked_at": "State"}
    form_columns = ("user", "name", "scopes", "expires_on")
    details_template = "admin/evaluator/token_details.html"

    def scaffold_form(self):
        from admin_app.views.people import CheckboxListField

        form = super().scaffold_form()
        form.scopes = CheckboxListField("May read", choices=list(API_SCOPES),
                                        description="Give only what the evaluator's analysis needs")
        return form

    def create_form(self, obj=None):
        form = super().create_form(obj)
        from admin_app.models.people import Role, User

        # Only active users whose role holds the evaluator API permission: a token for anyone else would not work.
        roles = Role.objects(permissions=tokens.PERMISSION)
        form.user.queryset = User.objects(active=True, roles__in=roles).order_by("email")
        if request.method == "GET" and not form.expires_on.data:
            form.expires_on.data = london_today() + timedelta(days=365)
        return form

    def model_errors(self, model, is_created):
        errors = []
        if not model.scopes:
            errors.append((("scopes",), "Choose at least one thing the token may read."))
        today = london_today()
        if model.expires_on and not today <= model.expires_on <= today + timedelta(days=366):
            errors.append((("expires_on",), "The expiry must be between today and a year from today."))
        if model.user is not None and not has_permission(tokens.PERMISSION, model.user):
            errors.append((("user",), "This user's role does not hold the evaluator API permission "
                                      f"({tokens.PERMISSION}); a token would not work for them."))
        return errors

    def on_model_change(self, form, model, is_created):
        if is_created:
            model.created_by = current_user.email
        super().on_model_change(form, model, is_created)

    def after_model_change(self, form, model, is_created):
        super().after_model_change(form, model, is_created)
        if is_created:
            g.issued_token = tokens.issue(model, current_app.config["SECRET_KEY"])

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        response = super().create_view()
        issued = g.pop("issued_token", None)
        if issued is None:
            return response
        # Shown once, in this response only: never stored, flashed or put in a URL.
        return self.render("admin/evaluator/token_issued.html", token=issued,
                           list_url=url_for(".index_view")), 200, {"Cache-Control": "no-store"}

    @expose("/revoke/", methods=("POST",))
    def revoke_view(self):
        token = self.get_one(request.form.get("id", ""))
        if token is None:
            abort(404)
        if tokens.revoke(token, current_user.email):
            audit.record("update", collection="api_tokens", record_id=token.pk,
                         summary=f"revoked evaluator API token {token} of {getattr(token.user, 'email', '')}")
            flash(f"The token “{token.name}” is revoked: it no longer opens the API.", "success")
        else:
            flash("This token was already revoked.", "warning")
        return redirect(url_for(".details_view", id=token.pk))
