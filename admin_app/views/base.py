"""The one base view every screen inherits: permissions, row-level scope, audit, rule errors.

A screen cannot opt out: every exposed endpoint goes through `_handle_view`, which refuses any
endpoint it does not know, and every read goes through `get_query`, which applies the scope.
"""
from __future__ import annotations

import re
from datetime import date

import mongoengine
from mongoengine.base import BaseField
from flask import abort, flash, has_request_context, redirect, request, url_for
from flask_admin.actions import action
from flask_admin.babel import lazy_gettext, ngettext
from flask_admin.contrib.mongoengine import ModelView
from flask_admin.contrib.mongoengine.tools import parse_like_term
from flask_admin.contrib.mongoengine.view import SORTABLE_FIELDS
from flask_admin.contrib.mongoengine.ajax import QueryAjaxModelLoader
from flask_admin.contrib.mongoengine.filters import FilterEmpty, FilterEqual, FilterNotEqual
from bson.errors import InvalidId
from flask_admin.contrib.mongoengine.form import CustomModelConverter, ModelSelectField, ModelSelectMultipleField
from flask_admin.form import Select2Field
from flask_admin.model.fields import AjaxSelectField, AjaxSelectMultipleField
from wtforms import fields as wtf_fields, widgets
from wtforms.validators import DataRequired, InputRequired, ValidationError
from flask_wtf import FlaskForm
from flask_login import current_user
from markupsafe import Markup
from wtforms.validators import StopValidation

from admin_app import audit, fields, formats
from admin_app.alerts import note_probe
from admin_app.metrics.periods import london_today
from admin_app.models.people import staff_name, staff_names
from admin_app.privacy import classes as field_classes, reads as privacy_reads
from admin_app.saved_filters import builtin_for
from admin_app.search import prefix_match
from admin_app.security import has_permission, register_permission, scope_filter, scoped
from admin_app.vocabulary import ROLES
from exports.cells import neutralise

# Flask-Admin endpoint (view function name) -> the action it needs.
ENDPOINT_ACTIONS = {
    "index_view": "list",
    "details_view": "details",
    "create_view": "create",
    "edit_view": "edit",
    "delete_view": "delete",
    "export": "export",
    "ajax_update": "edit",
}
ACTION_LABELS = {
    "list": "see the list",
    "details": "open details",
    "create": "create",
    "edit": "edit",
    "delete": "delete",
    "export": "export the list",
    "casefile": "open the case-file page",
}


class RulesRefused(Exception):
    """A save refused by domain rules. `on_form`: the messages are already on the form (beside their fields
    and in its error summary), so nothing more is said; otherwise they are flashed."""

    def __init__(self, messages: list[str], on_form: bool = False):
        super().__init__("; ".join(messages))
        self.messages = messages
        self.on_form = on_form


def _is_message(error) -> bool:
    """One error's words (a str, or a translated text such as the account pages' lazy strings), not the
    errors of a nested item (a list or a dict)."""
    return not isinstance(error, (list, tuple, dict))


def form_problems(form) -> list[tuple[str | None, str]]:
    """Every error on a form, nested items included, in the form's order, as (the id of the field to go to,
    the words a person reads): the entries of the GOV.UK error summary at the top of the form."""
    problems: list[tuple[str | None, str]] = []

    def walk(fields, within):
        for field in fields:
            if field.type in ("CSRFTokenField", "HiddenField"):
                continue
            label = str(formats.account_words(field.label.text)) if getattr(field, "label", None) else field.name
            entries = getattr(field, "entries", None)
            if entries is not None:  # a list of nested items: "Contacts 3, Date: ..."
                problems.extend((field.id, f"{within}{label}: {message}") for message in field.errors or ()
                                if _is_message(message))
                for number, entry in enumerate(entries, 1):
                    inner = getattr(entry, "form", None)
                    if inner is not None:
                        walk(inner, f"{within}{label} {number}, ")
                    else:
                        walk([entry], f"{within}{label} {number}, ")
                continue
            inner = getattr(field, "form", None)
            if inner is not None and not isinstance(field.errors, (list, tuple)):
                walk(inner, f"{within}{label}, ")
                continue
            # A duration is two inputs; the summary takes the person to the first.
            target = f"{field.id}-hours" if field.type == "DurationField" else field.id
            for message in field.errors or ():
                if _is_message(message):
                    message = str(message)
                    # "Date of birth must be in the past" names its field already; "Not a valid choice" does not.
                    named = not within and (message.lower().startswith(label.lower())
                                            or f"the {label.lower()}" in message.lower())
                    problems.append((target, message if named else f"{within}{label}: {message}"))

    walk(form, "")
    problems.extend((None, str(message)) for message in getattr(form, "form_errors", None) or ())
    csrf = getattr(form, "csrf_token", None)
    if csrf is not None and getattr(csrf, "errors", None):
        problems.append((None, "The form expired. Reload the page and try again."))
    return problems


