"""Atomic writes to one part of a case file: a new item is one $push, a changed item one update of
that item matched by its own id (and by the values the person saw), a removed item one $pull.
Nothing here rewrites a whole list; every write is audited as a field diff, and a write that brings new
high-risk information raises its instant alert (admin_app/risk/alerts.py).

`scope` is the caller's row-level match (security.scope_match), so a write can never reach a case
file outside the user's caseload, whatever id it is given.
"""
from __future__ import annotations

import hashlib
from datetime import date, datetime

import bson
from bson import ObjectId
from bson.errors import InvalidId

from admin_app import audit
from admin_app.models.case_file import CaseItem, Client, StatusChange
from admin_app.risk import alerts as risk_alerts


class Stale(Exception):
    """The item or the case file changed after the person opened the form."""


class Gone(Exception):
    """The case file or the item is not there (or not in the user's scope)."""


def object_id(value) -> ObjectId | None:
    try:
        return ObjectId(str(value))
    except (InvalidId, TypeError):
        return None


def _collection():
    return Client._get_collection()


def _now() -> datetime:
    return datetime.utcnow()


def _db_name(part: str) -> str:
    return Client._fields[part].db_field


def _is_item_list(field) -> bool:
    document_type = getattr(getattr(field, "field", None), "document_type", None)
    return isinstance(document_type, type) and issubclass(document_type, CaseItem)


#: The case file's lists whose items carry their own ids.
ITEM_LISTS = tuple(name for name, field in Client._fields.items() if _is_item_list(field))


def has_items_without_ids(client) -> bool:
    return any(item.id is None for name in ITEM_LISTS for item in getattr(client, name))


def item_class(part: str) -> type[CaseItem]:
    return Client._fields[part].field.document_type


def _field_db(part: str, name: str) -> str:
    return item_class(part)._fields[name].db_field


def fingerprint(raw: dict | None) -> str:
    """A digest of an item as stored, so a form can tell whether it changed since it was opened."""
    return hashlib.sha256(bson.encode(raw or {})).hexdigest()


def load_item(client_id, part: str, item_id, scope: dict) -> tuple[dict, str] | None:
    """The stored item (raw) and its client's reference, reading only that one item."""
    cid, iid = object_id(client_id), object_id(item_id)
    if cid is None or iid is None:
        return None
    field = _db_name(part)
    doc = _collection().find_one({"_id": cid, **scope}, {field: {"$elemMatch": {"_id": iid}}, "reference": 1})
    items = (doc or {}).get(field) or []
    return (items[0], doc["reference"]) if items else None


def as_item(part: str, raw: dict) -> CaseItem:
    return item_class(part)._from_son(raw)


def _store(part: str, item: CaseItem, name: str):
    value = getattr(item, name)
    return None if value is None else item._fields[name].to_mongo(value)


def _stored_value(raw: dict, part: str, name: str):
    return raw.get(_field_db(part, name))


def _summary(reference: str, text: str) -> str:
    return f"{reference}: {text}"


def add_item(client_id, part: str, item: CaseItem, scope: dict, reference: str) -> CaseItem:
    """Append one item to the part; raises Gone when the case file is not there or not in scope."""
    if item.id is None:
        item.id = ObjectId()
    raw = item.to_mongo().to_dict()
    result = _collection().update_one({"_id": object_id(client_id), **scope},
                                      {"$push": {_db_name(part): raw}, "$set": {"updated_at": _now()}})
    if result.matched_count != 1:
        raise Gone()
    audit.record("update", collection="clients", record_id=client_id,
                 summary=_summary(reference, f"added {part.replace('_', ' ')} item {item.id}"),
                 changes=audit.item_changes(f"{part}.{item.id}", None, item))
    risk_alerts.note_case_write(client_id, part, item.id, None, item)
    return item


def update_item(client_id, part: str, before_raw: dict, after: CaseItem, fields: tuple[str, ...], scope: dict,
                reference: str) -> list[str]:
    """Write the fields of one item that differ from what is stored; returns their names ([] for none).

    The update matches the item by its id and by the stored values of the changed fields, so a
    concurrent change to the same fields makes it miss (Stale) instead of overwriting it.
    """
    before = as_item(part, before_raw)
    changed = [name for name in fields if getattr(before, name) != getattr(after, name)]
    if not changed:
        return []
    item_id = before_raw["_id"]
    prefix = f"{_db_name(part)}.$."
    sets = {prefix + _field_db(part, n): _store(part, after, n) for n in changed if getattr(after, n) is not None}
    unsets = {prefix + _field_db(part, n): "" for n in changed if getattr(after, n) is None}
    seen = {_field_db(part, n): _stored_value(before_raw, part, n) for n in changed}
    update = {"$set": {**sets, "updated_at": _now()}}
    if unsets:
        update["$unset"] = unsets
    result = _collection().update_one(
        {"_id": object_id(client_id), **scope, _db_name(part): {"$elemMatch": {"_id": item_id, **seen}}}, update)
    if result.matched_count != 1:
        raise Stale()
    audit.record("update", collection="clients", record_id=client_id,
                 summary=_summary(reference, f"changed {part.replace('_', ' ')} item {item_id}: " + ", ".join(changed)),
                 changes=audit.item_changes(f"{part}.{item_id}", before, after))
    risk_alerts.note_case_write(client_id, part, item_id, before, after)
    return changed


