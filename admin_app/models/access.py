"""Break-glass openings: a user outside a case file's scope opens it for a while, having given a reason."""
from __future__ import annotations

from datetime import datetime

from mongoengine import Document, ObjectIdField

from admin_app.fields import DateTimeField, StringField


class BreakGlassAccess(Document):
    user = ObjectIdField(required=True)
    email = StringField(required=True, max_length=255, verbose_name="Who")
    client = ObjectIdField(required=True)
    reference = StringField(required=True, max_length=20, verbose_name="Case file")
    reason = StringField(required=True, max_length=1000, verbose_name="Reason")
    opened_at = DateTimeField(default=datetime.utcnow, verbose_name="Opened")
    expires_at = DateTimeField(required=True, verbose_name="Until")
    meta = {"collection": "break_glass", "indexes": [("user", "client", "-expires_at")]}
