"""Bad input gets a clear message, saves nothing and never reaches a server error."""
from __future__ import annotations

from datetime import date, timedelta

from admin_app import grants
from admin_app.db import database
from admin_app.models import Client, Employer, Organisation
from admin_app.models.exports import ExportSchedule
from admin_app.models.saved_filters import SavedFilter
from tests.conftest import csrf_token, new_client

TODAY = date.today()


def _post(client, url, data):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, url)})


def test_an_amount_beyond_the_pot_is_refused_and_the_bid_lists_keep_working(app, users, login):
    grants.create_pot(database(), "this-year", TODAY - timedelta(days=30), TODAY + timedelta(days=300), 10_000_00,
                      by="manager@test.e4e", on=TODAY)
    client = new_client("E4E-B0001", worker=users["worker"])
    worker = login("worker")
    url = f"/admin/grantbid/new/?client={client.pk}"
    for amount, message in (("1e308", "the whole grant"), ("1,2,3.4.5", "not an amount"), ("300000", "the whole grant"), ("10000.01", "the whole pot")):
        response = _post(worker, url, {"amount_asked": amount, "purpose": "Stock", "plan_summary": "Plan"})
        assert message in response.get_data(as_text=True), amount
    assert Client.objects.get(pk=client.pk).grant_bids == []
    for page in ("/admin/grantbid/", "/admin/grantpot/"):
        assert login("manager").get(page).status_code == 200


def test_a_nul_byte_or_a_100000_character_note_is_a_field_error(app, users, login):
    manager = login("manager")
    for notes in ("Met at the café\x00", "x" * 100_000):
        response = _post(manager, "/admin/employer/new/", {"name": "Cafe Nul", "notes": notes})
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert "control characters" in page or "10000 characters" in page
    assert Employer.objects(name="Cafe Nul").count() == 0


def test_organisation_and_employer_save_with_the_optional_email_left_empty(app, users, login):
    manager = login("manager")
    assert _post(manager, "/admin/organisation/new/", {"name": "No Email Trust", "kind": "referral_partner",
                                                        "email": "", "active": "y"}).status_code == 302
    assert _post(manager, "/admin/employer/new/", {"name": "No Email Ltd", "email": ""}).status_code == 302
    assert Organisation.objects.get(name="No Email Trust").email is None
    assert Employer.objects.get(name="No Email Ltd").email is None


def test_a_reference_that_is_not_an_id_or_names_no_record_is_a_field_error(app, users, login):
    from bson import ObjectId

    manager = login("manager")
    for worker in ("not-an-id", str(ObjectId()), "{\"$ne\": null}"):
        response = _post(manager, "/admin/staffprofile/new/", {"user": worker, "fte": "1", "start_date": "2025-04-01"})
        assert response.status_code == 200 and "Choose one of the options in the list" in response.get_data(as_text=True)


def test_a_dashboard_period_outside_sane_dates_is_a_message(app, users, login):
    manager = login("manager")
    response = manager.get("/admin/dashboard/?kind=custom&start=0001-01-01&end=9999-12-31")
    assert response.status_code == 200 and "must be between 01/01/2000" in response.get_data(as_text=True)
    response = manager.get("/admin/dashboard/?kind=custom&start=2000-01-01&end=2100-12-31")
    assert response.status_code == 200 and "at most 10 years" in response.get_data(as_text=True)


def test_a_timing_that_never_comes_round_is_a_field_error(app, users, login):
    manager = login("manager")
    response = _post(manager, "/admin/exportschedule/new/", {"name": "Never", "report": "opcc_return",
                                                             "period_rule": "previous_quarter", "cron": "0 0 31 2 *",
                                                             "delivery": "link", "active": "y", "scope": ""})
    assert response.status_code == 200 and "never comes round" in response.get_data(as_text=True)
    assert ExportSchedule.objects(name="Never").count() == 0


def test_a_saved_filter_value_over_500_characters_is_a_message(app, users, login):
    manager = login("manager")
    response = manager.post("/admin/savedfilter/save/", data={"screen": "client", "name": "Long",
                                                              "args": "flt0_status_equals=" + "a" * 600,
                                                              "csrf_token": csrf_token(manager, "/admin/client/")})
    assert response.status_code == 302
    assert "Not saved" in manager.get(response.location).get_data(as_text=True)
    assert SavedFilter.objects(name="Long").count() == 0
