"""The grant screens: bids (list, panel queue, one bid and its workflow) and the pots (overview, chart, total)."""
from __future__ import annotations

import mimetypes
from datetime import date

import gridfs
from bson import ObjectId
from flask import abort, flash, redirect, request, send_file, url_for
from flask_admin import BaseView, expose
from flask_admin.menu import MenuLink
from flask_admin.model.template import EndpointLinkRowAction
from flask_login import current_user
from markupsafe import Markup, escape
from wtforms import fields, validators

from admin_app.metrics.periods import london_today
from admin_app import audit, grants
from admin_app.alerts import note_probe
from admin_app.db import database
from admin_app.models.case_file import Client, GrantBid
from admin_app.models.grants import GrantAttachment, to_pence
from admin_app.models.people import Role, User, staff_name
from admin_app.security import has_permission, register_permission, scope_filter, scope_match, sees_everything
from admin_app.views.base import SecuredModelView
from admin_app.views.dashboards import svg_chart
from admin_app.vocabulary import GRANT_BID_ACTIONS, GRANT_BID_STATUSES, GRANT_RECOMMENDATIONS, label

#: A user with this sees every bid that has gone to the panel, with the client's reference and first name only.
ALL_SUBMITTED_BIDS = "grants.all"
ATTACHMENTS = "grant_attachments"
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
ATTACHMENT_TYPES = {".pdf", ".doc", ".docx", ".odt", ".rtf", ".txt", ".xls", ".xlsx", ".ods", ".png", ".jpg", ".jpeg"}
PAGE = 50

BID_ACTIONS = {
    "list": "see the list of bids",
    "queue": "see the panel queue",
    "details": "open a bid",
    "create": "draft a bid",
    "edit": "change a draft bid",
    "attachment": "download a bid's business plan file",
    **{t.action: t.label.lower() for t in grants.TRANSITIONS.values()},
}
ENDPOINT_ACTIONS = {"index": "list", "queue": "queue", "details": "details", "new": "create", "edit": "edit",
                    "attachment": "attachment"}


class PermissionLink(MenuLink):
    """A menu link shown only to users holding its permission."""

    def __init__(self, name, permission, **kwargs):
        super().__init__(name, **kwargs)
        self.permission = permission

    def is_accessible(self):
        return has_permission(self.permission)


def _worker_choices() -> list[tuple[str, str]]:
    role = Role.objects(name="worker").first()
    users = User.objects(roles=role).only("email", "name") if role else []
    return [(str(u.pk), str(u)) for u in users]


