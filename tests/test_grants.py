"""The business start-up grant: bids move only by the workflow, by the right roles, and the pot never over-commits."""
from __future__ import annotations

import io
import threading
from datetime import date, datetime, timedelta
from decimal import Decimal

import gridfs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from admin_app import grants
from admin_app.db import database
from admin_app.models import AuditEvent, Client, GrantPot
from admin_app.models.grants import GrantAttachment
from admin_app.vocabulary import GRANT_BID_STATUSES, ROLES
from tests.conftest import csrf_token, new_client

TODAY = date.today()
MANAGER, PANEL, WORKER, STAFF = "manager@test.e4e", "grant_panel@test.e4e", "worker@test.e4e", "admin_staff@test.e4e"

#: Who may make each transition, as the issue sets it (admin holds every permission).
ALLOWED_ROLES = {
    "submit": {"worker", "admin"},
    "review": {"grant_panel", "admin"},
    "recommend": {"grant_panel", "admin"},
    "approve": {"manager", "admin"},
    "reject": {"manager", "admin"},
    "pay": {"admin_staff", "admin"},
    "withdraw": {"worker", "manager", "admin"},
    "close": {"manager", "admin"},
}
#: The state each transition starts from in the tests, and a valid form for it.
STARTS = {"submit": "draft", "review": "submitted", "recommend": "panel_review", "approve": "recommended",
          "reject": "recommended", "pay": "approved", "withdraw": "submitted", "close": "paid"}
FORMS = {"submit": {}, "review": {}, "recommend": {"recommendation": "approve"}, "approve": {"amount": "500"},
         "reject": {"reason": "The plan does not show how the business would pay its way"},
         "pay": {"amount": "100", "paid_on": TODAY.isoformat()}, "withdraw": {"reason": "Client took a job instead"},
         "close": {"reason": "Business trading; remainder not needed"}}


def pence(pounds_: int | str) -> int:
    return int(Decimal(str(pounds_)) * 100)


@pytest.fixture
def db(app):
    return database()


#: The funding period of the `pot` fixture: it started a while ago and runs on for most of a year.
PERIOD = (TODAY - timedelta(days=60), TODAY + timedelta(days=300))


@pytest.fixture
def pot(db):
    return grants.create_pot(db, "this-year", *PERIOD, pence(10_000), by=MANAGER, on=TODAY)


def pot_now(name="this-year") -> GrantPot:
    return GrantPot.objects(name=name).first()


def bid_of(db, bid_id) -> grants.BidRef:
    return grants.find_bid(db, bid_id)


def draft(db, client, asked=1_000, **fields) -> str:
    values = dict(amount_asked_pence=pence(asked), purpose="Clippers, chair and mirror",
                  plan_summary="Barbering from a rented chair; break-even in four months.")
    values.update(fields)
    return grants.create_draft(db, client.pk, by=WORKER, on=TODAY, **values)


def advance(db, bid_id, to: str, award=None) -> str:
    """Walk a bid along the happy path until it reaches `to` ("recommended" = in panel review with a recommendation)."""
    path = ("draft", "submitted", "panel_review", "recommended", "approved", "paid", "closed")
    for step in path[1:path.index(to) + 1]:
        ref = bid_of(db, bid_id)
        if step == "submitted":
            grants.submit(db, ref, by=WORKER, on=TODAY)
        elif step == "panel_review":
            grants.review(db, ref, by=PANEL, on=TODAY)
        elif step == "recommended":
            grants.recommend(db, ref, by=PANEL, on=TODAY, recommendation="approve", note="Viable plan")
        elif step == "approved":
            grants.approve(db, ref, by=MANAGER, on=TODAY, amount_pence=award or ref.pence("amount_asked_pence"))
        elif step == "paid":
            grants.pay(db, ref, by=STAFF, on=TODAY, amount_pence=pence(100), paid_on=TODAY)
        elif step == "closed":
            grants.close(db, ref, by=MANAGER, on=TODAY, reason="Done")
    return bid_id


def status_of(db, bid_id) -> str:
    return bid_of(db, bid_id).status


def post(client, url, data, token_url="/admin/"):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, token_url)})


def act(client, action, bid_id, **data):
    return post(client, f"/admin/grantbid/act/{action}/", {"bid": bid_id, **FORMS[action], **data})


# --- the rules, without a database -----------------------------------------------------------------

def test_each_status_allows_exactly_the_transitions_the_workflow_names():
    assert grants.possible_actions("draft") == ["submit", "withdraw"]
    assert grants.possible_actions("submitted") == ["review", "withdraw"]
    assert grants.possible_actions("panel_review") == ["recommend", "withdraw"]
    assert grants.possible_actions("panel_review", recommended=True) == ["recommend", "approve", "reject", "withdraw"]
    assert grants.possible_actions("approved") == ["pay", "withdraw"]
    assert grants.possible_actions("approved", paid_pence=1) == ["pay"]
    assert grants.possible_actions("paid", paid_pence=1) == ["pay", "close"]
    for finished in grants.FINISHED:
        assert grants.possible_actions(finished) == []


@given(status=st.sampled_from([s for s, _ in GRANT_BID_STATUSES]), action=st.sampled_from(list(grants.TRANSITIONS)),
       paid=st.integers(0, 10_000))
def test_a_transition_is_possible_only_from_its_source_statuses(status, action, paid):
    refusal = grants.status_refusal(action, status, paid, recommended=True)
    if status not in grants.TRANSITIONS[action].sources:
        assert refusal
    if action == "withdraw" and paid:
        assert refusal


@given(awarded=st.integers(1, 10**7), paid=st.integers(0, 10**7), amount=st.integers(-10, 10**7))
def test_a_payment_is_refused_exactly_when_it_would_pass_the_award(awarded, paid, amount):
    errors = grants.payment_errors(amount, awarded, paid, TODAY, TODAY, TODAY)
    assert bool(errors) == (amount <= 0 or paid + amount > awarded)


@pytest.mark.parametrize("typed, expected", [("1250", 125000), ("£1,250.50", 125050), (" 0.01 ", 1), ("", None)])
def test_amounts_are_read_as_pounds_and_kept_as_pence(typed, expected):
    assert grants.parse_money(typed) == expected


@pytest.mark.parametrize("typed", ["12.345", "ten pounds", "1e", "NaN", "inf"])
def test_an_amount_that_is_not_pounds_and_pence_gets_a_message(typed):
    with pytest.raises(grants.GrantRefused, match="not an amount"):
        grants.parse_money(typed)


