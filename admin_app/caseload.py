"""Caseload look-ups against the database; the rule itself is in rules.py."""
from __future__ import annotations

from admin_app.models.case_file import Client
from admin_app.models.people import StaffProfile, default_caseload_cap


def open_case_count(worker, excluding=()) -> int:
    """Cases that take a place in the worker's caseload (see rules.counts_against_caseload)."""
    query = Client.objects(worker=worker, status__ne="closed", referral__decision__nin=["rejected", "withdrawn"])
    if excluding:
        query = query.filter(pk__nin=list(excluding))
    return query.count()


def caseload_cap(worker) -> int:
    profile = StaffProfile.objects(user=worker).first()
    return profile.effective_cap if profile else default_caseload_cap(1.0)
