"""Fidelity reviews (the manager scores the organisational items, the data scores the rest) and the anchors screen."""
from __future__ import annotations

from datetime import datetime

from flask_admin import expose
from flask_admin.helpers import get_form_data
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from pymongo.errors import DuplicateKeyError
from wtforms import DateField, SelectField, TextAreaField, ValidationError
from wtforms.fields import SelectMultipleField
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from admin_app import audit, snapshots
from admin_app.metrics import fidelity
from admin_app.metrics.periods import london_today, previous_financial_year
from admin_app.metrics.records import ANCHOR_LIMITS
from admin_app.metrics.scoring import AnchorsCannotScore, score_review
from admin_app.models.fidelity import ANCHOR_DIRECTIONS, FidelityAnchor, FidelityReview, ItemScore
from admin_app.views.base import RulesRefused, SecuredModelView
from admin_app.vocabulary import CONTACT_MODES

SCORES = ("1", "2", "3", "4", "5")
FOLLOW_ALONG = "time_unlimited_follow_along"


def score_field(item: str) -> str:
    return f"score__{item}"


def note_field(item: str) -> str:
    return f"note__{item}"


def item_label(item: str) -> str:
    return fidelity.ITEM_LABELS.get(item, item.replace("_", " ").capitalize())


def band_label(band: str | None) -> str:
    return fidelity.BAND_LABELS.get(band, "–") if band else "–"


# --- the review form ------------------------------------------------------------------------------

class ScoreField(SelectField):
    """A 1-5 score from a list; anything else sent gets a message a manager can act on."""

    def __init__(self, label: str, required: bool, **kwargs):
        blank = "– choose 1 to 5 –" if required else "– keep the score from the data –"
        checks = [InputRequired(message="Score this item: a whole number from 1 to 5.")] if required else [Optional()]
        super().__init__(label, choices=[("", blank)] + [(n, n) for n in SCORES], validators=checks, **kwargs)

    def pre_validate(self, form):
        if self.data not in (None, "") and self.data not in SCORES:
            raise ValidationError("A score is a whole number from 1 to 5.")


class FidelityReviewForm(FlaskForm):
    review_date = DateField("Review date", default=london_today,
                            validators=[InputRequired(message="Enter the date of the review.")])
    period_start = DateField("Period from", default=lambda: previous_financial_year(london_today()).start,
                             validators=[InputRequired(message="Enter the first day of the period reviewed.")])
    period_end = DateField("Period to", default=lambda: previous_financial_year(london_today()).end,
                           validators=[InputRequired(message="Enter the last day of the period reviewed.")])

    def validate_period_end(self, field):
        if self.period_start.data and field.data and field.data < self.period_start.data:
            raise ValidationError("The period cannot end before it starts.")

    def populate_obj(self, review: FidelityReview) -> None:
        review.review_date = self.review_date.data
        review.period_start = self.period_start.data
        review.period_end = self.period_end.data
        scores = []
        for item in fidelity.ALL_ITEMS:
            points = getattr(self, score_field(item)).data
            note = (getattr(self, note_field(item)).data or "").strip()
            if points or note:
                scores.append(ItemScore(item=item, score=int(points) if points in SCORES else None, note=note or None))
        review.manager_scores = scores

    @staticmethod
    def values_of(review: FidelityReview | None) -> dict[str, str]:
        """The stored scores and notes as form values, for editing."""
        values = {}
        for scored in review.manager_scores if review else ():
            values[score_field(scored.item)] = str(scored.score) if scored.score else ""
            values[note_field(scored.item)] = scored.note or ""
        return values


for _item in fidelity.ALL_ITEMS:
    _by_manager = _item in fidelity.MANAGER_ITEMS
    setattr(FidelityReviewForm, score_field(_item), ScoreField(item_label(_item), required=_by_manager))
    setattr(FidelityReviewForm, note_field(_item), TextAreaField(
        "Note", validators=[Optional(), Length(max=2000, message="Keep the note under 2,000 characters.")]))


# --- reviews ----------------------------------------------------------------------------------------

def _period_column(view, context, model, name):
    return f"{model.period_start:%d/%m/%Y} to {model.period_end:%d/%m/%Y}"


def _total_column(view, context, model, name):
    return f"{model.total} / {model.maximum}" if model.maximum else "–"


def _band_column(view, context, model, name):
    if not model.complete:
        return Markup('<span class="text-muted">incomplete</span>')
    return Markup(f'<span data-band="{escape(model.band)}">{escape(band_label(model.band))}</span>')


def review_sections(review: FidelityReview | None) -> list[dict]:
    """Each section's items with the manager's score and note and the data's snapshot, for the form and details."""
    sections = []
    for section, items in fidelity.REVIEW_ITEMS.items():
        rows = []
        for item in items:
            manager = review.manager_score(item) if review else None
            data = review.data_score(item) if review else None
            rows.append({"item": item, "label": item_label(item), "by_data": item in fidelity.DATA_ITEMS,
                         "manager": manager, "data": data,
                         "score": manager.score if manager and manager.score else (data.score if data else None)})
        sections.append({"key": section, "label": fidelity.SECTION_LABELS[section], "rows": rows})
    return sections


