"""Plain records for the figures, and the one place that streams them out of MongoDB (projections only)."""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from admin_app.metrics.working_hours import contact_out_of_hours
from admin_app.vocabulary import PAID_OUTCOME_KINDS

CLIENTS = "clients"
STAFF_TIME = "staff_time"
EMPLOYERS = "employers"
STAFF_PROFILES = "staff_profiles"
USERS = "users"
ROLES = "roles"
FIDELITY_ANCHORS = "fidelity_anchors"
#: Stored anchor fields, in score order (5, 4, 3, 2), read back as an anchor's `thresholds`.
ANCHOR_LIMITS = ("limit_5", "limit_4", "limit_3", "limit_2")
BATCH_SIZE = 500


@dataclass(frozen=True, slots=True)
class StatusChangeRecord:
    date: date
    status: str


@dataclass(frozen=True, slots=True)
class PlanGoalRecord:
    status: str = "open"
    due_date: date | None = None


@dataclass(frozen=True, slots=True)
class ContactRecord:
    date: date
    minutes: int
    mode: str
    place: str | None = None
    out_of_hours: bool = False


@dataclass(frozen=True, slots=True)
class EmployerContactRecord:
    date: date
    face_to_face: bool = True
    employer_id: str | None = None


@dataclass(frozen=True, slots=True)
class OutcomeRecord:
    kind: str
    start: date
    end: date | None = None
    employer_id: str | None = None
    job_type: str | None = None
    competitive: bool = True

    @property
    def paid(self) -> bool:
        return self.kind in PAID_OUTCOME_KINDS


@dataclass(frozen=True, slots=True)
class AssignmentRecord:
    """The case was held by `worker_id` (None: unassigned) from `start` until the next assignment."""

    start: date
    worker_id: str | None = None


