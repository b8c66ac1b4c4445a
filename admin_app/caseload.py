"""Caseload look-ups against the database; the rule itself is in rules.py."""
from __future__ import annotations

import time
from contextlib import contextmanager
from datetime import datetime, timedelta

from bson import ObjectId
from mongoengine import Q
from pymongo.errors import DuplicateKeyError

from admin_app.db import database
from admin_app.models.case_file import Client

from admin_app.models.people import Role, StaffProfile, User, default_caseload_cap


def open_case_count(worker, excluding=()) -> int:
    """Cases that take a place in the worker's caseload (see rules.counts_against_caseload)."""
    query = Client.objects(worker=worker, status__ne="closed", referral__decision__nin=["rejected", "withdrawn"])
    if excluding:
        query = query.filter(pk__nin=list(excluding))
    return query.count()


#: One document per worker while a save counts their caseload and writes the change that fills a place.
HOLDS = "caseload_holds"
#: A hold left by a process that stopped lapses after this long.
HOLD_SECONDS = 30
#: How long a save waits for another save of the same worker's caseload to finish.
WAIT_SECONDS = 5.0
BUSY = "Another change to this worker's caseload is being saved at this moment; nothing was saved. Try again."


class CaseloadBusy(Exception):
    """Another save holds the worker's caseload; the message is for the user."""

    def __init__(self):
        super().__init__(BUSY)


@contextmanager
def counting(worker, wait_seconds: float = WAIT_SECONDS):
    """Hold the worker's caseload while its open cases are counted and the change that takes a place is written.

    The count and the write are two steps, so two saves at once could each count a free place and both take
    it. Holding is one conditional write on the worker's hold document (free, or lapsed): a second save waits
    for the first to finish, then counts what it wrote. Raises CaseloadBusy if the wait runs out.
    """
    holds = database()[HOLDS]
    key = getattr(worker, "pk", worker)
    token = ObjectId()
    deadline = time.monotonic() + wait_seconds
    while True:
        now = datetime.utcnow()
        taken = {"$set": {"by": token, "until": now + timedelta(seconds=HOLD_SECONDS)}}
        if holds.update_one({"_id": key, "until": {"$lt": now}}, taken).modified_count:
            break
        try:
            holds.insert_one({"_id": key, **taken["$set"]})
            break
        except DuplicateKeyError:
            pass
        if time.monotonic() >= deadline:
            raise CaseloadBusy()
        time.sleep(0.02)
    try:
        yield
    finally:
        holds.update_one({"_id": key, "by": token}, {"$set": {"until": datetime(1970, 1, 1)}})


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
