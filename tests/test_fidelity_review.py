"""Fidelity reviews and the fidelity anchors screen: scoring, validation, snapshot, who may use them, audit."""
from __future__ import annotations

import json
import re
from datetime import date

import pytest

from admin_app.metrics import fidelity
from admin_app.metrics.periods import financial_year
from tests.conftest import csrf_token, new_client

REVIEWS = "/admin/fidelityreview/"
ANCHORS = "/admin/fidelityanchor/"
FY24 = financial_year(2024)


@pytest.fixture
def casework(app, users):
    """One client seen for an hour in the community and an hour at the office in June 2024."""
    from admin_app.models.case_file import Contact, Referral

    with app.app_context():
        new_client("E4E-F0001", worker=users["worker"],
                   referral=Referral(date=date(2024, 5, 1), source="probation", cohort="convicted", decision="accepted"),
                   contacts=[Contact(date=date(2024, 6, 1), minutes=60, mode="face_to_face", place="community"),
                             Contact(date=date(2024, 6, 2), minutes=60, mode="face_to_face", place="office")])


def review_form(manager: int | None = 4, data: int | None = None, **changes) -> dict:
    """A review form for FY 2024/25: organisational items scored `manager`, data items `data` (None: left blank)."""
    form = {"review_date": "2025-05-20", "period_start": FY24.start.isoformat(), "period_end": FY24.end.isoformat()}
    for item in fidelity.MANAGER_ITEMS:
        form[f"score__{item}"] = "" if manager is None else str(manager)
    for item in fidelity.DATA_ITEMS:
        form[f"score__{item}"] = "" if data is None else str(data)
    form.update(changes)
    return form


def post_review(client, form: dict, url: str = REVIEWS + "new/"):
    return client.post(url, data={**form, "csrf_token": csrf_token(client, url)})


def stored_reviews():
    from admin_app.models.fidelity import FidelityReview

    return list(FidelityReview.objects.order_by("created_at"))


def data_scores(app) -> dict:
    from admin_app.db import database
    from admin_app.metrics.report import load_report

    with app.app_context():
        return {k: v["score"] for k, v in load_report(database(), {}, FY24)["service"]["fidelity"].items()}


# --- scoring ---------------------------------------------------------------------------------------

def test_manager_scores_every_item_five_and_the_review_is_exemplary(login, casework):
    manager = login("manager")
    response = post_review(manager, review_form(manager=5, data=5, note__zero_exclusion="Nobody is turned away."))
    [review] = stored_reviews()
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/details/?id={review.pk}")
    # 25 items scored 5 each: 125, which is in the 115-125 band.
    assert (review.total, review.maximum, review.complete, review.band) == (125, 125, True, "exemplary")
    assert review.manager_score("zero_exclusion").note == "Nobody is turned away."
    assert review.created_by == "manager@test.e4e"
    page = manager.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-total="125"' in page and "Exemplary" in page and "Nobody is turned away." in page
    # Scored from the service's figures kept ready, and the page says when they were computed.
    assert f'data-figures-computed-at="{review.figures_computed_at.isoformat()}"' in page
    assert "never more than a minute old" in page


def test_a_total_of_exactly_100_is_good(login, casework):
    post_review(login("manager"), review_form(manager=4, data=4))
    [review] = stored_reviews()
    # 17 organisational items at 4 (68) and 8 data items corrected to 4 (32): 100, the floor of "good".
    assert (review.total, review.band) == (100, "good")


def test_data_items_are_scored_from_the_case_files_when_the_manager_leaves_them(app, login, casework):
    post_review(login("manager"), review_form(manager=3))
    [review] = stored_reviews()
    expected = data_scores(app)
    assert {s.item: s.score for s in review.data_scores} == expected
    # An hour in the community out of two hours of contact: 50%.
    assert review.data_score("community_based_services").value == 50
    assert review.judged_on == FY24.end
    scored = [points for points in expected.values() if points is not None]
    assert review.total == 3 * len(fidelity.MANAGER_ITEMS) + sum(scored)
    assert review.complete == (len(scored) == len(fidelity.DATA_ITEMS))
    assert review.band is None or review.complete


def test_an_unscored_or_impossible_score_is_refused_with_a_message_by_the_item(login, casework):
    form = review_form(manager=4)
    form["score__zero_exclusion"] = ""
    form["score__disclosure"] = "7"
    response = post_review(login("manager"), form)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and stored_reviews() == []
    assert re.search(r'data-error="score__zero_exclusion">Score this item: a whole number from 1 to 5', page)
    assert re.search(r'data-error="score__disclosure">A score is a whole number from 1 to 5', page)
    assert "Traceback" not in page


