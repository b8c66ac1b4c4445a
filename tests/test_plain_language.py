"""People read words, UK dates and names: no ISO dates, no database ids, no stored codes on any list, details
or case-file page of any role, and an audit log that reads as a table of who changed what."""
from __future__ import annotations

import csv
import html
import io
import re
from datetime import date, datetime
from urllib.parse import urlsplit

import mongoengine
import pytest
from mongoengine.base.common import _document_registry

from admin_app import formats
from admin_app.vocabulary import ROLES as ROLE_NAMES
from tests.conftest import build_app, sign_in

LINK = re.compile(r'href="(/admin/[^"#]*)"')
#: Forms are for typing (a date box holds an ISO value by HTML's rule); these pages are for reading.
NOT_FOLLOWED = ("/delete", "/export/", "/download/", "logout", "/admin/static/", "/new/", "/edit/", "/add/", "/change/",
                "/remove", "/decide", "/status", "/anonymise", "/legal-hold", "/break-glass")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
SECONDS = re.compile(r"\b\d{1,2}:\d{2}:\d{2}\b")
OBJECT_ID = re.compile(r"\b[0-9a-f]{24}\b")
EMAIL = re.compile(r"[\w.+-]+@[\w.-]+")
FILE_NAME = re.compile(r"[\w.-]+\.(?:xlsx|csv|zip)\b")
ROLES = ("admin@demo.e4e", "manager@demo.e4e", "worker1@demo.e4e", "admin_staff@demo.e4e", "grant_panel@demo.e4e",
         "evaluator@demo.e4e", "commissioner@demo.e4e")


def stored_codes() -> set[str]:
    """Every choice value of every document field that is a code rather than a word (it has an underscore)."""
    from mongoengine.base import get_document

    codes = set()

    def walk(fields):
        for field in fields.values():
            inner = getattr(field, "field", None) or field
            for one in (field, inner):
                for choice in getattr(one, "choices", None) or ():
                    value = choice[0] if isinstance(choice, (tuple, list)) else choice
                    if isinstance(value, str) and "_" in value:
                        codes.add(value)
            document_type = getattr(inner, "document_type", None)
            if isinstance(inner, mongoengine.EmbeddedDocumentField) and document_type is not None:
                walk(document_type._fields)

    for name in list(_document_registry):
        walk(get_document(name)._fields)
    return codes | {role for role, _ in ROLE_NAMES if "_" in role}


