"""The case status machine and referral decisions, as pure rules (DOMAIN.md: Case status, and who may move it)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, strategies as st

from admin_app.casework import status as machine
from admin_app.vocabulary import CASE_STATUSES, REFERRAL_DECISIONS

STATUSES = [s for s, _ in CASE_STATUSES]
DECISIONS = [d for d, _ in REFERRAL_DECISIONS]
TODAY = date(2026, 11, 29)


@pytest.mark.parametrize("current, new", [
    ("assessed", "active"), ("assessed", "closed"),
    ("active", "in_work"), ("active", "in_business"), ("active", "closed"),
    ("in_work", "active"), ("in_work", "in_business"), ("in_work", "closed"),
    ("in_business", "in_work"), ("in_business", "active"), ("in_business", "closed"),
])
def test_ordinary_moves_of_an_accepted_case_are_allowed(current, new):
    assert machine.status_change_errors(current, new, "accepted", reason="Moved away" if new == "closed" else None) == []


@pytest.mark.parametrize("current", ["assessed", "active", "in_work", "in_business"])
def test_closing_a_case_needs_a_reason(current):
    assert machine.status_change_errors(current, "closed", "accepted", reason="  ") == [
        (("reason",), "Say why the case is closed (for example moved away, or no longer taking part).")]


@pytest.mark.parametrize("current, new, message", [
    ("assessed", "in_work", "cannot go straight from assessed to in work"),
    ("active", "assessed", "cannot go straight"),
    ("closed", "in_work", "cannot go straight"),
    ("active", "active", "already has this status"),
    ("active", None, "Choose the new status"),
])
def test_other_moves_are_refused_with_the_way_round_them(current, new, message):
    [(path, text)] = machine.status_change_errors(current, new, "accepted", reason=None)
    assert message in text


def test_a_case_with_an_undecided_referral_cannot_be_in_work_or_anything_but_referred():
    for new in STATUSES:
        errors = machine.status_change_errors("referred", new, "pending", reason="because", correction=True)
        assert errors, new
    [(_, text)] = machine.status_change_errors("referred", "in_work", "pending", reason=None)
    assert "has not been decided" in text


def test_a_rejected_or_withdrawn_referral_keeps_the_case_closed():
    for decision in ("rejected", "withdrawn"):
        [(_, text)] = machine.status_change_errors("closed", "active", decision, reason="Back in touch")
        assert "not accepted" in text


def test_reopening_needs_a_reason():
    assert machine.status_change_errors("closed", "active", "accepted", reason="") == [
        (("reason",), "Say why the case is re-opened.")]
    assert machine.status_change_errors("closed", "active", "accepted", reason="Back in touch") == []


def test_a_correction_may_set_any_status_the_referral_allows_but_must_say_why():
    assert machine.status_change_errors("in_work", "assessed", "accepted", reason=None, correction=True) == [
        (("reason",), "Say what the correction puts right.")]
    assert machine.status_change_errors("in_work", "assessed", "accepted", reason="Job start was recorded on the wrong client",
                                        correction=True) == []


@given(st.sampled_from(STATUSES), st.sampled_from(DECISIONS), st.booleans())
def test_every_next_status_is_one_the_referral_allows(current, decision, correction):
    for new in machine.next_statuses(current, decision, correction):
        assert new in machine.statuses_for(decision) and new != current
        assert machine.status_change_errors(current, new, decision, reason="a reason", correction=correction) == []


@given(st.sampled_from(STATUSES), st.sampled_from(STATUSES), st.sampled_from(DECISIONS), st.booleans())
def test_a_change_is_refused_exactly_when_it_is_not_offered(current, new, decision, correction):
    errors = machine.status_change_errors(current, new, decision, reason="a reason", correction=correction)
    assert (errors == []) == (new in machine.next_statuses(current, decision, correction))


# --- referral decisions -------------------------------------------------------------------------------

def decide(previous="pending", decision="accepted", on=TODAY, referred=TODAY - timedelta(days=5), reason=None, rationale=None):
    return machine.decision_errors(previous, decision, on, referred, TODAY, reason, rationale)


def test_a_pending_referral_may_be_accepted_rejected_or_withdrawn():
    assert decide(decision="accepted") == [] and decide(decision="withdrawn") == []
    assert decide(decision="rejected", reason="ineligible", rationale="Aged 36 at referral") == []


def test_a_rejection_needs_its_reason_and_rationale():
    assert {path for path, _ in decide(decision="rejected")} == {("rejection_reason",), ("rationale",)}


@pytest.mark.parametrize("on, message", [
    (TODAY + timedelta(days=1), "cannot be in the future"),
    (TODAY - timedelta(days=9), "cannot come before the referral date"),
    (None, "Enter the date"),
])
def test_the_decision_date_is_checked(on, message):
    [(_, text)] = decide(on=on)
    assert message in text


def test_an_accepted_referral_may_later_be_withdrawn_but_not_rejected():
    assert decide(previous="accepted", decision="withdrawn") == []
    [(_, text)] = decide(previous="accepted", decision="rejected", reason="other", rationale="x")
    assert "already accepted" in text
    [(_, text)] = decide(previous="rejected", decision="accepted")
    assert "already rejected" in text


def test_a_decision_sets_the_status_and_keeps_rejection_fields_only_for_a_rejection():
    assert machine.status_after_decision("referred", "accepted") == "assessed"
    assert machine.status_after_decision("referred", "rejected") == "closed"
    assert machine.status_after_decision("active", "withdrawn") == "closed"
    values = machine.decision_values("accepted", TODAY, "ineligible", "left over from an earlier choice", "m@e4e")
    assert values["rejection_reason"] is None and values["rationale"] is None and values["decided_by"] == "m@e4e"
    values = machine.decision_values("rejected", TODAY, "ineligible", "  Aged 36  ", "m@e4e")
    assert (values["rejection_reason"], values["rationale"]) == ("ineligible", "Aged 36")
