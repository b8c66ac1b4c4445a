"""The client screens: list, nested form, case-file page, bulk reassignment."""
from __future__ import annotations

from datetime import date

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_login import current_user
from markupsafe import Markup, escape

from admin_app import audit, rules
from admin_app.caseload import caseload_cap, open_case_count
from admin_app.timeline import current_plan, hours_totals, timeline
from admin_app.models.case_file import StatusChange
from admin_app.models.people import Role, User
from admin_app.security import has_permission
from admin_app.views.base import SecuredModelView
from admin_app.views.filters import NestedFilter, NestedReferenceFilter
from admin_app.vocabulary import (
    CASE_STATUSES,
    COHORTS,
    CONTACT_MODES,
    OUTCOME_KINDS,
    PAID_OUTCOME_KINDS,
    REFERRAL_DECISIONS,
    REFERRAL_SOURCES,
    RISK_LEVELS,
    label,
)


def _worker_options():
    role = Role.objects(name="worker").first()
    users = User.objects(roles=role) if role else User.objects.none()
    return [(str(u.pk), str(u)) for u in users.only("email", "name")]


def days_since_last_contact(client, today: date) -> int | None:
    dates = [c.date for c in client.contacts if c.date]
    return (today - max(dates)).days if dates else None


def days_to_first_employer_contact(client) -> int | None:
    start = client.assessment.date if client.assessment else None
    if start is None:
        return None
    dates = [e.date for e in client.employer_contacts if e.face_to_face and e.date and e.date >= start]
    return (min(dates) - start).days if dates else None


def paid_outcome_count(client) -> int:
    return sum(1 for o in client.outcomes if o.kind in PAID_OUTCOME_KINDS)


def _cell(value):
    return "—" if value is None else value


