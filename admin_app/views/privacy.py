"""The retention report: the periods in force, what the nightly sweep will anonymise, what a legal hold keeps."""
from __future__ import annotations

from flask import abort, current_app, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_login import current_user

from admin_app.alerts import note_probe
from admin_app.metrics.periods import london_today
from admin_app.models.audit import AuditEvent
from admin_app.privacy import retention
from admin_app.security import has_permission, register_permission

REPORT_PERMISSION = "retention.report"


class RetentionView(BaseView):
    def __init__(self, name="Retention", endpoint="retention", url="/admin/retention", **kwargs):
        super().__init__(name=name, endpoint=endpoint, url=url, **kwargs)
        register_permission(REPORT_PERMISSION, "Retention: see the retention report (what is due, what is held)")

    def is_accessible(self):
        return current_user.is_authenticated and has_permission(REPORT_PERMISSION)

    def _handle_view(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("security.login", next=request.full_path))
        if not has_permission(REPORT_PERMISSION):
            note_probe("refused", "clients", None, f"refused {request.method} {request.path[:200]}")
            abort(403)
        return None

    @expose("/")
    def index(self):
        settings = current_app.config["SETTINGS"]
        today = london_today()
        due = retention.plan(today, settings.case_file_retention_years, settings.audit_retention_years)
        sweeps = AuditEvent.objects(action="retention").order_by("-at").limit(10)
        return self.render("admin/privacy/retention.html", plan=due, sweeps=sweeps, settings=settings, today=today)
