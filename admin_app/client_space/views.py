"""The client space's pages under /my/: phone-first, in the client's language, without JavaScript.

Every page reads the signed-in client's own case file, found through their ClientAccount, never through an id in
the request; only the fields these pages show are loaded (no risk, safeguarding, disclosure or staff notes).
"""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, flash, g, has_request_context, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user
from flask_security import login_user

from admin_app import audit
from admin_app.client_space import service
from admin_app.client_space.languages import DEFAULT, LOCALES, chosen
from admin_app.models.case_file import Client
from admin_app.models.client_space import ClientAccount

bp = Blueprint("client_space", __name__, url_prefix="/my")

#: The case-file fields the client space may read; nothing else is ever loaded for a client.
CLIENT_FIELDS = ("reference", "first_name", "worker", "consent.preferred_language", "plan_goals", "messages",
                 "shared_opportunities")
SESSION_LANGUAGE = "client_language"


def is_client(user=None) -> bool:
    user = user or current_user
    return bool(getattr(user, "is_authenticated", False)) and service.CLIENT_ROLE in user.role_names


def _account() -> ClientAccount | None:
    return ClientAccount.objects(user=current_user.pk).first() if is_client() else None


def client_page(view):
    """Signed in as a client with an account: loads their own case file (the allowed fields) into g, and audits
    the opening of every page."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for(".sign_in"))
        account = _account()
        if account is None:
            abort(403)
        client = Client.objects(pk=account.client.pk).only(*CLIENT_FIELDS).first()
        if client is None:
            abort(404)
        g.account, g.client = account, client
        _set_language(chosen(session.get(SESSION_LANGUAGE) or account.language,
                             client.consent.preferred_language if client.consent else None))
        if request.method == "GET":
            audit.record("view", collection="clients", record_id=client.pk,
                         summary=f"client space {request.endpoint.rpartition('.')[2]} page of {client.reference}")
        return view(*args, **kwargs)

    return wrapped


def _set_language(code: str) -> None:
    g.client_locale = code if code in LOCALES else DEFAULT
    refresh()


def locale() -> str:
    """The Flask-Babel locale: the client's language on the client space's pages, English everywhere else."""
    if not has_request_context() or request.blueprint != "client_space":
        return DEFAULT
    if "client_locale" in g:
        return g.client_locale
    asked = session.get(SESSION_LANGUAGE)
    return asked if asked in LOCALES else (request.accept_languages.best_match(list(LOCALES)) or DEFAULT)


@bp.app_context_processor
def _language_context():
    if request.blueprint != "client_space":
        return {}
    from flask_babel import get_locale

    code = str(get_locale())
    lang = LOCALES.get(code, LOCALES[DEFAULT])
    return {"lang": lang, "languages": LOCALES.values(), "dir": "rtl" if lang.rtl else "ltr"}


# --- errors, in the client's language ------------------------------------------------------------------

def _error(code: int, title: str, message: str):
    return render_template("client/error.html", title=title, message=message), code


@bp.errorhandler(400)
def _bad_request(exc):
    from flask_wtf.csrf import CSRFError

    if isinstance(exc, CSRFError):
        return _error(400, _("The page was open too long"),
                      _("Nothing was saved. Go back, reload the page and try again."))
    return _error(400, _("Something was not right"), _("Nothing was saved. Go back and try again."))


@bp.errorhandler(403)
def _forbidden(exc):
    return _error(403, _("Not part of your space"), _("This page is not part of your space."))


@bp.errorhandler(404)
def _not_found(exc):
    return _error(404, _("Not found"), _("There is no such page in your space."))


@bp.errorhandler(429)
def _too_many(exc):
    return _error(429, _("Too many tries"), _("Too many tries in a short time. Wait a few minutes and try again."))


# --- signing in ---------------------------------------------------------------------------------------

@bp.get("/sign-in")
def sign_in():
    if is_client():
        return redirect(url_for(".home"))
    return render_template("client/sign_in.html", failed=False)


@bp.post("/sign-in")
def sign_in_post():
    """Flask-Security's own login form checks the email and password; throttled and audited like the staff
    sign-in (admin_app/security.py). Only a client may sign in here: staff sign in at /login, with their second
    factor; a staff account here fails like a wrong password, saying nothing about it."""
    from flask_security.forms import LoginForm

    form = LoginForm(request.form)
    if form.validate() and is_client(form.user):
        login_user(form.user, remember=False, authn_via=["password"])
        return redirect(url_for(".home"))
    return render_template("client/sign_in.html", failed=True, email=request.form.get("email") or ""), 400


@bp.route("/welcome/<token>", methods=("GET", "POST"))
def welcome(token):
    """Accepting an invitation: the client chooses their password, and is signed in."""
    account, why = service.invitation_account(token)
    if account is None:
        return render_template("client/invitation_ended.html", expired=why == "expired"), 410 if why == "expired" else 404
    _set_language(chosen(session.get(SESSION_LANGUAGE) or account.language,
                         account.client.consent.preferred_language if account.client.consent else None))
    errors = []
    if request.method == "POST":
        password, again = request.form.get("password") or "", request.form.get("password_again") or ""
        minimum = _password_minimum()
        if len(password) < minimum:
            errors.append(_("Use at least %(count)d characters.", count=minimum))
        elif password != again:
            errors.append(_("The two passwords are not the same. Type the same password twice."))
        else:
            from flask import current_app

            problems, password = current_app.extensions["security"]._password_util.validate(
                password, False, user=account.user)
            if problems:
                errors.append(_("Choose a different password: this one is too easy to guess."))
        if not errors:
            service.accept(account, password)
            login_user(account.user, remember=False, authn_via=["password"])
            return redirect(url_for(".home"))
    return render_template("client/welcome.html", errors=errors, minimum=_password_minimum(),
                           name=account.client.first_name)


def _password_minimum() -> int:
    from flask import current_app

    return int(current_app.config.get("SECURITY_PASSWORD_LENGTH_MIN", 12))


@bp.post("/language")
def language():
    code = request.form.get("language")
    if code not in LOCALES:
        abort(400)
    session[SESSION_LANGUAGE] = code
    account = _account()
    if account is not None:
        ClientAccount.objects(pk=account.pk).update_one(set__language=code)
        audit.record("update", collection="client_accounts", record_id=account.pk,
                     summary=f"client space language set to {LOCALES[code].english}")
    back = request.form.get("back") or ""
    # Only a page of the client space itself: no open redirect.
    return redirect(back if back.startswith("/my/") and "//" not in back else url_for(".home"))


# --- the pages ----------------------------------------------------------------------------------------

@bp.get("/")
@client_page
def home():
    from admin_app.client_space.reads import next_appointments, open_goals

    return render_template("client/home.html", client=g.client, appointments=next_appointments(g.client)[:1],
                           goals=open_goals(g.client), unread=_worker_messages(g.client)[-1:])


def _worker_messages(client):
    return [m for m in sorted(client.messages, key=lambda m: m.sent_at) if m.sender == "worker"]


@bp.get("/plan")
@client_page
def plan():
    from admin_app.client_space.reads import open_goals

    goals = [(goal, service.steps_of(goal), service.goal_notes(goal)) for goal in open_goals(g.client)]
    return render_template("client/plan.html", goals=goals)


@bp.post("/plan/<goal_id>/step/<int:number>")
@client_page
def step(goal_id, number):
    done = request.form.get("done")
    if done not in ("yes", "no"):
        abort(400)
    try:
        service.update_step(g.client.pk, goal_id, number, done=done == "yes")
    except service.NotYours:
        _refused(goal_id)
    flash(_("Saved. Your worker will see it.") if done == "yes" else _("Saved: marked as not done yet."), "success")
    return redirect(url_for(".plan") + f"#goal-{goal_id}")


@bp.post("/plan/<goal_id>/note")
@client_page
def note(goal_id):
    text = (request.form.get("note") or "").strip()
    number = request.form.get("step")
    if not text:
        flash(_("Write something in the note first."), "error")
        return redirect(url_for(".plan") + f"#goal-{goal_id}")
    if len(text) > service.NOTE_MAX:
        flash(_("Your note is too long: keep it under %(count)d characters.", count=service.NOTE_MAX), "error")
        return redirect(url_for(".plan") + f"#goal-{goal_id}")
    try:
        service.update_step(g.client.pk, goal_id, int(number) if (number or "").isdigit() else None, note=text)
    except service.NotYours:
        _refused(goal_id)
    flash(_("Your note is saved. Your worker will see it."), "success")
    return redirect(url_for(".plan") + f"#goal-{goal_id}")


def _refused(item_id):
    """Something not in the client's own case file: audited like a probe, and answered as not found."""
    from admin_app.alerts import note_probe

    note_probe("not_found", "clients", str(item_id)[:80], f"client space: not found {request.method} {request.path[:200]}")
    abort(404)


