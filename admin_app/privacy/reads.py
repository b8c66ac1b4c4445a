"""Who may read which field classes, and reads of restricted fields: each opening of a case file that shows
criminal-offence, special-category or safeguarding values is audited as a `read_restricted` event naming the classes read (never the values)."""
from __future__ import annotations

from mongoengine.fields import EmbeddedDocumentField

from admin_app import audit
from admin_app.privacy.classes import CLASSES, CONTACT, IDENTITY, RESTRICTED, class_of, classified, inner_field
from admin_app.security import has_permission

#: Identity and contact details are read on every page; the other classes are the restricted parts.
RESTRICTED_PARTS = tuple(name for name in CLASSES if name not in (IDENTITY, CONTACT))
READ_RESTRICTED = "read_restricted"


def _values(document, path: str):
    """Every value at a dotted path of a document, through embedded documents and lists."""
    current = [document]
    for part in path.split("."):
        following = []
        for node in current:
            value = getattr(node, part, None) if node is not None else None
            following.extend(value if isinstance(value, list) else [value])
        current = following
    return [value for value in current if value not in (None, "", [])]


def classes_held(document) -> set[str]:
    """The classes of which this document holds at least one value."""
    return {c.data_class.name for c in classified(type(document)) if _values(document, c.path)}


def record_restricted_reads(client, user=None) -> set[str]:
    """Audit that the user was shown the client's restricted parts they may read; returns the classes."""
    shown = {c.data_class.name for c in classified(type(client))
             if c.data_class.name in RESTRICTED_PARTS and readable(c.field, user) and _values(client, c.path)}
    if shown:
        names = ", ".join(CLASSES[name].label.lower() for name in sorted(shown))
        audit.record(READ_RESTRICTED, collection="clients", record_id=client.pk,
                     summary=f"{client.reference}: read {names}")
    return shown


def readable(field, user=None) -> bool:
    """Whether the user (the signed-in one by default) may read this model field's values."""
    declared = class_of(field)
    if declared is None:
        return True
    return has_permission(declared.permission, user)


def shown(document, name: str, user=None):
    """The value of `document.<name>` as this user may see it: the value, or "restricted"."""
    field = document._fields.get(name)
    if field is not None and not readable(field, user):
        return RESTRICTED
    return getattr(document, name)


def hidden_classes(document_type, user=None) -> set[str]:
    """The classes of this document type's fields that the user may not read."""
    return {c.data_class.name for c in classified(document_type) if not readable(c.field, user)}


def drop_unreadable(form, document_type, user=None) -> list[str]:
    """Remove from a bound WTForms form (and its sub-forms) every field the user may not read.

    A field that is not in the form is never populated onto the document, so a save keeps its stored value.
    Returns the dotted names removed.
    """
    removed = []
    for name in list(form._fields):
        field = document_type._fields.get(name) if document_type is not None else None
        if field is None:
            continue
        if not readable(field, user):
            del form[name]
            removed.append(name)
            continue
        inner = inner_field(field)
        sub = getattr(form[name], "form", None)
        if sub is not None and isinstance(inner, EmbeddedDocumentField):
            removed += [f"{name}.{n}" for n in drop_unreadable(sub, inner.document_type, user)]
    return removed
