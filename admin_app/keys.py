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


def _rotate_in(container: dict, path: tuple[str, ...]) -> bool:
    *parents, last = path
    for part in parents:
        container = container.get(part) or {}
    token = container.get(last)
    if crypto.is_token(token):
        container[last] = crypto.rotate(token)
        return True
    return False


def rotate_client_keys(batch_size: int = 500) -> int:
    """Stream clients (only the encrypted parts), re-encrypt, write back; returns fields rotated."""
    collection = Client._get_collection()
    projection = {"assessment.conviction_details": 1, "risk_notes": 1, "safeguarding_concerns": 1, "disclosures": 1}
    rotated = 0
    for raw in collection.find({}, projection, batch_size=batch_size):
        changes = {}
        for list_name, path in ENCRYPTED_PATHS:
            if list_name is None:
                if _rotate_in(raw, path):
                    changes[".".join(path)] = raw[path[0]][path[1]]
                    rotated += 1
            else:
                items = raw.get(list_name) or []
                touched = [_rotate_in(item, path) for item in items]
                if any(touched):
                    changes[list_name] = items
                    rotated += sum(touched)
        if changes:
            collection.update_one({"_id": raw["_id"]}, {"$set": changes})
    return rotated
