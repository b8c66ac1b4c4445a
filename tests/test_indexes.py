"""Every hot query starts from an index declared in the models (docs/indexes.md).

MongoDB sorts with an index only if the index's keys start with the sort's keys (in the same
directions, or all reversed); a filter is served by an index whose first key it tests with an
equality, a list or a range. These tests read each screen's sort and filters and each built-in
filter and check them against the models' declared indexes.
"""
from __future__ import annotations

import re
from datetime import date

import pytest

from admin_app.saved_filters import BUILTIN_FILTERS
from admin_app.search import client_search_keys, fold, prefix_match
from tests.conftest import new_client

USABLE = {"$eq", "$in", "$gt", "$gte", "$lt", "$lte", "$all", "$regex"}


def indexes(model) -> list[list[tuple[str, int]]]:
    return [list(spec["fields"]) for spec in model._meta["index_specs"]] + [[("_id", 1)]]


def db_path(model, key: str) -> str:
    """A sort key ("-last_name", "id") as the stored path and direction."""
    name = key.lstrip("-")
    field = model._fields.get("id" if name == "pk" else name)
    return field.db_field if field is not None else name


def sort_served(model, keys: list[str]) -> bool:
    wanted = [(db_path(model, key), -1 if key.startswith("-") else 1) for key in keys]
    reversed_ = [(path, -direction) for path, direction in wanted]
    return any(index[:len(wanted)] in (wanted, reversed_) for index in indexes(model))


def first_keys(model) -> set[str]:
    return {index[0][0] for index in indexes(model)}


def served_paths(match: dict, prefix: str = "") -> set[str] | None:
    """The paths of `match` an index could start from; None if some branch of an $or has none."""
    paths: set[str] = set()
    for key, condition in match.items():
        if key == "$and":
            for part in condition:
                paths |= served_paths(part, prefix) or set()
        elif key == "$or":
            branches = [served_paths(part, prefix) for part in condition]
            if branches and all(branches):
                paths.add("$or")
        elif key.startswith("$"):
            continue  # $expr, $where: no index
        elif isinstance(condition, dict) and "$elemMatch" in condition:
            paths |= {f"{prefix}{key}.{path}" for path in served_paths(condition["$elemMatch"]) or ()}
        elif isinstance(condition, dict) and any(op.startswith("$") for op in condition):
            if set(condition) & USABLE:
                paths.add(prefix + key)
        else:
            paths.add(prefix + key)
    return paths


def served(model, match: dict) -> bool:
    paths = served_paths(match)
    if not paths:
        return False
    if "$or" in paths:
        return all(served(model, branch) for branch in match["$or"]) or bool((paths - {"$or"}) & first_keys(model))
    return bool(paths & first_keys(model))


@pytest.fixture
def screens(app):
    from admin_app.views.base import SecuredModelView

    return [view for view in app.extensions["admin"][0]._views if isinstance(view, SecuredModelView)]


def test_every_screens_default_sort_is_served_by_an_index(app, screens):
    with app.test_request_context():
        missing = [f"{view.endpoint}: {view.sort_keys()}" for view in screens
                   if not sort_served(view.model, view.sort_keys())]
    assert missing == []


def test_the_client_list_sorts_on_reference_last_name_and_status_by_index(app, screens):
    [clients] = [view for view in screens if view.endpoint == "client"]
    with app.test_request_context():
        for column in clients.column_sortable_list:
            for descending in (False, True):
                keys = clients.sort_keys(column, descending)
                assert sort_served(clients.model, keys), keys
        # A worker's own list: their id, then the default order.
        assert sort_served(clients.model, ["worker", "reference"])


@pytest.mark.parametrize("endpoint", ["client", "auditevent"])
def test_each_filter_of_the_big_lists_starts_from_an_index(app, screens, endpoint):
    [view] = [view for view in screens if view.endpoint == endpoint]
    with app.test_request_context():
        view._refresh_filters_cache()
        paths = {getattr(flt, "path", None) or view.model._fields[flt.column].db_field for flt in view._filters}
    assert {"referral.decision"} <= paths or endpoint != "client"
    assert paths - first_keys(view.model) == set()


@pytest.mark.parametrize("builtin", BUILTIN_FILTERS, ids=lambda b: b.key)
def test_each_built_in_filter_starts_from_an_index(builtin):
    from admin_app.models.case_file import Client

    match = builtin.match(date(2026, 6, 15))
    assert served(Client, match), match


def test_the_audit_list_pages_by_an_index_in_each_filter():
    from admin_app.models.audit import AuditEvent

    for field in ("actor", "action", "collection", "record_id", "ip"):
        assert sort_served(AuditEvent, [field, "-at", "-id"]), field
    assert sort_served(AuditEvent, ["-at", "-id"])


def test_search_is_an_anchored_prefix_on_an_indexed_key():
    from admin_app.models.case_file import Client

    match = prefix_match("search_keys", "Smith E4E-T0001")
    assert match == {"$and": [{"search_keys": {"$regex": "^smith"}}, {"search_keys": {"$regex": "^e4et0001"}}]}
    assert "search_keys" in first_keys(Client)
    assert prefix_match("search_keys", " -- ") is None