def remove_item(client_id, part: str, before_raw: dict, scope: dict, reference: str) -> None:
    """Remove one item, only if it is still as the person saw it."""
    item_id = before_raw["_id"]
    result = _collection().update_one(
        {"_id": object_id(client_id), **scope, _db_name(part): {"$elemMatch": {"_id": item_id}}},
        {"$pull": {_db_name(part): {"_id": item_id}}, "$set": {"updated_at": _now()}})
    if result.matched_count != 1:
        raise Stale()
    audit.record("update", collection="clients", record_id=client_id,
                 summary=_summary(reference, f"removed {part.replace('_', ' ')} item {item_id}"),
                 changes=audit.item_changes(f"{part}.{item_id}", as_item(part, before_raw), None))


def _history_entry(status: str, by: str, reason: str | None, correction: bool, on: date) -> dict:
    entry = StatusChange(date=on, status=status, by=by, reason=reason or None, correction=correction or None)
    return entry.to_mongo().to_dict()


def change_status(client_id, current: str, new: str, by: str, reason: str | None, correction: bool, on: date,
                  scope: dict, reference: str) -> None:
    """Set the status and append its history entry in one update, only if the status is still `current`."""
    entry = _history_entry(new, by, reason, correction, on)
    result = _collection().update_one({"_id": object_id(client_id), **scope, "status": current},
                                      {"$set": {"status": new, "updated_at": _now()},
                                       "$push": {"status_history": entry}})
    if result.matched_count != 1:
        raise Stale()
    audit.record("update", collection="clients", record_id=client_id,
                 summary=_summary(reference, f"status {current} → {new}" + (" (correction)" if correction else "")),
                 changes=[{"field": "status", "old": current, "new": new},
                          {"field": f"status_history.{entry['_id']}", "old": None,
                           "new": f"{new} by {by}" + (f": {reason}" if reason else "")}])


def decide_referral(client_id, previous: str, values: dict, current_status: str, new_status: str, by: str,
                    on: date, scope: dict, reference: str) -> None:
    """Record a referral decision (and the status it sets) in one update, only if nothing moved meanwhile."""
    referral = Client._fields["referral"].document_type
    sets, unsets = {}, {}
    for name, value in values.items():
        key = f"referral.{referral._fields[name].db_field}"
        if value is None:
            unsets[key] = ""
        else:
            sets[key] = referral._fields[name].to_mongo(value)
    update: dict = {"$set": {**sets, "updated_at": _now()}}
    if unsets:
        update["$unset"] = unsets
    if new_status != current_status:
        update["$set"]["status"] = new_status
        update["$push"] = {"status_history": _history_entry(
            new_status, by, f"referral {values['decision']}", False, on)}
    was = {"$in": ["pending", None]} if previous == "pending" else previous
    result = _collection().update_one({"_id": object_id(client_id), **scope, "referral.decision": was,
                                       "status": current_status}, update)
    if result.matched_count != 1:
        raise Stale()
    audit.record("update", collection="clients", record_id=client_id,
                 summary=_summary(reference, f"referral {values['decision']} by {by}"),
                 changes=[{"field": f"referral.{k}", "old": None, "new": audit.redacted(referral._fields[k], v)}
                          for k, v in values.items()
                          if v is not None] + ([{"field": "status", "old": current_status, "new": new_status}]
                                               if new_status != current_status else []))


def assign_missing_item_ids(client_id) -> bool:
    """Give ids to the items of one case file stored before items had them. Each list is replaced only
    if it is still exactly as read, so a concurrent write is never lost; returns whether anything changed."""
    cid = object_id(client_id)
    doc = _collection().find_one({"_id": cid})
    changed = False
    for name in ITEM_LISTS:
        field = Client._fields[name]
        items = (doc or {}).get(field.db_field) or []
        if all("_id" in item for item in items):
            continue
        with_ids = [item if "_id" in item else {"_id": ObjectId(), **item} for item in items]
        result = _collection().update_one({"_id": cid, field.db_field: items}, {"$set": {field.db_field: with_ids}})
        changed = changed or result.modified_count == 1
    return changed


def missing_item_ids_match() -> dict:
    """A match for case files with any list item still without an id."""
    return {"$or": [{_db_name(name): {"$elemMatch": {"_id": {"$exists": False}}}} for name in ITEM_LISTS]}