def test_a_period_that_ends_before_it_starts_is_refused(login, casework):
    response = post_review(login("manager"), review_form(period_start="2025-03-31", period_end="2024-04-01"))
    assert "The period cannot end before it starts." in response.get_data(as_text=True)
    assert stored_reviews() == []


def test_editing_shows_the_stored_scores_and_saving_again_is_audited(app, login, casework):
    from admin_app.models.audit import AuditEvent

    manager = login("manager")
    post_review(manager, review_form(manager=4, note__vocational_unit="Weekly team meeting."))
    [review] = stored_reviews()
    edit_url = f"{REVIEWS}edit/?id={review.pk}"
    page = manager.get(edit_url).get_data(as_text=True)
    assert re.search(r'<option selected value="4">4</option>|<option value="4" selected>4</option>', page)
    assert "Weekly team meeting." in page
    response = post_review(manager, review_form(manager=4, score__vocational_unit="2",
                                                note__vocational_unit="Team meeting lapsed."), url=edit_url)
    assert response.status_code == 302
    [changed] = stored_reviews()
    assert changed.manager_score("vocational_unit").score == 2 and changed.total == review.total - 2
    actions = [e.action for e in AuditEvent.objects(collection="fidelity_reviews", record_id=str(review.pk))]
    assert "create" in actions and "update" in actions


# --- the anchors ------------------------------------------------------------------------------------

def open_anchor(client, item: str):
    from admin_app.models.fidelity import FidelityAnchor

    assert client.get(ANCHORS).status_code == 200      # the list stores the default anchors
    return FidelityAnchor.objects(item=item).first()


def post_anchor(client, anchor, limits, **extra):
    url = f"{ANCHORS}edit/?id={anchor.pk}"
    data = {"limit_5": limits[0], "limit_4": limits[1], "limit_3": limits[2], "limit_2": limits[3],
            "unit": anchor.unit, "csrf_token": csrf_token(client, url), **extra}
    return client.post(url, data=data)


def test_the_anchors_screen_starts_from_the_default_anchors(login):
    from admin_app.models.fidelity import FidelityAnchor

    page = login("manager").get(ANCHORS).get_data(as_text=True)
    stored = {a.item: a for a in FidelityAnchor.objects}
    assert set(stored) == set(fidelity.DATA_ITEMS)
    for item, anchor in fidelity.DEFAULT_ANCHORS.items():
        assert stored[item].thresholds == anchor["thresholds"] and stored[item].better == anchor["better"]
        assert fidelity.ITEM_LABELS[item] in page
    login("admin").get(ANCHORS)
    assert FidelityAnchor.objects.count() == len(fidelity.DATA_ITEMS)   # seeding twice adds nothing


def test_a_corrected_anchor_scores_the_dashboard_the_cli_and_new_reviews_but_not_saved_ones(app, login, casework):
    from admin_app.models.audit import AuditEvent

    manager = login("manager")
    post_review(manager, review_form(manager=3))
    [before] = stored_reviews()
    # 50% of contact time in the community is a 4 against the default anchor (50-64%).
    assert before.data_score("community_based_services").score == 4
    anchor = open_anchor(manager, "community_based_services")
    response = post_anchor(manager, anchor, ["45", "40", "35", "30"])
    assert response.status_code == 302
    anchor.reload()
    assert anchor.thresholds == [45, 40, 35, 30] and anchor.updated_by == "manager@test.e4e"
    assert AuditEvent.objects(collection="fidelity_anchors", action="update", record_id=str(anchor.pk)).count() == 1
    # 50% now clears the score-5 limit of 45% everywhere the figures are shown.
    page = manager.get("/admin/dashboard/", query_string={"kind": "fy", "fy": "2024"}).get_data(as_text=True)
    assert re.search(r'data-score="community_based_services">5<', page)
    result = app.test_cli_runner().invoke(args=["kpis", "--from", FY24.start.isoformat(), "--to", FY24.end.isoformat(),
                                                "--format", "json"])
    report = json.loads(result.output)
    assert report["service"]["fidelity"]["community_based_services"]["score"] == 5
    assert report["anchors"]["community_based_services"]["thresholds"] == [45, 40, 35, 30]
    post_review(manager, review_form(manager=3, review_date="2025-06-01"))
    old, new = stored_reviews()
    assert old.data_score("community_based_services").score == 4          # the snapshot of its save
    assert new.data_score("community_based_services").score == 5
    assert new.data_score("community_based_services").thresholds == [45, 40, 35, 30]


