"""Scoring a fidelity review: the data-scored items are taken from the service's figures for the review's period
(the dashboard's snapshot, never more than a minute old), then the 25 items are totalled and banded."""
from __future__ import annotations

from datetime import date

from admin_app import snapshots
from admin_app.db import database
from admin_app.metrics import fidelity
from admin_app.metrics.periods import Period
from admin_app.metrics.report import as_of_for, load_report
from admin_app.models.fidelity import DataItemSnapshot, FidelityReview


class AnchorsCannotScore(ValueError):
    """The stored fidelity anchors cannot score the figures; the message says what to correct."""


def score_review(review: FidelityReview, today: date) -> None:
    """Snapshot the data-scored items for the review's period, then total and band the 25 items."""
    period = Period(review.period_start, review.period_end)
    manager = {s.item: s.score for s in review.manager_scores if s.score is not None}
    as_of = as_of_for(period, today)
    try:
        found = snapshots.figures(snapshots.service_key(period, as_of),
                                  lambda: load_report(database(), {}, period, as_of=as_of))
    except ValueError as exc:
        raise AnchorsCannotScore(
            f"The stored fidelity anchors cannot score: {exc}. Correct them on the anchors screen.") from exc
    report = found.report
    items, anchors = report["service"]["fidelity"], report["anchors"]
    review.judged_on = date.fromisoformat(report["as_of"])
    review.figures_computed_at = found.computed_at
    review.data_scores = [
        DataItemSnapshot(item=item, value=items[item]["value"], score=items[item]["score"], unit=items[item]["unit"],
                         better=anchors[item]["better"], thresholds=[float(x) for x in anchors[item]["thresholds"]])
        for item in fidelity.DATA_ITEMS
    ]
    result = fidelity.fidelity_review({item: value["score"] for item, value in items.items()}, manager)
    review.total, review.maximum, review.complete, review.band = (
        result["total"], result["maximum"], result["complete"], result["band"])