class GrantBidView(BaseView):
    """/admin/grantbid/: bids on case files, and every workflow step as its own POST with its own permission."""

    def __init__(self, name="Grant bids", endpoint="grantbid", **kwargs):
        super().__init__(name=name, endpoint=endpoint, **kwargs)
        for action, text in BID_ACTIONS.items():
            register_permission(f"grantbid.{action}", f"{name}: {text}")

    # --- permissions and scope ----------------------------------------------------------------------
    def is_accessible(self):
        return current_user.is_authenticated and has_permission("grantbid.list")

    def _handle_view(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("security.login", next=request.full_path))
        if name == "act":
            action = kwargs.get("action") if kwargs.get("action") in grants.TRANSITIONS else None
        else:
            action = ENDPOINT_ACTIONS.get(name)
        if action is None or not has_permission(f"grantbid.{action}"):
            audit.record("refused", collection="clients", summary=f"refused {request.method} {request.path}")
            abort(403)
        return None

    @staticmethod
    def _doc_scope() -> dict:
        """The case files whose bids the user may reach (a bid-level check follows)."""
        scope = scope_match(Client)
        if scope and has_permission(ALL_SUBMITTED_BIDS):
            return {"$or": [scope, {"grant_bids": {"$elemMatch": {"status": {"$ne": "draft"}}}}]}
        return scope

    @staticmethod
    def _bid_scope() -> dict:
        scope = scope_match(Client)
        if scope and has_permission(ALL_SUBMITTED_BIDS):
            return {"$or": [scope, {"grant_bids.status": {"$ne": "draft"}}]}
        return scope

    @staticmethod
    def _may_see(ref: grants.BidRef) -> bool:
        if sees_everything() or (ref.worker is not None and str(ref.worker) == str(current_user.pk)):
            return True
        return has_permission(ALL_SUBMITTED_BIDS) and ref.status != "draft"

    def _bid_or_404(self, bid_id) -> grants.BidRef:
        ref = grants.find_bid(database(), bid_id, self._doc_scope())
        if ref is None or not self._may_see(ref):
            # Out of scope and not there look the same, and both are audited.
            note_probe("not_found", "clients", (bid_id or "")[:80], f"grant bid not found: {request.method} {request.path[:200]}")
            abort(404)
        return ref

    # --- lists --------------------------------------------------------------------------------------
    def _list(self, title: str, status_match: dict, oldest_first: bool, statuses: tuple[str, ...] | None):
        page = int(request.args["page"]) if request.args.get("page", "").isdigit() else 0
        bid_match = [m for m in (status_match, self._bid_scope()) if m]
        rows = list(grants.list_bids(database(), self._doc_scope(), {"$and": bid_match} if bid_match else {},
                                     oldest_first=oldest_first, skip=page * PAGE, limit=PAGE + 1,
                                     status_match=status_match))
        return self.render("admin/grants/bid_list.html", title=title, rows=rows[:PAGE], page=page,
                           more=len(rows) > PAGE, statuses=statuses, status=request.args.get("status", ""),
                           money=grants.money, label=label, GRANT_BID_STATUSES=GRANT_BID_STATUSES)

    @expose("/")
    def index(self):
        status = request.args.get("status", "")
        match = {"grant_bids.status": status} if status in dict(GRANT_BID_STATUSES) else {}
        return self._list("Grant bids", match, False, tuple(s for s, _ in GRANT_BID_STATUSES))

    @expose("/queue/")
    def queue(self):
        return self._list("Panel queue: bids awaiting the panel",
                          {"grant_bids.status": {"$in": list(grants.AWAITING_PANEL)}}, True, None)

    # --- one bid ------------------------------------------------------------------------------------
    @expose("/details/")
    def details(self):
        ref = self._bid_or_404(request.args.get("bid"))
        bid = GrantBid._from_son(ref.bid)
        offered = [a for a in grants.possible_actions(ref.status, ref.pence("paid_pence"), ref.recommended)
                   if has_permission(f"grantbid.{a}")]
        audit.record("view", collection="clients", record_id=ref.client_id, summary=f"{ref.reference}: grant bid {ref.bid_id}")
        return self.render("admin/grants/bid_details.html", ref=ref, bid=bid, offered=offered,
                           transitions=grants.TRANSITIONS, money=grants.money, label=label, today=london_today(),
                           GRANT_BID_STATUSES=GRANT_BID_STATUSES, GRANT_BID_ACTIONS=GRANT_BID_ACTIONS,
                           GRANT_RECOMMENDATIONS=GRANT_RECOMMENDATIONS,
                           can_edit=ref.status == "draft" and has_permission("grantbid.edit"),
                           can_download=has_permission("grantbid.attachment"),
                           can_open_case_file=has_permission("client.casefile") and (
                               sees_everything() or str(ref.worker) == str(current_user.pk)))

    @expose("/act/<action>/", methods=("POST",))
    def act(self, action):
        ref = self._bid_or_404(request.form.get("bid"))
        form, today, by = request.form, london_today(), current_user.email
        db = database()
        try:
            if action == "recommend":
                grants.recommend(db, ref, by=by, on=today, recommendation=form.get("recommendation", ""),
                                 amount_pence=grants.parse_money(form.get("amount")), note=form.get("reason", ""))
            elif action == "approve":
                grants.approve(db, ref, by=by, on=today, amount_pence=grants.parse_money(form.get("amount")),
                               conditions=form.get("reason", ""))
            elif action == "pay":
                grants.pay(db, ref, by=by, on=today, amount_pence=grants.parse_money(form.get("amount")),
                           paid_on=_date(form.get("paid_on")), reference=form.get("payment_reference", ""),
                           note=form.get("reason", ""))
            else:
                grants.OPERATIONS[action](db, ref, by=by, on=today, reason=form.get("reason", ""))
        except grants.GrantRefused as refused:
            flash(f"Not done: {refused}", "error")
        else:
            flash(f"Done: {grants.TRANSITIONS[action].label.lower()}.", "success")
        return redirect(url_for(".details", bid=ref.bid_id))

    # --- drafting -----------------------------------------------------------------------------------
    @expose("/new/", methods=("GET", "POST"))
    def new(self):
        client = Client.objects(pk=_object_id(request.values.get("client")), **scope_filter(Client)).first()
        if client is None:
            note_probe("not_found", "clients", (request.values.get("client") or "")[:80],
                       f"not found: {request.method} {request.path[:200]}")
            abort(404)
        if request.method == "POST":
            bid_id = self._save_draft(lambda values: grants.create_draft(
                database(), client.pk, by=current_user.email, on=london_today(), match=scope_match(Client), **values))
            if bid_id:
                flash("Draft bid saved. Submit it to the panel when it is ready.", "success")
                return redirect(url_for(".details", bid=bid_id))
        chosen = request.form.get("supporting_worker") or (str(client.worker.pk) if client.worker else "")
        return self.render("admin/grants/bid_form.html", title=f"New grant bid for {client.reference}",
                           values=request.form, chosen=chosen, workers=_worker_choices(), bid=None,
                           back=url_for("casefile.page", id=client.pk))

    @expose("/edit/", methods=("GET", "POST"))
    def edit(self):
        ref = self._bid_or_404(request.values.get("bid"))
        if ref.status != "draft":
            flash("Only a draft can be changed; this bid has gone to the panel.", "error")
            return redirect(url_for(".details", bid=ref.bid_id))
        if request.method == "POST":
            def save(values):
                grants.edit_draft(database(), ref, by=current_user.email, on=london_today(), **values)
                old = (ref.bid.get("attachment") or {}).get("file_id")
                if values["attachment"] is not None and old:
                    _files().delete(ObjectId(old))
                return ref.bid_id

            if self._save_draft(save):
                flash("Draft bid saved.", "success")
                return redirect(url_for(".details", bid=ref.bid_id))
            values_shown = request.form
        else:
            values_shown = {"amount_asked": grants.money(ref.bid.get("amount_asked_pence")).lstrip("£")
                            if ref.bid.get("amount_asked_pence") else "",
                            "purpose": ref.bid.get("purpose") or "", "plan_summary": ref.bid.get("plan_summary") or ""}
        chosen = request.form.get("supporting_worker") or str(ref.bid.get("supporting_worker") or "")
        return self.render("admin/grants/bid_form.html", title=f"Change draft bid for {ref.reference}",
                           values=values_shown, chosen=chosen, workers=_worker_choices(), bid=ref,
                           back=url_for(".details", bid=ref.bid_id))

    def _save_draft(self, save) -> str | None:
        """Save the form's draft with `save(values)` (returns the bid number); when refused, say why and keep no file."""
        values: dict = {}
        try:
            values = self._draft_values()
            return save(values)
        except grants.GrantRefused as refused:
            if values.get("attachment") is not None:
                _files().delete(ObjectId(values["attachment"].file_id))
            flash(f"Not saved: {refused}", "error")
            return None

    def _draft_values(self) -> dict:
        worker_id = request.form.get("supporting_worker") or ""
        worker = User.objects(pk=worker_id).first() if ObjectId.is_valid(worker_id) else None
        if worker_id and worker is None:
            raise grants.GrantRefused("Choose the supporting worker from the list.")
        values = {"amount_asked_pence": grants.parse_money(request.form.get("amount_asked")),
                  "purpose": request.form.get("purpose", ""), "plan_summary": request.form.get("plan_summary", ""),
                  "supporting_worker": worker}
        # Checked before the file is stored, so a refused draft leaves no file behind.
        grants.refuse_if(grants.draft_field_errors(values["amount_asked_pence"], values["purpose"]))
        return {**values, "attachment": _store_upload(request.files.get("plan_file"))}

    @expose("/attachment/")
    def attachment(self):
        ref = self._bid_or_404(request.args.get("bid"))
        stored = ref.bid.get("attachment") or {}
        if not stored.get("file_id"):
            abort(404)
        try:
            data = _files().get(ObjectId(stored["file_id"]))
        except gridfs.NoFile:
            abort(404)
        audit.record("view", collection="clients", record_id=ref.client_id,
                     summary=f"{ref.reference}: grant bid {ref.bid_id} business plan file downloaded")
        return send_file(data, mimetype=stored.get("content_type") or "application/octet-stream",
                         as_attachment=True, download_name=stored.get("filename") or "business-plan")


