"""The dashboards' figures as snapshots: read in one query, never staler than FRESH.

Reading every case file to build the report takes seconds at 10,000 case files, so the service
dashboard reads a snapshot of it instead, keyed by period and the day it is judged on; a worker's
own dashboard reads one keyed also by the worker (only they read it), and a fidelity review is
scored from the service's. A snapshot
older than FRESH is computed again by the request that finds it so (the figures are never staler
than that), and the `dashboards.refresh` job, which beat (or, in embedded mode, the web app) runs
every EXPORT_SWEEP_SECONDS, recomputes every snapshot viewed in the last day before it gets that
old, so people rarely wait for one. The page says when its figures were computed.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Callable

from bson import ObjectId
from mongoengine import NotUniqueError

from admin_app.metrics.periods import Period
from admin_app.models.snapshots import FigureSnapshot

FRESH = timedelta(minutes=1)
#: A snapshot's refresh is due this long before it would stop being fresh.
REFRESH_AHEAD = timedelta(seconds=30)
#: Snapshots nobody looked at for this long are no longer refreshed, and are deleted.
KEPT = timedelta(days=1)


@dataclass(frozen=True)
class Figures:
    report: dict[str, Any]
    computed_at: datetime


def service_key(period: Period, as_of: date) -> str:
    return f"service:{period.start.isoformat()}:{period.end.isoformat()}:{as_of.isoformat()}"


def caseload_key(worker_id, period: Period, as_of: date) -> str:
    """A worker's own dashboard: read only by that worker, whose id is in the key."""
    return f"caseload-{worker_id}:{period.start.isoformat()}:{period.end.isoformat()}:{as_of.isoformat()}"


def parse_key(key: str) -> tuple[dict, Period, date] | None:
    """(the case files the figures cover as a match, period, as-of day) of a snapshot's key."""
    parts = key.split(":")
    if len(parts) != 4:
        return None
    if parts[0] == "service":
        match: dict = {}
    elif parts[0].startswith("caseload-") and ObjectId.is_valid(parts[0][len("caseload-"):]):
        match = {"worker": ObjectId(parts[0][len("caseload-"):])}
    else:
        return None
    start, end, as_of = (date.fromisoformat(part) for part in parts[1:])
    return match, Period(start, end), as_of


def figures(key: str, compute: Callable[[], dict[str, Any]], now: datetime | None = None) -> Figures:
    """The snapshot under `key` if fresh, else `compute()` now, stored for the next reader."""
    now = now or datetime.utcnow()
    found = FigureSnapshot.objects(key=key).only("report_json", "computed_at", "viewed_at").first()
    if found is not None and found.computed_at >= now - FRESH:
        if found.viewed_at is None or found.viewed_at < now - timedelta(minutes=10):
            FigureSnapshot.objects(pk=found.pk).update_one(set__viewed_at=now)  # bounded: one write per 10 min
        return Figures(json.loads(found.report_json), found.computed_at)
    return store(key, compute(), now)


def store(key: str, report: dict[str, Any], now: datetime) -> Figures:
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)  # as MongoDB keeps it
    text = json.dumps(report, default=str)
    changed = FigureSnapshot.objects(key=key).update_one(set__report_json=text, set__computed_at=now,
                                                         set__viewed_at=now)
    if not changed:
        try:
            FigureSnapshot(key=key, report_json=text, computed_at=now, viewed_at=now).save()
        except NotUniqueError:  # another request stored it first; ours is as fresh
            FigureSnapshot.objects(key=key).update_one(set__report_json=text, set__computed_at=now)
    return Figures(json.loads(text), now)


def expire_all() -> None:
    """Make every snapshot stale, so the next reader computes it again (after a change that alters the
    figures themselves, such as a corrected fidelity anchor)."""
    FigureSnapshot.objects(computed_at__gt=datetime(1970, 1, 1)).update(set__computed_at=datetime(1970, 1, 1))


def refresh(now: datetime, compute: Callable[[dict, Period, date], dict[str, Any]]) -> int:
    """Recompute each snapshot viewed in the last day whose freshness is running out; delete the rest."""
    FigureSnapshot.objects(viewed_at__lt=now - KEPT).delete()
    done = 0
    for snapshot in FigureSnapshot.objects(viewed_at__gte=now - KEPT,
                                           computed_at__lte=now - FRESH + REFRESH_AHEAD).only("key"):
        parsed = parse_key(snapshot.key)
        if parsed is None:
            continue
        match, period, as_of = parsed
        FigureSnapshot.objects(pk=snapshot.pk).update_one(
            set__report_json=json.dumps(compute(match, period, as_of), default=str), set__computed_at=now)
        done += 1
    return done
