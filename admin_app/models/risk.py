"""Risk and safety records: venues (shared), groups and rivalries, clients' affiliations, visits, and risk alerts."""
from __future__ import annotations

from datetime import datetime

from mongoengine import (
    CASCADE,
    NULLIFY,
    PULL,
    BooleanField,
    Document,
    EmbeddedDocument,
    EmbeddedDocumentField,
    ListField,
    ReferenceField,
)

from admin_app.crypto import EncryptedStringField
from admin_app.privacy.classes import CRIMINAL_OFFENCE
from admin_app import formats
from admin_app.fields import DateField, DateTimeField, IntField, StringField
from admin_app.risk.rules import ALERT_KINDS, FINDING_CODES
from admin_app.vocabulary import RISK_LEVELS

VENUE_KINDS = (
    ("community_centre", "Community centre"),
    ("cafe", "Café"),
    ("college", "College"),
    ("office", "Office"),
    ("employer", "Employer's premises"),
    ("public_space", "Public space"),
    ("other", "Other"),
)
AFFILIATION_CONFIDENCE = (
    ("confirmed", "Confirmed"),
    ("likely", "Likely"),
    ("possible", "Possible"),
)
AFFILIATION_SOURCES = (
    ("police", "Police intelligence"),
    ("probation", "Probation"),
    ("yos", "Youth Offending Service"),
    ("self", "Self-disclosed"),
    ("worker", "Worker's observation"),
    ("partner", "Other partner agency"),
)
VISIT_STATUSES = (
    ("planned", "Planned"),
    ("checked_in", "Checked in"),
    ("checked_out", "Checked out"),
    ("cancelled", "Cancelled"),
)


class VenueAssessment(EmbeddedDocument):
    date = DateField(required=True, verbose_name="Date")
    level = StringField(required=True, choices=RISK_LEVELS, verbose_name="Risk level")
    mitigations = StringField(max_length=4000, verbose_name="Mitigations")
    assessor = ReferenceField("User", verbose_name="Assessor")
    review_date = DateField(verbose_name="Review date")


class Venue(Document):
    """A place where staff meet clients, shared by every case file, with its own risk assessments."""

    name = StringField(required=True, unique=True, max_length=200, verbose_name="Name")
    area = StringField(max_length=80, verbose_name="Area", help_text="Neighbourhood, e.g. Lozells, Aston, Digbeth")
    postcode_district = StringField(max_length=5, verbose_name="Postcode district", help_text="e.g. B19")
    kind = StringField(required=True, choices=VENUE_KINDS, verbose_name="Kind")
    assessments = ListField(EmbeddedDocumentField(VenueAssessment), verbose_name="Risk assessments")
    meta = {"collection": "venues", "ordering": ["name"], "indexes": ["area", "postcode_district"]}

    def __str__(self) -> str:
        return self.name

    @property
    def latest_assessment(self) -> VenueAssessment | None:
        return max(self.assessments, key=lambda a: a.date) if self.assessments else None

    def clean(self):
        if self.postcode_district:
            self.postcode_district = self.postcode_district.strip().upper()


class Group(Document):
    """A gang or other affiliation: the areas it claims and the groups it is rival to (mutual)."""

    name = StringField(required=True, unique=True, max_length=120, verbose_name="Name")
    areas = ListField(StringField(max_length=80), verbose_name="Areas claimed",
                      help_text="Neighbourhoods or postcode districts (B19, Lozells)")
    rivals = ListField(ReferenceField("self", reverse_delete_rule=PULL), verbose_name="Rival groups")
    notes = EncryptedStringField(max_length=4000, verbose_name="Notes", help_text="Encrypted at rest")
    meta = {"collection": "groups", "ordering": ["name"], "indexes": ["rivals"]}

    def __str__(self) -> str:
        return self.name


class Affiliation(Document):
    """A client's affiliation to a group: criminal-offence data, shown only to roles holding its permissions."""

    client = ReferenceField("Client", required=True, reverse_delete_rule=CASCADE, verbose_name="Client")
    group = ReferenceField(Group, required=True, reverse_delete_rule=CASCADE, verbose_name="Group", data_class=CRIMINAL_OFFENCE)
    confidence = StringField(required=True, choices=AFFILIATION_CONFIDENCE, verbose_name="Confidence", data_class=CRIMINAL_OFFENCE)
    source = StringField(required=True, choices=AFFILIATION_SOURCES, verbose_name="Source", data_class=CRIMINAL_OFFENCE)
    source_detail = EncryptedStringField(max_length=4000, verbose_name="Source detail", help_text="Encrypted at rest", data_class=CRIMINAL_OFFENCE)
    date = DateField(required=True, verbose_name="Date recorded")
    ended_on = DateField(verbose_name="No longer affiliated from", help_text="Leave blank while current")
    recorded_by = StringField(max_length=255, staff_email=True, verbose_name="Recorded by")
    meta = {"collection": "affiliations", "ordering": ["-date"], "indexes": [("client", "-date"), "group", ("-date", "-_id")]}

    def __str__(self) -> str:
        return f"{self.group} ({formats.field_value(type(self).confidence, self.confidence).lower()})"


