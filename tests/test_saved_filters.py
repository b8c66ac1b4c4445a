"""Saved filters and the built-in working lists: saving, sharing, running, changing, stale filters, scope."""
from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from admin_app.saved_filters import BUILTINS, StaleFilter, week_of
from admin_app.views.export_scopes import export_scope, export_scope_choices, saved_filter_match
from tests.conftest import csrf_token, new_client

REFERENCE = re.compile(r"E4E-[A-Z]\d{4}")


def listed(client, url) -> set[str]:
    response = client.get(url, follow_redirects=True)
    assert response.status_code == 200, response.status_code
    return set(REFERENCE.findall(response.get_data(as_text=True)))


def filter_groups(page: str) -> dict:
    """The list page's own filter definitions (label -> [{index, arg, operation, ...}])."""
    import html
    import json

    return json.loads(html.unescape(re.search(r'id="filter-groups-data"[^>]*>(.*?)</', page, re.S).group(1)))


def save(client, name, args="", roles=(), replace=False, screen="client"):
    data = {"csrf_token": csrf_token(client, "/admin/client/"), "screen": screen, "args": args, "name": name,
            "shared_roles": list(roles)}
    if replace:
        data["replace"] = "y"
    return client.post("/admin/savedfilter/save/", data=data)


def saved(name):
    from admin_app.models.saved_filters import SavedFilter

    return SavedFilter.objects(name=name).first()


def at_risk(reference, worker, **fields):
    from admin_app.models.case_file import Referral

    today = date.today()
    return new_client(reference, worker=worker, referral=Referral(date=today - timedelta(days=40), source="yos",
                                                                 cohort="at_risk", decision="accepted"), **fields)


# --- permissions ----------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["grant_panel", "evaluator", "commissioner"])
def test_roles_without_saved_filters_are_refused_every_endpoint(app, login, users, role):
    from admin_app.models.saved_filters import SavedFilter

    with app.app_context():
        mine = SavedFilter(name="Mine", owner=users["manager"], screen="client", shared_roles=[role]).save()
    client = login(role)
    assert client.get("/admin/savedfilter/").status_code == 403
    assert client.get(f"/admin/savedfilter/run/?id={mine.pk}").status_code == 403
    token = csrf_token(client, "/admin/")
    response = client.post("/admin/savedfilter/save/", data={"csrf_token": token, "screen": "client", "name": "x"})
    assert response.status_code == 403
    assert client.get(f"/admin/savedfilter/edit/?id={mine.pk}").status_code == 403


def test_list_screens_offer_save_this_filter_only_to_roles_that_may_save(login):
    assert "Save this filter" in login("worker").get("/admin/client/").get_data(as_text=True)
    assert "Save this filter" not in login("commissioner").get("/admin/exportrun/").get_data(as_text=True)


def test_saving_from_a_list_the_user_cannot_see_is_refused(login):
    response = save(login("worker"), "Staff", screen="staffprofile")
    assert response.status_code == 403


# --- save, run, share -----------------------------------------------------------------------------

def test_worker_saves_filters_search_and_sort_and_running_it_opens_the_same_list(app, login, users):
    at_risk("E4E-A0001", users["worker"], last_name="Adams")
    at_risk("E4E-A0002", users["worker"], last_name="Baker")
    new_client("E4E-A0003", worker=users["worker"], last_name="Adamson")  # convicted cohort
    worker = login("worker")
    list_url = "/admin/client/?flt0_cohort_equals=at_risk&search=ada&sort=2&desc=1"
    assert listed(worker, list_url) == {"E4E-A0001"}

    response = save(worker, "At risk Adams", args=urlsplit(list_url).query)
    assert response.status_code == 302
    record = saved("At risk Adams")
    assert record.owner.pk == users["worker"].pk and record.shared_roles == []
    assert [(c.arg, c.value) for c in record.conditions] == [("cohort_equals", "at_risk")]
    assert (record.search, record.sort, record.desc) == ("ada", "last_name", True)

    page = worker.get("/admin/savedfilter/").get_data(as_text=True)
    assert "At risk Adams" in page and "Cohort equals At risk" in page
    run = worker.get(f"/admin/savedfilter/run/?id={record.pk}")
    assert run.status_code == 302
    args = parse_qs(urlsplit(run.location).query)
    assert args["flt0_cohort_equals"] == ["at_risk"] and args["search"] == ["ada"] and args["desc"] == ["1"]
    assert listed(worker, run.location) == {"E4E-A0001"}


