"""Random and hostile values posted to every task form of the case file: never a server error; a refused
form stores nothing, and whatever is accepted is a valid item (hypothesis draws the values)."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, given, settings, strategies as st
from wtforms import fields as wtf

from admin_app.casework.parts import PARTS
from admin_app.models import Client
from tests.conftest import csrf_token, new_client
from tests.test_hostile_forms import HOSTILE_TEXT, _value

DURATION = st.one_of(st.integers(-5, 2000).map(str), HOSTILE_TEXT)


@pytest.mark.parametrize("part", [p.name for p in PARTS] + ["status_history"])
def test_hostile_values_in_a_task_form_never_break_it(app, users, login, part):
    from admin_app.views.casefile import DurationField, StatusForm, task_form_class
    from admin_app.casework.parts import part_named

    case = new_client("E4E-H0001", worker=users["worker"])
    manager = login("manager")
    url = f"/admin/casefile/{case.pk}/add/{part}"
    token = csrf_token(manager, url)
    with app.test_request_context():
        form = StatusForm(meta={"csrf": False}) if part == STATUS else \
            task_form_class(part_named(part), part_named(part).form_fields("add"))(meta={"csrf": False})
        fields = [(name, field) for name, field in form._fields.items()]
    existing = [str(users["worker"].pk), str(users["evaluator"].pk)]

    @settings(max_examples=12, deadline=None, phases=[Phase.generate],
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(st.data())
    def post_hostile(data):
        before = Client._get_collection().find_one({"_id": case.pk})
        values = {"csrf_token": token}
        for name, field in fields:
            if isinstance(field, DurationField):
                values[f"{name}-hours"] = data.draw(DURATION)
                values[f"{name}-minutes"] = data.draw(DURATION)
            elif isinstance(field, wtf.SelectFieldBase) and not getattr(field, "choices", None):
                values[name] = data.draw(st.one_of(st.sampled_from(existing), HOSTILE_TEXT))
            else:
                values[name] = _value(field, data.draw, existing)
        response = manager.post(url, data=values)
        assert response.status_code in (200, 302), (response.status_code, values)
        after = Client._get_collection().find_one({"_id": case.pk})
        if response.status_code == 200:
            assert after == before
        else:
            Client.objects.get(pk=case.pk).validate()

    post_hostile()


STATUS = "status_history"
