"""The case file: one Client document per person, holding everything as embedded documents."""
from __future__ import annotations

from datetime import datetime

from bson import ObjectId
from mongoengine import (
    BooleanField,
    Document,
    EmbeddedDocument,
    EmbeddedDocumentField,
    ListField,
    ObjectIdField,
    ReferenceField,
    ValidationError,
)

from admin_app.fields import DateField, DateTimeField, DecimalField, IntField, StringField

from admin_app.crypto import EncryptedStringField
from admin_app.search import client_search_keys
from admin_app.privacy.classes import CONTACT, CRIMINAL_OFFENCE, IDENTITY, SAFEGUARDING, SPECIAL_CATEGORY
from admin_app.models.grants import (
    BidTransition,
    GrantAttachment,
    MAX_GRANT_PENCE,
    GrantPayment,
    PanelRecommendation,
    new_bid_id,
    pounds,
    to_pence,
)
from admin_app.vocabulary import (
    CASE_STATUSES,
    COHORTS,
    CONTACT_MODES,
    CONTACT_PLACES,
    DISCLOSURE_BASES,
    EMPLOYER_CONTACT_PURPOSES,
    EMPLOYMENT_STATUS_AT_REFERRAL,
    GOALS,
    GRANT_BID_STATUSES,
    LANGUAGES,
    MESSAGE_SENDERS,
    OPPORTUNITY_KINDS,
    OUTCOME_KINDS,
    PLAN_GOAL_STATUSES,
    READINESS,
    REFERRAL_DECISIONS,
    REFERRAL_SOURCES,
    REJECTION_REASONS,
    RISK_ASSESSMENT_KINDS,
    RISK_LEVELS,
)

MINUTES_IN_A_DAY = 1440


class CaseItem(EmbeddedDocument):
    """One item of a list in the case file, with its own stable id: task forms change or remove an
    item by this id, never by its position, so concurrent work on the same list cannot collide."""

    id = ObjectIdField(default=ObjectId, db_field="_id", verbose_name="Item id")
    meta = {"abstract": True}

    @classmethod
    def _from_son(cls, son, *args, **kwargs):
        item = super()._from_son(son, *args, **kwargs)
        if "_id" not in son:
            # Stored before items had ids: say so rather than invent one that changes on every read.
            item._data["id"] = None
        return item


class Referral(EmbeddedDocument):
    date = DateField(required=True, verbose_name="Referral date", help_text="The date the referral was received")
    organisation = ReferenceField("Organisation", verbose_name="Referring organisation")
    source = StringField(required=True, choices=REFERRAL_SOURCES, verbose_name="Referral source")
    cohort = StringField(required=True, choices=COHORTS, verbose_name="Cohort")
    decision = StringField(choices=REFERRAL_DECISIONS, default="pending", verbose_name="Decision")
    decision_date = DateField(verbose_name="Decision date")
    rejection_reason = StringField(choices=REJECTION_REASONS, verbose_name="Rejection reason")
    rationale = EncryptedStringField(verbose_name="Rationale", help_text="Required when the referral is rejected",
                                     data_class=CRIMINAL_OFFENCE)
    decided_by = StringField(max_length=255, staff_email=True, verbose_name="Decided by")


class Consent(EmbeddedDocument):
    recorded = BooleanField(default=False, verbose_name="Consent recorded")
    date = DateField(verbose_name="Consent date")
    isa_version = StringField(max_length=40, verbose_name="Information Sharing Agreement version",
                              help_text="Version of the Multi-Agency Information Sharing Agreement signed")
    preferred_language = StringField(choices=LANGUAGES, default="English", verbose_name="Preferred language")
    interpreter_needed = BooleanField(default=False, verbose_name="Interpreter needed")


class Assessment(EmbeddedDocument):
    date = DateField(verbose_name="Initial assessment date", help_text="Start of the vocational profile")
    readiness = StringField(choices=READINESS, verbose_name="Readiness to engage")
    goal = StringField(choices=GOALS, verbose_name="Goal")
    employment_status = StringField(choices=EMPLOYMENT_STATUS_AT_REFERRAL, verbose_name="Employment status at referral")
    agreed_to_take_part = BooleanField(default=False, verbose_name="Agreed to take part")
    previous_support = BooleanField(default=False, verbose_name="Similar support received before")
    previous_support_from = StringField(max_length=200, verbose_name="Previous support from")
    conviction_details = EncryptedStringField(verbose_name="Conviction details", help_text="Encrypted at rest",
                                              data_class=CRIMINAL_OFFENCE)


