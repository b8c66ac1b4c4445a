"""The audit log as a person reads it: the record's type and name in words (a link where the reader may open
it), who by name, UK times to the minute, and each change as "field label: old → new".

The log stores machine values (collection names, record ids, field paths, ISO dates, codes); they are turned
into words here, for a page of entries at a time, with one query per kind of record named on the page.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date, datetime

import mongoengine
from bson import ObjectId
from bson.errors import InvalidId
from flask import url_for
from markupsafe import Markup, escape
from mongoengine.base import get_document
from mongoengine.base.common import _document_registry

from admin_app import audit, formats
from admin_app.models.audit import AUDIT_ACTIONS
from admin_app.models.people import staff_names
from admin_app.privacy.classes import field_at

ARROW = "→"
BLANK = "(blank)"
HEX_ID = re.compile(r"\b[0-9a-f]{24}\b")
ISO_MOMENT = re.compile(r"\b(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?)?\b")
#: Record types whose class name would not be the word the service uses (DOMAIN.md).
RECORD_TYPES = {"Client": "Case file", "User": "Staff account", "AuditEvent": "Audit entry"}


@dataclass
class Entry:
    """One audit event, readable."""

    at: str
    who: str
    what: str
    record_type: str = ""
    record: str = ""
    url: str | None = None
    changes: list[str] = field(default_factory=list)
    summary: str = ""

    def record_html(self) -> Markup:
        if not self.record:
            return Markup("")
        return Markup('<a href="{}">{}</a>').format(self.url, self.record) if self.url else escape(self.record)

    def changes_html(self, limit: int | None = None) -> Markup:
        shown = self.changes if limit is None else self.changes[:limit]
        if not shown:
            return escape(self.summary)
        items = Markup("").join(Markup("<li>{}</li>").format(line) for line in shown)
        more = len(self.changes) - len(shown)
        tail = Markup('<li class="text-muted">and {} more</li>').format(more) if more > 0 else Markup("")
        return Markup('<ul class="list-unstyled mb-0 audit-changes">{}{}</ul>').format(items, tail)


@lru_cache(maxsize=None)
def document_class(collection: str | None):
    """The document class stored in a collection, or None (asked at request time, once every model is imported)."""
    if not collection:
        return None
    for name in list(_document_registry):
        cls = get_document(name)
        meta = getattr(cls, "_meta", {}) or {}
        if not meta.get("abstract") and issubclass(cls, mongoengine.Document) and cls._get_collection_name() == collection:
            return cls
    return None


def record_type(cls, collection: str | None) -> str:
    """The kind of record in words: "Case file", "Staff profile"."""
    if cls is None:
        return (collection or "").replace("_", " ").capitalize()
    name = RECORD_TYPES.get(cls.__name__) or re.sub(r"(?<!^)(?=[A-Z])", " ", cls.__name__).lower()
    return name[0].upper() + name[1:]


def record_type_options() -> list[tuple[str, str]]:
    """Every kind of record the log can name, for the "Record type" filter."""
    found = {}
    for name in list(_document_registry):
        cls = get_document(name)
        if issubclass(cls, mongoengine.Document) and not (cls._meta or {}).get("abstract"):
            found[cls._get_collection_name()] = record_type(cls, None)
    return sorted(found.items(), key=lambda pair: pair[1])


def _ids(record_id: str | None) -> list[ObjectId]:
    out = []
    for part in (record_id or "").split(","):
        try:
            out.append(ObjectId(part.strip()))
        except (InvalidId, TypeError):
            pass
    return out


class _Records:
    """The records a page of entries names, loaded in one query per kind, with a link each where the reader
    may open it (their view and its details permission; case files through the case-file page)."""

    def __init__(self, admin, events):
        self.admin = admin
        wanted: dict[str, set] = {}
        for event in events:
            for pk in _ids(event.record_id):
                wanted.setdefault(event.collection, set()).add(pk)
            for change in event.changes or ():
                for cls, value in _references(event.collection, change):
                    wanted.setdefault(cls._get_collection_name(), set()).add(value)
        self.found: dict[tuple[str, ObjectId], object] = {}
        for collection, pks in wanted.items():
            cls = document_class(collection)
            if cls is None:
                continue
            query = cls.objects(pk__in=list(pks))
            label_fields = getattr(cls, "audit_label_fields", None)
            query = query.only(*label_fields) if label_fields else query
            with audit.reading_only():
                for document in query:
                    self.found[(collection, document.pk)] = document

    def name(self, collection, pk) -> str | None:
        document = self.found.get((collection, pk))
        if document is None:
            return None
        return formats.person(document) if "email" in document._fields else audit.label(document)

    def url(self, collection, pk) -> str | None:
        if (collection, pk) not in self.found:
            return None  # removed since: nothing to open
        if collection == "clients":
            view = self._view("casefile")
            return url_for("casefile.page", id=pk) if view is not None and view.is_accessible() else None
        cls = document_class(collection)
        for view in getattr(self.admin, "_views", ()):
            if getattr(view, "model", None) is cls and hasattr(view, "allows") and view.allows("details"):
                return url_for(f"{view.endpoint}.details_view", id=pk)
        return None

    def _view(self, endpoint):
        return next((v for v in getattr(self.admin, "_views", ()) if v.endpoint == endpoint), None)


def _leaf_field(collection, path: str):
    cls = document_class(collection)
    if cls is None:
        return None
    names = [part for part in path.split(".") if not _item_key(part)]
    return field_at(cls, ".".join(names)) if names else None


def _references(collection, change):
    leaf = _leaf_field(collection, change.get("field", ""))
    inner = getattr(leaf, "field", None) if isinstance(leaf, mongoengine.ListField) else leaf
    if not isinstance(inner, (mongoengine.ReferenceField, mongoengine.LazyReferenceField)):
        return
    values = change.get("old"), change.get("new")
    for value in values:
        for one in value if isinstance(value, list) else [value]:
            try:
                yield inner.document_type, ObjectId(str(one))
            except (InvalidId, TypeError):
                continue


def _item_key(part: str) -> bool:
    """A path part that picks an item of a list: its position ("3") or its own id."""
    return part.isdigit() or bool(HEX_ID.fullmatch(part))


def field_label(collection, path: str) -> str:
    """A stored field path ("contacts.3.minutes") as words: "Contacts 4 › Minutes"; an item named by its id
    ("messages.<id>.sender") has no number to show: "Messages with the client › From"."""
    cls = document_class(collection)
    words, walked = [], []
    for part in path.split("."):
        if _item_key(part) and words:
            if part.isdigit():
                words[-1] = f"{words[-1]} {int(part) + 1}"
            continue
        walked.append(part)
        found = field_at(cls, ".".join(walked)) if cls is not None else None
        words.append(str(getattr(found, "verbose_name", None) or part.replace("_", " ").capitalize()))
    return " › ".join(words)


def _value(collection, path: str, value, records: _Records) -> str:
    if value in (None, "", []):
        return BLANK
    if value in (audit.ENCRYPTED, audit.RESTRICTED):
        return "(protected value)"
    leaf = _leaf_field(collection, path)
    inner = getattr(leaf, "field", None) if isinstance(leaf, mongoengine.ListField) else leaf
    if isinstance(value, list):
        return ", ".join(_value(collection, path + ".0", one, records) if not isinstance(leaf, mongoengine.ListField)
                         else _one(inner, one, records) for one in value) or BLANK
    return _one(inner, value, records)


def _one(leaf, value, records: _Records) -> str:
    if isinstance(leaf, (mongoengine.ReferenceField, mongoengine.LazyReferenceField)):
        try:
            pk = ObjectId(str(value))
        except (InvalidId, TypeError):
            return str(value)
        return records.name(leaf.document_type._get_collection_name(), pk) or "a record since removed"
    if isinstance(value, str) and isinstance(leaf, (mongoengine.DateTimeField, mongoengine.DateField)):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if isinstance(leaf, mongoengine.DateTimeField):
            return formats.uk_datetime(moment, wall_clock=bool(getattr(leaf, "london", False)))
        return formats.uk_date(moment.date())
    if isinstance(leaf, mongoengine.ObjectIdField):
        return "(linked record)"  # a link between items of one case file: its id means nothing to a reader
    if leaf is not None:
        return formats.field_value(leaf, value) or BLANK
    return readable_text(str(value))


def readable_text(text: str) -> str:
    """Free text of the log (a summary) without machine values: ISO dates as UK dates, no record ids."""
    def moment(match):
        day = date.fromisoformat(match.group(1))
        if match.group(2):
            return formats.uk_datetime(datetime.fromisoformat(f"{match.group(1)}T{match.group(2)}"))
        return formats.uk_date(day)

    try:
        text = ISO_MOMENT.sub(moment, text)
    except ValueError:
        pass
    return re.sub(r"\s{2,}", " ", HEX_ID.sub("", text)).replace(" :", ":").strip(" ,")


def who(actor: str | None, names: dict[str, str]) -> str:
    """A member of staff by name; a job or command (an actor without an address) by what it is."""
    if actor and "@" not in actor:
        return "System: " + actor.replace("cli:", "command ").replace("-", " ").replace("_", " ")
    return names.get(actor, actor or "")


def describe(admin, events) -> dict:
    """Each event of a page, readable, by its id."""
    events = list(events)
    records = _Records(admin, events)
    names = staff_names([e.actor for e in events])
    actions = dict(AUDIT_ACTIONS)
    out = {}
    for event in events:
        cls = document_class(event.collection)
        pks = _ids(event.record_id)
        entry = Entry(at=formats.uk_datetime(event.at), who=who(event.actor, names),
                      what=actions.get(event.action, event.action),
                      record_type=record_type(cls, event.collection) if event.collection else "")
        summary = event.summary or ""
        fields_listed = ", ".join(c.get("field", "") for c in (event.changes or [])[:12])
        if fields_listed and summary.endswith(": " + fields_listed):
            summary = summary[: -len(fields_listed) - 2]  # the changes are shown in full below
        if len(pks) == 1:
            entry.record = records.name(event.collection, pks[0]) or readable_text(summary.split(": ")[0]) or "a record since removed"
            entry.url = records.url(event.collection, pks[0])
        elif pks:
            entry.record = f"{len(pks)} records"
        entry.changes = [f"{field_label(event.collection, c.get('field', ''))}: "
                         f"{_value(event.collection, c.get('field', ''), c.get('old'), records)} {ARROW} "
                         f"{_value(event.collection, c.get('field', ''), c.get('new'), records)}"
                         for c in event.changes or ()]
        entry.summary = "" if readable_text(summary) == entry.record else readable_text(summary)
        out[event.pk] = entry
    return out
