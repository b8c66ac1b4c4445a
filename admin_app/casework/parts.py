"""The parts of a case file that daily work changes, each declared once.

A part is one list in the Client document. Its declaration says which fields its task form shows,
which field is the date (today by default) and which is the member of staff (the signed-in user by
default), which fields are typed as a duration, which follow-up forms it has (recording the end of a
job, the written report of a disclosure), and which fields only apply under a condition. The form,
the permission per action, the timeline links and the messages all come from this table.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

ACTIONS = ("add", "edit", "remove")


@dataclass(frozen=True)
class FollowUp:
    """A short form that records a later step on an existing item."""

    name: str
    label: str
    fields: tuple[str, ...]
    #: Shown only while this holds for the item (e.g. the job has not ended yet).
    offered: Callable[[object], bool] = lambda item: True


@dataclass(frozen=True)
class Part:
    name: str
    #: What one item is called, in a sentence: "contact", "employer contact".
    item: str
    #: The task form's title: "Record a contact".
    add_label: str
    fields: tuple[str, ...]
    #: The fields of the first form, if fewer than `fields` (an outcome is started before it ends).
    add_fields: tuple[str, ...] | None = None
    date_field: str | None = "date"
    staff_field: str | None = None
    duration_fields: tuple[str, ...] = ()
    follow_ups: tuple[FollowUp, ...] = ()
    #: field -> the condition (over the item's values) under which the field is kept at all.
    applies_when: dict[str, Callable[[dict], bool]] = field(default_factory=dict)
    #: Fields given a textarea however long the model allows.
    long_text: tuple[str, ...] = ()

    def form_fields(self, action: str) -> tuple[str, ...]:
        return (self.add_fields or self.fields) if action == "add" else self.fields

    def follow_up(self, name: str | None) -> FollowUp | None:
        return next((f for f in self.follow_ups if f.name == name), None)

    def permission(self, action: str) -> str:
        return f"casefile.{self.name}.{action}"


def _ended(values: dict) -> bool:
    return values.get("end_date") is not None


def _no_start_time(values: dict) -> bool:
    return not values.get("start_time")


PARTS: tuple[Part, ...] = (
    Part("contacts", "contact", "Record a contact",
         ("date", "start_time", "minutes", "mode", "place", "out_of_hours", "staff", "note"),
         staff_field="staff", duration_fields=("minutes",), long_text=("note",),
         # With a start time, out of hours is worked out from it; the tick is for contacts recorded without one.
         applies_when={"out_of_hours": _no_start_time}),
    Part("employer_contacts", "employer contact", "Record an employer contact",
         ("date", "employer", "face_to_face", "purpose", "with_client", "staff", "note"),
         staff_field="staff", long_text=("note",)),
    Part("outcomes", "outcome", "Record an outcome (job, business, training…)",
         ("kind", "start_date", "employer", "job_type", "hours_per_week", "competitive", "end_date",
          "reason_for_leaving"),
         add_fields=("kind", "start_date", "employer", "job_type", "hours_per_week", "competitive"),
         date_field="start_date",
         follow_ups=(FollowUp("end", "Record the end", ("end_date", "reason_for_leaving"),
                              offered=lambda item: getattr(item, "end_date", None) is None),),
         applies_when={"reason_for_leaving": _ended}),
    Part("plan_goals", "plan goal", "Add a plan goal", ("goal", "steps", "due_date", "status"),
         date_field=None, long_text=("steps",)),
    Part("shared_opportunities", "shared opportunity", "Share a job or training opportunity with the client",
         ("date", "kind", "title", "organisation", "link", "closing_date", "note"), long_text=("note",)),
    Part("risk_assessments", "risk assessment", "Add a risk assessment",
         ("date", "kind", "level", "mitigations", "review_date", "assessor"),
         staff_field="assessor", long_text=("mitigations",)),
    Part("risk_notes", "risk note", "Add a risk note", ("date", "level", "text", "author"),
         staff_field="author", long_text=("text",)),
    Part("safeguarding_concerns", "safeguarding concern", "Record a safeguarding concern",
         ("date", "concern", "referred_to", "action"), long_text=("concern", "action")),
    Part("disclosures", "disclosure to police", "Record a disclosure to police",
         ("date", "basis", "decided_by", "authorised_by", "shared_with", "what_shared", "written_report_date"),
         add_fields=("date", "basis", "decided_by", "authorised_by", "shared_with", "what_shared"),
         follow_ups=(FollowUp("report", "Record the written report", ("written_report_date",),
                              offered=lambda item: getattr(item, "written_report_date", None) is None),),
         long_text=("what_shared",)),
    Part("onward_referrals", "onward referral", "Record an onward referral",
         ("date", "organisation", "purpose", "outcome")),
    Part("benefits_sessions", "benefits session", "Record a benefits session",
         ("date", "minutes", "topic", "note"), duration_fields=("minutes",), long_text=("note",)),
    Part("progress_updates", "quarterly update", "Write a quarterly update",
         ("date", "progress", "challenges", "needs", "author"), staff_field="author",
         long_text=("progress", "challenges", "needs")),
)
BY_NAME = {part.name: part for part in PARTS}

#: The status history is written only by the status-change form, and only ever added to.
STATUS = "status_history"
STATUS_PERMISSION = "casefile.status_history.add"
DECIDE_PERMISSION = "casefile.referral.decide"


def part_named(name: str) -> Part | None:
    return BY_NAME.get(name)


def permission_labels() -> dict[str, str]:
    """Every case-file task permission and what it allows, for the Roles screen."""
    labels = {}
    for part in PARTS:
        labels[part.permission("add")] = f"Case file: {part.add_label[0].lower()}{part.add_label[1:]}"
        labels[part.permission("edit")] = f"Case file: change a {part.item}"
        labels[part.permission("remove")] = f"Case file: remove a {part.item}"
    labels[STATUS_PERMISSION] = "Case file: change the case status"
    labels[DECIDE_PERMISSION] = "Case file: decide a referral (accept, reject, withdrawn)"
    return labels


def drop_inapplicable(part: Part, values: dict) -> dict:
    """The values with every conditional field that does not apply set to None (so it is not stored)."""
    return {name: (None if name in part.applies_when and not part.applies_when[name](values) else value)
            for name, value in values.items()}