class VocationalProfile(EmbeddedDocument):
    work_history = StringField(verbose_name="Work history")
    skills = StringField(verbose_name="Skills")
    interests = StringField(verbose_name="Interests and preferences")
    barriers = EncryptedStringField(verbose_name="Barriers", data_class=SPECIAL_CATEGORY)


class StepUpdate(CaseItem):
    """What the client said about one step of a plan goal, in the client space: done (or not after all), or a note.

    A step is one line of the goal's steps, named by its text: a line the worker rewrites is a new step."""

    at = DateTimeField(required=True, verbose_name="When (UTC)")
    step = StringField(max_length=300, verbose_name="Step")
    done = BooleanField(verbose_name="Done")
    note = EncryptedStringField(max_length=1000, verbose_name="Client's note")


class PlanGoal(CaseItem):
    goal = StringField(required=True, max_length=300, verbose_name="Goal")
    steps = StringField(verbose_name="Steps", help_text="One step a line: the client sees each line as a step")
    due_date = DateField(verbose_name="Due date")
    status = StringField(choices=PLAN_GOAL_STATUSES, default="open", verbose_name="Status")
    #: Written only by the client space (admin_app/client_space/), never by the task form.
    client_updates = ListField(EmbeddedDocumentField(StepUpdate), verbose_name="Client's updates")

    @property
    def step_lines(self) -> list[str]:
        return [line.strip(" -*\t") for line in (self.steps or "").splitlines() if line.strip(" -*\t")]


def _time_of_day(value):
    """A contact's start time: HH:MM on the 24-hour clock."""
    hours, sep, minutes = (value or "").partition(":")
    if not (sep and len(hours) == 2 and len(minutes) == 2 and hours.isdigit() and minutes.isdigit()
            and int(hours) < 24 and int(minutes) < 60):
        raise ValidationError("Give the start time as hours and minutes on the 24-hour clock, such as 09:30 or 17:45.")


class Contact(CaseItem):
    date = DateField(required=True, verbose_name="Date")
    minutes = IntField(required=True, min_value=1, max_value=MINUTES_IN_A_DAY, verbose_name="Minutes", help_text="1 to 1440")
    mode = StringField(required=True, choices=CONTACT_MODES, verbose_name="Mode")
    place = StringField(choices=CONTACT_PLACES, verbose_name="Place")
    start_time = StringField(max_length=5, validation=_time_of_day, verbose_name="Start time",
                             help_text="24-hour clock, such as 17:30; out of hours is worked out from it")
    out_of_hours = BooleanField(default=False, verbose_name="Out of hours",
                                help_text="Outside Monday to Friday 09:00 to 17:00 or on a bank holiday; "
                                          "tick it only for a contact recorded without a start time")
    staff = ReferenceField("User", verbose_name="Who")
    note = EncryptedStringField(verbose_name="Note")


def _web_address(value):
    """Only a plain web address: the client's page makes it a link, so nothing like javascript: gets through."""
    if value and not (value.startswith(("https://", "http://")) and " " not in value.strip()):
        raise ValidationError("Give a web address that starts with https://, such as https://example.org/jobs/123.")


class Message(CaseItem):
    """One message between the client (in the client space) and their worker; each is also a "message" contact."""

    sent_at = DateTimeField(required=True, verbose_name="Sent (UTC)")
    sender = StringField(required=True, choices=MESSAGE_SENDERS, verbose_name="From")
    staff = ReferenceField("User", verbose_name="Worker")
    text = EncryptedStringField(required=True, max_length=2000, verbose_name="Message")
    #: The client space's language when the client wrote it; for a reply, the language the client reads in.
    language = StringField(max_length=8, verbose_name="Language")
    #: The contact this message counts as (contacts list), for its time.
    contact_id = ObjectIdField(verbose_name="Contact")


class SharedOpportunity(CaseItem):
    """A job or training opportunity the worker shared with the client; the client sees it in the client space."""

    date = DateField(required=True, verbose_name="Shared on")
    kind = StringField(required=True, choices=OPPORTUNITY_KINDS, verbose_name="Kind")
    title = StringField(required=True, max_length=200, verbose_name="Title", help_text="What the client sees first")
    organisation = StringField(max_length=200, verbose_name="Employer or provider")
    link = StringField(max_length=500, validation=_web_address, verbose_name="Link", help_text="A web address starting https://")
    closing_date = DateField(verbose_name="Closing date")
    note = StringField(max_length=1000, verbose_name="Note for the client",
                       help_text="The client reads this: plain words, nothing from the rest of the case file")


