"""The admin home page, which needs a sign-in like every other screen: the user's notices and due items."""
from flask import flash, redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_login import current_user
from mongoengine import Q

from admin_app.metrics.periods import london_today
from admin_app.models.case_file import Client
from admin_app.models.exports import ExportRun, Notice
from admin_app.saved_filters import due_builtins
from admin_app.security import sees_everything
from admin_app.views.saved_filters import builtin_rows


def notices_for(user) -> list[Notice]:
    """Notices to any of the user's roles that they have not dismissed, newest first."""
    return list(Notice.objects(_addressed_to(user), dismissed_by__ne=user.email).order_by("-created_at").limit(20))


def _addressed_to(user):
    """Notices to one of the user's roles, for everyone holding it or for this user alone."""
    roles = [role.name for role in user.roles]
    return Q(role__in=roles) & (Q(user=None) | Q(user=user.pk))


def risk_alerts_for(user) -> list:
    """Open risk alerts on the user's caseload (every one for managers), for those who may see them."""
    from admin_app.security import has_permission
    from admin_app.views.risk import open_alerts

    return list(open_alerts(user)) if has_permission("riskalert.list", user) else []


def panel_waiting() -> int | None:
    """How many grant bids wait for the panel, for those who work the panel queue (None for others)."""
    from admin_app import grants
    from admin_app.db import database
    from admin_app.security import has_permission
    from admin_app.views.grants import GrantBidView

    if not has_permission("grantbid.queue"):
        return None
    awaiting = {"grant_bids.status": {"$in": list(grants.AWAITING_PANEL)}}
    scope = GrantBidView._doc_scope()
    found = list(database()[Client._get_collection_name()].aggregate([
        {"$match": {"$and": [awaiting, scope]} if scope else awaiting}, {"$unwind": "$grant_bids"},
        {"$match": awaiting}, {"$count": "bids"}]))
    return found[0]["bids"] if found else 0


def reports_sent_to(user, limit: int = 5) -> list[ExportRun]:
    """The latest reports emailed to the user (their returns and extracts), for those who may open them."""
    from admin_app.security import has_permission

    if not has_permission("exportrun.details", user):
        return []
    return list(ExportRun.objects(recipients=user.email, status="sent").order_by("-period_end", "-queued_at").limit(limit)
                .only("report", "schedule_name", "period_start", "period_end", "finished_at"))


class HomeView(AdminIndexView):
    def is_accessible(self):
        return current_user.is_authenticated

    def _handle_view(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("security.login", next=request.full_path))
        return None

    @expose("/")
    def index(self):
        due = builtin_rows(due_builtins(current_user.role_names), london_today())
        return self.render("admin/home.html", notices=notices_for(current_user), due=due,
                           everything=sees_everything(current_user), risk_alerts=risk_alerts_for(current_user),
                           panel_waiting=panel_waiting(), reports=reports_sent_to(current_user))

    @expose("/notices/dismiss/", methods=("POST",))
    def dismiss_notice(self):
        # Only a notice addressed to the user (by role, or to them alone) can be dismissed, and only for them.
        done = Notice.objects(_addressed_to(current_user), pk=request.form.get("id")).update_one(add_to_set__dismissed_by=current_user.email) \
            if _object_id(request.form.get("id")) else 0
        if not done:
            flash("That notice is not yours to dismiss.", "error")
        return redirect(url_for(".index"))


def _object_id(value) -> bool:
    from bson import ObjectId

    return ObjectId.is_valid(value or "")
