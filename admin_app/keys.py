"""Key rotation: re-encrypt every encrypted case-file field under the first configured key, and encrypt any
value stored in plain text before its field was encrypted."""
from __future__ import annotations

from mongoengine import ListField

from admin_app import crypto
from admin_app.models.case_file import Client


def _encrypted_paths():
    """(list field or None, path within it) of every encrypted field, from the model's declarations."""
    from admin_app.privacy.classes import fields_of

    for path, field, _ in fields_of(Client):
        if getattr(field, "encrypted", False):
            head, *rest = path.split(".")
            if isinstance(Client._fields[head], ListField):
                yield head, tuple(rest)
            else:
                yield None, tuple(path.split("."))


# Where encrypted text lives in a client document: (list field or None, field path).
ENCRYPTED_PATHS = tuple(_encrypted_paths())
PROJECTION = {(f"{lst}" if lst else ".".join(path)): 1 for lst, path in ENCRYPTED_PATHS}
ATTEMPTS = 5


class StillChanging(Exception):
    """A case file changed under the rotation every time it was tried."""


def _tokens(raw: dict):
    """(dotted path, stored value) of every encrypted field in a client document, list items by position."""
    for list_name, path in ENCRYPTED_PATHS:
        containers = [("", raw)] if list_name is None else [
            (f"{list_name}.{i}.", item) for i, item in enumerate(raw.get(list_name) or []) if isinstance(item, dict)]
        for prefix, container in containers:
            value = container
            for part in path:
                value = value.get(part) if isinstance(value, dict) else None
            if isinstance(value, str) and value:
                yield prefix + ".".join(path), value


def _current(value: str) -> str:
    """A token under the first key: re-encrypted if it is a token, encrypted if it was stored in plain text."""
    return crypto.rotate(value) if crypto.is_token(value) else crypto.encrypt(value)


def rotate_client_keys(batch_size: int = 500) -> int:
    """Stream clients (only the encrypted parts), re-encrypt, write back; returns fields rotated.

    Each value is written only where it still holds the token that was read, so a note added, edited
    or removed while the rotation runs is never overwritten: that document is read again and retried.
    """
    collection = Client._get_collection()
    rotated = 0
    for raw in collection.find({}, PROJECTION, batch_size=batch_size):
        for _ in range(ATTEMPTS):
            read = dict(_tokens(raw))
            if not read:
                break
            written = collection.update_one({"_id": raw["_id"], **read},
                                            {"$set": {path: _current(value) for path, value in read.items()}})
            if written.matched_count:
                rotated += len(read)
                break
            raw = collection.find_one({"_id": raw["_id"]}, PROJECTION)
            if raw is None:
                break
        else:
            raise StillChanging(f"Case file {raw['_id']} kept changing during key rotation; run rotate-keys again.")
    return rotated
