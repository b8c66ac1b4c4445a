"""The evaluator API: tokens an administrator issues and revokes, what the API returns and what it never does."""
from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta

import pytest

from admin_app.metrics.periods import financial_year_of, london_today
from tests.conftest import csrf_token

API = "/api/evaluator/v1"
ALL_SCOPES = ["cases:read", "events:read", "figures:read"]
OTHER_ROLES = ("admin", "manager", "worker", "admin_staff", "grant_panel", "commissioner")


@pytest.fixture
def demo(app, users):
    from admin_app.cli import seed_demo_data

    with app.app_context():
        seed_demo_data()


def issue(app, user, scopes=ALL_SCOPES, expires_on=None) -> str:
    from admin_app.evaluator import tokens
    from admin_app.models.api_tokens import ApiToken

    with app.app_context():
        token = ApiToken(user=user, name="analysis", scopes=scopes, created_by="admin@test.e4e",
                         expires_on=expires_on or london_today() + timedelta(days=30))
        return tokens.issue(token, app.config["SECRET_KEY"])


def get(app, path, token=None, **params):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return app.test_client().get(API + path, query_string=params, headers=headers)


def every_page(app, token, path, **params) -> list[dict]:
    rows, cursor, pages = [], None, 0
    while True:
        response = get(app, path, token, **params, **({"cursor": cursor} if cursor else {}))
        assert response.status_code == 200, response.json
        rows += response.json["data"]
        cursor, pages = response.json["next_cursor"], pages + 1
        if cursor is None:
            return rows
        assert pages < 200


WHOLE = {"start": "2018-04-01", "end": "2028-03-31"}


def test_an_admin_issues_a_token_that_is_shown_once_and_stored_hashed(app, users, login):
    from admin_app.models.api_tokens import ApiToken

    admin = login("admin")
    form = admin.get("/admin/apitoken/new/").get_data(as_text=True)
    assert "cases:read" in form
    response = admin.post("/admin/apitoken/new/", data={
        "csrf_token": csrf_token(admin, "/admin/apitoken/new/"), "user": str(users["evaluator"].pk),
        "name": "R scripts", "scopes": ["cases:read"],
        "expires_on": (london_today() + timedelta(days=90)).isoformat()})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    token = re.search(r"data-token>([^<]+)<", page).group(1).strip()
    with app.app_context():
        stored = ApiToken.objects.get()
        assert token not in json.dumps(stored.to_mongo().to_dict(), default=str)
        assert stored.secret_hash and stored.created_by == users["admin"].email
    assert token not in admin.get("/admin/apitoken/").get_data(as_text=True)
    assert token not in admin.get(f"/admin/apitoken/details/?id={stored.pk}").get_data(as_text=True)
    assert get(app, "/cases", token).status_code == 200
    assert get(app, "/events", token).status_code == 403  # not in its scopes


def test_a_token_is_refused_for_a_user_whose_role_lacks_the_permission_on_the_form(app, users, login):
    admin = login("admin")
    page = admin.post("/admin/apitoken/new/", data={
        "csrf_token": csrf_token(admin, "/admin/apitoken/new/"), "user": str(users["manager"].pk),
        "name": "x", "scopes": ["cases:read"], "expires_on": (london_today() + timedelta(days=9)).isoformat()},
        follow_redirects=True).get_data(as_text=True)
    assert "Choose one of the options" in page and 'data-token' not in page
    assert f'value="{users["manager"].pk}"' not in page and f'value="{users["evaluator"].pk}"' in page
    from admin_app.models.api_tokens import ApiToken

    with app.app_context():
        assert ApiToken.objects.count() == 0


def test_a_revoked_token_is_refused_at_once(app, users, login):
    from admin_app.models.api_tokens import ApiToken

    token = issue(app, users["evaluator"])
    assert get(app, "/cases", token).status_code == 200
    admin = login("admin")
    with app.app_context():
        pk = ApiToken.objects.get().pk
    admin.post("/admin/apitoken/revoke/", data={"id": str(pk), "csrf_token": csrf_token(admin, "/admin/apitoken/")})
    response = get(app, "/cases", token)
    assert response.status_code == 401 and "revoked" in response.json["error"]