def test_positional_filter_links_still_work_and_are_saved_by_name(login, users):
    at_risk("E4E-A0001", users["worker"])
    new_client("E4E-A0002", worker=users["worker"])
    worker = login("worker")
    index = filter_groups(worker.get("/admin/client/").get_data(as_text=True))["Cohort"][0]["index"]
    assert listed(worker, f"/admin/client/?flt0_{index}=at_risk") == {"E4E-A0001"}
    save(worker, "By position", args=f"flt0_{index}=at_risk")
    assert [c.arg for c in saved("By position").conditions] == ["cohort_equals"]


def test_private_filter_cannot_be_seen_or_run_by_anyone_else(login, users):
    worker = login("worker")
    save(worker, "My private list", args="flt0_cohort_equals=at_risk")
    record = saved("My private list")
    for other in ("worker2", "manager", "admin"):
        client = login(other)
        assert "My private list" not in client.get("/admin/savedfilter/").get_data(as_text=True)
        assert client.get(f"/admin/savedfilter/run/?id={record.pk}").status_code == 404


def test_filter_shared_with_a_role_is_run_by_that_role_and_no_other(login, users):
    manager = login("manager")
    save(manager, "Team at risk", args="flt0_cohort_equals=at_risk", roles=["worker"])
    record = saved("Team at risk")
    assert record.shared_roles == ["worker"]
    worker = login("worker2")
    assert "Team at risk" in worker.get("/admin/savedfilter/").get_data(as_text=True)
    assert worker.get(f"/admin/savedfilter/run/?id={record.pk}").status_code == 302
    admin_staff = login("admin_staff")
    assert "Team at risk" not in admin_staff.get("/admin/savedfilter/").get_data(as_text=True)
    assert admin_staff.get(f"/admin/savedfilter/run/?id={record.pk}").status_code == 404


def test_worker_running_a_shared_filter_sees_only_their_own_caseload(login, users):
    at_risk("E4E-A0001", users["worker"])
    at_risk("E4E-A0002", users["worker2"])
    new_client("E4E-A0003", worker=users["worker"])
    manager = login("manager")
    save(manager, "Team at risk", args="flt0_cohort_equals=at_risk", roles=["worker"])
    record = saved("Team at risk")
    assert listed(manager, f"/admin/savedfilter/run/?id={record.pk}") == {"E4E-A0001", "E4E-A0002"}
    assert listed(login("worker"), f"/admin/savedfilter/run/?id={record.pk}") == {"E4E-A0001"}
    assert listed(login("worker2"), f"/admin/savedfilter/run/?id={record.pk}") == {"E4E-A0002"}


# --- update, rename, delete -----------------------------------------------------------------------

def test_saving_again_under_the_same_name_needs_replace_and_then_updates_it(login, users):
    worker = login("worker")
    save(worker, "Mine", args="flt0_cohort_equals=at_risk")
    response = save(worker, "Mine", args="flt0_cohort_equals=convicted")
    page = worker.get(response.location).get_data(as_text=True)
    assert "already have a filter called" in page
    assert saved("Mine").conditions[0].value == "at_risk"
    save(worker, "Mine", args="flt0_cohort_equals=convicted", roles=["manager"], replace=True)
    from admin_app.models.saved_filters import SavedFilter

    assert SavedFilter.objects(name="Mine").count() == 1
    assert saved("Mine").conditions[0].value == "convicted" and saved("Mine").shared_roles == ["manager"]


