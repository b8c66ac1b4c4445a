"""How values are shown to a person: UK dates, UK times to the minute, choice labels, people by name.

One layer for every screen, export heading and email: the base view's type formatters, the Jinja
filters (`uk_date`, `uk_datetime`, `choice`, `person`) and the audit log all read it.
Stored times are UTC (``datetime.utcnow``) unless their field says ``london=True`` (a wall-clock time
a worker typed, such as a visit's start); both are shown in London time.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
BLANK = "—"


def uk_date(value) -> str:
    """dd/mm/yyyy; a date-time is first moved to London time; an ISO date written as text is read first."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        value = london_time(value)
    return value.strftime("%d/%m/%Y") if isinstance(value, date) else str(value)


def london_time(value: datetime, *, wall_clock: bool = False) -> datetime:
    """A stored UTC time (naive or aware) as London wall-clock time; a wall-clock time as it is."""
    if wall_clock and value.tzinfo is None:
        return value
    aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return aware.astimezone(LONDON).replace(tzinfo=None)


def uk_datetime(value, *, wall_clock: bool = False) -> str:
    """dd/mm/yyyy HH:MM in London time, to the minute."""
    if value is None or value == "":
        return ""
    if not isinstance(value, datetime):
        return uk_date(value)
    return london_time(value, wall_clock=wall_clock).strftime("%d/%m/%Y %H:%M")


def yes_no(value) -> str:
    return "Yes" if value else "No"


def choice(choices, value) -> str:
    """The label of a value in a choice list (pairs, or plain values), or the value itself."""
    if value is None or value == "":
        return ""
    labels = dict(c if isinstance(c, (tuple, list)) else (c, c) for c in choices or ())
    return str(labels.get(value, value))


def person(user) -> str:
    """A member of staff by name; their address only when no name is recorded."""
    if user is None:
        return ""
    name = getattr(user, "name", None)
    return str(name or getattr(user, "email", "") or "")


def field_value(field, value) -> str:
    """A stored value of a mongoengine field as a person reads it."""
    from bson import DBRef, ObjectId
    from mongoengine import DateField, DateTimeField, Document, ListField

    if value is None or value == "":
        return ""
    if isinstance(field, ListField) and isinstance(value, (list, tuple)):
        return ", ".join(field_value(field.field, item) for item in value)
    if getattr(field, "choices", None):
        return choice(field.choices, value)
    if callable(getattr(field, "value_labels", None)):
        return choice(field.value_labels(), value)  # choices known only above the models (the reports)
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(field, DateTimeField) or isinstance(value, datetime):
        return uk_datetime(value, wall_clock=bool(getattr(field, "london", False)))
    if isinstance(field, DateField) or isinstance(value, date):
        return uk_date(value)
    if isinstance(value, Document):
        return person(value) if "email" in value._fields else str(value)
    if isinstance(value, (DBRef, ObjectId)):
        return "(a record since removed)"  # a reference whose record has gone: never its id
    return str(value)


#: The sign-in pages' own field labels (Flask-Security's), in the words the rest of the service uses.
ACCOUNT_WORDS = {
    "Email Address": "Email address",
    "New Password": "New password",
    "Retype Password": "New password again",
    "Authentication Code": "Code from your app",
}


def account_words(text):
    """A Flask-Security field label in the service's words (unchanged when it has none)."""
    return ACCOUNT_WORDS.get(str(text), text)