def visible_text(page: str) -> str:
    """What a reader sees: no scripts, head, attributes, or the filter widget's hidden data."""
    page = re.sub(r"(?s)<(script|style|head|template)\b.*?</\1>", " ", page)
    page = re.sub(r'(?s)<div id="filter-groups-data".*?</div>', " ", page)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def machine_values(text: str, codes: set[str]) -> list[str]:
    words = FILE_NAME.sub(" ", EMAIL.sub(" ", text))  # an address or a file's name is what it is
    found = ISO_DATE.findall(words) + SECONDS.findall(words) + OBJECT_ID.findall(words)
    found += [code for code in codes if re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", words)]
    return found


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    from admin_app.cli import seed_demo_data

    app = build_app(tmp_path_factory.mktemp("plain"))
    with app.app_context():
        seed_demo_data(clients=30)
    return app


@pytest.mark.parametrize("email", ROLES)
def test_no_page_a_role_reads_shows_iso_dates_ids_or_codes(demo_app, email):
    client = demo_app.test_client()
    assert sign_in(client, email, demo_app.config["DEMO_PASSWORD"]).status_code == 302
    codes = stored_codes()
    seen, queue, problems = set(), ["/admin/"], {}
    while queue:
        url = html.unescape(queue.pop(0))
        screen = urlsplit(url).path
        if screen in seen or any(part in url for part in NOT_FOLLOWED):
            continue
        seen.add(screen)
        response = client.get(url)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        page = response.get_data(as_text=True)
        queue.extend(LINK.findall(page))
        found = machine_values(visible_text(page), codes)
        if found:
            problems[url] = sorted(set(found))[:8]
    assert len(seen) >= 2  # the walk went beyond the home page
    assert problems == {}


def test_the_check_finds_what_it_looks_for():
    codes = {"referral_partner"}
    assert machine_values("Kind referral_partner on 2026-04-01 at 10:11:12, id 6b0cb9a53da456af4ab6abe0", codes) == [
        "2026-04-01", "10:11:12", "6b0cb9a53da456af4ab6abe0", "referral_partner"]
    assert machine_values("Referral partner on 01/04/2026 10:11, grant_panel@demo.e4e", codes) == []


# --- one formatting layer ---------------------------------------------------------------------------

def test_times_are_shown_in_london_time_to_the_minute():
    assert formats.uk_datetime(datetime(2026, 7, 1, 11, 5, 59, 123456)) == "01/07/2026 12:05"  # BST
    assert formats.uk_datetime(datetime(2026, 12, 1, 11, 5, 59)) == "01/12/2026 11:05"  # GMT
    assert formats.uk_datetime(datetime(2026, 7, 1, 11, 5), wall_clock=True) == "01/07/2026 11:05"
    assert formats.uk_date(date(2026, 4, 1)) == "01/04/2026"
    assert formats.uk_date(datetime(2026, 1, 31, 23, 30)) == "31/01/2026"  # GMT: the same day
    assert formats.uk_date(datetime(2026, 6, 30, 23, 30)) == "01/07/2026"  # already the next day in London


@pytest.fixture
def organisation(app):
    from admin_app.models.partners import Organisation

    with app.app_context():
        return Organisation(name="Aston Youth Club", kind="referral_partner", org_type="community_group").save()


def test_organisations_list_details_filter_and_export_speak_in_labels(app, login, organisation):
    from admin_app.models.partners import Organisation

    with app.app_context():
        Organisation(name="Second Step Housing", kind="signposting_partner").save()
    manager = login("manager")
    listed = visible_text(manager.get("/admin/organisation/").get_data(as_text=True))
    assert "Referral partner" in listed and "Community group" in listed and "Signposting partner" in listed
    assert machine_values(listed, stored_codes()) == []

    details = visible_text(manager.get(f"/admin/organisation/details/?id={organisation.pk}").get_data(as_text=True))
    assert "Partner kind" in details and "Referral partner" in details and "referral_partner" not in details

    page = manager.get("/admin/organisation/").get_data(as_text=True)
    assert '["signposting_partner", "Signposting partner"]' in page  # the filter offers labels to choose from
    filtered = visible_text(manager.get("/admin/organisation/?flt0_partner_kind_equals=signposting_partner")
                            .get_data(as_text=True))
    assert "Second Step Housing" in filtered and "Aston Youth Club" not in filtered

    exported = manager.get("/admin/organisation/export/csv/")
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True))))
    assert "Partner kind" in rows[0]
    kinds = {row[rows[0].index("Partner kind")] for row in rows[1:]}
    assert kinds == {"Referral partner", "Signposting partner"}


def test_lists_show_people_by_name_not_by_address(app, login, users):
    from admin_app.models.staff_time import StaffTime

    with app.app_context():
        StaffTime(staff=users["worker"], date=date(2026, 11, 2), kind="partner_meeting", minutes=60).save()
    page = visible_text(login("manager").get("/admin/stafftime/").get_data(as_text=True))
    assert "Partner meeting" in page and "02/11/2026" in page
    assert users["worker"].name in page


# --- the audit log --------------------------------------------------------------------------------

def _audit_rows(client, url="/admin/auditevent/") -> str:
    page = client.get(url).get_data(as_text=True)
    body = re.search(r'(?s)<table class="table[^"]*model-list".*?</table>', page)
    return re.sub(r"(?s)<thead>.*?</thead>", "", body.group(0)) if body else ""


