"""Screens for users, roles, staff profiles and the audit log."""
from __future__ import annotations

import uuid

from flask_login import current_user
from flask_security import hash_password
from wtforms import PasswordField, SelectMultipleField, widgets

from admin_app.metrics.periods import london_today
from admin_app.permissions import ADMIN_ROLE
from admin_app.security import PERMISSIONS, sign_in_address
from admin_app.views.base import SecuredModelView

MIN_PASSWORD_LENGTH = 12


class CheckboxListField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class RoleView(SecuredModelView):
    """Which role holds which permission; changes apply on the next request."""

    column_list = ("name", "description", "permissions")
    column_formatters = {"permissions": lambda v, c, m, p: f"{len(m.permissions)} permissions"}
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
    form_columns = ("email", "name", "active", "roles", "new_password")
    form_extra_fields = {"new_password": PasswordField("New password",
                                                       description=f"At least {MIN_PASSWORD_LENGTH} characters; leave empty "
                                                                   "to keep the current one. The user must change it at "
                                                                   "their next sign-in.")}
    column_details_exclude_list = ("password", "fs_uniquifier", "tf_totp_secret", "tf_phone_number")
    column_export_exclude_list = column_details_exclude_list

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
        if password and len(password) < MIN_PASSWORD_LENGTH:
            model._account_errors.append((("new_password",), f"Use at least {MIN_PASSWORD_LENGTH} characters."))
        elif is_created and not password:
            model._account_errors.append((("new_password",), "A new user needs a password."))
        elif password:
            model.password = hash_password(password)
            # Someone else chose it: the user must choose their own at next sign-in.
            model.must_change_password = model.pk is None or model.pk != current_user.pk
        deactivated = not is_created and before.get("active") and not model.active
        if (password or deactivated) and not is_created:
            # Every session of the user ends: a leaver is out everywhere at once, a reset password takes over.
            model.fs_uniquifier = uuid.uuid4().hex
        if model.pk is not None and model.pk == current_user.pk and not model.active:
            model._account_errors.append((("active",), "You cannot deactivate your own account."))
        super().on_model_change(form, model, is_created)


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
    """Read and filter the audit log; nobody can change or delete it here."""

    screen_actions = ("list", "details", "export")
    column_list = ("at", "actor", "action", "collection", "record_id", "summary", "ip")
    column_filters = ("actor", "action", "collection", "record_id", "at", "ip")
    column_searchable_list = ("actor", "summary")
    column_default_sort = ("at", True)
    can_set_page_size = True