@bp.get("/appointments")
@client_page
def appointments():
    from admin_app.client_space.reads import next_appointments

    return render_template("client/appointments.html", appointments=next_appointments(g.client))


@bp.get("/opportunities")
@client_page
def opportunities():
    shared = sorted(g.client.shared_opportunities, key=lambda o: o.date, reverse=True)
    return render_template("client/opportunities.html", opportunities=shared)


@bp.route("/messages", methods=("GET", "POST"))
@client_page
def messages():
    text = ""
    error = None
    if request.method == "POST":
        text = (request.form.get("text") or "").strip()
        if not text:
            error = _("Write your message first.")
        elif len(text) > service.MESSAGE_MAX:
            error = _("Your message is too long: keep it under %(count)d characters.", count=service.MESSAGE_MAX)
        else:
            service.send_message(g.client.pk, sender="client", text=text, language=g.client_locale)
            flash(_("Sent. Your worker will reply when they can, usually within a working day."), "success")
            return redirect(url_for(".messages") + "#latest")
    thread = sorted(g.client.messages, key=lambda m: m.sent_at)
    return render_template("client/messages.html", thread=thread, text=text, error=error,
                           maximum=service.MESSAGE_MAX), (400 if error else 200)


@bp.route("/talk-now", methods=("GET", "POST"))
@client_page
def talk_now():
    if request.method == "GET":
        return render_template("client/talk_now.html", told=None)
    raised = service.talk_now(g.client)
    return render_template("client/talk_now.html", told="now" if raised else "already")
