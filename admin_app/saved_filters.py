"""Saved and built-in filters as data: checked against a list screen, turned into list links and MongoDB matches.

A saved filter is stored as plain data (the screen's endpoint, its filter conditions by name, search
text, sort column) so that a screen can change under it: every save and every run checks the data
against the screen as it is now, and a filter naming something that has gone is reported as stale.
Built-in filters are date-relative questions on the clients collection, each a function of `today`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Callable, Iterable, Mapping

from admin_app.metrics.kpis import (
    ACTIVE_CONTACT_DAYS,
    ADMIN_MODE,
    SUSTAINED_13_WEEKS_DAYS,
    SUSTAINED_26_WEEKS_DAYS,
)
from admin_app.risk.rules import HIGH_LEVELS
from admin_app.vocabulary import PAID_OUTCOME_KINDS, RISK_ASSESSMENT_KINDS

CLIENT_SCREEN = "client"
CLIENTS_COLLECTION = "clients"
#: Days from the initial assessment by which a first face-to-face employer contact is due (IPS rapid job search).
FIRST_EMPLOYER_CONTACT_DAYS = 30
GRANT_BIDS_AWAITING_PANEL = ("submitted", "panel_review")
WORKER, MANAGER = "worker", "manager"


class StaleFilter(ValueError):
    """A stored filter that no longer fits its screen, or is unknown; the message is for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- built-in filters -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Builtin:
    key: str
    name: str
    description: str
    #: today -> a MongoDB match on the clients collection
    match: Callable[[date], dict]
    #: Roles whose daily digest counts this filter as due items.
    due_for: tuple[str, ...] = ()
    collection: str = CLIENTS_COLLECTION


def mongo_day(day: date) -> datetime:
    """Dates are stored as midnight datetimes; a match must compare with the same."""
    return datetime.combine(day, time())


def week_of(today: date) -> list[date]:
    """Monday to Sunday of the week holding `today`."""
    monday = today - timedelta(days=today.weekday())
    return [monday + timedelta(days=n) for n in range(7)]


NOT_CLOSED = {"status": {"$ne": "closed"}}
ON_CASELOAD = {"status": {"$ne": "closed"}, "referral.decision": "accepted"}


def _client_contact_since(today: date) -> dict:
    """A contact with the client (admin time is not one) in the 28 days up to and including today."""
    since = today - timedelta(days=ACTIVE_CONTACT_DAYS - 1)
    return {"mode": {"$ne": ADMIN_MODE}, "date": {"$gte": mongo_day(since), "$lte": mongo_day(today)}}


def active_caseload(today: date) -> dict:
    """Active clients (DOMAIN.md): accepted, not closed, a contact in the last 28 days, an open plan."""
    return {**ON_CASELOAD,
            "contacts": {"$elemMatch": _client_contact_since(today)},
            "$or": [{"plan_goals": {"$elemMatch": {"status": {"$in": ["open", None]}}}},
                    {"plan_goals.due_date": {"$gte": mongo_day(today)}}]}


def no_recent_contact(today: date) -> dict:
    return {**ON_CASELOAD, "contacts": {"$not": {"$elemMatch": _client_contact_since(today)}}}


def no_employer_contact_after_assessment(today: date) -> dict:
    """Assessed more than 30 days ago and no face-to-face employer contact on or after the assessment."""
    since_assessment = {"$filter": {
        "input": {"$ifNull": ["$employer_contacts", []]}, "as": "e",
        "cond": {"$and": [{"$eq": ["$$e.face_to_face", True]}, {"$gte": ["$$e.date", "$assessment.date"]}]}}}
    cutoff = today - timedelta(days=FIRST_EMPLOYER_CONTACT_DAYS)
    return {**ON_CASELOAD, "assessment.date": {"$lt": mongo_day(cutoff)},
            "$expr": {"$eq": [{"$size": since_assessment}, 0]}}


def sustainment_due(days: int) -> Callable[[date], dict]:
    """Paid jobs whose check date (start + days) falls this week and which had not ended before it."""

    def match(today: date) -> dict:
        due = [{"start_date": mongo_day(day - timedelta(days=days)), "end_date": {"$not": {"$lt": mongo_day(day)}}}
               for day in week_of(today)]
        return {**ON_CASELOAD, "outcomes": {"$elemMatch": {"kind": {"$in": list(PAID_OUTCOME_KINDS)}, "$or": due}}}

    return match


