"""Risk and safety screens: risk alerts, venues, groups, clients' affiliations, visits (with the visit check,
check-in and check-out, and the outcome that records the contacts), and the risk view.

Every screen is a SecuredModelView (permissions, scope and audit from the one base view). Venues and groups
are shared; affiliations are seen only on the user's own caseload, visits only by the staff on them.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import abort, flash, g, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_login import current_user
from mongoengine import Q
from markupsafe import Markup, escape
from wtforms import BooleanField, TextAreaField

from admin_app import audit
from admin_app.alerts import note_probe
from admin_app.caseload import active_staff
from admin_app.casework import writes
from admin_app.metrics.periods import london_today
from admin_app.models.case_file import Client, Contact
from admin_app.models.people import User
from admin_app.models.risk import (
    AFFILIATION_CONFIDENCE, AFFILIATION_SOURCES, VENUE_KINDS, VISIT_STATUSES, Affiliation, Group, RiskAlert, Venue, Visit,
)
from admin_app.risk import alerts as risk_alerts, rules, visits as visit_facts
from admin_app.saved_filters import high_risk, mongo_day, risk_review_overdue
from admin_app.security import has_permission, register_permission, scope_match, scoped, sees_everything
from admin_app.views.base import RulesRefused, SecuredModelView
from admin_app.vocabulary import label

OVERRIDE_PERMISSION = "visit.override"
RISK_VIEW_PERMISSION = "risk.view"
#: Visit times within this many hours either side of now are offered on the check-in page.
CHECKIN_WINDOW_HOURS = 12


def _reference_link(view, context, model, name):
    client = getattr(model, "client", None)
    if client is None:
        return model.reference or "—"
    return Markup(f'<a href="{url_for("casefile.page", id=client.pk)}">{escape(model.reference or client.reference)}</a>')


def risk_panel(client) -> dict:
    """What the case-file page shows of risk and safety: open alerts, current affiliations (to those who may read
    them) and the client's next visits (to those who may see visits), each within the user's own scope."""
    from admin_app.risk.alerts import london_now

    panel = {"alerts": list(scoped(RiskAlert.objects(client=client.pk, open=True)).order_by("-created_at").limit(5))
             if has_permission("riskalert.list") else []}
    panel["affiliations"] = list(Affiliation.objects(client=client.pk, ended_on=None).order_by("-date").limit(10)) \
        if has_permission("affiliation.list") else None
    panel["visits"] = list(visit_facts.upcoming(scoped(Visit.objects(clients=client.pk)), london_now()).limit(5)) \
        if has_permission("visit.list") else None
    return panel


# --- risk alerts -----------------------------------------------------------------------------------

def open_alerts(user, limit: int = 20):
    """The user's open risk alerts (their caseload's, or every one for those who see everything), newest first."""
    return scoped(RiskAlert.objects(open=True), user).order_by("-created_at").limit(limit)


class RiskAlertView(SecuredModelView):
    screen_actions = ("list", "details", "acknowledge")
    extra_endpoints = {"acknowledge_view": "acknowledge"}
    column_list = ("created_at", "kind", "reference", "summary", "raised_by", "acknowledged_by", "acknowledged_at",
                   "email_sent_at")
    column_filters = ("kind", "open")
    column_default_sort = ("created_at", True)
    column_formatters = {"reference": _reference_link,
                         "kind": lambda v, c, m, n: label(rules.ALERT_KINDS, m.kind)}
    column_details_list = ("created_at", "kind", "reference", "summary", "raised_by", "acknowledged_by",
                           "acknowledged_at", "email_sent_at", "emailed_to", "email_attempts", "email_error")

    @expose("/acknowledge/", methods=("POST",))
    def acknowledge_view(self):
        alert_id = writes.object_id(request.form.get("id"))
        done = 0
        if alert_id is not None:
            # Only an open alert in the user's scope can be acknowledged, once.
            done = scoped(RiskAlert.objects(pk=alert_id, open=True)).update_one(
                set__open=False, set__acknowledged_by=current_user.email, set__acknowledged_at=datetime.utcnow())
        if done:
            audit.record("update", collection="risk_alerts", record_id=alert_id, summary="acknowledged a risk alert")
            flash("Alert acknowledged.", "success")
        else:
            note_probe("not_found", "risk_alerts", request.form.get("id"), "acknowledge a risk alert that is not theirs or not open")
            flash("That alert is not open or not yours to acknowledge.", "error")
        target = request.form.get("next") or ""
        return redirect(target if target.startswith("/admin/") else url_for("admin.index"))


# --- venues and groups -----------------------------------------------------------------------------

def _latest_level(view, context, model, name):
    latest = model.latest_assessment
    return label(Venue.assessments.field.document_type.level.choices, latest.level) if latest else "not assessed"


def _review(view, context, model, name):
    latest = model.latest_assessment
    if latest is None or latest.review_date is None:
        return "—"
    overdue = latest.review_date < london_today()
    text = latest.review_date.strftime("%d/%m/%Y")
    return Markup(f'<span class="text-danger">{text} (overdue)</span>') if overdue else text


class VenueView(SecuredModelView):
    column_list = ("name", "area", "postcode_district", "kind", "risk_level", "review_date")
    column_labels = {"risk_level": "Risk level", "review_date": "Review date"}
    column_formatters = {"risk_level": _latest_level, "review_date": _review}
    column_filters = ("kind", "area", "postcode_district")
    column_choices = {"kind": list(VENUE_KINDS)}
    column_searchable_list = ("name", "area", "postcode_district")
    column_details_list = ("name", "area", "postcode_district", "kind", "assessments")
    form_subdocuments = {"assessments": {"form_subdocuments": {None: {
        "form_columns": ("date", "level", "mitigations", "assessor", "review_date")}}}}

    def model_errors(self, model, is_created):
        errors = []
        for index, item in enumerate(model.assessments):
            if item.review_date is not None and item.date is not None and item.review_date < item.date:
                errors.append((("assessments", index, "review_date"), "The review date cannot be before the assessment."))
            if item.assessor is None and current_user.is_authenticated:
                item.assessor = current_user._get_current_object()
        return errors


class GroupView(SecuredModelView):
    column_list = ("name", "areas", "rivals")
    column_searchable_list = ("name",)
    column_details_list = ("name", "areas", "rivals", "notes")
    form_columns = ("name", "areas", "rivals", "notes")

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        if any(r is not None and r.pk == model.pk for r in model.rivals):
            raise RulesRefused(["Rival groups: a group cannot be its own rival."])
        stored = None if is_created else Group.objects(pk=model.pk).only("rivals").no_dereference().first()
        # A rivalry is mutual: one already recorded on the other group's side is not new.
        named_by_others = set() if is_created else set(Group.objects(rivals=model.pk).scalar("pk"))
        g.rivals_before = ({r.id for r in stored.rivals} if stored else set()) | named_by_others

    def after_model_change(self, form, model, is_created):
        added = rules.new_rivalries(getattr(g, "rivals_before", set()), {r.pk for r in model.rivals if r is not None})
        if added:
            risk_alerts.note_rivalries(model, [r for r in model.rivals if r is not None and r.pk in added])


# --- affiliations ----------------------------------------------------------------------------------

def caseload_ids(user=None) -> list:
    return list(scoped(Client.objects, user).scalar("pk"))


class AffiliationView(SecuredModelView):
    """Criminal-offence data: no export, and a worker sees only their own caseload's affiliations."""

    screen_actions = ("list", "details", "create", "edit", "delete")
    column_list = ("client", "group", "confidence", "source", "date", "ended_on", "recorded_by")
    column_filters = ("confidence", "source")
    column_choices = {"confidence": list(AFFILIATION_CONFIDENCE), "source": list(AFFILIATION_SOURCES)}
    column_default_sort = ("date", True)
    column_details_list = ("client", "group", "confidence", "source", "source_detail", "date", "ended_on", "recorded_by")
    form_columns = ("client", "group", "confidence", "source", "source_detail", "date", "ended_on")
    # Typed and looked up within the user's caseload: never a drop-down of every case file.
    form_ajax_refs = {"client": {"fields": ["reference"], "order_by": ("reference",), "minimum_input_length": 1,
                                 "placeholder": "Type a reference or name"}}
    column_formatters = {"client": lambda v, c, m, n: Markup(
        f'<a href="{url_for("casefile.page", id=m.client.pk)}">{escape(m.client.reference)}</a>') if m.client else "—"}

    def get_query(self):
        query = super().get_query()
        return query if sees_everything() else query.filter(client__in=caseload_ids())

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        if model.client is not None and not scoped(Client.objects).filter(pk=model.client.pk).count():
            raise RulesRefused(["Client: choose one of your own clients."])
        if model.ended_on is not None and model.date is not None and model.ended_on < model.date:
            raise RulesRefused(["No longer affiliated from: cannot be before the date recorded."])
        if is_created:
            model.recorded_by = current_user.email
        stored = None if is_created else Affiliation.objects(pk=model.pk).no_dereference().first()
        g.affiliation_before = None if stored is None else {
            "group": stored.group.id if stored.group else None, "confidence": stored.confidence,
            "ended_on": stored.ended_on}

    def after_model_change(self, form, model, is_created):
        risk_alerts.note_affiliation(model, getattr(g, "affiliation_before", None))