class ScopedAjaxLoader(QueryAjaxModelLoader):
    """Ajax look-ups that only offer records in the user's scope, so a select over a large collection
    (every case file, every employer) is never rendered whole.

    Options beyond Flask-Admin's: `filters` (mongoengine filter arguments every offered record meets,
    e.g. open case files only), `order_by` and `only` (the fields its label needs). A document with normalised `search_keys` (case files,
    admin_app/search.py) is searched by anchored prefix on them, an index range; any other by an
    anchored, case-insensitive prefix of the named fields.
    """

    def __init__(self, name, model, **options):
        self.filters = dict(options.pop("filters", None) or {})
        self.order_by = tuple(options.pop("order_by", None) or ())
        self.only = tuple(options.pop("only", None) or ())
        super().__init__(name, model, **options)

    def _objects(self):
        objects = scoped(self.model.objects(**self.filters))
        return objects.only(*self.only) if self.only else objects

    def get_one(self, pk):
        try:
            return self._objects().filter(pk=pk).first()
        except (mongoengine.ValidationError, InvalidId, TypeError):
            return None

    def get_list(self, term, offset=0, limit=10):
        objects = self._objects()
        if term and "search_keys" in self.model._fields:
            match = prefix_match("search_keys", term)
            objects = objects.filter(__raw__=match) if match else objects.none()
        elif term:
            criteria = None
            for field in self._cached_fields:
                clause = mongoengine.Q(**{f"{field.name}__istartswith": term.strip()})
                criteria = clause if criteria is None else criteria | clause
            objects = objects.filter(criteria)
        if self.order_by:
            objects = objects.order_by(*self.order_by)
        return objects.skip(max(int(offset or 0), 0)).limit(min(max(int(limit or 10), 1), 50))


class LookupField(AjaxSelectField):
    """A record picked by typing (an ajax look-up): a value the user's look-up would not offer (forged,
    out of scope or since removed) is a field error, never a silent blank."""

    def pre_validate(self, form):
        submitted = self._formdata
        if submitted and self.data is None:
            raise ValidationError("Choose one of the options the search offers.")
        super().pre_validate(form)


class LookupMultipleField(AjaxSelectMultipleField):
    def process_formdata(self, valuelist):
        # In the order chosen (Flask-Admin keeps a set, which loses it), each record once.
        self._formdata = list(dict.fromkeys(n for field in valuelist for n in field.split(self.separator) if n))

    def pre_validate(self, form):
        self.data  # looks each submitted record up
        if self._invalid_formdata:
            raise ValidationError("Choose only options the search offers.")


def _form_field(form, path):
    """The form field for a rule path such as ("contacts", 2, "minutes"), or None."""
    node = form
    for part in path:
        if node is None:
            return None
        if isinstance(part, int):
            entries = getattr(node, "entries", None)
            node = entries[part] if entries is not None and part < len(entries) else None
            node = getattr(node, "form", node)
        else:
            inner = getattr(node, "form", node)
            node = getattr(inner, part, None) if inner is not None else None
    return node


def validation_paths(error: mongoengine.ValidationError, prefix=()):
    """Flatten a mongoengine ValidationError into (path, message) pairs."""
    errors = error.errors or {}
    if not errors:
        return [(prefix, error.message)]
    out = []
    for key, value in errors.items():
        part = int(key) if str(key).isdigit() else key
        if isinstance(value, mongoengine.ValidationError):
            out.extend(validation_paths(value, prefix + (part,)))
        elif isinstance(value, dict):
            out.extend(validation_paths(mongoengine.ValidationError(errors=value), prefix + (part,)))
        else:
            out.append((prefix + (part,), str(value)))
    return out


