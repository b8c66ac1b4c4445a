"""The client screens: list, nested form, case-file page, bulk reassignment."""
from __future__ import annotations

from datetime import date

from contextlib import ExitStack

import mongoengine
from flask import flash, g, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_login import current_user
from markupsafe import Markup, escape
from wtforms import HiddenField

from admin_app import audit, rules
from admin_app.casework import assignment
from admin_app.caseload import CaseloadBusy, case_owners, caseload_cap, counting, open_case_count
from admin_app.metrics.periods import london_today
from admin_app.models.audit import AuditEvent
from admin_app.models.case_file import Client, StatusChange
from admin_app.models.partners import Organisation
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


LIST_FIELDS = tuple(name for name, field in Client._fields.items() if isinstance(field, mongoengine.ListField))


class StaleSave(Exception):
    def __init__(self, version: int):
        super().__init__(version)
        self.version = version


def _ref_id(value):
    """The id a reference holds, loaded or not (a DBRef, an ObjectId, a document)."""
    return getattr(value, "id", None) or getattr(value, "pk", None) or value


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
        "worker": lambda v, c, m, p: v.worker_name(m.worker),
        "reference": lambda v, c, m, p: Markup(
            f'<a href="{escape(url_for("casefile.page", id=m.pk))}">{escape(m.reference)}</a>'),
        "status": lambda v, c, m, p: label(CASE_STATUSES, m.status),
        "cohort": lambda v, c, m, p: label(COHORTS, m.referral.cohort if m.referral else None),
        "referral_source": lambda v, c, m, p: label(REFERRAL_SOURCES, m.referral.source if m.referral else None),
        "days_since_last_contact": lambda v, c, m, p: _cell(days_since_last_contact(m, london_today())),
        "days_to_employer_contact": lambda v, c, m, p: _cell(days_to_first_employer_contact(m)),
        "paid_outcomes": lambda v, c, m, p: paid_outcome_count(m),
    }
    column_sortable_list = ("reference", "last_name", "status")
    column_searchable_list = ("reference", "first_name", "last_name")
    search_keys_field = "search_keys"
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
    # The whole-file form edits the top-level parts only; every list is changed item by item through the
    # case-file page's task forms (views/casefile.py), and the status only through its state machine.
    form_columns = ("version_seen", "reference", "first_name", "last_name", "date_of_birth", "postcode", "phone",
                    "worker", "caseload_override_reason", "referral", "consent", "assessment", "vocational_profile")
    form_subdocuments = {"referral": {"form_columns": ("date", "organisation", "source", "cohort")}}
    form_extra_fields = {"version_seen": HiddenField()}
    column_details_list = ("reference", "first_name", "last_name", "date_of_birth", "postcode", "phone", "worker", "status")

    #: What the list and its CSV export read of each case file: its columns' fields, and of the
    #: item lists only what the computed columns need (never whole lists, never referenced documents).
    list_fields = ("reference", "first_name", "last_name", "worker", "status", "referral.cohort", "referral.source",
                   "assessment.date", "contacts.date", "employer_contacts.date", "employer_contacts.face_to_face",
                   "outcomes.kind")

    def search_placeholder(self):
        return "Reference or name"

    # --- the list: a fixed number of queries per page ---------------------------------------------
    def list_query(self, query):
        return query.only(*self.list_fields).no_dereference()

    def after_list_read(self, rows):
        ids = {_ref_id(row.worker) for row in rows if row.worker}
        g.client_list_workers = {user.pk: str(user) for user in User.objects(pk__in=list(ids)).only("email", "name")}

    def worker_name(self, reference) -> str:
        """The worker's name from the page's one query (a CSV export, read unpaged, asks once per worker)."""
        if not reference:
            return ""
        names = g.setdefault("client_list_workers", {})
        pk = _ref_id(reference)
        if pk not in names:
            user = User.objects(pk=pk).only("email", "name").first()
            names[pk] = str(user) if user else ""
        return names[pk]

    # --- the form ---------------------------------------------------------------------------------
    def _with_choices(self, form, obj=None):
        form.worker.queryset = case_owners(including=obj.worker.pk if obj is not None and obj.worker else None)
        form.referral.form.organisation.queryset = Organisation.objects.only("name").order_by("name")
        return form

    def create_form(self, obj=None):
        return self._with_choices(super().create_form(obj))

    def edit_form(self, obj=None):
        form = self._with_choices(super().edit_form(obj), obj)
        if not form.version_seen.data and obj is not None:
            form.version_seen.data = str(obj.version or 0)
        return form

    # --- rules on save ---------------------------------------------------------------------------
    def on_model_change(self, form, model, is_created):
        if is_created:
            model.status_history.append(StatusChange(date=london_today(), status=model.status, reason="referral received",
                                                     by=current_user.email))
        super().on_model_change(form, model, is_created)
        if is_created:
            # After the scope rule, which may have made the signed-in worker the case's worker.
            assignment.first_assignment(model, model.worker, london_today(), current_user.email)

    def after_model_change(self, form, model, is_created):
        before = getattr(model, "_audit_moved_from", None)
        if not is_created and before is not None:
            old, = before
            assignment.record_move(Client._get_collection(), model.pk, old, model.worker.pk if model.worker else None,
                                   model.referral.date if model.referral else None, london_today(), current_user.email)
        super().after_model_change(form, model, is_created)

    def model_errors(self, model, is_created):
        errors = rules.top_level_errors(model, london_today())
        before = getattr(model, "_audit_before", None) or {}
        moved = is_created or before.get("worker") != (str(model.worker.pk) if model.worker else None)
        if moved and not is_created:
            model._audit_moved_from = (before.get("worker"),)
        if moved and model.worker is not None and rules.counts_against_caseload(
                model.status, model.referral.decision if model.referral else None):
            holds = g.get("caseload_holds")
            if holds is not None:
                # Held until the save is written (create_model / update_model), so no other save counts meanwhile.
                try:
                    holds.enter_context(counting(model.worker))
                except CaseloadBusy as busy:
                    return errors + [(("worker",), str(busy))]
            excluding = [model.pk] if model.pk else []
            after = open_case_count(model.worker, excluding) + 1
            errors += rules.caseload_cap_error(after, caseload_cap(model.worker), model.caseload_override_reason,
                                               has_permission("caseload.override_cap"))
        return errors

    def create_model(self, form):
        with ExitStack() as holds:
            g.caseload_holds = holds
            try:
                return super().create_model(form)
            finally:
                g.caseload_holds = None

    def update_model(self, form, model):
        with ExitStack() as holds:
            g.caseload_holds = holds
            try:
                return self._update_model(form, model)
            finally:
                g.caseload_holds = None

    def _update_model(self, form, model):
        """Save only what the person changed, and only onto the version they saw; a save based on an older
        version is refused with their input kept on the form."""
        try:
            seen = int(form.version_seen.data) if (form.version_seen.data or "").isdigit() else -1
            current = model.version or 0
            for name, field in form._fields.items():
                if name not in ("version_seen", "csrf_token"):
                    field.populate_obj(model, name)
            # Read before the rules run: validating stamps updated_at.
            if not model._get_changed_fields():
                flash("Nothing was changed.", "info")
                return True
            self._on_model_change(form, model, False)
            if seen != current:
                raise StaleSave(current)
            model.version = current + 1
            model.save(save_condition={"version__in": [0, None]} if current == 0 else {"version": current})
        except mongoengine.errors.SaveConditionError:
            return self._refuse_stale(form, model.reload().version or 0, model)
        except StaleSave as stale:
            return self._refuse_stale(form, stale.version, model)
        except Exception as exc:
            if not self.handle_view_exception(exc):
                raise
            return False
        self.after_model_change(form, model, False)
        return True

    def _refuse_stale(self, form, version: int, model) -> bool:
        last = AuditEvent.objects(collection="clients", record_id=str(model.pk), action="update").order_by("-at").first()
        who = f" by {last.actor} at {last.at:%H:%M on %d/%m/%Y}" if last else ""
        flash(f"Not saved: this case file was changed{who} after you opened it. Your input is still on the form. "
              "Open the case file in another tab to see the other change, then save again to apply yours.", "error")
        form.version_seen.data = str(version)
        return False

    def get_one(self, id):
        if request.endpoint and request.endpoint.endswith("edit_view"):
            # The whole-file form shows no list, so it does not read them: its cost stays flat as they grow.
            return self._scoped_one(id, self.get_query().exclude(*LIST_FIELDS))
        return super().get_one(id)

    # --- the case-file page ----------------------------------------------------------------------
    @expose("/details/")
    def details_view(self):
        """The list's eye icon opens the client's case-file page."""
        return redirect(url_for("casefile.page", id=request.args.get("id", "")))

    @expose("/casefile/")
    def casefile_view(self):
        # Links made before the case-file page had its own address.
        return redirect(url_for("casefile.page", id=request.args.get("id", "")))

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
        workers = [(str(u.pk), str(u)) for u in case_owners()]
        error = None
        if request.method == "POST":
            target = User.objects(pk=request.form.get("worker")).first() if request.form.get("worker") else None
            reason = (request.form.get("reason") or "").strip()
            if target is None or str(target.pk) not in {w for w, _ in workers}:
                error = "Choose the worker to reassign to."
            else:
                moving = [c for c in clients if c.worker != target and rules.counts_against_caseload(c.status, c.referral.decision)]
                with ExitStack() as holds:
                    try:
                        holds.enter_context(counting(target))
                        after = open_case_count(target) + len(moving)
                        problems = rules.caseload_cap_error(after, caseload_cap(target), reason,
                                                            has_permission("caseload.override_cap"))
                    except CaseloadBusy as busy:
                        problems = [(("worker",), str(busy))]
                    if problems:
                        error = problems[0][1]
                    else:
                        pks = [c.pk for c in clients]
                        docs = Client._get_collection().find({"_id": {"$in": pks}},
                                                             projection={"worker": 1, "referral.date": 1, "assignments._id": 1})
                        count = assignment.reassign(Client._get_collection(), docs, target, london_today(), current_user.email,
                                                    reason or None, {"caseload_override_reason": reason or None})
                        audit.record("reassign", collection="clients", record_id=",".join(str(p) for p in pks),
                                     summary=f"reassigned {count} clients to {target.email}" + (f" (override: {reason})" if reason else ""),
                                     changes=[{"field": "worker", "old": str(c.worker.pk) if c.worker else None,
                                               "new": str(target.pk), "record": str(c.pk)} for c in clients])
                        flash(f"Reassigned {count} clients to {target}.", "success")
                        return redirect(url_for(".index_view"))
        return self.render("admin/reassign.html", clients=clients, workers=workers, error=error,
                           ids=",".join(str(c.pk) for c in clients))
