"""Rules a case file must meet on save: pure functions over the document's values, no database.

Each rule returns a list of (path, message); a path is a tuple of field names and list
indexes, e.g. ("contacts", 2, "minutes"), so a form can show the message beside the field.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Iterable

MIN_AGE, MAX_AGE = 18, 35

# Dates of things that have happened; due and review dates look forward and are exempt.
_PAST_DATES = {
    "referral": ("date", "decision_date"),
    "consent": ("date",),
    "assessment": ("date",),
}
_PAST_LIST_DATES = {
    "contacts": ("date",),
    "employer_contacts": ("date",),
    "benefits_sessions": ("date",),
    "risk_assessments": ("date",),
    "risk_notes": ("date",),
    "safeguarding_concerns": ("date",),
    "disclosures": ("date", "written_report_date"),
    "onward_referrals": ("date",),
    "outcomes": ("start_date", "end_date"),
    "grant_bids": ("submitted_date",),
    "status_history": ("date",),
    "progress_updates": ("date",),
}

Error = tuple[tuple, str]


def _as_date(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value


def age_on(born: date, on: date) -> int:
    """Whole years between a date of birth and a date."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def eligibility_errors(date_of_birth, referral_date) -> list[Error]:
    born, on = _as_date(date_of_birth), _as_date(referral_date)
    if born is None or on is None:
        return []
    age = age_on(born, on)
    if not MIN_AGE <= age <= MAX_AGE:
        return [(("date_of_birth",), f"The client must be aged {MIN_AGE} to {MAX_AGE} on the referral date; they were {age}.")]
    return []


def referral_errors(referral) -> list[Error]:
    if referral is None:
        return []
    errors = []
    if referral.decision == "rejected" and not (referral.rationale or "").strip():
        errors.append((("referral", "rationale"), "A rejected referral needs a rationale."))
    if referral.decision == "rejected" and not referral.rejection_reason:
        errors.append((("referral", "rejection_reason"), "Choose the reason the referral was rejected."))
    if referral.decision in ("accepted", "rejected", "withdrawn") and referral.decision_date and referral.date:
        if _as_date(referral.decision_date) < _as_date(referral.date):
            errors.append((("referral", "decision_date"), "The decision cannot come before the referral date."))
    return errors


def _future(path, value, today: date) -> list[Error]:
    value = _as_date(value)
    if value is not None and value > today:
        return [(path, f"This date ({value:%d/%m/%Y}) is in the future.")]
    return []


def _outcome_item(outcome) -> list[Error]:
    if outcome.end_date and outcome.start_date and _as_date(outcome.end_date) < _as_date(outcome.start_date):
        return [(("end_date",), "The end date cannot be before the start date.")]
    return []


def _disclosure_item(disclosure) -> list[Error]:
    errors = []
    if not disclosure.basis:
        errors.append((("basis",), "A disclosure to police needs its basis: a serious, credible and imminent threat."))
    if not (disclosure.authorised_by or "").strip():
        errors.append((("authorised_by",), "Record who authorised the disclosure."))
    if disclosure.written_report_date and disclosure.date and _as_date(disclosure.written_report_date) < _as_date(disclosure.date):
        errors.append((("written_report_date",), "The written report cannot come before the disclosure."))
    return errors


_ITEM_RULES = {
    "outcomes": _outcome_item,
    "disclosures": _disclosure_item,
}


def item_errors(part: str, item, today: date) -> list[Error]:
    """Rules for one item of a case-file list; paths are the item's own field names."""
    errors = []
    for name in _PAST_LIST_DATES.get(part, ()):
        errors += _future((name,), getattr(item, name, None), today)
    rule = _ITEM_RULES.get(part)
    return errors + (rule(item) if rule else [])


def future_date_errors(case, today: date) -> list[Error]:
    errors = []
    for part, names in _PAST_DATES.items():
        sub = getattr(case, part, None)
        for name in names:
            if sub is not None:
                errors += _future((part, name), getattr(sub, name, None), today)
    return errors


def top_level_errors(case, today: date) -> list[Error]:
    """Rules for the parts of the case file the whole-file form edits: identity, referral, consent, assessment."""
    referral = getattr(case, "referral", None)
    born = _as_date(case.date_of_birth)
    if born is not None and born >= today:
        # An age from a date of birth not yet reached would be negative: say what is wrong instead.
        age = [(("date_of_birth",), "Date of birth must be in the past.")]
    else:
        age = eligibility_errors(case.date_of_birth, referral.date if referral else None)
    return (
        age
        + referral_errors(referral)
        + future_date_errors(case, today)
    )


def case_file_errors(case, today: date) -> list[Error]:
    """Every rule that can be checked from the case file alone (its top-level parts and every list item)."""
    errors = top_level_errors(case, today)
    for part in _PAST_LIST_DATES:
        for index, item in enumerate(getattr(case, part, None) or []):
            errors += [((part, index) + path, message) for path, message in item_errors(part, item, today)]
    return errors


def disclosures_awaiting_report(disclosures: Iterable) -> list:
    """Disclosures whose follow-up written report has not been recorded: each needs a reminder."""
    return [d for d in disclosures or [] if not d.written_report_date]


def counts_against_caseload(status: str | None, decision: str | None) -> bool:
    """An open case (not closed, referral not rejected or withdrawn) takes a place in the worker's caseload."""
    return status != "closed" and decision not in ("rejected", "withdrawn")


def caseload_cap_error(open_cases_after: int, cap: int, override_reason: str | None, may_override: bool) -> list[Error]:
    """A worker cannot hold more open cases than their cap unless a manager records a reason."""
    if open_cases_after <= cap:
        return []
    if may_override and (override_reason or "").strip():
        return []
    if may_override:
        return [(("caseload_override_reason",),
                 f"This worker would hold {open_cases_after} open cases, over their cap of {cap}. "
                 "Record a reason to override the cap.")]
    return [(("worker",), f"This worker would hold {open_cases_after} open cases, over their cap of {cap}. "
                          "Only a manager can override the cap.")]


def others_employer_contact_errors(before: list[dict], after: list[dict], me) -> list[Error]:
    """General employer contacts count in their worker's fidelity figures, so only that worker (or a manager)
    adds, changes or removes them: an error for each one of another worker's that the save would touch.

    `before` and `after` are the stored items as plain dicts, `staff` being the worker's id.
    """
    before = [_entered(item) for item in before]
    after = [_entered(item) for item in after]
    unmatched = list(after)
    errors: list[Error] = []
    for item in before:
        if item in unmatched:
            unmatched.remove(item)
        elif item.get("staff") != me:
            errors.append((("employer_contacts",), f"The general employer contact of {item.get('date'):%d/%m/%Y} is "
                                                   "another worker's: only they or a manager can change or remove it."
                           if item.get("date") else "Another worker's general employer contact can only be changed "
                                                    "by them or a manager."))
    for index, item in enumerate(after):
        if item in unmatched and item.get("staff") != me:
            unmatched.remove(item)
            errors.append((("employer_contacts", index, "staff"), "A general employer contact you record is yours: "
                                                                  "choose yourself as the worker."))
    return errors


def _entered(item: dict) -> dict:
    """An item's values as entered: a blank the form sends back is the same as a value never stored."""
    return {key: value for key, value in item.items() if value not in (None, "", [])}
