"""The Saved filters screen: the filters a user may run, built-in ones first; saving from any list; running one."""
from __future__ import annotations

from functools import cache
from urllib.parse import parse_qsl

from flask import abort, current_app, flash, g, has_app_context, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from markupsafe import Markup, escape
from mongoengine import NotUniqueError, ValidationError
from werkzeug.datastructures import MultiDict
from wtforms.fields import SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget

from admin_app.metrics.records import both
from admin_app.models.case_file import Client
from admin_app.models.saved_filters import SavedFilter
from admin_app.saved_filters import (
    BUILTIN_FILTERS,
    CLIENT_SCREEN,
    CLIENTS_COLLECTION,
    describe,
    from_list_args,
    screen_of,
    stale_problems,
    to_list_args,
)
from admin_app.security import scope_match
from admin_app.views.base import SecuredModelView, validation_messages
from admin_app.vocabulary import ROLES, label

MAX_NAME = SavedFilter.name.max_length


def builtin_rows(builtins, today) -> list[dict]:
    """Built-in client filters with how many of the user's clients each holds now, and the link that runs
    each; nothing if the user may not list clients."""
    clients = screen_view(CLIENT_SCREEN)
    if clients is None or not clients.allows("list"):
        return []
    collection, scope = Client._get_collection(), scope_match(Client)
    return [{"builtin": b, "url": url_for(f"{clients.endpoint}.index_view", builtin=b.key),
             "count": collection.count_documents(both(scope, b.match(today)))} for b in builtins]


def screen_view(endpoint: str):
    """The list screen registered under `endpoint`, or None.

    Outside the web app (a job) only the client list is known, as a view of its own built once.
    """
    if has_app_context() and "e4e_admin" in current_app.extensions:
        for view in current_app.extensions["e4e_admin"]._views:
            if isinstance(view, SecuredModelView) and not isinstance(view, SavedFilterView) and view.endpoint == endpoint:
                return view
        return None
    return _client_list_view() if endpoint == CLIENT_SCREEN else None


@cache
def _client_list_view():
    from admin_app.views.clients import ClientView

    return ClientView(Client)


class RoleChoices(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _shared(view, context, model, name):
    return ", ".join(label(ROLES, role) for role in model.shared_roles) or "Private"


def _screen(endpoint: str):
    """The screen's description, worked out once per request (its filter choices may read the database)."""
    screens = g.setdefault("saved_filter_screens", {})
    if endpoint not in screens:
        target = screen_view(endpoint)
        screens[endpoint] = screen_of(target) if target is not None else None
    return screens[endpoint]


def _summary(view, context, model, name):
    return describe(model.as_data(), _screen(model.screen))


def _run_link(view, context, model, name):
    href = url_for(".run_view", id=model.pk)
    return Markup(f'<a href="{escape(href)}" title="Run this filter">{escape(model.name)}</a>')


class SavedFilterView(SecuredModelView):
    """Everyone sees their own filters and those shared with one of their roles; only the owner changes one."""

    screen_actions = ("list", "save", "run", "edit", "delete")
    extra_endpoints = {"save_view": "save", "run_view": "run"}
    # Changing or deleting a filter (one at a time or in bulk) is for its owner only.
    owner_only_endpoints = ("edit_view", "delete_view", "action_view")

    column_list = ("name", "screen_name", "summary", "owner", "shared_roles")
    column_labels = {"name": "Name (click to run)", "screen_name": "List", "summary": "Filter",
                     "shared_roles": "Shared with"}
    column_formatters = {"name": _run_link, "summary": _summary, "shared_roles": _shared}
    column_sortable_list = ("name", "screen_name")
    column_searchable_list = ("name",)
    form_columns = ("name", "shared_roles")
    form_overrides = {"shared_roles": RoleChoices}
    form_args = {"shared_roles": {"label": "Share with roles", "choices": list(ROLES),
                                  "description": "Leave every role unticked to keep the filter private."}}
    list_template = "admin/saved_filters/list.html"
    edit_template = "admin/saved_filters/edit.html"

    def search_placeholder(self):
        return "Name"

    def get_query(self):
        query = super().get_query().filter(SavedFilter.visible_filter(current_user))
        if (request.endpoint or "").rpartition(".")[2] in self.owner_only_endpoints:
            query = query.filter(owner=current_user.pk)
        return query

    def save_filter_form(self):
        return None

    def builtin_rows(self) -> list[dict]:
        return builtin_rows([b for b in BUILTIN_FILTERS if b.collection == CLIENTS_COLLECTION], self.today())

    def model_errors(self, model, is_created):
        if not model.name:
            return [(("name",), "Give the filter a name.")]
        return []

    def handle_view_exception(self, exc):
        if isinstance(exc, NotUniqueError):
            flash("Not saved: you already have a filter with that name on that list.", "error")
            return True
        return super().handle_view_exception(exc)

    # --- running --------------------------------------------------------------------------------
    @expose("/run/")
    def run_view(self):
        saved = self.get_one(request.args.get("id"))
        target = screen_view(saved.screen)
        if target is None:
            problems = [f"The list it was saved on ({saved.screen_name or saved.screen}) no longer exists."]
        else:
            screen = screen_of(target)
            problems = stale_problems(saved.as_data(), screen)
        if problems:
            flash(f"The saved filter “{saved.name}” is out of date and was not run. " + " ".join(problems)
                  + " Its owner can open the list, set the filters again and save it under the same name, or delete it.",
                  "error")
            return redirect(url_for(".index_view"))
        return redirect(url_for(f"{target.endpoint}.index_view", **to_list_args(saved.as_data(), screen)))

    # --- saving from a list ---------------------------------------------------------------------
    @expose("/save/", methods=("POST",))
    def save_view(self):
        target = screen_view(request.form.get("screen", ""))
        if target is None:
            abort(404)
        if not target.allows("list"):
            abort(403)
        args = request.form.get("args", "")
        back = url_for(f"{target.endpoint}.index_view") + (f"?{args}" if args else "")
        screen = screen_of(target)
        stored, problems = from_list_args(MultiDict(parse_qsl(args, keep_blank_values=True)), screen)
        name = (request.form.get("name") or "").strip()
        roles = request.form.getlist("shared_roles")
        if not name:
            problems.append("Give the filter a name.")
        elif len(name) > MAX_NAME:
            problems.append(f"Keep the name to {MAX_NAME} characters.")
        if set(roles) - {role for role, _ in ROLES}:
            problems.append("Choose roles to share with from the list.")
        existing = SavedFilter.objects(owner=current_user.pk, screen=target.endpoint, name=name).first() if name else None
        if existing is not None and not request.form.get("replace"):
            problems.append(f"You already have a filter called “{name}” on this list; tick “Replace it” to update it.")
        if problems:
            flash("Not saved: " + " ".join(problems), "error")
            return redirect(back)
        saved = existing or SavedFilter(owner=current_user._get_current_object(), name=name)
        saved.set_data(stored)
        saved.screen_name = screen.name
        saved.shared_roles = roles
        try:
            saved.save()
        except NotUniqueError:
            flash(f"Not saved: you already have a filter called “{name}” on this list.", "error")
            return redirect(back)
        except ValidationError as exc:
            flash("Not saved: " + " ".join(validation_messages(exc)), "error")
            return redirect(back)
        shared = ", ".join(label(ROLES, r) for r in roles) if roles else "only you"
        flash(f"{'Updated' if existing else 'Saved'} the filter “{name}” ({describe(stored, screen)}); "
              f"it can be run by {shared} from Saved filters.", "success")
        return redirect(back)
