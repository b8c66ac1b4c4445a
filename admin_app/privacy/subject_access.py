"""Subject access: everything held about one client, as one zip archive for the person (UK GDPR Art. 15).

The archive holds the case file decrypted (JSON, in the import/export format of docs/case-file-format.md), its
timeline as a table, the disclosures to police, the grant-bid documents, and the access report: who opened the
case file and its restricted parts, and every change, from the audit log. Producing it is itself audited.
"""
from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime
from typing import IO

import gridfs
from bson import ObjectId
from mongoengine import get_db

from admin_app import audit
from admin_app.casefile_io import export_cases
from admin_app.models.audit import AUDIT_ACTIONS, AuditEvent
from admin_app.models.case_file import Client
from admin_app.models.risk import AFFILIATION_CONFIDENCE, AFFILIATION_SOURCES, VISIT_STATUSES, Affiliation, Visit
from admin_app.timeline import timeline
from admin_app.vocabulary import DISCLOSURE_BASES, label
from exports.cells import neutralise

ATTACHMENTS = "grant_attachments"


class NoSuchCaseFile(LookupError):
    pass


def access_events(client_id):
    """The audit log of one case file, newest first: openings, reads of restricted parts, changes, productions."""
    return AuditEvent.objects(collection="clients", record_id=str(client_id)).order_by("-at")


def _csv(rows: list[list], header: list[str]) -> bytes:
    """A file the client will open in a spreadsheet: what anyone typed stays text, never a formula."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([neutralise(cell) if isinstance(cell, str) else cell for cell in row] for row in rows)
    return out.getvalue().encode("utf-8-sig")


def _day(value) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def build(client: Client, target: IO[bytes], produced_by: str) -> list[str]:
    """Write the archive of `client` to a binary file; returns the names of the files in it."""
    names = []
    actions = dict(AUDIT_ACTIONS)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        def add(name: str, data: bytes) -> None:
            archive.writestr(name, data)
            names.append(name)

        case_json = io.StringIO()
        export_cases(case_json, [client])
        add("case-file.json", case_json.getvalue().encode("utf-8"))
        add("timeline.csv", _csv([[_day(e.date), e.title, e.detail] for e in timeline(client)],
                                 ["Date", "What", "Detail"]))
        add("disclosures-to-police.csv", _csv(
            [[_day(d.date), label(DISCLOSURE_BASES, d.basis), d.decided_by or "", d.authorised_by or "",
              d.shared_with or "", d.what_shared or "", _day(d.written_report_date)] for d in client.disclosures],
            ["Date", "Basis", "Decided by", "Authorised by", "Shared with", "What was shared", "Written report"]))
        add("access-report.csv", _csv(
            [[e.at.strftime("%d/%m/%Y %H:%M:%S"), e.actor or "", actions.get(e.action, e.action), e.summary or "",
              "; ".join(str(c.get("field")) for c in e.changes or [] if isinstance(c, dict)), e.ip or ""]
             for e in access_events(client.pk)],
            ["When (UTC)", "Who", "What", "Summary", "Fields", "From address"]))
        add("affiliations.csv", _csv(
            [[_day(a.date), str(a.group.name) if a.group else "", label(AFFILIATION_CONFIDENCE, a.confidence),
              label(AFFILIATION_SOURCES, a.source), a.source_detail or "", _day(a.ended_on), a.recorded_by or ""]
             for a in Affiliation.objects(client=client.pk).order_by("date")],
            ["Date recorded", "Group", "Confidence", "Source", "Source detail", "No longer affiliated from",
             "Recorded by"]))
        add("visits.csv", _csv(
            [[v.starts_at.strftime("%d/%m/%Y %H:%M"), v.ends_at.strftime("%d/%m/%Y %H:%M"),
              str(v.venue.name) if v.venue else "", v.purpose or "", label(VISIT_STATUSES, v.status)]
             for v in Visit.objects(clients=client.pk).order_by("starts_at")],
            ["Starts", "Ends", "Venue", "Purpose", "Status"]))
        files = gridfs.GridFS(get_db(), collection=ATTACHMENTS)
        for bid in client.grant_bids:
            attachment = bid.attachment
            if attachment is None or not ObjectId.is_valid(attachment.file_id):
                continue
            try:
                data = files.get(ObjectId(attachment.file_id)).read()
            except gridfs.NoFile:
                continue
            add(f"documents/{bid.bid_id}-{_safe(attachment.filename)}", data)
        add("README.txt", _readme(client, produced_by, names).encode("utf-8"))
    return names


def _safe(filename: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in filename or "file")[:120]


def _readme(client: Client, produced_by: str, names: list[str]) -> str:
    return (f"Subject access archive for case file {client.reference}\n"
            f"Produced {datetime.utcnow():%d/%m/%Y %H:%M} UTC by {produced_by}.\n\n"
            "Everything Enterprise for Employment holds about this person:\n"
            "- case-file.json: the whole case file, every field, decrypted\n"
            "- timeline.csv: everything recorded, by date\n"
            "- disclosures-to-police.csv: disclosures made to police and their written reports\n"
            "- access-report.csv: who opened the case file or its restricted parts, and every change\n"
            "- documents/: documents uploaded with grant bids\n\n"
            "Files: " + ", ".join(names) + "\n")


def produce(reference: str, target: IO[bytes], produced_by: str) -> list[str]:
    """Build the archive of the case file with this reference and audit the production."""
    client = Client.objects(reference=reference).first()
    if client is None:
        raise NoSuchCaseFile(f"There is no case file {reference}.")
    names = build(client, target, produced_by)
    audit.record("subject_access", collection="clients", record_id=client.pk, actor=produced_by,
                 summary=f"{client.reference}: subject access archive produced ({len(names)} files)")
    return names