@dataclass(frozen=True, slots=True)
class CaseRecord:
    id: str
    referral_date: date
    worker_id: str | None = None
    referral_decision: str = "pending"
    referral_decision_date: date | None = None
    cohort: str | None = None
    source: str | None = None
    assessment_date: date | None = None
    agreed_to_take_part: bool = False
    employment_status: str | None = None
    status: str = "referred"
    status_history: tuple[StatusChangeRecord, ...] = ()
    plan_goals: tuple[PlanGoalRecord, ...] = ()
    contacts: tuple[ContactRecord, ...] = ()
    employer_contacts: tuple[EmployerContactRecord, ...] = ()
    outcomes: tuple[OutcomeRecord, ...] = ()
    #: The assignment history; empty for a case file stored before it was kept (then `worker_id` held it throughout).
    assignments: tuple[AssignmentRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class FteRecord:
    start: date
    fte: float


@dataclass(frozen=True, slots=True)
class StaffRecord:
    user_id: str
    email: str
    name: str | None = None
    fte: float = 1.0
    start_date: date | None = None
    end_date: date | None = None
    roles: tuple[str, ...] = ("worker",)
    #: FTE from each date; empty when only the current FTE is known (then `fte` held throughout).
    fte_history: tuple[FteRecord, ...] = ()

    @property
    def is_worker(self) -> bool:
        return "worker" in self.roles

    def in_post_on(self, day: date) -> bool:
        return (self.start_date is None or self.start_date <= day) and (self.end_date is None or day <= self.end_date)

    def fte_segments(self) -> list[tuple[date, date, float]]:
        """(from, to, FTE) covering every day; before the first recorded change the first FTE recorded holds."""
        changes = sorted(self.fte_history, key=lambda c: c.start)
        if not changes:
            return [(date.min, date.max, self.fte)]
        out = []
        for i, change in enumerate(changes):
            lo = date.min if i == 0 else change.start
            hi = changes[i + 1].start - timedelta(days=1) if i + 1 < len(changes) else date.max
            if lo <= hi:
                out.append((lo, hi, change.fte))
        return out

    def fte_on(self, day: date) -> float:
        """The FTE worked on a day (0 when not in post)."""
        if not self.in_post_on(day):
            return 0.0
        return next(fte for lo, hi, fte in self.fte_segments() if lo <= day <= hi)

    def fte_days(self, lo: date, hi: date) -> float:
        """Days in post from lo to hi (inclusive), each weighted by that day's FTE."""
        lo, hi = max(lo, self.start_date or date.min), min(hi, self.end_date or date.max)
        total = 0.0
        for a, b, fte in self.fte_segments():
            a, b = max(a, lo), min(b, hi)
            if a <= b:
                total += fte * ((b - a).days + 1)
        return total


@dataclass(frozen=True, slots=True)
class GeneralEmployerContactRecord:
    """Job development for the whole caseload, logged on the employer's record."""

    date: date
    employer_id: str
    face_to_face: bool = True
    staff_id: str | None = None


@dataclass(frozen=True, slots=True)
class StaffTimeRecord:
    """Staff time that belongs to no single client, logged by the member of staff."""

    date: date
    minutes: int
    kind: str
    staff_id: str | None = None


# --- reading MongoDB ------------------------------------------------------------------
# Defaults below repeat the mongoengine field defaults, for documents saved before a field existed.

CASE_PROJECTION: dict[str, int] = {
    "worker": 1, "status": 1,
    "referral.date": 1, "referral.decision": 1, "referral.decision_date": 1,
    "referral.cohort": 1, "referral.source": 1,
    "assessment.date": 1, "assessment.agreed_to_take_part": 1, "assessment.employment_status": 1,
    "status_history.date": 1, "status_history.status": 1,
    "plan_goals.status": 1, "plan_goals.due_date": 1,
    "contacts.date": 1, "contacts.minutes": 1, "contacts.mode": 1, "contacts.place": 1,
    "contacts.out_of_hours": 1, "contacts.start_time": 1,
    "employer_contacts.date": 1, "employer_contacts.face_to_face": 1, "employer_contacts.employer": 1,
    "outcomes.kind": 1, "outcomes.start_date": 1, "outcomes.end_date": 1, "outcomes.employer": 1,
    "outcomes.job_type": 1, "outcomes.competitive": 1,
    "assignments.worker": 1, "assignments.start": 1,
}


def both(*matches: Mapping[str, Any] | None) -> dict:
    """Every match at once; empty ones are dropped."""
    parts = [dict(m) for m in matches if m]
    if not parts:
        return {}
    return parts[0] if len(parts) == 1 else {"$and": parts}


def referred_by(match: Mapping[str, Any] | None, end: date) -> dict[str, Any]:
    """`match` narrowed to case files referred on or before `end`: nothing later can touch a period ending then."""
    return both(match, {"referral.date": {"$lte": datetime(end.year, end.month, end.day)}})


def read_cases(db: Any, match: Mapping[str, Any] | None = None, until: date | None = None) -> Iterator[CaseRecord]:
    """Stream the case files in scope (`match`, the row-level filter) as CaseRecords; with `until`, only
    those referred on or before it (the index on referral.date keeps a period's read to its cases)."""
    query = referred_by(match, until) if until else dict(match or {})
    cursor = db[CLIENTS].find(query, projection=CASE_PROJECTION, batch_size=BATCH_SIZE)
    try:
        for doc in cursor:
            if record := case_from_document(doc):
                yield record
    finally:
        cursor.close()


def case_from_document(doc: Mapping[str, Any]) -> CaseRecord | None:
    """One projected `clients` document as a CaseRecord; None when it has no referral date."""
    referral = doc.get("referral") or {}
    assessment = doc.get("assessment") or {}
    referral_date = _day(referral.get("date"))
    if referral_date is None:
        return None
    return CaseRecord(
        id=str(doc["_id"]),
        referral_date=referral_date,
        worker_id=_id(doc.get("worker")),
        referral_decision=referral.get("decision") or "pending",
        referral_decision_date=_day(referral.get("decision_date")),
        cohort=referral.get("cohort"),
        source=referral.get("source"),
        assessment_date=_day(assessment.get("date")),
        agreed_to_take_part=bool(assessment.get("agreed_to_take_part", False)),
        employment_status=assessment.get("employment_status"),
        status=doc.get("status") or "referred",
        status_history=tuple(
            StatusChangeRecord(_day(s["date"]), s["status"])
            for s in _items(doc, "status_history") if s.get("date") and s.get("status")
        ),
        plan_goals=tuple(
            PlanGoalRecord(g.get("status") or "open", _day(g.get("due_date"))) for g in _items(doc, "plan_goals")
        ),
        contacts=tuple(_contact(c) for c in _items(doc, "contacts") if c.get("date") and c.get("mode")),
        employer_contacts=tuple(
            EmployerContactRecord(_day(e["date"]), bool(e.get("face_to_face", True)), _id(e.get("employer")))
            for e in _items(doc, "employer_contacts") if e.get("date")
        ),
        outcomes=tuple(_outcome(o) for o in _items(doc, "outcomes") if o.get("kind") and o.get("start_date")),
        assignments=tuple(AssignmentRecord(_day(a["start"]), _id(a.get("worker")))
                          for a in _items(doc, "assignments") if a.get("start")),
    )


def read_staff(db: Any, match: Mapping[str, Any] | None = None) -> Iterator[StaffRecord]:
    """Stream staff profiles (joined to their users' email, name and role names) as StaffRecords."""
    role_names = {r["_id"]: r.get("name", "") for r in db[ROLES].find({}, projection={"name": 1})}
    cursor = db[STAFF_PROFILES].find(dict(match or {}), projection={"user": 1, "fte": 1, "start_date": 1, "end_date": 1,
                                                                  "fte_history": 1},
                                     batch_size=BATCH_SIZE)
    for chunk in _chunks(cursor, BATCH_SIZE):
        users = {u["_id"]: u for u in db[USERS].find({"_id": {"$in": [p["user"] for p in chunk if p.get("user")]}},
                                                      projection={"email": 1, "name": 1, "roles": 1})}
        for profile in chunk:
            user = users.get(profile.get("user"))
            if user is None:
                continue
            yield StaffRecord(
                user_id=str(user["_id"]),
                email=user.get("email") or str(user["_id"]),
                name=user.get("name"),
                fte=float(profile.get("fte") or 1.0),
                start_date=_day(profile.get("start_date")),
                end_date=_day(profile.get("end_date")),
                roles=tuple(role_names.get(r, "") for r in user.get("roles") or ()),
                fte_history=tuple(FteRecord(_day(c["start"]), float(c["fte"])) for c in _items(profile, "fte_history")
                                  if c.get("start") and c.get("fte")),
            )


def read_general_employer_contacts(db: Any, staff: Any = None, start: date | None = None,
                                   end: date | None = None) -> Iterator[GeneralEmployerContactRecord]:
    """Stream the general (whole-caseload) employer contacts, optionally only one staff scope and date range."""
    query: dict[str, Any] = {"employer_contacts.0": {"$exists": True}}
    element: dict[str, Any] = {}
    if staff is not None:
        element["staff"] = staff
    if start is not None or end is not None:
        element["date"] = {k: v for k, v in (("$gte", _dt(start)), ("$lte", _dt(end))) if v is not None}
    if element:
        query = {"employer_contacts": {"$elemMatch": element}}
    projection = {"employer_contacts.date": 1, "employer_contacts.staff": 1, "employer_contacts.face_to_face": 1}
    cursor = db[EMPLOYERS].find(query, projection=projection, batch_size=BATCH_SIZE)
    try:
        for doc in cursor:
            for contact in _items(doc, "employer_contacts"):
                record = _general_contact(doc["_id"], contact)
                if record and _keeps(record, staff, start, end):
                    yield record
    finally:
        cursor.close()


def read_staff_time(db: Any, staff: Any = None, start: date | None = None,
                    end: date | None = None) -> Iterator[StaffTimeRecord]:
    """Stream the staff time logged in a date range, optionally only one staff scope (an id or {'$in': [...]})."""
    query: dict[str, Any] = {}
    if staff is not None:
        query["staff"] = staff
    if start is not None or end is not None:
        query["date"] = {k: v for k, v in (("$gte", _dt(start)), ("$lte", _dt(end))) if v is not None}
    cursor = db[STAFF_TIME].find(query, projection={"date": 1, "minutes": 1, "kind": 1, "staff": 1},
                                 batch_size=BATCH_SIZE)
    try:
        for doc in cursor:
            day = _day(doc.get("date"))
            if day is not None and doc.get("minutes"):
                yield StaffTimeRecord(day, int(doc["minutes"]), doc.get("kind") or "other", _id(doc.get("staff")))
    finally:
        cursor.close()


def read_anchor_overrides(db: Any) -> dict[str, dict[str, Any]]:
    """The fidelity anchors a manager has stored, as overrides for fidelity.resolve_anchors (one small document per item)."""
    projection = {"item": 1, "better": 1, "unit": 1, "contact_modes": 1, "months": 1, **dict.fromkeys(ANCHOR_LIMITS, 1)}
    overrides: dict[str, dict[str, Any]] = {}
    for doc in db[FIDELITY_ANCHORS].find({}, projection=projection):
        if not doc.get("item"):
            continue
        anchor: dict[str, Any] = {"thresholds": [_number(doc.get(name)) for name in ANCHOR_LIMITS]}
        for key in ("better", "unit", "contact_modes", "months"):
            if doc.get(key):
                anchor[key] = doc[key]
        overrides[doc["item"]] = anchor
    return overrides


def _number(value: Any) -> Any:
    """A whole number stored as a float reads back as an int (20, not 20.0)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _general_contact(employer_id: Any, c: Mapping[str, Any]) -> GeneralEmployerContactRecord | None:
    day = _day(c.get("date"))
    if day is None:
        return None
    return GeneralEmployerContactRecord(day, str(employer_id), bool(c.get("face_to_face", True)), _id(c.get("staff")))


def _keeps(record: GeneralEmployerContactRecord, staff: Any, start: date | None, end: date | None) -> bool:
    if staff is not None and record.staff_id not in _scope_ids(staff):
        return False
    return (start is None or record.date >= start) and (end is None or record.date <= end)


def _scope_ids(staff: Any) -> set[str]:
    """The staff ids a scope value allows: one id, or {'$in': [...]}."""
    if isinstance(staff, Mapping):
        return {str(s) for s in staff.get("$in", ())}
    return {str(staff)}


def _contact(c: Mapping[str, Any]) -> ContactRecord:
    day = _day(c["date"])
    return ContactRecord(day, int(c.get("minutes") or 0), c["mode"], c.get("place"),
                         contact_out_of_hours(day, c.get("start_time"), bool(c.get("out_of_hours", False))))


def _outcome(o: Mapping[str, Any]) -> OutcomeRecord:
    return OutcomeRecord(o["kind"], _day(o["start_date"]), _day(o.get("end_date")), _id(o.get("employer")),
                         o.get("job_type"), bool(o.get("competitive", True)))


def _items(doc: Mapping[str, Any], name: str) -> Iterable[Mapping[str, Any]]:
    return [item for item in doc.get(name) or () if isinstance(item, Mapping)]


def _day(value: Any) -> date | None:
    """MongoDB keeps a DateField as a datetime; the figures work in days."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        return date.fromisoformat(value[:10])
    return None


def _dt(value: date | None) -> datetime | None:
    return None if value is None else datetime(value.year, value.month, value.day)


def _id(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, Mapping):  # a DBRef-like {"$id": ...} or dereferenced document
        value = value.get("_id", value.get("$id"))
    return str(getattr(value, "id", value)) if not isinstance(value, (str, bytes)) else str(value)


def _chunks(cursor: Iterable[Mapping[str, Any]], size: int) -> Iterator[list[Mapping[str, Any]]]:
    chunk: list[Mapping[str, Any]] = []
    for item in cursor:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