# --- every transition, allowed and refused by role ------------------------------------------------------

@pytest.mark.parametrize("action", list(grants.TRANSITIONS))
def test_each_transition_is_made_only_by_the_roles_allowed_it(app, db, users, login, pot, action):
    client = new_client(f"E4E-{action[:5].upper()}", worker=users["worker"])
    for role, _ in ROLES:
        bid_id = advance(db, draft(db, client), STARTS[action])
        before = bid_of(db, bid_id)
        response = act(login(role), action, bid_id)
        after = bid_of(db, bid_id)
        if role in ALLOWED_ROLES[action]:
            assert response.status_code == 302, f"{role} {action}: {response.status_code}"
            assert len(after.bid["transitions"]) == len(before.bid["transitions"]) + 1, f"{role} {action} did nothing"
            made = after.bid["transitions"][-1]
            assert (made["action"], made["by"]) == (action, users[role].email)
        else:
            assert response.status_code == 403, f"{role} {action} should be refused, got {response.status_code}"
            assert after.bid == before.bid, f"{role} {action} changed the bid"


#: Who may open each grant screen, as the issue sets it.
SCREEN_ROLES = {
    "grantbid.list": {"worker", "manager", "admin_staff", "grant_panel", "admin"},
    "grantbid.queue": {"manager", "grant_panel", "admin"},
    "grantbid.details": {"worker", "manager", "admin_staff", "grant_panel", "admin"},
    "grantbid.attachment": {"worker", "manager", "admin_staff", "grant_panel", "admin"},
    "grantbid.create": {"worker", "admin"},
    "grantbid.edit": {"worker", "admin"},
    "grantpot.list": {"manager", "admin_staff", "grant_panel", "admin"},
    "grantpot.details": {"manager", "admin_staff", "grant_panel", "admin"},
}


def test_each_grant_screen_opens_only_for_the_roles_allowed_it(app, db, users, login, pot):
    client = new_client("E4E-SCRN1", worker=users["worker"])
    stored = gridfs.GridFS(db, collection="grant_attachments").put(b"plan")
    plan = GrantAttachment(file_id=str(stored), filename="plan.txt", content_type="text/plain", size=4)
    bid_id = advance(db, draft(db, client, attachment=plan), "submitted")
    urls = {"grantbid.list": "/admin/grantbid/", "grantbid.queue": "/admin/grantbid/queue/",
            "grantbid.details": f"/admin/grantbid/details/?bid={bid_id}",
            "grantbid.attachment": f"/admin/grantbid/attachment/?bid={bid_id}",
            "grantbid.create": f"/admin/grantbid/new/?client={client.pk}",
            "grantbid.edit": f"/admin/grantbid/edit/?bid={bid_id}",
            "grantpot.list": "/admin/grantpot/", "grantpot.details": f"/admin/grantpot/details/?id={pot.pk}"}
    for role, _ in ROLES:
        signed_in = login(role)
        for permission, url in urls.items():
            status = signed_in.get(url).status_code
            if role in SCREEN_ROLES[permission]:
                assert status in (200, 302), f"{role} {permission}: {status}"
            else:
                assert status == 403, f"{role} {permission} should be refused, got {status}"


def test_every_transition_records_who_when_and_why(db, users, pot):
    client = new_client("E4E-HIST1", worker=users["worker"])
    bid_id = advance(db, draft(db, client), "closed")
    history = bid_of(db, bid_id).bid["transitions"]
    assert [t["action"] for t in history] == ["create", "submit", "review", "recommend", "approve", "pay", "close"]
    assert [t["to_status"] for t in history] == ["draft", "submitted", "panel_review", "panel_review", "approved",
                                                 "paid", "closed"]
    assert all(t["by"] and t["on"] and t["at"] for t in history)
    assert history[-1]["reason"] == "Done"
    assert AuditEvent.objects(summary__contains=f"grant bid {bid_id} approve").count() == 1


def test_rejection_and_withdrawal_need_a_reason(app, db, users, login, pot):
    client = new_client("E4E-REAS1", worker=users["worker"])
    bid_id = advance(db, draft(db, client), "recommended")
    manager = login("manager")
    page = act(manager, "reject", bid_id, reason="  ")
    assert page.status_code == 302
    assert "a reason is required" in manager.get(page.location).get_data(as_text=True)
    assert status_of(db, bid_id) == "panel_review"
    act(login("worker"), "withdraw", bid_id, reason="")
    assert status_of(db, bid_id) == "panel_review"
    act(manager, "reject", bid_id, reason="Market already saturated")
    ref = bid_of(db, bid_id)
    assert ref.status == "rejected" and ref.bid["rejection_reason"] == "Market already saturated"


def test_the_manager_cannot_decide_before_the_panel_recommends(db, users, pot):
    client = new_client("E4E-EARLY", worker=users["worker"])
    bid_id = advance(db, draft(db, client), "panel_review")
    with pytest.raises(grants.GrantRefused, match="not made its recommendation"):
        grants.approve(db, bid_of(db, bid_id), by=MANAGER, on=TODAY, amount_pence=pence(100))
    assert pot_now().committed_pence == 0


def test_a_bid_cannot_be_submitted_without_a_plan_or_a_pot(db, users):
    client = new_client("E4E-NOPOT", worker=users["worker"])
    empty = draft(db, client, plan_summary="")
    with pytest.raises(grants.GrantRefused, match="Summarise the business plan"):
        grants.submit(db, bid_of(db, empty), by=WORKER, on=TODAY)
    with pytest.raises(grants.GrantRefused, match="No grant pot covers"):
        grants.submit(db, bid_of(db, draft(db, client)), by=WORKER, on=TODAY)


def test_a_submitted_bid_joins_the_pot_of_its_submission_date_and_its_workers_caseload(db, users, pot):
    client = new_client("E4E-JOIN1", worker=users["worker"])
    bid_id = draft(db, client)
    assert grants.submit(db, bid_of(db, bid_id), by=WORKER, on=TODAY) == "this-year"
    ref = bid_of(db, bid_id)
    assert ref.bid["pot"] == "this-year" and ref.bid["submitted_date"].date() == TODAY
    assert ref.bid["supporting_worker"] == users["worker"].pk


# --- the pot's money ----------------------------------------------------------------------------------

