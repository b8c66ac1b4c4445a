"""The evaluator extract: nothing that names a person or tells their story leaves; the rest adds up and is explained."""
from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from exports_helpers import QUARTER, TODAY, YEAR, build, by_heading, context, day, table
from mongoengine import fields as mf

from admin_app.metrics.kpis import NEVER_ENGAGED_DECISIONS
from admin_app.metrics.periods import Period
from admin_app.metrics.report import load_report
from admin_app.models.case_file import Client
from admin_app.models.partners import Employer
from admin_app.models.people import User
from admin_app.vocabulary import PAID_OUTCOME_KINDS, REFERRAL_SOURCES
from exports import evaluator_extract
from exports.pseudonym import PseudonymKeyMissing

WHOLE_HISTORY = Period(date(2024, 1, 1), TODAY)


def free_text(document) -> list[str]:
    """Every value of a free-text field (a string field without a choice list) in a document, nested ones too."""
    found: list[str] = []
    for name, field in document._fields.items():
        value = getattr(document, name, None)
        if name == "start_time":
            continue  # a contact's time of day ("09:00"), not text anyone wrote
        if isinstance(field, mf.ListField):
            inner = field.field
            for item in value or ():
                if isinstance(inner, mf.EmbeddedDocumentField):
                    found += free_text(item)
                elif isinstance(inner, mf.StringField) and not inner.choices and item:
                    found.append(item)
        elif isinstance(field, mf.EmbeddedDocumentField) and value is not None:
            found += free_text(value)
        elif isinstance(field, mf.StringField) and not field.choices and value:
            found.append(value)
    return found


def cells(workbook):
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows(values_only=True):
            for value in row:
                if value is not None:
                    yield sheet.title, value


@pytest.fixture(scope="module")
def extract(demo_db, tmp_path_factory):
    workbook, rows = build(demo_db, "evaluator_extract", context(WHOLE_HISTORY), tmp_path_factory.mktemp("extract"))
    return workbook, rows


def test_no_name_date_of_birth_address_or_free_text_of_any_client_leaves(extract):
    workbook, rows = extract
    assert rows["Referrals"] == Client.objects.count()  # every seeded case file is in this extract
    names, texts, births = set(), set(), set()
    for client in Client.objects:
        names |= {client.first_name, client.last_name}
        texts |= {t for t in free_text(client) if t not in names}
        births.add(client.date_of_birth)
    assert len(texts) > 500  # the demo writes notes, goals, rationales, risk notes, postcodes, phones ...
    texts |= {employer.name for employer in Employer.objects}
    staff = {user.email for user in User.objects} | {user.name for user in User.objects}
    texts -= staff  # case files record who did what ("by"); staff are checked apart, below
    name_pattern = re.compile(r"\b(" + "|".join(re.escape(n) for n in sorted(names)) + r")\b", re.I)
    births_text = {f"{b:%d/%m/%Y}" for b in births} | {b.isoformat() for b in births}
    text_pattern = re.compile("|".join(re.escape(t) for t in sorted(texts | births_text, key=len, reverse=True)
                                       if len(t) >= 4))
    staff_pattern = re.compile("|".join(re.escape(s) for s in staff))
    for sheet, value in cells(workbook):
        if isinstance(value, datetime):
            assert value.date() not in births, (sheet, value)
            continue
        text = str(value)
        assert not name_pattern.search(text), (sheet, text)
        assert not text_pattern.search(text) and text not in texts, (sheet, text)
        if sheet != "About":  # the cover names who made the extract
            assert not staff_pattern.search(text), (sheet, text)


def test_people_appear_only_as_pseudonyms_stable_across_extracts(demo_db, tmp_path):
    quarter, _ = build(demo_db, "evaluator_extract", context(QUARTER), tmp_path / "q")
    year, _ = build(demo_db, "evaluator_extract", context(Period(QUARTER.start, TODAY)), tmp_path / "y")
    other_key, _ = build(demo_db, "evaluator_extract", context(QUARTER, key="another-key"), tmp_path / "k")

    def clients(workbook):
        headings, rows = table(workbook["Referrals"])
        return {by_heading(headings, row)["Client pseudonym"] for row in rows}

    assert clients(quarter) and clients(quarter) <= clients(year)
    assert not clients(quarter) & clients(other_key)
    references = set(demo_db.clients.distinct("reference"))
    assert all(re.fullmatch(r"C-[0-9a-f]{16}", p) for p in clients(quarter))
    assert not any(ref in p for p in clients(quarter) for ref in references)