class FidelityReviewView(SecuredModelView):
    """A manager scores the organisational items; the data-scored items are taken from the figures when saved."""

    screen_actions = ("list", "details", "create", "edit")
    form = FidelityReviewForm
    column_list = ("review_date", "period", "total", "band", "updated_by", "updated_at")
    column_labels = {"review_date": "Review date", "period": "Period covered", "total": "Total", "band": "Band",
                     "updated_by": "Last changed by", "updated_at": "Last changed"}
    column_formatters = {"period": _period_column, "total": _total_column, "band": _band_column}
    column_sortable_list = ("review_date", "total", "updated_at")
    column_default_sort = ("review_date", True)
    create_template = "admin/fidelity/review_form.html"
    edit_template = "admin/fidelity/review_form.html"
    details_template = "admin/fidelity/review_details.html"
    export_types: list[str] = []

    def edit_form(self, obj=None):
        return self._edit_form_class(get_form_data(), obj=obj, **FidelityReviewForm.values_of(obj))

    def review_sections(self, review=None):
        return review_sections(review)

    def band_label(self, band):
        return band_label(band)

    def on_model_change(self, form, model, is_created):
        now, by = datetime.utcnow(), current_user.email
        if is_created:
            model.created_by, model.created_at = by, now
        model.updated_by, model.updated_at = by, now
        if not self.model_errors(model, is_created):
            try:
                score_review(model, self.today())
            except AnchorsCannotScore as exc:
                raise RulesRefused([str(exc)]) from exc
        super().on_model_change(form, model, is_created)

    def model_errors(self, model, is_created):
        errors = []
        if model.period_start and model.period_end and model.period_end < model.period_start:
            errors.append((("period_end",), "The period cannot end before it starts."))
        scores = {s.item: s.score for s in model.manager_scores if s.score is not None}
        for item, problem in fidelity.review_problems(scores).items():
            errors.append(((score_field(item),), f"{item_label(item)}: {problem}"))
        return errors

    def get_save_return_url(self, model, is_created=False):
        return self.get_url(".details_view", id=model.pk)


# --- anchors ----------------------------------------------------------------------------------------

class ModeChoices(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def seed_anchors() -> int:
    """Store the default anchor of each data-scored item that has none stored; a manager's corrections stay."""
    collection = FidelityAnchor._get_collection()
    added = 0
    for item, anchor in fidelity.DEFAULT_ANCHORS.items():
        values = {"better": anchor["better"], "unit": anchor.get("unit"),
                  **{name: float(limit) for name, limit in zip(ANCHOR_LIMITS, anchor["thresholds"])}}
        if "contact_modes" in anchor:
            values.update(contact_modes=list(anchor["contact_modes"]), months=anchor["months"])
        try:
            result = collection.update_one({"item": item}, {"$setOnInsert": values}, upsert=True)
        except DuplicateKeyError:  # stored at the same moment by another request
            continue
        added += result.upserted_id is not None
    if added:
        audit.record("create", collection=collection.name,
                     summary=f"stored the default anchors of {added} fidelity items")
    return added


def _item_column(view, context, model, name):
    return item_label(model.item)


def _direction_column(view, context, model, name):
    return dict(ANCHOR_DIRECTIONS).get(model.better, model.better)


def _limit_column(view, context, model, name):
    value = getattr(model, name)
    sign = "≤" if model.better == "lower" else "≥"
    return "–" if value is None else f"{sign} {value:g}"


class FidelityAnchorView(SecuredModelView):
    """The anchors of the data-scored items: one row per item, seeded from the defaults, corrected here."""

    screen_actions = ("list", "details", "edit")
    column_list = ("item", "better", *ANCHOR_LIMITS, "unit", "updated_by", "updated_at")
    column_details_list = column_list + ("contact_modes", "months")
    column_labels = {"item": "Item", "better": "Direction", "unit": "Measure", "contact_modes": "Contacts that count",
                     "months": "Months of follow-along checked", "updated_by": "Last changed by",
                     "updated_at": "Last changed",
                     **{name: f"Score {points}" for points, name in zip((5, 4, 3, 2), ANCHOR_LIMITS)}}
    column_formatters = {"item": _item_column, "better": _direction_column,
                         **dict.fromkeys(ANCHOR_LIMITS, _limit_column)}
    column_formatters_detail = column_formatters
    column_sortable_list = ("item",)
    form_columns = (*ANCHOR_LIMITS, "unit", "contact_modes", "months")
    form_overrides = {"contact_modes": ModeChoices}
    form_args = {"contact_modes": {"choices": list(CONTACT_MODES)}}
    export_types: list[str] = []

    @expose("/")
    def index_view(self):
        if FidelityAnchor.objects.count() < len(fidelity.DATA_ITEMS):
            seed_anchors()
        return super().index_view()

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        if obj is not None:
            words = "at or below" if obj.better == "lower" else "at or above"
            for points, name in zip((5, 4, 3, 2), ANCHOR_LIMITS):
                getattr(form, name).label.text = f"Score {points} {words}"
            if obj.item != FOLLOW_ALONG:
                del form.contact_modes
                del form.months
        return form

    def on_model_change(self, form, model, is_created):
        model.updated_by, model.updated_at = current_user.email, datetime.utcnow()
        super().on_model_change(form, model, is_created)

    def after_model_change(self, form, model, is_created):
        snapshots.expire_all()  # the figures kept ready were scored with the old limits

    def model_errors(self, model, is_created):
        if model.item not in fidelity.DATA_ITEMS:
            return [((), f"{model.item!r} is not a data-scored fidelity item.")]
        if any(limit is None for limit in model.thresholds):
            return []  # the form reports the missing limit itself
        try:
            fidelity.check_anchor(item_label(model.item), {"better": model.better, "thresholds": model.thresholds})
        except ValueError as exc:
            return [(("limit_5",), str(exc).replace("thresholds", "the limits"))]
        if model.item == FOLLOW_ALONG and not model.contact_modes:
            return [(("contact_modes",), "Tick at least one kind of contact that counts as follow-along.")]
        return []
