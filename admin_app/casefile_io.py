"""JSON Lines import and export of whole case files, one client a line: the migration format."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import IO, Any, Iterable

from bson import DBRef, ObjectId
from mongoengine import Document, ValidationError
from mongoengine.base import BaseDocument
from mongoengine.fields import (
    BooleanField,
    DateField,
    DateTimeField,
    DecimalField,
    EmbeddedDocumentField,
    FloatField,
    IntField,
    ListField,
    ReferenceField,
    StringField,
)

from admin_app import rules
from admin_app.models.case_file import Client
from admin_app.models.partners import Employer, Organisation
from admin_app.models.people import User

# How a reference is written in the file: the referenced document's natural key.
NATURAL_KEYS: dict[type, str] = {User: "email", Organisation: "name", Employer: "name"}
UNDECRYPTABLE = "[cannot decrypt: encryption key missing]"
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SKIPPED_FIELDS = ("id",)


class CaseFileExportError(RuntimeError):
    """A case file cannot be written out without losing data; the message says which and why."""


@dataclass(frozen=True)
class LineError:
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.path}: {self.message}" if self.path else f"{where}{self.message}"


@dataclass
class ImportResult:
    """What an import did: how many case files it added, or every error and nothing added."""

    imported: int = 0
    errors: list[LineError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def messages(self) -> list[str]:
        return [str(error) for error in self.errors]


# --- export --------------------------------------------------------------------------------

class _Keys:
    """Natural keys of the documents a case file refers to, looked up once per import or export."""

    def __init__(self) -> None:
        self.by_id: dict[type, dict[ObjectId, str]] = {}
        self.by_key: dict[type, dict[str, list[Document]]] = {}
        for model, key in NATURAL_KEYS.items():
            documents = list(model.objects.only(key))
            self.by_id[model] = {d.pk: getattr(d, key) for d in documents}
            index: dict[str, list[Document]] = {}
            for document in documents:
                index.setdefault(_fold(model, getattr(document, key)), []).append(document)
            self.by_key[model] = index


def _fold(model: type, key: str | None) -> str:
    """Emails match whatever their case; names match exactly."""
    key = key or ""
    return key.strip().lower() if model is User else key


def _target(field_: ReferenceField) -> type:
    return field_.document_type


def export_cases(stream: IO[str], clients: Iterable[Client]) -> int:
    """Write each case file as one JSON object a line; return how many were written."""
    keys = _Keys()
    count = 0
    for client in clients:
        record = _document_to_json(client, keys, client.reference or str(client.pk), "")
        stream.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
        count += 1
    return count


def _document_to_json(document: BaseDocument, keys: _Keys, reference: str, prefix: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in document._fields_ordered:
        if name in SKIPPED_FIELDS:
            continue
        out[name] = _value_to_json(document._fields[name], document._data.get(name), keys, reference, prefix + name)
    return out


def _value_to_json(field_, value, keys: _Keys, reference: str, path: str) -> Any:
    if value is None:
        return None
    if isinstance(field_, EmbeddedDocumentField):
        return _document_to_json(value, keys, reference, path + ".")
    if isinstance(field_, ListField):
        return [_value_to_json(field_.field, item, keys, reference, f"{path}.{index}") for index, item in enumerate(value)]
    if isinstance(field_, ReferenceField):
        model = _target(field_)
        pk = value.pk if isinstance(value, Document) else value.id if isinstance(value, DBRef) else value
        key = keys.by_id.get(model, {}).get(pk)
        if key is None:
            raise CaseFileExportError(f"{reference}: {path} refers to a {model.__name__} ({pk}) that no longer exists.")
        return key
    if isinstance(field_, DateField):
        return (value.date() if isinstance(value, datetime) else value).isoformat()
    if isinstance(field_, DateTimeField):
        return value.isoformat(timespec="milliseconds")
    if isinstance(field_, DecimalField):
        return str(value)
    if getattr(field_, "encrypted", False) and value == UNDECRYPTABLE:
        raise CaseFileExportError(f"{reference}: {path} cannot be decrypted: an encryption key is missing.")
    return value


# --- import --------------------------------------------------------------------------------

class _FieldError(Exception):
    pass


def import_cases(stream: IO[str] | Iterable[str], today: date) -> ImportResult:
    """Check every line, then add all the case files or none; the result lists every error by line."""
    keys = _Keys()
    errors: list[LineError] = []
    parsed: list[tuple[int, Client]] = []
    first_line_of: dict[str, int] = {}
    for number, raw in enumerate(stream, start=1):
        if isinstance(raw, bytes):
            try:
                raw = raw.decode("utf-8")
            except UnicodeDecodeError:
                errors.append(LineError(number, "", "not UTF-8 text"))
                continue
        if not raw.strip():
            continue
        client, line_errors = _parse_line(raw, keys, today)
        errors += [LineError(number, path, message) for path, message in line_errors]
        if client is None:
            continue
        reference = client.reference
        if reference:
            if reference in first_line_of:
                errors.append(LineError(number, "reference", f"{reference} is already on line {first_line_of[reference]}"))
            else:
                first_line_of[reference] = number
        if not line_errors:
            parsed.append((number, client))
    if first_line_of:
        for reference in Client.objects(reference__in=list(first_line_of)).distinct("reference"):
            errors.append(LineError(first_line_of[reference], "reference", f"{reference} is already in the database"))
    if errors:
        errors.sort(key=lambda e: e.line)
        return ImportResult(0, errors)
    return _insert_all([client for _, client in parsed])


def _insert_all(clients: list[Client]) -> ImportResult:
    if not clients:
        return ImportResult(0)
    collection = Client._get_collection()
    ids = [client.pk for client in clients]
    try:
        collection.insert_many([client.to_mongo() for client in clients], ordered=True)
    except Exception as exc:  # any failure: undo the part that went in, so the import is all or nothing
        collection.delete_many({"_id": {"$in": ids}})
        return ImportResult(0, [LineError(0, "", f"the import failed while saving ({exc.__class__.__name__}: {exc}); "
                                                   "nothing was imported")])
    return ImportResult(len(clients))


def _parse_line(raw: str, keys: _Keys, today: date) -> tuple[Client | None, list[tuple[str, str]]]:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        return None, [("", f"not valid JSON: {exc.msg} (column {exc.colno})")]
    if not isinstance(data, dict):
        return None, [("", "a case file must be a JSON object")]
    errors: list[tuple[str, str]] = []
    values = _document_from_json(Client, data, keys, "", errors)
    values["id"] = ObjectId()
    updated_at = values.get("updated_at")
    try:
        client = Client(**values)
    except Exception as exc:  # defensive: field values are already typed, so this is unexpected
        return None, errors + [("", f"cannot build the case file: {exc}")]
    bad_paths = {path for path, _ in errors}
    try:
        client.validate()
    except ValidationError as exc:
        errors += [(path, message) for path, message in _flatten_validation(exc.to_dict() or {"": exc.message})
                   if path not in bad_paths]
    except Exception as exc:  # a field validator that fails in an unexpected way is still one line's error
        errors.append(("", f"cannot validate the case file: {exc}"))
    if updated_at is not None:
        client.updated_at = updated_at  # validate() stamps the clock; a migration keeps the file's value
    errors += [(".".join(str(part) for part in path), message)
               for path, message in rules.case_file_errors(client, today)
               if ".".join(str(part) for part in path) not in bad_paths]
    return client, _unique(errors)


def _unique(errors: list[tuple[str, str]]) -> list[tuple[str, str]]:
    seen, out = set(), []
    for error in errors:
        if error not in seen:
            seen.add(error)
            out.append(error)
    return out


def _flatten_validation(tree: Any, prefix: str = "") -> Iterable[tuple[str, str]]:
    if isinstance(tree, dict):
        for key, sub in tree.items():
            yield from _flatten_validation(sub, f"{prefix}.{key}" if prefix else str(key))
    else:
        message = str(tree)
        yield prefix, "required" if message == "Field is required" else message


def _document_from_json(model: type, data: dict, keys: _Keys, prefix: str, errors: list) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, value in data.items():
        path = prefix + name
        field_ = model._fields.get(name)
        if field_ is None or name in SKIPPED_FIELDS:
            errors.append((path, "unknown key"))
            continue
        if value is None:
            continue  # empty: the field's default applies
        try:
            values[name] = _value_from_json(field_, value, keys, path, errors)
        except _FieldError as exc:
            errors.append((path, str(exc)))
    return values


def _value_from_json(field_, value: Any, keys: _Keys, path: str, errors: list) -> Any:
    if isinstance(field_, EmbeddedDocumentField):
        if not isinstance(value, dict):
            raise _FieldError("not an object")
        model = field_.document_type
        return model(**_document_from_json(model, value, keys, path + ".", errors))
    if isinstance(field_, ListField):
        if not isinstance(value, list):
            raise _FieldError("not a list")
        items = []
        for index, item in enumerate(value):
            if item is None:
                errors.append((f"{path}.{index}", "empty item"))
                continue
            try:
                items.append(_value_from_json(field_.field, item, keys, f"{path}.{index}", errors))
            except _FieldError as exc:
                errors.append((f"{path}.{index}", str(exc)))
        return items
    if isinstance(field_, ReferenceField):
        model = _target(field_)
        if not isinstance(value, str):
            raise _FieldError(f"not a {NATURAL_KEYS[model]}")
        matches = keys.by_key[model].get(_fold(model, value), [])
        noun = {User: "user", Organisation: "organisation", Employer: "employer"}[model]
        if not matches:
            what = "user email" if model is User else f"{noun} name"
            raise _FieldError(f"unknown {what} {value!r}")
        if len(matches) > 1:
            raise _FieldError(f"{noun} name {value!r} matches {len(matches)} {noun}s; rename one first")
        return matches[0]
    if isinstance(field_, DateField):
        if not isinstance(value, str) or not _ISO_DATE.match(value):
            raise _FieldError(f"not a date {value!r}")
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise _FieldError(f"not a date {value!r}") from None
    if isinstance(field_, DateTimeField):
        try:
            return datetime.fromisoformat(value) if isinstance(value, str) else _raise(value, "a date and time")
        except ValueError:
            raise _FieldError(f"not a date and time {value!r}") from None
    if isinstance(field_, BooleanField):
        return value if isinstance(value, bool) else _raise(value, "true or false")
    if isinstance(field_, IntField):
        return value if isinstance(value, int) and not isinstance(value, bool) else _raise(value, "a whole number")
    if isinstance(field_, DecimalField):
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            _raise(value, "a number")
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            _raise(value, "a number")
        if not number.is_finite():
            _raise(value, "a number")
        return number
    if isinstance(field_, FloatField):
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else _raise(value, "a number")
    if isinstance(field_, StringField):
        if not isinstance(value, str):
            _raise(value, "text")
        if field_.choices:
            allowed = [c[0] if isinstance(c, (tuple, list)) else c for c in field_.choices]
            if value not in allowed:
                raise _FieldError(f"{value!r} is not one of: {', '.join(allowed)}")
        return value
    raise _FieldError(f"this kind of field ({field_.__class__.__name__}) cannot be imported")


def _raise(value: Any, expected: str):
    raise _FieldError(f"not {expected} {value!r}")
