"""Users, roles (which hold permissions) and staff profiles."""
from __future__ import annotations

import uuid
from datetime import datetime

from flask_security import RoleMixin, UserMixin
from mongoengine import (
    BooleanField,
    Document,
    EmbeddedDocument,
    EmbeddedDocumentField,
    ListField,
    ReferenceField,
    PULL,
    CASCADE,
)

from admin_app.fields import DateField, DateTimeField, FloatField, IntField, StringField

from admin_app.vocabulary import LANGUAGES, ROLES, label

FULL_TIME_CASELOAD_CAP = 25


class Role(Document, RoleMixin):
    name = StringField(required=True, unique=True, max_length=80, verbose_name="Name")
    description = StringField(max_length=255, verbose_name="Description")
    permissions = ListField(StringField(max_length=120), verbose_name="Permissions",
                            help_text="Each permission allows one action on one screen.")
    #: The one-time changes to the default permissions this role has had (permissions.DEFAULT_CHANGES).
    default_changes = ListField(StringField(max_length=80), verbose_name="Default changes applied")
    meta = {"collection": "roles"}

    def __str__(self) -> str:
        return label(ROLES, self.name)


class User(Document, UserMixin):
    email = StringField(required=True, unique=True, max_length=255, verbose_name="Email")
    name = StringField(max_length=120, verbose_name="Name")
    password = StringField(max_length=255)
    active = BooleanField(default=True, verbose_name="Active",
                          help_text="Clear to deactivate a leaver: they are signed out everywhere and cannot sign in")
    must_change_password = BooleanField(default=False, verbose_name="Must change password",
                                        help_text="Set when an administrator sets the password")
    fs_uniquifier = StringField(required=True, unique=True, max_length=64, default=lambda: uuid.uuid4().hex)
    roles = ListField(ReferenceField(Role, reverse_delete_rule=PULL), default=list, verbose_name="Roles")
    confirmed_at = DateTimeField()
    last_login_at = DateTimeField()
    current_login_at = DateTimeField()
    last_login_ip = StringField(max_length=64)
    current_login_ip = StringField(max_length=64)
    login_count = IntField(default=0)
    tf_primary_method = StringField(max_length=64)
    tf_totp_secret = StringField(max_length=255)
    #: The time step of the last second-factor code accepted: each code works once (admin_app/security.py).
    tf_totp_last_counter = IntField(min_value=0)
    tf_phone_number = StringField(max_length=128)
    create_datetime = DateTimeField(default=datetime.utcnow)
    meta = {"collection": "users", "indexes": ["email"]}

    # Secrets are audited as "changed", never with values; sign-in bookkeeping is not audited as a change.
    audit_redacted = ("password", "tf_totp_secret", "fs_uniquifier")
    audit_ignored = ("last_login_at", "current_login_at", "last_login_ip", "current_login_ip", "login_count",
                     "tf_totp_last_counter")

    def __str__(self) -> str:
        return self.name or self.email

    @property
    def role_names(self) -> set[str]:
        return {role.name for role in self.roles}


class FteChange(EmbeddedDocument):
    """The FTE a member of staff worked from a date (until the next change): targets and caseload per FTE use
    the FTE of each day, so a change never alters a past period's figures."""

    start = DateField(required=True, verbose_name="From")
    fte = FloatField(required=True, min_value=0.1, max_value=1.0, verbose_name="FTE", help_text="0.1 to 1.0")


class StaffProfile(Document):
    """What the service needs to know about a member of staff beyond their sign-in."""

    user = ReferenceField(User, required=True, unique=True, reverse_delete_rule=CASCADE, verbose_name="User")
    fte = FloatField(required=True, default=1.0, min_value=0.1, max_value=1.0, verbose_name="FTE",
                     help_text="Full-time equivalent, 0.1 to 1.0")
    start_date = DateField(required=True, verbose_name="Start date")
    end_date = DateField(verbose_name="End date")
    lived_experience = BooleanField(default=False, verbose_name="Lived experience")
    languages = ListField(StringField(choices=LANGUAGES), verbose_name="Languages spoken")
    caseload_cap = IntField(min_value=0, max_value=100, verbose_name="Caseload cap",
                            help_text="Leave empty for the default: 25 pro rata by FTE")
    fte_history = ListField(EmbeddedDocumentField(FteChange), verbose_name="FTE history",
                            help_text="Each FTE from its date; a change of FTE above is added here from today")
    meta = {"collection": "staff_profiles"}

    def note_fte(self, before: float | None, today) -> None:
        """Keep the FTE history in step with the FTE: a profile's first FTE holds from its start date; a changed
        FTE holds from today (a manager can correct the date in the history)."""
        history = sorted(self.fte_history or [], key=lambda c: c.start)
        if not history:
            first = before if before is not None else self.fte
            history = [FteChange(start=self.start_date or today, fte=first)]
        current = [c for c in history if c.start <= today] or history[:1]
        if abs(current[-1].fte - (self.fte or 0)) > 1e-9:
            history = [c for c in history if c.start != today] + [FteChange(start=today, fte=self.fte)]
        self.fte_history = sorted(history, key=lambda c: c.start)

    @property
    def effective_cap(self) -> int:
        if self.caseload_cap is not None:
            return self.caseload_cap
        return default_caseload_cap(self.fte)

    def __str__(self) -> str:
        return str(self.user) if self.user else "staff profile"


def default_caseload_cap(fte: float | None) -> int:
    """25 active clients per full-time worker, pro rata by FTE, rounded down."""
    return int(FULL_TIME_CASELOAD_CAP * (fte if fte is not None else 1.0) + 1e-9)


def staff_names(emails) -> dict[str, str]:
    """The names of the staff with these addresses, in one query, remembered for the request: records keep
    who did something as an address (it survives a rename), screens show the person's name."""
    from flask import g, has_app_context

    known = g.setdefault("staff_names", {}) if has_app_context() else {}
    wanted = {e for e in emails if isinstance(e, str) and e and e not in known}
    if wanted:
        for user in User.objects(email__in=list(wanted)).only("email", "name"):
            known[user.email] = user.name or user.email
        known.update({email: email for email in wanted if email not in known})
    return {e: known.get(e, e) for e in emails if isinstance(e, str)}


def staff_name(email) -> str:
    """A member of staff by name, from the address a record keeps; the address if no one has it."""
    return staff_names([email]).get(email, "") if email else ""
