"""The Flask application: create_app() is the composition root."""
from __future__ import annotations

import logging
import sys

from flask import Flask, redirect, url_for
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from werkzeug.middleware.proxy_fix import ProxyFix

from config import ConfigError, Settings, load_settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, **overrides) -> Flask:
    """Build the app for the given settings (from the environment by default)."""
    if settings is None:
        try:
            settings = load_settings()
        except ConfigError as exc:
            # One clear line, no traceback: the operator knows what to set.
            sys.stderr.write(f"Refusing to start: {exc}\n")
            raise SystemExit(2) from None
    app = Flask(__name__)
    app.config.update(settings.flask_config())
    app.config.update(overrides)

    from admin_app import audit, db
    from admin_app.extensions import csrf
    from admin_app.models import Client, Employer, Organisation, Role, StaffProfile, User
    from admin_app.security import init_security

    db.connect(settings)
    audit.watch(Client, Organisation, Employer, StaffProfile, User, Role)
    from admin_app.models.exports import ExportSchedule

    audit.watch(ExportSchedule)
    from admin_app.models.saved_filters import SavedFilter

    audit.watch(SavedFilter)
    from admin_app.models.grants import GrantPot

    audit.watch(GrantPot)
    from admin_app.models.fidelity import FidelityAnchor, FidelityReview

    audit.watch(FidelityReview, FidelityAnchor)
    from admin_app.models.risk import Affiliation, Group, Venue, Visit

    audit.watch(Venue, Group, Affiliation, Visit)
    from admin_app.models.sharing import AllowedRecipient

    audit.watch(AllowedRecipient)
    from admin_app.models.staff_time import StaffTime

    audit.watch(StaffTime)
    from admin_app.models.client_space import ClientAccount

    audit.watch(ClientAccount)
    csrf.init_app(app)
    from admin_app import client_space

    client_space.init_app(app)
    init_security(app)
    _register_admin(app)
    _register_routes(app)
    _register_errors(app)
    from admin_app.evaluator.api import register as register_evaluator_api

    register_evaluator_api(app)
    _register_formats(app)

    from admin_app.cli import register_cli

    register_cli(app)
    if settings.broker_url is None and app.config.get("IN_PROCESS_BEAT", not app.config.get("TESTING")):
        # No broker, so no beat or worker: this process runs the schedule itself (jobs/inprocess.py).
        from jobs.inprocess import start_for

        app.before_request(lambda: start_for(app) and None)
    if not settings.embedded:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    if settings.seed_demo and not app.config.get("TESTING"):
        from admin_app.cli import seed_demo_data

        with app.app_context():
            seed_demo_data()
        log.warning("DEMO MODE: in-memory data, seeded with demo users; nothing survives a restart.")
        print(" * DEMO MODE: data is in memory and will not survive a restart. "
              f"Sign in at /login as admin@demo.e4e (or manager@, worker1@ …) with password {app.config['DEMO_PASSWORD']}.")
    return app


def _register_admin(app: Flask) -> None:
    from admin_app.models import AuditEvent, Client, Employer, Organisation, Role, StaffProfile, User
    from admin_app.security import sync_roles
    from admin_app.views.clients import ClientView
    from admin_app.views.home import HomeView
    from admin_app.views.partners import EmployerView, OrganisationView
    from admin_app.views.people import AuditEventView, RoleView, StaffProfileView, UserView
    from admin_app.views.base import form_problems

    # The GOV.UK error summary (admin/_errors.html) on every form, the security pages' included.
    app.jinja_env.globals["form_problems"] = form_problems

    admin = Admin(app, name="Enterprise for Employment", index_view=HomeView(name="Home", url="/admin"),
                  theme=Bootstrap4Theme(base_template="admin/e4e_master.html", swatch="cerulean"))
    admin.add_view(ClientView(Client, name="Clients", category="Case files"))
    from admin_app.views.casefile import CaseFileView

    admin.add_view(CaseFileView())
    admin.add_view(OrganisationView(Organisation, name="Organisations", category="Partners"))
    admin.add_view(EmployerView(Employer, name="Employers", category="Partners"))
    admin.add_view(StaffProfileView(StaffProfile, name="Staff profiles", category="Staff"))
    admin.add_view(UserView(User, name="Users", category="Staff"))
    admin.add_view(RoleView(Role, name="Roles", category="Staff"))
    admin.add_view(AuditEventView(AuditEvent, name="Audit log", category="Staff"))
    from admin_app.models.staff_time import StaffTime
    from admin_app.views.staff_time import StaffTimeView

    admin.add_view(StaffTimeView(StaffTime, name="Staff time", endpoint="stafftime", category="Staff"))
    from admin_app.views.dashboards import DashboardView

    admin.add_view(DashboardView(name="Dashboard", endpoint="dashboard"))
    from admin_app.views.evaluator import EvaluatorView

    admin.add_view(EvaluatorView())
    from admin_app.models.api_tokens import ApiToken
    from admin_app.views.evaluator import ApiTokenView

    admin.add_view(ApiTokenView(ApiToken, name="Evaluator API tokens", endpoint="apitoken", category="Staff"))
    from admin_app.models.exports import ExportRun, ExportSchedule
    from admin_app.views.exports import ExportRunView, ExportScheduleView

    admin.add_view(ExportScheduleView(ExportSchedule, name="Export schedules", category="Reports"))
    admin.add_view(ExportRunView(ExportRun, name="Export runs", category="Reports"))
    from admin_app.models.sharing import AllowedRecipient
    from admin_app.views.exports import AllowedRecipientView

    admin.add_view(AllowedRecipientView(AllowedRecipient, name="Allowed recipients", category="Reports"))
    from admin_app.views.privacy import RetentionView

    admin.add_view(RetentionView(category="Reports"))
    from admin_app.models.saved_filters import SavedFilter
    from admin_app.views.saved_filters import SavedFilterView

    admin.add_view(SavedFilterView(SavedFilter, name="Saved filters", endpoint="savedfilter"))
    from admin_app.models.grants import GrantPot
    from admin_app.views.grants import GrantBidView, GrantPotView, PermissionLink

    admin.add_view(GrantBidView(name="Grant bids", endpoint="grantbid", category="Grants"))
    admin.add_link(PermissionLink("Panel queue", "grantbid.queue", endpoint="grantbid.queue", category="Grants"))
    admin.add_view(GrantPotView(GrantPot, name="Grant pots", category="Grants"))
    from admin_app.models.fidelity import FidelityAnchor, FidelityReview
    from admin_app.views.fidelity import FidelityAnchorView, FidelityReviewView

    admin.add_view(FidelityReviewView(FidelityReview, name="Fidelity reviews", category="Reports"))
    admin.add_view(FidelityAnchorView(FidelityAnchor, name="Fidelity anchors", category="Reports"))
    from admin_app.models.risk import Affiliation, Group, RiskAlert, Venue, Visit
    from admin_app.views.risk import AffiliationView, GroupView, RiskAlertView, RiskView, VenueView, VisitView

    admin.add_view(RiskView(category="Risk and safety"))
    admin.add_view(RiskAlertView(RiskAlert, name="Risk alerts", endpoint="riskalert", category="Risk and safety"))
    admin.add_view(VisitView(Visit, name="Visits", endpoint="visit", category="Risk and safety"))
    admin.add_link(PermissionLink("Check in and out", "visit.checkin", endpoint="visit.checkin_view",
                                  category="Risk and safety"))
    admin.add_view(VenueView(Venue, name="Venues", endpoint="venue", category="Risk and safety"))
    admin.add_view(GroupView(Group, name="Groups", endpoint="group", category="Risk and safety"))
    admin.add_view(AffiliationView(Affiliation, name="Affiliations", endpoint="affiliation", category="Risk and safety"))
    from admin_app.views.client_space import ClientSpaceView

    admin.add_view(ClientSpaceView())
    app.extensions["e4e_admin"] = admin
    with app.app_context():
        sync_roles()


