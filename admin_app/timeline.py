"""The readable case file: everything that happened to a client, newest first, and hours totals."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from admin_app.privacy.classes import RESTRICTED

from admin_app.metrics.working_hours import contact_out_of_hours
from admin_app.models.people import staff_name
from admin_app.vocabulary import (
    CASE_STATUSES, COHORTS, CONTACT_MODES, GOALS, READINESS, CONTACT_PLACES, DISCLOSURE_BASES, EMPLOYER_CONTACT_PURPOSES,
    OUTCOME_KINDS, PLAN_GOAL_STATUSES, REFERRAL_DECISIONS, REFERRAL_SOURCES, RISK_ASSESSMENT_KINDS, RISK_LEVELS, label,
)


@dataclass(frozen=True)
class Event:
    date: date
    kind: str
    title: str
    detail: str = ""
    sensitive: bool = False
    #: The case-file list and item this event is, so the page can offer to change it.
    part: str | None = None
    item_id: str | None = None
    #: A follow-up form the item still offers (e.g. "end" for a running job).
    follow_up: str | None = None


def _events(client, readable: Callable[[object], bool]):
    def text(item, name: str) -> str:
        """A free-text value of an item, or "restricted" when its field's class is not the user's to read."""
        value = getattr(item, name, None)
        if not value:
            return ""
        return value if readable(item._fields[name]) else RESTRICTED

    r = client.referral
    if r and r.date:
        yield Event(r.date, "referral", f"Referred by {label(REFERRAL_SOURCES, r.source)}",
                    f"Cohort: {label(COHORTS, r.cohort)}. {r.organisation or ''}")
        if r.decision_date and r.decision != "pending":
            yield Event(r.decision_date, "decision", f"Referral {label(REFERRAL_DECISIONS, r.decision).lower()}",
                        text(r, "rationale"))
    a = client.assessment
    if a and a.date:
        yield Event(a.date, "assessment", "Initial assessment",
                    f"Readiness {label(READINESS, a.readiness) or '—'}, goal {label(GOALS, a.goal) or '—'}"
                    + (f"; previous support from {a.previous_support_from}" if a.previous_support else ""))
    messaged = {m.contact_id for m in getattr(client, "messages", None) or () if m.contact_id}
    by_contact = {c.id: c for c in client.contacts}
    for m in getattr(client, "messages", None) or ():
        # A message is shown once, with the minutes of the contact it counts as.
        counted = by_contact.get(m.contact_id)
        yield Event(counted.date if counted else m.sent_at.date(), "message",
                    ("Message from the client" if m.sender == "client" else f"Message to the client from {m.staff or 'the worker'}")
                    + (f", in {_language(m.language)}" if m.sender == "client" and m.language and m.language != "en" else "")
                    + (f" ({duration(counted.minutes)}, at {counted.start_time})" if counted else ""),
                    text(m, "text"))
    for c in client.contacts:
        if c.id in messaged:
            continue
        yield Event(c.date, "contact", f"{label(CONTACT_MODES, c.mode)} contact, {duration(c.minutes)}"
                    + (f" from {c.start_time}" if getattr(c, "start_time", None) else "")
                    + (f" ({label(CONTACT_PLACES, c.place)})" if c.place else "")
                    + (" — out of hours" if contact_out_of_hours(c.date, getattr(c, "start_time", None), c.out_of_hours)
                       else ""), text(c, "note"), **_item("contacts", c))
    for e in client.employer_contacts:
        yield Event(e.date, "employer_contact",
                    f"Employer contact: {e.employer or 'employer'} ({label(EMPLOYER_CONTACT_PURPOSES, e.purpose)})",
                    ("face-to-face" if e.face_to_face else "not face-to-face") + ("; with the client" if e.with_client else ""),
                    **_item("employer_contacts", e))
    for b in client.benefits_sessions:
        yield Event(b.date, "benefits", f"Benefits counselling{': ' + b.topic if b.topic else ''}", text(b, "note"),
                    **_item("benefits_sessions", b))
    for ra in client.risk_assessments:
        yield Event(ra.date, "risk", f"Risk assessment ({label(RISK_ASSESSMENT_KINDS, ra.kind)}): {label(RISK_LEVELS, ra.level)}",
                    text(ra, "mitigations"), **_item("risk_assessments", ra))
    for n in client.risk_notes:
        yield Event(n.date, "risk_note", f"Risk note ({label(RISK_LEVELS, n.level)})", text(n, "text"), True,
                    **_item("risk_notes", n))
    for s in client.safeguarding_concerns:
        yield Event(s.date, "safeguarding", "Safeguarding concern",
                    " ".join(filter(None, [text(s, "concern"), text(s, "action") and f"Action: {text(s, 'action')}"])), True,
                    **_item("safeguarding_concerns", s))
    for d in client.disclosures:
        yield Event(d.date, "disclosure", f"Disclosure to police ({label(DISCLOSURE_BASES, d.basis)})",
                    f"Authorised by {d.authorised_by}. " + text(d, "what_shared")
                    + ("" if d.written_report_date else " Written report not yet recorded."), True,
                    **_item("disclosures", d, None if d.written_report_date else "report"))
        if d.written_report_date:
            yield Event(d.written_report_date, "disclosure_report", "Written report of the disclosure to police", "",
                        **_item("disclosures", d))
    for o in client.onward_referrals:
        yield Event(o.date, "onward", f"Signposted to {o.organisation or 'partner'}", o.purpose or "",
                    **_item("onward_referrals", o))
    for o in client.outcomes:
        yield Event(o.start_date, "outcome", f"{label(OUTCOME_KINDS, o.kind)} started"
                    + (f" at {o.employer}" if o.employer else "") + (f" as {o.job_type}" if o.job_type else ""),
                    f"{_number(o.hours_per_week)} hours a week; {'competitive' if o.competitive else 'not competitive'}",
                    **_item("outcomes", o, None if o.end_date else "end"))
        if o.end_date:
            yield Event(o.end_date, "outcome_end", f"{label(OUTCOME_KINDS, o.kind)} ended", o.reason_for_leaving or "",
                        **_item("outcomes", o))
    for o in getattr(client, "shared_opportunities", None) or ():
        yield Event(o.date, "shared_opportunity", f"Shared with the client: {o.title}"
                    + (f" ({o.organisation})" if o.organisation else ""), o.note or "",
                    **_item("shared_opportunities", o))
    for g in client.grant_bids:
        if g.submitted_date:
            yield Event(g.submitted_date, "grant", f"Grant bid submitted: £{g.amount_asked}", g.purpose or "")
    for g in client.plan_goals:
        for u in getattr(g, "client_updates", None) or ():
            said = ("marked done" if u.done else "marked not done yet") if u.done is not None else "added a note"
            yield Event(u.at.date(), "client_update", f"The client {said}: {u.step or g.goal}", text(u, "note"),
                        **_item("plan_goals", g))
        if g.due_date:
            yield Event(g.due_date, "plan_goal", f"Plan goal due ({label(PLAN_GOAL_STATUSES, g.status).lower()}): {g.goal}",
                        g.steps or "", **_item("plan_goals", g))
    for u in client.progress_updates:
        yield Event(u.date, "progress_update", "Quarterly update" + (f" by {u.author}" if u.author else ""),
                    u.progress or "", **_item("progress_updates", u))
    for a in getattr(client, "assignments", None) or ():
        yield Event(a.start, "assignment", f"Assigned to {a.worker}" if a.worker else "Unassigned",
                    " ".join(filter(None, [a.reason, f"({staff_name(a.by)})" if a.by else None])))
    for s in client.status_history:
        yield Event(s.date, "status", f"Status: {label(CASE_STATUSES, s.status)}" + (" (correction)" if s.correction else ""),
                    " ".join(filter(None, [s.reason, f"({staff_name(s.by)})" if s.by else None])))


def _language(code: str) -> str:
    from admin_app.client_space.languages import LOCALES

    return LOCALES[code].english if code in LOCALES else code


def _item(part: str, item, follow_up: str | None = None) -> dict:
    return {"part": part, "item_id": str(item.id) if getattr(item, "id", None) else None, "follow_up": follow_up}


def _number(value) -> str:
    """30 rather than 30.0; 37.5 as it is."""
    if value is None:
        return "—"
    return f"{float(value):g}"


def duration(minutes) -> str:
    """Minutes as hours and minutes: "1 h 30 min", "45 min"."""
    if minutes is None:
        return "—"
    hours, rest = divmod(int(minutes), 60)
    if hours and not rest:
        return f"{hours} hour" + ("s" if hours != 1 else "") if hours >= 24 else f"{hours} h"
    return " ".join(filter(None, [f"{hours} h" if hours else "", f"{rest} min" if rest or not hours else ""]))


def timeline(client, readable: Callable[[object], bool] = lambda field: True) -> list[Event]:
    """Every event in the case file, newest first; text of a field `readable` refuses shows as "restricted"."""
    return sorted((e for e in _events(client, readable) if e.date), key=lambda e: (e.date, e.kind), reverse=True)


def hours_totals(client) -> dict:
    """Face-to-face and admin hours (and the rest) from the client's contacts."""
    minutes = {"face_to_face": 0, "admin": 0, "other": 0}
    for c in client.contacts:
        key = c.mode if c.mode in ("face_to_face", "admin") else "other"
        minutes[key] += c.minutes or 0
    return {k: round(v / 60, 1) for k, v in minutes.items()}


def current_plan(client) -> list:
    """Open Vocational Action Plan goals, soonest due first."""
    return sorted((g for g in client.plan_goals if g.status == "open"), key=lambda g: (g.due_date is None, g.due_date))
