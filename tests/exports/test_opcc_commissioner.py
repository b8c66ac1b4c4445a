"""The OPCC return as the commissioner reads it: breakdowns, the quarter beside the quarter before and the year to
date, referrals not taken up with their reasons, the worker's own account, the fidelity total with the review."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from exports_helpers import QUARTER, build, by_heading, context, table

from admin_app.metrics.fidelity import MANAGER_ITEMS
from admin_app.metrics.periods import Period
from admin_app.metrics.report import load_report
from admin_app.models.case_file import Client
from exports import opcc_return


@pytest.fixture(scope="module")
def opcc(demo_db, tmp_path_factory):
    workbook, _ = build(demo_db, "opcc_return", context(QUARTER), tmp_path_factory.mktemp("commissioner"))
    return workbook, load_report(demo_db, {}, QUARTER)


def test_each_breakdown_adds_up_to_the_summary(opcc):
    workbook, report = opcc
    headings, rows = table(workbook["Breakdowns"])
    service = report["service"]
    expected = {"Referrals received": service["referrals"], "People accessing the service": service["people_accessing"],
                "People starting paid work": service["people_into_work"],
                "Active caseload at the end": service["active_caseload"]["at_end"]}
    breakdowns = {row[0] for row in rows}
    assert breakdowns == {"Cohort", "Referral source", "Age at referral", "Preferred language"}
    for breakdown in breakdowns:
        shown = [by_heading(headings, r) for r in rows if r[0] == breakdown]
        for heading, total in expected.items():
            assert sum(r[heading] for r in shown) == total, (breakdown, heading)
    assert {r[1] for r in rows if r[0] == "Age at referral"} <= {"18 to 21", "22 to 25", "26 to 30", "31 to 35"}


def test_the_quarter_is_shown_beside_the_quarter_before_and_the_year_to_date(opcc, demo_db):
    workbook, report = opcc
    headings, rows = table(workbook["This quarter and before"])
    assert headings[2] == "Previous quarter (01/07/2025 to 30/09/2025)"
    assert headings[3] == "Financial year to date (01/04/2025 to 31/12/2025)"
    before = load_report(demo_db, {}, Period(date(2025, 7, 1), date(2025, 9, 30)))["service"]
    year = load_report(demo_db, {}, Period(date(2025, 4, 1), date(2025, 12, 31)))["service"]
    shown = {row[0]: row for row in rows}
    for label, path in (("Referrals received", ("referrals",)), ("Jobs and businesses started", ("job_starts",)),
                        ("Face-to-face hours", ("hours", "face_to_face")),
                        ("Staff time not tied to a client (total)", ("staff_time", "total")),
                        ("Active caseload at the end of the period", ("active_caseload", "at_end"))):
        value = lambda figures: figures[path[0]] if len(path) == 1 else figures[path[0]][path[1]]  # noqa: E731
        assert shown[label][1:] == (value(report["service"]), value(before), value(year)), label


def test_referrals_not_taken_up_carry_their_reason(opcc):
    workbook, _ = opcc
    headings, rows = table(workbook["Referrals not taken up"])
    decided = [c for c in Client.objects(referral__decision__in=["rejected", "withdrawn"])
               if QUARTER.start <= (c.referral.decision_date or c.referral.date) <= QUARTER.end]
    assert len(rows) == len(decided) > 0
    for row in map(lambda r: by_heading(headings, r), rows):
        assert row["Reason"] and row["Reason"] != "Not recorded", row
        assert row["Decision"] in ("Rejected", "Withdrawn")


def test_each_case_shows_the_workers_own_account_of_the_quarter(demo_db, tmp_path):
    # The demo's quarterly updates were written in the weeks before its "today", 15/03/2026.
    this_quarter = Period(date(2026, 1, 1), date(2026, 3, 15))
    workbook, _ = build(demo_db, "opcc_return", context(this_quarter), tmp_path)
    headings, rows = table(workbook["Cases"])
    written = {}
    for client in Client.objects:
        updates = [u for u in client.progress_updates if this_quarter.start <= u.date <= this_quarter.end]
        if updates:
            written[client.reference] = max(updates, key=lambda u: u.date)
    shown = {r[0]: by_heading(headings, r) for r in rows if r[0] != "Total"}
    assert written
    for reference, update in written.items():
        assert shown[reference]["Worker's account: progress this quarter"] == update.progress
        needs = "; ".join(part for part in (update.challenges, update.needs) if part)
        assert shown[reference]["Worker's account: challenges and needs"] == (needs or None)
    assert any(r["Worker's account: progress this quarter"] == "No quarterly update written for this period"
               for r in shown.values())
    assert "Recommendations" in headings


def test_the_fidelity_total_and_band_include_the_managers_latest_review(demo_db, tmp_path):
    demo_db.fidelity_reviews.insert_one({
        "review_date": datetime(2025, 12, 10), "period_start": datetime(2025, 7, 1), "period_end": datetime(2025, 12, 31),
        "manager_scores": [{"item": item, "score": 4} for item in MANAGER_ITEMS]})
    try:
        workbook, _ = build(demo_db, "opcc_return", context(QUARTER), tmp_path)
        report = load_report(demo_db, {}, QUARTER, manager_scores={item: 4 for item in MANAGER_ITEMS})
    finally:
        demo_db.fidelity_reviews.delete_many({})
    _, rows = table(workbook["Fidelity"])
    total = rows[-1]
    full = report["fidelity_review"]
    assert total[0] == "Full review total (out of 125)" and total[1] == full["total"]
    assert f"review of 10/12/2025" in total[5] and full["band"] and "Band: " in total[5]


def test_sustained_ended_and_too_early_stand_side_by_side_on_the_summary(opcc):
    workbook, report = opcc
    labels = [row[0] for row in table(workbook["Summary"])[1]]
    at = labels.index("Sustained 13 weeks")
    assert labels[at:at + 3] == ["Sustained 13 weeks", "Ended before 13 weeks", "Too early to judge at 13 weeks"]
    judged = report["service"]["sustained_outcomes"]
    assert judged["jobs_started"] == judged["sustained_13_weeks"] + judged["ended_before_13_weeks"] + \
        judged["too_early_for_13_weeks"]
    assert opcc_return.COMPARED  # the comparison covers the same figures