def test_owner_renames_shares_and_deletes_their_filter(login, users):
    worker = login("worker")
    save(worker, "Old name", args="flt0_cohort_equals=at_risk")
    record = saved("Old name")
    url = f"/admin/savedfilter/edit/?id={record.pk}"
    response = worker.post(url, data={"csrf_token": csrf_token(worker, url), "name": "New name",
                                      "shared_roles": ["manager"]})
    assert response.status_code == 302
    record.reload()
    assert record.name == "New name" and record.shared_roles == ["manager"]
    assert [c.value for c in record.conditions] == ["at_risk"]
    token = csrf_token(worker, "/admin/savedfilter/")
    worker.post("/admin/savedfilter/delete/", data={"id": str(record.pk), "csrf_token": token})
    assert saved("New name") is None


def test_someone_a_filter_is_shared_with_cannot_change_or_delete_it(login, users):
    manager = login("manager")
    save(manager, "Shared", args="flt0_cohort_equals=at_risk", roles=["worker"])
    record = saved("Shared")
    worker = login("worker")
    url = f"/admin/savedfilter/edit/?id={record.pk}"
    assert worker.get(url).status_code == 404
    token = csrf_token(worker, "/admin/savedfilter/")
    assert worker.post(url, data={"csrf_token": token, "name": "Hijacked"}).status_code == 404
    assert worker.post("/admin/savedfilter/delete/", data={"id": str(record.pk), "csrf_token": token}).status_code == 404
    worker.post("/admin/savedfilter/action/", data={"action": "delete", "rowid": [str(record.pk)], "csrf_token": token})
    assert saved("Shared") is not None and saved("Shared").name == "Shared"
    # Saving under the same name makes the worker's own filter; the shared one is untouched.
    save(worker, "Shared", args="flt0_cohort_equals=convicted", replace=True)
    record.reload()
    assert record.conditions[0].value == "at_risk" and record.owner.pk == users["manager"].pk


# --- validation: on save and on run ---------------------------------------------------------------

def test_saving_a_list_whose_filter_the_screen_does_not_know_is_refused(login):
    worker = login("worker")
    response = save(worker, "Bad", args="flt0_nickname_equals=x")
    assert "Not saved" in worker.get(response.location).get_data(as_text=True)
    assert saved("Bad") is None
    response = save(worker, "", args="flt0_cohort_equals=at_risk")
    assert "Give the filter a name" in worker.get(response.location).get_data(as_text=True)


@pytest.mark.parametrize("change, expected", [
    ({"conditions": [{"arg": "nickname_equals", "label": "Nickname", "operation": "equals", "value": "x"}]},
     "The filter “Nickname equals” no longer exists on the Clients screen."),
    ({"conditions": [{"arg": "cohort_equals", "label": "Cohort", "operation": "equals", "value": "gone"}]},
     "The value saved for “Cohort equals” is no longer one of its choices."),
    ({"sort": "date_of_birth"}, "can no longer be sorted by"),
    ({"builtin": "retired_list"}, "The built-in filter “retired_list” no longer exists"),
])
def test_a_stale_filter_gives_a_clear_message_instead_of_failing(app, login, users, change, expected):
    from admin_app.models.saved_filters import SavedFilter

    stored = {"screen": "client", "conditions": [], "search": "", "sort": None, "desc": False, "builtin": None}
    stored.update(change)
    with app.app_context():
        record = SavedFilter(name="Stale", owner=users["worker"], screen_name="Clients")
        record.set_data(stored)
        record.save()
    worker = login("worker")
    response = worker.get(f"/admin/savedfilter/run/?id={record.pk}")
    assert response.location.endswith("/admin/savedfilter/")
    page = worker.get(response.location).get_data(as_text=True)
    assert "is out of date and was not run" in page and expected in page.replace("&#34;", '"')
    with app.test_request_context():
        with pytest.raises(StaleFilter, match="out of date"):
            saved_filter_match(record, users["worker"], date.today())


