"""The case-file page and its task forms: one generic view that every declared part uses.

/admin/casefile/<client id>/                          the client's page: timeline, plan, hours, nudges
/admin/casefile/<client id>/add/<part>                a task form that adds one item (status_history: change status)
/admin/casefile/<client id>/edit/<part>/<item id>     change one item (?step=end and the like for follow-ups)
/admin/casefile/<client id>/remove/<part>/<item id>   remove one item
/admin/casefile/<client id>/referral                  decide the referral
"""
from __future__ import annotations

import io
import json
from contextlib import ExitStack

import mongoengine
from flask import Response, abort, flash, redirect, request, send_file, url_for
from flask_admin import BaseView, expose
from flask_admin.contrib.mongoengine.form import get_form
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import BooleanField, DateField, Field, HiddenField, SelectField, StringField, TextAreaField
from wtforms.utils import unset_value
from wtforms.validators import DataRequired, Optional, StopValidation
from wtforms.widgets import DateInput, TimeInput

from admin_app import audit, rules
from admin_app.alerts import note_probe
from admin_app.caseload import STAFF_ROLES, CaseloadBusy, active_staff, caseload_cap, counting, open_case_count
from admin_app.casework import nudges, status as machine, writes
from admin_app.casework.parts import (
    DECIDE_PERMISSION, PARTS, STATUS, STATUS_PERMISSION, Part, drop_inapplicable, part_named, permission_labels,
)
from admin_app.metrics.periods import london_today
from admin_app.privacy import anonymise as anonymisation, break_glass as glass, reads as privacy_reads, retention, \
    subject_access
from admin_app.models.case_file import Client
from admin_app.models.partners import Employer, Organisation
from admin_app.views.risk import risk_panel
from admin_app.privacy import classes as field_classes
from admin_app.security import has_permission, register_permission, scope_match, scoped
from admin_app.timeline import current_plan, duration, hours_totals, timeline
from admin_app.views import audit_log
from admin_app.views.base import CaseFileConverter, ChoiceField, ScopedAjaxLoader, validation_paths
from admin_app.vocabulary import CASE_STATUSES, REFERRAL_DECISIONS, REJECTION_REASONS, label

EVENTS_PER_PAGE = 50
PAGE_PERMISSION = "client.casefile"
ANONYMISE_PERMISSION = "client.anonymise"
ACCESS_REPORT_PERMISSION = "client.access_report"
SUBJECT_ACCESS_PERMISSION = "client.subject_access"
LEGAL_HOLD_PERMISSION = "client.legal_hold"
ACCESS_EVENTS_PER_PAGE = 100


# --- form fields ---------------------------------------------------------------------------------

class DurationWidget:
    """Hours and minutes, side by side, labelled for screen readers."""

    def __call__(self, field, **kwargs):
        hours, minutes = field.parts()
        invalid = " is-invalid" if field.errors else ""
        described = kwargs.get("aria-describedby") or kwargs.get("aria_describedby") or ""
        attrs = f' aria-describedby="{described}"' if described else ""
        return Markup(
            f'<div class="form-row duration" id="{field.id}">'
            f'<div class="col-auto"><label class="small mb-0" for="{field.id}-hours">Hours</label>'
            f'<input class="form-control{invalid}" type="number" inputmode="numeric" min="0" max="24" '
            f'id="{field.id}-hours" name="{field.name}-hours" value="{hours}" style="width:6em"{attrs}></div>'
            f'<div class="col-auto"><label class="small mb-0" for="{field.id}-minutes">Minutes</label>'
            f'<input class="form-control{invalid}" type="number" inputmode="numeric" min="0" max="59" '
            f'id="{field.id}-minutes" name="{field.name}-minutes" value="{minutes}" style="width:6em"{attrs}></div></div>')


