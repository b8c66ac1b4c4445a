"""The pure rules of risk and safety: no database, no Flask; table-tested in tests/risk/test_rules.py.

- which case-file write is new high-risk information (and so an instant alert);
- the visit check: what a planned visit's findings are, and which of them are serious;
- when a visit's check-out is overdue.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Iterable, Mapping

#: Risk levels in order; "high or above" is any level ranked at or above HIGH.
LEVEL_ORDER = ("low", "medium", "high")
HIGH = "high"
HIGH_LEVELS = tuple(LEVEL_ORDER[LEVEL_ORDER.index(HIGH):])

#: Kinds of alert, and how the app names them (never in an email: the email names only the case reference).
ALERT_KINDS = (
    ("risk_note", "Risk note at high"),
    ("risk_assessment", "Risk assessment at high"),
    ("safeguarding_concern", "Safeguarding concern"),
    ("disclosure", "Disclosure to police"),
    ("conflict_marker", "Conflict marker (affiliation or rivalry)"),
    ("overdue_checkout", "Visit not checked out"),
    ("talk_now", "Client asked to talk to someone now"),
)
#: Case-file part -> the alert kind its new high-risk items raise.
PART_ALERTS = {
    "risk_notes": "risk_note",
    "risk_assessments": "risk_assessment",
    "safeguarding_concerns": "safeguarding_concern",
    "disclosures": "disclosure",
}
LEVELLED_PARTS = ("risk_notes", "risk_assessments")


def is_high(level: str | None) -> bool:
    return level in HIGH_LEVELS


def case_write_alert(part: str, before: Mapping | None, after: Mapping | None) -> str | None:
    """The alert kind a write to a case-file part raises, or None.

    `before` is the item's values before the write (None for a new item), `after` after it (None for a
    removal). A new safeguarding concern or disclosure is always new high-risk information; a risk note
    or assessment is when it is added at high or above, or changed from below high to high or above.
    Removals, and changes that leave the level where it was, raise nothing.
    """
    kind = PART_ALERTS.get(part)
    if kind is None or after is None:
        return None
    if part in LEVELLED_PARTS:
        rises = is_high(after.get("level")) and (before is None or not is_high(before.get("level")))
        return kind if rises else None
    return kind if before is None else None


def affiliation_alert(before: Mapping | None, after: Mapping | None) -> bool:
    """A new affiliation, or one whose group, confidence or end changed, is a new conflict marker."""
    if after is None:
        return False
    if before is None:
        return True
    return any(before.get(name) != after.get(name) for name in ("group", "confidence", "ended_on"))


def new_rivalries(before: Iterable, after: Iterable) -> set:
    """The rivals added to a group by a change (each rivalry touches both groups' clients)."""
    return set(after) - set(before)


# --- the visit check -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Assessed:
    """One risk assessment, as the check needs it."""

    on: date
    level: str
    review_date: date | None = None
    kind: str = "individual"


@dataclass(frozen=True)
class VenueFacts:
    name: str
    area: str | None = None
    postcode_district: str | None = None
    assessments: tuple[Assessed, ...] = ()


@dataclass(frozen=True)
class ClientFacts:
    reference: str
    assessments: tuple[Assessed, ...] = ()
    #: The groups the client is currently affiliated to (by group id or name; only equality matters).
    groups: frozenset = frozenset()


@dataclass(frozen=True)
class GroupFacts:
    name: str
    areas: frozenset = frozenset()
    rivals: frozenset = frozenset()


@dataclass(frozen=True)
class OtherVisit:
    worker: str
    starts_at: datetime
    ends_at: datetime
    where: str


@dataclass(frozen=True)
class PlannedVisit:
    starts_at: datetime
    ends_at: datetime
    venue: VenueFacts | None
    clients: tuple[ClientFacts, ...] = ()
    #: group key -> facts, for every group any attending client belongs to or is rival to.
    groups: Mapping = field(default_factory=dict)
    #: Other visits of the same workers (not cancelled) near this one.
    other_visits: tuple[OtherVisit, ...] = ()


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    #: A serious finding needs a manager's override, with a reason, before the visit can be booked.
    serious: bool = True


FINDING_CODES = {
    "venue_missing": "No venue chosen",
    "venue_unassessed": "Venue has no risk assessment",
    "venue_review_overdue": "Venue risk assessment past its review date",
    "venue_high_risk": "Venue assessed at high risk",
    "client_unassessed": "Client has no current individual risk assessment",
    "rival_clients": "Attending clients belong to rival groups",
    "rival_territory": "Venue in an area claimed by a rival group",
    "worker_double_booked": "Worker already has a visit then",
}


def latest(assessments: Iterable[Assessed], kind: str | None = None) -> Assessed | None:
    chosen = [a for a in assessments if kind is None or a.kind == kind]
    return max(chosen, key=lambda a: a.on) if chosen else None


def is_current(assessment: Assessed | None, on: date) -> bool:
    """Done by the day, and not past its review date then (no review date set: current)."""
    return assessment is not None and assessment.on <= on and (
        assessment.review_date is None or assessment.review_date >= on)


def _norm(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


def rivals(a, b, groups: Mapping) -> bool:
    """Rivalry is mutual: recorded on either group it holds for both."""
    ga, gb = groups.get(a), groups.get(b)
    return a != b and ((ga is not None and b in ga.rivals) or (gb is not None and a in gb.rivals))


def _group_name(key, groups: Mapping) -> str:
    found = groups.get(key)
    return found.name if found is not None else str(key)


def visit_findings(visit: PlannedVisit, show_groups: bool = True) -> list[Finding]:
    """Everything a manager responsible for safety would want to know before this visit happens.

    `show_groups` names the groups in the messages (only for people allowed to read affiliations).
    """
    day = visit.starts_at.date()
    out: list[Finding] = []
    venue = visit.venue
    if venue is None:
        out.append(Finding("venue_missing", "No venue is chosen: the visit's place cannot be checked."))
    else:
        current = latest(venue.assessments)
        if current is None:
            out.append(Finding("venue_unassessed", f"{venue.name} has no risk assessment."))
        else:
            if not is_current(current, day):
                out.append(Finding("venue_review_overdue",
                                   f"{venue.name}'s risk assessment was due for review on "
                                   f"{current.review_date:%d/%m/%Y}, before the visit."))
            if is_high(current.level):
                out.append(Finding("venue_high_risk", f"{venue.name} is assessed at {current.level} risk; "
                                   "follow its mitigations.", serious=False))
    for client in visit.clients:
        if not is_current(latest(client.assessments, "individual"), day):
            out.append(Finding("client_unassessed",
                               f"{client.reference} has no current individual risk assessment for {day:%d/%m/%Y}."))
    clients = list(visit.clients)
    for i, first in enumerate(clients):
        for second in clients[i + 1:]:
            pairs = sorted((_group_name(a, visit.groups), _group_name(b, visit.groups))
                           for a in first.groups for b in second.groups if rivals(a, b, visit.groups))
            if pairs:
                named = f" ({'; '.join(f'{a} and {b}' for a, b in pairs)})" if show_groups else ""
                out.append(Finding("rival_clients", f"{first.reference} and {second.reference} belong to rival "
                                   f"groups{named}: they must not be booked together."))
    if venue is not None:
        places = {_norm(venue.area), _norm(venue.postcode_district)} - {""}
        for client in clients:
            claimed = sorted({_group_name(key, visit.groups) for key, group in visit.groups.items()
                              if places & {_norm(a) for a in group.areas}
                              and any(rivals(key, own, visit.groups) for own in client.groups)})
            if claimed:
                named = f" ({', '.join(claimed)})" if show_groups else ""
                out.append(Finding("rival_territory", f"{venue.name} lies in an area claimed by a group rival to "
                                   f"{client.reference}'s group{named}."))
    for other in visit.other_visits:
        if other.starts_at < visit.ends_at and visit.starts_at < other.ends_at:
            out.append(Finding("worker_double_booked",
                               f"{other.worker} already has a visit from {other.starts_at:%H:%M} to "
                               f"{other.ends_at:%H:%M} at {other.where}.", serious=False))
    return out


def serious(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.serious]


def override_errors(findings: list[Finding], confirmed: bool, reason: str | None, may_override: bool) -> list[str]:
    """What stops the visit being booked: findings not yet seen, or serious ones without a manager's reasoned override."""
    if not findings:
        return []
    errors = []
    if not confirmed:
        errors.append("Read the findings below, then tick the box to confirm you have.")
    if serious(findings):
        if not may_override:
            errors.append("A serious finding needs a manager's override: ask a manager, or change the visit.")
        elif not (reason or "").strip():
            errors.append("Give the reason for overriding the serious findings.")
    return errors


# --- lone working ---------------------------------------------------------------------------------

OPEN_VISIT_STATUSES = ("planned", "checked_in")


def checkout_overdue(status: str, ends_at: datetime, now: datetime, grace_minutes: int) -> bool:
    """A visit not checked out (nor cancelled) by its end plus the grace period."""
    return status in OPEN_VISIT_STATUSES and now > ends_at + timedelta(minutes=grace_minutes)


def out_of_hours(starts_at: datetime, ends_at: datetime) -> bool:
    """A visit any part of which falls outside Monday to Friday 09:00 to 17:00 (DOMAIN.md: contacts)."""
    nine, five = starts_at.replace(hour=9, minute=0, second=0, microsecond=0), starts_at.replace(hour=17, minute=0,
                                                                                               second=0, microsecond=0)
    return starts_at.weekday() >= 5 or starts_at < nine or ends_at > five


def visit_errors(starts_at: datetime | None, ends_at: datetime | None) -> list[tuple[tuple, str]]:
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        return [(("ends_at",), "The visit must end after it starts.")]
    if starts_at is not None and ends_at is not None and ends_at - starts_at > timedelta(hours=12):
        return [(("ends_at",), "A visit lasts 12 hours at most; check the end time.")]
    return []
