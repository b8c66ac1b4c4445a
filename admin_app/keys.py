"""Key rotation: re-encrypt every encrypted case-file field under the first configured key."""
from __future__ import annotations

from admin_app import crypto
from admin_app.models.case_file import Client

# Where encrypted text lives in a client document: (list field or None, field path).
ENCRYPTED_PATHS = (
    (None, ("assessment", "conviction_details")),
    ("risk_notes", ("text",)),
    ("safeguarding_concerns", ("concern",)),
    ("disclosures", ("what_shared",)),
)


PROJECTION = {"assessment.conviction_details": 1, "risk_notes": 1, "safeguarding_concerns": 1, "disclosures": 1}
ATTEMPTS = 5


class StillChanging(Exception):
    """A case file changed under the rotation every time it was tried."""


def _tokens(raw: dict):
    """(dotted path, token) of every encrypted value in a client document, list items by position."""
    for list_name, path in ENCRYPTED_PATHS:
        containers = [("", raw)] if list_name is None else [
            (f"{list_name}.{i}.", item) for i, item in enumerate(raw.get(list_name) or []) if isinstance(item, dict)]
        for prefix, container in containers:
            value = container
            for part in path:
                value = value.get(part) if isinstance(value, dict) else None
            if crypto.is_token(value):
                yield prefix + ".".join(path), value


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
                                            {"$set": {path: crypto.rotate(token) for path, token in read.items()}})
            if written.matched_count:
                rotated += len(read)
                break
            raw = collection.find_one({"_id": raw["_id"]}, PROJECTION)
            if raw is None:
                break
        else:
            raise StillChanging(f"Case file {raw['_id']} kept changing during key rotation; run rotate-keys again.")
    return rotated
