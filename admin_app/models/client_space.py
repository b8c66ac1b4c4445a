"""A client's account for the client space: which case file a client user is, and their invitation."""
from __future__ import annotations

from datetime import datetime

from mongoengine import CASCADE, Document, ReferenceField

from admin_app.fields import DateTimeField, StringField


class ClientAccount(Document):
    """Links a user holding the client role to their one case file. The row scope of the client space is this
    link: every read and write there is matched by `client`, never by an id the request names alone."""

    user = ReferenceField("User", required=True, unique=True, reverse_delete_rule=CASCADE, verbose_name="User")
    client = ReferenceField("Client", required=True, unique=True, reverse_delete_rule=CASCADE, verbose_name="Client")
    invited_by = StringField(max_length=255, verbose_name="Invited by")
    invited_at = DateTimeField(verbose_name="Invited (UTC)")
    invitation_expires_at = DateTimeField(verbose_name="Invitation expires (UTC)")
    accepted_at = DateTimeField(verbose_name="Invitation accepted (UTC)")
    #: The language the client chose in the client space (a locale code); empty: their preferred language.
    language = StringField(max_length=8, verbose_name="Language")
    created_at = DateTimeField(default=datetime.utcnow)
    meta = {"collection": "client_accounts"}

    def __str__(self) -> str:
        return f"client space account of {self.client.reference if self.client else '?'}"
