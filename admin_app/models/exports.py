"""Export schedules, the runs they (or staff) start, and notices to managers when a run fails."""
from __future__ import annotations

from datetime import datetime

from mongoengine import (
    BooleanField,
    DictField,
    Document,
    ListField,
    ObjectIdField,
    ReferenceField,
    NULLIFY,
)

from admin_app import formats
from admin_app.fields import DateField, DateTimeField, EmailField, IntField, StringField

from admin_app.crypto import EncryptedStringField

PERIOD_RULES = (
    ("previous_quarter", "Previous quarter"),
    ("previous_month", "Previous month"),
    ("fy_to_date", "Financial year to date"),
)
DELIVERIES = (
    ("link", "Link to the file in the app (recipients sign in)"),
    ("attachment", "Workbook attached, password-protected; password in a separate email"),
)
RUN_STATUSES = (
    ("queued", "Queued"),
    ("building", "Building"),
    ("built", "Ready"),
    ("sending", "Sending"),
    ("sent", "Sent"),
    ("failed", "Failed"),
)


class ExportSchedule(Document):
    name = StringField(required=True, unique=True, max_length=120, verbose_name="Name")
    report = StringField(required=True, max_length=40, verbose_name="Report")
    period_rule = StringField(required=True, choices=PERIOD_RULES, default="previous_quarter", verbose_name="Period")
    cron = StringField(required=True, max_length=100, default="0 7 5 1,4,7,10 *", verbose_name="Timing (cron)",
                       help_text="minute hour day-of-month month day-of-week, UK time; "
                                 "“0 7 5 1,4,7,10 *” is 07:00 on the 5th of January, April, July and October")
    recipients = ListField(EmailField(), verbose_name="Recipients")
    delivery = StringField(required=True, choices=DELIVERIES, default="link", verbose_name="Delivery")
    scope = StringField(max_length=120, verbose_name="Scope",
                        help_text="Blank for every case file, or a saved or built-in filter")
    notes = StringField(verbose_name="Challenges and obstacles",
                        help_text="The OPCC return's challenges and obstacles sheet; keep it current before each send")
    active = BooleanField(default=True, verbose_name="Active")
    next_due_at = DateTimeField(verbose_name="Next due")
    last_dispatched_at = DateTimeField(verbose_name="Last dispatched")
    created_by = StringField(max_length=255, staff_email=True, verbose_name="Created by")
    meta = {"collection": "export_schedules", "indexes": [("active", "next_due_at")], "ordering": ["name"]}

    def __str__(self) -> str:
        return self.name


class ExportRun(Document):
    schedule = ReferenceField(ExportSchedule, reverse_delete_rule=NULLIFY, verbose_name="Schedule")
    schedule_name = StringField(max_length=120, verbose_name="Schedule name")
    report = StringField(required=True, max_length=40, verbose_name="Report")
    period_start = DateField(required=True, verbose_name="From")
    period_end = DateField(required=True, verbose_name="To")
    scope = StringField(max_length=200, verbose_name="Scope")
    # The MongoDB match on case files, as extended JSON (a match has "$" keys a document cannot hold).
    match_json = StringField(verbose_name="Case-file match")
    notes = StringField(verbose_name="Challenges and obstacles")
    # One run per schedule and period, however often the dispatcher or a worker repeats itself.
    dedupe_key = StringField(unique=True, sparse=True, max_length=200)
    started_by = StringField(required=True, max_length=255, staff_email=True, verbose_name="Started by")
    started_by_user = ObjectIdField()
    status = StringField(required=True, choices=RUN_STATUSES, default="queued", verbose_name="Status")
    queued_at = DateTimeField(default=datetime.utcnow, verbose_name="Queued")
    started_at = DateTimeField(verbose_name="Build started")
    built_at = DateTimeField(verbose_name="Built")
    sending_at = DateTimeField(verbose_name="Sending started")
    finished_at = DateTimeField(verbose_name="Finished")
    row_counts = DictField(verbose_name="Rows per sheet")
    file_id = ObjectIdField()
    filename = StringField(max_length=200, verbose_name="File")
    size = IntField(verbose_name="Bytes")
    checksum = StringField(max_length=64, verbose_name="SHA-256")
    file_removed_at = DateTimeField(verbose_name="File removed")
    delivery = StringField(choices=DELIVERIES, verbose_name="Delivery")
    recipients = ListField(EmailField(), verbose_name="Recipients")
    attachment_password = EncryptedStringField()
    workbook_mail_id = StringField(max_length=255, verbose_name="Report email")
    password_mail_id = StringField(max_length=255, verbose_name="Password email")
    mail_attempts = IntField(default=0, verbose_name="Send attempts")
    build_attempts = IntField(default=0, verbose_name="Build attempts")
    # The claim of the step now holding the run: every write of that step is conditional on it, so a
    # worker whose lease ran out (and whose run another worker resumed) changes nothing.
    claim = StringField(max_length=40)
    lease_until = DateTimeField(verbose_name="Held until")
    next_attempt_at = DateTimeField(verbose_name="Next send attempt")
    error = StringField(verbose_name="Error")
    meta = {"collection": "export_runs",
            "indexes": [("-queued_at", "-_id"), "status", "recipients", "started_by_user",
                        # the sweeper: expired leases, and sends that are due
                        ("status", "lease_until"), ("status", "next_attempt_at"),
                        # "Run now": is this schedule's period already on its way?
                        ("schedule", "status")],
            "ordering": ["-queued_at"]}

    def __str__(self) -> str:
        return (f"{formats.field_value(type(self).report, self.report)} {formats.uk_date(self.period_start)} to "
                f"{formats.uk_date(self.period_end)} ({formats.field_value(type(self).status, self.status).lower()})")


class Notice(Document):
    """A message to everyone holding a role, shown on their home page until dismissed."""

    role = StringField(required=True, max_length=40)
    #: Only this user (holding the role) sees it, e.g. a worker told of their client's message; empty: everyone.
    user = ObjectIdField()
    text = StringField(required=True, max_length=500)
    link = StringField(max_length=300)
    created_at = DateTimeField(default=datetime.utcnow)
    dismissed_by = ListField(StringField(max_length=255))
    meta = {"collection": "notices", "indexes": [("role", "-created_at")], "ordering": ["-created_at"]}


class AlertWindow(Document):
    """The quiet period of one alert's subject (an account, an address, a prober): while it lasts, the alert is
    not raised again. Claimed by one atomic write, so requests arriving together raise it once."""

    key = StringField(primary_key=True, max_length=80)
    until = DateTimeField(required=True)
    meta = {"collection": "alert_windows"}