class ClientView(SecuredModelView):
    screen_actions = ("list", "details", "create", "edit", "delete", "export", "casefile")
    extra_endpoints = {"casefile_view": "casefile", "reassign_view": "action.reassign"}

    column_list = ("reference", "first_name", "last_name", "worker", "status", "cohort", "referral_source",
                   "days_since_last_contact", "days_to_employer_contact", "paid_outcomes")
    column_labels = {
        "cohort": "Cohort",
        "referral_source": "Referral source",
        "days_since_last_contact": "Days since last contact",
        "days_to_employer_contact": "Days from assessment to first employer contact",
        "paid_outcomes": "Paid outcomes",
    }
    column_formatters = {
        "reference": lambda v, c, m, p: Markup(
            f'<a href="{escape(url_for(".casefile_view", id=m.pk))}">{escape(m.reference)}</a>'),
        "status": lambda v, c, m, p: label(CASE_STATUSES, m.status),
        "cohort": lambda v, c, m, p: label(COHORTS, m.referral.cohort if m.referral else None),
        "referral_source": lambda v, c, m, p: label(REFERRAL_SOURCES, m.referral.source if m.referral else None),
        "days_since_last_contact": lambda v, c, m, p: _cell(days_since_last_contact(m, date.today())),
        "days_to_employer_contact": lambda v, c, m, p: _cell(days_to_first_employer_contact(m)),
        "paid_outcomes": lambda v, c, m, p: paid_outcome_count(m),
    }
    column_sortable_list = ("reference", "last_name", "status")
    column_searchable_list = ("reference", "first_name", "last_name")
    column_filters = (
        "status",
        NestedFilter("referral.cohort", "Cohort", COHORTS),
        NestedFilter("referral.source", "Referral source", REFERRAL_SOURCES),
        NestedFilter("referral.decision", "Referral decision", REFERRAL_DECISIONS),
        NestedReferenceFilter("worker", "Worker", _worker_options),
        NestedFilter("outcomes.kind", "Outcome kind", OUTCOME_KINDS),
        NestedFilter("contacts.mode", "Contact mode", CONTACT_MODES),
        NestedFilter("risk_assessments.level", "Risk level", RISK_LEVELS),
    )
    column_export_list = ("reference", "first_name", "last_name", "worker", "status", "cohort", "referral_source",
                          "days_since_last_contact", "days_to_employer_contact", "paid_outcomes")
    # Grant bids move only through the grant screens' workflow (admin_app.grants), never by a free edit.
    form_excluded_columns = ("created_at", "updated_at", "grant_bids")
    column_details_list = ("reference", "first_name", "last_name", "date_of_birth", "postcode", "phone", "worker", "status")

    def search_placeholder(self):
        return "Reference or name"

    # --- rules on save ---------------------------------------------------------------------------
    def on_model_change(self, form, model, is_created):
        before = getattr(model, "_audit_before", None) or {}
        if is_created or before.get("status") != model.status:
            reason = "re-opened" if before.get("status") == "closed" else ""
            model.status_history.append(StatusChange(date=date.today(), status=model.status, reason=reason,
                                                     by=current_user.email))
        super().on_model_change(form, model, is_created)

    def model_errors(self, model, is_created):
        errors = rules.case_file_errors(model, date.today())
        if model.worker is not None and rules.counts_against_caseload(model.status, model.referral.decision if model.referral else None):
            excluding = [model.pk] if model.pk else []
            after = open_case_count(model.worker, excluding) + 1
            errors += rules.caseload_cap_error(after, caseload_cap(model.worker), model.caseload_override_reason,
                                               has_permission("caseload.override_cap"))
        return errors

    # --- the case-file page ----------------------------------------------------------------------
    @expose("/casefile/")
    def casefile_view(self):
        client = self.get_one(request.args.get("id"))
        audit.record("view", collection="clients", record_id=client.pk, summary=f"case file page of {client}")
        return self.render("admin/case_file.html", client=client, events=timeline(client),
                           hours=hours_totals(client), plan=current_plan(client),
                           overdue_reports=rules.disclosures_awaiting_report(client.disclosures),
                           label=label, can_edit=self.can_edit)

    # --- bulk reassignment -----------------------------------------------------------------------
    @action("reassign", "Reassign to another worker")
    def action_reassign(self, ids):
        return redirect(url_for(".reassign_view", ids=",".join(ids)))

    @expose("/reassign/", methods=("GET", "POST"))
    def reassign_view(self):
        ids = [i for i in (request.values.get("ids") or "").split(",") if i]
        clients = list(self.scoped_objects(ids)) if ids else []
        if not clients:
            flash("Choose at least one client to reassign.", "error")
            return redirect(url_for(".index_view"))
        workers = _worker_options()
        error = None
        if request.method == "POST":
            target = User.objects(pk=request.form.get("worker")).first() if request.form.get("worker") else None
            reason = (request.form.get("reason") or "").strip()
            if target is None or str(target.pk) not in {w for w, _ in workers}:
                error = "Choose the worker to reassign to."
            else:
                moving = [c for c in clients if c.worker != target and rules.counts_against_caseload(c.status, c.referral.decision)]
                after = open_case_count(target) + len(moving)
                problems = rules.caseload_cap_error(after, caseload_cap(target), reason, has_permission("caseload.override_cap"))
                if problems:
                    error = problems[0][1]
                else:
                    pks = [c.pk for c in clients]
                    count = self.get_query().filter(pk__in=pks).update(set__worker=target, set__caseload_override_reason=reason or None)
                    audit.record("reassign", collection="clients", record_id=",".join(str(p) for p in pks),
                                 summary=f"reassigned {count} clients to {target.email}" + (f" (override: {reason})" if reason else ""),
                                 changes=[{"field": "worker", "old": str(c.worker.pk) if c.worker else None,
                                           "new": str(target.pk), "record": str(c.pk)} for c in clients])
                    flash(f"Reassigned {count} clients to {target}.", "success")
                    return redirect(url_for(".index_view"))
        return self.render("admin/reassign.html", clients=clients, workers=workers, error=error,
                           ids=",".join(str(c.pk) for c in clients))