# --- visits ----------------------------------------------------------------------------------------

def _when(view, context, model, name):
    value = getattr(model, name)
    return value.strftime("%d/%m/%Y %H:%M") if value else "—"


def _names(items) -> str:
    return ", ".join(str(getattr(i, "reference", None) or getattr(i, "name", None) or i) for i in items if i is not None)


class VisitView(SecuredModelView):
    screen_actions = ("list", "details", "create", "edit", "delete", "checkin", "outcome")
    extra_endpoints = {"checkin_view": "checkin", "check_view": "checkin", "outcome_view": "outcome"}
    column_list = ("starts_at", "ends_at", "venue", "workers", "clients", "status", "finding_codes")
    column_labels = {"finding_codes": "Findings"}
    column_formatters = {
        "starts_at": _when, "ends_at": _when,
        "workers": lambda v, c, m, n: _names(m.workers),
        "clients": lambda v, c, m, n: _names(m.clients),
        "finding_codes": lambda v, c, m, n: ", ".join(rules.FINDING_CODES.get(code, code) for code in m.finding_codes) or "none",
        "status": lambda v, c, m, n: label(Visit.status.choices, m.status),
    }
    column_filters = ("status", "starts_at")
    column_default_sort = ("starts_at", True)
    column_details_list = ("starts_at", "ends_at", "venue", "workers", "clients", "purpose", "status", "findings",
                           "override_reason", "override_by", "override_at", "checked_in_at", "checked_in_by",
                           "checked_out_at", "checked_out_by", "overdue_alerted_at", "outcome_recorded_at",
                           "outcome_recorded_by", "created_by")
    column_formatters_detail = {"workers": lambda v, c, m, n: _names(m.workers),
                                "clients": lambda v, c, m, n: _names(m.clients)}
    form_columns = ("starts_at", "ends_at", "venue", "workers", "clients", "purpose", "status", "confirm_findings",
                    "override_reason")
    form_extra_fields = {
        "confirm_findings": BooleanField("I have read the findings of the visit check"),
        "override_reason": TextAreaField("Reason for overriding serious findings (managers)",
                                         description="Needed only when the check finds something serious"),
    }
    # Open case files in the user's caseload, typed and looked up: never a drop-down of every case file.
    form_ajax_refs = {"clients": {"fields": ["reference"], "filters": {"status__ne": "closed"},
                                  "order_by": ("reference",), "minimum_input_length": 1,
                                  "placeholder": "Type a reference or name"}}
    create_template = "admin/risk/visit_create.html"
    edit_template = "admin/risk/visit_edit.html"
    details_template = "admin/risk/visit_details.html"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        register_permission(OVERRIDE_PERMISSION, "Visits: override serious findings of the visit check, with a reason")

    def _scope_form(self, form, obj=None):
        current = [w.pk for w in (obj.workers if obj is not None else []) if w is not None]
        form.workers.queryset = User.objects(Q(pk__in=list(active_staff().scalar("pk")) + current)) \
            .only("email", "name", "active").order_by("name", "email")
        form.venue.queryset = Venue.objects.only("name").order_by("name")
        return form

    def create_form(self, obj=None):
        form = self._scope_form(super().create_form(obj))
        del form["status"]  # booked as planned; check-in and check-out move it on
        if request.method == "GET" and not form.workers.data:
            form.workers.data = [current_user._get_current_object()]
        return form

    def edit_form(self, obj=None):
        form = self._scope_form(super().edit_form(obj), obj)
        # Check-in and check-out move a visit on (with who and when); the form can only cancel it.
        current = obj.status if obj is not None else "planned"
        form.status.choices = [(value, text) for value, text in VISIT_STATUSES if value in (current, "cancelled")]
        return form

    def enforce_scope(self, model) -> None:
        """Someone who sees only their own visits cannot book or move a visit they are not on."""
        if not sees_everything() and current_user.pk not in [w.pk for w in model.workers if w is not None]:
            model.workers = [*model.workers, current_user._get_current_object()]

    def model_errors(self, model, is_created):
        errors = list(rules.visit_errors(model.starts_at, model.ends_at))
        if not [w for w in model.workers if w is not None]:
            errors.append((("workers",), "Choose the member of staff going to the visit."))
        if not sees_everything():
            mine = set(caseload_ids())
            if any(c is not None and c.pk not in mine for c in model.clients):
                errors.append((("clients",), "Choose only your own clients."))
        return errors

    def on_model_change(self, form, model, is_created):
        if is_created:
            # A visit is booked as planned; check-in and check-out move it on.
            model.status = "planned"
        super().on_model_change(form, model, is_created)
        changed = set(getattr(model, "_changed_fields", []) or [])
        if not is_created and not changed & {"starts_at", "ends_at", "venue", "workers", "clients"}:
            return
        findings = visit_facts.findings_for(model, show_groups=has_permission("affiliation.details"))
        g.visit_findings = findings
        reason = (form.override_reason.data or "").strip() if hasattr(form, "override_reason") else ""
        confirmed = bool(getattr(form, "confirm_findings", None) and form.confirm_findings.data)
        errors = rules.override_errors(findings, confirmed, reason, has_permission(OVERRIDE_PERMISSION))
        if errors:
            raise RulesRefused(errors)
        model.findings = [f.message for f in findings]
        model.finding_codes = [f.code for f in findings]
        if rules.serious(findings):
            model.override_reason, model.override_by, model.override_at = reason, current_user.email, datetime.utcnow()
            g.visit_override = True
        else:
            model.override_reason = model.override_by = model.override_at = None
        if is_created:
            model.created_by = current_user.email

    def after_model_change(self, form, model, is_created):
        if getattr(g, "visit_override", False):
            audit.record("update", collection="visits", record_id=model.pk,
                         summary=f"overrode the visit check ({', '.join(model.finding_codes)}): {model.override_reason}"[:500])

    # --- lone working: the phone-sized check-in page ---------------------------------------------
    @expose("/checkin/")
    def checkin_view(self):
        from admin_app.risk.alerts import london_now

        now = london_now()
        window = timedelta(hours=CHECKIN_WINDOW_HOURS)
        mine = Visit.objects(workers=current_user.pk, starts_at__lt=now + window, ends_at__gt=now - window,
                             status__in=list(rules.OPEN_VISIT_STATUSES)).order_by("starts_at")
        return self.render("admin/risk/checkin.html", visits=list(mine), now=now)

    @expose("/checkin/<action_name>/", methods=("POST",))
    def check_view(self, action_name):
        if action_name not in ("in", "out"):
            abort(404)
        visit_id = writes.object_id(request.form.get("id"))
        now = datetime.utcnow()
        # Only a visit the user is on (or, for managers, any) moves, and only forwards.
        query = self.get_query().filter(pk=visit_id) if visit_id else None
        if action_name == "in":
            done = query.filter(status="planned").update_one(
                set__status="checked_in", set__checked_in_at=now, set__checked_in_by=current_user.email) if query else 0
        else:
            done = query.filter(status__in=list(rules.OPEN_VISIT_STATUSES)).update_one(
                set__status="checked_out", set__checked_out_at=now, set__checked_out_by=current_user.email) if query else 0
        if done:
            from admin_app.risk.alerts import london_now

            at = f"{london_now():%H:%M}"
            audit.record("update", collection="visits", record_id=visit_id, summary=f"checked {action_name} at {at}")
            if action_name == "out":
                # Managers already alerted about this visit see that the member of staff is out safely.
                for alert in RiskAlert.objects(visit=visit_id, kind="overdue_checkout", open=True).only("summary"):
                    RiskAlert.objects(pk=alert.pk).update_one(
                        set__summary=f"{alert.summary} — checked out since, at {at}"[:300])
            flash(f"Checked in at {at}." if action_name == "in" else "Checked out. Thank you, stay safe.", "success")
        else:
            note_probe("not_found", "visits", request.form.get("id"), f"check {action_name} refused")
            flash("That visit cannot be checked " + action_name + " (not yours, or already done).", "error")
        return redirect(url_for(".checkin_view"))

    # --- the outcome: contacts recorded in each attending client's case file ----------------------
    @expose("/outcome/", methods=("GET", "POST"))
    def outcome_view(self):
        visit = self.get_one(request.args.get("id"))
        clients = [c for c in visit.clients if c is not None]
        in_scope = {c.pk for c in scoped(Client.objects(pk__in=[c.pk for c in clients])).only("id")}
        if request.method == "POST":
            from flask_wtf.csrf import validate_csrf
            from wtforms import ValidationError

            try:
                validate_csrf(request.form.get("csrf_token"))
            except ValidationError:
                abort(400)
            errors, chosen = [], []
            for c in clients:
                if request.form.get(f"attended-{c.pk}") and c.pk in in_scope:
                    raw = (request.form.get(f"minutes-{c.pk}") or "").strip()
                    if not raw.isdigit() or not 1 <= int(raw) <= 1440:
                        errors.append(f"{c.reference}: give the minutes spent, 1 to 1440.")
                    else:
                        chosen.append((c, int(raw), (request.form.get(f"note-{c.pk}") or "").strip() or None))
            if not errors and not chosen:
                errors.append("Tick at least one client who attended (or cancel the visit instead).")
            if not errors:
                claimed = Visit.objects(pk=visit.pk, outcome_recorded_at=None).update_one(
                    set__outcome_recorded_at=datetime.utcnow(), set__outcome_recorded_by=current_user.email)
                if not claimed:
                    flash("The outcome of this visit was already recorded; nothing was added twice.", "error")
                    return redirect(url_for(".details_view", id=visit.pk))
                place = "office" if visit.venue is not None and visit.venue.kind == "office" else "community"
                out_of_hours = rules.out_of_hours(visit.starts_at, visit.ends_at)
                for client, minutes, note in chosen:
                    contact = Contact(date=visit.starts_at.date(), minutes=minutes, mode="face_to_face", place=place,
                                      out_of_hours=out_of_hours, staff=current_user._get_current_object(), note=note)
                    writes.add_item(client.pk, "contacts", contact, scope_match(Client), client.reference)
                flash(f"Contacts recorded for {', '.join(c.reference for c, _, _ in chosen)}.", "success")
                return redirect(url_for(".details_view", id=visit.pk))
            for message in errors:
                flash(message, "error")
        return self.render("admin/risk/outcome.html", visit=visit, clients=clients, in_scope=in_scope)


