"""Screens for referral and signposting partners and for employers."""
from flask_login import current_user

from admin_app import rules
from admin_app.models.partners import Employer
from admin_app.security import has_permission
from admin_app.views.base import SecuredModelView

#: Holders may touch every worker's general employer contacts; others only their own.
ALL_EMPLOYER_CONTACTS = "employercontacts.all"


class OrganisationView(SecuredModelView):
    column_list = ("name", "kind", "org_type", "contact_name", "phone", "active")
    column_filters = ("kind", "org_type", "active")
    column_searchable_list = ("name", "contact_name")


class EmployerView(SecuredModelView):
    column_list = ("name", "sector", "contact_name", "phone", "postcode")
    column_filters = ("sector",)
    column_searchable_list = ("name", "sector", "contact_name")
    form_excluded_columns = ("created_at",)

    def model_errors(self, model, is_created):
        if has_permission(ALL_EMPLOYER_CONTACTS):
            return []
        stored = None if is_created else Employer.objects(pk=model.pk).only("employer_contacts").first()
        before = [item.to_mongo().to_dict() for item in (stored.employer_contacts if stored else [])]
        for item in model.employer_contacts:
            # A new contact left without a worker is the signed-in worker's own.
            if item.staff is None and item.to_mongo().to_dict() not in before:
                item.staff = current_user._get_current_object()
        after = [item.to_mongo().to_dict() for item in model.employer_contacts]
        return rules.others_employer_contact_errors(before, after, current_user.pk)
