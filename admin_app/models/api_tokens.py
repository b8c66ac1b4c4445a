"""Evaluator API tokens: issued, scoped and revoked by an administrator; only a hash of each secret is kept."""
from __future__ import annotations

from datetime import datetime

from mongoengine import DENY, Document, ListField, ReferenceField

from admin_app.fields import DateField, DateTimeField, StringField

#: What a token may read (docs/evaluator-api.md).
API_SCOPES = (
    ("cases:read", "Pseudonymised case records (referral, assessment, status)"),
    ("events:read", "Pseudonymised events (contacts, employer contacts, outcomes, status changes)"),
    ("figures:read", "The evaluator dashboard's figures for a period"),
)


class ApiToken(Document):
    user = ReferenceField("User", required=True, reverse_delete_rule=DENY, verbose_name="For user",
                          help_text="The evaluator who will use it; they must also hold the evaluator API permission")
    name = StringField(required=True, max_length=100, verbose_name="What it is for",
                       help_text="For example “R analysis scripts, 2026 evaluation”")
    scopes = ListField(StringField(max_length=30, choices=API_SCOPES), verbose_name="May read")
    expires_on = DateField(required=True, verbose_name="Expires on",
                           help_text="The last day the token works (at most a year ahead)")
    #: SHA-256 of the token's secret part; the token itself is shown once, when it is issued, and never stored.
    secret_hash = StringField(max_length=64, verbose_name="Secret (hash)")
    hint = StringField(max_length=12, verbose_name="Token ends with")
    created_by = StringField(max_length=255, verbose_name="Issued by")
    created_at = DateTimeField(default=datetime.utcnow, verbose_name="Issued (UTC)")
    revoked_at = DateTimeField(verbose_name="Revoked (UTC)")
    revoked_by = StringField(max_length=255, verbose_name="Revoked by")
    last_used_at = DateTimeField(verbose_name="Last used (UTC)")
    meta = {"collection": "api_tokens", "ordering": ["-created_at"], "indexes": ["user", ("-created_at", "-_id")]}

    def __str__(self) -> str:
        return f"{self.name} (…{self.hint})" if self.hint else self.name

    @property
    def audit_label(self) -> str:
        return str(self)
