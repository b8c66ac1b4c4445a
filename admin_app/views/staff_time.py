"""Staff time that belongs to no single client: each member of staff logs their own; managers see everyone's."""
from __future__ import annotations

from flask_login import current_user

from admin_app.caseload import active_staff
from admin_app.metrics.periods import london_today
from admin_app.security import sees_everything
from admin_app.views.base import SecuredModelView


class StaffTimeView(SecuredModelView):
    """Partner meetings, travel, training, general job development: reported in hours apart from client contact."""

    column_list = ("date", "staff", "kind", "minutes", "note")
    column_filters = ("kind",)
    column_default_sort = ("date", True)
    column_labels = {"staff": "Member of staff"}
    form_columns = ("date", "kind", "minutes", "note", "staff")

    def _with_choices(self, form, obj=None):
        if sees_everything(current_user):
            form.staff.queryset = active_staff(including=obj.staff.pk if obj is not None and obj.staff else None)
        else:
            # Your own time only: the row scope sets you as the member of staff on save.
            del form.staff
        return form

    def create_form(self, obj=None):
        form = self._with_choices(super().create_form(obj))
        if not form.date.data:
            form.date.data = london_today()
        if "staff" in form and not form.staff.data:
            form.staff.data = current_user._get_current_object()
        return form

    def edit_form(self, obj=None):
        return self._with_choices(super().edit_form(obj), obj)

    def model_errors(self, model, is_created):
        if model.date and model.date > london_today():
            return [(("date",), "Staff time is logged once it is spent: the date cannot be in the future.")]
        return []
