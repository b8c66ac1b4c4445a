"""The app's commands: sync-roles, create-user, seed-demo, rotate-keys."""
from __future__ import annotations

from datetime import date, datetime

from cryptography.fernet import Fernet

from admin_app import crypto
from admin_app.models import Client, Role, User
from admin_app.models.case_file import RiskNote
from admin_app.permissions import DEFAULT_ROLE_PERMISSIONS
from tests.conftest import new_client


def test_sync_roles_is_idempotent_and_keeps_admin_edits(app):
    runner = app.test_cli_runner()
    worker = Role.objects(name="worker").first()
    worker.permissions = [p for p in worker.permissions if p != "client.create"]
    worker.save()
    first = runner.invoke(args=["sync-roles"])
    second = runner.invoke(args=["sync-roles"])
    assert first.exit_code == 0 and "already up to date" in second.output
    assert Role.objects.count() == len(DEFAULT_ROLE_PERMISSIONS)  # the staff roles and the client role
    assert "client.create" not in Role.objects(name="worker").first().permissions
    runner.invoke(args=["sync-roles", "--reset"])
    assert "client.create" in Role.objects(name="worker").first().permissions


def test_create_user_with_a_role(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-user", "New.Worker@Example.org", "--role", "worker", "--password", "long-enough-pass"])
    assert result.exit_code == 0, result.output
    user = User.objects(email="new.worker@example.org").first()
    assert user.role_names == {"worker"} and user.password != "long-enough-pass"


def test_create_user_refuses_bad_input_with_a_clear_line(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-user", "x@example.org", "--role", "wizard", "--password", "long-enough-pass"])
    assert result.exit_code != 0 and "wizard" in result.output
    result = runner.invoke(args=["create-user", "x@example.org", "--role", "worker", "--password", "short"])
    assert result.exit_code != 0 and "at least 12 characters" in result.output
    runner.invoke(args=["create-user", "x@example.org", "--role", "worker", "--password", "long-enough-pass"])
    result = runner.invoke(args=["create-user", "x@example.org", "--role", "worker", "--password", "long-enough-pass"])
    assert result.exit_code != 0 and "already exists" in result.output and "Traceback" not in result.output


def test_seed_demo_is_refused_outside_embedded_mode(make_app):
    app = make_app(embedded=False, app_env="production")
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code != 0 and "only in embedded" in result.output
    assert User.objects(email__endswith="@demo.e4e").count() == 0


def test_rotate_keys_re_encrypts_under_the_new_key(app):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    crypto.configure([old_key])
    case = new_client("E4E-K0001", risk_notes=[RiskNote(date=date.today(), text="Old secret note")])
    crypto.configure([new_key, old_key])
    result = app.test_cli_runner().invoke(args=["rotate-keys"])
    assert result.exit_code == 0 and "re-encrypted 1 fields" in result.output
    crypto.configure([new_key])
    assert Client.objects(pk=case.pk).first().risk_notes[0].text == "Old secret note"


def test_export_then_import_cases_through_the_commands(app, tmp_path, users):
    new_client("E4E-X0001", worker=users["worker"], risk_notes=[RiskNote(date=date.today(), text="Moved areas")])
    runner = app.test_cli_runner()
    path = tmp_path / "cases.jsonl"
    result = runner.invoke(args=["export-cases", str(path)])
    assert result.exit_code == 0 and "exported 1 case files" in result.output
    Client.objects.delete()
    result = runner.invoke(args=["import-cases", str(path)])
    assert result.exit_code == 0, result.output
    assert Client.objects(reference="E4E-X0001").first().risk_notes[0].text == "Moved areas"


def test_import_cases_reports_bad_lines_and_imports_nothing(app, tmp_path, users):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"reference": "E4E-Y0001"\nnot json\n', encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["import-cases", str(path)])
    assert result.exit_code != 0 and "line 1" in result.output and "line 2" in result.output
    assert "nothing imported" in result.output and Client.objects.count() == 0
    result = app.test_cli_runner().invoke(args=["import-cases", str(tmp_path / "missing.jsonl")])
    assert result.exit_code != 0 and "cannot read" in result.output and "Traceback" not in result.output


def test_kpis_command_prints_the_report_figures_for_the_period_and_scope(app, users):
    import json

    from admin_app.db import database
    from admin_app.metrics.periods import Period
    from admin_app.metrics.report import load_report
    from bson import ObjectId

    new_client("E4E-Z0001", worker=users["worker"])
    new_client("E4E-Z0002", worker=users["worker2"])
    runner = app.test_cli_runner()
    start, end = date(date.today().year - 1, 4, 1), date.today()
    result = runner.invoke(args=["kpis", "--from", start.isoformat(), "--to", end.isoformat(),
                                 "--worker", users["worker"].email, "--format", "json"])
    assert result.exit_code == 0, result.output
    expected = load_report(database(), {"worker": ObjectId(str(users["worker"].pk))}, Period(start, end))
    assert json.loads(result.output) == json.loads(json.dumps(expected, default=str))
    assert json.loads(result.output)["service"]["referrals"] == 1


def test_kpis_command_refuses_bad_dates_with_a_clear_line(app):
    result = app.test_cli_runner().invoke(args=["kpis", "--from", "01/04/2025", "--to", "2026-03-31"])
    assert result.exit_code != 0 and "YYYY-MM-DD" in result.output and "Traceback" not in result.output


def test_seed_demo_starts_the_usual_schedules_and_dispatch_runs_them_when_due(app, tmp_path):
    from datetime import datetime

    import exports
    from admin_app.models.exports import ExportRun, ExportSchedule

    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-demo", "--clients", "30"])
    assert result.exit_code == 0, result.output
    schedules = list(ExportSchedule.objects)
    assert {s.report for s in schedules} <= set(exports.REPORTS) and len(schedules) == 3
    assert all(s.next_due_at > datetime.utcnow() for s in schedules)
    assert "0 run(s) started" in runner.invoke(args=["dispatch-exports"]).output
    seeded = set(ExportRun.objects.scalar("id"))  # the demo's past runs (tests/test_demo.py)
    mails = len(list((tmp_path / "mail").glob("*.eml")))
    ExportSchedule.objects(name="Evaluator monthly extract").update_one(set__next_due_at=datetime(2026, 1, 1))
    result = runner.invoke(args=["dispatch-exports"])
    assert "1 run(s) started" in result.output, result.output
    run = ExportRun.objects.get(id__nin=list(seeded))
    assert run.status == "sent" and run.recipients == ["evaluator@demo.e4e"]
    assert len(list((tmp_path / "mail").glob("*.eml"))) == mails + 1


def test_rotate_keys_keeps_a_note_written_while_it_runs(app, monkeypatch):
    """A worker adds a risk note between the rotation reading a case file and writing it back."""
    from admin_app import keys

    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    crypto.configure([old_key])
    case = new_client("E4E-K0002", risk_notes=[RiskNote(date=date.today(), text="First note")])
    crypto.configure([new_key, old_key])
    real_rotate, interrupted = crypto.rotate, []

    def rotate_while_a_note_is_added(token):
        if not interrupted:
            interrupted.append(True)
            fresh = Client.objects(pk=case.pk).first()
            fresh.risk_notes.append(RiskNote(date=date.today(), text="Written during the rotation"))
            fresh.save()
        return real_rotate(token)

    monkeypatch.setattr(keys.crypto, "rotate", rotate_while_a_note_is_added)
    assert keys.rotate_client_keys() == 2
    crypto.configure([new_key])
    assert [n.text for n in Client.objects(pk=case.pk).first().risk_notes] == ["First note", "Written during the rotation"]


def test_create_user_refuses_an_address_the_sign_in_form_would_refuse(app):
    from admin_app.models import User

    runner = app.test_cli_runner()
    for address in ("someone@example.test", "not-an-address", "a@localhost"):
        result = runner.invoke(args=["create-user", address, "--role", "worker", "--password", "long-enough-pass"])
        assert result.exit_code != 0 and "cannot be used to sign in" in result.output, address
        assert "Traceback" not in result.output
    assert User.objects.count() == 0


def test_import_with_a_byte_that_is_not_utf8_names_the_line_and_imports_nothing(app, tmp_path):
    from admin_app.models import Client

    path = tmp_path / "cases.jsonl"
    path.write_bytes(b'{"reference": "E4E-U0001"}\n{"reference": "E4E-U0002", "first_name": "Jos\xe9"}\n')
    result = app.test_cli_runner().invoke(args=["import-cases", str(path)])
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "line 2" in lines[0] and "not UTF-8" in lines[0]
    assert Client.objects.count() == 0


def test_rotate_keys_encrypts_free_text_stored_before_its_field_was_encrypted(app):
    case = new_client("E4E-K0002")
    # As stored before contact notes and mitigations were encrypted: plain text in the document.
    Client._get_collection().update_one({"_id": case.pk}, {"$set": {
        "contacts": [{"_id": case.pk, "date": datetime(2026, 1, 5), "minutes": 30, "mode": "phone",
                      "note": "Plain old note"}],
        "vocational_profile": {"barriers": "Plain barrier"}}})
    # Read before the migration, the plain text shows as it is.
    assert Client.objects(pk=case.pk).first().contacts[0].note == "Plain old note"
    result = app.test_cli_runner().invoke(args=["rotate-keys"])
    assert result.exit_code == 0 and "re-encrypted 2 fields" in result.output
    stored = Client._get_collection().find_one({"_id": case.pk})
    assert crypto.is_token(stored["contacts"][0]["note"]) and crypto.is_token(stored["vocational_profile"]["barriers"])
    read = Client.objects(pk=case.pk).first()
    assert read.contacts[0].note == "Plain old note" and read.vocational_profile.barriers == "Plain barrier"