def test_audit_log_reads_as_who_changed_what_on_which_record(app, login, users, organisation):
    from admin_app import audit

    with app.app_context(), audit.acting_as(users["admin"].email):
        organisation.reload()
        organisation.kind = "both"
        organisation.org_type = None
        organisation.save()
    admin = login("admin")
    rows = _audit_rows(admin, "/admin/auditevent/?flt0_record_type_equals=organisations")
    text = visible_text(rows)
    assert "Partner kind: Referral partner → Referral and signposting partner" in text
    assert "Organisation type: Community group → (blank)" in text
    assert "Organisation" in text and "Aston Youth Club" in text and users["admin"].name in text
    assert f'href="/admin/organisation/details/?id={organisation.pk}"' in rows
    assert machine_values(text, stored_codes()) == []
    assert "{" not in text and "'field'" not in text  # no raw dictionary of changes

    exported = admin.get("/admin/auditevent/export/csv/?flt0_record_type_equals=organisations").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(exported)))
    changed = [row for row in rows if "Aston Youth Club" in row and "Changed" in row]
    assert changed and ("Partner kind: Referral partner → Referral and signposting partner; "
                        "Organisation type: Community group → (blank)") in changed[0]


def test_audit_log_names_referenced_records_and_case_files_by_reference(app, login, users):
    from admin_app import audit
    from tests.conftest import new_client

    with app.app_context():
        with audit.acting_as("seed"):
            case = new_client(reference="E4E-T0042", worker=users["worker"])
        with audit.acting_as(users["manager"].email):
            case.reload()
            case.worker = users["worker2"]
            case.save()
    text_rows = _audit_rows(login("admin"), "/admin/auditevent/?flt0_record_type_equals=clients")
    text = visible_text(text_rows)
    assert f"Worker: {users['worker'].name} → {users['worker2'].name}" in text
    assert "Case file" in text and "E4E-T0042" in text
    assert f'href="/admin/casefile/{case.pk}/"' in text_rows
    assert OBJECT_ID.findall(text) == []


def test_audit_entry_links_only_to_records_the_reader_may_open(app, login, users, organisation):
    from admin_app.models.people import Role
    from admin_app.views.people import AuditEventView  # noqa: F401  (the screen under test)

    with app.app_context():
        # A role that may read the audit log but not open organisations.
        role = Role.objects.get(name="manager")
        role.permissions = [p for p in role.permissions if not p.startswith("organisation.details")]
        if "auditevent.list" not in role.permissions:
            role.permissions.append("auditevent.list")
        role.save()
    rows = _audit_rows(login("manager"), "/admin/auditevent/?flt0_record_type_equals=organisations")
    assert "Aston Youth Club" in visible_text(rows)
    assert "/admin/organisation/details/" not in rows


def test_audit_details_page_lists_every_change_readably(app, login, users, organisation):
    from admin_app import audit
    from admin_app.models.audit import AuditEvent

    with app.app_context():
        with audit.acting_as(users["admin"].email):
            organisation.reload()
            organisation.active = False
            organisation.save()
        event = AuditEvent.objects(action="update", collection="organisations").first()
    text = visible_text(login("admin").get(f"/admin/auditevent/details/?id={event.pk}").get_data(as_text=True))
    assert "Active: Yes → No" in text
    assert OBJECT_ID.findall(text) == [] and ISO_DATE.findall(text) == []


def test_emails_the_demo_sends_speak_plainly(demo_app):
    """The export emails, the failed-run email to managers and the alerts: UK dates, words, no ids."""
    import email

    texts = []
    for path in demo_app.config["SETTINGS"].mail_folder.rglob("*.eml"):
        message = email.message_from_bytes(path.read_bytes())
        body = " ".join(part.get_payload(decode=True).decode("utf-8", "replace") for part in message.walk()
                        if part.get_content_type() == "text/plain")
        texts.append(re.sub(r"https?://\S+", " ", f"{message['Subject']} {body}"))  # links carry ids by design
    assert any("Export run failed" in text for text in texts) and len(texts) >= 5
    codes = stored_codes()
    assert {text[:60]: machine_values(text, codes) for text in texts if machine_values(text, codes)} == {}


def test_a_reference_to_a_removed_record_never_shows_its_id():
    from bson import DBRef, ObjectId
    from mongoengine import ReferenceField

    assert formats.field_value(ReferenceField("User"), DBRef("users", ObjectId())) == "(a record since removed)"
