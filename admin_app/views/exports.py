"""Export Schedules and Export Runs: what is sent to whom and when, every run, downloads and "Run now"."""
from __future__ import annotations

import re
import secrets
from datetime import datetime

from flask import abort, flash, g, redirect, request, send_file, url_for
from flask_admin import expose
from flask_login import current_user
from markupsafe import Markup, escape
from mongoengine import Q

from admin_app import audit, export_runs, formats
from admin_app.metrics.periods import london_today
from admin_app.views.export_scopes import ScopeProblem, resolve_scope, scope_choices
from admin_app.models.exports import DELIVERIES, PERIOD_RULES, ExportRun, ExportSchedule
from admin_app.models.sharing import AllowedRecipient
from admin_app.privacy.sharing import recipient_problems
from admin_app.security import has_permission
from admin_app.views.base import SecuredModelView
from admin_app.vocabulary import label

EVERY_RUN = "exports.all"
REQUEST_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")


def report_choices() -> list[tuple[str, str]]:
    from exports import REPORTS

    return [(key, report.title) for key, report in REPORTS.items()]


# Reports are declared in exports/, above the models: their titles are given to the fields here.
ExportSchedule.report.value_labels = ExportRun.report.value_labels = AllowedRecipient.report.value_labels = report_choices


def _report_title(view, context, model, name):
    return dict(report_choices()).get(model.report, model.report)


def _enqueue_build(run_id: str) -> None:
    from jobs.tasks import build_export

    build_export.delay(run_id)


def _timing(view, context, model, name):
    words = export_runs.cron_description(model.cron)
    return f"{words} (UK time)" if words else model.cron


def _scope(view, context, model, name):
    if not model.scope:
        return "Every case file"
    if "scope_labels" not in g:  # read once per page, not once per row
        g.scope_labels = dict(scope_choices(current_user))
    return g.scope_labels.get(model.scope, "A saved filter not shared with you")