def test_expired_forged_and_deactivated_tokens_are_refused(app, users):
    token = issue(app, users["evaluator"], expires_on=london_today() - timedelta(days=1))
    assert "expired" in get(app, "/cases", token).json["error"]
    good = issue(app, users["evaluator"])
    assert get(app, "/cases", good[:-2] + ("AA" if not good.endswith("AA") else "BB")).status_code == 401
    assert get(app, "/cases", "e4e_" + "x" * 60).status_code == 401
    with app.app_context():
        from admin_app.models.people import User

        User.objects(pk=users["evaluator"].pk).update_one(set__active=False)
    assert get(app, "/cases", good).status_code == 401


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_every_other_role_is_refused_by_the_api_even_with_a_token_and_by_the_token_screens(app, users, login, role):
    token = issue(app, users[role])
    for path in ("/cases", "/events", "/figures"):
        response = get(app, path, token)
        assert response.status_code == 403 and "does not allow" in response.json["error"]
    # A signed-in session opens nothing in the API: only a token does.
    assert login(role).get(API + "/cases").status_code == 401
    if role != "admin":
        assert login(role).get("/admin/apitoken/").status_code == 403
        assert login(role).get("/admin/apitoken/new/").status_code == 403


def test_the_evaluator_cannot_manage_tokens(login):
    assert login("evaluator").get("/admin/apitoken/").status_code == 403


def test_rate_limit_per_token(make_app, users):
    app = make_app(evaluator_api_limits="3 per minute")
    from admin_app.security import datastore
    from flask_security import hash_password

    with app.app_context():
        user = datastore.create_user(email="ev@test.e4e", password=hash_password("x" * 20), roles=["evaluator"])
    token, other = issue(app, user), issue(app, user)
    assert [get(app, "/cases", token).status_code for _ in range(3)] == [200, 200, 200]
    refused = get(app, "/cases", token)
    assert refused.status_code == 429 and "Too many" in refused.json["error"]
    assert get(app, "/cases", other).status_code == 200


def test_every_call_is_audited_refused_or_not(app, users):
    from admin_app.models.audit import AuditEvent

    token = issue(app, users["evaluator"])
    get(app, "/cases", token, limit=5)
    get(app, "/events", "e4e_nonsense")
    get(app, "/cases", token, start="2026-13-01", end="2026-01-01")
    with app.app_context():
        calls = list(AuditEvent.objects(action="api").order_by("at"))
    assert [c.actor for c in calls] == [users["evaluator"].email, "evaluator API (no valid token)",
                                        users["evaluator"].email]
    assert "GET /api/evaluator/v1/cases?limit=5 → 200" in calls[0].summary
    assert "→ 401" in calls[1].summary and "→ 400" in calls[2].summary


@pytest.mark.parametrize("params, message", [
    ({"start": "2026-04-01"}, "both start and end"),
    ({"start": "2026-04-01", "end": "2026-03-01"}, "before start"),
    ({"start": "yesterday", "end": "2026-03-01"}, "YYYY-MM-DD"),
    ({"limit": "0"}, "limit"), ({"limit": "x"}, "limit"), ({"cursor": "abc"}, "cursor"),
    ({"updated_since": "soon"}, "ISO 8601"), ({"updated_sinse": "2026-01-01T00:00:00"}, "Unknown parameter"),
])
def test_bad_parameters_are_a_clear_400(app, users, params, message):
    response = get(app, "/cases", issue(app, users["evaluator"]), **params)
    assert response.status_code == 400 and message in response.json["error"]


def test_a_wrong_method_or_path_is_answered_in_json(app, users):
    token = issue(app, users["evaluator"])
    client = app.test_client()
    posted = client.post(API + "/cases", headers={"Authorization": f"Bearer {token}"})
    assert posted.status_code == 405 and "read-only" in posted.json["error"] and "GET" in posted.headers["Allow"]
    missing = client.get(API + "/nothing-here", headers={"Authorization": f"Bearer {token}"})
    assert missing.status_code == 404 and "OpenAPI" in missing.json["error"]


def test_a_wrong_method_on_a_screen_is_a_page_not_a_trace(login):
    response = login("manager").delete("/admin/")
    assert response.status_code == 405 and "Not allowed" in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