def risk_review_overdue(today: date) -> dict:
    """For some kind of risk assessment, every review date set is already past."""
    now = mongo_day(today)
    per_kind = [{"$and": [
        {"risk_assessments": {"$elemMatch": {"kind": kind, "review_date": {"$lt": now}}}},
        {"risk_assessments": {"$not": {"$elemMatch": {"kind": kind, "review_date": {"$gte": now}}}}},
    ]} for kind, _ in RISK_ASSESSMENT_KINDS]
    return {**NOT_CLOSED, "$or": per_kind}


#: A safeguarding concern keeps a client on the high-risk list for this many days.
RECENT_CONCERN_DAYS = 90


def high_risk(today: date) -> dict:
    """Not closed, and any of: the most recent risk assessment (any on the latest date) is rated high or above;
    a risk note at high or above is dated on or after the most recent assessment (or there is none); a
    safeguarding concern was raised in the last 90 days. The risk view, this filter and the digest share it."""
    latest_day = {"$max": "$risk_assessments.date"}
    latest_high = {"$filter": {
        "input": {"$ifNull": ["$risk_assessments", []]}, "as": "r",
        "cond": {"$and": [{"$in": ["$$r.level", list(HIGH_LEVELS)]}, {"$eq": ["$$r.date", latest_day]}]}}}
    newer_high_note = {"$filter": {
        "input": {"$ifNull": ["$risk_notes", []]}, "as": "n",
        "cond": {"$and": [{"$in": ["$$n.level", list(HIGH_LEVELS)]},
                          {"$gte": ["$$n.date", {"$ifNull": [latest_day, mongo_day(date(1900, 1, 1))]}]}]}}}
    since = mongo_day(today - timedelta(days=RECENT_CONCERN_DAYS - 1))
    # Each branch also names a level or date its rule implies, so an index finds its candidates.
    return {**NOT_CLOSED, "$or": [
        {"risk_assessments.level": {"$in": list(HIGH_LEVELS)}, "$expr": {"$gt": [{"$size": latest_high}, 0]}},
        {"risk_notes.level": {"$in": list(HIGH_LEVELS)}, "$expr": {"$gt": [{"$size": newer_high_note}, 0]}},
        {"safeguarding_concerns": {"$elemMatch": {"date": {"$gte": since, "$lte": mongo_day(today)}}}},
    ]}


def referrals_awaiting_decision(today: date) -> dict:
    return {**NOT_CLOSED, "referral.decision": {"$in": ["pending", None]}}


def grant_bids_awaiting_panel(today: date) -> dict:
    return {"grant_bids.status": {"$in": list(GRANT_BIDS_AWAITING_PANEL)}}


def disclosures_without_report(today: date) -> dict:
    return {"disclosures": {"$elemMatch": {"written_report_date": None}}}


BUILTIN_FILTERS: tuple[Builtin, ...] = (
    Builtin("active_caseload", "Active caseload",
            "Accepted, not closed, a contact with the client in the last 28 days and an open action plan.",
            active_caseload),
    Builtin("no_contact_28_days", "No contact in the last 28 days",
            "On the caseload (accepted, not closed) with no contact with the client in the last 28 days.",
            no_recent_contact, due_for=(WORKER, MANAGER)),
    Builtin("no_employer_contact_30_days", "Assessed, no face-to-face employer contact after 30 days",
            "Initial assessment more than 30 days ago and no face-to-face employer contact since it.",
            no_employer_contact_after_assessment, due_for=(WORKER, MANAGER)),
    Builtin("sustainment_13_weeks", "13-week sustainment checks due this week",
            "A paid job or business that reaches 13 weeks (91 days) this week, Monday to Sunday, and had not ended.",
            sustainment_due(SUSTAINED_13_WEEKS_DAYS), due_for=(WORKER, MANAGER)),
    Builtin("sustainment_26_weeks", "26-week sustainment checks due this week",
            "A paid job or business that reaches 26 weeks (182 days) this week, Monday to Sunday, and had not ended.",
            sustainment_due(SUSTAINED_26_WEEKS_DAYS), due_for=(WORKER, MANAGER)),
    Builtin("risk_review_overdue", "Risk assessment review overdue",
            "Not closed; for a kind of risk assessment (venue, individual, group) every review date set has passed.",
            risk_review_overdue, due_for=(WORKER, MANAGER)),
    Builtin("high_risk", "High risk",
            "Not closed, and the most recent risk assessment is rated high, or a high risk note is as recent as "
            "the latest assessment, or a safeguarding concern was raised in the last 90 days.",
            high_risk, due_for=(WORKER, MANAGER)),
    Builtin("referrals_awaiting_decision", "Referrals awaiting a decision",
            "Not closed, and no decision yet on the referral.",
            referrals_awaiting_decision, due_for=(MANAGER,)),
    Builtin("grant_bids_awaiting_panel", "Grant bids awaiting the panel",
            "A grant bid submitted to the panel or in panel review.",
            grant_bids_awaiting_panel, due_for=(MANAGER,)),
    Builtin("disclosures_without_report", "Disclosures without a written report",
            "A disclosure to police whose follow-up written report has not been recorded.",
            disclosures_without_report, due_for=(WORKER, MANAGER)),
)
BUILTINS: dict[str, Builtin] = {b.key: b for b in BUILTIN_FILTERS}


