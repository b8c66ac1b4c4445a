"""Saved filters: a list screen's filters, search and sort, stored as data, private or shared with roles."""
from __future__ import annotations

from datetime import datetime

from mongoengine import (
    CASCADE,
    BooleanField,
    Document,
    EmbeddedDocument,
    EmbeddedDocumentField,
    ListField,
    Q,
    ReferenceField,
)

from admin_app.fields import DateTimeField, StringField

from admin_app.vocabulary import ROLES


class FilterCondition(EmbeddedDocument):
    """One of the list's filters by its name in list URLs (e.g. `cohort_equals`), and its value."""

    arg = StringField(required=True, max_length=120, verbose_name="Filter")
    label = StringField(max_length=120, verbose_name="Label")
    operation = StringField(max_length=60, verbose_name="Operation")
    value = StringField(max_length=500, verbose_name="Value")


class SavedFilter(Document):
    name = StringField(required=True, max_length=120, verbose_name="Name")
    owner = ReferenceField("User", required=True, reverse_delete_rule=CASCADE, verbose_name="Owner")
    screen = StringField(required=True, max_length=60, verbose_name="Screen",
                         help_text="The list screen's endpoint, e.g. client")
    screen_name = StringField(max_length=120, verbose_name="List")
    conditions = ListField(EmbeddedDocumentField(FilterCondition), verbose_name="Filters")
    search = StringField(max_length=200, verbose_name="Search")
    sort = StringField(max_length=120, verbose_name="Sort column")
    desc = BooleanField(default=False, verbose_name="Descending")
    builtin = StringField(max_length=60, verbose_name="Built-in filter")
    shared_roles = ListField(StringField(choices=ROLES), verbose_name="Shared with roles",
                             help_text="None: private to the owner")
    created_at = DateTimeField(default=datetime.utcnow, verbose_name="Created")
    updated_at = DateTimeField(default=datetime.utcnow, verbose_name="Updated")

    meta = {
        "collection": "saved_filters",
        "ordering": ["name"],
        "indexes": [{"fields": ["owner", "screen", "name"], "unique": True}, "shared_roles", ("name", "_id")],
    }

    def __str__(self) -> str:
        return self.name

    def clean(self):
        self.name = (self.name or "").strip()
        self.updated_at = datetime.utcnow()

    @staticmethod
    def visible_filter(user) -> Q:
        """The filters `user` may see and run: their own, and those shared with one of their roles."""
        return Q(owner=user.pk) | Q(shared_roles__in=sorted(user.role_names))

    @classmethod
    def visible_to(cls, user):
        return cls.objects(cls.visible_filter(user))

    def as_data(self) -> dict:
        """The filter as plain data (see admin_app.saved_filters)."""
        return {"screen": self.screen,
                "conditions": [{"arg": c.arg, "label": c.label or "", "operation": c.operation or "", "value": c.value or ""}
                               for c in self.conditions],
                "search": self.search or "", "sort": self.sort or None, "desc": bool(self.desc),
                "builtin": self.builtin or None}

    def set_data(self, stored: dict) -> None:
        self.screen = stored["screen"]
        self.conditions = [FilterCondition(**c) for c in stored["conditions"]]
        self.search = stored.get("search") or None
        self.sort = stored.get("sort") or None
        self.desc = bool(stored.get("desc"))
        self.builtin = stored.get("builtin") or None
