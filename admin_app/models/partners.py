"""Organisations (referral and signposting partners) and employers, shared by many case files."""
from __future__ import annotations

from datetime import datetime

from mongoengine import (
    BooleanField,
    Document,
    EmbeddedDocument,
    EmbeddedDocumentField,
    ListField,
    ReferenceField,
)

from admin_app.fields import DateField, DateTimeField, EmailField, StringField

from admin_app.vocabulary import EMPLOYER_CONTACT_PURPOSES, ORGANISATION_KINDS, REFERRAL_SOURCES


class Organisation(Document):
    name = StringField(required=True, unique=True, max_length=200, verbose_name="Name")
    kind = StringField(required=True, choices=ORGANISATION_KINDS, default="referral_partner", verbose_name="Partner kind")
    org_type = StringField(choices=REFERRAL_SOURCES, verbose_name="Organisation type")
    contact_name = StringField(max_length=120, verbose_name="Contact name")
    email = EmailField(verbose_name="Email")
    phone = StringField(max_length=40, verbose_name="Phone")
    services = StringField(verbose_name="Services offered", help_text="What clients can be signposted here for")
    active = BooleanField(default=True, verbose_name="Active")
    meta = {"collection": "organisations", "ordering": ["name"]}

    def __str__(self) -> str:
        return self.name


class GeneralEmployerContact(EmbeddedDocument):
    """Job development for the whole caseload, not for one client; counts for the worker's fidelity."""

    date = DateField(required=True, verbose_name="Date")
    staff = ReferenceField("User", verbose_name="Worker")
    face_to_face = BooleanField(default=True, verbose_name="Face-to-face")
    purpose = StringField(choices=EMPLOYER_CONTACT_PURPOSES, default="job_development", verbose_name="Purpose")
    note = StringField(verbose_name="Note")


class Employer(Document):
    name = StringField(required=True, max_length=200, verbose_name="Name")
    sector = StringField(max_length=120, verbose_name="Sector")
    contact_name = StringField(max_length=120, verbose_name="Contact name")
    email = EmailField(verbose_name="Email")
    phone = StringField(max_length=40, verbose_name="Phone")
    postcode = StringField(max_length=10, verbose_name="Postcode")
    notes = StringField(verbose_name="Notes")
    employer_contacts = ListField(EmbeddedDocumentField(GeneralEmployerContact), verbose_name="General employer contacts")
    created_at = DateTimeField(default=datetime.utcnow)
    meta = {"collection": "employers", "ordering": ["name"], "indexes": [("name", "_id"), "employer_contacts.staff"]}

    def __str__(self) -> str:
        return self.name