def _files() -> gridfs.GridFS:
    return gridfs.GridFS(database(), collection=ATTACHMENTS)


def _object_id(value):
    return ObjectId(value) if ObjectId.is_valid(value or "") else None


def _date(text: str | None) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise grants.GrantRefused(f"“{text}” is not a date; enter it as YYYY-MM-DD.") from None


def _store_upload(upload) -> GrantAttachment | None:
    """Keep an uploaded business plan in GridFS; None when no file was chosen."""
    if upload is None or not upload.filename:
        return None
    filename = upload.filename.replace("\\", "/").rsplit("/", 1)[-1][:200]
    extension = ("." + filename.rsplit(".", 1)[-1].lower()) if "." in filename else ""
    if extension not in ATTACHMENT_TYPES:
        raise grants.GrantRefused(f"A business plan file must be one of: {', '.join(sorted(ATTACHMENT_TYPES))}.")
    data = upload.read(MAX_ATTACHMENT_BYTES + 1)
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise grants.GrantRefused("The business plan file is larger than 10 MB.")
    if not data:
        raise grants.GrantRefused("The business plan file is empty.")
    content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    file_id = _files().put(data, filename=filename, content_type=content_type)
    return GrantAttachment(file_id=str(file_id), filename=filename, content_type=content_type, size=len(data),
                           uploaded_by=current_user.email)


# --- the pots ----------------------------------------------------------------------------------------

