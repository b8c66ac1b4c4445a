"""The append-only audit log."""
from __future__ import annotations

from datetime import datetime

from mongoengine import DateTimeField, DictField, Document, ListField, StringField

AUDIT_ACTIONS = (
    ("login", "Signed in"),
    ("logout", "Signed out"),
    ("login_failed", "Failed sign-in"),
    ("create", "Created"),
    ("update", "Changed"),
    ("delete", "Deleted"),
    ("view", "Opened"),
    ("reassign", "Reassigned"),
    ("export", "Exported"),
    ("import", "Imported"),
    ("permissions", "Permissions changed"),
    ("refused", "Refused"),
    ("not_found", "Not found"),
    ("item_gone", "Saved onto a removed item"),
    ("locked", "Locked out"),
    ("alert", "Administrators alerted"),
    ("read_restricted", "Read restricted parts"),
    ("anonymise", "Anonymised"),
    ("subject_access", "Subject access produced"),
    ("retention", "Retention sweep"),
    ("break_glass", "Opened outside caseload (break-glass)"),
    ("api", "Evaluator API call"),
)


class AppendOnlyError(RuntimeError):
    pass


class AuditEvent(Document):
    at = DateTimeField(required=True, default=datetime.utcnow, verbose_name="When")
    actor = StringField(max_length=255, staff_email=True, verbose_name="Who")
    action = StringField(required=True, choices=AUDIT_ACTIONS, verbose_name="What")
    collection = StringField(max_length=80, verbose_name="Record type")
    record_id = StringField(max_length=80, verbose_name="Record")
    summary = StringField(max_length=500, verbose_name="Summary")
    changes = ListField(DictField(), verbose_name="Changes", help_text="Field, old value, new value; encrypted fields show no values")
    ip = StringField(max_length=64, verbose_name="From address")
    meta = {
        "collection": "audit_events",
        # The list pages by (at, _id) descending, newest first, alone or after one filter by equality
        # (docs/indexes.md); the audit of one record is found by its id.
        "indexes": [("-at", "-_id"), ("actor", "-at", "-_id"), ("action", "-at", "-_id"),
                    ("collection", "-at", "-_id"), ("record_id", "-at", "-_id"), ("ip", "-at", "-_id")],
        "ordering": ["-at"],
    }

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("audit events cannot be changed")
        return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit events cannot be deleted")