def test_a_filter_saved_on_a_list_that_no_longer_exists_is_stale(app, login, users):
    from admin_app.models.saved_filters import SavedFilter

    with app.app_context():
        record = SavedFilter(name="Gone", owner=users["worker"], screen="retired_screen", screen_name="Old list").save()
    worker = login("worker")
    page = worker.get(f"/admin/savedfilter/run/?id={record.pk}", follow_redirects=True).get_data(as_text=True)
    assert "The list it was saved on (Old list) no longer exists." in page


# --- built-in filters on the list -----------------------------------------------------------------

def test_built_in_filter_on_the_client_list_is_scoped_to_the_worker(login, users):
    from admin_app.models.case_file import Referral

    pending = dict(referral=Referral(date=date.today() - timedelta(days=3), source="self", cohort="at_risk"),
                   status="referred")
    new_client("E4E-B0001", worker=users["worker"], **pending)
    new_client("E4E-B0002", worker=users["worker2"], **pending)
    new_client("E4E-B0003", worker=users["worker"])
    url = "/admin/client/?builtin=referrals_awaiting_decision"
    assert listed(login("manager"), url) == {"E4E-B0001", "E4E-B0002"}
    worker = login("worker")
    assert listed(worker, url) == {"E4E-B0001"}
    page = worker.get(url).get_data(as_text=True)
    assert "Built-in filter: <strong>Referrals awaiting a decision</strong>" in page
    assert listed(worker, "/admin/client/?builtin=no_such_list") == set()
    assert "There is no built-in filter" in worker.get("/admin/client/?builtin=no_such_list").get_data(as_text=True)


def test_saved_filters_menu_lists_built_ins_with_counts_in_the_users_scope(login, users):
    from admin_app.models.case_file import Disclosure

    for n, who in enumerate(["worker", "worker2", "worker2"]):
        new_client(f"E4E-D000{n}", worker=users[who], disclosures=[Disclosure(date=date.today(), basis="threat_to_life",
                                                                             authorised_by="Manager")])
    row = re.compile(r"Disclosures without a written report</a></td>\s*<td>[^<]*</td>\s*<td[^>]*>(\d+)</td>")
    assert row.search(login("worker").get("/admin/savedfilter/").get_data(as_text=True)).group(1) == "1"
    assert row.search(login("manager").get("/admin/savedfilter/").get_data(as_text=True)).group(1) == "3"


def test_a_built_in_filter_can_be_saved_with_more_filters_and_run(login, users):
    from admin_app.models.case_file import Referral

    for reference, cohort in (("E4E-B0001", "at_risk"), ("E4E-B0002", "convicted")):
        new_client(reference, worker=users["worker"], status="referred",
                   referral=Referral(date=date.today() - timedelta(days=3), source="self", cohort=cohort))
    worker = login("worker")
    save(worker, "Waiting at risk", args="builtin=referrals_awaiting_decision&flt0_cohort_equals=at_risk")
    record = saved("Waiting at risk")
    assert record.builtin == "referrals_awaiting_decision"
    assert listed(worker, f"/admin/savedfilter/run/?id={record.pk}") == {"E4E-B0001"}


# --- each built-in filter returns exactly the right clients --------------------------------------

TODAY = date(2026, 3, 11)  # a Wednesday
MONDAY, SUNDAY = week_of(TODAY)[0], week_of(TODAY)[-1]


def days(n: int) -> date:
    return TODAY + timedelta(days=n)


