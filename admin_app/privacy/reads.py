"""Reads of restricted fields: each opening of a case file that shows criminal-offence, special-category or
safeguarding values is audited as a `read_restricted` event naming the classes read (never the values)."""
from __future__ import annotations

from admin_app import audit
from admin_app.privacy.classes import CLASSES, IDENTITY, CONTACT, classified, readable

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
