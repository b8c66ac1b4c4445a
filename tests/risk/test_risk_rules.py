"""The pure rules of risk and safety, as tables: which writes alert, the visit check, overdue check-outs."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from admin_app.risk import rules
from admin_app.risk.rules import Assessed, ClientFacts, GroupFacts, OtherVisit, PlannedVisit, VenueFacts

DAY = date(2026, 3, 10)
START = datetime(2026, 3, 10, 10, 0)
END = datetime(2026, 3, 10, 11, 0)


@pytest.mark.parametrize("part, before, after, expected", [
    ("risk_notes", None, {"level": "high"}, "risk_note"),
    ("risk_notes", None, {"level": "medium"}, None),
    ("risk_notes", None, {"level": None}, None),
    ("risk_notes", {"level": "medium"}, {"level": "high"}, "risk_note"),
    ("risk_notes", {"level": "high"}, {"level": "high"}, None),
    ("risk_notes", {"level": "high"}, {"level": "low"}, None),
    ("risk_notes", {"level": "high"}, None, None),
    ("risk_assessments", None, {"level": "high"}, "risk_assessment"),
    ("risk_assessments", None, {"level": "low"}, None),
    ("risk_assessments", {"level": "low"}, {"level": "high"}, "risk_assessment"),
    ("safeguarding_concerns", None, {}, "safeguarding_concern"),
    ("safeguarding_concerns", {}, {}, None),
    ("disclosures", None, {}, "disclosure"),
    ("disclosures", {}, {}, None),
    ("contacts", None, {}, None),
    ("outcomes", None, {}, None),
])
def test_which_case_file_writes_are_new_high_risk_information(part, before, after, expected):
    assert rules.case_write_alert(part, before, after) == expected


@pytest.mark.parametrize("before, after, expected", [
    (None, {"group": 1, "confidence": "possible", "ended_on": None}, True),
    ({"group": 1, "confidence": "possible", "ended_on": None}, {"group": 1, "confidence": "confirmed", "ended_on": None}, True),
    ({"group": 1, "confidence": "possible", "ended_on": None}, {"group": 2, "confidence": "possible", "ended_on": None}, True),
    ({"group": 1, "confidence": "possible", "ended_on": None}, {"group": 1, "confidence": "possible", "ended_on": DAY}, True),
    ({"group": 1, "confidence": "possible", "ended_on": None}, {"group": 1, "confidence": "possible", "ended_on": None}, False),
    ({"group": 1, "confidence": "possible", "ended_on": None}, None, False),
])
def test_which_affiliation_changes_are_conflict_markers(before, after, expected):
    assert rules.affiliation_alert(before, after) is expected


def assessed(days_ago=10, review_in=30, level="medium", kind="individual"):
    return Assessed(on=DAY - timedelta(days=days_ago), level=level,
                    review_date=None if review_in is None else DAY + timedelta(days=review_in), kind=kind)


VENUE = VenueFacts("Lozells Community Hub", area="Lozells", postcode_district="B19", assessments=(assessed(kind="venue"),))
GROUPS = {
    "north": GroupFacts("North Side", areas=frozenset({"Lozells", "B19"}), rivals=frozenset({"south"})),
    "south": GroupFacts("South Crew", areas=frozenset({"Small Heath"})),
    "east": GroupFacts("East Boys", areas=frozenset({"b9"})),
}


def visit(**changes) -> PlannedVisit:
    values = dict(starts_at=START, ends_at=END, venue=VENUE,
                  clients=(ClientFacts("E4E-1", (assessed(),), frozenset({"north"})),
                           ClientFacts("E4E-2", (assessed(),), frozenset())),
                  groups=GROUPS, other_visits=())
    values.update(changes)
    return PlannedVisit(**values)


def client(reference="E4E-3", groups=(), assessments=None):
    return ClientFacts(reference, (assessed(),) if assessments is None else assessments, frozenset(groups))


CASES = [
    ("all is well", visit(), []),
    ("no venue", visit(venue=None), ["venue_missing"]),
    ("venue never assessed", visit(venue=VenueFacts("Cafe", assessments=())), ["venue_unassessed"]),
    ("venue review date before the visit", visit(venue=VenueFacts("Cafe", assessments=(assessed(60, -1, kind="venue"),))),
     ["venue_review_overdue"]),
    ("venue review on the visit day is current", visit(venue=VenueFacts("Cafe", assessments=(assessed(60, 0, kind="venue"),))), []),
    ("older overdue venue assessment superseded", visit(venue=VenueFacts("Cafe", assessments=(
        assessed(90, -30, kind="venue"), assessed(5, 60, kind="venue")))), []),
    ("venue assessed high", visit(venue=VenueFacts("Cafe", assessments=(assessed(5, 60, "high", "venue"),))),
     ["venue_high_risk"]),
    ("client never assessed", visit(clients=(client(assessments=()),)), ["client_unassessed"]),
    ("client only has a group assessment", visit(clients=(client(assessments=(assessed(kind="group"),)),)),
     ["client_unassessed"]),
    ("client's assessment past review", visit(clients=(client(assessments=(assessed(100, -5),)),)), ["client_unassessed"]),
    ("client assessed with no review date", visit(clients=(client(assessments=(assessed(100, None),)),)), []),
    ("rival clients booked together", visit(venue=VenueFacts("Cafe", area="Digbeth", assessments=(assessed(kind="venue"),)),
                                            clients=(client("E4E-1", {"north"}), client("E4E-2", {"south"}))),
     ["rival_clients"]),
    ("rivalry recorded on the other side only", visit(
        venue=VenueFacts("Cafe", area="Digbeth", assessments=(assessed(kind="venue"),)),
        clients=(client("E4E-1", {"south"}), client("E4E-2", {"north"}))), ["rival_clients"]),
    ("same group together is fine", visit(clients=(client("E4E-1", {"north"}), client("E4E-2", {"north"}))), []),
    ("unrelated groups together", visit(venue=VenueFacts("Cafe", area="Digbeth", assessments=(assessed(kind="venue"),)),
                                        clients=(client("E4E-1", {"east"}), client("E4E-2", {"north"}))), []),
    ("venue in a rival's claimed area", visit(clients=(client("E4E-2", {"south"}),)), ["rival_territory"]),
    ("venue in a rival's claimed postcode district", visit(
        venue=VenueFacts("Cafe", area="Elsewhere", postcode_district="B19", assessments=(assessed(kind="venue"),)),
        clients=(client("E4E-2", {"south"}),)), ["rival_territory"]),
    ("venue in the client's own group's area", visit(clients=(client("E4E-1", {"north"}),)), []),
    ("worker already booked then", visit(other_visits=(OtherVisit("Sam", START + timedelta(minutes=30),
                                                                  END + timedelta(minutes=30), "Cafe"),)),
     ["worker_double_booked"]),
    ("worker's other visit ends as this starts", visit(other_visits=(OtherVisit("Sam", START - timedelta(hours=1), START,
                                                                               "Cafe"),)), []),
]


@pytest.mark.parametrize("story, planned, expected", CASES, ids=[c[0] for c in CASES])
def test_the_visit_check(story, planned, expected):
    assert [f.code for f in rules.visit_findings(planned)] == expected


def test_every_finding_has_a_table_case():
    found = {code for _, _, codes in CASES for code in codes}
    assert found == set(rules.FINDING_CODES)


def test_findings_name_groups_only_for_those_allowed_to_read_affiliations():
    planned = visit(clients=(client("E4E-1", {"north"}), client("E4E-2", {"south"})),
                    venue=VenueFacts("Cafe", area="Digbeth", assessments=(assessed(kind="venue"),)))
    assert "North Side" in rules.visit_findings(planned)[0].message
    hidden = rules.visit_findings(planned, show_groups=False)[0].message
    assert "North Side" not in hidden and "E4E-1 and E4E-2 belong to rival groups" in hidden


@pytest.mark.parametrize("codes, confirmed, reason, manager, errors", [
    ([], False, None, False, 0),
    (["worker_double_booked"], False, None, False, 1),
    (["worker_double_booked"], True, None, False, 0),
    (["rival_clients"], True, None, False, 1),
    (["rival_clients"], True, "Separate rooms, two staff", False, 1),
    (["rival_clients"], True, None, True, 1),
    (["rival_clients"], True, "   ", True, 1),
    (["rival_clients"], True, "Separate rooms, two staff", True, 0),
    (["rival_clients"], False, "Separate rooms, two staff", True, 1),
])
def test_serious_findings_need_a_manager_and_a_reason(codes, confirmed, reason, manager, errors):
    findings = [rules.Finding(code, code, serious=code != "worker_double_booked") for code in codes]
    assert len(rules.override_errors(findings, confirmed, reason, manager)) == errors


@pytest.mark.parametrize("status, minutes_after_end, expected", [
    ("checked_in", 31, True),
    ("planned", 31, True),
    ("checked_in", 30, False),
    ("checked_in", -10, False),
    ("checked_out", 120, False),
    ("cancelled", 120, False),
])
def test_a_check_out_is_overdue_after_the_end_and_the_grace_period(status, minutes_after_end, expected):
    assert rules.checkout_overdue(status, END, END + timedelta(minutes=minutes_after_end), 30) is expected


@pytest.mark.parametrize("starts, ends, errors", [
    (START, END, 0), (START, START, 1), (END, START, 1), (START, START + timedelta(hours=13), 1), (None, END, 0)])
def test_visit_times(starts, ends, errors):
    assert len(rules.visit_errors(starts, ends)) == errors


@pytest.mark.parametrize("starts, ends, expected", [
    (datetime(2026, 3, 10, 9, 0), datetime(2026, 3, 10, 17, 0), False),   # a Tuesday, within hours
    (datetime(2026, 3, 10, 8, 30), datetime(2026, 3, 10, 9, 30), True),   # starts before nine
    (datetime(2026, 3, 10, 16, 30), datetime(2026, 3, 10, 17, 30), True),  # ends after five
    (datetime(2026, 3, 14, 11, 0), datetime(2026, 3, 14, 12, 0), True),    # a Saturday
    (datetime(2026, 3, 10, 19, 0), datetime(2026, 3, 10, 20, 0), True),    # an evening
])
def test_a_visit_outside_weekday_office_hours_is_out_of_hours(starts, ends, expected):
    assert rules.out_of_hours(starts, ends) is expected