class Visit(Document):
    """A planned meeting: when, where, which staff and which clients; checked in and out for lone working.

    Times are London wall-clock times, as the worker types them.
    """

    # Row-level scope: a user without `caseload.all` sees only the visits they are on.
    scope_field = "workers"

    starts_at = DateTimeField(required=True, london=True, verbose_name="Starts")
    ends_at = DateTimeField(required=True, london=True, verbose_name="Ends")
    venue = ReferenceField(Venue, reverse_delete_rule=NULLIFY, verbose_name="Venue")
    workers = ListField(ReferenceField("User"), verbose_name="Staff")
    clients = ListField(ReferenceField("Client", reverse_delete_rule=PULL), verbose_name="Clients attending")
    purpose = StringField(max_length=300, verbose_name="Purpose")
    status = StringField(required=True, choices=VISIT_STATUSES, default="planned", verbose_name="Status")
    findings = ListField(StringField(max_length=500), verbose_name="Findings when booked")
    finding_codes = ListField(StringField(choices=tuple(FINDING_CODES.items())), verbose_name="Finding codes")
    override_reason = StringField(max_length=1000, verbose_name="Override reason")
    override_by = StringField(max_length=255, staff_email=True, verbose_name="Overridden by")
    override_at = DateTimeField(verbose_name="Overridden")
    checked_in_at = DateTimeField(verbose_name="Checked in")
    checked_in_by = StringField(max_length=255, staff_email=True, verbose_name="Checked in by")
    checked_out_at = DateTimeField(verbose_name="Checked out")
    checked_out_by = StringField(max_length=255, staff_email=True, verbose_name="Checked out by")
    overdue_alerted_at = DateTimeField(verbose_name="Missed check-out alerted")
    outcome_recorded_at = DateTimeField(verbose_name="Outcome recorded")
    outcome_recorded_by = StringField(max_length=255, staff_email=True, verbose_name="Outcome recorded by")
    created_by = StringField(max_length=255, staff_email=True, verbose_name="Booked by")
    meta = {"collection": "visits", "ordering": ["-starts_at"],
            "indexes": [("workers", "starts_at"), ("-starts_at", "-_id"), ("status", "ends_at"), "clients"]}

    def __str__(self) -> str:
        where = self.venue.name if self.venue else "no venue"
        return f"{self.starts_at:%d/%m/%Y %H:%M} at {where}"

    @property
    def minutes(self) -> int:
        return max(1, int((self.ends_at - self.starts_at).total_seconds() // 60))


class RiskAlert(Document):
    """New high-risk information on a case (or a missed check-out): on the home page until acknowledged, and
    emailed once. The email says only that there is new information on the case reference."""

    # Row-level scope: a worker sees the alerts on their own caseload; managers see every alert.
    scope_field = "worker"

    kind = StringField(required=True, choices=ALERT_KINDS, verbose_name="Kind")
    client = ReferenceField("Client", reverse_delete_rule=CASCADE, verbose_name="Client")
    reference = StringField(max_length=20, verbose_name="Case reference")
    worker = ReferenceField("User", verbose_name="Worker")
    visit = ReferenceField(Visit, reverse_delete_rule=CASCADE, verbose_name="Visit")
    #: One alert per event, however often the write, the sweep or a task repeats itself.
    event_key = StringField(required=True, unique=True, max_length=200)
    summary = StringField(max_length=300, verbose_name="What")
    raised_by = StringField(max_length=255, staff_email=True, verbose_name="Raised by")
    created_at = DateTimeField(default=datetime.utcnow, verbose_name="Raised")
    acknowledged_by = StringField(max_length=255, staff_email=True, verbose_name="Acknowledged by")
    acknowledged_at = DateTimeField(verbose_name="Acknowledged")
    email_claimed_at = DateTimeField()
    email_sent_at = DateTimeField(verbose_name="Emailed")
    email_message_id = StringField(max_length=255, verbose_name="Email")
    email_attempts = IntField(default=0, min_value=0, verbose_name="Email attempts")
    email_error = StringField(max_length=1000, verbose_name="Email error")
    emailed_to = IntField(min_value=0, verbose_name="Emailed to (people)")
    open = BooleanField(default=True, verbose_name="Open")
    meta = {"collection": "risk_alerts", "ordering": ["-created_at"],
            "indexes": [("-created_at", "-_id"), ("open", "-created_at"), ("worker", "open", "-created_at"),
                        ("email_sent_at", "created_at"),
                        # "I need to talk to someone now": is one already open for this client (client_space/service.py)
                        ("client", "kind", "open")]}

    def __str__(self) -> str:
        return f"{self.reference or 'visit'}: {self.summary or formats.field_value(type(self).kind, self.kind)}"
