"""Anonymisation instead of deletion: a case file keeps its coded data (dates, codes, numbers, references to
staff and employers), so every KPI and past return gives the same figures, and loses everything that
identifies or describes the person: identity and contact details, every classified field, and free text.

What is kept is declared below (KEPT_TEXT); everything else is decided from the model's declarations, so a
field added later is removed unless it is coded or named here. Other collections that may name the person
(audit summaries and diffs, notices, break-glass reasons, saved searches) are scrubbed of their names and contact details.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

import gridfs
from bson import ObjectId
from mongoengine import get_db
from mongoengine.fields import EmbeddedDocumentField, ListField, StringField

from admin_app import audit
from admin_app.search import client_search_keys
from admin_app.models.audit import AuditEvent
from admin_app.models.case_file import Client
from admin_app.privacy.classes import class_of

#: What an anonymised text field holds when the field must have a value.
PLACEHOLDER = "[anonymised]"
#: Short text kept because it is coded, a member of staff, or needed for a figure (job types count for fidelity).
KEPT_TEXT = frozenset({
    "reference", "consent.isa_version", "outcomes.job_type", "grant_bids.bid_id", "grant_bids.pot",
    "grant_bids.payments.reference",
})
#: Text a rule asks for even where the model does not require it: a rejected referral must have a rationale
#: (rules.referral_errors), so it keeps the placeholder and the case file can still be saved.
NEEDED_TEXT = frozenset({"referral.rationale"})
#: Where the bytes of grant-bid attachments live (GridFS), and the embedded attachment's path.
ATTACHMENTS = "grant_attachments"
ATTACHMENT_PATH = "grant_bids.attachment"
_REMOVE = object()


class CannotAnonymise(Exception):
    """The case file cannot be anonymised now; the message says why and what to do."""


@dataclass(frozen=True)
class Result:
    reference: str
    fields_removed: int
    attachments_removed: int
    records_scrubbed: int


def _kept_text(path: str) -> bool:
    # Fields naming who did something are members of staff, not the client.
    return path in KEPT_TEXT or path.endswith("_by") or path.endswith(".by") or path == "by"


def _same_age_birth_date(born: date, referral: date | None) -> date:
    """A birth date giving the same whole-years age on the referral date (so eligibility and age bands hold),
    but not the person's own: the referral's day and month in the year that gives that age."""
    if referral is None:
        return date(born.year, 7, 1)
    age = referral.year - born.year - ((referral.month, referral.day) < (born.month, born.day))
    year = referral.year - age
    day = referral.day if not (referral.month == 2 and referral.day == 29) else 28
    return date(year, referral.month, day)


def _as_date(value):
    return value.date() if isinstance(value, datetime) else value


class _Scrubber:
    def __init__(self, raw: dict):
        self.raw = raw
        self.removed = 0
        self.attachments: list[str] = []

    def document(self, document_type, raw: dict, prefix: str) -> dict:
        out = {}
        for name, field in document_type._fields.items():
            db = field.db_field
            if db not in raw:
                continue
            value = self.value(field, raw[db], f"{prefix}{name}")
            if value is not _REMOVE:
                out[db] = value
        # Keys the model does not declare (older data) are kept only if they are not text.
        declared = {f.db_field for f in document_type._fields.values()}
        for key, value in raw.items():
            if key not in declared and not isinstance(value, str):
                out[key] = value
            elif key not in declared:
                self.removed += 1
        return out

    def value(self, field, value, path: str):
        if path == ATTACHMENT_PATH:
            if isinstance(value, dict) and value.get("file_id"):
                self.attachments.append(value["file_id"])
            self.removed += 1
            return _REMOVE
        if isinstance(field, ListField):
            inner = field.field
            if isinstance(inner, EmbeddedDocumentField):
                return [self.document(inner.document_type, item, f"{path}.") if isinstance(item, dict) else item
                        for item in value or []]
            if class_of(field) is not None:
                self.removed += 1
                return _REMOVE
            return value
        if isinstance(field, EmbeddedDocumentField):
            return self.document(field.document_type, value, f"{path}.") if isinstance(value, dict) else value
        if path == "date_of_birth" and value is not None:
            referral = _as_date((self.raw.get("referral") or {}).get("date"))
            self.removed += 1
            return datetime.combine(_same_age_birth_date(_as_date(value), referral), datetime.min.time())
        text = isinstance(field, StringField) and not field.choices and not _kept_text(path)
        if value in (None, "") or not (text or class_of(field) is not None):
            return value
        self.removed += 1
        if (field.required or path in NEEDED_TEXT) and isinstance(field, StringField):
            return field.to_mongo(PLACEHOLDER)
        return _REMOVE


def _identifiers(client: Client) -> list[str]:
    """The person's names and contact details as they may appear elsewhere, longest first."""
    values = {client.first_name, client.last_name, client.phone, client.postcode,
              f"{client.first_name} {client.last_name}"}
    return sorted({v.strip() for v in values if v and len(v.strip()) >= 2 and v.strip() != PLACEHOLDER},
                  key=len, reverse=True)


def _redact(text, pattern: re.Pattern):
    return pattern.sub(PLACEHOLDER, text) if isinstance(text, str) else text