def builtin_for(key: str | None, collection: str) -> Builtin | None:
    """The built-in filter `key` if it filters `collection`."""
    found = BUILTINS.get(key or "")
    return found if found is not None and found.collection == collection else None


# --- a list screen, as data -----------------------------------------------------------------------

@dataclass(frozen=True)
class ScreenFilter:
    arg: str                       # the name in list URLs, e.g. "cohort_equals"
    label: str                     # "Cohort"
    operation: str                 # "equals"
    options: tuple[tuple[str, str], ...] | None = None
    accepts: Callable[[str], bool] = lambda value: True

    @property
    def title(self) -> str:
        return f"{self.label} {self.operation}"


@dataclass(frozen=True)
class Screen:
    endpoint: str
    name: str
    filters: Mapping[str, ScreenFilter]
    #: Filter args by position: lists may still name a filter by its index.
    positions: tuple[str, ...] = ()
    #: List columns in order (the list's `sort` argument is an index into them).
    columns: tuple[str, ...] = ()
    sortable: frozenset[str] = frozenset()
    column_labels: Mapping[str, str] = field(default_factory=dict)
    searchable: bool = False
    collection: str = ""


def screen_of(view) -> Screen:
    """What a Flask-Admin list view offers now: its filters by name, sortable columns, search."""
    filters: dict[str, ScreenFilter] = {}
    positions = []
    for index, flt in enumerate(view._filters or []):
        arg = view.get_filter_arg(index, flt)
        positions.append(arg)
        options = flt.get_options(view)
        filters[arg] = ScreenFilter(arg, str(flt.name), str(flt.operation()),
                                    tuple((str(k), str(v)) for k, v in options) if options else None, flt.validate)
    columns = tuple(name for name, _ in view._list_columns)
    return Screen(view.endpoint, str(view.name), filters, tuple(positions), columns, frozenset(view._sortable_columns),
                  {name: str(text) for name, text in view._list_columns}, bool(view._search_supported),
                  view.model._get_collection_name())


# --- stored filter data ---------------------------------------------------------------------------
# {"screen": "client", "conditions": [{"arg", "label", "operation", "value"}, ...],
#  "search": "", "sort": "last_name" | None, "desc": False, "builtin": "no_contact_28_days" | None}

def _filter_position(key: str) -> tuple[int, str]:
    """Filters apply in the order of their `flt<n>_` numbers, as the list applies them."""
    number = key[3:].split("_", 1)[0]
    return (int(number) if number.isdigit() else 0, key)