class ReferenceSelectField(ModelSelectField):
    """A drop-down of records: a value that is not one of its choices (forged, malformed or since removed)
    is a field error, never a silent blank and never a server error."""

    widget = widgets.Select()

    def process_formdata(self, valuelist):
        self._submitted = valuelist[0] if valuelist and valuelist[0] not in ("__None", "") else None
        self.data = self._lookup()

    def _lookup(self):
        if self._submitted is None or self.queryset is None:
            return None
        try:
            return self.queryset.filter(pk=self._submitted).first()
        except (mongoengine.ValidationError, InvalidId, TypeError):
            return None

    def pre_validate(self, form):
        if getattr(self, "_submitted", None) is not None:
            # Looked up again: a screen narrows the choices (active staff only, say) after the form is built.
            self.data = self._lookup()
            if self.data is None:
                raise ValidationError("Choose one of the options in the list.")
        super().pre_validate(form)


class ChoiceField(Select2Field):
    """A plain drop-down of a field's choices with a blank first option, so that an untouched form
    never submits a choice nobody made; a blank stays absent."""

    widget = widgets.Select()


def _blank_to_none(value):
    return None if value == "" else value


def _browser_newlines(value):
    # Browsers submit textarea line breaks as CRLF; store what the person typed, not the transport's form.
    return value.replace("\r\n", "\n") if isinstance(value, str) else value


class RecordSelectMultipleField(ModelSelectMultipleField):
    """Several records from a list: every value must name one of them."""

    def process_formdata(self, valuelist):
        given = [value for value in valuelist or [] if value not in ("", "__None")]
        self.names_no_record = False
        try:
            super().process_formdata(given)
            found = len(self.data or [])
        except mongoengine.ValidationError:
            self.data, found = None, -1
        self.names_no_record = found != len(set(given))

    def pre_validate(self, form):
        if getattr(self, "names_no_record", False):
            raise StopValidation("Choose only records in the list.")
        if self.data is None and self.flags.required:
            raise StopValidation("Choose at least one.")


def validation_messages(error: mongoengine.ValidationError) -> list[str]:
    """A mongoengine ValidationError as messages a person can act on: "value: String value is too long"."""
    return [f"{' › '.join(str(p) for p in path if not isinstance(p, int)).replace('_', ' ')}: {message}"
            for path, message in validation_paths(error)]


class CaseFileConverter(CustomModelConverter):
    """Form fields for our documents: encrypted text edited as plain text, long text in a text box, optional
    choices with a blank, blanks stored as absent, reference drop-downs that refuse values outside their choices."""

    def __init__(self, view):
        super().__init__(view)
        self.converters["EncryptedStringField"] = self.conv_String

    def convert(self, model, field, field_args):
        unbound = super().convert(model, field, field_args)
        if unbound is None or not isinstance(field, BaseField) or isinstance(field, mongoengine.ListField):
            return unbound
        if field.choices and unbound.field_class is wtf_fields.SelectField:
            kwargs = dict(unbound.kwargs)
            if field.required:
                kwargs["validators"] = [v for v in kwargs["validators"] if not isinstance(v, InputRequired)]
                kwargs["validators"].insert(0, DataRequired(message="Choose one of the options."))
            return ChoiceField(*unbound.args, allow_blank=True, blank_text="Choose…" if field.required else "—",
                               **kwargs)
        if isinstance(field, mongoengine.StringField):
            unbound.kwargs["filters"] = [*unbound.kwargs.get("filters", ()), _browser_newlines, _blank_to_none]
        if field.required and unbound.kwargs.get("validators"):
            # Plain words instead of "This field is required.".
            what = str(unbound.kwargs.get("label") or field.name.replace("_", " ")).lower()
            unbound.kwargs["validators"] = [InputRequired(message=f"Enter the {what}.") if isinstance(v, InputRequired) else v
                                            for v in unbound.kwargs["validators"]]
        return unbound

    def conv_Reference(self, model, field, kwargs):
        loader = getattr(self.view, "_form_ajax_refs", {}).get(field.name)
        if loader:
            kwargs["allow_blank"] = not field.required
            return LookupField(loader, **kwargs)
        kwargs["allow_blank"] = not field.required
        kwargs.setdefault("blank_text", "—")
        return ReferenceSelectField(model=field.document_type, **kwargs)

    def conv_String(self, model, field, kwargs):
        if (field.max_length or 0) >= fields.TEXT_MAX:
            kwargs["textarea"] = True
        kwargs["validators"].append(_no_control_characters)
        return super().conv_String(model, field, kwargs)

    def conv_List(self, model, field, kwargs):
        loader = getattr(self.view, "_form_ajax_refs", {}).get(field.name)
        if isinstance(field.field, mongoengine.ReferenceField) and loader:
            return LookupMultipleField(loader, **kwargs)
        if isinstance(field.field, mongoengine.ReferenceField):
            return RecordSelectMultipleField(model=field.field.document_type, **kwargs)
        return super().conv_List(model, field, kwargs)