def pot_chart(pots) -> Markup | None:
    """One bar per pot, its total split into paid, committed but not yet paid, and remaining."""
    pots = [p for p in pots if p.total_pence]
    if not pots:
        return None
    label_w, bar_w, row_h, top = 110, 420, 34, 26
    width = label_w + bar_w + 20
    parts = (("paid", "#2c7be5", "Paid"), ("unpaid", "#f6a609", "Committed, not yet paid"), ("remaining", "#28a745", "Remaining"))
    body = []
    for i, (_, colour, text) in enumerate(parts):
        body.append(f'<rect x="{label_w + i * 150}" y="4" width="12" height="10" fill="{colour}"/>'
                    f'<text x="{label_w + i * 150 + 16}" y="13" font-size="11">{text}</text>')
    widest = max(p.total_pence for p in pots)
    for row, pot in enumerate(pots):
        y = top + row * row_h
        amounts = {"paid": pot.paid_pence, "unpaid": pot.committed_pence - pot.paid_pence, "remaining": pot.remaining_pence}
        body.append(f'<text x="{label_w - 6}" y="{y + 18}" font-size="12" text-anchor="end">{escape(pot.name)}</text>')
        x = float(label_w)
        for key, colour, text in parts:
            w = bar_w * amounts[key] / widest
            body.append(f'<rect x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="{row_h - 10}" fill="{colour}" '
                        f'data-part="{key}" data-pence="{amounts[key]}"><title>{escape(pot.name)}: {text.lower()} '
                        f'{grants.money(amounts[key])}</title></rect>')
            x += w
    facts = [f"{pot.name}: paid {grants.money(pot.paid_pence)}, committed but not yet paid "
             f"{grants.money(pot.committed_pence - pot.paid_pence)}, remaining {grants.money(pot.remaining_pence)}"
             for pot in pots]
    return svg_chart(width, top + row_h * len(pots) + 6, "Grant pots: paid, committed and remaining", body, facts)


def _pounds_column(view, context, model, name):
    return grants.money(getattr(model, f"{name}_pence"))


def _history_column(view, context, model, name):
    return Markup("<br>".join(
        f"{escape(h.on.strftime('%d/%m/%Y'))}: {escape(grants.money(h.total_pence))} by {escape(staff_name(h.by))}"
        + (f" ({escape(h.reason)})" if h.reason else "") for h in model.total_history))


class GrantPotView(SecuredModelView):
    """The pot per funding period: committed vs paid vs remaining. The total changes only through "Set total"."""

    screen_actions = ("list", "details", "create", "set_total")
    extra_endpoints = {"total_view": "set_total"}
    column_list = ("name", "period_start", "period_end", "total", "committed", "paid", "remaining")
    column_details_list = column_list + ("total_history", "created_by")
    column_labels = {"total": "Total", "committed": "Committed", "paid": "Paid", "remaining": "Remaining",
                     "total_history": "Changes of total"}
    column_formatters = {name: _pounds_column for name in ("total", "committed", "paid", "remaining")}
    column_formatters_detail = {**column_formatters, "total_history": _history_column}
    column_sortable_list = ("name", "period_start")
    form_columns = ("name", "period_start", "period_end", "opening_total")
    form_extra_fields = {"opening_total": fields.DecimalField("Total (£)", places=2, validators=[validators.InputRequired()],
                                                      description="The pot for this funding period, in pounds")}
    list_template = "admin/grants/pot_list.html"
    export_types: list[str] = []

    def on_model_change(self, form, model, is_created):
        if is_created:
            grants.open_pot(model, to_pence(form.opening_total.data), by=current_user.email, on=self.today())
        super().on_model_change(form, model, is_created)

    def model_errors(self, model, is_created):
        if not is_created:
            return []
        return [(("opening_total",), message) for message in grants.pot_errors(database(), model, model.total_pence)]

    def pot_chart(self, pots):
        return pot_chart(pots)

    def get_list_row_actions(self):
        actions = super().get_list_row_actions()
        if self.allows("set_total"):
            actions.append(EndpointLinkRowAction("fa fa-pound-sign", ".total_view", title="Set the total"))
        return actions

    @expose("/total/", methods=("GET", "POST"))
    def total_view(self):
        pot = self.get_one(request.values.get("id"))
        if request.method == "POST":
            try:
                grants.set_pot_total(database(), pot.pk, grants.parse_money(request.form.get("total")),
                                     by=current_user.email, on=self.today(), reason=request.form.get("reason", ""))
            except grants.GrantRefused as refused:
                flash(f"Not changed: {refused}", "error")
            else:
                flash(f"The total of the {pot.name} pot is now {grants.money(grants.parse_money(request.form.get('total')))}.",
                      "success")
                return redirect(url_for(".index_view"))
        return self.render("admin/grants/pot_total.html", pot=pot, money=grants.money)
