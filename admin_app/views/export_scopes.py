"""Which case files an export covers: every one the starter may see, or a saved or built-in filter.

A saved filter is a client-list screen's own filter arguments, so it is applied through that screen's filters
and search; this is why it lives with the screens."""
from __future__ import annotations

from datetime import date
from typing import Any

from mongoengine import ValidationError

from admin_app.metrics.periods import london_today
from admin_app.metrics.records import both
from admin_app.models import Client
from admin_app.models.saved_filters import SavedFilter
from admin_app.saved_filters import (BUILTIN_FILTERS, BUILTINS, CLIENT_SCREEN, CLIENTS_COLLECTION, StaleFilter,
                                     builtin_for, screen_of, stale_problems)
from admin_app.security import scope_match
from admin_app.views.saved_filters import screen_view

ScopeProblem = StaleFilter


def saved_filter_match(saved_or_key: Any, user: Any, today: date) -> dict:
    """The MongoDB match on the clients collection for a saved filter or a built-in filter's key.

    Scoped to what `user` may see (admin_app.security.scope_match); `user` None means no user scope
    (a schedule). Raises StaleFilter with a message for the user when the filter cannot be used.
    """
    scope = scope_match(Client, user) if user is not None else {}
    if isinstance(saved_or_key, str):
        builtin = builtin_for(saved_or_key, CLIENTS_COLLECTION)
        if builtin is None:
            raise StaleFilter(f"“{saved_or_key}” is not a built-in filter.")
        return both(scope, builtin.match(today))
    stored = saved_or_key.as_data()
    view = screen_view(stored["screen"])
    if view is None or view.model is not Client:
        raise StaleFilter(f"The saved filter “{saved_or_key.name}” is not a filter on case files.")
    problems = stale_problems(stored, screen_of(view))
    if problems:
        raise StaleFilter(f"The saved filter “{saved_or_key.name}” is out of date: " + " ".join(problems))
    query = Client.objects
    for condition in stored["conditions"]:
        _, flt = view._filter_args[condition["arg"]]
        query = flt.apply(query, flt.clean(condition["value"]))
    if stored["search"]:
        # Searched as the list searched it: the fields the user (for a schedule, the filter's owner) may read.
        query = view._search(query, stored["search"], user or saved_or_key.owner)
    builtin = builtin_for(stored["builtin"], CLIENTS_COLLECTION)
    return both(scope, query._query, builtin.match(today) if builtin else {})


BUILTIN_PREFIX, SAVED_PREFIX = "builtin:", "saved:"


def export_scope_choices(user: Any) -> list[tuple[str, str]]:
    """The built-in filters and the client-list saved filters `user` may run, as (scope, label) choices."""
    choices = [(BUILTIN_PREFIX + b.key, f"Built-in filter: {b.name}")
               for b in BUILTIN_FILTERS if b.collection == CLIENTS_COLLECTION]
    for saved in SavedFilter.visible_to(user).filter(screen=CLIENT_SCREEN).only("name"):
        choices.append((f"{SAVED_PREFIX}{saved.pk}", f"Saved filter: {saved.name}"))
    return choices


def export_scope(scope: str, user: Any, today: date) -> tuple[dict, str]:
    """The match and a label for an export scope from export_scope_choices.

    With a user, a saved filter must be one they may see; `user` None (a schedule) may use any.
    """
    if scope.startswith(BUILTIN_PREFIX):
        key = scope[len(BUILTIN_PREFIX):]
        match = saved_filter_match(key, user, today)
        return match, f"Built-in filter: {BUILTINS[key].name}"
    if scope.startswith(SAVED_PREFIX):
        records = SavedFilter.objects if user is None else SavedFilter.visible_to(user)
        try:
            saved = records.filter(pk=scope[len(SAVED_PREFIX):]).first()
        except ValidationError:  # a malformed id is just an unknown filter
            saved = None
        if saved is None:
            raise StaleFilter("That saved filter no longer exists, or is not shared with you.")
        return saved_filter_match(saved, user, today), f"Saved filter: {saved.name}"
    raise StaleFilter(f"“{scope}” is not a filter this app knows.")


def resolve_scope(scope: str | None, user: Any, today: date | None = None) -> tuple[dict[str, Any], str]:
    """The MongoDB match on case files and a label for the run. `user` None means a schedule.

    Raises ScopeProblem (a stale or unknown filter) with a message for the user.
    """
    if not scope:
        base = scope_match(Client, user) if user is not None else {}
        return base, "Every case file" if not base else "Own caseload"
    return export_scope(scope, user, today or london_today())


def scope_choices(user: Any) -> list[tuple[str, str]]:
    """The filters the user may choose as an export's scope."""
    return export_scope_choices(user)
