"""The OPCC quarterly return shows the dashboard's figures, one row per case that adds up to them, and the hooks."""
from __future__ import annotations

import zipfile
from datetime import date, datetime, timedelta

import openpyxl
import pytest
from exports_helpers import QUARTER, YEAR, build, by_heading, context, day, table

import exports
from admin_app.metrics.kpis import CONTACT_MODES
from admin_app.metrics.records import CaseRecord, ContactRecord, EmployerContactRecord, OutcomeRecord, \
    PlanGoalRecord, StatusChangeRecord
from admin_app.metrics.report import load_report
from admin_app.models.people import User
from admin_app.vocabulary import CONTACT_MODES as MODE_LABELS, label
from exports import opcc_return
from exports.figures import figure, target_of

HOUR_HEADINGS = {mode: f"{label(MODE_LABELS, mode)} hours" for mode in CONTACT_MODES}


@pytest.fixture(scope="module", params=[QUARTER, YEAR], ids=["quarter", "year"])
def opcc(request, demo_db, tmp_path_factory):
    ctx = context(request.param, schedule="OPCC quarterly", notes="Two workers on leave in December.")
    workbook, rows = build(demo_db, "opcc_return", ctx, tmp_path_factory.mktemp("opcc"))
    return workbook, rows, load_report(demo_db, {}, request.param), request.param


def test_summary_shows_the_reports_figures_against_targets_and_benchmarks(opcc):
    workbook, _, report, _ = opcc
    headings, rows = table(workbook["Summary"])
    assert headings == ["Figure", "Actual", "Target", "RAG", "Benchmark"]
    shown = {row[0]: row for row in rows}
    assert list(shown) == [f.label for f in opcc_return.SUMMARY]
    service = report["service"]
    for fig in opcc_return.SUMMARY:
        _, actual, target, rag, benchmark = shown[fig.label]
        assert day(actual) == figure(service, fig.path), fig.label
        assert target == target_of(service, fig).get("target")
        assert rag == target_of(service, fig).get("rag")
        assert benchmark == (figure(service, fig.benchmark) if fig.benchmark else None)


def test_summary_sheet_carries_the_two_charts(demo_db, tmp_path):
    path = tmp_path / "return.xlsx"
    opcc_return.build(demo_db, str(path), context(QUARTER))
    archive = zipfile.ZipFile(path)
    charts = [archive.read(name).decode() for name in archive.namelist() if name.startswith("xl/charts/chart")]
    assert len(charts) == 2
    assert all("Summary!$B$1" in chart for chart in charts)  # both draw the Actual column of the Summary


def test_case_rows_add_up_to_the_reports_hours_and_job_starts(opcc):
    workbook, rows, report, period = opcc
    headings, data = table(workbook["Cases"])
    *cases, totals = data
    assert rows["Cases"] == len(cases) and totals[0] == "Total"
    total = by_heading(headings, totals)
    hours = report["service"]["hours"]
    for mode, heading in HOUR_HEADINGS.items():
        assert sum(by_heading(headings, c)[heading] for c in cases) == pytest.approx(hours[mode], abs=0.01)
        assert total[heading] == pytest.approx(hours[mode], abs=0.01)
    assert total["Total hours"] == pytest.approx(hours["total"], abs=0.01)
    assert sum(by_heading(headings, c)["Paid starts in period"] for c in cases) == report["service"]["job_starts"]
    assert total["Paid starts in period"] == report["service"]["job_starts"]


def test_every_referral_and_every_active_case_of_the_period_has_a_row(opcc):
    workbook, _, report, period = opcc
    headings, data = table(workbook["Cases"])
    cases = [by_heading(headings, row) for row in data[:-1]]
    referred = [c for c in cases if day(c["Referral date"]) in period]
    assert len(referred) == report["service"]["referrals"]
    assert sum(c["Active at end"] == "Yes" for c in cases) == report["service"]["active_caseload"]["at_end"]
    assert len({c["Case reference"] for c in cases}) == len(cases)


def test_workers_sheet_gives_each_workers_figures_and_the_whole_service(opcc):
    workbook, _, report, _ = opcc
    headings, data = table(workbook["Workers"])
    *workers, service = data
    assert len(workers) == len(report["workers"])
    assert service[0] == "Whole service"
    for row in workers:
        shown = by_heading(headings, row)
        figures = report["workers"][shown["Email or key"]]
        for fig in opcc_return.WORKER_FIGURES:
            assert shown[fig.label] == figure(figures, fig.path), (shown["Email or key"], fig.label)
    whole = by_heading(headings, service)
    for fig in opcc_return.WORKER_FIGURES:
        assert whole[fig.label] == pytest.approx(figure(report["service"], fig.path), abs=0.01)