def from_list_args(args: Mapping[str, str], screen: Screen) -> tuple[dict, list[str]]:
    """A list URL's arguments as stored filter data, and what in them the screen does not know."""
    problems: list[str] = []
    conditions = []
    for key in sorted((k for k in args if k.startswith("flt") and "_" in k), key=_filter_position):
        name = key[3:].split("_", 1)[1]
        if name.isdigit() and int(name) < len(screen.positions):
            name = screen.positions[int(name)]
        flt = screen.filters.get(name)
        if flt is None:
            problems.append(f"The list has a filter this screen does not know ({name}).")
            continue
        conditions.append({"arg": flt.arg, "label": flt.label, "operation": flt.operation, "value": args[key]})
    sort = None
    if (args.get("sort") or "").strip():
        raw = args["sort"].strip()
        if raw.isdigit() and int(raw) < len(screen.columns):
            sort = screen.columns[int(raw)]
        else:
            problems.append("The list is sorted by a column this screen does not have.")
    builtin = (args.get("builtin") or "").strip() or None
    stored = {"screen": screen.endpoint, "conditions": conditions, "search": (args.get("search") or "").strip(),
              "sort": sort, "desc": (args.get("desc") or "") in ("1", "true"), "builtin": builtin}
    return stored, problems + stale_problems(stored, screen)


def stale_problems(stored: Mapping[str, Any], screen: Screen) -> list[str]:
    """Why stored filter data no longer fits the screen, one message per problem; empty when it fits."""
    problems = []
    if stored.get("screen") != screen.endpoint:
        problems.append(f"It was saved on another screen ({stored.get('screen')}), not {screen.name}.")
    for condition in stored.get("conditions") or []:
        flt = screen.filters.get(condition.get("arg", ""))
        title = f"{condition.get('label', '')} {condition.get('operation', '')}".strip() or condition.get("arg", "")
        if flt is None:
            problems.append(f"The filter “{title}” no longer exists on the {screen.name} screen.")
        elif flt.options is not None and condition.get("value") not in {value for value, _ in flt.options}:
            problems.append(f"The value saved for “{flt.title}” is no longer one of its choices.")
        elif not flt.accepts(condition.get("value", "")):
            problems.append(f"The value saved for “{flt.title}” is not valid for it any more.")
    sort = stored.get("sort")
    if sort and sort not in screen.sortable:
        problems.append(f"The {screen.name} list can no longer be sorted by “{screen.column_labels.get(sort, sort)}”.")
    if stored.get("search") and not screen.searchable:
        problems.append(f"The {screen.name} list no longer has a search box.")
    builtin = stored.get("builtin")
    if builtin and builtin_for(builtin, screen.collection) is None:
        problems.append(f"The built-in filter “{builtin}” no longer exists for the {screen.name} list.")
    return problems


def to_list_args(stored: Mapping[str, Any], screen: Screen) -> dict[str, str]:
    """The list URL's arguments that show stored filter data (check it with stale_problems first)."""
    args: dict[str, str] = {}
    for index, condition in enumerate(stored.get("conditions") or []):
        args[f"flt{index}_{condition['arg']}"] = condition.get("value") or ""
    if stored.get("search"):
        args["search"] = stored["search"]
    if stored.get("sort"):
        args["sort"] = str(screen.columns.index(stored["sort"]))
        if stored.get("desc"):
            args["desc"] = "1"
    if stored.get("builtin"):
        args["builtin"] = stored["builtin"]
    return args


def describe(stored: Mapping[str, Any], screen: Screen | None = None) -> str:
    """The filter in words, e.g. “Cohort equals At risk; search “smith”; sorted by Last name, descending”."""
    parts = []
    if stored.get("builtin"):
        builtin = BUILTINS.get(stored["builtin"])
        parts.append(builtin.name if builtin else stored["builtin"])
    for condition in stored.get("conditions") or []:
        value = condition.get("value") or ""
        flt = screen.filters.get(condition.get("arg", "")) if screen else None
        if flt is not None and flt.options:
            value = dict(flt.options).get(value, value)
        parts.append(f"{condition.get('label', '')} {condition.get('operation', '')} {value}".strip())
    if stored.get("search"):
        parts.append(f"search “{stored['search']}”")
    if stored.get("sort"):
        sort = screen.column_labels.get(stored["sort"], stored["sort"]) if screen else stored["sort"]
        parts.append(f"sorted by {sort}" + (", descending" if stored.get("desc") else ""))
    return "; ".join(parts) or "everything"


def due_builtins(roles: Iterable[str]) -> list[Builtin]:
    """The built-in filters whose counts go into the daily digest of someone with these roles."""
    roles = set(roles)
    return [b for b in BUILTIN_FILTERS if roles & set(b.due_for)]
