"""The evaluator extract: nothing that names a person or tells their story leaves; the rest adds up and is explained."""
from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from exports_helpers import QUARTER, TODAY, YEAR, build, by_heading, context, free_text, table

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
# A keyed digest: a run of its hex digits can match a short note ("00004") by chance, so it is checked whole.
PSEUDONYM = re.compile(r"[CEJ]-[0-9a-f]{16}")
CONSENTED = {"consent.recorded": True, "consent.isa_version": {"$nin": [None, ""]}}


def months(period: Period) -> set[str]:
    """The months a period touches, as the extract writes them ("2025-04")."""
    out, day_ = set(), period.start
    while day_ <= period.end:
        out.add(f"{day_.year}-{day_.month:02d}")
        day_ = date(day_.year + (day_.month == 12), day_.month % 12 + 1, 1)
    return out


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
    consented = Client.objects(__raw__=CONSENTED).count()
    # Every seeded case file with recorded consent is in this extract; the others are counted as left out.
    assert 0 < consented < Client.objects.count()
    assert rows["Referrals"] == consented
    assert rows[evaluator_extract.LEFT_OUT] == Client.objects.count() - consented
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
        if PSEUDONYM.fullmatch(text):
            assert text not in texts, (sheet, text)
            continue
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
    report = load_report(demo_db, CONSENTED, YEAR)["service"]
    headings, contacts = table(workbook["Contacts"])
    assert rows["Contacts"] == len(contacts)
    assert sum(by_heading(headings, c)["Minutes"] for c in contacts) / 60 == pytest.approx(report["hours"]["total"], abs=0.01)
    # Dates are months; a financial year is whole months, so membership is exact.
    assert all(by_heading(headings, c)["Date"] in months(YEAR) for c in contacts)

    referral_headings, referrals = table(workbook["Referrals"])
    referrals = [by_heading(referral_headings, r) for r in referrals]
    assert sum(r["Referral date"] in months(YEAR) for r in referrals) == report["referrals"]
    counted = {r["Client pseudonym"] for r in referrals if r["Decision"] not in NEVER_ENGAGED_DECISIONS}
    outcome_headings, outcomes = table(workbook["Outcomes"])
    starts = [o for o in (by_heading(outcome_headings, o) for o in outcomes)
              if o["Outcome"] in PAID_OUTCOME_KINDS and o["Start date"] in months(YEAR) and o["Client pseudonym"] in counted]
    assert len(starts) == report["job_starts"]

    face_to_face = 0
    for sheet in ("Employer contacts", "General employer contacts"):
        headings, contacts = table(workbook[sheet])
        face_to_face += sum(by_heading(headings, c)["Face-to-face"] == "Yes" for c in contacts)
    # Consented clients' employer contacts and every general one (those belong to no client), as the report counts.
    detail = report["fidelity"]["job_development_frequency"]["detail"]
    assert face_to_face == detail["face_to_face_employer_contacts"]


def test_ages_are_given_only_in_bands(extract):
    workbook, _ = extract
    headings, rows = table(workbook["Referrals"])
    assert "Age at referral" not in headings and not any("birth" in h.lower() for h in headings)
    assert rows and {by_heading(headings, r)["Age band"] for r in rows} <= {"18-21", "22-25", "26-30", "31-35", "other"}


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
    with pytest.raises(ValueError, match="identity data"):
        evaluator_extract.stored("date_of_birth")


def test_the_extract_is_refused_without_a_pseudonym_key(demo_db, tmp_path):
    with pytest.raises(PseudonymKeyMissing):
        build(demo_db, "evaluator_extract", context(QUARTER, key=""), tmp_path)


def test_a_scoped_extract_holds_one_workers_case_files(demo_db, tmp_path):
    worker = User.objects.get(email="worker1@test.e4e")
    match = {"worker": worker.pk}
    scoped, _ = build(demo_db, "evaluator_extract", context(YEAR, match=match), tmp_path / "one")
    everyone, _ = build(demo_db, "evaluator_extract", context(YEAR), tmp_path / "all")
    headings, rows = table(scoped["Referrals"])
    _, all_rows = table(everyone["Referrals"])
    assert 0 < len(rows) < len(all_rows)
    assert {by_heading(headings, r)["Client pseudonym"] for r in rows} <= {by_heading(headings, r)["Client pseudonym"]
                                                                         for r in all_rows}
    _, general = table(scoped["General employer contacts"])
    _, all_general = table(everyone["General employer contacts"])
    assert len(general) < len(all_general)


