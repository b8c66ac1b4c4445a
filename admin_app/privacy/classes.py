"""Field classes: which kind of personal data a model field holds, declared once on the field.

A field says its class with `data_class=` (mongoengine keeps extra keyword arguments as attributes):

    first_name = StringField(max_length=80, verbose_name="First name", data_class=IDENTITY)
    conviction_details = EncryptedStringField(verbose_name="Conviction details", data_class=CRIMINAL_OFFENCE)

Each class is a permission `fieldclass.<class>.read`, held by roles and changed in the Roles screen.
Screens, the case-file page, task forms, list columns, search, the timeline, audit diffs, exports and the
data dictionary ask whether a field may be read (admin_app/privacy/reads.py, against the user's permissions); a field that may not shows as "restricted",
is left out of every form, and a save never writes it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from mongoengine.base import BaseField
from mongoengine.fields import EmbeddedDocumentField, ListField

IDENTITY = "identity"
CONTACT = "contact"
CRIMINAL_OFFENCE = "criminal_offence"
SPECIAL_CATEGORY = "special_category"
SAFEGUARDING = "safeguarding"

#: What the screens show in place of a value the user may not read.
RESTRICTED = "restricted"


@dataclass(frozen=True)
class FieldClass:
    name: str
    label: str
    description: str
    #: Free text and identifiers that anonymisation removes (coded data of these classes is kept).
    personal: bool = True

    @property
    def permission(self) -> str:
        return f"fieldclass.{self.name}.read"


CLASSES: dict[str, FieldClass] = {c.name: c for c in (
    FieldClass(IDENTITY, "Identity", "Names, date of birth, addresses and postcodes"),
    FieldClass(CONTACT, "Contact details", "Phone numbers and email addresses"),
    FieldClass(CRIMINAL_OFFENCE, "Criminal offence",
               "Conviction details, affiliations, disclosures to police, referral rationale (UK GDPR Art. 10)"),
    FieldClass(SPECIAL_CATEGORY, "Special category", "Health, ethnicity, religion, and barriers that may reveal them "
                                                     "(UK GDPR Art. 9)"),
    FieldClass(SAFEGUARDING, "Safeguarding", "Safeguarding concerns and their actions, risk notes and mitigations"),
)}


def permission_labels() -> dict[str, str]:
    """Every field-class permission and what it allows, for the Roles screen."""
    return {c.permission: f"Read {c.label.lower()} fields ({c.description.lower()})" for c in CLASSES.values()}


def class_of(field) -> FieldClass | None:
    name = getattr(field, "data_class", None)
    if name is None:
        return None
    if name not in CLASSES:
        raise ValueError(f"unknown field class {name!r} on {getattr(field, 'name', field)}")
    return CLASSES[name]


@dataclass(frozen=True)
class Classified:
    """One classified field of a document, reached by a dotted path (list items counted as one)."""

    path: str
    field: BaseField
    data_class: FieldClass
    #: The embedded document type that declares the field (the document itself at the top).
    owner: type

    @property
    def encrypted(self) -> bool:
        return bool(getattr(self.field, "encrypted", False))


def inner_field(field):
    while isinstance(field, ListField):
        field = field.field
    return field


def fields_of(document_type, prefix: str = "") -> Iterator[tuple[str, BaseField, type]]:
    """(dotted path, field, owner type) of every field, through embedded documents and lists of them."""
    for name, field in document_type._fields.items():
        path = f"{prefix}{name}"
        inner = inner_field(field)
        if isinstance(inner, EmbeddedDocumentField) and isinstance(inner.document_type, type):
            yield path, field, document_type
            yield from fields_of(inner.document_type, f"{path}.")
        else:
            yield path, field, document_type


def classified(document_type) -> list[Classified]:
    """Every classified field of a document type, in declaration order."""
    return [Classified(path, field, class_of(field), owner)
            for path, field, owner in fields_of(document_type) if class_of(field) is not None]


def field_at(document_type, path: str):
    """The field declared at a dotted path (through embedded documents and lists), or None."""
    field = None
    for part in path.split("."):
        if document_type is None:
            return None
        field = document_type._fields.get(part)
        if field is None:
            return None
        inner = inner_field(field)
        document_type = inner.document_type if isinstance(inner, EmbeddedDocumentField) else None
    return field
