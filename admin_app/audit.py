"""Writing the append-only audit log: who, when, what, from which address.

Creates, changes and deletes of audited documents are caught by mongoengine signals, so
every channel (screens, CLI, imports, jobs) is covered; views add sign-ins and openings.
"""
from __future__ import annotations

import hashlib
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal

from bson import DBRef, ObjectId
from flask import has_request_context, request
from mongoengine import signals
from mongoengine.base import BaseDocument
from mongoengine.fields import EmbeddedDocumentField, ListField, ReferenceField

from admin_app.crypto import EncryptedStringField
from admin_app.models.audit import AuditEvent
from admin_app.privacy.classes import class_of

# Who acts outside a web request (CLI command, job); set with acting_as().
_system_actor: ContextVar[str] = ContextVar("system_actor", default="system")
# True while a list is read: its rows are shown, never saved, so no "before" snapshot is taken.
_reading_only: ContextVar[bool] = ContextVar("reading_only", default=False)
ENCRYPTED = "[encrypted]"
#: A classified field's value (privacy/classes.py) in a diff: the change is recorded, never the value.
RESTRICTED = "[restricted]"


class acting_as:
    """Context manager naming the actor for audit events outside a request."""

    def __init__(self, actor: str):
        self.actor, self.token = actor, None

    def __enter__(self):
        self.token = _system_actor.set(self.actor)
        return self

    def __exit__(self, *exc):
        _system_actor.reset(self.token)


def current_actor() -> str:
    if has_request_context():
        from flask_login import current_user

        if getattr(current_user, "is_authenticated", False):
            return current_user.email
        return "anonymous"
    return _system_actor.get()


def _address() -> str | None:
    return request.remote_addr if has_request_context() else None


def record(action: str, *, collection: str | None = None, record_id=None, summary: str = "",
           changes: list | None = None, actor: str | None = None) -> AuditEvent:
    event = AuditEvent(
        at=datetime.utcnow(),
        actor=(actor or current_actor())[:255],
        action=action,
        collection=collection,
        # What a request names is recorded as given, cut to the field's size, so a hostile id still leaves a trace.
        record_id=str(record_id)[:80] if record_id is not None else None,
        summary=summary[:500],
        changes=changes or [],
        ip=_address(),
    )
    event.save()
    return event


# --- change capture -------------------------------------------------------------------------

def _scalar(value):
    if isinstance(value, BaseDocument):
        return str(value.pk) if getattr(value, "pk", None) is not None else str(value)
    if isinstance(value, DBRef):
        return str(value.id)
    if isinstance(value, (ObjectId, Decimal)):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def _flatten(document, field_map, prefix: str, out: dict) -> None:
    redacted = getattr(document, "audit_redacted", ())
    ignored = getattr(document, "audit_ignored", ())
    for name, field in field_map.items():
        if name in ignored:
            continue
        raw = document._data.get(name)
        path = f"{prefix}{name}"
        if name in redacted:
            out[path] = (ENCRYPTED, hashlib.sha256(str(raw or "").encode()).hexdigest()) if raw else None
        else:
            _flatten_value(field, raw, path, out)


def label(document) -> str:
    """How an audit summary names a record: a document that holds personal data names itself by its
    reference only (`audit_label`), so the log never keeps a person's name."""
    named = getattr(document, "audit_label", None)
    return str(named) if named is not None else str(document)


def redacted(field, value):
    """A value as an audit diff may hold it: encrypted or classified values only as a marker."""
    if value in (None, ""):
        return None
    if isinstance(field, EncryptedStringField):
        return ENCRYPTED
    if class_of(field) is not None:
        return RESTRICTED
    return _scalar(value)


def _flatten_value(field, raw, path: str, out: dict) -> None:
    if isinstance(field, EncryptedStringField) or class_of(field) is not None:
        # Keep a digest so a change is noticed, never the value itself (the digest is compared, not stored).
        marker = ENCRYPTED if isinstance(field, EncryptedStringField) else RESTRICTED
        out[path] = (marker, hashlib.sha256(str(raw).encode()).hexdigest()) if raw not in (None, "") else None
    elif isinstance(field, EmbeddedDocumentField):
        if raw is None:
            out[path] = None
        else:
            _flatten(raw, raw._fields, f"{path}.", out)
    elif isinstance(field, ListField):
        items = raw or []
        if isinstance(field.field, EmbeddedDocumentField):
            for index, item in enumerate(items):
                _flatten(item, item._fields, f"{path}.{index}.", out)
        else:
            out[path] = [_scalar(item) for item in items]
    elif isinstance(field, ReferenceField):
        out[path] = _scalar(raw)
    else:
        out[path] = _scalar(raw)


def snapshot(document) -> dict:
    """Flat {path: value} of a document, references as ids, encrypted text as a digest."""
    out: dict = {}
    _flatten(document, {k: v for k, v in document._fields.items() if k != "id"}, "", out)
    return out


def diff(before: dict, after: dict) -> list[dict]:
    changes = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old == new or path in ("updated_at", "search_keys"):  # stamped and derived on save, not edits
            continue
        marker = next((v[0] for v in (old, new) if isinstance(v, tuple) and v[0] in (ENCRYPTED, RESTRICTED)), None)
        if marker:
            changes.append({"field": path, "old": marker if old else None, "new": marker if new else None})
        else:
            changes.append({"field": path, "old": old, "new": new})
    return changes


def item_changes(path: str, before=None, after=None) -> list[dict]:
    """The field changes of one embedded item at `path` (None for an item added or removed)."""

    def flat(item) -> dict:
        out: dict = {}
        if item is not None:
            _flatten(item, {k: v for k, v in item._fields.items() if k != "id"}, f"{path}.", out)
        return out

    return diff(flat(before), flat(after))


@contextmanager
def reading_only():
    """Documents loaded inside are for display only: the load-time snapshot (which reads every field,
    references included) is skipped. Such a document must not be saved."""
    token = _reading_only.set(True)
    try:
        yield
    finally:
        _reading_only.reset(token)


def _on_init(sender, document, **kwargs):
    if document.pk is not None and not _reading_only.get():
        document._audit_before = snapshot(document)


def _on_save(sender, document, created=False, **kwargs):
    after = snapshot(document)
    if created:
        record("create", collection=sender._get_collection_name(), record_id=document.pk, summary=label(document))
    else:
        changes = diff(getattr(document, "_audit_before", {}) or {}, after)
        if changes:
            record("update", collection=sender._get_collection_name(), record_id=document.pk,
                   summary=f"{label(document)}: " + ", ".join(c["field"] for c in changes[:12]), changes=changes)
    document._audit_before = after


def _on_delete(sender, document, **kwargs):
    record("delete", collection=sender._get_collection_name(), record_id=document.pk, summary=label(document))


def watch(*document_classes) -> None:
    """Audit every create, change and delete of these documents."""
    for cls in document_classes:
        signals.post_init.connect(_on_init, sender=cls, weak=False)
        signals.post_save.connect(_on_save, sender=cls, weak=False)
        signals.post_delete.connect(_on_delete, sender=cls, weak=False)