def test_a_review_is_refused_with_a_message_while_a_stored_anchor_cannot_score(login, casework):
    """An anchor written wrongly to the database (not through its screen) refuses the review's save and says where
    to correct it; nothing is saved and no error page is shown."""
    from admin_app import snapshots
    from admin_app.models.fidelity import FidelityAnchor

    manager = login("manager")
    anchor = open_anchor(manager, "community_based_services")
    FidelityAnchor.objects(pk=anchor.pk).update_one(set__limit_5=30, set__limit_2=65)  # the wrong way round
    snapshots.expire_all()
    response = post_review(manager, review_form(manager=3))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Traceback" not in page
    assert "Not saved. Please correct: The stored fidelity anchors cannot score" in page
    assert "Correct them on the anchors screen" in page
    assert stored_reviews() == []


def test_limits_in_the_wrong_order_are_refused_and_nothing_changes(login):
    manager = login("manager")
    anchor = open_anchor(manager, "community_based_services")
    response = post_anchor(manager, anchor, ["30", "40", "50", "65"], )
    page = response.get_data(as_text=True)
    assert "must run from the score-5 limit to the score-2 limit" in page and "Traceback" not in page
    anchor.reload()
    assert anchor.thresholds == fidelity.DEFAULT_ANCHORS["community_based_services"]["thresholds"]


def test_only_the_follow_along_anchor_asks_which_contacts_count(login):
    manager = login("manager")
    follow_along = open_anchor(manager, "time_unlimited_follow_along")
    caseload = open_anchor(manager, "caseload_size")
    assert 'name="contact_modes"' in manager.get(f"{ANCHORS}edit/?id={follow_along.pk}").get_data(as_text=True)
    page = manager.get(f"{ANCHORS}edit/?id={caseload.pk}").get_data(as_text=True)
    assert 'name="contact_modes"' not in page and "Score 5 at or below" in page
    response = post_anchor(manager, follow_along, ["85", "70", "60", "50"], months="6")
    assert "Tick at least one kind of contact" in response.get_data(as_text=True)
    response = post_anchor(manager, follow_along, ["85", "70", "60", "50"], months="6", contact_modes=["face_to_face"])
    assert response.status_code == 302
    follow_along.reload()
    assert (follow_along.months, follow_along.contact_modes) == (6, ["face_to_face"])


# --- who may use them -------------------------------------------------------------------------------

def test_admin_may_open_reviews_and_anchors(login):
    admin = login("admin")
    assert admin.get(REVIEWS).status_code == 200 and admin.get(REVIEWS + "new/").status_code == 200
    assert admin.get(ANCHORS).status_code == 200


@pytest.mark.parametrize("role", ["worker", "commissioner", "evaluator"])
def test_other_roles_are_refused_every_review_and_anchor_url(app, login, casework, role):
    from admin_app.models.fidelity import FidelityAnchor

    manager = login("manager")
    post_review(manager, review_form())
    [review] = stored_reviews()
    anchor = open_anchor(manager, "caseload_size")
    client = login(role)
    for url in (REVIEWS, REVIEWS + "new/", f"{REVIEWS}details/?id={review.pk}", f"{REVIEWS}edit/?id={review.pk}",
                ANCHORS, f"{ANCHORS}details/?id={anchor.pk}", f"{ANCHORS}edit/?id={anchor.pk}"):
        assert client.get(url).status_code == 403, url
    token = csrf_token(client, "/admin/")
    assert client.post(REVIEWS + "new/", data={**review_form(manager=1), "csrf_token": token}).status_code == 403
    assert client.post(f"{ANCHORS}edit/?id={anchor.pk}", data={"limit_5": "1", "limit_4": "2", "limit_3": "3",
                                                                "limit_2": "4", "csrf_token": token}).status_code == 403
    assert len(stored_reviews()) == 1 and FidelityAnchor.objects(item="caseload_size").first().limit_5 == 20


def test_reviews_cannot_be_deleted_from_the_screen(login, casework):
    manager = login("manager")
    post_review(manager, review_form())
    [review] = stored_reviews()
    token = csrf_token(manager, REVIEWS)
    assert manager.post(REVIEWS + "delete/", data={"id": str(review.pk), "csrf_token": token}).status_code == 403
    assert len(stored_reviews()) == 1


def test_the_service_dashboard_shows_the_latest_review_to_those_who_may_open_it(login, casework):
    manager = login("manager")
    post_review(manager, review_form(manager=5, data=5))
    page = manager.get("/admin/dashboard/").get_data(as_text=True)
    assert 'data-panel="latest-review"' in page and "125 / 125" in page
    assert 'data-panel="latest-review"' not in login("commissioner").get("/admin/dashboard/").get_data(as_text=True)