def _no_control_characters(form, field):
    message = fields.control_character_error(field.data)
    if message:
        raise StopValidation(message)


def clear_blank_choices(document) -> None:
    """An optional choice or email address left blank in a form arrives as ""; store it as no value."""
    for name, field in document._fields.items():
        value = document._data.get(name)
        if (getattr(field, "choices", None) or isinstance(field, mongoengine.EmailField)) and value == "":
            setattr(document, name, None)
        elif isinstance(value, mongoengine.EmbeddedDocument):
            clear_blank_choices(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, mongoengine.EmbeddedDocument):
                    clear_blank_choices(item)


class SecuredModelView(ModelView):
    """Every screen's base: an action is allowed only with its permission, rows only in scope."""

    #: The actions this screen offers at all; each becomes a permission `<prefix>.<action>`.
    screen_actions: tuple[str, ...] = ("list", "details", "create", "edit", "delete", "export")
    #: Exposed endpoints of this screen beyond Flask-Admin's, and the action each needs.
    extra_endpoints: dict[str, str] = {}
    #: Permission prefix; defaults to the endpoint.
    permission_prefix: str | None = None
    model_form_converter = CaseFileConverter
    # Flask-WTF's token, the same one CSRFProtect checks on every POST.
    form_base_class = FlaskForm
    export_types = ["csv"]
    page_size = 20
    list_template = "admin/secured_list.html"
    # Filters are named in list URLs, so a saved filter naming one that has gone can be reported.
    named_filter_urls = True
    #: A stored list of folded keys that the search box matches by prefix (admin_app/search.py).
    search_keys_field: str | None = None

    def __init__(self, model, *args, **kwargs):
        super().__init__(model, *args, **kwargs)
        for screen_action in self.screen_actions:
            register_permission(self.permission(screen_action), f"{self.name}: {ACTION_LABELS.get(screen_action, screen_action)}")
        for name, text in self._bulk_action_names():
            if name != "delete":
                register_permission(self.permission(f"action.{name}"), f"{self.name}: {text}")

    # --- permissions --------------------------------------------------------------------------
    def _bulk_action_names(self):
        for attr in dir(type(self)):
            method = getattr(type(self), attr, None)
            if hasattr(method, "_action"):
                name, text, _ = method._action
                yield name, str(text)

    def permission(self, action: str) -> str:
        return f"{self.permission_prefix or self.endpoint}.{action}"

    def allows(self, action: str) -> bool:
        offered = action in self.screen_actions or action.startswith("action.")
        return offered and has_permission(self.permission(action))

    def _can(self, action: str) -> bool:
        # Outside a request (while Flask-Admin builds its caches) the screen reports what it offers.
        if not has_request_context():
            return action in self.screen_actions
        return self.allows(action)

    can_create = property(lambda self: self._can("create"))
    can_edit = property(lambda self: self._can("edit"))
    can_delete = property(lambda self: self._can("delete"))
    can_export = property(lambda self: self._can("export"))
    can_view_details = property(lambda self: self._can("details"))

    def is_accessible(self):
        return current_user.is_authenticated and self.allows("list")

    def is_action_allowed(self, name):
        if name == "delete":
            return self.allows("delete")
        return self.allows(f"action.{name}")

    def _handle_view(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("security.login", next=request.full_path))
        if name == "action_view":
            # Each bulk action is checked by is_action_allowed; a user needs the list to act on it.
            needed = "list"
        elif name == "ajax_lookup":
            needed = "edit" if self.allows("edit") else "create"
        else:
            needed = ENDPOINT_ACTIONS.get(name) or self.extra_endpoints.get(name)
        if needed is None or not self.allows(needed):
            note_probe("refused", self.model._get_collection_name(), request.values.get("id"),
                       f"refused {request.method} {request.path}")
            abort(403)
        if name == "export":
            audit.record("export", collection=self.model._get_collection_name(),
                         summary=f"exported the {self.name} list ({request.query_string.decode()[:200]})")
        return None

    # --- our bounded field types (admin_app/fields.py) are searched and sorted like mongoengine's own ---
    allowed_search_types = ModelView.allowed_search_types + (fields.StringField, fields.EmailField)

    def scaffold_sortable_columns(self):
        return {name: field for name, field in self._get_model_fields()
                if isinstance(field, tuple(SORTABLE_FIELDS)) and not getattr(field, "encrypted", False)
                and (self.column_display_pk or not isinstance(field, mongoengine.ObjectIdField))}

    # --- field classes (admin_app/privacy/classes.py): list, details, export, search, sort, forms ---------
    def _model_field(self, name):
        return field_classes.field_at(self.model, name) if isinstance(name, str) else None

    def _get_list_value(self, context, model, name, column_formatters, column_type_formatters):
        """A list, details or export cell as a person reads it (admin_app/formats.py): choice labels, UK dates
        and times to the minute, people by name, Yes/No. A field the user may not read says "restricted"."""
        field = self._model_field(name)
        if field is not None and not privacy_reads.readable(field):
            return field_classes.RESTRICTED
        if field is not None and name not in column_formatters:
            value = self._get_field_value(model, name)
            if getattr(field, "staff_email", False):
                return staff_name(value)
            if isinstance(value, (list, tuple)) or not isinstance(value, (dict, Markup, mongoengine.EmbeddedDocument)):
                return formats.field_value(field, value)
        return super()._get_list_value(context, model, name, column_formatters, column_type_formatters)

    def scaffold_filters(self, name):
        """A filter on a field with choices offers its labels in a drop-down, never a box for typing a code."""
        field = self.model._fields.get(name) if isinstance(name, str) else name
        choices = getattr(field, "choices", None)
        labels = getattr(field, "value_labels", None)
        if not (choices or callable(labels)) or isinstance(field, mongoengine.ListField):
            return super().scaffold_filters(name)
        options = labels if callable(labels) else [c if isinstance(c, (tuple, list)) else (c, c) for c in choices]
        label = self.get_column_name(field.name)
        found = [FilterEqual(field.name, label, options=options), FilterNotEqual(field.name, label, options=options)]
        return found if field.required else found + [FilterEmpty(field.name, label)]

    def _search(self, query, search_term, user=None):
        """Search only the fields the user (the signed-in one by default) may read: a name they may not see
        cannot be confirmed by searching.

        With `search_keys_field` and every searched field readable, every word of the search starts one of
        the record's folded keys (admin_app/search.py): an anchored prefix an index serves. A user who may
        not read some of them searches the others by an anchored prefix of their stored values."""
        readable = [field for field in self._search_fields if privacy_reads.readable(field, user)]
        if self.search_keys_field and len(readable) == len(self._search_fields):
            match = prefix_match(self.search_keys_field, search_term)
            return query if match is None else query.filter(__raw__=match)
        if self.search_keys_field:
            term = (search_term or "").strip()
            if not term:
                return query
            return query.filter(__raw__={"$or": [{field.db_field: {"$regex": "^" + re.escape(term), "$options": "i"}}
                                                 for field in readable]} if readable else {"_id": None})
        op, term = parse_like_term(search_term)
        criteria = None
        for field in self._search_fields:
            if not privacy_reads.readable(field, user):
                continue
            value = re.compile(f".*{re.escape(term)}.*") if isinstance(field, mongoengine.ReferenceField) else term
            clause = mongoengine.Q(**{f"{field.name}__{op}": value})
            criteria = clause if criteria is None else criteria | clause
        return query.filter(criteria) if criteria is not None else query.filter(pk__in=[])

    def create_form(self, obj=None):
        form = super().create_form(obj)
        privacy_reads.drop_unreadable(form, self.model)
        return form

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        privacy_reads.drop_unreadable(form, self.model)
        return form

    # --- exports ------------------------------------------------------------------------------
    def get_export_value(self, model, name):
        """A CSV cell holds text, never the list's HTML, and never a formula a spreadsheet would run."""
        value = super().get_export_value(model, name)
        if isinstance(value, Markup):
            value = value.striptags()
        return neutralise(value) if isinstance(value, str) else value

    # --- labels -------------------------------------------------------------------------------
    def get_column_name(self, field):
        """A column's heading: the screen's own label, else the field's verbose_name, else the prettified name."""
        if self.column_labels and field in self.column_labels:
            return self.column_labels[field]
        label = getattr(self.model._fields.get(field), "verbose_name", None)
        return label or super().get_column_name(field)

    def record_title(self, model) -> str:
        """How a page's title and heading name its record: the audit's label, so a client is named by
        reference only (a title ends up in browser history and on shared screens)."""
        return audit.label(model)

    def search_placeholder(self):
        names = [self.get_column_name(column) for column in self.column_searchable_list or () if isinstance(column, str)]
        return ("Search " + ", ".join(names).lower()) if names else "Search"

    # --- row-level scope ----------------------------------------------------------------------
    def _refresh_filters_cache(self):
        super()._refresh_filters_cache()
        # Links made before filters had names give their position; keep them working.
        for index, flt in enumerate(self._filters or []):
            self._filter_args.setdefault(str(index), (index, flt))

    def get_query(self):
        query = scoped(super().get_query())
        if has_request_context() and request.args.get("builtin"):
            builtin = self.builtin_filter()
            # An unknown built-in filter shows nothing rather than everything.
            query = query.filter(__raw__=builtin.match(self.today())) if builtin else query.filter(pk__in=[])
        return query

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        """Flask-Admin's list, with the record id as the last sort key: MongoDB's sort is not stable, so
        pages sorted on a column with repeated values (status, surname) could repeat or skip rows."""
        field = self._model_field(sort_column)
        if field is not None and not privacy_reads.readable(field):
            sort_column = None  # the order of values the user may not read would tell them something
        count, query = super().get_list(page, sort_column, sort_desc, search, filters, execute=False,
                                        page_size=page_size)
        query = self.list_query(query.order_by(*self.sort_keys(sort_column, sort_desc)))
        return count, (self.read_rows(query) if execute else query)

    def list_query(self, query):
        """The list's query before it runs: screens narrow what is loaded (only(), no_dereference())."""
        return query

    def read_rows(self, query) -> list:
        """Run the list's query: rows for display, loaded without the audit's load-time snapshot, then
        `after_list_read` loads what they refer to in one query per kind of reference."""
        with audit.reading_only():
            rows = list(query)
        self.after_list_read(rows)
        # Who did what is kept as an address; the list shows names, looked up in one query.
        staff_columns = [name for name, _ in self._list_columns if getattr(self._model_field(name), "staff_email", False)]
        if staff_columns:
            staff_names([getattr(row, name, None) for row in rows for name in staff_columns])
        return rows

    def after_list_read(self, rows: list) -> None:
        """Screens load the documents their rows refer to here, in one query each (not one per row)."""

    def sort_keys(self, sort_column=None, sort_desc=False) -> list[str]:
        """The list's full sort: the column (or the default order), then the id in the same direction, so
        one index ({column: 1, _id: 1}) serves both directions. A unique column needs no tie-break."""
        if sort_column:
            keys = [f"{'-' if sort_desc else ''}{sort_column}"]
        else:
            keys = [f"{'-' if desc else ''}{column}" for column, desc in self._get_default_order() or ()]
            keys = keys or list(self.model._meta.get("ordering") or ())
        if not keys:
            return ["id"]
        last = keys[-1].lstrip("-")
        field = self.model._fields.get(last)
        if last in ("id", "pk") or (field is not None and field.unique and not field.unique_with):
            return keys
        names = [self.model._fields[key.lstrip("-")].db_field if key.lstrip("-") in self.model._fields
                 else key.lstrip("-") for key in keys]
        if any(spec.get("unique") and [path for path, _ in spec["fields"]] == names
               for spec in self.model._meta.get("index_specs") or ()):
            return keys  # a unique compound index already orders every row
        return [*keys, ("-id" if keys[-1].startswith("-") else "id")]

    def builtin_filter(self):
        """The built-in filter (admin_app/saved_filters.py) the list's `builtin` argument names, if any."""
        return builtin_for(request.args.get("builtin"), self.model._get_collection_name())

    def save_filter_form(self) -> dict | None:
        """What the list's "Save this filter" form needs (admin_app/views/saved_filters.py), or None."""
        if not has_permission("savedfilter.save"):
            return None
        return {"action": url_for("savedfilter.save_view"), "roles": ROLES}

    def get_one(self, id):
        return self._scoped_one(id, self.get_query())

    def _scoped_one(self, id, query):
        try:
            obj = query.filter(pk=id).first()
        except (mongoengine.ValidationError, mongoengine.errors.InvalidQueryError):
            obj = None
        if obj is None:
            # Out of scope and not there look the same: nothing is disclosed, but the attempt is audited.
            note_probe("not_found", self.model._get_collection_name(), id,
                       f"asked for a record that is not there or outside their scope: {request.method} {request.path}")
            abort(404)
        if request.method == "GET" and request.endpoint and request.endpoint.endswith(("details_view", "edit_view")):
            audit.record("view", collection=self.model._get_collection_name(), record_id=obj.pk, summary=audit.label(obj))
        return obj

    def scoped_objects(self, ids):
        """The records among `ids` that the user may act on (never `in_bulk`, which ignores filters)."""
        return self.get_query().filter(pk__in=[self.object_id_converter(pk) for pk in ids])

    @action("delete", lazy_gettext("Delete"), lazy_gettext("Are you sure you want to delete the selected records?"))
    def action_delete(self, ids):
        count = sum(1 for record in self.scoped_objects(ids) if self.delete_model(record))
        flash(ngettext("Record was deleted.", "%(count)s records were deleted.", count, count=count), "success")

    def _create_ajax_loader(self, name, opts):
        field = getattr(self.model, name)
        field = getattr(field, "field", field)
        return ScopedAjaxLoader(name, field.document_type, **opts)

    def enforce_scope(self, model) -> None:
        """A user limited to their own rows cannot create or move a record out of their scope."""
        for key, value in scope_filter(self.model).items():
            if "__" not in key:
                setattr(model, key, current_user._get_current_object())

    # --- rules on save ------------------------------------------------------------------------
    def model_errors(self, model, is_created: bool) -> list[tuple[tuple, str]]:
        """Domain rules for this screen's documents; screens override."""
        return []

    def on_model_change(self, form, model, is_created):
        self.enforce_scope(model)
        clear_blank_choices(model)
        errors = list(self.model_errors(model, is_created))
        try:
            model.validate()
        except mongoengine.ValidationError as exc:
            errors.extend(validation_paths(exc))
        if errors:
            messages = []
            for path, message in errors:
                field = _form_field(form, path)
                label = " ".join(f"item {p + 1}" if isinstance(p, int) else str(p).replace("_", " ") for p in path).capitalize()
                messages.append(f"{label}: {message}" if label else message)
                if field is not None and isinstance(getattr(field, "errors", None), (list, tuple)):
                    # Beside its field, and linked from the error summary.
                    field.errors = list(field.errors or []) + [message]
                else:
                    form.form_errors = [*(getattr(form, "form_errors", None) or []), messages[-1]]
            raise RulesRefused(messages, on_form=True)

    def handle_view_exception(self, exc):
        if isinstance(exc, RulesRefused):
            if not exc.on_form:
                flash("Not saved. Please correct: " + " | ".join(exc.messages), "error")
            return True
        if isinstance(exc, mongoengine.NotUniqueError):
            flash("Not saved: a record with the same unique value already exists.", "error")
            return True
        return super().handle_view_exception(exc)

    @staticmethod
    def today() -> date:
        return london_today()