def _cases():
    """Per built-in filter: (reference, case-file fields, should it be listed)."""
    from admin_app.models.case_file import (
        Assessment,
        Contact,
        Disclosure,
        EmployerContact,
        GrantBid,
        Outcome,
        PlanGoal,
        Referral,
        RiskAssessment,
        RiskNote,
        SafeguardingConcern,
    )

    def referral(decision="accepted"):
        return Referral(date=days(-200), source="probation", cohort="convicted", decision=decision)

    def contact(day, mode="phone"):
        return Contact(date=days(day), minutes=30, mode=mode)

    open_goal = [PlanGoal(goal="Find work", status="open")]

    def job(start, end=None, kind="paid_employment"):
        return Outcome(kind=kind, start_date=start, end_date=end)

    def risk(day, level="medium", kind="individual", review=None):
        return RiskAssessment(date=days(day), kind=kind, level=level, review_date=days(review) if review is not None else None)

    def assessed(day):
        return Assessment(date=days(day))

    return {
        "active_caseload": [
            ("contact 27 days ago, open goal", dict(contacts=[contact(-27)], plan_goals=open_goal), True),
            ("contact 28 days ago", dict(contacts=[contact(-28)], plan_goals=open_goal), False),
            ("only admin time recently", dict(contacts=[contact(-2, "admin"), contact(-40)], plan_goals=open_goal), False),
            ("closed", dict(status="closed", contacts=[contact(-1)], plan_goals=open_goal), False),
            ("no plan", dict(contacts=[contact(-1)]), False),
            ("plan done, last goal not yet due", dict(contacts=[contact(-1)], plan_goals=[
                PlanGoal(goal="CV", status="achieved", due_date=days(5))]), True),
            ("plan done and past its due dates", dict(contacts=[contact(-1)], plan_goals=[
                PlanGoal(goal="CV", status="achieved", due_date=days(-1))]), False),
            ("referral awaiting decision", dict(referral=referral("pending"), contacts=[contact(-1)], plan_goals=open_goal), False),
        ],
        "no_contact_28_days": [
            ("last contact 28 days ago", dict(contacts=[contact(-28)]), True),
            ("never contacted", dict(), True),
            ("only admin time recently", dict(contacts=[contact(-3, "admin")]), True),
            ("contact 27 days ago", dict(contacts=[contact(-27)]), False),
            ("closed", dict(status="closed", contacts=[contact(-60)]), False),
            ("referral rejected", dict(referral=Referral(date=days(-200), source="self", cohort="at_risk", decision="rejected",
                                                          rejection_reason="ineligible", rationale="Too old")), False),
        ],
        "no_employer_contact_30_days": [
            ("assessed 31 days ago, no employer contact", dict(assessment=assessed(-31)), True),
            ("face-to-face contact after assessment", dict(assessment=assessed(-31), employer_contacts=[
                EmployerContact(date=days(-20), face_to_face=True)]), False),
            ("face-to-face contact on the assessment day", dict(assessment=assessed(-40), employer_contacts=[
                EmployerContact(date=days(-40), face_to_face=True)]), False),
            ("only a phone call to an employer", dict(assessment=assessed(-31), employer_contacts=[
                EmployerContact(date=days(-20), face_to_face=False)]), True),
            ("face-to-face contact only before the assessment", dict(assessment=assessed(-31), employer_contacts=[
                EmployerContact(date=days(-35), face_to_face=True)]), True),
            ("assessed exactly 30 days ago", dict(assessment=assessed(-30)), False),
            ("not assessed", dict(), False),
            ("closed", dict(status="closed", assessment=assessed(-60)), False),
        ],
        "sustainment_13_weeks": [
            ("13 weeks on Monday", dict(outcomes=[job(MONDAY - timedelta(days=91))]), True),
            ("13 weeks on Sunday", dict(outcomes=[job(SUNDAY - timedelta(days=91))]), True),
            ("business reaching 13 weeks today", dict(outcomes=[job(TODAY - timedelta(days=91), kind="self_employment")]), True),
            ("13 weeks last Sunday", dict(outcomes=[job(MONDAY - timedelta(days=92))]), False),
            ("13 weeks next Monday", dict(outcomes=[job(SUNDAY - timedelta(days=90))]), False),
            ("ended before its 13 weeks", dict(outcomes=[job(MONDAY - timedelta(days=91), MONDAY - timedelta(days=1))]), False),
            ("ends on its 13-week day", dict(outcomes=[job(TODAY - timedelta(days=91), TODAY)]), True),
            ("training, not a paid outcome", dict(outcomes=[job(MONDAY - timedelta(days=91), kind="training")]), False),
            ("26 weeks this week", dict(outcomes=[job(MONDAY - timedelta(days=182))]), False),
        ],
        "sustainment_26_weeks": [
            ("26 weeks on Monday", dict(outcomes=[job(MONDAY - timedelta(days=182))]), True),
            ("26 weeks on Sunday, second job", dict(outcomes=[job(days(-400), days(-300)), job(SUNDAY - timedelta(days=182))]), True),
            ("13 weeks this week", dict(outcomes=[job(MONDAY - timedelta(days=91))]), False),
            ("ended before its 26 weeks", dict(outcomes=[job(MONDAY - timedelta(days=182), MONDAY - timedelta(days=10))]), False),
        ],
        "risk_review_overdue": [
            ("review was yesterday", dict(risk_assessments=[risk(-60, review=-1)]), True),
            ("re-assessed with a new review date", dict(risk_assessments=[risk(-60, review=-1), risk(-1, review=30)]), False),
            ("review due today", dict(risk_assessments=[risk(-60, review=0)]), False),
            ("venue review past, individual review ahead", dict(risk_assessments=[
                risk(-60, kind="venue", review=-5), risk(-10, kind="individual", review=10)]), True),
            ("no review date set", dict(risk_assessments=[risk(-60)]), False),
            ("closed", dict(status="closed", risk_assessments=[risk(-60, review=-1)]), False),
        ],
        "high_risk": [
            ("assessed high", dict(risk_assessments=[risk(-5, "high")]), True),
            ("high, then assessed low", dict(risk_assessments=[risk(-50, "high"), risk(-5, "low")]), False),
            ("low, then assessed high", dict(risk_assessments=[risk(-5, "high"), risk(-50, "low")]), True),
            ("high and low on the latest day", dict(risk_assessments=[risk(-5, "low", "venue"), risk(-5, "high")]), True),
            ("no risk assessment", dict(), False),
            ("closed", dict(status="closed", risk_assessments=[risk(-5, "high")]), False),
            ("high risk note, never assessed", dict(risk_notes=[RiskNote(date=days(-3), level="high", text="x")]), True),
            ("high risk note after a low assessment", dict(risk_assessments=[risk(-10, "low")],
                                                           risk_notes=[RiskNote(date=days(-3), level="high", text="x")]), True),
            ("high risk note, then assessed low", dict(risk_assessments=[risk(-1, "low")],
                                                       risk_notes=[RiskNote(date=days(-3), level="high", text="x")]), False),
            ("medium risk note only", dict(risk_notes=[RiskNote(date=days(-3), level="medium", text="x")]), False),
            ("safeguarding concern 89 days ago", dict(safeguarding_concerns=[
                SafeguardingConcern(date=days(-89), concern="x")]), True),
            ("safeguarding concern 90 days ago", dict(safeguarding_concerns=[
                SafeguardingConcern(date=days(-90), concern="x")]), False),
        ],
        "referrals_awaiting_decision": [
            ("pending", dict(status="referred", referral=referral("pending")), True),
            ("accepted", dict(), False),
            ("pending but closed", dict(status="closed", referral=referral("pending")), False),
            ("withdrawn", dict(status="closed", referral=referral("withdrawn")), False),
        ],
        "grant_bids_awaiting_panel": [
            ("submitted", dict(grant_bids=[GrantBid(status="submitted")]), True),
            ("in panel review", dict(grant_bids=[GrantBid(status="panel_review")]), True),
            ("a draft and a submitted bid", dict(grant_bids=[GrantBid(status="draft"), GrantBid(status="submitted")]), True),
            ("approved", dict(grant_bids=[GrantBid(status="approved")]), False),
            ("draft", dict(grant_bids=[GrantBid(status="draft")]), False),
            ("no bid", dict(), False),
        ],
        "disclosures_without_report": [
            ("report not written", dict(disclosures=[Disclosure(date=days(-3), basis="threat_to_life")]), True),
            ("one of two without report", dict(disclosures=[
                Disclosure(date=days(-30), basis="threat_to_life", written_report_date=days(-29)),
                Disclosure(date=days(-3), basis="safety_of_others")]), True),
            ("report written", dict(disclosures=[Disclosure(date=days(-3), basis="threat_to_life",
                                                            written_report_date=days(-2))]), False),
            ("no disclosure", dict(), False),
        ],
    }