def _register_formats(app: Flask) -> None:
    """Templates show values as screens do (admin_app/formats.py): `{{ when|uk_datetime }}`, `{{ user|person }}`."""
    from admin_app import formats
    from admin_app.models.people import staff_name

    app.jinja_env.filters.update(uk_date=formats.uk_date, uk_datetime=formats.uk_datetime, person=formats.person,
                                 staff=staff_name, account_words=formats.account_words,
                                 choice=lambda value, choices: formats.choice(choices, value))


def _register_routes(app: Flask) -> None:
    @app.get("/")
    def root():
        return redirect(url_for("admin.index"))

    @app.get("/favicon.ico")
    def favicon():
        # Browsers ask for /favicon.ico on every page, signed in or not; answer rather than log a 404.
        return app.send_static_file("favicon.svg")

    @app.get("/healthz")
    def healthz():
        from mongoengine import get_db

        get_db().command("ping")
        return "ok", 200, {"Content-Type": "text/plain"}


def _register_errors(app: Flask) -> None:
    from flask import jsonify, render_template_string, request
    from flask_wtf.csrf import CSRFError

    page = ("{% extends 'security/base.html' %}{% block content %}<h3>{{ title }}</h3><p>{{ message }}</p>"
            "<p><a href='/admin/'>Back to the start</a></p>{% endblock %}")

    def render(code, title, message):
        return render_template_string(page, title=title, message=message), code

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return render(400, "The form expired", "The form was missing its security token or it had expired. "
                                               "Go back, reload the page and try again; nothing was saved.")

    @app.errorhandler(403)
    def forbidden(exc):
        return render(403, "Not allowed", "Your role does not allow this. Ask a manager or an administrator if you need it.")

    def for_a_program() -> bool:
        # The API answers in JSON even where no route matched, so its own error handlers were never reached.
        return request.path.startswith("/api/")

    @app.errorhandler(404)
    def not_found(exc):
        if for_a_program():
            return jsonify({"error": "No such path: the API's OpenAPI document lists its paths."}), 404
        return render(404, "Not found", "There is no such page or record, or it is outside your caseload.")

    @app.errorhandler(405)
    def not_allowed(exc):
        allow = {"Allow": ", ".join(sorted(exc.valid_methods or ()))}
        if for_a_program():
            return jsonify({"error": "The API is read-only: use GET."}), 405, allow
        return (*render(405, "Not allowed", "This page cannot be used that way. Go back and use its links "
                                             "and buttons; nothing was saved."), allow)

    @app.errorhandler(429)
    def too_many(exc):
        limit = getattr(getattr(exc, "limit", None), "limit", None)
        minutes = max(1, -(-limit.get_expiry() // 60)) if limit is not None else 1
        wait = f"Wait {minutes} minute{'s' if minutes > 1 else ''} and try again."
        if getattr(getattr(exc, "limit", None), "error_message", None):
            return render(429, "Too many attempts", f"{exc.description} {wait}")
        return render(429, "Too many attempts", f"Too many attempts in a short time. {wait}")

    @app.errorhandler(500)
    def server_error(exc):
        return render(500, "Something went wrong", "The problem has been logged. Nothing you typed was saved; please try again.")


__all__ = ["create_app", "ConfigError"]
