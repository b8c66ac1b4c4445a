"""Random and hostile values posted to the create and edit form of every screen: never a server error, and a
refused save leaves nothing behind (hypothesis draws the values; the CSRF token is valid)."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from bson import ObjectId
from hypothesis import HealthCheck, Phase, given, settings, strategies as st
from flask_login import login_user
from wtforms import fields as wtf

from admin_app.models import Employer, Organisation
from tests.conftest import csrf_token, new_client

HOSTILE_TEXT = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["", " ", "\x00", "a\x00b", "x" * 100_001, "=HYPERLINK(\"http://evil.example\")", "<script>alert(1)</script>",
                     "{\"$gt\": \"\"}", "1e308", "-1", "nan", "inf", "0001-01-01", "9999-12-31", "__None",
                     "not-an-id", str(ObjectId())]),
)


def _existing_ids(users):
    return [str(users["worker"].pk), str(users["manager"].pk)]


def _value(field, draw, existing):
    """One hostile value for a form field, by its kind."""
    choices = [str(value) for value, *_ in getattr(field, "choices", None) or []] if isinstance(field, wtf.SelectFieldBase) \
        and getattr(field, "choices", None) else []
    if isinstance(field, wtf.BooleanField):
        return draw(st.sampled_from(["y", "", "no", "\x00"]))
    if isinstance(field, (wtf.IntegerField, wtf.DecimalField, wtf.FloatField)):
        return draw(st.one_of(st.integers(-10**20, 10**20).map(str), st.floats(allow_nan=True).map(repr), HOSTILE_TEXT))
    if isinstance(field, (wtf.DateField, wtf.DateTimeField)):
        return draw(st.one_of(st.dates().map(date.isoformat), HOSTILE_TEXT))
    if choices:
        return draw(st.one_of(st.sampled_from(choices), HOSTILE_TEXT))
    if type(field).__name__.startswith(("Record", "Reference")):
        return draw(st.one_of(st.sampled_from(existing), HOSTILE_TEXT))
    return draw(HOSTILE_TEXT)


def _leaves(form, prefix=""):
    """(name, field) for every input of a form, with one entry in each inline list."""
    for field in form:
        if field.type == "CSRFTokenField":
            continue
        if isinstance(field, wtf.FieldList):
            if not field.entries:
                field.append_entry()
            entry = field.entries[0]
            if isinstance(entry, wtf.FormField):
                yield from _leaves(entry.form)
            else:
                yield entry.name, entry
        elif isinstance(field, wtf.FormField):
            yield from _leaves(field.form)
        else:
            yield field.name, field


def _unique() -> str:
    return str(ObjectId())[-8:]


def _staff_profile(users):
    from admin_app.models import StaffProfile, User

    user = User(email=f"staff{_unique()}@test.e4e").save()
    return StaffProfile(user=user, start_date=date.today() - timedelta(days=30)).save()


def _model(module: str, name: str):
    return getattr(__import__(f"admin_app.models.{module}", fromlist=[name]), name)


def _first_choice(module: str, name: str, field: str) -> str:
    choice = _model(module, name)._fields[field].choices[0]
    return choice[0] if isinstance(choice, (tuple, list)) else choice


SCREENS = {
    # endpoint: a record to edit, made fresh for each example (None: edit the first one there is)
    "client": lambda users: new_client(f"E4E-H{_unique()}", worker=users["worker"]),
    "organisation": lambda users: Organisation(name=f"Partner {_unique()}").save(),
    "employer": lambda users: Employer(name=f"Employer {_unique()}").save(),
    "staffprofile": _staff_profile,
    "user": lambda users: users["worker2"],
    "role": lambda users: __import__("admin_app.models", fromlist=["Role"]).Role(name=f"role {_unique()}").save(),
    "exportschedule": lambda users: __import__("admin_app.models.exports", fromlist=["ExportSchedule"]).ExportSchedule(
        name=f"Schedule {_unique()}", report="opcc_return").save(),
    "grantpot": None,
    "fidelityreview": None,
    "stafftime": lambda users: _model("staff_time", "StaffTime")(
        staff=users["worker"], date=date.today(), kind="travel", minutes=30).save(),
    "apitoken": None,
    "allowedrecipient": lambda users: _model("sharing", "AllowedRecipient")(
        report="opcc_return", email=f"r{_unique()}@partner.example.org", reason="Data sharing agreement").save(),
    "savedfilter": lambda users: _model("saved_filters", "SavedFilter")(
        name=f"Filter {_unique()}", owner=users["admin"], screen="client").save(),
    "fidelityanchor": lambda users: _model("fidelity", "FidelityAnchor")(
        item=f"item{_unique()}", better="higher", limit_5=4, limit_4=3, limit_3=2, limit_2=1).save(),
    "visit": lambda users: _model("risk", "Visit")(
        starts_at=datetime(2026, 1, 5, 10), ends_at=datetime(2026, 1, 5, 11), workers=[users["worker"]]).save(),
    "venue": lambda users: _model("risk", "Venue")(name=f"Venue {_unique()}", kind=_first_choice("risk", "Venue", "kind")).save(),
    "group": lambda users: _model("risk", "Group")(name=f"Group {_unique()}").save(),
    "affiliation": lambda users: _model("risk", "Affiliation")(
        client=new_client(f"E4E-A{_unique()}", worker=users["worker"]), group=_model("risk", "Group")(name=f"Group {_unique()}").save(),
        confidence=_first_choice("risk", "Affiliation", "confidence"), source=_first_choice("risk", "Affiliation", "source"),
        date=date.today()).save(),
}


def _view(app, endpoint):
    return next(v for v in app.extensions["e4e_admin"]._views if getattr(v, "endpoint", None) == endpoint)


def _stored(view):
    """The documents as stored (read raw: loading and re-serialising would encrypt encrypted fields afresh)."""
    return sorted(view.model._get_collection().find(), key=lambda d: str(d.get("_id")))


@pytest.mark.parametrize("endpoint", sorted(SCREENS))
@pytest.mark.parametrize("mode", ["create", "edit"])
@settings(max_examples=8, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate], suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_hostile_form_posts_never_reach_a_server_error_and_never_half_save(app, users, login, endpoint, mode, data):
    view = _view(app, endpoint)
    if mode == "create" and "create" not in view.screen_actions or mode == "edit" and "edit" not in view.screen_actions:
        pytest.skip(f"{endpoint} has no {mode} form")
    admin = app.extensions.setdefault("_hostile_admin", login("admin"))
    make = SCREENS[endpoint]
    if mode == "edit" and make is None:
        pytest.skip(f"{endpoint} is changed through its own workflow, tested with it")
    record = make(users) if mode == "edit" else None
    url = f"/admin/{endpoint}/new/" if mode == "create" else f"/admin/{endpoint}/edit/?id={record.pk}"
    with app.test_request_context(url):
        login_user(users["admin"])
        form = view.create_form() if mode == "create" else view.edit_form(record)
        inputs = list(_leaves(form))
    existing = _existing_ids(users)
    values = {name: _value(field, data.draw, existing) for name, field in inputs
              if data.draw(st.booleans(), label=f"send {name}")}
    before = _stored(view)
    response = admin.post(url, data={**values, "csrf_token": csrf_token(admin, url)})
    assert response.status_code < 500, f"{endpoint} {mode}: {response.status_code} for {values!r}"[:3000]
    if response.status_code != 302:
        assert _stored(view) == before, f"{endpoint} {mode} refused but changed what is stored"
    else:
        for document in view.model.objects:
            document.validate()