class EmployerContact(CaseItem):
    date = DateField(required=True, verbose_name="Date")
    employer = ReferenceField("Employer", verbose_name="Employer")
    face_to_face = BooleanField(default=True, verbose_name="Face-to-face")
    purpose = StringField(choices=EMPLOYER_CONTACT_PURPOSES, default="job_development", verbose_name="Purpose")
    with_client = BooleanField(default=False, verbose_name="With the client")
    staff = ReferenceField("User", verbose_name="Worker")
    note = StringField(verbose_name="Note")


class BenefitsSession(CaseItem):
    date = DateField(required=True, verbose_name="Date")
    minutes = IntField(min_value=1, max_value=MINUTES_IN_A_DAY, verbose_name="Minutes", help_text="1 to 1440")
    topic = StringField(max_length=200, verbose_name="Topic")
    note = StringField(verbose_name="Note")


class RiskAssessment(CaseItem):
    date = DateField(required=True, verbose_name="Date")
    kind = StringField(required=True, choices=RISK_ASSESSMENT_KINDS, verbose_name="Assessment of")
    level = StringField(required=True, choices=RISK_LEVELS, verbose_name="Risk level")
    mitigations = EncryptedStringField(verbose_name="Mitigations", data_class=SAFEGUARDING)
    review_date = DateField(verbose_name="Review date")
    assessor = ReferenceField("User", verbose_name="Assessor")


class RiskNote(CaseItem):
    date = DateField(required=True, verbose_name="Date")
    level = StringField(choices=RISK_LEVELS, verbose_name="Risk level")
    text = EncryptedStringField(required=True, verbose_name="Risk note", help_text="Encrypted at rest",
                                data_class=SAFEGUARDING)
    author = ReferenceField("User", verbose_name="Author")


class SafeguardingConcern(CaseItem):
    date = DateField(required=True, verbose_name="Date")
    concern = EncryptedStringField(required=True, verbose_name="Concern", help_text="Encrypted at rest",
                                   data_class=SAFEGUARDING)
    referred_to = StringField(max_length=200, verbose_name="Referred to", data_class=SAFEGUARDING)
    action = EncryptedStringField(verbose_name="Action taken", data_class=SAFEGUARDING)


class Disclosure(CaseItem):
    """A disclosure to police: only for a serious, credible and imminent threat."""

    date = DateField(required=True, verbose_name="Date")
    basis = StringField(choices=DISCLOSURE_BASES, verbose_name="Basis")
    decided_by = StringField(max_length=120, verbose_name="Decided by")
    authorised_by = StringField(max_length=120, verbose_name="Authorised by")
    shared_with = StringField(max_length=200, verbose_name="Shared with")
    what_shared = EncryptedStringField(verbose_name="What was shared", help_text="Encrypted at rest",
                                       data_class=CRIMINAL_OFFENCE)
    written_report_date = DateField(verbose_name="Written report date",
                                    help_text="A reminder shows until the follow-up written report is recorded")


class OnwardReferral(CaseItem):
    date = DateField(required=True, verbose_name="Date")
    organisation = ReferenceField("Organisation", verbose_name="Partner organisation")
    purpose = StringField(max_length=300, verbose_name="Purpose")
    outcome = StringField(max_length=300, verbose_name="Outcome")


class Outcome(CaseItem):
    kind = StringField(required=True, choices=OUTCOME_KINDS, verbose_name="Outcome")
    start_date = DateField(required=True, verbose_name="Start date")
    end_date = DateField(verbose_name="End date")
    employer = ReferenceField("Employer", verbose_name="Employer")
    job_type = StringField(max_length=120, verbose_name="Job type")
    hours_per_week = DecimalField(min_value=0, max_value=100, precision=1, verbose_name="Hours a week")
    competitive = BooleanField(default=True, verbose_name="Competitive",
                               help_text="Open to anyone, at least minimum wage, not set aside")
    reason_for_leaving = StringField(max_length=300, verbose_name="Reason for leaving")