def test_every_built_in_filter_has_hand_built_cases():
    assert set(_cases()) == set(BUILTINS)


@pytest.mark.parametrize("key", sorted(BUILTINS))
def test_each_built_in_filter_returns_exactly_the_right_clients(app, users, key):
    from admin_app.models.case_file import Client, Referral

    expected = set()
    with app.app_context():
        for n, (story, fields, listed_) in enumerate(_cases()[key]):
            values = dict(reference=f"E4E-C{n:04d}", first_name="Case", last_name=story, worker=users["worker"],
                          date_of_birth=date(2000, 1, 1), status="active",
                          referral=Referral(date=days(-200), source="probation", cohort="convicted", decision="accepted"))
            values.update(fields)
            Client(**values).save()
            if listed_:
                expected.add(story)
        found = {c.last_name for c in Client.objects(__raw__=BUILTINS[key].match(TODAY))}
    assert found == expected


# --- matches for exports ----------------------------------------------------------------------------

def test_saved_filter_match_selects_what_the_list_shows_in_the_users_scope(app, login, users):
    from admin_app.models.case_file import Client

    at_risk("E4E-A0001", users["worker"], last_name="Adams")
    at_risk("E4E-A0002", users["worker2"], last_name="Adamson")
    at_risk("E4E-A0003", users["worker"], last_name="Baker")
    manager = login("manager")
    save(manager, "Adams at risk", args="flt0_cohort_equals=at_risk&search=adam", roles=["worker"])
    record = saved("Adams at risk")
    with app.test_request_context():
        every = saved_filter_match(record, users["manager"], TODAY)
        own = saved_filter_match(record, users["worker"], TODAY)
        schedule = saved_filter_match(record, None, TODAY)
        assert {c.reference for c in Client.objects(__raw__=every)} == {"E4E-A0001", "E4E-A0002"}
        assert {c.reference for c in Client.objects(__raw__=own)} == {"E4E-A0001"}
        assert {c.reference for c in Client.objects(__raw__=schedule)} == {"E4E-A0001", "E4E-A0002"}
        builtin = saved_filter_match("active_caseload", users["worker2"], date.today())
        assert Client.objects(__raw__=builtin).count() == 0
        with pytest.raises(StaleFilter):
            saved_filter_match("no_such_list", users["worker"], TODAY)
    # A scheduled export runs in a job, with no web app around it.
    assert saved_filter_match(record, None, TODAY) == schedule


