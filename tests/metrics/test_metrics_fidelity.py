"""Data-scored IPS fidelity items, anchors kept as data, and the 25-item review total."""
from __future__ import annotations

from datetime import date

import pytest
from metrics_builders import case, contact, employer_contact, job, staff, weekly_contacts

from admin_app.metrics import fidelity
from admin_app.metrics.periods import financial_year
from admin_app.metrics.report import kpi_report

FY24 = financial_year(2024)


@pytest.mark.parametrize("value, expected", [(20, 5), (20.5, 4), (25, 4), (26, 3), (30, 3), (31, 2), (40, 2), (41, 1)])
def test_caseload_size_anchors_from_the_uk_form(value, expected):
    assert fidelity.score(value, fidelity.DEFAULT_ANCHORS["caseload_size"]) == expected


@pytest.mark.parametrize("value, expected", [(95, 5), (94.9, 4), (85, 4), (75, 3), (65, 2), (64, 1)])
def test_competitive_jobs_anchors(value, expected):
    assert fidelity.score(value, fidelity.DEFAULT_ANCHORS["competitive_jobs"]) == expected


def test_manager_can_correct_an_anchor_without_a_release():
    anchors = fidelity.resolve_anchors({"caseload_size": {"thresholds": [15, 20, 25, 30]}})
    assert fidelity.score(18, anchors["caseload_size"]) == 4
    assert anchors["rapid_job_search"] == fidelity.DEFAULT_ANCHORS["rapid_job_search"]


@pytest.mark.parametrize("bad", [{"nonsense": {}}, {"caseload_size": {"thresholds": [40, 30, 25, 20]}},
                                 {"caseload_size": {"thresholds": [1, 2]}}, {"caseload_size": {"better": "more"}}])
def test_anchor_mistakes_are_refused_with_a_message(bad):
    with pytest.raises(ValueError):
        fidelity.resolve_anchors(bad)


def test_days_to_first_face_to_face_employer_contact_ignores_phone_contacts():
    c = case(assessed="2024-04-20", employer_contacts=[employer_contact("2024-04-25", face_to_face=False),
                                                       employer_contact("2024-05-20")])
    assert fidelity.days_to_first_employer_contact(c) == 30


def test_follow_along_on_schedule_when_every_due_check_is_met():
    start = "2024-06-03"
    good = case(outcomes=[job(start)], contacts=[contact("2024-05-30"), *weekly_contacts("2024-06-04", 60)])
    missed = case(outcomes=[job(start)], contacts=weekly_contacts("2024-06-04", 60))   # nothing the week before
    checks = fidelity.follow_along_checks(good, good.outcomes[0], date(2024, 6, 5), ["face_to_face"])
    assert checks == {"week_before": True, "within_3_days_after": True, "weekly_first_month": None,
                      "monthly_after": None}
    assert all(fidelity.follow_along_checks(good, good.outcomes[0], date(2025, 3, 31), ["face_to_face"]).values())
    assert not fidelity.follow_along_checks(missed, missed.outcomes[0], date(2025, 3, 31), ["face_to_face"])["week_before"]


def test_data_scored_items_for_a_small_service():
    cases = [
        case("a", contacts=[contact("2025-03-20", 120), contact("2025-03-21", 60, place="office")],
             employer_contacts=[employer_contact("2024-05-10")],
             outcomes=[job("2024-09-01", job_type="Chef", employer="e1"),
                       job("2024-10-01", job_type="chef ", employer="e2", competitive=False)]),
        case("b", contacts=[contact("2025-03-25", 60, place="online", mode="phone")],
             outcomes=[job("2024-12-01", job_type="Retail", employer="e1")]),
    ]
    report = kpi_report(cases, [staff()], [], FY24)
    items = report["service"]["fidelity"]
    assert items["caseload_size"]["value"] == 2.0 and items["caseload_size"]["score"] == 5
    assert items["rapid_job_search"]["value"] == 20.0
    assert items["diversity_of_job_types"]["value"] == round(100 * 2 / 3, 1)   # chef, chef, retail
    assert items["diversity_of_employers"]["value"] == round(100 * 2 / 3, 1)
    assert items["competitive_jobs"]["value"] == round(100 * 2 / 3, 1) and items["competitive_jobs"]["score"] == 2
    assert items["community_based_services"]["value"] == 50.0 and items["community_based_services"]["score"] == 4


def test_face_to_face_employer_contacts_per_worker_per_week_include_general_contacts():
    from admin_app.metrics.records import GeneralEmployerContactRecord
    week = fidelity.Period(date(2024, 4, 1), date(2024, 4, 14))  # two weeks
    general = [GeneralEmployerContactRecord(date(2024, 4, day), "e9", True, "w1") for day in range(1, 11)]
    general.append(GeneralEmployerContactRecord(date(2024, 4, 2), "e9", False, "w1"))   # phone: not counted
    c = case(employer_contacts=[employer_contact("2024-04-03"), employer_contact("2024-04-04")])
    items = kpi_report([c], [staff(fte=0.5)], general, week)["workers"]["w1@e4e.test"]["fidelity"]
    assert items["job_development_frequency"]["value"] == 12.0   # 12 contacts / (0.5 FTE x 2 weeks)
    assert items["job_development_frequency"]["score"] == 5


def test_review_total_and_band_need_all_25_items():
    data = {item: 5 for item in fidelity.DATA_ITEMS}
    partial = fidelity.fidelity_review(data, {})
    assert not partial["complete"] and partial["band"] is None and len(partial["missing"]) == 17
    full = fidelity.fidelity_review(data, {item: 4 for item in fidelity.MANAGER_ITEMS})
    assert full["total"] == 8 * 5 + 17 * 4 == 108 and full["band"] == "good"


@pytest.mark.parametrize("total, band", [(125, "exemplary"), (115, "exemplary"), (114, "good"), (100, "good"),
                                         (99, "fair"), (74, "fair"), (73, "not_ips"), (25, "not_ips")])
def test_review_bands(total, band):
    assert fidelity.band(total) == band


def test_manager_scores_must_be_whole_numbers_from_1_to_5_for_known_items():
    with pytest.raises(ValueError):
        fidelity.fidelity_review({}, {"zero_exclusion": 6})
    with pytest.raises(ValueError):
        fidelity.fidelity_review({}, {"made_up": 3})


def test_there_are_25_items_3_8_14():
    assert [len(v) for v in fidelity.REVIEW_ITEMS.values()] == [3, 8, 14]
    assert len(set(fidelity.ALL_ITEMS)) == 25


def test_a_review_needs_every_organisational_item_scored_1_to_5():
    scores = dict.fromkeys(fidelity.MANAGER_ITEMS, 3)
    assert fidelity.review_problems(scores) == {}
    assert fidelity.review_problems(scores | {"competitive_jobs": 2}) == {}   # correcting a data score is allowed
    missing = {k: v for k, v in scores.items() if k != "zero_exclusion"}
    assert set(fidelity.review_problems(missing)) == {"zero_exclusion"}
    assert set(fidelity.review_problems(scores | {"disclosure": 6, "vocational_unit": True})) == {
        "disclosure", "vocational_unit"}
    assert set(fidelity.review_problems(scores | {"made_up": 3})) == {"made_up"}


def test_every_item_of_the_review_has_a_label():
    assert set(fidelity.ITEM_LABELS) == set(fidelity.ALL_ITEMS)