class GrantBid(EmbeddedDocument):
    """A bid to the business start-up grant pot; it moves only through admin_app.grants (docs/grants.md)."""

    bid_id = StringField(required=True, default=new_bid_id, max_length=24, verbose_name="Bid number")
    amount_asked_pence = IntField(min_value=0, max_value=MAX_GRANT_PENCE, verbose_name="Amount asked (pence)")
    purpose = StringField(max_length=300, verbose_name="Purpose")
    plan_summary = StringField(verbose_name="Business plan summary")
    attachment = EmbeddedDocumentField(GrantAttachment, verbose_name="Business plan file")
    supporting_worker = ReferenceField("User", verbose_name="Supporting worker")
    submitted_date = DateField(verbose_name="Submitted date")
    pot = StringField(max_length=40, verbose_name="Grant pot", help_text="Fixed at submission: the pot whose period holds that date")
    status = StringField(choices=GRANT_BID_STATUSES, default="draft", verbose_name="Status")
    recommendation = EmbeddedDocumentField(PanelRecommendation, verbose_name="Panel recommendation")
    amount_awarded_pence = IntField(min_value=0, max_value=MAX_GRANT_PENCE, verbose_name="Amount awarded (pence)")
    conditions = StringField(verbose_name="Conditions of the award")
    decided_date = DateField(verbose_name="Decision date")
    rejection_reason = StringField(verbose_name="Reason for rejection")
    paid_pence = IntField(min_value=0, max_value=MAX_GRANT_PENCE, default=0, verbose_name="Paid so far (pence)")
    payments = ListField(EmbeddedDocumentField(GrantPayment), verbose_name="Payments")
    transitions = ListField(EmbeddedDocumentField(BidTransition), verbose_name="History")

    def __init__(self, *args, amount_asked=None, amount_awarded=None, **values):
        # Amounts may also be given in pounds.
        super().__init__(*args, **values)
        if amount_asked is not None:
            self.amount_asked_pence = to_pence(amount_asked)
        if amount_awarded is not None:
            self.amount_awarded_pence = to_pence(amount_awarded)

    amount_asked = property(lambda self: pounds(self.amount_asked_pence))
    amount_awarded = property(lambda self: pounds(self.amount_awarded_pence))
    amount_paid = property(lambda self: pounds(self.paid_pence))


class StatusChange(CaseItem):
    date = DateField(required=True, verbose_name="Date")
    status = StringField(required=True, choices=CASE_STATUSES, verbose_name="Status")
    reason = StringField(max_length=300, verbose_name="Reason")
    by = StringField(max_length=255, staff_email=True, verbose_name="By")
    correction = BooleanField(verbose_name="Correction", help_text="This entry corrects an earlier one")


class ProgressUpdate(CaseItem):
    """The worker's own account of a case for the quarterly return: progress, challenges, needs."""

    date = DateField(required=True, verbose_name="Date")
    progress = StringField(required=True, max_length=4000, verbose_name="Progress since the last update",
                           help_text="Objectives achieved and steps taken, in your own words")
    challenges = StringField(max_length=4000, verbose_name="Challenges")
    needs = StringField(max_length=4000, verbose_name="Needs and recommendations")
    author = ReferenceField("User", verbose_name="Author")


class Assignment(CaseItem):
    """Who held the case from a date: written by assignment and reassignment, never edited. The holding runs
    until the day before the next entry's date; figures credit each day to whoever held the case on it."""

    worker = ReferenceField("User", verbose_name="Worker", help_text="Empty: unassigned from this date")
    start = DateField(required=True, verbose_name="From")
    by = StringField(max_length=255, staff_email=True, verbose_name="Assigned by")
    reason = StringField(max_length=300, verbose_name="Reason")