# --- the risk view ---------------------------------------------------------------------------------

class RiskView(BaseView):
    """Managers see the whole service; workers the same for their own caseload."""

    def __init__(self, name="Risk view", endpoint="risk", url="/admin/risk", **kwargs):
        super().__init__(name=name, endpoint=endpoint, url=url, **kwargs)
        register_permission(RISK_VIEW_PERMISSION, "Risk view: high-risk clients, overdue reviews, alerts, upcoming visits")

    def is_accessible(self):
        return current_user.is_authenticated and has_permission(RISK_VIEW_PERMISSION)

    def _handle_view(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("security.login", next=request.full_path))
        if not has_permission(RISK_VIEW_PERMISSION):
            note_probe("refused", "risk", None, f"refused {request.method} {request.path[:200]}")
            abort(403)
        return None

    @expose("/")
    def index(self):
        from admin_app.risk.alerts import london_now

        today = london_today()
        fields = ("reference", "first_name", "last_name", "worker", "status")
        high = scoped(Client.objects(__raw__=high_risk(today))).only(*fields).order_by("reference").limit(200)
        reviews = scoped(Client.objects(__raw__=risk_review_overdue(today))).only(*fields).order_by("reference").limit(200)
        venues_due = Venue.objects(assessments__not__elemMatch={"review_date__gte": mongo_day(today)}).order_by("name")
        now = london_now()
        upcoming = [(v, visit_facts.findings_for(v, show_groups=has_permission("affiliation.details")))
                    for v in visit_facts.upcoming(scoped(Visit.objects), now).limit(50)]
        overdue = scoped(Visit.objects(status__in=list(rules.OPEN_VISIT_STATUSES),
                                       ends_at__lt=now)).order_by("ends_at").limit(50)
        return self.render("admin/risk/index.html", high=list(high), reviews=list(reviews), venues_due=list(venues_due),
                           alerts=list(open_alerts(current_user, 50)), upcoming=upcoming, overdue=list(overdue),
                           everything=sees_everything(), kinds=dict(rules.ALERT_KINDS), now=now,
                           may_see_alerts=has_permission("riskalert.list"), may_see_visits=has_permission("visit.list"))
