"""A past period's extract or return shows what was true at the period's end: re-run after later edits, the same."""
from __future__ import annotations

from datetime import date, datetime

import openpyxl
import pytest
from exports_helpers import QUARTER, context

import exports
from admin_app.models.case_file import Client
from exports.casefiles import as_at

LATER = datetime(2026, 2, 10)  # after the quarter (October to December 2025), before the demo's "today"


def cells(path) -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(path, data_only=True)
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}


def later_edits(db) -> int:
    """Assessments and job end dates recorded after the quarter, and a contact after it, on every case file the
    quarter touches (consent is decided as things stand now: see the test below)."""
    touched = 0
    for client in Client.objects(referral__date__lte=date(2025, 12, 31)):
        raw = db.clients.find_one({"_id": client.pk})
        update = {}
        if not (raw.get("assessment") or {}).get("date"):
            update["assessment"] = {"date": LATER, "agreed_to_take_part": True, "employment_status": "unemployed"}
        outcomes = [dict(o, end_date=LATER, reason_for_leaving="Moved away") if not o.get("end_date") else o
                    for o in raw.get("outcomes") or []]
        if outcomes:
            update["outcomes"] = outcomes
        push = {"contacts": {"date": LATER, "minutes": 60, "mode": "face_to_face", "place": "community"}}
        db.clients.update_one({"_id": client.pk}, {"$set": update, "$push": push} if update else {"$push": push})
        touched += 1
    return touched


@pytest.mark.parametrize("report", ["evaluator_extract", "opcc_return"])
def test_a_past_quarters_workbook_is_the_same_when_re_run_after_later_edits(demo_db, tmp_path, report):
    ctx = context(QUARTER)
    first, second = tmp_path / "first.xlsx", tmp_path / "second.xlsx"
    exports.REPORTS[report].build(demo_db, str(first), ctx)
    snapshot = {d["_id"]: d for d in demo_db.clients.find()}
    try:
        assert later_edits(demo_db) > 10
        exports.REPORTS[report].build(demo_db, str(second), ctx)
    finally:
        for doc in snapshot.values():
            demo_db.clients.replace_one({"_id": doc["_id"]}, doc)
    before, after = cells(first), cells(second)
    assert before.keys() == after.keys()
    for sheet in before:
        assert before[sheet] == after[sheet], sheet


def test_as_at_leaves_out_what_came_later():
    doc = {"assessment": {"date": datetime(2026, 1, 5), "goal": "employment"}, "plan_goals": [{"goal": "CV"}],
           "consent": {"recorded": True, "date": datetime(2026, 1, 5), "preferred_language": "Urdu"},
           "referral": {"date": datetime(2025, 11, 1), "decision": "rejected", "decision_date": datetime(2026, 1, 2),
                        "rejection_reason": "ineligible"},
           "contacts": [{"date": datetime(2025, 12, 31), "minutes": 30}, {"date": datetime(2026, 1, 1), "minutes": 45}],
           "outcomes": [{"kind": "paid_employment", "start_date": datetime(2025, 12, 1), "end_date": datetime(2026, 2, 1),
                         "reason_for_leaving": "Contract ended"},
                        {"kind": "paid_employment", "start_date": datetime(2026, 1, 10)}]}
    past = as_at(doc, date(2025, 12, 31))
    assert past["assessment"] == {} and past["plan_goals"] == [] and past["consent"] == {"preferred_language": "Urdu", "recorded": True}
    assert past["referral"] == {"date": datetime(2025, 11, 1), "decision": "pending"}
    assert [c["minutes"] for c in past["contacts"]] == [30]
    assert past["outcomes"] == [{"kind": "paid_employment", "start_date": datetime(2025, 12, 1)}]
    assert as_at(doc, date(2026, 3, 1)) == doc


def test_consent_is_decided_as_things_stand_now_without_a_later_consent_date(demo_db, tmp_path):
    """A withdrawal takes a client out of a past quarter's extract at once; consent given after the quarter lets
    their past be shared on a re-run, with no date from after the period."""
    ctx = context(QUARTER)
    first = exports.REPORTS["evaluator_extract"].build(demo_db, str(tmp_path / "first.xlsx"), ctx)
    client = next(c for c in Client.objects(referral__date__lte=date(2025, 10, 31), status__ne="closed")
                  if c.consent and c.consent.recorded and c.consent.isa_version)
    stored = demo_db.clients.find_one({"_id": client.pk})
    try:
        demo_db.clients.update_one({"_id": client.pk}, {"$set": {"consent.recorded": False}})
        withdrawn = exports.REPORTS["evaluator_extract"].build(demo_db, str(tmp_path / "withdrawn.xlsx"), ctx)
        assert withdrawn["Referrals"] == first["Referrals"] - 1
        demo_db.clients.update_one({"_id": client.pk}, {"$set": {"consent.recorded": True, "consent.date": LATER}})
        given = exports.REPORTS["evaluator_extract"].build(demo_db, str(tmp_path / "given.xlsx"), ctx)
        assert given["Referrals"] == first["Referrals"]
        assert LATER.strftime("%Y-%m") not in str(cells(tmp_path / "given.xlsx")["Referrals"])
    finally:
        demo_db.clients.replace_one({"_id": stored["_id"]}, stored)