def test_fidelity_sheet_shows_each_data_scored_item(opcc):
    workbook, _, report, _ = opcc
    _, rows = table(workbook["Fidelity"])
    items = report["service"]["fidelity"]
    assert len(rows) == len(items) + 1  # and the full review's total
    for row, (item, value) in zip(rows, items.items()):
        assert row[1] == value["value"] and row[3] == value["score"] and row[4] == value["rag"]
    assert rows[-1][0] == "Full review total (out of 125)" and "No fidelity review" in rows[-1][5]


def test_cover_says_what_for_which_period_when_and_by_what_schedule(opcc):
    workbook, rows, _, period = opcc
    cover = {row[0]: row[1] for row in workbook["About"].iter_rows(values_only=True) if row[0]}
    assert cover["OPCC quarterly return"] is None
    assert cover["Period"].startswith(f"{period.start:%d/%m/%Y} to {period.end:%d/%m/%Y}")
    assert cover["Generated"] == "15/03/2026 07:00 UK time"  # GMT: the clocks go forward on 29/03
    assert cover["Schedule"] == "OPCC quarterly"
    assert cover["Generated by"] == "manager@test.e4e"
    listed = {row[0]: row[2] for row in workbook["About"].iter_rows(values_only=True) if row[0] in rows}
    assert listed == rows


def test_challenges_sheet_holds_the_managers_text(opcc):
    workbook, *_ = opcc
    assert workbook["Challenges and obstacles"]["A2"].value == "Two workers on leave in December."


def test_without_notes_the_challenges_sheet_asks_the_manager_to_write_them(demo_db, tmp_path):
    workbook, _ = build(demo_db, "opcc_return", context(QUARTER), tmp_path)
    assert "writes the challenges and obstacles" in workbook["Challenges and obstacles"]["A2"].value


def test_a_workers_return_holds_only_their_own_cases(demo_db, tmp_path):
    worker = User.objects.get(email="worker2@test.e4e")
    match = {"worker": worker.pk}
    workbook, _ = build(demo_db, "opcc_return", context(YEAR, match=match), tmp_path)
    headings, data = table(workbook["Cases"])
    shown = {by_heading(headings, row)["Case reference"] for row in data[:-1]}
    theirs = set(demo_db.clients.distinct("reference", match))
    assert shown and shown <= theirs
    assert {by_heading(headings, row)["Worker"] for row in data[:-1]} == {worker.name}
    cover = {row[0]: row[1] for row in workbook["About"].iter_rows(values_only=True) if row[0]}
    assert cover["Case files"].startswith("A selection")
    _, workers = table(workbook["Workers"])
    assert [row[1] for row in workers[:-1]] == [worker.email]


def test_a_workers_return_through_a_filter_still_shows_only_their_own_figures(demo_db, tmp_path):
    """A worker's scope combined with a filter is an `$and`; the Workers sheet must still be theirs alone."""
    worker = User.objects.get(email="worker2@test.e4e")
    match = {"$and": [{"worker": worker.pk}, {"referral.cohort": "convicted"}]}
    workbook, _ = build(demo_db, "opcc_return", context(YEAR, match=match), tmp_path)
    _, workers = table(workbook["Workers"])
    assert [row[1] for row in workers[:-1]] == [worker.email]


def test_case_free_text_that_looks_like_a_formula_stays_text(demo_db, tmp_path):
    first = {"reference": "E4E-00001"}
    goals = demo_db.clients.find_one(first, {"plan_goals": 1})["plan_goals"]
    demo_db.clients.update_one(first, {"$set": {"plan_goals.0.goal": "=HYPERLINK(\"x\")", "plan_goals.0.status": "achieved"}})
    path = tmp_path / "return.xlsx"
    try:
        opcc_return.build(demo_db, str(path), context(YEAR))
    finally:
        demo_db.clients.update_one(first, {"$set": {"plan_goals": goals}})
    sheet = openpyxl.load_workbook(path)["Cases"]
    listed = [c for c in sheet.iter_rows() if c[0].value == "E4E-00001"][0]
    column = [c.value for c in sheet[1]].index("Objectives achieved (list)")
    assert listed[column].data_type == "s" and listed[column].value.startswith("'=HYPERLINK")


