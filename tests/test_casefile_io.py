"""JSON Lines import and export of case files: lossless round trip, every error by line, all or nothing."""
from __future__ import annotations

import copy
import io
import json
from datetime import date, timedelta

import mongoengine
import pytest

from tests.database import connect
from admin_app import casefile_io, crypto
from admin_app.casefile_io import ImportResult, export_cases, import_cases
from admin_app.demo import generate_demo
from admin_app.models.case_file import Client
from admin_app.models.partners import Employer
from admin_app.models.people import Role, User

TODAY = date(2026, 3, 15)


COLLECTIONS = ("roles", "users", "organisations", "employers", "staff_profiles", "clients")


def _connect():
    return connect("casefile_io")


@pytest.fixture(scope="module")
def demo_dump() -> dict:
    """Seed 40 demo case files once per module and keep the raw documents; each test restores them."""
    db = _connect()
    role = Role(name="worker").save()
    workers = [User(email=f"worker{i}@test.e4e", name=f"Worker {i}", roles=[role]).save() for i in range(1, 5)]
    managers = [User(email="manager@test.e4e", name="Grace Mensah").save()]
    generate_demo(workers, managers, TODAY, clients=40)
    dump = {name: list(db[name].find()) for name in COLLECTIONS}
    mongoengine.disconnect_all()
    return dump


@pytest.fixture()
def db():
    yield _connect()
    mongoengine.disconnect_all()


@pytest.fixture()
def demo(db, demo_dump):
    for name, documents in demo_dump.items():
        db[name].insert_many(copy.deepcopy(documents))
    return list(User.objects(email__startswith="worker"))


def _exported(clients=None) -> list[str]:
    buffer = io.StringIO()
    export_cases(buffer, Client.objects.order_by("reference") if clients is None else clients)
    return buffer.getvalue().splitlines()