def test_approval_beyond_what_is_left_in_the_pot_is_refused_with_a_clear_message(app, db, users, login, pot):
    client = new_client("E4E-BIG01", worker=users["worker"])
    first = advance(db, draft(db, client, asked=8_000), "approved")
    second = advance(db, draft(db, client, asked=3_000), "recommended")
    manager = login("manager")
    response = act(manager, "approve", second, amount="3000")
    message = manager.get(response.location).get_data(as_text=True)
    assert "Not approved: the this-year pot has £2,000.00 left of its £10,000.00 total" in message
    assert status_of(db, second) == "panel_review"
    assert pot_now().committed_pence == pence(8_000) and pot_now().remaining_pence == pence(2_000)
    act(manager, "approve", second, amount="2000")
    assert status_of(db, second) == "approved" and status_of(db, first) == "approved"
    assert (pot_now().committed_pence, pot_now().remaining_pence) == (pence(10_000), 0)


def test_an_award_may_be_less_than_asked_but_never_more(db, users, pot):
    client = new_client("E4E-LESS1", worker=users["worker"])
    bid_id = advance(db, draft(db, client, asked=1_000), "recommended")
    with pytest.raises(grants.GrantRefused, match="cannot be more than"):
        grants.approve(db, bid_of(db, bid_id), by=MANAGER, on=TODAY, amount_pence=pence(1_001))
    grants.approve(db, bid_of(db, bid_id), by=MANAGER, on=TODAY, amount_pence=pence(750), conditions="Receipts within 30 days")
    ref = bid_of(db, bid_id)
    assert ref.pence("amount_awarded_pence") == pence(750) and ref.bid["conditions"] == "Receipts within 30 days"
    assert pot_now().committed_pence == pence(750)


def test_approving_the_same_bid_twice_commits_the_money_once(db, users, pot):
    client = new_client("E4E-TWICE", worker=users["worker"])
    bid_id = advance(db, draft(db, client, asked=1_000), "recommended")
    stale = bid_of(db, bid_id)
    grants.approve(db, stale, by=MANAGER, on=TODAY, amount_pence=pence(1_000))
    with pytest.raises(grants.GrantRefused, match="changed this bid"):
        grants.approve(db, stale, by=MANAGER, on=TODAY, amount_pence=pence(1_000))
    assert pot_now().committed_pence == pence(1_000) and pot_now().remaining_pence == pence(9_000)