def scrub_elsewhere(client_id, identifiers: list[str]) -> int:
    """Remove the person's names and contact details from the audit log, notices, break-glass reasons, visits and
    saved searches, and their affiliations; how many records changed. The audit log is append-only for the application, but erasure overrides
    it: only the name is replaced, never who did what or when."""
    if not identifiers:
        return 0
    pattern = re.compile("|".join(re.escape(v) for v in identifiers), re.IGNORECASE)
    full = re.escape(identifiers[0])
    db = get_db()
    changed = 0
    audit_events = AuditEvent._get_collection()
    for event in audit_events.find({"$or": [{"collection": "clients", "record_id": str(client_id)},
                                            {"summary": {"$regex": full, "$options": "i"}}]}):
        summary = _redact(event.get("summary"), pattern)
        changes = [{**change, "old": _redact(change.get("old"), pattern), "new": _redact(change.get("new"), pattern)}
                   for change in event.get("changes") or [] if isinstance(change, dict)]
        if summary != event.get("summary") or changes != (event.get("changes") or []):
            audit_events.update_one({"_id": event["_id"]}, {"$set": {"summary": summary, "changes": changes}})
            changed += 1
    for notice in db["notices"].find({"text": {"$regex": full, "$options": "i"}}):
        db["notices"].update_one({"_id": notice["_id"]}, {"$set": {"text": _redact(notice["text"], pattern)}})
        changed += 1
    for opening in db["break_glass"].find({"client": client_id}):
        reason = _redact(opening.get("reason"), pattern)
        if reason != opening.get("reason"):
            db["break_glass"].update_one({"_id": opening["_id"]}, {"$set": {"reason": reason}})
            changed += 1
    # Affiliations serve no figure: with the person gone, so is their link to a group.
    changed += db["affiliations"].delete_many({"client": client_id}).deleted_count
    for visit in db["visits"].find({"clients": client_id}, {"purpose": 1, "override_reason": 1}):
        texts = {name: _redact(visit.get(name), pattern) for name in ("purpose", "override_reason")}
        if any(texts[name] != visit.get(name) for name in texts):
            db["visits"].update_one({"_id": visit["_id"]}, {"$set": texts})
            changed += 1
    for saved in db["saved_filters"].find({"search": {"$regex": f"^\\s*({'|'.join(map(re.escape, identifiers))})\\s*$",
                                                      "$options": "i"}}):
        db["saved_filters"].update_one({"_id": saved["_id"]}, {"$unset": {"search": ""}})
        changed += 1
    return changed


def _end_client_account(client_id) -> int:
    """The client's own sign-in (client space) names them by email: the account and its user go."""
    from admin_app.models.client_space import ClientAccount
    from admin_app.models.people import User

    account = ClientAccount.objects(client=client_id).first()
    if account is None:
        return 0
    user_id = account.user.pk if account.user else None
    account.delete()
    if user_id is not None:
        User.objects(pk=user_id).delete()
    return 1


def anonymise(reference: str, reason: str, actor: str, today: date) -> Result:
    """Anonymise one closed case file, audited with the reason; CannotAnonymise says why it cannot."""
    reason = (reason or "").strip()
    if not reason:
        raise CannotAnonymise("Give the reason for anonymising (for example the erasure request's date).")
    client = Client.objects(reference=reference).first()
    if client is None:
        raise CannotAnonymise(f"There is no case file {reference}.")
    if client.anonymised_on is not None:
        raise CannotAnonymise(f"{reference} was already anonymised on {client.anonymised_on:%d/%m/%Y}.")
    if client.legal_hold:
        raise CannotAnonymise(f"{reference} is under a legal hold ({client.legal_hold}); lift the hold first.")
    if client.status != "closed":
        raise CannotAnonymise(f"{reference} is not closed; close the case before anonymising it.")
    identifiers = _identifiers(client)
    collection = Client._get_collection()
    raw = collection.find_one({"_id": client.pk})
    scrubber = _Scrubber(raw)
    replacement = scrubber.document(Client, raw, "")
    replacement["_id"] = raw["_id"]
    replacement["anonymised_on"] = datetime.combine(today, datetime.min.time())
    replacement["updated_at"] = datetime.utcnow()
    # Found by its reference only from now on: the folded names go with the names.
    replacement["search_keys"] = client_search_keys(raw.get("reference"), None, None)
    # Only onto the case file as read: a change made meanwhile makes this miss, and nothing is lost.
    written = collection.replace_one({"_id": raw["_id"], "updated_at": raw.get("updated_at"),
                                      "version": raw.get("version")}, replacement)
    if written.matched_count != 1:
        raise CannotAnonymise(f"{reference} changed while it was being anonymised; nothing was changed, try again.")
    files = gridfs.GridFS(get_db(), collection=ATTACHMENTS)
    for file_id in scrubber.attachments:
        if ObjectId.is_valid(file_id):
            files.delete(ObjectId(file_id))  # deleting a file already gone is not an error
    scrubbed = scrub_elsewhere(client.pk, identifiers) + _end_client_account(client.pk)
    audit.record("anonymise", collection="clients", record_id=client.pk, actor=actor,
                 summary=f"{reference}: anonymised ({reason[:300]})",
                 changes=[{"field": "fields removed", "old": None, "new": scrubber.removed},
                          {"field": "attachments removed", "old": None, "new": len(scrubber.attachments)},
                          {"field": "other records scrubbed", "old": None, "new": scrubbed}])
    return Result(reference, scrubber.removed, len(scrubber.attachments), scrubbed)
