"""The admin home page, which needs a sign-in like every other screen."""
from flask import redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_login import current_user


class HomeView(AdminIndexView):
    def is_accessible(self):
        return current_user.is_authenticated

    def _handle_view(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("security.login", next=request.full_path))
        return None

    @expose("/")
    def index(self):
        return self.render("admin/home.html")
