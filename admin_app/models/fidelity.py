"""IPS fidelity reviews (the 25-item score for a period) and the data-scored items' anchors, kept as data."""
from __future__ import annotations

from datetime import datetime

from mongoengine import (
    BooleanField,
    Document,
    EmbeddedDocument,
    EmbeddedDocumentField,
    ListField,
)

from admin_app import formats
from admin_app.fields import DateField, DateTimeField, FloatField, IntField, StringField

from admin_app.vocabulary import CONTACT_MODES

ANCHOR_DIRECTIONS = (("lower", "Lower is better"), ("higher", "Higher is better"))


class ItemScore(EmbeddedDocument):
    """The manager's score for one item, with their note; for a data-scored item it corrects the data's score."""

    item = StringField(required=True, max_length=60, verbose_name="Item")
    score = IntField(min_value=1, max_value=5, verbose_name="Score (1–5)")
    note = StringField(max_length=2000, verbose_name="Note")


class DataItemSnapshot(EmbeddedDocument):
    """A data-scored item as the figures gave it when the review was saved, with the anchor it was scored against."""

    item = StringField(required=True, max_length=60, verbose_name="Item")
    value = FloatField(verbose_name="Value")
    score = IntField(min_value=1, max_value=5, verbose_name="Score from the data")
    unit = StringField(max_length=200, verbose_name="Measure")
    better = StringField(choices=ANCHOR_DIRECTIONS, verbose_name="Direction")
    thresholds = ListField(FloatField(), verbose_name="Limits for 5, 4, 3 and 2")


class FidelityReview(Document):
    """A manager's IPS fidelity review: their scores, the data's scores as saved, the total and band."""

    review_date = DateField(required=True, verbose_name="Review date")
    period_start = DateField(required=True, verbose_name="Period from")
    period_end = DateField(required=True, verbose_name="Period to")
    judged_on = DateField(verbose_name="Data judged as of")
    figures_computed_at = DateTimeField(verbose_name="Figures computed at")
    manager_scores = ListField(EmbeddedDocumentField(ItemScore), verbose_name="Manager's scores")
    data_scores = ListField(EmbeddedDocumentField(DataItemSnapshot), verbose_name="Scores from the data")
    total = IntField(min_value=0, verbose_name="Total")
    maximum = IntField(min_value=0, verbose_name="Out of")
    complete = BooleanField(default=False, verbose_name="Every item scored")
    band = StringField(max_length=20, verbose_name="Band")
    created_by = StringField(max_length=255, staff_email=True, verbose_name="Created by")
    created_at = DateTimeField(default=datetime.utcnow, verbose_name="Created")
    updated_by = StringField(max_length=255, staff_email=True, verbose_name="Last changed by")
    updated_at = DateTimeField(default=datetime.utcnow, verbose_name="Last changed")

    meta = {"collection": "fidelity_reviews", "ordering": ["-review_date"], "indexes": [("-review_date", "-_id")]}

    def __str__(self) -> str:
        return (f"Fidelity review of {formats.uk_date(self.review_date)} "
                f"({formats.uk_date(self.period_start)} to {formats.uk_date(self.period_end)})")

    def manager_score(self, item: str) -> ItemScore | None:
        return next((s for s in self.manager_scores if s.item == item), None)

    def data_score(self, item: str) -> DataItemSnapshot | None:
        return next((s for s in self.data_scores if s.item == item), None)


class FidelityAnchor(Document):
    """The scoring anchor of one data-scored fidelity item: the value that earns 5, 4, 3 and 2 (else 1).

    Seeded from metrics.fidelity.DEFAULT_ANCHORS; a manager corrects the limits without a release.
    """

    item = StringField(required=True, unique=True, max_length=60, verbose_name="Item")
    better = StringField(required=True, choices=ANCHOR_DIRECTIONS, verbose_name="Direction")
    limit_5 = FloatField(required=True, verbose_name="Score 5 from")
    limit_4 = FloatField(required=True, verbose_name="Score 4 from")
    limit_3 = FloatField(required=True, verbose_name="Score 3 from")
    limit_2 = FloatField(required=True, verbose_name="Score 2 from")
    unit = StringField(max_length=200, verbose_name="Measure")
    contact_modes = ListField(StringField(choices=CONTACT_MODES), verbose_name="Contacts that count",
                              help_text="Follow-along only: the kinds of contact that count as follow-along")
    months = IntField(min_value=1, max_value=60, verbose_name="Months of follow-along checked",
                      help_text="Follow-along only: how many months after a start are checked")
    updated_by = StringField(max_length=255, staff_email=True, verbose_name="Last changed by")
    updated_at = DateTimeField(verbose_name="Last changed")

    meta = {"collection": "fidelity_anchors", "ordering": ["item"]}

    def __str__(self) -> str:
        return f"Fidelity anchor: {self.item.replace('_', ' ')}"

    @property
    def thresholds(self) -> list[float | None]:
        return [self.limit_5, self.limit_4, self.limit_3, self.limit_2]