def test_dates_are_generalised_to_the_month_by_default_or_as_set(demo_db, tmp_path):
    monthly, _ = build(demo_db, "evaluator_extract", context(YEAR), tmp_path / "m")
    headings, rows = table(monthly["Referrals"])
    dates = [by_heading(headings, r)["Referral date"] for r in rows]
    assert dates and all(re.fullmatch(r"\d{4}-\d{2}", d) for d in dates)
    assert not any(isinstance(value, datetime) for sheet in monthly.worksheets if sheet.title != "About"
                   for row in sheet.iter_rows(values_only=True) for value in row)
    from dataclasses import replace

    yearly, _ = build(demo_db, "evaluator_extract", replace(context(YEAR), date_precision="year"), tmp_path / "y")
    headings, rows = table(yearly["Contacts"])
    assert {by_heading(headings, r)["Date"] for r in rows} <= {"2024", "2025"}


def test_coded_values_held_by_fewer_than_k_people_show_as_other(demo_db, tmp_path):
    from collections import Counter
    from dataclasses import replace

    workbook, _ = build(demo_db, "evaluator_extract", context(WHOLE_HISTORY), tmp_path / "k5")
    headings, rows = table(workbook["Referrals"])
    languages = Counter(by_heading(headings, r)["Preferred language"] for r in rows)
    assert languages["other"] >= 5, languages
    assert all(count >= 5 for value, count in languages.items() if value is not None), languages
    for column in ("Referral source", "Age band", "Status at period end", "Rejection reason"):
        counts = Counter(by_heading(headings, r)[column] for r in rows)
        assert all(count >= 5 for value, count in counts.items() if value is not None), (column, counts)
    # The threshold is a setting.
    strict, _ = build(demo_db, "evaluator_extract", replace(context(WHOLE_HISTORY), min_group=30), tmp_path / "k30")
    headings, rows = table(strict["Referrals"])
    sources = Counter(by_heading(headings, r)["Referral source"] for r in rows)
    assert all(count >= 30 for value, count in sources.items() if value is not None) and "other" in sources


def test_no_member_of_staff_appears_and_each_rule_has_a_dictionary_line(extract):
    workbook, rows = extract
    for sheet in workbook.worksheets:
        if sheet.title in ("About", "Data dictionary"):
            continue
        headings, _ = table(sheet)
        assert not any("worker" in h.lower() or "staff" in h.lower() for h in headings), (sheet.title, headings)
    headings, lines = table(workbook["Data dictionary"])
    rules = {r[1]: by_heading(headings, r) for r in lines if r[0] == "All sheets"}
    assert set(rules) == {"Consent", "Dates", "Ages", "Small groups", "Staff", "Free text"}
    assert f"{rows[evaluator_extract.LEFT_OUT]} case files were left out" in rules["Consent"]["Description"]
    assert "fewer than 5 people" in rules["Small groups"]["Description"]
    cover = " ".join(str(v) for row in workbook["About"].iter_rows(values_only=True) for v in row if v)
    assert f"{rows[evaluator_extract.LEFT_OUT]} case files without recorded consent" in cover


@pytest.mark.parametrize("people, k, merged", [
    ({"a": {1, 2, 3, 4, 5}, "b": {6, 7, 8, 9, 10}}, 5, set()),
    ({"a": {1, 2, 3, 4, 5}, "b": {6}, "c": {7, 8, 9, 10, 11}}, 5, {"b", "a"}),   # "other" alone would be 1 person
    ({"a": {1, 2, 3, 4, 5, 6}, "b": {7, 8}, "c": {9, 10, 11}}, 5, {"b", "c"}),     # two small ones make 5
    ({"a": {1}, "b": {2}}, 5, {"a", "b"}),
    ({"a": {1, 2}, "b": {1, 2, 3, 4, 5}}, 5, {"a", "b"}),                          # the same people count once
    ({}, 5, set()),
])
def test_small_groups(people, k, merged):
    assert evaluator_extract.small_groups(people, k) == merged


@pytest.mark.parametrize("value, precision, expected", [
    (date(2025, 3, 31), "month", "2025-03"), (datetime(2025, 11, 2, 9), "month", "2025-11"),
    (date(2025, 3, 31), "quarter", "2025-Q1"), (date(2025, 10, 1), "quarter", "2025-Q4"),
    (date(2025, 3, 31), "year", "2025"), (None, "month", None),
])
def test_generalise(value, precision, expected):
    assert evaluator_extract.generalise(value, precision) == expected