class ExportScheduleView(SecuredModelView):
    screen_actions = ("list", "details", "create", "edit", "delete", "run")
    extra_endpoints = {"run_view": "run"}
    column_list = ("name", "report", "period_rule", "cron", "delivery", "recipients", "scope", "active", "next_due_at")
    column_details_list = column_list + ("notes", "last_dispatched_at", "created_by")
    column_formatters = {"report": _report_title, "recipients": lambda v, c, m, n: ", ".join(m.recipients),
                         "period_rule": lambda v, c, m, n: label(PERIOD_RULES, m.period_rule),
                         "delivery": lambda v, c, m, n: label(DELIVERIES, m.delivery),
                         "cron": _timing, "scope": _scope}
    column_formatters_detail = column_formatters
    form_columns = ("name", "report", "period_rule", "cron", "recipients", "delivery", "scope", "notes", "active")
    column_searchable_list = ("name",)
    column_filters = ("report", "active", "delivery")
    list_template = "admin/exports/schedule_list.html"

    def create_form(self, obj=None):
        return self._with_choices(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._with_choices(super().edit_form(obj))

    def _with_choices(self, form):
        # Reports and filters change while the app runs: the choices are read for each form.
        form.report.choices = report_choices()
        form.scope.choices = [("", "Every case file")] + scope_choices(current_user)
        return form

    def scaffold_form(self):
        from wtforms.fields import SelectField

        form = super().scaffold_form()
        form.report = SelectField("Report", choices=[], validate_choice=True)
        form.scope = SelectField("Scope", choices=[], validate_choice=True,
                                 description="Which case files the report covers")
        return form

    def model_errors(self, model, is_created):
        errors = []
        problem = export_runs.cron_problem(model.cron)
        if problem:
            errors.append((("cron",), problem))
        if model.report not in dict(report_choices()):
            errors.append((("report",), "Choose a report from the list."))
        if not model.recipients:
            errors.append((("recipients",), "Add at least one recipient."))
        elif model.report in dict(report_choices()):
            errors += [(("recipients",), problem)
                       for problem in recipient_problems(model.report, model.recipients, model.delivery)]
        return errors

    def on_model_change(self, form, model, is_created):
        model.cron = (model.cron or "").strip()
        super().on_model_change(form, model, is_created)
        if is_created:
            model.created_by = current_user.email
        model.next_due_at = export_runs.next_due(model.cron, datetime.utcnow()) if model.active else None

    @expose("/run/", methods=("GET", "POST"))
    def run_view(self):
        schedule = self.get_one(request.values.get("id"))
        period = export_runs.period_for(schedule.period_rule, london_today())
        if request.method == "POST":
            running = export_runs.unfinished_run(schedule, period)
            if running is not None:
                flash(f"“{schedule.name}” is already running for {period.label}; it was not started again.", "warning")
                return redirect(url_for("exportrun.details_view", id=running.pk))
            try:
                match, scope = resolve_scope(schedule.scope, current_user)
            except ScopeProblem as exc:
                flash(f"Not run: {exc}", "error")
                return redirect(url_for(".index_view"))
            # One run per confirmation form, however often it is posted (a double click, a resend).
            key = request.form.get("request_key", "")
            key = key if REQUEST_KEY.fullmatch(key) else secrets.token_urlsafe(16)
            run = export_runs.create_run(schedule.report, period, match=match, scope=scope,
                                         started_by=current_user.email, started_by_user=current_user.pk,
                                         notes=schedule.notes or "", schedule=schedule,
                                         dedupe_key=f"{schedule.pk}:now:{key}")
            if run.status != "queued" or run.started_at is not None:
                flash(f"“{schedule.name}” was already started from this form; it was not started again.", "warning")
                return redirect(url_for("exportrun.details_view", id=run.pk))
            audit.record("export", collection="export_runs", record_id=run.pk,
                         summary=f"ran schedule {schedule.name} now for {period.label}")
            _enqueue_build(str(run.pk))
            flash(*_started_message(run.pk, f"“{schedule.name}” is running for {period.label}; "
                                            "it will be emailed to its recipients when built."))
            return redirect(url_for("exportrun.details_view", id=run.pk))
        return self.render("admin/exports/run_schedule.html", schedule=schedule, period=period,
                           report_title=dict(report_choices()).get(schedule.report, schedule.report),
                           request_key=secrets.token_urlsafe(16))


def _started_message(run_id, queued: str) -> tuple[str, str]:
    """What to tell the user once a run is handed over (in embedded mode it has already run)."""
    from admin_app.models.exports import ExportRun

    run = ExportRun.objects(pk=run_id).only("status", "error", "next_attempt_at").first()
    if run is not None and run.status == "failed":
        return f"The run failed: {run.error}", "error"
    if run is not None and run.status == "built" and run.next_attempt_at and run.error:
        return (f"The workbook is built but the mail server did not take it; it will be tried again by itself. "
                f"{run.error}", "warning")
    if run is not None and run.status == "sent":
        return "The report was built and emailed to its recipients.", "success"
    return queued, "success"


def _status(view, context, model, name):
    classes = {"failed": "danger", "sent": "success", "built": "info"}
    label = dict(model._fields["status"].choices).get(model.status, model.status)
    return Markup(f'<span class="badge badge-{classes.get(model.status, "secondary")}">{escape(label)}</span>')


def _file(view, context, model, name):
    if model.file_removed_at:
        return f"{model.filename} (deleted {formats.uk_date(model.file_removed_at)}, past its retention)"
    if not model.file_id:
        return ""
    if not view.allows("download"):
        return model.filename
    href = url_for(".download_view", run_id=model.pk)
    return Markup(f'<a href="{escape(href)}">{escape(model.filename)}</a>')


class ExportRunView(SecuredModelView):
    """Every run; a user without exports.all sees only runs they started or that were sent to them."""

    screen_actions = ("list", "details", "download", "run", "retry")
    extra_endpoints = {"download_view": "download", "new_run_view": "run", "retry_view": "retry"}
    column_list = ("queued_at", "report", "schedule_name", "period_start", "period_end", "started_by", "status",
                   "row_counts", "filename")
    column_details_list = ("report", "schedule_name", "period_start", "period_end", "scope", "started_by", "status",
                           "queued_at", "started_at", "built_at", "finished_at", "row_counts", "filename", "size",
                           "checksum", "file_removed_at", "delivery", "recipients", "mail_attempts", "next_attempt_at",
                           "error")
    column_formatters = {"report": _report_title, "status": _status, "filename": _file,
                         "row_counts": lambda v, c, m, n: ", ".join(f"{k}: {x}" for k, x in (m.row_counts or {}).items())}
    column_formatters_detail = column_formatters
    column_filters = ("report", "status", "schedule_name", "queued_at")
    column_default_sort = ("queued_at", True)
    list_template = "admin/exports/run_list.html"
    details_template = "admin/exports/run_details.html"

    def get_query(self):
        query = super().get_query()
        if has_permission(EVERY_RUN):
            return query
        return query.filter(Q(started_by_user=current_user.pk) | Q(recipients=current_user.email))

    @expose("/download/<run_id>")
    def download_view(self, run_id):
        run = self.get_one(run_id)
        if not run.file_id:
            abort(404)
        audit.record("export", collection="export_runs", record_id=run.pk,
                     summary=f"downloaded {run.filename} ({run.report}, {run.period_start} to {run.period_end})")
        stored = export_runs.open_file(run)
        return send_file(stored, mimetype=stored.content_type, as_attachment=True, download_name=run.filename)

    @expose("/run/", methods=("GET", "POST"))
    def new_run_view(self):
        from admin_app.views.dashboards import pick_period

        choices = report_choices()
        scopes = [("", "Every case file you may see")] + scope_choices(current_user)
        values = request.form if request.method == "POST" else request.args
        period, period_form, messages = pick_period(values, london_today())
        if request.method == "POST":
            report = values.get("report", "")
            if report not in dict(choices):
                messages.append("Choose a report from the list.")
            if values.get("scope", "") not in dict(scopes):
                messages.append("Choose a scope from the list.")
            if not messages:
                try:
                    match, scope = resolve_scope(values.get("scope", ""), current_user)
                except ScopeProblem as exc:
                    messages.append(str(exc))
                else:
                    run = export_runs.create_run(report, period, match=match, scope=scope, started_by=current_user.email,
                                                 started_by_user=current_user.pk, notes=values.get("notes", ""))
                    audit.record("export", collection="export_runs", record_id=run.pk,
                                 summary=f"ran {report} for {period.label}")
                    _enqueue_build(str(run.pk))
                    flash(f"The report is being built for {period.label}.", "success")
                    return redirect(url_for(".details_view", id=run.pk))
            for message in messages:
                flash(f"Not run: {message}", "error")
        return self.render("admin/exports/new_run.html", reports=choices, scopes=scopes, period=period,
                           form=period_form, values=values)

    @expose("/retry/", methods=("POST",))
    def retry_view(self):
        run = self.get_one(request.form.get("id"))
        if not export_runs.send_again(run.pk):
            flash("Only a failed run with a built workbook and recipients can be sent again.", "error")
            return redirect(url_for(".details_view", id=run.pk))
        from jobs.tasks import deliver_export

        audit.record("export", collection="export_runs", record_id=run.pk, summary="asked to send a failed run again")
        deliver_export.delay(str(run.pk))
        flash(*_started_message(run.pk, "Sending again."))
        return redirect(url_for(".details_view", id=run.pk))



class AllowedRecipientView(SecuredModelView):
    """Addresses outside the service's users that may receive one report (as an attachment only); admins keep it."""

    column_list = ("report", "email", "reason", "added_by", "added_at")
    column_formatters = {"report": _report_title}
    form_columns = ("report", "email", "reason")
    column_searchable_list = ("email",)
    column_filters = ("report",)

    def scaffold_form(self):
        from wtforms.fields import SelectField

        form = super().scaffold_form()
        form.report = SelectField("Report", choices=[], validate_choice=True)
        return form

    def create_form(self, obj=None):
        form = super().create_form(obj)
        form.report.choices = report_choices()
        return form

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        form.report.choices = report_choices()
        return form

    def on_model_change(self, form, model, is_created):
        if is_created:
            model.added_by = current_user.email
        super().on_model_change(form, model, is_created)