def test_pseudonyms_equal_the_extracts_and_consent_holds(app, users, demo, tmp_path):
    """The API's case records are the extract's Referrals rows, and its events its event rows, for the period."""
    import openpyxl

    from admin_app.evaluator.disclosure import CONSENTED
    from admin_app.models.case_file import Client
    from admin_app.db import database
    from exports import REPORTS, ExportContext
    from admin_app.metrics.periods import Period

    token = issue(app, users["evaluator"])
    period = financial_year_of(london_today())
    cases = every_page(app, token, "/cases", start=period.start.isoformat(), end=period.end.isoformat(), limit=7)
    events = every_page(app, token, "/events", start=period.start.isoformat(), end=period.end.isoformat(), limit=7)
    settings = app.config["SETTINGS"]
    with app.app_context():
        ctx = ExportContext(period=period, match={}, generated_at=datetime.utcnow(), generated_by="t", schedule=None,
                            pseudonym_key=settings.pseudonym_key, min_group=settings.evaluator_min_group,
                            date_precision=settings.evaluator_date_precision)
        path = tmp_path / "extract.xlsx"
        REPORTS["evaluator_extract"].build(database(), str(path), ctx)
        consented = Client.objects(__raw__=CONSENTED).count()
    book = openpyxl.load_workbook(path, read_only=True)

    def sheet_rows(name):
        rows = list(book[name].iter_rows(values_only=True))
        start = next(i for i, r in enumerate(rows) if r and r[0] == "Client pseudonym")
        return [dict(zip(rows[start], r)) for r in rows[start + 1:] if r and r[0]]

    referrals = sheet_rows("Referrals")
    assert sorted(c["client_pseudonym"] for c in cases) == sorted(r["Client pseudonym"] for r in referrals)
    assert len(cases) <= consented and len(cases) == len({c["client_pseudonym"] for c in cases})
    by_pseudonym = {r["Client pseudonym"]: r for r in referrals}
    for case in cases:
        row = by_pseudonym[case["client_pseudonym"]]
        assert case["cohort"] == row["Cohort"] and case["age_band"] == row["Age band"]
        assert case["referral_date"] == row["Referral date"]
    contacts = [e for e in events if e["type"] == "contact"]
    assert len(contacts) == len(sheet_rows("Contacts"))
    assert sum(e["minutes"] for e in contacts) == sum(r["Minutes"] for r in sheet_rows("Contacts"))
    assert {e["client_pseudonym"] for e in events} <= {c["client_pseudonym"] for c in cases}


def test_no_identifying_field_or_free_text_in_any_response_over_all_demo_data(app, users, demo):
    from admin_app.models.case_file import Client
    from tests.exports.exports_helpers import free_text

    token = issue(app, users["evaluator"])
    body = json.dumps([every_page(app, token, "/cases", **WHOLE, limit=200),
                       every_page(app, token, "/events", **WHOLE, limit=200),
                       get(app, "/figures", token, **WHOLE).json])
    assert len(body) > 10_000
    with app.app_context():
        clients = list(Client.objects)
        staff = [u.email for u in __import__("admin_app.models.people", fromlist=["User"]).User.objects]
    for client in clients:
        for value in (client.first_name, client.last_name, client.reference, client.date_of_birth.isoformat(),
                      *free_text(client)):
            # Any value as a whole JSON string; a longer one anywhere (a short number can sit inside a pseudonym).
            if value and len(str(value)) > 3:
                assert f'"{value}"' not in body and (len(str(value)) < 8 or str(value) not in body), value
    for email in staff:
        assert email not in body
    assert not re.search(r"\d{4}-\d{2}-\d{2}", json.dumps([r for r in json.loads(body)[:2]]))  # no full dates


def test_updated_since_keeps_only_case_files_changed_since(app, users, demo):
    from admin_app.models.case_file import Client

    token = issue(app, users["evaluator"])
    later = datetime.utcnow() + timedelta(seconds=1)
    assert every_page(app, token, "/cases", **WHOLE, updated_since=later.isoformat() + "Z") == []
    with app.app_context():
        from admin_app.evaluator.disclosure import CONSENTED

        changed = Client.objects(__raw__=CONSENTED).first()
        Client.objects(pk=changed.pk).update_one(set__updated_at=later + timedelta(seconds=5))
    found = every_page(app, token, "/cases", **WHOLE, updated_since=later.isoformat())
    assert len(found) == 1
