"""Addresses outside the service's users that an administrator allows to receive one report."""
from __future__ import annotations

from datetime import datetime

from mongoengine import Document

from admin_app import formats
from admin_app.fields import DateTimeField, EmailField, StringField


class AllowedRecipient(Document):
    report = StringField(required=True, max_length=40, verbose_name="Report")
    email = EmailField(required=True, verbose_name="Email address")
    reason = StringField(required=True, max_length=300, verbose_name="Why this address may receive it",
                         help_text="For example the data sharing agreement that covers it")
    added_by = StringField(max_length=255, staff_email=True, verbose_name="Added by")
    added_at = DateTimeField(default=datetime.utcnow, verbose_name="Added")
    meta = {"collection": "allowed_recipients", "ordering": ["report", "email"],
            "indexes": [{"fields": ["report", "email"], "unique": True}]}

    def __str__(self) -> str:
        return f"{self.email} for {formats.field_value(type(self).report, self.report)}"

    def clean(self):
        self.email = (self.email or "").strip().lower()
