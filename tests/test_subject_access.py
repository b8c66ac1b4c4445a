"""Subject access: one archive with every part of one client's case file and only that client's; the access
report; both permissions refused to roles without them; the production audited."""
from __future__ import annotations

import io
import json
import zipfile
from datetime import date, timedelta

import gridfs
import pytest
from mongoengine import get_db

from admin_app.models import AuditEvent
from admin_app.models.case_file import GrantBid
from admin_app.models.grants import GrantAttachment
from tests.conftest import csrf_token, new_client
from tests.test_field_classes import NAME, SECRETS, full_case

TODAY = date.today()


@pytest.fixture
def cases(app, users):
    ours = full_case(users["worker"])
    file_id = gridfs.GridFS(get_db(), collection="grant_attachments").put(b"%PDF business plan of the car wash")
    ours.grant_bids = [GrantBid(purpose="Mobile car wash", amount_asked=900,
                                attachment=GrantAttachment(file_id=str(file_id), filename="plan (final).pdf"))]
    ours.save()
    other = new_client("E4E-O0001", worker=users["worker2"], first_name="Someone", last_name="Elsewhere-Entirely",
                       phone="07700 900777")
    return ours, other


def archive_of(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def check_archive(files: dict[str, bytes]) -> None:
    assert {"case-file.json", "timeline.csv", "disclosures-to-police.csv", "access-report.csv", "README.txt"} <= set(files)
    case = json.loads(files["case-file.json"])
    assert case["reference"] == "E4E-F0001" and case["first_name"] == NAME[0] and case["phone"] == "07700 900123"
    everything = b"".join(files.values()).decode("utf-8", "replace")
    # Every restricted part, decrypted.
    for secret in SECRETS.values():
        assert secret in everything, secret
    assert files["documents/" + next(n.split("/", 1)[1] for n in files if n.startswith("documents/"))].startswith(b"%PDF")
    assert "Shared-named-threat-to-life" in files["disclosures-to-police.csv"].decode("utf-8-sig")
    # Only this client.
    assert "E4E-O0001" not in everything and "Elsewhere-Entirely" not in everything and "07700 900777" not in everything


def test_sar_command_writes_every_part_of_one_client_and_is_audited(app, users, login, cases, tmp_path):
    ours, _ = cases
    login("manager").get(f"/admin/casefile/{ours.pk}/")
    out = tmp_path / "sar.zip"
    result = app.test_cli_runner().invoke(args=["sar", "E4E-F0001", str(out)])
    assert result.exit_code == 0, result.output
    files = archive_of(out.read_bytes())
    check_archive(files)
    report = files["access-report.csv"].decode("utf-8-sig")
    assert users["manager"].email in report and "Read restricted parts" in report
    event = AuditEvent.objects(action="subject_access", record_id=str(ours.pk)).first()
    assert event is not None and event.actor == "cli:sar" and NAME[0] not in event.summary


def test_sar_command_refuses_an_unknown_reference_or_an_existing_file(app, cases, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["sar", "E4E-NOPE", str(tmp_path / "a.zip")])
    assert result.exit_code != 0 and "no case file E4E-NOPE" in result.output and not (tmp_path / "a.zip").exists()
    existing = tmp_path / "b.zip"
    existing.write_bytes(b"keep me")
    result = runner.invoke(args=["sar", "E4E-F0001", str(existing)])
    assert result.exit_code != 0 and "already exists" in result.output and existing.read_bytes() == b"keep me"


def test_a_manager_downloads_the_archive_from_the_access_report(app, users, login, cases):
    ours, _ = cases
    manager = login("manager")
    assert f"/admin/casefile/{ours.pk}/access" in manager.get(f"/admin/casefile/{ours.pk}/").get_data(as_text=True)
    page = manager.get(f"/admin/casefile/{ours.pk}/access").get_data(as_text=True)
    assert "Read restricted parts" in page and users["manager"].email in page
    url = f"/admin/casefile/{ours.pk}/subject-access"
    response = manager.post(url, data={"csrf_token": csrf_token(manager, f"/admin/casefile/{ours.pk}/access")})
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert "subject-access-E4E-F0001" in response.headers["Content-Disposition"]
    check_archive(archive_of(response.data))
    assert AuditEvent.objects(action="subject_access", actor=users["manager"].email).count() == 1
    # The production shows in the access report.
    assert "Subject access produced" in manager.get(f"/admin/casefile/{ours.pk}/access").get_data(as_text=True)


@pytest.mark.parametrize("role", ["worker", "admin_staff", "evaluator", "commissioner", "grant_panel"])
def test_roles_without_the_permissions_get_neither_the_report_nor_the_archive(app, users, login, cases, role):
    ours, _ = cases
    browser = login(role)
    assert browser.get(f"/admin/casefile/{ours.pk}/access").status_code == 403
    token = csrf_token(browser, "/admin/")
    response = browser.post(f"/admin/casefile/{ours.pk}/subject-access", data={"csrf_token": token})
    assert response.status_code == 403
    assert AuditEvent.objects(action="subject_access").count() == 0


def test_the_archive_of_a_case_file_out_of_scope_is_not_found(app, users, login, cases):
    from admin_app.models import Role

    role = Role.objects(name="worker").first()
    role.permissions = sorted(set(role.permissions) | {"client.access_report", "client.subject_access"})
    role.save()
    _, other = cases
    worker = login("worker")
    assert worker.get(f"/admin/casefile/{other.pk}/access").status_code == 404
    token = csrf_token(worker, "/admin/")
    assert worker.post(f"/admin/casefile/{other.pk}/subject-access", data={"csrf_token": token}).status_code == 404
