"""Figures kept ready: the service dashboard's report per period, so the page never reads every case file."""
from __future__ import annotations

from datetime import datetime

from mongoengine import Document

from admin_app.fields import DateTimeField, StringField


class FigureSnapshot(Document):
    """One report as computed at `computed_at` (the JSON the dashboard renders), by its key."""

    key = StringField(required=True, unique=True, max_length=200)
    # The report as JSON text: its keys include staff email addresses, which a document's field names avoid.
    report_json = StringField(required=True, max_length=8_000_000)  # made by the app, never typed in
    computed_at = DateTimeField(required=True, default=datetime.utcnow)
    viewed_at = DateTimeField(default=datetime.utcnow)
    meta = {"collection": "figure_snapshots", "indexes": ["viewed_at"]}
