"""Screens for referral and signposting partners and for employers."""
from admin_app.views.base import SecuredModelView


class OrganisationView(SecuredModelView):
    column_list = ("name", "kind", "org_type", "contact_name", "phone", "active")
    column_filters = ("kind", "org_type", "active")
    column_searchable_list = ("name", "contact_name")


class EmployerView(SecuredModelView):
    column_list = ("name", "sector", "contact_name", "phone", "postcode")
    column_filters = ("sector",)
    column_searchable_list = ("name", "sector", "contact_name")
    form_excluded_columns = ("created_at",)
