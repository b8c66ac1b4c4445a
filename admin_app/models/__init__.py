"""mongoengine documents, one module per aggregate."""
from admin_app.models.audit import AuditEvent
from admin_app.models.case_file import Client
from admin_app.models.partners import Employer, Organisation
from admin_app.models.people import Role, StaffProfile, User

__all__ = ["AuditEvent", "Client", "Employer", "Organisation", "Role", "StaffProfile", "User"]
