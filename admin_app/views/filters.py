"""Filters on nested case-file fields, which Flask-Admin cannot reach by name.

Declared on a screen like any other filter: NestedFilter("outcomes.kind", "Outcome kind", OUTCOME_KINDS).
Each applies a plain MongoDB match on the dotted path, which matches any element of a list.
"""
from __future__ import annotations

from bson import ObjectId
from bson.errors import InvalidId
from flask_admin.babel import lazy_gettext
from flask_admin.contrib.mongoengine.filters import BaseMongoEngineFilter


class NestedFilter(BaseMongoEngineFilter):
    """Equality on a dotted path such as `referral.cohort` or `contacts.mode`."""

    def __init__(self, path: str, name: str, options=None, data_type=None):
        super().__init__(path, name, options=options, data_type=data_type)
        self.path = path

    def clean(self, value):
        return value

    def apply(self, query, value):
        return query.filter(__raw__={self.path: self.clean(value)})

    def operation(self):
        return lazy_gettext("equals")


class NestedReferenceFilter(NestedFilter):
    """Equality on a reference (an ObjectId), e.g. the assigned worker."""

    def clean(self, value):
        try:
            return ObjectId(value)
        except (InvalidId, TypeError):
            return None

    def validate(self, value):
        return self.clean(value) is not None
