"""The admin home page, which needs a sign-in like every other screen: the user's notices and due items."""
from flask import flash, redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_login import current_user
from mongoengine import Q

from admin_app.metrics.periods import london_today
from admin_app.models.exports import Notice
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
                           everything=sees_everything(current_user), risk_alerts=risk_alerts_for(current_user))

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