class Client(Document):
    """A client's whole case file."""

    # Row-level scope: a user without `caseload.all` sees only documents where this field is them.
    scope_field = "worker"

    reference = StringField(required=True, unique=True, max_length=20, verbose_name="Reference")
    first_name = StringField(required=True, max_length=80, verbose_name="First name", data_class=IDENTITY)
    last_name = StringField(required=True, max_length=80, verbose_name="Last name", data_class=IDENTITY)
    date_of_birth = DateField(required=True, verbose_name="Date of birth", data_class=IDENTITY)
    postcode = StringField(max_length=10, verbose_name="Postcode", data_class=IDENTITY)
    phone = StringField(max_length=40, verbose_name="Phone", data_class=CONTACT)
    worker = ReferenceField("User", verbose_name="Worker")
    caseload_override_reason = StringField(max_length=300, verbose_name="Caseload cap override reason",
                                           help_text="A manager may assign beyond the worker's cap, with a reason")
    status = StringField(required=True, choices=CASE_STATUSES, default="referred", verbose_name="Status")
    referral = EmbeddedDocumentField(Referral, required=True, verbose_name="Referral")
    consent = EmbeddedDocumentField(Consent, default=Consent, verbose_name="Consent and information sharing")
    assessment = EmbeddedDocumentField(Assessment, default=Assessment, verbose_name="Initial assessment")
    vocational_profile = EmbeddedDocumentField(VocationalProfile, default=VocationalProfile, verbose_name="Vocational profile")
    plan_goals = ListField(EmbeddedDocumentField(PlanGoal), verbose_name="Vocational Action Plan")
    contacts = ListField(EmbeddedDocumentField(Contact), verbose_name="Contacts")
    employer_contacts = ListField(EmbeddedDocumentField(EmployerContact), verbose_name="Employer contacts")
    benefits_sessions = ListField(EmbeddedDocumentField(BenefitsSession), verbose_name="Benefits counselling")
    risk_assessments = ListField(EmbeddedDocumentField(RiskAssessment), verbose_name="Risk assessments")
    risk_notes = ListField(EmbeddedDocumentField(RiskNote), verbose_name="Risk notes")
    safeguarding_concerns = ListField(EmbeddedDocumentField(SafeguardingConcern), verbose_name="Safeguarding concerns")
    disclosures = ListField(EmbeddedDocumentField(Disclosure), verbose_name="Disclosures to police")
    onward_referrals = ListField(EmbeddedDocumentField(OnwardReferral), verbose_name="Onward referrals")
    outcomes = ListField(EmbeddedDocumentField(Outcome), verbose_name="Outcomes")
    grant_bids = ListField(EmbeddedDocumentField(GrantBid), verbose_name="Grant bids")
    status_history = ListField(EmbeddedDocumentField(StatusChange), verbose_name="Status history")
    progress_updates = ListField(EmbeddedDocumentField(ProgressUpdate), verbose_name="Quarterly updates")
    # The client space (admin_app/client_space/, docs/client-space.md).
    messages = ListField(EmbeddedDocumentField(Message), verbose_name="Messages with the client")
    shared_opportunities = ListField(EmbeddedDocumentField(SharedOpportunity), verbose_name="Opportunities shared")
    # Data protection (admin_app/privacy/): a legal hold stops retention; an anonymised file keeps coded data only.
    legal_hold = StringField(max_length=300, verbose_name="Legal hold",
                             help_text="Why no retention rule may anonymise this case file while the hold stands")
    anonymised_on = DateField(verbose_name="Anonymised on")
    assignments = ListField(EmbeddedDocumentField(Assignment), verbose_name="Assignment history")
    # Raised by every save of the whole-file form: a save based on an older version is refused.
    version = IntField(default=0, min_value=0, verbose_name="Version")
    created_at = DateTimeField(default=datetime.utcnow, verbose_name="Created")
    updated_at = DateTimeField(default=datetime.utcnow, verbose_name="Updated")
    # Reference and names folded for anchored prefix search (admin_app/search.py); set on every save.
    search_keys = ListField(StringField(max_length=100))

    # Every list sort, search and built-in filter starts from one of these (docs/indexes.md;
    # tests/test_indexes.py checks the screens against them).
    meta = {
        "collection": "clients",
        "ordering": ["reference"],
        "indexes": [
            # the unique index on reference serves the default sort
            ("worker", "reference"),
            ("last_name", "_id"),
            ("status", "_id"),
            "search_keys",
            "assignments.worker",
            ("referral.decision", "status"),
            "referral.date",
            "referral.source",
            "referral.cohort",
            "assessment.date",
            "outcomes.kind",
            "contacts.mode",
            "contacts.date",
            "risk_assessments.level",
            "risk_notes.level",
            "safeguarding_concerns.date",
            ("risk_assessments.kind", "risk_assessments.review_date"),
            "disclosures.written_report_date",
            "grant_bids.bid_id",
            "grant_bids.status",
            "grant_bids.submitted_date",
            "grant_bids.payments.paid_on",
            "grant_bids.transitions.on",
        ],
    }

    def __str__(self) -> str:
        return f"{self.reference} {self.first_name} {self.last_name}"

    @property
    def audit_label(self) -> str:
        """The audit log names a case file by its reference only, never by the person's name."""
        return self.reference

    def clean(self):
        self.updated_at = datetime.utcnow()
        self.search_keys = client_search_keys(self.reference, self.first_name, self.last_name)