def _plain(value):
    """A raw document with every Fernet token decrypted, so two encryptions of one text compare equal."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k != "_id"}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return crypto.decrypt(value) if crypto.is_token(value) else value


def _import(lines: list[str]) -> ImportResult:
    return import_cases(io.StringIO("\n".join(lines) + "\n"), TODAY)


def _empty_case_files() -> list[str]:
    lines = _exported()
    Client.objects.delete()
    return lines


def test_export_then_import_reproduces_the_case_files_exactly(demo, db):
    before = {doc["reference"]: _plain(doc) for doc in db.clients.find()}
    lines = _empty_case_files()
    result = _import(lines)
    assert result.ok and result.imported == len(before) == 40
    after = {doc["reference"]: _plain(doc) for doc in db.clients.find()}
    assert after == before
    assert _exported() == lines


def test_export_writes_every_field_with_natural_keys_and_plain_text(demo):
    record = next(json.loads(line) for line in _exported() if json.loads(line)["risk_notes"])
    assert set(record) == set(Client._fields) - {"id"}
    assert record["worker"].endswith("@test.e4e")
    assert record["risk_notes"][0]["text"].startswith("[demo] ")
    assert record["referral"]["date"] == date.fromisoformat(record["referral"]["date"]).isoformat()
    with_employer = next(json.loads(line) for line in _exported() if json.loads(line)["employer_contacts"])
    assert Employer.objects(name=with_employer["employer_contacts"][0]["employer"]).count() == 1
    hours = [o["hours_per_week"] for line in _exported() for o in json.loads(line)["outcomes"] if o["hours_per_week"]]
    assert hours and all(isinstance(h, str) for h in hours)


def test_malformed_lines_are_all_reported_by_line_and_nothing_is_imported(demo):
    lines = _empty_case_files()[:10]
    lines[1] = lines[1][:-5]  # line 2: cut short
    future = json.loads(lines[3])
    future["referral"]["date"] = (TODAY + timedelta(days=3)).isoformat()
    lines[3] = json.dumps(future)  # line 4
    zero = next(i for i, line in enumerate(lines) if i > 4 and json.loads(line)["contacts"])
    record = json.loads(lines[zero])
    record["contacts"][0]["minutes"] = 0
    lines[zero] = json.dumps(record)
    stranger = json.loads(lines[8])
    stranger["worker"] = "nobody@elsewhere.example"
    lines[8] = json.dumps(stranger)  # line 9
    result = _import(lines)
    assert not result.ok and result.imported == 0 and Client.objects.count() == 0
    messages = result.messages()
    assert any(m.startswith("line 2: not valid JSON") for m in messages)
    assert any(m.startswith("line 4: referral.date: This date") and "in the future" in m for m in messages)
    assert f"line {zero + 1}: contacts.0.minutes: Must be between 1 and 1,440." in messages
    assert "line 9: worker: unknown user email 'nobody@elsewhere.example'" in messages
    assert {e.line for e in result.errors} == {2, 4, zero + 1, 9}


def test_type_errors_unknown_keys_and_missing_fields_name_the_path(demo):
    lines = _empty_case_files()[:3]
    first = json.loads(lines[0])
    first["referral"]["date"] = "xx"
    first["favourite_colour"] = "green"
    first["contacts"] = [{"date": "2025-01-06", "minutes": "lots", "mode": "carrier pigeon"}]
    lines[0] = json.dumps(first)
    second = json.loads(lines[1])
    del second["reference"], second["first_name"]
    second["referral"]["organisation"] = "Nowhere Partnership"
    lines[1] = json.dumps(second)
    lines[2] = "[1, 2, 3]"
    messages = _import(lines).messages()
    assert "line 1: referral.date: not a date 'xx'" in messages
    assert "line 1: favourite_colour: unknown key" in messages
    assert "line 1: contacts.0.minutes: not a whole number 'lots'" in messages
    assert any(m.startswith("line 1: contacts.0.mode: 'carrier pigeon' is not one of: face_to_face") for m in messages)
    assert "line 2: reference: required" in messages and "line 2: first_name: required" in messages
    assert "line 2: referral.organisation: unknown organisation name 'Nowhere Partnership'" in messages
    assert "line 3: a case file must be a JSON object" in messages
    assert Client.objects.count() == 0


def test_rules_of_the_case_file_are_checked_on_import(demo):
    lines = _empty_case_files()
    record = json.loads(next(line for line in lines if json.loads(line)["referral"]["decision"] == "rejected"))
    record["referral"]["rationale"] = ""
    record["date_of_birth"] = (date.fromisoformat(record["referral"]["date"]) - timedelta(days=40 * 365)).isoformat()
    messages = _import([json.dumps(record)]).messages()
    assert "line 1: referral.rationale: A rejected referral needs a rationale." in messages
    assert any(m.startswith("line 1: date_of_birth: The client must be aged 18 to 35") for m in messages)


def test_duplicate_reference_within_the_file_is_refused(demo):
    lines = _empty_case_files()[:3]
    result = _import([lines[0], lines[1], lines[0]])
    reference = json.loads(lines[0])["reference"]
    assert result.messages() == [f"line 3: reference: {reference} is already on line 1"]
    assert Client.objects.count() == 0


def test_reference_already_in_the_database_is_refused(demo):
    lines = _exported()[:2]
    result = _import(lines)
    assert result.imported == 0 and [e.line for e in result.errors] == [1, 2]
    assert all("is already in the database" in m for m in result.messages())
    assert Client.objects.count() == 40


def test_a_failure_while_saving_leaves_nothing_behind(demo, monkeypatch):
    lines = _empty_case_files()[:6]
    real = Client._get_collection()

    class Flaky:
        def insert_many(self, documents, ordered=True):
            real.insert_many(documents[:3], ordered=ordered)
            raise RuntimeError("connection lost")

        def __getattr__(self, name):
            return getattr(real, name)

    monkeypatch.setattr(Client, "_get_collection", classmethod(lambda cls: Flaky()))
    result = _import(lines)
    monkeypatch.undo()
    assert result.imported == 0 and "nothing was imported" in result.messages()[0]
    assert Client.objects.count() == 0


def test_blank_lines_are_skipped_and_line_numbers_stay_true(demo):
    lines = _empty_case_files()[:2]
    broken = json.loads(lines[1])
    broken["contacts"] = [{"date": "2025-02-03", "minutes": 2000, "mode": "phone"}]
    result = _import([lines[0], "", json.dumps(broken)])
    assert result.messages() == ["line 3: contacts.0.minutes: Must be between 1 and 1,440."]


def test_an_undecryptable_field_stops_the_export_with_a_clear_message(demo):
    client = Client.objects(risk_notes__0__exists=True).first()
    client.risk_notes[0].text = casefile_io.UNDECRYPTABLE
    with pytest.raises(casefile_io.CaseFileExportError, match=f"{client.reference}: risk_notes.0.text cannot be decrypted"):
        export_cases(io.StringIO(), [client])