def test_the_grant_pots_sheet_appears_once_grant_figures_are_supplied(demo_db, tmp_path, monkeypatch):
    opcc_return.build(demo_db, str(tmp_path / "without.xlsx"), context(QUARTER))
    assert "Grant pots" not in openpyxl.load_workbook(tmp_path / "without.xlsx").sheetnames

    asked = []

    def pot_figures(db, as_of):
        asked.append(as_of)
        return [{"pot": "2025/26", "period_start": date(2025, 4, 1), "period_end": date(2026, 3, 31),
                 "total": 50000, "committed": 12500, "paid": 8000, "remaining": 37500}]

    def ledger_rows(db, start, end, match=None):
        yield {"kind": "bid", "pot": "2025/26", "date": start, "amount": 1200}

    monkeypatch.setattr(exports, "REPORTS", dict(exports.REPORTS))
    exports.enable_grants(ledger_rows, (("kind", "Row"), ("date", "Date"), ("amount", "Asked (£)")), pot_figures)
    workbook, rows = build(demo_db, "opcc_return", context(QUARTER), tmp_path)
    assert asked == [QUARTER.end]
    headings, pots = table(workbook["Grant pots"])
    assert rows["Grant pots"] == 1
    assert by_heading(headings, pots[0])["Remaining (£)"] == 37500
    ledger, rows = build(demo_db, "grant_ledger", context(QUARTER), tmp_path)
    assert table(ledger["Ledger"]) == (["Row", "Date", "Asked (£)"], [("bid", datetime(2025, 10, 1), 1200)])
    assert rows == {"Ledger": 1, "Pots": 1}


# --- the per-case text, from hand-built records ------------------------------------------------------

def _case(**changes) -> CaseRecord:
    values = dict(id="c1", referral_date=date(2025, 6, 2), worker_id="w1", referral_decision="accepted",
                  assessment_date=date(2025, 6, 16), agreed_to_take_part=True, employment_status="unemployed",
                  status="active", status_history=(StatusChangeRecord(date(2025, 6, 2), "referred"),
                                                   StatusChangeRecord(date(2025, 6, 16), "active")),
                  plan_goals=(PlanGoalRecord("open"),))
    values.update(changes)
    return CaseRecord(**values)


def _weekly(first: date, last: date) -> tuple[ContactRecord, ...]:
    days = (last - first).days // 7 + 1
    return tuple(ContactRecord(first + timedelta(days=7 * k), 60, "face_to_face", "community") for k in range(days))


def test_recommends_re_engaging_a_client_not_seen_for_four_weeks():
    case = _case(contacts=_weekly(date(2025, 6, 16), date(2025, 8, 25)),
                 employer_contacts=(EmployerContactRecord(date(2025, 7, 1)),))
    assert opcc_return.recommendations(case, QUARTER) == ["Re-engage: no contact in the last 28 days"]


def test_recommends_job_development_after_30_days_without_an_employer_contact():
    case = _case(contacts=_weekly(date(2025, 6, 16), date(2025, 12, 29)))
    assert opcc_return.recommendations(case, QUARTER) == ["Start job development: no face-to-face employer contact yet"]


def test_recommends_follow_along_in_the_first_month_of_a_new_job():
    case = _case(contacts=_weekly(date(2025, 6, 16), date(2025, 12, 29)),
                 employer_contacts=(EmployerContactRecord(date(2025, 7, 1)),),
                 outcomes=(OutcomeRecord("paid_employment", date(2025, 12, 15)),))
    assert opcc_return.recommendations(case, QUARTER) == [
        "Keep weekly follow-along contact in the first month of the new job"]


def test_a_closed_or_rejected_case_needs_nothing_more():
    closed = _case(status_history=(StatusChangeRecord(date(2025, 6, 2), "referred"),
                                   StatusChangeRecord(date(2025, 11, 1), "closed")))
    rejected = _case(referral_decision="rejected", assessment_date=None, agreed_to_take_part=False)
    assert opcc_return.recommendations(closed, QUARTER) == []
    assert opcc_return.recommendations(rejected, QUARTER) == []


def test_progress_since_last_quarter_says_what_changed():
    case = _case(referral_date=date(2025, 10, 6), assessment_date=date(2025, 10, 20),
                 status_history=(StatusChangeRecord(date(2025, 10, 6), "referred"),
                                 StatusChangeRecord(date(2025, 10, 20), "active"),
                                 StatusChangeRecord(date(2025, 12, 1), "in_work")),
                 outcomes=(OutcomeRecord("paid_employment", date(2025, 12, 1)),))
    assert opcc_return.progress(case, QUARTER) == "Referred 06/10/2025; engaged 20/10/2025; now In work; 1 paid start"
    ended = _case(status_history=(StatusChangeRecord(date(2025, 6, 2), "referred"),
                                  StatusChangeRecord(date(2025, 6, 16), "active"),
                                  StatusChangeRecord(date(2025, 8, 1), "in_work"),
                                  StatusChangeRecord(date(2025, 11, 20), "active")),
                  outcomes=(OutcomeRecord("paid_employment", date(2025, 8, 1), date(2025, 11, 19)),))
    assert opcc_return.progress(ended, QUARTER) == "In work → Active; 1 job ended"
    unchanged = _case(contacts=_weekly(date(2025, 6, 16), date(2025, 12, 29)))
    assert opcc_return.progress(unchanged, QUARTER) == "No change: Active"
