"""Staff time that belongs to no single client: partner meetings, travel, training, general job development."""
from __future__ import annotations

from datetime import datetime

from mongoengine import Document, ReferenceField

from admin_app import formats
from admin_app.fields import DateField, DateTimeField, IntField, StringField
from admin_app.vocabulary import STAFF_TIME_KINDS

MINUTES_IN_A_DAY = 1440


class StaffTime(Document):
    """One stretch of a staff member's time, logged by them; reported in hours apart from client contact time."""

    # Row-level scope: a user without `caseload.all` sees and records only their own time.
    scope_field = "staff"

    staff = ReferenceField("User", required=True, verbose_name="Member of staff")
    date = DateField(required=True, verbose_name="Date")
    kind = StringField(required=True, choices=STAFF_TIME_KINDS, verbose_name="Kind of time")
    minutes = IntField(required=True, min_value=1, max_value=MINUTES_IN_A_DAY, verbose_name="Minutes",
                       help_text="1 to 1440")
    note = StringField(max_length=1000, verbose_name="Note", help_text="What it was for, without client names")
    created_at = DateTimeField(default=datetime.utcnow, verbose_name="Recorded")

    meta = {"collection": "staff_time", "ordering": ["-date"],
            "indexes": [("-date", "-_id"), ("staff", "-date"), ("date", "staff")]}

    def __str__(self) -> str:
        return f"{formats.field_value(type(self).kind, self.kind)} {formats.uk_date(self.date)}" if self.date else "staff time"
