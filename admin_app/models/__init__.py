"""mongoengine documents, one module per aggregate."""
from admin_app.models.audit import AuditEvent
from admin_app.models.case_file import Client
from admin_app.models.fidelity import FidelityAnchor, FidelityReview
from admin_app.models.grants import GrantPot
from admin_app.models.partners import Employer, Organisation
from admin_app.models.people import Role, StaffProfile, User
from admin_app.models.risk import Affiliation, Group, RiskAlert, Venue, Visit
from admin_app.models.saved_filters import SavedFilter
from admin_app.models.staff_time import StaffTime

__all__ = ["AuditEvent", "Client", "Employer", "FidelityAnchor", "FidelityReview", "GrantPot", "Organisation", "Role", "SavedFilter", "StaffProfile", "StaffTime", "User",
           "Affiliation", "Group", "RiskAlert", "Venue", "Visit"]
