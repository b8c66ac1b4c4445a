"""Caseload look-ups against the database; the rule itself is in rules.py."""
from __future__ import annotations

from admin_app.models.case_file import Client
from mongoengine import Q

from admin_app.models.people import Role, StaffProfile, User, default_caseload_cap


def open_case_count(worker, excluding=()) -> int:
    """Cases that take a place in the worker's caseload (see rules.counts_against_caseload)."""
    query = Client.objects(worker=worker, status__ne="closed", referral__decision__nin=["rejected", "withdrawn"])
    if excluding:
        query = query.filter(pk__nin=list(excluding))
    return query.count()


def caseload_cap(worker) -> int:
    profile = StaffProfile.objects(user=worker).first()
    return profile.effective_cap if profile else default_caseload_cap(1.0)


#: Roles whose holders can own a case (the case's worker).
CASE_OWNER_ROLES = ("worker", "manager")
#: Roles of the service's own staff: who may be recorded as making a contact, assessing or writing a note.
STAFF_ROLES = ("worker", "manager", "admin_staff")


def _people(role_names, including=None):
    """Active users holding any of the roles, plus `including` (a value already on the record) so that
    an unchanged form never loses it; ordered by name."""
    roles = list(Role.objects(name__in=list(role_names)).only("id"))
    query = Q(active=True, roles__in=roles)
    if including is not None:
        query = query | Q(pk=getattr(including, "pk", including))
    return User.objects(query).only("email", "name", "active").order_by("name", "email")


def case_owners(including=None):
    return _people(CASE_OWNER_ROLES, including)


def active_staff(including=None):
    return _people(STAFF_ROLES, including)