class DurationField(Field):
    """A duration typed as hours and minutes, held as whole minutes."""

    widget = DurationWidget()

    def parts(self) -> tuple[str, str]:
        if self.raw_data is not None:
            return tuple(self.raw_data)
        if self.data is None:
            return "", ""
        return str(self.data // 60), str(self.data % 60)

    def process(self, formdata, data=unset_value, extra_filters=None):
        self.process_errors = []
        if data is unset_value:
            data = None
        self.object_data = data
        self.data = data
        self.raw_data = None
        if formdata is None or (f"{self.name}-hours" not in formdata and f"{self.name}-minutes" not in formdata):
            return
        hours = (formdata.get(f"{self.name}-hours") or "").strip()
        minutes = (formdata.get(f"{self.name}-minutes") or "").strip()
        self.raw_data = [hours, minutes]
        if not hours and not minutes:
            self.data = None
            return
        if not (hours or "0").isdigit() or not (minutes or "0").isdigit():
            self.data = None
            self.process_errors.append("Enter the hours and the minutes as whole numbers.")
            return
        if int(minutes or 0) > 59:
            self.data = None
            self.process_errors.append("Minutes go from 0 to 59; put whole hours in the hours box.")
            return
        self.data = int(hours or 0) * 60 + int(minutes or 0)

    def _value(self):
        return "" if self.data is None else str(self.data)


def required_duration(form, field):
    if field.data is None and not field.process_errors:
        raise StopValidation("Enter how long it took, in hours and minutes.")


def _spoken(minutes: int) -> str:
    return f"{minutes} minute" + ("s" if minutes != 1 else "") if minutes < 60 else duration(minutes)


def duration_within(model_field):
    """The model field's bounds (a day at most), said in hours and minutes."""
    low, high = model_field.min_value or 0, model_field.max_value

    def check(form, field):
        if field.data is not None and not low <= field.data <= high:
            raise StopValidation(f"Enter how long it took: between {_spoken(low)} and {_spoken(high)}.")

    return check


class _FormHost:
    """What Flask-Admin's form converter reads from a view; task forms need none of its options but the
    look-ups: an employer is typed and looked up (CaseFileView.ajax_lookup), never a drop-down of them all."""

    form_overrides = None
    _form_subdocuments: dict = {}
    _form_ajax_refs: dict = {
        "employer": ScopedAjaxLoader("employer", Employer, fields=["name"], order_by=("name",), only=("name",),
                                     minimum_input_length=1, placeholder="Type the start of the employer's name"),
    }


_FORM_CLASSES: dict = {}


def task_form_class(part: Part, fields: tuple[str, ...]):
    """The task form for these fields of the part, generated from its embedded document (cached)."""
    key = (part.name, fields)
    if key not in _FORM_CLASSES:
        document = writes.item_class(part.name)
        extra = {}
        for name in part.duration_fields:
            if name in fields:
                model_field = document._fields[name]
                validators = [required_duration] if model_field.required else [Optional()]
                extra[name] = DurationField("How long", validators=validators + [duration_within(model_field)],
                                            description="Hours and minutes")
        field_args = {name: {"textarea": True} for name in part.long_text if name in fields}
        form_class = get_form(document, CaseFileConverter(_FormHost()), base_class=FlaskForm, only=fields,
                              field_args=field_args, extra_fields=extra)
        for name in fields:
            unbound = getattr(form_class, name, None)
            if unbound is not None and unbound.field_class is DateField:
                unbound.kwargs["widget"] = DateInput()
            elif name == "start_time" and unbound is not None:
                unbound.kwargs["widget"] = TimeInput()
        _FORM_CLASSES[key] = form_class
    return _FORM_CLASSES[key]


class SeenForm(FlaskForm):
    """What the person saw when the form opened, so a change made meanwhile is noticed."""

    seen = HiddenField()


class StatusForm(FlaskForm):
    # Any value is checked by the status machine, which says why a status is not open to this case.
    status = SelectField("New status", validate_choice=False,
                         validators=[DataRequired(message="Choose the new status.")])
    reason = TextAreaField("Why", description="Required to close or re-open a case, and for a correction",
                           filters=[lambda v: (v or "").strip() or None])
    correction = BooleanField("This corrects an earlier status that was wrong",
                              description="The earlier entry stays in the history; this one says it corrects it")


class AnonymiseForm(FlaskForm):
    reason = TextAreaField("Why", description="For example the erasure request and its date. Do not name the person: "
                                              "the reason is kept in the audit log.",
                           filters=[lambda v: (v or "").strip() or None])
    confirm = StringField("Type the case reference to confirm", filters=[lambda v: (v or "").strip()])


class BreakGlassForm(FlaskForm):
    reason = TextAreaField("Why you need to open it now", description="Who asked, and what is urgent",
                           filters=[lambda v: (v or "").strip() or None])


class LegalHoldForm(FlaskForm):
    reason = TextAreaField("Why", description="The claim, court order or request that needs the case file kept",
                           filters=[lambda v: (v or "").strip() or None])


class DecisionForm(FlaskForm):
    decision = SelectField("Decision", validators=[DataRequired(message="Choose the decision.")])
    decision_date = DateField("Decision date", widget=DateInput(), validators=[DataRequired(message="Enter the date of the decision.")])
    rejection_reason = ChoiceField("Reason for rejecting", choices=list(REJECTION_REASONS), allow_blank=True,
                                   blank_text="—", validators=[Optional()], description="Only for a rejection")
    rationale = TextAreaField("Rationale", description="Required when the referral is rejected",
                              filters=[lambda v: (v or "").strip() or None])


def _field_errors(form, errors) -> None:
    for path, message in errors:
        name = path[-1] if path else None
        field = form._fields.get(name) if isinstance(name, str) else None
        if field is not None:
            field.errors = list(field.errors or []) + [message]
        else:
            form.form_errors.append(message)


# --- the view ------------------------------------------------------------------------------------

class CaseFileView(BaseView):
    """The client's page and every task form on it; each task is a permission of its own."""

    def __init__(self, name="Case file", endpoint="casefile", url="/admin/casefile", **kwargs):
        super().__init__(name=name, endpoint=endpoint, url=url, **kwargs)
        for permission, text in permission_labels().items():
            register_permission(permission, text)
        register_permission(ANONYMISE_PERMISSION, "Case file: anonymise a closed case file (instead of deleting it)")
        register_permission(ACCESS_REPORT_PERMISSION, "Case file: see who opened it and its restricted parts")
        register_permission(SUBJECT_ACCESS_PERMISSION, "Case file: produce the subject access archive")
        register_permission(LEGAL_HOLD_PERMISSION, "Case file: place or lift a legal hold (stops retention)")

    def is_visible(self):
        return False

    def is_accessible(self):
        return current_user.is_authenticated and has_permission(PAGE_PERMISSION)

    @staticmethod
    def _needed(name: str, kwargs: dict) -> str | None:
        if name in ("page", "index"):
            return PAGE_PERMISSION
        if name == "decide":
            return DECIDE_PERMISSION
        if name == "anonymise":
            return ANONYMISE_PERMISSION
        if name == "access":
            return ACCESS_REPORT_PERMISSION
        if name == "subject_access":
            return SUBJECT_ACCESS_PERMISSION
        if name == "legal_hold":
            return LEGAL_HOLD_PERMISSION
        if name == "break_glass":
            return glass.PERMISSION
        if name == "ajax_lookup":
            # Whoever may record an item with that field on some case file may look its records up.
            lookup = request.args.get("name") or ""
            candidates = [part.permission(action) for part in PARTS for action in ("add", "edit")
                          if lookup in _FormHost._form_ajax_refs and lookup in part.fields]
            return next((p for p in candidates if has_permission(p)), candidates[0] if candidates else None)
        if name == "add" and kwargs.get("part") == STATUS:
            return STATUS_PERMISSION
        part = part_named(kwargs.get("part") or "")
        if part is None or name not in ("add", "edit", "remove"):
            return None
        return part.permission(name)

    def _handle_view(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("security.login", next=request.full_path))
        needed = self._needed(name, kwargs)
        if needed is None:
            abort(404)
        if not (has_permission(PAGE_PERMISSION) and has_permission(needed)):
            note_probe("refused", "clients", (kwargs.get("id") or "")[:80], f"refused {request.method} {request.path[:200]}")
            abort(403)
        return None

    # --- reading ---------------------------------------------------------------------------------
    @staticmethod
    def _scope() -> dict:
        return scope_match(Client)

    @staticmethod
    def _not_found(id):
        # Out of scope and not there look the same to the user: nothing is disclosed. Both are audited.
        note_probe("not_found", "clients", (id or "")[:80], f"not found: {request.method} {request.path[:200]}")
        abort(404)

    def _item_gone(self, id, part: Part):
        """The item is not in this case file. A save (someone removed the item while this person had it open)
        goes back to the case file with a message; anything else, or a case file out of reach, is not found."""
        if request.method != "POST":
            self._not_found(id)
        client = self._client(id, "reference")
        # Audited, but not counted as probing: the case file is the person's to work on, and two people
        # working on one file meet this in the ordinary course of their work.
        audit.record("item_gone", collection="clients", record_id=str(client.pk),
                     summary=f"item gone: {request.method} {request.path[:200]}")
        flash(f"Nothing was saved: this {part.item} is no longer in the case file of {client.reference}. "
              "Someone may have removed it after you opened it.", "error")
        abort(redirect(self._page_url(client.pk)))

    def _client(self, id, *fields, break_glass: bool = False):
        """The case file (or only some of its fields) if the user may reach it; 404 otherwise. With `break_glass`
        (the page, read only), a holder of caseload.break_glass is sent to give a reason for one outside their scope."""
        if writes.object_id(id) is None:
            self._not_found(id)
        query = scoped(Client.objects).filter(pk=id)
        client = (query.only(*fields) if fields else query).first()
        if client is None and break_glass and has_permission(glass.PERMISSION) and Client.objects(pk=id).count():
            if glass.current(current_user, writes.object_id(id)) is None:
                abort(redirect(url_for(".break_glass", id=id)))
            client = (Client.objects(pk=id).only(*fields) if fields else Client.objects(pk=id)).first()
        if client is None:
            self._not_found(id)
        return client

    def _page_url(self, id):
        return url_for(".page", id=id)

    def _render(self, template, client, **context):
        return self.render(template, client=client, label=label, page_url=self._page_url(client.pk),
                           client_name=self._name(client), **context)

    @staticmethod
    def _name(client) -> str:
        if not privacy_reads.readable(Client._fields["first_name"]):
            return field_classes.RESTRICTED
        return f"{client.first_name or ''} {client.last_name or ''}".strip()

    @staticmethod
    def _readable_fields(part: Part, fields: tuple[str, ...], adding: bool) -> tuple[str, ...]:
        """The task form's fields this user may read; a form whose required field they may not read is refused."""
        document = writes.item_class(part.name)
        hidden = [n for n in fields if not privacy_reads.readable(document._fields[n])]
        if adding and any(document._fields[n].required for n in hidden):
            abort(403)
        return tuple(n for n in fields if n not in hidden)

    # --- the page --------------------------------------------------------------------------------
    @expose("/ajax/lookup/")
    def ajax_lookup(self):
        """The records a task form's look-up offers for what was typed (JSON, as Flask-Admin's forms expect)."""
        loader = _FormHost._form_ajax_refs[request.args.get("name")]
        found = loader.get_list(request.args.get("query") or "", request.args.get("offset", 0, type=int),
                                request.args.get("limit", 10, type=int))
        return Response(json.dumps([loader.format(m) for m in found]), mimetype="application/json")

    @expose("/")
    def index(self):
        return redirect(url_for("client.index_view"))

    @expose("/<id>/")
    def page(self, id):
        client = self._client(id, break_glass=True)
        opened = None if scoped(Client.objects).filter(pk=client.pk).count() else glass.current(current_user, client.pk)
        if writes.has_items_without_ids(client):
            # Items stored before they had ids get them now, without touching anything else.
            writes.assign_missing_item_ids(client.pk)
            client = self._client(id)
        audit.record("view", collection="clients", record_id=client.pk, summary=f"case file page of {client.reference}")
        privacy_reads.record_restricted_reads(client)
        today = london_today()
        events = timeline(client, privacy_reads.readable)
        page = int(request.args["page"]) if request.args.get("page", "").isdigit() else 0
        shown = events[page * EVENTS_PER_PAGE:(page + 1) * EVENTS_PER_PAGE]
        tasks = [p for p in PARTS if has_permission(p.permission("add"))] if opened is None else []
        allowed = has_permission if opened is None else (lambda permission: False)
        return self._render(
            "admin/casefile/page.html", client, events=shown, page=page,
            more=len(events) > (page + 1) * EVENTS_PER_PAGE, total_events=len(events),
            hours=hours_totals(client), plan=current_plan(client),
            overdue={str(g.id) for g in nudges.overdue_goals(client.plan_goals, today)},
            jobs=nudges.running_jobs(client.outcomes, client.status, today),
            overdue_reports=rules.disclosures_awaiting_report(client.disclosures),
            tasks=tasks, parts={p.name: p for p in PARTS},
            may=lambda part, action: allowed(part_named(part).permission(action)) if part_named(part) else False,
            may_change_status=allowed(STATUS_PERMISSION), may_decide=allowed(DECIDE_PERMISSION),
            may_edit_file=allowed("client.edit"), statuses=CASE_STATUSES, decisions=REFERRAL_DECISIONS,
            may_anonymise=allowed(ANONYMISE_PERMISSION), may_see_access=allowed(ACCESS_REPORT_PERMISSION),
            may_hold=allowed(LEGAL_HOLD_PERMISSION), break_glass=opened, risk=risk_panel(client))

    # --- adding an item --------------------------------------------------------------------------
    @expose("/<id>/add/<part>", methods=("GET", "POST"))
    def add(self, id, part):
        if part == STATUS:
            return self._change_status(id)
        declared = part_named(part)
        client = self._client(id, "reference", "first_name", "last_name", "status", "worker")
        fields = self._readable_fields(declared, declared.form_fields("add"), adding=True)
        form = task_form_class(declared, fields)(request.form if request.method == "POST" else None)
        self._offer_choices(form, declared, None)
        if request.method == "GET":
            if declared.date_field and declared.date_field in fields:
                form[declared.date_field].data = london_today()
            if declared.staff_field and declared.staff_field in fields and self._is_staff(current_user):
                form[declared.staff_field].data = current_user._get_current_object()
        else:
            valid = form.validate()
            item = writes.item_class(part)()
            errors = self._populate(form, fields, item, declared, valid)
            if valid and not errors:
                try:
                    writes.add_item(client.pk, part, item, self._scope(), client.reference)
                except writes.Gone:
                    abort(404)
                flash(f"{declared.item.capitalize()} recorded for {client.reference}.", "success")
                return redirect(self._page_url(client.pk))
            _field_errors(form, errors)
        return self._render("admin/casefile/task_form.html", client, form=form, title=declared.add_label,
                            submit="Save")

    # --- changing an item ------------------------------------------------------------------------
    @expose("/<id>/edit/<part>/<item_id>", methods=("GET", "POST"))
    def edit(self, id, part, item_id):
        declared = part_named(part)
        step = declared.follow_up(request.args.get("step"))
        if request.args.get("step") and step is None:
            abort(404)
        loaded = writes.load_item(id, part, item_id, self._scope())
        if loaded is None:
            self._item_gone(id, declared)
        raw, reference = loaded
        client = self._client(id, "reference", "first_name", "last_name", "status", "worker")
        item = writes.as_item(part, raw)
        fields = self._readable_fields(declared, step.fields if step else declared.form_fields("edit"), adding=False)
        posted = request.method == "POST"
        form = task_form_class(declared, fields)(request.form if posted else None, obj=None if posted else item)
        seen = SeenForm(request.form if posted else None, meta={"csrf": False})
        self._offer_choices(form, declared, item)
        if not posted:
            seen.seen.data = writes.fingerprint(raw)
        else:
            valid = form.validate()
            after = writes.as_item(part, raw)
            errors = self._populate(form, fields, after, declared, valid)
            if valid and not errors:
                if seen.seen.data != writes.fingerprint(raw):
                    self._stale(seen, raw, declared.item)
                else:
                    try:
                        changed = writes.update_item(client.pk, part, raw, after, fields, self._scope(), reference)
                    except writes.Stale:
                        fresh = writes.load_item(id, part, item_id, self._scope())
                        if fresh is None:
                            flash(f"This {declared.item} was removed by someone else meanwhile; nothing was saved.", "error")
                            return redirect(self._page_url(client.pk))
                        self._stale(seen, fresh[0], declared.item)
                    else:
                        if changed:
                            names = ", ".join(form[n].label.text.lower() if n in form else n for n in changed)
                            flash(f"{declared.item.capitalize()} changed for {client.reference}: {names}.", "success")
                        else:
                            flash("Nothing was changed.", "info")
                        return redirect(self._page_url(client.pk))
            _field_errors(form, errors)
        title = f"{step.label}: {declared.item}" if step else f"Change a {declared.item}"
        return self._render("admin/casefile/task_form.html", client, form=form, seen=seen, title=title,
                            submit="Save changes")

    @expose("/<id>/remove/<part>/<item_id>", methods=("GET", "POST"))
    def remove(self, id, part, item_id):
        declared = part_named(part)
        loaded = writes.load_item(id, part, item_id, self._scope())
        if loaded is None:
            self._item_gone(id, declared)
        raw, reference = loaded
        client = self._client(id, "reference", "first_name", "last_name", "status", "worker")
        seen = SeenForm(request.form if request.method == "POST" else None)
        if request.method == "GET":
            seen.seen.data = writes.fingerprint(raw)
        elif seen.validate():
            if seen.seen.data != writes.fingerprint(raw):
                flash(f"This {declared.item} was changed by someone else after you opened it; "
                      "check it below before removing it.", "error")
                seen.seen.data = writes.fingerprint(raw)
            else:
                try:
                    writes.remove_item(client.pk, part, raw, self._scope(), reference)
                except writes.Stale:
                    flash(f"This {declared.item} was removed or changed meanwhile; nothing was removed.", "error")
                else:
                    flash(f"{declared.item.capitalize()} removed from {client.reference}.", "success")
                return redirect(self._page_url(client.pk))
        item = writes.as_item(part, raw)
        document = writes.item_class(part)
        shown = [(document._fields[n].verbose_name or n,
                  self._display(item, n) if privacy_reads.readable(document._fields[n]) else field_classes.RESTRICTED)
                 for n in declared.fields]
        return self._render("admin/casefile/remove.html", client, seen=seen, part=declared, shown=shown)

    # --- status and referral ---------------------------------------------------------------------
    def _change_status(self, id):
        client = self._client(id, "reference", "first_name", "last_name", "status", "worker", "referral",
                              "caseload_override_reason")
        decision = client.referral.decision if client.referral else None
        form = StatusForm(request.form if request.method == "POST" else None)
        ordinary = machine.next_statuses(client.status, decision)
        corrections = [s for s in machine.next_statuses(client.status, decision, correction=True) if s not in ordinary]
        choices = {"Next step": [("", "Choose…")] + [(s, label(CASE_STATUSES, s)) for s in ordinary]}
        if corrections:
            choices["Only as a correction (tick the box below)"] = [(s, label(CASE_STATUSES, s)) for s in corrections]
        form.status.choices = choices
        if request.method == "GET" and request.args.get("status") in ordinary:
            form.status.data = request.args["status"]
        if request.method == "POST" and form.validate():
            errors = machine.status_change_errors(client.status, form.status.data, decision, form.reason.data,
                                                  form.correction.data)
            with ExitStack() as holds:
                if not errors and client.worker is not None \
                        and not rules.counts_against_caseload(client.status, decision) \
                        and rules.counts_against_caseload(form.status.data, decision):
                    try:
                        # Held until the status is written: no other save counts this caseload meanwhile.
                        holds.enter_context(counting(client.worker))
                        errors = rules.caseload_cap_error(open_case_count(client.worker) + 1, caseload_cap(client.worker),
                                                          form.reason.data, has_permission("caseload.override_cap"))
                    except CaseloadBusy as busy:
                        errors = [(("worker",), str(busy))]
                    errors = [(("reason",) if path == ("caseload_override_reason",) else ("status",), message)
                              for path, message in errors]
                if not errors:
                    try:
                        writes.change_status(client.pk, client.status, form.status.data, current_user.email,
                                             form.reason.data, form.correction.data, london_today(), self._scope(),
                                             client.reference)
                    except writes.Stale:
                        flash("Someone else changed this case's status meanwhile; nothing was saved. "
                              "Check the status below and try again.", "error")
                        return redirect(self._page_url(client.pk))
                    flash(f"{client.reference} is now {label(CASE_STATUSES, form.status.data)}.", "success")
                    return redirect(self._page_url(client.pk))
            _field_errors(form, errors)
        if not ordinary and not corrections:
            flash("The referral has not been decided yet: a manager decides it first."
                  if decision in (None, "pending") else "This case's status cannot be changed.", "info")
        return self._render("admin/casefile/task_form.html", client, form=form, title="Change the status",
                            submit="Change status",
                            intro=f"Now: {label(CASE_STATUSES, client.status)}. Referral: "
                                  f"{label(REFERRAL_DECISIONS, decision or 'pending').lower()}.")

    @expose("/<id>/referral", methods=("GET", "POST"))
    def decide(self, id):
        client = self._client(id, "reference", "first_name", "last_name", "status", "worker", "referral")
        previous = (client.referral.decision if client.referral else None) or "pending"
        allowed = machine.LATER_DECISIONS.get(previous, ())
        form = DecisionForm(request.form if request.method == "POST" else None)
        form.decision.choices = [("", "Choose…")] + [(d, label(REFERRAL_DECISIONS, d)) for d in allowed]
        if request.method == "GET":
            form.decision_date.data = london_today()
        elif form.validate():
            errors = machine.decision_errors(previous, form.decision.data, form.decision_date.data,
                                             client.referral.date if client.referral else None, london_today(),
                                             form.rejection_reason.data, form.rationale.data)
            if not errors:
                values = machine.decision_values(form.decision.data, form.decision_date.data,
                                                 form.rejection_reason.data, form.rationale.data, current_user.email)
                new_status = machine.status_after_decision(client.status, form.decision.data)
                try:
                    writes.decide_referral(client.pk, previous, values, client.status, new_status, current_user.email,
                                           london_today(), self._scope(), client.reference)
                except writes.Stale:
                    flash("Someone else decided this referral or changed the case meanwhile; nothing was saved.", "error")
                    return redirect(self._page_url(client.pk))
                flash(f"Referral {label(REFERRAL_DECISIONS, form.decision.data).lower()} for {client.reference}; "
                      f"the case is now {label(CASE_STATUSES, new_status)}.", "success")
                return redirect(self._page_url(client.pk))
            _field_errors(form, errors)
        if not allowed:
            flash(f"This referral was {previous}; it cannot be decided again.", "info")
        return self._render("admin/casefile/task_form.html", client, form=form, title="Decide the referral",
                            submit="Record the decision",
                            intro=f"Referral: {label(REFERRAL_DECISIONS, previous).lower()}.")

    # --- anonymisation (instead of deletion) --------------------------------------------------------
    @expose("/<id>/anonymise", methods=("GET", "POST"))
    def anonymise(self, id):
        client = self._client(id, "reference", "first_name", "last_name", "status", "worker", "legal_hold",
                              "anonymised_on")
        form = AnonymiseForm(request.form if request.method == "POST" else None)
        if request.method == "POST" and form.validate():
            if not form.reason.data:
                form.reason.errors.append("Give the reason for anonymising (for example the erasure request's date).")
            elif form.confirm.data != client.reference:
                form.confirm.errors.append(f"Type the case reference, {client.reference}, to confirm.")
            else:
                try:
                    anonymisation.anonymise(client.reference, form.reason.data, current_user.email, london_today())
                except anonymisation.CannotAnonymise as exc:
                    form.form_errors.append(str(exc))
                else:
                    flash(f"{client.reference} is anonymised: names, contact details and free text are removed; "
                          "coded data and every figure stay.", "success")
                    return redirect(self._page_url(client.pk))
        return self._render("admin/casefile/task_form.html", client, form=form, title="Anonymise this case file",
                            submit="Anonymise",
                            intro="Anonymising removes the person's identity, contact details and all free text for good, "
                                  "and keeps the coded data, so every figure and past return stays the same. It cannot be "
                                  "undone. Only a closed case file without a legal hold can be anonymised.")

    # --- break-glass ---------------------------------------------------------------------------------
    @expose("/<id>/break-glass", methods=("GET", "POST"))
    def break_glass(self, id):
        cid = writes.object_id(id)
        client = Client.objects(pk=cid).only("reference").first() if cid else None
        if client is None:
            self._not_found(id)
        if scoped(Client.objects).filter(pk=cid).count():
            return redirect(self._page_url(cid))  # on their caseload: nothing to break
        form = BreakGlassForm(request.form if request.method == "POST" else None)
        if request.method == "POST" and form.validate():
            try:
                glass.open_for(current_user._get_current_object(), client, form.reason.data or "")
            except glass.ReasonNeeded as exc:
                form.reason.errors.append(str(exc))
            else:
                flash(f"Opened {client.reference} for {glass.BREAK_GLASS_MINUTES} minutes, read only. "
                      "The managers have been told.", "warning")
                return redirect(self._page_url(cid))
        return self.render("admin/casefile/task_form.html", client=client, client_name="", label=label,
                           page_url=url_for("client.index_view"), form=form,
                           title="Open a case file outside your caseload", submit="Open it",
                           intro=f"{client.reference} is not on your caseload. You may open it, read only, for "
                                 f"{glass.BREAK_GLASS_MINUTES} minutes if there is an urgent need. Give the reason: it "
                                 "is recorded in the audit log and every manager is told at once.")

    # --- legal hold --------------------------------------------------------------------------------
    @expose("/<id>/legal-hold", methods=("GET", "POST"))
    def legal_hold(self, id):
        client = self._client(id, "reference", "first_name", "last_name", "status", "worker", "legal_hold",
                              "anonymised_on")
        form = LegalHoldForm(request.form if request.method == "POST" else None)
        if request.method == "POST" and form.validate():
            lifting = bool(client.legal_hold)
            if not lifting and not form.reason.data:
                form.reason.errors.append("Give the reason for the hold (the claim, the order, who asked).")
            else:
                try:
                    retention.set_legal_hold(client.reference, None if lifting else form.reason.data, current_user.email)
                except anonymisation.CannotAnonymise as exc:
                    form.form_errors.append(str(exc))
                else:
                    flash(f"Legal hold on {client.reference} " + ("lifted." if lifting else "placed: retention will "
                          "not anonymise this case file while it stands."), "success")
                    return redirect(self._page_url(client.pk))
        if client.legal_hold:
            del form.reason
            return self._render("admin/casefile/task_form.html", client, form=form, title="Lift the legal hold",
                                submit="Lift the hold", intro=f"Held: {client.legal_hold}. Once lifted, the retention "
                                                               "rules apply to this case file again.")
        return self._render("admin/casefile/task_form.html", client, form=form, title="Place a legal hold",
                            submit="Place the hold",
                            intro="A case file under a legal hold is never anonymised by the retention sweep.")

    # --- access report and subject access ------------------------------------------------------------
    @expose("/<id>/access")
    def access(self, id):
        client = self._client(id, "reference", "first_name", "last_name", "status", "worker")
        events = subject_access.access_events(client.pk)
        page = int(request.args["page"]) if request.args.get("page", "").isdigit() else 0
        shown = list(events.skip(page * ACCESS_EVENTS_PER_PAGE).limit(ACCESS_EVENTS_PER_PAGE + 1))
        total = events.count()
        shown, more = shown[:ACCESS_EVENTS_PER_PAGE], len(shown) > ACCESS_EVENTS_PER_PAGE
        return self._render("admin/casefile/access.html", client, events=shown, page=page, more=more, total=total,
                            entries=audit_log.describe(self.admin, shown),
                            may_subject_access=has_permission(SUBJECT_ACCESS_PERMISSION))

    @expose("/<id>/subject-access", methods=("POST",))
    def subject_access(self, id):
        client = self._client(id, "reference")
        archive = io.BytesIO()
        subject_access.produce(client.reference, archive, current_user.email)
        archive.seek(0)
        return send_file(archive, mimetype="application/zip", as_attachment=True,
                         download_name=f"subject-access-{client.reference}-{london_today():%Y-%m-%d}.zip")

    # --- helpers ---------------------------------------------------------------------------------
    @staticmethod
    def _is_staff(user) -> bool:
        """Whether the user is one of the staff a "Who" select offers: read from the signed-in user's own
        roles, so the form makes no query of its own for it."""
        return bool(user.active) and any(role.name in STAFF_ROLES for role in user.roles)

    @staticmethod
    def _offer_choices(form, part: Part, item) -> None:
        """Reference drop-downs offer the right records only: staff pickers list active staff."""
        document = writes.item_class(part.name)
        for name in form._fields:
            model_field = document._fields.get(name)
            target = getattr(model_field, "document_type", None)
            if not isinstance(model_field, mongoengine.ReferenceField):
                continue
            current = item._data.get(name) if item is not None else None
            current = getattr(current, "id", current)
            if name == part.staff_field or target.__name__ == "User":
                form[name].queryset = active_staff(including=current)
            elif target is Organisation:
                form[name].queryset = Organisation.objects.only("name").order_by("name")

    def _populate(self, form, fields, item, part: Part, valid: bool) -> list:
        """Put the form's values on the item and return the item's rule errors. Fields the form already
        refused keep the item's value, so every remaining problem is reported in the same round."""
        for name in fields:
            if not form[name].errors:
                form[name].populate_obj(item, name)
        kept = drop_inapplicable(part, {n: getattr(item, n) for n in part.fields})
        for name, value in kept.items():
            setattr(item, name, value)
        errors = self._item_errors(part, item)
        if not valid:
            # Report a rule only on a field the form had nothing to say about.
            errors = [(path, message) for path, message in errors
                      if not (path and isinstance(path[-1], str) and path[-1] in form and form[path[-1]].errors)]
        return errors

    @staticmethod
    def _item_errors(part: Part, item) -> list:
        errors = rules.item_errors(part.name, item, london_today())
        try:
            item.validate()
        except mongoengine.ValidationError as exc:
            errors += validation_paths(exc)
        return errors

    @staticmethod
    def _stale(seen, raw, what: str) -> None:
        flash(f"Not saved: someone else changed this {what} after you opened it. Your input is still in the form; "
              "check the case file, then save again to apply it.", "error")
        seen.seen.data = writes.fingerprint(raw)

    @staticmethod
    def _display(item, name) -> str:
        value = getattr(item, name)
        field = item._fields[name]
        if value is None:
            return "—"
        if getattr(field, "choices", None):
            return label(field.choices, value)
        if name in ("minutes",):
            return duration(value)
        if hasattr(value, "strftime"):
            return value.strftime("%d/%m/%Y")
        if isinstance(value, bool):
            return "yes" if value else "no"
        return str(value)