@pytest.mark.parametrize("text, folded", [
    ("Smith", "smith"), ("O’Néill", "oneill"), ("Zoë", "zoe"), ("E4E-T0001", "e4et0001"), ("  ", ""),
    ("Smith-Jones", "smithjones"), ("ŁUKASZ", "łukasz"),
])
def test_fold(text, folded):
    assert fold(text) == folded


@pytest.mark.parametrize("reference, first, last, keys", [
    ("E4E-T0001", "Zoë", "Smith-Jones", ["0001", "e4e", "e4et0001", "jones", "smith", "smithjones", "t0001", "zoe"]),
    ("E4E-0042", "Mo", "O'Neill", ["0042", "e4e", "e4e0042", "mo", "o", "neill", "oneill"]),
])
def test_client_search_keys(reference, first, last, keys):
    assert client_search_keys(reference, first, last) == sorted(keys)


def test_the_client_search_finds_by_the_start_of_reference_or_name_only(app, users, login):
    with app.app_context():
        new_client("E4E-S0001", worker=users["worker"], first_name="Zoë", last_name="Smith-Jones")
        new_client("E4E-S0002", worker=users["worker"], first_name="Dean", last_name="O’Neill")
        new_client("E4E-S0003", worker=users["worker2"], first_name="Ami", last_name="Goldsmith")
    manager = login("manager")

    def found(term):
        page = manager.get("/admin/client/", query_string={"search": term}).get_data(as_text=True)
        return sorted(set(re.findall(r"E4E-S000\d", page)))

    assert found("smith") == ["E4E-S0001"]  # not Goldsmith: a search matches the start of a name
    assert found("zoe sm") == ["E4E-S0001"]
    assert found("jones") == ["E4E-S0001"]
    assert found("oneill") == found("O'Neill") == ["E4E-S0002"]
    assert found("e4e-s0003") == found("S0003") == found("0003") == ["E4E-S0003"]
    assert found("gold") == ["E4E-S0003"]
    assert found("mith") == []
    # A worker's search stays within their own caseload.
    assert "E4E-S0003" not in login("worker").get("/admin/client/?search=gold").get_data(as_text=True)


def test_a_renamed_client_is_found_by_the_new_name(app, users):
    from admin_app.models.case_file import Client

    with app.app_context():
        client = new_client("E4E-S0010", worker=users["worker"], last_name="Brown")
        client.last_name = "Green"
        client.save()
        assert "green" in Client.objects.get(pk=client.pk).search_keys
        assert "brown" not in Client.objects.get(pk=client.pk).search_keys


def test_the_audit_log_pages_by_key_newest_first_without_page_numbers(app, users, login):
    from datetime import datetime, timedelta

    from admin_app.models.audit import AuditEvent

    with app.app_context():
        start = datetime(2026, 1, 1, 9, 0)
        for n in range(45):
            # pairs share a time, so the id decides their order
            AuditEvent(at=start + timedelta(minutes=n // 2), actor="paging@test.e4e", action="view",
                       collection="clients", record_id=f"r{n:02d}", summary=f"event {n:02d}").save()
    manager = login("manager")
    seen, url = [], "/admin/auditevent/?flt0_who_equals=paging%40test.e4e"
    for _ in range(5):
        page = manager.get(url).get_data(as_text=True)
        seen.append(re.findall(r"event (\d\d)", page))
        older = re.search(r'href="([^"]+)">Older', page)
        if not older:
            break
        url = older.group(1).replace("&amp;", "&")
    assert [len(events) for events in seen] == [20, 20, 5]
    flat = [int(n) for events in seen for n in events]
    assert flat == sorted(range(45), reverse=True)  # newest first, none repeated or skipped
    assert "page=" not in url
    # A mangled key shows the newest page, not an error.
    broken = manager.get("/admin/auditevent/?flt0_who_equals=paging%40test.e4e&before=not-a-key")
    assert broken.status_code == 200 and "event 44" in broken.get_data(as_text=True)


def test_case_files_stored_before_search_keys_get_them_from_the_command(app, users, login):
    from admin_app.models.case_file import Client

    with app.app_context():
        client = new_client("E4E-S0020", worker=users["worker"], first_name="Aisha", last_name="Khan")
        Client._get_collection().update_one({"_id": client.pk}, {"$unset": {"search_keys": ""}})
    manager = login("manager")
    assert "E4E-S0020" not in manager.get("/admin/client/?search=khan").get_data(as_text=True)
    result = app.test_cli_runner().invoke(args=["index-search-keys"])
    assert result.exit_code == 0 and "made the search keys of 1 case files" in result.output
    assert "E4E-S0020" in manager.get("/admin/client/?search=khan").get_data(as_text=True)
    again = app.test_cli_runner().invoke(args=["index-search-keys"])
    assert "of 0 case files" in again.output