def test_export_scopes_offer_built_ins_and_only_visible_saved_filters(app, login, users):
    manager = login("manager")
    save(manager, "Team", args="flt0_cohort_equals=at_risk", roles=["worker"])
    save(manager, "Managers only", args="flt0_cohort_equals=convicted")
    save(manager, "Employers", args="", screen="employer", roles=["worker"])
    team, private = saved("Team"), saved("Managers only")
    with app.test_request_context():
        worker_choices = dict(export_scope_choices(users["worker"]))
        assert f"saved:{team.pk}" in worker_choices and f"saved:{private.pk}" not in worker_choices
        assert "Saved filter: Employers" not in worker_choices.values()
        assert all(f"builtin:{key}" in worker_choices for key in BUILTINS)
        match, label = export_scope(f"saved:{team.pk}", users["worker"], TODAY)
        assert label == "Saved filter: Team" and match
        with pytest.raises(StaleFilter):
            export_scope(f"saved:{private.pk}", users["worker"], TODAY)
        with pytest.raises(StaleFilter):
            export_scope("saved:not-an-id", users["worker"], TODAY)
        assert export_scope(f"saved:{private.pk}", None, TODAY)[1] == "Saved filter: Managers only"
        assert export_scope("builtin:high_risk", None, TODAY)[1] == "Built-in filter: High risk"