def test_approvals_racing_from_many_threads_never_over_commit_the_pot(db, users, pot, atomic_single_documents):
    asks = [300, 450, 500, 700, 800, 900, 1_000, 1_200, 1_500, 1_750] * 2  # £18,600 against a £10,000 pot
    bids = []
    for n, asked in enumerate(asks):
        client = new_client(f"E4E-RACE{n:02d}", worker=users["worker"])
        bids.append(advance(db, draft(db, client, asked=asked), "recommended"))
    refs = [bid_of(db, b) for b in bids]
    start = threading.Barrier(len(refs))
    outcomes: dict[str, str] = {}

    def approve(ref):
        start.wait()
        try:
            grants.approve(db, ref, by=MANAGER, on=TODAY, amount_pence=ref.pence("amount_asked_pence"))
            outcomes[ref.bid_id] = "approved"
        except grants.GrantRefused as refused:
            outcomes[ref.bid_id] = str(refused)

    threads = [threading.Thread(target=approve, args=(ref,)) for ref in refs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    approved = [b for b in bids if status_of(db, b) == "approved"]
    awarded = sum(bid_of(db, b).pence("amount_awarded_pence") for b in approved)
    final = pot_now()
    assert approved and len(approved) < len(bids)
    assert final.committed_pence == awarded <= final.total_pence
    assert final.remaining_pence == final.total_pence - final.committed_pence
    assert all(outcomes[b] == "approved" for b in approved)
    assert all("Not approved" in outcomes[b] for b in bids if b not in approved)
    assert grants.pot_figures(db, TODAY)[0]["committed"] == Decimal(awarded) / 100


def test_payments_in_instalments_up_to_the_award_and_never_beyond(app, db, users, login, pot):
    client = new_client("E4E-PAY01", worker=users["worker"])
    bid_id = advance(db, draft(db, client, asked=1_000), "approved", award=pence(800))
    staff = login("admin_staff")
    act(staff, "pay", bid_id, amount="500", payment_reference="BACS-1")
    response = act(staff, "pay", bid_id, amount="300.01")
    assert "at most £300.00 can be paid" in staff.get(response.location).get_data(as_text=True)
    act(staff, "pay", bid_id, amount="300", payment_reference="BACS-2")
    ref = bid_of(db, bid_id)
    assert ref.status == "paid" and ref.pence("paid_pence") == pence(800)
    assert [p["reference"] for p in ref.bid["payments"]] == ["BACS-1", "BACS-2"]
    with pytest.raises(grants.GrantRefused, match="past the award"):
        grants.pay(db, ref, by=STAFF, on=TODAY, amount_pence=1, paid_on=TODAY)
    assert pot_now().paid_pence == pence(800)


def test_payments_racing_from_threads_never_pass_the_award(db, users, pot, atomic_single_documents):
    client = new_client("E4E-PAYRC", worker=users["worker"])
    bid_id = advance(db, draft(db, client, asked=1_000), "approved")
    ref = bid_of(db, bid_id)
    start = threading.Barrier(8)

    def pay():
        start.wait()
        try:
            grants.pay(db, ref, by=STAFF, on=TODAY, amount_pence=pence(300), paid_on=TODAY)
        except grants.GrantRefused:
            pass

    threads = [threading.Thread(target=pay) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    after = bid_of(db, bid_id)
    assert after.pence("paid_pence") == sum(p["amount_pence"] for p in after.bid["payments"]) <= pence(1_000)
    assert pot_now().paid_pence == after.pence("paid_pence")


def test_a_payment_cannot_be_dated_in_the_future_or_before_the_approval(db, users, pot):
    client = new_client("E4E-PAYDT", worker=users["worker"])
    ref = bid_of(db, advance(db, draft(db, client), "approved"))
    with pytest.raises(grants.GrantRefused, match="in the future"):
        grants.pay(db, ref, by=STAFF, on=TODAY, amount_pence=100, paid_on=TODAY + timedelta(days=1))
    with pytest.raises(grants.GrantRefused, match="before the award was approved"):
        grants.pay(db, ref, by=STAFF, on=TODAY, amount_pence=100, paid_on=TODAY - timedelta(days=1))


def test_withdrawing_an_approved_bid_gives_the_money_back_but_not_after_a_payment(db, users, pot):
    client = new_client("E4E-WDRAW", worker=users["worker"])
    bid_id = advance(db, draft(db, client, asked=2_000), "approved")
    assert pot_now().remaining_pence == pence(8_000)
    grants.withdraw(db, bid_of(db, bid_id), by=WORKER, on=TODAY, reason="Moved away")
    assert status_of(db, bid_id) == "withdrawn"
    assert (pot_now().committed_pence, pot_now().remaining_pence) == (0, pence(10_000))
    paid = advance(db, draft(db, client, asked=2_000), "paid")
    with pytest.raises(grants.GrantRefused, match="once a payment has been made"):
        grants.withdraw(db, bid_of(db, paid), by=WORKER, on=TODAY, reason="Changed mind")


def test_closing_a_part_paid_bid_returns_the_unpaid_award_to_the_pot(db, users, pot):
    client = new_client("E4E-CLOSE", worker=users["worker"])
    bid_id = advance(db, draft(db, client, asked=2_000), "paid")  # £100 paid of £2,000
    grants.close(db, bid_of(db, bid_id), by=MANAGER, on=TODAY, reason="Business started; no more needed")
    final = pot_now()
    assert (final.committed_pence, final.paid_pence, final.remaining_pence) == (pence(100), pence(100), pence(9_900))


STEPS = st.lists(st.tuples(st.sampled_from(["approve", "withdraw", "pay", "close", "total"]),
                           st.integers(0, 4), st.integers(1, 6_000)), max_size=20)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS)
def test_whatever_is_done_the_pots_figures_add_up(db, users, steps):
    for name in (grants.CLIENTS, grants.POTS):
        db.drop_collection(name)
    grants.create_pot(db, "this-year", *PERIOD, pence(10_000), by=MANAGER, on=TODAY)
    client = new_client("E4E-PROP1", worker=users["worker"])
    bids = [advance(db, draft(db, client, asked=asked), "recommended") for asked in (1_000, 2_500, 4_000, 5_000, 6_000)]
    for step, which, amount in steps:
        ref = bid_of(db, bids[which])
        try:
            if step == "approve":
                grants.approve(db, ref, by=MANAGER, on=TODAY, amount_pence=min(pence(amount), ref.pence("amount_asked_pence")))
            elif step == "pay":
                grants.pay(db, ref, by=STAFF, on=TODAY, amount_pence=pence(amount) // 4, paid_on=TODAY)
            elif step == "total":
                grants.set_pot_total(db, pot_now().pk, pence(amount * 2), by=MANAGER, on=TODAY)
            else:
                grants.OPERATIONS[step](db, ref, by=MANAGER, on=TODAY, reason="Checked")
        except grants.GrantRefused:
            pass
    final, refs = pot_now(), [bid_of(db, b) for b in bids]
    held = sum(t.get("committed_change_pence", 0) for ref in refs for t in ref.bid["transitions"])
    assert final.committed_pence == held
    assert final.remaining_pence == final.total_pence - final.committed_pence >= 0
    assert final.paid_pence == sum(ref.pence("paid_pence") for ref in refs) <= final.committed_pence
    assert all(ref.pence("paid_pence") <= ref.pence("amount_awarded_pence") for ref in refs)
    (figures,) = grants.pot_figures(db, TODAY)
    assert (figures["total"], figures["committed"], figures["paid"], figures["remaining"]) == (
        final.total, final.committed, final.paid, final.remaining)


def test_lowering_the_pot_total_below_what_is_committed_is_refused(app, db, users, login, pot):
    client = new_client("E4E-TOTAL", worker=users["worker"])
    advance(db, draft(db, client, asked=6_000), "approved")
    manager = login("manager")
    url = f"/admin/grantpot/total/?id={pot.pk}"
    page = manager.post(url, data={"total": "5000", "reason": "Budget cut", "csrf_token": csrf_token(manager, url)})
    assert page.status_code == 200
    assert "£6,000.00 is already committed" in page.get_data(as_text=True)
    assert pot_now().total_pence == pence(10_000)
    manager.post(url, data={"total": "6000", "reason": "Budget cut", "csrf_token": csrf_token(manager, url)})
    final = pot_now()
    assert (final.total_pence, final.committed_pence, final.remaining_pence) == (pence(6_000), pence(6_000), 0)
    assert [h.reason for h in final.total_history] == ["Pot opened", "Budget cut"]
    grants.set_pot_total(db, pot.pk, pence(20_000), by=MANAGER, on=TODAY, reason="Underspend moved in")
    assert pot_now().remaining_pence == pence(14_000)


def test_a_stale_total_cannot_overwrite_a_newer_one(db, pot, monkeypatch):
    real_find_one = type(db[grants.POTS]).find_one
    raced = []

    def find_then_someone_else_changes(self, *args, **kwargs):
        found = real_find_one(self, *args, **kwargs)
        if not raced:
            raced.append(True)
            self.update_one({"_id": pot.pk}, {"$inc": {"total_pence": 100, "remaining_pence": 100}})
        return found

    monkeypatch.setattr(type(db[grants.POTS]), "find_one", find_then_someone_else_changes)
    with pytest.raises(grants.GrantRefused, match="changed the pot's total"):
        grants.set_pot_total(db, pot.pk, pence(12_000), by=MANAGER, on=TODAY)
    monkeypatch.undo()
    assert pot_now().total_pence == pence(10_000) + 100


def test_only_the_manager_sets_the_total_and_pots_cannot_overlap(app, db, users, login, pot):
    for role in ("worker", "admin_staff", "grant_panel", "evaluator", "commissioner"):
        assert login(role).get(f"/admin/grantpot/total/?id={pot.pk}").status_code == 403, role
        assert login(role).get("/admin/grantpot/new/").status_code == 403, role
    manager = login("manager")
    end = PERIOD[1]
    form = {"name": "overlapping", "period_start": end.isoformat(),
            "period_end": (end + timedelta(days=365)).isoformat(), "opening_total": "25000"}
    response = manager.post("/admin/grantpot/new/", data={**form, "csrf_token": csrf_token(manager, "/admin/grantpot/new/")})
    assert "overlaps the this-year pot" in response.get_data(as_text=True)
    assert pot_now("overlapping") is None
    form["period_start"] = (end + timedelta(days=1)).isoformat()
    form["name"] = "next-year"
    manager.post("/admin/grantpot/new/", data={**form, "csrf_token": csrf_token(manager, "/admin/grantpot/new/")})
    created = pot_now("next-year")
    assert (created.total_pence, created.remaining_pence, created.committed_pence) == (pence(25_000), pence(25_000), 0)


def test_pot_overview_shows_committed_paid_remaining_and_a_chart(app, db, users, login, pot):
    client = new_client("E4E-VIEW1", worker=users["worker"])
    advance(db, draft(db, client, asked=2_500), "paid")
    page = login("grant_panel").get("/admin/grantpot/").get_data(as_text=True)
    assert "£10,000.00" in page and "£2,500.00" in page and "£100.00" in page and "£7,500.00" in page
    assert 'data-chart="grant-pots"' in page and 'data-part="unpaid" data-pence="240000"' in page


# --- screens and scope --------------------------------------------------------------------------------

def test_a_worker_drafts_and_submits_a_bid_with_its_business_plan_file(app, db, users, login, pot):
    client = new_client("E4E-FLOW1", worker=users["worker"])
    worker = login("worker")
    url = f"/admin/grantbid/new/?client={client.pk}"
    response = worker.post(url, data={
        "amount_asked": "1,200", "purpose": "Van deposit", "plan_summary": "Man-and-van removals.",
        "plan_file": (io.BytesIO(b"%PDF-1.4 plan"), "plan.pdf"), "csrf_token": csrf_token(worker, url)},
        content_type="multipart/form-data")
    assert response.status_code == 302
    ref = Client.objects(pk=client.pk).first().grant_bids[0]
    assert (ref.amount_asked, ref.status, ref.attachment.filename) == (Decimal("1200.00"), "draft", "plan.pdf")
    download = worker.get(f"/admin/grantbid/attachment/?bid={ref.bid_id}")
    assert download.data == b"%PDF-1.4 plan" and "attachment" in download.headers["Content-Disposition"]
    act(worker, "submit", ref.bid_id)
    assert status_of(db, ref.bid_id) == "submitted"
    bad = worker.post(url, data={"amount_asked": "50", "purpose": "x", "plan_summary": "y",
                                 "plan_file": (io.BytesIO(b"MZ"), "plan.exe"), "csrf_token": csrf_token(worker, url)},
                      content_type="multipart/form-data")
    assert bad.status_code == 200 and "must be one of" in bad.get_data(as_text=True)
    assert len(Client.objects(pk=client.pk).first().grant_bids) == 1


def test_a_refused_draft_keeps_no_file_and_a_replaced_file_is_removed(app, db, users, login, pot):
    client = new_client("E4E-FILE1", worker=users["worker"])
    files = gridfs.GridFS(db, collection="grant_attachments")
    worker = login("worker")
    url = f"/admin/grantbid/new/?client={client.pk}"
    refused = worker.post(url, data={"amount_asked": "-5", "purpose": "Stock", "plan_summary": "Plan",
                                     "plan_file": (io.BytesIO(b"plan"), "plan.txt"), "csrf_token": csrf_token(worker, url)},
                          content_type="multipart/form-data")
    assert "must be more than £0" in refused.get_data(as_text=True)
    assert not Client.objects(pk=client.pk).first().grant_bids and not list(files.find({}))
    worker.post(url, data={"amount_asked": "500", "purpose": "Stock", "plan_summary": "Plan",
                           "plan_file": (io.BytesIO(b"first"), "first.txt"), "csrf_token": csrf_token(worker, url)},
                content_type="multipart/form-data")
    bid_id = Client.objects(pk=client.pk).first().grant_bids[0].bid_id
    edit = f"/admin/grantbid/edit/?bid={bid_id}"
    worker.post(edit, data={"amount_asked": "500", "purpose": "Stock", "plan_summary": "Plan",
                            "plan_file": (io.BytesIO(b"second"), "second.txt"), "csrf_token": csrf_token(worker, edit)},
                content_type="multipart/form-data")
    assert [f.read() for f in files.find({})] == [b"second"]
    assert worker.get(f"/admin/grantbid/attachment/?bid={bid_id}").data == b"second"


def test_a_step_that_is_not_a_transition_is_refused(app, db, users, login, pot):
    client = new_client("E4E-NOSTP", worker=users["worker"])
    bid_id = draft(db, client)
    admin = login("admin")
    for step in ("list", "create", "edit", "delete", "anything"):
        response = admin.post(f"/admin/grantbid/act/{step}/", data={"bid": bid_id, "csrf_token": csrf_token(admin)})
        assert response.status_code == 403, step
    assert status_of(db, bid_id) == "draft"


def test_only_a_draft_can_be_changed(app, db, users, login, pot):
    client = new_client("E4E-EDIT1", worker=users["worker"])
    bid_id = draft(db, client)
    worker = login("worker")
    url = f"/admin/grantbid/edit/?bid={bid_id}"
    worker.post(url, data={"amount_asked": "900", "purpose": "Chair", "plan_summary": "Plan", "csrf_token": csrf_token(worker, url)})
    assert bid_of(db, bid_id).pence("amount_asked_pence") == pence(900)
    advance(db, bid_id, "submitted")
    worker.post(url, data={"amount_asked": "5000", "purpose": "Chair", "plan_summary": "Plan", "csrf_token": csrf_token(worker, "/admin/grantbid/")})
    assert bid_of(db, bid_id).pence("amount_asked_pence") == pence(900)


def test_a_worker_cannot_reach_another_workers_clients_bids_by_url(app, db, users, login, pot):
    theirs = new_client("E4E-THEIR", worker=users["worker2"])
    bid_id = draft(db, theirs)
    worker = login("worker")
    for url in (f"/admin/grantbid/details/?bid={bid_id}", f"/admin/grantbid/edit/?bid={bid_id}",
                f"/admin/grantbid/attachment/?bid={bid_id}", f"/admin/grantbid/new/?client={theirs.pk}"):
        assert worker.get(url).status_code == 404, url
    for action in ("submit", "withdraw"):
        assert act(worker, action, bid_id).status_code == 404
    assert status_of(db, bid_id) == "draft"
    assert "E4E-THEIR" not in worker.get("/admin/grantbid/").get_data(as_text=True)
    assert "E4E-THEIR" in login("worker2").get("/admin/grantbid/").get_data(as_text=True)


def test_the_panel_sees_submitted_bids_with_reference_and_first_name_only(app, db, users, login, pot):
    client = new_client("E4E-PANEL", worker=users["worker"], first_name="Jordan", last_name="Secretsurname",
                        postcode="B1 1AA")
    hidden = draft(db, client, purpose="Still a draft")
    queued = advance(db, draft(db, client, purpose="Market stall"), "submitted")
    decided = advance(db, draft(db, client, purpose="Food van"), "approved")
    panel = login("grant_panel")
    assert panel.get(f"/admin/grantbid/details/?bid={hidden}").status_code == 404
    page = panel.get(f"/admin/grantbid/details/?bid={queued}").get_data(as_text=True)
    assert "E4E-PANEL" in page and "Jordan" in page
    assert "Secretsurname" not in page and "B1 1AA" not in page
    assert panel.get(f"/admin/casefile/{client.pk}/").status_code == 403
    queue = panel.get("/admin/grantbid/queue/").get_data(as_text=True)
    assert f'data-bid="{queued}"' in queue
    assert f'data-bid="{hidden}"' not in queue and f'data-bid="{decided}"' not in queue
    assert "Secretsurname" not in queue


def test_the_client_form_cannot_change_bids_and_the_case_file_shows_their_history(app, db, users, login, pot):
    client = new_client("E4E-FORM1", worker=users["worker"])
    bid_id = advance(db, draft(db, client), "approved")
    manager = login("manager")
    form = manager.get(f"/admin/client/edit/?id={client.pk}").get_data(as_text=True)
    assert "grant_bids" not in form
    page = manager.get(f"/admin/casefile/{client.pk}/").get_data(as_text=True)
    assert f'data-bid="{bid_id}"' in page and 'data-status="approved"' in page
    assert "Panel recommendation" in page and "£1,000.00" in page and MANAGER in page


# --- for the exports ----------------------------------------------------------------------------------

def test_ledger_has_a_row_per_bid_and_the_payments_sheet_one_per_instalment(db, users, pot):
    client = new_client("E4E-LEDG1", worker=users["worker"])
    bid_id = advance(db, draft(db, client, asked=1_500), "paid")
    grants.pay(db, bid_of(db, bid_id), by=STAFF, on=TODAY, amount_pence=pence(250), paid_on=TODAY)
    advance(db, draft(db, client, asked=400), "submitted")
    draft(db, client, asked=999)  # never submitted: not in the ledger
    rows = list(grants.ledger_rows(db, TODAY, TODAY))
    assert [(r["client_reference"], r["status"]) for r in rows] == [("E4E-LEDG1", "Paid"), ("E4E-LEDG1", "Submitted")]
    bid_row = rows[0]
    assert bid_row["pot"] == "this-year" and set(bid_row) == {key for key, _ in grants.LEDGER_COLUMNS}
    assert (bid_row["amount_asked"], bid_row["amount_awarded"], bid_row["paid_in_period"], bid_row["paid_to_date"]) == (
        Decimal("1500.00"), Decimal("1500.00"), Decimal("350.00"), Decimal("350.00"))
    assert rows[1]["amount_awarded"] is None and rows[1]["paid_to_date"] == Decimal("0.00")
    payments = list(grants.payment_rows(db, TODAY, TODAY))
    assert [p["amount"] for p in payments] == [Decimal("100.00"), Decimal("250.00")]
    assert sum(p["amount"] for p in payments) == sum(r["paid_in_period"] for r in rows)
    assert list(grants.ledger_rows(db, TODAY - timedelta(days=10), TODAY - timedelta(days=1))) == []


def test_a_past_periods_ledger_shows_each_bid_as_it_stood_at_the_period_end(db, users, pot):
    """Stored as the workflow stores it: submitted and approved in May, paid £400 in May and £600 in July."""
    day = lambda m, d: datetime(2025, m, d)  # noqa: E731
    moves = [("submit", "submitted", day(5, 2)), ("review", "panel_review", day(5, 3)),
             ("approve", "approved", day(5, 9)), ("pay", "paid", day(5, 20)), ("pay", "paid", day(7, 4)),
             ("close", "closed", day(8, 1))]
    db.clients.insert_one({"reference": "E4E-LEDG9", "grant_bids": [{
        "bid_id": "B1", "pot": "2025/26", "status": "closed", "purpose": "Van", "submitted_date": day(5, 2),
        "decided_date": day(5, 9), "amount_asked_pence": 120_000, "amount_awarded_pence": 100_000,
        "payments": [{"paid_on": day(5, 20), "amount_pence": 40_000, "reference": "BACS 1"},
                     {"paid_on": day(7, 4), "amount_pence": 60_000, "reference": "BACS 2"}],
        "transitions": [{"action": a, "to_status": s, "on": on, "at": on, "by": MANAGER} for a, s, on in moves]}]})
    [may] = grants.ledger_rows(db, date(2025, 5, 1), date(2025, 5, 31))
    assert (may["status"], may["amount_awarded"], may["paid_in_period"], may["paid_to_date"]) == (
        "Paid", Decimal("1000.00"), Decimal("400.00"), Decimal("400.00"))
    [july] = grants.ledger_rows(db, date(2025, 7, 1), date(2025, 7, 31))
    assert (july["status"], july["paid_in_period"], july["paid_to_date"]) == ("Paid", Decimal("600.00"),
                                                                              Decimal("1000.00"))
    [april_to_june] = grants.ledger_rows(db, date(2025, 4, 1), date(2025, 6, 30))
    assert april_to_june["paid_to_date"] == Decimal("400.00") and april_to_june["status"] == "Paid"
    assert [p["payment_reference"] for p in grants.payment_rows(db, date(2025, 4, 1), date(2025, 6, 30))] == ["BACS 1"]


def test_ledger_keeps_to_a_scope_that_has_its_own_or(db, users, pot):
    """A saved filter with a search is an `$or` of its own; the ledger must not drop it for its period test."""
    inside = new_client("E4E-LEDG2", worker=users["worker"], first_name="Inside")
    outside = new_client("E4E-LEDG3", worker=users["worker"], first_name="Outside")
    for client in (inside, outside):
        advance(db, draft(db, client, asked=300), "submitted")
    scope = {"$or": [{"first_name": "Inside"}, {"reference": "none"}]}
    assert {r["client_reference"] for r in grants.ledger_rows(db, TODAY, TODAY, scope)} == {"E4E-LEDG2"}


def test_pot_figures_as_of_a_date_follow_the_bids_history(db, users, pot):
    client = new_client("E4E-FIGS1", worker=users["worker"])
    day = {n: TODAY - timedelta(days=n) for n in range(11)}
    bid_id = draft(db, client, asked=3_000)
    grants.submit(db, bid_of(db, bid_id), by=WORKER, on=day[10])
    grants.review(db, bid_of(db, bid_id), by=PANEL, on=day[9])
    grants.recommend(db, bid_of(db, bid_id), by=PANEL, on=day[9], recommendation="approve")
    grants.approve(db, bid_of(db, bid_id), by=MANAGER, on=day[8], amount_pence=pence(3_000))
    grants.pay(db, bid_of(db, bid_id), by=STAFF, on=day[2], amount_pence=pence(100), paid_on=day[5])
    grants.close(db, bid_of(db, bid_id), by=MANAGER, on=day[0], reason="Trading; no more needed")

    def figures(on):
        (only,) = grants.pot_figures(db, on)
        return only["total"], only["committed"], only["paid"], only["remaining"]

    assert figures(day[9]) == (Decimal("10000.00"), 0, 0, Decimal("10000.00"))
    assert figures(day[8]) == (Decimal("10000.00"), Decimal("3000.00"), 0, Decimal("7000.00"))
    assert figures(day[5]) == (Decimal("10000.00"), Decimal("3000.00"), Decimal("100.00"), Decimal("7000.00"))
    current = pot_now()
    assert figures(day[0]) == (current.total, current.committed, current.paid, current.remaining)
    assert figures(day[0]) == (Decimal("10000.00"), Decimal("100.00"), Decimal("100.00"), Decimal("9900.00"))
    assert grants.pot_figures(db, PERIOD[0] - timedelta(days=1)) == []


# --- a pot out of step with its bids ---------------------------------------------------------------------

def test_check_pots_finds_a_pot_left_out_of_step_and_repairs_it_from_the_bids(app, db, users, pot):
    client = new_client("E4E-DRIFT", worker=users["worker"])
    advance(db, draft(db, client, asked=1_000), "approved")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["check-pots"]).output.strip() == "every grant pot matches its bids"
    # A process stopped after committing in the pot and before moving its bid.
    db[grants.POTS].update_one({"name": "this-year"}, {"$inc": {"committed_pence": pence(400), "remaining_pence": -pence(400)}})

    result = runner.invoke(args=["check-pots"])
    assert result.exit_code == 1
    assert "out of step: this-year: stored committed £1,400.00" in result.output and "committed £1,000.00" in result.output
    assert pot_now().committed_pence == pence(1_400)

    result = runner.invoke(args=["check-pots", "--repair"])
    assert result.exit_code == 0 and "repaired: this-year" in result.output
    assert (pot_now().committed_pence, pot_now().remaining_pence) == (pence(1_000), pence(9_000))
    assert runner.invoke(args=["check-pots"]).exit_code == 0


def test_check_pots_does_not_repair_a_pot_that_changed_after_it_was_read(db, users, pot):
    client = new_client("E4E-DRIFT2", worker=users["worker"])
    advance(db, draft(db, client, asked=1_000), "paid")
    db[grants.POTS].update_one({"name": "this-year"}, {"$inc": {"paid_pence": -pence(100)}})
    [found] = grants.pot_drift(db)
    assert (found.stored_paid_pence, found.paid_pence) == (found.paid_pence - pence(100), found.paid_pence)
    # The pot moves on (a payment recorded) after the check and before the repair is written.
    db[grants.POTS].update_one({"name": "this-year"}, {"$inc": {"paid_pence": pence(5)}})
    assert grants.repair_pot(db, found) is False
    assert len(grants.pot_drift(db)) == 1


def test_the_nightly_check_tells_managers_once_of_a_pot_out_of_step(app, db, users, pot, login):
    from admin_app.models.exports import Notice

    client = new_client("E4E-DRIFT3", worker=users["worker"])
    advance(db, draft(db, client, asked=500), "approved")
    assert grants.notify_pot_drift(db, pause_seconds=0) == [] and Notice.objects.count() == 0
    db[grants.POTS].update_one({"name": "this-year"}, {"$inc": {"committed_pence": pence(200), "remaining_pence": -pence(200)}})
    assert [d.pot for d in grants.notify_pot_drift(db, pause_seconds=0)] == ["this-year"]
    grants.notify_pot_drift(db, pause_seconds=0)  # the next night, not yet dismissed: not repeated
    assert Notice.objects(role="manager").count() == 1
    assert "Grant pot out of step with its bids: this-year" in login("manager").get("/admin/").get_data(as_text=True)
    assert "Grant pot out of step" not in login("worker").get("/admin/").get_data(as_text=True)


# --- two documents that change together: the pot and its bid ---------------------------------------------

def _repair_now(app) -> str:
    return app.test_cli_runner().invoke(args=["check-pots", "--repair"]).output


@pytest.mark.parametrize("action", ["approve", "pay", "withdraw"])
def test_a_repair_run_between_a_moves_two_writes_leaves_the_pot_right(app, db, users, pot, monkeypatch, action):
    """check-pots --repair runs after the move has written the pot and before it has written the bid."""
    client = new_client(f"E4E-MID-{action.upper()}", worker=users["worker"])
    bid_id = advance(db, draft(db, client, asked=1_000), {"approve": "recommended", "pay": "approved",
                                                          "withdraw": "approved"}[action])
    outputs = []
    write_bid = grants._move

    def repair_first(*args, **kwargs):
        outputs.append(_repair_now(app))
        return write_bid(*args, **kwargs)

    monkeypatch.setattr(grants, "_move", repair_first)
    ref = bid_of(db, bid_id)
    if action == "approve":
        grants.approve(db, ref, by=MANAGER, on=TODAY, amount_pence=pence(1_000))
    elif action == "pay":
        grants.pay(db, ref, by=STAFF, on=TODAY, amount_pence=pence(250), paid_on=TODAY)
    else:
        grants.withdraw(db, ref, by=WORKER, on=TODAY, reason="Took a job instead")
    monkeypatch.undo()

    assert outputs and "repaired" not in outputs[0]  # the move was in progress: the repair left the pot alone
    expected = {"approve": (1_000, 0), "pay": (1_000, 250), "withdraw": (0, 0)}[action]
    now = pot_now()
    assert (now.committed_pence, now.paid_pence) == (pence(expected[0]), pence(expected[1]))
    assert now.remaining_pence == pence(10_000 - expected[0]) and not now.moving
    assert grants.pot_drift(db) == []
    assert app.test_cli_runner().invoke(args=["check-pots"]).exit_code == 0


def test_repairs_racing_approvals_from_threads_never_under_count_the_pot(app, db, users, pot,
                                                                       atomic_single_documents):
    refs = []
    for n in range(8):
        client = new_client(f"E4E-RR{n}", worker=users["worker"])
        refs.append(bid_of(db, advance(db, draft(db, client, asked=500 + 100 * n), "recommended")))
    done = threading.Event()
    rounds, failures = [], []

    def repair_again_and_again():
        try:
            while not done.is_set():
                for found in grants.pot_drift(db):
                    grants.repair_pot(db, found)
                rounds.append(1)
        except Exception as exc:  # a repairer that died would leave the race untested
            failures.append(exc)

    repairer = threading.Thread(target=repair_again_and_again)
    repairer.start()
    approvers = [threading.Thread(target=grants.approve, args=(db, ref),
                                  kwargs=dict(by=MANAGER, on=TODAY, amount_pence=ref.pence("amount_asked_pence")))
                 for ref in refs]
    for t in approvers:
        t.start()
    for t in approvers:
        t.join()
    done.set()
    repairer.join()
    assert failures == [] and rounds  # the repairs ran alongside the approvals, without failing
    awarded = sum(ref.pence("amount_asked_pence") for ref in refs)
    assert all(status_of(db, ref.bid_id) == "approved" for ref in refs)
    assert (pot_now().committed_pence, pot_now().remaining_pence) == (awarded, pence(10_000) - awarded)
    assert grants.pot_drift(db) == []


def test_a_move_stopped_half_way_is_repaired_once_its_mark_is_old(app, db, users, pot):
    client = new_client("E4E-HALF", worker=users["worker"])
    advance(db, draft(db, client, asked=1_000), "approved")
    # A process committed £400 for a bid and stopped before writing the bid.
    db[grants.POTS].update_one({"name": "this-year"}, {
        "$inc": {"committed_pence": pence(400), "remaining_pence": -pence(400), "moves": 1},
        "$push": {"moving": {"bid": "gone", "at": datetime.utcnow()}}})
    assert grants.pot_drift(db) == []  # still within its grace: it may yet finish
    later = datetime.utcnow() + timedelta(seconds=grants.MOVE_GRACE_SECONDS + 1)
    [found] = grants.pot_drift(db, now=later)
    assert grants.repair_pot(db, found)
    assert (pot_now().committed_pence, pot_now().remaining_pence, pot_now().moving) == (pence(1_000), pence(9_000), [])


def test_withdrawing_an_imported_approved_bid_releases_nothing_the_pot_never_committed(db, users, pot):
    from admin_app.models.case_file import GrantBid
    from admin_app.models.grants import BidTransition

    # Brought in by an import: approved elsewhere, its history saying £2,000 was committed there.
    bid = GrantBid(amount_asked_pence=pence(2_000), amount_awarded_pence=pence(2_000), purpose="Van", pot="this-year",
                   status="approved", submitted_date=TODAY, decided_date=TODAY,
                   transitions=[BidTransition(action="approve", from_status="panel_review", to_status="approved",
                                              on=TODAY, by="someone@elsewhere", amount_pence=pence(2_000),
                                              committed_change_pence=pence(2_000))])
    client = new_client("E4E-IMPORTED", worker=users["worker"])
    Client.objects(pk=client.pk).update_one(push__grant_bids=bid)
    own = advance(db, draft(db, new_client("E4E-OWN", worker=users["worker"]), asked=1_000), "approved")

    grants.withdraw(db, bid_of(db, bid.bid_id), by=WORKER, on=TODAY, reason="Moved away")
    assert status_of(db, bid.bid_id) == "withdrawn"
    assert (pot_now().committed_pence, pot_now().remaining_pence) == (pence(1_000), pence(9_000))
    assert grants.pot_drift(db) == []  # the bid's history nets to nothing, as does the pot
    grants.withdraw(db, bid_of(db, own), by=WORKER, on=TODAY, reason="Moved away")
    assert (pot_now().committed_pence, pot_now().remaining_pence) == (0, pence(10_000))


def test_a_pot_from_before_per_bid_figures_gets_them_from_the_repair_and_then_releases(app, db, users, pot):
    bid_id = advance(db, draft(db, new_client("E4E-OLD", worker=users["worker"]), asked=1_000), "approved")
    db[grants.POTS].update_one({"name": "this-year"}, {"$unset": {"held": "", "moves": ""}})
    assert "repaired: this-year" in _repair_now(app)
    grants.withdraw(db, bid_of(db, bid_id), by=WORKER, on=TODAY, reason="Moved away")
    assert (pot_now().committed_pence, pot_now().remaining_pence) == (0, pence(10_000))


def test_the_embedded_database_has_no_transactions_so_conditional_writes_are_used(db):
    from admin_app.db import transactions_supported
    from tests.database import REAL_SERVER

    if REAL_SERVER:
        pytest.skip("the embedded database only")
    assert transactions_supported(db) is False


def test_an_approval_that_fails_between_its_two_writes_leaves_the_pot_as_it_was(db, users, pot, monkeypatch):
    """On a replica set the transaction is aborted; without one the pot's change is undone."""
    bid_id = advance(db, draft(db, new_client("E4E-FAIL", worker=users["worker"]), asked=1_000), "recommended")

    def the_bid_write_fails(*args, **kwargs):
        raise ConnectionError("the server went away")

    monkeypatch.setattr(grants, "_move", the_bid_write_fails)
    with pytest.raises(ConnectionError):
        grants.approve(db, bid_of(db, bid_id), by=MANAGER, on=TODAY, amount_pence=pence(1_000))
    monkeypatch.undo()
    now = pot_now()
    assert (now.committed_pence, now.remaining_pence, now.moving) == (0, pence(10_000), [])
    assert not any((now.held or {}).values())
    assert status_of(db, bid_id) == "panel_review" and grants.pot_drift(db) == []
