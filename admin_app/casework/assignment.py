"""Assigning case files: the worker and the assignment history change together, in one atomic update per case."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Iterable

from bson import ObjectId

from admin_app.metrics.periods import london_today
from admin_app.models.case_file import Assignment, Client

BACKFILL_REASON = "history started from the worker on record at the referral date"


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


def entry(worker: Any, day: date, by: str | None, reason: str | None = None) -> dict[str, Any]:
    """One assignment-history entry as stored."""
    out: dict[str, Any] = {"_id": ObjectId(), "start": _midnight(day)}
    if worker is not None:
        out["worker"] = ObjectId(str(getattr(worker, "pk", worker)))
    if by:
        out["by"] = by
    if reason:
        out["reason"] = reason[:300]
    return out


def backfill_entry(worker: Any, referral_date: date | datetime | None) -> dict[str, Any]:
    """The first entry of a case file stored before the history was kept: its worker held it from the referral."""
    day = referral_date.date() if isinstance(referral_date, datetime) else referral_date
    return entry(worker, day or london_today(), None, BACKFILL_REASON)


def reassign(collection: Any, docs: Iterable[dict[str, Any]], target: Any, day: date, by: str,
             reason: str | None = None, extra_set: dict[str, Any] | None = None) -> int:
    """Move each case file (a dict with _id, worker, referral.date, assignments) to `target` from `day`.

    Each case is one update conditional on the worker read, so a concurrent move is not overwritten (that case is
    left and not counted). A case without a history first gains its backfill entry. Returns how many moved.
    """
    target_id = ObjectId(str(getattr(target, "pk", target))) if target is not None else None
    moved = 0
    for doc in docs:
        current = doc.get("worker")
        current = getattr(current, "id", current)
        if current == target_id:
            continue
        new = [entry(target_id, day, by, reason)]
        if not doc.get("assignments"):
            new.insert(0, backfill_entry(current, (doc.get("referral") or {}).get("date")))
        condition = {"_id": doc["_id"], "worker": current}
        update = {"$set": {"worker": target_id, **(extra_set or {})}, "$push": {"assignments": {"$each": new}}}
        moved += collection.update_one(condition, update).modified_count
    return moved


def record_move(collection: Any, case_id: Any, old_worker: Any, new_worker: Any, referral_date: Any, day: date,
                by: str | None) -> None:
    """Add the history entry of a worker changed through the whole-file form (already saved with the case)."""
    new = entry(new_worker, day, by, "changed on the case file")
    if collection.update_one({"_id": case_id, "assignments.0": {"$exists": True}},
                             {"$push": {"assignments": new}}).matched_count:
        return
    collection.update_one({"_id": case_id},
                          {"$push": {"assignments": {"$each": [backfill_entry(old_worker, referral_date), new]}}})


def first_assignment(client: Client, worker: Any, day: date, by: str | None) -> None:
    """A new case file's history starts with its worker (or with no worker) on the day it was created."""
    client.assignments = [Assignment(worker=worker, start=day, by=by, reason="case file created")]


def backfill(collection: Any, batch: int = 500) -> int:
    """Give every case file stored before the history was kept its first entry: the worker on record, from the
    referral date. Idempotent (only case files with no history are touched, each conditional on that)."""
    done = 0
    query = {"$or": [{"assignments": {"$exists": False}}, {"assignments": {"$size": 0}}]}
    cursor = collection.find(query, projection={"worker": 1, "referral.date": 1}, batch_size=batch)
    for doc in cursor:
        first = backfill_entry(doc.get("worker"), (doc.get("referral") or {}).get("date"))
        result = collection.update_one({"_id": doc["_id"], **query}, {"$set": {"assignments": [first]}})
        done += result.modified_count
    return done