def test_event_sheets_add_up_to_the_reports_figures(demo_db, tmp_path):
    workbook, rows = build(demo_db, "evaluator_extract", context(YEAR), tmp_path)
    report = load_report(demo_db, {}, YEAR)["service"]
    headings, contacts = table(workbook["Contacts"])
    assert rows["Contacts"] == len(contacts)
    assert sum(by_heading(headings, c)["Minutes"] for c in contacts) / 60 == pytest.approx(report["hours"]["total"], abs=0.01)
    assert all(day(by_heading(headings, c)["Date"]) in YEAR for c in contacts)

    referral_headings, referrals = table(workbook["Referrals"])
    referrals = [by_heading(referral_headings, r) for r in referrals]
    assert sum(day(r["Referral date"]) in YEAR for r in referrals) == report["referrals"]
    counted = {r["Client pseudonym"] for r in referrals if r["Decision"] not in NEVER_ENGAGED_DECISIONS}
    outcome_headings, outcomes = table(workbook["Outcomes"])
    starts = [o for o in (by_heading(outcome_headings, o) for o in outcomes)
              if o["Outcome"] in PAID_OUTCOME_KINDS and day(o["Start date"]) in YEAR and o["Client pseudonym"] in counted]
    assert len(starts) == report["job_starts"]

    face_to_face = 0
    for sheet in ("Employer contacts", "General employer contacts"):
        headings, contacts = table(workbook[sheet])
        face_to_face += sum(by_heading(headings, c)["Face-to-face"] == "Yes" for c in contacts)
    detail = report["fidelity"]["job_development_frequency"]["detail"]
    assert face_to_face == detail["face_to_face_employer_contacts"]


def test_ages_replace_dates_of_birth(extract):
    workbook, _ = extract
    headings, rows = table(workbook["Referrals"])
    ages = [by_heading(headings, r)["Age at referral"] for r in rows]
    assert ages and all(18 <= age <= 35 for age in ages)
    assert {by_heading(headings, r)["Age band"] for r in rows} <= {"18-21", "22-25", "26-30", "31-35"}


def test_data_dictionary_explains_every_column_from_the_field_declarations(extract):
    workbook, _ = extract
    headings, rows = table(workbook["Data dictionary"])
    described = {(r[0], r[1]): by_heading(headings, r) for r in rows}
    for sheet in workbook.sheetnames:
        if sheet in ("About", "Data dictionary"):
            continue
        for column in table(workbook[sheet])[0]:
            assert (sheet, column) in described, (sheet, column)
    source = described[("Referrals", "Referral source")]
    assert source["Source"] == "clients.referral.source"
    assert all(f"{code} = {text}" in source["Values"] for code, text in REFERRAL_SOURCES)
    assert described[("Referrals", "Referral date")]["Column"] == Client.referral.document_type.date.verbose_name


def test_a_free_text_field_cannot_be_declared_as_a_column():
    for path in ("first_name", "postcode", "contacts.note", "assessment.previous_support_from", "risk_notes.text"):
        with pytest.raises(ValueError, match="free text"):
            evaluator_extract.stored(path)


def test_the_extract_is_refused_without_a_pseudonym_key(demo_db, tmp_path):
    with pytest.raises(PseudonymKeyMissing):
        build(demo_db, "evaluator_extract", context(QUARTER, key=""), tmp_path)


def test_a_scoped_extract_holds_one_workers_case_files(demo_db, tmp_path):
    worker = User.objects.get(email="worker1@test.e4e")
    match = {"worker": worker.pk}
    scoped, _ = build(demo_db, "evaluator_extract", context(YEAR, match=match), tmp_path / "one")
    everyone, _ = build(demo_db, "evaluator_extract", context(YEAR), tmp_path / "all")
    headings, rows = table(scoped["Referrals"])
    assert len({by_heading(headings, r)["Worker (pseudonym)"] for r in rows}) == 1
    _, all_rows = table(everyone["Referrals"])
    assert 0 < len(rows) < len(all_rows)
    general_headings, general = table(scoped["General employer contacts"])
    assert {by_heading(general_headings, g)["Worker (pseudonym)"] for g in general} == \
        {by_heading(headings, rows[0])["Worker (pseudonym)"]}
