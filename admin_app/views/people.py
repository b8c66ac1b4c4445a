"""Screens for users, roles, staff profiles and the audit log."""
from __future__ import annotations

import re
import uuid
from datetime import datetime

from bson import ObjectId
from bson.errors import InvalidId
from flask import g, has_request_context, request, url_for
from flask_admin.contrib.mongoengine.filters import (
    DateTimeBetweenFilter,
    DateTimeGreaterFilter,
    DateTimeSmallerFilter,
    FilterEqual,
)
from flask_login import current_user
from flask_security import hash_password
from mongoengine import Q
from wtforms import BooleanField, PasswordField, SelectMultipleField, widgets

from admin_app.metrics.periods import london_today
from admin_app.models.audit import AUDIT_ACTIONS
from admin_app.permissions import ADMIN_ROLE
from admin_app.security import PERMISSIONS, password_problems, sign_in_address, tell_account_holder
from admin_app.views import audit_log
from admin_app.views.base import SecuredModelView

MIN_PASSWORD_LENGTH = 12


class CheckboxListField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class RoleView(SecuredModelView):
    """Which role holds which permission; changes apply on the next request."""

    column_list = ("name", "description", "permissions")
    column_formatters = {"name": lambda v, c, m, p: str(m), "permissions": lambda v, c, m, p: f"{len(m.permissions)} permissions"}
    form_columns = ("name", "description", "permissions")
    form_overrides = {"permissions": CheckboxListField}
    column_searchable_list = ("name",)

    def _with_choices(self, form):
        form.permissions.choices = sorted(PERMISSIONS.items())
        return form

    def create_form(self, obj=None):
        return self._with_choices(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._with_choices(super().edit_form(obj))

    def model_errors(self, model, is_created):
        if model.name == ADMIN_ROLE and self.permission("edit") not in (model.permissions or []):
            return [(("permissions",), "The admin role must keep the right to edit roles, or nobody could.")]
        unknown = set(model.permissions or []) - set(PERMISSIONS)
        if unknown:
            return [(("permissions",), "Unknown permissions: " + ", ".join(sorted(unknown)))]
        return []


class UserView(SecuredModelView):
    """Users: an admin creates them, sets a password (which they must change at next sign-in), and deactivates leavers."""

    column_list = ("email", "name", "active", "roles", "last_login_at", "tf_primary_method", "must_change_password")
    column_labels = {"tf_primary_method": "Two-factor", "last_login_at": "Last sign-in"}
    column_searchable_list = ("email", "name")
    column_filters = ("active",)
    form_columns = ("email", "name", "active", "roles", "new_password", "reset_two_factor")
    form_extra_fields = {"new_password": PasswordField("New password",
                                                       description=f"At least {MIN_PASSWORD_LENGTH} characters, not a common or "
                                                                   "guessable one; leave empty to keep the current one. The "
                                                                   "user must change it at their next sign-in."),
                         "reset_two_factor": BooleanField("Reset two-factor sign-in",
                                                          description="For someone who has lost their phone or cannot use "
                                                                      "their authenticator app: check it is really them "
                                                                      "first. Their sessions end, and they set up an app "
                                                                      "again when they next sign in.")}
    column_details_exclude_list = ("password", "fs_uniquifier", "tf_totp_secret", "tf_phone_number")
    column_export_exclude_list = column_details_exclude_list

    def create_form(self, obj=None):
        form = super().create_form(obj)
        del form.reset_two_factor  # a new user has no second factor yet
        return form

    def model_errors(self, model, is_created):
        return getattr(model, "_account_errors", [])

    def on_model_change(self, form, model, is_created):
        password = form.new_password.data or ""
        before = getattr(model, "_audit_before", None) or {}
        model._account_errors = []
        try:
            model.email = sign_in_address(model.email or "")
        except ValueError as exc:
            model._account_errors.append((("email",), f"The sign-in form would refuse this address: {exc}"))
        problems = password_problems(password, email=model.email, name=model.name) if password else []
        if password and model.pk is not None and model.pk == current_user.pk:
            model._account_errors.append((("new_password",), "Change your own password on the Password page, "
                                                             "which asks for your current one."))
        elif problems:
            model._account_errors.append((("new_password",), " ".join(problems)))
        elif is_created and not password:
            model._account_errors.append((("new_password",), "A new user needs a password."))
        elif password:
            model.password = hash_password(password)
            # Someone else chose it: the user must choose their own at next sign-in.
            model.must_change_password = True
        deactivated = not is_created and before.get("active") and not model.active
        model._tell_password_set = bool(password) and not is_created
        model._tell_two_factor_reset = False
        if not is_created and form.reset_two_factor.data:
            if model.pk == current_user.pk:
                model._account_errors.append((("reset_two_factor",), "Change your own two-factor sign-in on the "
                                                                     "Two-factor page."))
            elif not model.tf_primary_method:
                model._account_errors.append((("reset_two_factor",), "This user has not set up two-factor sign-in, so "
                                                                     "there is nothing to reset."))
            else:
                model.tf_primary_method = model.tf_totp_secret = model.tf_totp_last_counter = None
                model._tell_two_factor_reset = True
        if model._tell_password_set or deactivated or model._tell_two_factor_reset:
            # Every session of the user ends: a leaver is out everywhere at once, a reset password takes over, and
            # a lost phone may be in someone else's hands.
            model.fs_uniquifier = uuid.uuid4().hex
        if model.pk is not None and model.pk == current_user.pk and not model.active:
            model._account_errors.append((("active",), "You cannot deactivate your own account."))
        super().on_model_change(form, model, is_created)

    def after_model_change(self, form, model, is_created):
        if getattr(model, "_tell_password_set", False):
            tell_account_holder(model, "An administrator set a new password for your account")
        if getattr(model, "_tell_two_factor_reset", False):
            tell_account_holder(model, "An administrator reset your two-factor sign-in")
        super().after_model_change(form, model, is_created)


class StaffProfileView(SecuredModelView):
    column_list = ("user", "fte", "start_date", "lived_experience", "languages", "caseload_cap")
    column_formatters = {"caseload_cap": lambda v, c, m, p: m.effective_cap}
    column_labels = {"caseload_cap": "Caseload cap"}
    form_columns = ("user", "fte", "start_date", "end_date", "lived_experience", "languages", "caseload_cap",
                    "fte_history")

    def model_errors(self, model, is_created):
        if model.end_date and model.start_date and model.end_date < model.start_date:
            return [(("end_date",), "The end date cannot be before the start date.")]
        return []

    def on_model_change(self, form, model, is_created):
        before = (getattr(model, "_audit_before", None) or {}).get("fte")
        model.note_fte(None if is_created else before, london_today())
        super().on_model_change(form, model, is_created)


class AuditEventView(SecuredModelView):
    """Read and filter the audit log; nobody can change or delete it here.

    The log grows to millions of entries, so the list never counts it and never skips through it:
    it is always newest first, and "Older" continues from the last entry shown (its time and id).
    Each filter is an equality (or a time range) that an index serves together with that order
    (models/audit.py); the search finds who did it by the start of their address."""

    screen_actions = ("list", "details", "export")
    column_list = ("at", "actor", "action", "collection", "record_id", "changes", "ip")
    column_details_list = ("at", "actor", "action", "collection", "record_id", "summary", "changes", "ip")
    column_labels = {"changes": "What changed"}
    column_formatters = {name: (lambda name: lambda v, c, m, p: v.entry_value(m, name, limit=6))(name)
                         for name in ("at", "actor", "action", "collection", "record_id", "changes")}
    column_formatters_detail = {name: (lambda name: lambda v, c, m, p: v.entry_value(m, name))(name)
                                for name in ("at", "actor", "action", "collection", "record_id", "summary", "changes")}
    column_formatters_export = {name: (lambda name: lambda v, c, m, p: v.entry_value(m, name, text=True))(name)
                                for name in ("at", "actor", "action", "collection", "record_id", "changes")}
    column_filters = (
        FilterEqual("actor", "Who"),
        FilterEqual("action", "What", options=AUDIT_ACTIONS),
        FilterEqual("collection", "Record type", options=audit_log.record_type_options),
        FilterEqual("record_id", "Record"),
        DateTimeGreaterFilter("at", "When"),
        DateTimeSmallerFilter("at", "When"),
        DateTimeBetweenFilter("at", "When"),
        FilterEqual("ip", "From address"),
    )
    column_searchable_list = ("actor",)
    column_sortable_list = ()
    column_default_sort = ("at", True)
    simple_list_pager = True
    can_set_page_size = True
    list_template = "admin/audit_list.html"

    def search_placeholder(self):
        return "Who (start of the email address)"

    def after_list_read(self, rows):
        g.audit_entries = audit_log.describe(self.admin, rows)

    def entry_value(self, event, name: str, limit: int | None = None, text: bool = False):
        """A cell of the readable log (admin_app/views/audit_log.py); a details page describes its one entry."""
        entries = g.get("audit_entries") or {}
        entry = entries.get(event.pk)
        if entry is None:
            entry = audit_log.describe(self.admin, [event])[event.pk]
        if text:  # a spreadsheet cell: the changes one after another
            return {"at": entry.at, "actor": entry.who, "action": entry.what, "collection": entry.record_type,
                    "record_id": entry.record, "changes": "; ".join(entry.changes) or entry.summary}[name]
        return {"at": entry.at, "actor": entry.who, "action": entry.what, "collection": entry.record_type,
                "record_id": entry.record_html(), "summary": entry.summary,
                "changes": entry.changes_html(limit) if name == "changes" else ""}[name]

    def _search(self, query, search_term):
        term = (search_term or "").strip().lower()
        return query.filter(__raw__={"actor": {"$regex": "^" + re.escape(term)}}) if term else query

    def sort_keys(self, sort_column=None, sort_desc=False) -> list[str]:
        return ["-at", "-id"]

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        after = self._before()
        count, query = super().get_list(None if after else page, None, False, search, filters,
                                        execute=False, page_size=page_size)
        if after:
            at, pk = after
            query = query.filter(Q(at__lt=at) | Q(at=at, id__lt=pk))
        return count, (self.read_rows(query) if execute else query)

    @staticmethod
    def _before() -> tuple[datetime, ObjectId] | None:
        """The key of the last entry on the previous page, from the `before` argument, if valid."""
        value = request.args.get("before", "") if has_request_context() else ""
        at, _, pk = value.partition("_")
        try:
            return datetime.fromisoformat(at), ObjectId(pk)
        except (ValueError, InvalidId, TypeError):
            return None

    def older_url(self, event) -> str:
        args = {key: value for key, value in request.args.items(multi=False) if key not in ("page", "before")}
        return url_for(".index_view", **args, before=f"{event.at.isoformat()}_{event.pk}")

    def newest_url(self) -> str:
        args = {key: value for key, value in request.args.items(multi=False) if key not in ("page", "before")}
        return url_for(".index_view", **args)
